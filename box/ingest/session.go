package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
	"github.com/pion/rtp"

	"github.com/proconnect-oss/boxfw/box/media"
)

// sessionResult is why one RTSP session ended.
type sessionResult struct {
	reason   string
	err      error
	streamed time.Duration // from the first published unit to the end
}

// session is one RTSP connection. Its fields are touched by the client's reader
// goroutine only, except lastProgress and stop.
type session struct {
	c         *Channel
	client    *gortsplib.Client
	medi      *description.Media
	codec     media.Codec
	clockRate int64
	decode    func(*rtp.Packet) ([][]byte, error)

	params   params
	info     media.StreamInfo
	haveInfo bool
	gotKey   bool
	failed   bool
	prevPTS  time.Duration
	firstAt  time.Time

	lastProgress atomic.Int64 // Now().UnixNano() of the last RTP packet (or PLAY)
	stop         chan sessionResult
}

func (c *Channel) runSession(ctx context.Context) sessionResult {
	u, err := base.ParseURL(c.opts.URL)
	if err != nil {
		return sessionResult{reason: ReasonConnect, err: fmt.Errorf("%w: %s: %w", ErrConfig, c.redacted, err)}
	}
	tcp := gortsplib.TransportTCP
	client := &gortsplib.Client{
		Scheme:    u.Scheme,
		Host:      u.Host,
		Transport: &tcp,
		// gortsplib checks its TCP timeout against a whole-second timestamp, so give it
		// a margin; the precise stall check is our own watchdog below.
		ReadTimeout:   max(c.opts.ReadTimeout+time.Second, 2*time.Second),
		WriteTimeout:  max(c.opts.ReadTimeout, 2*time.Second),
		OnPacketsLost: func(n uint64) { c.packetsLost.Add(n) },
		OnDecodeError: c.decodeError,
	}
	if err := client.Start2(); err != nil {
		return sessionResult{reason: ReasonConnect, err: fmt.Errorf("ingest: %s: %w", c.redacted, err)}
	}
	defer client.Close()
	// Requests block up to ReadTimeout; closing the client aborts them when ctx ends.
	defer context.AfterFunc(ctx, client.Close)()

	s := &session{c: c, client: client, stop: make(chan sessionResult, 1)}
	if res, ok := s.setup(u); !ok {
		return res
	}
	if _, err := client.Play(nil); err != nil {
		return sessionResult{reason: ReasonConnect, err: fmt.Errorf("ingest: PLAY %s: %w", c.redacted, err)}
	}
	c.connects.Add(1)
	s.lastProgress.Store(c.opts.Now().UnixNano())
	c.log.Debug("rtsp session playing", "url", c.redacted, "codec", s.codec)

	waitErr := make(chan error, 1)
	go func() { waitErr <- client.Wait() }()
	tick := time.NewTicker(max(min(c.opts.ReadTimeout/4, time.Second), 10*time.Millisecond))
	defer tick.Stop()
	res := func() sessionResult {
		for {
			select {
			case <-ctx.Done():
				return sessionResult{reason: ReasonClosed, err: ctx.Err()}
			case res := <-s.stop:
				return res
			case err := <-waitErr:
				var te liberrors.ErrClientTCPTimeout
				if errors.As(err, &te) {
					return sessionResult{reason: ReasonTimeout, err: fmt.Errorf("%w: %w", ErrStalled, err)}
				}
				return sessionResult{reason: ReasonClosed, err: fmt.Errorf("ingest: %s: %w", c.redacted, err)}
			case <-tick.C:
				idle := c.opts.Now().Sub(time.Unix(0, s.lastProgress.Load()))
				if idle >= c.opts.ReadTimeout {
					return sessionResult{reason: ReasonTimeout,
						err: fmt.Errorf("%w: no video for %s from %s", ErrStalled, idle.Round(time.Millisecond), c.redacted)}
				}
			}
		}
	}()
	client.Close() // stop the reader before reading the session's fields
	if !s.firstAt.IsZero() {
		res.streamed = c.opts.Now().Sub(s.firstAt)
	}
	return res
}

// setup runs DESCRIBE and SETUP for the video track and installs the packet handler.
func (s *session) setup(u *base.URL) (sessionResult, bool) {
	c := s.c
	desc, _, err := s.client.Describe(u)
	if err != nil {
		return sessionResult{reason: ReasonConnect, err: fmt.Errorf("ingest: DESCRIBE %s: %w", c.redacted, err)}, false
	}
	var (
		h264f *format.H264
		h265f *format.H265
		forma format.Format
	)
	if s.medi = desc.FindFormat(&h264f); s.medi != nil {
		dec, err := h264f.CreateDecoder()
		if err != nil {
			return sessionResult{reason: ReasonStream, err: fmt.Errorf("ingest: %s: H.264 decoder: %w", c.redacted, err)}, false
		}
		sps, pps := h264f.SafeParams()
		s.codec, forma, s.decode, s.params = media.CodecH264, h264f, dec.Decode, params{sps: sps, pps: pps}
	} else if s.medi = desc.FindFormat(&h265f); s.medi != nil {
		dec, err := h265f.CreateDecoder()
		if err != nil {
			return sessionResult{reason: ReasonStream, err: fmt.Errorf("ingest: %s: H.265 decoder: %w", c.redacted, err)}, false
		}
		vps, sps, pps := h265f.SafeParams()
		s.codec, forma, s.decode, s.params = media.CodecH265, h265f, dec.Decode, params{vps: vps, sps: sps, pps: pps}
	} else {
		return sessionResult{reason: ReasonStream, err: fmt.Errorf("%w: %s", ErrNoVideo, c.redacted)}, false
	}
	s.clockRate = int64(forma.ClockRate())
	// Parameters from the SDP let admission judge before any video is pulled; in-band
	// parameter sets override them later.
	if in, err := s.params.info(s.codec); err == nil {
		if err := s.learn(in); err != nil {
			return sessionResult{reason: ReasonRefused, err: err}, false
		}
	}
	// Only the video track: audio would cost bandwidth and CPU for nothing.
	if _, err := s.client.Setup(desc.BaseURL, s.medi, 0, 0); err != nil {
		return sessionResult{reason: ReasonConnect, err: fmt.Errorf("ingest: SETUP %s: %w", c.redacted, err)}, false
	}
	s.client.OnPacketRTP(s.medi, forma, s.onPacket)
	return sessionResult{}, true
}

// learn records new stream info and, when the picture size changed, asks admission.
func (s *session) learn(in media.StreamInfo) error {
	sizeChanged := !s.haveInfo || in.Width != s.info.Width || in.Height != s.info.Height || in.Codec != s.info.Codec
	s.info, s.haveInfo = in, true
	s.c.setInfo(in)
	if !sizeChanged {
		return nil
	}
	s.c.log.Info("stream learned", "codec", in.Codec, "width", in.Width, "height", in.Height)
	if s.c.opts.Admit == nil {
		return nil
	}
	if err := s.c.opts.Admit(in); err != nil {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return nil
}

func (s *session) fail(res sessionResult) {
	s.failed = true
	select {
	case s.stop <- res:
	default:
	}
}

func isPartial(err error) bool {
	return errors.Is(err, rtph264.ErrMorePacketsNeeded) || errors.Is(err, rtph265.ErrMorePacketsNeeded) ||
		errors.Is(err, rtph264.ErrNonStartingPacketAndNoPrevious) ||
		errors.Is(err, rtph265.ErrNonStartingPacketAndNoPrevious)
}

// onPacket runs on the client's reader goroutine for every video RTP packet.
func (s *session) onPacket(pkt *rtp.Packet) {
	if s.failed {
		return
	}
	// Any packet is progress: a stall means the camera sends nothing, and a long GOP
	// before the first keyframe must not look like one.
	s.lastProgress.Store(s.c.opts.Now().UnixNano())
	ticks, ok := s.client.PacketPTS2(s.medi, pkt)
	if !ok {
		return // no timeline before the first keyframe
	}
	pts := time.Duration(ticks/s.clockRate)*time.Second + time.Duration(ticks%s.clockRate)*time.Second/time.Duration(s.clockRate)
	nalus, err := s.decode(pkt)
	auPTS := pts
	if !pkt.Marker {
		// Without a marker bit the decoder completes a unit when the next timestamp
		// starts, so the completed unit belongs to the previous timestamp.
		auPTS = s.prevPTS
	}
	s.prevPTS = pts
	if err != nil {
		if !isPartial(err) {
			s.c.decodeError(err)
		}
		return
	}
	s.handleAU(nalus, auPTS)
}

func (s *session) handleAU(nalus [][]byte, pts time.Duration) {
	if s.failed {
		return
	}
	c := s.c
	p := s.params
	var key, changed bool
	var inband params
	out := make([][]byte, 0, len(nalus)+3)
	for _, n := range nalus {
		switch classify(s.codec, n) {
		case kindAUD:
			continue // no value once units are framed; saves bytes in the ring
		case kindVPS:
			inband.vps, changed = n, changed || !bytes.Equal(n, p.vps)
			p.vps = n
		case kindSPS:
			inband.sps, changed = n, changed || !bytes.Equal(n, p.sps)
			p.sps = n
		case kindPPS:
			inband.pps, changed = n, changed || !bytes.Equal(n, p.pps)
			p.pps = n
		case kindKey:
			key = true
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return
	}
	s.params = p
	if changed || !s.haveInfo {
		in, err := p.info(s.codec)
		switch {
		case err == nil:
			if err := s.learn(in); err != nil {
				s.fail(sessionResult{reason: ReasonRefused, err: err})
				return
			}
		case changed && p.sps != nil && p.pps != nil:
			c.decodeError(err)
		}
	}
	if !s.gotKey {
		if !key || !s.haveInfo {
			c.skippedNoKey.Add(1)
			return
		}
		s.gotKey = true
	}
	if key && (inband.sps == nil || inband.pps == nil || (s.codec == media.CodecH265 && inband.vps == nil)) {
		// Every keyframe carries its parameter sets, so a clip or a subscriber can start
		// at any keyframe (many cameras send them only in the SDP).
		out = withParams(s.codec, s.params, out)
	}
	au := &media.AccessUnit{Codec: s.codec, Wall: c.opts.Now(), Key: key, NALUs: out}
	first := s.firstAt.IsZero()
	if first {
		s.firstAt = au.Wall
		c.setState(StateStreaming)
	}
	c.publish(au, pts, first)
}

func withParams(codec media.Codec, p params, nalus [][]byte) [][]byte {
	out := make([][]byte, 0, len(nalus)+3)
	if codec == media.CodecH265 {
		out = append(out, p.vps)
	}
	out = append(out, p.sps, p.pps)
	for _, n := range nalus {
		switch classify(codec, n) {
		case kindVPS, kindSPS, kindPPS:
			continue
		}
		out = append(out, n)
	}
	return out
}
