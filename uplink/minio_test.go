package uplink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/anr"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

func minioClient(t *testing.T, m *testenv.MinIO) *s3.Client {
	t.Helper()
	c, err := NewClient(context.Background(), ClientConfig{Endpoint: m.Endpoint, AccessKey: m.AccessKey, SecretKey: m.SecretKey})
	require.NoError(t, err)
	return c
}

// minioUploader makes an uploader on its own fresh bucket.
func minioUploader(t *testing.T, client S3, bucket string, q Queue, mod func(*Options)) *Uploader {
	t.Helper()
	o := Options{Client: client, Bucket: bucket, Prefix: "clips", Serial: "BX1", Queue: q,
		MultipartThreshold: MinPartSize, PartSize: MinPartSize}
	if mod != nil {
		mod(&o)
	}
	u, err := New(o)
	require.NoError(t, err)
	require.NoError(t, u.EnsureBucket(context.Background()))
	return u
}

// getObject fetches an object and returns its sha256 and metadata.
func getObject(t *testing.T, client *s3.Client, bucket, key string) (string, *s3.GetObjectOutput) {
	t.Helper()
	out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	require.NoError(t, err)
	defer out.Body.Close()
	h := sha256.New()
	_, err = io.Copy(h, out.Body)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil)), out
}

func listKeys(t *testing.T, client *s3.Client, bucket string) []string {
	t.Helper()
	out, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket})
	require.NoError(t, err)
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// faultyS3 wraps the real client: it fails UploadPart for one part number (once) and
// records the UploadIds the parts went to.
type faultyS3 struct {
	S3
	mu        sync.Mutex
	failPart  int32
	uploadIDs map[string]int
}

func (f *faultyS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	f.mu.Lock()
	if f.uploadIDs == nil {
		f.uploadIDs = map[string]int{}
	}
	f.uploadIDs[aws.ToString(in.UploadId)]++
	fail := aws.ToInt32(in.PartNumber) == f.failPart
	if fail {
		f.failPart = 0
	}
	f.mu.Unlock()
	if fail {
		return nil, fmt.Errorf("injected: %w", syscall.ECONNRESET)
	}
	return f.S3.UploadPart(ctx, in, opts...)
}

func TestMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	client := minioClient(t, m)
	ctx := context.Background()

	t.Run("credentials from the environment chain", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", m.AccessKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", m.SecretKey)
		t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
		envClient, err := NewClient(ctx, ClientConfig{Endpoint: m.Endpoint})
		require.NoError(t, err)
		u := minioUploader(t, envClient, "envcreds", nil, nil)
		_, err = u.Upload(ctx, writeClip(t, t.TempDir(), "env", 1, t0, []byte("x")))
		require.NoError(t, err)

		bad, err := NewClient(ctx, ClientConfig{Endpoint: m.Endpoint, AccessKey: "nobody", SecretKey: "wrongwrong"})
		require.NoError(t, err)
		ub, err := New(Options{Client: bad, Bucket: "envcreds", Serial: "BX1"})
		require.NoError(t, err)
		_, err = ub.Upload(ctx, writeClip(t, t.TempDir(), "bad", 1, t0, []byte("x")))
		assert.Equal(t, ClassFatal, Classify(err), "%v", err)
	})

	t.Run("small clip with metadata and sha256", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		c := writeClip(t, dir, "small1", 2, t0, pattern(300<<10, 1))
		c.EventTypes = []string{"VMD", "linedetection"}
		u := minioUploader(t, client, "small", nil, nil)
		res, err := u.Upload(ctx, c)
		require.NoError(t, err)
		assert.Equal(t, "clips/BX1/ch02/2026/03/01/20260301T100000Z_linedetection-vmd_small1.mp4", res.Key)
		assert.Positive(t, u.Stats().Throughput, "body bytes counted in the window")
		sum, out := getObject(t, client, "small", res.Key)
		assert.Equal(t, c.SHA256, sum)
		assert.Equal(t, "video/mp4", aws.ToString(out.ContentType))
		assert.Equal(t, map[string]string{"sha256": c.SHA256, "clip-id": "small1", "channel": "2",
			"event-types": "VMD,linedetection", "start": "2026-03-01T10:00:00Z", "end": "2026-03-01T10:00:20Z"}, out.Metadata)
	})

	t.Run("retry of an uploaded clip is one object, no error", func(t *testing.T) {
		t.Parallel()
		c := writeClip(t, t.TempDir(), "again", 1, t0, pattern(1000, 2))
		u := minioUploader(t, client, "again", nil, nil)
		first, err := u.Upload(ctx, c)
		require.NoError(t, err)
		second, err := u.Upload(ctx, c)
		require.NoError(t, err)
		assert.False(t, first.AlreadyPresent)
		assert.True(t, second.AlreadyPresent)
		c.Attempts = 1 // a retry HEADs first instead of sending the body
		third, err := u.Upload(ctx, c)
		require.NoError(t, err)
		assert.True(t, third.AlreadyPresent)
		assert.Equal(t, []string{first.Key}, listKeys(t, client, "again"))
	})

	t.Run("conflicting content is ErrConflict and never overwritten", func(t *testing.T) {
		t.Parallel()
		u := minioUploader(t, client, "conflict", newFakeQueue(), nil)
		orig := writeClip(t, t.TempDir(), "same-id", 1, t0, pattern(2000, 3))
		res, err := u.Upload(ctx, orig)
		require.NoError(t, err)
		other := writeClip(t, t.TempDir(), "same-id", 1, t0, pattern(2000, 4))
		_, err = u.Upload(ctx, other)
		require.ErrorIs(t, err, ErrConflict)
		sum, _ := getObject(t, client, "conflict", res.Key)
		assert.Equal(t, orig.SHA256, sum, "original untouched")

		big := writeClip(t, t.TempDir(), "same-id", 1, t0, pattern(6<<20, 5)) // multipart path
		_, err = u.Upload(ctx, big)
		require.ErrorIs(t, err, ErrConflict)
	})

	t.Run("bandwidth cap", func(t *testing.T) {
		t.Parallel()
		u := minioUploader(t, client, "capped", nil, func(o *Options) { o.BandwidthLimit = 1 << 20 })
		dir := t.TempDir()
		start := time.Now()
		for i := range 3 {
			_, err := u.Upload(ctx, writeClip(t, dir, fmt.Sprintf("cap%d", i), 1, t0, pattern(512<<10, byte(i))))
			require.NoError(t, err)
		}
		// 1.5 MiB at 1 MiB/s, less the first quarter-second burst.
		assert.GreaterOrEqual(t, time.Since(start), 1200*time.Millisecond)
	})

	t.Run("corrupt spool file is refused by the server", func(t *testing.T) {
		t.Parallel()
		u := minioUploader(t, client, "corrupt", nil, nil)
		c := writeClip(t, t.TempDir(), "corrupt", 1, t0, pattern(4000, 6))
		c.SHA256 = strings.Repeat("ab", 32) // the spool recorded other bytes than the file holds
		_, err := u.Upload(ctx, c)
		require.Error(t, err)
		assert.Equal(t, ClassClip, Classify(err), "%v", err)
		assert.Empty(t, listKeys(t, client, "corrupt"))
	})

	t.Run("multipart interrupted after part 1 resumes with the same UploadId", func(t *testing.T) {
		t.Parallel()
		c := writeClip(t, t.TempDir(), "big", 3, t0, pattern(12<<20, 7))
		q := newFakeQueue()
		faulty := &faultyS3{S3: client, failPart: 2}
		u1 := minioUploader(t, faulty, "resume", q, nil)
		_, err := u1.Upload(ctx, c)
		require.Error(t, err)
		assert.Equal(t, ClassTransient, Classify(err))

		saved, ok, _ := q.Multipart("big")
		require.True(t, ok, "multipart state persisted")
		require.Len(t, saved.Parts, 1)
		assert.EqualValues(t, MinPartSize, saved.PartSize)
		parts, err := client.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("resume"), Key: &saved.Key, UploadId: &saved.UploadID})
		require.NoError(t, err)
		require.Len(t, parts.Parts, 1)
		assert.Equal(t, saved.Parts[0].ETag, aws.ToString(parts.Parts[0].ETag))

		// A new uploader (as after a restart) continues the saved upload.
		faulty2 := &faultyS3{S3: client}
		u2 := minioUploader(t, faulty2, "resume", q, nil)
		res, err := u2.Upload(ctx, c)
		require.NoError(t, err)
		assert.True(t, res.Resumed)
		assert.True(t, res.Multipart)
		assert.Equal(t, map[string]int{saved.UploadID: 2}, faulty2.uploadIDs, "parts 2 and 3 went to the saved UploadId")
		assert.EqualValues(t, 1, u2.Stats().Resumed)
		_, ok, _ = q.Multipart("big")
		assert.False(t, ok, "state cleared after confirmation")
		sum, out := getObject(t, client, "resume", res.Key)
		assert.Equal(t, c.SHA256, sum)
		assert.Equal(t, c.SHA256, out.Metadata["sha256"])
	})

	t.Run("NoSuchUpload starts over cleanly", func(t *testing.T) {
		t.Parallel()
		c := writeClip(t, t.TempDir(), "gone", 1, t0, pattern(11<<20, 8))
		q := newFakeQueue()
		u1 := minioUploader(t, &faultyS3{S3: client, failPart: 2}, "gone", q, nil)
		_, err := u1.Upload(ctx, c)
		require.Error(t, err)
		saved, ok, _ := q.Multipart("gone")
		require.True(t, ok)
		_, err = client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("gone"), Key: &saved.Key, UploadId: &saved.UploadID})
		require.NoError(t, err)

		faulty := &faultyS3{S3: client}
		u2 := minioUploader(t, faulty, "gone", q, nil)
		res, err := u2.Upload(ctx, c)
		require.NoError(t, err)
		assert.False(t, res.Resumed)
		assert.EqualValues(t, 1, u2.Stats().Restarted)
		assert.NotContains(t, faulty.uploadIDs, saved.UploadID)
		sum, _ := getObject(t, client, "gone", res.Key)
		assert.Equal(t, c.SHA256, sum)
	})

	t.Run("resumed multipart never replaces an object that appeared meanwhile", func(t *testing.T) {
		t.Parallel()
		c := writeClip(t, t.TempDir(), "race", 1, t0, pattern(11<<20, 11))
		q := newFakeQueue()
		u1 := minioUploader(t, &faultyS3{S3: client, failPart: 2}, "race", q, nil)
		_, err := u1.Upload(ctx, c)
		require.Error(t, err)
		key, _ := u1.Key(c)
		_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("race"), Key: &key, Body: strings.NewReader("someone else")})
		require.NoError(t, err)

		u2 := minioUploader(t, client, "race", q, nil)
		_, err = u2.Upload(ctx, c)
		require.ErrorIs(t, err, ErrConflict)
		_, out := getObject(t, client, "race", key)
		assert.EqualValues(t, len("someone else"), aws.ToInt64(out.ContentLength), "not overwritten")
		_, ok, _ := q.Multipart("race")
		assert.False(t, ok, "the dead upload is forgotten")
	})

	t.Run("completed multipart whose success was not recorded", func(t *testing.T) {
		t.Parallel()
		c := writeClip(t, t.TempDir(), "done", 1, t0, pattern(6<<20, 9))
		q := newFakeQueue()
		u := minioUploader(t, client, "done", q, nil)
		res, err := u.Upload(ctx, c)
		require.NoError(t, err)
		// Pretend the process died after Complete but before clearing its state.
		require.NoError(t, q.SaveMultipart("done", anr.Multipart{Key: res.Key, UploadID: "gone-upload-id", PartSize: MinPartSize}))
		again, err := u.Upload(ctx, c)
		require.NoError(t, err)
		assert.True(t, again.AlreadyPresent)
		assert.Equal(t, []string{res.Key}, listKeys(t, client, "done"))
	})

	t.Run("AbortStale aborts only old, unreferenced uploads of this box", func(t *testing.T) {
		t.Parallel()
		u := minioUploader(t, client, "stale", nil, nil)
		start := func(key string) string {
			out, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("stale"), Key: &key})
			require.NoError(t, err)
			return aws.ToString(out.UploadId)
		}
		orphan := start("clips/BX1/ch01/2026/03/01/a.mp4")
		kept := start("clips/BX1/ch01/2026/03/01/b.mp4")
		otherBox := start("clips/BX2/ch01/2026/03/01/c.mp4")

		n, err := u.AbortStale(ctx, time.Hour, nil)
		require.NoError(t, err)
		assert.Zero(t, n, "nothing is an hour old yet")

		later := newTestUploader(t, client, nil, offsetClock{2 * time.Hour}, func(o *Options) { o.Bucket = "stale" })
		n, err = later.AbortStale(ctx, time.Hour, func(key, id string) bool { return id == kept })
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		out, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("stale")})
		require.NoError(t, err)
		var left []string
		for _, up := range out.Uploads {
			left = append(left, aws.ToString(up.UploadId))
		}
		assert.ElementsMatch(t, []string{kept, otherBox}, left)
		assert.NotContains(t, left, orphan)
	})
}

// offsetClock is the wall clock shifted, to make fresh uploads look old.
type offsetClock struct{ d time.Duration }

func (c offsetClock) Now() time.Time                         { return time.Now().Add(c.d) }
func (c offsetClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func TestMinIOOutage(t *testing.T) {
	m := testenv.StartMinIO(t)
	client := minioClient(t, m)
	dir := t.TempDir()
	q := newFakeQueue()
	u := minioUploader(t, client, "outage", q, func(o *Options) {
		o.Backoff = Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}
		o.ClipBackoff = Backoff{Initial: 5 * time.Second, Max: time.Minute}
	})
	for i := range 3 {
		q.Add(writeClip(t, dir, fmt.Sprintf("pre%d", i), 1, t0.Add(time.Duration(i)*time.Second), pattern(64<<10, byte(i))))
	}
	startRun(t, u)
	require.Eventually(t, func() bool { _, _, n := q.snapshot(); return n == 3 }, 10*time.Second, 10*time.Millisecond)

	t0s := time.Now()
	m.Stop()
	t.Logf("minio stop took %s", time.Since(t0s))
	for i := range 20 {
		q.Add(writeClip(t, dir, fmt.Sprintf("during%02d", i), 1+i%4, t0.Add(time.Hour+time.Duration(i)*time.Second), pattern(200<<10, byte(i+10))))
	}
	require.Eventually(t, func() bool { return u.Stats().State == StateDown }, 15*time.Second, 10*time.Millisecond)
	t.Logf("down after %s", time.Since(t0s))
	time.Sleep(500 * time.Millisecond) // a few probe rounds
	st := u.Stats()
	pending, uploading, uploaded := q.snapshot()
	assert.Equal(t, 3, uploaded)
	assert.Equal(t, 20, pending+uploading, "every clip of the outage is still in the spool")
	assert.Positive(t, st.Probes)
	assert.LessOrEqual(t, st.Failures.Transient, int64(5), "while down it probes instead of pulling clips")

	t0r := time.Now()
	m.Restart(t)
	t.Logf("minio restart took %s", time.Since(t0r))
	t0r = time.Now()
	defer func() { t.Logf("drain after restart took %s", time.Since(t0r)) }()
	// Transient cooldowns (5s here) are forgiven on recovery: the drain is immediate.
	require.Eventually(t, func() bool { _, _, n := q.snapshot(); return n == 23 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, StateOK, u.Stats().State)
	assert.Len(t, listKeys(t, client, "outage"), 23)
}
