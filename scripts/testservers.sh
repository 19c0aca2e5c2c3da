#!/usr/bin/env bash
# Builds the real servers the integration tests and benchmarks run against, from the
# Go module proxy, into a cache outside the checkout. Idempotent: a server already
# built at the pinned version is left alone.
set -euo pipefail

CACHE="${BOXFW_CACHE:-$HOME/.cache/boxfw}"
BIN="$CACHE/bin"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"
MEDIAMTX_VERSION="v1.14.0"
HLSJS_VERSION="1.6.9"
mkdir -p "$BIN"

build_minio() {
  local stamp="$BIN/.minio-$MINIO_VERSION"
  if [[ -x "$BIN/minio" && -f "$stamp" ]]; then return; fi
  echo "testservers: building MinIO $MINIO_VERSION (about 3 minutes, once)"
  local work; work=$(mktemp -d)
  (
    cd "$work"
    go mod init scratch/minio >/dev/null 2>&1
    go get "github.com/minio/minio@$MINIO_VERSION" >/dev/null
    CGO_ENABLED=0 go build -o "$BIN/minio.tmp" github.com/minio/minio
  )
  mv "$BIN/minio.tmp" "$BIN/minio"
  rm -rf "$work"; touch "$stamp"
}

build_mediamtx() {
  local stamp="$BIN/.mediamtx-$MEDIAMTX_VERSION"
  if [[ -x "$BIN/mediamtx" && -f "$stamp" ]]; then return; fi
  echo "testservers: building mediamtx $MEDIAMTX_VERSION (about 30 s, once)"
  local work; work=$(mktemp -d)
  (
    cd "$work"
    go mod init scratch/mtx >/dev/null 2>&1
    go mod download -json "github.com/bluenviron/mediamtx@$MEDIAMTX_VERSION" > dl.json
    src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' dl.json)
    cp -r "$src" mtx && chmod -R u+w mtx
    echo "$MEDIAMTX_VERSION" > mtx/internal/core/VERSION
    if command -v npm >/dev/null && npm pack --silent "hls.js@$HLSJS_VERSION" >/dev/null 2>&1; then
      tar -xzf hls.js-$HLSJS_VERSION.tgz package/dist/hls.min.js
      cp package/dist/hls.min.js mtx/internal/servers/hls/hls.min.js
    else
      # The tests run mediamtx with HLS off; the player script is only embedded.
      echo "testservers: npm unavailable, building mediamtx without the HLS player script"
      echo "/* hls.js not available at build time */" > mtx/internal/servers/hls/hls.min.js
    fi
    cd mtx && CGO_ENABLED=0 go build -o "$BIN/mediamtx.tmp" .
  )
  mv "$BIN/mediamtx.tmp" "$BIN/mediamtx"
  rm -rf "$work"; touch "$stamp"
}

build_mediamtx
build_minio
echo "testservers: ready in $BIN"
