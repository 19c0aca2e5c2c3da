package camsim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/internal/testenv"
)

// startSim starts a simulator on loopback with the repo's media and stops it on
// cleanup.
func startSim(t *testing.T, cfg Config) *Sim {
	t.Helper()
	if cfg.MediaDir == "" {
		cfg.MediaDir = filepath.Join(testenv.RepoRoot(t), "testdata", "media")
	}
	s, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// tWriter sends log lines to the test log, so they show only on failure.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// fakeClock is a manually advanced Clock.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 1, 1, 3, 46, 31, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
			continue
		}
		kept = append(kept, w)
	}
	c.waiters = kept
}

// digestClient does ISAPI requests the way the box does: one unauthenticated try,
// then Digest with the challenge's nonce, cached for later requests.
type digestClient struct {
	user, pass string
	client     *http.Client
	realm      string
	nonce      string
	nc         int
}

func newDigestClient(user, pass string) *digestClient {
	return &digestClient{user: user, pass: pass, client: &http.Client{}}
}

func (d *digestClient) authorize(req *http.Request) {
	if d.nonce == "" {
		return
	}
	d.nc++
	nc := fmt.Sprintf("%08x", d.nc)
	cnonce := "0a4f113b"
	ha1 := md5hex(d.user + ":" + d.realm + ":" + d.pass)
	ha2 := md5hex(req.Method + ":" + req.URL.RequestURI())
	resp := md5hex(ha1 + ":" + d.nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	req.Header.Set("Authorization", fmt.Sprintf(
		`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="%s", response="%s"`,
		d.user, d.realm, d.nonce, req.URL.RequestURI(), nc, cnonce, resp))
}

// get returns the final response, re-authenticating once on a 401.
func (d *digestClient) get(t *testing.T, ctx context.Context, url string) *http.Response {
	t.Helper()
	for try := 0; ; try++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		require.NoError(t, err)
		d.authorize(req)
		resp, err := d.client.Do(req)
		require.NoError(t, err)
		if resp.StatusCode != http.StatusUnauthorized || try == 1 {
			return resp
		}
		d.learn(resp)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func (d *digestClient) learn(resp *http.Response) {
	_, params, _ := strings.Cut(resp.Header.Get("WWW-Authenticate"), " ")
	p := parseAuthParams(params)
	d.realm, d.nonce, d.nc = p["realm"], p["nonce"], 0
}

// getBody is get for small documents.
func (d *digestClient) getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp := d.get(t, context.Background(), url)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// streamBuffer collects a never-ending body in the background.
type streamBuffer struct {
	mu   sync.Mutex
	buf  []byte
	done bool
}

func readStream(r io.Reader) *streamBuffer {
	sb := &streamBuffer{}
	go func() {
		p := make([]byte, 4096)
		for {
			n, err := r.Read(p)
			sb.mu.Lock()
			sb.buf = append(sb.buf, p[:n]...)
			if err != nil {
				sb.done = true
			}
			sb.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return sb
}

func (sb *streamBuffer) String() string {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return string(sb.buf)
}

func (sb *streamBuffer) ended() bool {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.done
}

// waitFor waits until the stream holds n occurrences of sub.
func (sb *streamBuffer) waitFor(t *testing.T, sub string, n int, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := sb.String()
		if strings.Count(s, sub) >= n {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d× %q after %s; got:\n%s", n, sub, timeout, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
