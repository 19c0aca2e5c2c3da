package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/proconnect-oss/boxfw/anr"
	"github.com/proconnect-oss/boxfw/box/admission"
	"github.com/proconnect-oss/boxfw/box/clipwindow"
	"github.com/proconnect-oss/boxfw/box/ingest"
	"github.com/proconnect-oss/boxfw/box/isapi"
	"github.com/proconnect-oss/boxfw/transcode"
)

// onEvent handles one notification from a device's alertStream: it is counted on
// every box channel linked to the event's device channel, feeds health, and for
// motion, line crossing and intrusion opens or extends a clip window.
func (d *Daemon) onEvent(dr *deviceRun, ev isapi.Event) {
	active := strings.EqualFold(ev.EventState, "active")
	typ := strings.ToLower(ev.EventType)
	dr.mu.Lock()
	switch {
	case typ == "videoloss" && !isapi.IsHeartbeat(ev):
		dr.videoLoss[ev.Channel] = active
	case typ == "tamperdetection" || typ == "shelteralarm":
		dr.tamper[ev.Channel] = active
	case typ == "diskerror" || typ == "diskfull":
		dr.diskError = active
	}
	dr.mu.Unlock()

	d.mu.Lock()
	var targets []int
	for id, cr := range d.channels {
		if cr.dev == dr && cr.link.DeviceChannel == ev.Channel {
			targets = append(targets, id)
			d.countsLocked(id).events[ev.EventType]++
		}
	}
	d.mu.Unlock()
	if !isapi.IsClipEvent(ev.EventType) {
		return
	}
	for _, id := range targets {
		d.tracker.Observe(id, ev.EventType, active, ev.Received)
	}
}

// onWindow starts cutting a clip as soon as its window opens, while the pre-roll
// is still in the ring.
func (d *Daemon) onWindow(w *clipwindow.Window) {
	d.clipWG.Add(1)
	d.inFlight.Add(1)
	go func() {
		defer d.clipWG.Done()
		defer d.inFlight.Add(-1)
		if err := d.cutClip(w); err != nil {
			d.count(w.Channel, func(c *channelCounts) { c.clipsFailed++ })
			d.logger.Error("clip failed", "channel", w.Channel, "start", w.Start, "err", err)
		}
	}()
}

func (d *Daemon) cutClip(w *clipwindow.Window) error {
	d.mu.Lock()
	cr := d.channels[w.Channel]
	linked := len(d.links)
	d.mu.Unlock()
	if cr == nil || cr.ing == nil {
		return fmt.Errorf("channel %d is not linked", w.Channel)
	}
	cr.mu.Lock()
	admitted := cr.admitted
	cr.mu.Unlock()
	if !admitted {
		<-w.Done()
		return fmt.Errorf("channel %d is not admitted", w.Channel)
	}
	if !d.subscribed(cr) {
		// No cloud-storage package: the product never uploads such a channel, so
		// its clips are counted and not cut (no CPU, no disk).
		<-w.Done()
		d.count(w.Channel, func(c *channelCounts) { c.notSubscribed++ })
		return nil
	}
	ctx := d.runCtx
	res, err := transcode.ParseResolution(cr.link.Resolution)
	if err != nil {
		return err
	}
	src := cr.ing.Clip(ingest.ClipOptions{From: w.Start})
	defer src.Close()
	ws := newWindowSource(src, w, 3*time.Second)
	startPTS, err := ws.StartPTS(ctx)
	if err != nil {
		return fmt.Errorf("no video for the clip: %w", err)
	}
	// One clip alone may use every core; when several can run at once (more linked
	// channels than cores), one thread per codec spreads the cores best: extra
	// threads only add synchronisation (bench/transcode/multichannel).
	threads := 0
	if n := d.cutting.Add(1); n > 1 || linked > runtime.NumCPU() {
		threads = 1
	}
	defer d.cutting.Add(-1)
	out := filepath.Join(d.workDir, fmt.Sprintf("ch%02d-%d-%d.mp4", w.Channel, w.Start.UnixNano(), w.Part))
	result, err := transcode.Transcode(ctx, ws, out, transcode.Options{
		Resolution: res, FPS: admission.OutputFPS(linked), Preset: d.cfg.Clips.Preset, Start: startPTS, Threads: threads,
		Logger: d.opts.Logger.With("channel", w.Channel),
	})
	if err != nil {
		_ = os.Remove(out)
		return fmt.Errorf("transcode: %w", err)
	}
	if result.Frames == 0 {
		_ = os.Remove(out)
		return fmt.Errorf("transcode produced no frames")
	}
	end, _ := w.End()
	clip, err := d.spool.AddFile(ctx, anr.ClipMeta{Channel: w.Channel, EventTypes: w.EventTypes(), Start: w.Start, End: end}, out)
	if err != nil {
		_ = os.Remove(out)
		return fmt.Errorf("spool: %w", err)
	}
	d.count(w.Channel, func(c *channelCounts) { c.clipsMade++ })
	d.logger.Info("clip spooled", "channel", w.Channel, "clip", clip.ID, "events", clip.EventTypes,
		"seconds", result.Duration.Seconds(), "size", clip.Size, "resolution", fmt.Sprintf("%dx%d", result.Width, result.Height))
	return nil
}

// subscribed reports whether the channel's clips may be uploaded: a cloud-storage
// package from the cloud, or the local config's upload flag when there is no cloud.
func (d *Daemon) subscribed(cr *channelRun) bool {
	if d.cloud != nil {
		if sub, known := d.cloud.subscribed(cr.link.ID); known {
			return sub
		}
	}
	return cr.link.Uploads()
}

func (d *Daemon) allowed(channel int) bool {
	d.mu.Lock()
	cr := d.channels[channel]
	d.mu.Unlock()
	if cr == nil {
		// A clip of a channel unlinked since is still uploaded: it was accepted
		// under a package and must not be lost.
		return true
	}
	return d.subscribed(cr)
}
