package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/proconnect-oss/boxfw/box/admission"
	"github.com/proconnect-oss/boxfw/box/config"
	"github.com/proconnect-oss/boxfw/box/ingest"
	"github.com/proconnect-oss/boxfw/box/isapi"
	"github.com/proconnect-oss/boxfw/box/media"
	"github.com/proconnect-oss/boxfw/box/ring"
)

// deviceRun is one ISAPI device: its verification and its alertStream.
type deviceRun struct {
	cfg    config.Device
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	verified  bool
	vendor    admission.Vendor
	info      isapi.DeviceInfo
	refusal   string
	lastErr   string
	stream    *isapi.AlertStream
	videoLoss map[int]bool
	tamper    map[int]bool
	diskError bool
}

// channelRun is one linked channel's ingest.
type channelRun struct {
	link   config.Channel
	dev    *deviceRun
	url    string
	ing    *ingest.Channel
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	admission string // "pending", "admitted" or the refusal
	admitted  bool
}

func (c *channelRun) setAdmission(ok bool, msg string) {
	c.mu.Lock()
	c.admitted, c.admission = ok, msg
	c.mu.Unlock()
}

// apply reconciles the running devices and channels with links: unchanged ones keep
// running, changed or removed ones stop, new ones start. The cloud calls it when
// an installer relinks channels, so it never needs a restart.
func (d *Daemon) apply(devices []config.Device, links []config.Channel) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.links, d.devCfg = links, devices
	wantDev := map[string]config.Device{}
	for _, l := range links {
		for _, dev := range devices {
			if dev.Name == l.Device {
				wantDev[dev.Name] = dev
			}
		}
	}
	for name, dr := range d.devices {
		if want, ok := wantDev[name]; !ok || want != dr.cfg {
			dr.cancel()
			delete(d.devices, name)
		}
	}
	for id, cr := range d.channels {
		keep := false
		for _, l := range links {
			if l.ID == id && sameLink(l, cr.link) && d.devices[l.Device] == cr.dev {
				keep = true
			}
		}
		if !keep {
			cr.cancel()
			d.adm.Release(id)
			delete(d.channels, id)
		}
	}
	for name, dev := range wantDev {
		if d.devices[name] == nil {
			d.devices[name] = d.startDevice(dev)
		}
	}
	for _, l := range links {
		if d.channels[l.ID] == nil {
			d.channels[l.ID] = d.startChannel(l, d.devices[l.Device])
		}
	}
}

func sameLink(a, b config.Channel) bool {
	return a.ID == b.ID && a.Device == b.Device && a.DeviceChannel == b.DeviceChannel && a.Stream == b.Stream &&
		a.Resolution == b.Resolution && a.Uploads() == b.Uploads()
}

func (d *Daemon) deviceURL(dev config.Device) string {
	return fmt.Sprintf("http://%s:%d", dev.Host, dev.HTTPPort)
}

func (d *Daemon) startDevice(dev config.Device) *deviceRun {
	ctx, cancel := context.WithCancel(d.runCtx)
	dr := &deviceRun{cfg: dev, cancel: cancel, done: make(chan struct{}), videoLoss: map[int]bool{}, tamper: map[int]bool{}}
	log := d.opts.Logger
	client, err := isapi.NewClient(isapi.ClientOptions{URL: d.deviceURL(dev), Username: dev.User, Password: dev.Password,
		HTTPClient: isapi.NewHTTPClient(isapi.HTTPOptions{}), Logger: log})
	if err != nil {
		dr.refusal = err.Error()
		close(dr.done)
		return dr
	}
	go func() {
		defer close(dr.done)
		info, ok := d.verifyDevice(ctx, dr, client, log)
		if !ok {
			return
		}
		// NVRs may number IP channel N as 32+N in events: learn the convention from
		// the device's own IP channel list.
		var parse isapi.ParseOptions
		if chans, err := client.InputProxyChannels(ctx); err == nil {
			parse.IPChannelOffset = isapi.AutoIPChannelOffset(info, chans)
		}
		stream, err := isapi.NewAlertStream(client, isapi.StreamOptions{
			OnEvent: func(ev isapi.Event) { d.onEvent(dr, ev) }, Logger: log, Clock: d.now, Parse: parse,
		})
		if err != nil {
			dr.mu.Lock()
			dr.lastErr = err.Error()
			dr.mu.Unlock()
			return
		}
		dr.mu.Lock()
		dr.stream = stream
		dr.mu.Unlock()
		_ = stream.Run(ctx)
	}()
	return dr
}

// verifyDevice reads deviceInfo (retrying while the device is unreachable) and
// decides whether it is a Hikvision device; only then do its channels start.
func (d *Daemon) verifyDevice(ctx context.Context, dr *deviceRun, client *isapi.Client, log *slog.Logger) (isapi.DeviceInfo, bool) {
	wait := time.Second
	for attempt := 0; ; attempt++ {
		info, err := client.DeviceInfo(ctx)
		if err == nil {
			hik, reason := isapi.IsHikvision(info)
			dr.mu.Lock()
			dr.verified, dr.info, dr.lastErr = true, info, ""
			if hik {
				dr.vendor = admission.VendorHikvision
			} else {
				dr.vendor = admission.VendorOther
				dr.refusal = fmt.Sprintf("device %s (model %q) is not a Hikvision device (%s): only Hikvision cameras, DVRs and NVRs can be linked",
					dr.cfg.Name, info.Model, reason)
			}
			dr.mu.Unlock()
			if !hik {
				log.Warn("device refused", "device", dr.cfg.Name, "reason", reason, "model", info.Model)
				return info, false
			}
			log.Info("device verified", "device", dr.cfg.Name, "model", info.Model, "serial", info.SerialNumber, "type", info.DeviceType)
			return info, true
		}
		dr.mu.Lock()
		dr.lastErr = err.Error()
		dr.mu.Unlock()
		if attempt%10 == 0 {
			log.Warn("deviceInfo failed; retrying", "err", err, "attempts", attempt+1)
		}
		select {
		case <-ctx.Done():
			return isapi.DeviceInfo{}, false
		case <-time.After(wait + time.Duration(rand.Int64N(int64(wait/2)+1))):
		}
		wait = min(wait*2, 30*time.Second)
	}
}

func (d *Daemon) rtspURL(dev config.Device, l config.Channel) string {
	userinfo := ""
	if dev.User != "" {
		userinfo = urlUserinfo(dev.User, dev.Password) + "@"
	}
	return fmt.Sprintf("rtsp://%s%s:%d%s", userinfo, dev.Host, dev.RTSPPort, l.StreamPath())
}

func (d *Daemon) startChannel(l config.Channel, dr *deviceRun) *channelRun {
	ctx, cancel := context.WithCancel(d.runCtx)
	cr := &channelRun{link: l, dev: dr, cancel: cancel, done: make(chan struct{}), admission: "pending"}
	if dr == nil {
		cr.admission = fmt.Sprintf("device %q is not configured", l.Device)
		close(cr.done)
		return cr
	}
	cr.url = d.rtspURL(dr.cfg, l)
	log := d.opts.Logger
	ing, err := ingest.New(ingest.Options{
		Channel: l.ID, URL: cr.url, Now: d.now, Logger: log,
		ReadTimeout: d.cfg.Ingest.ReadTimeout, BackoffMin: d.cfg.Ingest.BackoffMin, BackoffMax: d.cfg.Ingest.BackoffMax,
		Ring:  ring.Options{MaxAge: d.cfg.Ingest.PreRoll, MaxBytes: int(d.cfg.Ingest.RingBytes)},
		Admit: func(info media.StreamInfo) error { return d.admit(cr, info) },
	})
	if err != nil {
		cr.admission = err.Error()
		close(cr.done)
		return cr
	}
	cr.ing = ing
	go func() {
		defer close(cr.done)
		// A channel waits for its device's verdict: refused devices never stream.
		for {
			dr.mu.Lock()
			verified, vendor, refusal := dr.verified, dr.vendor, dr.refusal
			dr.mu.Unlock()
			if verified || refusal != "" {
				if vendor != admission.VendorHikvision {
					cr.setAdmission(false, "refused: "+refusal)
					return
				}
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
		_ = ing.Run(ctx)
	}()
	return cr
}

// admit applies the admission rules once the stream's resolution is known.
func (d *Daemon) admit(cr *channelRun, info media.StreamInfo) error {
	d.adm.Release(cr.link.ID) // a resolution change is judged afresh
	err := d.adm.Admit(admission.Channel{ID: cr.link.ID, Vendor: admission.VendorHikvision, Width: info.Width, Height: info.Height})
	if err != nil {
		cr.setAdmission(false, err.Error())
		d.logger.Error("channel refused by admission", "channel", cr.link.ID, "err", err)
		return err
	}
	cr.setAdmission(true, "admitted")
	return nil
}

func urlUserinfo(user, pass string) string {
	r := strings.NewReplacer("%", "%25", "@", "%40", ":", "%3A", "/", "%2F", "?", "%3F", "#", "%23")
	return r.Replace(user) + ":" + r.Replace(pass)
}

func (d *Daemon) linksSnapshot() []config.Channel {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]config.Channel(nil), d.links...)
}
