package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/internal/testenv"
)

func runTranscodeCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newTranscodeCmd(slog.New(slog.NewTextHandler(io.Discard, nil)))
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage = true
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestTranscodeCmdFlags(t *testing.T) {
	in := testenv.Media(t, "h264_360p.h264")
	out := filepath.Join(t.TempDir(), "out.mp4")
	for _, tc := range []struct {
		name string
		args []string
		want []string // each must be named in the error
	}{
		{"nothing", nil, []string{"--in", "--out", "--resolution", "--fps"}},
		{"missing input file", []string{"--in", "/nonexistent.h264", "--out", out, "--resolution", "1080p", "--fps", "6"}, []string{"--in"}},
		{"bad resolution", []string{"--in", in, "--out", out, "--resolution", "720p", "--fps", "6"}, []string{"--resolution", "720p"}},
		{"fps too high", []string{"--in", in, "--out", out, "--resolution", "576p", "--fps", "60"}, []string{"--fps 60"}},
		{"fps zero", []string{"--in", in, "--out", out, "--resolution", "576p", "--fps", "0"}, []string{"--fps"}},
		{"bad preset", []string{"--in", in, "--out", out, "--resolution", "576p", "--fps", "6", "--preset", "warp"}, []string{"--preset", "warp"}},
		{"positional argument", []string{"file.h264"}, []string{"unknown command"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runTranscodeCmd(t, tc.args...)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			_, statErr := os.Stat(out)
			assert.True(t, os.IsNotExist(statErr), "no output on flag errors")
		})
	}
}

func TestTranscodeCmd(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "clip.mp4")
	stdout, err := runTranscodeCmd(t, "--in", testenv.Media(t, "h265_360p.h265"), "--resolution", "576p", "--fps", "10", "--out", out)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 1, "one-line summary")
	for _, w := range []string{"60 frames", "6.000s", "640x360", "10 fps", "bytes"} {
		assert.Contains(t, lines[0], w)
	}
	info := testenv.Probe(t, out)
	assert.Equal(t, "h264", info.Codec)
	assert.Equal(t, 60, info.Frames)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}
