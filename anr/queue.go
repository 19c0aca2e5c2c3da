package anr

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"go.etcd.io/bbolt"
)

// pruneEvery bounds how often Uploaded sweeps old tombstones (a full bucket scan).
const pruneEvery = time.Hour

// Next blocks until a pending clip is available (or ctx ends), marks it uploading
// (never evicted while uploading) and returns it. Order: intrusion and line
// crossing before motion, then oldest Start, then ID. Several callers may wait.
func (s *Spool) Next(ctx context.Context) (Clip, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return Clip{}, ErrClosed
		}
		var best *Clip
		for _, c := range s.live {
			if c.State == StatePending && (best == nil || uploadsBefore(c, best)) {
				best = c
			}
		}
		if best != nil {
			upd := *best
			upd.State = StateUploading
			if err := s.commit(func(tx *bbolt.Tx, _ counterDelta) error { return putClip(tx, &upd) }); err != nil {
				s.mu.Unlock()
				return Clip{}, fmt.Errorf("anr: next %s: %w", upd.ID, err)
			}
			*best = upd
			s.mu.Unlock()
			return upd.clone(), nil
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return Clip{}, ctx.Err()
		case <-wake:
		}
	}
}

// Uploaded records the object key, marks the record uploaded and deletes the file.
// The record stays as a tombstone for Options.TombstoneTTL so a repeated call with
// the same key is a no-op. Accepted from pending too (the uplink may find the
// object already stored). The commit comes first: a crash before the unlink leaves
// a file that Open deletes, never a "lost" clip.
func (s *Spool) Uploaded(id, objectKey string) error {
	if objectKey == "" {
		return fmt.Errorf("%w: %s: Uploaded without an object key", ErrInvalidState, id)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	c, ok := s.live[id]
	if !ok {
		err := s.tombstoneErr(id, func(t Clip) bool { return t.State == StateUploaded && t.ObjectKey == objectKey })
		s.mu.Unlock()
		return err
	}
	upd := *c
	now := s.now()
	upd.State, upd.ObjectKey, upd.Finished = StateUploaded, objectKey, now
	prune := s.opts.TombstoneTTL > 0 && now.Sub(s.lastPrune) > pruneEvery
	err := s.commit(func(tx *bbolt.Tx, d counterDelta) error {
		if err := putClip(tx, &upd); err != nil {
			return err
		}
		if err := tx.Bucket([]byte(bucketMultipart)).Delete([]byte(id)); err != nil {
			return err
		}
		d[ctrUploaded]++
		if prune {
			return s.pruneTx(tx, now)
		}
		return nil
	})
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("anr: uploaded %s: %w", id, err)
	}
	if prune {
		s.lastPrune = now
	}
	delete(s.live, id)
	s.used -= upd.Size
	s.mu.Unlock()
	if err := s.fs.Remove(upd.Path); err != nil && !os.IsNotExist(err) {
		s.log.Warn("cannot remove uploaded clip; removed at next Open", "path", upd.Path, "err", err)
	}
	return nil
}

// Release returns an uploading clip to pending after a failed attempt, keeping its
// Multipart state so the next attempt resumes. Releasing a pending clip is a no-op.
func (s *Spool) Release(id string, cause error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	c, ok := s.live[id]
	if !ok {
		return s.tombstoneErr(id, func(Clip) bool { return false })
	}
	if c.State == StatePending {
		return nil
	}
	upd := *c
	upd.State = StatePending
	upd.Attempts++
	if err := s.commit(func(tx *bbolt.Tx, _ counterDelta) error { return putClip(tx, &upd) }); err != nil {
		return fmt.Errorf("anr: release %s: %w", id, err)
	}
	*c = upd
	s.broadcast()
	s.log.Info("upload attempt failed; clip back in the queue", "clip", id, "channel", c.Channel,
		"attempts", c.Attempts, "cause", cause)
	return nil
}

// tombstoneErr explains why id is not live: nil if ok(tombstone) (an idempotent
// repeat), ErrInvalidState for another final state, ErrNotFound if unknown.
// Callers hold s.mu.
func (s *Spool) tombstoneErr(id string, ok func(Clip) bool) error {
	var (
		t     Clip
		found bool
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		t, found, err = getClip(tx, id)
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("anr: %s: %w", id, err)
	case !found:
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	case ok(t):
		return nil
	default:
		return fmt.Errorf("%w: %s is %s", ErrInvalidState, id, t.State)
	}
}

// Multipart returns the saved multipart upload state of a clip, if any.
func (s *Spool) Multipart(id string) (Multipart, bool, error) {
	var (
		m     Multipart
		found bool
	)
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return m, false, ErrClosed
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket([]byte(bucketMultipart)).Get([]byte(id))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &m)
	})
	if err != nil {
		return Multipart{}, false, fmt.Errorf("anr: multipart %s: %w", id, err)
	}
	return m, found, nil
}

// SaveMultipart stores the multipart state of a live clip; it is committed (fsynced)
// before SaveMultipart returns, so a part acknowledged by S3 is never forgotten.
func (s *Spool) SaveMultipart(id string, m Multipart) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("anr: save multipart %s: %w", id, err)
	}
	return s.updateMultipart(id, false, func(bk *bbolt.Bucket) error { return bk.Put([]byte(id), b) })
}

// ClearMultipart forgets a clip's multipart state (e.g. the upload was aborted and
// must restart). Clearing absent state, or that of a finished clip (already
// dropped with it), is a no-op.
func (s *Spool) ClearMultipart(id string) error {
	return s.updateMultipart(id, true, func(bk *bbolt.Bucket) error { return bk.Delete([]byte(id)) })
}

func (s *Spool) updateMultipart(id string, okIfFinished bool, fn func(*bbolt.Bucket) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, ok := s.live[id]; !ok {
		return s.tombstoneErr(id, func(Clip) bool { return okIfFinished })
	}
	err := s.commit(func(tx *bbolt.Tx, _ counterDelta) error { return fn(tx.Bucket([]byte(bucketMultipart))) })
	if err != nil {
		return fmt.Errorf("anr: multipart %s: %w", id, err)
	}
	return nil
}
