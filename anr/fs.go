package anr

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// fileSystem is the I/O the write path depends on, so tests can inject failing
// fsyncs, ENOSPC and record the order of durable steps. Recovery reads the
// directory with the os package directly: it has no durability order to prove.
type fileSystem interface {
	// Create makes a new file for writing; it fails if the file exists.
	Create(path string) (file, error)
	// Open opens an existing file for reading (and fsync).
	Open(path string) (file, error)
	Rename(oldpath, newpath string) error
	Remove(path string) error
	// SyncDir fsyncs a directory so renames and removals in it survive power loss.
	SyncDir(dir string) error
	// FreeBytes is the space available to unprivileged users (statfs f_bavail).
	FreeBytes(dir string) (int64, error)
}

type file interface {
	io.Reader
	io.Writer
	Sync() error
	Close() error
}

type osFS struct{}

func (osFS) Create(path string) (file, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

func (osFS) Open(path string) (file, error) { return os.Open(path) }

func (osFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

func (osFS) Remove(path string) error { return os.Remove(path) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (osFS) FreeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, &os.PathError{Op: "statfs", Path: dir, Err: err}
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// classify wraps err with ErrDiskFull when it is ENOSPC/EDQUOT, so callers can tell
// "retry once space is freed" from everything else.
func classify(op, path string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %s %s: %w", ErrDiskFull, op, path, err)
	}
	return fmt.Errorf("anr: %s %s: %w", op, path, err)
}
