package ingest

import (
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/proconnect-oss/boxfw/box/media"
)

// naluKind is what ingest needs to know about a NAL unit, for either codec.
type naluKind int

const (
	kindOther naluKind = iota
	kindVPS
	kindSPS
	kindPPS
	kindAUD
	kindKey // IDR (H.264) or IRAP (H.265): decoding can start here
)

func classify(codec media.Codec, nalu []byte) naluKind {
	if len(nalu) == 0 {
		return kindOther
	}
	switch codec {
	case media.CodecH264:
		switch h264.NALUType(nalu[0] & 0x1f) {
		case h264.NALUTypeIDR:
			return kindKey
		case h264.NALUTypeSPS:
			return kindSPS
		case h264.NALUTypePPS:
			return kindPPS
		case h264.NALUTypeAccessUnitDelimiter:
			return kindAUD
		}
	case media.CodecH265:
		switch typ := h265.NALUType((nalu[0] >> 1) & 0x3f); {
		case typ >= h265.NALUType_BLA_W_LP && typ <= 23: // IRAP range, 22-23 reserved IRAP
			return kindKey
		case typ == h265.NALUType_VPS_NUT:
			return kindVPS
		case typ == h265.NALUType_SPS_NUT:
			return kindSPS
		case typ == h265.NALUType_PPS_NUT:
			return kindPPS
		case typ == h265.NALUType_AUD_NUT:
			return kindAUD
		}
	}
	return kindOther
}

// params are the parameter sets of a stream, without start codes.
type params struct {
	vps, sps, pps []byte
}

// info parses the SPS: resolution comes from the stream, never from config.
func (p params) info(codec media.Codec) (media.StreamInfo, error) {
	if p.sps == nil || p.pps == nil || (codec == media.CodecH265 && p.vps == nil) {
		return media.StreamInfo{}, fmt.Errorf("%w: %s needs VPS (H.265), SPS and PPS", ErrNoParams, codec)
	}
	in := media.StreamInfo{Codec: codec, VPS: p.vps, SPS: p.sps, PPS: p.pps}
	switch codec {
	case media.CodecH264:
		var s h264.SPS
		if err := s.Unmarshal(p.sps); err != nil {
			return media.StreamInfo{}, fmt.Errorf("ingest: parse H.264 SPS: %w", err)
		}
		in.Width, in.Height = s.Width(), s.Height()
	case media.CodecH265:
		var s h265.SPS
		if err := s.Unmarshal(p.sps); err != nil {
			return media.StreamInfo{}, fmt.Errorf("ingest: parse H.265 SPS: %w", err)
		}
		in.Width, in.Height = s.Width(), s.Height()
	default:
		return media.StreamInfo{}, fmt.Errorf("%w: codec %s", ErrNoVideo, codec)
	}
	return in, nil
}

// paramsOf collects the parameter sets carried in an access unit.
func paramsOf(codec media.Codec, nalus [][]byte) params {
	var p params
	for _, n := range nalus {
		switch classify(codec, n) {
		case kindVPS:
			p.vps = n
		case kindSPS:
			p.sps = n
		case kindPPS:
			p.pps = n
		}
	}
	return p
}

// InfoOf returns the stream info carried by a keyframe. Ingest puts the parameter sets
// in every keyframe it emits, so any keyframe describes the stream from there on.
func InfoOf(au *media.AccessUnit) (media.StreamInfo, error) {
	return paramsOf(au.Codec, au.NALUs).info(au.Codec)
}
