package ring

import (
	"sync"
	"time"

	"github.com/proconnect-oss/boxfw/box/media"
)

// Ring is safe for concurrent use. Push is called by one ingest goroutine; Snapshot by
// any number of readers.
type Ring struct {
	opts Options

	mu sync.Mutex
	// aus[head:] are the kept units; aus[head] is a keyframe whenever non-empty.
	// The slice is compacted when the dead prefix grows, so Push is amortised O(1).
	aus   []*media.AccessUnit
	head  int
	keys  []int // absolute indexes into aus of the keyframes at or after head
	bytes int
	drops [numReasons]Drops
}

// New returns an empty ring.
func New(opts Options) *Ring {
	return &Ring{opts: opts.withDefaults()}
}

// Options returns the effective options (defaults applied).
func (r *Ring) Options() Options { return r.opts }

// Push appends a unit and evicts from the front to stay within the bounds.
func (r *Ring) Push(au *media.AccessUnit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	size := au.Size()
	if r.head == len(r.aus) && !au.Key {
		r.count(ReasonNoKey, 1, size)
		return
	}
	if au.Key {
		r.keys = append(r.keys, len(r.aus))
	}
	r.aus = append(r.aus, au)
	r.bytes += size

	// Age: drop the first GOP only while the rest still covers MaxAge, so a pre-roll of
	// MaxAge always has a keyframe to start from.
	for len(r.keys) >= 2 && au.Wall.Sub(r.aus[r.keys[1]].Wall) >= r.opts.MaxAge {
		r.evictGOP(ReasonAge)
	}
	for r.bytes > r.opts.MaxBytes && len(r.keys) > 0 {
		r.evictGOP(ReasonBytes)
	}
	r.compact()
}

// evictGOP drops units from head up to the next keyframe (or all of them).
func (r *Ring) evictGOP(why Reason) {
	end := len(r.aus)
	if len(r.keys) >= 2 {
		end = r.keys[1]
	}
	n, b := 0, 0
	for i := r.head; i < end; i++ {
		b += r.aus[i].Size()
		r.aus[i] = nil // let the GC have it
		n++
	}
	r.head = end
	r.keys = r.keys[1:]
	r.bytes -= b
	r.count(why, n, b)
}

func (r *Ring) count(why Reason, n, b int) {
	r.drops[why].AUs += uint64(n)
	r.drops[why].Bytes += uint64(b)
}

func (r *Ring) compact() {
	if r.head == 0 || r.head < len(r.aus)/2 && r.head < 1024 {
		return
	}
	n := copy(r.aus, r.aus[r.head:])
	clear(r.aus[n:])
	r.aus = r.aus[:n]
	for i := range r.keys {
		r.keys[i] -= r.head
	}
	r.head = 0
}

// Snapshot returns the kept units, oldest (a keyframe) first. The slice is the
// caller's; the units are shared and must not be modified.
func (r *Ring) Snapshot() []*media.AccessUnit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*media.AccessUnit(nil), r.aus[r.head:]...)
}

// SnapshotFrom returns the kept units starting at the latest keyframe whose Wall is at
// or before from, or at the oldest keyframe when all are later. This is the start of a
// clip whose pre-roll begins at from.
func (r *Ring) SnapshotFrom(from time.Time) []*media.AccessUnit {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := r.head
	for _, k := range r.keys {
		if r.aus[k].Wall.After(from) {
			break
		}
		start = k
	}
	return append([]*media.AccessUnit(nil), r.aus[start:]...)
}

// Reset empties the ring, counting what it held under ReasonReset.
func (r *Ring) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.keys) > 0 {
		r.evictGOP(ReasonReset)
	}
	r.aus, r.head, r.keys, r.bytes = r.aus[:0], 0, r.keys[:0], 0
}

// Stats returns counters and bounds.
func (r *Ring) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Stats{AUs: len(r.aus) - r.head, Bytes: r.bytes, GOPs: len(r.keys), Dropped: r.drops}
	if s.AUs > 0 {
		s.Oldest = r.aus[r.head].Wall
		s.Newest = r.aus[len(r.aus)-1].Wall
	}
	return s
}
