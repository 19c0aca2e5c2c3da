package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/cloudsim/api"
)

func TestPackageInventoryAndGating(t *testing.T) {
	w := newWorld(t, stFresh)
	pkgPath := func(ch string) string { return w.site("/boxes/" + w.id["box"] + "/channels/" + ch + "/package") }
	t.Run("the four packages", func(t *testing.T) {
		for _, p := range api.AllPackages() {
			w.ok(w.tok["admin"], "POST", "/api/v1/companies/"+w.id["company"]+"/packages", map[string]any{"package": p, "quantity": 1}, nil)
		}
		w.fails(w.tok["admin"], "POST", "/api/v1/companies/"+w.id["company"]+"/packages", map[string]any{"package": "90d-monthly", "quantity": 1}, http.StatusBadRequest, "invalid_argument")
		require.Equal(t, 7, api.Pkg7dAnnual.RetentionDays())
		require.Equal(t, 30, api.Pkg30dMonthly.RetentionDays())
		require.Equal(t, t0.AddDate(0, 1, 0), api.Pkg7dMonthly.End(t0))
		require.Equal(t, t0.AddDate(1, 0, 0), api.Pkg30dAnnual.End(t0))
	})
	t.Run("assigning takes one from the inventory; none left is refused", func(t *testing.T) {
		var sub api.Subscription
		w.ok(w.tok["it"], "POST", pkgPath("2"), map[string]any{"package": "30d-annual"}, &sub)
		require.Equal(t, t0, sub.Start)
		require.Equal(t, t0.AddDate(1, 0, 0), sub.End)
		w.fails(w.tok["it"], "POST", pkgPath("3"), map[string]any{"package": "30d-annual"}, http.StatusUnprocessableEntity, "no_inventory")
		var inv struct {
			Lines []struct {
				Package                        api.PackageKind
				Purchased, Assigned, Available int
			}
		}
		w.ok(w.tok["admin"], "GET", "/api/v1/companies/"+w.id["company"]+"/packages", nil, &inv)
		for _, l := range inv.Lines {
			if l.Package == api.Pkg30dAnnual {
				require.Equal(t, 1, l.Purchased)
				require.Equal(t, 1, l.Assigned)
				require.Zero(t, l.Available)
			}
		}
	})
	t.Run("a region without cloud storage is refused", func(t *testing.T) {
		var co struct{ Company api.Company }
		w.ok("", "POST", "/api/v1/companies", map[string]any{"name": "L", "region": "latam",
			"admin": map[string]string{"email": "l@l.test", "password": "password1"}}, &co)
		tok := w.login("l@l.test")
		w.fails(tok, "POST", "/api/v1/companies/"+co.Company.ID+"/packages", map[string]any{"package": "7d-monthly", "quantity": 1}, http.StatusUnprocessableEntity, "region_not_allowed")
		var s api.Site
		w.ok(tok, "POST", "/api/v1/sites", map[string]string{"name": "Latam shop"}, &s)
		var box api.Device
		w.ok(tok, "POST", "/api/v1/sites/"+s.ID+"/boxes", map[string]string{"serial": "LBOX", "verification_code": "123456"}, &box)
		w.fails(tok, "POST", "/api/v1/sites/"+s.ID+"/boxes/"+box.ID+"/channels/1/package", map[string]any{"package": "7d-monthly"}, http.StatusUnprocessableEntity, "region_not_allowed")
	})
	t.Run("clips only for channels with an active package", func(t *testing.T) {
		w.fails(w.tok["box"], "POST", "/api/v1/box/clips", w.clip(3, t0), http.StatusUnprocessableEntity, "not_subscribed")
		w.ok(w.tok["box"], "POST", "/api/v1/box/clips", w.clip(2, t0), nil)
		// The 7-day monthly package of channel 1 ends after a month.
		w.clock.Add(32 * 24 * time.Hour)
		var cl api.ChannelList
		w.ok(w.tok["box"], "GET", "/api/v1/box/channels", nil, &cl)
		require.False(t, cl.Channels[0].Package.Active)
		w.fails(w.tok["box"], "POST", "/api/v1/box/clips", w.clip(1, w.clock.Now()), http.StatusUnprocessableEntity, "not_subscribed")
		// An ANR backlog clip recorded while the package was active still registers.
		w.ok(w.tok["box"], "POST", "/api/v1/box/clips", w.clip(1, t0.Add(time.Hour)), nil)
		w.relogin()
	})
	t.Run("renewal starts when the current package ends", func(t *testing.T) {
		var sub api.Subscription
		w.ok(w.tok["admin"], "POST", pkgPath("2"), map[string]any{"package": "30d-monthly"}, &sub)
		require.Equal(t, t0.AddDate(1, 0, 0), sub.Start)
	})
}

func TestClipRegistration(t *testing.T) {
	w := newWorld(t, stFresh)
	t.Run("validation", func(t *testing.T) {
		bad := []func(map[string]any){
			func(c map[string]any) { c["object_key"] = "v1/boxes/OTHERBOX/x.mp4" },
			func(c map[string]any) { c["object_key"] = "v1/boxes/" + boxSerial + "/../OTHER/x.mp4" },
			func(c map[string]any) { c["event_types"] = []string{"videoloss"} },
			func(c map[string]any) { c["sha256"] = "xyz" },
			func(c map[string]any) { c["end"] = t0.Add(-time.Second) },
			func(c map[string]any) { c["channel"] = 0 },
		}
		for _, mutate := range bad {
			c := w.clip(1, t0.Add(time.Minute))
			mutate(c)
			w.fails(w.tok["box"], "POST", "/api/v1/box/clips", c, http.StatusBadRequest, "invalid_argument")
		}
	})
	t.Run("registering twice is idempotent", func(t *testing.T) {
		var a, b api.Clip
		c := w.clip(1, t0.Add(2*time.Minute))
		c["event_types"] = []string{"linedetection", "fielddetection"}
		w.ok(w.tok["box"], "POST", "/api/v1/box/clips", c, &a)
		w.ok(w.tok["box"], "POST", "/api/v1/box/clips", c, &b)
		require.Equal(t, a.ID, b.ID)
		w.fails(w.tok["owner"], "GET", w.site("/boxes/"+w.id["box"]+"/clips?channel=1"), nil, http.StatusForbidden, "permission_denied")
	})
	t.Run("installers list clips by channel and time", func(t *testing.T) {
		var list []api.Clip
		w.ok(w.tok["sm"], "GET", w.site("/boxes/"+w.id["box"]+"/clips?channel=1"), nil, &list)
		require.Len(t, list, 2)
		w.ok(w.tok["sm"], "GET", w.site("/boxes/"+w.id["box"]+"/clips?channel=1&from="+t0.Add(time.Minute).Format(time.RFC3339)), nil, &list)
		require.Len(t, list, 1)
		require.Equal(t, int64(1234), list[0].Size)
	})
}

// TestRetention: with a 7-day package, footage of day 8 replaces footage of day 1; a
// 30-day package keeps it. The object is deleted before its index entry.
func TestRetention(t *testing.T) {
	w := newWorld(t, stFresh)
	w.ok(w.tok["admin"], "POST", "/api/v1/companies/"+w.id["company"]+"/packages", map[string]any{"package": "30d-annual", "quantity": 1}, nil)
	w.ok(w.tok["admin"], "POST", w.site("/boxes/"+w.id["box"]+"/channels/2/package"), map[string]any{"package": "30d-annual"}, nil)
	day := 24 * time.Hour
	for d := 0; d < 9; d++ {
		w.ok(w.tok["box"], "POST", "/api/v1/box/clips", w.clip(1, t0.Add(time.Duration(d)*day+time.Hour)), nil)
		w.ok(w.tok["box"], "POST", "/api/v1/box/clips", w.clip(2, t0.Add(time.Duration(d)*day+time.Hour)), nil)
	}
	count := func(ch string) int {
		w.relogin()
		var list []api.Clip
		w.ok(w.tok["admin"], "GET", w.site("/boxes/"+w.id["box"]+"/clips?channel="+ch+"&to="+t0.AddDate(1, 0, 0).Format(time.RFC3339)), nil, &list)
		return len(list)
	}
	require.Equal(t, 10, count("1")) // nine days plus the fixture's clip at t0
	require.Equal(t, 9, count("2"))

	// Day 8 (t0 + 7 days + 2h): the clips of day 1 are older than 7 days.
	w.clock.Add(7*day + 2*time.Hour)
	require.NoError(t, w.srv.Tick(t.Context()))
	require.Equal(t, 8, count("1"))
	require.Equal(t, 9, count("2"))
	deleted := w.objs.Deleted()
	require.Len(t, deleted, 2)
	for _, k := range deleted {
		require.True(t, strings.HasPrefix(k, "v1/boxes/"+boxSerial+"/ch01/"), k)
	}
	rec := httptest.NewRecorder()
	w.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Contains(t, rec.Body.String(), "cloudsim_retention_deleted_total 2")
	require.Contains(t, rec.Body.String(), `cloudsim_requests_total{code="201",route="POST /api/v1/box/clips"}`)

	t.Run("a failed object delete keeps the index entry for the next sweep", func(t *testing.T) {
		w.objs.mu.Lock()
		w.objs.fail = true
		w.objs.mu.Unlock()
		w.clock.Add(day)
		require.Error(t, w.srv.Tick(t.Context()))
		require.Equal(t, 8, count("1"))
		w.objs.mu.Lock()
		w.objs.fail = false
		w.objs.mu.Unlock()
		require.NoError(t, w.srv.Tick(t.Context()))
		require.Equal(t, 7, count("1"))
	})
	t.Run("30-day retention", func(t *testing.T) {
		w.clock.Add(30 * day)
		require.NoError(t, w.srv.Tick(t.Context()))
		require.Equal(t, 0, count("2"))
	})
}

type media struct {
	ExpiresAt time.Time                  `json:"expires_at"`
	Channels  map[string][]api.MediaLink `json:"channels"`
}

func TestPlaybackAndDownload(t *testing.T) {
	w := newWorld(t, stFresh)
	req := func(chs ...int) map[string]any {
		return map[string]any{"box_id": w.id["box"], "channels": chs, "from": t0, "to": t0.Add(time.Hour)}
	}
	t.Run("playback: presigned, time-limited, at most 4 channels", func(t *testing.T) {
		var m media
		w.ok(w.tok["sm"], "POST", w.site("/playback"), req(1, 2, 3, 4), &m)
		require.Equal(t, t0.Add(15*time.Minute), m.ExpiresAt)
		require.Len(t, m.Channels["1"], 1)
		require.Contains(t, m.Channels["1"][0].URL, "ttl=15m0s")
		require.Empty(t, m.Channels["2"])
		w.fails(w.tok["sm"], "POST", w.site("/playback"), req(1, 2, 3, 4, 5), http.StatusUnprocessableEntity, "limit_exceeded")
	})
	t.Run("download needs the owner's authorization", func(t *testing.T) {
		w.fails(w.tok["admin"], "POST", w.site("/downloads"), req(1), http.StatusForbidden, "authorization_required")
		w.ok(w.tok["admin"], "POST", w.site("/invitation"), map[string]string{"email": "owner@home.test"}, nil)
		w.ok(w.tok["owner"], "POST", w.site("/handover"), nil, nil)
		var m media
		w.ok(w.tok["owner"], "POST", w.site("/downloads"), req(1), &m)
		require.Len(t, m.Channels["1"], 1)
		require.Contains(t, m.Channels["1"][0].URL, "attachment=")
		w.fails(w.tok["admin"], "POST", w.site("/downloads"), req(1), http.StatusForbidden, "authorization_required")
		w.ok(w.tok["admin"], "POST", w.site("/authorization/apply"), nil, nil)
		w.ok(w.tok["owner"], "POST", w.site("/authorization/grant"), nil, nil)
		w.ok(w.tok["admin"], "POST", w.site("/downloads"), req(1), nil)
		w.fails(w.tok["owner"], "POST", w.site("/downloads"), req(1, 2, 3, 4, 5), http.StatusUnprocessableEntity, "limit_exceeded")
	})
	t.Run("download covers a 2-minute window", func(t *testing.T) {
		w.ok(w.tok["box"], "POST", "/api/v1/box/clips", w.clip(1, t0.Add(5*time.Minute)), nil)
		var m media
		body := map[string]any{"box_id": w.id["box"], "channels": []int{1}, "from": t0.Add(4 * time.Minute)}
		w.ok(w.tok["owner"], "POST", w.site("/downloads"), body, &m)
		require.Len(t, m.Channels["1"], 1)
		body["from"] = t0.Add(10 * time.Minute)
		w.ok(w.tok["owner"], "POST", w.site("/downloads"), body, &m)
		require.Empty(t, m.Channels["1"])
	})
}

func TestTokenExpiry(t *testing.T) {
	w := newWorld(t, stFresh)
	w.ok(w.tok["admin"], "GET", "/api/v1/me", nil, nil)
	w.clock.Add(12*time.Hour + time.Second)
	w.fails(w.tok["admin"], "GET", "/api/v1/me", nil, http.StatusUnauthorized, "unauthenticated")
	// Box credentials do not expire.
	w.ok(w.tok["box"], "GET", "/api/v1/box/storage", nil, nil)
	w.fails("", "POST", "/api/v1/login", map[string]string{"email": "admin@a.test", "password": "wrongpass"}, http.StatusUnauthorized, "unauthenticated")
}

func TestBoxStorageConfig(t *testing.T) {
	w := newWorld(t, stFresh)
	var st api.Storage
	w.ok(w.tok["box"], "GET", "/api/v1/box/storage", nil, &st)
	require.Equal(t, "v1/boxes/"+boxSerial+"/", st.Prefix)
	require.Equal(t, "clips", st.Bucket)
	require.NotEmpty(t, st.AccessKey)
	_ = json.Valid
}
