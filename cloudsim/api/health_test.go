package api_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/cloudsim/api"
)

func statusOf(t *testing.T, sh api.SiteHealth, id string) api.DeviceStatus {
	t.Helper()
	for _, d := range sh.Devices {
		if d.DeviceID == id {
			return d
		}
	}
	t.Fatalf("device %s not in status list", id)
	return api.DeviceStatus{}
}

// TestHealthPerDeviceType checks each device type keeps exactly its product fields and
// is judged abnormal by them.
func TestHealthPerDeviceType(t *testing.T) {
	w := newWorld(t, stFresh)
	panel := w.addDevice(map[string]any{"type": "security_panel", "model": "DS-PWA64-L-WE", "serial": "PANEL"})
	bell := w.addDevice(map[string]any{"type": "doorbell", "model": "DS-KB6003-WIP", "serial": "BELL"})
	door := w.addDevice(map[string]any{"type": "access_control", "model": "DS-K1T341AM", "serial": "DOOR"})
	usage, low, level, yes := 97.5, true, 8, true
	w.ok(w.tok["box"], "POST", "/api/v1/box/health", map[string]any{
		"box": map[string]any{"network": "ok", "disk": map[string]any{"status": "ok", "smart": "warning", "usage_percent": 40.0, "overwritten": yes},
			"spool": map[string]any{"clips": 3, "bytes": 1000, "lost": 1}, "uplink": "down", "firmware": "1.2.3"},
		"cameras": []map[string]any{
			{"device_id": w.id["cam1"], "online": true, "stream": "ok", "tamper": true},
			{"device_id": w.id["cam2"], "online": false, "stream": "down"},
			{"device_id": w.id["nvr"], "device_channel": 1, "online": true, "stream": "ok"},
			{"device_id": w.id["nvr"], "device_channel": 2, "online": false, "stream": "down", "video_loss": true},
		},
		"devices": []map[string]any{
			{"device_id": panel, "online": true, "network": "ok", "low_battery": low, "network_type": "4G", "battery_level": level, "sd_card": "error", "storage": "error"},
			{"device_id": bell, "online": true, "network": "ok", "sd_card": "error", "low_battery": low},
			{"device_id": door, "online": true, "network": "ok", "storage": "error"},
			{"device_id": w.id["nvr"], "online": true, "network": "ok", "storage": "ok", "smart": "ok", "hdd_usage_percent": usage},
		},
	}, nil)
	var sh api.SiteHealth
	w.ok(w.tok["it"], "GET", w.site("/health"), nil, &sh)

	box := statusOf(t, sh, w.id["box"])
	require.Equal(t, []string{"smart", "uplink", "spool_lost"}, box.Abnormal)
	require.Equal(t, "1.2.3", box.Health.Firmware)
	require.True(t, *box.Health.Overwritten)

	require.Equal(t, []string{"tamper"}, statusOf(t, sh, w.id["cam1"]).Abnormal)
	require.Equal(t, []string{"offline", "network", "stream"}, statusOf(t, sh, w.id["cam2"]).Abnormal)

	nvr := statusOf(t, sh, w.id["nvr"])
	require.Equal(t, []string{"hdd_usage"}, nvr.Abnormal, "the generic report replaced the box's channel view")
	require.Equal(t, 97.5, *nvr.Health.HDDUsage)

	p := statusOf(t, sh, panel)
	require.Equal(t, []string{"low_battery"}, p.Abnormal)
	require.Equal(t, "4G", p.Health.NetworkType)
	require.Equal(t, 8, *p.Health.BatteryLevel)
	require.Empty(t, p.Health.SDCard, "a panel has no SD card field")
	require.Empty(t, p.Health.Storage)

	b := statusOf(t, sh, bell)
	require.Equal(t, []string{"sd_card"}, b.Abnormal)
	require.Nil(t, b.Health.LowBattery, "a doorbell has no battery field")

	d := statusOf(t, sh, door)
	require.Empty(t, d.Abnormal, "access control reports network only")
	require.Empty(t, d.Health.Storage)

	t.Run("NVR IP-channel status from the box's camera view", func(t *testing.T) {
		w.reportOnline()
		w.ok(w.tok["box"], "POST", "/api/v1/box/health", map[string]any{
			"box": map[string]any{"network": "ok", "disk": map[string]any{"status": "ok"}, "uplink": "ok"},
			"cameras": []map[string]any{
				{"device_id": w.id["nvr"], "device_channel": 1, "online": true, "stream": "ok"},
				{"device_id": w.id["nvr"], "device_channel": 2, "online": false, "stream": "down", "video_loss": true},
			}}, nil)
		w.ok(w.tok["it"], "GET", w.site("/health"), nil, &sh)
		nvr := statusOf(t, sh, w.id["nvr"])
		require.Len(t, nvr.Health.IPChannels, 2)
		require.Equal(t, []string{"hdd_usage", "ip_channel"}, nvr.Abnormal, "disk state carried over from the last generic report")
	})
	t.Run("devices of another site or unknown are ignored, never updated", func(t *testing.T) {
		other := newSiteWithCamera(w)
		var out struct{ Accepted, Ignored int }
		w.ok(w.tok["box"], "POST", "/api/v1/box/health", map[string]any{"box": map[string]any{"network": "ok"},
			"cameras": []map[string]any{{"device_id": other, "online": true}, {"device_id": "d999", "online": true},
				{"device_id": w.id["cam1"], "online": true, "stream": "ok"}}}, &out)
		require.Equal(t, 2, out.Accepted)
		require.Equal(t, 2, out.Ignored)
		var hits []api.AbnormalDevice
		w.ok(w.tok["admin"], "GET", "/api/v1/companies/"+w.id["company"]+"/abnormal?type=camera", nil, &hits)
		for _, h := range hits {
			if h.DeviceID == other {
				require.Contains(t, h.Abnormal, "offline", "the other site's camera was not touched")
			}
		}
	})
}

func TestLocateAbnormalByType(t *testing.T) {
	w := newWorld(t, stFresh)
	w.ok(w.tok["box"], "POST", "/api/v1/box/health", map[string]any{
		"box":     map[string]any{"network": "ok", "disk": map[string]any{"status": "ok"}, "uplink": "ok"},
		"cameras": []map[string]any{{"device_id": w.id["cam1"], "online": true, "stream": "ok", "video_loss": true}, {"device_id": w.id["cam2"], "online": true, "stream": "ok"}},
	}, nil)
	var hits []api.AbnormalDevice
	w.ok(w.tok["admin"], "GET", "/api/v1/companies/"+w.id["company"]+"/abnormal?type=camera", nil, &hits)
	require.Len(t, hits, 1)
	require.Equal(t, w.id["cam1"], hits[0].DeviceID)
	require.Equal(t, "Shop", hits[0].SiteName)
	w.ok(w.tok["admin"], "GET", "/api/v1/companies/"+w.id["company"]+"/abnormal?type=nvr", nil, &hits)
	require.Empty(t, hits, "the NVR's channel reported online by the fixture")
	w.ok(w.tok["admin"], "GET", "/api/v1/companies/"+w.id["company"]+"/abnormal?type=box", nil, &hits)
	require.Empty(t, hits)
	w.fails(w.tok["admin"], "GET", "/api/v1/companies/"+w.id["company"]+"/abnormal?type=toaster", nil, http.StatusBadRequest, "invalid_argument")
	w.fails(w.tok["otherAdmin"], "GET", "/api/v1/companies/"+w.id["company"]+"/abnormal", nil, http.StatusForbidden, "permission_denied")

	t.Run("everything goes offline when the site falls silent", func(t *testing.T) {
		w.clock.Add(10 * time.Minute)
		w.relogin()
		w.ok(w.tok["admin"], "GET", "/api/v1/companies/"+w.id["company"]+"/abnormal?type=camera", nil, &hits)
		require.Len(t, hits, 2)
		require.Contains(t, hits[1].Abnormal, "offline")
	})
	t.Run("handed-over sites without authorization are not searched", func(t *testing.T) {
		w.ok(w.tok["admin"], "POST", w.site("/invitation"), map[string]string{"email": "owner@home.test"}, nil)
		w.ok(w.tok["owner"], "POST", w.site("/handover"), nil, nil)
		w.ok(w.tok["admin"], "GET", "/api/v1/companies/"+w.id["company"]+"/abnormal", nil, &hits)
		require.Empty(t, hits)
	})
}

func TestAutomaticInspection(t *testing.T) {
	w := newWorld(t, stFresh)
	var s api.Site
	w.ok(w.tok["admin"], "GET", w.site(""), nil, &s)
	require.Nil(t, s.LastInspected, "the fixture's manual inspection is still waiting for the box")
	require.NoError(t, w.srv.Tick(t.Context()))
	w.ok(w.tok["admin"], "GET", w.site(""), nil, &s)
	before := s.LastInspected
	w.clock.Add(30 * time.Minute)
	require.NoError(t, w.srv.Tick(t.Context()))
	w.ok(w.tok["admin"], "GET", w.site(""), nil, &s)
	require.Equal(t, before, s.LastInspected, "not due yet")
	w.clock.Add(31 * time.Minute)
	require.NoError(t, w.srv.Tick(t.Context()))
	w.ok(w.tok["admin"], "GET", w.site(""), nil, &s)
	require.Equal(t, w.clock.Now(), *s.LastInspected)
	var sh api.SiteHealth
	w.ok(w.tok["admin"], "GET", w.site("/health"), nil, &sh)
	require.Equal(t, w.clock.Now(), *sh.LastInspected)

	t.Run("old results are pruned", func(t *testing.T) {
		// The first automatic inspection of this site is the one after the fixture's.
		w.ok(w.tok["admin"], "GET", w.site("/inspections/"+nextID(w.id["inspection"])), nil, nil)
		w.clock.Add(api.InspectionHistory + 2*time.Hour)
		require.NoError(t, w.srv.Tick(t.Context()))
		w.relogin()
		w.fails(w.tok["admin"], "GET", w.site("/inspections/"+nextID(w.id["inspection"])), nil, http.StatusNotFound, "not_found")
	})
}

func nextID(id string) string {
	n, _ := strconv.Atoi(id[1:])
	return id[:1] + strconv.Itoa(n+1)
}

func TestManualInspection(t *testing.T) {
	w := newWorld(t, stFresh)
	// The fixture already requested one; the box answers it first.
	var hb heartbeat
	w.ok(w.tok["box"], "POST", "/api/v1/box/heartbeat", map[string]any{}, &hb)
	require.Equal(t, w.id["inspection"], hb.InspectionID)
	var in api.Inspection
	w.ok(w.tok["sm"], "GET", w.site("/inspections/"+w.id["inspection"]), nil, &in)
	require.Equal(t, api.InspectPending, in.Status)

	w.clock.Add(time.Minute)
	w.ok(w.tok["box"], "POST", "/api/v1/box/health", map[string]any{
		"inspection_id": hb.InspectionID,
		"box":           map[string]any{"network": "ok", "disk": map[string]any{"status": "error"}, "uplink": "ok"},
		"cameras":       []map[string]any{{"device_id": w.id["cam1"], "online": true, "stream": "ok"}},
	}, nil)
	w.ok(w.tok["sm"], "GET", w.site("/inspections/"+w.id["inspection"]), nil, &in)
	require.Equal(t, api.InspectDone, in.Status)
	require.Equal(t, w.clock.Now(), *in.Completed)
	require.Equal(t, 1, in.Abnormal, "only the box's disk error")
	require.Len(t, in.Devices, 4)
	var hb2 heartbeat
	w.ok(w.tok["box"], "POST", "/api/v1/box/heartbeat", map[string]any{}, &hb2)
	require.Empty(t, hb2.InspectionID, "answered")
	var s api.Site
	w.ok(w.tok["sm"], "GET", w.site(""), nil, &s)
	require.Equal(t, w.clock.Now(), *s.LastInspected)
	w.fails(w.tok["sm"], "GET", w.site("/inspections/i999"), nil, http.StatusNotFound, "not_found")
}
