package anr

import (
	"fmt"
	"slices"
	"sort"

	"go.etcd.io/bbolt"
)

// Filter selects records for List. Zero value: every record, tombstones included.
type Filter struct {
	States  []State // empty: any state
	Channel *int    // nil: any channel
	Limit   int     // 0: no limit
}

// List returns the matching records, uploads first in upload order for live clips
// and by ID (creation time) for the rest. It reads the index in one short
// transaction and copies out, so it never blocks writers for long.
func (s *Spool) List(f Filter) ([]Clip, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	var out []Clip
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucketClips)).ForEach(func(k, _ []byte) error {
			c, _, err := getClip(tx, string(k))
			if err != nil {
				return err
			}
			if len(f.States) > 0 && !slices.Contains(f.States, c.State) {
				return nil
			}
			if f.Channel != nil && *f.Channel != c.Channel {
				return nil
			}
			c.Path = s.clipPath(c.ID, metaOf(&c))
			out = append(out, c)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("anr: list: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		li, lj := out[i].live(), out[j].live()
		if li != lj {
			return li
		}
		if li {
			return uploadsBefore(&out[i], &out[j])
		}
		return out[i].ID < out[j].ID
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}
