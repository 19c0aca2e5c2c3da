package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/proconnect-oss/boxfw/box/media"
)

// FileSource is a Source over a video file demuxed by libavformat: raw Annex-B
// H.264/H.265 (timestamps at the stream's frame rate, 25 fps when it has none) or
// any container FFmpeg reads (MP4, MKV...). Packets become access units as ingest
// produces them: NAL units without start codes or length prefixes, PTS relative
// to the stream start. Close it when done; it is not safe for concurrent use.
type FileSource struct {
	fc      *astiav.FormatContext
	pkt     *astiav.Packet
	stream  int
	tb      astiav.Rational
	start   int64 // stream start in tb, subtracted from every PTS
	lenSize int   // NAL length prefix size for MP4-style packets, 0 for Annex-B
	info    media.StreamInfo

	frameDur time.Duration // fallback when a packet has no timestamp
	n        int
	lastPTS  time.Duration
}

// OpenFile opens path and selects its first H.264 or H.265 video stream.
func OpenFile(path string) (*FileSource, error) {
	s := &FileSource{fc: astiav.AllocFormatContext(), pkt: astiav.AllocPacket(), stream: -1}
	if err := s.open(path); err != nil {
		s.Close()
		return nil, fmt.Errorf("transcode: open %s: %w", path, err)
	}
	return s, nil
}

func (s *FileSource) open(path string) error {
	if s.fc == nil || s.pkt == nil {
		return errors.New("allocation failed")
	}
	if err := s.fc.OpenInput(path, nil, nil); err != nil {
		s.fc.Free() // avformat_open_input frees the context on failure; do not close it again
		s.fc = nil
		return err
	}
	if err := s.fc.FindStreamInfo(nil); err != nil {
		return fmt.Errorf("find stream info: %w", err)
	}
	for _, st := range s.fc.Streams() {
		cp := st.CodecParameters()
		var codec media.Codec
		switch cp.CodecID() {
		case astiav.CodecIDH264:
			codec = media.CodecH264
		case astiav.CodecIDHevc:
			codec = media.CodecH265
		default:
			continue
		}
		s.stream = st.Index()
		s.tb = st.TimeBase()
		s.start = st.StartTime()
		s.info = media.StreamInfo{Codec: codec, Width: cp.Width(), Height: cp.Height()}
		s.frameDur = 40 * time.Millisecond
		if fr := st.AvgFrameRate(); fr.Num() > 0 && fr.Den() > 0 {
			s.frameDur = time.Duration(int64(time.Second) * int64(fr.Den()) / int64(fr.Num()))
		} else if fr := st.RFrameRate(); fr.Num() > 0 && fr.Den() > 0 {
			s.frameDur = time.Duration(int64(time.Second) * int64(fr.Den()) / int64(fr.Num()))
		}
		return s.parseExtradata(cp.ExtraData())
	}
	return ErrNoVideo
}

// parseExtradata reads parameter sets from avcC/hvcC (which also tells that
// packets are length-prefixed) or from Annex-B extradata.
func (s *FileSource) parseExtradata(ed []byte) error {
	if len(ed) == 0 {
		return nil
	}
	if ed[0] != 1 { // Annex-B extradata starts with a start code
		learnParameterSets(&s.info, SplitAnnexB(ed))
		return nil
	}
	var nalus [][]byte
	switch s.info.Codec {
	case media.CodecH264:
		// avcC: version, profile, compat, level, 6 bits reserved + lengthSizeMinusOne,
		// then SPS count/list and PPS count/list with 16-bit lengths.
		if len(ed) < 7 {
			return fmt.Errorf("avcC too short (%d bytes)", len(ed))
		}
		s.lenSize = int(ed[4]&3) + 1
		p := ed[5:]
		for _, countMask := range []byte{0x1f, 0xff} {
			if len(p) < 1 {
				break
			}
			count := int(p[0] & countMask)
			p = p[1:]
			for i := 0; i < count && len(p) >= 2; i++ {
				n := int(p[0])<<8 | int(p[1])
				if len(p) < 2+n {
					return errors.New("avcC truncated")
				}
				nalus = append(nalus, p[2:2+n])
				p = p[2+n:]
			}
		}
	case media.CodecH265:
		// hvcC: 22 bytes of header (lengthSizeMinusOne in byte 21), then arrays of
		// {type, 16-bit count, {16-bit length, nalu}...}.
		if len(ed) < 23 {
			return fmt.Errorf("hvcC too short (%d bytes)", len(ed))
		}
		s.lenSize = int(ed[21]&3) + 1
		arrays := int(ed[22])
		p := ed[23:]
		for a := 0; a < arrays && len(p) >= 3; a++ {
			count := int(p[1])<<8 | int(p[2])
			p = p[3:]
			for i := 0; i < count && len(p) >= 2; i++ {
				n := int(p[0])<<8 | int(p[1])
				if len(p) < 2+n {
					return errors.New("hvcC truncated")
				}
				nalus = append(nalus, p[2:2+n])
				p = p[2+n:]
			}
		}
	}
	learnParameterSets(&s.info, nalus)
	return nil
}

// Info implements Source.
func (s *FileSource) Info(ctx context.Context) (media.StreamInfo, error) {
	return s.info, ctx.Err()
}

// Next implements Source. Packets whose NAL framing is broken are passed on with
// the units that could be split, so the decoder counts the damage.
func (s *FileSource) Next(ctx context.Context) (*media.AccessUnit, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.pkt.Unref()
		if err := s.fc.ReadFrame(s.pkt); err != nil {
			if errors.Is(err, astiav.ErrEof) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("transcode: read packet: %w", err)
		}
		if s.pkt.StreamIndex() != s.stream {
			continue
		}
		data := s.pkt.Data() // a Go copy: the AU must outlive the packet
		var nalus [][]byte
		if s.lenSize > 0 {
			nalus, _ = splitLengthPrefixed(data, s.lenSize)
		} else {
			nalus = SplitAnnexB(data)
		}
		if len(nalus) == 0 {
			continue
		}
		au := &media.AccessUnit{Codec: s.info.Codec, PTS: s.pts(), NALUs: nalus}
		au.Key = s.pkt.Flags().Has(astiav.PacketFlagKey) || isKeyAU(au)
		if s.info.SPS == nil || s.info.PPS == nil {
			learnParameterSets(&s.info, nalus)
		}
		s.n++
		return au, nil
	}
}

// pts converts the packet's timestamp; raw streams may carry none, then the frame
// rate continues from the last one.
func (s *FileSource) pts() time.Duration {
	ts := s.pkt.Pts()
	if ts == astiav.NoPtsValue {
		ts = s.pkt.Dts()
	}
	if ts == astiav.NoPtsValue {
		if s.n == 0 {
			s.lastPTS = 0
		} else {
			s.lastPTS += s.frameDur
		}
		return s.lastPTS
	}
	if s.start != astiav.NoPtsValue {
		ts -= s.start
	}
	s.lastPTS = time.Duration(astiav.RescaleQ(ts, s.tb, astiav.NewRational(1, int(time.Second))))
	return s.lastPTS
}

// Close frees the demuxer. It is safe to call more than once.
func (s *FileSource) Close() error {
	if s.pkt != nil {
		s.pkt.Free()
		s.pkt = nil
	}
	if s.fc != nil {
		s.fc.CloseInput()
		s.fc.Free()
		s.fc = nil
	}
	return nil
}
