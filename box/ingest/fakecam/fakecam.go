// Package fakecam is a fake RTSP camera for tests: a gortsplib server on 127.0.0.1 that
// loops an H.264 or H.265 elementary stream in real time, with knobs to stop, restart
// and stall it, as real cameras do. It is test support for ingest and `boxd clip`.
package fakecam

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"
)

// Options configure a camera.
type Options struct {
	// File is an Annex-B elementary stream (.h264 or .h265/.hevc).
	File string
	// FPS is the playback rate; default 25.
	FPS int
	// Path is the RTSP path; default /Streaming/Channels/101.
	Path string
	// NoSDPParams leaves the parameter sets out of the SDP (they stay in-band).
	NoSDPParams bool
}

// Camera is a running fake camera.
type Camera struct {
	opts  Options
	h265  bool
	aus   [][][]byte
	vps   []byte
	sps   []byte
	pps   []byte
	addr  string
	mu    sync.Mutex
	srv   *gortsplib.Server
	strm  *gortsplib.ServerStream
	medi  *description.Media
	stall bool
	quit  chan struct{}
	done  chan struct{}
	// Sent counts access units written since Start.
	sent int
}

// Start loads the file and starts serving on a free 127.0.0.1 port.
func Start(opts Options) (*Camera, error) {
	if opts.FPS <= 0 {
		opts.FPS = 25
	}
	if opts.Path == "" {
		opts.Path = "/Streaming/Channels/101"
	}
	data, err := os.ReadFile(opts.File)
	if err != nil {
		return nil, fmt.Errorf("fakecam: %w", err)
	}
	c := &Camera{opts: opts, h265: strings.HasSuffix(opts.File, ".h265") || strings.HasSuffix(opts.File, ".hevc")}
	c.aus = SplitAccessUnits(data, c.h265)
	if len(c.aus) == 0 {
		return nil, fmt.Errorf("fakecam: no access units in %s", opts.File)
	}
	for _, n := range c.aus[0] {
		switch c.naluType(n) {
		case 32:
			c.vps = n
		case 7, 33:
			c.sps = n
		case 8, 34:
			c.pps = n
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakecam: %w", err)
	}
	c.addr = l.Addr().String()
	l.Close()
	if err := c.Restart(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Camera) naluType(n []byte) int {
	if len(n) == 0 {
		return -1
	}
	if c.h265 {
		return int(n[0]>>1) & 0x3f
	}
	return int(n[0] & 0x1f)
}

// URL is the camera's RTSP URL.
func (c *Camera) URL() string { return "rtsp://" + c.addr + c.opts.Path }

// Addr is host:port.
func (c *Camera) Addr() string { return c.addr }

// Sent returns how many access units were written.
func (c *Camera) Sent() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent
}

// Stop closes the server and every session, like a camera rebooting.
func (c *Camera) Stop() {
	c.mu.Lock()
	srv, strm, quit, done := c.srv, c.strm, c.quit, c.done
	c.srv, c.strm, c.quit, c.done = nil, nil, nil, nil
	c.mu.Unlock()
	if srv == nil {
		return
	}
	close(quit)
	<-done
	strm.Close()
	srv.Close()
}

// Stall stops (true) or resumes (false) sending video while keeping sessions open.
func (c *Camera) Stall(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stall = on
}

// Restart starts the server again on the same address (after Stop); the stream starts
// over from the first access unit with a new RTP timeline.
func (c *Camera) Restart() error {
	c.Stop()
	var forma format.Format
	if c.h265 {
		f := &format.H265{PayloadTyp: 96}
		if !c.opts.NoSDPParams {
			f.VPS, f.SPS, f.PPS = c.vps, c.sps, c.pps
		}
		forma = f
	} else {
		f := &format.H264{PayloadTyp: 96, PacketizationMode: 1}
		if !c.opts.NoSDPParams {
			f.SPS, f.PPS = c.sps, c.pps
		}
		forma = f
	}
	medi := &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{forma}}
	h := &handler{}
	srv := &gortsplib.Server{Handler: h, RTSPAddress: c.addr}
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after Stop
		if err = srv.Start(); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("fakecam: start: %w", err)
	}
	strm := &gortsplib.ServerStream{Server: srv, Desc: &description.Session{Medias: []*description.Media{medi}}}
	if err := strm.Initialize(); err != nil {
		srv.Close()
		return fmt.Errorf("fakecam: stream: %w", err)
	}
	h.mu.Lock()
	h.stream = strm
	h.mu.Unlock()
	encode, err := encoder(forma)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.srv, c.strm, c.medi = srv, strm, medi
	c.quit, c.done = make(chan struct{}), make(chan struct{})
	quit, done := c.quit, c.done
	c.mu.Unlock()
	go c.loop(strm, medi, encode, quit, done)
	return nil
}

func encoder(forma format.Format) (func([][]byte) ([]*rtp.Packet, error), error) {
	switch f := forma.(type) {
	case *format.H264:
		e, err := f.CreateEncoder()
		if err != nil {
			return nil, err
		}
		return e.Encode, nil
	case *format.H265:
		e, err := f.CreateEncoder()
		if err != nil {
			return nil, err
		}
		return e.Encode, nil
	}
	return nil, fmt.Errorf("fakecam: format %T", forma)
}

func (c *Camera) loop(strm *gortsplib.ServerStream, medi *description.Media,
	encode func([][]byte) ([]*rtp.Packet, error), quit, done chan struct{}) {
	defer close(done)
	interval := time.Second / time.Duration(c.opts.FPS)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	ts := rand.Uint32() // a fresh RTP timeline per start, as after a reboot
	for i := 0; ; i++ {
		select {
		case <-quit:
			return
		case <-tick.C:
		}
		c.mu.Lock()
		stalled := c.stall
		c.mu.Unlock()
		if stalled {
			continue
		}
		au := c.aus[i%len(c.aus)]
		pkts, err := encode(au)
		if err != nil {
			continue
		}
		for _, p := range pkts {
			p.Timestamp = ts
			_ = strm.WritePacketRTP(medi, p)
		}
		ts += uint32(90000 / c.opts.FPS)
		c.mu.Lock()
		c.sent++
		c.mu.Unlock()
	}
}

type handler struct {
	mu     sync.RWMutex
	stream *gortsplib.ServerStream
}

func (h *handler) get() *gortsplib.ServerStream {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.stream
}

func (h *handler) OnDescribe(*gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if st := h.get(); st != nil {
		return &base.Response{StatusCode: base.StatusOK}, st, nil
	}
	return &base.Response{StatusCode: base.StatusServiceUnavailable}, nil, nil
}

func (h *handler) OnSetup(*gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if st := h.get(); st != nil {
		return &base.Response{StatusCode: base.StatusOK}, st, nil
	}
	return &base.Response{StatusCode: base.StatusServiceUnavailable}, nil, nil
}

func (h *handler) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// SplitAccessUnits splits an Annex-B elementary stream into access units (NAL units
// without start codes), dropping access unit delimiters.
func SplitAccessUnits(data []byte, h265 bool) [][][]byte {
	var aus [][][]byte
	var cur [][]byte
	hasVCL := false
	flush := func() {
		if len(cur) > 0 {
			aus = append(aus, cur)
		}
		cur, hasVCL = nil, false
	}
	for _, n := range splitNALUs(data) {
		var typ int
		var vcl, firstSlice, aud bool
		if h265 {
			typ = int(n[0]>>1) & 0x3f
			vcl = typ < 32
			firstSlice = vcl && len(n) > 2 && n[2]&0x80 != 0
			aud = typ == 35
		} else {
			typ = int(n[0] & 0x1f)
			vcl = typ >= 1 && typ <= 5
			firstSlice = vcl && len(n) > 1 && n[1]&0x80 != 0
			aud = typ == 9
		}
		switch {
		case aud:
			flush()
			continue
		case vcl && firstSlice && hasVCL, !vcl && hasVCL:
			flush()
		}
		cur = append(cur, n)
		hasVCL = hasVCL || vcl
	}
	flush()
	return aus
}

func splitNALUs(data []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+2 < len(data); {
		if data[i] == 0 && data[i+1] == 0 && data[i+2] == 1 {
			if start >= 0 {
				out = appendNALU(out, data[start:i])
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 {
		out = appendNALU(out, data[start:])
	}
	return out
}

func appendNALU(out [][]byte, n []byte) [][]byte {
	n = bytes.TrimRight(n, "\x00") // the zero byte of a 4-byte start code
	if len(n) > 0 {
		out = append(out, n)
	}
	return out
}
