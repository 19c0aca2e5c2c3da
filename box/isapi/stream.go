package isapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for StreamOptions.
const (
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = time.Minute
	// stableAfter: a connection that lived this long resets the backoff, so a
	// device that closes the stream every few minutes is not penalised.
	stableAfter = 30 * time.Second
)

// StreamOptions configure an AlertStream. Zero values mean the documented defaults.
type StreamOptions struct {
	// OnEvent receives every parsed event, heartbeats included, in order, on the
	// Run goroutine. It must not block for long: the device's TCP window is the
	// only buffer. Required.
	OnEvent func(Event)
	// OnConnect, if set, is called each time the stream is established.
	OnConnect func(path string)
	// Logger; nil discards.
	Logger *slog.Logger
	// Clock stamps Event.Received; nil means time.Now.
	Clock func() time.Time
	// MinBackoff and MaxBackoff bound the reconnect delay, which doubles per
	// failure and is jittered to half..full of its value. Defaults 1 s and 1 min.
	// A rejected password waits MaxBackoff at once: devices lock accounts after
	// a few failures.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// IdleTimeout drops a connection that sent no byte for this long. 0 (the
	// default) disables it: some devices stay silent for minutes and TCP
	// keepalive (see NewHTTPClient) already detects dead peers. If used, make it
	// generous (several minutes).
	IdleTimeout time.Duration
	// MaxPartSize bounds one part; default DefaultMaxPartSize (4 MiB).
	MaxPartSize int
	// Parse tunes event parsing (channel resolution).
	Parse ParseOptions
	// FailFast makes Run return the error of the first connection attempt if it
	// fails (bad password, unreachable device) instead of retrying: for
	// diagnostic commands. Once connected, Run always reconnects.
	FailFast bool
}

// StreamStats are the stream's counters since it was created.
type StreamStats struct {
	Connected    bool
	Path         string            // the alertStream path in use
	Connects     uint64            // successful connections
	Reconnects   uint64            // connection attempts after the first
	Events       uint64            // events delivered, heartbeats included
	EventsByType map[string]uint64 // by lower-cased eventType
	Heartbeats   uint64
	Malformed    uint64 // parts skipped: framing errors and unparsable XML
	NonXMLParts  uint64 // image/jpeg and other non-event parts skipped
	Bytes        uint64 // body bytes read
	LastEvent    time.Time
	LastError    string
}

// AlertStream holds one alertStream session with a device and keeps it up.
type AlertStream struct {
	c    *Client
	opts StreamOptions
	log  *slog.Logger

	running atomic.Bool
	bytes   atomic.Uint64

	mu    sync.Mutex
	stats StreamStats
}

// NewAlertStream returns a stream for the device behind c.
func NewAlertStream(c *Client, opts StreamOptions) (*AlertStream, error) {
	if c == nil || opts.OnEvent == nil {
		return nil, errors.New("isapi: alert stream: client and OnEvent are required")
	}
	opts.MinBackoff = cmpOr(opts.MinBackoff, DefaultMinBackoff)
	opts.MaxBackoff = max(cmpOr(opts.MaxBackoff, DefaultMaxBackoff), opts.MinBackoff)
	opts.MaxPartSize = cmpOr(opts.MaxPartSize, DefaultMaxPartSize)
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &AlertStream{c: c, opts: opts, log: log.With("component", "isapi.alertstream", "device", c.Host()),
		stats: StreamStats{EventsByType: map[string]uint64{}, Path: PathAlertStream}}, nil
}

// Stats returns a snapshot of the counters.
func (s *AlertStream) Stats() StreamStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Bytes = s.bytes.Load()
	st.EventsByType = make(map[string]uint64, len(s.stats.EventsByType))
	for k, v := range s.stats.EventsByType {
		st.EventsByType[k] = v
	}
	return st
}

func (s *AlertStream) update(f func(*StreamStats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// Run holds the stream until ctx ends, reconnecting with backoff, and returns
// ctx's error. With FailFast it returns the first connection error instead.
// Devices limit concurrent sessions, so a second concurrent Run fails with
// ErrAlreadyRunning.
func (s *AlertStream) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer s.running.Store(false)

	failures := 0
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.update(func(st *StreamStats) { st.Reconnects++ })
		}
		start := time.Now()
		connected, err := s.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.update(func(st *StreamStats) {
			st.Connected = false
			if err != nil {
				st.LastError = err.Error()
			}
		})
		if !connected && s.opts.FailFast && attempt == 0 {
			return err
		}
		if connected && time.Since(start) >= stableAfter {
			failures = 0
		}
		delay := s.backoff(failures, err)
		failures++
		s.log.Warn("alert stream ended, reconnecting", "error", err, "connected", connected, "delay", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// backoff is the delay before reconnect attempt n (0-based): MinBackoff*2^n
// capped at MaxBackoff, jittered to [d/2, d) so boxes restarted together do not
// reconnect in lockstep. Rejected credentials wait the cap at once.
func (s *AlertStream) backoff(n int, err error) time.Duration {
	d := s.opts.MaxBackoff
	if !errors.Is(err, ErrUnauthorized) && n < 30 {
		d = min(s.opts.MinBackoff<<n, s.opts.MaxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

// session opens the stream and reads it until it fails. connected reports
// whether the device accepted the request.
func (s *AlertStream) session(ctx context.Context) (connected bool, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	s.mu.Lock()
	path := s.stats.Path
	s.mu.Unlock()
	resp, err := s.c.do(ctx, http.MethodGet, path, nil)
	if errors.Is(err, ErrNotFound) && path == PathAlertStream {
		// Older firmware serves the stream without the /ISAPI prefix.
		path = PathAlertStreamLegacy
		resp, err = s.c.do(ctx, http.MethodGet, path, nil)
	}
	if err != nil {
		return false, fmt.Errorf("isapi: alert stream: %w", err)
	}
	defer resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); strings.Contains(mt, "xml") {
		// Not a stream but an answer, e.g. a ResponseStatus refusing one more
		// session: report it instead of counting it as a malformed part.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if se := responseStatus(resp.StatusCode, path, body); se != nil {
			return false, fmt.Errorf("isapi: alert stream: %w", se)
		}
		return false, fmt.Errorf("isapi: alert stream: %w: Content-Type %q", ErrBadResponse, ct)
	}
	s.update(func(st *StreamStats) { st.Connects++; st.Connected = true; st.Path = path })
	s.log.Info("alert stream connected", "path", path, "content_type", ct)
	if s.opts.OnConnect != nil {
		s.opts.OnConnect(path)
	}

	var body io.Reader = &countingReader{r: resp.Body, n: &s.bytes}
	if s.opts.IdleTimeout > 0 {
		idle := time.AfterFunc(s.opts.IdleTimeout, func() { cancel(ErrIdleTimeout) })
		defer idle.Stop()
		body = &idleReader{r: body, t: idle, d: s.opts.IdleTimeout}
	}
	mr := NewMultipartReader(body, boundaryOf(ct), s.opts.MaxPartSize)
	for {
		part, err := mr.NextPart()
		if err != nil {
			if errors.Is(err, ErrMalformedPart) {
				s.update(func(st *StreamStats) { st.Malformed++ })
				s.log.Debug("skipped malformed part", "error", err)
				continue
			}
			if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
				err = cause
			}
			if err == io.EOF {
				err = errors.New("isapi: alert stream closed by device")
			}
			return true, err
		}
		s.deliver(part)
	}
}

func (s *AlertStream) deliver(part *Part) {
	if !part.IsXML() {
		s.update(func(st *StreamStats) { st.NonXMLParts++ })
		return
	}
	ev, err := ParseAlert(part.Body, s.opts.Clock(), s.opts.Parse)
	if err != nil {
		s.update(func(st *StreamStats) { st.Malformed++ })
		s.log.Debug("skipped unparsable part", "error", err)
		return
	}
	s.update(func(st *StreamStats) {
		st.Events++
		st.EventsByType[strings.ToLower(ev.EventType)]++
		if IsHeartbeat(ev) {
			st.Heartbeats++
		}
		st.LastEvent = ev.Received
	})
	s.opts.OnEvent(ev)
}

// boundaryOf extracts the boundary from a Content-Type header, tolerating the
// variants devices send; "" lets the reader fall back to the literal "boundary".
func boundaryOf(ct string) string {
	if _, params, err := mime.ParseMediaType(ct); err == nil && params["boundary"] != "" {
		return params["boundary"]
	}
	i := strings.Index(strings.ToLower(ct), "boundary=")
	if i < 0 {
		return ""
	}
	b := ct[i+len("boundary="):]
	if j := strings.IndexAny(b, "; \t"); j >= 0 {
		b = b[:j]
	}
	return strings.Trim(b, `"`)
}

type countingReader struct {
	r io.Reader
	n *atomic.Uint64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(uint64(n))
	return n, err
}

// idleReader pushes the idle deadline back on every byte received.
type idleReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (i *idleReader) Read(p []byte) (int, error) {
	n, err := i.r.Read(p)
	if n > 0 {
		i.t.Reset(i.d)
	}
	return n, err
}
