package anr

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAddNextUploaded(t *testing.T) {
	clock := newTestClock()
	dir := t.TempDir()
	s := openTest(t, dir, Options{}, clock, nil)
	data := content(1, 100_000)
	c := mustAdd(t, s, meta(2, 0, "VMD"), data)
	assert.Equal(t, StatePending, c.State)
	assert.Equal(t, int64(len(data)), c.Size)
	assert.Equal(t, sum(data), c.SHA256)
	assert.Equal(t, data, readAll(t, c.Path))
	assert.True(t, validID(c.ID), c.ID)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := s.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, c.ID, got.ID)
	assert.Equal(t, StateUploading, got.State)

	mp := Multipart{Key: "k", UploadID: "u1", PartSize: 5 << 20, Parts: []Part{{Number: 1, ETag: "e1", Size: 5}}}
	require.NoError(t, s.SaveMultipart(c.ID, mp))
	require.NoError(t, s.Release(c.ID, errors.New("network down")))
	m2, ok, err := s.Multipart(c.ID)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, mp.UploadID, m2.UploadID)
	assert.Equal(t, mp.Parts, m2.Parts)

	got, err = s.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Attempts)
	require.NoError(t, s.Uploaded(c.ID, "obj/key"))
	require.NoError(t, s.Uploaded(c.ID, "obj/key"), "idempotent")
	assert.ErrorIs(t, s.Uploaded(c.ID, "other"), ErrInvalidState)
	assert.ErrorIs(t, s.Release(c.ID, nil), ErrInvalidState)
	assert.ErrorIs(t, s.Uploaded("nope", "k"), ErrNotFound)
	assert.NoFileExists(t, c.Path)
	_, ok, err = s.Multipart(c.ID)
	require.NoError(t, err)
	assert.False(t, ok)

	st := s.Stats()
	assert.Equal(t, uint64(1), st.Uploaded)
	assert.Equal(t, 0, st.Pending)
	assert.Equal(t, int64(0), st.BytesUsed)
	recs, err := s.List(Filter{States: []State{StateUploaded}})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "obj/key", recs[0].ObjectKey)
}
