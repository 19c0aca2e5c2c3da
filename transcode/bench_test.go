package transcode

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/proconnect-oss/boxfw/box/media"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchTranscode runs channels concurrent transcodes of the testdata clip per
// iteration and reports the real-time factor (media seconds per wall second of
// each channel) and the CPU cost per media second.
func benchTranscode(b *testing.B, clip string, channels int, opts Options) {
	info, aus := parsed(b, clip)
	dir := b.TempDir()
	var media time.Duration
	cpu0, wall0 := cpuTime(), time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		errs := make([]error, channels)
		durs := make([]time.Duration, channels)
		for c := 0; c < channels; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := Transcode(context.Background(), NewSliceSource(info, aus), filepath.Join(dir, fmt.Sprintf("%d.mp4", c)), opts)
				errs[c], durs[c] = err, r.Duration
			}()
		}
		wg.Wait()
		for c, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
			if c == 0 {
				media += durs[c]
			}
		}
	}
	b.StopTimer()
	wall, cpu := time.Since(wall0), cpuTime()-cpu0
	b.ReportMetric(media.Seconds()/wall.Seconds(), "rtf")
	b.ReportMetric(cpu.Seconds()/(media.Seconds()*float64(channels)), "cpu-s/media-s")
}

func BenchmarkTranscode(b *testing.B) {
	for _, tc := range []struct {
		clip     string
		channels int
		opts     Options
	}{
		{"h264_1080p.h264", 1, Options{Resolution: R1080p, FPS: 6}},
		{"h264_1080p.h264", 1, Options{Resolution: R576p, FPS: 10}},
		{"h265_1080p.h265", 1, Options{Resolution: R1080p, FPS: 6}},
		// The worst case: every channel in an event at once, cores split evenly.
		{"h264_1080p.h264", 8, Options{Resolution: R1080p, FPS: 6, Threads: 1}},
	} {
		name := fmt.Sprintf("%s/%v@%d/channels=%d/threads=%d", tc.clip, tc.opts.Resolution, tc.opts.FPS, tc.channels, tc.opts.Threads)
		b.Run(name, func(b *testing.B) { benchTranscode(b, tc.clip, tc.channels, tc.opts) })
	}
}

func BenchmarkParseAnnexB(b *testing.B) {
	data := readMedia(b, "h264_1080p.h264")
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, _, err := ParseAnnexB(media.CodecH264, data, 40*time.Millisecond); err != nil {
			b.Fatal(err)
		}
	}
}
