package camsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4"
)

// Sim is one simulated camera or NVR. Create it with New, then Start; Close stops it.
// Knob methods are safe for concurrent use once Start has returned.
type Sim struct {
	cfg    Config
	log    *slog.Logger
	clock  Clock
	paths  []*streamPath // channel c, stream k at index (c-1)*2 + k-1
	byName map[string]*streamPath
	alerts *alertHub

	rtsp     *gortsplib.Server
	rtspAddr string
	httpSrv  *http.Server
	httpAddr string

	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	started   bool

	mu      sync.Mutex
	closing bool           // set before wg.Wait: no new goroutines
	wg      sync.WaitGroup // every goroutine the Sim starts
}

// goRun runs f in a goroutine the Sim waits for on Close; false once closing.
func (s *Sim) goRun(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// New validates cfg, fills its defaults and loads the media. Nothing listens until
// Start.
func New(cfg Config, logger *slog.Logger) (*Sim, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Sim{
		cfg:    cfg,
		log:    logger.With("component", "camsim", "mode", cfg.Mode),
		clock:  cfg.Clock,
		byName: make(map[string]*streamPath),
	}
	loaded := make(map[string]*media)
	for i, ch := range cfg.Channels {
		for k, name := range []string{ch.Main, ch.Sub} {
			m := loaded[name]
			if m == nil {
				var err error
				if m, err = loadMedia(cfg.MediaDir, name); err != nil {
					return nil, err
				}
				loaded[name] = m
			}
			p := &streamPath{
				name:    fmt.Sprintf("/Streaming/Channels/%d%02d", i+1, k+1),
				channel: i + 1, stream: k + 1, media: m, clock: s.clock,
			}
			p.log = s.log.With("path", p.name, "channel", p.channel)
			s.paths = append(s.paths, p)
			s.byName[pathKey(p.name)] = p
		}
	}
	s.alerts = newAlertHub(s)
	return s, nil
}

// Start listens on the RTSP and HTTP addresses and starts producing every stream;
// it returns once both listeners accept connections. ctx bounds the simulator's
// lifetime as well: cancelling it has the effect of Close.
func (s *Sim) Start(ctx context.Context) error {
	if s.started {
		return errors.New("camsim: already started")
	}
	s.started = true
	ctx, s.cancel = context.WithCancel(ctx)
	s.ctx = ctx
	if err := s.startRTSP(ctx); err != nil {
		s.cancel()
		s.shutdown()
		return err
	}
	l, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		s.cancel()
		s.shutdown()
		return fmt.Errorf("camsim: http listen %s: %w", s.cfg.HTTPAddr, err)
	}
	s.httpAddr = l.Addr().String()
	s.httpSrv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.goRun(func() {
		if err := s.httpSrv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http serve", "err", err)
		}
	})
	s.goRun(func() { s.alerts.run(ctx) })
	if len(s.cfg.Alert.Script) > 0 {
		start := s.clock.Now()
		s.goRun(func() { s.alerts.runScript(ctx, s.cfg.Alert.Script, start) })
	}
	// Close on ctx cancellation too, so no goroutine outlives the caller's context.
	s.goRun(func() {
		<-ctx.Done()
		s.stopServing()
	})
	s.log.Info("camsim ready", "rtsp", s.rtspAddr, "http", s.httpAddr, "channels", len(s.cfg.Channels),
		"model", s.cfg.Model, "manufacturer", s.cfg.Manufacturer)
	return nil
}

// Close stops the listeners, disconnects every client and waits for all goroutines.
func (s *Sim) Close() error {
	s.closeOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		s.shutdown()
	})
	return nil
}

// stopServing closes the listeners and disconnects every client. It is idempotent
// and safe to run concurrently (Close and a cancelled Start context both call it).
func (s *Sim) stopServing() {
	if s.httpSrv != nil {
		_ = s.httpSrv.Close()
	}
	s.alerts.shutdown()
	for _, p := range s.paths {
		p.stop()
	}
	if s.rtsp != nil {
		s.rtsp.Close()
	}
}

func (s *Sim) shutdown() {
	s.stopServing()
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.wg.Wait()
}

// RTSPAddr is the RTSP listener's host:port.
func (s *Sim) RTSPAddr() string { return s.rtspAddr }

// HTTPAddr is the ISAPI / control listener's host:port.
func (s *Sim) HTTPAddr() string { return s.httpAddr }

// Config returns the effective configuration, defaults filled in.
func (s *Sim) Config() Config { return s.cfg }

// StreamURL returns the RTSP URL of a channel's stream (1 main, 2 sub) with the
// credentials in it, e.g. rtsp://admin:pass@127.0.0.1:554/Streaming/Channels/101.
func (s *Sim) StreamURL(channel, stream int) string {
	u := url.URL{
		Scheme: "rtsp",
		User:   url.UserPassword(s.cfg.User, s.cfg.Password),
		Host:   s.rtspAddr,
		Path:   fmt.Sprintf("/Streaming/Channels/%d%02d", channel, stream),
	}
	return u.String()
}

// ISAPIURL returns the base URL of the ISAPI HTTP server (no credentials).
func (s *Sim) ISAPIURL() string { return "http://" + s.httpAddr }

func (s *Sim) pathByName(name string) *streamPath { return s.byName[pathKey(name)] }

// channelPaths returns the main and sub path of a 1-based channel.
func (s *Sim) channelPaths(ch int) ([]*streamPath, error) {
	if ch < 1 || ch > len(s.cfg.Channels) {
		return nil, fmt.Errorf("%w: %d (device has %d)", ErrNoChannel, ch, len(s.cfg.Channels))
	}
	return s.paths[(ch-1)*2 : ch*2], nil
}

func (s *Sim) eachPath(ch int, f func(*streamPath) error) error {
	if s.rtsp == nil {
		return ErrNotStarted
	}
	ps, err := s.channelPaths(ch)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if err := f(p); err != nil {
			return err
		}
	}
	return nil
}

// StopStream removes the channel's main and sub paths: readers are disconnected and
// DESCRIBE answers 404 until StartStream. On an NVR-style alertStream the channel
// then reports videoloss, as a dead IP channel does.
func (s *Sim) StopStream(ch int) error {
	err := s.eachPath(ch, func(p *streamPath) error { p.stop(); return nil })
	if err == nil {
		s.log.Info("stream stopped", "channel", ch)
		if s.cfg.Alert.Style == StyleNVR {
			s.alerts.trigger(ch, "videoloss", 0)
		}
	}
	return err
}

// StartStream brings back a stopped channel.
func (s *Sim) StartStream(ch int) error {
	err := s.eachPath(ch, (*streamPath).start)
	if err == nil {
		s.log.Info("stream started", "channel", ch)
		if s.cfg.Alert.Style == StyleNVR {
			s.alerts.clear(ch, "videoloss")
		}
	}
	return err
}

// RestartStream disconnects the channel's current readers; the stream itself goes
// on and new readers can connect at once.
func (s *Sim) RestartStream(ch int) error {
	err := s.eachPath(ch, (*streamPath).restart)
	if err == nil {
		s.log.Info("stream restarted", "channel", ch)
	}
	return err
}

// Stall stops sending packets on the channel for d (d <= 0: until Resume) while
// connections stay open.
func (s *Sim) Stall(ch int, d time.Duration) error {
	err := s.eachPath(ch, func(p *streamPath) error { p.stall(d); return nil })
	if err == nil {
		s.log.Info("stream stalled", "channel", ch, "for", d)
	}
	return err
}

// Resume ends a stall early.
func (s *Sim) Resume(ch int) error {
	return s.eachPath(ch, func(p *streamPath) error { p.resume(); return nil })
}

// SendGarbage replaces the payload of the next n RTP packets of each of the
// channel's streams with random bytes (headers stay valid), then streams normally.
func (s *Sim) SendGarbage(ch int, n int) error {
	err := s.eachPath(ch, func(p *streamPath) error { p.addGarbage(n); return nil })
	if err == nil {
		s.log.Info("garbage queued", "channel", ch, "packets", n)
	}
	return err
}

// Trigger makes channel ch (0: the device itself) report eventType for d
// (d <= 0: until ClearEvents) on every alertStream.
func (s *Sim) Trigger(ch int, eventType string, d time.Duration) error {
	if ch < 0 || ch > len(s.cfg.Channels) {
		return fmt.Errorf("%w: %d (device has %d)", ErrNoChannel, ch, len(s.cfg.Channels))
	}
	if eventType == "" {
		return errors.New("camsim: empty event type")
	}
	s.alerts.trigger(ch, eventType, d)
	return nil
}

// RunScript triggers script's events in the background, each At after now.
func (s *Sim) RunScript(script []ScriptEvent) error {
	if s.ctx == nil {
		return ErrNotStarted
	}
	for _, ev := range script {
		if ev.Channel < 0 || ev.Channel > len(s.cfg.Channels) {
			return fmt.Errorf("%w: %d (device has %d)", ErrNoChannel, ev.Channel, len(s.cfg.Channels))
		}
	}
	script = append([]ScriptEvent(nil), script...)
	start := s.clock.Now()
	if !s.goRun(func() { s.alerts.runScript(s.ctx, script, start) }) {
		return ErrNotStarted
	}
	return nil
}

// ClearEvents ends every active event (camera style reports each as inactive).
func (s *Sim) ClearEvents() { s.alerts.clearAll() }

// Status is a snapshot of the simulator's state.
type Status struct {
	RTSPAddr      string        `json:"rtspAddr"`
	HTTPAddr      string        `json:"httpAddr"`
	Paths         []PathStatus  `json:"paths"`
	ActiveEvents  []EventStatus `json:"activeEvents"`
	AlertSessions int           `json:"alertSessions"`
	AlertQuirks   AlertQuirks   `json:"alertQuirks"`
}

// Status reports the current state of streams, events and alert sessions.
func (s *Sim) Status() Status {
	st := Status{RTSPAddr: s.rtspAddr, HTTPAddr: s.httpAddr}
	for _, p := range s.paths {
		st.Paths = append(st.Paths, p.status())
	}
	st.ActiveEvents, st.AlertSessions = s.alerts.status()
	st.AlertQuirks = s.alerts.quirks()
	return st
}

// SetAlertQuirks replaces the alertStream quirks for connections opened from now on.
func (s *Sim) SetAlertQuirks(q AlertQuirks) error {
	if probs := q.validate(); len(probs) > 0 {
		return fmt.Errorf("%w: %v", ErrConfig, probs)
	}
	s.alerts.setQuirks(q)
	return nil
}

// AlertQuirks returns the quirks new alertStream connections get.
func (s *Sim) AlertQuirks() AlertQuirks { return s.alerts.quirks() }

// DisconnectAlerts drops every open alertStream connection.
func (s *Sim) DisconnectAlerts() { s.alerts.closeAll() }
