#!/usr/bin/env bash
# cli_ratio.sh: CPU time of `boxd transcode` against the ffmpeg CLI doing the same
# job (same input, preset, CRF, x264 params as transcode/encoder.go x264Params,
# output size, fps, threads=auto, fMP4 flags).
# The input is testdata/media/h264_1080p.h264 looped to 30 s and remuxed to MP4.
# Each side runs RUNS times (default 3), alternating, and the minimum user+sys
# CPU time is kept, which filters out noise from other work on the machine.
# Target: boxd/ffmpeg <= 1.05. Exit status 1 if a row misses it and STRICT=1.
#
# Usage: bash bench/transcode/cli_ratio.sh   (from the repository root)
set -euo pipefail

cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
TARGET=${TARGET:-1.05}
PRESET=${PRESET:-veryfast}
CRF=${CRF:-23}
# resolution:fps:width:height rows (width/height: what boxd computes for a 1920x1080 input)
ROWS=${ROWS:-"1080p:6:1920:1080 576p:10:704:396"}

for tool in ffmpeg ffprobe go; do
	command -v "$tool" >/dev/null || { echo "cli_ratio: $tool not found (run make deps)" >&2; exit 2; }
done
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "cli_ratio: /usr/bin/time not found (apt-get install time)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/boxd" ./cmd/boxd
# Concatenating the Annex-B clip is a valid stream (each copy starts with SPS, PPS
# and an IDR); raw H.264 cannot be -stream_loop'ed because it is not seekable.
for _ in 1 2 3 4 5; do cat testdata/media/h264_1080p.h264; done >"$work/loop.h264"
ffmpeg -nostdin -v error -y -f h264 -framerate 25 -i "$work/loop.h264" -c copy "$work/in.mp4"
indur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/in.mp4")

# cpu CMD... runs CMD and prints its user+sys CPU seconds (children included).
cpu() {
	"$TIME" -f '%U %S' -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; return 1; }
	awk '{printf "%.3f", $1 + $2}' "$work/time"
}
minf() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b < a) print b; else print a }'; }

echo "cli_ratio: input $indur s of 1920x1080 25 fps H.264 (mp4), preset $PRESET, crf $CRF, threads auto, $RUNS runs each, min CPU (user+sys)"
printf 'cli_ratio: %-12s %10s %10s %8s %s\n' job boxd_cpu ffmpeg_cpu ratio verdict
fail=0
for row in $ROWS; do
	IFS=: read -r res fps w h <<<"$row"
	gop=$((2 * fps))
	boxd_min="" ffmpeg_min=""
	for ((i = 0; i < RUNS; i++)); do
		t=$(cpu "$work/boxd" transcode --in "$work/in.mp4" --resolution "$res" --fps "$fps" --preset "$PRESET" \
			--crf "$CRF" --threads 0 --out "$work/boxd.mp4")
		boxd_min=$(minf "$boxd_min" "$t")
		t=$(cpu ffmpeg -nostdin -v error -y -threads 0 -i "$work/in.mp4" \
			-vf "fps=$fps,scale=$w:$h:flags=bicubic" -c:v libx264 -preset "$PRESET" -crf "$CRF" -threads 0 \
			-g "$gop" -x264-params "keyint=$gop:min-keyint=$gop:scenecut=0:bframes=0" -pix_fmt yuv420p \
			-movflags frag_keyframe+empty_moov+default_base_moof -f mp4 "$work/ffmpeg.mp4")
		ffmpeg_min=$(minf "$ffmpeg_min" "$t")
	done
	# Same job: same size and frame count out of both.
	b=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=width,height,nb_read_packets -of csv=p=0 "$work/boxd.mp4")
	f=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=width,height,nb_read_packets -of csv=p=0 "$work/ffmpeg.mp4")
	ratio=$(awk -v a="$boxd_min" -v b="$ffmpeg_min" 'BEGIN { printf "%.3f", a / b }')
	verdict=$(awk -v r="$ratio" -v t="$TARGET" 'BEGIN { print (r <= t) ? "OK" : "ABOVE TARGET" }')
	[ "$verdict" = OK ] || fail=1
	printf 'cli_ratio: %-12s %9.2fs %9.2fs %8s %s (target <= %s; out boxd %s, ffmpeg %s [w,h,frames])\n' \
		"$res@${fps}fps" "$boxd_min" "$ffmpeg_min" "$ratio" "$verdict" "$TARGET" "$b" "$f"
done
if [ "$fail" = 1 ] && [ "${STRICT:-0}" = 1 ]; then exit 1; fi
