package transcode

import "errors"

// Sentinel errors; callers test them with errors.Is.
var (
	// ErrInvalidOptions wraps every problem reported by Options.Validate.
	ErrInvalidOptions = errors.New("transcode: invalid options")
	// ErrUnsupportedCodec means the source is neither H.264 nor H.265.
	ErrUnsupportedCodec = errors.New("transcode: unsupported codec")
	// ErrNoVideo means a file has no H.264 or H.265 video stream.
	ErrNoVideo = errors.New("transcode: no H.264/H.265 video stream")
	// ErrNoFrames means nothing could be output: no decodable frame at or after
	// Options.Start.
	ErrNoFrames = errors.New("transcode: no frames to output")
	// ErrEncoderMissing means the FFmpeg build has no libx264 encoder.
	ErrEncoderMissing = errors.New("transcode: libx264 encoder not available")
)
