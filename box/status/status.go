// Package status owns the box's local status listener: the JSON document at
// /v1/status and the Prometheus exposition at /metrics, both rendered from one
// Snapshot so the two always carry the same numbers.
package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Snapshot is the whole state of the box at one moment.
type Snapshot struct {
	Serial    string    `json:"serial"`
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	Now       time.Time `json:"now"`
	OutputFPS int       `json:"output_fps"`
	// ClipsInProgress counts clip windows open or being cut and spooled.
	ClipsInProgress int            `json:"clips_in_progress"`
	Channels        []Channel      `json:"channels"`
	Spool           Spool          `json:"spool"`
	Uplink          Uplink         `json:"uplink"`
	Cloud           Cloud          `json:"cloud"`
	Devices         []Device       `json:"devices,omitempty"`
	Problems        []string       `json:"problems,omitempty"`
	Extra           map[string]any `json:"extra,omitempty"`
}

// Channel is one linked channel.
type Channel struct {
	ID         int    `json:"id"`
	Device     string `json:"device"`
	URL        string `json:"url"` // without credentials
	State      string `json:"state"`
	Codec      string `json:"codec,omitempty"`
	Width      int    `json:"width,omitempty"`
	Height     int    `json:"height,omitempty"`
	Admitted   bool   `json:"admitted"`
	Admission  string `json:"admission"` // "admitted", "pending" or the refusal naming the rule and numbers
	Subscribed bool   `json:"subscribed"`
	Resolution string `json:"resolution"` // output

	Events        map[string]int64 `json:"events"` // by ISAPI eventType
	ClipsMade     int64            `json:"clips_made"`
	ClipsFailed   int64            `json:"clips_failed"`
	Uploaded      int64            `json:"uploaded"`
	Pending       int64            `json:"pending"`
	Evicted       int64            `json:"evicted"`
	NotSubscribed int64            `json:"not_subscribed"`

	Connects    int64   `json:"connects"`
	Reconnects  int64   `json:"reconnects"`
	AccessUnits int64   `json:"access_units"`
	Bytes       int64   `json:"bytes"`
	RingSeconds float64 `json:"ring_seconds"`
	RingBytes   int64   `json:"ring_bytes"`
	RingDropped int64   `json:"ring_dropped"`
	LastError   string  `json:"last_error,omitempty"`
}

// Spool is the ANR spool.
type Spool struct {
	Bytes            int64            `json:"bytes"`
	BudgetBytes      int64            `json:"budget_bytes"`
	Pending          int64            `json:"pending"`
	PendingBytes     int64            `json:"pending_bytes"`
	Uploading        int64            `json:"uploading"`
	Uploaded         int64            `json:"uploaded"`
	OldestPendingAge float64          `json:"oldest_pending_age_seconds"`
	Evicted          map[string]int64 `json:"evicted"` // by reason
	Lost             int64            `json:"lost"`
	Error            string           `json:"error,omitempty"`
}

// Uplink is the object-store uplink.
type Uplink struct {
	State         string           `json:"state"` // ok, degraded, down, disabled
	Endpoint      string           `json:"endpoint,omitempty"`
	ThroughputBps float64          `json:"throughput_bytes_per_second"`
	Uploaded      int64            `json:"uploaded"`
	UploadedBytes int64            `json:"uploaded_bytes"`
	Retries       int64            `json:"retries"`
	Failures      map[string]int64 `json:"failures"` // by class
	LastError     string           `json:"last_error,omitempty"`
}

// Cloud is the link to the installer cloud.
type Cloud struct {
	State         string    `json:"state"` // disabled, registering, ok, unreachable
	URL           string    `json:"url,omitempty"`
	LastHeartbeat time.Time `json:"last_heartbeat,omitempty"`
	ConfigVersion int64     `json:"config_version"`
	LastError     string    `json:"last_error,omitempty"`
}

// Device is an ISAPI device the box talks to.
type Device struct {
	Name        string           `json:"name"`
	Model       string           `json:"model,omitempty"`
	Serial      string           `json:"serial,omitempty"`
	Hikvision   bool             `json:"hikvision"`
	Refusal     string           `json:"refusal,omitempty"`
	EventsState string           `json:"events_state"`
	Events      map[string]int64 `json:"events"`
	Malformed   int64            `json:"malformed_parts"`
	Reconnects  int64            `json:"reconnects"`
	VideoLoss   bool             `json:"video_loss"`
	Tamper      bool             `json:"tamper"`
	DiskError   bool             `json:"disk_error"`
	LastError   string           `json:"last_error,omitempty"`
}

// Source produces snapshots; the daemon implements it.
type Source interface {
	Snapshot() Snapshot
}

// Handler serves /v1/status and /metrics from src.
func Handler(src Source) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&collector{src: src})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(src.Snapshot())
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

// Server is the status listener.
type Server struct {
	Addr   string
	src    Source
	logger *slog.Logger
	ln     net.Listener
}

// Listen binds addr (so the caller knows the port before Run).
func Listen(addr string, src Source, logger *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("status: listen %s: %w", addr, err)
	}
	return &Server{Addr: ln.Addr().String(), src: src, logger: logger, ln: ln}, nil
}

// Run serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{Handler: Handler(s.src), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	s.logger.Info("status listener up", "component", "status", "addr", s.Addr)
	if err := srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("status: serve: %w", err)
	}
	return nil
}
