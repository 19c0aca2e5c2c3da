package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/proconnect-oss/boxfw/box/cloud"
)

type options struct {
	URL         string
	Boxes       int
	PerSite     int
	Interval    time.Duration
	HealthEvery int
	Duration    time.Duration
	Workers     int
	Ramp        bool
	RampStep    time.Duration
	P99         time.Duration
	DataDir     string
}

func parse(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&o.URL, "url", "", "cloud URL; empty starts a cloudsim built from cmd/cloudsim")
	fs.IntVar(&o.Boxes, "boxes", 10000, "simulated boxes")
	fs.IntVar(&o.PerSite, "per-site", 100, "boxes per site")
	fs.DurationVar(&o.Interval, "interval", 30*time.Second, "heartbeat interval per box")
	fs.IntVar(&o.HealthEvery, "health-every", 2, "each box sends a health report every N heartbeats")
	fs.DurationVar(&o.Duration, "duration", 60*time.Second, "length of the target-rate run")
	fs.IntVar(&o.Workers, "workers", 512, "concurrent requests at most")
	fs.BoolVar(&o.Ramp, "ramp", true, "after the target run, ramp up to find the max sustainable rate")
	fs.DurationVar(&o.RampStep, "ramp-step", 5*time.Second, "length of each ramp step")
	fs.DurationVar(&o.P99, "p99", 50*time.Millisecond, "p99 latency objective")
	fs.StringVar(&o.DataDir, "data", "", "data dir for the started cloudsim (default: tmpfs when present)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.Boxes < 1 || o.PerSite < 1 || o.Interval <= 0 || o.HealthEvery < 1 || o.Workers < 1 {
		return o, errors.New("--boxes, --per-site, --interval, --health-every and --workers must be positive")
	}
	return o, nil
}

func run(ctx context.Context, args []string) error {
	o, err := parse(args)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConns: o.Workers, MaxIdleConnsPerHost: o.Workers, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}}
	if o.URL == "" {
		url, stop, err := startCloudsim(ctx, o)
		if err != nil {
			return err
		}
		defer stop()
		o.URL = url
	}
	fmt.Printf("bench: cloud %s, %d boxes (%d per site), heartbeat every %s, health every %d heartbeats\n",
		o.URL, o.Boxes, o.PerSite, o.Interval, o.HealthEvery)
	t0 := time.Now()
	fleet, err := setup(ctx, o, hc)
	if err != nil {
		return err
	}
	fmt.Printf("bench: fleet registered in %s\n", time.Since(t0).Round(time.Millisecond))

	target := float64(o.Boxes) / o.Interval.Seconds() * (1 + 1/float64(o.HealthEvery))
	res := drive(ctx, fleet, o, target, o.Duration)
	fmt.Printf("\n%-22s %10s %10s %9s %9s %9s %9s %7s\n", "phase", "target/s", "achieved/s", "p50", "p99", "max", "svc p99", "errors")
	res.print(fmt.Sprintf("target (%d boxes)", o.Boxes))
	verdict := "PASS"
	if res.p99 >= o.P99 || res.errors > 0 {
		verdict = "FAIL"
	}
	if !o.Ramp {
		fmt.Printf("\nbench: %s p99 %s at %.0f req/s (objective p99 < %s)\n", verdict, res.p99.Round(10*time.Microsecond), res.achieved, o.P99)
		return nil
	}
	best := 0.0
	for rate := target * 2; ctx.Err() == nil; rate *= 1.5 {
		r := drive(ctx, fleet, o, rate, o.RampStep)
		r.print("ramp")
		if r.p99 >= o.P99 || r.errors > 0 || r.achieved < 0.95*rate {
			break
		}
		best = r.achieved
	}
	fmt.Printf("\nbench: %s p99 %s at target %.0f req/s; max sustainable ~%.0f req/s with p99 < %s\n",
		verdict, res.p99.Round(10*time.Microsecond), res.achieved, best, o.P99)
	return nil
}

// startCloudsim builds cmd/cloudsim and runs it as a separate process on a free port.
func startCloudsim(ctx context.Context, o options) (string, func(), error) {
	dir, err := os.MkdirTemp("", "cloudsim-bench-")
	if err != nil {
		return "", nil, err
	}
	data := o.DataDir
	if data == "" {
		data = filepath.Join(dir, "data")
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			// Setup writes thousands of records; tmpfs keeps it from waiting on fsync.
			// The measured heartbeat/health path does not write to the store.
			if d, err := os.MkdirTemp("/dev/shm", "cloudsim-bench-"); err == nil {
				data = d
			}
		}
	}
	bin := filepath.Join(dir, "cloudsim")
	build := exec.CommandContext(ctx, filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "github.com/proconnect-oss/boxfw/cmd/cloudsim")
	if out, err := build.CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("build cloudsim: %w\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	s3ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	s3addr := s3ln.Addr().String()
	_ = ln.Close()
	_ = s3ln.Close()
	cmd := exec.Command(bin, "--data", data, "--listen", addr, "--s3-listen", s3addr, "--bcrypt-cost", "4", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = os.RemoveAll(dir)
		if data != o.DataDir {
			_ = os.RemoveAll(data)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("cloudsim not listening on %s", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "http://" + addr, stop, nil
}

type simBox struct {
	c      *cloud.Client
	camera string
	beats  atomic.Int64
}

// setup creates a company, sites with one camera each, and the boxes, and registers
// every box, all through the public API.
func setup(ctx context.Context, o options, hc *http.Client) ([]*simBox, error) {
	api := func(tok, method, path string, body, out any) error {
		raw, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, method, o.URL+"/api/v1"+path, bytes.NewReader(raw))
		if err != nil {
			return err
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		if out != nil {
			return json.Unmarshal(b, out)
		}
		return nil
	}
	stamp := time.Now().UnixNano()
	email := fmt.Sprintf("bench-%d@bench.test", stamp)
	if err := api("", "POST", "/companies", map[string]any{"name": "Bench", "region": "eu",
		"admin": map[string]string{"email": email, "password": "bench-password"}}, nil); err != nil {
		return nil, err
	}
	var login struct{ Token string }
	if err := api("", "POST", "/login", map[string]string{"email": email, "password": "bench-password"}, &login); err != nil {
		return nil, err
	}
	sites := (o.Boxes + o.PerSite - 1) / o.PerSite
	type siteInfo struct{ id, camera string }
	infos := make([]siteInfo, sites)
	for i := range infos {
		var s, d struct{ ID string }
		if err := api(login.Token, "POST", "/sites", map[string]string{"name": fmt.Sprint("bench site ", i)}, &s); err != nil {
			return nil, err
		}
		if err := api(login.Token, "POST", "/sites/"+s.ID+"/devices", map[string]any{"type": "camera", "model": "DS-2CD2143G2-I",
			"serial": fmt.Sprintf("BENCHCAM-%d-%d", stamp, i), "address": "127.0.0.1"}, &d); err != nil {
			return nil, err
		}
		infos[i] = siteInfo{s.ID, d.ID}
	}
	fleet := make([]*simBox, o.Boxes)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	var done atomic.Int64
	for i := range fleet {
		g.Go(func() error {
			site := infos[i/o.PerSite]
			serial := fmt.Sprintf("BENCH-%d-%05d", stamp, i)
			if err := api(login.Token, "POST", "/sites/"+site.id+"/boxes", map[string]string{"serial": serial, "verification_code": "BENCH1"}, nil); err != nil {
				return err
			}
			c := cloud.New(cloud.Config{URL: o.URL, HTTPClient: hc})
			if _, err := c.Register(gctx, serial, "BENCH1"); err != nil {
				return err
			}
			fleet[i] = &simBox{c: c, camera: site.camera}
			if n := done.Add(1); n%2000 == 0 {
				fmt.Printf("bench: %d boxes registered\n", n)
			}
			return nil
		})
	}
	return fleet, g.Wait()
}

type result struct {
	target, achieved float64
	p50, p99, max    time.Duration
	// svcP99 is the p99 from the actual send, excluding the generator's own lag; when
	// it is far below p99 the generator (or the machine) could not keep the schedule.
	svcP99 time.Duration
	errors int64
}

func (r result) print(phase string) {
	rd := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	fmt.Printf("%-22s %10.0f %10.0f %9s %9s %9s %9s %7d\n", phase, r.target, r.achieved,
		rd(r.p50), rd(r.p99), rd(r.max), rd(r.svcP99), r.errors)
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)*p/100]
}

// drive sends requests at rate per second for d, spread evenly over the fleet: box i's
// k-th request is a heartbeat, and every HealthEvery-th heartbeat is followed by a
// health report.
func drive(ctx context.Context, fleet []*simBox, o options, rate float64, d time.Duration) result {
	gap := time.Duration(float64(time.Second) / rate)
	n := int(d / gap)
	lat := make([]time.Duration, 0, n)
	svc := make([]time.Duration, 0, n)
	var mu sync.Mutex
	var errs atomic.Int64
	sem := make(chan struct{}, o.Workers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		at := start.Add(time.Duration(i) * gap)
		if wait := time.Until(at); wait > 0 {
			time.Sleep(wait)
		}
		box := fleet[i%len(fleet)]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			sent := time.Now()
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			var err error
			beat := box.beats.Add(1)
			if beat%int64(o.HealthEvery+1) == 0 {
				usage := 41.5
				err = box.c.ReportHealth(rctx, cloud.HealthReport{
					Box:     cloud.BoxHealth{Network: "ok", Disk: cloud.DiskHealth{Status: "ok", SMART: "ok", UsagePercent: &usage}, Spool: cloud.Spool{Clips: 1, Bytes: 1 << 20}, Uplink: "ok", Firmware: "bench"},
					Cameras: []cloud.CameraHealth{{DeviceID: box.camera, Online: true, Stream: "ok"}},
				})
			} else {
				_, err = box.c.Heartbeat(rctx, cloud.HeartbeatRequest{AppliedConfigVersion: 0, Firmware: "bench"})
			}
			el := time.Since(at)
			if err != nil {
				errs.Add(1)
			}
			mu.Lock()
			lat = append(lat, el)
			svc = append(svc, time.Since(sent))
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := result{target: rate, errors: errs.Load(), svcP99: pct(svc, 99)}
	if len(lat) > 0 {
		r.achieved = float64(len(lat)) / elapsed.Seconds()
		r.p50 = lat[len(lat)/2]
		r.p99 = lat[len(lat)*99/100]
		r.max = lat[len(lat)-1]
	}
	return r
}
