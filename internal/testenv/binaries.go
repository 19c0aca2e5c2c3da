package testenv

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// builds caches the project's own binaries, built once per test process.
var builds sync.Map // package path -> *build

type build struct {
	once sync.Once
	path string
	err  error
}

// Binary builds ./cmd/<name> of this repository once per test process and returns
// the executable's path. Tests run the box and the simulators as processes: the box
// never imports simulator code, they meet over the wire.
func Binary(t testing.TB, name string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(name, &build{})
	b := v.(*build)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "boxfw-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", b.path, "./cmd/"+name)
		cmd.Dir = RepoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build ./cmd/%s: %w\n%s", name, err, out)
		}
	})
	if b.err != nil {
		t.Fatalf("testenv: %v", b.err)
	}
	return b.path
}

// Camsim is a device simulator process (cmd/camsim).
type Camsim struct {
	*Process
	RTSP string // host:port
	HTTP string // host:port of ISAPI and the /sim/ control API
}

// StartCamsim starts cmd/camsim on free 127.0.0.1 ports with the repository's media,
// user admin and the given password, one --channel per entry of channels
// ("main.h264[,sub.h264]"), plus extra flags.
func StartCamsim(t testing.TB, password string, channels []string, extra ...string) *Camsim {
	t.Helper()
	c := &Camsim{RTSP: fmt.Sprintf("127.0.0.1:%d", FreePort(t)), HTTP: fmt.Sprintf("127.0.0.1:%d", FreePort(t))}
	args := []string{"--rtsp", c.RTSP, "--http", c.HTTP, "--media-dir", filepath.Join(RepoRoot(t), "testdata", "media"),
		"--password", password, "--log-level", "warn"}
	for _, ch := range channels {
		args = append(args, "--channel", ch)
	}
	c.Process = start(t, exec.Command(Binary(t, "camsim"), append(args, extra...)...))
	WaitTCP(t, c.RTSP, 20*time.Second)
	WaitTCP(t, c.HTTP, 20*time.Second)
	return c
}

// Knob posts to the simulator's control API, e.g. Knob(t, "/sim/streams/1/restart").
func (c *Camsim) Knob(t testing.TB, path string) {
	t.Helper()
	resp, err := http.Post("http://"+c.HTTP+path, "application/json", nil)
	if err != nil {
		t.Fatalf("testenv: camsim %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("testenv: camsim %s: %s", path, resp.Status)
	}
}
