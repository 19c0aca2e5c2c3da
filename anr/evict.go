package anr

import (
	"os"
	"sort"

	"go.etcd.io/bbolt"
)

// enforce evicts clips until usage is within MaxBytes and free space is at least
// MinFreeBytes+incoming. Order: motion-only clips before high-class ones, oldest
// Start (then ID) first. Never evicted: uploading clips (the uplink is reading
// them) and protect (the clip the current Add just stored). If that is not enough
// the spool stays over budget until uploads finish, and Stats.OverBudget says so.
// Records are committed as evicted before their files are removed. Callers hold s.mu.
func (s *Spool) enforce(protect string, incoming int64) []Drop {
	var overBudget, reserveShort int64
	if s.opts.MaxBytes > 0 {
		overBudget = s.used - s.opts.MaxBytes
	}
	if s.opts.MinFreeBytes > 0 {
		free, err := s.fs.FreeBytes(s.clipsDir)
		if err != nil {
			s.log.Warn("statfs failed; reserve not enforced this time", "dir", s.clipsDir, "err", err)
		} else {
			reserveShort = s.opts.MinFreeBytes + incoming - free
		}
	}
	if overBudget <= 0 && reserveShort <= 0 {
		s.over = false
		return nil
	}
	cands := make([]*Clip, 0, len(s.live))
	for id, c := range s.live {
		if id != protect && c.State == StatePending {
			cands = append(cands, c)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return evictsBefore(cands[i], cands[j]) })

	var victims []Clip
	var freed int64
	now := s.now()
	for _, c := range cands {
		var reason DropReason
		switch {
		case overBudget-freed > 0:
			reason = ReasonBudget // the budget is the configured policy; count it first
		case reserveShort-freed > 0:
			reason = ReasonReserve
		}
		if reason == "" {
			break
		}
		v := *c
		v.State, v.Reason, v.Finished = StateEvicted, reason, now
		victims = append(victims, v)
		freed += c.Size
	}
	wasOver := s.over
	s.over = overBudget-freed > 0 || reserveShort-freed > 0
	if s.over && !wasOver { // once per episode, not on every Add while it lasts
		s.log.Warn("spool over budget: only uploading or just-added clips left to evict",
			"used", s.used-freed, "max_bytes", s.opts.MaxBytes, "reserve_short", reserveShort-freed)
	}
	if len(victims) == 0 {
		return nil
	}
	err := s.commit(func(tx *bbolt.Tx, d counterDelta) error {
		for i := range victims {
			v := &victims[i]
			if err := putClip(tx, v); err != nil {
				return err
			}
			if err := tx.Bucket([]byte(bucketMultipart)).Delete([]byte(v.ID)); err != nil {
				return err
			}
			d[ctrEvicted(v.Reason, ClassOf(v.EventTypes))]++
		}
		return nil
	})
	if err != nil {
		// Nothing evicted; the next Add or Uploaded tries again.
		s.log.Error("eviction commit failed", "err", err)
		s.over = true
		return nil
	}
	drops := make([]Drop, 0, len(victims))
	for _, v := range victims {
		delete(s.live, v.ID)
		s.used -= v.Size
		if err := s.fs.Remove(v.Path); err != nil && !os.IsNotExist(err) {
			s.log.Warn("cannot remove evicted clip; removed at next Open", "path", v.Path, "err", err)
		}
		s.log.Warn("clip evicted", "clip", v.ID, "channel", v.Channel, "reason", v.Reason,
			"class", ClassOf(v.EventTypes), "size", v.Size)
		drops = append(drops, Drop{Clip: v.clone(), Reason: v.Reason, Class: ClassOf(v.EventTypes)})
	}
	return drops
}
