package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/internal/testenv"
)

// The demo scenario, shortened, against MinIO: cloudsim (seeded company, site,
// box, packages), the device simulator and boxd. The demo itself checks that every
// object's content matches its sha256, that every object is in the cloud's clip
// index and the other way round, and that the channel without a package stored
// nothing; it exits non-zero on any of that or on a lost clip.
func TestDemoScenarioAgainstMinIO(t *testing.T) {
	t.Parallel()
	minio := testenv.StartMinIO(t)
	binary(t, "boxd") // builds the demo's siblings
	cmd := exec.Command(filepath.Join(bins.dir, "demo"))
	cmd.Env = append(os.Environ(), "DEMO_SECONDS=40", "DEMO_DIR="+t.TempDir(),
		"DEMO_MEDIA="+filepath.Join(testenv.RepoRoot(t), "testdata", "media"),
		"DEMO_S3_ENDPOINT="+minio.Endpoint, "DEMO_S3_ACCESS_KEY="+minio.AccessKey, "DEMO_S3_SECRET_KEY="+minio.SecretKey)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("demo did not finish:\n%s", out)
	}
	t.Logf("demo output:\n%s", out)
	require.NoError(t, err)
	text := string(out)
	m := regexp.MustCompile(`(?m)^summary: events=(\d+) clips=(\d+) uploaded=(\d+) pending=(\d+) evicted=(\d+) lost=(\d+)$`).FindStringSubmatch(text)
	require.NotNil(t, m, "no summary line")
	assert.Equal(t, m[2], m[3], "every clip uploaded")
	assert.NotEqual(t, "0", m[2], "clips were made")
	assert.Equal(t, "0", m[6], "nothing lost")
	assert.False(t, strings.Contains(text, "PROBLEM:"))
	assert.Contains(t, text, "uplink CUT")
	assert.Contains(t, text, "uplink=down", "the cut was seen by the box")
}
