package anr

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// testClock is a manual clock: tests move time explicitly.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond) // distinct, increasing IDs
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// openTest opens a spool in dir and registers Close and the invariant check on cleanup.
func openTest(t *testing.T, dir string, opts Options, clock *testClock, fsys fileSystem) *Spool {
	t.Helper()
	if fsys == nil {
		fsys = osFS{}
	}
	s, err := openFS(dir, opts, testLogger(t), clock.Now, fsys)
	require.NoError(t, err)
	t.Cleanup(func() {
		checkInvariants(t, s)
		_ = s.Close()
	})
	return s
}

// checkInvariants: every live record has a file of the recorded size and the
// in-memory view matches the index; used equals the sum of live sizes.
func checkInvariants(t *testing.T, s *Spool) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	var used int64
	for id, c := range s.live {
		require.True(t, c.live(), "clip %s in live map with state %s", id, c.State)
		fi, err := os.Stat(c.Path)
		require.NoError(t, err, "live clip %s has no file", id)
		require.Equal(t, c.Size, fi.Size(), "clip %s size", id)
		used += c.Size
	}
	require.Equal(t, used, s.used, "used bytes")
	recs := map[string]Clip{}
	require.NoError(t, s.db.View(func(tx *bbolt.Tx) error { return forEachClip(tx, func(c Clip) { recs[c.ID] = c }) }))
	for id, r := range recs {
		c, ok := s.live[id]
		require.Equal(t, r.live(), ok, "record %s (%s) vs live map", id, r.State)
		if ok {
			require.Equal(t, r.State, c.State, "state of %s", id)
		}
	}
}

// content is deterministic pseudo-random data (8 bytes per step: cheap under -race).
func content(seed, size int) []byte {
	b := make([]byte, (size+7)&^7)
	x := uint64(seed)*0x9E3779B97F4A7C15 + 1
	for i := 0; i < len(b); i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		binary.LittleEndian.PutUint64(b[i:], x)
	}
	return b[:size]
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// t0() is the base event time of test clips.
func t0() time.Time { return time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC) }

func meta(ch int, startSec int, events ...string) ClipMeta {
	return ClipMeta{Channel: ch, EventTypes: events, Start: t0().Add(time.Duration(startSec) * time.Second),
		End: t0().Add(time.Duration(startSec+10) * time.Second)}
}

func mustAdd(t *testing.T, s *Spool, m ClipMeta, data []byte) Clip {
	t.Helper()
	c, err := s.Add(context.Background(), m, bytes.NewReader(data))
	require.NoError(t, err)
	return c
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	return b
}
