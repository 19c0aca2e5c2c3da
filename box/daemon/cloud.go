package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/proconnect-oss/boxfw/anr"
	"github.com/proconnect-oss/boxfw/box/cloud"
	"github.com/proconnect-oss/boxfw/box/config"
	"github.com/proconnect-oss/boxfw/box/status"
)

// cloudStorage is the object storage the cloud assigns to the box.
type cloudStorage = cloud.Storage

// cloudLink is the box's side of the installer cloud: registration, heartbeats,
// remote channel configuration, health reports and the clip index. The box always
// dials out; the cloud answers on the next heartbeat.
type cloudLink struct {
	d      *Daemon
	client *cloud.Client
	log    *slog.Logger
	dir    string

	mu            sync.Mutex
	state         string
	lastHeartbeat time.Time
	configVersion int
	lastErr       string
	packages      map[int]bool // box channel -> active storage package
	haveList      bool
	lastSync      time.Time
	store         cloud.Storage
	haveStore     bool
	pending       []cloud.Clip // clip registrations not yet accepted (also on disk)
	wake          chan struct{}
}

func newCloudLink(d *Daemon) *cloudLink {
	c := &cloudLink{
		d: d, log: d.opts.Logger.With("component", "cloud"), dir: d.cfg.Box.DataDir, state: "registering",
		client: cloud.New(cloud.Config{URL: d.cfg.Cloud.URL}), packages: map[int]bool{}, wake: make(chan struct{}, 1),
	}
	if tok, err := os.ReadFile(c.tokenPath()); err == nil {
		c.client.SetToken(strings.TrimSpace(string(tok)))
	}
	c.pending = c.loadPending()
	return c
}

func (c *cloudLink) tokenPath() string   { return filepath.Join(c.dir, "cloud-token") }
func (c *cloudLink) pendingPath() string { return filepath.Join(c.dir, "cloud-clips.jsonl") }

func (c *cloudLink) setErr(state string, err error) {
	c.mu.Lock()
	c.state, c.lastErr = state, err.Error()
	c.mu.Unlock()
}

// run registers, then heartbeats until ctx ends.
func (c *cloudLink) run(ctx context.Context) error {
	go c.sendClips(ctx)
	interval := c.d.cfg.Cloud.Heartbeat
	wait := time.Second
	for ctx.Err() == nil {
		if c.client.Token() == "" {
			if err := c.register(ctx); err != nil {
				c.setErr("unreachable", err)
				c.log.Warn("cloud registration failed; retrying", "err", err, "in", wait)
				sleep(ctx, wait)
				wait = min(wait*2, time.Minute)
				continue
			}
		}
		resp, err := c.heartbeat(ctx)
		switch {
		case errors.Is(err, cloud.ErrUnauthorized):
			c.client.SetToken("") // rotated or revoked: register again
			continue
		case err != nil:
			c.setErr("unreachable", err)
			c.log.Warn("heartbeat failed", "err", err)
			sleep(ctx, wait)
			wait = min(wait*2, interval)
			continue
		}
		wait = time.Second
		if resp.HeartbeatSeconds > 0 {
			interval = time.Duration(resp.HeartbeatSeconds) * time.Second
			if interval > c.d.cfg.Cloud.Heartbeat {
				interval = c.d.cfg.Cloud.Heartbeat
			}
		}
		c.mu.Lock()
		// Package state changes without a config change (bought, expired), so the
		// channel list is also refreshed every ten heartbeats.
		changed := resp.ConfigChanged || resp.ConfigVersion != c.configVersion || !c.haveList ||
			c.d.now().Sub(c.lastSync) >= max(10*interval, 10*time.Second)
		c.mu.Unlock()
		if changed {
			if err := c.syncConfig(ctx); err != nil {
				c.setErr("degraded", err)
				c.log.Warn("remote configuration failed", "err", err)
			}
		}
		if resp.InspectionID != "" {
			if err := c.client.ReportHealth(ctx, c.health(resp.InspectionID)); err != nil {
				c.log.Warn("inspection report failed", "inspection", resp.InspectionID, "err", err)
			}
		}
		sleep(ctx, interval)
	}
	return nil
}

func (c *cloudLink) register(ctx context.Context) error {
	reg, err := c.client.Register(ctx, c.d.cfg.Box.Serial, c.d.cfg.Cloud.VerificationCode)
	if err != nil {
		return err
	}
	if err := writeFileDurable(c.tokenPath(), []byte(reg.Token)); err != nil {
		c.log.Warn("could not keep the cloud token; the box will register again after a restart", "err", err)
	}
	c.log.Info("registered with the cloud", "box", reg.BoxID, "site", reg.SiteID)
	return nil
}

func (c *cloudLink) heartbeat(ctx context.Context) (cloud.HeartbeatResponse, error) {
	c.mu.Lock()
	applied := c.configVersion
	c.mu.Unlock()
	resp, err := c.client.Heartbeat(ctx, cloud.HeartbeatRequest{AppliedConfigVersion: applied, Firmware: Version,
		UptimeSeconds: int64(c.d.now().Sub(c.d.started).Seconds())})
	if err != nil {
		return resp, err
	}
	c.mu.Lock()
	c.state, c.lastErr, c.lastHeartbeat = "ok", "", c.d.now()
	c.mu.Unlock()
	// Health goes with every heartbeat: it is small, and the cloud's automatic
	// inspection reads the latest report.
	if err := c.client.ReportHealth(ctx, c.health("")); err != nil {
		c.log.Warn("health report failed", "err", err)
	}
	return resp, nil
}

// syncConfig fetches storage and channels and applies them without a restart.
func (c *cloudLink) syncConfig(ctx context.Context) error {
	if c.d.cfg.Uplink.Endpoint == "" {
		st, err := c.client.Storage(ctx)
		if err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		c.mu.Lock()
		c.store, c.haveStore = st, true
		c.mu.Unlock()
		c.d.startUplink(c.d.uplinkConfig())
	}
	list, err := c.client.Channels(ctx)
	if err != nil {
		return fmt.Errorf("channels: %w", err)
	}
	devices, links := c.translate(list)
	c.mu.Lock()
	prevVersion := c.configVersion
	c.packages = map[int]bool{}
	for _, ch := range list.Channels {
		c.packages[ch.Channel] = ch.Package.Active
	}
	c.haveList, c.configVersion, c.lastSync = true, list.ConfigVersion, c.d.now()
	c.mu.Unlock()
	c.d.apply(devices, links)
	level := slog.LevelDebug
	if list.ConfigVersion != prevVersion {
		level = slog.LevelInfo
	}
	c.log.Log(ctx, level, "remote configuration applied", "version", list.ConfigVersion, "channels", len(links))
	return nil
}

// translate turns the cloud's channel list into the box's own config types.
func (c *cloudLink) translate(list cloud.ChannelList) ([]config.Device, []config.Channel) {
	byID := map[string]config.Device{}
	var links []config.Channel
	for _, ch := range list.Channels {
		dev := config.Device{Name: ch.DeviceID, Host: ch.Address, HTTPPort: ch.Port, RTSPPort: ch.RTSPPort,
			User: ch.Username, Password: ch.Password}
		if dev.HTTPPort == 0 {
			dev.HTTPPort = 80
		}
		if dev.RTSPPort == 0 {
			dev.RTSPPort = 554
		}
		byID[dev.Name] = dev
		upload := ch.Package.Active
		stream := ch.Stream
		if stream != "sub" {
			stream = "main"
		}
		res := ch.Output
		if res != "576p" {
			res = "1080p"
		}
		devCh := ch.DeviceChannel
		if devCh == 0 {
			devCh = 1
		}
		links = append(links, config.Channel{ID: ch.Channel, Device: dev.Name, DeviceChannel: devCh, Stream: stream,
			Resolution: res, Upload: &upload})
	}
	devices := make([]config.Device, 0, len(byID))
	for _, dev := range byID {
		devices = append(devices, dev)
	}
	return devices, links
}

func (c *cloudLink) subscribed(channel int) (sub, known bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.haveList {
		return false, false
	}
	return c.packages[channel], true
}

func (c *cloudLink) storage() (cloudStorage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.store, c.haveStore
}

// registerClip queues an uploaded clip for the cloud's clip index. The queue is on
// disk first, so a restart between upload and registration loses no index entry.
func (c *cloudLink) registerClip(clip anr.Clip, key string) {
	rec := cloud.Clip{ObjectKey: key, Channel: clip.Channel, EventTypes: clip.EventTypes, Start: clip.Start.UTC(),
		End: clip.End.UTC(), Size: clip.Size, SHA256: clip.SHA256}
	c.mu.Lock()
	c.pending = append(c.pending, rec)
	err := c.savePendingLocked()
	c.mu.Unlock()
	if err != nil {
		c.log.Error("could not persist a clip registration", "clip", clip.ID, "err", err)
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *cloudLink) sendClips(ctx context.Context) {
	wait := time.Second
	for {
		c.mu.Lock()
		var next *cloud.Clip
		if len(c.pending) > 0 {
			n := c.pending[0]
			next = &n
		}
		c.mu.Unlock()
		if next == nil {
			select {
			case <-ctx.Done():
				return
			case <-c.wake:
				continue
			}
		}
		if c.client.Token() == "" {
			sleep(ctx, wait)
			if ctx.Err() != nil {
				return
			}
			continue
		}
		_, err := c.client.RegisterClip(ctx, *next)
		var apiErr *cloud.APIError
		if errors.As(err, &apiErr) && permanent(apiErr.Status) {
			// The cloud will never take this entry: keep it aside for the operator
			// rather than blocking every registration behind it.
			c.log.Error("cloud rejected a clip registration; kept in cloud-clips-rejected.jsonl",
				"key", next.ObjectKey, "err", err)
			if line, mErr := json.Marshal(next); mErr == nil {
				appendLine(filepath.Join(c.dir, "cloud-clips-rejected.jsonl"), line)
			}
			err = nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Warn("clip registration failed; retrying", "key", next.ObjectKey, "err", err)
			sleep(ctx, wait+time.Duration(rand.Int64N(int64(wait))))
			wait = min(wait*2, 30*time.Second)
			continue
		}
		wait = time.Second
		c.mu.Lock()
		c.pending = c.pending[1:]
		if err := c.savePendingLocked(); err != nil {
			c.log.Error("could not persist clip registrations", "err", err)
		}
		c.mu.Unlock()
	}
}

// permanent reports whether an HTTP status means retrying cannot help (a conflict
// means the entry is already there).
func permanent(code int) bool {
	return code >= 400 && code < 500 && code != 401 && code != 408 && code != 429
}

func appendLine(path string, line []byte) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.Write(append(line, '\n'))
	_ = f.Sync()
}

func (c *cloudLink) loadPending() []cloud.Clip {
	f, err := os.Open(c.pendingPath())
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []cloud.Clip
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec cloud.Clip
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.ObjectKey != "" {
			out = append(out, rec)
		}
	}
	return out
}

func (c *cloudLink) savePendingLocked() error {
	var b strings.Builder
	for _, rec := range c.pending {
		line, _ := json.Marshal(rec)
		b.Write(line)
		b.WriteByte('\n')
	}
	return writeFileDurable(c.pendingPath(), []byte(b.String()))
}

func (c *cloudLink) status() status.Cloud {
	c.mu.Lock()
	defer c.mu.Unlock()
	return status.Cloud{State: c.state, URL: c.d.cfg.Cloud.URL, LastHeartbeat: c.lastHeartbeat,
		ConfigVersion: int64(c.configVersion), LastError: c.lastErr}
}

// health builds the report of the box and its linked cameras.
func (c *cloudLink) health(inspection string) cloud.HealthReport {
	s := c.d.Snapshot()
	rep := cloud.HealthReport{InspectionID: inspection}
	uplink := map[string]string{"ok": "ok", "degraded": "poor", "down": "down"}[s.Uplink.State]
	if uplink == "" {
		uplink = "down"
	}
	disk := cloud.DiskHealth{Status: "ok"}
	if s.Spool.BudgetBytes > 0 {
		pct := 100 * float64(s.Spool.Bytes) / float64(s.Spool.BudgetBytes)
		disk.UsagePercent = &pct
		overwritten := len(s.Spool.Evicted) > 0
		disk.Overwritten = &overwritten
		if pct >= 100 {
			disk.Status = "full"
		}
	}
	if s.Spool.Error != "" {
		disk.Status = "error"
	}
	var evicted int64
	for _, n := range s.Spool.Evicted {
		evicted += n
	}
	rep.Box = cloud.BoxHealth{Network: "ok", Disk: disk, Uplink: uplink, Firmware: Version,
		Spool: cloud.Spool{Clips: int(s.Spool.Pending + s.Spool.Uploading), Bytes: s.Spool.Bytes, Evicted: evicted, Lost: s.Spool.Lost}}
	devs := map[string]status.Device{}
	for _, dev := range s.Devices {
		devs[dev.Name] = dev
	}
	for _, ch := range s.Channels {
		dev := devs[ch.Device]
		stream := "down"
		if ch.State == "streaming" {
			stream = "ok"
		}
		devCh := 1
		for _, l := range c.d.linksSnapshot() {
			if l.ID == ch.ID {
				devCh = l.DeviceChannel
			}
		}
		rep.Cameras = append(rep.Cameras, cloud.CameraHealth{DeviceID: ch.Device, DeviceChannel: devCh,
			Online: dev.EventsState == "connected" || ch.State == "streaming", Stream: stream,
			VideoLoss: dev.VideoLoss, Tamper: dev.Tamper, DiskError: dev.DiskError})
	}
	return rep
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// writeFileDurable replaces path atomically: temp file, fsync, rename, fsync dir.
func writeFileDurable(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}
