package ingest

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/proconnect-oss/boxfw/box/media"
)

// DefaultClipQueue is the live-tail queue of a clip: about 20 s of 25 fps video, so a
// transcoder that briefly falls behind real time loses nothing.
const DefaultClipQueue = 512

// ClipOptions say where a clip starts and ends.
type ClipOptions struct {
	// From: the clip starts at the latest keyframe at or before From that the ring still
	// holds, or at the oldest one. Zero means the oldest keyframe held (or, with an
	// empty ring, the next live keyframe).
	From time.Time
	// Until ends the clip before the first unit whose Wall is after Until. Zero: no limit.
	Until time.Time
	// Duration ends the clip before the first unit whose PTS is Duration or more after the
	// clip's first unit. Zero: no limit. (PTS, not Wall, so the length is exact.)
	Duration time.Duration
	// QueueSize is the live-tail queue; default DefaultClipQueue.
	QueueSize int
}

// Clip is a transcode.Source over a channel: the ring snapshot from a keyframe, then the
// live tail, until the end condition. It ends early (io.EOF) if the stream changes
// codec or resolution, because one output file cannot follow such a change.
// Close it when done. It is meant for one reader.
type Clip struct {
	c    *Channel
	opts ClipOptions
	snap []*media.AccessUnit
	sub  *Subscription

	pending  *media.AccessUnit // peeked by Info
	info     media.StreamInfo
	haveInfo bool
	started  bool
	firstPTS time.Duration
	done     bool
	units    int
}

// Clip starts a clip. The ring snapshot and the live subscription are taken atomically.
func (c *Channel) Clip(opts ClipOptions) *Clip {
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultClipQueue
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var snap []*media.AccessUnit
	if opts.From.IsZero() {
		snap = c.ring.Snapshot()
	} else {
		snap = c.ring.SnapshotFrom(opts.From)
	}
	return &Clip{c: c, opts: opts, snap: snap, sub: c.subscribeLocked(opts.QueueSize, len(snap) == 0)}
}

// Info blocks until the clip's first keyframe is available and returns the stream info
// its parameter sets describe.
func (s *Clip) Info(ctx context.Context) (media.StreamInfo, error) {
	if s.haveInfo {
		return s.info, nil
	}
	if s.pending == nil {
		au, err := s.raw(ctx)
		if err != nil {
			return media.StreamInfo{}, err
		}
		s.pending = au
	}
	in, err := InfoOf(s.pending)
	if err != nil {
		return media.StreamInfo{}, fmt.Errorf("ingest: clip of channel %d: %w", s.c.opts.Channel, err)
	}
	s.info, s.haveInfo = in, true
	return in, nil
}

// Next returns the next unit in decode order, or io.EOF at the end of the clip.
func (s *Clip) Next(ctx context.Context) (*media.AccessUnit, error) {
	if s.done {
		return nil, io.EOF
	}
	if !s.haveInfo {
		if _, err := s.Info(ctx); err != nil {
			return nil, err
		}
	}
	au := s.pending
	s.pending = nil
	if au == nil {
		var err error
		if au, err = s.raw(ctx); err != nil {
			return nil, err
		}
	}
	if !s.started {
		s.started, s.firstPTS = true, au.PTS
	}
	switch {
	case !s.opts.Until.IsZero() && au.Wall.After(s.opts.Until),
		s.opts.Duration > 0 && au.PTS-s.firstPTS >= s.opts.Duration:
		return s.end()
	case au.Key && s.units > 0 && s.changed(au):
		s.c.log.Warn("clip ends early: stream changed", "codec", au.Codec)
		return s.end()
	}
	s.units++
	return au, nil
}

func (s *Clip) end() (*media.AccessUnit, error) {
	s.done = true
	s.Close()
	return nil, io.EOF
}

// changed reports whether a keyframe carries parameters for a different picture size or codec.
func (s *Clip) changed(au *media.AccessUnit) bool {
	if au.Codec != s.info.Codec {
		return true
	}
	in, err := InfoOf(au)
	if err != nil {
		return false // no usable parameters: the decoder keeps the ones it has
	}
	return in.Width != s.info.Width || in.Height != s.info.Height
}

func (s *Clip) raw(ctx context.Context) (*media.AccessUnit, error) {
	if len(s.snap) > 0 {
		au := s.snap[0]
		s.snap[0] = nil
		s.snap = s.snap[1:]
		return au, nil
	}
	select {
	case au, ok := <-s.sub.C():
		if !ok {
			return nil, fmt.Errorf("ingest: clip of channel %d: %w", s.c.opts.Channel, ErrStopped)
		}
		return au, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Dropped is how many live units this clip lost to a full queue.
func (s *Clip) Dropped() uint64 { return s.sub.Dropped() }

// Close releases the live subscription. Safe to call more than once.
func (s *Clip) Close() { s.sub.Close() }
