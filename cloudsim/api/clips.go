package api

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"time"

	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

// Playback and download limits from the product.
const (
	MaxPlaybackChannels = 4
	MaxDownloadChannels = 4
	DownloadWindow      = 2 * time.Minute
)

// clipEvent reports whether an ISAPI eventType produces clips: motion detection, line
// crossing and intrusion. Video loss, tamper and disk errors feed health instead.
func clipEvent(e string) bool {
	return e == "VMD" || e == "linedetection" || e == "fielddetection"
}

// Clip is one uploaded clip in the index.
type Clip struct {
	ID         string    `json:"id"`
	SiteID     string    `json:"site_id"`
	BoxID      string    `json:"box_id"`
	Channel    int       `json:"channel"`
	ObjectKey  string    `json:"object_key"`
	EventTypes []string  `json:"event_types"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	Registered time.Time `json:"registered"`
}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// clipKey orders clips by box, channel and start so range queries are prefix scans.
func clipKey(boxID string, ch int, start time.Time, id string) string {
	return fmt.Sprintf("%s/%02d/%s/%s", boxID, ch, store.SortableKey(uint64(start.UnixNano())), id)
}

type clipReq struct {
	ObjectKey  string    `json:"object_key"`
	Channel    int       `json:"channel"`
	EventTypes []string  `json:"event_types"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
}

func (r *clipReq) validate(prefix string) error {
	switch {
	case r.Channel < 1 || r.Channel > MaxBoxChannels:
		return fmt.Errorf("%w: channel 1..%d", ErrInvalid, MaxBoxChannels)
	case len(r.ObjectKey) <= len(prefix) || r.ObjectKey[:len(prefix)] != prefix || path.Clean(r.ObjectKey) != r.ObjectKey:
		return fmt.Errorf("%w: object key must lie under the box prefix %s", ErrInvalid, prefix)
	case !r.End.After(r.Start):
		return fmt.Errorf("%w: end must be after start", ErrInvalid)
	case r.Size <= 0 || !sha256RE.MatchString(r.SHA256):
		return fmt.Errorf("%w: size and lowercase hex sha256 required", ErrInvalid)
	case len(r.EventTypes) == 0:
		return fmt.Errorf("%w: at least one event type", ErrInvalid)
	}
	for _, e := range r.EventTypes {
		if !clipEvent(e) {
			return fmt.Errorf("%w: event type %q does not produce clips", ErrInvalid, e)
		}
	}
	return nil
}

// boxRegisterClip indexes an uploaded clip. The channel must have had an active package
// when the clip started (an ANR backlog uploaded late still counts). Registering the
// same object key again returns the existing entry, so box retries are harmless.
func (s *Server) boxRegisterClip(c *call) (any, error) {
	var req clipReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := req.validate(boxPrefix(s.cfg.Storage.Prefix, c.box.Serial)); err != nil {
		return nil, err
	}
	var clip Clip
	err := s.update(func(tx *store.Tx) error {
		var existing string
		if tx.Get(bucketClips+".keys", req.ObjectKey, &existing) == nil {
			return tx.Get(bucketClips, existing, &clip)
		}
		if _, ok := activeSub(tx, c.box.ID, req.Channel, req.Start); !ok {
			return fmt.Errorf("%w: box %s channel %d has no active package", ErrNotSubscribed, c.box.ID, req.Channel)
		}
		id, err := newID(tx, bucketClips, "k")
		if err != nil {
			return err
		}
		clip = Clip{ID: id, SiteID: c.box.SiteID, BoxID: c.box.ID, Channel: req.Channel, ObjectKey: req.ObjectKey,
			EventTypes: req.EventTypes, Start: req.Start.UTC(), End: req.End.UTC(), Size: req.Size, SHA256: req.SHA256, Registered: c.now}
		key := clipKey(clip.BoxID, clip.Channel, clip.Start, id)
		if err := tx.Put(bucketClips+".keys", clip.ObjectKey, key); err != nil {
			return err
		}
		return tx.Put(bucketClips, key, clip)
	})
	return clip, err
}

// clipsIn returns the clips of box channel ch overlapping [from, to).
func clipsIn(tx *store.Tx, boxID string, ch int, from, to time.Time) ([]Clip, error) {
	out := []Clip{}
	err := tx.Each(bucketClips, fmt.Sprintf("%s/%02d/", boxID, ch), func(_ string, raw []byte) error {
		var cl Clip
		if err := store.Decode(raw, &cl); err != nil {
			return err
		}
		if cl.End.After(from) && cl.Start.Before(to) {
			out = append(out, cl)
		}
		return nil
	})
	return out, err
}

func queryTime(c *call, name string, def time.Time) (time.Time, error) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
	}
	return t, nil
}

func (s *Server) listClips(c *call) (any, error) {
	out := []Clip{}
	err := s.siteView(c, func(site *Site) error { return maintain(c.user, site, relAdmin, relIT, relManager, relOwner) },
		func(tx *store.Tx, site *Site) error {
			box, err := getBox(tx, site, c.param("box"))
			if err != nil {
				return err
			}
			from, err := queryTime(c, "from", time.Time{})
			if err != nil {
				return err
			}
			to, err := queryTime(c, "to", c.now.Add(time.Hour))
			if err != nil {
				return err
			}
			for ch := 1; ch <= MaxBoxChannels; ch++ {
				if q := c.r.URL.Query().Get("channel"); q != "" && q != strconv.Itoa(ch) {
					continue
				}
				cl, err := clipsIn(tx, box.ID, ch, from, to)
				if err != nil {
					return err
				}
				out = append(out, cl...)
			}
			return nil
		})
	return out, err
}

type mediaReq struct {
	BoxID    string    `json:"box_id"`
	Channels []int     `json:"channels"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to,omitzero"`
}

// MediaLink is a clip with a time-limited link to it.
type MediaLink struct {
	Clip
	URL string `json:"url"`
}

type mediaResp struct {
	ExpiresAt time.Time           `json:"expires_at"`
	Channels  map[int][]MediaLink `json:"channels"`
}

// playback returns presigned GET links for the clips of at most 4 channels in a range.
func (s *Server) playback(c *call) (any, error) {
	return s.media(c, MaxPlaybackChannels, false, func(site *Site) error {
		return maintain(c.user, site, relAdmin, relIT, relManager, relOwner)
	})
}

// download returns attachment links for a 2-minute window of at most 4 channels, and
// only with the owner's authorization: the owner, or an installer of a handed-over
// site whose authorization is granted.
func (s *Server) download(c *call) (any, error) {
	return s.media(c, MaxDownloadChannels, true, func(site *Site) error {
		if err := allow(c.user, site, relAdmin, relIT, relManager, relOwner); err != nil {
			return err
		}
		if c.user.Role.installer() && (!site.handedOver() || site.Authorization != AuthGranted) {
			return fmt.Errorf("%w: downloads need the owner's granted authorization", ErrAuthorization)
		}
		return nil
	})
}

func (s *Server) media(c *call, maxCh int, download bool, check func(*Site) error) (any, error) {
	var req mediaReq
	var clips map[int][]Clip
	err := s.siteView(c, check, func(tx *store.Tx, site *Site) error {
		if err := c.decode(&req); err != nil {
			return err
		}
		if len(req.Channels) == 0 {
			return fmt.Errorf("%w: at least one channel", ErrInvalid)
		}
		if len(req.Channels) > maxCh {
			return fmt.Errorf("%w: at most %d channels at a time, got %d", ErrLimit, maxCh, len(req.Channels))
		}
		if download {
			req.To = req.From.Add(DownloadWindow)
		} else if req.To.IsZero() {
			req.To = c.now
		}
		if !req.To.After(req.From) {
			return fmt.Errorf("%w: to must be after from", ErrInvalid)
		}
		box, err := getBox(tx, site, req.BoxID)
		if err != nil {
			return err
		}
		clips = map[int][]Clip{}
		for _, ch := range req.Channels {
			if ch < 1 || ch > MaxBoxChannels {
				return fmt.Errorf("%w: channel %d", ErrInvalid, ch)
			}
			if clips[ch], err = clipsIn(tx, box.ID, ch, req.From, req.To); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.cfg.Objects == nil {
		return nil, fmt.Errorf("api: no object store configured")
	}
	out := mediaResp{ExpiresAt: c.now.Add(s.cfg.PresignTTL), Channels: map[int][]MediaLink{}}
	for ch, list := range clips {
		out.Channels[ch] = []MediaLink{}
		for _, cl := range list {
			name := ""
			if download {
				name = path.Base(cl.ObjectKey)
			}
			u, err := s.cfg.Objects.PresignGet(c.ctx, cl.ObjectKey, s.cfg.PresignTTL, name)
			if err != nil {
				return nil, fmt.Errorf("api: presign %s: %w", cl.ObjectKey, err)
			}
			out.Channels[ch] = append(out.Channels[ch], MediaLink{Clip: cl, URL: u})
		}
	}
	return out, nil
}

// sweepRetention deletes clips older than their channel's retention: with a 7-day
// package, on day 8 the footage of day 1 goes. The object goes first and the index
// entry only after, so a failed delete is retried on the next tick, never orphaned.
func (s *Server) sweepRetention(ctx context.Context) error {
	now := s.cfg.Clock.Now()
	type victim struct{ key, object string }
	var victims []victim
	err := s.db.View(func(tx *store.Tx) error {
		cutoffs := map[string]time.Time{}
		return tx.Each(bucketClips, "", func(k string, raw []byte) error {
			var cl Clip
			if err := store.Decode(raw, &cl); err != nil {
				return err
			}
			ck := subKey(cl.BoxID, cl.Channel)
			cut, ok := cutoffs[ck]
			if !ok {
				cut = now.AddDate(0, 0, -retentionDays(tx, cl.BoxID, cl.Channel, now))
				cutoffs[ck] = cut
			}
			if !cl.End.After(cut) {
				victims = append(victims, victim{k, cl.ObjectKey})
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("api: retention scan: %w", err)
	}
	var errs []error
	var done []victim
	for _, v := range victims {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if s.cfg.Objects != nil {
			if err := s.cfg.Objects.Delete(ctx, v.object); err != nil {
				errs = append(errs, fmt.Errorf("api: retention delete %s: %w", v.object, err))
				continue
			}
		}
		done = append(done, v)
	}
	if len(done) > 0 {
		err := s.update(func(tx *store.Tx) error {
			for _, v := range done {
				if err := tx.Delete(bucketClips, v.key); err != nil {
					return err
				}
				if err := tx.Delete(bucketClips+".keys", v.object); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("api: retention index: %w", err))
		} else {
			s.metrics.retentionDeleted.Add(float64(len(done)))
		}
		s.log.Info("retention sweep", "deleted", len(done), "failed", len(victims)-len(done))
	}
	s.metrics.retentionFailed.Add(float64(len(victims) - len(done)))
	return errors.Join(errs...)
}
