package e2e

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/status"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

// boxd is killed with SIGKILL at random moments while clips are cut and uploaded
// (the uplink is throttled so kills land mid-upload), and restarted each time. In
// the end every clip the spool acknowledged is in MinIO exactly once, with the
// right checksum.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	t.Parallel()
	minio := testenv.StartMinIO(t)
	cam := startCamera(t, nil, "h264_360p.h264", "h265_360p.h265")
	cfg, st := boxConfig(t, t.TempDir(), minio, cam, `spool:
  min_free_bytes: 0`, `  - {id: 1, device: cam, device_channel: 1, resolution: 576p}
  - {id: 2, device: cam, device_channel: 2, resolution: 576p}`)
	// Throttle uploads so that a kill often lands in the middle of one.
	cfgText := strings.Replace(readFile(t, cfg), "  concurrency: 1\n", "  concurrency: 1\n  bandwidth_limit: 96KiB\n", 1)
	writeFile(t, cfg, cfgText)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	acked := map[string]bool{}
	uploadingAtKill := 0
	for round := 0; round < 6; round++ {
		b := startBox(t, cfg, st)
		b.waitFor("streaming", 30*time.Second, streaming(1, 2))
		cam.trigger(t, 1, "VMD", 1)
		cam.trigger(t, 2, "linedetection", 1)
		if round%2 == 0 {
			// Aim at an upload in flight.
			b.waitFor("an upload in flight", 60*time.Second, func(s status.Snapshot) bool { return s.Spool.Uploading > 0 })
			time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		} else {
			// Anywhere: while clips are cut, spooled or uploaded.
			time.Sleep(time.Duration(3000+rng.IntN(7000)) * time.Millisecond)
		}
		if b.snapshot().Spool.Uploading > 0 {
			uploadingAtKill++
		}
		b.kill()
		for _, rec := range logRecords(b.output(), "clip spooled") {
			acked[rec["clip"].(string)] = true
		}
	}
	t.Logf("acknowledged %d clips over 6 kills; %d kills landed during an upload", len(acked), uploadingAtKill)
	assert.GreaterOrEqual(t, uploadingAtKill, 2, "kills must hit uploads in flight")
	require.NotEmpty(t, acked)

	b := startBox(t, cfg, st)
	s := b.waitFor("spool drained", 120*time.Second, func(s status.Snapshot) bool {
		return s.Spool.Pending == 0 && s.Spool.Uploading == 0
	})
	assert.Equal(t, int64(0), s.Spool.Lost, "no indexed clip lost its file")
	b.term(t, 30*time.Second)

	objs := objects(t, minio, "clips", "e2e/PCBE2E0001/") // verifies every checksum
	perID := map[string]int{}
	for _, o := range objs {
		perID[o.Meta["clip-id"]]++
		assert.Contains(t, o.Key, o.Meta["clip-id"])
	}
	for id := range acked {
		assert.Equal(t, 1, perID[id], "acknowledged clip %s must be in MinIO exactly once", id)
	}
	for id, n := range perID {
		assert.Equal(t, 1, n, "clip %s stored %d times", id, n)
	}
}
