// Package ring owns the pre-roll ring: the last N seconds of one channel's compressed
// access units, always starting at a keyframe, so an event clip can start before the
// event. Nothing is decoded here; units are immutable and shared, never copied.
package ring

import "time"

// Defaults for Options' zero values.
const (
	DefaultMaxAge   = 10 * time.Second
	DefaultMaxBytes = 32 << 20
)

// Reason says why units left the ring other than being read.
type Reason int

// Drop reasons.
const (
	// ReasonAge: the oldest GOP aged out (normal operation).
	ReasonAge Reason = iota
	// ReasonBytes: the byte bound forced a GOP out before its time.
	ReasonBytes
	// ReasonNoKey: a unit arrived while the ring was empty and it was not a keyframe;
	// a ring must start at a keyframe to be decodable.
	ReasonNoKey
	// ReasonReset: the ring was cleared (the stream's codec changed).
	ReasonReset
	numReasons
)

func (r Reason) String() string {
	switch r {
	case ReasonAge:
		return "age"
	case ReasonBytes:
		return "bytes"
	case ReasonNoKey:
		return "nokey"
	case ReasonReset:
		return "reset"
	}
	return "unknown"
}

// Options bound the ring. Zero values mean the defaults.
type Options struct {
	// MaxAge is the pre-roll kept: the ring holds at least this much wall time when the
	// stream allows it, and drops a whole GOP from the front once the remainder still
	// covers MaxAge. So it spans MaxAge to MaxAge + one GOP. Default 10 s.
	MaxAge time.Duration
	// MaxBytes is a hard bound on the payload bytes held; whole GOPs are dropped from the
	// front to stay under it (a single GOP larger than it empties the ring until the next
	// keyframe). Default 32 MiB.
	MaxBytes int
}

func (o Options) withDefaults() Options {
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	return o
}

// Drops counts units and bytes that left the ring for one reason.
type Drops struct {
	AUs   uint64
	Bytes uint64
}

// Stats is a point-in-time view of the ring.
type Stats struct {
	AUs    int
	Bytes  int
	GOPs   int
	Oldest time.Time // Wall of the first unit (a keyframe); zero when empty
	Newest time.Time
	// Dropped is indexed by Reason.
	Dropped [numReasons]Drops
}

// Span is the wall time covered.
func (s Stats) Span() time.Duration {
	if s.AUs == 0 {
		return 0
	}
	return s.Newest.Sub(s.Oldest)
}
