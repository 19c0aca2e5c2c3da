package ingest

import (
	"sync"
	"time"
)

// rateLog lets a repeated event through once per interval and counts the rest, so a
// camera that fails every second writes one line a minute ("repeated": N), not sixty.
type rateLog struct {
	now   func() time.Time
	every time.Duration

	mu   sync.Mutex
	keys map[string]*rateEntry // keys are a fixed set of event names, never error text
}

type rateEntry struct {
	last       time.Time
	suppressed int
}

// allow reports whether to log now, and how many occurrences were held back since the
// last line.
func (r *rateLog) allow(key string) (bool, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	e := r.keys[key]
	if e == nil {
		if r.keys == nil {
			r.keys = make(map[string]*rateEntry)
		}
		r.keys[key] = &rateEntry{last: now}
		return true, 0
	}
	if now.Sub(e.last) >= r.every {
		n := e.suppressed
		e.last, e.suppressed = now, 0
		return true, n
	}
	e.suppressed++
	return false, 0
}
