package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/admission"
	"github.com/proconnect-oss/boxfw/box/ingest/fakecam"
	"github.com/proconnect-oss/boxfw/box/media"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

type tlogWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *tlogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	w := &tlogWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startChannel runs a channel until the test ends.
func startChannel(t testing.TB, opts Options) *Channel {
	t.Helper()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	c, err := New(opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("channel Run did not return after cancel")
		}
		assert.Equal(t, StateStopped, c.Stats().State)
	})
	return c
}

// collectN reads until n units arrived or timeout.
func collectN(t testing.TB, sub *Subscription, n int, timeout time.Duration) []*media.AccessUnit {
	t.Helper()
	var aus []*media.AccessUnit
	deadline := time.After(timeout)
	for len(aus) < n {
		select {
		case au, ok := <-sub.C():
			if !ok {
				return aus
			}
			aus = append(aus, au)
		case <-deadline:
			return aus
		}
	}
	return aus
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func checkTimeline(t testing.TB, aus []*media.AccessUnit) {
	t.Helper()
	require.NotEmpty(t, aus)
	assert.True(t, aus[0].Key, "starts at a keyframe")
	for i := 1; i < len(aus); i++ {
		require.Greater(t, aus[i].PTS, aus[i-1].PTS, "PTS increases (unit %d)", i)
		require.False(t, aus[i].Wall.Before(aus[i-1].Wall), "Wall never goes back (unit %d)", i)
	}
}

// keyIntervals returns the PTS distance between consecutive keyframes.
func keyIntervals(aus []*media.AccessUnit) []time.Duration {
	var out []time.Duration
	var last time.Duration = -1
	for _, au := range aus {
		if au.Key {
			if last >= 0 {
				out = append(out, au.PTS-last)
			}
			last = au.PTS
		}
	}
	return out
}

// (a) mediamtx fed by the ffmpeg CLI, as a camera relayed by an NVR would be.
func TestIngestFromMediaMTX(t *testing.T) {
	t.Parallel()
	mtx := testenv.StartMediaMTX(t)
	for _, tc := range []struct {
		file  string
		codec media.Codec
	}{
		{"h264_1080p.h264", media.CodecH264},
		{"h265_1080p.h265", media.CodecH265},
	} {
		t.Run(tc.codec.String(), func(t *testing.T) {
			t.Parallel()
			url := fmt.Sprintf("rtsp://%s/cam-%s", mtx.Addr, tc.file[:4])
			publishLoop(t, testenv.Media(t, tc.file), url)
			c := startChannel(t, Options{Channel: 1, URL: url, BackoffMin: 200 * time.Millisecond,
				BackoffMax: time.Second})
			sub := c.Subscribe(1024) // from the channel's first keyframe
			defer sub.Close()
			aus := collectN(t, sub, 76, 20*time.Second) // 3 s of stream: keyframes at 0 and ~2 s
			require.Len(t, aus, 76)
			checkTimeline(t, aus)
			assert.InDelta(t, 3.0, (aus[75].PTS - aus[0].PTS).Seconds(), 0.1, "25 fps")
			for _, au := range aus {
				assert.Equal(t, tc.codec, au.Codec)
				if au.Key {
					in, err := InfoOf(au)
					require.NoError(t, err, "every keyframe carries its parameter sets")
					assert.Equal(t, 1920, in.Width)
					assert.Equal(t, 1080, in.Height)
				}
			}
			ivs := keyIntervals(aus)
			require.NotEmpty(t, ivs)
			for _, iv := range ivs {
				assert.InDelta(t, 2.0, iv.Seconds(), 0.15, "keyframe every ~2 s")
			}
			st := c.Stats()
			assert.Equal(t, StateStreaming, st.State)
			assert.Equal(t, tc.codec, st.Codec)
			assert.Equal(t, 1920, st.Width)
			assert.Equal(t, 1080, st.Height)
			assert.GreaterOrEqual(t, st.Connects, uint64(1))
			assert.Positive(t, st.Bytes)
			assert.Zero(t, st.Dropped)
			assert.Positive(t, st.Ring.AUs)
			assert.True(t, c.Ring().Snapshot()[0].Key)
		})
	}
}

// publishLoop publishes an elementary stream in a loop with the ffmpeg CLI. It remuxes
// to Matroska first because ffmpeg 5.1 cannot loop (seek) a raw .h264/.h265 input:
// testenv.Publish stops after one pass with "Operation not permitted".
func publishLoop(t testing.TB, file, url string) *testenv.Process {
	t.Helper()
	ffmpeg := testenv.Tool(t, "ffmpeg")
	format := "h264"
	if strings.HasSuffix(file, ".h265") {
		format = "hevc"
	}
	mkv := filepath.Join(t.TempDir(), filepath.Base(file)+".mkv")
	out, err := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", format, "-framerate", "25",
		"-i", file, "-c", "copy", mkv).CombinedOutput()
	require.NoError(t, err, "%s", out)
	cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", mkv,
		"-c", "copy", "-rtsp_transport", "tcp", "-f", "rtsp", url)
	p := &testenv.Process{Cmd: cmd}
	require.NoError(t, cmd.Start())
	t.Cleanup(p.Stop)
	return p
}

func startCam(t testing.TB, file string, opts fakecam.Options) *fakecam.Camera {
	t.Helper()
	opts.File = testenv.Media(t, file)
	cam, err := fakecam.Start(opts)
	require.NoError(t, err)
	t.Cleanup(cam.Stop)
	return cam
}

// (b) a gortsplib server as a fake camera that restarts and stalls mid-stream.
func TestReconnect(t *testing.T) {
	t.Parallel()
	cam := startCam(t, "h264_360p.h264", fakecam.Options{})
	c := startChannel(t, Options{Channel: 2, URL: cam.URL(), ReadTimeout: time.Second,
		BackoffMin: 100 * time.Millisecond, BackoffMax: 400 * time.Millisecond})
	sub := c.Subscribe(2048)
	defer sub.Close()

	before := collectN(t, sub, 25, 10*time.Second)
	require.Len(t, before, 25)

	t.Log("camera restart")
	cam.Stop()
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, cam.Restart())
	waitFor(t, 5*time.Second, "second connect", func() bool { return c.Stats().Connects >= 2 })
	after := collectN(t, sub, 25, 5*time.Second) // the camera's next keyframe may be 2 s away
	require.Len(t, after, 25, "units continue after the restart")
	all := append(before, after...)
	checkTimeline(t, all) // one timeline across sessions
	st := c.Stats()
	assert.GreaterOrEqual(t, st.Disconnects[ReasonClosed]+st.Disconnects[ReasonConnect], uint64(1))

	t.Log("camera stall")
	cam.Stall(true)
	waitFor(t, 5*time.Second, "stall detected", func() bool { return c.Stats().Disconnects[ReasonTimeout] >= 1 })
	assert.Contains(t, c.Stats().LastError, "stalled")
	cam.Stall(false)
	n := c.Stats().Connects
	waitFor(t, 5*time.Second, "reconnect after stall", func() bool {
		s := c.Stats()
		return s.Connects > n && s.State == StateStreaming
	})
	more := collectN(t, sub, 25, 5*time.Second)
	require.Len(t, more, 25)
	checkTimeline(t, append(all, more...))
	assert.Equal(t, 640, c.Stats().Width)
}

func TestUnreachableBacksOff(t *testing.T) {
	t.Parallel()
	port := testenv.FreePort(t)
	c := startChannel(t, Options{Channel: 3, URL: fmt.Sprintf("rtsp://admin:pw@127.0.0.1:%d/x", port),
		ReadTimeout: time.Second, BackoffMin: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
	waitFor(t, 5*time.Second, "several connect failures", func() bool { return c.Stats().Disconnects[ReasonConnect] >= 3 })
	st := c.Stats()
	assert.Zero(t, st.Connects)
	assert.Contains(t, []State{StateBackoff, StateConnecting}, st.State)
	assert.NotContains(t, st.LastError, "pw", "no password in errors")
	assert.Contains(t, st.LastError, fmt.Sprintf("rtsp://admin@127.0.0.1:%d/x", port))
}

func TestAdmissionRefuses(t *testing.T) {
	t.Parallel()
	cam := startCam(t, "h265_360p.h265", fakecam.Options{NoSDPParams: true}) // learned in-band
	var mu sync.Mutex
	var seen []media.StreamInfo
	c := startChannel(t, Options{Channel: 5, URL: cam.URL(), RefusedRetry: time.Hour,
		Admit: func(in media.StreamInfo) error {
			mu.Lock()
			seen = append(seen, in)
			mu.Unlock()
			return admission.Check(nil, admission.Channel{ID: 5, Vendor: admission.VendorOther, Width: in.Width, Height: in.Height})
		}})
	waitFor(t, 5*time.Second, "refusal", func() bool { return c.Stats().State == StateRefused })
	st := c.Stats()
	assert.Equal(t, uint64(1), st.Disconnects[ReasonRefused])
	assert.Contains(t, st.LastError, "admission: channel 5 refused: vendor other is not Hikvision")
	assert.Zero(t, st.AUs, "nothing published for a refused stream")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 1)
	assert.Equal(t, media.StreamInfo{Codec: media.CodecH265, Width: 640, Height: 360}, media.StreamInfo{Codec: seen[0].Codec, Width: seen[0].Width, Height: seen[0].Height})
}

func TestSlowSubscriberDropsNotBlocks(t *testing.T) {
	t.Parallel()
	cam := startCam(t, "h264_360p.h264", fakecam.Options{FPS: 50})
	c := startChannel(t, Options{Channel: 6, URL: cam.URL()})
	slow := c.Subscribe(2) // never read
	defer slow.Close()
	fast := c.Subscribe(1024)
	defer fast.Close()
	aus := collectN(t, fast, 150, 20*time.Second)
	require.Len(t, aus, 150, "the fast reader is not held back")
	checkTimeline(t, aus)
	assert.Positive(t, slow.Dropped())
	assert.Equal(t, slow.Dropped(), c.Stats().Dropped)
	assert.Zero(t, fast.Dropped())
	assert.Equal(t, 2, c.Stats().Subscribers)
}

func TestClipRingThenLive(t *testing.T) {
	t.Parallel()
	cam := startCam(t, "h264_360p.h264", fakecam.Options{})
	c := startChannel(t, Options{Channel: 7, URL: cam.URL(), BackoffMin: 100 * time.Millisecond,
		BackoffMax: 300 * time.Millisecond})
	waitFor(t, 10*time.Second, "4.5 s of pre-roll", func() bool { return c.Ring().Stats().Span() >= 4500*time.Millisecond })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	from := time.Now().Add(-3 * time.Second)
	clip := c.Clip(ClipOptions{From: from, Duration: 5 * time.Second})
	defer clip.Close()
	in, err := clip.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, 640, in.Width)
	assert.Equal(t, 360, in.Height)
	assert.NotEmpty(t, in.SPS)

	var aus []*media.AccessUnit
	for {
		au, err := clip.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		aus = append(aus, au)
	}
	checkTimeline(t, aus)
	assert.Len(t, aus, 5*25, "exactly 5 s of 25 fps by PTS")
	assert.False(t, aus[0].Wall.After(from), "starts at a keyframe at or before From")
	// Keyframes come every 2 s of stream time; allow for a loaded machine stretching that.
	assert.Greater(t, aus[0].Wall, from.Add(-3*time.Second), "the latest such keyframe")
	assert.Zero(t, clip.Dropped())
	_, err = clip.Next(ctx)
	assert.ErrorIs(t, err, io.EOF)
	assert.Eventually(t, func() bool { return c.Stats().Subscribers == 0 }, time.Second, 10*time.Millisecond,
		"an ended clip releases its subscription")

	// A clip across a camera restart still completes, on one timeline.
	// Until leaves room for the camera's next keyframe after the restart (GOP 2 s).
	clip2 := c.Clip(ClipOptions{From: time.Now(), Until: time.Now().Add(7 * time.Second)})
	defer clip2.Close()
	go func() {
		time.Sleep(time.Second)
		cam.Stop()
		time.Sleep(200 * time.Millisecond)
		_ = cam.Restart()
	}()
	aus = aus[:0]
	for {
		au, err := clip2.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		aus = append(aus, au)
	}
	checkTimeline(t, aus)
	assert.GreaterOrEqual(t, c.Stats().Connects, uint64(2))
	// Within a session PTS steps by 40 ms; the restart (camera down >= 200 ms) shows
	// as a larger step that follows the wall clock.
	gapAt := -1
	for i := 1; i < len(aus); i++ {
		if aus[i].PTS-aus[i-1].PTS > 150*time.Millisecond {
			gapAt = i
		}
	}
	require.Positive(t, gapAt, "the clip spans the outage")
	assert.True(t, aus[gapAt].Key, "the live tail resumes at a keyframe")
	wallGap := aus[gapAt].Wall.Sub(aus[gapAt-1].Wall)
	assert.InDelta(t, wallGap.Seconds(), (aus[gapAt].PTS - aus[gapAt-1].PTS).Seconds(), 0.01,
		"PTS keeps the outage's length")
}
