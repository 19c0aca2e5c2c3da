package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// defaults are the embedded defaults every layer starts from. Keys listed here are
// also the keys BOX_* environment variables can set (BOX_UPLINK_ENDPOINT sets
// uplink.endpoint).
func defaults() map[string]any {
	return map[string]any{
		"box.serial":                 "PCB000000000",
		"box.data_dir":               "/var/lib/boxfw",
		"status.listen":              "127.0.0.1:8088",
		"log.level":                  "info",
		"log.format":                 "text",
		"ingest.preroll":             "10s",
		"ingest.ring_bytes":          "32MiB",
		"ingest.read_timeout":        "5s",
		"ingest.backoff_min":         "500ms",
		"ingest.backoff_max":         "30s",
		"clips.pre_roll":             "5s",
		"clips.post_roll":            "10s",
		"clips.quiet":                "5s",
		"clips.max_length":           "120s",
		"clips.resolution":           "1080p",
		"clips.preset":               "veryfast",
		"spool.max_bytes":            "8GiB",
		"spool.min_free_bytes":       "512MiB",
		"uplink.endpoint":            "",
		"uplink.region":              "us-east-1",
		"uplink.bucket":              "clips",
		"uplink.prefix":              "boxes",
		"uplink.access_key":          "",
		"uplink.secret_key":          "",
		"uplink.concurrency":         2,
		"uplink.bandwidth_limit":     "0",
		"uplink.multipart_threshold": "16MiB",
		"uplink.part_size":           "8MiB",
		"uplink.timeout":             "60s",
		"cloud.url":                  "",
		"cloud.verification_code":    "",
		"cloud.heartbeat":            "30s",
	}
}

// Default returns the embedded defaults alone.
func Default() Config {
	c, err := Load("", nil)
	if err != nil {
		panic(err) // the embedded defaults are tested to decode
	}
	return c
}

// Load layers defaults, the YAML file at path (if not empty), BOX_* environment
// variables and the flags that were set (flag names are the keys, e.g.
// --status.listen). It does not validate: call Validate.
func Load(path string, flags *pflag.FlagSet) (Config, error) {
	v := viper.New()
	for k, val := range defaults() {
		v.SetDefault(k, val)
	}
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("config: read %s: %w", path, err)
		}
	}
	v.SetEnvPrefix("BOX")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if flags != nil {
		var bindErr error
		flags.VisitAll(func(f *pflag.Flag) {
			if _, known := defaults()[f.Name]; known && bindErr == nil {
				bindErr = v.BindPFlag(f.Name, f)
			}
		})
		if bindErr != nil {
			return Config{}, fmt.Errorf("config: bind flags: %w", bindErr)
		}
	}
	var c Config
	err := v.Unmarshal(&c, viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(), byteSizeHook())),
		func(dc *mapstructure.DecoderConfig) { dc.ErrorUnused = true })
	if err != nil {
		return Config{}, fmt.Errorf("config: %s: %w", orDefaults(path), err)
	}
	c.applyDerivedDefaults()
	return c, nil
}

// Flags registers the command-line flags that override the most used keys.
func Flags(fs *pflag.FlagSet) {
	fs.String("box.serial", "", "box serial number")
	fs.String("box.data_dir", "", "data directory (spool, state)")
	fs.String("status.listen", "", "status listener address")
	fs.String("log.level", "", "log level: debug, info, warn, error")
	fs.String("uplink.endpoint", "", "S3 endpoint URL")
	fs.String("cloud.url", "", "installer cloud URL")
}

func orDefaults(path string) string {
	if path == "" {
		return "defaults"
	}
	return path
}

// applyDerivedDefaults fills per-item defaults in lists, which viper cannot default.
func (c *Config) applyDerivedDefaults() {
	for i := range c.Devices {
		d := &c.Devices[i]
		if d.HTTPPort == 0 {
			d.HTTPPort = 80
		}
		if d.RTSPPort == 0 {
			d.RTSPPort = 554
		}
	}
	for i := range c.Channel {
		ch := &c.Channel[i]
		if ch.DeviceChannel == 0 {
			ch.DeviceChannel = 1
		}
		if ch.Stream == "" {
			ch.Stream = "main"
		}
		if ch.Resolution == "" {
			ch.Resolution = c.Clips.Resolution
		}
	}
}

// Validate reports every problem at once, each naming its key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(c.Box.Serial) == "" {
		bad("box.serial", "must not be empty")
	}
	if c.Box.DataDir == "" {
		bad("box.data_dir", "must not be empty")
	}
	if c.Status.Listen == "" {
		bad("status.listen", "must not be empty")
	}
	switch c.Log.normalized() {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "%q is not text or json", c.Log.Format)
	}
	positive := func(key string, d time.Duration) {
		if d <= 0 {
			bad(key, "must be positive, got %s", d)
		}
	}
	positive("ingest.preroll", c.Ingest.PreRoll)
	positive("ingest.read_timeout", c.Ingest.ReadTimeout)
	positive("ingest.backoff_min", c.Ingest.BackoffMin)
	positive("clips.quiet", c.Clips.Quiet)
	positive("clips.max_length", c.Clips.MaxLength)
	if c.Ingest.BackoffMax < c.Ingest.BackoffMin {
		bad("ingest.backoff_max", "%s is below ingest.backoff_min %s", c.Ingest.BackoffMax, c.Ingest.BackoffMin)
	}
	if c.Ingest.RingBytes < 1<<20 {
		bad("ingest.ring_bytes", "%s is below 1MiB", c.Ingest.RingBytes)
	}
	if c.Clips.PreRoll < 0 || c.Clips.PostRoll < 0 {
		bad("clips.pre_roll/post_roll", "must not be negative")
	}
	if c.Clips.PreRoll > c.Ingest.PreRoll {
		bad("clips.pre_roll", "%s is longer than the ring (ingest.preroll %s)", c.Clips.PreRoll, c.Ingest.PreRoll)
	}
	if !validResolution(c.Clips.Resolution) {
		bad("clips.resolution", "%q is not 1080p or 576p", c.Clips.Resolution)
	}
	if c.Spool.MaxBytes <= 0 {
		bad("spool.max_bytes", "must be positive")
	}
	if c.Uplink.Concurrency < 1 || c.Uplink.Concurrency > 16 {
		bad("uplink.concurrency", "%d is not within 1..16", c.Uplink.Concurrency)
	}
	if c.Uplink.PartSize < 5<<20 {
		bad("uplink.part_size", "%s is below the S3 minimum of 5MiB", c.Uplink.PartSize)
	}
	if c.Uplink.Endpoint != "" && !strings.HasPrefix(c.Uplink.Endpoint, "http://") && !strings.HasPrefix(c.Uplink.Endpoint, "https://") {
		bad("uplink.endpoint", "%q must start with http:// or https://", c.Uplink.Endpoint)
	}
	if c.Uplink.Endpoint != "" && c.Uplink.Bucket == "" {
		bad("uplink.bucket", "must not be empty when uplink.endpoint is set")
	}
	if c.Cloud.URL != "" && c.Cloud.VerificationCode == "" {
		bad("cloud.verification_code", "must be set when cloud.url is set")
	}
	errs = append(errs, c.validateLinks()...)
	return errors.Join(errs...)
}

func validResolution(r string) bool { return r == "1080p" || r == "576p" }

func (c Config) validateLinks() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	names := map[string]bool{}
	for i, d := range c.Devices {
		key := fmt.Sprintf("devices[%d]", i)
		switch {
		case d.Name == "":
			bad(key+".name", "must not be empty")
		case names[d.Name]:
			bad(key+".name", "%q is used twice", d.Name)
		}
		names[d.Name] = true
		if d.Host == "" {
			bad(key+".host", "must not be empty")
		}
		if d.HTTPPort < 1 || d.HTTPPort > 65535 {
			bad(key+".http_port", "%d is not a port", d.HTTPPort)
		}
		if d.RTSPPort < 1 || d.RTSPPort > 65535 {
			bad(key+".rtsp_port", "%d is not a port", d.RTSPPort)
		}
	}
	if len(c.Channel) > MaxChannels {
		bad("channels", "%d channels linked, a box links at most %d", len(c.Channel), MaxChannels)
	}
	ids := map[int]bool{}
	for i, ch := range c.Channel {
		key := fmt.Sprintf("channels[%d]", i)
		if ch.ID < 1 || ch.ID > MaxChannels {
			bad(key+".id", "%d is not within 1..%d", ch.ID, MaxChannels)
		} else if ids[ch.ID] {
			bad(key+".id", "box channel %d is linked twice", ch.ID)
		}
		ids[ch.ID] = true
		if !names[ch.Device] {
			bad(key+".device", "%q is not a configured device", ch.Device)
		}
		if ch.DeviceChannel < 1 {
			bad(key+".device_channel", "%d must be >= 1", ch.DeviceChannel)
		}
		if ch.Stream != "main" && ch.Stream != "sub" {
			bad(key+".stream", "%q is not main or sub", ch.Stream)
		}
		if !validResolution(ch.Resolution) {
			bad(key+".resolution", "%q is not 1080p or 576p", ch.Resolution)
		}
	}
	return errs
}
