package api

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

type deviceReq struct {
	Type     DeviceType `json:"type"`
	Name     string     `json:"name,omitempty"`
	Model    string     `json:"model"`
	Serial   string     `json:"serial,omitempty"`
	Address  string     `json:"address,omitempty"`
	Port     int        `json:"port,omitempty"`
	RTSPPort int        `json:"rtsp_port,omitempty"`
	Username string     `json:"username,omitempty"`
	Password string     `json:"password,omitempty"`
	Channels int        `json:"channels,omitempty"`
	Width    int        `json:"width,omitempty"`
	Height   int        `json:"height,omitempty"`
}

var domainRE = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,}$`)

// validAddress accepts an IP address or a domain name, the two non-serial ways to add.
func validAddress(a string) bool {
	return net.ParseIP(a) != nil || domainRE.MatchString(a)
}

func (r *deviceReq) validate() error {
	if !r.Type.valid() || r.Type == TypeBox {
		return fmt.Errorf("%w: type %q (boxes are added under /boxes)", ErrInvalid, r.Type)
	}
	if !supportedModel(r.Model) {
		return fmt.Errorf("%w: %q is not a Hikvision, HiLook or supported EZVIZ model", ErrUnsupportedModel, r.Model)
	}
	if r.Serial == "" && r.Address == "" {
		return fmt.Errorf("%w: add by serial number, IP address or domain name", ErrInvalid)
	}
	if r.Address != "" && !validAddress(r.Address) {
		return fmt.Errorf("%w: address %q is neither an IP address nor a domain name", ErrInvalid, r.Address)
	}
	if r.Port == 0 {
		r.Port = 80
	}
	if r.RTSPPort == 0 {
		r.RTSPPort = 554
	}
	if r.Channels <= 0 {
		r.Channels = 1
	}
	if r.Width < 0 || r.Height < 0 {
		return fmt.Errorf("%w: negative resolution", ErrInvalid)
	}
	return nil
}

// addDevice adds a device. Devices are managed by the Installer Admin and the Site
// Manager (and the owner in their app); there is no count limit.
func (s *Server) addDevice(c *call) (any, error) {
	var req deviceReq
	var d Device
	err := s.siteUpdate(c, func(site *Site) error { return maintain(c.user, site, relAdmin, relManager, relOwner) },
		func(tx *store.Tx, site *Site) error {
			if err := c.decode(&req); err != nil {
				return err
			}
			if err := req.validate(); err != nil {
				return err
			}
			d = Device{SiteID: site.ID, Type: req.Type, Name: req.Name, Model: req.Model, Serial: req.Serial,
				Address: req.Address, Port: req.Port, RTSPPort: req.RTSPPort, Username: req.Username, Password: req.Password,
				Channels: req.Channels, Width: req.Width, Height: req.Height, AddedBy: c.user.ID, Created: c.now}
			return insertDevice(tx, &d)
		})
	return publicDevice(d), err
}

func insertDevice(tx *store.Tx, d *Device) error {
	if d.Serial != "" {
		d.Serial = strings.ToUpper(strings.TrimSpace(d.Serial))
		if tx.Has(bucketSerials, d.Serial) {
			return fmt.Errorf("%w: serial %s already added", ErrConflict, d.Serial)
		}
	}
	id, err := newID(tx, bucketDevices, "d")
	if err != nil {
		return err
	}
	d.ID = id
	if err := tx.Put(bucketSiteDevices, d.SiteID+"/"+id, id); err != nil {
		return err
	}
	if d.Serial != "" {
		if err := tx.Put(bucketSerials, d.Serial, id); err != nil {
			return err
		}
	}
	return tx.Put(bucketDevices, id, d)
}

// siteDevices lists a site's devices through the site index, so the cost follows the
// site's size, not the whole fleet's.
func siteDevices(tx *store.Tx, siteID string) ([]Device, error) {
	var out []Device
	err := tx.Each(bucketSiteDevices, siteID+"/", func(_ string, raw []byte) error {
		var id string
		if err := store.Decode(raw, &id); err != nil {
			return err
		}
		var d Device
		if err := tx.Get(bucketDevices, id, &d); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

func (s *Server) listDevices(c *call) (any, error) {
	out := []Device{}
	err := s.siteView(c, func(site *Site) error { return maintain(c.user, site, relAdmin, relIT, relManager, relOwner) },
		func(tx *store.Tx, site *Site) error {
			ds, err := siteDevices(tx, site.ID)
			for _, d := range ds {
				out = append(out, publicDevice(d))
			}
			return err
		})
	return out, err
}

// deleteDevice: before the owner is invited the Installer Admin or the Site Manager may
// delete devices; from the invitation on, only the owner may.
func (s *Server) deleteDevice(c *call) (any, error) {
	check := func(site *Site) error {
		if site.ownerInvited() {
			return allow(c.user, site, relOwner)
		}
		return allow(c.user, site, relAdmin, relManager)
	}
	return nil, s.siteUpdate(c, check, func(tx *store.Tx, site *Site) error {
		d, err := getDevice(tx, site, c.param("device"))
		if err != nil {
			return err
		}
		return deleteDeviceRecords(tx, d)
	})
}

// deleteDeviceRecords removes a device, its serial, its box credential and every box
// channel linked to it (bumping those boxes' config version so they drop the channel).
func deleteDeviceRecords(tx *store.Tx, d *Device) error {
	if d.Serial != "" {
		if err := tx.Delete(bucketSerials, d.Serial); err != nil {
			return err
		}
	}
	if d.Box != nil && d.Box.TokenHash != "" {
		if err := tx.Delete(bucketTokens, d.Box.TokenHash); err != nil {
			return err
		}
	}
	others, err := siteDevices(tx, d.SiteID)
	if err != nil {
		return err
	}
	for _, b := range others {
		if b.Box == nil || b.ID == d.ID {
			continue
		}
		changed := false
		for ch, l := range b.Box.Links {
			if l.DeviceID == d.ID {
				delete(b.Box.Links, ch)
				changed = true
			}
		}
		if changed {
			b.Box.ConfigVersion++
			if err := tx.Put(bucketDevices, b.ID, b); err != nil {
				return err
			}
		}
	}
	if err := tx.Delete(bucketSiteDevices, d.SiteID+"/"+d.ID); err != nil {
		return err
	}
	return tx.Delete(bucketDevices, d.ID)
}

type linkageReq struct {
	SourceID string `json:"source_device_id"`
	TargetID string `json:"target_device_id"`
	Event    string `json:"event"`
	Action   string `json:"action"`
}

// addLinkage creates an event linkage. Both devices must belong to this site and be
// online now; boxes take no part in linkage (no box-to-box, no box-to-device).
func (s *Server) addLinkage(c *call) (any, error) {
	var req linkageReq
	var l Linkage
	err := s.siteUpdate(c, func(site *Site) error { return maintain(c.user, site, relAdmin, relManager, relOwner) },
		func(tx *store.Tx, site *Site) error {
			if err := c.decode(&req); err != nil {
				return err
			}
			if req.Event == "" || req.SourceID == req.TargetID {
				return fmt.Errorf("%w: event and two distinct devices required", ErrInvalid)
			}
			for _, id := range []string{req.SourceID, req.TargetID} {
				d, err := getDevice(tx, site, id)
				if err != nil {
					return fmt.Errorf("%w: linkage only between devices of the same site: %w", ErrInvalid, err)
				}
				if d.Type == TypeBox {
					return fmt.Errorf("%w: a box takes no part in linkage", ErrInvalid)
				}
				if !s.online(id, c.now) {
					return fmt.Errorf("%w: %s", ErrOffline, id)
				}
			}
			id, err := newID(tx, bucketLinkages, "l")
			if err != nil {
				return err
			}
			l = Linkage{ID: id, SiteID: site.ID, SourceID: req.SourceID, TargetID: req.TargetID, Event: req.Event, Action: req.Action, Created: c.now}
			return tx.Put(bucketLinkages, site.ID+"/"+id, l)
		})
	return l, err
}

func (s *Server) listLinkages(c *call) (any, error) {
	out := []Linkage{}
	err := s.siteView(c, func(site *Site) error { return maintain(c.user, site, relAdmin, relIT, relManager, relOwner) },
		func(tx *store.Tx, site *Site) error {
			return tx.Each(bucketLinkages, site.ID+"/", func(_ string, raw []byte) error {
				var l Linkage
				if err := store.Decode(raw, &l); err != nil {
					return err
				}
				out = append(out, l)
				return nil
			})
		})
	return out, err
}
