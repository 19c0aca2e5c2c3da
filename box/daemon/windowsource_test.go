package daemon

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/proconnect-oss/boxfw/box/clipwindow"
	"github.com/proconnect-oss/boxfw/box/media"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chanSource is a hand-written Source fed by the test.
type chanSource struct{ ch chan *media.AccessUnit }

func (c *chanSource) Info(context.Context) (media.StreamInfo, error) {
	return media.StreamInfo{Codec: media.CodecH264, Width: 1920, Height: 1080}, nil
}

func (c *chanSource) Next(ctx context.Context) (*media.AccessUnit, error) {
	select {
	case au, ok := <-c.ch:
		if !ok {
			return nil, io.EOF
		}
		return au, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

var base = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func au(pts, wall float64, key bool) *media.AccessUnit {
	return &media.AccessUnit{Codec: media.CodecH264, PTS: time.Duration(pts * float64(time.Second)),
		Wall: base.Add(time.Duration(wall * float64(time.Second))), Key: key, NALUs: [][]byte{{0x65}}}
}

func TestWindowSourceCutsAndRebases(t *testing.T) {
	var win *clipwindow.Window
	tr := clipwindow.NewTracker(clipwindow.Options{PreRoll: 2 * time.Second, PostRoll: 2 * time.Second, Quiet: 10 * time.Second},
		func(w *clipwindow.Window) { win = w })
	tr.Observe(1, "VMD", true, base.Add(10*time.Second)) // window starts at 8 s
	require.NotNil(t, win)

	src := &chanSource{ch: make(chan *media.AccessUnit, 100)}
	// Ring: keyframe at 6 s, frames each second; then a camera restart at 11 s whose
	// new session starts its timestamps at zero again.
	for i, w := range []float64{6, 7, 8, 9, 10} {
		src.ch <- au(100+w, w, i == 0)
	}
	src.ch <- au(0, 11, true)
	src.ch <- au(1, 12, false)
	src.ch <- au(2, 13, false)

	ws := newWindowSource(src, win, 100*time.Millisecond)
	ctx := context.Background()
	start, err := ws.StartPTS(ctx)
	require.NoError(t, err)
	assert.Equal(t, 108*time.Second, start, "first unit at or after the window start")

	tr.Observe(1, "VMD", false, base.Add(11*time.Second)) // window ends at 13 s
	var pts []time.Duration
	for {
		a, err := ws.Next(ctx)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		pts = append(pts, a.PTS)
	}
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	assert.Equal(t, []time.Duration{sec(106), sec(107), sec(108), sec(109), sec(110), sec(111), sec(112)}, pts,
		"the restart is re-based onto one timeline and the unit at the window end is not included")
}

func TestWindowSourceEndsWhenStreamDies(t *testing.T) {
	var win *clipwindow.Window
	tr := clipwindow.NewTracker(clipwindow.Options{PreRoll: time.Second, PostRoll: time.Second, Quiet: 10 * time.Second},
		func(w *clipwindow.Window) { win = w })
	tr.Observe(1, "VMD", true, base.Add(5*time.Second))
	src := &chanSource{ch: make(chan *media.AccessUnit, 10)}
	src.ch <- au(4, 4, true)
	ws := newWindowSource(src, win, 50*time.Millisecond)
	_, err := ws.StartPTS(context.Background())
	require.NoError(t, err)
	_, err = ws.Next(context.Background())
	require.NoError(t, err)

	tr.Observe(1, "VMD", false, base.Add(6*time.Second))
	tr.Tick(base.Add(time.Minute)) // the camera is gone: only the clock moves
	done := make(chan error, 1)
	go func() { _, err := ws.Next(context.Background()); done <- err }()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, io.EOF)
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not end after the window closed")
	}
}
