package main

import (
	"errors"
	"log/slog"

	"github.com/spf13/cobra"
)

// TODO(owner of this file): replace with the real command.
func newClipCmd(logger *slog.Logger) *cobra.Command {
	return &cobra.Command{
		Use:  "clip",
		RunE: func(cmd *cobra.Command, args []string) error { return errors.New("clip: not built yet") },
	}
}
