package anr

import "errors"

// Sentinel errors. Callers test them with errors.Is; every error returned by the
// package wraps one of these or an underlying I/O error with the path involved.
var (
	// ErrDiskFull: the filesystem (ENOSPC) or the index (Options.MaxDBSize) is full.
	// The clip was not stored and its temporary file was removed; nothing already in
	// the spool was lost. Retrying after uploads free space may succeed.
	ErrDiskFull = errors.New("anr: disk full")

	// ErrClipTooLarge: the clip alone is larger than Options.MaxBytes, so it can never
	// fit in the budget. It is rejected before anything else is evicted for it.
	ErrClipTooLarge = errors.New("anr: clip larger than the spool budget")

	// ErrInvalidMeta: ClipMeta failed validation (see ClipMeta).
	ErrInvalidMeta = errors.New("anr: invalid clip metadata")

	// ErrNotFound: no record with that clip ID (or it was pruned).
	ErrNotFound = errors.New("anr: clip not found")

	// ErrInvalidState: the clip is not in a state that allows the operation, e.g.
	// Release of an evicted clip or Uploaded with a different object key.
	ErrInvalidState = errors.New("anr: clip in wrong state")

	// ErrCorruptIndex: index.db could not be opened or read. Open returns it only
	// with Options.FailOnCorruptIndex; by default the file is moved aside and the
	// index rebuilt from the clip files (see doc.go, "Recovery").
	ErrCorruptIndex = errors.New("anr: corrupt index")

	// ErrIndexVersion: index.db was written by a newer, incompatible format.
	// It is left untouched.
	ErrIndexVersion = errors.New("anr: unsupported index format version")

	// ErrClosed: the spool was closed.
	ErrClosed = errors.New("anr: spool closed")
)
