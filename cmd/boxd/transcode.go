package main

import (
	"errors"
	"log/slog"

	"github.com/spf13/cobra"
)

// TODO(owner of this file): replace with the real command.
func newTranscodeCmd(logger *slog.Logger) *cobra.Command {
	return &cobra.Command{
		Use:  "transcode",
		RunE: func(cmd *cobra.Command, args []string) error { return errors.New("transcode: not built yet") },
	}
}
