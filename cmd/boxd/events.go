package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/proconnect-oss/boxfw/box/isapi"
)

// Exit codes of `boxd events`, so installers' scripts can tell a wrong password
// from a device that is not there.
const (
	exitAuth        = 2
	exitUnreachable = 3
)

// eventsFlags are the options of `boxd events`.
type eventsFlags struct {
	url, user, password string
	json                bool
	ipChannelOffset     int // -1: decide from the device (isapi.AutoIPChannelOffset)
	idleTimeout         time.Duration
	count               int
	timeout             time.Duration
}

// newEventsCmd is the installer's view of a device's alertStream: it connects
// the way the daemon does and prints every event (heartbeats included) as it
// arrives.
func newEventsCmd(logger *slog.Logger) *cobra.Command {
	var f eventsFlags
	cmd := &cobra.Command{
		Use:   "events --url http://host:port --user U --password P [--json]",
		Short: "Print a device's ISAPI alertStream events as they arrive",
		Long: `Connects to a Hikvision camera or NVR with HTTP Digest, prints its identity on
stderr, then prints one line per alertStream event on stdout (one JSON object per
line with --json), heartbeats included, until interrupted.

Exit status: 0 on interrupt or after --count events, 2 when the device rejects the
credentials, 3 when it cannot be reached, 1 on any other error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEvents(cmd.Context(), f, cmd.OutOrStdout(), cmd.ErrOrStderr(), logger)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "device URL, e.g. http://192.168.1.64:80 (required)")
	fl.StringVar(&f.user, "user", "admin", "device user")
	fl.StringVar(&f.password, "password", "", "device password")
	fl.BoolVar(&f.json, "json", false, "print one JSON object per line")
	fl.IntVar(&f.ipChannelOffset, "ip-channel-offset", -1,
		"NVRs that report IP channel N as 32+N: the offset to subtract (0 off, -1 decide from the device)")
	fl.DurationVar(&f.idleTimeout, "idle-timeout", 0, "reconnect when the stream sends nothing this long (0: never; TCP keepalive detects dead devices)")
	fl.IntVar(&f.count, "count", 0, "exit after this many events (0: run until interrupted)")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Second, "timeout of the discovery requests")
	_ = cmd.MarkFlagRequired("url")
	return cmd
}

func runEvents(ctx context.Context, f eventsFlags, stdout, stderr io.Writer, logger *slog.Logger) error {
	client, err := isapi.NewClient(isapi.ClientOptions{
		URL: f.url, Username: f.user, Password: f.password, Logger: logger, RequestTimeout: f.timeout,
	})
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	info, err := client.DeviceInfo(ctx)
	if err != nil {
		return classify(client.Host(), f.user, err)
	}
	hik, reason := isapi.IsHikvision(info)
	fmt.Fprintf(stderr, "device %s: %q model %s serial %s type %s firmware %s %s; hikvision=%t (%s)\n",
		client.Host(), info.DeviceName, info.Model, info.SerialNumber, info.DeviceType,
		info.FirmwareVersion, info.FirmwareReleasedDate, hik, reason)

	offset := f.ipChannelOffset
	if offset < 0 {
		offset = 0
		if info.IsRecorder() {
			chans, err := client.InputProxyChannels(ctx)
			if err != nil {
				logger.Warn("cannot list IP channels; channel numbers are printed as sent", "error", err)
			}
			offset = isapi.AutoIPChannelOffset(info, chans)
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	enc := json.NewEncoder(stdout)
	var printErr error
	printed := 0
	stream, err := isapi.NewAlertStream(client, isapi.StreamOptions{
		Logger:      logger,
		FailFast:    true,
		IdleTimeout: f.idleTimeout,
		Parse:       isapi.ParseOptions{IPChannelOffset: offset},
		OnConnect: func(path string) {
			fmt.Fprintf(stderr, "listening on %s%s (IP channel offset %d)\n", client.Host(), path, offset)
		},
		OnEvent: func(e isapi.Event) {
			if printErr != nil {
				return
			}
			if f.json {
				printErr = enc.Encode(e.Record())
			} else {
				_, printErr = fmt.Fprintln(stdout, formatEvent(e))
			}
			if printed++; printErr != nil || (f.count > 0 && printed >= f.count) {
				cancel() // stdout gone (e.g. a closed pipe) or enough events
			}
		},
	})
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	err = stream.Run(ctx)
	st := stream.Stats()
	fmt.Fprintf(stderr, "events %d (heartbeats %d), malformed parts skipped %d, non-XML parts %d, reconnects %d, bytes %d\n",
		st.Events, st.Heartbeats, st.Malformed, st.NonXMLParts, st.Reconnects, st.Bytes)
	switch {
	case printErr != nil:
		return &exitError{code: 1, err: fmt.Errorf("events: writing output: %w", printErr)}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return nil // interrupted or --count reached
	case err != nil:
		return classify(client.Host(), f.user, err)
	}
	return nil
}

// classify turns a connection error into a message an installer can act on.
func classify(host, user string, err error) error {
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.Is(err, isapi.ErrUnauthorized):
		return &exitError{code: exitAuth, err: fmt.Errorf("events: device %s rejected user %q (check the password; devices lock the account after a few failures): %w", host, user, err)}
	case errors.As(err, &opErr), errors.As(err, &netErr):
		return &exitError{code: exitUnreachable, err: fmt.Errorf("events: cannot reach device %s: %w", host, err)}
	}
	return &exitError{code: 1, err: fmt.Errorf("events: device %s: %w", host, err)}
}

// formatEvent is the readable one-line form.
func formatEvent(e isapi.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-16s %-8s ch%-3d time=%s count=%d", e.Received.Format(time.RFC3339), e.EventType, e.EventState, e.Channel, e.DateTimeRaw, e.ActivePostCount)
	if e.ChannelName != "" {
		fmt.Fprintf(&b, " name=%q", e.ChannelName)
	}
	if e.TargetType != "" {
		fmt.Fprintf(&b, " target=%s", e.TargetType)
	}
	if len(e.Regions) > 0 {
		fmt.Fprintf(&b, " regions=%d", len(e.Regions))
	}
	if e.EventDescription != "" {
		fmt.Fprintf(&b, " %q", e.EventDescription)
	}
	switch {
	case isapi.IsHeartbeat(e):
		b.WriteString(" [heartbeat]")
	case isapi.IsClipEvent(e.EventType):
		b.WriteString(" [clip]")
	}
	return b.String()
}
