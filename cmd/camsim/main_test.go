package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/cloudsim/camsim"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunPrintsURLsAndStops(t *testing.T) {
	media := filepath.Join(testenv.RepoRoot(t), "testdata", "media")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--rtsp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--media-dir", media,
			"--mode", "nvr", "--channel", "h264_360p.h264,h265_360p.h265", "--channel", "h265_360p.h265",
			"--quirk", "lfBodies=false", "--quirk", "namespace=ver10", "--event", "1s,1,VMD,2"}, &out, &errOut)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "channel 2 sub") }, 10*time.Second, 20*time.Millisecond, errOut.String())
	assert.Regexp(t, regexp.MustCompile(`channel 1 main h264_360p\.h264 +rtsp://admin:Admin12345@127\.0\.0\.1:\d+/Streaming/Channels/101`), out.String())
	assert.Contains(t, out.String(), "/ISAPI/System/deviceInfo")
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestFlags(t *testing.T) {
	q := camsim.NVRQuirks()
	require.NoError(t, applyQuirk(&q, "lfBodies=false"))
	require.NoError(t, applyQuirk(&q, "duplicateBoundary"))
	require.NoError(t, applyQuirk(&q, "dateTime=-8:00"))
	assert.False(t, q.LFBodies)
	assert.True(t, q.DuplicateBoundary)
	assert.Equal(t, "-8:00", q.DateTime)
	assert.Error(t, applyQuirk(&q, "noSuchQuirk=true"))

	ev, err := parseEvent("1.5s,2,linedetection,3")
	require.NoError(t, err)
	assert.Equal(t, camsim.ScriptEvent{At: 1500 * time.Millisecond, Channel: 2, Type: "linedetection", Duration: 3 * time.Second}, ev)
	_, err = parseEvent("x,1,VMD")
	assert.Error(t, err)
	assert.Error(t, run(context.Background(), []string{"--mode", "dvr", "--media-dir", t.TempDir()}, &syncBuffer{}, &syncBuffer{}))
}
