package transcode

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseResolution(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Resolution
		err  bool
	}{
		{"1080p", R1080p, false},
		{"576P", R576p, false},
		{" 576p ", R576p, false},
		{"720p", 0, true},
		{"", 0, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := ParseResolution(tc.in)
			if tc.err {
				require.ErrorIs(t, err, ErrInvalidOptions)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, r)
			assert.Equal(t, tc.in != "" && r.String() != "", true)
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	ok := Options{Resolution: R1080p, FPS: 6}
	for _, tc := range []struct {
		name    string
		mod     func(*Options)
		wantErr []string // substrings, all must appear
	}{
		{"minimal", func(o *Options) {}, nil},
		{"all set", func(o *Options) {
			o.Resolution, o.FPS, o.Preset, o.CRF, o.MaxBitrate, o.Threads = R576p, 30, "ultrafast", 28, 2_000_000, 1
			o.Start, o.Duration = time.Second, 10*time.Second
		}, nil},
		{"no resolution", func(o *Options) { o.Resolution = 0 }, []string{"resolution"}},
		{"fps zero", func(o *Options) { o.FPS = 0 }, []string{"fps 0"}},
		{"fps 31", func(o *Options) { o.FPS = 31 }, []string{"fps 31"}},
		{"fps negative", func(o *Options) { o.FPS = -1 }, []string{"fps -1"}},
		{"bad preset", func(o *Options) { o.Preset = "turbo" }, []string{`preset "turbo"`}},
		{"crf", func(o *Options) { o.CRF = 52 }, []string{"crf 52"}},
		{"bitrate", func(o *Options) { o.MaxBitrate = -1 }, []string{"max bitrate"}},
		{"threads", func(o *Options) { o.Threads = -2 }, []string{"threads -2"}},
		{"start", func(o *Options) { o.Start = -time.Second }, []string{"start"}},
		{"duration negative", func(o *Options) { o.Duration = -time.Second }, []string{"duration"}},
		{"duration below a frame", func(o *Options) { o.Duration = 100 * time.Millisecond }, []string{"shorter than one frame"}},
		{"every problem at once", func(o *Options) { o.Resolution, o.FPS, o.Preset = 9, 99, "x" },
			[]string{"resolution", "fps 99", `preset "x"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.mod(&o)
			err := o.Validate()
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidOptions)
			for _, s := range tc.wantErr {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestOptionsMaxFrames(t *testing.T) {
	for _, tc := range []struct {
		fps  int
		dur  time.Duration
		want int
	}{
		{10, 0, 0},
		{10, 3 * time.Second, 30},
		{10, 1050 * time.Millisecond, 10}, // never longer than Duration
		{6, 10 * time.Second, 60},
		{7, time.Second, 7},
		{30, 10 * time.Minute, 18000},
	} {
		assert.Equal(t, tc.want, Options{FPS: tc.fps, Duration: tc.dur}.maxFrames(), "%d fps %v", tc.fps, tc.dur)
	}
}
