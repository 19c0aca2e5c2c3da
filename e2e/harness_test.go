package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/status"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

// bins holds the binaries built once for the package.
var bins struct {
	once sync.Once
	dir  string
	err  error
}

func binary(t *testing.T, name string) string {
	t.Helper()
	bins.once.Do(func() {
		bins.dir, bins.err = os.MkdirTemp("", "boxfw-e2e-bin")
		if bins.err != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", bins.dir+"/", "./cmd/boxd", "./cmd/camsim", "./cmd/cloudsim", "./cmd/demo")
		cmd.Dir = testenv.RepoRoot(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			bins.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, bins.err)
	return filepath.Join(bins.dir, name)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.dir != "" {
		_ = os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

// proc is a child process with its output kept for assertions and failure logs.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary(t, name), args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	require.NoError(t, p.cmd.Start())
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s output (last 60 lines):\n%s", name, lastLines(p.output(), 60))
		}
	})
	return p
}

func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// term sends SIGTERM and waits for a clean exit.
func (p *proc) term(t *testing.T, timeout time.Duration) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.done:
		require.Equal(t, 0, p.cmd.ProcessState.ExitCode(), "exit status after SIGTERM")
	case <-time.After(timeout):
		t.Fatalf("no exit %s after SIGTERM", timeout)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// camera is a camsim process.
type camera struct {
	*proc
	rtsp, http string
}

func startCamera(t *testing.T, extra []string, channels ...string) *camera {
	t.Helper()
	c := &camera{rtsp: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), http: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}
	args := append([]string{"--rtsp", c.rtsp, "--http", c.http, "--media-dir",
		filepath.Join(testenv.RepoRoot(t), "testdata", "media"), "--log-level", "warn"}, extra...)
	for _, ch := range channels {
		args = append(args, "--channel", ch)
	}
	c.proc = startProc(t, "camsim", args...)
	testenv.WaitTCP(t, c.rtsp, 20*time.Second)
	testenv.WaitTCP(t, c.http, 20*time.Second)
	return c
}

// trigger starts an event on the camera through its control API.
func (c *camera) trigger(t *testing.T, channel int, typ string, seconds float64) {
	t.Helper()
	body := fmt.Sprintf(`{"channel":%d,"type":%q,"seconds":%g}`, channel, typ, seconds)
	resp, err := http.Post("http://"+c.http+"/sim/events", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "trigger: %s", msg)
}

// box is a boxd process.
type box struct {
	*proc
	t      *testing.T
	config string
	status string
}

// boxConfig writes a box.yaml for camera cam with the given channel lines.
func boxConfig(t *testing.T, dir string, minio *testenv.MinIO, cam *camera, extra string, channels string) (path, statusAddr string) {
	t.Helper()
	statusAddr = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	camHost, camHTTP, _ := strings.Cut(cam.http, ":")
	_, camRTSP, _ := strings.Cut(cam.rtsp, ":")
	endpoint := ""
	if minio != nil {
		endpoint = minio.Endpoint
	}
	cfg := fmt.Sprintf(`box:
  serial: PCBE2E0001
  data_dir: %s
status:
  listen: %s
log:
  level: info
  format: json
clips:
  pre_roll: 2s
  post_roll: 2s
  quiet: 3s
ingest:
  backoff_min: 200ms
  backoff_max: 2s
uplink:
  endpoint: %s
  bucket: clips
  prefix: e2e
  access_key: boxfwtest
  secret_key: boxfwtestsecret
  concurrency: 1
devices:
  - name: cam
    host: %s
    http_port: %s
    rtsp_port: %s
    user: admin
    password: Admin12345
%s
channels:
%s`, filepath.Join(dir, "data"), statusAddr, endpoint, camHost, camHTTP, camRTSP, extra, channels)
	path = filepath.Join(dir, "box.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	return path, statusAddr
}

func startBox(t *testing.T, config, statusAddr string) *box {
	t.Helper()
	b := &box{proc: startProc(t, "boxd", "run", "--config", config), t: t, config: config, status: statusAddr}
	testenv.WaitTCP(t, statusAddr, 20*time.Second)
	return b
}

func (b *box) snapshot() status.Snapshot {
	b.t.Helper()
	resp, err := http.Get("http://" + b.status + "/v1/status")
	require.NoError(b.t, err)
	defer resp.Body.Close()
	var s status.Snapshot
	require.NoError(b.t, json.NewDecoder(resp.Body).Decode(&s))
	return s
}

// waitFor polls the box status until cond holds.
func (b *box) waitFor(what string, timeout time.Duration, cond func(status.Snapshot) bool) status.Snapshot {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := b.snapshot()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			raw, _ := json.MarshalIndent(s, "", "  ")
			b.t.Fatalf("timed out after %s waiting for %s; status:\n%s", timeout, what, raw)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// logRecords returns the box's JSON log records whose msg is msg.
func logRecords(output, msg string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func s3Client(t *testing.T, m *testenv.MinIO) *s3.Client {
	t.Helper()
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(m.Endpoint), Region: "us-east-1", UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(m.AccessKey, m.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// object is one clip found in the bucket, its content checked against its metadata.
type object struct {
	Key      string
	Meta     map[string]string
	SHA256   string // of the content, computed here
	Path     string // downloaded copy
	Modified time.Time
}

// objects downloads every object under prefix and verifies each SHA-256.
func objects(t *testing.T, m *testenv.MinIO, bucket, prefix string) []object {
	t.Helper()
	c := s3Client(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	require.NoError(t, err)
	dir := t.TempDir()
	var out []object
	for i, o := range list.Contents {
		get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		require.NoError(t, err)
		path := filepath.Join(dir, fmt.Sprintf("%03d.mp4", i))
		f, err := os.Create(path)
		require.NoError(t, err)
		h := sha256.New()
		_, err = io.Copy(io.MultiWriter(f, h), get.Body)
		get.Body.Close()
		f.Close()
		require.NoError(t, err)
		obj := object{Key: *o.Key, Meta: get.Metadata, SHA256: hex.EncodeToString(h.Sum(nil)), Path: path, Modified: *o.LastModified}
		require.Equal(t, obj.Meta["sha256"], obj.SHA256, "object %s: content does not match its sha256 metadata", obj.Key)
		out = append(out, obj)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
}

// waitLogs waits until the box has logged at least n records with msg (its output
// reaches the test through a pipe, a little after /v1/status shows the effect).
func (b *box) waitLogs(msg string, n int) []map[string]any {
	b.t.Helper()
	var recs []map[string]any
	require.Eventually(b.t, func() bool {
		recs = logRecords(b.output(), msg)
		return len(recs) >= n
	}, 10*time.Second, 50*time.Millisecond, "%d log records %q", n, msg)
	return recs
}
