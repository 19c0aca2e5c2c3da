#!/usr/bin/env bash
# Installs the Debian packages the box needs to build and test (FFmpeg 5.1 dev
# libraries for go-astiav, the ffmpeg/ffprobe CLI, pkg-config). Idempotent: nothing
# is fetched when everything is there. Pass extra package names as arguments
# (the benchmarks add awscli).
set -euo pipefail
pkgs=(libavcodec-dev libavformat-dev libavfilter-dev libavutil-dev libswscale-dev
      libswresample-dev libavdevice-dev pkg-config ffmpeg "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then exit 0; fi
echo "deps: installing ${missing[*]}"
SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
