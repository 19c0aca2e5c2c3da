package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/asticode/go-astiav"
	"github.com/spf13/cobra"

	"github.com/proconnect-oss/boxfw/box/config"
	"github.com/proconnect-oss/boxfw/box/daemon"
)

func newRunCmd(logger *slog.Logger) *cobra.Command {
	var path string
	var check bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the box: ingest, events, clips, ANR spool, uplink, cloud link, status",
		Long: `Run the box daemon with the configuration layered from the embedded defaults,
the YAML file given with --config, BOX_* environment variables and flags.
SIGTERM or Ctrl-C drains cleanly: open clip windows close, clips being cut are
finished and spooled, then everything stops. Status: http://<status.listen>/v1/status`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(path, cmd.Flags())
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if err := cfg.Validate(); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("invalid configuration:\n%w", err)}
			}
			if check {
				fmt.Fprintln(cmd.OutOrStdout(), "configuration OK")
				return nil
			}
			log := newLogger(cfg.Log)
			// FFmpeg prints encoder banners and statistics at its default level;
			// a daemon wants its errors only (problems surface in status).
			astiav.SetLogLevel(astiav.LogLevelError)
			d, err := daemon.New(cfg, daemon.Options{Logger: log})
			if err != nil {
				return err
			}
			return d.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "YAML configuration file (default: embedded defaults only)")
	cmd.Flags().BoolVar(&check, "check", false, "validate the configuration and exit")
	config.Flags(cmd.Flags())
	_ = logger
	return cmd
}

func newLogger(c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToLower(c.Level)))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
