package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

// tokenRec is stored under the SHA-256 of the token, so a copy of the store file does
// not hand out live credentials.
type tokenRec struct {
	Kind    string    `json:"kind"` // "user" or "box"
	Subject string    `json:"subject"`
	Expires time.Time `json:"expires,omitzero"`
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func newSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newID(tx *store.Tx, bucket, prefix string) (string, error) {
	n, err := tx.NextID(bucket)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%d", prefix, n), nil
}

func (s *Server) authUser(r *http.Request, now time.Time) (*User, error) {
	tok, err := bearer(r)
	if err != nil {
		return nil, err
	}
	var u User
	err = s.db.View(func(tx *store.Tx) error {
		var rec tokenRec
		if err := tx.Get(bucketTokens, hashToken(tok), &rec); err != nil || rec.Kind != "user" {
			return fmt.Errorf("%w: unknown token", ErrUnauthenticated)
		}
		if !now.Before(rec.Expires) {
			return fmt.Errorf("%w: token expired", ErrUnauthenticated)
		}
		if err := tx.Get(bucketUsers, rec.Subject, &u); err != nil {
			return fmt.Errorf("%w: account gone", ErrUnauthenticated)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func (s *Server) authBox(r *http.Request) (*Device, error) {
	tok, err := bearer(r)
	if err != nil {
		return nil, err
	}
	h := hashToken(tok)
	gen := s.boxes.gen.Load()
	if d := s.boxes.get(h, gen); d != nil {
		return d, nil
	}
	var d Device
	err = s.db.View(func(tx *store.Tx) error {
		var rec tokenRec
		if err := tx.Get(bucketTokens, h, &rec); err != nil || rec.Kind != "box" {
			return fmt.Errorf("%w: unknown box token", ErrUnauthenticated)
		}
		if err := tx.Get(bucketDevices, rec.Subject, &d); err != nil || d.Box == nil {
			return fmt.Errorf("%w: box removed", ErrUnauthenticated)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.boxes.put(h, gen, &d)
	return &d, nil
}

type accountReq struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

func (a accountReq) validate() error {
	if !strings.Contains(a.Email, "@") || len(a.Password) < 8 {
		return fmt.Errorf("%w: email must contain @ and password be at least 8 characters", ErrInvalid)
	}
	return nil
}

// createUser inserts u with a hashed password, refusing a taken email.
func (s *Server) createUser(tx *store.Tx, u *User, password string, now time.Time) error {
	email := strings.ToLower(strings.TrimSpace(u.Email))
	if tx.Has(bucketEmails, email) {
		return fmt.Errorf("%w: email %s already registered", ErrConflict, email)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.BcryptCost)
	if err != nil {
		return fmt.Errorf("api: hash password: %w", err)
	}
	id, err := newID(tx, bucketUsers, "u")
	if err != nil {
		return err
	}
	u.ID, u.Email, u.PassHash, u.Created = id, email, hash, now
	if err := tx.Put(bucketEmails, email, id); err != nil {
		return err
	}
	return tx.Put(bucketUsers, id, u)
}

func (s *Server) knownRegion(region string) error {
	if _, ok := s.cfg.Regions[region]; !ok {
		return fmt.Errorf("%w: unknown region %q", ErrInvalid, region)
	}
	return nil
}

type companyReq struct {
	Name   string     `json:"name"`
	Region string     `json:"region"`
	Admin  accountReq `json:"admin"`
}

type companyResp struct {
	Company Company `json:"company"`
	Admin   User    `json:"admin"`
}

// createCompany registers an installer company and its Installer Admin.
func (s *Server) createCompany(c *call) (any, error) {
	var req companyReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, fmt.Errorf("%w: name required", ErrInvalid)
	}
	if err := s.knownRegion(req.Region); err != nil {
		return nil, err
	}
	if err := req.Admin.validate(); err != nil {
		return nil, err
	}
	var out companyResp
	err := s.update(func(tx *store.Tx) error {
		id, err := newID(tx, bucketCompanies, "c")
		if err != nil {
			return err
		}
		out.Company = Company{ID: id, Name: req.Name, Region: req.Region, Created: c.now}
		if err := tx.Put(bucketCompanies, id, out.Company); err != nil {
			return err
		}
		out.Admin = User{Email: req.Admin.Email, Name: req.Admin.Name, Role: RoleAdmin, CompanyID: id, Region: req.Region}
		return s.createUser(tx, &out.Admin, req.Admin.Password, c.now)
	})
	out.Admin = out.Admin.public()
	return out, err
}

type endUserReq struct {
	accountReq
	Region string `json:"region"`
}

// createEndUser signs up a customer (the mobile app's sign-up).
func (s *Server) createEndUser(c *call) (any, error) {
	var req endUserReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	if err := s.knownRegion(req.Region); err != nil {
		return nil, err
	}
	u := User{Email: req.Email, Name: req.Name, Role: RoleEndUser, Region: req.Region}
	err := s.update(func(tx *store.Tx) error { return s.createUser(tx, &u, req.Password, c.now) })
	return u.public(), err
}

type memberReq struct {
	accountReq
	Role Role `json:"role"`
}

// addMember adds an IT Manager (Admin only) or an employee (Admin or IT Manager).
func (s *Server) addMember(c *call) (any, error) {
	cid := c.param("company")
	if err := requireCompanyRole(c.user, cid, RoleAdmin, RoleIT); err != nil {
		return nil, err
	}
	var req memberReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	switch req.Role {
	case RoleEmployee:
	case RoleIT:
		if c.user.Role != RoleAdmin {
			return nil, fmt.Errorf("%w: only the Installer Admin adds IT Managers", ErrForbidden)
		}
	default:
		return nil, fmt.Errorf("%w: role must be it_manager or employee", ErrInvalid)
	}
	u := User{Email: req.Email, Name: req.Name, Role: req.Role, CompanyID: cid, Region: c.user.Region}
	err := s.update(func(tx *store.Tx) error { return s.createUser(tx, &u, req.Password, c.now) })
	return u.public(), err
}

func (s *Server) listMembers(c *call) (any, error) {
	cid := c.param("company")
	if err := requireCompanyRole(c.user, cid, RoleAdmin, RoleIT); err != nil {
		return nil, err
	}
	out := []User{}
	err := s.db.View(func(tx *store.Tx) error {
		return tx.Each(bucketUsers, "", func(_ string, raw []byte) error {
			var u User
			if err := store.Decode(raw, &u); err != nil {
				return err
			}
			if u.CompanyID == cid {
				out = append(out, u.public())
			}
			return nil
		})
	})
	return out, err
}

type loginReq struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResp struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
}

func (s *Server) login(c *call) (any, error) {
	var req loginReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	bad := fmt.Errorf("%w: wrong email or password", ErrUnauthenticated)
	var u User
	err := s.db.View(func(tx *store.Tx) error {
		var id string
		if err := tx.Get(bucketEmails, strings.ToLower(strings.TrimSpace(req.Email)), &id); err != nil {
			return bad
		}
		return tx.Get(bucketUsers, id, &u)
	})
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword(u.PassHash, []byte(req.Password)) != nil {
		return nil, bad
	}
	tok := newSecret()
	exp := c.now.Add(s.cfg.TokenTTL)
	err = s.update(func(tx *store.Tx) error {
		return tx.Put(bucketTokens, hashToken(tok), tokenRec{Kind: "user", Subject: u.ID, Expires: exp})
	})
	return loginResp{Token: tok, ExpiresAt: exp, User: u.public()}, err
}

func (s *Server) me(c *call) (any, error) { return c.user.public(), nil }

// requireCompanyRole passes installers of company cid holding one of roles.
func requireCompanyRole(u *User, cid string, roles ...Role) error {
	if u.CompanyID == "" || u.CompanyID != cid {
		return fmt.Errorf("%w: not a member of company %s", ErrForbidden, cid)
	}
	for _, r := range roles {
		if u.Role == r {
			return nil
		}
	}
	return fmt.Errorf("%w: role %s may not do this", ErrForbidden, u.Role)
}

// purgeTokens deletes expired person tokens; box tokens have no expiry and stay.
func (s *Server) purgeTokens() error {
	now := s.cfg.Clock.Now()
	var dead []string
	err := s.db.View(func(tx *store.Tx) error {
		return tx.Each(bucketTokens, "", func(k string, raw []byte) error {
			var rec tokenRec
			if err := store.Decode(raw, &rec); err != nil {
				return err
			}
			if rec.Kind == "user" && !now.Before(rec.Expires) {
				dead = append(dead, k)
			}
			return nil
		})
	})
	if err != nil || len(dead) == 0 {
		return err
	}
	return s.update(func(tx *store.Tx) error {
		for _, k := range dead {
			if err := tx.Delete(bucketTokens, k); err != nil {
				return err
			}
		}
		return nil
	})
}
