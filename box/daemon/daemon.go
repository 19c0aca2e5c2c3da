package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/proconnect-oss/boxfw/anr"
	"github.com/proconnect-oss/boxfw/box/admission"
	"github.com/proconnect-oss/boxfw/box/clipwindow"
	"github.com/proconnect-oss/boxfw/box/config"
	"github.com/proconnect-oss/boxfw/box/status"
	"github.com/proconnect-oss/boxfw/uplink"
)

// Version is the firmware version reported in status and to the cloud; set at
// build time with -ldflags "-X .../box/daemon.Version=...".
var Version = "dev"

// Options are what the daemon needs besides its configuration.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time // box clock; nil means time.Now
	// DrainTimeout bounds how long SIGTERM waits for clips being cut. Default 20s.
	DrainTimeout time.Duration
}

// Daemon is one running box.
type Daemon struct {
	cfg     config.Config
	logger  *slog.Logger
	now     func() time.Time
	opts    Options
	started time.Time

	spool   *anr.Spool
	tracker *clipwindow.Tracker
	adm     *admission.Set
	workDir string

	mu       sync.Mutex
	links    []config.Channel
	devCfg   []config.Device
	devices  map[string]*deviceRun
	channels map[int]*channelRun
	counts   map[int]*channelCounts // survive reconfiguration
	upMu     sync.Mutex             // serialises uplink (re)starts
	up       *uplink.Uploader
	upCancel context.CancelFunc
	upDone   chan struct{}
	upEP     string
	cloud    *cloudLink

	runCtx   context.Context // lives until every component stopped
	clipWG   sync.WaitGroup
	cutting  atomic.Int32
	inFlight atomic.Int32 // windows open or being cut
	problems []string
}

// channelCounts are a channel's counters since the daemon started.
type channelCounts struct {
	events        map[string]int64
	clipsMade     int64
	clipsFailed   int64
	uploaded      int64
	evicted       int64
	notSubscribed int64
}

// New opens the spool and prepares every component; Run starts them.
func New(cfg config.Config, opts Options) (*Daemon, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("daemon: invalid configuration:\n%w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = 20 * time.Second
	}
	d := &Daemon{
		cfg: cfg, logger: opts.Logger.With("component", "daemon"), now: opts.Now, opts: opts,
		adm: admission.NewSet(), devices: map[string]*deviceRun{}, channels: map[int]*channelRun{},
		counts: map[int]*channelCounts{},
	}
	d.workDir = filepath.Join(cfg.Box.DataDir, "work")
	if err := os.MkdirAll(d.workDir, 0o750); err != nil {
		return nil, fmt.Errorf("daemon: data dir: %w", err)
	}
	// Half-written transcodes from a crash are worthless: the spool never took them.
	if olds, _ := filepath.Glob(filepath.Join(d.workDir, "*.mp4")); len(olds) > 0 {
		for _, f := range olds {
			_ = os.Remove(f)
		}
		d.logger.Warn("removed unfinished clips from a previous run", "count", len(olds))
	}
	spool, err := anr.Open(filepath.Join(cfg.Box.DataDir, "spool"), anr.Options{
		MaxBytes: int64(cfg.Spool.MaxBytes), MinFreeBytes: int64(cfg.Spool.MinFreeBytes), OnDrop: d.onDrop,
	}, opts.Logger, opts.Now)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	d.spool = spool
	d.tracker = clipwindow.NewTracker(clipwindow.Options{
		PreRoll: cfg.Clips.PreRoll, PostRoll: cfg.Clips.PostRoll, Quiet: cfg.Clips.Quiet, MaxLength: cfg.Clips.MaxLength,
	}, d.onWindow)
	d.links, d.devCfg = cfg.Channel, cfg.Devices
	return d, nil
}

// Run runs the box until ctx ends, then drains: open clip windows are closed at
// once, clips being cut are finished and spooled, and only then do ingest, events
// and uploads stop. Everything acknowledged by the spool survives even a SIGKILL.
func (d *Daemon) Run(ctx context.Context) error {
	d.started = d.now()
	runCtx, stopAll := context.WithCancel(context.Background())
	defer stopAll()
	d.runCtx = runCtx
	defer d.spool.Close()

	st, err := status.Listen(d.cfg.Status.Listen, d, d.opts.Logger)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(runCtx)
	g.Go(func() error { return st.Run(gctx) })
	g.Go(func() error { d.tick(gctx); return nil })

	if d.cfg.Cloud.URL != "" {
		d.cloud = newCloudLink(d)
		g.Go(func() error { return d.cloud.run(gctx) })
	}
	d.startUplink(d.uplinkConfig())
	d.apply(d.devCfg, d.links)
	d.logger.Info("box running", "serial", d.cfg.Box.Serial, "version", Version, "channels", len(d.links),
		"status", "http://"+st.Addr+"/v1/status")

	select {
	case <-ctx.Done():
	case <-gctx.Done():
	}
	d.logger.Info("stopping: closing open clip windows and finishing clips")
	d.tracker.Flush(d.now())
	waited := make(chan struct{})
	go func() { d.clipWG.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(d.opts.DrainTimeout):
		d.logger.Warn("drain timeout: clips still being cut are abandoned", "cutting", d.cutting.Load())
	}
	d.mu.Lock()
	for _, dev := range d.devices {
		dev.cancel()
	}
	for _, ch := range d.channels {
		ch.cancel()
	}
	d.mu.Unlock()
	d.stopUplink()
	stopAll()
	err = g.Wait()
	// Wait outside the lock: a device goroutine may be delivering an event, which
	// takes the lock, before it sees the cancellation.
	d.mu.Lock()
	var dones []chan struct{}
	for _, ch := range d.channels {
		dones = append(dones, ch.done)
	}
	for _, dev := range d.devices {
		dones = append(dones, dev.done)
	}
	d.mu.Unlock()
	for _, done := range dones {
		<-done
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	d.logger.Info("stopped cleanly")
	return nil
}

func (d *Daemon) tick(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.tracker.Tick(d.now())
		}
	}
}

func (d *Daemon) countsLocked(ch int) *channelCounts {
	c := d.counts[ch]
	if c == nil {
		c = &channelCounts{events: map[string]int64{}}
		d.counts[ch] = c
	}
	return c
}

func (d *Daemon) count(ch int, f func(*channelCounts)) {
	d.mu.Lock()
	f(d.countsLocked(ch))
	d.mu.Unlock()
}

// onDrop counts an eviction on its channel; the cloud learns of it from the spool
// counters in the next health report.
func (d *Daemon) onDrop(drop anr.Drop) {
	d.count(drop.Clip.Channel, func(c *channelCounts) { c.evicted++ })
	d.logger.Warn("clip dropped from the spool", "clip", drop.Clip.ID, "channel", drop.Clip.Channel,
		"reason", drop.Reason, "class", drop.Class)
}

// redactURL hides the password of an RTSP URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "rtsp://(invalid)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}
