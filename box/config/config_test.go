package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultsValidate(t *testing.T) {
	c := Default()
	require.NoError(t, c.Validate())
	assert.Equal(t, 10*time.Second, c.Ingest.PreRoll)
	assert.Equal(t, 5*time.Second, c.Clips.PreRoll)
	assert.Equal(t, 10*time.Second, c.Clips.PostRoll)
	assert.Equal(t, 120*time.Second, c.Clips.MaxLength)
	assert.Equal(t, ByteSize(8<<30), c.Spool.MaxBytes)
	assert.Equal(t, "127.0.0.1:8088", c.Status.Listen)
}

// Every sample config shipped in the repository must load and validate.
func TestSampleConfigs(t *testing.T) {
	samples, err := filepath.Glob(filepath.Join("..", "..", "testdata", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, samples)
	for _, path := range samples {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c, err := Load(path, nil)
			require.NoError(t, err)
			require.NoError(t, c.Validate())
		})
	}
	c, err := Load(filepath.Join("..", "..", "testdata", "box.yaml"), nil)
	require.NoError(t, err)
	require.Len(t, c.Channel, 3)
	assert.Equal(t, "/Streaming/Channels/301", c.Channel[1].StreamPath())
	assert.Equal(t, "576p", c.Channel[1].Resolution)
	assert.Equal(t, "1080p", c.Channel[2].Resolution, "inherits clips.resolution")
	assert.False(t, c.Channel[2].Uploads())
	assert.True(t, c.Channel[0].Uploads())
	assert.Equal(t, 554, c.Devices[1].RTSPPort)
}

func TestLayering(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "box.yaml")
	require.NoError(t, os.WriteFile(path, []byte("box:\n  serial: FROMFILE\nuplink:\n  bucket: filebucket\n  endpoint: http://file:9000\n"), 0o600))
	t.Setenv("BOX_UPLINK_BUCKET", "envbucket")
	t.Setenv("BOX_SPOOL_MAX_BYTES", "1GiB")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	Flags(fs)
	require.NoError(t, fs.Parse([]string{"--uplink.endpoint", "http://flag:9000"}))

	c, err := Load(path, fs)
	require.NoError(t, err)
	assert.Equal(t, "FROMFILE", c.Box.Serial, "file over default")
	assert.Equal(t, "envbucket", c.Uplink.Bucket, "env over file")
	assert.Equal(t, ByteSize(1<<30), c.Spool.MaxBytes, "env byte size")
	assert.Equal(t, "http://flag:9000", c.Uplink.Endpoint, "flag over file")
	assert.Equal(t, "127.0.0.1:8088", c.Status.Listen, "unset flag leaves default")
}

func TestUnknownKeyRejected(t *testing.T) {
	path := filepath.Join(t.TempDir(), "box.yaml")
	require.NoError(t, os.WriteFile(path, []byte("uplink:\n  endpiont: http://x\n"), 0o600))
	_, err := Load(path, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "endpiont")
}

func TestValidateReportsEverything(t *testing.T) {
	c := Default()
	c.Box.Serial = ""
	c.Log.Level = "loud"
	c.Uplink.PartSize = 1 << 20
	c.Uplink.Endpoint = "ftp://x"
	c.Clips.PreRoll = 20 * time.Second
	c.Devices = []Device{{Name: "cam", Host: "h", HTTPPort: 80, RTSPPort: 554}, {Name: "cam", HTTPPort: 0, RTSPPort: 70000}}
	c.Channel = []Channel{
		{ID: 1, Device: "cam", DeviceChannel: 1, Stream: "main", Resolution: "1080p"},
		{ID: 1, Device: "nope", DeviceChannel: 1, Stream: "third", Resolution: "720p"},
		{ID: 9, Device: "cam", DeviceChannel: 0, Stream: "main", Resolution: "576p"},
	}
	err := c.Validate()
	require.Error(t, err)
	for _, key := range []string{
		"box.serial", "log.level", "uplink.part_size", "uplink.endpoint", "clips.pre_roll",
		"devices[1].name", "devices[1].host", "devices[1].http_port", "devices[1].rtsp_port",
		"channels[1].id", "channels[1].device", "channels[1].stream", "channels[1].resolution",
		"channels[2].id", "channels[2].device_channel",
	} {
		assert.Contains(t, err.Error(), key+":", "missing problem for %s", key)
	}
	assert.Equal(t, 15, strings.Count(err.Error(), "\n")+1, err.Error())
}

func TestTooManyChannels(t *testing.T) {
	c := Default()
	c.Devices = []Device{{Name: "nvr", Host: "h", HTTPPort: 80, RTSPPort: 554}}
	for i := 1; i <= 9; i++ {
		c.Channel = append(c.Channel, Channel{ID: i, Device: "nvr", DeviceChannel: i, Stream: "main", Resolution: "1080p"})
	}
	err := c.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "9 channels linked, a box links at most 8")
}

func TestParseByteSize(t *testing.T) {
	cases := []struct {
		in   string
		want ByteSize
		err  bool
	}{
		{"1024", 1024, false}, {"512MiB", 512 << 20, false}, {"8GiB", 8 << 30, false},
		{"10MB", 10_000_000, false}, {"1.5GiB", 3 << 29, false}, {"64k", 64 << 10, false},
		{"lots", 0, true}, {"-1", 0, true}, {"", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseByteSize(tc.in)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
