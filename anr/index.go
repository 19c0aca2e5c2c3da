package anr

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"

	"go.etcd.io/bbolt"
)

// Index layout (bbolt). The version key lets a later format migrate or refuse.
//
//	meta/version        -> "1"
//	clips/<id>          -> JSON Clip (every state, tombstones included)
//	multipart/<id>      -> JSON Multipart
//	counters/<name>     -> uint64 big endian, cumulative since the index was created
const (
	indexFile       = "index.db"
	indexVersion    = 1
	bucketMeta      = "meta"
	bucketClips     = "clips"
	bucketMultipart = "multipart"
	bucketCounters  = "counters"
	keyVersion      = "version"
)

// Counter names.
const (
	ctrUploaded    = "uploaded"
	ctrLost        = "lost"
	ctrTempRemoved = "temp_removed"
	ctrReindexed   = "reindexed"
)

func ctrEvicted(r DropReason, c Class) string { return "evicted/" + string(r) + "/" + string(c) }

// counterDelta collects counter increments made in one transaction; they reach the
// in-memory mirror only once the transaction commits.
type counterDelta map[string]uint64

func initIndex(tx *bbolt.Tx) error {
	for _, b := range []string{bucketMeta, bucketClips, bucketMultipart, bucketCounters} {
		if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
			return err
		}
	}
	meta := tx.Bucket([]byte(bucketMeta))
	v := meta.Get([]byte(keyVersion))
	if v == nil {
		return meta.Put([]byte(keyVersion), []byte(strconv.Itoa(indexVersion)))
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n != indexVersion {
		return fmt.Errorf("%w: %q (this build reads %d)", ErrIndexVersion, v, indexVersion)
	}
	return nil
}

func putClip(tx *bbolt.Tx, c *Clip) error {
	rec := *c
	rec.Path = "" // derived from the directory and metadata at load; survives moving the spool
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Bucket([]byte(bucketClips)).Put([]byte(c.ID), b)
}

func getClip(tx *bbolt.Tx, id string) (Clip, bool, error) {
	v := tx.Bucket([]byte(bucketClips)).Get([]byte(id))
	if v == nil {
		return Clip{}, false, nil
	}
	var c Clip
	if err := json.Unmarshal(v, &c); err != nil {
		return Clip{}, false, fmt.Errorf("%w: record %s: %w", ErrCorruptIndex, id, err)
	}
	return c, true, nil
}

func addCounters(tx *bbolt.Tx, d counterDelta) error {
	b := tx.Bucket([]byte(bucketCounters))
	for k, inc := range d {
		var cur uint64
		if v := b.Get([]byte(k)); len(v) == 8 {
			cur = binary.BigEndian.Uint64(v)
		}
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], cur+inc)
		if err := b.Put([]byte(k), buf[:]); err != nil {
			return err
		}
	}
	return nil
}

func loadCounters(tx *bbolt.Tx) map[string]uint64 {
	m := map[string]uint64{}
	_ = tx.Bucket([]byte(bucketCounters)).ForEach(func(k, v []byte) error {
		if len(v) == 8 {
			m[string(k)] = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return m
}

func forEachClip(tx *bbolt.Tx, fn func(Clip)) error {
	return tx.Bucket([]byte(bucketClips)).ForEach(func(k, _ []byte) error {
		c, _, err := getClip(tx, string(k))
		if err != nil {
			return err
		}
		fn(c)
		return nil
	})
}
