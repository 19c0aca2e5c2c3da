// Package testenv starts the real servers and tools that integration tests run
// against (MinIO, mediamtx, the ffmpeg CLI, ffprobe), each on 127.0.0.1 with a free
// port and a t.TempDir, stopped on test cleanup.
//
// The servers are built once by `make testservers` into $BOXFW_CACHE/bin
// (default ~/.cache/boxfw/bin). A missing server or tool fails the test with the
// command that installs it: a skipped integration test proves nothing.
package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BinDir is where `make testservers` caches the built servers.
func BinDir() string {
	if d := os.Getenv("BOXFW_CACHE"); d != "" {
		return filepath.Join(d, "bin")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "boxfw", "bin")
}

// RepoRoot returns the checkout's top directory (where go.mod is).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Media returns the path of a file in testdata/media, e.g. Media(t, "h264_1080p.h264").
func Media(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "testdata", "media", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("testenv: media %s: %v", name, err)
	}
	return p
}

// Tool returns the path of a command-line tool or fails the test naming how to install it.
func Tool(t testing.TB, name string) string {
	t.Helper()
	if p := filepath.Join(BinDir(), name); fileExists(p) {
		return p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("testenv: %s not found (run `make deps testservers`): %v", name, err)
	}
	return p
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitTCP waits until addr accepts connections.
func WaitTCP(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: %s not listening after %s: %v", addr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Process is a server started for a test.
type Process struct {
	Cmd  *exec.Cmd
	Addr string
	log  *bytes.Buffer
}

// Stop kills the process (SIGKILL) and waits for it.
func (p *Process) Stop() {
	if p.Cmd.Process != nil {
		_ = p.Cmd.Process.Kill()
		_ = p.Cmd.Wait()
	}
}

// Log returns what the process printed so far.
func (p *Process) Log() string { return p.log.String() }

func start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	var buf bytes.Buffer
	cmd.Stdout = &syncWriter{w: &buf}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: start %s: %v", cmd.Path, err)
	}
	p := &Process{Cmd: cmd, log: &buf}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(cmd.Path), lastLines(buf.String(), 40))
		}
	})
	return p
}

// MinIO is a running MinIO server.
type MinIO struct {
	*Process
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	DataDir   string
	port      int
}

// StartMinIO starts MinIO on a free port with a fresh data directory.
func StartMinIO(t testing.TB) *MinIO {
	t.Helper()
	m := &MinIO{AccessKey: "boxfwtest", SecretKey: "boxfwtestsecret", DataDir: t.TempDir(), port: FreePort(t)}
	m.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", m.port)
	m.Restart(t)
	return m
}

// Restart starts MinIO again (after Stop) on the same port and data, so tests can
// simulate an outage and its recovery.
func (m *MinIO) Restart(t testing.TB) {
	t.Helper()
	bin := Tool(t, "minio")
	cmd := exec.Command(bin, "server", "--quiet", "--address", fmt.Sprintf("127.0.0.1:%d", m.port),
		"--console-address", fmt.Sprintf("127.0.0.1:%d", FreePort(t)), m.DataDir)
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+m.AccessKey, "MINIO_ROOT_PASSWORD="+m.SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	m.Process = start(t, cmd)
	m.Addr = fmt.Sprintf("127.0.0.1:%d", m.port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(m.Endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: minio not ready: %v\n%s", err, m.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// StartMediaMTX starts mediamtx with RTSP over TCP only, bound to 127.0.0.1, and
// returns it; Addr is the RTSP host:port.
func StartMediaMTX(t testing.TB) *Process {
	t.Helper()
	bin := Tool(t, "mediamtx")
	dir := t.TempDir()
	port := FreePort(t)
	conf := fmt.Sprintf(`logLevel: warn
rtsp: yes
rtspTransports: [tcp]
rtspAddress: 127.0.0.1:%d
rtmp: no
hls: no
webrtc: no
srt: no
api: no
metrics: no
pprof: no
playback: no
paths:
  all_others:
`, port)
	cfg := filepath.Join(dir, "mediamtx.yml")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, exec.Command(bin, cfg))
	p.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	WaitTCP(t, p.Addr, 15*time.Second)
	return p
}

// Publish loops a testdata elementary stream into an RTSP server in real time with
// the ffmpeg CLI (as a camera would), e.g. Publish(t, Media(t,"h264_1080p.h264"), "rtsp://127.0.0.1:8554/cam1").
// ffmpeg 5.1 cannot loop a raw elementary stream, so it is remuxed to Matroska first.
func Publish(t testing.TB, file, url string) *Process {
	t.Helper()
	ffmpeg := Tool(t, "ffmpeg")
	format := "h264"
	if strings.HasSuffix(file, ".h265") || strings.HasSuffix(file, ".hevc") {
		format = "hevc"
	}
	mkv := filepath.Join(t.TempDir(), filepath.Base(file)+".mkv")
	if out, err := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-f", format, "-framerate", "25",
		"-i", file, "-c", "copy", mkv).CombinedOutput(); err != nil {
		t.Fatalf("testenv: remux %s: %v\n%s", file, err, out)
	}
	cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1",
		"-i", mkv, "-c", "copy", "-rtsp_transport", "tcp", "-f", "rtsp", url)
	return start(t, cmd)
}

// ProbeInfo is what ffprobe reports about a file's first video stream.
type ProbeInfo struct {
	Codec     string
	Width     int
	Height    int
	FrameRate float64 // r_frame_rate
	Duration  float64 // seconds, from the format
	Frames    int     // frames decoded to the end (count_frames)
	Format    string
}

// Probe runs ffprobe with frame counting (so the whole file is decoded) and fails the
// test if the file is not decodable to the end.
func Probe(t testing.TB, file string) ProbeInfo {
	t.Helper()
	info, err := ProbeFile(Tool(t, "ffprobe"), file)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return info
}

// ProbeFile is Probe for callers without a testing.TB (benchmarks, tools).
func ProbeFile(ffprobe, file string) (ProbeInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,width,height,r_frame_rate,nb_read_frames:format=duration,format_name",
		"-of", "json", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		return ProbeInfo{}, fmt.Errorf("ffprobe %s: %v: %s", file, err, stderr.String())
	}
	var doc struct {
		Streams []struct {
			CodecName    string `json:"codec_name"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			RFrameRate   string `json:"r_frame_rate"`
			NbReadFrames string `json:"nb_read_frames"`
		} `json:"streams"`
		Format struct {
			Duration   string `json:"duration"`
			FormatName string `json:"format_name"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &doc); err != nil || len(doc.Streams) == 0 {
		return ProbeInfo{}, fmt.Errorf("ffprobe %s: no video stream (%v): %s", file, err, out)
	}
	s := doc.Streams[0]
	info := ProbeInfo{Codec: s.CodecName, Width: s.Width, Height: s.Height, Format: doc.Format.FormatName}
	info.Frames, _ = strconv.Atoi(s.NbReadFrames)
	info.Duration, _ = strconv.ParseFloat(doc.Format.Duration, 64)
	if num, den, ok := strings.Cut(s.RFrameRate, "/"); ok {
		n, _ := strconv.ParseFloat(num, 64)
		d, _ := strconv.ParseFloat(den, 64)
		if d != 0 {
			info.FrameRate = n / d
		}
	}
	return info, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
