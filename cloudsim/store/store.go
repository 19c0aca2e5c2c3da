package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FormatVersion is the on-disk layout version written by this package.
const FormatVersion = 1

// Options configure Open. The zero value is usable.
type Options struct {
	// MaxSize caps the file so that a full disk returns an error instead of a crash.
	// Zero means 1 GiB.
	MaxSize int
	// Timeout bounds the wait for the file lock held by another process. Zero means 2s.
	Timeout time.Duration
	// InitialMmapSize pre-sizes the memory map. A growing file remaps, and a remap
	// blocks every new read transaction (the box API's authentication) until it is
	// done; a generous initial map keeps that off the hot path. Zero means 256 MiB.
	InitialMmapSize int
}

// DB is an open store. It is safe for concurrent use.
type DB struct {
	bolt *bolt.DB
}

// Open opens (creating if needed) the store file cloudsim.db inside dir.
func Open(dir string, opts Options) (*DB, error) {
	if opts.MaxSize == 0 {
		opts.MaxSize = 1 << 30
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.InitialMmapSize == 0 {
		opts.InitialMmapSize = 256 << 20
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("store: data dir: %w", err)
	}
	b, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{
		Timeout:         opts.Timeout,
		MaxSize:         opts.MaxSize,
		InitialMmapSize: opts.InitialMmapSize,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db := &DB{bolt: b}
	if err := db.checkFormat(); err != nil {
		_ = b.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) checkFormat() error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists([]byte("meta"))
		if err != nil {
			return fmt.Errorf("store: meta bucket: %w", err)
		}
		raw := meta.Get([]byte("format"))
		if raw == nil {
			return meta.Put([]byte("format"), []byte(strconv.Itoa(FormatVersion)))
		}
		v, err := strconv.Atoi(string(raw))
		if err != nil || v > FormatVersion {
			return fmt.Errorf("%w: %q", ErrFormat, raw)
		}
		return nil
	})
}

// Close closes the file. Pending transactions finish first.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// View runs fn in a read-only transaction. Keep fn short: it pins the file's pages.
func (db *DB) View(fn func(*Tx) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error { return fn(&Tx{tx: tx}) })
}

// Update runs fn in a read-write transaction, committed (and fsynced) when fn returns nil.
func (db *DB) Update(fn func(*Tx) error) error {
	return db.bolt.Update(func(tx *bolt.Tx) error { return fn(&Tx{tx: tx}) })
}

// Tx is a transaction handed to View or Update callbacks.
type Tx struct {
	tx    *bolt.Tx
	wrote map[string]bool
}

// Wrote reports whether this transaction put or deleted anything in bucket, so callers
// can invalidate caches of that bucket only when it changed.
func (t *Tx) Wrote(bucket string) bool { return t.wrote[bucket] }

func (t *Tx) mark(bucket string) {
	if t.wrote == nil {
		t.wrote = map[string]bool{}
	}
	t.wrote[bucket] = true
}

func (t *Tx) bucket(name string) (*bolt.Bucket, error) {
	if b := t.tx.Bucket([]byte(name)); b != nil {
		return b, nil
	}
	if !t.tx.Writable() {
		return nil, nil
	}
	b, err := t.tx.CreateBucket([]byte(name))
	if err != nil {
		return nil, fmt.Errorf("store: create bucket %s: %w", name, err)
	}
	return b, nil
}

// Get decodes the record bucket/key into v, or returns ErrNotFound.
func (t *Tx) Get(bucket, key string, v any) error {
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	if b == nil {
		return fmt.Errorf("%s/%s: %w", bucket, key, ErrNotFound)
	}
	raw := b.Get([]byte(key))
	if raw == nil {
		return fmt.Errorf("%s/%s: %w", bucket, key, ErrNotFound)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("store: decode %s/%s: %w", bucket, key, err)
	}
	return nil
}

// Has reports whether bucket/key exists.
func (t *Tx) Has(bucket, key string) bool {
	b, err := t.bucket(bucket)
	return err == nil && b != nil && b.Get([]byte(key)) != nil
}

// Put stores v as JSON under bucket/key.
func (t *Tx) Put(bucket, key string, v any) error {
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode %s/%s: %w", bucket, key, err)
	}
	t.mark(bucket)
	if err := b.Put([]byte(key), raw); err != nil {
		return fmt.Errorf("store: put %s/%s: %w", bucket, key, err)
	}
	return nil
}

// Delete removes bucket/key; a missing key is not an error.
func (t *Tx) Delete(bucket, key string) error {
	b, err := t.bucket(bucket)
	if err != nil || b == nil {
		return err
	}
	t.mark(bucket)
	if err := b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("store: delete %s/%s: %w", bucket, key, err)
	}
	return nil
}

// Each calls fn for every record whose key starts with prefix ("" for all), in key
// order. fn must not keep raw after it returns. Stop early by returning ErrStop.
func (t *Tx) Each(bucket, prefix string, fn func(key string, raw []byte) error) error {
	b, err := t.bucket(bucket)
	if err != nil || b == nil {
		return err
	}
	c := b.Cursor()
	p := []byte(prefix)
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if err := fn(string(k), v); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// NextID returns a new, never reused, sequence number for bucket.
func (t *Tx) NextID(bucket string) (uint64, error) {
	b, err := t.bucket(bucket)
	if err != nil {
		return 0, err
	}
	if b == nil {
		return 0, fmt.Errorf("store: NextID in read-only tx")
	}
	id, err := b.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("store: sequence %s: %w", bucket, err)
	}
	return id, nil
}

// Decode unmarshals a raw record handed to an Each callback.
func Decode(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("store: decode: %w", err)
	}
	return nil
}

// SortableKey renders n so that lexical key order equals numeric order.
func SortableKey(n uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return fmt.Sprintf("%x", b)
}

// Backup writes a consistent copy of the whole file to w (a read transaction, so writers
// are not blocked). Opening the copy as cloudsim.db in another dir restores it.
func (db *DB) Backup(w io.Writer) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		if _, err := tx.WriteTo(w); err != nil {
			return fmt.Errorf("store: backup: %w", err)
		}
		return nil
	})
}

// FileName is the store's file name inside its data directory.
const FileName = "cloudsim.db"
