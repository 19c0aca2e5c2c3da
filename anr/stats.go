package anr

import (
	"strings"
	"time"
)

// Stats is a snapshot for the status API and metrics. Counters (Uploaded, Evicted*,
// Lost, TempRemoved, Reindexed) are cumulative since the index was created.
type Stats struct {
	Pending          int                  `json:"pending"`
	PendingBytes     int64                `json:"pending_bytes"`
	PendingByChannel map[int]ChannelStats `json:"pending_by_channel"`
	OldestPendingAge time.Duration        `json:"oldest_pending_age"` // since Created of the oldest pending clip
	Uploading        int                  `json:"uploading"`
	UploadingBytes   int64                `json:"uploading_bytes"`

	Uploaded        uint64                `json:"uploaded"`
	Evicted         uint64                `json:"evicted"`
	EvictedByReason map[DropReason]uint64 `json:"evicted_by_reason"`
	EvictedByClass  map[Class]uint64      `json:"evicted_by_class"`
	Lost            uint64                `json:"lost"`
	TempRemoved     uint64                `json:"temp_removed"`
	Reindexed       uint64                `json:"reindexed"`

	BytesUsed    int64 `json:"bytes_used"` // clip files, pending + uploading
	MaxBytes     int64 `json:"max_bytes"`
	MinFreeBytes int64 `json:"min_free_bytes"`
	FreeBytes    int64 `json:"free_bytes"` // -1 if statfs failed
	// OverBudget: the last eviction could not reach the budget or reserve because
	// only uploading (or just-added) clips were left.
	OverBudget bool `json:"over_budget"`

	LastRecovery Recovery `json:"last_recovery"`
}

// ChannelStats is the pending backlog of one channel.
type ChannelStats struct {
	Count int   `json:"count"`
	Bytes int64 `json:"bytes"`
}

// Stats returns a snapshot. It does not touch the index.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		PendingByChannel: map[int]ChannelStats{},
		EvictedByReason:  map[DropReason]uint64{},
		EvictedByClass:   map[Class]uint64{},
		BytesUsed:        s.used,
		MaxBytes:         s.opts.MaxBytes,
		MinFreeBytes:     s.opts.MinFreeBytes,
		OverBudget:       s.over,
		Uploaded:         s.counters[ctrUploaded],
		Lost:             s.counters[ctrLost],
		TempRemoved:      s.counters[ctrTempRemoved],
		Reindexed:        s.counters[ctrReindexed],
		LastRecovery:     s.recovery,
	}
	now := s.now()
	for _, c := range s.live {
		switch c.State {
		case StatePending:
			st.Pending++
			st.PendingBytes += c.Size
			cs := st.PendingByChannel[c.Channel]
			cs.Count++
			cs.Bytes += c.Size
			st.PendingByChannel[c.Channel] = cs
			if age := now.Sub(c.Created); age > st.OldestPendingAge {
				st.OldestPendingAge = age
			}
		case StateUploading:
			st.Uploading++
			st.UploadingBytes += c.Size
		}
	}
	for k, v := range s.counters {
		rest, ok := strings.CutPrefix(k, "evicted/")
		if !ok {
			continue
		}
		reason, class, _ := strings.Cut(rest, "/")
		st.Evicted += v
		st.EvictedByReason[DropReason(reason)] += v
		st.EvictedByClass[Class(class)] += v
	}
	st.FreeBytes = -1
	if free, err := s.fs.FreeBytes(s.clipsDir); err == nil {
		st.FreeBytes = free
	}
	return st
}
