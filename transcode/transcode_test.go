package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/media"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

// The testdata clips are 150 frames at 25 fps.
const clipSeconds = 6

// checkOutput verifies a clip with ffprobe: H.264 fMP4 at the expected size and
// frame rate, the expected duration within one frame, decodable to the end, and a
// keyframe every 2 s.
func checkOutput(t *testing.T, file string, r Result, fps, w, h int, wantDur time.Duration) {
	t.Helper()
	info := testenv.Probe(t, file)
	assert.Equal(t, "h264", info.Codec)
	assert.Contains(t, info.Format, "mp4")
	assert.Equal(t, [2]int{w, h}, [2]int{info.Width, info.Height})
	assert.Equal(t, [2]int{w, h}, [2]int{r.Width, r.Height})
	assert.InDelta(t, float64(fps), info.FrameRate, 1e-9, "r_frame_rate")
	assert.InDelta(t, wantDur.Seconds(), info.Duration, 1/float64(fps)+1e-6, "duration")
	assert.InDelta(t, wantDur.Seconds(), r.Duration.Seconds(), 1/float64(fps)+1e-6, "result duration")
	assert.Equal(t, r.Frames, info.Frames, "frames decodable to the end")

	keys := keyframeTimes(t, file)
	require.NotEmpty(t, keys)
	for i := 1; i < len(keys); i++ {
		assert.InDelta(t, 2.0, keys[i]-keys[i-1], 1e-6, "keyframe interval")
	}
}

func keyframeTimes(t *testing.T, file string) []float64 {
	t.Helper()
	out, err := exec.Command(testenv.Tool(t, "ffprobe"), "-v", "error", "-select_streams", "v:0",
		"-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", file).Output()
	require.NoError(t, err)
	var keys []float64
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		ts, flags, _ := strings.Cut(line, ",")
		if strings.Contains(flags, "K") {
			v, err := strconv.ParseFloat(ts, 64)
			require.NoError(t, err)
			keys = append(keys, v)
		}
	}
	return keys
}

func TestTranscodeFile(t *testing.T) {
	for _, tc := range []struct {
		in           string
		res          Resolution
		fps          int
		wantW, wantH int
	}{
		{"h264_1080p.h264", R1080p, 6, 1920, 1080},
		{"h264_1440p.h264", R576p, 10, 704, 396},
		{"h265_1080p.h265", R1080p, 6, 1920, 1080},
		{"h265_1080p.h265", R576p, 25, 704, 396},
		{"h264_360p.h264", R1080p, 30, 640, 360}, // never upscaled; 25 -> 30 repeats frames
	} {
		t.Run(fmt.Sprintf("%s_%v_%dfps", tc.in, tc.res, tc.fps), func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "out.mp4")
			r, err := TranscodeFile(context.Background(), testenv.Media(t, tc.in), out, Options{Resolution: tc.res, FPS: tc.fps})
			require.NoError(t, err)
			assert.Equal(t, clipSeconds*tc.fps, r.Frames)
			assert.Equal(t, 150, r.InputFrames)
			assert.Zero(t, r.DecodeErrors)
			assert.Equal(t, r.InputFrames, r.Frames+r.DroppedFrames-r.DuplicatedFrames)
			checkOutput(t, out, r, tc.fps, tc.wantW, tc.wantH, clipSeconds*time.Second)
		})
	}
}

// mp4Copy remuxes a testdata stream into an MP4 (length-prefixed NAL units, avcC
// or hvcC extradata), as a camera recording would be.
func mp4Copy(t *testing.T, name, ext string) string {
	t.Helper()
	in := testenv.Media(t, name)
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(name, filepath.Ext(name))+ext)
	format := "h264"
	if strings.HasSuffix(name, ".h265") {
		format = "hevc"
	}
	b, err := exec.Command(testenv.Tool(t, "ffmpeg"), "-v", "error", "-f", format, "-framerate", "25", "-i", in,
		"-c", "copy", "-y", out).CombinedOutput()
	require.NoError(t, err, string(b))
	return out
}

func TestTranscodeContainers(t *testing.T) {
	for _, tc := range []struct{ name, ext string }{
		{"h264_360p.h264", ".mp4"},
		{"h265_360p.h265", ".mp4"},
		{"h265_360p.h265", ".mkv"},
	} {
		t.Run(tc.name+tc.ext, func(t *testing.T) {
			t.Parallel()
			in := mp4Copy(t, tc.name, tc.ext)
			src, err := OpenFile(in)
			require.NoError(t, err)
			defer src.Close()
			info, err := src.Info(context.Background())
			require.NoError(t, err)
			assert.Equal(t, [2]int{640, 360}, [2]int{info.Width, info.Height})
			assert.NotEmpty(t, info.SPS)
			assert.NotEmpty(t, info.PPS)
			if info.Codec == media.CodecH265 {
				assert.NotEmpty(t, info.VPS)
			}
			out := filepath.Join(t.TempDir(), "out.mp4")
			r, err := Transcode(context.Background(), src, out, Options{Resolution: R576p, FPS: 10})
			require.NoError(t, err)
			assert.Zero(t, r.DecodeErrors)
			checkOutput(t, out, r, 10, 640, 360, clipSeconds*time.Second)
		})
	}
}

func TestOpenFileAccessUnits(t *testing.T) {
	src, err := OpenFile(testenv.Media(t, "h264_360p.h264"))
	require.NoError(t, err)
	defer src.Close()
	var aus []*media.AccessUnit
	for {
		au, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		aus = append(aus, au)
	}
	require.Len(t, aus, 150)
	assert.True(t, aus[0].Key)
	for i, au := range aus {
		assert.Equal(t, time.Duration(i)*40*time.Millisecond, au.PTS, "AU %d", i)
		for _, n := range au.NALUs {
			require.NotEmpty(t, n)
			assert.False(t, len(n) >= 3 && n[0] == 0 && n[1] == 0 && n[2] <= 1, "start code left in AU %d", i)
		}
	}
	require.NoError(t, src.Close())
	require.NoError(t, src.Close(), "Close twice")

	_, err = OpenFile(filepath.Join(t.TempDir(), "missing.mp4"))
	require.Error(t, err)
	notVideo := filepath.Join(t.TempDir(), "text.h264")
	require.NoError(t, os.WriteFile(notVideo, []byte("hello, not a video"), 0o644))
	_, err = OpenFile(notVideo)
	require.Error(t, err)
}

func TestTranscodeStartDuration(t *testing.T) {
	out := filepath.Join(t.TempDir(), "trim.mp4")
	r, err := TranscodeFile(context.Background(), testenv.Media(t, "h264_360p.h264"), out,
		Options{Resolution: R576p, FPS: 10, Start: 2010 * time.Millisecond, Duration: 3 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 30, r.Frames)
	assert.Equal(t, 2040*time.Millisecond, r.Start, "first frame at or after Start")
	checkOutput(t, out, r, 10, 640, 360, 3*time.Second)

	t.Run("duration beyond the end", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "tail.mp4")
		r, err := TranscodeFile(context.Background(), testenv.Media(t, "h265_360p.h265"), out,
			Options{Resolution: R576p, FPS: 6, Start: 4 * time.Second, Duration: time.Minute})
		require.NoError(t, err)
		checkOutput(t, out, r, 6, 640, 360, 2*time.Second)
	})
	t.Run("start after the end", func(t *testing.T) {
		_, err := TranscodeFile(context.Background(), testenv.Media(t, "h264_360p.h264"),
			filepath.Join(t.TempDir(), "none.mp4"), Options{Resolution: R576p, FPS: 6, Start: time.Minute})
		require.ErrorIs(t, err, ErrNoFrames)
	})
	t.Run("invalid options", func(t *testing.T) {
		_, err := TranscodeFile(context.Background(), testenv.Media(t, "h264_360p.h264"),
			filepath.Join(t.TempDir(), "none.mp4"), Options{Resolution: R576p, FPS: 60})
		require.ErrorIs(t, err, ErrInvalidOptions)
	})
}

func readMedia(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(testenv.Media(t, name))
	require.NoError(t, err)
	return data
}

// parsed returns a testdata clip as ingest would deliver it.
func parsed(t testing.TB, name string) (media.StreamInfo, []*media.AccessUnit) {
	t.Helper()
	data := readMedia(t, name)
	codec := media.CodecH264
	if strings.HasSuffix(name, ".h265") {
		codec = media.CodecH265
	}
	info, aus, err := ParseAnnexB(codec, data, 40*time.Millisecond)
	require.NoError(t, err)
	return info, aus
}

func TestTranscodeMemorySource(t *testing.T) {
	for _, name := range []string{"h264_360p.h264", "h265_360p.h265"} {
		info, aus := parsed(t, name)
		require.Len(t, aus, 150)
		assert.Equal(t, [2]int{640, 360}, [2]int{info.Width, info.Height})
		require.NotEmpty(t, info.SPS)
		require.NotEmpty(t, info.PPS)

		// Parameter sets only out of band (the RTSP session description).
		var outOfBand []*media.AccessUnit
		for _, au := range aus {
			c := *au
			c.NALUs = nil
			for _, n := range au.NALUs {
				if isVCL(au.Codec, n) {
					c.NALUs = append(c.NALUs, n)
				}
			}
			outOfBand = append(outOfBand, &c)
		}
		for _, tc := range []struct {
			name string
			info media.StreamInfo
			aus  []*media.AccessUnit
		}{
			{"in-band and extradata", info, aus},
			{"extradata only", info, outOfBand},
			{"in-band only", media.StreamInfo{Codec: info.Codec}, aus},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				out := filepath.Join(t.TempDir(), "out.mp4")
				r, err := Transcode(context.Background(), NewSliceSource(tc.info, tc.aus), out, Options{Resolution: R1080p, FPS: 5})
				require.NoError(t, err)
				assert.Zero(t, r.DecodeErrors)
				assert.Equal(t, 150, r.InputFrames)
				checkOutput(t, out, r, 5, 640, 360, clipSeconds*time.Second)
			})
		}
	}
}

func TestTranscodeSurvivesGarbage(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		for _, name := range []string{"h264_360p.h264", "h265_360p.h265"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				info, aus := parsed(t, name)
				rng := rand.New(rand.NewPCG(7, 7))
				junk := func(n int) []byte {
					b := make([]byte, n)
					for i := range b {
						b[i] = byte(rng.UintN(256))
					}
					return b
				}
				for i := 60; i < 90; i += 3 {
					c := *aus[i]
					switch i % 4 {
					case 0: // random bytes for a whole unit
						c.NALUs = [][]byte{junk(500)}
					case 1: // a slice header followed by noise
						c.NALUs = [][]byte{append(clone(c.NALUs[len(c.NALUs)-1][:3]), junk(800)...)}
					case 2: // a truncated slice
						n := c.NALUs[len(c.NALUs)-1]
						c.NALUs = [][]byte{n[:len(n)/3]}
					case 3: // an empty and a one-byte unit
						c.NALUs = [][]byte{{}, {0x65}}
					}
					aus[i] = &c
				}
				out := filepath.Join(t.TempDir(), "out.mp4")
				r, err := Transcode(context.Background(), NewSliceSource(info, aus), out, Options{Resolution: R576p, FPS: 10})
				require.NoError(t, err)
				assert.Positive(t, r.DecodeErrors+r.DroppedFrames)
				checkOutput(t, out, r, 10, 640, 360, clipSeconds*time.Second)
			})
		}
	})
	t.Run("file", func(t *testing.T) {
		data, err := os.ReadFile(testenv.Media(t, "h264_360p.h264"))
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(1, 1))
		mid := len(data) / 2
		junk := make([]byte, 20000)
		for i := range junk {
			junk[i] = byte(rng.UintN(256))
		}
		copy(junk[5000:], []byte{0, 0, 0, 1, 0x65, 0x88}) // a fake IDR slice start inside the noise
		bad := append(append(clone(data[:mid]), junk...), data[mid:]...)
		in := filepath.Join(t.TempDir(), "bad.h264")
		require.NoError(t, os.WriteFile(in, bad, 0o644))
		out := filepath.Join(t.TempDir(), "out.mp4")
		r, err := TranscodeFile(context.Background(), in, out, Options{Resolution: R576p, FPS: 10})
		require.NoError(t, err)
		info := testenv.Probe(t, out)
		assert.Equal(t, r.Frames, info.Frames)
		assert.InDelta(t, float64(clipSeconds), info.Duration, 0.5)
	})
}

// blockingSource yields a clip and then blocks like a live tail until ctx ends;
// cancel is called after the first n units.
type blockingSource struct {
	*SliceSource
	n      int
	cancel func()
}

func (s *blockingSource) Next(ctx context.Context) (*media.AccessUnit, error) {
	if s.n == 0 {
		s.cancel()
	}
	s.n--
	au, err := s.SliceSource.Next(ctx)
	if errors.Is(err, io.EOF) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return au, err
}

func TestTranscodeCancel(t *testing.T) {
	info, aus := parsed(t, "h264_1080p.h264")
	t.Run("while decoding", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		src := &blockingSource{SliceSource: NewSliceSource(info, aus), n: 20, cancel: cancel}
		began := time.Now()
		_, err := Transcode(ctx, src, filepath.Join(t.TempDir(), "out.mp4"), Options{Resolution: R1080p, FPS: 6})
		require.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(began), 10*time.Second)
	})
	t.Run("waiting for a live source", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		src := &blockingSource{SliceSource: NewSliceSource(info, aus[:30]), n: -1, cancel: cancel}
		done := make(chan error, 1)
		go func() {
			_, err := Transcode(ctx, src, filepath.Join(t.TempDir(), "out.mp4"), Options{Resolution: R576p, FPS: 6})
			done <- err
		}()
		time.Sleep(300 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			require.ErrorIs(t, err, context.Canceled)
		case <-time.After(5 * time.Second):
			t.Fatal("Transcode did not return after cancel")
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Transcode(ctx, NewSliceSource(info, aus), filepath.Join(t.TempDir(), "out.mp4"), Options{Resolution: R576p, FPS: 6})
		require.ErrorIs(t, err, context.Canceled)
	})
}

// rssKB reads the resident set size of this process.
func rssKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestTranscodeNoLeak runs transcodes in a loop, on every path (success, cancel,
// error) and checks the resident set stops growing: a leaked frame or codec
// context per run would add megabytes each time.
func TestTranscodeNoLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("loop of transcodes")
	}
	info, aus := parsed(t, "h264_360p.h264")
	in := testenv.Media(t, "h265_360p.h265")
	dir := t.TempDir()
	run := func(i int) {
		out := filepath.Join(dir, "out.mp4")
		_, err := Transcode(context.Background(), NewSliceSource(info, aus[:75]), out, Options{Resolution: R576p, FPS: 10, Threads: 2})
		require.NoError(t, err)
		_, err = TranscodeFile(context.Background(), in, out, Options{Resolution: R576p, FPS: 10, Duration: time.Second, Threads: 2})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		_, err = Transcode(ctx, &blockingSource{SliceSource: NewSliceSource(info, aus), n: 40, cancel: cancel}, out,
			Options{Resolution: R576p, FPS: 10, Threads: 2})
		require.ErrorIs(t, err, context.Canceled)
	}
	for i := 0; i < 2; i++ { // warm up allocator pools and thread stacks
		run(i)
	}
	debug.FreeOSMemory() // return freed Go heap so RSS shows only what is still held
	before := rssKB(t)
	loops := 12
	if raceEnabled {
		loops = 6 // the detector makes each run slow and the RSS noisy anyway
	}
	for i := 0; i < loops; i++ {
		run(i)
	}
	debug.FreeOSMemory() // return freed Go heap so RSS shows only what is still held
	after := rssKB(t)
	growth := after - before
	t.Logf("RSS %d kB -> %d kB after %d loops (%d kB each)", before, after, loops, growth/loops)
	// 3 transcodes per loop: leaking one 640x360 frame (~350 kB) each would add
	// 1 MB per loop, a codec context far more. Without -race RSS stays within
	// ~4 MB over 12 loops.
	limit := 8 * 1024
	if raceEnabled {
		limit = 16 * 1024
	}
	assert.Less(t, growth, limit, "RSS grew by %d kB", growth)
}
