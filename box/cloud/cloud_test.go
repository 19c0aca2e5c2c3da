package cloud_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/cloud"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

// cloudsimProc is the real cloud simulator, built from cmd/cloudsim and run as its own
// process: the box and the cloud meet only over the wire, here as in production.
type cloudsimProc struct {
	url  string
	seed struct {
		SiteID           string `json:"site_id"`
		BoxID            string `json:"box_id"`
		BoxSerial        string `json:"box_serial"`
		VerificationCode string `json:"box_verification_code"`
	}
	cmd *exec.Cmd
}

func startCloudsim(t *testing.T) *cloudsimProc {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "cloudsim")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	build := exec.Command(gobin, "build", "-o", bin, "github.com/proconnect-oss/boxfw/cmd/cloudsim")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	data := filepath.Join(dir, "data")
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cmd := exec.Command(bin, "--data", data, "--listen", addr, "--s3-listen", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
		"--seed", "demo", "--log-level", "warn", "--bcrypt-cost", "4")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	p := &cloudsimProc{url: "http://" + addr, cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("cloudsim output:\n%s", logs.String())
		}
	})
	testenv.WaitTCP(t, addr, 60*time.Second)
	raw, err := os.ReadFile(filepath.Join(data, "seed.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &p.seed))
	return p
}

// installer calls the installer-side API as the demo's admin.
func (p *cloudsimProc) installer(t *testing.T, method, path string, body, out any) {
	t.Helper()
	call := func(tok string, method, path string, body, out any) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, p.url+"/api/v1"+path, bytes.NewReader(raw))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		require.Lessf(t, resp.StatusCode, 300, "%s %s: %s", method, path, b)
		if out != nil {
			require.NoError(t, json.Unmarshal(b, out))
		}
	}
	var login struct{ Token string }
	call("", "POST", "/login", map[string]string{"email": "admin@demo.test", "password": "demo-password"}, &login)
	call(login.Token, method, path, body, out)
}

func TestClientAgainstCloudsim(t *testing.T) {
	p := startCloudsim(t)
	ctx := t.Context()
	c := cloud.New(cloud.Config{URL: p.url})

	_, err := c.Channels(ctx)
	require.ErrorIs(t, err, cloud.ErrNotRegistered)

	_, err = c.Register(ctx, p.seed.BoxSerial, "WRONG!")
	require.ErrorIs(t, err, cloud.ErrUnauthorized)
	require.False(t, cloud.Transient(err))

	reg, err := c.Register(ctx, p.seed.BoxSerial, p.seed.VerificationCode)
	require.NoError(t, err)
	require.Equal(t, p.seed.BoxID, reg.BoxID)
	require.Equal(t, p.seed.SiteID, reg.SiteID)

	st, err := c.Storage(ctx)
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(st.Prefix, "boxes/"+p.seed.BoxSerial+"/"), st.Prefix)
	require.NotEmpty(t, st.Endpoint)

	hb, err := c.Heartbeat(ctx, cloud.HeartbeatRequest{Firmware: "0.1.0"})
	require.NoError(t, err)
	require.True(t, hb.ConfigChanged)
	require.Equal(t, 30, hb.HeartbeatSeconds)

	cl, err := c.Channels(ctx)
	require.NoError(t, err)
	require.Equal(t, hb.ConfigVersion, cl.ConfigVersion)
	require.Len(t, cl.Channels, 4)
	ch1, ch4 := cl.Channels[0], cl.Channels[3]
	require.True(t, ch1.Package.Active)
	require.Equal(t, 7, ch1.Package.RetentionDays)
	require.False(t, ch4.Package.Active)
	require.Equal(t, "127.0.0.1", ch1.Address)
	require.Equal(t, 8554, ch1.RTSPPort)
	require.Equal(t, "admin", ch1.Username)
	require.NotEmpty(t, ch1.Password)
	require.Equal(t, "576p", cl.Channels[2].Output)

	hb, err = c.Heartbeat(ctx, cloud.HeartbeatRequest{AppliedConfigVersion: cl.ConfigVersion})
	require.NoError(t, err)
	require.False(t, hb.ConfigChanged)

	t.Run("remote configuration arrives on the next heartbeat", func(t *testing.T) {
		p.installer(t, "DELETE", fmt.Sprintf("/sites/%s/boxes/%s/channels/3", p.seed.SiteID, p.seed.BoxID), nil, nil)
		hb, err := c.Heartbeat(ctx, cloud.HeartbeatRequest{AppliedConfigVersion: cl.ConfigVersion})
		require.NoError(t, err)
		require.True(t, hb.ConfigChanged)
		cl2, err := c.Channels(ctx)
		require.NoError(t, err)
		require.Len(t, cl2.Channels, 3)
	})

	t.Run("manual inspection round trip", func(t *testing.T) {
		var in struct{ ID, Status string }
		p.installer(t, "POST", "/sites/"+p.seed.SiteID+"/inspections", nil, &in)
		hb, err := c.Heartbeat(ctx, cloud.HeartbeatRequest{})
		require.NoError(t, err)
		require.Equal(t, in.ID, hb.InspectionID)
		require.NoError(t, c.ReportHealth(ctx, cloud.HealthReport{
			InspectionID: hb.InspectionID,
			Box:          cloud.BoxHealth{Network: "ok", Disk: cloud.DiskHealth{Status: "ok", SMART: "ok"}, Spool: cloud.Spool{Clips: 2}, Uplink: "ok", Firmware: "0.1.0"},
			Cameras:      []cloud.CameraHealth{{DeviceID: ch1.DeviceID, DeviceChannel: 1, Online: true, Stream: "ok"}},
		}))
		p.installer(t, "GET", "/sites/"+p.seed.SiteID+"/inspections/"+in.ID, nil, &in)
		require.Equal(t, "done", in.Status)
	})

	t.Run("clip registration and package gating", func(t *testing.T) {
		start := time.Now().UTC().Add(time.Second)
		clip := cloud.Clip{ObjectKey: st.Prefix + "ch01/clip1.mp4", Channel: 1, EventTypes: []string{"VMD", "linedetection"},
			Start: start, End: start.Add(20 * time.Second), Size: 1000, SHA256: strings.Repeat("0f", 32)}
		a, err := c.RegisterClip(ctx, clip)
		require.NoError(t, err)
		b, err := c.RegisterClip(ctx, clip)
		require.NoError(t, err)
		require.Equal(t, a.ID, b.ID, "retry is idempotent")
		clip.ObjectKey, clip.Channel = st.Prefix+"ch04/clip1.mp4", 4
		_, err = c.RegisterClip(ctx, clip)
		require.ErrorIs(t, err, cloud.ErrNotSubscribed)
		require.False(t, cloud.Transient(err))
	})

	t.Run("re-registration rotates the token", func(t *testing.T) {
		old := c.Token()
		c2 := cloud.New(cloud.Config{URL: p.url})
		_, err := c2.Register(ctx, p.seed.BoxSerial, p.seed.VerificationCode)
		require.NoError(t, err)
		stale := cloud.New(cloud.Config{URL: p.url, Token: old})
		_, err = stale.Heartbeat(ctx, cloud.HeartbeatRequest{})
		require.ErrorIs(t, err, cloud.ErrUnauthorized)
	})

	t.Run("a dead cloud is transient", func(t *testing.T) {
		require.NoError(t, p.cmd.Process.Kill())
		_ = p.cmd.Wait()
		_, err := c.Heartbeat(ctx, cloud.HeartbeatRequest{})
		require.Error(t, err)
		require.True(t, cloud.Transient(err))
		var api *cloud.APIError
		require.False(t, errors.As(err, &api))
	})
}
