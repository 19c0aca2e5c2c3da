package uplink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/proconnect-oss/boxfw/anr"
)

// Queue is what the uplink needs from the ANR spool.
type Queue interface {
	// Next blocks until a clip is pending, marks it uploading and returns it.
	Next(ctx context.Context) (anr.Clip, error)
	// Uploaded: the object is confirmed under objectKey; the spool deletes the file.
	Uploaded(id, objectKey string) error
	// Release: the attempt failed (cause says why); the clip is pending again.
	Release(id string, cause error) error
	// Multipart returns the saved multipart state of a clip, if any.
	Multipart(id string) (anr.Multipart, bool, error)
	// SaveMultipart stores m durably before returning.
	SaveMultipart(id string, m anr.Multipart) error
	// ClearMultipart forgets the multipart state of a clip.
	ClearMultipart(id string) error
}

// Size limits of S3 multipart uploads.
const (
	MinPartSize = 5 << 20 // S3 and MinIO reject smaller parts except the last
	maxParts    = 10000
)

// ConflictPolicy says what to do when a clip's key holds different content.
type ConflictPolicy int

const (
	// ConflictSuffix uploads the clip under ConflictKey next to the existing object.
	ConflictSuffix ConflictPolicy = iota
	// ConflictFail treats the conflict as a clip error (released, cooled down, retried).
	ConflictFail
)

// Options configures an Uploader. Every zero value means the documented default.
type Options struct {
	Client S3     // required: NewClient or a wrapper of it
	Bucket string // required
	Prefix string // key prefix; "" means keys start with the serial
	Serial string // required: the box serial, second key segment
	Queue  Queue  // required by Run; Upload and AbortStale do not use it except for multipart state

	Logger *slog.Logger // nil: discard
	Clock  Clock        // nil: SystemClock
	// Rand returns uniform numbers in [0,1) for jitter; nil: math/rand/v2.
	Rand func() float64

	MultipartThreshold int64 // clips of this size and more use multipart; 0: 16 MiB
	PartSize           int64 // 0: 8 MiB; must be >= MinPartSize (grows if a clip would need > 10000 parts)
	Concurrency        int   // clips uploaded at once; 0: 2
	BandwidthLimit     int64 // request-body bytes per second for all uploads together; 0: unlimited

	// Backoff after consecutive transient failures and between probes while down;
	// zero fields: 1s initial, x2, 1m cap, 20% jitter.
	Backoff Backoff
	// ClipBackoff is one clip's cooldown after its consecutive failures; zero fields:
	// 10s initial, x2, 30m cap, 20% jitter.
	ClipBackoff Backoff
	DownAfter   int // consecutive transient failures that make the state down; 0: 3
	// GateRecheck is how long a not-subscribed clip is held if the spool offers it
	// again; 0: 5m.
	GateRecheck time.Duration
	// MaxHeld caps the clips held in their cooldown (held clips are "uploading" in the
	// spool, so it cannot evict them). Past the cap a cooling clip is released at once
	// and the worker pauses for Backoff.Initial before pulling again; 0: 64.
	MaxHeld int
	// MinRate bounds each request: its deadline is 30s + body/MinRate, so a stalled
	// connection fails instead of hanging; 0: 16 KiB/s (or BandwidthLimit/4 if lower).
	MinRate          int64
	ThroughputWindow time.Duration // 0: 10s
	Conflict         ConflictPolicy

	// Allowed gates channels; nil allows all. See the package doc.
	Allowed func(channel int) bool
	// OnUploaded runs after the spool accepted a confirmed clip (e.g. to register it
	// with the cloud's clip index). It must not block for long.
	OnUploaded func(clip anr.Clip, key string)
}

// Validate reports every problem at once.
func (o Options) Validate() error {
	var errs []error
	if o.Client == nil {
		errs = append(errs, errors.New("Client is required"))
	}
	if o.Bucket == "" {
		errs = append(errs, errors.New("Bucket is required"))
	}
	if safeSegment(o.Serial) == "" {
		errs = append(errs, errors.New("Serial is required"))
	}
	if o.PartSize != 0 && o.PartSize < MinPartSize {
		errs = append(errs, fmt.Errorf("PartSize %d is below the S3 minimum %d", o.PartSize, MinPartSize))
	}
	if o.MultipartThreshold < 0 || o.Concurrency < 0 || o.BandwidthLimit < 0 || o.DownAfter < 0 || o.MinRate < 0 || o.MaxHeld < 0 {
		errs = append(errs, errors.New("sizes, counts and rates must not be negative"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = SystemClock()
	}
	if o.MultipartThreshold == 0 {
		o.MultipartThreshold = 16 << 20
	}
	if o.PartSize == 0 {
		o.PartSize = 8 << 20
	}
	if o.Concurrency == 0 {
		o.Concurrency = 2
	}
	o.Backoff = o.Backoff.withDefaults(time.Second, time.Minute)
	o.ClipBackoff = o.ClipBackoff.withDefaults(10*time.Second, 30*time.Minute)
	if o.DownAfter == 0 {
		o.DownAfter = 3
	}
	if o.MaxHeld == 0 {
		o.MaxHeld = 64
	}
	if o.GateRecheck == 0 {
		o.GateRecheck = 5 * time.Minute
	}
	if o.MinRate == 0 {
		o.MinRate = 16 << 10
		if o.BandwidthLimit > 0 && o.BandwidthLimit/4 < o.MinRate {
			o.MinRate = max(o.BandwidthLimit/4, 1)
		}
	}
	if o.ThroughputWindow == 0 {
		o.ThroughputWindow = 10 * time.Second
	}
	return o
}
