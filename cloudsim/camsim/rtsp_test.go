package camsim

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/internal/testenv"
)

func TestLoadMedia(t *testing.T) {
	dir := testenv.RepoRoot(t) + "/testdata/media"
	for _, tc := range []struct {
		file          string
		codec         string
		width, height int
	}{
		{"h264_1080p.h264", codecH264, 1920, 1080},
		{"h265_1080p.h265", codecH265, 1920, 1080},
		{"h264_1440p.h264", codecH264, 2560, 1440},
		{"h265_1440p.h265", codecH265, 2560, 1440},
		{"h264_2160p.h264", codecH264, 3840, 2160},
		{"h265_2160p.h265", codecH265, 3840, 2160},
		{"h264_360p.h264", codecH264, 640, 360},
		{"h265_360p.h265", codecH265, 640, 360},
	} {
		t.Run(tc.file, func(t *testing.T) {
			m, err := loadMedia(dir, tc.file)
			require.NoError(t, err)
			assert.Equal(t, tc.codec, m.codec)
			assert.Equal(t, tc.width, m.width)
			assert.Equal(t, tc.height, m.height)
			require.Len(t, m.aus, 150, "6 s at 25 fps")
			var keys []int
			for i, k := range m.keyframes {
				if k {
					keys = append(keys, i)
					assert.True(t, m.hasParams(m.aus[i]), "keyframe %d carries parameter sets", i)
				}
			}
			assert.Equal(t, []int{0, 50, 100}, keys)
			for i, au := range m.aus {
				for _, n := range au {
					if tc.codec == codecH264 {
						assert.NotEqual(t, h264.NALUTypeAccessUnitDelimiter, h264.NALUType(n[0]&0x1f), "AU %d", i)
					} else {
						assert.NotEqual(t, h265.NALUType_AUD_NUT, h265.NALUType((n[0]>>1)&0x3f), "AU %d", i)
					}
				}
			}
		})
	}
	_, err := loadMedia(dir, "missing.h264")
	assert.ErrorIs(t, err, ErrMedia)
}

// reading is what a test RTSP reader observed.
type reading struct {
	mu        sync.Mutex
	codec     string
	sps       []byte
	pts       []int64     // RTP timestamps of decoded access units
	wall      []time.Time // arrival time of each access unit
	keyPTS    []int64
	decodeErr int
	badNALU   int // payloads with the forbidden_zero_bit set: garbage
	packets   int
	lost      uint64
	lastPkt   time.Time
	maxGap    time.Duration
}

func (r *reading) snapshot() (aus, packets, decodeErr, badNALU int, maxGap time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pts), r.packets, r.decodeErr, r.badNALU, r.maxGap
}

// play connects a gortsplib client over TCP and records access units.
func play(t *testing.T, url string) (*gortsplib.Client, *reading) {
	t.Helper()
	c, r, err := tryPlay(url)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c, r
}

func tryPlay(url string) (*gortsplib.Client, *reading, error) {
	tcp := gortsplib.TransportTCP
	return tryPlayWith(url, &tcp)
}

// tryPlayWith plays with a given transport (nil: gortsplib's default, UDP first).
func tryPlayWith(url string, transport *gortsplib.Transport) (*gortsplib.Client, *reading, error) {
	u, err := base.ParseURL(url)
	if err != nil {
		return nil, nil, err
	}
	r := &reading{}
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: transport, ReadTimeout: 5 * time.Second,
		OnPacketsLost: func(n uint64) { r.mu.Lock(); r.lost += n; r.mu.Unlock() }}
	if err := c.Start2(); err != nil {
		return nil, nil, err
	}
	desc, _, err := c.Describe(u)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	decode, err := decoderFor(desc, r)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	if err := c.SetupAll(desc.BaseURL, desc.Medias); err != nil {
		c.Close()
		return nil, nil, err
	}
	c.OnPacketRTPAny(func(_ *description.Media, _ format.Format, pkt *rtp.Packet) {
		now := time.Now()
		r.mu.Lock()
		defer r.mu.Unlock()
		r.packets++
		if !r.lastPkt.IsZero() && now.Sub(r.lastPkt) > r.maxGap {
			r.maxGap = now.Sub(r.lastPkt)
		}
		r.lastPkt = now
		if len(pkt.Payload) > 0 && pkt.Payload[0]&0x80 != 0 {
			r.badNALU++
		}
		au, key, err := decode(pkt)
		switch {
		case err != nil:
			r.decodeErr++
		case au:
			r.pts = append(r.pts, int64(pkt.Timestamp))
			r.wall = append(r.wall, now)
			if key {
				r.keyPTS = append(r.keyPTS, int64(pkt.Timestamp))
			}
		}
	})
	if _, err := c.Play(nil); err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, r, nil
}

// decoderFor returns a depacketizer reporting complete access units and keyframes.
func decoderFor(desc *description.Session, r *reading) (func(*rtp.Packet) (au, key bool, err error), error) {
	wrap := func(dec func(*rtp.Packet) ([][]byte, error), isKey func([][]byte) bool) func(*rtp.Packet) (bool, bool, error) {
		return func(pkt *rtp.Packet) (bool, bool, error) {
			nalus, err := dec(pkt)
			if err != nil {
				if errors.Is(err, errMorePackets(err)) {
					return false, false, nil
				}
				return false, false, err
			}
			return true, isKey(nalus), nil
		}
	}
	for _, m := range desc.Medias {
		for _, f := range m.Formats {
			switch f := f.(type) {
			case *format.H264:
				d, err := f.CreateDecoder()
				if err != nil {
					return nil, err
				}
				r.codec, r.sps = "H264", f.SPS
				return wrap(d.Decode, h264.IsRandomAccess), nil
			case *format.H265:
				d, err := f.CreateDecoder()
				if err != nil {
					return nil, err
				}
				r.codec, r.sps = "H265", f.SPS
				return wrap(d.Decode, h265.IsRandomAccess), nil
			}
		}
	}
	return nil, fmt.Errorf("no video format in %v", desc.Medias)
}

// errMorePackets recognizes the depacketizers' "need more packets" (not an error).
func errMorePackets(err error) error {
	if strings.Contains(err.Error(), "need more packets") {
		return err
	}
	return nil
}

func statusCode(err error) base.StatusCode {
	var bad liberrors.ErrClientBadStatusCode
	if errors.As(err, &bad) {
		return bad.Code
	}
	return 0
}

// TestRTSPStreams reads the main and sub stream of an H.264 and an H.265 channel for
// longer than one loop of the file and checks SPS, keyframe spacing, pacing and
// timestamps.
func TestRTSPStreams(t *testing.T) {
	t.Parallel()
	sim := startSim(t, Config{Channels: []ChannelConfig{
		{Main: "h264_1080p.h264", Sub: "h264_360p.h264"},
		{Main: "h265_1080p.h265", Sub: "h265_360p.h265"},
	}})
	const readFor = 7 * time.Second // > one 6 s loop of the file
	type stream struct {
		ch, stream int
		codec      string
		r          *reading
	}
	streams := []*stream{{1, 1, "H264", nil}, {1, 2, "H264", nil}, {2, 1, "H265", nil}, {2, 2, "H265", nil}}
	// Read all four at once rather than in parallel subtests: go test runs only
	// GOMAXPROCS (2 here) parallel tests at a time, and these mostly wait.
	for _, st := range streams {
		c, r := play(t, sim.StreamURL(st.ch, st.stream))
		st.r = r
		defer c.Close()
	}
	time.Sleep(readFor)
	for _, st := range streams {
		t.Run(fmt.Sprintf("%s_%d%02d", st.codec, st.ch, st.stream), func(t *testing.T) {
			r := st.r
			r.mu.Lock()
			defer r.mu.Unlock()
			assert.Equal(t, st.codec, r.codec)
			assert.NotEmpty(t, r.sps, "SPS in the SDP")
			assert.Zero(t, r.decodeErr)
			assert.Zero(t, r.lost)
			// Pacing: about 25 access units per second, never faster than real time.
			require.Greater(t, len(r.pts), 100)
			elapsed := r.wall[len(r.wall)-1].Sub(r.wall[0]).Seconds()
			rate := float64(len(r.pts)-1) / elapsed
			assert.InDelta(t, 25, rate, 2.5, "access units per second")
			// Timestamps: +3600 (40 ms at 90 kHz) per access unit, across the loop too.
			for i := 1; i < len(r.pts); i++ {
				require.Equal(t, int64(3600), uint32Diff(r.pts[i], r.pts[i-1]), "AU %d", i)
			}
			rtpSecs := float64(uint32Diff(r.pts[len(r.pts)-1], r.pts[0])) / 90000
			assert.InDelta(t, elapsed, rtpSecs, 0.3, "RTP time follows the wall clock")
			// Keyframes every 2 s.
			require.GreaterOrEqual(t, len(r.keyPTS), 3)
			for i := 1; i < len(r.keyPTS); i++ {
				assert.Equal(t, int64(180000), uint32Diff(r.keyPTS[i], r.keyPTS[i-1]))
			}
		})
	}
}

func uint32Diff(a, b int64) int64 { return int64(uint32(a) - uint32(b)) }

func TestRTSPAuthAndPaths(t *testing.T) {
	t.Parallel()
	sim := startSim(t, Config{User: "viewer", Password: "s3cret", Channels: []ChannelConfig{{Main: "h264_360p.h264"}}})
	good := sim.StreamURL(1, 1)
	for _, tc := range []struct {
		name string
		url  string
		code base.StatusCode
	}{
		{"wrong password", strings.Replace(good, "s3cret", "nope", 1), base.StatusUnauthorized},
		{"no credentials", strings.Replace(good, "viewer:s3cret@", "", 1), base.StatusUnauthorized},
		{"unknown channel", strings.Replace(good, "/101", "/301", 1), base.StatusNotFound},
		{"third stream", strings.Replace(good, "/101", "/103", 1), base.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := tryPlay(tc.url)
			require.Error(t, err)
			assert.Equal(t, tc.code, statusCode(err), "%v", err)
		})
	}
	t.Run("default transport falls back to TCP", func(t *testing.T) {
		c, r, err := tryPlayWith(good, nil)
		require.NoError(t, err)
		defer c.Close()
		require.Eventually(t, func() bool { aus, _, _, _, _ := r.snapshot(); return aus > 3 }, 5*time.Second, 20*time.Millisecond)
	})
	t.Run("lower-case path", func(t *testing.T) {
		c, _, err := tryPlay(strings.Replace(good, "Streaming/Channels", "streaming/channels", 1))
		require.NoError(t, err)
		c.Close()
	})
}

// TestRTSPKnobs checks each failure knob as a client sees it.
func TestRTSPKnobs(t *testing.T) {
	t.Parallel()
	// One channel per knob: knobs act on a whole channel and the cases run in parallel.
	sim := startSim(t, Config{Channels: []ChannelConfig{
		{Main: "h264_360p.h264", Sub: "h264_360p.h264"},
		{Main: "h265_360p.h265", Sub: "h265_360p.h265"},
		{Main: "h265_360p.h265", Sub: "h265_360p.h265"},
		{Main: "h264_360p.h264", Sub: "h264_360p.h264"},
	}})
	waitAUs := func(t *testing.T, r *reading, n int) {
		t.Helper()
		require.Eventually(t, func() bool { aus, _, _, _, _ := r.snapshot(); return aus >= n }, 5*time.Second, 20*time.Millisecond)
	}
	waitEnd := func(t *testing.T, c *gortsplib.Client) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case err := <-done:
			return err
		case <-time.After(3 * time.Second):
			t.Fatal("reader still connected")
			return nil
		}
	}

	t.Run("stop and start", func(t *testing.T) {
		t.Parallel()
		c, r := play(t, sim.StreamURL(1, 1))
		waitAUs(t, r, 5)
		require.NoError(t, sim.StopStream(1))
		require.Error(t, waitEnd(t, c))
		_, _, err := tryPlay(sim.StreamURL(1, 2))
		assert.Equal(t, base.StatusNotFound, statusCode(err), "DESCRIBE of a stopped path: %v", err)
		require.NoError(t, sim.StartStream(1))
		_, r2 := play(t, sim.StreamURL(1, 1))
		waitAUs(t, r2, 5)
	})
	t.Run("restart", func(t *testing.T) {
		t.Parallel()
		c, r := play(t, sim.StreamURL(2, 1))
		waitAUs(t, r, 5)
		require.NoError(t, sim.RestartStream(2))
		require.Error(t, waitEnd(t, c))
		_, r2 := play(t, sim.StreamURL(2, 1))
		waitAUs(t, r2, 5)
	})
	t.Run("stall", func(t *testing.T) {
		t.Parallel()
		c, r := play(t, sim.StreamURL(3, 2))
		waitAUs(t, r, 5)
		require.NoError(t, sim.Stall(3, 1200*time.Millisecond))
		time.Sleep(600 * time.Millisecond)
		_, packets, _, _, _ := r.snapshot()
		time.Sleep(300 * time.Millisecond)
		_, packets2, _, _, _ := r.snapshot()
		assert.Equal(t, packets, packets2, "no packets while stalled")
		before, _, _, _, _ := r.snapshot()
		waitAUs(t, r, before+10) // flows again after the stall, same connection
		_, _, _, _, gap := r.snapshot()
		assert.Greater(t, gap, time.Second)
		// Until Resume.
		require.NoError(t, sim.Stall(3, 0))
		time.Sleep(300 * time.Millisecond)
		_, p1, _, _, _ := r.snapshot()
		time.Sleep(300 * time.Millisecond)
		_, p2, _, _, _ := r.snapshot()
		assert.Equal(t, p1, p2)
		require.NoError(t, sim.Resume(3))
		aus, _, _, _, _ := r.snapshot()
		waitAUs(t, r, aus+5)
		c.Close()
	})
	t.Run("garbage", func(t *testing.T) {
		t.Parallel()
		_, r := play(t, sim.StreamURL(4, 2))
		waitAUs(t, r, 5)
		_, _, _, bad0, _ := r.snapshot()
		require.Zero(t, bad0, "a clean stream never sets forbidden_zero_bit")
		require.NoError(t, sim.SendGarbage(4, 40))
		aus, _, _, _, _ := r.snapshot()
		waitAUs(t, r, aus+60) // past the garbage and the next keyframe
		_, _, decErr, bad, _ := r.snapshot()
		assert.Greater(t, bad+decErr, 0, "garbage visible to the client")
		assert.LessOrEqual(t, bad, 40)
	})
	t.Run("unknown channel", func(t *testing.T) {
		assert.ErrorIs(t, sim.StopStream(5), ErrNoChannel)
		assert.ErrorIs(t, sim.Stall(0, time.Second), ErrNoChannel)
	})
}

// TestFFprobe checks the streams with the real ffprobe, as an installer would.
func TestFFprobe(t *testing.T) {
	t.Parallel()
	ffprobe := testenv.Tool(t, "ffprobe")
	sim := startSim(t, Config{Channels: []ChannelConfig{
		{Main: "h264_1080p.h264", Sub: "h264_360p.h264"},
		{Main: "h265_1440p.h265", Sub: "h265_360p.h265"},
	}})
	cases := []struct {
		ch, stream int
		want       string
	}{
		{1, 1, "h264,1920,1080"}, {1, 2, "h264,640,360"}, {2, 1, "hevc,2560,1440"}, {2, 2, "hevc,640,360"},
	}
	type result struct {
		out, stderr string
		err         error
	}
	results := make([]result, len(cases))
	var wg sync.WaitGroup
	for i, tc := range cases { // concurrently: each ffprobe mostly waits for frames
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(ffprobe, "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v:0",
				"-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", sim.StreamURL(tc.ch, tc.stream))
			var stderr strings.Builder
			cmd.Stderr = &stderr // decode errors until the first keyframe are normal when joining mid-GOP
			out, err := cmd.Output()
			results[i] = result{string(out), stderr.String(), err}
		}()
	}
	wg.Wait()
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%d%02d", tc.ch, tc.stream), func(t *testing.T) {
			require.NoError(t, results[i].err, "%s", results[i].stderr)
			assert.Equal(t, tc.want, strings.TrimSpace(results[i].out))
		})
	}
}
