package e2e

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/status"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

func streaming(ids ...int) func(status.Snapshot) bool {
	return func(s status.Snapshot) bool {
		for _, ch := range s.Channels {
			if slices.Contains(ids, ch.ID) && (ch.State != "streaming" || ch.RingSeconds < 2.5) {
				return false
			}
		}
		return len(s.Channels) >= len(ids)
	}
}

func channel(s status.Snapshot, id int) status.Channel {
	for _, ch := range s.Channels {
		if ch.ID == id {
			return ch
		}
	}
	return status.Channel{}
}

// Events from the camera become clips in MinIO: checksums match, ffprobe shows
// the output resolution and frame rate, and the duration covers the window.
func TestEventsBecomeClipsInMinIO(t *testing.T) {
	t.Parallel()
	minio := testenv.StartMinIO(t)
	cam := startCamera(t, nil, "h264_1080p.h264,h264_360p.h264", "h265_360p.h265")
	cfg, st := boxConfig(t, t.TempDir(), minio, cam, "", `  - {id: 1, device: cam, device_channel: 1, resolution: 576p}
  - {id: 2, device: cam, device_channel: 2, resolution: 1080p}`)
	b := startBox(t, cfg, st)
	s := b.waitFor("both channels streaming", 30*time.Second, streaming(1, 2))
	assert.Equal(t, "H.264", channel(s, 1).Codec)
	assert.Equal(t, 1920, channel(s, 1).Width, "resolution learned from the SPS")
	assert.Equal(t, "H.265", channel(s, 2).Codec)
	assert.Equal(t, 10, s.OutputFPS, "2 linked channels: 10 fps")

	cam.trigger(t, 1, "VMD", 3)
	cam.trigger(t, 2, "linedetection", 2)
	time.Sleep(time.Second)
	cam.trigger(t, 2, "fielddetection", 2) // overlaps: one clip with both types
	cam.trigger(t, 1, "videoloss", 1)      // health only, never a clip

	s = b.waitFor("two clips uploaded", 90*time.Second, func(s status.Snapshot) bool {
		return channel(s, 1).Uploaded == 1 && channel(s, 2).Uploaded == 1
	})
	assert.Equal(t, int64(0), s.Spool.Pending)
	assert.Equal(t, "ok", s.Uplink.State)
	assert.GreaterOrEqual(t, channel(s, 2).Events["linedetection"], int64(1))
	assert.GreaterOrEqual(t, channel(s, 2).Events["fielddetection"], int64(1))

	objs := objects(t, minio, "clips", "e2e/PCBE2E0001/")
	require.Len(t, objs, 2)
	for _, o := range objs {
		start, err := time.Parse(time.RFC3339Nano, o.Meta["start"])
		require.NoError(t, err, o.Meta)
		end, err := time.Parse(time.RFC3339Nano, o.Meta["end"])
		require.NoError(t, err, o.Meta)
		window := end.Sub(start).Seconds()
		p := testenv.Probe(t, o.Path)
		assert.Equal(t, "h264", p.Codec)
		assert.InDelta(t, 10, p.FrameRate, 0.01)
		assert.LessOrEqual(t, math.Abs(p.Duration-window), 0.35, "%s: duration %.2f s, window %.2f s", o.Key, p.Duration, window)
		assert.Equal(t, int(math.Round(p.Duration*10)), p.Frames, "decodable to the end")
		switch {
		case strings.Contains(o.Key, "/ch01/"):
			assert.Equal(t, []int{704, 396}, []int{p.Width, p.Height}, "1080p input fitted into 576p keeping 16:9")
			assert.Equal(t, "VMD", o.Meta["event-types"])
			assert.GreaterOrEqual(t, window, 6.5, "3 s event + 2 s pre-roll + 2 s post-roll")
		case strings.Contains(o.Key, "/ch02/"):
			assert.Equal(t, []int{640, 360}, []int{p.Width, p.Height}, "never upscaled")
			assert.Contains(t, o.Meta["event-types"], "linedetection")
			assert.Contains(t, o.Meta["event-types"], "fielddetection")
			assert.Contains(t, o.Key, "fielddetection-linedetection")
		default:
			t.Errorf("unexpected key %s", o.Key)
		}
	}
	b.term(t, 30*time.Second)
}

// With the object store down, clips wait in the spool; once it is back all are
// uploaded, intrusion and line crossing before the older motion clip.
func TestOutageSpoolsThenDrainsByPriority(t *testing.T) {
	t.Parallel()
	minio := testenv.StartMinIO(t)
	cam := startCamera(t, nil, "h264_360p.h264")
	cfg, st := boxConfig(t, t.TempDir(), minio, cam, "", `  - {id: 1, device: cam, device_channel: 1, resolution: 576p}`)
	b := startBox(t, cfg, st)
	b.waitFor("streaming", 30*time.Second, streaming(1))
	minio.Stop()

	made := func(n int64) func(status.Snapshot) bool {
		return func(s status.Snapshot) bool { return channel(s, 1).ClipsMade == n }
	}
	cam.trigger(t, 1, "VMD", 1)
	b.waitFor("motion clip spooled", 60*time.Second, made(1))
	cam.trigger(t, 1, "linedetection", 1)
	b.waitFor("line crossing clip spooled", 60*time.Second, made(2))
	cam.trigger(t, 1, "fielddetection", 1)
	s := b.waitFor("intrusion clip spooled, uplink down", 60*time.Second, func(s status.Snapshot) bool {
		return channel(s, 1).ClipsMade == 3 && s.Uplink.State == "down"
	})
	assert.Equal(t, int64(3), s.Spool.Pending+s.Spool.Uploading)
	assert.Equal(t, int64(0), channel(s, 1).Uploaded)
	assert.Greater(t, s.Spool.OldestPendingAge, 0.0)

	minio.Restart(t)
	b.waitFor("all uploaded after recovery", 90*time.Second, func(s status.Snapshot) bool {
		return channel(s, 1).Uploaded == 3 && s.Spool.Pending == 0
	})
	var order []string
	for _, rec := range b.waitLogs("clip uploaded", 3) {
		evs, _ := rec["events"].([]any)
		require.Len(t, evs, 1)
		order = append(order, evs[0].(string))
	}
	require.Len(t, order, 3)
	assert.Equal(t, "VMD", order[2], "motion goes last: %v", order)
	assert.Len(t, objects(t, minio, "clips", "e2e/"), 3)
}

// A small disk budget evicts the oldest motion clips first, counted exactly; the
// line crossing clip survives.
func TestDiskBudgetEvictsMotionFirst(t *testing.T) {
	t.Parallel()
	cam := startCamera(t, nil, "h264_360p.h264")
	// No object store at all: every clip stays in the spool.
	cfg, st := boxConfig(t, t.TempDir(), nil, cam, `spool:
  max_bytes: 700KiB
  min_free_bytes: 0`, `  - {id: 1, device: cam, device_channel: 1, resolution: 576p}`)
	b := startBox(t, cfg, st)
	b.waitFor("streaming", 30*time.Second, streaming(1))
	seq := []string{"linedetection", "VMD", "VMD", "VMD", "VMD"}
	for i, typ := range seq {
		cam.trigger(t, 1, typ, 1)
		b.waitFor("clip spooled", 60*time.Second, func(s status.Snapshot) bool { return channel(s, 1).ClipsMade == int64(i+1) })
	}
	s := b.snapshot()
	evicted := s.Spool.Evicted["budget"]
	require.Greater(t, evicted, int64(0), "the budget forced evictions")
	assert.Equal(t, int64(len(seq)), s.Spool.Pending+evicted, "every clip is pending or counted as evicted")
	assert.Equal(t, evicted, channel(s, 1).Evicted)
	assert.LessOrEqual(t, s.Spool.Bytes, int64(700<<10))
	drops := b.waitLogs("clip dropped from the spool", int(evicted))
	require.Len(t, drops, int(evicted))
	for _, d := range drops {
		assert.Equal(t, "motion", d["class"], "only motion clips are evicted while motion clips remain")
	}
	b.term(t, 30*time.Second)
}

// SIGTERM during a long event: the open window is closed at once, the clip cut so
// far is finished and spooled before the box exits, and the next start uploads it.
func TestSIGTERMKeepsTheOpenClip(t *testing.T) {
	t.Parallel()
	minio := testenv.StartMinIO(t)
	cam := startCamera(t, nil, "h264_360p.h264")
	cfg, st := boxConfig(t, t.TempDir(), minio, cam, "", `  - {id: 1, device: cam, device_channel: 1, resolution: 576p}`)
	b := startBox(t, cfg, st)
	b.waitFor("streaming", 30*time.Second, streaming(1))
	cam.trigger(t, 1, "fielddetection", 60)
	b.waitFor("clip window open", 20*time.Second, func(s status.Snapshot) bool { return s.ClipsInProgress == 1 })
	time.Sleep(3 * time.Second)
	b.term(t, 30*time.Second)
	spooled := logRecords(b.output(), "clip spooled")
	require.Len(t, spooled, 1, "the open clip was finished and spooled before exit")
	req, _ := http.NewRequest(http.MethodDelete, "http://"+cam.http+"/sim/events", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()

	b = startBox(t, cfg, st)
	b.waitFor("uploaded after restart", 60*time.Second, func(s status.Snapshot) bool { return s.Uplink.Uploaded == 1 })
	objs := objects(t, minio, "clips", "e2e/")
	require.Len(t, objs, 1)
	assert.Equal(t, spooled[0]["clip"], objs[0].Meta["clip-id"])
	p := testenv.Probe(t, objs[0].Path)
	assert.Greater(t, p.Duration, 4.0, "pre-roll plus the seconds before SIGTERM")
	b.term(t, 30*time.Second)
}
