package transcode

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOutputSize(t *testing.T) {
	for _, tc := range []struct {
		w, h, sarN, sarD int
		r                Resolution
		wantW, wantH     int
	}{
		// Downscale keeping 16:9.
		{2560, 1440, 1, 1, R1080p, 1920, 1080},
		{3840, 2160, 1, 1, R1080p, 1920, 1080},
		{1920, 1080, 1, 1, R576p, 704, 396},
		{2560, 1440, 0, 1, R576p, 704, 396}, // unknown SAR = square
		// Same size: untouched.
		{1920, 1080, 1, 1, R1080p, 1920, 1080},
		{704, 576, 1, 1, R576p, 704, 576},
		// Never upscale; odd sizes rounded down to even.
		{640, 360, 1, 1, R1080p, 640, 360},
		{640, 360, 1, 1, R576p, 640, 360},
		{641, 361, 1, 1, R1080p, 640, 360},
		{352, 288, 1, 1, R576p, 352, 288},
		// Height-limited (portrait or 4:3).
		{1080, 1920, 1, 1, R1080p, 608, 1080},
		{1440, 1080, 1, 1, R576p, 704, 528},
		{1280, 960, 1, 1, R576p, 704, 528},
		{2048, 1536, 1, 1, R1080p, 1440, 1080},
		// Odd results of scaling are rounded to even.
		{1366, 768, 1, 1, R576p, 704, 396},
		{2592, 1944, 1, 1, R576p, 704, 528},
		{2688, 1520, 1, 1, R1080p, 1910, 1080},
		// Non-square pixels: display aspect kept, output square.
		{704, 576, 12, 11, R576p, 704, 528}, // PAL 4:3
		{704, 576, 12, 11, R1080p, 768, 576},
		{1440, 1080, 4, 3, R1080p, 1920, 1080}, // HDV anamorphic 16:9
		// Tiny.
		{2, 2, 1, 1, R576p, 2, 2},
		{3, 1, 1, 1, R576p, 2, 2},
	} {
		t.Run(fmt.Sprintf("%dx%d_sar%d:%d_%v", tc.w, tc.h, tc.sarN, tc.sarD, tc.r), func(t *testing.T) {
			w, h := outputSize(tc.w, tc.h, tc.sarN, tc.sarD, tc.r)
			assert.Equal(t, [2]int{tc.wantW, tc.wantH}, [2]int{w, h})
			boxW, boxH := tc.r.Box()
			assert.LessOrEqual(t, w, boxW)
			assert.LessOrEqual(t, h, boxH)
			assert.Zero(t, w%2)
			assert.Zero(t, h%2)
		})
	}
}
