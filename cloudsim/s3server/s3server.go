package s3server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3bolt"
	bolt "go.etcd.io/bbolt"
)

// Config configures the embedded endpoint.
type Config struct {
	Log *slog.Logger // required
	// DataDir holds s3.db; required.
	DataDir string
	// Addr is the listen address; default 127.0.0.1:0 (a free port).
	Addr string
	// Buckets are created at start if missing.
	Buckets []string
}

// Server is a running-to-be embedded S3 endpoint. Its listener is open from New on, so
// Endpoint is valid before Run.
type Server struct {
	log  *slog.Logger
	db   *bolt.DB
	ln   net.Listener
	http *http.Server
}

// New opens the store, creates the buckets and binds the listener.
func New(cfg Config) (*Server, error) {
	if cfg.Log == nil || cfg.DataDir == "" {
		return nil, fmt.Errorf("%w: Log and DataDir required", ErrConfig)
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("s3server: data dir: %w", err)
	}
	db, err := bolt.Open(filepath.Join(cfg.DataDir, "s3.db"), 0o600, &bolt.Options{Timeout: 2 * time.Second, MaxSize: 64 << 30})
	if err != nil {
		return nil, fmt.Errorf("s3server: open: %w", err)
	}
	backend := s3bolt.New(db)
	for _, b := range cfg.Buckets {
		ok, err := backend.BucketExists(b)
		if err == nil && !ok {
			err = backend.CreateBucket(b)
		}
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("s3server: bucket %s: %w", b, err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("s3server: listen: %w", err)
	}
	log := cfg.Log.With("component", "cloudsim.s3")
	faker := gofakes3.New(backend,
		gofakes3.WithHostBucket(false), // path-style only: buckets never resolve via DNS here
		gofakes3.WithLogger(gofakes3.DiscardLog()),
	)
	return &Server{log: log, db: db, ln: ln, http: &http.Server{Handler: faker.Server(), ReadHeaderTimeout: 10 * time.Second}}, nil
}

// Endpoint is the base URL to give S3 clients, e.g. http://127.0.0.1:PORT.
func (s *Server) Endpoint() string { return "http://" + s.ln.Addr().String() }

// Run serves until ctx ends, then shuts down gracefully and closes the store.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	s.log.Info("embedded S3 listening", "endpoint", s.Endpoint())
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err = s.http.Shutdown(sctx)
		cancel()
		<-errc
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, s.db.Close())
}
