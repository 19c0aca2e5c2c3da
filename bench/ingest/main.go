// Command ingest measures what the box's RTSP ingest costs per channel (CPU and RSS,
// pre-roll ring enabled) next to mediamtx relaying the same streams, in one run:
//
//	go run ./bench/ingest [-channels 8] [-seconds 20] [-media h264_1080p.h264,h265_1080p.h265]
//
// It starts mediamtx (from `make testservers`) on 127.0.0.1, publishes the channels
// into it with the ffmpeg CLI (looped, real time, -c copy), then measures, each over
// the same window:
//
//  0. mediamtx with the publishers only (its baseline);
//  1. a child process running N ingest channels with 10 s rings (this binary, -child),
//     and mediamtx relaying to them;
//  2. mediamtx relaying the same paths to N `ffmpeg -c copy -f null` readers (and the
//     readers' own cost, the usual "just pull the stream" client).
//
// CPU is utime+stime from /proc over the window, in % of one core; RSS is VmRSS at the
// end of the window and VmHWM (peak). The machine may be shared: run it twice and
// trust the ratios more than the absolute numbers.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/proconnect-oss/boxfw/box/ingest"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

func main() {
	child := flag.Bool("child", false, "internal: run ingest channels for the URLs given as arguments")
	channels := flag.Int("channels", 8, "number of channels")
	seconds := flag.Int("seconds", 20, "measurement window per phase")
	mediaList := flag.String("media", "h264_1080p.h264,h265_1080p.h265", "testdata/media files, used round-robin")
	flag.Parse()
	var err error
	if *child {
		err = runChild(flag.Args())
	} else {
		err = run(*channels, time.Duration(*seconds)*time.Second, strings.Split(*mediaList, ","))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/ingest:", err)
		os.Exit(1)
	}
}

// childReport is what the ingest child prints when told to stop.
type childReport struct {
	AUs, Bytes, Dropped, DecodeErrors uint64
	RingAUs, RingBytes                int
	RingSpan                          time.Duration
	Connects                          uint64
}

// runChild is the measured process: N ingest channels, nothing else. It prints "ready"
// once every channel streams and a JSON report on SIGTERM.
func runChild(urls []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var chans []*ingest.Channel
	var wg sync.WaitGroup
	for i, u := range urls {
		c, err := ingest.New(ingest.Options{Channel: i + 1, URL: u, Now: time.Now, Logger: logger})
		if err != nil {
			return err
		}
		chans = append(chans, c)
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.Run(ctx) }()
	}
	go func() {
		for ctx.Err() == nil {
			ready := true
			for _, c := range chans {
				ready = ready && c.Stats().State == ingest.StateStreaming
			}
			if ready {
				fmt.Println("ready")
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	<-ctx.Done()
	var r childReport
	for _, c := range chans {
		s := c.Stats()
		r.AUs += s.AUs
		r.Bytes += s.Bytes
		r.Dropped += s.Dropped
		r.DecodeErrors += s.DecodeErrors
		r.Connects += s.Connects
		r.RingAUs += s.Ring.AUs
		r.RingBytes += s.Ring.Bytes
		r.RingSpan += s.Ring.Span() / time.Duration(len(chans))
	}
	wg.Wait()
	return json.NewEncoder(os.Stdout).Encode(r)
}

type proc struct {
	name string
	cmd  *exec.Cmd
}

func (p *proc) stop() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

func start(name string, cmd *exec.Cmd) (*proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &proc{name: name, cmd: cmd}, nil
}

func tool(name string) (string, error) {
	if p := filepath.Join(testenv.BinDir(), name); fileExists(p) {
		return p, nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found (run `make deps testservers`): %w", name, err)
	}
	return p, nil
}

func fileExists(p string) bool { st, err := os.Stat(p); return err == nil && !st.IsDir() }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func run(n int, window time.Duration, media []string) error {
	mtxBin, err := tool("mediamtx")
	if err != nil {
		return err
	}
	ffmpeg, err := tool("ffmpeg")
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ingestbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var procs []*proc
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].stop()
		}
	}()

	// ffmpeg 5.1 cannot loop a raw elementary stream, so loop a Matroska remux of it.
	var mkvs []string
	for _, m := range media {
		src := filepath.Join(repoRoot(), "testdata", "media", m)
		format := "h264"
		if strings.HasSuffix(m, ".h265") {
			format = "hevc"
		}
		dst := filepath.Join(dir, m+".mkv")
		if out, err := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", format,
			"-framerate", "25", "-i", src, "-c", "copy", dst).CombinedOutput(); err != nil {
			return fmt.Errorf("remux %s: %v: %s", m, err, out)
		}
		mkvs = append(mkvs, dst)
	}

	port, err := freePort()
	if err != nil {
		return err
	}
	conf := fmt.Sprintf("logLevel: warn\nrtsp: yes\nrtspTransports: [tcp]\nrtspAddress: 127.0.0.1:%d\n"+
		"rtmp: no\nhls: no\nwebrtc: no\nsrt: no\napi: no\nmetrics: no\npprof: no\nplayback: no\npaths:\n  all_others:\n", port)
	cfg := filepath.Join(dir, "mediamtx.yml")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return err
	}
	mtx, err := start("mediamtx", exec.Command(mtxBin, cfg))
	if err != nil {
		return err
	}
	procs = append(procs, mtx)
	if err := waitTCP(fmt.Sprintf("127.0.0.1:%d", port), 15*time.Second); err != nil {
		return err
	}
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("rtsp://127.0.0.1:%d/cam%d", port, i+1)
		pub, err := start("publisher", exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-re",
			"-stream_loop", "-1", "-i", mkvs[i%len(mkvs)], "-c", "copy", "-rtsp_transport", "tcp", "-f", "rtsp", urls[i]))
		if err != nil {
			return err
		}
		procs = append(procs, pub)
	}
	fmt.Printf("bench/ingest: %d channels (%s round-robin, 25 fps), %s per phase, %d CPUs, load %s\n",
		n, strings.Join(media, ", "), window, runtime.NumCPU(), loadavg())
	time.Sleep(3 * time.Second) // publishers connect

	// Phase 0: mediamtx with publishers only.
	base := measure(window/2, mtx)

	// Phase 1: the ingest child.
	childCmd := exec.Command(self, append([]string{"-child"}, urls...)...)
	childCmd.Stderr = os.Stderr
	childOut, err := childCmd.StdoutPipe()
	if err != nil {
		return err
	}
	childStart := time.Now()
	child, err := start("ingest", childCmd)
	if err != nil {
		return err
	}
	procs = append(procs, child)
	lines := bufio.NewScanner(childOut)
	if !lines.Scan() || lines.Text() != "ready" {
		return errors.New("ingest child did not get all channels streaming")
	}
	time.Sleep(2 * time.Second) // let the rings fill a little before measuring
	p1 := measure(window, child, mtx)
	childLife := time.Since(childStart)
	_ = child.cmd.Process.Signal(syscall.SIGTERM)
	var rep childReport
	if lines.Scan() {
		_ = json.Unmarshal(lines.Bytes(), &rep)
	}
	_ = child.cmd.Wait()

	// Phase 2: ffmpeg readers.
	var readers []*proc
	for _, u := range urls {
		r, err := start("reader", exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-rtsp_transport", "tcp",
			"-i", u, "-c", "copy", "-f", "null", "-"))
		if err != nil {
			return err
		}
		readers = append(readers, r)
		procs = append(procs, r)
	}
	time.Sleep(3 * time.Second)
	p2 := measure(window, append([]*proc{mtx}, readers...)...)

	ing, mtx1, mtx2 := p1[0], p1[1], p2[0]
	var rd usage
	for _, u := range p2[1:] {
		rd.cpu += u.cpu
		rd.rss += u.rss
		rd.hwm += u.hwm
	}
	fn := float64(n)
	fmt.Printf("\n%-44s %9s %9s %9s %9s %9s\n", "process", "CPU %", "%/chan", "RSS MiB", "MiB/chan", "peak MiB")
	row := func(name string, u usage) {
		fmt.Printf("%-44s %9.1f %9.2f %9.1f %9.2f %9.1f\n", name, u.cpu, u.cpu/fn, mib(u.rss), mib(u.rss)/fn, mib(u.hwm))
	}
	row(fmt.Sprintf("boxfw ingest, %d channels + 10 s rings", n), ing)
	row(fmt.Sprintf("mediamtx: %d publishers -> %d ingest readers", n, n), mtx1)
	row(fmt.Sprintf("mediamtx: %d publishers -> %d ffmpeg readers", n, n), mtx2)
	row(fmt.Sprintf("mediamtx: %d publishers, no readers", n), base[0])
	row(fmt.Sprintf("%d x ffmpeg -c copy -f null readers (sum)", n), rd)
	fmt.Printf("\nratios (lower is better for boxfw):\n")
	fmt.Printf("  ingest CPU / mediamtx relay CPU (ffmpeg readers)    %.2f\n", ratio(ing.cpu, mtx2.cpu))
	fmt.Printf("  ingest CPU / mediamtx relay delta over no readers   %.2f\n", ratio(ing.cpu, mtx2.cpu-base[0].cpu))
	fmt.Printf("  ingest CPU / ffmpeg -c copy readers                 %.2f\n", ratio(ing.cpu, rd.cpu))
	fmt.Printf("  ingest RSS / mediamtx RSS                           %.2f (rings hold %.1f MiB)\n",
		ratio(float64(ing.rss), float64(mtx2.rss)), mib(int64(rep.RingBytes)))
	fmt.Printf("  ingest RSS / ffmpeg readers RSS                     %.2f\n", ratio(float64(ing.rss), float64(rd.rss)))
	fmt.Printf("\ningest check: %d units, %.1f MiB, %.1f fps/channel, ring %d units / %.1f s avg span, %d dropped, %d depacketize errors, %d connects\n",
		rep.AUs, mib(int64(rep.Bytes)), float64(rep.AUs)/fn/childLife.Seconds(),
		rep.RingAUs, rep.RingSpan.Seconds(), rep.Dropped, rep.DecodeErrors, rep.Connects)
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

type usage struct {
	cpu      float64 // % of one core over the window
	rss, hwm int64   // bytes
}

// measure samples the processes' CPU time across the window and their RSS at its end.
func measure(window time.Duration, ps ...*proc) []usage {
	before := make([]float64, len(ps))
	for i, p := range ps {
		before[i] = cpuSeconds(p.cmd.Process.Pid)
	}
	t0 := time.Now()
	time.Sleep(window)
	el := time.Since(t0).Seconds()
	out := make([]usage, len(ps))
	for i, p := range ps {
		pid := p.cmd.Process.Pid
		out[i].cpu = 100 * (cpuSeconds(pid) - before[i]) / el
		out[i].rss, out[i].hwm = memory(pid)
	}
	return out
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	// Fields after the command name, which is in parentheses and may contain spaces.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / clockTicks
}

func memory(pid int) (rss, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			hwm = kb << 10
		}
	}
	return rss, hwm
}

func waitTCP(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
