package uplink

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/anr"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func newTestUploader(t *testing.T, client S3, q Queue, clock Clock, mod func(*Options)) *Uploader {
	t.Helper()
	o := Options{Client: client, Bucket: "b", Prefix: "clips", Serial: "BX1", Queue: q, Clock: clock,
		Rand: func() float64 { return 0 }}
	if mod != nil {
		mod(&o)
	}
	u, err := New(o)
	require.NoError(t, err)
	return u
}

// startRun runs u until the test ends and checks Run returned nil.
func startRun(t *testing.T, u *Uploader) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { assert.NoError(t, u.Run(ctx)) })
	stop = func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return stop
}

func TestStateTransitions(t *testing.T) {
	transient := errors.New("dial: " + syscall.ECONNREFUSED.Error())
	steps := []struct {
		name  string
		class Class
		want  State
	}{
		{"first transient failure degrades", ClassTransient, StateDegraded},
		{"second still degraded", ClassTransient, StateDegraded},
		{"third goes down", ClassTransient, StateDown},
		{"success recovers", -1, StateOK},
		{"clip error leaves the state alone", ClassClip, StateOK},
		{"fatal goes down at once", ClassFatal, StateDown},
		{"success recovers again", -1, StateOK},
	}
	dir := t.TempDir()
	q := newFakeQueue()
	u := newTestUploader(t, newFakeS3(), q, newFakeClock(true), nil)
	ctx := context.Background()
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			c := writeClip(t, dir, "c"+string(rune('a'+i)), 1, t0, []byte("x"))
			q.Add(c)
			got, err := q.Next(ctx)
			require.NoError(t, err)
			switch s.class {
			case -1:
				u.succeeded(got, Result{Key: "k", Size: 1})
			case ClassTransient:
				u.failed(ctx, got, transient)
			case ClassClip:
				u.failed(ctx, got, ErrConflict)
			case ClassFatal:
				u.failed(ctx, got, apiErr("AccessDenied"))
			}
			assert.Equal(t, s.want, u.Stats().State)
		})
	}
	st := u.Stats()
	assert.EqualValues(t, Failures{Transient: 3, Fatal: 1, Clip: 1}, st.Failures)
	assert.EqualValues(t, 2, st.Uploaded)
}

func TestRunOutageAndRecovery(t *testing.T) {
	dir := t.TempDir()
	fs3 := newFakeS3()
	var down sync.Mutex
	isDown := true
	fs3.setFail(func(op, key string) error {
		down.Lock()
		defer down.Unlock()
		if isDown {
			return syscall.ECONNREFUSED
		}
		return nil
	})
	var clips []anr.Clip
	for i := range 5 {
		clips = append(clips, writeClip(t, dir, "clip"+string(rune('0'+i)), 1, t0.Add(time.Duration(i)*time.Minute), pattern(1000, byte(i))))
	}
	q := newFakeQueue(clips...)
	var hookMu sync.Mutex
	var hooked []string
	u := newTestUploader(t, fs3, q, newFakeClock(true), func(o *Options) {
		o.OnUploaded = func(c anr.Clip, key string) { hookMu.Lock(); hooked = append(hooked, key); hookMu.Unlock() }
	})
	startRun(t, u)

	require.Eventually(t, func() bool { return u.Stats().State == StateDown }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return u.Stats().Probes >= 3 }, 5*time.Second, time.Millisecond)
	pending, _, uploaded := q.snapshot()
	assert.Zero(t, uploaded, "nothing leaves the spool while down")
	assert.GreaterOrEqual(t, pending, 3, "clips stay pending while down (at most the workers' clips are out)")
	fails := u.Stats().Failures.Transient
	assert.LessOrEqual(t, fails, int64(4), "while down the workers probe instead of pulling clips")

	down.Lock()
	isDown = false
	down.Unlock()
	require.Eventually(t, func() bool { _, _, n := q.snapshot(); return n == 5 }, 5*time.Second, time.Millisecond)
	st := u.Stats()
	assert.Equal(t, StateOK, st.State)
	assert.EqualValues(t, 5, st.Uploaded)
	assert.EqualValues(t, 5000, st.Bytes)
	hookMu.Lock()
	assert.Len(t, hooked, 5)
	hookMu.Unlock()
	assert.Equal(t, 5, fs3.objectCount())
}

func TestRunClipErrorIsHeldNotHammered(t *testing.T) {
	dir := t.TempDir()
	bad := writeClip(t, dir, "bad", 1, t0, []byte("bad"))
	bad.Path += ".missing" // the file vanished
	good := writeClip(t, dir, "good", 1, t0.Add(time.Minute), []byte("good"))
	q := newFakeQueue(bad, good)
	clock := newFakeClock(false)
	u := newTestUploader(t, newFakeS3(), q, clock, func(o *Options) { o.Concurrency = 1 })
	startRun(t, u)

	require.Eventually(t, func() bool { _, _, n := q.snapshot(); return n == 1 }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return u.Stats().Held == 1 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, 1, q.releaseCount("bad"))
	assert.ErrorIs(t, q.lastRelease("bad"), ErrClipUnreadable)
	assert.EqualValues(t, 1, u.Stats().Failures.Clip)
	assert.Equal(t, StateOK, u.Stats().State, "one bad clip does not make the store look down")

	// After its cooldown (10s, jitter 0) the clip is tried once more, then waits 20s.
	require.Eventually(t, func() bool { return clock.waiterCount() > 0 }, 5*time.Second, time.Millisecond)
	clock.Advance(10 * time.Second)
	require.Eventually(t, func() bool { return q.releaseCount("bad") == 2 }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return u.Stats().Held == 1 }, 5*time.Second, time.Millisecond)
	clock.Advance(15 * time.Second)
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, 2, q.releaseCount("bad"), "second cooldown is longer")
}

func TestRunNotSubscribedChannelIsNeverUploaded(t *testing.T) {
	dir := t.TempDir()
	q := newFakeQueue(writeClip(t, dir, "ch2", 2, t0, []byte("a")), writeClip(t, dir, "ch1", 1, t0.Add(time.Second), []byte("b")))
	fs3 := newFakeS3()
	u := newTestUploader(t, fs3, q, newFakeClock(false), func(o *Options) {
		o.Allowed = func(ch int) bool { return ch == 1 }
	})
	startRun(t, u)
	require.Eventually(t, func() bool { _, _, n := q.snapshot(); return n == 1 }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return u.Stats().Held == 1 }, 5*time.Second, time.Millisecond)
	assert.ErrorIs(t, q.lastRelease("ch2"), ErrNotSubscribed)
	assert.EqualValues(t, 1, u.Stats().NotSubscribed)
	assert.Equal(t, 1, fs3.objectCount())
}

func TestRunIdempotentRetryAndConflictSuffix(t *testing.T) {
	dir := t.TempDir()
	fs3 := newFakeS3()
	clock := newFakeClock(true)
	c := writeClip(t, dir, "c1", 1, t0, []byte("first"))
	u := newTestUploader(t, fs3, newFakeQueue(), clock, nil)
	ctx := context.Background()
	r1, err := u.Upload(ctx, c)
	require.NoError(t, err)
	r2, err := u.Upload(ctx, c)
	require.NoError(t, err)
	assert.True(t, r2.AlreadyPresent)
	assert.Equal(t, r1.Key, r2.Key)
	assert.Equal(t, 1, fs3.objectCount())

	other := writeClip(t, t.TempDir(), "c1", 1, t0, []byte("other content"))
	_, err = u.Upload(ctx, other)
	require.ErrorIs(t, err, ErrConflict)

	q := newFakeQueue(other)
	ru := newTestUploader(t, fs3, q, clock, nil)
	startRun(t, ru)
	require.Eventually(t, func() bool { _, _, n := q.snapshot(); return n == 1 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, ConflictKey(r1.Key, other.SHA256), q.uploaded["c1"])
	assert.EqualValues(t, 1, ru.Stats().Conflicts)
	assert.Equal(t, 2, fs3.objectCount())
}

func TestRunHoldIsBounded(t *testing.T) {
	dir := t.TempDir()
	var clips []anr.Clip
	for i, id := range []string{"a", "b"} {
		c := writeClip(t, dir, id, 1, t0.Add(time.Duration(i)*time.Minute), []byte(id))
		c.Path += ".missing"
		clips = append(clips, c)
	}
	q := newFakeQueue(clips...)
	clock := newFakeClock(false)
	u := newTestUploader(t, newFakeS3(), q, clock, func(o *Options) { o.Concurrency = 1; o.MaxHeld = 1 })
	startRun(t, u)
	// a: failed, re-offered, held. b: failed, re-offered, hold full: released again and
	// the worker pauses (on the manual clock) instead of spinning.
	require.Eventually(t, func() bool { return q.releaseCount("b") == 2 }, 5*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, 2, q.releaseCount("b"), "paused, not spinning")
	assert.Equal(t, 1, q.releaseCount("a"))
	assert.Equal(t, 1, u.Stats().Held)
	assert.ErrorIs(t, q.lastRelease("b"), ErrHeld)
}
