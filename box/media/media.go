// Package media defines the one unit that flows through the box's video pipeline:
// a compressed access unit, as depacketized from RTSP and before any decoding.
// Ingest produces it, the pre-roll ring stores it, the transcoder consumes it.
package media

import (
	"fmt"
	"time"
)

// Codec is the video codec of a stream.
type Codec int

// The codecs a Hikvision device sends.
const (
	CodecUnknown Codec = iota
	CodecH264
	CodecH265
)

func (c Codec) String() string {
	switch c {
	case CodecH264:
		return "H.264"
	case CodecH265:
		return "H.265"
	default:
		return "unknown"
	}
}

// ParseCodec accepts the spellings used in ISAPI and config ("H.264", "h264", "H265"...).
func ParseCodec(s string) (Codec, error) {
	switch s {
	case "H.264", "H264", "h264", "h.264", "avc":
		return CodecH264, nil
	case "H.265", "H265", "h265", "h.265", "hevc", "HEVC":
		return CodecH265, nil
	}
	return CodecUnknown, fmt.Errorf("media: unknown codec %q", s)
}

// AccessUnit is one compressed picture: the NAL units of one frame, without start
// codes or length prefixes.
type AccessUnit struct {
	Codec Codec
	// PTS is the presentation time relative to the start of the RTSP session.
	PTS time.Duration
	// Wall is the box's clock when the unit was received; events are mapped onto the
	// stream through it, since camera clocks are not trusted.
	Wall time.Time
	// Key is true for IDR / IRAP pictures (decoding can start here).
	Key   bool
	NALUs [][]byte
}

// Size returns the payload bytes held by the unit (what a ring budget counts).
func (au *AccessUnit) Size() int {
	n := 0
	for _, nalu := range au.NALUs {
		n += len(nalu)
	}
	return n
}

// StreamInfo describes a stream as learned from its parameter sets, never from config.
type StreamInfo struct {
	Codec  Codec
	Width  int
	Height int
	// Parameter sets without start codes. VPS is H.265 only.
	VPS, SPS, PPS []byte
}

// Pixels is the pixel count admission control budgets on.
func (s StreamInfo) Pixels() int { return s.Width * s.Height }
