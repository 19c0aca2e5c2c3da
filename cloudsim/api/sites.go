package api

import (
	"fmt"
	"slices"

	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

type siteReq struct {
	Name   string `json:"name"`
	Region string `json:"region,omitempty"`
}

func (s *Server) createSite(c *call) (any, error) {
	if c.user.Role != RoleAdmin && c.user.Role != RoleIT {
		return nil, fmt.Errorf("%w: only the Installer Admin or an IT Manager creates sites", ErrForbidden)
	}
	var req siteReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, fmt.Errorf("%w: name required", ErrInvalid)
	}
	if req.Region == "" {
		req.Region = c.user.Region
	}
	if err := s.knownRegion(req.Region); err != nil {
		return nil, err
	}
	site := Site{Name: req.Name, Region: req.Region, CompanyID: c.user.CompanyID, Authorization: AuthNone, Created: c.now}
	err := s.update(func(tx *store.Tx) error {
		id, err := newID(tx, bucketSites, "s")
		if err != nil {
			return err
		}
		site.ID = id
		return tx.Put(bucketSites, id, site)
	})
	return site, err
}

// listSites returns the sites the caller may see: the whole company for Admin and IT
// Manager (including sites of former clients, until deleted), managed sites for an
// employee, owned or invited sites for an end user.
func (s *Server) listSites(c *call) (any, error) {
	out := []Site{}
	err := s.db.View(func(tx *store.Tx) error {
		return tx.Each(bucketSites, "", func(_ string, raw []byte) error {
			var site Site
			if err := store.Decode(raw, &site); err != nil {
				return err
			}
			if len(relations(c.user, &site)) > 0 {
				out = append(out, site)
			}
			return nil
		})
	})
	return out, err
}

func (s *Server) getSiteH(c *call) (any, error) {
	var out Site
	err := s.siteView(c, func(site *Site) error {
		return allow(c.user, site, relAdmin, relIT, relManager, relOwner, relInvited, relFormer)
	}, func(_ *store.Tx, site *Site) error { out = *site; return nil })
	return out, err
}

// deleteSite removes a site. The current installer may delete it only before handover
// (afterwards it is the customer's); a former installer deletes it from its own list
// after a change of installer, which leaves the site itself alone.
func (s *Server) deleteSite(c *call) (any, error) {
	return nil, s.update(func(tx *store.Tx) error {
		site, err := getSite(tx, c.param("site"))
		if err != nil {
			return err
		}
		rels := relations(c.user, site)
		switch {
		case slices.Contains(rels, relAdmin) || slices.Contains(rels, relIT):
			if site.handedOver() {
				return fmt.Errorf("%w: site %s belongs to its owner; it can only be transferred", ErrConflict, site.ID)
			}
			return s.purgeSite(tx, site)
		case slices.Contains(rels, relFormer):
			site.FormerCompanyIDs = slices.DeleteFunc(site.FormerCompanyIDs, func(id string) bool { return id == c.user.CompanyID })
			return tx.Put(bucketSites, site.ID, site)
		}
		return fmt.Errorf("%w: only the site's installer (Admin, IT Manager) or a former one deletes it", ErrForbidden)
	})
}

func (s *Server) purgeSite(tx *store.Tx, site *Site) error {
	devs, err := siteDevices(tx, site.ID)
	if err != nil {
		return err
	}
	for i := range devs {
		if err := deleteDeviceRecords(tx, &devs[i]); err != nil {
			return err
		}
	}
	return tx.Delete(bucketSites, site.ID)
}

type managerReq struct {
	UserID string `json:"user_id"`
}

// setManager assigns or changes the one Site Manager. Only the Installer Admin or an IT
// Manager does it, and the manager must be an employee (or IT Manager) of the company.
func (s *Server) setManager(c *call) (any, error) {
	var req managerReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var out Site
	err := s.siteUpdate(c, func(site *Site) error { return allow(c.user, site, relAdmin, relIT) },
		func(tx *store.Tx, site *Site) error {
			m, err := getUser(tx, req.UserID)
			if err != nil {
				return fmt.Errorf("%w: manager: %w", ErrInvalid, err)
			}
			if m.CompanyID != site.CompanyID || (m.Role != RoleEmployee && m.Role != RoleIT) {
				return fmt.Errorf("%w: site manager must be an employee of company %s", ErrInvalid, site.CompanyID)
			}
			site.ManagerID = m.ID
			out = *site
			return nil
		})
	return out, err
}

type inviteReq struct {
	Email string `json:"email"`
}

// inviteOwner invites an end user of the site's region to become its Site Owner.
func (s *Server) inviteOwner(c *call) (any, error) {
	var req inviteReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var out Site
	err := s.siteUpdate(c, func(site *Site) error { return allow(c.user, site, relAdmin, relIT, relManager) },
		func(tx *store.Tx, site *Site) error {
			if site.handedOver() {
				return fmt.Errorf("%w: site %s already has an owner", ErrConflict, site.ID)
			}
			var id string
			if err := tx.Get(bucketEmails, req.Email, &id); err != nil {
				return fmt.Errorf("%w: no end user %s", ErrNotFound, req.Email)
			}
			u, err := getUser(tx, id)
			if err != nil {
				return err
			}
			if u.Role != RoleEndUser {
				return fmt.Errorf("%w: %s is not an end user", ErrInvalid, req.Email)
			}
			if u.Region != site.Region {
				return fmt.Errorf("%w: owner region %s differs from site region %s", ErrRegion, u.Region, site.Region)
			}
			site.InvitedOwnerID = u.ID
			out = *site
			return nil
		})
	return out, err
}

// acceptHandover is the invited end user accepting: the site is handed over and the
// user becomes its Site Owner. From now on installers need a granted authorization.
func (s *Server) acceptHandover(c *call) (any, error) {
	var out Site
	err := s.siteUpdate(c, func(site *Site) error { return allow(c.user, site, relInvited) },
		func(_ *store.Tx, site *Site) error {
			now := c.now
			site.OwnerID, site.InvitedOwnerID, site.HandedOverAt = c.user.ID, "", &now
			site.Authorization = AuthNone
			out = *site
			return nil
		})
	return out, err
}

func (s *Server) applyAuthorization(c *call) (any, error) {
	var out Site
	err := s.siteUpdate(c, func(site *Site) error { return allow(c.user, site, relAdmin, relIT, relManager) },
		func(_ *store.Tx, site *Site) error {
			if !site.handedOver() {
				return fmt.Errorf("%w: site %s has no owner to authorize", ErrConflict, site.ID)
			}
			if site.Authorization != AuthGranted {
				site.Authorization = AuthPending
			}
			out = *site
			return nil
		})
	return out, err
}

func (s *Server) grantAuthorization(c *call) (any, error) {
	var out Site
	err := s.siteUpdate(c, func(site *Site) error { return allow(c.user, site, relOwner) },
		func(_ *store.Tx, site *Site) error {
			if site.Authorization != AuthPending {
				return fmt.Errorf("%w: no pending authorization application", ErrConflict)
			}
			site.Authorization = AuthGranted
			out = *site
			return nil
		})
	return out, err
}

func (s *Server) cancelAuthorization(c *call) (any, error) {
	var out Site
	err := s.siteUpdate(c, func(site *Site) error { return allow(c.user, site, relOwner) },
		func(_ *store.Tx, site *Site) error {
			site.Authorization = AuthNone
			out = *site
			return nil
		})
	return out, err
}

type claimReq struct {
	SiteID string `json:"site_id"`
}

// claimSite is the change of installer: after the owner cancelled the old installer's
// authorization, a new Installer Admin adds the existing site by its ID. The old
// company keeps it in its list (as former) until it deletes it; the new company then
// assigns a Site Manager and applies for authorization.
func (s *Server) claimSite(c *call) (any, error) {
	if c.user.Role != RoleAdmin {
		return nil, fmt.Errorf("%w: only an Installer Admin adds a site by ID", ErrForbidden)
	}
	var req claimReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var out Site
	err := s.update(func(tx *store.Tx) error {
		site, err := getSite(tx, req.SiteID)
		if err != nil {
			return err
		}
		switch {
		case site.CompanyID == c.user.CompanyID:
			return fmt.Errorf("%w: site %s is already yours", ErrConflict, site.ID)
		case !site.handedOver():
			return fmt.Errorf("%w: site %s has no owner; it is still its installer's", ErrConflict, site.ID)
		case site.Authorization != AuthNone:
			return fmt.Errorf("%w: the owner must first cancel the current installer's authorization", ErrConflict)
		case site.Region != c.user.Region:
			return fmt.Errorf("%w: site region %s, company region %s", ErrRegion, site.Region, c.user.Region)
		}
		site.FormerCompanyIDs = append(slices.DeleteFunc(site.FormerCompanyIDs, func(id string) bool { return id == c.user.CompanyID }), site.CompanyID)
		site.CompanyID, site.ManagerID = c.user.CompanyID, ""
		out = *site
		return tx.Put(bucketSites, site.ID, site)
	})
	return out, err
}
