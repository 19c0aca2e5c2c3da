package store

import "errors"

var (
	// ErrNotFound is returned by Tx.Get when the bucket or key does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrFormat is returned by Open when the file carries an unknown format version.
	ErrFormat = errors.New("store: unsupported format version")
	// ErrStop, returned by an Each callback, ends the iteration early without an error.
	ErrStop = errors.New("store: stop iteration")
)
