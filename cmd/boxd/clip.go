package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/asticode/go-astiav"
	"github.com/spf13/cobra"

	"github.com/proconnect-oss/boxfw/box/admission"
	"github.com/proconnect-oss/boxfw/box/ingest"
	"github.com/proconnect-oss/boxfw/box/media"
	"github.com/proconnect-oss/boxfw/transcode"
)

// Exit codes of `boxd clip`, so scripts can tell a refused camera from a dead one.
const (
	exitClipRefused     = 3
	exitClipUnreachable = 4
)

// errUnreachable marks a camera that gave no video for --timeout.
var errUnreachable = errors.New("camera unreachable")

// The clip is a channel.Clip, which transcode reads as its Source.
var _ transcode.Source = (*ingest.Clip)(nil)

// clipFlags are the command's inputs.
type clipFlags struct {
	url, resolution, out string
	seconds              float64
	fps                  int
	timeout              time.Duration
	verbose              bool
}

// newClipCmd is the installer's end-to-end check of one camera: pull its RTSP stream
// through ingest, apply the per-channel admission limit and write an N-second clip with
// the same transcoder event clips use.
func newClipCmd(logger *slog.Logger) *cobra.Command {
	var f clipFlags
	cmd := &cobra.Command{
		Use:   "clip --url rtsp://user:pass@host:554/Streaming/Channels/101 --seconds N --resolution 1080p|576p --out FILE.mp4",
		Short: "Pull a camera's RTSP stream and write an N-second transcoded clip",
		Long: "Pull a camera's RTSP stream (H.264 or H.265) through the box's ingest, check it against the\n" +
			"per-channel admission limit (at most 3840x2160, 8 MP) and write an N-second H.264 fMP4 clip.\n" +
			"Exit status 3: refused by admission; 4: camera unreachable (no video for --timeout).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runClip(cmd, logger, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "camera RTSP URL with credentials (required)")
	fl.Float64Var(&f.seconds, "seconds", 0, "clip length in seconds (required)")
	fl.StringVar(&f.resolution, "resolution", "", "output size class: 1080p or 576p (required)")
	fl.IntVar(&f.fps, "fps", admission.OutputFPS(1), "output frame rate (default: the rate for one linked channel)")
	fl.StringVar(&f.out, "out", "", "output fragmented MP4 file (required)")
	fl.DurationVar(&f.timeout, "timeout", 15*time.Second, "give up when the camera sends no video for this long")
	fl.BoolVar(&f.verbose, "verbose", false, "let FFmpeg log decoder warnings")
	return cmd
}

func (f clipFlags) options() (transcode.Options, error) {
	var errs []error
	if f.url == "" {
		errs = append(errs, errors.New("--url is required"))
	}
	if f.out == "" {
		errs = append(errs, errors.New("--out is required"))
	}
	if f.seconds <= 0 {
		errs = append(errs, fmt.Errorf("--seconds %g: want > 0", f.seconds))
	}
	if f.timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout %s: want > 0", f.timeout))
	}
	opts := transcode.Options{FPS: f.fps, Duration: time.Duration(f.seconds * float64(time.Second))}
	if f.resolution == "" {
		errs = append(errs, errors.New("--resolution is required (1080p or 576p)"))
	} else if r, err := transcode.ParseResolution(f.resolution); err != nil {
		errs = append(errs, fmt.Errorf("--resolution %q: want 1080p or 576p", f.resolution))
	} else {
		opts.Resolution = r
	}
	if f.fps < 1 || f.fps > transcode.MaxFPS {
		errs = append(errs, fmt.Errorf("--fps %d: want 1..%d", f.fps, transcode.MaxFPS))
	}
	if len(errs) == 0 {
		if err := opts.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return opts, errors.Join(errs...)
}

func runClip(cmd *cobra.Command, logger *slog.Logger, f clipFlags) error {
	opts, err := f.options()
	if err != nil {
		return err
	}
	if !f.verbose {
		astiav.SetLogLevel(astiav.LogLevelFatal)
	}
	opts.Logger = logger
	ctx, cancel := context.WithCancelCause(cmd.Context())
	defer cancel(nil)

	ch, err := ingest.New(ingest.Options{
		Channel: 1,
		URL:     f.url,
		Now:     time.Now,
		Logger:  logger,
		// No vendor check here: any RTSP camera may be tested, only the size limit applies.
		Admit: func(in media.StreamInfo) error {
			err := admission.CheckResolution(1, in.Width, in.Height)
			if err != nil {
				cancel(err) // a refused camera is final for a diagnostic: no retry
			}
			return err
		},
		BackoffMin: 200 * time.Millisecond,
		BackoffMax: 2 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("clip: %w", err)
	}
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		_ = ch.Run(ctx) // returns only when ctx ends
	}()
	defer func() { cancel(nil); <-runDone }()
	go watchProgress(ctx, cancel, ch, f.timeout)

	// The source has no end of its own: opts.Duration makes the transcoder stop at
	// exactly N seconds of output, once it has read a unit at or past the last tick.
	// After an outage mid-clip that unit may come late (a camera restart costs up to a
	// GOP); the constant-rate output holds the last picture across the gap, and the
	// progress watchdog bounds the wait.
	clip := ch.Clip(ingest.ClipOptions{})
	defer clip.Close()
	tmp := filepath.Join(filepath.Dir(f.out), "."+filepath.Base(f.out)+".tmp")
	began := time.Now()
	r, err := transcode.Transcode(ctx, clip, tmp, opts)
	if err == nil && r.Frames == 0 {
		err = errors.New("no frames decoded")
	}
	if err != nil {
		_ = os.Remove(tmp)
		cause := context.Cause(ctx)
		var refused *admission.RefusedError
		switch {
		case errors.As(cause, &refused):
			return &exitError{code: exitClipRefused, err: fmt.Errorf("clip: %w", refused)}
		case errors.Is(cause, errUnreachable):
			return &exitError{code: exitClipUnreachable, err: fmt.Errorf("clip: %w", cause)}
		case cmd.Context().Err() != nil:
			return fmt.Errorf("clip: interrupted: %w", cmd.Context().Err())
		}
		return fmt.Errorf("clip %s: %w", ingest.Redact(f.url), err)
	}
	if err := os.Rename(tmp, f.out); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("clip: %w", err)
	}
	st := ch.Stats()
	var size int64
	if fi, err := os.Stat(f.out); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(cmd.OutOrStdout(),
		"%s: %d frames, %.3fs, %d bytes, %dx%d @ %d fps from %s %dx%d (%d units, %d connects, %d decode errors, %d dropped) in %.2fs\n",
		f.out, r.Frames, r.Duration.Seconds(), size, r.Width, r.Height, opts.FPS, st.Codec, st.Width, st.Height,
		r.AccessUnits, st.Connects, r.DecodeErrors+int(st.DecodeErrors), clip.Dropped(), time.Since(began).Seconds())
	return nil
}

// watchProgress cancels the clip when the channel has sent no access unit for timeout:
// at the start (camera unreachable, wrong password) or mid-clip (camera gone for good).
// Shorter outages are ridden out by ingest's reconnects.
func watchProgress(ctx context.Context, cancel context.CancelCauseFunc, ch *ingest.Channel, timeout time.Duration) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last, lastAt := uint64(0), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			st := ch.Stats()
			if st.AUs != last {
				last, lastAt = st.AUs, now
				continue
			}
			if now.Sub(lastAt) >= timeout {
				why := st.LastError
				if why == "" {
					why = "no error reported, but no keyframe arrived"
				}
				cancel(fmt.Errorf("%w: %s: no video for %s (state %s, last error: %s)",
					errUnreachable, st.URL, timeout, st.State, why))
				return
			}
		}
	}
}
