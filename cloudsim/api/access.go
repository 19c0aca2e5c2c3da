package api

import (
	"fmt"
	"slices"

	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

// rel is one way a caller can relate to a site. Access rules list the relations they
// accept; the role alone is never enough, the company (or ownership) must match too.
type rel int

const (
	relAdmin   rel = iota + 1 // Installer Admin of the site's current company
	relIT                     // IT Manager of the site's current company
	relManager                // the site's Site Manager
	relOwner                  // the Site Owner (end user, after handover)
	relInvited                // the end user invited as owner, before accepting
	relFormer                 // Admin or IT Manager of a previous installer company
)

func relations(u *User, s *Site) []rel {
	var out []rel
	if u.Role.installer() && u.CompanyID == s.CompanyID {
		switch u.Role {
		case RoleAdmin:
			out = append(out, relAdmin)
		case RoleIT:
			out = append(out, relIT)
		}
		if s.ManagerID == u.ID {
			out = append(out, relManager)
		}
	}
	if (u.Role == RoleAdmin || u.Role == RoleIT) && slices.Contains(s.FormerCompanyIDs, u.CompanyID) {
		out = append(out, relFormer)
	}
	if u.Role == RoleEndUser {
		if s.OwnerID == u.ID {
			out = append(out, relOwner)
		}
		if s.InvitedOwnerID == u.ID {
			out = append(out, relInvited)
		}
	}
	return out
}

// allow passes when the caller holds one of the accepted relations to the site.
func allow(u *User, s *Site, accepted ...rel) error {
	for _, r := range relations(u, s) {
		if slices.Contains(accepted, r) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s %s has no access to site %s for this", ErrForbidden, u.Role, u.ID, s.ID)
}

// maintain is allow plus the handover rule: once the site has an owner, installer-side
// maintenance (remote configuration, live view, playback, health) needs the owner's
// granted site authorization. The owner never needs one.
func maintain(u *User, s *Site, accepted ...rel) error {
	if err := allow(u, s, accepted...); err != nil {
		return err
	}
	if u.Role.installer() && s.handedOver() && s.Authorization != AuthGranted {
		return fmt.Errorf("%w: site %s is handed over and its owner has not granted authorization", ErrAuthorization, s.ID)
	}
	return nil
}

func getSite(tx *store.Tx, id string) (*Site, error) {
	var s Site
	if err := tx.Get(bucketSites, id, &s); err != nil {
		return nil, notFoundAs(err, "site "+id)
	}
	return &s, nil
}

func getDevice(tx *store.Tx, site *Site, id string) (*Device, error) {
	var d Device
	if err := tx.Get(bucketDevices, id, &d); err != nil {
		return nil, notFoundAs(err, "device "+id)
	}
	if d.SiteID != site.ID {
		// Never reveal or touch a device of another site through this one.
		return nil, fmt.Errorf("%w: device %s in site %s", ErrNotFound, id, site.ID)
	}
	return &d, nil
}

func getUser(tx *store.Tx, id string) (*User, error) {
	var u User
	if err := tx.Get(bucketUsers, id, &u); err != nil {
		return nil, notFoundAs(err, "user "+id)
	}
	return &u, nil
}

// siteTx loads the path's site and checks access in one read-write transaction, then
// runs fn; fn's changes to the site are saved.
func (s *Server) siteUpdate(c *call, check func(*Site) error, fn func(*store.Tx, *Site) error) error {
	return s.update(func(tx *store.Tx) error {
		site, err := getSite(tx, c.param("site"))
		if err != nil {
			return err
		}
		if err := check(site); err != nil {
			return err
		}
		if err := fn(tx, site); err != nil {
			return err
		}
		return tx.Put(bucketSites, site.ID, site)
	})
}

// siteView is siteUpdate for reads.
func (s *Server) siteView(c *call, check func(*Site) error, fn func(*store.Tx, *Site) error) error {
	return s.db.View(func(tx *store.Tx) error {
		site, err := getSite(tx, c.param("site"))
		if err != nil {
			return err
		}
		if err := check(site); err != nil {
			return err
		}
		return fn(tx, site)
	})
}
