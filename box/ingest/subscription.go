package ingest

import (
	"sync/atomic"

	"github.com/proconnect-oss/boxfw/box/media"
)

// Subscription is a bounded queue of live access units from one channel. The reader
// is never allowed to slow ingest down: when the queue is full the unit is dropped and
// counted, and the subscription then skips to the next keyframe, since the units in
// between could not be decoded anyway.
type Subscription struct {
	c       *Channel
	ch      chan *media.AccessUnit
	needKey bool // guarded by c.mu
	dropped atomic.Uint64
}

// Subscribe returns a live subscription starting at the next keyframe, with a queue of
// queueSize units (DefaultQueueSize if <= 0). Close it when done. After the channel
// stops, C is closed.
func (c *Channel) Subscribe(queueSize int) *Subscription {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.subscribeLocked(queueSize, true)
}

func (c *Channel) subscribeLocked(queueSize int, needKey bool) *Subscription {
	if queueSize <= 0 {
		queueSize = DefaultQueueSize
	}
	s := &Subscription{c: c, ch: make(chan *media.AccessUnit, queueSize), needKey: needKey}
	if c.stopped {
		close(s.ch)
		return s
	}
	c.subs[s] = struct{}{}
	return s
}

// C delivers the units. It is closed when the channel stops or the subscription closes.
func (s *Subscription) C() <-chan *media.AccessUnit { return s.ch }

// Dropped is the number of units this subscription lost to a full queue.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if _, ok := s.c.subs[s]; ok {
		delete(s.c.subs, s)
		close(s.ch)
	}
}

// offer is called with c.mu held.
func (s *Subscription) offer(au *media.AccessUnit) {
	if s.needKey {
		if !au.Key {
			return
		}
		s.needKey = false
	}
	select {
	case s.ch <- au:
	default:
		s.needKey = true
		s.dropped.Add(1)
		s.c.dropped.Add(1)
	}
}
