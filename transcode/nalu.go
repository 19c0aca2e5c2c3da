package transcode

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/proconnect-oss/boxfw/box/media"
)

// NAL unit types this package looks at.
const (
	h264NALSlice = 1
	h264NALIDR   = 5
	h264NALSEI   = 6
	h264NALSPS   = 7
	h264NALPPS   = 8
	h264NALAUD   = 9

	h265NALIRAPFirst = 16
	h265NALIRAPLast  = 23
	h265NALVPS       = 32
	h265NALSPS       = 33
	h265NALPPS       = 34
	h265NALAUD       = 35
	h265NALPrefixSEI = 39
)

func naluType(c media.Codec, nalu []byte) int {
	if len(nalu) == 0 {
		return -1
	}
	if c == media.CodecH265 {
		return int(nalu[0]>>1) & 0x3f
	}
	return int(nalu[0] & 0x1f)
}

// isVCL reports whether nalu carries picture data.
func isVCL(c media.Codec, nalu []byte) bool {
	t := naluType(c, nalu)
	if c == media.CodecH265 {
		return t >= 0 && t < 32
	}
	return t >= h264NALSlice && t <= h264NALIDR
}

// isKeyNALU reports an IDR (H.264) or IRAP (H.265) picture: decoding can start there.
func isKeyNALU(c media.Codec, nalu []byte) bool {
	t := naluType(c, nalu)
	if c == media.CodecH265 {
		return t >= h265NALIRAPFirst && t <= h265NALIRAPLast
	}
	return t == h264NALIDR
}

func isKeyAU(au *media.AccessUnit) bool {
	if au.Key {
		return true
	}
	for _, n := range au.NALUs {
		if isKeyNALU(au.Codec, n) {
			return true
		}
	}
	return false
}

// startsPicture reports whether a VCL nalu is the first slice of a new picture
// (first_mb_in_slice == 0 in H.264, first_slice_segment_in_pic_flag in H.265).
func startsPicture(c media.Codec, nalu []byte) bool {
	if c == media.CodecH265 {
		return len(nalu) > 2 && nalu[2]&0x80 != 0
	}
	return len(nalu) > 1 && nalu[1]&0x80 != 0
}

// startsAU reports a non-VCL unit that may only appear before the first slice of
// an access unit.
func startsAU(c media.Codec, nalu []byte) bool {
	t := naluType(c, nalu)
	if c == media.CodecH265 {
		return t == h265NALVPS || t == h265NALSPS || t == h265NALPPS || t == h265NALAUD || t == h265NALPrefixSEI ||
			(t >= 41 && t <= 44) || (t >= 48 && t <= 55)
	}
	return t == h264NALSEI || t == h264NALSPS || t == h264NALPPS || t == h264NALAUD || (t >= 14 && t <= 18)
}

// SplitAnnexB splits an Annex-B byte stream at its start codes (00 00 01 or
// 00 00 00 01) and returns the NAL units without them, as subslices of b.
// Bytes before the first start code are ignored; empty units are dropped.
func SplitAnnexB(b []byte) [][]byte {
	var out [][]byte
	start := -1
	i := 0
	for i+2 < len(b) {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				end := i
				for end > start && b[end-1] == 0 { // trailing zero bytes belong to the next start code
					end--
				}
				if end > start {
					out = append(out, b[start:end])
				}
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}

// splitLengthPrefixed splits MP4-style (AVCC/HVCC) data whose NAL units are each
// preceded by a big-endian length of size bytes.
func splitLengthPrefixed(b []byte, size int) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < size {
			return out, fmt.Errorf("truncated NAL length")
		}
		var n uint32
		switch size {
		case 1:
			n = uint32(b[0])
		case 2:
			n = uint32(binary.BigEndian.Uint16(b))
		case 4:
			n = binary.BigEndian.Uint32(b)
		default:
			return out, fmt.Errorf("NAL length size %d", size)
		}
		b = b[size:]
		if uint64(n) > uint64(len(b)) {
			return out, fmt.Errorf("NAL length %d beyond packet (%d left)", n, len(b))
		}
		if n > 0 {
			out = append(out, b[:n])
		}
		b = b[n:]
	}
	return out, nil
}

// learnParameterSets copies the first VPS/SPS/PPS found in nalus into info and
// fills Width/Height from the SPS when unknown.
func learnParameterSets(info *media.StreamInfo, nalus [][]byte) {
	for _, n := range nalus {
		t := naluType(info.Codec, n)
		switch {
		case info.Codec == media.CodecH265 && t == h265NALVPS && info.VPS == nil:
			info.VPS = clone(n)
		case (info.Codec == media.CodecH265 && t == h265NALSPS || info.Codec == media.CodecH264 && t == h264NALSPS) && info.SPS == nil:
			info.SPS = clone(n)
		case (info.Codec == media.CodecH265 && t == h265NALPPS || info.Codec == media.CodecH264 && t == h264NALPPS) && info.PPS == nil:
			info.PPS = clone(n)
		}
	}
	if info.Width == 0 && info.SPS != nil {
		info.Width, info.Height = spsSize(info.Codec, info.SPS)
	}
}

// spsSize decodes the picture size from an SPS; 0, 0 if it does not parse.
func spsSize(c media.Codec, sps []byte) (int, int) {
	switch c {
	case media.CodecH264:
		var s h264.SPS
		if s.Unmarshal(sps) == nil {
			return s.Width(), s.Height()
		}
	case media.CodecH265:
		var s h265.SPS
		if s.Unmarshal(sps) == nil {
			return s.Width(), s.Height()
		}
	}
	return 0, 0
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// ParseAnnexB turns a whole Annex-B elementary stream into access units the way
// ingest produces them: NAL units without start codes, one picture per unit, PTS
// i*frameDuration, Key on IDR/IRAP. Units before the first keyframe are dropped
// (a clip starts at a keyframe). The StreamInfo carries the first parameter sets.
func ParseAnnexB(codec media.Codec, data []byte, frameDuration time.Duration) (media.StreamInfo, []*media.AccessUnit, error) {
	info := media.StreamInfo{Codec: codec}
	if codec != media.CodecH264 && codec != media.CodecH265 {
		return info, nil, fmt.Errorf("%w: %v", ErrUnsupportedCodec, codec)
	}
	if frameDuration <= 0 {
		return info, nil, fmt.Errorf("transcode: frame duration %v must be positive", frameDuration)
	}
	var aus []*media.AccessUnit
	var cur *media.AccessUnit
	hasVCL := false
	flush := func() {
		if cur != nil && hasVCL {
			cur.Key = isKeyAU(cur)
			if cur.Key || len(aus) > 0 {
				cur.PTS = time.Duration(len(aus)) * frameDuration
				aus = append(aus, cur)
			}
		}
		cur, hasVCL = nil, false
	}
	for _, n := range SplitAnnexB(data) {
		vcl := isVCL(codec, n)
		if hasVCL && (startsAU(codec, n) || vcl && startsPicture(codec, n)) {
			flush()
		}
		if cur == nil {
			cur = &media.AccessUnit{Codec: codec}
		}
		cur.NALUs = append(cur.NALUs, n)
		hasVCL = hasVCL || vcl
	}
	flush()
	for _, au := range aus {
		learnParameterSets(&info, au.NALUs)
		if info.SPS != nil && info.PPS != nil && (codec == media.CodecH264 || info.VPS != nil) {
			break
		}
	}
	if len(aus) == 0 {
		return info, nil, fmt.Errorf("%w: no keyframe in stream", ErrNoVideo)
	}
	return info, aus, nil
}

// annexBPacket builds the decoder input for au: every NAL unit behind a 4-byte
// start code, plus the zeroed padding FFmpeg's bitstream readers may over-read.
func annexBPacket(buf []byte, nalus [][]byte) []byte {
	buf = buf[:0]
	for _, n := range nalus {
		buf = append(buf, 0, 0, 0, 1)
		buf = append(buf, n...)
	}
	return buf
}

// parameterSetExtradata is the decoder extradata for info: its parameter sets in
// Annex-B form (the h264 and hevc decoders accept that as well as avcC/hvcC).
func parameterSetExtradata(info media.StreamInfo) []byte {
	var sets [][]byte
	for _, ps := range [][]byte{info.VPS, info.SPS, info.PPS} {
		if len(ps) > 0 {
			sets = append(sets, ps)
		}
	}
	if len(sets) == 0 {
		return nil
	}
	return annexBPacket(nil, sets)
}
