package uplink

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/proconnect-oss/boxfw/anr"
)

// Uploader drains a Queue to one bucket.
type Uploader struct {
	o     Options
	log   *slog.Logger
	lim   *limiter
	meter *meter

	mu       sync.Mutex
	st       Stats
	downCh   chan struct{} // closed when leaving down
	probing  bool
	clipFail map[string]clipFailure
	held     []anr.Clip
}

type clipFailure struct {
	n     int
	until time.Time
	cause error
	class Class
}

// Result is the outcome of one confirmed upload.
type Result struct {
	Key            string
	Size           int64
	Multipart      bool
	Resumed        bool // continued a saved multipart upload
	AlreadyPresent bool // the object was already there with the same content
}

// New checks opts and returns an Uploader.
func New(opts Options) (*Uploader, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	u := &Uploader{o: o, log: o.Logger.With("component", "uplink"), meter: newMeter(o.ThroughputWindow),
		clipFail: map[string]clipFailure{}}
	if o.BandwidthLimit > 0 {
		u.lim = newLimiter(o.BandwidthLimit, o.Clock)
	}
	u.st.State, u.st.StateSince = StateOK, o.Clock.Now()
	return u, nil
}

// Stats returns a snapshot.
func (u *Uploader) Stats() Stats {
	u.mu.Lock()
	s := u.st
	s.Held = len(u.held)
	u.mu.Unlock()
	s.Throughput = u.meter.rate(u.o.Clock.Now())
	return s
}

// Key returns the object key of a clip for this uploader's prefix and serial.
func (u *Uploader) Key(c anr.Clip) (string, error) { return ObjectKey(u.o.Prefix, u.o.Serial, c) }

// EnsureBucket creates the bucket if it does not exist (optional: production buckets
// are usually created by the cloud side).
func (u *Uploader) EnsureBucket(ctx context.Context) error {
	_, err := u.o.Client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &u.o.Bucket})
	if err == nil {
		return nil
	}
	if !isNotFound(err) && errorCode(err) != "NoSuchBucket" {
		return fmt.Errorf("uplink: head bucket %s: %w", u.o.Bucket, err)
	}
	_, err = u.o.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &u.o.Bucket})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("uplink: create bucket %s: %w", u.o.Bucket, err)
	}
	return nil
}

// Upload uploads one clip under its key and confirms it. It does not touch the queue
// except for multipart state. An existing object with different content is
// ErrConflict, whatever the ConflictPolicy (that policy is Run's).
func (u *Uploader) Upload(ctx context.Context, c anr.Clip) (Result, error) {
	key, err := u.Key(c)
	if err != nil {
		return Result{}, err
	}
	return u.uploadTo(ctx, c, key)
}

func (u *Uploader) uploadTo(ctx context.Context, c anr.Clip, key string) (Result, error) {
	if _, err := checkSHA256(c); err != nil {
		return Result{}, err
	}
	f, err := os.Open(c.Path)
	if err != nil {
		return Result{}, fmt.Errorf("%w: clip %s: %w", ErrClipUnreadable, c.ID, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Result{}, fmt.Errorf("%w: clip %s: %w", ErrClipUnreadable, c.ID, err)
	}
	if fi.Size() != c.Size {
		return Result{}, fmt.Errorf("%w: clip %s: file has %d bytes, spool recorded %d", ErrClipUnreadable, c.ID, fi.Size(), c.Size)
	}
	if c.Size >= u.o.MultipartThreshold {
		return u.multipart(ctx, c, key, f)
	}
	return u.put(ctx, c, key, f)
}

// put sends a small clip with a create-only PutObject.
func (u *Uploader) put(ctx context.Context, c anr.Clip, key string, f *os.File) (Result, error) {
	raw, _ := checkSHA256(c)
	if c.Attempts > 0 {
		// A retry may find its object already stored (confirmed, but the spool never
		// heard); a HEAD is cheaper than sending the body for a 412.
		if same, found, err := u.present(ctx, c, key); err == nil && found && same {
			return Result{Key: key, Size: c.Size, AlreadyPresent: true}, nil
		}
	}
	rctx, cancel := context.WithTimeout(ctx, u.requestTimeout(c.Size))
	defer cancel()
	_, err := u.o.Client.PutObject(rctx, &s3.PutObjectInput{
		Bucket:         &u.o.Bucket,
		Key:            &key,
		Body:           u.body(rctx, f),
		ContentLength:  aws.Int64(c.Size),
		ContentType:    aws.String("video/mp4"),
		Metadata:       metadata(c),
		IfNoneMatch:    aws.String("*"),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(raw)),
	}, withPayloadHash(strings.ToLower(c.SHA256)))
	if err != nil {
		if !isPreconditionFailed(err) {
			return Result{}, fmt.Errorf("uplink: put %s: %w", key, err)
		}
		// The key exists: either our own earlier attempt (idempotent retry) or a conflict.
		if err := u.verify(ctx, c, key, ErrConflict); err != nil {
			return Result{}, err
		}
		return Result{Key: key, Size: c.Size, AlreadyPresent: true}, nil
	}
	if err := u.verify(ctx, c, key, ErrVerify); err != nil {
		return Result{}, err
	}
	return Result{Key: key, Size: c.Size}, nil
}

// verify HEADs key and checks it holds this clip's bytes. A missing object is
// ErrVerify; one with other content is the mismatch error: ErrVerify right after our
// own write, ErrConflict when the object was someone else's.
func (u *Uploader) verify(ctx context.Context, c anr.Clip, key string, mismatch error) error {
	ok, found, err := u.present(ctx, c, key)
	switch {
	case err != nil:
		return err
	case !found:
		return fmt.Errorf("%w: %s not found", ErrVerify, key)
	case !ok:
		return fmt.Errorf("%w: %s", mismatch, key)
	}
	return nil
}

// present reports whether key exists (found) and holds the clip (same size and sha256).
func (u *Uploader) present(ctx context.Context, c anr.Clip, key string) (same, found bool, err error) {
	rctx, cancel := context.WithTimeout(ctx, u.requestTimeout(0))
	defer cancel()
	out, err := u.o.Client.HeadObject(rctx, &s3.HeadObjectInput{Bucket: &u.o.Bucket, Key: &key,
		ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		if isNotFound(err) {
			return false, false, nil
		}
		return false, false, fmt.Errorf("uplink: head %s: %w", key, err)
	}
	size := aws.ToInt64(out.ContentLength)
	sum := out.Metadata["sha256"]
	same = size == c.Size && strings.EqualFold(sum, c.SHA256)
	if same && out.ChecksumSHA256 != nil && out.ChecksumType != types.ChecksumTypeComposite {
		// A full-object checksum computed by the server is stronger than our metadata.
		raw, _ := checkSHA256(c)
		same = *out.ChecksumSHA256 == base64.StdEncoding.EncodeToString(raw)
	}
	if !same {
		u.log.Error("object differs from clip", "key", key, "clip", c.ID, "size", size, "want_size", c.Size,
			"sha256", sum, "want_sha256", c.SHA256)
	}
	return same, true, nil
}

func (u *Uploader) body(ctx context.Context, r io.ReadSeeker) *body {
	return &body{ctx: ctx, r: r, lim: u.lim, count: func(n int) { u.meter.add(u.o.Clock.Now(), n) }}
}

// requestTimeout bounds one request so a stalled connection fails and is retried.
func (u *Uploader) requestTimeout(size int64) time.Duration {
	return 30*time.Second + time.Duration(float64(size)/float64(u.o.MinRate)*float64(time.Second))
}

// withPayloadHash signs a request with a hash we already know, so the SDK does not
// read the body an extra time and the server rejects a body that does not match it.
func withPayloadHash(hexSum string) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("boxfwPayloadHash",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
					middleware.FinalizeOutput, middleware.Metadata, error) {
					return next.HandleFinalize(v4.SetPayloadHash(ctx, hexSum), in)
				}), middleware.Before)
		})
	}
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func isNotFound(err error) bool {
	switch errorCode(err) {
	case "NotFound", "NoSuchKey":
		return true
	}
	var nf *types.NotFound
	return errors.As(err, &nf)
}

func isPreconditionFailed(err error) bool {
	switch errorCode(err) {
	case "PreconditionFailed", "ConditionalRequestConflict":
		return true
	}
	return false
}

func isNoSuchUpload(err error) bool {
	var nsu *types.NoSuchUpload
	return errors.As(err, &nsu) || errorCode(err) == "NoSuchUpload"
}
