package camsim

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
	"github.com/pion/rtp"
)

const (
	frameRate     = 25
	frameDuration = time.Second / frameRate
	rtpClockRate  = 90000
	rtpPerFrame   = rtpClockRate / frameRate
	// maxLag is how far the producer may fall behind (a starved CPU) before it
	// re-anchors its schedule instead of bursting frames faster than real time.
	maxLag = 500 * time.Millisecond
)

// streamPath is one RTSP path (a channel's main or sub stream) and its producer.
type streamPath struct {
	name    string // "/Streaming/Channels/101"
	channel int    // 1-based
	stream  int    // 1 main, 2 sub
	media   *media
	server  *gortsplib.Server
	clock   Clock
	log     *slog.Logger

	mu         sync.Mutex
	live       *liveStream // nil while stopped
	stalled    bool
	stallUntil time.Time // zero: until Resume
	garbage    int       // packets still to corrupt
	frames     uint64    // access units written to a live, unstalled stream
	lagResets  uint64
}

// liveStream is one incarnation of a path; RestartStream replaces it so current
// readers are dropped while the producer keeps going.
type liveStream struct {
	stream *gortsplib.ServerStream
	medi   *description.Media
}

func (p *streamPath) newFormat() format.Format {
	if p.media.codec == codecH265 {
		return &format.H265{PayloadTyp: 96, VPS: p.media.vps, SPS: p.media.sps, PPS: p.media.pps}
	}
	return &format.H264{PayloadTyp: 96, SPS: p.media.sps, PPS: p.media.pps, PacketizationMode: 1}
}

func (p *streamPath) newLive() (*liveStream, error) {
	medi := &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{p.newFormat()}}
	st := &gortsplib.ServerStream{Server: p.server, Desc: &description.Session{
		Title:  "Media Presentation",
		Medias: []*description.Media{medi},
	}}
	if err := st.Initialize(); err != nil {
		return nil, fmt.Errorf("camsim: stream %s: %w", p.name, err)
	}
	return &liveStream{stream: st, medi: medi}, nil
}

// current returns the live stream, or nil while stopped.
func (p *streamPath) current() *liveStream {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live
}

func (p *streamPath) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live != nil {
		return nil
	}
	l, err := p.newLive()
	if err != nil {
		return err
	}
	p.live = l
	return nil
}

func (p *streamPath) stop() {
	p.mu.Lock()
	old := p.live
	p.live = nil
	p.mu.Unlock()
	if old != nil {
		old.stream.Close() // disconnects every reader
	}
}

func (p *streamPath) restart() error {
	l, err := p.newLive()
	if err != nil {
		return err
	}
	p.mu.Lock()
	old := p.live
	p.live = l
	p.mu.Unlock()
	if old != nil {
		old.stream.Close()
	}
	return nil
}

func (p *streamPath) stall(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
	p.stallUntil = time.Time{}
	if d > 0 {
		p.stallUntil = p.clock.Now().Add(d)
	}
}

func (p *streamPath) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = false
}

func (p *streamPath) addGarbage(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.garbage += n
}

// run produces the stream until ctx ends: access unit n is due at t0 + n/25 s on the
// monotonic clock and carries RTP timestamp base + n*3600, so timestamps keep rising
// across loops of the file and pacing never drifts with sleep jitter.
func (p *streamPath) run(ctx context.Context) {
	enc, err := newEncoder(p.newFormat())
	if err != nil {
		p.log.Error("rtp encoder", "err", err)
		return
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	tsBase := binary.BigEndian.Uint32(b[:])
	t0 := p.clock.Now()
	for n := int64(0); ; n++ {
		due := t0.Add(time.Duration(n) * frameDuration)
		now := p.clock.Now()
		if wait := due.Sub(now); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-p.clock.After(wait):
			}
		} else if -wait > maxLag {
			// Re-anchor: bursting the backlog would exceed real time.
			t0 = t0.Add(-wait)
			due = now
			p.mu.Lock()
			p.lagResets++
			p.mu.Unlock()
		}
		if ctx.Err() != nil {
			return
		}
		au := p.media.aus[n%int64(len(p.media.aus))]
		pkts, err := enc(au)
		if err != nil {
			p.log.Error("rtp encode", "err", err)
			return
		}
		ts := tsBase + uint32(n*rtpPerFrame)
		for _, pkt := range pkts {
			pkt.Timestamp = ts
		}
		p.write(pkts, due)
	}
}

// write sends one access unit's packets unless the path is stopped or stalled,
// corrupting payloads while garbage is pending.
func (p *streamPath) write(pkts []*rtp.Packet, ntp time.Time) {
	p.mu.Lock()
	live := p.live
	if p.stalled && !p.stallUntil.IsZero() && !p.clock.Now().Before(p.stallUntil) {
		p.stalled = false
	}
	if live == nil || p.stalled {
		p.mu.Unlock()
		return
	}
	for _, pkt := range pkts {
		if p.garbage == 0 {
			break
		}
		p.garbage--
		junk := make([]byte, len(pkt.Payload))
		_, _ = rand.Read(junk)
		pkt.Payload = junk
	}
	p.frames++
	p.mu.Unlock()
	for _, pkt := range pkts {
		// The only error is a stream closed by a concurrent knob: nothing to do.
		_ = live.stream.WritePacketRTPWithNTP(live.medi, pkt, ntp)
	}
}

// PathStatus is the state of one RTSP path, as reported by Status.
type PathStatus struct {
	Path      string `json:"path"`
	Channel   int    `json:"channel"`
	Stream    int    `json:"stream"`
	Media     string `json:"media"`
	Codec     string `json:"codec"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Live      bool   `json:"live"`
	Stalled   bool   `json:"stalled"`
	Garbage   int    `json:"garbagePending"`
	Frames    uint64 `json:"framesSent"`
	LagResets uint64 `json:"lagResets"`
}

func (p *streamPath) status() PathStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	stalled := p.stalled && (p.stallUntil.IsZero() || p.clock.Now().Before(p.stallUntil))
	return PathStatus{
		Path: p.name, Channel: p.channel, Stream: p.stream, Media: p.media.name,
		Codec: p.media.codec, Width: p.media.width, Height: p.media.height,
		Live: p.live != nil, Stalled: stalled, Garbage: p.garbage, Frames: p.frames, LagResets: p.lagResets,
	}
}

// newEncoder returns the RTP packetizer of a format.
func newEncoder(f format.Format) (func([][]byte) ([]*rtp.Packet, error), error) {
	switch f := f.(type) {
	case *format.H264:
		e, err := f.CreateEncoder()
		if err != nil {
			return nil, fmt.Errorf("camsim: h264 encoder: %w", err)
		}
		return e.Encode, nil
	case *format.H265:
		e, err := f.CreateEncoder()
		if err != nil {
			return nil, fmt.Errorf("camsim: h265 encoder: %w", err)
		}
		return e.Encode, nil
	}
	return nil, fmt.Errorf("camsim: no encoder for %T", f)
}

// rtspHandler answers RTSP requests for a Sim.
type rtspHandler struct {
	sim *Sim
}

func (h *rtspHandler) OnConnOpen(ctx *gortsplib.ServerHandlerOnConnOpenCtx) {
	h.sim.log.Debug("rtsp conn opened", "remote", ctx.Conn.NetConn().RemoteAddr().String())
}

func (h *rtspHandler) OnConnClose(ctx *gortsplib.ServerHandlerOnConnCloseCtx) {
	h.sim.log.Debug("rtsp conn closed", "remote", ctx.Conn.NetConn().RemoteAddr().String(), "err", ctx.Error)
}

func (h *rtspHandler) lookup(conn *gortsplib.ServerConn, req *base.Request, path string) (*base.Response, *gortsplib.ServerStream, error) {
	if !conn.VerifyCredentials(req, h.sim.cfg.User, h.sim.cfg.Password) {
		return &base.Response{StatusCode: base.StatusUnauthorized}, nil, liberrors.ErrServerAuth{}
	}
	p := h.sim.pathByName(path)
	if p == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	live := p.current()
	if live == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, live.stream, nil
}

func (h *rtspHandler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.lookup(ctx.Conn, ctx.Request, ctx.Path)
}

func (h *rtspHandler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.lookup(ctx.Conn, ctx.Request, ctx.Path)
}

func (h *rtspHandler) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	h.sim.log.Debug("rtsp play", "path", ctx.Path)
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// pathKey normalizes an RTSP path: clients vary the case ("channels") and may add a
// trailing slash.
func pathKey(p string) string {
	return strings.ToLower(strings.TrimSuffix("/"+strings.TrimLeft(p, "/"), "/"))
}

// startRTSP starts the RTSP server and one producer per path.
func (s *Sim) startRTSP(ctx context.Context) error {
	var addr net.Addr
	s.rtsp = &gortsplib.Server{
		Handler:        &rtspHandler{sim: s},
		RTSPAddress:    s.cfg.RTSPAddr,
		WriteQueueSize: 1024, // a 4K keyframe is a few hundred packets
		Listen: func(network, address string) (net.Listener, error) {
			l, err := net.Listen(network, address)
			if err == nil {
				addr = l.Addr()
			}
			return l, err
		},
	}
	if err := s.rtsp.Start(); err != nil {
		return fmt.Errorf("camsim: rtsp listen %s: %w", s.cfg.RTSPAddr, err)
	}
	s.rtspAddr = addr.String()
	for _, p := range s.paths {
		p.server = s.rtsp
		if err := p.start(); err != nil {
			return err
		}
	}
	for _, p := range s.paths {
		s.goRun(func() { p.run(ctx) })
	}
	return nil
}
