package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proconnect-oss/boxfw/box/media"
	"github.com/proconnect-oss/boxfw/box/ring"
)

// Defaults for Options' zero values.
const (
	DefaultReadTimeout  = 5 * time.Second
	DefaultBackoffMin   = 500 * time.Millisecond
	DefaultBackoffMax   = 30 * time.Second
	DefaultHealthyAfter = 30 * time.Second
	DefaultRefusedRetry = time.Minute
	DefaultQueueSize    = 256
	DefaultLogInterval  = 30 * time.Second
)

// Options configure one channel. Zero values mean the documented defaults, except Now
// and URL, which are required.
type Options struct {
	// Channel is the box's channel number, used in logs, stats and admission.
	Channel int
	// URL is the RTSP URL, credentials included (rtsp://user:pass@host:554/Streaming/Channels/101).
	// It is never logged with the password.
	URL string
	// Now is the clock that stamps AccessUnit.Wall and all stats. Required.
	Now func() time.Time
	// Logger; default discards.
	Logger *slog.Logger
	// ReadTimeout: a session with no access unit for this long (camera stalled, or sends
	// RTCP but no video) is closed and reconnected. Also bounds each RTSP request. Default 5 s.
	ReadTimeout time.Duration
	// BackoffMin and BackoffMax bound the wait between reconnects (exponential with
	// jitter). Defaults 500 ms and 30 s.
	BackoffMin, BackoffMax time.Duration
	// HealthyAfter: a session that streamed this long resets the backoff. Default 30 s.
	HealthyAfter time.Duration
	// Admit is asked whenever the stream's resolution is learned or changes (first SPS,
	// in-band SPS change). A non-nil error refuses the stream: the session closes and the
	// channel retries after RefusedRetry (the camera may be reconfigured). Nil admits all.
	Admit func(media.StreamInfo) error
	// RefusedRetry is the wait after a refusal. Default 1 min.
	RefusedRetry time.Duration
	// Ring bounds the pre-roll ring (defaults: 10 s, 32 MiB).
	Ring ring.Options
	// LogInterval: repeated errors are logged once per interval with a count. Default 30 s.
	LogInterval time.Duration
	// Rand returns a float in [0, 1) for backoff jitter. Default math/rand/v2.
	Rand func() float64
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReadTimeout, DefaultReadTimeout)
	def(&o.BackoffMin, DefaultBackoffMin)
	def(&o.BackoffMax, DefaultBackoffMax)
	def(&o.HealthyAfter, DefaultHealthyAfter)
	def(&o.RefusedRetry, DefaultRefusedRetry)
	def(&o.LogInterval, DefaultLogInterval)
	o.BackoffMax = max(o.BackoffMax, o.BackoffMin)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	return o
}

// State is the channel's lifecycle state as shown on the status API.
type State int

// States.
const (
	StateIdle       State = iota // Run not called yet
	StateConnecting              // dialing, DESCRIBE/SETUP/PLAY, waiting for the first keyframe
	StateStreaming               // access units flowing
	StateBackoff                 // waiting before a reconnect
	StateRefused                 // admission refused the stream; waiting RefusedRetry
	StateStopped                 // Run returned
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateConnecting:
		return "connecting"
	case StateStreaming:
		return "streaming"
	case StateBackoff:
		return "backoff"
	case StateRefused:
		return "refused"
	case StateStopped:
		return "stopped"
	}
	return "unknown"
}

// MarshalText makes State readable in JSON status documents.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Disconnect reasons, the keys of Stats.Disconnects.
const (
	ReasonConnect = "connect" // dial, DESCRIBE, SETUP or PLAY failed (unreachable, 401, 404...)
	ReasonClosed  = "closed"  // the camera closed the connection or the session errored
	ReasonTimeout = "timeout" // no data within ReadTimeout
	ReasonRefused = "refused" // admission refused the stream
	ReasonStream  = "stream"  // no usable video track or parameter sets
)

// Channel is one supervised RTSP input. Create with New, start with Run.
type Channel struct {
	opts     Options
	log      *slog.Logger
	ring     *ring.Ring
	rlog     *rateLog
	redacted string
	running  atomic.Bool

	// mu orders ring pushes and fan-out against Clip/Subscribe, so a clip sees the ring
	// snapshot and then the live tail without a gap or a duplicate.
	mu      sync.Mutex
	subs    map[*Subscription]struct{}
	stopped bool
	// PTS continuity across sessions: a camera restart starts its clock again, but
	// consumers (ring, clips) need one timeline per channel.
	published bool
	lastPTS   time.Duration
	lastWall  time.Time
	ptsOffset time.Duration
	codec     media.Codec

	smu         sync.Mutex // status fields below
	state       State
	stateSince  time.Time
	info        media.StreamInfo
	lastErr     string
	lastErrAt   time.Time
	disconnects map[string]uint64

	connects     atomic.Uint64
	aus          atomic.Uint64
	keyframes    atomic.Uint64
	bytes        atomic.Uint64
	decodeErrors atomic.Uint64
	packetsLost  atomic.Uint64
	skippedNoKey atomic.Uint64
	dropped      atomic.Uint64
}

// New validates opts and returns an idle channel.
func New(opts Options) (*Channel, error) {
	if opts.Now == nil {
		return nil, fmt.Errorf("%w: Now (clock) is required", ErrConfig)
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "" {
		return nil, fmt.Errorf("%w: URL %q is not an rtsp:// URL", ErrConfig, Redact(opts.URL))
	}
	opts = opts.withDefaults()
	c := &Channel{
		opts:        opts,
		ring:        ring.New(opts.Ring),
		rlog:        &rateLog{now: opts.Now, every: opts.LogInterval},
		redacted:    Redact(opts.URL),
		subs:        make(map[*Subscription]struct{}),
		disconnects: make(map[string]uint64),
		stateSince:  opts.Now(),
	}
	c.log = opts.Logger.With("component", "ingest", "channel", opts.Channel)
	return c, nil
}

// Redact returns the URL with its password removed, for logs and error messages.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}

// Ring exposes the channel's pre-roll ring (read-only use: Snapshot, Stats).
func (c *Channel) Ring() *ring.Ring { return c.ring }

// Info returns the stream info learned from the SPS, and whether it is known yet.
func (c *Channel) Info() (media.StreamInfo, bool) {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.info, c.info.Width > 0
}

// Run keeps the channel connected until ctx ends, reconnecting with backoff. It returns
// nil when ctx ends; a camera's failures never end it.
func (c *Channel) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer c.stop()
	bo := &backoff{min: c.opts.BackoffMin, max: c.opts.BackoffMax, rand: c.opts.Rand}
	for {
		c.setState(StateConnecting)
		res := c.runSession(ctx)
		if ctx.Err() != nil {
			return nil
		}
		c.disconnected(res)
		if res.streamed >= c.opts.HealthyAfter {
			bo.reset()
		}
		wait, st := bo.next(), StateBackoff
		if res.reason == ReasonRefused {
			wait, st = c.opts.RefusedRetry, StateRefused
		}
		c.setState(st)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// stop ends every subscription so clip readers see ErrStopped instead of waiting.
func (c *Channel) stop() {
	c.mu.Lock()
	c.stopped = true
	for s := range c.subs {
		delete(c.subs, s)
		close(s.ch)
	}
	c.mu.Unlock()
	c.setState(StateStopped)
}

func (c *Channel) disconnected(res sessionResult) {
	c.smu.Lock()
	c.disconnects[res.reason]++
	if res.err != nil {
		c.lastErr, c.lastErrAt = res.err.Error(), c.opts.Now()
	}
	c.smu.Unlock()
	if ok, n := c.rlog.allow("disconnect/" + res.reason); ok {
		c.log.Warn("rtsp session ended", "url", c.redacted, "reason", res.reason, "err", res.err,
			"streamed", res.streamed.Round(time.Millisecond), "repeated", n)
	}
}

func (c *Channel) setState(s State) {
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.state != s {
		c.state, c.stateSince = s, c.opts.Now()
	}
}

func (c *Channel) setInfo(in media.StreamInfo) {
	c.smu.Lock()
	defer c.smu.Unlock()
	c.info = in
}

func (c *Channel) decodeError(err error) {
	c.decodeErrors.Add(1)
	if ok, n := c.rlog.allow("decode"); ok {
		c.log.Warn("depacketize error", "url", c.redacted, "err", err, "repeated", n)
	}
}

// publish stamps the channel timeline on au, stores it in the ring and offers it to
// every subscriber. It never blocks: a full queue drops and counts.
func (c *Channel) publish(au *media.AccessUnit, sessionPTS time.Duration, firstOfSession bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if firstOfSession {
		if c.published {
			// Continue the timeline after the outage, as long as it really lasted, so PTS
			// and Wall stay aligned for clips that span a reconnect.
			gap := max(au.Wall.Sub(c.lastWall), time.Millisecond)
			c.ptsOffset = c.lastPTS + gap - sessionPTS
		} else {
			c.ptsOffset = -sessionPTS
		}
		if c.codec != au.Codec && c.codec != media.CodecUnknown {
			c.ring.Reset()
		}
		c.codec = au.Codec
	}
	au.PTS = sessionPTS + c.ptsOffset
	c.published, c.lastPTS, c.lastWall = true, au.PTS, au.Wall
	c.ring.Push(au)
	for s := range c.subs {
		s.offer(au)
	}
	size := uint64(au.Size())
	c.aus.Add(1)
	c.bytes.Add(size)
	if au.Key {
		c.keyframes.Add(1)
	}
}

// Stats is the channel's status for the status API and metrics.
type Stats struct {
	Channel     int
	URL         string // without password
	State       State
	StateSince  time.Time
	Codec       media.Codec
	Width       int
	Height      int
	LastError   string
	LastErrorAt time.Time
	Connects    uint64            // sessions that reached PLAY
	Disconnects map[string]uint64 // by Reason*
	AUs         uint64
	Keyframes   uint64
	Bytes       uint64 // access unit payload bytes
	// DecodeErrors counts RTP depacketization errors (missing packets, bad FU-A...).
	DecodeErrors uint64
	// PacketsLost counts RTP sequence gaps reported by the client.
	PacketsLost uint64
	// SkippedNoKey counts units discarded before a session's first keyframe.
	SkippedNoKey uint64
	// Dropped counts units subscribers' full queues could not take (including the
	// units skipped until the next keyframe after such a drop).
	Dropped     uint64
	Subscribers int
	Ring        ring.Stats
}

// Stats returns a consistent-enough snapshot of the counters.
func (c *Channel) Stats() Stats {
	s := Stats{
		Channel:      c.opts.Channel,
		URL:          c.redacted,
		Connects:     c.connects.Load(),
		AUs:          c.aus.Load(),
		Keyframes:    c.keyframes.Load(),
		Bytes:        c.bytes.Load(),
		DecodeErrors: c.decodeErrors.Load(),
		PacketsLost:  c.packetsLost.Load(),
		SkippedNoKey: c.skippedNoKey.Load(),
		Dropped:      c.dropped.Load(),
		Ring:         c.ring.Stats(),
	}
	c.mu.Lock()
	s.Subscribers = len(c.subs)
	c.mu.Unlock()
	c.smu.Lock()
	defer c.smu.Unlock()
	s.State, s.StateSince = c.state, c.stateSince
	s.Codec, s.Width, s.Height = c.info.Codec, c.info.Width, c.info.Height
	s.LastError, s.LastErrorAt = c.lastErr, c.lastErrAt
	s.Disconnects = make(map[string]uint64, len(c.disconnects))
	for k, v := range c.disconnects {
		s.Disconnects[k] = v
	}
	return s
}
