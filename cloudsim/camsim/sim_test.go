package camsim

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/internal/testenv"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	media := filepath.Join(testenv.RepoRoot(t), "testdata", "media")
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // substrings of the error; nil = valid
	}{
		{"defaults", Config{}, nil},
		{"nvr", Config{Mode: ModeNVR}, nil},
		{"bad mode and style", Config{Mode: "dvr", Alert: AlertConfig{Style: "x"}}, []string{`mode "dvr"`, `alert style "x"`}},
		{"bad media name", Config{Channels: []ChannelConfig{{Main: "clip.mp4"}}}, []string{"clip.mp4"}},
		{"bad quirks", Config{Alert: AlertConfig{Quirks: &AlertQuirks{Namespace: "x", ChannelID: "y", DateTime: "z"}}},
			[]string{"namespace", "channelID", "dateTime"}},
		{"user with colon", Config{User: "a:b"}, []string{"user and password"}},
		{"script out of range", Config{Alert: AlertConfig{Script: []ScriptEvent{{Channel: 3, Type: "VMD"}, {Channel: 1}}}},
			[]string{"channel 3", "empty type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.MediaDir = media
			_, err := New(tc.cfg, nil)
			if tc.want != nil {
				assert.ErrorIs(t, tc.cfg.Validate(), ErrConfig)
			}
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrConfig)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	_, err := New(Config{MediaDir: t.TempDir()}, nil)
	assert.ErrorIs(t, err, ErrMedia)
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	cam := Config{}.withDefaults()
	assert.Equal(t, "DS-2CD2386G2-IU20240101AAWRJ12345678", cam.Serial)
	assert.Equal(t, "127.0.0.1:0", cam.RTSPAddr)
	assert.Equal(t, 10*time.Second, cam.Alert.Heartbeat)
	assert.Equal(t, CameraQuirks(), *cam.Alert.Quirks)
	nvr := Config{Mode: ModeNVR}.withDefaults()
	assert.Equal(t, StyleNVR, nvr.Alert.Style)
	assert.Negative(t, nvr.Alert.Heartbeat, "quiet NVRs send no heartbeat")
	assert.Equal(t, NVRQuirks(), *nvr.Alert.Quirks)
	assert.Equal(t, "h264_1080p.h264", nvr.Channels[0].Main)
}

// TestLifecycle: cancelling Start's context stops serving; Close is idempotent and
// drops open alertStreams.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	logger := testLogger(t)
	cfg := Config{MediaDir: filepath.Join(testenv.RepoRoot(t), "testdata", "media"),
		Channels: []ChannelConfig{{Main: "h264_360p.h264"}}}
	t.Run("context", func(t *testing.T) {
		s, err := New(cfg, logger)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		require.NoError(t, s.Start(ctx))
		assert.Equal(t, "rtsp://admin:Admin12345@"+s.RTSPAddr()+"/Streaming/Channels/102", s.StreamURL(1, 2))
		cancel()
		require.Eventually(t, func() bool {
			c1, err1 := net.Dial("tcp", s.RTSPAddr())
			c2, err2 := net.Dial("tcp", s.HTTPAddr())
			for _, c := range []net.Conn{c1, c2} {
				if c != nil {
					c.Close()
				}
			}
			return err1 != nil && err2 != nil
		}, 3*time.Second, 20*time.Millisecond)
		require.NoError(t, s.Close())
		require.NoError(t, s.Close())
	})
	t.Run("close drops alertStreams", func(t *testing.T) {
		for _, q := range []AlertQuirks{CameraQuirks(), NVRQuirks()} {
			c := cfg
			c.Alert.Quirks = &q
			s, err := New(c, logger)
			require.NoError(t, err)
			require.NoError(t, s.Start(context.Background()))
			_, sb := openAlerts(t, s, alertPath)
			require.NoError(t, s.Close())
			assert.Eventually(t, sb.ended, 3*time.Second, 10*time.Millisecond, "closeDelimited=%v", q.CloseDelimited)
			_, err = http.Get(s.ISAPIURL())
			assert.Error(t, err)
		}
	})
	t.Run("knobs before start", func(t *testing.T) {
		s, err := New(cfg, logger)
		require.NoError(t, err)
		assert.ErrorIs(t, s.StopStream(1), ErrNotStarted)
		assert.ErrorIs(t, s.RunScript(nil), ErrNotStarted)
		require.NoError(t, s.Close())
	})
}

func FuzzParseAuthParams(f *testing.F) {
	f.Add(`username="admin", realm="abc", nonce="x:1", uri="/ISAPI/a?b=c,d", qop=auth, nc=00000001, cnonce="q\"r", response="ff"`)
	f.Add(`qop="auth", realm="IP Camera(C2056)", nonce="4e44:1", stale="FALSE"`)
	f.Add(`=,,"`)
	f.Fuzz(func(t *testing.T, s string) {
		p := parseAuthParams(s)
		for k := range p {
			if strings.ContainsAny(k, "=") {
				t.Fatalf("key %q holds '='", k)
			}
		}
	})
}

func FuzzSplitAUs(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 9, 0xf0, 0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 1, 0x65, 0x88, 0, 0, 1, 0x41, 0x9a})
	f.Add([]byte{0, 0, 1, 0x46, 1, 0x50, 0, 0, 1, 0x40, 1, 0xc, 0, 0, 1, 0x26, 1, 0xaf})
	f.Fuzz(func(t *testing.T, b []byte) {
		nalus := splitAnnexB(b)
		for _, kind := range []func([]byte) nalKind{h264Kind, h265Kind} {
			for _, au := range splitAUs(nalus, kind) {
				if len(au) == 0 {
					t.Fatal("empty access unit")
				}
				for _, n := range au {
					if len(n) == 0 {
						t.Fatal("empty NAL unit")
					}
				}
			}
		}
	})
}
