package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/proconnect-oss/boxfw/cloudsim/api"
	"github.com/proconnect-oss/boxfw/cloudsim/objstore"
	"github.com/proconnect-oss/boxfw/cloudsim/s3server"
	"github.com/proconnect-oss/boxfw/cloudsim/seed"
	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

// options are the command's settings; defaults, then CLOUDSIM_* environment, then flags.
type options struct {
	Listen      string
	DataDir     string
	S3          string // "embedded" or an endpoint URL
	S3Listen    string
	S3Bucket    string
	S3Region    string
	S3AccessKey string
	S3SecretKey string
	S3Prefix    string
	Seed        string
	Tick        time.Duration
	Inspection  time.Duration
	LogLevel    string
	BcryptCost  int
	ReadyFile   string
}

func parse(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	env := func(name, def string) string {
		if v := getenv("CLOUDSIM_" + name); v != "" {
			return v
		}
		return def
	}
	dur := func(name string, def time.Duration) time.Duration {
		if d, err := time.ParseDuration(env(name, "")); err == nil {
			return d
		}
		return def
	}
	var o options
	fs := flag.NewFlagSet("cloudsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Listen, "listen", env("LISTEN", "127.0.0.1:7000"), "API listen address (CLOUDSIM_LISTEN)")
	fs.StringVar(&o.DataDir, "data", env("DATA", "./cloudsim-data"), "data directory (CLOUDSIM_DATA)")
	fs.StringVar(&o.S3, "s3", env("S3", "embedded"), `"embedded" or an S3 endpoint URL such as http://127.0.0.1:9000 (CLOUDSIM_S3)`)
	fs.StringVar(&o.S3Listen, "s3-listen", env("S3_LISTEN", "127.0.0.1:7001"), "embedded S3 listen address (CLOUDSIM_S3_LISTEN)")
	fs.StringVar(&o.S3Bucket, "s3-bucket", env("S3_BUCKET", "boxfw-clips"), "bucket for clips (CLOUDSIM_S3_BUCKET)")
	fs.StringVar(&o.S3Region, "s3-region", env("S3_REGION", "us-east-1"), "S3 region (CLOUDSIM_S3_REGION)")
	fs.StringVar(&o.S3AccessKey, "s3-access-key", env("S3_ACCESS_KEY", "cloudsim"), "S3 access key, also handed to boxes (CLOUDSIM_S3_ACCESS_KEY)")
	fs.StringVar(&o.S3SecretKey, "s3-secret-key", env("S3_SECRET_KEY", "cloudsim-secret"), "S3 secret key (CLOUDSIM_S3_SECRET_KEY)")
	fs.StringVar(&o.S3Prefix, "s3-prefix", env("S3_PREFIX", ""), "key prefix under which boxes write (CLOUDSIM_S3_PREFIX)")
	fs.StringVar(&o.Seed, "seed", env("SEED", ""), `seed FILE (JSON spec) or "demo" (CLOUDSIM_SEED)`)
	fs.DurationVar(&o.Tick, "tick", dur("TICK", 5*time.Second), "background tick: health flush, inspections, retention (CLOUDSIM_TICK)")
	fs.DurationVar(&o.Inspection, "inspection-interval", dur("INSPECTION_INTERVAL", time.Hour), "automatic inspection period (CLOUDSIM_INSPECTION_INTERVAL)")
	fs.StringVar(&o.LogLevel, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn, error (CLOUDSIM_LOG_LEVEL)")
	cost, _ := strconv.Atoi(env("BCRYPT_COST", "0"))
	fs.IntVar(&o.BcryptCost, "bcrypt-cost", cost, "password hash cost; 0 = bcrypt default (CLOUDSIM_BCRYPT_COST)")
	fs.StringVar(&o.ReadyFile, "ready-file", env("READY_FILE", ""), "write {api, s3} endpoints as JSON here once serving (CLOUDSIM_READY_FILE)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	return o, o.validate()
}

// validate reports every problem at once.
func (o options) validate() error {
	var errs []error
	if o.DataDir == "" {
		errs = append(errs, errors.New("--data is required"))
	}
	if o.S3 != "embedded" && !strings.HasPrefix(o.S3, "http://") && !strings.HasPrefix(o.S3, "https://") {
		errs = append(errs, fmt.Errorf("--s3 %q: want embedded or an http(s) URL", o.S3))
	}
	if o.S3Bucket == "" {
		errs = append(errs, errors.New("--s3-bucket is required"))
	}
	if o.BcryptCost != 0 && (o.BcryptCost < 4 || o.BcryptCost > 31) {
		errs = append(errs, errors.New("--bcrypt-cost must be 0 or 4..31"))
	}
	if o.Tick <= 0 || o.Inspection <= 0 {
		errs = append(errs, errors.New("--tick and --inspection-interval must be positive"))
	}
	return errors.Join(errs...)
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	o, err := parse(args, getenv, stderr)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	db, err := store.Open(o.DataDir, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()

	g, gctx := errgroup.WithContext(ctx)
	endpoint := o.S3
	if o.S3 == "embedded" {
		s3s, err := s3server.New(s3server.Config{Log: log, DataDir: filepath.Join(o.DataDir, "s3"), Addr: o.S3Listen, Buckets: []string{o.S3Bucket}})
		if err != nil {
			return err
		}
		endpoint = s3s.Endpoint()
		g.Go(func() error { return s3s.Run(gctx) })
	}
	objs, err := objstore.New(objstore.Config{Endpoint: endpoint, Region: o.S3Region, Bucket: o.S3Bucket, AccessKey: o.S3AccessKey, SecretKey: o.S3SecretKey})
	if err != nil {
		return err
	}
	if o.S3 != "embedded" {
		bctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := objs.EnsureBucket(bctx)
		cancel()
		if err != nil {
			return err
		}
	}
	srv, err := api.New(api.Config{
		Log: log, DB: db, Objects: objs, TickInterval: o.Tick, BcryptCost: o.BcryptCost, InspectionInterval: o.Inspection,
		Storage: api.Storage{Endpoint: endpoint, Region: o.S3Region, Bucket: o.S3Bucket, Prefix: o.S3Prefix, AccessKey: o.S3AccessKey, SecretKey: o.S3SecretKey},
	})
	if err != nil {
		return err
	}
	if o.Seed != "" {
		spec, err := seed.Load(o.Seed)
		if err != nil {
			return err
		}
		res, err := seed.Apply(srv.Handler(), spec)
		if err != nil {
			return err
		}
		if err := writeJSON(filepath.Join(o.DataDir, "seed.json"), res); err != nil {
			return err
		}
		log.Info("seeded", "already", res.AlreadySeeded, "site", res.SiteID, "box_serial", res.BoxSerial,
			"verification_code", res.VerificationCode, "admin", spec.AdminEmail, "password", spec.Password)
	}

	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", srv.MetricsHandler())
	mux.Handle("/", srv.Handler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	apiURL := "http://" + ln.Addr().String()
	log.Info("cloudsim serving", "api", apiURL, "s3", endpoint, "data", o.DataDir)
	if o.ReadyFile != "" {
		if err := writeJSON(o.ReadyFile, map[string]string{"api": apiURL, "s3": endpoint}); err != nil {
			return err
		}
	}
	g.Go(func() error {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), 10*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	})
	g.Go(func() error { return srv.Run(gctx) })
	// Requests that finished during shutdown may have touched health after Run's flush.
	err = errors.Join(g.Wait(), srv.Flush())
	log.Info("cloudsim stopped", "err", err)
	return err
}

// writeJSON writes crash-safely: temp file, fsync, rename.
func writeJSON(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := f.Write(append(raw, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}
