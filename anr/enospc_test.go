package anr

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mountTmpfs mounts a tmpfs of the given size on a fresh directory, or skips when
// the test may not mount (not root); TestAddFaults covers ENOSPC by injection then.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		if os.Getenv("CI") != "" {
			// CI runs as root: there the real full disk must be proved, not skipped.
			t.Fatalf("cannot mount a tmpfs in CI: %v", err)
		}
		t.Skipf("cannot mount a tmpfs (%v): real ENOSPC not tested; TestAddFaults injects it", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

func TestRealDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "2m")
	s := openTest(t, dir, Options{}, newTestClock(), nil)
	var stored []Clip
	var err error
	for i := range 20 {
		var c Clip
		c, err = s.Add(context.Background(), meta(1, i, "VMD"), bytes.NewReader(content(i, 300_000)))
		if err != nil {
			break
		}
		stored = append(stored, c)
	}
	require.ErrorIs(t, err, ErrDiskFull)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	require.NotEmpty(t, stored)
	tmps, _ := filepath.Glob(filepath.Join(dir, "clips", "*.tmp"))
	assert.Empty(t, tmps, "temp file removed")
	for i, c := range stored {
		assert.Equal(t, content(i, 300_000), readAll(t, c.Path), "earlier clip intact")
	}
	assert.Equal(t, len(stored), s.Stats().Pending)

	// Space freed by an upload makes the next Add succeed.
	n, err := s.Next(context.Background())
	require.NoError(t, err)
	require.NoError(t, s.Uploaded(n.ID, "k"))
	_, err = s.Add(context.Background(), meta(1, 99, "VMD"), bytes.NewReader(content(99, 200_000)))
	require.NoError(t, err)
}

func TestReserveAvoidsDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "2m")
	s := openTest(t, dir, Options{MinFreeBytes: 400_000}, newTestClock(), nil)
	for i := range 20 {
		_, err := s.Add(context.Background(), meta(1, i, "VMD"), bytes.NewReader(content(i, 300_000)))
		require.NoError(t, err, "clip %d: the reserve keeps the disk from filling", i)
	}
	st := s.Stats()
	assert.NotZero(t, st.EvictedByReason[ReasonReserve])
	assert.GreaterOrEqual(t, st.FreeBytes, int64(100_000))
}

func TestIndexFull(t *testing.T) {
	dir := mountTmpfs(t, "16m") // fast fsyncs; the cap under test is MaxDBSize
	s := openTest(t, dir, Options{MaxDBSize: 64 << 10}, newTestClock(), nil)
	var err error
	i := 0
	for ; i < 5000 && err == nil; i++ {
		_, err = s.Add(context.Background(), meta(1, i, "VMD"), bytes.NewReader([]byte("x")))
	}
	require.ErrorIs(t, err, ErrDiskFull, "after %d clips", i)
	files, _ := filepath.Glob(filepath.Join(dir, "clips", "*"))
	assert.Len(t, files, i-1, "the rejected clip's file is removed")

	// A full index must still drain: marking clips uploading and uploaded rewrites
	// existing records only.
	for range 3 {
		c, err := s.Next(context.Background())
		require.NoError(t, err)
		require.NoError(t, s.Uploaded(c.ID, "k/"+c.ID))
	}

	src := filepath.Join(dir, "handoff.mp4")
	require.NoError(t, os.WriteFile(src, content(1, 5000), 0o644))
	_, err = s.AddFile(context.Background(), meta(1, 0, "VMD"), src)
	require.ErrorIs(t, err, ErrDiskFull)
	assert.Equal(t, content(1, 5000), readAll(t, src), "AddFile hands the file back on a failed commit")
}

func TestAddFileAcrossFilesystems(t *testing.T) {
	other := mountTmpfs(t, "4m")
	s := openTest(t, t.TempDir(), Options{}, newTestClock(), nil)
	src := filepath.Join(other, "clip.mp4")
	data := content(7, 700_000)
	require.NoError(t, os.WriteFile(src, data, 0o644))
	c, err := s.AddFile(context.Background(), meta(1, 0, "VMD"), src)
	require.NoError(t, err)
	assert.NoFileExists(t, src)
	assert.Equal(t, sum(data), c.SHA256)
	assert.Equal(t, data, readAll(t, c.Path))
}
