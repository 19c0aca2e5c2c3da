// Command camsim runs a simulated Hikvision camera or NVR (RTSP + ISAPI +
// alertStream + the /sim/ test control API) for the demo and manual tests.
//
//	camsim --mode nvr --channel h264_1080p.h264,h264_360p.h264 --channel h265_1080p.h265,h265_360p.h265
//
// It prints the stream and API URLs, logs with slog to stderr and exits cleanly on
// SIGINT/SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/proconnect-oss/boxfw/cloudsim/camsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "camsim:", err)
		os.Exit(1)
	}
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// run serves until ctx ends (main cancels it on SIGINT/SIGTERM).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("camsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg                  camsim.Config
		channels, quirks     listFlag
		events               listFlag
		alertStyle, logLevel string
	)
	fs.StringVar(&cfg.Mode, "mode", "camera", "device mode: camera or nvr")
	fs.StringVar(&cfg.Manufacturer, "manufacturer", "hikvision", `"hikvision", "other" (reports Dahua) or a manufacturer name`)
	fs.Var(&channels, "channel", "a channel's media as main[,sub] file names in --media-dir (repeat per channel; default one h264_1080p/h264_360p channel)")
	fs.StringVar(&cfg.User, "user", "admin", "RTSP and ISAPI user")
	fs.StringVar(&cfg.Password, "password", "Admin12345", "RTSP and ISAPI password")
	fs.StringVar(&cfg.RTSPAddr, "rtsp", "127.0.0.1:8554", "RTSP listen address")
	fs.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8081", "ISAPI and /sim/ control listen address")
	fs.StringVar(&cfg.Serial, "serial", "", "serial number (default derived from the model)")
	fs.StringVar(&cfg.Model, "model", "", "model (default per mode and manufacturer)")
	fs.StringVar(&cfg.MediaDir, "media-dir", "testdata/media", "directory of the Annex-B media files")
	fs.StringVar(&cfg.Realm, "realm", "", "ISAPI digest realm (default hex derived from the serial)")
	fs.DurationVar(&cfg.NonceTTL, "nonce-ttl", 5*time.Minute, "ISAPI digest nonce lifetime")
	fs.BoolVar(&cfg.BasicAuth, "basic-auth", false, "ISAPI accepts Basic auth only (old cameras)")
	fs.BoolVar(&cfg.LegacyXML, "legacy-xml", false, "ISAPI documents in the ver10 namespace")
	fs.StringVar(&alertStyle, "alert-style", "", "alertStream style camera or nvr (default follows --mode)")
	fs.DurationVar(&cfg.Alert.Heartbeat, "heartbeat", 0, "alertStream heartbeat interval (0: 10s camera style, none NVR style; negative disables)")
	fs.DurationVar(&cfg.Alert.Repeat, "repeat", time.Second, "how often active events are repeated")
	fs.Var(&quirks, "quirk", "alertStream quirk as name=value over the style preset, e.g. lfBodies=true, namespace=ver10 (repeatable)")
	fs.Var(&events, "event", "scripted event at,channel,type,seconds e.g. 5s,1,VMD,3 (repeatable)")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	for _, c := range channels {
		main, sub, _ := strings.Cut(c, ",")
		cfg.Channels = append(cfg.Channels, camsim.ChannelConfig{Main: strings.TrimSpace(main), Sub: strings.TrimSpace(sub)})
	}
	cfg.Alert.Style = alertStyle
	if alertStyle == "" && cfg.Mode == camsim.ModeNVR {
		cfg.Alert.Style = camsim.StyleNVR
	}
	if len(quirks) > 0 {
		q := camsim.CameraQuirks()
		if cfg.Alert.Style == camsim.StyleNVR {
			q = camsim.NVRQuirks()
		}
		for _, kv := range quirks {
			if err := applyQuirk(&q, kv); err != nil {
				return err
			}
		}
		cfg.Alert.Quirks = &q
	}
	for _, e := range events {
		ev, err := parseEvent(e)
		if err != nil {
			return err
		}
		cfg.Alert.Script = append(cfg.Alert.Script, ev)
	}

	sim, err := camsim.New(cfg, logger)
	if err != nil {
		return err
	}
	if err := sim.Start(ctx); err != nil {
		return err
	}
	defer sim.Close()

	eff := sim.Config()
	fmt.Fprintf(stdout, "camsim %s (%s %s, serial %s)\n", eff.Mode, eff.Manufacturer, eff.Model, eff.Serial)
	fmt.Fprintf(stdout, "ISAPI:   http://%s/ISAPI/System/deviceInfo (user %s)\n", sim.HTTPAddr(), eff.User)
	fmt.Fprintf(stdout, "control: http://%s/sim/status\n", sim.HTTPAddr())
	for i, ch := range eff.Channels {
		fmt.Fprintf(stdout, "channel %d main %-18s %s\n", i+1, ch.Main, sim.StreamURL(i+1, 1))
		fmt.Fprintf(stdout, "channel %d sub  %-18s %s\n", i+1, ch.Sub, sim.StreamURL(i+1, 2))
	}
	<-ctx.Done()
	logger.Info("shutting down")
	return sim.Close()
}

// applyQuirk sets one AlertQuirks field from name=value through its JSON name.
func applyQuirk(q *camsim.AlertQuirks, kv string) error {
	name, val, ok := strings.Cut(kv, "=")
	if !ok {
		val = "true"
	}
	var v any = val
	if b, err := strconv.ParseBool(val); err == nil {
		v = b
	}
	raw, err := json.Marshal(map[string]any{name: v})
	if err != nil {
		return fmt.Errorf("--quirk %s: %w", kv, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(q); err != nil {
		return fmt.Errorf("--quirk %s: %w", kv, err)
	}
	return nil
}

func parseEvent(s string) (camsim.ScriptEvent, error) {
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return camsim.ScriptEvent{}, fmt.Errorf("--event %q: want at,channel,type,seconds", s)
	}
	at, err1 := time.ParseDuration(f[0])
	ch, err2 := strconv.Atoi(f[1])
	secs, err3 := strconv.ParseFloat(f[3], 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return camsim.ScriptEvent{}, fmt.Errorf("--event %q: %w", s, err)
	}
	return camsim.ScriptEvent{At: at, Channel: ch, Type: f[2], Duration: time.Duration(secs * float64(time.Second))}, nil
}
