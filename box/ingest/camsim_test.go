package ingest

import (
	"bytes"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/media"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

// camsimProc is the project's Hikvision simulator run as its own process (cmd/camsim):
// the box never imports cloudsim code, it meets the simulator over the wire.
type camsimProc struct {
	rtsp, http string
}

func startCamsim(t *testing.T, password string, channels ...string) camsimProc {
	t.Helper()
	root := testenv.RepoRoot(t)
	bin := filepath.Join(t.TempDir(), "camsim")
	build := exec.Command("go", "build", "-o", bin, "./cmd/camsim")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	c := camsimProc{rtsp: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), http: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}
	args := []string{"--rtsp", c.rtsp, "--http", c.http, "--media-dir", filepath.Join(root, "testdata", "media"),
		"--password", password, "--log-level", "warn"}
	for _, ch := range channels {
		args = append(args, "--channel", ch)
	}
	cmd := exec.Command(bin, args...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("camsim output:\n%s", logs.String())
		}
	})
	testenv.WaitTCP(t, c.rtsp, 15*time.Second)
	testenv.WaitTCP(t, c.http, 15*time.Second)
	return c
}

func (c camsimProc) knob(t *testing.T, path string) {
	t.Helper()
	resp, err := http.Post("http://"+c.http+path, "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Less(t, resp.StatusCode, 300, path)
}

func TestCamsim(t *testing.T) {
	t.Parallel()
	sim := startCamsim(t, "Pa55word", "h265_360p.h265,h264_360p.h264", "h264_360p.h264")
	url := func(user, pass string, path int) string {
		return fmt.Sprintf("rtsp://%s:%s@%s/Streaming/Channels/%d", user, pass, sim.rtsp, path)
	}

	t.Run("digest auth, knobs", func(t *testing.T) {
		t.Parallel()
		c := startChannel(t, Options{Channel: 1, URL: url("admin", "Pa55word", 101), ReadTimeout: time.Second,
			BackoffMin: 100 * time.Millisecond, BackoffMax: 400 * time.Millisecond})
		sub := c.Subscribe(4096)
		defer sub.Close()
		aus := collectN(t, sub, 25, 10*time.Second)
		require.Len(t, aus, 25)
		st := c.Stats()
		assert.Equal(t, media.CodecH265, st.Codec)
		assert.Equal(t, 640, st.Width)
		assert.Equal(t, 360, st.Height)

		sim.knob(t, "/sim/streams/1/restart")
		waitFor(t, 10*time.Second, "reconnect after restart knob", func() bool { return c.Stats().Connects >= 2 })
		aus = append(aus, collectN(t, sub, 25, 10*time.Second)...)
		require.Len(t, aus, 50)

		sim.knob(t, "/sim/streams/1/stall")
		waitFor(t, 10*time.Second, "stall detected", func() bool { return c.Stats().Disconnects[ReasonTimeout] >= 1 })
		sim.knob(t, "/sim/streams/1/resume")
		aus = append(aus, collectN(t, sub, 25, 10*time.Second)...)
		require.Len(t, aus, 75)
		checkTimeline(t, aus)
	})

	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		c := startChannel(t, Options{Channel: 2, URL: url("admin", "nope", 201),
			BackoffMin: 100 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
		waitFor(t, 10*time.Second, "auth failure", func() bool { return c.Stats().Disconnects[ReasonConnect] >= 2 })
		st := c.Stats()
		assert.Contains(t, st.LastError, "401")
		assert.NotContains(t, st.LastError, "nope")
		assert.Zero(t, st.Connects)
	})
}
