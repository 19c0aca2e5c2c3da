package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"time"

	"github.com/asticode/go-astiav"
)

// Result describes a finished transcode.
type Result struct {
	// Frames is the number of output frames; Duration is Frames/FPS.
	Frames   int
	Duration time.Duration
	// Width and Height are the output size.
	Width, Height int
	// Start is the source PTS of output frame 0 (the first frame at or after
	// Options.Start); it maps the clip back onto the stream.
	Start time.Duration
	// InputWidth and InputHeight are the decoded source size.
	InputWidth, InputHeight int
	// AccessUnits is the number of units read from the source, SkippedUnits those
	// dropped before the first keyframe.
	AccessUnits, SkippedUnits int
	// InputFrames is the number of decoded frames; DroppedFrames of them were not
	// output (before Start, or thinned to FPS); DuplicatedFrames counts output
	// frames repeating the previous one to fill a source gap.
	InputFrames, DroppedFrames, DuplicatedFrames int
	// DecodeErrors counts units or frames the decoder rejected (corrupt data).
	DecodeErrors int
	// Bytes is the size of the encoded video (without MP4 overhead).
	Bytes int64
}

// TranscodeFile transcodes the video file in to out (see OpenFile and Transcode).
func TranscodeFile(ctx context.Context, in, out string, opts Options) (Result, error) {
	src, err := OpenFile(in)
	if err != nil {
		return Result{}, err
	}
	defer src.Close()
	return Transcode(ctx, src, out, opts)
}

// Transcode decodes src, selects frames at opts.FPS, scales and encodes them into
// the fragmented MP4 file out (created or truncated). It returns when the source
// ends, the Duration cap is reached, or ctx is done. The file is written in place:
// callers wanting atomicity pass a temporary name and rename it on success; on
// error the file is incomplete.
func Transcode(ctx context.Context, src Source, out string, opts Options) (Result, error) {
	if err := opts.Validate(); err != nil {
		return Result{}, err
	}
	opts = opts.withDefaults()
	info, err := src.Info(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("transcode: source info: %w", err)
	}
	p := &pipeline{
		opts: opts,
		out:  out,
		log:  opts.Logger.With("component", "transcode"),
		sel:  newFrameSelector(opts.FPS, opts.Start, opts.maxFrames()),
		prev: astiav.AllocFrame(),
	}
	defer p.close()
	if p.dec, err = newDecoder(info, opts.Threads); err != nil {
		return Result{}, err
	}
	began := time.Now()
	err = p.run(ctx, src)
	res := p.result()
	if res.DecodeErrors > 0 || res.SkippedUnits > 0 {
		// Once per clip, with counts: corrupt input is expected from cameras on
		// lossy links and must not flood the log.
		p.log.Warn("damaged input skipped", "decode_errors", res.DecodeErrors,
			"last_decode_error", p.dec.last, "units_before_keyframe", res.SkippedUnits)
	}
	if err != nil {
		return res, err
	}
	p.log.Debug("transcoded", "frames", res.Frames, "input_frames", res.InputFrames,
		"decode_errors", res.DecodeErrors, "width", res.Width, "height", res.Height, "took", time.Since(began))
	return res, nil
}

// pipeline holds the state of one Transcode call.
type pipeline struct {
	opts Options
	out  string
	log  *slog.Logger
	sel  *frameSelector
	dec  *decoder
	enc  *encoder
	sws  *astiav.SoftwareScaleContext
	res  Result

	// prev is the last accepted decoded frame, held until the next one shows
	// which ticks it is nearest to. prevUses counts the ticks it filled.
	prev     *astiav.Frame
	havePrev bool
	prevUses int
	prevSeq  int

	// scaled caches the scaled picture of frame scaledSeq, so a repeated frame
	// is not scaled twice.
	scaled    *astiav.Frame
	scaledSeq int
	seq       int

	// swsSrc is the input geometry sws was built for.
	swsW, swsH int
	swsFmt     astiav.PixelFormat
}

// yieldEvery is below sysmon's 10 ms forced-preemption threshold.
const yieldEvery = 4 * time.Millisecond

func (p *pipeline) run(ctx context.Context, src Source) error {
	started := false
	lastYield := time.Now()
	for !p.sel.done() {
		au, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("transcode: read source: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		p.res.AccessUnits++
		// A goroutine that never passes through the scheduler is seen by sysmon
		// as running too long (10 ms) and is preempted with a signal, its P
		// retaken, and sysmon then polls every 20 us: measured ~5% of the CPU,
		// all in context switches. Yielding every few milliseconds keeps the
		// scheduler tick moving at the cost of one wakeup each.
		if now := time.Now(); now.Sub(lastYield) >= yieldEvery {
			runtime.Gosched()
			lastYield = now
		}
		if !started {
			// Decoding from a non-key unit only yields errors and grey pictures.
			if !isKeyAU(au) {
				p.res.SkippedUnits++
				continue
			}
			started = true
		}
		if err := p.dec.decode(au, p.onFrame); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !p.sel.done() {
		if err := p.dec.flush(p.onFrame); err != nil {
			return err
		}
	}
	if p.havePrev {
		if err := p.emitPrev(p.sel.flush()); err != nil {
			return err
		}
		p.retirePrev()
	}
	if p.enc == nil {
		if p.dec.last != nil {
			return fmt.Errorf("%w (%d decode errors, last: %v)", ErrNoFrames, p.dec.errors, p.dec.last)
		}
		return ErrNoFrames
	}
	if err := p.enc.finish(); err != nil {
		return err
	}
	return nil
}

// onFrame takes one decoded frame through the frame-rate selection.
func (p *pipeline) onFrame(f *astiav.Frame) error {
	p.res.InputFrames++
	pts, ok := framePTS(f)
	if !ok {
		p.res.DroppedFrames++
		return nil
	}
	forPrev, forCur, accepted := p.sel.push(pts)
	if !accepted {
		p.res.DroppedFrames++
		return nil
	}
	if err := p.emitPrev(forPrev); err != nil {
		return err
	}
	p.retirePrev()
	p.prev.MoveRef(f)
	p.havePrev = true
	p.seq++
	p.prevSeq = p.seq
	if p.res.Frames == 0 && forCur > 0 {
		p.res.Start = pts
	}
	return p.emitPrev(forCur)
}

// retirePrev accounts for the previous frame before it is replaced.
func (p *pipeline) retirePrev() {
	if !p.havePrev {
		return
	}
	if p.prevUses == 0 {
		p.res.DroppedFrames++
	} else {
		p.res.DuplicatedFrames += p.prevUses - 1
	}
	p.prev.Unref()
	p.havePrev, p.prevUses = false, 0
}

// emitPrev outputs the held frame n times.
func (p *pipeline) emitPrev(n int) error {
	for i := 0; i < n; i++ {
		if err := p.emit(p.prev); err != nil {
			return err
		}
		p.prevUses++
	}
	return nil
}

// emit encodes f as the next output frame.
func (p *pipeline) emit(f *astiav.Frame) error {
	if p.enc == nil {
		if err := p.openEncoder(f); err != nil {
			return err
		}
	}
	out, err := p.convert(f)
	if err != nil {
		return err
	}
	out.SetPts(int64(p.res.Frames))
	// A decoded frame carries its source picture type, which libx264 would obey
	// as a forced frame type; the encoder must choose its own GOP.
	out.SetPictureType(astiav.PictureTypeNone)
	if err := p.enc.encode(out); err != nil {
		return err
	}
	p.res.Frames++
	return nil
}

func (p *pipeline) openEncoder(f *astiav.Frame) error {
	sar := f.SampleAspectRatio()
	w, h := outputSize(f.Width(), f.Height(), sar.Num(), sar.Den(), p.opts.Resolution)
	p.res.InputWidth, p.res.InputHeight = f.Width(), f.Height()
	p.res.Width, p.res.Height = w, h
	enc, err := newEncoder(p.out, encoderConfig{
		width: w, height: h, fps: p.opts.FPS, preset: p.opts.Preset,
		crf: p.opts.CRF, maxBitrate: p.opts.MaxBitrate, threads: p.opts.Threads,
	})
	if err != nil {
		return err
	}
	p.enc = enc
	return nil
}

// convert returns f at the output size in yuv420p: f itself when it already is,
// else a freshly scaled copy (the encoder may still hold the previous one).
func (p *pipeline) convert(f *astiav.Frame) (*astiav.Frame, error) {
	srcFmt := f.PixelFormat()
	if srcFmt == astiav.PixelFormatYuv420P && f.ColorRange() == astiav.ColorRangeJpeg {
		// Full-range YUV flagged only in the VUI: tell swscale, or blacks turn grey.
		srcFmt = astiav.PixelFormatYuvj420P
	}
	if f.Width() == p.res.Width && f.Height() == p.res.Height && srcFmt == astiav.PixelFormatYuv420P {
		return f, nil
	}
	if p.scaled != nil && p.scaledSeq == p.prevSeq && f == p.prev {
		return p.scaled, nil
	}
	if p.sws == nil || p.swsW != f.Width() || p.swsH != f.Height() || p.swsFmt != srcFmt {
		// (Re)built when the source geometry changes mid-stream (new SPS); the
		// output size stays that of the first frame.
		if p.sws != nil {
			p.sws.Free()
			p.sws = nil
		}
		sws, err := astiav.CreateSoftwareScaleContext(f.Width(), f.Height(), srcFmt,
			p.res.Width, p.res.Height, astiav.PixelFormatYuv420P,
			astiav.NewSoftwareScaleContextFlags(astiav.SoftwareScaleContextFlagBicubic))
		if err != nil {
			return nil, fmt.Errorf("transcode: scaler %dx%d %v -> %dx%d: %w",
				f.Width(), f.Height(), srcFmt, p.res.Width, p.res.Height, err)
		}
		p.sws, p.swsW, p.swsH, p.swsFmt = sws, f.Width(), f.Height(), srcFmt
	}
	if p.scaled == nil {
		if p.scaled = astiav.AllocFrame(); p.scaled == nil {
			return nil, errors.New("transcode: allocating frame failed")
		}
		p.scaled.SetWidth(p.res.Width)
		p.scaled.SetHeight(p.res.Height)
		p.scaled.SetPixelFormat(astiav.PixelFormatYuv420P)
		if err := p.scaled.AllocBuffer(0); err != nil {
			return nil, fmt.Errorf("transcode: allocating frame: %w", err)
		}
	}
	// One buffer reused for every output picture: libx264 copies its input, so
	// the encoder has normally let go of it; if not, this copies rather than
	// overwriting a picture still in use.
	if err := makeWritable(p.scaled); err != nil {
		return nil, err
	}
	if srcFmt != f.PixelFormat() {
		f.SetPixelFormat(srcFmt)
	}
	if err := p.sws.ScaleFrame(f, p.scaled); err != nil {
		return nil, fmt.Errorf("transcode: scale: %w", err)
	}
	p.scaledSeq = p.prevSeq
	return p.scaled, nil
}

func (p *pipeline) result() Result {
	r := p.res
	if p.dec != nil {
		r.DecodeErrors = p.dec.errors
	}
	if p.enc != nil {
		r.Bytes = p.enc.bytes
	}
	r.Duration = time.Duration(int64(r.Frames) * int64(time.Second) / int64(p.opts.FPS))
	return r
}

func (p *pipeline) close() {
	if p.enc != nil {
		p.enc.close()
	}
	if p.dec != nil {
		p.dec.close()
	}
	if p.sws != nil {
		p.sws.Free()
	}
	if p.scaled != nil {
		p.scaled.Free()
	}
	if p.prev != nil {
		p.prev.Free()
	}
}

// The file and memory sources satisfy Source.
var (
	_ Source = (*FileSource)(nil)
	_ Source = (*SliceSource)(nil)
)
