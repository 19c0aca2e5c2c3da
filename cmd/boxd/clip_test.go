package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/ingest/fakecam"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

// runClipCmd runs `boxd clip args...` in process and returns its stdout.
func runClipCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&syncBuf{b: &logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cmd := newClipCmd(logger)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	t.Logf("boxd clip %s\nstdout: %s\nlogs:\n%s", strings.Join(args, " "), out.String(), logs.String())
	return out.String(), err
}

type syncBuf struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func startFakeCam(t *testing.T, file string) *fakecam.Camera {
	t.Helper()
	cam, err := fakecam.Start(fakecam.Options{File: testenv.Media(t, file)})
	require.NoError(t, err)
	t.Cleanup(cam.Stop)
	return cam
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return 1
	}
	return 0
}

// checkClip verifies a clip with ffprobe, decoding it to the end.
func checkClip(t *testing.T, file string, seconds float64, fps, width, height int) {
	t.Helper()
	p := testenv.Probe(t, file)
	assert.Equal(t, "h264", p.Codec)
	assert.Equal(t, width, p.Width)
	assert.Equal(t, height, p.Height)
	assert.InDelta(t, float64(fps), p.FrameRate, 0.01)
	assert.LessOrEqual(t, math.Abs(p.Duration-seconds), 1/float64(fps)+1e-6,
		"duration %.3f within one frame of %.0f s", p.Duration, seconds)
	assert.Equal(t, int(seconds)*fps, p.Frames, "decodable to the end")
}

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		name, file, res string
		fps             int // 0: default
		wantFPS         int
		w, h            int
	}{
		{"H.264 1080p to 576p at default fps", "h264_1080p.h264", "576p", 0, 10, 704, 396},
		{"H.265 1080p to 1080p at 6 fps", "h265_1080p.h265", "1080p", 6, 6, 1920, 1080},
		{"H.265 360p never upscaled", "h265_360p.h265", "1080p", 0, 10, 640, 360},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cam := startFakeCam(t, tc.file)
			out := filepath.Join(t.TempDir(), "clip.mp4")
			args := []string{"--url", cam.URL(), "--seconds", "3", "--resolution", tc.res, "--out", out}
			if tc.fps > 0 {
				args = append(args, "--fps", fmt.Sprint(tc.fps))
			}
			stdout, err := runClipCmd(t, args...)
			require.NoError(t, err)
			assert.Contains(t, stdout, out)
			checkClip(t, out, 3, tc.wantFPS, tc.w, tc.h)
		})
	}
}

func TestClipSurvivesCameraRestart(t *testing.T) {
	t.Parallel()
	cam := startFakeCam(t, "h264_360p.h264")
	go func() {
		// Restart once the clip is under way (the first keyframe arrives at once), and
		// stay down long enough that the next keyframe comes after the clip's end.
		time.Sleep(1500 * time.Millisecond)
		cam.Stop()
		time.Sleep(2500 * time.Millisecond)
		_ = cam.Restart()
	}()
	out := filepath.Join(t.TempDir(), "clip.mp4")
	stdout, err := runClipCmd(t, "--url", cam.URL(), "--seconds", "4", "--resolution", "576p", "--out", out)
	require.NoError(t, err)
	assert.Contains(t, stdout, "2 connects")
	checkClip(t, out, 4, 10, 640, 360)
}

func TestClipRefused(t *testing.T) {
	t.Parallel()
	// A 4096x2160 (DCI 4K, 8.8 MP) stream: a few frames of a flat colour encode fast.
	src := filepath.Join(t.TempDir(), "dci4k.h264")
	ff, err := exec.Command(testenv.Tool(t, "ffmpeg"), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "color=c=gray:size=4096x2160:rate=25:d=0.4", "-c:v", "libx264", "-preset", "ultrafast",
		"-x264-params", "keyint=5", src).CombinedOutput()
	require.NoError(t, err, "%s", ff)
	cam, err := fakecam.Start(fakecam.Options{File: src})
	require.NoError(t, err)
	t.Cleanup(cam.Stop)

	out := filepath.Join(t.TempDir(), "clip.mp4")
	_, err = runClipCmd(t, "--url", cam.URL(), "--seconds", "2", "--resolution", "1080p", "--out", out)
	require.Error(t, err)
	assert.Equal(t, exitClipRefused, exitCode(err))
	assert.Contains(t, err.Error(), "admission: channel 1 refused: resolution 4096x2160 (8847360 pixels) exceeds maximum 3840x2160")
	assert.NoFileExists(t, out)
}

func TestClipUnreachable(t *testing.T) {
	t.Parallel()
	port := testenv.FreePort(t)
	url := fmt.Sprintf("rtsp://admin:s3cret@127.0.0.1:%d/Streaming/Channels/101", port)
	out := filepath.Join(t.TempDir(), "clip.mp4")
	began := time.Now()
	_, err := runClipCmd(t, "--url", url, "--seconds", "2", "--resolution", "576p", "--out", out, "--timeout", "1500ms")
	require.Error(t, err)
	assert.Less(t, time.Since(began), 10*time.Second)
	assert.Equal(t, exitClipUnreachable, exitCode(err))
	msg := err.Error()
	assert.Contains(t, msg, "camera unreachable")
	assert.Contains(t, msg, fmt.Sprintf("rtsp://admin@127.0.0.1:%d/Streaming/Channels/101", port))
	assert.Contains(t, msg, "connection refused")
	assert.NotContains(t, msg, "s3cret")
	assert.NoFileExists(t, out)
}

func TestClipFlags(t *testing.T) {
	_, err := runClipCmd(t, "--seconds", "0", "--resolution", "720p", "--fps", "99")
	require.Error(t, err)
	for _, want := range []string{"--url is required", "--out is required", "--seconds 0", `--resolution "720p"`, "--fps 99"} {
		assert.Contains(t, err.Error(), want)
	}
}

// camsim is the project's Hikvision simulator, run as its own process: the box meets
// it only over the wire.
func TestClipFromCamsim(t *testing.T) {
	t.Parallel()
	sim := testenv.StartCamsim(t, "Secr3t!x", []string{"h265_360p.h265,h264_360p.h264"})
	out := filepath.Join(t.TempDir(), "clip.mp4")
	go func() {
		time.Sleep(1500 * time.Millisecond)
		resp, err := http.Post("http://"+sim.HTTP+"/sim/streams/1/restart", "application/json", nil)
		if err == nil {
			resp.Body.Close()
		}
	}()
	url := "rtsp://admin:Secr3t!x@" + sim.RTSP + "/Streaming/Channels/101"
	stdout, err := runClipCmd(t, "--url", url, "--seconds", "4", "--resolution", "576p", "--out", out)
	require.NoError(t, err)
	assert.Contains(t, stdout, "H.265 640x360")
	assert.Contains(t, stdout, "2 connects", "the restart knob dropped the reader, which reconnected")
	checkClip(t, out, 4, 10, 640, 360)

	// A wrong password is reported as unreachable, with the 401 and without the password.
	bad := "rtsp://admin:wrong@" + sim.RTSP + "/Streaming/Channels/102"
	_, err = runClipCmd(t, "--url", bad, "--seconds", "1", "--resolution", "576p", "--out", out+"2", "--timeout", "1s")
	require.Error(t, err)
	assert.Equal(t, exitClipUnreachable, exitCode(err))
	assert.Contains(t, err.Error(), "401")
	assert.NotContains(t, err.Error(), "wrong")
	_ = os.Remove(out + "2")
}
