package ingest

import "errors"

// Sentinel errors. Session errors are wrapped with %w; test them with errors.Is.
var (
	// ErrConfig: Options are incomplete (no URL, no clock...).
	ErrConfig = errors.New("ingest: invalid options")
	// ErrNoVideo: the stream has no H.264 or H.265 track.
	ErrNoVideo = errors.New("ingest: stream has no H.264 or H.265 video")
	// ErrNoParams: no SPS was found in the SDP nor in-band, so the resolution is unknown.
	ErrNoParams = errors.New("ingest: no parameter sets")
	// ErrStalled: no access unit arrived within ReadTimeout.
	ErrStalled = errors.New("ingest: stream stalled")
	// ErrRefused: admission refused the stream (the admission error is wrapped too).
	ErrRefused = errors.New("ingest: refused by admission")
	// ErrStopped: the channel's Run has returned; no more units will come.
	ErrStopped = errors.New("ingest: channel stopped")
	// ErrRunning: Run was called twice.
	ErrRunning = errors.New("ingest: channel already running")
)
