package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/status"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

// cloudAPI is an installer's session against cloudsim.
type cloudAPI struct {
	t     *testing.T
	base  string
	token string
}

func (c *cloudAPI) do(method, path string, body, out any) int {
	c.t.Helper()
	var buf bytes.Buffer
	if body != nil {
		require.NoError(c.t, json.NewEncoder(&buf).Encode(body))
	}
	req, err := http.NewRequest(method, c.base+path, &buf)
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		require.NoError(c.t, json.Unmarshal(raw, out), "%s %s: %s", method, path, raw)
	}
	if resp.StatusCode >= 300 {
		c.t.Logf("%s %s -> %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode
}

// The installer links a second channel and buys it a package from the cloud; the
// running box applies both on its next heartbeat without a restart. A manual
// inspection asked in the cloud is answered by the box.
func TestCloudRemoteConfigWithoutRestart(t *testing.T) {
	t.Parallel()
	cam := startCamera(t, []string{"--mode", "nvr"}, "h264_360p.h264", "h265_360p.h265")
	dir := t.TempDir()
	camHost, camHTTP, _ := strings.Cut(cam.http, ":")
	_, camRTSP, _ := strings.Cut(cam.rtsp, ":")
	spec := map[string]any{
		"box_serial": "PCB-E2E-CLOUD", "box_verification_code": "E2E001",
		"devices": []map[string]any{{"name": "nvr", "type": "nvr", "model": "DS-7608NI-K2", "address": camHost,
			"port": atoi(camHTTP), "rtsp_port": atoi(camRTSP), "username": "admin", "password": "Admin12345",
			"channels": 2, "width": 640, "height": 360}},
		"channels": []map[string]any{{"channel": 1, "device": "nvr", "device_channel": 1, "output_resolution": "576p", "package": "7d-monthly"}},
	}
	raw, _ := json.Marshal(spec)
	specPath := filepath.Join(dir, "spec.json")
	require.NoError(t, os.WriteFile(specPath, raw, 0o600))
	api := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cloudData := filepath.Join(dir, "cloud")
	startProc(t, "cloudsim", "--data", cloudData, "--listen", api, "--s3-listen", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
		"--seed", specPath, "--tick", "1s", "--bcrypt-cost", "4", "--log-level", "warn")
	testenv.WaitTCP(t, api, 30*time.Second)
	var seeded struct {
		Site             string            `json:"site_id"`
		Box              string            `json:"box_id"`
		VerificationCode string            `json:"box_verification_code"`
		Accounts         map[string]string `json:"accounts"`
		Password         string            `json:"password"`
	}
	require.NoError(t, json.Unmarshal([]byte(readFile(t, filepath.Join(cloudData, "seed.json"))), &seeded))

	statusAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := filepath.Join(dir, "box.yaml")
	writeFile(t, cfg, fmt.Sprintf(`box:
  serial: PCB-E2E-CLOUD
  data_dir: %s
status:
  listen: %s
log:
  format: json
clips:
  pre_roll: 2s
  post_roll: 2s
  quiet: 3s
cloud:
  url: http://%s
  verification_code: %s
  heartbeat: 1s
`, filepath.Join(dir, "box"), statusAddr, api, seeded.VerificationCode))
	b := startBox(t, cfg, statusAddr)
	pid := b.cmd.Process.Pid
	b.waitFor("registered, channel 1 linked from the cloud and streaming", 60*time.Second, func(s status.Snapshot) bool {
		return s.Cloud.State == "ok" && len(s.Channels) == 1 && streaming(1)(s)
	})

	admin := &cloudAPI{t: t, base: "http://" + api + "/api/v1"}
	var login struct{ Token string }
	require.Equal(t, 200, admin.do("POST", "/login", map[string]string{"email": seeded.Accounts["installer_admin"], "password": seeded.Password}, &login))
	admin.token = login.Token
	var devices []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	require.Equal(t, 200, admin.do("GET", "/sites/"+seeded.Site+"/devices", nil, &devices))
	nvr := ""
	for _, d := range devices {
		if d.Type == "nvr" {
			nvr = d.ID
		}
	}
	require.NotEmpty(t, nvr, "seeded NVR in %+v", devices)

	// Link box channel 2 to NVR channel 2: no package yet.
	require.Equal(t, 200, admin.do("PUT", fmt.Sprintf("/sites/%s/boxes/%s/channels/2", seeded.Site, seeded.Box),
		map[string]any{"device_id": nvr, "device_channel": 2, "output_resolution": "576p"}, nil))
	s := b.waitFor("channel 2 linked remotely and streaming", 60*time.Second, streaming(1, 2))
	assert.Len(t, s.Channels, 2)
	assert.False(t, channel(s, 2).Subscribed, "no package on channel 2 yet")
	assert.Equal(t, "H.265", channel(s, 2).Codec)

	cam.trigger(t, 2, "VMD", 1)
	b.waitFor("clip of an unsubscribed channel counted, not uploaded", 60*time.Second, func(s status.Snapshot) bool {
		return channel(s, 2).NotSubscribed == 1 && s.ClipsInProgress == 0
	})

	// Buy channel 2 a package: its next clip is uploaded and indexed.
	require.Equal(t, 201, admin.do("POST", fmt.Sprintf("/sites/%s/boxes/%s/channels/2/package", seeded.Site, seeded.Box),
		map[string]any{"package": "7d-monthly"}, nil))
	b.waitFor("package seen by the box", 30*time.Second, func(s status.Snapshot) bool { return channel(s, 2).Subscribed })
	cam.trigger(t, 2, "linedetection", 1)
	b.waitFor("subscribed clip uploaded", 90*time.Second, func(s status.Snapshot) bool { return channel(s, 2).Uploaded == 1 })
	var clips []struct {
		Channel    int      `json:"channel"`
		EventTypes []string `json:"event_types"`
		SHA256     string   `json:"sha256"`
	}
	require.Eventually(t, func() bool {
		clips = nil
		return admin.do("GET", fmt.Sprintf("/sites/%s/boxes/%s/clips?channel=2", seeded.Site, seeded.Box), nil, &clips) == 200 && len(clips) == 1
	}, 30*time.Second, 500*time.Millisecond, "the clip is in the cloud's index")
	assert.Equal(t, []string{"linedetection"}, clips[0].EventTypes)
	assert.Len(t, clips[0].SHA256, 64)

	// A manual inspection is answered by the box on its next heartbeat.
	var insp struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	require.Equal(t, 201, admin.do("POST", "/sites/"+seeded.Site+"/inspections", map[string]any{}, &insp))
	require.Eventually(t, func() bool {
		var got struct {
			Status  string `json:"status"`
			Devices []struct {
				DeviceID string `json:"device_id"`
				Online   bool   `json:"online"`
			} `json:"devices"`
		}
		admin.do("GET", "/sites/"+seeded.Site+"/inspections/"+insp.ID, nil, &got)
		return got.Status == "done" && len(got.Devices) > 0
	}, 30*time.Second, 500*time.Millisecond, "inspection completed")

	// Unlink channel 2: the box drops it, still without a restart.
	require.Equal(t, 204, admin.do("DELETE", fmt.Sprintf("/sites/%s/boxes/%s/channels/2", seeded.Site, seeded.Box), nil, nil))
	b.waitFor("channel 2 unlinked", 30*time.Second, func(s status.Snapshot) bool { return len(s.Channels) == 1 })
	assert.Equal(t, pid, b.cmd.Process.Pid)
	select {
	case <-b.done:
		t.Fatal("boxd exited during reconfiguration")
	default:
	}
	b.term(t, 30*time.Second)
}

func atoi(s string) int {
	var n int
	fmt.Sscanf(s, "%d", &n)
	return n
}
