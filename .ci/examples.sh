#!/usr/bin/env bash
# The library examples (README.md, "Library examples"), run together inside a private network
# namespace: a status node watches while a computing node (word count) answers a main node's
# jobs, one of which its engine fails; then the rtps pub/sub example. Each example ends by
# itself; each run here also has a `timeout`. Fails if an output line is missing.
#
#   bash .ci/examples.sh        # from the repository root (root, for the namespace)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${AMLIP_SHARED:-}" ] && [ -d ../shared ]; then
  AMLIP_SHARED=$(cd ../shared && pwd)
fi
NETNS_RUN="${AMLIP_SHARED:-../shared}/oracles/netns-run"

if [ "${1:-}" != --inside ]; then
  cargo build --frozen -p amlip --example main_node --example computing_node --example status_node
  cargo build --frozen -p rtps --example pubsub
  exec "$NETNS_RUN" bash "$0" --inside
fi

# Inside the namespace from here on.
BIN=target/debug/examples
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
DOMAIN=77
fail() {
  echo "examples: FAILED: $*" >&2
  for f in "$OUT"/*.txt; do
    echo "---- $(basename "$f")" >&2
    cat "$f" >&2
  done
  exit 1
}

timeout 60 "$BIN/status_node" --domain $DOMAIN 15 >"$OUT/status.txt" 2>&1 &
STATUS=$!
# 2 jobs solved + 3 attempts of the job the engine fails = 5 jobs answered, then it leaves.
timeout 60 "$BIN/computing_node" --domain $DOMAIN --jobs 5 --seconds 40 >"$OUT/computing.txt" 2>&1 &
COMPUTING=$!

rc=0
timeout 60 "$BIN/main_node" --domain $DOMAIN "hello world" "one two three
four" " " >"$OUT/main.txt" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "main_node exited with $rc, expected 2 (one job failed)"
grep -q '^job "hello world" => "2 words, 1 lines, 11 bytes" from ExampleComputing' "$OUT/main.txt" \
  || fail "main_node: no solution of the first job"
grep -q '=> "4 words, 2 lines, 18 bytes" from ExampleComputing' "$OUT/main.txt" \
  || fail "main_node: no solution of the second job"
grep -q '^job " " failed after 3 attempt(s): nothing to count' "$OUT/main.txt" \
  || fail "main_node: the empty job did not fail as expected"

wait "$COMPUTING" || fail "computing_node exited with $?"
grep -q '^answered 5 job(s)$' "$OUT/computing.txt" || fail "computing_node: not 5 jobs answered"
wait "$STATUS" || fail "status_node exited with $?"
grep -q '^ExampleMain\.[0-9a-f.]* main ' "$OUT/status.txt" \
  || fail "status_node: the main node was not seen"
grep -q '^ExampleComputing\.[0-9a-f.]* computing ' "$OUT/status.txt" \
  || fail "status_node: the computing node was not seen"
grep -q '^ExampleComputing\.[0-9a-f.]* computing dropped' "$OUT/status.txt" \
  || fail "status_node: the computing node was not seen leaving"

timeout 60 "$BIN/pubsub" 5 $DOMAIN >"$OUT/pubsub.txt" 2>&1 || fail "pubsub exited with $?"
grep -q '^5 message(s) written, received and acknowledged$' "$OUT/pubsub.txt" \
  || fail "pubsub: not every message"

for f in main computing status pubsub; do
  echo "---- $f"
  cat "$OUT/$f.txt"
done
echo "examples: OK"
