package uplink

import (
	"sync"
	"time"
)

// State is the uplink's view of the object store.
type State string

// States. ok: uploads succeed. degraded: recent transient failures, still trying with
// backoff. down: DownAfter consecutive transient failures or a fatal error; no clip is
// pulled, the bucket is probed until it answers.
const (
	StateOK       State = "ok"
	StateDegraded State = "degraded"
	StateDown     State = "down"
)

// Failures counts failed attempts by class.
type Failures struct {
	Transient int64 `json:"transient"`
	Fatal     int64 `json:"fatal"`
	Clip      int64 `json:"clip"`
}

// Stats is a snapshot of the uploader for the status API and metrics.
type Stats struct {
	State               State     `json:"state"`
	StateSince          time.Time `json:"state_since"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	LastError           string    `json:"last_error,omitempty"`
	// Throughput is request-body bytes per second over Options.ThroughputWindow.
	Throughput float64 `json:"throughput_bps"`

	Uploaded       int64    `json:"uploaded"`        // clips confirmed and reported to the spool
	Bytes          int64    `json:"bytes"`           // bytes of confirmed clips
	AlreadyPresent int64    `json:"already_present"` // confirmed without sending (idempotent retry)
	Retries        int64    `json:"retries"`         // failed attempts that will be retried
	Failures       Failures `json:"failures"`
	Multipart      int64    `json:"multipart"`         // clips uploaded with multipart
	Resumed        int64    `json:"resumed_multipart"` // multipart uploads resumed with a saved UploadId
	Restarted      int64    `json:"restarted_multipart"`
	Conflicts      int64    `json:"conflicts"`
	NotSubscribed  int64    `json:"not_subscribed"`
	Probes         int64    `json:"probes"`
	Held           int      `json:"held"` // clips held now in their cooldown
	InFlight       int      `json:"in_flight"`
}

// meter is a sliding window of bytes per second in one-second buckets.
type meter struct {
	mu      sync.Mutex
	window  int
	buckets []int64
	secs    []int64
}

func newMeter(window time.Duration) *meter {
	n := int(window / time.Second)
	if n < 1 {
		n = 1
	}
	return &meter{window: n, buckets: make([]int64, n), secs: make([]int64, n)}
}

func (m *meter) add(now time.Time, n int) {
	s := now.Unix()
	i := int(s % int64(m.window))
	m.mu.Lock()
	if m.secs[i] != s {
		m.secs[i], m.buckets[i] = s, 0
	}
	m.buckets[i] += int64(n)
	m.mu.Unlock()
}

func (m *meter) rate(now time.Time) float64 {
	s := now.Unix()
	var sum int64
	m.mu.Lock()
	for i := range m.buckets {
		if s-m.secs[i] < int64(m.window) {
			sum += m.buckets[i]
		}
	}
	m.mu.Unlock()
	return float64(sum) / float64(m.window)
}
