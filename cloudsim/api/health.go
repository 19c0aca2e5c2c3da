package api

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

// Health is the latest known status of one device. Which fields apply depends on the
// device type (product.md "Health monitoring"):
//
//	encoding devices (box, NVR, DVR, camera): network, storage (HDD/SD status), smart,
//	    overwritten (overwritten-recording status), hdd_usage_percent, ip_channels (NVR/DVR)
//	    plus, as reported by the box for linked cameras: stream, video_loss, tamper, disk_error
//	    and for the box itself: spool, uplink, firmware
//	security control panel: network, low_battery, network_type, battery_level
//	access control, video intercom: network
//	doorbell: network, sd_card
//
// Fields that do not apply to the type are dropped on report.
type Health struct {
	DeviceID   string     `json:"device_id"`
	SiteID     string     `json:"site_id"`
	Type       DeviceType `json:"type"`
	Online     bool       `json:"online"`
	ReportedAt time.Time  `json:"reported_at,omitzero"`
	Network    string     `json:"network,omitempty"`

	Storage     string      `json:"storage,omitempty"`
	SMART       string      `json:"smart,omitempty"`
	Overwritten *bool       `json:"overwritten,omitempty"`
	HDDUsage    *float64    `json:"hdd_usage_percent,omitempty"`
	IPChannels  []IPChannel `json:"ip_channels,omitempty"`
	Stream      string      `json:"stream,omitempty"`
	VideoLoss   bool        `json:"video_loss,omitempty"`
	Tamper      bool        `json:"tamper,omitempty"`
	DiskError   bool        `json:"disk_error,omitempty"`

	Spool    *Spool `json:"spool,omitempty"`
	Uplink   string `json:"uplink,omitempty"`
	Firmware string `json:"firmware,omitempty"`

	LowBattery   *bool  `json:"low_battery,omitempty"`
	NetworkType  string `json:"network_type,omitempty"`
	BatteryLevel *int   `json:"battery_level,omitempty"`

	SDCard string `json:"sd_card,omitempty"`
}

// IPChannel is one NVR/DVR channel's status.
type IPChannel struct {
	Channel   int    `json:"channel"`
	Online    bool   `json:"online"`
	Stream    string `json:"stream,omitempty"`
	VideoLoss bool   `json:"video_loss,omitempty"`
	Tamper    bool   `json:"tamper,omitempty"`
}

// Spool is the box's ANR spool as it reports it.
type Spool struct {
	Clips   int   `json:"clips"`
	Bytes   int64 `json:"bytes"`
	Evicted int64 `json:"evicted"`
	Lost    int64 `json:"lost"`
}

// BoxHealthReport is what the box posts to /box/health.
type BoxHealthReport struct {
	// InspectionID answers a manual inspection announced by the heartbeat.
	InspectionID string         `json:"inspection_id,omitempty"`
	Box          BoxSelfHealth  `json:"box"`
	Cameras      []CameraHealth `json:"cameras,omitempty"`
	// Devices relays other devices of the site (panels, doorbells, ...) that the
	// simulated LAN reports through the box.
	Devices []DeviceHealth `json:"devices,omitempty"`
}

// BoxSelfHealth is the box's own status.
type BoxSelfHealth struct {
	Network  string     `json:"network"`
	Disk     DiskHealth `json:"disk"`
	Spool    Spool      `json:"spool"`
	Uplink   string     `json:"uplink"`
	Firmware string     `json:"firmware"`
}

// DiskHealth is an HDD or SD card.
type DiskHealth struct {
	Status       string   `json:"status"`
	SMART        string   `json:"smart,omitempty"`
	UsagePercent *float64 `json:"usage_percent,omitempty"`
	Overwritten  *bool    `json:"overwritten,omitempty"`
}

// CameraHealth is a linked camera (or NVR channel) as the box sees it.
type CameraHealth struct {
	DeviceID      string `json:"device_id"`
	DeviceChannel int    `json:"device_channel,omitempty"`
	Online        bool   `json:"online"`
	Stream        string `json:"stream"`
	VideoLoss     bool   `json:"video_loss"`
	Tamper        bool   `json:"tamper"`
	DiskError     bool   `json:"disk_error"`
}

// DeviceHealth is a generic device report; fields not applying to the type are dropped.
type DeviceHealth struct {
	DeviceID     string      `json:"device_id"`
	Online       bool        `json:"online"`
	Network      string      `json:"network,omitempty"`
	Storage      string      `json:"storage,omitempty"`
	SMART        string      `json:"smart,omitempty"`
	Overwritten  *bool       `json:"overwritten,omitempty"`
	HDDUsage     *float64    `json:"hdd_usage_percent,omitempty"`
	IPChannels   []IPChannel `json:"ip_channels,omitempty"`
	LowBattery   *bool       `json:"low_battery,omitempty"`
	NetworkType  string      `json:"network_type,omitempty"`
	BatteryLevel *int        `json:"battery_level,omitempty"`
	SDCard       string      `json:"sd_card,omitempty"`
}

func (r DeviceHealth) forType(d *Device, now time.Time) Health {
	h := Health{DeviceID: d.ID, SiteID: d.SiteID, Type: d.Type, Online: r.Online, ReportedAt: now, Network: r.Network}
	switch {
	case d.Type.encoding():
		h.Storage, h.SMART, h.Overwritten, h.HDDUsage = r.Storage, r.SMART, r.Overwritten, r.HDDUsage
		if d.Type == TypeNVR || d.Type == TypeDVR {
			h.IPChannels = r.IPChannels
		}
	case d.Type == TypePanel:
		h.LowBattery, h.NetworkType, h.BatteryLevel = r.LowBattery, r.NetworkType, r.BatteryLevel
	case d.Type == TypeDoorbell:
		h.SDCard = r.SDCard
	}
	return h
}

// abnormal lists why a device needs attention; empty means healthy.
func abnormal(h Health, online bool) []string {
	var out []string
	add := func(cond bool, why string) {
		if cond {
			out = append(out, why)
		}
	}
	add(!online, "offline")
	add(h.Network == "down" || h.Network == "abnormal", "network")
	add(h.Storage == "error" || h.Storage == "abnormal" || h.Storage == "full", "storage")
	add(h.SMART == "warning" || h.SMART == "fail", "smart")
	add(h.HDDUsage != nil && *h.HDDUsage >= 95, "hdd_usage")
	add(slices.ContainsFunc(h.IPChannels, func(c IPChannel) bool { return !c.Online || c.VideoLoss || c.Tamper }), "ip_channel")
	add(h.Stream == "down", "stream")
	add(h.VideoLoss, "video_loss")
	add(h.Tamper, "tamper")
	add(h.DiskError, "disk_error")
	add(h.Uplink == "down", "uplink")
	add(h.Spool != nil && h.Spool.Lost > 0, "spool_lost")
	add(h.LowBattery != nil && *h.LowBattery, "low_battery")
	add(h.SDCard == "error" || h.SDCard == "abnormal", "sd_card")
	return out
}

// touch records a heartbeat in memory only.
func (s *Server) touch(box *Device, now time.Time, firmware string) {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	s.live.seen[box.ID] = now
	h, ok := s.live.health[box.ID]
	if !ok || !h.Online || (firmware != "" && h.Firmware != firmware) {
		if !ok {
			h = Health{DeviceID: box.ID, SiteID: box.SiteID, Type: TypeBox, ReportedAt: now}
		}
		h.Online = true
		if firmware != "" {
			h.Firmware = firmware
		}
		s.live.health[box.ID] = h
		s.live.dirty[box.ID] = true
	}
}

// online is true when the device said it was online within OfflineAfter.
func (s *Server) online(id string, now time.Time) bool {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	return s.live.health[id].Online && now.Sub(s.live.seen[id]) < s.cfg.OfflineAfter
}

func (s *Server) healthOf(id string) (Health, time.Time, bool) {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	h, ok := s.live.health[id]
	return h, s.live.seen[id], ok
}

func (s *Server) setHealth(hs []Health) {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	for _, h := range hs {
		s.live.health[h.DeviceID] = h
		s.live.seen[h.DeviceID] = h.ReportedAt
		s.live.dirty[h.DeviceID] = true
	}
}

// boxHealth takes the box's report about itself and the site's devices it sees.
func (s *Server) boxHealth(c *call) (any, error) {
	var rep BoxHealthReport
	if err := c.decode(&rep); err != nil {
		return nil, err
	}
	box := c.box
	self := Health{DeviceID: box.ID, SiteID: box.SiteID, Type: TypeBox, Online: true, ReportedAt: c.now,
		Network: rep.Box.Network, Storage: rep.Box.Disk.Status, SMART: rep.Box.Disk.SMART,
		Overwritten: rep.Box.Disk.Overwritten, HDDUsage: rep.Box.Disk.UsagePercent,
		Spool: &rep.Box.Spool, Uplink: rep.Box.Uplink, Firmware: rep.Box.Firmware}
	out := []Health{self}
	ignored := 0
	err := s.db.View(func(tx *store.Tx) error {
		site := &Site{ID: box.SiteID}
		nvr := map[string]*Health{}
		for _, cam := range rep.Cameras {
			d, err := getDevice(tx, site, cam.DeviceID)
			if errors.Is(err, ErrNotFound) {
				// A device of another site, or one just deleted while the box still
				// runs the old config: never touch it, but keep the rest of the report.
				ignored++
				continue
			}
			if err != nil {
				return err
			}
			switch d.Type {
			case TypeNVR, TypeDVR:
				h, ok := nvr[d.ID]
				if !ok {
					h = &Health{DeviceID: d.ID, SiteID: d.SiteID, Type: d.Type, ReportedAt: c.now, Network: "ok"}
					if prev, _, had := s.healthOf(d.ID); had {
						h.Storage, h.SMART, h.HDDUsage, h.Overwritten = prev.Storage, prev.SMART, prev.HDDUsage, prev.Overwritten
					}
					nvr[d.ID] = h
				}
				h.Online = h.Online || cam.Online
				h.IPChannels = append(h.IPChannels, IPChannel{Channel: cam.DeviceChannel, Online: cam.Online, Stream: cam.Stream, VideoLoss: cam.VideoLoss, Tamper: cam.Tamper})
			case TypeCamera:
				out = append(out, Health{DeviceID: d.ID, SiteID: d.SiteID, Type: d.Type, Online: cam.Online, ReportedAt: c.now,
					Network: map[bool]string{true: "ok", false: "down"}[cam.Online], Stream: cam.Stream,
					VideoLoss: cam.VideoLoss, Tamper: cam.Tamper, DiskError: cam.DiskError})
			default:
				ignored++
			}
		}
		for _, h := range nvr {
			out = append(out, *h)
		}
		for _, dr := range rep.Devices {
			d, err := getDevice(tx, site, dr.DeviceID)
			if errors.Is(err, ErrNotFound) || err == nil && d.Type == TypeBox {
				ignored++
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, dr.forType(d, c.now))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.setHealth(out)
	if rep.InspectionID != "" && rep.InspectionID == box.Box.PendingInspection {
		if err := s.answerInspection(box, rep.InspectionID, c.now); err != nil {
			return nil, err
		}
	}
	return map[string]int{"accepted": len(out), "ignored": ignored}, nil
}

// DeviceStatus is one line of a site's status list.
type DeviceStatus struct {
	DeviceID   string     `json:"device_id"`
	SiteID     string     `json:"site_id"`
	Name       string     `json:"name,omitempty"`
	Type       DeviceType `json:"type"`
	Model      string     `json:"model"`
	Online     bool       `json:"online"`
	LastReport *time.Time `json:"last_report,omitempty"`
	Abnormal   []string   `json:"abnormal"`
	Health     *Health    `json:"health,omitempty"`
}

// SiteHealth is the status list of a site.
type SiteHealth struct {
	SiteID        string         `json:"site_id"`
	LastInspected *time.Time     `json:"last_inspected,omitempty"`
	Devices       []DeviceStatus `json:"devices"`
}

func (s *Server) siteStatus(tx *store.Tx, site *Site, now time.Time) ([]DeviceStatus, error) {
	devs, err := siteDevices(tx, site.ID)
	if err != nil {
		return nil, err
	}
	out := make([]DeviceStatus, 0, len(devs))
	for _, d := range devs {
		st := DeviceStatus{DeviceID: d.ID, SiteID: d.SiteID, Name: d.Name, Type: d.Type, Model: d.Model, Online: s.online(d.ID, now)}
		if h, seen, ok := s.healthOf(d.ID); ok {
			st.Health, st.LastReport = &h, &seen
		}
		var h Health
		if st.Health != nil {
			h = *st.Health
		}
		st.Abnormal = abnormal(h, st.Online)
		if st.Abnormal == nil {
			st.Abnormal = []string{}
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *Server) siteHealth(c *call) (any, error) {
	var out SiteHealth
	err := s.siteView(c, func(site *Site) error { return maintain(c.user, site, relAdmin, relIT, relManager, relOwner) },
		func(tx *store.Tx, site *Site) error {
			devs, err := s.siteStatus(tx, site, c.now)
			out = SiteHealth{SiteID: site.ID, LastInspected: site.LastInspected, Devices: devs}
			return err
		})
	return out, err
}

// AbnormalDevice is a hit of "locate abnormal devices".
type AbnormalDevice struct {
	SiteName string `json:"site_name"`
	DeviceStatus
}

// locateAbnormal lists abnormal devices, optionally of one type, across the company's
// sites that the caller may maintain.
func (s *Server) locateAbnormal(c *call) (any, error) {
	cid := c.param("company")
	if err := requireCompanyRole(c.user, cid, RoleAdmin, RoleIT); err != nil {
		return nil, err
	}
	typ := DeviceType(c.r.URL.Query().Get("type"))
	if typ != "" && !typ.valid() {
		return nil, fmt.Errorf("%w: type %q", ErrInvalid, typ)
	}
	out := []AbnormalDevice{}
	err := s.db.View(func(tx *store.Tx) error {
		var sites []Site
		if err := tx.Each(bucketSites, "", func(_ string, raw []byte) error {
			var site Site
			if err := store.Decode(raw, &site); err != nil {
				return err
			}
			if site.CompanyID == cid && maintain(c.user, &site, relAdmin, relIT) == nil {
				sites = append(sites, site)
			}
			return nil
		}); err != nil {
			return err
		}
		for i := range sites {
			devs, err := s.siteStatus(tx, &sites[i], c.now)
			if err != nil {
				return err
			}
			for _, d := range devs {
				if len(d.Abnormal) > 0 && (typ == "" || d.Type == typ) {
					out = append(out, AbnormalDevice{SiteName: sites[i].Name, DeviceStatus: d})
				}
			}
		}
		return nil
	})
	return out, err
}
