package anr

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Spool is the on-disk clip queue. It is safe for concurrent use by one process;
// a second process opening the same directory waits Options.LockTimeout and fails.
type Spool struct {
	dir      string
	clipsDir string
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	fs       fileSystem
	db       *bbolt.DB
	chunks   *sync.Pool // copy buffers, reused across Adds

	// mu guards everything below and serialises index writes: bbolt has one writer
	// anyway, and keeping the in-memory view in step with commits needs the lock.
	// File copies and their fsyncs run outside it.
	mu        sync.Mutex
	live      map[string]*Clip // pending and uploading clips: the only ones with files
	used      int64            // bytes of live clip files
	counters  map[string]uint64
	wake      chan struct{} // closed (and replaced) whenever a clip becomes pending
	closed    bool
	over      bool // could not get back under budget/reserve: only uploading clips left
	recovery  Recovery
	lastPrune time.Time
}

// Open opens (creating if needed) the spool in dir: dir/index.db and dir/clips/.
// It recovers from any previous crash before returning; see doc.go, "Recovery".
// logger and now are required (use slog.New(slog.DiscardHandler) and time.Now).
func Open(dir string, opts Options, logger *slog.Logger, now func() time.Time) (*Spool, error) {
	return openFS(dir, opts, logger, now, osFS{})
}

func openFS(dir string, opts Options, logger *slog.Logger, now func() time.Time, fsys fileSystem) (*Spool, error) {
	if logger == nil || now == nil {
		return nil, errors.New("anr: Open needs a logger and a clock")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("anr: spool dir %s: %w", dir, err)
	}
	s := &Spool{
		dir:      abs,
		clipsDir: filepath.Join(abs, "clips"),
		opts:     opts.withDefaults(),
		log:      logger.With("component", "anr"),
		now:      now,
		fs:       fsys,
		live:     map[string]*Clip{},
		wake:     make(chan struct{}),
		chunks:   newChunkPool(),
	}
	if err := os.MkdirAll(s.clipsDir, 0o755); err != nil {
		return nil, classify("mkdir", s.clipsDir, err)
	}
	recs, err := s.openIndex()
	if err != nil {
		return nil, err
	}
	// Make clips/ and index.db themselves durable entries of dir: neither MkdirAll
	// nor bbolt fsyncs the parent directory.
	if err := s.fs.SyncDir(s.dir); err != nil {
		_ = s.db.Close()
		return nil, classify("fsync dir", s.dir, err)
	}
	drops, err := s.reconcile(recs)
	if err != nil {
		_ = s.db.Close()
		return nil, err
	}
	s.mu.Lock()
	drops = append(drops, s.enforce("", 0)...)
	s.mu.Unlock()
	s.report(drops)
	return s, nil
}

// openIndex opens index.db and loads every record. A file bbolt cannot open or read
// is moved aside to index.db.corrupt-<time> (never deleted) and a fresh index is
// rebuilt from the clip files by reconcile: that keeps every clip and avoids a crash
// loop at boot. Only the cumulative counters and tombstones are lost.
func (s *Spool) openIndex() (map[string]Clip, error) {
	path := filepath.Join(s.dir, indexFile)
	for attempt := 0; ; attempt++ {
		recs, err := s.tryOpenIndex(path)
		if err == nil {
			return recs, nil
		}
		if !errors.Is(err, ErrCorruptIndex) || s.opts.FailOnCorruptIndex || attempt > 0 {
			return nil, err
		}
		aside := fmt.Sprintf("%s.corrupt-%s", path, s.now().UTC().Format("20060102T150405.000000000Z"))
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, fmt.Errorf("%w (moving it aside failed: %w)", err, rerr)
		}
		if serr := s.fs.SyncDir(s.dir); serr != nil {
			return nil, fmt.Errorf("%w (syncing %s failed: %w)", err, s.dir, serr)
		}
		s.log.Error("corrupt spool index moved aside; rebuilding it from the clip files",
			"file", path, "moved_to", aside, "err", err)
		s.recovery.CorruptIndex = aside
	}
}

func (s *Spool) tryOpenIndex(path string) (recs map[string]Clip, err error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: s.opts.LockTimeout,
		MaxSize: s.opts.MaxDBSize,
		// NoSync stays false: a clip is acknowledged only after its record commits.
	})
	switch {
	case err == nil:
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("anr: index %s is locked by another process: %w", path, err)
	case errors.Is(err, os.ErrPermission):
		return nil, fmt.Errorf("anr: open index %s: %w", path, err)
	case errors.Is(err, berrors.ErrMaxSizeReached):
		return nil, fmt.Errorf("%w: index %s: %w", ErrDiskFull, path, err)
	default:
		if ce := classify("open index", path, err); errors.Is(ce, ErrDiskFull) {
			return nil, ce
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrCorruptIndex, path, err)
	}
	defer func() {
		// bbolt panics on some page corruption; a record we cannot read means the
		// same thing as a file we cannot open.
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: reading: %v", ErrCorruptIndex, path, r)
		}
		if err != nil {
			_ = db.Close()
		}
	}()
	if err := db.Update(initIndex); err != nil {
		if errors.Is(err, ErrIndexVersion) {
			return nil, fmt.Errorf("anr: index %s: %w", path, err)
		}
		return nil, s.indexWriteErr(fmt.Errorf("init index %s: %w", path, err))
	}
	recs = map[string]Clip{}
	err = db.View(func(tx *bbolt.Tx) error {
		s.counters = loadCounters(tx)
		return tx.Bucket([]byte(bucketClips)).ForEach(func(k, v []byte) error {
			c, _, err := getClip(tx, string(k))
			if err != nil {
				return err
			}
			recs[c.ID] = c
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorruptIndex, path, err)
	}
	s.db = db
	return recs, nil
}

// indexWriteErr marks a failed commit caused by a full disk or index as ErrDiskFull.
func (s *Spool) indexWriteErr(err error) error {
	if errors.Is(err, berrors.ErrMaxSizeReached) {
		return fmt.Errorf("%w: index %s reached MaxDBSize: %w", ErrDiskFull, filepath.Join(s.dir, indexFile), err)
	}
	if errors.Is(err, ErrDiskFull) {
		return err
	}
	if ce := classify("index", filepath.Join(s.dir, indexFile), err); errors.Is(ce, ErrDiskFull) {
		return ce
	}
	return fmt.Errorf("anr: %w", err)
}

// commit runs fn in one bbolt write transaction and, once it is durable, applies the
// counter increments to the in-memory mirror. Callers hold s.mu.
func (s *Spool) commit(fn func(tx *bbolt.Tx, d counterDelta) error) error {
	d := counterDelta{}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if err := fn(tx, d); err != nil {
			return err
		}
		return addCounters(tx, d)
	})
	if err != nil {
		return s.indexWriteErr(err)
	}
	for k, v := range d {
		s.counters[k] += v
	}
	return nil
}

// broadcast wakes every Next waiting for a pending clip. Callers hold s.mu.
func (s *Spool) broadcast() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// report hands drops to Options.OnDrop. Called without s.mu.
func (s *Spool) report(drops []Drop) {
	if s.opts.OnDrop == nil {
		return
	}
	for _, d := range drops {
		s.opts.OnDrop(d)
	}
}

func (s *Spool) clipPath(id string, m ClipMeta) string {
	return filepath.Join(s.clipsDir, clipFileName(id, m))
}

func metaOf(c *Clip) ClipMeta {
	return ClipMeta{Channel: c.Channel, EventTypes: c.EventTypes, Start: c.Start, End: c.End}
}

// Close wakes blocked Next calls with ErrClosed and closes the index. Add, Next and
// the rest return ErrClosed afterwards.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.wake)
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("anr: close index: %w", err)
	}
	return nil
}
