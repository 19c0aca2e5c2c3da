package uplink

import "errors"

// Sentinel errors. Wrapped with %w; test with errors.Is.
var (
	// ErrConflict: an object already exists under the clip's key with different
	// content. It is never overwritten.
	ErrConflict = errors.New("uplink: object exists with different content")
	// ErrVerify: after an upload the stored object did not show the expected size or
	// sha256.
	ErrVerify = errors.New("uplink: stored object does not match the clip")
	// ErrClipUnreadable: the clip's file is missing, unreadable or not the size the
	// spool recorded.
	ErrClipUnreadable = errors.New("uplink: clip file unreadable")
	// ErrInvalidClip: the clip record lacks what a key or a checksum needs.
	ErrInvalidClip = errors.New("uplink: invalid clip record")
	// ErrNotSubscribed: the clip's channel has no active cloud-storage package.
	ErrNotSubscribed = errors.New("uplink: channel has no active cloud-storage package")
	// ErrInvalidOptions: Options.Validate found a problem.
	ErrInvalidOptions = errors.New("uplink: invalid options")
	// ErrHeld: the clip is cooling down after failures and was held, not uploaded.
	ErrHeld = errors.New("uplink: clip held after failures")

	// errWake ends a wait on the queue early because a held clip is due (internal).
	errWake = errors.New("uplink: a held clip is due")
)
