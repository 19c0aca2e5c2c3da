package camsim

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

// Codec names as ISAPI reports them in videoCodecType.
const (
	codecH264 = "H.264"
	codecH265 = "H.265"
)

// codecOf returns the codec implied by a media file name, or "" if unknown.
func codecOf(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".h264", ".264":
		return codecH264
	case ".h265", ".265", ".hevc":
		return codecH265
	}
	return ""
}

// media is one elementary stream, split into access units ready to packetize.
type media struct {
	name          string
	codec         string
	width, height int
	vps, sps, pps []byte     // parameter sets for the SDP (vps only for H.265)
	aus           [][][]byte // NAL units per access unit: no AUDs, params before keyframes
	keyframes     []bool
}

// loadMedia reads and splits an Annex-B file. It fails on a file without parameter
// sets or keyframes, since no client could decode it.
func loadMedia(dir, name string) (*media, error) {
	codec := codecOf(name)
	if codec == "" {
		return nil, fmt.Errorf("%w: %s: unknown codec extension", ErrMedia, name)
	}
	buf, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMedia, err)
	}
	nalus := splitAnnexB(buf)
	if len(nalus) == 0 {
		return nil, fmt.Errorf("%w: %s: no NAL units", ErrMedia, name)
	}
	m := &media{name: name, codec: codec}
	var aus [][][]byte
	if codec == codecH264 {
		aus = splitAUs(nalus, h264Kind)
	} else {
		aus = splitAUs(nalus, h265Kind)
	}
	if err := m.prepare(aus); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMedia, name, err)
	}
	return m, nil
}

// splitAnnexB returns the NAL units between start codes (00 00 01, with or without a
// leading zero byte). It uses bytes.Index rather than a byte loop because every Sim
// parses its files at New, and 4K files are several megabytes.
func splitAnnexB(buf []byte) [][]byte {
	sc := []byte{0, 0, 1}
	var out [][]byte
	i := bytes.Index(buf, sc)
	for i >= 0 {
		start := i + 3
		next := bytes.Index(buf[start:], sc)
		if next < 0 {
			if start < len(buf) {
				out = append(out, buf[start:])
			}
			break
		}
		// Zero bytes before the next start code (its 4-byte form, trailing_zero_8bits)
		// are trimmed by splitAUs.
		if next > 0 {
			out = append(out, buf[start:start+next])
		}
		i = start + next
	}
	return out
}

// nalKind classifies a NAL unit for access-unit splitting.
type nalKind int

const (
	nalOther      nalKind = iota // belongs to the current AU (suffix SEI, filler...)
	nalAUD                       // starts a new AU and is dropped
	nalPrefix                    // SPS/PPS/VPS/prefix SEI: starts a new AU after a slice
	nalFirstSlice                // first slice of a picture
	nalSlice                     // further slice of the same picture
)

func h264Kind(n []byte) nalKind {
	switch h264.NALUType(n[0] & 0x1f) {
	case h264.NALUTypeAccessUnitDelimiter:
		return nalAUD
	case h264.NALUTypeSPS, h264.NALUTypePPS, h264.NALUTypeSEI:
		return nalPrefix
	case h264.NALUTypeNonIDR, h264.NALUTypeIDR:
		// first_mb_in_slice is ue(v); a leading 1 bit encodes 0, the first slice.
		if len(n) > 1 && n[1]&0x80 != 0 {
			return nalFirstSlice
		}
		return nalSlice
	}
	return nalOther
}

func h265Kind(n []byte) nalKind {
	if len(n) < 3 {
		return nalOther
	}
	typ := h265.NALUType((n[0] >> 1) & 0x3f)
	switch {
	case typ == h265.NALUType_AUD_NUT:
		return nalAUD
	case typ == h265.NALUType_VPS_NUT, typ == h265.NALUType_SPS_NUT, typ == h265.NALUType_PPS_NUT,
		typ == h265.NALUType_PREFIX_SEI_NUT:
		return nalPrefix
	case typ < 32:
		// first_slice_segment_in_pic_flag is the first bit after the 2-byte header.
		if n[2]&0x80 != 0 {
			return nalFirstSlice
		}
		return nalSlice
	}
	return nalOther
}

// splitAUs groups NAL units into access units: an AUD always starts one; without
// AUDs a prefix NAL or a first slice after a slice starts one.
func splitAUs(nalus [][]byte, kind func([]byte) nalKind) [][][]byte {
	var aus [][][]byte
	var cur [][]byte
	hasSlice := false
	flush := func() {
		if hasSlice {
			aus = append(aus, cur)
		}
		cur, hasSlice = nil, false
	}
	for _, n := range nalus {
		n = bytes.TrimRight(n, "\x00") // trailing_zero_8bits before the next start code
		if len(n) == 0 {
			continue
		}
		switch kind(n) {
		case nalAUD:
			flush()
			continue
		case nalPrefix, nalFirstSlice:
			if hasSlice {
				flush()
			}
		}
		if k := kind(n); k == nalFirstSlice || k == nalSlice {
			hasSlice = true
		}
		cur = append(cur, n)
	}
	flush()
	return aus
}

// prepare fills parameter sets, dimensions and keyframe flags, and makes sure every
// keyframe carries its parameter sets in-band.
func (m *media) prepare(aus [][][]byte) error {
	if len(aus) == 0 {
		return fmt.Errorf("no access units")
	}
	for _, au := range aus {
		for _, n := range au {
			if m.codec == codecH264 {
				switch h264.NALUType(n[0] & 0x1f) {
				case h264.NALUTypeSPS:
					m.sps = first(m.sps, n)
				case h264.NALUTypePPS:
					m.pps = first(m.pps, n)
				}
				continue
			}
			switch h265.NALUType((n[0] >> 1) & 0x3f) {
			case h265.NALUType_VPS_NUT:
				m.vps = first(m.vps, n)
			case h265.NALUType_SPS_NUT:
				m.sps = first(m.sps, n)
			case h265.NALUType_PPS_NUT:
				m.pps = first(m.pps, n)
			}
		}
	}
	if m.sps == nil || m.pps == nil || (m.codec == codecH265 && m.vps == nil) {
		return fmt.Errorf("missing parameter sets")
	}
	if m.codec == codecH264 {
		var sps h264.SPS
		if err := sps.Unmarshal(m.sps); err != nil {
			return fmt.Errorf("SPS: %w", err)
		}
		m.width, m.height = sps.Width(), sps.Height()
	} else {
		var sps h265.SPS
		if err := sps.Unmarshal(m.sps); err != nil {
			return fmt.Errorf("SPS: %w", err)
		}
		m.width, m.height = sps.Width(), sps.Height()
	}
	params := [][]byte{m.sps, m.pps}
	if m.codec == codecH265 {
		params = [][]byte{m.vps, m.sps, m.pps}
	}
	m.aus = make([][][]byte, len(aus))
	m.keyframes = make([]bool, len(aus))
	anyKey := false
	for i, au := range aus {
		key := h264.IsRandomAccess(au)
		if m.codec == codecH265 {
			key = h265.IsRandomAccess(au)
		}
		m.keyframes[i] = key
		anyKey = anyKey || key
		if key && !m.hasParams(au) {
			au = append(append([][]byte(nil), params...), au...)
		}
		m.aus[i] = au
	}
	if !anyKey {
		return fmt.Errorf("no keyframe")
	}
	// Start the loop on a keyframe so a reader joining at start decodes at once.
	for !m.keyframes[0] {
		m.aus, m.keyframes = append(m.aus[1:], m.aus[0]), append(m.keyframes[1:], m.keyframes[0])
	}
	return nil
}

func (m *media) hasParams(au [][]byte) bool {
	for _, n := range au {
		if m.codec == codecH264 && h264.NALUType(n[0]&0x1f) == h264.NALUTypeSPS {
			return true
		}
		if m.codec == codecH265 && h265.NALUType((n[0]>>1)&0x3f) == h265.NALUType_SPS_NUT {
			return true
		}
	}
	return false
}

func first(have, n []byte) []byte {
	if have != nil {
		return have
	}
	return n
}
