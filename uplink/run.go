package uplink

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/proconnect-oss/boxfw/anr"
)

// Run drains the queue until ctx is done, with Options.Concurrency workers. It returns
// nil on cancellation; errors of single uploads never end it (they are classed,
// counted and retried, see the package doc). Clips it holds are released on return.
func (u *Uploader) Run(ctx context.Context) error {
	if u.o.Queue == nil {
		return fmt.Errorf("%w: Run needs a Queue", ErrInvalidOptions)
	}
	var wg sync.WaitGroup
	for range u.o.Concurrency {
		wg.Go(func() { u.worker(ctx) })
	}
	wg.Wait()
	u.mu.Lock()
	held := u.held
	u.held = nil
	u.mu.Unlock()
	for _, c := range held {
		u.release(c, fmt.Errorf("%w: shutting down", ErrHeld))
	}
	return nil
}

func (u *Uploader) worker(ctx context.Context) {
	for ctx.Err() == nil {
		if err := u.waitUp(ctx); err != nil {
			return
		}
		if c, ok := u.takeDue(); ok {
			u.handle(ctx, c)
			continue
		}
		c, err := u.next(ctx)
		switch {
		case ctx.Err() != nil:
			if err == nil {
				u.release(c, ctx.Err())
			}
			return
		case errors.Is(err, errWake):
			continue
		case err != nil:
			u.log.Error("queue next", "err", err)
			_ = sleep(ctx, u.o.Clock, u.o.Backoff.Delay(1, u.o.Rand()))
			continue
		}
		switch u.holdIfCooling(c) {
		case holdHeld:
			continue
		case holdFull:
			u.release(c, fmt.Errorf("%w: hold full", ErrHeld))
			_ = sleep(ctx, u.o.Clock, u.o.Backoff.Initial)
			continue
		}
		u.handle(ctx, c)
	}
}

// next waits for the queue, but no longer than until the earliest held clip is due.
func (u *Uploader) next(ctx context.Context) (anr.Clip, error) {
	nctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if d, ok := u.nextDue(); ok {
		go func() {
			select {
			case <-u.o.Clock.After(d):
				cancel()
			case <-nctx.Done():
			}
		}()
	}
	c, err := u.o.Queue.Next(nctx)
	if err != nil && ctx.Err() == nil && nctx.Err() != nil {
		return c, errWake
	}
	if err != nil {
		return c, fmt.Errorf("uplink: next: %w", err)
	}
	return c, nil
}

// handle runs one attempt for a clip the uploader holds and reports the outcome.
func (u *Uploader) handle(ctx context.Context, c anr.Clip) {
	if u.o.Allowed != nil && !u.o.Allowed(c.Channel) {
		u.count(func(s *Stats) { s.NotSubscribed++ })
		u.setCooldown(c.ID, u.o.GateRecheck, ErrNotSubscribed)
		u.release(c, fmt.Errorf("%w: channel %d", ErrNotSubscribed, c.Channel))
		return
	}
	u.count(func(s *Stats) { s.InFlight++ })
	res, err := u.Upload(ctx, c)
	if errors.Is(err, ErrConflict) {
		u.count(func(s *Stats) { s.Conflicts++ })
		u.log.Error("CONFLICT: an object with different content already has this clip's key; it is not overwritten",
			"clip", c.ID, "channel", c.Channel, "sha256", c.SHA256, "err", err)
		if u.o.Conflict == ConflictSuffix {
			key, kerr := u.Key(c)
			if kerr == nil {
				key = ConflictKey(key, c.SHA256)
				res, err = u.uploadTo(ctx, c, key)
				if err == nil {
					u.log.Warn("uploaded conflicting clip under a suffixed key", "clip", c.ID, "key", key)
				}
			}
		}
	}
	u.count(func(s *Stats) { s.InFlight-- })
	if err == nil {
		u.succeeded(c, res)
		return
	}
	u.failed(ctx, c, err)
}

func (u *Uploader) succeeded(c anr.Clip, res Result) {
	if err := u.o.Queue.Uploaded(c.ID, res.Key); err != nil {
		// The object is confirmed; the next attempt will find it with a HEAD.
		u.log.Error("spool did not record the upload", "clip", c.ID, "key", res.Key, "err", err)
		u.release(c, err)
		return
	}
	u.mu.Lock()
	delete(u.clipFail, c.ID)
	u.st.Uploaded++
	u.st.Bytes += res.Size
	if res.AlreadyPresent {
		u.st.AlreadyPresent++
	}
	if res.Multipart {
		u.st.Multipart++
	}
	u.recoverLocked()
	u.mu.Unlock()
	u.log.Debug("uploaded", "clip", c.ID, "channel", c.Channel, "key", res.Key, "bytes", res.Size,
		"multipart", res.Multipart, "resumed", res.Resumed, "already_present", res.AlreadyPresent)
	if u.o.OnUploaded != nil {
		u.o.OnUploaded(c, res.Key)
	}
}

func (u *Uploader) failed(ctx context.Context, c anr.Clip, err error) {
	class := Classify(err)
	if class == ClassCanceled || ctx.Err() != nil {
		u.release(c, err)
		return
	}
	u.mu.Lock()
	u.st.LastError = err.Error()
	switch class {
	case ClassTransient:
		u.st.Failures.Transient++
		u.st.Retries++
		u.st.ConsecutiveFailures++
		if u.st.ConsecutiveFailures >= u.o.DownAfter {
			u.setStateLocked(StateDown)
		} else {
			u.setStateLocked(StateDegraded)
		}
	case ClassFatal:
		u.st.Failures.Fatal++
		u.st.Retries++
		u.st.ConsecutiveFailures++
		u.setStateLocked(StateDown)
	case ClassClip:
		u.st.Failures.Clip++
	}
	u.pruneLocked()
	f := u.clipFail[c.ID]
	f.n++
	f.cause, f.class = err, class
	f.until = u.o.Clock.Now().Add(u.o.ClipBackoff.Delay(f.n, u.o.Rand()))
	u.clipFail[c.ID] = f
	consecutive, state := u.st.ConsecutiveFailures, u.st.State
	u.mu.Unlock()

	u.log.Warn("upload failed", "clip", c.ID, "channel", c.Channel, "class", class.String(),
		"clip_failures", f.n, "state", state, "err", err)
	u.release(c, err)
	if class == ClassTransient && state != StateDown {
		// Degraded: keep trying, but slower. Down: waitUp probes instead.
		_ = sleep(ctx, u.o.Clock, u.o.Backoff.Delay(consecutive, u.o.Rand()))
	}
}

// pruneLocked forgets failures of clips that the spool has long stopped offering
// (uploaded elsewhere, evicted), so the map cannot grow without bound.
func (u *Uploader) pruneLocked() {
	if len(u.clipFail) < 4096 {
		return
	}
	cutoff := u.o.Clock.Now().Add(-24 * time.Hour)
	for id, f := range u.clipFail {
		if f.until.Before(cutoff) {
			delete(u.clipFail, id)
		}
	}
}

func (u *Uploader) release(c anr.Clip, cause error) {
	if err := u.o.Queue.Release(c.ID, cause); err != nil {
		u.log.Error("spool release", "clip", c.ID, "err", err)
	}
}

// setCooldown makes a clip wait d before its next attempt.
func (u *Uploader) setCooldown(id string, d time.Duration, cause error) {
	u.mu.Lock()
	f := u.clipFail[id]
	f.until, f.cause, f.class = u.o.Clock.Now().Add(d), cause, ClassClip
	u.clipFail[id] = f
	u.mu.Unlock()
}

// holdIfCooling keeps a clip the spool handed back before its cooldown ended, so it
// is neither retried early nor bounced between Next and Release.
func (u *Uploader) holdIfCooling(c anr.Clip) holdResult {
	u.mu.Lock()
	defer u.mu.Unlock()
	f, ok := u.clipFail[c.ID]
	switch {
	case !ok || !u.o.Clock.Now().Before(f.until):
		return holdNo
	case len(u.held) >= u.o.MaxHeld:
		return holdFull
	}
	u.held = append(u.held, c)
	return holdHeld
}

type holdResult int

const (
	holdNo   holdResult = iota // not cooling: upload it now
	holdHeld                   // held until its cooldown ends
	holdFull                   // cooling, but the hold is full: release it and pause
)

// takeDue returns a held clip whose cooldown is over.
func (u *Uploader) takeDue() (anr.Clip, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.o.Clock.Now()
	for i, c := range u.held {
		if !now.Before(u.clipFail[c.ID].until) {
			u.held = append(u.held[:i], u.held[i+1:]...)
			return c, true
		}
	}
	return anr.Clip{}, false
}

func (u *Uploader) nextDue() (time.Duration, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.held) == 0 {
		return 0, false
	}
	now := u.o.Clock.Now()
	var first time.Time
	for i, c := range u.held {
		if t := u.clipFail[c.ID].until; i == 0 || t.Before(first) {
			first = t
		}
	}
	return max(first.Sub(now), 0), true
}

// waitUp returns at once unless the state is down; then one worker probes the bucket
// on the backoff while the others wait, and all return when a probe succeeds.
func (u *Uploader) waitUp(ctx context.Context) error {
	for {
		u.mu.Lock()
		if u.st.State != StateDown {
			u.mu.Unlock()
			return nil
		}
		ch, probing := u.downCh, u.probing
		u.probing = true
		n := u.st.ConsecutiveFailures
		var held []anr.Clip
		if !probing {
			// Held clips go back to the spool for the outage: there they can be evicted
			// under disk pressure, and nothing is gained by holding them.
			held, u.held = u.held, nil
		}
		u.mu.Unlock()
		if probing {
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		for _, c := range held {
			u.release(c, fmt.Errorf("%w: object store down", ErrHeld))
		}
		err := sleep(ctx, u.o.Clock, u.o.Backoff.Delay(max(n, 1), u.o.Rand()))
		if err == nil {
			err = u.probe(ctx)
		}
		u.mu.Lock()
		u.probing = false
		u.st.Probes++
		if err == nil {
			u.log.Info("object store reachable again", "bucket", u.o.Bucket, "after_failures", u.st.ConsecutiveFailures)
			// Degraded, not ok, until an upload succeeds: the failure count (and so the
			// backoff) is kept, so an error that HeadBucket cannot see (e.g. PutObject
			// denied by a policy) goes back down at once instead of cycling fast.
			u.setStateLocked(StateDegraded)
			// Clips that failed only because the store was away are not to blame: drain
			// them at full speed now instead of waiting out their cooldowns.
			now := u.o.Clock.Now()
			for id, f := range u.clipFail {
				if f.class == ClassTransient || f.class == ClassFatal {
					f.until = now
					u.clipFail[id] = f
				}
			}
		} else if ctx.Err() == nil {
			u.st.ConsecutiveFailures++
			u.st.LastError = err.Error()
		}
		u.mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func (u *Uploader) probe(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, u.requestTimeout(0))
	defer cancel()
	_, err := u.o.Client.HeadBucket(rctx, &s3.HeadBucketInput{Bucket: &u.o.Bucket})
	if err != nil {
		return fmt.Errorf("uplink: probe %s: %w", u.o.Bucket, err)
	}
	return nil
}

func (u *Uploader) recoverLocked() {
	u.st.ConsecutiveFailures = 0
	u.setStateLocked(StateOK)
}

func (u *Uploader) setStateLocked(s State) {
	if u.st.State == s {
		return
	}
	prev := u.st.State
	u.st.State, u.st.StateSince = s, u.o.Clock.Now()
	switch {
	case s == StateDown:
		u.downCh = make(chan struct{})
	case prev == StateDown:
		close(u.downCh)
	}
	u.log.Info("uplink state", "from", prev, "to", s, "consecutive_failures", u.st.ConsecutiveFailures)
}

func (u *Uploader) count(f func(*Stats)) {
	u.mu.Lock()
	f(&u.st)
	u.mu.Unlock()
}
