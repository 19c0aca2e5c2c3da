package uplink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/anr"
)

// fakeQueue is an in-memory spool: oldest clip first, a released clip goes back in
// its place.
type fakeQueue struct {
	mu        sync.Mutex
	changed   chan struct{}
	pending   []anr.Clip
	uploading map[string]anr.Clip
	uploaded  map[string]string // id -> key
	releases  map[string][]error
	multipart map[string]anr.Multipart
	saves     int
	nexts     int
}

func newFakeQueue(clips ...anr.Clip) *fakeQueue {
	return &fakeQueue{changed: make(chan struct{}), pending: clips, uploading: map[string]anr.Clip{},
		uploaded: map[string]string{}, releases: map[string][]error{}, multipart: map[string]anr.Multipart{}}
}

func (q *fakeQueue) notifyLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

func (q *fakeQueue) Add(c anr.Clip) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, c)
	q.notifyLocked()
}

func (q *fakeQueue) Next(ctx context.Context) (anr.Clip, error) {
	for {
		q.mu.Lock()
		if len(q.pending) > 0 {
			c := q.pending[0]
			q.pending = q.pending[1:]
			q.uploading[c.ID] = c
			q.nexts++
			q.mu.Unlock()
			return c, nil
		}
		ch := q.changed
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return anr.Clip{}, ctx.Err()
		}
	}
}

func (q *fakeQueue) Uploaded(id, key string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.uploading[id]; !ok {
		return errors.New("fake queue: uploaded a clip that is not uploading: " + id)
	}
	delete(q.uploading, id)
	delete(q.multipart, id)
	q.uploaded[id] = key
	q.notifyLocked()
	return nil
}

func (q *fakeQueue) Release(id string, cause error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	c, ok := q.uploading[id]
	if !ok {
		return errors.New("fake queue: released a clip that is not uploading: " + id)
	}
	delete(q.uploading, id)
	q.releases[id] = append(q.releases[id], cause)
	q.pending = append(q.pending, c)
	slices.SortStableFunc(q.pending, func(a, b anr.Clip) int { return a.Created.Compare(b.Created) })
	q.notifyLocked()
	return nil
}

func (q *fakeQueue) Multipart(id string) (anr.Multipart, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	m, ok := q.multipart[id]
	m.Parts = slices.Clone(m.Parts)
	return m, ok, nil
}

func (q *fakeQueue) SaveMultipart(id string, m anr.Multipart) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	m.Parts = slices.Clone(m.Parts)
	q.multipart[id] = m
	q.saves++
	return nil
}

func (q *fakeQueue) ClearMultipart(id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.multipart, id)
	return nil
}

// snapshot returns counts for assertions.
func (q *fakeQueue) snapshot() (pending, uploading, uploaded int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending), len(q.uploading), len(q.uploaded)
}

func (q *fakeQueue) releaseCount(id string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.releases[id])
}

func (q *fakeQueue) lastRelease(id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	r := q.releases[id]
	if len(r) == 0 {
		return nil
	}
	return r[len(r)-1]
}

// fakeClock is a manual clock: After fires only when Advance passes its deadline. With
// auto set, After advances the clock itself and fires at once (sleeps cost nothing).
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	auto    bool
	slept   time.Duration
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(auto bool) *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), auto: auto}
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
	if c.auto {
		c.now = c.now.Add(d)
		c.slept += d
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
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
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func (c *fakeClock) waiterCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// fakeS3 stores single-PUT objects in memory; fail, when set, decides an error per
// operation. Multipart operations are not faked (the MinIO tests cover them).
type fakeS3 struct {
	S3 // nil: calling an unfaked operation panics, which a test would notice

	mu      sync.Mutex
	objects map[string]fakeObject
	puts    map[string]int
	fail    func(op, key string) error
}

type fakeObject struct {
	data []byte
	meta map[string]string
}

func newFakeS3() *fakeS3 {
	return &fakeS3{objects: map[string]fakeObject{}, puts: map[string]int{}}
}

func (f *fakeS3) setFail(fn func(op, key string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fn
}

func (f *fakeS3) check(op, key string) error {
	f.mu.Lock()
	fn := f.fail
	f.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(op, key)
}

func (f *fakeS3) HeadBucket(ctx context.Context, in *s3.HeadBucketInput, _ ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	if err := f.check("HeadBucket", ""); err != nil {
		return nil, err
	}
	return &s3.HeadBucketOutput{}, nil
}

func (f *fakeS3) PutObject(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	key := aws.ToString(in.Key)
	if err := f.check("PutObject", key); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts[key]++
	if _, ok := f.objects[key]; ok && aws.ToString(in.IfNoneMatch) == "*" {
		return nil, &smithy.GenericAPIError{Code: "PreconditionFailed"}
	}
	f.objects[key] = fakeObject{data: data, meta: in.Metadata}
	return &s3.PutObjectOutput{}, nil
}

func (f *fakeS3) HeadObject(ctx context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	key := aws.ToString(in.Key)
	if err := f.check("HeadObject", key); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objects[key]
	if !ok {
		return nil, &types.NotFound{}
	}
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(int64(len(o.data))), Metadata: o.meta}, nil
}

func (f *fakeS3) putCount(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.puts[key]
}

func (f *fakeS3) objectCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.objects)
}

// writeClip writes data as a spool file and returns its clip record.
func writeClip(t testing.TB, dir, id string, channel int, start time.Time, data []byte) anr.Clip {
	t.Helper()
	p := filepath.Join(dir, id+".mp4")
	require.NoError(t, os.WriteFile(p, data, 0o644))
	sum := sha256.Sum256(data)
	return anr.Clip{ID: id, Channel: channel, EventTypes: []string{"VMD"}, Start: start, End: start.Add(20 * time.Second),
		Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Path: p, State: anr.StatePending, Created: start}
}

// pattern returns n deterministic bytes that differ per seed.
func pattern(n int, seed byte) []byte {
	b := bytes.Repeat([]byte{seed, seed + 1, seed + 2, seed + 3, 0x55, 0xaa, seed ^ 0x5a}, n/7+1)
	return b[:n]
}
