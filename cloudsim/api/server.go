package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

// Clock tells the time. Tests inject a fake so expiry, retention and inspection
// schedules run instantly.
type Clock interface{ Now() time.Time }

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Objects is the object store as the API needs it: signed links for playback and
// deletion for retention. The contract: Delete of a missing key is not an error.
type Objects interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration, attachmentName string) (string, error)
	Delete(ctx context.Context, key string) error
}

// Storage is what a box is told about the object store it uploads to.
type Storage struct {
	Endpoint  string `json:"endpoint"`
	Region    string `json:"region"`
	Bucket    string `json:"bucket"`
	Prefix    string `json:"prefix"`
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// Config configures a Server. Zero values mean the documented defaults.
type Config struct {
	Log *slog.Logger // required
	DB  *store.DB    // required
	// Clock defaults to SystemClock.
	Clock Clock
	// Objects may be nil: playback and download then fail, retention only prunes the index.
	Objects Objects
	// Storage is handed to boxes; each box writes under Prefix + "boxes/<serial>/".
	Storage Storage
	// TokenTTL is the life of a person's bearer token. Default 12h. Box tokens do not
	// expire: they are device credentials, rotated by registering again.
	TokenTTL time.Duration
	// BcryptCost defaults to bcrypt.DefaultCost; tests lower it to bcrypt.MinCost.
	BcryptCost int
	// InspectionInterval is the automatic inspection period per site. Default 1h.
	InspectionInterval time.Duration
	// OfflineAfter marks a device offline when nothing was heard for this long.
	// Default 90s (three missed 30 s heartbeats).
	OfflineAfter time.Duration
	// PresignTTL is the life of playback and download links. Default 15m.
	PresignTTL time.Duration
	// TickInterval is how often Run calls Tick. Default 5s.
	TickInterval time.Duration
	// Regions maps each known region to whether it offers cloud storage. Default:
	// eu, us, apac offer it; latam, mea do not.
	Regions map[string]bool
}

func (c *Config) defaults() error {
	if c.Log == nil || c.DB == nil {
		return fmt.Errorf("api: Config.Log and Config.DB are required: %w", ErrInvalid)
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = 12 * time.Hour
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = bcrypt.DefaultCost
	}
	if c.InspectionInterval == 0 {
		c.InspectionInterval = time.Hour
	}
	if c.OfflineAfter == 0 {
		c.OfflineAfter = 90 * time.Second
	}
	if c.PresignTTL == 0 {
		c.PresignTTL = 15 * time.Minute
	}
	if c.TickInterval == 0 {
		c.TickInterval = 5 * time.Second
	}
	if c.Regions == nil {
		c.Regions = map[string]bool{"eu": true, "us": true, "apac": true, "latam": false, "mea": false}
	}
	return nil
}

// Server is the cloud API. Create with New, serve Handler, and Run the background loop.
type Server struct {
	cfg     Config
	log     *slog.Logger
	db      *store.DB
	routes  []route
	mux     *http.ServeMux
	live    *liveState
	metrics *metrics
	boxes   boxCache
}

// New builds a Server and loads persisted health into memory.
func New(cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Log.With("component", "cloudsim.api"), db: cfg.DB, metrics: newMetrics()}
	live, err := loadLive(cfg.DB)
	if err != nil {
		return nil, err
	}
	s.live = live
	s.routes = s.routeTable()
	s.mux = s.buildMux()
	return s, nil
}

// Handler returns the HTTP handler for everything under /api/v1.
func (s *Server) Handler() http.Handler { return s.mux }

// Run calls Tick every TickInterval until ctx ends, then flushes soft state.
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.Flush(); err != nil {
				return err
			}
			return nil
		case <-t.C:
			if err := s.Tick(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("tick failed", "err", err)
			}
		}
	}
}

// Tick does the periodic work once at the clock's current time: flush health, run due
// automatic inspections and sweep expired clips. Tests call it after moving the clock.
func (s *Server) Tick(ctx context.Context) error {
	return errors.Join(s.Flush(), s.inspectDue(), s.sweepRetention(ctx), s.purgeTokens())
}

// liveState holds the hot, soft state of the box API in memory: last contact and the
// latest health per device. Heartbeats at fleet scale must not cost an fsync each, so
// health is written to the store in batches by Flush; a crash loses at most one tick of
// health, which the next report replaces anyway.
type liveState struct {
	mu     sync.Mutex
	seen   map[string]time.Time
	health map[string]Health
	dirty  map[string]bool
}

func loadLive(db *store.DB) (*liveState, error) {
	l := &liveState{seen: map[string]time.Time{}, health: map[string]Health{}, dirty: map[string]bool{}}
	err := db.View(func(tx *store.Tx) error {
		return tx.Each(bucketHealth, "", func(k string, raw []byte) error {
			var h Health
			if err := store.Decode(raw, &h); err != nil {
				return err
			}
			l.health[k] = h
			l.seen[k] = h.ReportedAt
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("api: load health: %w", err)
	}
	return l, nil
}

// Flush writes dirty health records to the store.
func (s *Server) Flush() error {
	s.live.mu.Lock()
	batch := make([]Health, 0, len(s.live.dirty))
	for id := range s.live.dirty {
		batch = append(batch, s.live.health[id])
	}
	s.live.dirty = map[string]bool{}
	s.live.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *store.Tx) error { // health never changes auth: no cache bump
		for _, h := range batch {
			if err := tx.Put(bucketHealth, h.DeviceID, h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("api: flush health: %w", err)
	}
	s.metrics.healthFlushed.Add(float64(len(batch)))
	return nil
}

// Bucket names.
const (
	bucketCompanies = "companies"
	bucketUsers     = "users"
	bucketEmails    = "emails"
	bucketTokens    = "tokens"
	bucketSites     = "sites"
	bucketDevices   = "devices"
	bucketSerials   = "serials"
	// bucketSiteDevices indexes devices by site: key "siteID/deviceID".
	bucketSiteDevices = "site_devices"
	bucketLinkages    = "linkages"
	bucketHealth      = "health"
	bucketInspect     = "inspections"
	bucketInventory   = "inventory"
	bucketSubs        = "subscriptions"
	bucketClips       = "clips"
)
