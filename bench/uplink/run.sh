#!/usr/bin/env bash
# Runs the uplink throughput bench against a throwaway MinIO on 127.0.0.1 (see main.go).
# Needs: MinIO built by scripts/testservers.sh, and the Debian awscli package
# (apt-get install -y awscli) for /usr/bin/aws.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ ! -x /usr/bin/aws ]]; then
  echo "uplink bench: /usr/bin/aws missing: apt-get install -y awscli" >&2
  exit 1
fi
exec go run ./bench/uplink "$@"
