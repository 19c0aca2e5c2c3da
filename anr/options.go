package anr

import "time"

// Defaults applied to zero-valued Options fields.
const (
	DefaultMaxDBSize    = 64 << 20 // about 200k records; far more than any disk of clips
	DefaultTombstoneTTL = 7 * 24 * time.Hour
	DefaultLockTimeout  = 5 * time.Second
)

// Options configures a Spool. Every zero value means something documented.
type Options struct {
	// MaxBytes is the disk budget for clip files (pending and uploading). Zero means
	// no budget: only MinFreeBytes limits the spool. After an Add pushes usage past
	// it, older clips are evicted (see doc.go, "Eviction"). A single clip larger
	// than MaxBytes is rejected with ErrClipTooLarge.
	MaxBytes int64

	// MinFreeBytes is the free space (statfs f_bavail) kept on the spool's
	// filesystem for everything else on the box. Zero means no reserve. Eviction
	// runs before an Add when free space is already below it, and after every Add.
	MinFreeBytes int64

	// MaxDBSize caps index.db (bbolt MaxSize) so a full index returns ErrDiskFull
	// instead of crashing on a failed mmap/grow. Zero means DefaultMaxDBSize;
	// negative means no cap.
	MaxDBSize int

	// TombstoneTTL is how long uploaded, evicted and lost records are kept for
	// status and idempotency after they reach that state. Zero means
	// DefaultTombstoneTTL; negative keeps them forever.
	TombstoneTTL time.Duration

	// LockTimeout is how long Open waits for another process holding index.db.
	// Zero means DefaultLockTimeout.
	LockTimeout time.Duration

	// FailOnCorruptIndex makes Open return ErrCorruptIndex instead of moving a
	// corrupt index.db aside and rebuilding it from the clip files. Zero value
	// (false) repairs, so a damaged index cannot put the daemon in a crash loop.
	FailOnCorruptIndex bool

	// OnDrop, if set, is called once for every clip the spool drops (evicted or
	// found lost), after the drop is committed, outside the spool's lock, so the
	// daemon can tell the cloud. It must not block for long.
	OnDrop func(Drop)
}

func (o Options) withDefaults() Options {
	if o.MaxDBSize == 0 {
		o.MaxDBSize = DefaultMaxDBSize
	}
	if o.MaxDBSize < 0 {
		o.MaxDBSize = 0 // bbolt: <= 0 is unlimited
	}
	if o.TombstoneTTL == 0 {
		o.TombstoneTTL = DefaultTombstoneTTL
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	return o
}
