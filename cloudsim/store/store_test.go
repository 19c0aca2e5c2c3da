package store_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

type rec struct {
	Name string
	N    int
}

func TestRecords(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	require.NoError(t, err)

	require.NoError(t, db.View(func(tx *store.Tx) error {
		var r rec
		require.ErrorIs(t, tx.Get("things", "a", &r), store.ErrNotFound, "missing bucket in a read tx")
		require.False(t, tx.Has("things", "a"))
		return tx.Each("things", "", func(string, []byte) error { return errors.New("never called") })
	}))
	var ids []uint64
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		for _, k := range []string{"s1/a", "s1/b", "s2/a"} {
			require.NoError(t, tx.Put("things", k, rec{Name: k}))
		}
		for range 3 {
			id, err := tx.NextID("things")
			require.NoError(t, err)
			ids = append(ids, id)
		}
		return tx.Delete("things", "missing")
	}))
	require.Equal(t, []uint64{1, 2, 3}, ids)

	var got []string
	require.NoError(t, db.View(func(tx *store.Tx) error {
		return tx.Each("things", "s1/", func(k string, raw []byte) error {
			var r rec
			require.NoError(t, store.Decode(raw, &r))
			got = append(got, r.Name)
			if k == "s1/a" {
				return nil
			}
			return store.ErrStop
		})
	}))
	require.Equal(t, []string{"s1/a", "s1/b"}, got)
	require.Less(t, store.SortableKey(9), store.SortableKey(10))

	var buf bytes.Buffer
	require.NoError(t, db.Backup(&buf))
	require.NoError(t, db.Close())

	t.Run("backup restores", func(t *testing.T) {
		dir2 := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir2, store.FileName), buf.Bytes(), 0o600))
		db2, err := store.Open(dir2, store.Options{})
		require.NoError(t, err)
		defer db2.Close()
		require.NoError(t, db2.View(func(tx *store.Tx) error {
			var r rec
			require.NoError(t, tx.Get("things", "s2/a", &r))
			require.Equal(t, "s2/a", r.Name)
			return nil
		}))
	})
	t.Run("a newer format is refused", func(t *testing.T) {
		b, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, nil)
		require.NoError(t, err)
		require.NoError(t, b.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("format"), []byte("99")) }))
		require.NoError(t, b.Close())
		_, err = store.Open(dir, store.Options{})
		require.ErrorIs(t, err, store.ErrFormat)
	})
}
