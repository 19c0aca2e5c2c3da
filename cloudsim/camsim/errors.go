package camsim

import "errors"

var (
	// ErrConfig reports an invalid Config; the message lists every problem.
	ErrConfig = errors.New("camsim: invalid config")
	// ErrNoChannel is returned by knobs given a channel the device does not have.
	ErrNoChannel = errors.New("camsim: no such channel")
	// ErrNotStarted is returned by operations that need Start to have succeeded.
	ErrNotStarted = errors.New("camsim: not started")
	// ErrMedia reports a media file that cannot be served.
	ErrMedia = errors.New("camsim: bad media file")

	// errBadRequest marks control API input errors (HTTP 400).
	errBadRequest = errors.New("bad request")
)
