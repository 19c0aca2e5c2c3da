package uplink

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/anr"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

var _ Queue = (*anr.Spool)(nil)

// TestSpoolIntegration drains a real anr.Spool to MinIO across a restart: a multipart
// upload interrupted after part 1 resumes from the spool's saved state with the same
// UploadId, and every clip leaves the spool only once confirmed.
func TestSpoolIntegration(t *testing.T) {
	m := testenv.StartMinIO(t)
	client := minioClient(t, m)
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *anr.Spool {
		sp, err := anr.Open(dir, anr.Options{}, slog.New(slog.DiscardHandler), time.Now)
		require.NoError(t, err)
		return sp
	}
	sp := open()
	src := t.TempDir()
	add := func(ch int, ev string, start time.Time, data []byte) anr.Clip {
		f := writeClip(t, src, "src"+start.Format("150405"), ch, start, data)
		c, err := sp.AddFile(ctx, anr.ClipMeta{Channel: ch, EventTypes: []string{ev}, Start: start, End: start.Add(10 * time.Second)}, f.Path)
		require.NoError(t, err)
		return c
	}
	big := add(1, "linedetection", t0, pattern(11<<20, 1)) // intrusion/line first in the spool's order
	var small []anr.Clip
	for i := range 4 {
		small = append(small, add(2, "VMD", t0.Add(time.Duration(i+1)*time.Minute), pattern(100<<10, byte(10+i))))
	}

	// First life: part 2 of the big clip fails, the clip goes back to the spool.
	faulty := &faultyS3{S3: client, failPart: 2}
	u1 := minioUploader(t, faulty, "spool", sp, nil)
	got, err := sp.Next(ctx)
	require.NoError(t, err)
	require.Equal(t, big.ID, got.ID)
	_, err = u1.Upload(ctx, got)
	require.Error(t, err)
	require.NoError(t, sp.Release(got.ID, err))
	saved, ok, err := sp.Multipart(big.ID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, saved.Parts, 1)
	require.NoError(t, sp.Close())

	// Second life: reopen the spool, drain everything.
	sp = open()
	defer sp.Close()
	faulty2 := &faultyS3{S3: client}
	var hooked []string
	u2 := minioUploader(t, faulty2, "spool", sp, func(o *Options) {
		o.OnUploaded = func(c anr.Clip, key string) { hooked = append(hooked, c.ID) }
		o.Concurrency = 1 // hooked is not locked
	})
	stop := startRun(t, u2)
	require.Eventually(t, func() bool { st := sp.Stats(); return st.Pending == 0 && st.Uploading == 0 }, 20*time.Second, 20*time.Millisecond)
	stop()

	st := u2.Stats()
	assert.EqualValues(t, 5, st.Uploaded)
	assert.EqualValues(t, 1, st.Resumed)
	assert.Equal(t, map[string]int{saved.UploadID: 2}, faulty2.uploadIDs, "the resumed upload kept its UploadId")
	assert.ElementsMatch(t, []string{big.ID, small[0].ID, small[1].ID, small[2].ID, small[3].ID}, hooked)
	assert.Len(t, listKeys(t, client, "spool"), 5)
	for _, c := range append(small, big) {
		_, err := os.Stat(c.Path)
		assert.ErrorIs(t, err, os.ErrNotExist, "spool deleted %s after confirmation", c.ID)
		key, err := u2.Key(c)
		require.NoError(t, err)
		sum, _ := getObject(t, client, "spool", key)
		assert.Equal(t, c.SHA256, sum)
	}
	_, ok, _ = sp.Multipart(big.ID)
	assert.False(t, ok)
}
