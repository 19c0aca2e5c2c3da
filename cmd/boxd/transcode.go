package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asticode/go-astiav"
	"github.com/spf13/cobra"

	"github.com/proconnect-oss/boxfw/transcode"
)

// newTranscodeCmd is the installer's check that the box can transcode a camera's
// stream: it runs the same in-process pipeline clips use, on a file.
func newTranscodeCmd(logger *slog.Logger) *cobra.Command {
	var (
		in, out, res, preset string
		fps, crf, threads    int
		start, duration      time.Duration
		verbose              bool
	)
	cmd := &cobra.Command{
		Use:   "transcode --in FILE --resolution 1080p|576p --fps N --out FILE.mp4",
		Short: "Transcode a video file the way clips are transcoded (H.264/H.265 in, H.264 fMP4 out)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := transcodeOptions(in, out, res, preset, fps, crf, threads, start, duration)
			if err != nil {
				return err
			}
			if !verbose {
				// FFmpeg reports every corrupt slice on stderr; the summary counts them.
				astiav.SetLogLevel(astiav.LogLevelFatal)
			}
			opts.Logger = logger
			tmp := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp")
			began := time.Now()
			r, err := transcode.TranscodeFile(cmd.Context(), in, tmp, opts)
			if err != nil {
				_ = os.Remove(tmp)
				return fmt.Errorf("transcode %s: %w", in, err)
			}
			if err := os.Rename(tmp, out); err != nil {
				_ = os.Remove(tmp)
				return fmt.Errorf("transcode: %w", err)
			}
			var size int64
			if st, err := os.Stat(out); err == nil {
				size = st.Size()
			}
			fmt.Fprintf(cmd.OutOrStdout(),
				"%s: %d frames, %.3fs, %d bytes, %dx%d @ %d fps (input %dx%d, %d frames decoded, %d dropped, %d decode errors) in %.2fs\n",
				out, r.Frames, r.Duration.Seconds(), size, r.Width, r.Height, opts.FPS,
				r.InputWidth, r.InputHeight, r.InputFrames, r.DroppedFrames, r.DecodeErrors, time.Since(began).Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&in, "in", "", "input video file: raw .h264/.h265 (25 fps assumed) or MP4/MKV (required)")
	f.StringVar(&out, "out", "", "output fragmented MP4 file (required)")
	f.StringVar(&res, "resolution", "", "output size class: 1080p (fits 1920x1080) or 576p (fits 704x576) (required)")
	f.IntVar(&fps, "fps", 0, fmt.Sprintf("output frame rate, 1..%d (required)", transcode.MaxFPS))
	f.StringVar(&preset, "preset", transcode.DefaultPreset, "libx264 preset")
	f.IntVar(&crf, "crf", transcode.DefaultCRF, "libx264 constant rate factor (1..51)")
	f.IntVar(&threads, "threads", 0, "decoder and encoder threads each (0 = one per core)")
	f.DurationVar(&start, "start", 0, "source time of the first output frame")
	f.DurationVar(&duration, "duration", 0, "maximum output duration (0 = to the end)")
	f.BoolVar(&verbose, "verbose", false, "let FFmpeg log decoder warnings")
	return cmd
}

// transcodeOptions checks the flags and names each bad one.
func transcodeOptions(in, out, res, preset string, fps, crf, threads int, start, duration time.Duration) (transcode.Options, error) {
	var errs []error
	if in == "" {
		errs = append(errs, errors.New("--in is required"))
	} else if st, err := os.Stat(in); err != nil {
		errs = append(errs, fmt.Errorf("--in: %w", err))
	} else if st.IsDir() {
		errs = append(errs, fmt.Errorf("--in: %s is a directory", in))
	}
	if out == "" {
		errs = append(errs, errors.New("--out is required"))
	}
	opts := transcode.Options{FPS: fps, Preset: preset, CRF: crf, Threads: threads, Start: start, Duration: duration}
	if res == "" {
		errs = append(errs, errors.New("--resolution is required (1080p or 576p)"))
	} else if r, err := transcode.ParseResolution(res); err != nil {
		errs = append(errs, fmt.Errorf("--resolution %q: want 1080p or 576p", res))
	} else {
		opts.Resolution = r
	}
	switch {
	case fps == 0:
		errs = append(errs, fmt.Errorf("--fps is required (1..%d)", transcode.MaxFPS))
	case fps < 1 || fps > transcode.MaxFPS:
		errs = append(errs, fmt.Errorf("--fps %d: want 1..%d", fps, transcode.MaxFPS))
	}
	if len(errs) == 0 {
		// The remaining checks (preset, crf, threads, start, duration) live in
		// Validate; each of its problems starts with the option's name.
		if err := opts.Validate(); err != nil {
			errs = append(errs, flagErrors(err)...)
		}
	}
	return opts, errors.Join(errs...)
}

// flagErrors prefixes each problem Validate reports with the flag that set it.
func flagErrors(err error) []error {
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	out := make([]error, 0, len(list))
	for _, e := range list {
		msg := strings.TrimPrefix(e.Error(), transcode.ErrInvalidOptions.Error()+": ")
		flag := "options"
		for _, name := range []string{"preset", "crf", "threads", "start", "duration", "fps", "resolution"} {
			if strings.HasPrefix(msg, name+" ") {
				flag = "--" + name
				msg = strings.TrimPrefix(msg, name+" ")
				break
			}
		}
		out = append(out, fmt.Errorf("%s %s: %w", flag, msg, transcode.ErrInvalidOptions))
	}
	return out
}
