package anr

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const crashChildEnv = "ANR_CRASH_CHILD_DIR"

// crashOpts gives the crash test a small budget so kills also land mid-eviction.
func crashOpts() Options { return Options{MaxBytes: 3 << 20} }

// TestCrashKill9 re-executes the test binary as a child that adds clips (and
// uploads some) as fast as it can, printing "ACK <id> <sha256>" only after Add
// returned and "UPL <id>" after Uploaded returned. The parent SIGKILLs it at random
// moments, reopens the spool and checks that every acknowledged clip is there with
// the right checksum (or uploaded), and that nothing was counted lost.
func TestCrashKill9(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("kill -9 loop skipped in -short")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	acked := map[string]string{} // id -> sha256
	uploaded := map[string]bool{}
	const rounds = 12
	kills := 0
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKill9$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		// Every third round kills at a random moment from exec (often during start-up
		// or Open); the others at a random moment after Open, mid-stream. Timing from
		// the child's own signal keeps the test meaningful on a loaded machine.
		if round%3 != 0 {
			waitOpen(t, lines, 30*time.Second)
		}
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		n := 0
		for line := range lines {
			f := strings.Fields(line)
			switch {
			case len(f) == 3 && f[0] == "ACK":
				acked[f[1]] = f[2]
				n++
			case len(f) == 2 && f[0] == "UPL":
				uploaded[f[1]] = true
			}
		}
		err = cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok && ee.Sys().(syscall.WaitStatus).Signaled() {
			kills++
		}
		t.Logf("round %d: %d clips acknowledged before the kill", round, n)

		s := openTest(t, dir, crashOpts(), newTestClock(), nil)
		recs, err := s.List(Filter{})
		require.NoError(t, err)
		byID := map[string]Clip{}
		for _, c := range recs {
			byID[c.ID] = c
		}
		evicted := 0
		for id, want := range acked {
			c, ok := byID[id]
			require.True(t, ok, "round %d: acknowledged clip %s missing", round, id)
			require.Equal(t, want, c.SHA256, "round %d: record checksum of %s", round, id)
			if uploaded[id] {
				require.Equal(t, StateUploaded, c.State, "round %d: %s", round, id)
				continue
			}
			require.Contains(t, []State{StatePending, StateUploaded, StateEvicted}, c.State, "round %d: %s", round, id)
			if c.State == StateEvicted {
				require.NoFileExists(t, c.Path, "round %d: evicted %s", round, id)
				evicted++
			}
			if c.State == StatePending {
				got, err := hashFileSum(c.Path)
				require.NoError(t, err, "round %d: file of %s", round, id)
				require.Equal(t, want, got, "round %d: file checksum of %s", round, id)
			}
		}
		st := s.Stats()
		require.Zero(t, st.Lost, "round %d: nothing may be lost", round)
		require.LessOrEqual(t, uint64(evicted), st.Evicted, "round %d: every eviction counted", round)
		require.LessOrEqual(t, st.BytesUsed, crashOpts().MaxBytes, "round %d: budget holds after Open", round)
		require.Zero(t, st.Uploading, "round %d: uploading requeued at Open", round)
		checkInvariants(t, s)
		require.NoError(t, s.Close())
	}
	assert.Equal(t, rounds, kills, "every child died by SIGKILL")
	assert.NotEmpty(t, acked, "children acknowledged clips")
	t.Logf("%d clips acknowledged, %d uploaded over %d kills", len(acked), len(uploaded), kills)
	last := openTest(t, dir, crashOpts(), newTestClock(), nil).Stats()
	t.Logf("final: %d pending (%d bytes), %d evicted, %d re-indexed, %d temp files removed",
		last.Pending, last.BytesUsed, last.Evicted, last.Reindexed, last.TempRemoved)
}

// waitOpen consumes lines until the child reports its spool open. Lines before it
// carry no acknowledgements, so dropping them is safe.
func waitOpen(t *testing.T, lines <-chan string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-lines:
			if !ok || l == "OPEN" {
				return
			}
		case <-deadline:
			t.Fatal("child did not open the spool")
		}
	}
}

func hashFileSum(path string) (string, error) {
	_, s, err := hashFile(path)
	return s, err
}

// crashChild runs until killed (or 30 s, so a dead parent cannot leave it behind).
func crashChild(dir string) {
	s, err := Open(dir, crashOpts(), slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	os.Stdout.WriteString("OPEN\n")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		data := content(rng.IntN(1<<30), 1000+rng.IntN(300_000))
		events := []string{"VMD"}
		if rng.IntN(3) == 0 {
			events = []string{"linedetection"}
		}
		c, err := s.Add(context.Background(), ClipMeta{Channel: rng.IntN(8), EventTypes: events,
			Start: time.Now().Add(-time.Minute), End: time.Now()}, bytes.NewReader(data))
		if err != nil {
			fmt.Fprintln(os.Stderr, "child add:", err)
			os.Exit(3)
		}
		os.Stdout.WriteString("ACK " + c.ID + " " + c.SHA256 + "\n")
		if i%3 == 2 {
			n, err := s.Next(context.Background())
			if err != nil {
				os.Exit(4)
			}
			if rng.IntN(4) == 0 {
				_ = s.SaveMultipart(n.ID, Multipart{UploadID: "u"})
				_ = s.Release(n.ID, nil)
				continue
			}
			if err := s.Uploaded(n.ID, "k/"+n.ID); err != nil {
				os.Exit(5)
			}
			os.Stdout.WriteString("UPL " + n.ID + "\n")
		}
	}
	os.Exit(0)
}
