#!/usr/bin/env bash
# make bench: every side-by-side benchmark in one run. Each prints its own table
# with the reference tool's figure next to ours and the ratio; the README's table
# quotes them. Run from the repository root after `make deps testservers build`.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin"
status=0
section() { printf '\n==== %s ====\n' "$1"; }
run() { "$@" || { echo "bench: FAILED: $*"; status=1; }; }

section "1. boxd transcode vs ffmpeg CLI, same job (CPU time ratio, target <= 1.05)"
run bash bench/transcode/cli_ratio.sh

section "2. worst case: 8 x 1080p25 H.264 transcoded at once to 1080p 6 fps (real-time factor, target >= 1.3)"
run go run ./bench/transcode/multichannel -channels 8 -seconds 30 -fps 6 -threads budget

section "3. ingest cost per channel, 8 live channels with rings, vs mediamtx relaying them"
run go run ./bench/ingest -channels 8 -seconds 20

section "4. ANR spool enqueue vs dd conv=fsync (throughput ratio, target >= 0.8)"
run go run ./bench/spool

section "5. uplink draining 200 clips to MinIO vs aws s3 cp (throughput ratio, target >= 1.0)"
run bash bench/uplink/run.sh

section "6. cloud box API under a fleet of simulated boxes (separate process; p99 target < 50 ms at 10,000 boxes / 30 s)"
run go run ./bench/cloud

exit $status
