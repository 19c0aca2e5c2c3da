package anr

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

func TestRecovery(t *testing.T) {
	dir := t.TempDir()
	clock := newTestClock()
	s, err := openFS(dir, Options{}, testLogger(t), clock.Now, osFS{})
	require.NoError(t, err)
	keep := mustAdd(t, s, meta(1, 0, "VMD"), content(1, 5000))
	up := mustAdd(t, s, meta(1, 1, "fielddetection"), content(2, 5000))
	gone := mustAdd(t, s, meta(2, 2, "VMD"), content(3, 5000))
	short := mustAdd(t, s, meta(2, 3, "VMD"), content(4, 5000))
	done := mustAdd(t, s, meta(2, 4, "VMD"), content(5, 5000))
	c, err := s.Next(context.Background())
	require.NoError(t, err)
	require.Equal(t, up.ID, c.ID)
	require.NoError(t, s.SaveMultipart(up.ID, Multipart{UploadID: "u", Parts: []Part{{Number: 1, ETag: "e"}}}))
	c, err = s.Next(context.Background())
	require.NoError(t, err)
	require.Equal(t, keep.ID, c.ID, "oldest motion clip next")
	require.NoError(t, s.Uploaded(keep.ID, "k"))
	require.NoError(t, s.Close())

	// A crash between Uploaded's commit and its unlink: the file is still there.
	require.NoError(t, os.WriteFile(keep.Path, content(1, 5000), 0o644))
	// A crash mid-Add: temp file.
	clips := filepath.Join(dir, "clips")
	require.NoError(t, os.WriteFile(filepath.Join(clips, newID(t0())+tmpExt), []byte("partial"), 0o644))
	// A crash between rename and commit: clip file without a record.
	orphanMeta, err := meta(5, 7, "linedetection", "VMD").normalize()
	require.NoError(t, err)
	orphanID := newID(t0().Add(time.Hour))
	orphanData := content(6, 7777)
	require.NoError(t, os.WriteFile(filepath.Join(clips, clipFileName(orphanID, orphanMeta)), orphanData, 0o644))
	// Vanished and truncated files.
	require.NoError(t, os.Remove(gone.Path))
	require.NoError(t, os.Truncate(short.Path, 100))
	// Someone else's file: left alone.
	require.NoError(t, os.WriteFile(filepath.Join(clips, "README"), nil, 0o644))

	var mu sync.Mutex
	var drops []Drop
	s = openTest(t, dir, Options{OnDrop: func(d Drop) { mu.Lock(); drops = append(drops, d); mu.Unlock() }}, clock, nil)
	st := s.Stats()
	r := st.LastRecovery
	assert.Equal(t, 1, r.TempRemoved)
	assert.Equal(t, []string{orphanID}, r.Reindexed)
	assert.ElementsMatch(t, []string{gone.ID, short.ID}, r.Lost)
	assert.Equal(t, 1, r.Requeued)
	assert.Equal(t, 1, r.Leftovers)
	assert.Equal(t, []string{"README"}, r.Unknown)
	assert.Equal(t, uint64(2), st.Lost)
	assert.Equal(t, uint64(1), st.TempRemoved)
	assert.Equal(t, uint64(1), st.Reindexed)
	assert.Equal(t, 3, st.Pending) // up (requeued), done, orphan
	assert.Equal(t, 0, st.Uploading)
	mu.Lock()
	require.Len(t, drops, 2)
	for _, d := range drops {
		assert.Equal(t, ReasonLost, d.Reason)
	}
	mu.Unlock()
	assert.NoFileExists(t, keep.Path, "leftover of an uploaded clip removed")
	assert.NoFileExists(t, short.Path, "truncated file removed")
	tmps, _ := filepath.Glob(filepath.Join(clips, "*.tmp"))
	assert.Empty(t, tmps)

	// The orphan is back with its metadata and the right checksum.
	recs, err := s.List(Filter{})
	require.NoError(t, err)
	byID := map[string]Clip{}
	for _, c := range recs {
		byID[c.ID] = c
	}
	o := byID[orphanID]
	assert.Equal(t, StatePending, o.State)
	assert.Equal(t, sum(orphanData), o.SHA256)
	assert.Equal(t, int64(len(orphanData)), o.Size)
	assert.Equal(t, 5, o.Channel)
	assert.Equal(t, []string{"linedetection", "VMD"}, o.EventTypes)
	assert.True(t, orphanMeta.Start.Equal(o.Start))
	assert.Equal(t, StateLost, byID[gone.ID].State)
	assert.Equal(t, StateUploaded, byID[keep.ID].State)
	assert.Equal(t, StatePending, byID[done.ID].State)

	// The requeued clip kept its multipart state and is first in line (high class).
	m, ok, err := s.Multipart(up.ID)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "u", m.UploadID)
	next, err := s.Next(context.Background())
	require.NoError(t, err)
	assert.Equal(t, up.ID, next.ID)
}

func TestTombstonesPruned(t *testing.T) {
	dir := t.TempDir()
	clock := newTestClock()
	s, err := openFS(dir, Options{}, testLogger(t), clock.Now, osFS{})
	require.NoError(t, err)
	c := mustAdd(t, s, meta(1, 0, "VMD"), content(1, 10))
	require.NoError(t, s.Uploaded(c.ID, "k"))
	require.NoError(t, s.Close())

	clock.Advance(DefaultTombstoneTTL - time.Hour)
	s, err = openFS(dir, Options{}, testLogger(t), clock.Now, osFS{})
	require.NoError(t, err)
	assert.Equal(t, 0, s.Stats().LastRecovery.Pruned)
	require.NoError(t, s.Close())

	clock.Advance(2 * time.Hour)
	s = openTest(t, dir, Options{}, clock, nil)
	assert.Equal(t, 1, s.Stats().LastRecovery.Pruned)
	assert.ErrorIs(t, s.Uploaded(c.ID, "k"), ErrNotFound)
	assert.Equal(t, uint64(1), s.Stats().Uploaded, "counters survive pruning")
}

func TestCorruptIndex(t *testing.T) {
	setup := func(t *testing.T) (string, []Clip) {
		dir := t.TempDir()
		s, err := openFS(dir, Options{}, testLogger(t), newTestClock().Now, osFS{})
		require.NoError(t, err)
		var clips []Clip
		for i := range 3 {
			clips = append(clips, mustAdd(t, s, meta(i, i, "VMD"), content(i, 3000)))
		}
		require.NoError(t, s.Close())
		return dir, clips
	}
	corruptions := []struct {
		name    string
		corrupt func(path string) error
	}{
		{"garbage", func(p string) error { return os.WriteFile(p, []byte(strings.Repeat("not a bolt db ", 2000)), 0o600) }},
		{"truncated", func(p string) error { return os.Truncate(p, 100) }},
		{"zeroed meta pages", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt(make([]byte, 8192), 0)
			return err
		}},
	}
	for _, tc := range corruptions {
		t.Run(tc.name+"/rebuilt", func(t *testing.T) {
			t.Parallel()
			dir, clips := setup(t)
			db := filepath.Join(dir, indexFile)
			require.NoError(t, tc.corrupt(db))
			s := openTest(t, dir, Options{}, newTestClock(), nil)
			st := s.Stats()
			assert.True(t, strings.HasPrefix(st.LastRecovery.CorruptIndex, db+".corrupt-"), st.LastRecovery.CorruptIndex)
			assert.FileExists(t, st.LastRecovery.CorruptIndex, "corrupt file kept for inspection")
			assert.Len(t, st.LastRecovery.Reindexed, len(clips))
			recs, err := s.List(Filter{States: []State{StatePending}})
			require.NoError(t, err)
			require.Len(t, recs, len(clips))
			for i, c := range clips {
				assert.Equal(t, c.ID, recs[i].ID)
				assert.Equal(t, c.SHA256, recs[i].SHA256)
				assert.Equal(t, c.Channel, recs[i].Channel)
			}
		})
		t.Run(tc.name+"/fail", func(t *testing.T) {
			t.Parallel()
			dir, _ := setup(t)
			db := filepath.Join(dir, indexFile)
			require.NoError(t, tc.corrupt(db))
			_, err := Open(dir, Options{FailOnCorruptIndex: true}, testLogger(t), time.Now)
			require.ErrorIs(t, err, ErrCorruptIndex)
			assert.Contains(t, err.Error(), db, "error names the file")
			assert.FileExists(t, db, "left in place")
		})
	}
}

func TestIndexVersionRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := openFS(dir, Options{}, testLogger(t), newTestClock().Now, osFS{})
	require.NoError(t, err)
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keyVersion), []byte("99"))
	}))
	require.NoError(t, s.Close())
	_, err = Open(dir, Options{}, testLogger(t), time.Now)
	assert.ErrorIs(t, err, ErrIndexVersion)
	matches, _ := filepath.Glob(filepath.Join(dir, indexFile+".corrupt-*"))
	assert.Empty(t, matches, "a newer index is not treated as corrupt")
}
