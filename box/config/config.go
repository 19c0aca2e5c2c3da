// Package config owns the box's configuration: its defaults, how they are layered
// (defaults -> YAML file -> BOX_* environment -> command-line flags, with viper), and
// Validate, which reports every problem at once naming the offending key.
package config

import (
	"fmt"
	"strings"
	"time"
)

// Config is the whole configuration of a box. Every field documents its default.
type Config struct {
	Box     Box       `mapstructure:"box"`
	Status  Status    `mapstructure:"status"`
	Log     Log       `mapstructure:"log"`
	Ingest  Ingest    `mapstructure:"ingest"`
	Clips   Clips     `mapstructure:"clips"`
	Spool   Spool     `mapstructure:"spool"`
	Uplink  Uplink    `mapstructure:"uplink"`
	Cloud   Cloud     `mapstructure:"cloud"`
	Devices []Device  `mapstructure:"devices"`
	Channel []Channel `mapstructure:"channels"`
}

// Box identifies the appliance.
type Box struct {
	// Serial is the box serial number, used in object keys and cloud registration.
	// Default "PCB000000000".
	Serial string `mapstructure:"serial"`
	// DataDir holds the spool and the box's state. Default "/var/lib/boxfw".
	DataDir string `mapstructure:"data_dir"`
}

// Status is the local status listener (/v1/status, /metrics).
type Status struct {
	// Listen is the address of the status listener. Default "127.0.0.1:8088";
	// keep it on loopback unless the LAN must see it.
	Listen string `mapstructure:"listen"`
}

// Log configures log/slog output.
type Log struct {
	Level  string `mapstructure:"level"`  // debug, info, warn, error. Default info.
	Format string `mapstructure:"format"` // text or json. Default text.
}

// Ingest tunes the RTSP clients and the pre-roll rings.
type Ingest struct {
	PreRoll     time.Duration `mapstructure:"preroll"`      // ring length. Default 10s.
	RingBytes   ByteSize      `mapstructure:"ring_bytes"`   // ring byte bound per channel. Default 32MiB.
	ReadTimeout time.Duration `mapstructure:"read_timeout"` // a stall longer than this reconnects. Default 5s.
	BackoffMin  time.Duration `mapstructure:"backoff_min"`  // first reconnect delay. Default 500ms.
	BackoffMax  time.Duration `mapstructure:"backoff_max"`  // reconnect delay cap. Default 30s.
}

// Clips shapes event clips.
type Clips struct {
	PreRoll    time.Duration `mapstructure:"pre_roll"`   // video before the first active event. Default 5s.
	PostRoll   time.Duration `mapstructure:"post_roll"`  // video after the last active event. Default 10s.
	Quiet      time.Duration `mapstructure:"quiet"`      // an event with no repeat or inactive ends after this. Default 5s.
	MaxLength  time.Duration `mapstructure:"max_length"` // longer windows split into consecutive clips. Default 120s.
	Resolution string        `mapstructure:"resolution"` // default output resolution: 1080p or 576p. Default 1080p.
	Preset     string        `mapstructure:"preset"`     // libx264 preset. Default veryfast.
}

// Spool is the ANR disk budget.
type Spool struct {
	MaxBytes     ByteSize `mapstructure:"max_bytes"`      // clip bytes kept at most. Default 8GiB.
	MinFreeBytes ByteSize `mapstructure:"min_free_bytes"` // filesystem free-space reserve. Default 512MiB.
}

// Uplink is the S3-compatible object store clips go to.
type Uplink struct {
	Endpoint           string        `mapstructure:"endpoint"`            // e.g. http://127.0.0.1:9000. Empty: from the cloud, or no upload.
	Region             string        `mapstructure:"region"`              // Default us-east-1.
	Bucket             string        `mapstructure:"bucket"`              // Default "clips".
	Prefix             string        `mapstructure:"prefix"`              // key prefix. Default "boxes".
	AccessKey          string        `mapstructure:"access_key"`          // empty: AWS environment chain.
	SecretKey          string        `mapstructure:"secret_key"`          //
	Concurrency        int           `mapstructure:"concurrency"`         // parallel uploads. Default 2.
	BandwidthLimit     ByteSize      `mapstructure:"bandwidth_limit"`     // bytes per second, 0 = unlimited.
	MultipartThreshold ByteSize      `mapstructure:"multipart_threshold"` // Default 16MiB.
	PartSize           ByteSize      `mapstructure:"part_size"`           // Default 8MiB (S3 minimum 5MiB).
	Timeout            time.Duration `mapstructure:"timeout"`             // per request. Default 60s.
}

// Cloud is the installer cloud the box dials out to.
type Cloud struct {
	// URL of the cloud API, e.g. http://127.0.0.1:7000. Empty: the box runs from this
	// file alone.
	URL string `mapstructure:"url"`
	// VerificationCode is printed on the box label; registration needs it.
	VerificationCode string        `mapstructure:"verification_code"`
	Heartbeat        time.Duration `mapstructure:"heartbeat"` // Default 30s.
}

// Device is a Hikvision camera, DVR or NVR on the LAN.
type Device struct {
	Name     string `mapstructure:"name"`      // referenced by channels[].device
	Host     string `mapstructure:"host"`      // IP address or name
	HTTPPort int    `mapstructure:"http_port"` // ISAPI port. Default 80.
	RTSPPort int    `mapstructure:"rtsp_port"` // Default 554.
	User     string `mapstructure:"user"`
	Password string `mapstructure:"password"`
}

// Channel links one camera (or NVR IP channel) to one of the box's 8 channels.
type Channel struct {
	ID            int    `mapstructure:"id"`             // box channel 1..8
	Device        string `mapstructure:"device"`         // devices[].name
	DeviceChannel int    `mapstructure:"device_channel"` // camera channel (NVR: IP channel). Default 1.
	Stream        string `mapstructure:"stream"`         // main or sub. Default main.
	Resolution    string `mapstructure:"resolution"`     // output 1080p or 576p. Default clips.resolution.
	// Upload is false for a channel without a cloud-storage package: its events are
	// counted but never uploaded. Default true (the cloud overrides it when configured).
	Upload *bool `mapstructure:"upload"`
}

// MaxChannels is the number of channels a box links at most.
const MaxChannels = 8

// StreamPath is the RTSP path of the channel's stream on its device.
func (c Channel) StreamPath() string {
	n := 1
	if c.Stream == "sub" {
		n = 2
	}
	return fmt.Sprintf("/Streaming/Channels/%d%02d", c.DeviceChannel, n)
}

// Uploads reports whether the channel's clips go to object storage.
func (c Channel) Uploads() bool { return c.Upload == nil || *c.Upload }

// DeviceByName finds a device; ok is false when no device has that name.
func (c *Config) DeviceByName(name string) (Device, bool) {
	for _, d := range c.Devices {
		if d.Name == name {
			return d, true
		}
	}
	return Device{}, false
}

// normalized is the level as compared: case does not matter.
func (l Log) normalized() string { return strings.ToLower(l.Level) }
