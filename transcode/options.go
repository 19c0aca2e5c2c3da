package transcode

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Resolution is an output size class: the box the picture is fitted into.
type Resolution int

// The output sizes the cloud accepts. The zero value is invalid so a forgotten
// field is caught by Validate.
const (
	R1080p Resolution = iota + 1 // fits in 1920x1080
	R576p                        // fits in 704x576 (D1 PAL)
)

// ParseResolution accepts "1080p" and "576p" (case-insensitive).
func ParseResolution(s string) (Resolution, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1080p":
		return R1080p, nil
	case "576p":
		return R576p, nil
	}
	return 0, fmt.Errorf("%w: resolution %q (want 1080p or 576p)", ErrInvalidOptions, s)
}

// Box returns the width and height the output must fit in.
func (r Resolution) Box() (width, height int) {
	switch r {
	case R1080p:
		return 1920, 1080
	case R576p:
		return 704, 576
	}
	return 0, 0
}

func (r Resolution) String() string {
	switch r {
	case R1080p:
		return "1080p"
	case R576p:
		return "576p"
	}
	return fmt.Sprintf("Resolution(%d)", int(r))
}

// Defaults applied by Transcode to zero-valued Options fields.
const (
	DefaultPreset = "veryfast"
	DefaultCRF    = 23
	// MaxFPS is the highest output frame rate; cameras send at most 30.
	MaxFPS = 30
)

// x264Presets are the presets libx264 knows; checked up front so a typo is a flag
// error and not an FFmpeg error after the decoder has started.
var x264Presets = []string{"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"}

// Options configure one transcode. Zero values mean the documented default, except
// Resolution and FPS, which are required.
type Options struct {
	// Resolution is the box the output fits in (required).
	Resolution Resolution
	// FPS is the constant output frame rate, 1..30 (required).
	FPS int
	// Preset is the libx264 preset; "" means "veryfast".
	Preset string
	// CRF is the libx264 constant rate factor, 0..51; 0 means 23.
	CRF int
	// MaxBitrate caps the video bitrate in bit/s through the VBV (buffer = 2 s of
	// it); 0 means no cap (pure CRF).
	MaxBitrate int
	// Threads is the worker thread count for the decoder and for the encoder each.
	// 0 lets FFmpeg and x264 pick one per core, which is fastest for a single
	// transcode; when several run at once, admission control should split the cores
	// between them (1 each when transcodes >= cores), because every extra thread
	// adds synchronisation cost and memory without adding CPU.
	Threads int
	// Start is the source PTS of the first output frame: the first decoded frame at
	// or after Start becomes output frame 0. Earlier frames are decoded (they are
	// references) but not output.
	Start time.Duration
	// Duration caps the output media duration (floor(Duration*FPS) frames); 0 means
	// until the source ends.
	Duration time.Duration
	// Logger receives progress and problems; nil discards.
	Logger *slog.Logger
}

// Validate reports every problem at once, each wrapped in ErrInvalidOptions.
func (o Options) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, a...)...))
	}
	if w, _ := o.Resolution.Box(); w == 0 {
		bad("resolution %v (want 1080p or 576p)", o.Resolution)
	}
	if o.FPS < 1 || o.FPS > MaxFPS {
		bad("fps %d (want 1..%d)", o.FPS, MaxFPS)
	}
	if o.Preset != "" && !validPreset(o.Preset) {
		bad("preset %q (want one of %s)", o.Preset, strings.Join(x264Presets, ", "))
	}
	if o.CRF < 0 || o.CRF > 51 {
		bad("crf %d (want 0..51, 0 = %d)", o.CRF, DefaultCRF)
	}
	if o.MaxBitrate < 0 {
		bad("max bitrate %d (want >= 0)", o.MaxBitrate)
	}
	if o.Threads < 0 {
		bad("threads %d (want >= 0, 0 = auto)", o.Threads)
	}
	if o.Start < 0 {
		bad("start %v (want >= 0)", o.Start)
	}
	if o.Duration < 0 {
		bad("duration %v (want >= 0)", o.Duration)
	} else if o.Duration > 0 && o.FPS >= 1 && o.maxFrames() == 0 {
		bad("duration %v is shorter than one frame at %d fps", o.Duration, o.FPS)
	}
	return errors.Join(errs...)
}

func validPreset(p string) bool {
	for _, q := range x264Presets {
		if p == q {
			return true
		}
	}
	return false
}

// maxFrames is the output frame cap from Duration, 0 for none.
func (o Options) maxFrames() int {
	if o.Duration <= 0 {
		return 0
	}
	return int(int64(o.Duration) * int64(o.FPS) / int64(time.Second))
}

func (o Options) withDefaults() Options {
	if o.Preset == "" {
		o.Preset = DefaultPreset
	}
	if o.CRF == 0 {
		o.CRF = DefaultCRF
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
