package api

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

// Box admission rules, mirrored from the box's own admission control.
const (
	MaxBoxChannels   = 8
	maxChannelPixels = 3840 * 2160
	maxBoxPixels     = 8 * 1920 * 1080
)

type boxReq struct {
	Serial           string `json:"serial"`
	VerificationCode string `json:"verification_code"`
	Model            string `json:"model,omitempty"`
	Name             string `json:"name,omitempty"`
}

// addBox is the installer adding a box to a site by serial number and verification code
// (printed on the label); the box can register only after this.
func (s *Server) addBox(c *call) (any, error) {
	var d Device
	err := s.siteUpdate(c, func(site *Site) error { return maintain(c.user, site, relAdmin, relManager) },
		func(tx *store.Tx, site *Site) error {
			var req boxReq
			if err := c.decode(&req); err != nil {
				return err
			}
			if req.Serial == "" || len(req.VerificationCode) < 6 {
				return fmt.Errorf("%w: serial and a verification code of at least 6 characters required", ErrInvalid)
			}
			if req.Model == "" {
				req.Model = "DS-PCB108"
			}
			if !supportedModel(req.Model) {
				return fmt.Errorf("%w: %q", ErrUnsupportedModel, req.Model)
			}
			hash, err := bcrypt.GenerateFromPassword([]byte(req.VerificationCode), s.cfg.BcryptCost)
			if err != nil {
				return fmt.Errorf("api: hash verification code: %w", err)
			}
			d = Device{SiteID: site.ID, Type: TypeBox, Name: req.Name, Model: req.Model, Serial: req.Serial,
				Channels: MaxBoxChannels, AddedBy: c.user.ID, Created: c.now,
				Box: &BoxState{VerifyHash: hash, Links: map[int]Link{}}}
			return insertDevice(tx, &d)
		})
	return publicDevice(d), err
}

func getBox(tx *store.Tx, site *Site, id string) (*Device, error) {
	d, err := getDevice(tx, site, id)
	if err != nil {
		return nil, err
	}
	if d.Box == nil {
		return nil, fmt.Errorf("%w: device %s is not a box", ErrNotFound, id)
	}
	if d.Box.Links == nil {
		d.Box.Links = map[int]Link{}
	}
	return d, nil
}

func channelParam(c *call) (int, error) {
	ch, err := strconv.Atoi(c.param("channel"))
	if err != nil || ch < 1 || ch > MaxBoxChannels {
		return 0, fmt.Errorf("%w: box channel must be 1..%d", ErrInvalid, MaxBoxChannels)
	}
	return ch, nil
}

type linkReq struct {
	DeviceID      string `json:"device_id"`
	DeviceChannel int    `json:"device_channel,omitempty"`
	Stream        string `json:"stream,omitempty"`
	Output        string `json:"output_resolution,omitempty"`
}

// linkChannel is remote configuration: it links a camera or NVR/DVR channel of the same
// site to one of the box's channels, within the box's admission rules, and bumps the
// box's config version so the box applies it on its next heartbeat.
func (s *Server) linkChannel(c *call) (any, error) {
	var out ChannelInfo
	err := s.siteUpdate(c, func(site *Site) error { return maintain(c.user, site, relAdmin, relManager, relOwner) },
		func(tx *store.Tx, site *Site) error {
			ch, err := channelParam(c)
			if err != nil {
				return err
			}
			var req linkReq
			if err := c.decode(&req); err != nil {
				return err
			}
			box, err := getBox(tx, site, c.param("box"))
			if err != nil {
				return err
			}
			dev, err := getDevice(tx, site, req.DeviceID)
			if err != nil {
				return fmt.Errorf("%w: only devices of the box's own site can be linked: %w", ErrInvalid, err)
			}
			link, err := newLink(req, dev)
			if err != nil {
				return err
			}
			if err := checkNotLinkedElsewhere(tx, site, box.ID, ch, link); err != nil {
				return err
			}
			links := map[int]Link{}
			for k, v := range box.Box.Links {
				links[k] = v
			}
			links[ch] = link
			if err := admit(links); err != nil {
				return err
			}
			box.Box.Links = links
			box.Box.ConfigVersion++
			if err := tx.Put(bucketDevices, box.ID, box); err != nil {
				return err
			}
			out = channelInfo(tx, box, ch, link, c.now, true)
			return nil
		})
	return out, err
}

func newLink(req linkReq, dev *Device) (Link, error) {
	switch dev.Type {
	case TypeCamera, TypeNVR, TypeDVR:
	default:
		return Link{}, fmt.Errorf("%w: only cameras, NVR and DVR channels link to a box, not %s", ErrInvalid, dev.Type)
	}
	if req.DeviceChannel == 0 {
		req.DeviceChannel = 1
	}
	if req.DeviceChannel < 1 || req.DeviceChannel > dev.Channels {
		return Link{}, fmt.Errorf("%w: device %s has channels 1..%d", ErrInvalid, dev.ID, dev.Channels)
	}
	if req.Stream == "" {
		req.Stream = "main"
	}
	if req.Stream != "main" && req.Stream != "sub" {
		return Link{}, fmt.Errorf("%w: stream must be main or sub", ErrInvalid)
	}
	if req.Output == "" {
		req.Output = "1080p"
	}
	if req.Output != "1080p" && req.Output != "576p" {
		return Link{}, fmt.Errorf("%w: output_resolution must be 1080p or 576p", ErrInvalid)
	}
	return Link{DeviceID: dev.ID, DeviceChannel: req.DeviceChannel, Stream: req.Stream, Output: req.Output,
		Width: dev.Width, Height: dev.Height}, nil
}

// admit applies the box's admission rules to a whole channel set: at most 8 channels,
// no channel over 8 MP, and a total input of at most 8 x 1080p where resolutions are
// declared (unknown resolutions are left for the box to check when it sees the stream).
func admit(links map[int]Link) error {
	if len(links) > MaxBoxChannels {
		return fmt.Errorf("%w: a box takes at most %d channels", ErrLimit, MaxBoxChannels)
	}
	total := 0
	for ch, l := range links {
		px := l.Width * l.Height
		if px > maxChannelPixels {
			return fmt.Errorf("%w: channel %d is %dx%d, over 3840x2160", ErrAdmission, ch, l.Width, l.Height)
		}
		total += px
	}
	if total > maxBoxPixels {
		return fmt.Errorf("%w: %d input pixels over the budget of 8x1920x1080", ErrAdmission, total)
	}
	return nil
}

// checkNotLinkedElsewhere keeps a device channel on one box channel only: never two
// boxes pulling the same stream, never the same stream twice on one box.
func checkNotLinkedElsewhere(tx *store.Tx, site *Site, boxID string, ch int, l Link) error {
	devs, err := siteDevices(tx, site.ID)
	if err != nil {
		return err
	}
	for _, b := range devs {
		if b.Box == nil {
			continue
		}
		for bch, other := range b.Box.Links {
			if other.DeviceID == l.DeviceID && other.DeviceChannel == l.DeviceChannel && (b.ID != boxID || bch != ch) {
				return fmt.Errorf("%w: device %s channel %d is already linked to box %s channel %d", ErrConflict, l.DeviceID, l.DeviceChannel, b.ID, bch)
			}
		}
	}
	return nil
}

func (s *Server) unlinkChannel(c *call) (any, error) {
	return nil, s.siteUpdate(c, func(site *Site) error { return maintain(c.user, site, relAdmin, relManager, relOwner) },
		func(tx *store.Tx, site *Site) error {
			ch, err := channelParam(c)
			if err != nil {
				return err
			}
			box, err := getBox(tx, site, c.param("box"))
			if err != nil {
				return err
			}
			if _, ok := box.Box.Links[ch]; !ok {
				return fmt.Errorf("%w: channel %d not linked", ErrNotFound, ch)
			}
			delete(box.Box.Links, ch)
			box.Box.ConfigVersion++
			return tx.Put(bucketDevices, box.ID, box)
		})
}

// ChannelInfo is one linked box channel with its package status. The box API includes
// the device address and credentials; the installer view does not.
type ChannelInfo struct {
	Channel       int          `json:"channel"`
	DeviceID      string       `json:"device_id"`
	DeviceType    DeviceType   `json:"device_type"`
	DeviceChannel int          `json:"device_channel"`
	Model         string       `json:"model"`
	Address       string       `json:"address,omitempty"`
	Port          int          `json:"port,omitempty"`
	RTSPPort      int          `json:"rtsp_port,omitempty"`
	Username      string       `json:"username,omitempty"`
	Password      string       `json:"password,omitempty"`
	Stream        string       `json:"stream"`
	Output        string       `json:"output_resolution"`
	Width         int          `json:"width,omitempty"`
	Height        int          `json:"height,omitempty"`
	Package       PackageState `json:"package"`
}

// ChannelList is the box's whole remote configuration.
type ChannelList struct {
	BoxID         string        `json:"box_id"`
	ConfigVersion int           `json:"config_version"`
	Channels      []ChannelInfo `json:"channels"`
}

func channelInfo(tx *store.Tx, box *Device, ch int, l Link, now time.Time, secret bool) ChannelInfo {
	ci := ChannelInfo{Channel: ch, DeviceID: l.DeviceID, DeviceChannel: l.DeviceChannel, Stream: l.Stream,
		Output: l.Output, Width: l.Width, Height: l.Height, Package: packageState(tx, box.ID, ch, now)}
	var d Device
	if tx.Get(bucketDevices, l.DeviceID, &d) == nil {
		ci.DeviceType, ci.Model = d.Type, d.Model
		if secret {
			ci.Address, ci.Port, ci.RTSPPort, ci.Username, ci.Password = d.Address, d.Port, d.RTSPPort, d.Username, d.Password
		}
	}
	return ci
}

func channelList(tx *store.Tx, box *Device, now time.Time, secret bool) ChannelList {
	out := ChannelList{BoxID: box.ID, ConfigVersion: box.Box.ConfigVersion, Channels: []ChannelInfo{}}
	chans := make([]int, 0, len(box.Box.Links))
	for ch := range box.Box.Links {
		chans = append(chans, ch)
	}
	sort.Ints(chans)
	for _, ch := range chans {
		out.Channels = append(out.Channels, channelInfo(tx, box, ch, box.Box.Links[ch], now, secret))
	}
	return out
}

func (s *Server) listChannels(c *call) (any, error) {
	var out ChannelList
	err := s.siteView(c, func(site *Site) error { return maintain(c.user, site, relAdmin, relIT, relManager, relOwner) },
		func(tx *store.Tx, site *Site) error {
			box, err := getBox(tx, site, c.param("box"))
			if err != nil {
				return err
			}
			out = channelList(tx, box, c.now, false)
			return nil
		})
	return out, err
}

// ---- the box-facing API ----

type registerReq struct {
	Serial           string `json:"serial"`
	VerificationCode string `json:"verification_code"`
}

type registerResp struct {
	BoxID  string `json:"box_id"`
	SiteID string `json:"site_id"`
	Token  string `json:"token"`
}

// boxRegister trades serial + verification code for the box's own credential. A new
// registration rotates the token (a reset box re-registers and the old token dies).
func (s *Server) boxRegister(c *call) (any, error) {
	var req registerReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	bad := fmt.Errorf("%w: unknown serial or wrong verification code", ErrUnauthenticated)
	var out registerResp
	err := s.update(func(tx *store.Tx) error {
		var id string
		if err := tx.Get(bucketSerials, strings.ToUpper(strings.TrimSpace(req.Serial)), &id); err != nil {
			return bad
		}
		var d Device
		if err := tx.Get(bucketDevices, id, &d); err != nil || d.Box == nil {
			return bad
		}
		if bcrypt.CompareHashAndPassword(d.Box.VerifyHash, []byte(req.VerificationCode)) != nil {
			return bad
		}
		if d.Box.TokenHash != "" {
			if err := tx.Delete(bucketTokens, d.Box.TokenHash); err != nil {
				return err
			}
		}
		tok := newSecret()
		d.Box.TokenHash, d.Box.Registered = hashToken(tok), true
		if err := tx.Put(bucketTokens, d.Box.TokenHash, tokenRec{Kind: "box", Subject: d.ID}); err != nil {
			return err
		}
		out = registerResp{BoxID: d.ID, SiteID: d.SiteID, Token: tok}
		return tx.Put(bucketDevices, d.ID, d)
	})
	return out, err
}

type heartbeatReq struct {
	AppliedConfigVersion int    `json:"applied_config_version"`
	Firmware             string `json:"firmware,omitempty"`
	UptimeSeconds        int64  `json:"uptime_s,omitempty"`
}

type heartbeatResp struct {
	ServerTime    time.Time `json:"server_time"`
	ConfigVersion int       `json:"config_version"`
	// ConfigChanged tells the box to fetch /box/channels and apply it.
	ConfigChanged bool `json:"config_changed"`
	// InspectionID, when set, asks the box to send a health report carrying it.
	InspectionID string `json:"inspection_id,omitempty"`
	// HeartbeatSeconds is the interval the cloud expects.
	HeartbeatSeconds int `json:"heartbeat_s"`
}

// boxHeartbeat is the hot path of the fleet: it reads the box record loaded by auth
// and touches only memory.
func (s *Server) boxHeartbeat(c *call) (any, error) {
	var req heartbeatReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	s.touch(c.box, c.now, req.Firmware)
	return heartbeatResp{
		ServerTime:       c.now,
		ConfigVersion:    c.box.Box.ConfigVersion,
		ConfigChanged:    req.AppliedConfigVersion != c.box.Box.ConfigVersion,
		InspectionID:     c.box.Box.PendingInspection,
		HeartbeatSeconds: 30,
	}, nil
}

func (s *Server) boxChannels(c *call) (any, error) {
	var out ChannelList
	err := s.db.View(func(tx *store.Tx) error {
		out = channelList(tx, c.box, c.now, true)
		return nil
	})
	return out, err
}

// boxStorage tells the box where to upload: the shared bucket under its own prefix.
func (s *Server) boxStorage(c *call) (any, error) {
	st := s.cfg.Storage
	st.Prefix = boxPrefix(st.Prefix, c.box.Serial)
	return st, nil
}

func boxPrefix(base, serial string) string {
	return base + "boxes/" + serial + "/"
}
