package api

import (
	"fmt"
	"time"

	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

// Inspection kinds and states.
const (
	InspectAuto    = "auto"
	InspectManual  = "manual"
	InspectPending = "pending"
	InspectDone    = "done"
)

// Inspection is one check of all devices of a site, automatic (on a schedule) or manual
// (on demand, answered by the site's boxes on their next heartbeat).
type Inspection struct {
	ID        string         `json:"id"`
	SiteID    string         `json:"site_id"`
	Kind      string         `json:"kind"`
	Status    string         `json:"status"`
	Requested time.Time      `json:"requested"`
	Completed *time.Time     `json:"completed,omitempty"`
	Abnormal  int            `json:"abnormal"`
	Devices   []DeviceStatus `json:"devices,omitempty"`
}

func inspectionKey(siteID, id string) string { return siteID + "/" + id }

// InspectionHistory is how long inspection results are kept; an hourly schedule would
// otherwise grow the store without bound.
const InspectionHistory = 7 * 24 * time.Hour

func pruneInspections(tx *store.Tx, siteID string, before time.Time) error {
	var old []string
	err := tx.Each(bucketInspect, siteID+"/", func(k string, raw []byte) error {
		var in Inspection
		if err := store.Decode(raw, &in); err != nil {
			return err
		}
		if in.Completed != nil && in.Completed.Before(before) {
			old = append(old, k)
		}
		return nil
	})
	for _, k := range old {
		if err == nil {
			err = tx.Delete(bucketInspect, k)
		}
	}
	return err
}

// complete fills the inspection from the site's current status and stamps the site.
func (s *Server) complete(tx *store.Tx, site *Site, in *Inspection, now time.Time) error {
	devs, err := s.siteStatus(tx, site, now)
	if err != nil {
		return err
	}
	in.Status, in.Completed, in.Devices, in.Abnormal = InspectDone, &now, devs, 0
	for _, d := range devs {
		if len(d.Abnormal) > 0 {
			in.Abnormal++
		}
	}
	site.LastInspected = &now
	s.metrics.inspections.WithLabelValues(in.Kind).Inc()
	if err := tx.Put(bucketInspect, inspectionKey(site.ID, in.ID), in); err != nil {
		return err
	}
	return tx.Put(bucketSites, site.ID, site)
}

// requestInspection starts a manual inspection: each box of the site is asked on its
// next heartbeat; the result is ready once every box answered (at once without boxes).
func (s *Server) requestInspection(c *call) (any, error) {
	var in Inspection
	err := s.siteUpdate(c, func(site *Site) error { return maintain(c.user, site, relAdmin, relIT, relManager) },
		func(tx *store.Tx, site *Site) error {
			id, err := newID(tx, bucketInspect, "i")
			if err != nil {
				return err
			}
			in = Inspection{ID: id, SiteID: site.ID, Kind: InspectManual, Status: InspectPending, Requested: c.now}
			devs, err := siteDevices(tx, site.ID)
			if err != nil {
				return err
			}
			boxes := 0
			for _, d := range devs {
				if d.Box != nil && d.Box.Registered {
					d.Box.PendingInspection = id
					if err := tx.Put(bucketDevices, d.ID, d); err != nil {
						return err
					}
					boxes++
				}
			}
			if boxes == 0 {
				return s.complete(tx, site, &in, c.now)
			}
			return tx.Put(bucketInspect, inspectionKey(site.ID, id), in)
		})
	return in, err
}

// answerInspection is a box's health report carrying the pending inspection ID.
func (s *Server) answerInspection(box *Device, id string, now time.Time) error {
	return s.update(func(tx *store.Tx) error {
		var d Device
		if err := tx.Get(bucketDevices, box.ID, &d); err != nil {
			return err
		}
		if d.Box == nil || d.Box.PendingInspection != id {
			return nil
		}
		d.Box.PendingInspection = ""
		if err := tx.Put(bucketDevices, d.ID, d); err != nil {
			return err
		}
		devs, err := siteDevices(tx, d.SiteID)
		if err != nil {
			return err
		}
		for _, o := range devs {
			if o.Box != nil && o.Box.PendingInspection == id {
				return nil // another box still has to answer
			}
		}
		site, err := getSite(tx, d.SiteID)
		if err != nil {
			return err
		}
		var in Inspection
		if err := tx.Get(bucketInspect, inspectionKey(site.ID, id), &in); err != nil {
			return notFoundAs(err, "inspection "+id)
		}
		return s.complete(tx, site, &in, now)
	})
}

func (s *Server) getInspection(c *call) (any, error) {
	var in Inspection
	err := s.siteView(c, func(site *Site) error { return maintain(c.user, site, relAdmin, relIT, relManager) },
		func(tx *store.Tx, site *Site) error {
			return notFoundAs(tx.Get(bucketInspect, inspectionKey(site.ID, c.param("inspection")), &in), "inspection")
		})
	return in, err
}

// inspectDue runs the automatic inspection of every site whose last inspection is at
// least InspectionInterval old (or that was never inspected).
func (s *Server) inspectDue() error {
	now := s.cfg.Clock.Now()
	var due []string
	err := s.db.View(func(tx *store.Tx) error {
		return tx.Each(bucketSites, "", func(k string, raw []byte) error {
			var site Site
			if err := store.Decode(raw, &site); err != nil {
				return err
			}
			if site.LastInspected == nil || now.Sub(*site.LastInspected) >= s.cfg.InspectionInterval {
				due = append(due, k)
			}
			return nil
		})
	})
	if err != nil || len(due) == 0 {
		return err
	}
	err = s.update(func(tx *store.Tx) error {
		for _, id := range due {
			site, err := getSite(tx, id)
			if err != nil {
				return err
			}
			nid, err := newID(tx, bucketInspect, "i")
			if err != nil {
				return err
			}
			in := Inspection{ID: nid, SiteID: id, Kind: InspectAuto, Requested: now}
			if err := s.complete(tx, site, &in, now); err != nil {
				return err
			}
			if err := pruneInspections(tx, id, now.Add(-InspectionHistory)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("api: automatic inspection: %w", err)
	}
	return nil
}
