package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/cloudsim/api"
)

type heartbeat struct {
	ConfigVersion int    `json:"config_version"`
	ConfigChanged bool   `json:"config_changed"`
	InspectionID  string `json:"inspection_id"`
}

func TestBoxRegistration(t *testing.T) {
	w := newWorld(t, stFresh)
	reg := func(serial, code string) (int, []byte) {
		return w.call("", "POST", "/api/v1/box/register", map[string]string{"serial": serial, "verification_code": code})
	}
	t.Run("wrong code or unknown serial", func(t *testing.T) {
		code, _ := reg(boxSerial, "WRONG1")
		require.Equal(t, http.StatusUnauthorized, code)
		code, _ = reg("NOTADDED", boxCode)
		require.Equal(t, http.StatusUnauthorized, code)
	})
	t.Run("re-registration rotates the credential", func(t *testing.T) {
		var out struct {
			Token  string `json:"token"`
			BoxID  string `json:"box_id"`
			SiteID string `json:"site_id"`
		}
		code, raw := reg(boxSerial, boxCode)
		require.Equal(t, http.StatusOK, code)
		require.NoError(t, jsonUnmarshal(raw, &out))
		require.Equal(t, w.id["box"], out.BoxID)
		require.Equal(t, w.id["site"], out.SiteID)
		w.fails(w.tok["box"], "POST", "/api/v1/box/heartbeat", map[string]any{}, http.StatusUnauthorized, "unauthenticated")
		w.ok(out.Token, "POST", "/api/v1/box/heartbeat", map[string]any{}, nil)
	})
	t.Run("a person's token is not a box credential", func(t *testing.T) {
		w.fails(w.tok["admin"], "GET", "/api/v1/box/channels", nil, http.StatusUnauthorized, "unauthenticated")
	})
}

func TestChannelLinkingIsRemoteConfiguration(t *testing.T) {
	w := newWorld(t, stFresh)
	boxPath := w.site("/boxes/" + w.id["box"] + "/channels/")
	var hb heartbeat
	w.ok(w.tok["box"], "POST", "/api/v1/box/heartbeat", map[string]any{"applied_config_version": 0}, &hb)
	require.True(t, hb.ConfigChanged)
	v1 := hb.ConfigVersion
	w.ok(w.tok["box"], "POST", "/api/v1/box/heartbeat", map[string]any{"applied_config_version": v1}, &hb)
	require.False(t, hb.ConfigChanged)

	t.Run("link bumps the version; the box sees it on its next heartbeat", func(t *testing.T) {
		w.ok(w.tok["sm"], "PUT", boxPath+"2", map[string]any{"device_id": w.id["nvr"], "device_channel": 3, "stream": "sub", "output_resolution": "576p"}, nil)
		w.ok(w.tok["box"], "POST", "/api/v1/box/heartbeat", map[string]any{"applied_config_version": v1}, &hb)
		require.True(t, hb.ConfigChanged)
		require.Equal(t, v1+1, hb.ConfigVersion)
		var cl api.ChannelList
		w.ok(w.tok["box"], "GET", "/api/v1/box/channels", nil, &cl)
		require.Equal(t, v1+1, cl.ConfigVersion)
		require.Len(t, cl.Channels, 2)
		c1, c2 := cl.Channels[0], cl.Channels[1]
		require.Equal(t, 1, c1.Channel)
		require.Equal(t, "campass", c1.Password, "the box gets the camera credentials")
		require.True(t, c1.Package.Active)
		require.Equal(t, 7, c1.Package.RetentionDays)
		require.Equal(t, "nvr.example.com", c2.Address)
		require.Equal(t, 3, c2.DeviceChannel)
		require.Equal(t, "sub", c2.Stream)
		require.Equal(t, "576p", c2.Output)
		require.False(t, c2.Package.Active, "channel 2 has no package: the box must not upload it")
	})
	t.Run("installers do not see device passwords", func(t *testing.T) {
		var cl api.ChannelList
		w.ok(w.tok["admin"], "GET", boxPath[:len(boxPath)-1], nil, &cl)
		require.Empty(t, cl.Channels[0].Password)
	})
	t.Run("never across sites", func(t *testing.T) {
		other := newSiteWithCamera(w)
		w.fails(w.tok["admin"], "PUT", boxPath+"3", map[string]any{"device_id": other}, http.StatusBadRequest, "invalid_argument")
	})
	t.Run("never across boxes, never twice", func(t *testing.T) {
		var box2 api.Device
		w.ok(w.tok["admin"], "POST", w.site("/boxes"), map[string]string{"serial": "BOX0002", "verification_code": "QWERTY"}, &box2)
		w.fails(w.tok["admin"], "PUT", w.site("/boxes/"+box2.ID+"/channels/1"), map[string]any{"device_id": w.id["cam1"]}, http.StatusConflict, "conflict")
		w.fails(w.tok["admin"], "PUT", boxPath+"4", map[string]any{"device_id": w.id["cam1"]}, http.StatusConflict, "conflict")
		// Relinking the same channel to the same place is fine (idempotent).
		w.ok(w.tok["admin"], "PUT", boxPath+"1", map[string]any{"device_id": w.id["cam1"]}, nil)
	})
	t.Run("only video devices link; outputs and streams are checked", func(t *testing.T) {
		var panel api.Device
		w.ok(w.tok["admin"], "POST", w.site("/devices"), map[string]any{"type": "security_panel", "model": "DS-PWA96", "serial": "P1"}, &panel)
		w.fails(w.tok["admin"], "PUT", boxPath+"3", map[string]any{"device_id": panel.ID}, http.StatusBadRequest, "invalid_argument")
		w.fails(w.tok["admin"], "PUT", boxPath+"3", map[string]any{"device_id": w.id["cam2"], "output_resolution": "720p"}, http.StatusBadRequest, "invalid_argument")
		w.fails(w.tok["admin"], "PUT", boxPath+"3", map[string]any{"device_id": w.id["nvr"], "device_channel": 9}, http.StatusBadRequest, "invalid_argument")
		w.fails(w.tok["admin"], "PUT", boxPath+"9", map[string]any{"device_id": w.id["cam2"]}, http.StatusBadRequest, "invalid_argument")
	})
}

func TestChannelAdmission(t *testing.T) {
	w := newWorld(t, stFresh)
	boxPath := w.site("/boxes/" + w.id["box"] + "/channels/")
	cam := func(serial string, wd, ht int) string {
		return w.addDevice(map[string]any{"type": "camera", "model": "DS-2CD2386G2-IU", "serial": serial, "width": wd, "height": ht})
	}
	t.Run("one channel over 8 MP is refused", func(t *testing.T) {
		big := cam("BIG", 4000, 3000)
		w.fails(w.tok["admin"], "PUT", boxPath+"2", map[string]any{"device_id": big}, http.StatusUnprocessableEntity, "admission_refused")
		ok := cam("UHD", 3840, 2160)
		w.ok(w.tok["admin"], "PUT", boxPath+"2", map[string]any{"device_id": ok}, nil)
		w.ok(w.tok["admin"], "DELETE", boxPath+"2", nil, nil)
	})
	t.Run("4 MP cameras: four fit, a fifth breaks the pixel budget", func(t *testing.T) {
		w.ok(w.tok["admin"], "DELETE", boxPath+"1", nil, nil)
		for i := 1; i <= 4; i++ {
			w.ok(w.tok["admin"], "PUT", boxPath+fmt.Sprint(i), map[string]any{"device_id": cam(fmt.Sprint("4MP", i), 2560, 1440)}, nil)
		}
		w.fails(w.tok["admin"], "PUT", boxPath+"5", map[string]any{"device_id": cam("4MP5", 2560, 1440)}, http.StatusUnprocessableEntity, "admission_refused")
	})
	t.Run("2 MP cameras: eight fit", func(t *testing.T) {
		for i := 1; i <= 4; i++ {
			w.ok(w.tok["admin"], "DELETE", boxPath+fmt.Sprint(i), nil, nil)
		}
		for i := 1; i <= 8; i++ {
			w.ok(w.tok["admin"], "PUT", boxPath+fmt.Sprint(i), map[string]any{"device_id": w.id["nvr"], "device_channel": i}, nil)
		}
		var cl api.ChannelList
		w.ok(w.tok["box"], "GET", "/api/v1/box/channels", nil, &cl)
		require.Len(t, cl.Channels, 8)
	})
}
