package anr

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

func TestAddDurabilityOrder(t *testing.T) {
	fsys := &faultFS{}
	s := openTest(t, t.TempDir(), Options{}, newTestClock(), fsys)
	var recordBeforeDirSync []int
	fsys.onSyncDir = func(string) {
		// Called from Add outside the spool lock: the record must not exist yet.
		n := 0
		require.NoError(t, s.db.View(func(tx *bbolt.Tx) error {
			n = tx.Bucket([]byte(bucketClips)).Stats().KeyN
			return nil
		}))
		recordBeforeDirSync = append(recordBeforeDirSync, n)
	}
	fsys.mu.Lock()
	fsys.ops = nil
	fsys.mu.Unlock()
	c := mustAdd(t, s, meta(1, 0, "VMD"), content(1, 3<<20))
	assert.Equal(t, []string{
		"create <tmp>", "write <tmp>", "sync <tmp>", "close <tmp>", "rename <tmp>", "syncdir clips",
	}, opNames(fsys.Ops()))
	assert.Equal(t, []int{0}, recordBeforeDirSync, "record committed only after the dir fsync")
	recs, err := s.List(Filter{})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, c.SHA256, recs[0].SHA256)
}

// TestAddFaults: whatever step fails, Add returns an error (ErrDiskFull for ENOSPC),
// leaves no file and no record behind, and the clip stored before is untouched.
func TestAddFaults(t *testing.T) {
	eio := syscall.EIO
	cases := []struct {
		name     string
		op       string
		err      error
		diskFull bool
	}{
		{"create fails", "create", eio, false},
		{"create ENOSPC", "create", syscall.ENOSPC, true},
		{"write ENOSPC", "write", syscall.ENOSPC, true},
		{"fsync EIO", "sync", eio, false},
		{"fsync ENOSPC", "sync", syscall.ENOSPC, true},
		{"close EIO", "close", eio, false},
		{"rename fails", "rename", eio, false},
		{"dir fsync fails", "syncdir", eio, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fsys := &faultFS{}
			dir := t.TempDir()
			s := openTest(t, dir, Options{}, newTestClock(), fsys)
			before := mustAdd(t, s, meta(1, 0, "VMD"), content(1, 1000))
			fsys.fail = func(op, path string) error {
				if op == tc.op && (op == "syncdir" || strings.HasSuffix(path, tmpExt)) {
					return &os.PathError{Op: op, Path: path, Err: tc.err}
				}
				return nil
			}
			_, err := s.Add(context.Background(), meta(1, 1, "VMD"), bytes.NewReader(content(2, 3*chunkSize)))
			require.Error(t, err)
			assert.Equal(t, tc.diskFull, errors.Is(err, ErrDiskFull), "ErrDiskFull? %v", err)
			fsys.fail = nil

			files, _ := filepath.Glob(filepath.Join(dir, "clips", "*"))
			assert.Equal(t, []string{before.Path}, files, "only the earlier clip's file remains")
			recs, lerr := s.List(Filter{})
			require.NoError(t, lerr)
			require.Len(t, recs, 1)
			assert.Equal(t, before.ID, recs[0].ID)
			assert.Equal(t, content(1, 1000), readAll(t, before.Path))
		})
	}
}

func TestAddMetaValidation(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{}, newTestClock(), nil)
	bad := []struct {
		name string
		m    ClipMeta
	}{
		{"negative channel", meta(-1, 0, "VMD")},
		{"no events", meta(1, 0)},
		{"event with underscore", meta(1, 0, "line_detection")},
		{"event with slash", meta(1, 0, "../x")},
		{"zero start", ClipMeta{Channel: 1, EventTypes: []string{"VMD"}}},
		{"end before start", ClipMeta{Channel: 1, EventTypes: []string{"VMD"}, Start: t0(), End: t0().Add(-1)}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Add(context.Background(), tc.m, bytes.NewReader([]byte("x")))
			assert.ErrorIs(t, err, ErrInvalidMeta)
		})
	}
}

func TestFileNameRoundTrip(t *testing.T) {
	cases := []ClipMeta{
		meta(0, 0, "VMD"),
		meta(7, 3600, "linedetection", "fielddetection", "VMD"),
		{Channel: 12, EventTypes: []string{"x-1"}, Start: t0().Add(123456789), End: t0().Add(987654321)},
	}
	for _, m := range cases {
		m, err := m.normalize()
		require.NoError(t, err)
		id := newID(t0())
		require.True(t, validID(id), id)
		gotID, got, err := parseClipFileName(clipFileName(id, m))
		require.NoError(t, err)
		assert.Equal(t, id, gotID)
		assert.Equal(t, m, got)
	}
	for _, bad := range []string{"x.mp4", "a_b_c_d_e.mp4", newID(t0()) + "_c1_VMD_1_2.mp4.tmp", newID(t0()) + "_1_VMD_1_2.mp4"} {
		_, _, err := parseClipFileName(bad)
		assert.Error(t, err, bad)
	}
}

func TestAddFile(t *testing.T) {
	t.Run("same filesystem renames", func(t *testing.T) {
		dir := t.TempDir()
		s := openTest(t, filepath.Join(dir, "spool"), Options{}, newTestClock(), nil)
		src := filepath.Join(dir, "clip.mp4")
		data := content(3, 500_000)
		require.NoError(t, os.WriteFile(src, data, 0o644))
		c, err := s.AddFile(context.Background(), meta(3, 0, "fielddetection"), src)
		require.NoError(t, err)
		assert.NoFileExists(t, src)
		assert.Equal(t, sum(data), c.SHA256)
		assert.Equal(t, data, readAll(t, c.Path))
	})
	t.Run("cross filesystem copies", func(t *testing.T) {
		dir := t.TempDir()
		fsys := &faultFS{fail: func(op, path string) error {
			if op == "rename" && filepath.Base(path) == "clip.mp4" {
				return &os.LinkError{Op: "rename", Old: path, Err: syscall.EXDEV}
			}
			return nil
		}}
		s := openTest(t, filepath.Join(dir, "spool"), Options{}, newTestClock(), fsys)
		src := filepath.Join(dir, "clip.mp4")
		data := content(4, 500_000)
		require.NoError(t, os.WriteFile(src, data, 0o644))
		c, err := s.AddFile(context.Background(), meta(3, 0, "VMD"), src)
		require.NoError(t, err)
		assert.NoFileExists(t, src)
		assert.Equal(t, sum(data), c.SHA256)
		assert.Equal(t, data, readAll(t, c.Path))
		assert.Contains(t, opNames(fsys.Ops()), "create <tmp>", "copied through a temp file")
	})
	t.Run("too large rejected and left in place", func(t *testing.T) {
		dir := t.TempDir()
		s := openTest(t, filepath.Join(dir, "spool"), Options{MaxBytes: 1000}, newTestClock(), nil)
		src := filepath.Join(dir, "clip.mp4")
		require.NoError(t, os.WriteFile(src, content(5, 2000), 0o644))
		_, err := s.AddFile(context.Background(), meta(3, 0, "VMD"), src)
		assert.ErrorIs(t, err, ErrClipTooLarge)
		assert.FileExists(t, src)
		_, err = s.Add(context.Background(), meta(3, 0, "VMD"), bytes.NewReader(content(5, 2000)))
		assert.ErrorIs(t, err, ErrClipTooLarge)
		files, _ := filepath.Glob(filepath.Join(dir, "spool", "clips", "*"))
		assert.Empty(t, files)
	})
}
