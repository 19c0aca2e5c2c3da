package api_test

import (
	"bytes"
	"net/http/httptest"
	"testing"
)

// BenchmarkHeartbeat measures the box API's hot path in process (no network): token
// lookup, box record, JSON in and out, metrics.
func BenchmarkHeartbeat(b *testing.B) {
	w := newWorld(b, stFresh)
	body := []byte(`{"applied_config_version":1,"firmware":"1.0.0"}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/box/heartbeat", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+w.tok["box"])
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}

// BenchmarkHealthReport is the other half of the fleet's load.
func BenchmarkHealthReport(b *testing.B) {
	w := newWorld(b, stFresh)
	body := []byte(`{"box":{"network":"ok","disk":{"status":"ok","smart":"ok","usage_percent":41.5},"spool":{"clips":1,"bytes":1048576},"uplink":"ok","firmware":"bench"},"cameras":[{"device_id":"` + w.id["cam1"] + `","online":true,"stream":"ok"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/box/health", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+w.tok["box"])
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}
