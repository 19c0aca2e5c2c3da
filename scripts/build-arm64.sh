#!/usr/bin/env bash
# Cross-builds boxd for arm64 boxes (cgo + FFmpeg 5.1 arm64 libraries from Debian)
# into bin/arm64/, then smoke-tests it under qemu-user: a real transcode of a
# testdata clip, checked with ffprobe. Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
pkgs=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)
for l in libavcodec libavformat libavfilter libavutil libswscale libswresample libavdevice; do pkgs+=("$l-dev:arm64"); done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "build-arm64: installing ${missing[*]}"
  dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
mkdir -p bin/arm64
CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=aarch64-linux-gnu-gcc \
  PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig \
  go build -trimpath -o bin/arm64/ ./cmd/boxd
file bin/arm64/boxd
out=$(mktemp --suffix .mp4)
trap 'rm -f "$out"' EXIT
qemu-aarch64-static bin/arm64/boxd transcode --in testdata/media/h264_360p.h264 --resolution 576p --fps 10 --out "$out"
ffprobe -v error -show_entries stream=codec_name,width,height,r_frame_rate -of csv=p=0 "$out"
