package daemon

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/proconnect-oss/boxfw/box/clipwindow"
	"github.com/proconnect-oss/boxfw/box/media"
	"github.com/proconnect-oss/boxfw/transcode"
)

// windowSource cuts one clip window out of a channel's video: it passes the
// access units of the source (the pre-roll ring from the keyframe before the window
// start, then the live tail) until the window's end is final and reached.
//
// It also keeps the presentation timeline continuous: after a camera restart the new
// RTSP session's timestamps start again from zero, so a backwards or wild jump is
// re-based on the box clock. The transcoder then sees one steady timeline.
type windowSource struct {
	src   transcode.Source
	win   *clipwindow.Window
	grace time.Duration // how long to wait for video after the window closed

	buf      []*media.AccessUnit
	started  bool
	offset   time.Duration
	last     *media.AccessUnit
	lastOut  time.Duration
	startPTS time.Duration
}

func newWindowSource(src transcode.Source, win *clipwindow.Window, grace time.Duration) *windowSource {
	return &windowSource{src: src, win: win, grace: grace}
}

// maxJump is the largest forward timestamp step still taken as continuous.
const maxJump = 5 * time.Second

func (s *windowSource) Info(ctx context.Context) (media.StreamInfo, error) { return s.src.Info(ctx) }

// StartPTS reads ahead to the first unit at or after the window start and returns
// its (re-based) timestamp: the transcoder's first output frame. The units read
// ahead are still returned by Next, since decoding starts at the keyframe before.
func (s *windowSource) StartPTS(ctx context.Context) (time.Duration, error) {
	if s.started {
		return s.startPTS, nil
	}
	for {
		au, err := s.pull(ctx)
		if err != nil {
			return 0, err
		}
		s.buf = append(s.buf, au)
		if !au.Wall.Before(s.win.Start) {
			s.started, s.startPTS = true, au.PTS
			return au.PTS, nil
		}
	}
}

func (s *windowSource) Next(ctx context.Context) (*media.AccessUnit, error) {
	if len(s.buf) > 0 {
		au := s.buf[0]
		s.buf = s.buf[1:]
		return au, nil
	}
	return s.pull(ctx)
}

// pull reads the next unit from the channel, ending at the window's end.
func (s *windowSource) pull(ctx context.Context) (*media.AccessUnit, error) {
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	closedWait := make(chan struct{})
	go func() {
		select {
		case <-s.win.Done():
			// The window is final: allow the video up to its end to arrive, then stop
			// waiting for a stream that may be dead.
			t := time.NewTimer(s.grace)
			defer t.Stop()
			select {
			case <-t.C:
				close(closedWait)
				cancel()
			case <-readCtx.Done():
			}
		case <-readCtx.Done():
		}
	}()
	au, err := s.src.Next(readCtx)
	if err != nil {
		select {
		case <-closedWait:
			return nil, io.EOF
		default:
		}
		if errors.Is(err, context.Canceled) && ctx.Err() == nil {
			return nil, io.EOF
		}
		return nil, err
	}
	if _, done := s.win.Decide(au.Wall); done {
		return nil, io.EOF
	}
	return s.rebase(au), nil
}

func (s *windowSource) rebase(au *media.AccessUnit) *media.AccessUnit {
	pts := au.PTS + s.offset
	if s.last != nil {
		step := pts - s.lastOut
		if step <= 0 || step > maxJump {
			gap := au.Wall.Sub(s.last.Wall)
			if gap <= 0 {
				gap = time.Millisecond
			}
			s.offset = s.lastOut + gap - au.PTS
			pts = au.PTS + s.offset
		}
	}
	s.last, s.lastOut = au, pts
	if pts == au.PTS {
		return au
	}
	out := *au // units are shared with the ring: never modify them in place
	out.PTS = pts
	return &out
}
