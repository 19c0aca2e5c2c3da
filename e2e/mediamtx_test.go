package e2e

import (
	"math"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/internal/testenv"
)

// A third-party RTSP server (mediamtx, fed by the ffmpeg CLI) -> boxd clip: ingest,
// transcode and fragmented MP4 judged by ffprobe, for both codecs.
func TestClipFromMediaMTX(t *testing.T) {
	t.Parallel()
	mtx := testenv.StartMediaMTX(t)
	cases := []struct {
		file, res string
		w, h      int
	}{
		{"h264_1080p.h264", "576p", 704, 396},
		{"h265_1080p.h265", "1080p", 1920, 1080},
	}
	for _, tc := range cases {
		url := "rtsp://" + mtx.Addr + "/" + tc.file
		testenv.Publish(t, testenv.Media(t, tc.file), url)
	}
	time.Sleep(2 * time.Second) // publishers connect
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "clip.mp4")
			cmd := exec.Command(binary(t, "boxd"), "clip", "--url", "rtsp://"+mtx.Addr+"/"+tc.file, "--seconds", "4",
				"--resolution", tc.res, "--fps", "6", "--out", out)
			msg, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", msg)
			p := testenv.Probe(t, out)
			assert.Equal(t, "h264", p.Codec)
			assert.Equal(t, []int{tc.w, tc.h}, []int{p.Width, p.Height})
			assert.InDelta(t, 6, p.FrameRate, 0.01)
			assert.LessOrEqual(t, math.Abs(p.Duration-4), 1.0/6+1e-6)
			assert.Equal(t, 24, p.Frames, "decodable to the end")
		})
	}
}
