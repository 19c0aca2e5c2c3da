package anr

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// Recovery is what the last Open found and repaired.
type Recovery struct {
	TempRemoved  int      `json:"temp_removed"`  // *.tmp files of unacknowledged Adds, deleted
	Reindexed    []string `json:"reindexed"`     // clip files without a record, re-indexed as pending
	Lost         []string `json:"lost"`          // records whose file was missing or truncated
	Requeued     int      `json:"requeued"`      // uploading clips returned to pending
	Leftovers    int      `json:"leftovers"`     // files of uploaded/evicted clips, deleted
	Unknown      []string `json:"unknown"`       // files in clips/ the spool did not write, left alone
	Pruned       int      `json:"pruned"`        // tombstones older than TombstoneTTL, deleted
	CorruptIndex string   `json:"corrupt_index"` // where a corrupt index.db was moved, if it was
}

// reconcile makes the index and clips/ agree after whatever happened before Open:
// a kill -9 in the middle of Add, Uploaded or an eviction, or a rebuilt index.
// Every change is committed in one transaction before Open returns.
func (s *Spool) reconcile(recs map[string]Clip) ([]Drop, error) {
	entries, err := os.ReadDir(s.clipsDir)
	if err != nil {
		return nil, fmt.Errorf("anr: read %s: %w", s.clipsDir, err)
	}
	now := s.now()
	rec := &s.recovery
	var (
		changed   []Clip
		drops     []Drop
		toRemove  []string
		d         = counterDelta{}
		seenFiles = map[string]int64{} // id -> size of its clip file
	)
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(s.clipsDir, name)
		if strings.HasSuffix(name, ".tmp") {
			// An Add that never returned: its data was never acknowledged.
			toRemove = append(toRemove, path)
			rec.TempRemoved++
			continue
		}
		id, meta, perr := parseClipFileName(name)
		if perr != nil || !e.Type().IsRegular() {
			rec.Unknown = append(rec.Unknown, name)
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("anr: stat %s: %w", path, err)
		}
		r, ok := recs[id]
		switch {
		case ok && r.live():
			seenFiles[id] = info.Size()
		case ok:
			// Uploaded or evicted: the record committed, the unlink did not happen.
			toRemove = append(toRemove, path)
			rec.Leftovers++
		default:
			// Durable file, no record: the crash fell between the rename and the
			// commit (or the index was rebuilt). The data is complete because it was
			// fsynced before the rename; recompute the checksum and queue it.
			size, sum, err := hashFile(path)
			if err != nil {
				return nil, fmt.Errorf("anr: re-index %s: %w", path, err)
			}
			c := Clip{
				ID: id, Channel: meta.Channel, EventTypes: meta.EventTypes, Start: meta.Start, End: meta.End,
				Size: size, SHA256: sum, State: StatePending, Created: info.ModTime().UTC(),
			}
			recs[id] = c
			seenFiles[id] = size
			changed = append(changed, c)
			rec.Reindexed = append(rec.Reindexed, id)
			d[ctrReindexed]++
		}
	}
	ids := make([]string, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		c := recs[id]
		c.Path = s.clipPath(c.ID, metaOf(&c))
		switch {
		case c.live():
			size, ok := seenFiles[id]
			if !ok || size != c.Size {
				c.State, c.Reason, c.Finished = StateLost, ReasonLost, now
				if ok {
					toRemove = append(toRemove, c.Path) // truncated: worthless, and it counts against the budget
				}
				changed = append(changed, c)
				drops = append(drops, Drop{Clip: c.clone(), Reason: ReasonLost, Class: ClassOf(c.EventTypes)})
				rec.Lost = append(rec.Lost, id)
				d[ctrLost]++
				s.log.Error("spooled clip lost: file missing or wrong size", "clip", id, "channel", c.Channel,
					"path", c.Path, "want_size", c.Size, "found", ok, "size", size)
				continue
			}
			if c.State == StateUploading {
				// The uplink that held it is gone; its Multipart state is kept so the
				// next attempt resumes the same upload.
				c.State = StatePending
				changed = append(changed, c)
				rec.Requeued++
			}
			cc := c
			s.live[id] = &cc
			s.used += c.Size
		case s.opts.TombstoneTTL > 0 && !c.Finished.IsZero() && now.Sub(c.Finished) > s.opts.TombstoneTTL:
			rec.Pruned++
		}
	}
	d[ctrTempRemoved] += uint64(rec.TempRemoved)
	s.mu.Lock()
	defer s.mu.Unlock()
	err = s.commit(func(tx *bbolt.Tx, _ counterDelta) error {
		for i := range changed {
			if err := putClip(tx, &changed[i]); err != nil {
				return err
			}
		}
		if rec.Pruned > 0 {
			if err := s.pruneTx(tx, now); err != nil {
				return err
			}
		}
		return addCounters(tx, d)
	})
	if err != nil {
		return nil, fmt.Errorf("anr: recovery commit: %w", err)
	}
	for k, v := range d {
		s.counters[k] += v
	}
	s.lastPrune = now
	// Only after the index no longer references them as live.
	for _, p := range toRemove {
		if err := s.fs.Remove(p); err != nil && !os.IsNotExist(err) {
			s.log.Warn("recovery: cannot remove file", "path", p, "err", err)
		}
	}
	if len(toRemove) > 0 {
		if err := s.fs.SyncDir(s.clipsDir); err != nil {
			s.log.Warn("recovery: sync clips dir", "err", err)
		}
	}
	if rec.TempRemoved+len(rec.Reindexed)+len(rec.Lost)+rec.Requeued+rec.Leftovers+len(rec.Unknown) > 0 || rec.CorruptIndex != "" {
		s.log.Warn("spool recovered", "temp_removed", rec.TempRemoved, "reindexed", len(rec.Reindexed),
			"lost", len(rec.Lost), "requeued", rec.Requeued, "leftovers", rec.Leftovers,
			"unknown_files", len(rec.Unknown), "corrupt_index", rec.CorruptIndex)
	}
	s.log.Info("spool open", "dir", s.dir, "pending_or_uploading", len(s.live), "bytes", s.used)
	return drops, nil
}

// pruneTx deletes tombstones finished more than TombstoneTTL ago. Callers hold s.mu.
func (s *Spool) pruneTx(tx *bbolt.Tx, now time.Time) error {
	if s.opts.TombstoneTTL < 0 {
		return nil
	}
	b := tx.Bucket([]byte(bucketClips))
	var old [][]byte
	err := b.ForEach(func(k, _ []byte) error {
		c, _, err := getClip(tx, string(k))
		if err != nil {
			return err
		}
		if !c.live() && !c.Finished.IsZero() && now.Sub(c.Finished) > s.opts.TombstoneTTL {
			old = append(old, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
		if err := tx.Bucket([]byte(bucketMultipart)).Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
