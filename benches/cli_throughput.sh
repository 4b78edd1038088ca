#!/usr/bin/env bash
# The CLI's pipelined throughput: 4 `amlip computing --delay 0` nodes, then
# `seq 1 JOBS | sed 's/^/job /' | amlip main --json` (solutions to /dev/null); prints the
# jobs/s of each run (from the main node's JSON summary), one per line: "RUN JOBS/S SECONDS".
#
# It opens sockets, so run it inside a private network namespace, from the repository root:
#     ../shared/oracles/netns-run benches/cli_throughput.sh [RUNS] [JOBS] [COMPUTING]
# AMLIP (default target/release/amlip) names the binary; each run is bounded by 120 s.
set -euo pipefail
cd "$(dirname "$0")/.."

if ip -o link show | awk -F': ' '{ print $2 }' | grep -qv '^lo$'; then
  echo "cli_throughput.sh: run it inside a private network namespace (../shared/oracles/netns-run)" >&2
  exit 2
fi

runs=${1:-3}
jobs=${2:-20000}
computing=${3:-4}
bin=${AMLIP:-${CARGO_TARGET_DIR:-target}/release/amlip}
out=$(mktemp)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -f "$out"
}
trap cleanup EXIT

for run in $(seq 1 "$runs"); do
  domain=$((170 + run % 50))
  pids=()
  for _ in $(seq 1 "$computing"); do
    "$bin" --domain "$domain" computing --delay 0 >/dev/null 2>&1 &
    pids+=($!)
  done
  sleep 0.5
  seq 1 "$jobs" | sed 's/^/job /' | timeout 120 "$bin" --domain "$domain" main --json >"$out" 2>/dev/null || true
  awk -v r="$run" '/"type":"summary"/ {
      match($0, /"jobs_per_s":[0-9.]+/); jps = substr($0, RSTART + 13, RLENGTH - 13)
      match($0, /"seconds":[0-9.]+/); s = substr($0, RSTART + 10, RLENGTH - 10)
      match($0, /"solved":[0-9]+/); n = substr($0, RSTART + 9, RLENGTH - 9)
      printf "%d %.0f %.2f %d\n", r, jps, s, n; found = 1 }
    END { if (!found) printf "%d 0 - 0\n", r }' "$out"
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
done
