#!/usr/bin/env bash
# Three "hosts" (network namespaces) joined by a bridge, all inside one private network
# namespace (addresses only inside it): `amlip computing --interface` on two, `amlip main` on
# the third. Checks:
#   1. jobs are solved with multicast discovery;
#   2. with multicast dropped between the hosts (the bridge floods none), jobs are solved with
#      --peer (and --no-multicast);
#   3. the same with --peer given to the main only;
#   4. with multicast dropped and no --peer, the main says after a few seconds that no
#      computing node was found, with the hint to use --peer.
# Usage: .ci/multihost.sh [AMLIP_BINARY]   (re-execs itself in $AMLIP_SHARED/oracles/netns-run;
# needs root there, `ip`, `bridge`, `unshare`, `nsenter`). Exit 0 when all checks pass.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../target/debug/amlip}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
if [ -z "${AMLIP_MULTIHOST_INNER:-}" ]; then
  netns_run=${NETNS_RUN:-${AMLIP_SHARED:-$here/../../shared}/oracles/netns-run}
  AMLIP_MULTIHOST_INNER=1 exec "$netns_run" "$0" "$bin"
fi
# Inside the private namespace: only lo may exist before we start.
if ip -o link show | grep -qv ': lo:'; then
  echo "multihost: not in a private namespace" >&2
  exit 99
fi
for tool in ip bridge unshare nsenter timeout; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool not found"; exit 0; }
done
out=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$out"
}
trap cleanup EXIT

ip link add br0 type bridge || { echo "skipped: cannot create a bridge"; exit 0; }
ip link set br0 type bridge mcast_snooping 0
ip link set br0 up
hosts=()
for h in 1 2 3; do
  unshare -n sleep 600 &
  pid=$!
  pids+=("$pid")
  hosts+=("$pid")
  for _ in $(seq 50); do [ "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.02; done
  ip link add "vh$h" type veth peer name "vb$h"
  ip link set "vh$h" netns "$pid"
  ip link set "vb$h" master br0
  ip link set "vb$h" up
  nsenter -t "$pid" -n sh -c "ip link set lo up && ip addr add 10.66.0.$h/24 dev vh$h &&
    ip link set vh$h up && ip route add 224.0.0.0/4 dev vh$h"
done

on() { local h=$1; shift; nsenter -t "${hosts[$((h - 1))]}" -n "$@"; }
computing() { # host domain extra-args...
  local h=$1 d=$2; shift 2
  # nsenter itself (not a subshell running `on`) in the background: it execs amlip, so the
  # pid killed at the end is the computing node's.
  nsenter -t "${hosts[$((h - 1))]}" -n "$bin" --interface "10.66.0.$h" --domain "$d" "$@" \
    computing --delay 0 >"$out/c$h-$d.out" 2>&1 &
  pids+=("$!")
}
failed=0
check() { # name expected-exit actual-exit log
  if [ "$2" = "$3" ]; then echo "PASS $1"; else echo "FAIL $1 (exit $3, want $2)"; cat "$4"; failed=1; fi
}

# 1. multicast
computing 1 140; computing 2 140
on 3 timeout 20 "$bin" --interface 10.66.0.3 --domain 140 main m1 m2 m3 m4 >"$out/m1" 2>&1
check "jobs solved across hosts with multicast" 0 $? "$out/m1"
[ "$(grep -c ' => ' "$out/m1")" = 4 ] || { echo "FAIL: not 4 solutions"; cat "$out/m1"; failed=1; }

# Multicast dropped between hosts from now on: the bridge floods none to any port.
for h in 1 2 3; do bridge link set dev "vb$h" mcast_flood off; done

# 2. --peer, no multicast
peers=(--no-multicast --peer 10.66.0.1 --peer 10.66.0.2 --peer 10.66.0.3)
computing 1 141 "${peers[@]}"; computing 2 141 "${peers[@]}"
on 3 timeout 20 "$bin" --interface 10.66.0.3 --domain 141 "${peers[@]}" main p1 p2 p3 p4 >"$out/m2" 2>&1
check "jobs solved across hosts with --peer, multicast dropped" 0 $? "$out/m2"
[ "$(grep -c ' => ' "$out/m2")" = 4 ] || { echo "FAIL: not 4 solutions"; cat "$out/m2"; failed=1; }

# 3. --peer on the main only: the computing nodes answer the main's unicast announcements
computing 1 143; computing 2 143
on 3 timeout 20 "$bin" --interface 10.66.0.3 --domain 143 --peer 10.66.0.1 --peer 10.66.0.2 \
  main q1 q2 q3 q4 >"$out/m4" 2>&1
check "jobs solved with --peer on the main only, multicast dropped" 0 $? "$out/m4"
[ "$(grep -c ' => ' "$out/m4")" = 4 ] || { echo "FAIL: not 4 solutions"; cat "$out/m4"; failed=1; }

# 4. no --peer: nobody found, and the main says so
computing 1 142; computing 2 142
on 3 timeout 6 "$bin" --interface 10.66.0.3 --domain 142 main n1 >"$out/m3" 2>&1
check "no computing node found without --peer (main still waiting)" 124 $? "$out/m3"
if grep -q "No computing node found" "$out/m3" && grep -q -- "--peer" "$out/m3"; then
  echo "PASS the main says no computing node was found and hints at --peer"
else
  echo "FAIL no clear message"; cat "$out/m3"; failed=1
fi
exit "$failed"
