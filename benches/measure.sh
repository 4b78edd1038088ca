#!/usr/bin/env bash
# Print a Markdown table of the AML-IP speed figures (issue 5 "Speed"), all from one run:
# the criterion macro benches (simulated network and loopback, release build), the resident
# memory of an idle `amlip computing`, the size of the release binary, the CLI's time to
# the first solution and its pipelined throughput (benches/cli_throughput.sh).
#
# It opens sockets, so run it inside a private network namespace, from the repository root:
#     ../shared/oracles/netns-run benches/measure.sh
# CARGO_TARGET_DIR is honoured. Progress goes to stderr, the table to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

if ip -o link show | awk -F': ' '{ print $2 }' | grep -qv '^lo$'; then
  echo "measure.sh: run it inside a private network namespace (../shared/oracles/netns-run)" >&2
  exit 2
fi

target=${CARGO_TARGET_DIR:-target}
bin="$target/release/amlip"
log=$(mktemp)
trap 'rm -f "$log" "$log.strip"' EXIT

echo "building (release)..." >&2
cargo build --release --bin amlip >&2
echo "benches: jobs_sim, jobs_loopback (a few minutes)..." >&2
cargo bench --bench jobs_sim --bench jobs_loopback 2>&2 | tee -a "$log" | grep -E '^(FIGURE|loopback|sim)' >&2

fig() { # fig KEY -> value (empty if missing)
  awk -F'\t' -v k="$1" '$1 == "FIGURE" && $2 == k { print $3 }' "$log" | tail -1
}

now_ns() { date +%s%N; }

# Idle computing node: VmRSS after 2 s.
"$bin" --domain 160 computing --delay 0 >/dev/null 2>&1 &
pid=$!
sleep 2
rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
kill -INT "$pid"
wait "$pid" || true

# Binary size, as built and stripped.
size=$(stat -c %s "$bin")
strip -o "$log.strip" "$bin"
stripped=$(stat -c %s "$log.strip")

# CLI time to first solution: `amlip computing --delay 0 &` then `time amlip main x`, 5 runs.
firsts=()
for i in 1 2 3 4 5; do
  domain=$((160 + i))
  "$bin" --domain "$domain" computing --delay 0 >/dev/null 2>&1 &
  cpid=$!
  t0=$(now_ns)
  "$bin" --domain "$domain" main x >/dev/null 2>&1
  t1=$(now_ns)
  firsts+=($(( (t1 - t0) / 1000000 )))
  kill -INT "$cpid"
  wait "$cpid" || true
done
sorted=$(printf '%s\n' "${firsts[@]}" | sort -n)
cli_first=$(echo "$sorted" | sed -n 3p)
cli_min=$(echo "$sorted" | head -1)
cli_max=$(echo "$sorted" | tail -1)

# CLI pipelined throughput: 4 `amlip computing --delay 0`, 20,000 jobs from stdin, 5 runs.
cli_runs=$(AMLIP="$bin" benches/cli_throughput.sh 5 20000 4 | awk '$4 == 20000 { print $2 }' | sort -n)
cli_thr=$(echo "$cli_runs" | sed -n 3p)
cli_thr_min=$(echo "$cli_runs" | head -1)
cli_thr_max=$(echo "$cli_runs" | tail -1)

floor_ratio() { # floor_ratio RTT PINGPONG -> RTT / (2 x PINGPONG) with 2 decimals
  awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / (2 * b); else print "-" }'
}

ratio() { # ratio A B -> A / B with 1 decimal
  awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.1f", a / b; else print "-" }'
}

rtt1=$(fig job_rtt_1); rtt4=$(fig job_rtt_4); pp=$(fig ping_pong)
thr=$(fig pipelined_4); first=$(fig first_solution)

echo "Figures from one run of \`benches/measure.sh\` at commit $(git rev-parse --short HEAD)"
echo "($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; medians)."
echo
echo "| Figure | Value | Reference / ratio |"
echo "| --- | --- | --- |"
echo "| RTPS ping-pong round trip, 16 B reliable (floor) | ${pp} us | 2 x floor = $(awk -v p="$pp" 'BEGIN { printf "%.1f", 2 * p }') us |"
echo "| Job round trip, 1 main + 1 computing, 64 B, zero work | ${rtt1} us | $(floor_ratio "$rtt1" "$pp")x the 2-ping-pong floor; interleaved $(fig ratio_job_rtt_1_interleaved)x; speed-up over AML-IP (~400 us): $(ratio 400 "$rtt1")x |"
echo "| Job round trip, 1 main + 4 computing | ${rtt4} us | $(floor_ratio "$rtt4" "$pp")x the floor; interleaved $(fig ratio_job_rtt_4_interleaved)x; speed-up over AML-IP (~670 us): $(ratio 670 "$rtt4")x |"
echo "| Pipelined throughput, 4 computing, zero work, 20,000 jobs | ${thr} jobs/s | vs Ray (~8,000 async tasks/s): $(ratio "$thr" 8000)x |"
echo "| CLI pipelined, 20,000 jobs from stdin, 4 \`amlip computing --delay 0\` | ${cli_thr} jobs/s (${cli_thr_min}-${cli_thr_max}, 5 runs) | target 20,000 |"
echo "| Time from new() of both nodes to the first solution (library) | ${first} ms | speed-up over AML-IP (90-280 ms): $(ratio 90 "$first")x-$(ratio 280 "$first")x |"
echo "| CLI: \`amlip computing --delay 0 &\` then \`time amlip main x\` | ${cli_first} ms (${cli_min}-${cli_max}, 5 runs), process exit included | AML-IP 90-280 ms |"
echo "| Sim: CPU time of one job, both stacks, one thread | $(fig sim_job_round_trip) us | no sockets, no threads |"
echo "| Sim: pipelined, 1 main + 4 computing stacks on one thread | $(fig sim_pipelined_4) jobs/s | |"
echo "| Idle \`amlip computing\`: resident memory after 2 s | $((rss_kb / 1024)) MiB (${rss_kb} kB, ${threads} threads) | |"
echo "| Release binary \`amlip\` | $((size / 1024)) KiB ($((stripped / 1024)) KiB stripped) | |"
