#!/usr/bin/env bash
# Regenerates the looped camera media in testdata/media with the ffmpeg CLI.
# Each file is a raw Annex-B elementary stream (what a Hikvision camera puts on the
# wire): 25 fps, 6 s, a keyframe every 2 s, no B-frames, access unit delimiters on.
set -euo pipefail
out="$(dirname "$0")/../testdata/media"
mkdir -p "$out"
gen() { # name size codec bitrate
  local name=$1 size=$2 codec=$3 rate=$4 params
  if [[ $codec == libx264 ]]; then params=(-x264-params "aud=1:keyint=50:min-keyint=50:scenecut=0:bframes=0" -profile:v main)
  else params=(-x265-params "aud=1:keyint=50:min-keyint=50:scenecut=0:bframes=0:log-level=error:repeat-headers=1"); fi
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=$size:rate=25,format=yuv420p" -t 6 \
    -c:v "$codec" -preset veryfast -b:v "$rate" -maxrate "$rate" -bufsize "$rate" "${params[@]}" "$out/$name"
}
gen h264_1080p.h264 1920x1080 libx264 2M
gen h265_1080p.h265 1920x1080 libx265 1500k
gen h264_1440p.h264 2560x1440 libx264 3M
gen h265_1440p.h265 2560x1440 libx265 2M
gen h264_2160p.h264 3840x2160 libx264 4M
gen h265_2160p.h265 3840x2160 libx265 3M
gen h264_360p.h264 640x360 libx264 500k
gen h265_360p.h265 640x360 libx265 400k
ls -l "$out"
