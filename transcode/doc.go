// Package transcode owns the box's in-process transcoder: it turns the compressed
// access units of one camera stream (a [Source]) into a fragmented MP4 clip that
// browsers, ffprobe and ffplay play.
//
// # Pipeline
//
// decode (FFmpeg h264/hevc) -> constant-frame-rate selection -> swscale -> libx264
// -> fragmented MP4 (movflags frag_keyframe+empty_moov+default_base_moof).
// Everything runs on the caller's goroutine; FFmpeg and x264 bring their own worker
// threads, bounded by [Options.Threads].
//
// # Frame-rate rule
//
// Output frame n has PTS n in time base 1/FPS and shows the source instant
// T(n) = anchor + n/FPS, computed from n (never accumulated, so there is no drift).
// The anchor is the PTS of the first decoded frame at or after [Options.Start].
// For each tick T(n) the decoded frame whose PTS is nearest to T(n) is chosen; a tie
// goes to the earlier frame. Frames no tick chooses are dropped; a frame chosen by
// several ticks (the source had a gap, or its rate is below FPS) is repeated, so
// the output stays constant frame rate. After the last source frame, ticks are
// filled while the last frame is still the nearest one (half a source frame
// interval), so a clip of D seconds yields D*FPS frames.
//
// # Output size
//
// The display size of the source (width stretched by its sample aspect ratio) is
// fitted inside the target box (1920x1080 or 704x576) keeping the display aspect,
// never upscaled, and rounded to even dimensions with square pixels. A 16:9 source
// in the 704x576 box gives 704x396 (no letterbox bars: they would cost bits and
// upload time and the player letterboxes anyway).
//
// # Sources
//
// [OpenFile] demuxes raw Annex-B (.h264/.h265) and MP4/MKV files with libavformat;
// [ParseAnnexB] and [SliceSource] build a source in memory the way ingest does
// (NAL units without start codes). The decoder gets the parameter sets of
// [media.StreamInfo] as extradata and also accepts them in-band.
//
// # Encoder settings and capacity
//
// libx264 runs the chosen preset (default veryfast) at CRF 23 with a fixed GOP of
// 2 s (no scene-cut keyframes) and no B-frames: at the box's low output rates
// B-frames cost about a quarter of the encoder's CPU for ~1.5% fewer bytes.
// Measured on the 2-core test machine (shared, so figures vary by +-10%), one
// 1080p25 H.264 channel to 1080p@6 costs about 0.17 CPU-seconds per media second
// with one thread per codec (decode ~0.08, encode ~0.09). Eight channels at once
// cost 0.17 per channel with Threads 1 (real-time factor 1.45 on two idle cores,
// target 1.3) but 0.21 with Threads 0 (1.21: eight sets of frame threads
// oversubscribe the cores), so admission control must split the cores; superfast
// reaches 1.6 at ~1.5x the bytes. Run bench/transcode to measure a machine.
//
// # Robustness and resources
//
// Undecodable units are counted in [Result.DecodeErrors] and skipped. Cancelling ctx
// stops the work within one access unit. Every FFmpeg object is freed before
// [Transcode] returns, on every path.
package transcode
