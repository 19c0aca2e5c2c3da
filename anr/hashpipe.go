package anr

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
)

// Chunking of the copy path: small enough that hashing keeps pace with the writes,
// large enough that syscalls are negligible.
const (
	chunkSize   = 512 << 10
	chunksInUse = 4
)

// hashPipe hashes chunks on its own goroutine, so SHA-256 (about 3 ms per 2 MB on
// the reference box) overlaps the write syscalls and the fsync instead of adding to
// them. A chunk is reused only after the hasher hands it back. close must be called;
// it waits for the goroutine, so none outlives the Add that started it.
type hashPipe struct {
	h     hash.Hash
	in    chan []byte
	free  chan []byte
	done  chan struct{}
	pool  *sync.Pool
	owned [][]byte
	once  sync.Once
}

func newHashPipe(pool *sync.Pool) *hashPipe {
	p := &hashPipe{
		h:    sha256.New(),
		in:   make(chan []byte, chunksInUse),
		free: make(chan []byte, chunksInUse),
		done: make(chan struct{}),
		pool: pool,
	}
	for range chunksInUse {
		b := *(pool.Get().(*[]byte))
		p.owned = append(p.owned, b)
		p.free <- b
	}
	go func() {
		defer close(p.done)
		for b := range p.in {
			p.h.Write(b)
			p.free <- b[:cap(b)]
		}
	}()
	return p
}

// buffer blocks until a chunk is free.
func (p *hashPipe) buffer() []byte { return <-p.free }

// hash queues b (a prefix of a chunk from buffer) and gives up its ownership.
func (p *hashPipe) hash(b []byte) { p.in <- b }

// unused returns a chunk taken with buffer but not passed to hash.
func (p *hashPipe) unused(b []byte) { p.free <- b[:cap(b)] }

// close stops the hasher and returns the chunks to the pool. Idempotent.
func (p *hashPipe) close() {
	p.once.Do(func() {
		close(p.in)
		<-p.done
		for _, b := range p.owned {
			p.pool.Put(&b)
		}
	})
}

// sum closes the pipe and returns the hex SHA-256 of everything queued.
func (p *hashPipe) sum() string {
	p.close()
	return hex.EncodeToString(p.h.Sum(nil))
}

func newChunkPool() *sync.Pool {
	return &sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}
}
