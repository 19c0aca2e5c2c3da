package daemon

import (
	"context"

	"github.com/proconnect-oss/boxfw/anr"
	"github.com/proconnect-oss/boxfw/box/status"
)

// cloudStorage is the object storage the cloud assigns to the box.
type cloudStorage struct {
	Endpoint, Bucket, Prefix, Region, AccessKey, SecretKey string
}

// cloudLink is the box's side of the installer cloud.
type cloudLink struct {
	d *Daemon
}

func newCloudLink(d *Daemon) *cloudLink { return &cloudLink{d: d} }

func (c *cloudLink) run(ctx context.Context) error { <-ctx.Done(); return nil }

func (c *cloudLink) subscribed(channel int) (sub, known bool) { return false, false }

func (c *cloudLink) storage() (cloudStorage, bool) { return cloudStorage{}, false }

func (c *cloudLink) registerClip(clip anr.Clip, key string) {}

func (c *cloudLink) noteDrop(drop anr.Drop) {}

func (c *cloudLink) status() status.Cloud { return status.Cloud{State: "disabled"} }
