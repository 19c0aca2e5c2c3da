package transcode

import (
	"errors"
	"fmt"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/proconnect-oss/boxfw/box/media"
)

// decoder feeds access units to FFmpeg's H.264/H.265 decoder. Packet timestamps
// are nanoseconds, so decoded frames carry the source PTS in nanoseconds.
type decoder struct {
	cc     *astiav.CodecContext
	pkt    *astiav.Packet
	frame  *astiav.Frame
	buf    []byte
	errors int // packets or frames the decoder rejected
	last   error
}

func newDecoder(info media.StreamInfo, threads int) (*decoder, error) {
	var id astiav.CodecID
	switch info.Codec {
	case media.CodecH264:
		id = astiav.CodecIDH264
	case media.CodecH265:
		id = astiav.CodecIDHevc
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedCodec, info.Codec)
	}
	codec := astiav.FindDecoder(id)
	if codec == nil {
		return nil, fmt.Errorf("%w: no FFmpeg decoder for %v", ErrUnsupportedCodec, info.Codec)
	}
	d := &decoder{cc: astiav.AllocCodecContext(codec), pkt: astiav.AllocPacket(), frame: astiav.AllocFrame()}
	if d.cc == nil || d.pkt == nil || d.frame == nil {
		d.close()
		return nil, errors.New("transcode: allocating decoder failed")
	}
	// 0 = one thread per core (frame threading); the library default of 1 is ~1.5x slower.
	d.cc.SetThreadCount(threads)
	if ed := parameterSetExtradata(info); ed != nil {
		// Parameter sets from the session description let decoding start even when
		// the first keyframe arrives without in-band SPS/PPS.
		if err := d.cc.SetExtraData(ed); err != nil {
			d.close()
			return nil, fmt.Errorf("transcode: decoder extradata: %w", err)
		}
	}
	if err := d.cc.Open(codec, nil); err != nil {
		d.close()
		return nil, fmt.Errorf("transcode: open %v decoder: %w", info.Codec, err)
	}
	return d, nil
}

// decode sends one access unit and hands every frame that comes out to emit. A
// unit the decoder rejects is counted and skipped; only emit's errors stop it.
func (d *decoder) decode(au *media.AccessUnit, emit func(*astiav.Frame) error) error {
	if len(au.NALUs) == 0 {
		return nil
	}
	// FFmpeg requires AV_INPUT_BUFFER_PADDING_SIZE (64) zeroed bytes after the
	// data; astiav's FromData does not add them, so they are part of the copy and
	// cut off again with SetSize.
	const padding = 64
	d.buf = annexBPacket(d.buf, au.NALUs)
	n := len(d.buf)
	d.buf = append(d.buf, make([]byte, padding)...)
	d.pkt.Unref()
	if err := d.pkt.FromData(d.buf); err != nil {
		return fmt.Errorf("transcode: packet: %w", err)
	}
	d.pkt.SetSize(n)
	d.pkt.SetPts(int64(au.PTS))
	d.pkt.SetDts(astiav.NoPtsValue)
	if au.Key {
		d.pkt.SetFlags(astiav.NewPacketFlags(astiav.PacketFlagKey))
	}
	for {
		err := d.cc.SendPacket(d.pkt)
		if errors.Is(err, astiav.ErrEagain) {
			// Output is full: drain, then the packet is accepted.
			if err := d.receive(emit); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			d.fail(err)
		}
		break
	}
	d.pkt.Unref()
	return d.receive(emit)
}

// flush drains the frames the decoder still holds (frame threading delays output).
func (d *decoder) flush(emit func(*astiav.Frame) error) error {
	if err := d.cc.SendPacket(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
		d.fail(err)
	}
	return d.receive(emit)
}

func (d *decoder) receive(emit func(*astiav.Frame) error) error {
	for {
		err := d.cc.ReceiveFrame(d.frame)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			d.fail(err)
			return nil
		}
		err = emit(d.frame)
		d.frame.Unref()
		if err != nil {
			return err
		}
	}
}

func (d *decoder) fail(err error) {
	d.errors++
	d.last = err
}

func (d *decoder) close() {
	if d.frame != nil {
		d.frame.Free()
	}
	if d.pkt != nil {
		d.pkt.Free()
	}
	if d.cc != nil {
		d.cc.Free()
	}
}

// framePTS returns the source PTS of a decoded frame, or ok=false if the decoder
// lost it.
func framePTS(f *astiav.Frame) (time.Duration, bool) {
	if f.Pts() == astiav.NoPtsValue {
		return 0, false
	}
	return time.Duration(f.Pts()), true
}
