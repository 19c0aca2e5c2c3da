package ingest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/media"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

func TestCamsim(t *testing.T) {
	t.Parallel()
	// The simulator runs as its own process: the box never imports cloudsim code.
	sim := testenv.StartCamsim(t, "Pa55word", []string{"h265_360p.h265,h264_360p.h264", "h264_360p.h264"})
	url := func(user, pass string, path int) string {
		return fmt.Sprintf("rtsp://%s:%s@%s/Streaming/Channels/%d", user, pass, sim.RTSP, path)
	}

	t.Run("digest auth, knobs", func(t *testing.T) {
		t.Parallel()
		c := startChannel(t, Options{Channel: 1, URL: url("admin", "Pa55word", 101), ReadTimeout: time.Second,
			BackoffMin: 100 * time.Millisecond, BackoffMax: 400 * time.Millisecond})
		sub := c.Subscribe(4096)
		defer sub.Close()
		aus := collectN(t, sub, 25, 10*time.Second)
		require.Len(t, aus, 25)
		st := c.Stats()
		assert.Equal(t, media.CodecH265, st.Codec)
		assert.Equal(t, 640, st.Width)
		assert.Equal(t, 360, st.Height)

		sim.Knob(t, "/sim/streams/1/restart")
		waitFor(t, 10*time.Second, "reconnect after restart knob", func() bool { return c.Stats().Connects >= 2 })
		aus = append(aus, collectN(t, sub, 25, 10*time.Second)...)
		require.Len(t, aus, 50)

		sim.Knob(t, "/sim/streams/1/stall")
		waitFor(t, 10*time.Second, "stall detected", func() bool { return c.Stats().Disconnects[ReasonTimeout] >= 1 })
		sim.Knob(t, "/sim/streams/1/resume")
		aus = append(aus, collectN(t, sub, 25, 10*time.Second)...)
		require.Len(t, aus, 75)
		checkTimeline(t, aus)
	})

	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		c := startChannel(t, Options{Channel: 2, URL: url("admin", "nope", 201),
			BackoffMin: 100 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
		waitFor(t, 10*time.Second, "auth failure", func() bool { return c.Stats().Disconnects[ReasonConnect] >= 2 })
		st := c.Stats()
		assert.Contains(t, st.LastError, "401")
		assert.NotContains(t, st.LastError, "nope")
		assert.Zero(t, st.Connects)
	})
}
