package api_test

import (
	"bytes"
	"net/http/httptest"
	"testing"
)

// FuzzBoxAPI throws arbitrary bodies at the box-facing endpoints (the ones exposed to
// the whole fleet): whatever arrives, the answer is a 2xx or a 4xx in the error shape,
// never a 5xx or a panic.
func FuzzBoxAPI(f *testing.F) {
	w := newWorld(f, stFresh)
	seeds := []string{
		`{"object_key":"v1/boxes/BOX0001/ch01/a.mp4","channel":1,"event_types":["VMD"],"start":"2026-03-01T08:00:00Z","end":"2026-03-01T08:00:30Z","size":1,"sha256":"` + string(bytes.Repeat([]byte("ab"), 32)) + `"}`,
		`{"box":{"network":"ok","disk":{"status":"ok"}},"cameras":[{"device_id":"d1","device_channel":-5,"online":true}]}`,
		`{"applied_config_version":-1}`,
		`{"inspection_id":"i1","devices":[{"device_id":"d2","ip_channels":[{"channel":1}]}]}`,
		`[]`, `null`, `{"channel":1e309}`, ``,
	}
	for _, s := range seeds {
		for _, p := range []string{"/api/v1/box/clips", "/api/v1/box/health", "/api/v1/box/heartbeat"} {
			f.Add(p, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		switch path {
		case "/api/v1/box/clips", "/api/v1/box/health", "/api/v1/box/heartbeat":
		default:
			return
		}
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+w.tok["box"])
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: %d %s", path, body, rec.Code, rec.Body.String())
		}
	})
}

// FuzzAddDevice checks the device validation (model allowlist, address forms) never
// fails open into a 5xx.
func FuzzAddDevice(f *testing.F) {
	w := newWorld(f, stFresh)
	f.Add(`{"type":"camera","model":"DS-2CD1043G0-I","address":"10.0.0.1"}`)
	f.Add(`{"type":"nvr","model":"NVR-108MH-C","address":"nvr.example.com","channels":8}`)
	f.Add(`{"type":"doorbell","model":"CS-DB1C","serial":"X"}`)
	f.Add(`{"type":"box","model":"DS-PCB108","serial":"Y"}`)
	f.Add(`{"type":"camera","model":"AXIS","address":"::1"}`)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", w.site("/devices"), bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer "+w.tok["admin"])
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%q: %d %s", body, rec.Code, rec.Body.String())
		}
	})
}
