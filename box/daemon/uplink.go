package daemon

import (
	"context"
	"time"

	"github.com/proconnect-oss/boxfw/anr"
	"github.com/proconnect-oss/boxfw/box/config"
	"github.com/proconnect-oss/boxfw/uplink"
)

// uplinkConfig is the local uplink configuration, overlaid with the storage the
// cloud hands out when the local file names no endpoint.
func (d *Daemon) uplinkConfig() config.Uplink {
	u := d.cfg.Uplink
	if u.Endpoint == "" && d.cloud != nil {
		if st, ok := d.cloud.storage(); ok {
			u.Endpoint, u.Bucket, u.Prefix, u.Region = st.Endpoint, st.Bucket, st.Prefix, st.Region
			u.AccessKey, u.SecretKey = st.AccessKey, st.SecretKey
		}
	}
	return u
}

// startUplink (re)starts the uploader for u; with no endpoint clips wait in the spool.
func (d *Daemon) startUplink(u config.Uplink) {
	d.upMu.Lock() // one (re)start at a time: the cloud and Run both call this
	defer d.upMu.Unlock()
	d.mu.Lock()
	if u.Endpoint == "" || u.Endpoint == d.upEP && d.up != nil {
		d.mu.Unlock()
		return
	}
	d.mu.Unlock()
	// Stop the old uploader without the lock: its callbacks take it.
	d.stopUplinkLocked()
	d.mu.Lock()
	defer d.mu.Unlock()
	log := d.opts.Logger
	client, err := uplink.NewClient(context.Background(), uplink.ClientConfig{
		Endpoint: u.Endpoint, Region: u.Region, AccessKey: u.AccessKey, SecretKey: u.SecretKey,
	})
	if err != nil {
		d.problems = append(d.problems, "uplink: "+err.Error())
		log.Error("uplink client", "err", err)
		return
	}
	up, err := uplink.New(uplink.Options{
		Client: client, Bucket: u.Bucket, Prefix: u.Prefix, Serial: d.cfg.Box.Serial, Queue: d.spool, Logger: log,
		MultipartThreshold: int64(u.MultipartThreshold), PartSize: int64(u.PartSize), Concurrency: u.Concurrency,
		BandwidthLimit: int64(u.BandwidthLimit), Allowed: d.allowed, OnUploaded: d.onUploaded,
		Backoff:     uplink.Backoff{Initial: 500 * time.Millisecond, Max: 15 * time.Second},
		ClipBackoff: uplink.Backoff{Initial: 2 * time.Second, Max: time.Minute},
	})
	if err != nil {
		d.problems = append(d.problems, "uplink: "+err.Error())
		log.Error("uplink", "err", err)
		return
	}
	ctx, cancel := context.WithCancel(d.runCtx)
	done := make(chan struct{})
	d.up, d.upCancel, d.upDone, d.upEP = up, cancel, done, u.Endpoint
	go func() {
		defer close(done)
		if err := up.EnsureBucket(ctx); err != nil {
			log.Warn("bucket check failed; uploads will retry", "bucket", u.Bucket, "err", err)
		}
		if err := up.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("uplink stopped", "err", err)
		}
	}()
}

func (d *Daemon) stopUplink() {
	d.upMu.Lock()
	defer d.upMu.Unlock()
	d.stopUplinkLocked()
}

// stopUplinkLocked stops the uploader; the caller holds upMu (not mu).
func (d *Daemon) stopUplinkLocked() {
	d.mu.Lock()
	cancel, done := d.upCancel, d.upDone
	d.up, d.upCancel, d.upDone, d.upEP = nil, nil, nil, ""
	d.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (d *Daemon) onUploaded(clip anr.Clip, key string) {
	d.logger.Info("clip uploaded", "clip", clip.ID, "channel", clip.Channel, "events", clip.EventTypes, "key", key, "size", clip.Size)
	d.count(clip.Channel, func(c *channelCounts) { c.uploaded++ })
	if d.cloud != nil {
		d.cloud.registerClip(clip, key)
	}
}
