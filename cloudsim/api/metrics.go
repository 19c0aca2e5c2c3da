package api

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's counters, exported on /metrics. Every request is counted by
// route and status; the retention sweeper counts what it deleted and what it could not.
type metrics struct {
	reg              *prometheus.Registry
	requests         *prometheus.CounterVec
	latency          *prometheus.HistogramVec
	retentionDeleted prometheus.Counter
	retentionFailed  prometheus.Counter
	healthFlushed    prometheus.Counter
	inspections      *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cloudsim_requests_total",
			Help: "API requests by route and HTTP status."}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cloudsim_request_seconds",
			Help: "API request latency by route.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, 1}}, []string{"route"}),
		retentionDeleted: prometheus.NewCounter(prometheus.CounterOpts{Name: "cloudsim_retention_deleted_total",
			Help: "Clips deleted (object and index) by the retention sweeper."}),
		retentionFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "cloudsim_retention_failures_total",
			Help: "Object deletes that failed and will be retried on the next sweep."}),
		healthFlushed: prometheus.NewCounter(prometheus.CounterOpts{Name: "cloudsim_health_flushed_total",
			Help: "Health records written to the store by Flush."}),
		inspections: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cloudsim_inspections_total",
			Help: "Completed inspections by kind."}, []string{"kind"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.retentionDeleted, m.retentionFailed, m.healthFlushed, m.inspections,
		prometheus.NewGoCollector())
	return m
}

// MetricsHandler serves the Prometheus text format for this server's registry.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (m *metrics) observe(route string, code int, seconds float64) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(route).Observe(seconds)
}
