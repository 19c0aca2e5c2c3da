package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type demo struct {
	length  time.Duration
	bin     string
	media   string
	work    string
	ports   map[string]string
	procs   []*child
	proxy   *faultProxy
	seed    seedResult
	started time.Time
	events  int
	// Object storage: cloudsim's embedded S3 unless DEMO_S3_ENDPOINT names another
	// S3-compatible endpoint (MinIO in the end-to-end test).
	s3Host, s3Key, s3Secret string
	s3External              bool
}

type child struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
}

type seedResult struct {
	SiteID           string            `json:"site_id"`
	BoxID            string            `json:"box_id"`
	BoxSerial        string            `json:"box_serial"`
	VerificationCode string            `json:"box_verification_code"`
	Accounts         map[string]string `json:"accounts"`
	Password         string            `json:"password"`
}

const (
	bucket    = "boxfw-clips"
	camPass   = "Admin12345"
	preRoll   = 3 * time.Second
	postRoll  = 3 * time.Second
	eventLen  = 2 * time.Second
	channels  = 4
	unsubChan = 4
)

func newDemo(length time.Duration) (*demo, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	d := &demo{length: length, bin: filepath.Dir(exe), ports: map[string]string{}}
	d.media = os.Getenv("DEMO_MEDIA")
	if d.media == "" {
		d.media = filepath.Join(d.bin, "..", "testdata", "media")
	}
	if _, err := os.Stat(filepath.Join(d.media, "h264_1080p.h264")); err != nil {
		return nil, fmt.Errorf("camera media not found in %s (set DEMO_MEDIA): %w", d.media, err)
	}
	for _, name := range []string{"boxd", "camsim", "cloudsim"} {
		if _, err := os.Stat(filepath.Join(d.bin, name)); err != nil {
			return nil, fmt.Errorf("%s not built next to the demo (run `make build`): %w", name, err)
		}
	}
	d.work = os.Getenv("DEMO_DIR")
	if d.work == "" {
		d.work, err = os.MkdirTemp("", "boxfw-demo-")
		if err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(d.work, 0o750); err != nil {
		return nil, err
	}
	for _, p := range []string{"cam-rtsp", "cam-http", "cloud-api", "cloud-s3", "box-status"} {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		d.ports[p] = port
	}
	d.s3Host, d.s3Key, d.s3Secret = d.addr("cloud-s3"), "cloudsim", "cloudsim-secret"
	if ep := os.Getenv("DEMO_S3_ENDPOINT"); ep != "" {
		host, ok := strings.CutPrefix(ep, "http://")
		if !ok {
			return nil, fmt.Errorf("DEMO_S3_ENDPOINT=%q: want http://host:port", ep)
		}
		d.s3Host, d.s3Key, d.s3Secret, d.s3External = host, os.Getenv("DEMO_S3_ACCESS_KEY"), os.Getenv("DEMO_S3_SECRET_KEY"), true
	}
	return d, nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return fmt.Sprintf("%d", l.Addr().(*net.TCPAddr).Port), nil
}

func (d *demo) addr(name string) string { return "127.0.0.1:" + d.ports[name] }

func (d *demo) say(format string, args ...any) {
	fmt.Printf("[%5.1fs] %s\n", time.Since(d.started).Seconds(), fmt.Sprintf(format, args...))
}

func (d *demo) start(name string, args ...string) (*child, error) {
	logf, err := os.Create(filepath.Join(d.work, name+".log"))
	if err != nil {
		return nil, err
	}
	c := &child{name: name, cmd: exec.Command(filepath.Join(d.bin, name), args...), log: logf, done: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	d.procs = append(d.procs, c)
	return c, nil
}

// stop sends SIGTERM and waits, then SIGKILL.
func (c *child) stop(timeout time.Duration) error {
	select {
	case <-c.done:
		return nil
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		if code := c.cmd.ProcessState.ExitCode(); code != 0 {
			return fmt.Errorf("%s exited %d after SIGTERM", c.name, code)
		}
		return nil
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within %s", c.name, timeout)
	}
}

func waitTCP(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not listening: %w", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (d *demo) run(ctx context.Context) int {
	d.started = time.Now()
	defer func() {
		for i := len(d.procs) - 1; i >= 0; i-- {
			_ = d.procs[i].stop(15 * time.Second)
		}
		if d.proxy != nil {
			d.proxy.Close()
		}
	}()
	d.say("working directory %s (logs: camsim.log, cloudsim.log, boxd.log)", d.work)
	if err := d.setup(ctx); err != nil {
		d.say("setup failed: %v", err)
		return 1
	}
	box, err := d.scenario(ctx)
	if err != nil {
		d.say("scenario failed: %v", err)
		return 1
	}
	return d.verify(ctx, box)
}

func (d *demo) setup(ctx context.Context) error {
	if _, err := d.start("camsim", "--mode", "nvr", "--rtsp", d.addr("cam-rtsp"), "--http", d.addr("cam-http"),
		"--media-dir", d.media, "--password", camPass, "--log-level", "warn",
		"--channel", "h264_1080p.h264,h264_360p.h264", "--channel", "h265_1080p.h265,h265_360p.h265",
		"--channel", "h264_1440p.h264,h264_360p.h264", "--channel", "h265_1440p.h265,h265_360p.h265"); err != nil {
		return err
	}
	if err := waitTCP(ctx, d.addr("cam-http"), 20*time.Second); err != nil {
		return fmt.Errorf("camsim: %w", err)
	}
	d.say("device simulator up: NVR with 4 channels (H.264 1080p, H.265 1080p, H.264 1440p, H.265 1440p) at %s", d.addr("cam-http"))

	spec := map[string]any{
		"box_serial": "PCB-DEMO-0001", "box_verification_code": "DEMO01",
		"devices": []map[string]any{{"name": "nvr", "type": "nvr", "model": "DS-7608NI-K2", "address": "127.0.0.1",
			"port": atoi(d.ports["cam-http"]), "rtsp_port": atoi(d.ports["cam-rtsp"]), "username": "admin", "password": camPass,
			"channels": 4, "width": 2560, "height": 1440}},
		"channels": []map[string]any{
			{"channel": 1, "device": "nvr", "device_channel": 1, "package": "7d-monthly"},
			{"channel": 2, "device": "nvr", "device_channel": 2, "package": "7d-monthly"},
			{"channel": 3, "device": "nvr", "device_channel": 3, "output_resolution": "576p", "package": "7d-monthly"},
			{"channel": 4, "device": "nvr", "device_channel": 4},
		},
	}
	specPath := filepath.Join(d.work, "seed-spec.json")
	raw, _ := json.MarshalIndent(spec, "", "  ")
	if err := os.WriteFile(specPath, raw, 0o600); err != nil {
		return err
	}
	cloudData := filepath.Join(d.work, "cloud")
	s3Args := []string{"--s3-listen", d.addr("cloud-s3")}
	if d.s3External {
		s3Args = []string{"--s3", "http://" + d.s3Host, "--s3-access-key", d.s3Key, "--s3-secret-key", d.s3Secret}
	}
	if _, err := d.start("cloudsim", append([]string{"--data", cloudData, "--listen", d.addr("cloud-api"),
		"--seed", specPath, "--tick", "2s", "--bcrypt-cost", "4", "--log-level", "warn"}, s3Args...)...); err != nil {
		return err
	}
	if err := waitTCP(ctx, d.addr("cloud-api"), 30*time.Second); err != nil {
		return fmt.Errorf("cloudsim: %w", err)
	}
	raw, err := os.ReadFile(filepath.Join(cloudData, "seed.json"))
	if err != nil {
		return fmt.Errorf("cloudsim seed result: %w", err)
	}
	if err := json.Unmarshal(raw, &d.seed); err != nil {
		return err
	}
	d.say("cloud up at http://%s with S3 at %s: site %s, box %s, packages on channels 1-3, none on channel 4",
		d.addr("cloud-api"), d.s3Host, d.seed.SiteID, d.seed.BoxSerial)

	d.proxy, err = newFaultProxy(d.s3Host)
	if err != nil {
		return err
	}
	cfg := fmt.Sprintf(`box:
  serial: %s
  data_dir: %s
status:
  listen: %s
log:
  level: info
  format: json
clips:
  pre_roll: %s
  post_roll: %s
  quiet: 3s
ingest:
  backoff_min: 200ms
  backoff_max: 5s
uplink:
  # The demo routes uploads through a proxy it can cut, to show ANR at work.
  endpoint: http://%s
  bucket: %s
  access_key: %s
  secret_key: %s
  prefix: boxes
cloud:
  url: http://%s
  verification_code: %s
  heartbeat: 2s
`, d.seed.BoxSerial, filepath.Join(d.work, "box"), d.addr("box-status"), preRoll, postRoll, d.proxy.Addr(), bucket, d.s3Key, d.s3Secret,
		d.addr("cloud-api"), d.seed.VerificationCode)
	cfgPath := filepath.Join(d.work, "box.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	if _, err := d.start("boxd", "run", "--config", cfgPath); err != nil {
		return err
	}
	if err := waitTCP(ctx, d.addr("box-status"), 20*time.Second); err != nil {
		return fmt.Errorf("boxd: %w", err)
	}
	d.say("boxd up, status at http://%s/v1/status; waiting for it to register and link channels from the cloud", d.addr("box-status"))
	deadline := time.Now().Add(60 * time.Second)
	for {
		s, err := d.status()
		if err == nil && len(s.Channels) == channels {
			ready := 0
			for _, ch := range s.Channels {
				if ch.State == "streaming" && ch.RingSeconds >= preRoll.Seconds() {
					ready++
				}
			}
			if ready == channels {
				for _, ch := range s.Channels {
					d.say("channel %d: %s %dx%d, admission %s, subscribed=%v, output %s at %d fps", ch.ID, ch.Codec, ch.Width, ch.Height,
						ch.Admission, ch.Subscribed, ch.Resolution, s.OutputFPS)
				}
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.New("channels did not start streaming within 60 s (see boxd.log)")
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscanf(s, "%d", &n)
	return n
}

func (d *demo) status() (snapshot, error) {
	var s snapshot
	resp, err := http.Get("http://" + d.addr("box-status") + "/v1/status")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

func (d *demo) trigger(ch int, typ string) error {
	body := fmt.Sprintf(`{"channel":%d,"type":%q,"seconds":%g}`, ch, typ, eventLen.Seconds())
	resp, err := http.Post("http://"+d.addr("cam-http")+"/sim/events", "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("trigger: %s", resp.Status)
	}
	d.events++
	return nil
}
