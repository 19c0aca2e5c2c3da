package isapi

// Integration tests against the project's device simulator (cmd/camsim) and
// the real `boxd events` command. The box never imports simulator code: both
// run as processes and meet this package over the wire, like a real device.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const repoRoot = "../.."

// binaries builds cmd/camsim and cmd/boxd once per test binary.
var binaries = sync.OnceValues(func() (map[string]string, error) {
	dir, err := os.MkdirTemp("", "isapi-it-")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, name := range []string{"camsim", "boxd"} {
		bin := filepath.Join(dir, name)
		args := []string{"build", "-o", bin}
		if raceEnabled && name == "boxd" {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "./cmd/"+name)...)
		cmd.Dir = repoRoot
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./cmd/%s: %w\n%s", name, err, b)
		}
		out[name] = bin
	}
	return out, nil
})

func TestMain(m *testing.M) {
	code := m.Run()
	if bins, err := binaries(); err == nil && len(bins) > 0 {
		os.RemoveAll(filepath.Dir(bins["camsim"]))
	}
	os.Exit(code)
}

func binary(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test (builds cmd/camsim and cmd/boxd)")
	}
	bins, err := binaries()
	require.NoError(t, err)
	return bins[name]
}

// camsim is one simulator process.
type camsim struct {
	addr string // host:port of ISAPI and /sim/
}

var isapiLine = regexp.MustCompile(`ISAPI:\s+http://([0-9.:]+)/`)

func startCamsim(t *testing.T, args ...string) *camsim {
	t.Helper()
	bin := binary(t, "camsim")
	media, err := filepath.Abs(filepath.Join(repoRoot, "testdata", "media"))
	require.NoError(t, err)
	args = append([]string{"--rtsp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--media-dir", media, "--log-level", "warn"}, args...)
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := isapiLine.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		require.True(t, ok, "camsim exited: %s", stderr.String())
		return &camsim{addr: a}
	case <-time.After(30 * time.Second):
		t.Fatalf("camsim did not start: %s", stderr.String())
		return nil
	}
}

func (c *camsim) url() string { return "http://" + c.addr }

func (c *camsim) control(t *testing.T, method, path string, body any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(method, c.url()+path, bytes.NewReader(b))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Less(t, resp.StatusCode, 300, "%s %s", method, path)
}

// waitSessions waits until the simulator serves n alertStream sessions: it
// sends response headers before it subscribes to events, so an event triggered
// right after the client sees the headers could be lost.
func (c *camsim) waitSessions(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return c.sessions() >= n }, 20*time.Second, 10*time.Millisecond, "alertStream sessions")
}

func (c *camsim) sessions() int {
	resp, err := http.Get(c.url() + "/sim/status")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var st struct {
		AlertSessions int `json:"alertSessions"`
	}
	if json.NewDecoder(resp.Body).Decode(&st) != nil {
		return -1
	}
	return st.AlertSessions
}

func (c *camsim) trigger(t *testing.T, channel int, typ string, seconds float64) {
	c.control(t, http.MethodPost, "/sim/events", map[string]any{"channel": channel, "type": typ, "seconds": seconds})
}

func (c *camsim) client(t *testing.T, password string) *Client {
	cl, err := NewClient(ClientOptions{URL: c.url(), Username: "admin", Password: password, RequestTimeout: 10 * time.Second})
	require.NoError(t, err)
	return cl
}

func TestCamsimDeviceInfo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("camera", func(t *testing.T) {
		t.Parallel()
		c := startCamsim(t, "--channel", "h265_1080p.h265,h264_360p.h264").client(t, "Admin12345")
		di, err := c.DeviceInfo(ctx)
		require.NoError(t, err)
		assert.Equal(t, "DS-2CD2386G2-IU", di.Model)
		assert.True(t, strings.HasPrefix(di.SerialNumber, "DS-2CD2386G2-IU"))
		assert.Equal(t, "IPCamera", di.DeviceType)
		assert.NotEmpty(t, di.MACAddress)
		assert.NotEmpty(t, di.FirmwareVersion)
		assert.NotEmpty(t, di.FirmwareReleasedDate)
		hik, reason := IsHikvision(di)
		assert.True(t, hik, reason)
		assert.False(t, di.IsRecorder())

		sc, err := c.StreamingChannels(ctx)
		require.NoError(t, err)
		require.Len(t, sc, 2)
		assert.Equal(t, 101, sc[0].ID)
		assert.Equal(t, "H.265", sc[0].CodecName)
		assert.Equal(t, 1920, sc[0].Width)
		assert.Equal(t, 1080, sc[0].Height)
		assert.Greater(t, sc[0].MaxFrameRate, 1.0)
		assert.Equal(t, 102, sc[1].ID)
		assert.Equal(t, 2, sc[1].Stream)
		assert.Equal(t, "H.264", sc[1].CodecName)

		_, err = c.InputProxyChannels(ctx)
		assert.ErrorIs(t, err, ErrNotNVR)
		port, err := c.RTSPPort(ctx)
		require.NoError(t, err)
		assert.Greater(t, port, 0)
	})
	t.Run("nvr", func(t *testing.T) {
		t.Parallel()
		c := startCamsim(t, "--mode", "nvr", "--channel", "h264_360p.h264", "--channel", "h264_360p.h264").client(t, "Admin12345")
		di, err := c.DeviceInfo(ctx)
		require.NoError(t, err)
		assert.True(t, di.IsRecorder())
		hik, reason := IsHikvision(di)
		assert.True(t, hik, reason)
		chans, err := c.InputProxyChannels(ctx)
		require.NoError(t, err)
		require.Len(t, chans, 2)
		assert.Equal(t, 1, chans[0].ID)
		assert.Equal(t, 32, AutoIPChannelOffset(di, chans))
	})
	t.Run("non-hikvision", func(t *testing.T) {
		t.Parallel()
		c := startCamsim(t, "--manufacturer", "other").client(t, "Admin12345")
		di, err := c.DeviceInfo(ctx)
		require.NoError(t, err)
		hik, reason := IsHikvision(di)
		assert.False(t, hik)
		assert.Contains(t, reason, "Dahua")
	})
	t.Run("basic auth and stale nonce", func(t *testing.T) {
		t.Parallel()
		c := startCamsim(t, "--basic-auth", "--legacy-xml").client(t, "Admin12345")
		di, err := c.DeviceInfo(ctx)
		require.NoError(t, err)
		assert.Contains(t, di.Namespace, "ver10")

		sim := startCamsim(t, "--nonce-ttl", "300ms")
		c = sim.client(t, "Admin12345")
		_, err = c.DeviceInfo(ctx)
		require.NoError(t, err)
		time.Sleep(500 * time.Millisecond)
		_, err = c.DeviceInfo(ctx)
		require.NoError(t, err, "stale nonce renewed transparently")

		_, err = sim.client(t, "wrong").DeviceInfo(ctx)
		assert.ErrorIs(t, err, ErrUnauthorized)
	})
}

func TestCamsimAlertStream(t *testing.T) {
	t.Parallel()
	type want struct {
		typ     string
		channel int
		nonXML  bool // a JPEG part must have been skipped
	}
	for _, tc := range []struct {
		name    string
		args    []string
		offset  int
		trigger func(t *testing.T, c *camsim)
		want    want
	}{
		{"camera default", nil, 0,
			func(t *testing.T, c *camsim) { c.trigger(t, 1, "VMD", 2) }, want{typ: "VMD", channel: 1}},
		{"camera quirks", []string{"--quirk", "duplicateBoundary=true", "--quirk", "noContentLength=true", "--quirk", "unescapedAmp=true",
			"--quirk", "namespace=std-cgi.com", "--quirk", "dateTime=nosign", "--quirk", "jpegAfterSmart=true"}, 0,
			func(t *testing.T, c *camsim) { c.trigger(t, 1, "linedetection", 1) }, want{typ: "linedetection", channel: 1, nonXML: true}},
		{"camera LF psialliance one-digit offset", []string{"--quirk", "lfBodies=true", "--quirk", "namespace=psialliance", "--quirk", "dateTime=-8:00",
			"--quirk", "channelID=dynChannelID", "--quirk", "xmlProlog=true"}, 0,
			func(t *testing.T, c *camsim) { c.trigger(t, 1, "fielddetection", 1) }, want{typ: "fielddetection", channel: 1}},
		{"camera one heartbeat then quiet", []string{"--quirk", "heartbeatOnce=true", "--quirk", "quietDuringEvents=true"}, 0,
			func(t *testing.T, c *camsim) { time.Sleep(1500 * time.Millisecond); c.trigger(t, 1, "VMD", 2) }, want{typ: "VMD", channel: 1}},
		{"nvr default", []string{"--mode", "nvr", "--channel", "h264_360p.h264", "--channel", "h264_360p.h264"}, 0,
			func(t *testing.T, c *camsim) { c.trigger(t, 2, "VMD", 2) }, want{typ: "VMD", channel: 2}},
		{"nvr quirks", []string{"--mode", "nvr", "--channel", "h264_360p.h264", "--channel", "h264_360p.h264",
			"--quirk", "boundaryMismatch=true", "--quirk", "channelID=dyn32", "--quirk", "oldPathOnly=true", "--quirk", "namespace=none",
			"--quirk", "dateTime=none", "--quirk", "noContentLength=true", "--quirk", "duplicateBoundary=true", "--quirk", "jpegAfterSmart=true"}, 32,
			func(t *testing.T, c *camsim) { c.trigger(t, 2, "fielddetection", 2) }, want{typ: "fielddetection", channel: 2, nonXML: true}},
		{"nvr empty channelID is the device", []string{"--mode", "nvr", "--channel", "h264_360p.h264", "--quirk", "channelID=empty", "--quirk", "namespace=isapi.org"}, 0,
			func(t *testing.T, c *camsim) { c.trigger(t, 0, "diskfull", 3) }, want{typ: "diskfull", channel: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim := startCamsim(t, append([]string{"--heartbeat", "1s"}, tc.args...)...)
			events := make(chan Event, 1000)
			connected := make(chan struct{}, 10)
			s, err := NewAlertStream(sim.client(t, "Admin12345"), StreamOptions{
				OnEvent:   func(e Event) { events <- e },
				OnConnect: func(string) { connected <- struct{}{} },
				Parse:     ParseOptions{IPChannelOffset: tc.offset},
			})
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- s.Run(ctx) }()
			defer func() { cancel(); <-errc }()

			select {
			case <-connected:
			case <-time.After(20 * time.Second):
				t.Fatalf("no connection: %+v", s.Stats())
			}
			sim.waitSessions(t, 1)
			tc.trigger(t, sim)
			deadline := time.After(20 * time.Second)
			var got Event
		wait:
			for {
				select {
				case e := <-events:
					if EventTypeIs(e.EventType, tc.want.typ) && e.IsActive() {
						got = e
						break wait
					}
				case <-deadline:
					t.Fatalf("no %s event: %+v", tc.want.typ, s.Stats())
				}
			}
			assert.Equal(t, tc.want.channel, got.Channel)
			assert.NotEmpty(t, got.DateTimeRaw)
			assert.False(t, got.DateTime.IsZero(), "dateTime %q parsed", got.DateTimeRaw)
			assert.NotEmpty(t, got.SerialNumber)
			assert.NotEmpty(t, got.MACAddress)
			if tc.want.nonXML {
				require.Eventually(t, func() bool { return s.Stats().NonXMLParts > 0 }, 10*time.Second, 20*time.Millisecond)
			}
			// Every quirk must be understood: nothing may be skipped as malformed.
			st := s.Stats()
			assert.Zero(t, st.Malformed, "malformed parts")
			assert.GreaterOrEqual(t, st.Connects, uint64(1))
			if slicesContains(tc.args, "oldPathOnly=true") {
				assert.Equal(t, PathAlertStreamLegacy, st.Path)
			}
		})
	}
}

func TestCamsimReconnectAndHeartbeat(t *testing.T) {
	t.Parallel()
	sim := startCamsim(t, "--heartbeat", "300ms")
	events := make(chan Event, 1000)
	s, err := NewAlertStream(sim.client(t, "Admin12345"), StreamOptions{OnEvent: func(e Event) { events <- e },
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	defer func() { cancel(); <-errc }()

	waitFor := func(pred func(Event) bool) Event {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case e := <-events:
				if pred(e) {
					return e
				}
			case <-deadline:
				t.Fatalf("timed out: %+v", s.Stats())
			}
		}
	}
	hb := waitFor(IsHeartbeat)
	assert.Equal(t, 1, hb.Channel)
	sim.control(t, http.MethodPost, "/sim/alert/disconnect", nil)
	require.Eventually(t, func() bool { return s.Stats().Connects >= 2 }, 20*time.Second, 20*time.Millisecond)
	sim.waitSessions(t, 1)
	sim.trigger(t, 1, "VMD", 0.5)
	waitFor(func(e Event) bool { return IsClipEvent(e.EventType) && e.IsActive() })
	waitFor(func(e Event) bool { return IsClipEvent(e.EventType) && !e.IsActive() })
	st := s.Stats()
	assert.GreaterOrEqual(t, st.Reconnects, uint64(1))
	assert.GreaterOrEqual(t, st.Heartbeats, uint64(1))
	assert.Zero(t, st.Malformed)
}

func TestCamsimBoxdEvents(t *testing.T) {
	t.Parallel()
	boxd := binary(t, "boxd")
	sim := startCamsim(t, "--heartbeat", "500ms")

	t.Run("json", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, boxd, "events", "--url", sim.url(), "--user", "admin", "--password", "Admin12345", "--json")
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		stderr, err := cmd.StderrPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				if strings.Contains(sc.Text(), "listening on") {
					// No t.FailNow off the test goroutine: a failed trigger shows
					// as a missing VMD line instead.
					for i := 0; i < 1000 && sim.sessions() < 1; i++ {
						time.Sleep(10 * time.Millisecond)
					}
					resp, err := http.Post(sim.url()+"/sim/events", "application/json", strings.NewReader(`{"channel":1,"type":"VMD","seconds":1}`))
					if err == nil {
						resp.Body.Close()
					}
				}
			}
		}()
		sc := bufio.NewScanner(stdout)
		var sawHeartbeat, sawVMD bool
		for !(sawHeartbeat && sawVMD) && sc.Scan() {
			var rec map[string]any
			require.NoError(t, json.Unmarshal(sc.Bytes(), &rec), "line %q", sc.Text())
			for _, k := range []string{"type", "state", "channel", "time", "received"} {
				require.Contains(t, rec, k)
			}
			_, err := time.Parse(time.RFC3339, rec["received"].(string))
			require.NoError(t, err)
			if rec["heartbeat"] == true {
				sawHeartbeat = true
			}
			if rec["type"] == "VMD" && rec["state"] == "active" {
				assert.Equal(t, float64(1), rec["channel"])
				assert.Equal(t, true, rec["clip"])
				sawVMD = true
			}
		}
		require.NoError(t, sc.Err())
		assert.True(t, sawHeartbeat, "heartbeats are printed too")
	})
	t.Run("readable with count", func(t *testing.T) {
		out, err := exec.Command(boxd, "events", "--url", sim.url(), "--password", "Admin12345", "--count", "4").Output()
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		require.Len(t, lines, 4)
		line := regexp.MustCompile(`^\S+Z \S+\s+(active|inactive)\s+ch\d+\s+time=\S+ count=\d+`)
		for _, l := range lines {
			assert.Regexp(t, line, l)
		}
		assert.Contains(t, string(out), "[heartbeat]")
	})
	t.Run("wrong password", func(t *testing.T) {
		out, err := exec.Command(boxd, "events", "--url", sim.url(), "--password", "nope").CombinedOutput()
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "exit error, got %v", err)
		assert.Equal(t, 2, ee.ExitCode())
		assert.Contains(t, string(out), "rejected user")
	})
	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		out, err := exec.Command(boxd, "events", "--url", "http://"+addr, "--password", "x").CombinedOutput()
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "exit error, got %v", err)
		assert.Equal(t, 3, ee.ExitCode())
		assert.Contains(t, string(out), "cannot reach")
	})
}

// syncBuffer collects a process's stderr while the test may read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
