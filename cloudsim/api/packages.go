package api

import (
	"fmt"
	"time"

	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

// PackageKind is one of the four cloud storage packages: retention (7 or 30 days; day
// 8 replaces day 1) x term (one month or one year of service).
type PackageKind string

// The four packages.
const (
	Pkg7dMonthly  PackageKind = "7d-monthly"
	Pkg7dAnnual   PackageKind = "7d-annual"
	Pkg30dMonthly PackageKind = "30d-monthly"
	Pkg30dAnnual  PackageKind = "30d-annual"
)

// AllPackages lists the packages in display order.
func AllPackages() []PackageKind {
	return []PackageKind{Pkg7dMonthly, Pkg7dAnnual, Pkg30dMonthly, Pkg30dAnnual}
}

// RetentionDays is how long footage is kept.
func (p PackageKind) RetentionDays() int {
	switch p {
	case Pkg7dMonthly, Pkg7dAnnual:
		return 7
	case Pkg30dMonthly, Pkg30dAnnual:
		return 30
	}
	return 0
}

// End is when a package started at start stops.
func (p PackageKind) End(start time.Time) time.Time {
	switch p {
	case Pkg7dAnnual, Pkg30dAnnual:
		return start.AddDate(1, 0, 0)
	}
	return start.AddDate(0, 1, 0)
}

func (p PackageKind) valid() bool { return p.RetentionDays() > 0 }

// defaultRetentionDays applies to clips of a channel that never had a package (which
// cannot be registered) or whose package records are gone.
const defaultRetentionDays = 7

// Inventory is a company's value-added service inventory: packages bought and not yet
// assigned to a channel.
type Inventory struct {
	CompanyID string              `json:"company_id"`
	Purchased map[PackageKind]int `json:"purchased"`
	Assigned  map[PackageKind]int `json:"assigned"`
}

// Subscription is one package assigned to one box channel.
type Subscription struct {
	ID        string      `json:"id"`
	CompanyID string      `json:"company_id"`
	SiteID    string      `json:"site_id"`
	BoxID     string      `json:"box_id"`
	Channel   int         `json:"channel"`
	Package   PackageKind `json:"package"`
	Start     time.Time   `json:"start"`
	End       time.Time   `json:"end"`
}

// PackageState is a channel's package status as the box and installers see it.
type PackageState struct {
	Active        bool        `json:"active"`
	Package       PackageKind `json:"package,omitempty"`
	RetentionDays int         `json:"retention_days,omitempty"`
	Start         *time.Time  `json:"start,omitempty"`
	End           *time.Time  `json:"end,omitempty"`
}

func subKey(boxID string, ch int) string { return fmt.Sprintf("%s/%02d/", boxID, ch) }

func channelSubs(tx *store.Tx, boxID string, ch int) ([]Subscription, error) {
	var out []Subscription
	err := tx.Each(bucketSubs, subKey(boxID, ch), func(_ string, raw []byte) error {
		var sub Subscription
		if err := store.Decode(raw, &sub); err != nil {
			return err
		}
		out = append(out, sub)
		return nil
	})
	return out, err
}

// activeSub returns the subscription of box channel ch covering t, if any.
func activeSub(tx *store.Tx, boxID string, ch int, t time.Time) (*Subscription, bool) {
	subs, err := channelSubs(tx, boxID, ch)
	if err != nil {
		return nil, false
	}
	for i := range subs {
		if !t.Before(subs[i].Start) && t.Before(subs[i].End) {
			return &subs[i], true
		}
	}
	return nil, false
}

func packageState(tx *store.Tx, boxID string, ch int, now time.Time) PackageState {
	sub, ok := activeSub(tx, boxID, ch, now)
	if !ok {
		return PackageState{}
	}
	return PackageState{Active: true, Package: sub.Package, RetentionDays: sub.Package.RetentionDays(), Start: &sub.Start, End: &sub.End}
}

// retentionDays is the retention applying to the channel's footage now: the active
// package's, else the most recently ended one's.
func retentionDays(tx *store.Tx, boxID string, ch int, now time.Time) int {
	if sub, ok := activeSub(tx, boxID, ch, now); ok {
		return sub.Package.RetentionDays()
	}
	subs, _ := channelSubs(tx, boxID, ch)
	best, days := time.Time{}, defaultRetentionDays
	for _, sub := range subs {
		if sub.End.After(best) && !sub.Start.After(now) {
			best, days = sub.End, sub.Package.RetentionDays()
		}
	}
	return days
}

func (s *Server) storageOffered(region string) error {
	if !s.cfg.Regions[region] {
		return fmt.Errorf("%w: region %s offers no cloud storage", ErrRegion, region)
	}
	return nil
}

type purchaseReq struct {
	Package  PackageKind `json:"package"`
	Quantity int         `json:"quantity"`
}

// purchasePackages adds packages to the company's inventory (Installer Admin only).
func (s *Server) purchasePackages(c *call) (any, error) {
	cid := c.param("company")
	if err := requireCompanyRole(c.user, cid, RoleAdmin); err != nil {
		return nil, err
	}
	var req purchaseReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if !req.Package.valid() || req.Quantity < 1 || req.Quantity > 10000 {
		return nil, fmt.Errorf("%w: package must be one of %v and quantity 1..10000", ErrInvalid, AllPackages())
	}
	var inv Inventory
	err := s.update(func(tx *store.Tx) error {
		var co Company
		if err := tx.Get(bucketCompanies, cid, &co); err != nil {
			return notFoundAs(err, "company "+cid)
		}
		if err := s.storageOffered(co.Region); err != nil {
			return err
		}
		inv = loadInventory(tx, cid)
		inv.Purchased[req.Package] += req.Quantity
		return tx.Put(bucketInventory, cid, inv)
	})
	return inv, err
}

func loadInventory(tx *store.Tx, cid string) Inventory {
	inv := Inventory{CompanyID: cid}
	_ = tx.Get(bucketInventory, cid, &inv)
	if inv.Purchased == nil {
		inv.Purchased = map[PackageKind]int{}
	}
	if inv.Assigned == nil {
		inv.Assigned = map[PackageKind]int{}
	}
	return inv
}

type inventoryLine struct {
	Package   PackageKind `json:"package"`
	Purchased int         `json:"purchased"`
	Assigned  int         `json:"assigned"`
	Available int         `json:"available"`
}

type inventoryResp struct {
	CompanyID     string          `json:"company_id"`
	CloudStorage  bool            `json:"cloud_storage"`
	Lines         []inventoryLine `json:"lines"`
	Subscriptions []Subscription  `json:"subscriptions"`
}

func (s *Server) getInventory(c *call) (any, error) {
	cid := c.param("company")
	if err := requireCompanyRole(c.user, cid, RoleAdmin, RoleIT); err != nil {
		return nil, err
	}
	out := inventoryResp{CompanyID: cid, CloudStorage: s.cfg.Regions[c.user.Region], Subscriptions: []Subscription{}}
	err := s.db.View(func(tx *store.Tx) error {
		inv := loadInventory(tx, cid)
		for _, p := range AllPackages() {
			out.Lines = append(out.Lines, inventoryLine{Package: p, Purchased: inv.Purchased[p], Assigned: inv.Assigned[p], Available: inv.Purchased[p] - inv.Assigned[p]})
		}
		return tx.Each(bucketSubs, "", func(_ string, raw []byte) error {
			var sub Subscription
			if err := store.Decode(raw, &sub); err != nil {
				return err
			}
			if sub.CompanyID == cid {
				out.Subscriptions = append(out.Subscriptions, sub)
			}
			return nil
		})
	})
	return out, err
}

type assignReq struct {
	Package PackageKind `json:"package"`
	// Start defaults to now, or to the end of the channel's current package (renewal).
	Start *time.Time `json:"start,omitempty"`
}

// assignPackage takes one package from the company's inventory and puts it on a box
// channel for its term. Refused in a region without cloud storage.
func (s *Server) assignPackage(c *call) (any, error) {
	var sub Subscription
	err := s.siteUpdate(c, func(site *Site) error { return maintain(c.user, site, relAdmin, relIT) },
		func(tx *store.Tx, site *Site) error {
			ch, err := channelParam(c)
			if err != nil {
				return err
			}
			var req assignReq
			if err := c.decode(&req); err != nil {
				return err
			}
			if !req.Package.valid() {
				return fmt.Errorf("%w: package must be one of %v", ErrInvalid, AllPackages())
			}
			if err := s.storageOffered(site.Region); err != nil {
				return err
			}
			box, err := getBox(tx, site, c.param("box"))
			if err != nil {
				return err
			}
			inv := loadInventory(tx, site.CompanyID)
			if inv.Purchased[req.Package]-inv.Assigned[req.Package] < 1 {
				return fmt.Errorf("%w: %s", ErrNoInventory, req.Package)
			}
			start := c.now
			if req.Start != nil {
				start = *req.Start
			} else if cur, ok := activeSub(tx, box.ID, ch, c.now); ok {
				start = cur.End
			}
			id, err := newID(tx, bucketSubs, "p")
			if err != nil {
				return err
			}
			sub = Subscription{ID: id, CompanyID: site.CompanyID, SiteID: site.ID, BoxID: box.ID, Channel: ch,
				Package: req.Package, Start: start, End: req.Package.End(start)}
			inv.Assigned[req.Package]++
			if err := tx.Put(bucketInventory, site.CompanyID, inv); err != nil {
				return err
			}
			return tx.Put(bucketSubs, subKey(box.ID, ch)+id, sub)
		})
	return sub, err
}
