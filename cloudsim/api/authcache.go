package api

import (
	"sync"
	"sync/atomic"

	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

// boxCache keeps decoded box records by token hash, because decoding the token and the
// box record on every heartbeat was a third of the hot path's CPU. It is invalidated
// as a whole by a generation number that update bumps after any committed write to the
// devices or tokens buckets; health flushes and clip registrations do not bump it.
//
// A reader takes the generation before loading, so a record loaded before a write
// commits is cached under the old generation and never served after the bump.
// Cached records are shared: handlers must treat call.box as read-only.
type boxCache struct {
	gen atomic.Uint64
	mu  sync.Mutex
	at  uint64
	m   map[string]*Device
}

func (c *boxCache) get(tokenHash string, gen uint64) *Device {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at != gen {
		return nil
	}
	return c.m[tokenHash]
}

func (c *boxCache) put(tokenHash string, gen uint64, d *Device) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case gen < c.at:
		return
	case gen > c.at || c.m == nil:
		c.at, c.m = gen, map[string]*Device{}
	}
	c.m[tokenHash] = d
}

// update is db.Update plus the cache bump when devices or tokens changed.
func (s *Server) update(fn func(*store.Tx) error) error {
	var touched bool
	err := s.db.Update(func(tx *store.Tx) error {
		err := fn(tx)
		touched = tx.Wrote(bucketDevices) || tx.Wrote(bucketTokens)
		return err
	})
	if err == nil && touched {
		s.boxes.gen.Add(1)
	}
	return err
}
