package api_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/cloudsim/api"
)

func TestSiteManagerRules(t *testing.T) {
	w := newWorld(t, stFresh)
	t.Run("one manager per site; changing replaces", func(t *testing.T) {
		var s api.Site
		w.ok(w.tok["it"], "PUT", w.site("/manager"), map[string]string{"user_id": w.id["emp"]}, &s)
		require.Equal(t, w.id["emp"], s.ManagerID)
		// The previous manager lost the site.
		w.fails(w.tok["sm"], "GET", w.site(""), nil, http.StatusForbidden, "permission_denied")
		w.ok(w.tok["emp"], "GET", w.site(""), nil, nil)
		w.ok(w.tok["admin"], "PUT", w.site("/manager"), map[string]string{"user_id": w.id["sm"]}, nil)
	})
	t.Run("manager must be an employee of the company", func(t *testing.T) {
		var b struct{ Admin api.User }
		w.ok("", "POST", "/api/v1/companies", map[string]any{"name": "C", "region": "eu",
			"admin": map[string]string{"email": "c@c.test", "password": "password1"}}, &b)
		tokC := w.login("c@c.test")
		var foreign api.User
		w.ok(tokC, "POST", "/api/v1/companies/"+b.Admin.CompanyID+"/members",
			map[string]string{"email": "e@c.test", "password": "password1", "role": "employee"}, &foreign)
		w.fails(w.tok["admin"], "PUT", w.site("/manager"), map[string]string{"user_id": foreign.ID}, http.StatusBadRequest, "invalid_argument")
		w.fails(w.tok["admin"], "PUT", w.site("/manager"), map[string]string{"user_id": w.id["owner"]}, http.StatusBadRequest, "invalid_argument")
	})
	t.Run("employees and site managers cannot assign", func(t *testing.T) {
		w.fails(w.tok["sm"], "PUT", w.site("/manager"), map[string]string{"user_id": w.id["emp"]}, http.StatusForbidden, "permission_denied")
	})
	t.Run("IT manager cannot add IT managers", func(t *testing.T) {
		w.fails(w.tok["it"], "POST", "/api/v1/companies/"+w.id["company"]+"/members",
			map[string]string{"email": "it2@a.test", "password": "password1", "role": "it_manager"}, http.StatusForbidden, "permission_denied")
	})
}

func TestInvitationAndHandover(t *testing.T) {
	w := newWorld(t, stFresh)
	t.Run("owner must be in the site's region", func(t *testing.T) {
		w.fails(w.tok["admin"], "POST", w.site("/invitation"), map[string]string{"email": "far@home.test"}, http.StatusUnprocessableEntity, "region_not_allowed")
	})
	t.Run("only an end user can be invited", func(t *testing.T) {
		w.fails(w.tok["admin"], "POST", w.site("/invitation"), map[string]string{"email": "it@a.test"}, http.StatusBadRequest, "invalid_argument")
	})
	w.ok(w.tok["sm"], "POST", w.site("/invitation"), map[string]string{"email": "owner@home.test"}, nil)
	t.Run("only the invited user accepts", func(t *testing.T) {
		w.fails(w.tok["stranger"], "POST", w.site("/handover"), nil, http.StatusForbidden, "permission_denied")
	})
	var s api.Site
	w.ok(w.tok["owner"], "POST", w.site("/handover"), nil, &s)
	require.Equal(t, w.id["owner"], s.OwnerID)
	require.NotNil(t, s.HandedOverAt)
	t.Run("a handed-over site cannot be re-invited or deleted by the installer", func(t *testing.T) {
		w.fails(w.tok["admin"], "POST", w.site("/invitation"), map[string]string{"email": "stranger@home.test"}, http.StatusConflict, "conflict")
		w.fails(w.tok["admin"], "DELETE", w.site(""), nil, http.StatusConflict, "conflict")
	})
}

// TestMaintenanceNeedsAuthorization walks apply -> grant -> cancel and checks every
// installer maintenance surface follows it, while the owner is never blocked.
func TestMaintenanceNeedsAuthorization(t *testing.T) {
	w := newWorld(t, stNoAuth)
	surfaces := []struct{ method, path string }{
		{"GET", w.site("/devices")},
		{"GET", w.site("/health")},
		{"GET", w.site("/boxes/" + w.id["box"] + "/channels")},
		{"GET", w.site("/boxes/" + w.id["box"] + "/clips")},
	}
	check := func(t *testing.T, allowed bool) {
		t.Helper()
		for _, s := range surfaces {
			for _, who := range []string{"admin", "it", "sm"} {
				if allowed {
					w.ok(w.tok[who], s.method, s.path, nil, nil)
				} else {
					w.fails(w.tok[who], s.method, s.path, nil, http.StatusForbidden, "authorization_required")
				}
			}
			w.ok(w.tok["owner"], s.method, s.path, nil, nil)
		}
		link := map[string]string{"device_id": w.id["cam2"]}
		path := w.site("/boxes/" + w.id["box"] + "/channels/2")
		if allowed {
			w.ok(w.tok["sm"], "PUT", path, link, nil)
			w.ok(w.tok["sm"], "DELETE", path, nil, nil)
		} else {
			w.fails(w.tok["sm"], "PUT", path, link, http.StatusForbidden, "authorization_required")
		}
	}
	t.Run("handed over, nothing applied", func(t *testing.T) { check(t, false) })
	t.Run("grant without application is refused", func(t *testing.T) {
		w.fails(w.tok["owner"], "POST", w.site("/authorization/grant"), nil, http.StatusConflict, "conflict")
	})
	w.ok(w.tok["sm"], "POST", w.site("/authorization/apply"), nil, nil)
	t.Run("applied, not granted", func(t *testing.T) { check(t, false) })
	w.ok(w.tok["owner"], "POST", w.site("/authorization/grant"), nil, nil)
	t.Run("granted", func(t *testing.T) { check(t, true) })
	w.ok(w.tok["owner"], "POST", w.site("/authorization/cancel"), nil, nil)
	t.Run("cancelled", func(t *testing.T) { check(t, false) })
	t.Run("apply before handover is refused", func(t *testing.T) {
		f := newWorld(t, stFresh)
		f.fails(f.tok["admin"], "POST", f.site("/authorization/apply"), nil, http.StatusConflict, "conflict")
	})
}

func TestChangeOfInstaller(t *testing.T) {
	w := newWorld(t, stHanded)
	claim := map[string]string{"site_id": w.id["site"]}
	w.fails(w.tok["otherAdmin"], "POST", "/api/v1/sites/claim", claim, http.StatusConflict, "conflict")
	w.ok(w.tok["owner"], "POST", w.site("/authorization/cancel"), nil, nil)

	t.Run("only an Installer Admin adds by site ID", func(t *testing.T) {
		w.fails(w.tok["it"], "POST", "/api/v1/sites/claim", claim, http.StatusForbidden, "permission_denied")
	})
	t.Run("unknown site ID", func(t *testing.T) {
		w.fails(w.tok["otherAdmin"], "POST", "/api/v1/sites/claim", map[string]string{"site_id": "s999"}, http.StatusNotFound, "not_found")
	})
	var s api.Site
	w.ok(w.tok["otherAdmin"], "POST", "/api/v1/sites/claim", claim, &s)
	require.Equal(t, w.id["companyB"], s.CompanyID)
	require.Empty(t, s.ManagerID)
	require.Equal(t, []string{w.id["company"]}, s.FormerCompanyIDs)

	t.Run("old company keeps it listed but cannot maintain it", func(t *testing.T) {
		var sites []api.Site
		w.ok(w.tok["admin"], "GET", "/api/v1/sites", nil, &sites)
		require.Len(t, sites, 1)
		w.fails(w.tok["admin"], "GET", w.site("/devices"), nil, http.StatusForbidden, "permission_denied")
		w.fails(w.tok["sm"], "GET", w.site(""), nil, http.StatusForbidden, "permission_denied")
	})
	t.Run("new company assigns its own manager and gets authorized", func(t *testing.T) {
		var emp api.User
		w.ok(w.tok["otherAdmin"], "POST", "/api/v1/companies/"+w.id["companyB"]+"/members",
			map[string]string{"email": "emp@b.test", "password": "password1", "role": "employee"}, &emp)
		w.fails(w.tok["otherAdmin"], "PUT", w.site("/manager"), map[string]string{"user_id": w.id["sm"]}, http.StatusBadRequest, "invalid_argument")
		w.ok(w.tok["otherAdmin"], "PUT", w.site("/manager"), map[string]string{"user_id": emp.ID}, nil)
		w.ok(w.tok["otherAdmin"], "POST", w.site("/authorization/apply"), nil, nil)
		w.ok(w.tok["owner"], "POST", w.site("/authorization/grant"), nil, nil)
		w.ok(w.tok["otherAdmin"], "GET", w.site("/devices"), nil, nil)
	})
	t.Run("old company deletes it from its list; the site lives on", func(t *testing.T) {
		w.ok(w.tok["admin"], "DELETE", w.site(""), nil, nil)
		var sites []api.Site
		w.ok(w.tok["admin"], "GET", "/api/v1/sites", nil, &sites)
		require.Empty(t, sites)
		var after api.Site
		w.ok(w.tok["otherAdmin"], "GET", w.site(""), nil, &after)
		require.Empty(t, after.FormerCompanyIDs)
		w.ok(w.tok["owner"], "GET", w.site("/devices"), nil, nil)
	})
}

func TestDeleteSiteBeforeHandover(t *testing.T) {
	w := newWorld(t, stFresh)
	w.fails(w.tok["otherAdmin"], "DELETE", w.site(""), nil, http.StatusForbidden, "permission_denied")
	w.ok(w.tok["admin"], "DELETE", w.site(""), nil, nil)
	w.fails(w.tok["admin"], "GET", w.site(""), nil, http.StatusNotFound, "not_found")
	// The box's credential died with the site.
	w.fails(w.tok["box"], "POST", "/api/v1/box/heartbeat", map[string]any{}, http.StatusUnauthorized, "unauthenticated")
}

func TestDeviceRules(t *testing.T) {
	w := newWorld(t, stFresh)
	add := func(tok string, body map[string]any) (int, []byte) {
		return w.call(tok, "POST", w.site("/devices"), body)
	}
	t.Run("add by serial, IP address or domain name", func(t *testing.T) {
		for _, b := range []map[string]any{
			{"type": "camera", "model": "DS-2CD1043G0-I", "serial": "S1"},
			{"type": "dvr", "model": "DS-7204HGHI-K1", "address": "10.0.0.7"},
			{"type": "camera", "model": "DS-2CD2T47G2-L", "address": "fd00::7"},
			{"type": "security_panel", "model": "DS-PWA64-L-WE", "address": "panel.customer.example"},
			{"type": "camera", "model": "CS-C6N", "serial": "EZ1"},
		} {
			code, raw := add(w.tok["sm"], b)
			require.Equalf(t, http.StatusCreated, code, "%v: %s", b, raw)
		}
	})
	t.Run("refused models and addresses", func(t *testing.T) {
		w.fails(w.tok["admin"], "POST", w.site("/devices"), map[string]any{"type": "camera", "model": "AXIS M3106", "serial": "X"}, http.StatusUnprocessableEntity, "unsupported_model")
		w.fails(w.tok["admin"], "POST", w.site("/devices"), map[string]any{"type": "camera", "model": "CS-CV100", "serial": "X"}, http.StatusUnprocessableEntity, "unsupported_model")
		w.fails(w.tok["admin"], "POST", w.site("/devices"), map[string]any{"type": "camera", "model": "DS-2CD1043G0-I", "address": "not an address"}, http.StatusBadRequest, "invalid_argument")
		w.fails(w.tok["admin"], "POST", w.site("/devices"), map[string]any{"type": "camera", "model": "DS-2CD1043G0-I"}, http.StatusBadRequest, "invalid_argument")
		w.fails(w.tok["admin"], "POST", w.site("/devices"), map[string]any{"type": "camera", "model": "DS-2CD1043G0-I", "serial": "s1"}, http.StatusConflict, "conflict")
	})
	t.Run("no device count limit", func(t *testing.T) {
		for i := range 60 {
			code, raw := add(w.tok["admin"], map[string]any{"type": "camera", "model": "DS-2CD1043G0-I", "address": "10.1.0." + strconv.Itoa(i+1)})
			require.Equal(t, http.StatusCreated, code, string(raw))
		}
	})
	t.Run("IT Manager does not manage devices", func(t *testing.T) {
		code, _ := add(w.tok["it"], map[string]any{"type": "camera", "model": "DS-2CD1043G0-I", "serial": "IT1"})
		require.Equal(t, http.StatusForbidden, code)
	})
	t.Run("before invitation the Site Manager deletes, after it only the owner", func(t *testing.T) {
		w.ok(w.tok["sm"], "DELETE", w.site("/devices/"+w.id["nvr"]), nil, nil)
		w.ok(w.tok["admin"], "POST", w.site("/invitation"), map[string]string{"email": "owner@home.test"}, nil)
		w.fails(w.tok["sm"], "DELETE", w.site("/devices/"+w.id["cam2"]), nil, http.StatusForbidden, "permission_denied")
		w.fails(w.tok["admin"], "DELETE", w.site("/devices/"+w.id["cam2"]), nil, http.StatusForbidden, "permission_denied")
		w.ok(w.tok["owner"], "POST", w.site("/handover"), nil, nil)
		w.ok(w.tok["owner"], "DELETE", w.site("/devices/"+w.id["cam2"]), nil, nil)
	})
	t.Run("deleting a linked camera unlinks it from the box", func(t *testing.T) {
		var hb struct {
			ConfigVersion int `json:"config_version"`
		}
		w.ok(w.tok["box"], "POST", "/api/v1/box/heartbeat", map[string]any{}, &hb)
		w.ok(w.tok["owner"], "DELETE", w.site("/devices/"+w.id["cam1"]), nil, nil)
		var cl api.ChannelList
		w.ok(w.tok["box"], "GET", "/api/v1/box/channels", nil, &cl)
		require.Empty(t, cl.Channels)
		require.Equal(t, hb.ConfigVersion+1, cl.ConfigVersion)
	})
}

func TestLinkageRules(t *testing.T) {
	w := newWorld(t, stFresh)
	other := newSiteWithCamera(w)
	link := func(src, dst string) map[string]string {
		return map[string]string{"source_device_id": src, "target_device_id": dst, "event": "linedetection", "action": "siren"}
	}
	w.ok(w.tok["sm"], "POST", w.site("/linkages"), link(w.id["cam1"], w.id["cam2"]), nil)
	w.fails(w.tok["sm"], "POST", w.site("/linkages"), link(w.id["cam1"], other), http.StatusBadRequest, "invalid_argument")
	w.fails(w.tok["sm"], "POST", w.site("/linkages"), link(w.id["box"], w.id["cam2"]), http.StatusBadRequest, "invalid_argument")
	w.fails(w.tok["sm"], "POST", w.site("/linkages"), link(w.id["cam1"], w.id["cam1"]), http.StatusBadRequest, "invalid_argument")
	// Offline: nothing heard for longer than OfflineAfter.
	w.clock.Add(5 * 60e9)
	w.fails(w.tok["sm"], "POST", w.site("/linkages"), link(w.id["cam1"], w.id["cam2"]), http.StatusConflict, "device_offline")
	w.reportOnline()
	w.ok(w.tok["sm"], "POST", w.site("/linkages"), link(w.id["cam1"], w.id["cam2"]), nil)
	var ls []api.Linkage
	w.ok(w.tok["it"], "GET", w.site("/linkages"), nil, &ls)
	require.Len(t, ls, 2)
}

// newSiteWithCamera makes a second site of company A with one camera and returns the
// camera's ID.
func newSiteWithCamera(w *world) string {
	var s api.Site
	w.ok(w.tok["admin"], "POST", "/api/v1/sites", map[string]string{"name": "Other"}, &s)
	var d api.Device
	w.ok(w.tok["admin"], "POST", "/api/v1/sites/"+s.ID+"/devices", map[string]any{"type": "camera", "model": "DS-2CD1043G0-I", "serial": "OTHERCAM"}, &d)
	return d.ID
}
