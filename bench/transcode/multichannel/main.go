// Command multichannel measures the box's worst case: every channel in an event at
// once, each transcoding its stream from memory (as clips come from the pre-roll
// ring) with the in-process transcoder. It prints the real-time factor, media
// seconds per wall second per channel: >= 1 keeps up with live.
//
//	go run ./bench/transcode/multichannel -channels 8 -seconds 30 -fps 6
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/proconnect-oss/boxfw/box/media"
	"github.com/proconnect-oss/boxfw/transcode"
)

func main() {
	var (
		input    = flag.String("in", "testdata/media/h264_1080p.h264", "Annex-B clip (25 fps) looped to -seconds")
		channels = flag.Int("channels", 8, "concurrent transcodes")
		seconds  = flag.Int("seconds", 30, "media seconds per channel")
		fps      = flag.Int("fps", 6, "output frame rate")
		res      = flag.String("resolution", "1080p", "output resolution")
		preset   = flag.String("preset", transcode.DefaultPreset, "libx264 preset")
		threads  = flag.String("threads", "budget", "threads per codec: a number, 'auto' (0: one per core in every transcode) or 'budget' (cores split between channels), comma-separated to compare")
		target   = flag.Float64("target", 1.3, "real-time factor to meet")
	)
	flag.Parse()
	astiav.SetLogLevel(astiav.LogLevelError)
	if err := run(*input, *channels, *seconds, *fps, *res, *preset, *threads, *target); err != nil {
		fmt.Fprintln(os.Stderr, "multichannel:", err)
		os.Exit(1)
	}
}

func run(input string, channels, seconds, fps int, resS, preset, threadList string, target float64) error {
	r, err := transcode.ParseResolution(resS)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(input)
	if err != nil {
		return err
	}
	codec := media.CodecH264
	if strings.HasSuffix(input, ".h265") || strings.HasSuffix(input, ".hevc") {
		codec = media.CodecH265
	}
	const frameDur = 40 * time.Millisecond
	info, clip, err := transcode.ParseAnnexB(codec, data, frameDur)
	if err != nil {
		return err
	}
	// Loop the clip (it starts with an IDR, so every loop is decodable) with
	// continuous timestamps.
	n := seconds * int(time.Second/frameDur)
	aus := make([]*media.AccessUnit, n)
	for i := range aus {
		au := *clip[i%len(clip)]
		au.PTS = time.Duration(i) * frameDur
		aus[i] = &au
	}
	dir, err := os.MkdirTemp("", "multichannel")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Printf("multichannel: %d x %s %dx%d 25 fps -> %s %d fps, preset %s, %d s each, %d CPUs\n",
		channels, codec, info.Width, info.Height, r, fps, preset, seconds, runtime.NumCPU())
	for _, tspec := range strings.Split(threadList, ",") {
		threads, label, err := threadsFor(tspec, channels)
		if err != nil {
			return err
		}
		rtf, cpu, err := once(dir, info, aus, channels, transcode.Options{Resolution: r, FPS: fps, Preset: preset, Threads: threads})
		if err != nil {
			return err
		}
		verdict := "OK"
		if rtf < target {
			verdict = "BELOW TARGET"
		}
		// The wall-clock figure depends on what else runs on the machine; the CPU
		// figure says what the box could do with all cores to itself.
		capacity := float64(seconds) / (cpu / float64(runtime.NumCPU()))
		capVerdict := "OK"
		if capacity < target {
			capVerdict = "BELOW TARGET"
		}
		fmt.Printf("multichannel: threads=%-10s rtf=%.2f %s | cpu=%.1fs (%.3f cpu-s per media-s per channel) -> rtf on idle %d CPUs=%.2f %s (target >= %.2f)\n",
			label, rtf, verdict, cpu, cpu/float64(seconds*channels), runtime.NumCPU(), capacity, capVerdict, target)
	}
	return nil
}

func threadsFor(spec string, channels int) (int, string, error) {
	switch spec {
	case "auto":
		return 0, "auto", nil
	case "budget":
		t := runtime.NumCPU() / channels
		if t < 1 {
			t = 1
		}
		return t, fmt.Sprintf("budget(%d)", t), nil
	}
	var t int
	if _, err := fmt.Sscan(spec, &t); err != nil || t < 0 {
		return 0, "", fmt.Errorf("bad -threads %q", spec)
	}
	return t, spec, nil
}

// once runs all channels concurrently and returns the real-time factor of the
// slowest one and the CPU seconds used.
func once(dir string, info media.StreamInfo, aus []*media.AccessUnit, channels int, opts transcode.Options) (float64, float64, error) {
	var wg sync.WaitGroup
	errs := make([]error, channels)
	media := make([]time.Duration, channels)
	cpu0 := cpuSeconds()
	began := time.Now()
	for c := 0; c < channels; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := filepath.Join(dir, fmt.Sprintf("ch%d.mp4", c))
			res, err := transcode.Transcode(context.Background(), transcode.NewSliceSource(info, aus), out, opts)
			errs[c], media[c] = err, res.Duration
		}()
	}
	wg.Wait()
	wall := time.Since(began)
	for _, err := range errs {
		if err != nil {
			return 0, 0, err
		}
	}
	min := media[0]
	for _, d := range media {
		if d < min {
			min = d
		}
	}
	return min.Seconds() / wall.Seconds(), cpuSeconds() - cpu0, nil
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
