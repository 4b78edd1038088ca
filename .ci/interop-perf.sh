#!/usr/bin/env bash
# .ci/interop-perf.sh: performance of the Rust stack next to Cyclone DDS (ddsperf and the
# oracle) and Fast DDS (the oracle), all in one run, on loopback inside a private network
# namespace (re-execs itself through netns-run). Release build of the `interop` example.
#
#   RUST_CMD=target/release/examples/interop [RUNS=3] .ci/interop-perf.sh [SECTIONS]
#
# SECTIONS (default all): tput lat stream big
#   tput    reliable 64-byte text, a burst of N=100000 samples, KEEP_ALL, sub --quiet:
#           pub msgs/s = N / time until all acknowledged, sub msgs/s = (N-1) / first-to-last;
#           plus `ddsperf pub size 64` -> `ddsperf sub` (median of the 1-s intervals);
#           `rust-unchecked` rows run the Rust program with --unchecked, a ddsperf-like
#           workload (text filled once, sub reads only the sample number): the one to hold
#           next to ddsperf, while the other rows (text made and checked per sample) compare
#           the stacks under the oracles' identical harness
#   lat     ping-pong half round trip, 64-byte text, 10000 round trips after 100 warm-up:
#           `interop ping`/`pong` and `ddsperf ping size 64`/`pong`
#   stream  STREAM_N=10000 reliable samples with a 64 KiB text, sub MB/s; and
#           `ddsperf pub size 64k`
#   big     one reliable 1 MiB and one 100 MiB sample: time from write to all-acknowledged
# Every Rust/oracle figure is the median of RUNS runs, taken interleaved.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ORACLES=${ORACLES:-$(cd "$HERE/../../shared/oracles" 2>/dev/null && pwd || echo /work/shared/oracles)}
export ORACLES
. "$ORACLES/lib.sh"
[ -n "${RUST_CMD:-}" ] || { echo "RUST_CMD is not set" >&2; exit 2; }
RUST_CMD=$(realpath "$RUST_CMD"); export RUST_CMD
ensure_netns "$HERE/interop-perf.sh" "$@"

SECTIONS=${*:-tput lat stream big}
RUNS=${RUNS:-3}
N=${N:-100000}
STREAM_N=${STREAM_N:-10000}
OUT=${PERF_LOG:-$BUILD_DIR/perf-rust}; mkdir -p "$OUT"
declare -A BIN=([rust]=$RUST_CMD [rust-unchecked]=$RUST_CMD [cyclone]=$CYCLONE_ORACLE [fastdds]=$FASTDDS_ORACLE)
median() { sort -g | awk '{a[NR]=$1} END{if(NR==0){print "n/a"; exit} if(NR%2){print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }
field() { grep -h "^SUMMARY $2" "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$3=//p" | head -1; }

# pubsub IMPL TAG COUNT SIZE: one reliable run, IMPL -> IMPL; leaves $OUT/TAG.{pub,sub}.err
# IMPL rust-unchecked: the Rust program with --unchecked (a ddsperf-like workload).
pubsub() {
  local b=${BIN[$1]} tag=$2 extra=""
  [ "$1" = rust-unchecked ] && extra=--unchecked
  "$b" sub --topic "p_$tag" --count "$3" --timeout 120 --quiet $extra >/dev/null 2>"$OUT/$tag.sub.err" &
  local sp=$!
  sleep 0.5
  "$b" pub --topic "p_$tag" --count "$3" --size "$4" --reliable --timeout 120 --linger 0.2 $extra 2>"$OUT/$tag.pub.err"
  wait $sp
}

echo "interop-perf: $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), runs=$RUNS"
echo "RUST_CMD=$RUST_CMD"
for section in $SECTIONS; do
  case $section in
  tput)
    echo; echo "## reliable 64 B throughput, burst of $N samples (msgs/s, median of $RUNS)"
    for r in $(seq 1 "$RUNS"); do for impl in rust rust-unchecked cyclone fastdds; do
      n=$N; [ $impl = fastdds ] && n=${N_FASTDDS:-20000}   # Fast DDS 2.9.1: ~5 k/s (finding 8)
      pubsub $impl "tput_${impl}_$r" "$n" 64
    done; done
    for impl in rust rust-unchecked cyclone fastdds; do
      p=$(for r in $(seq 1 "$RUNS"); do field "$OUT/tput_${impl}_$r.pub.err" pub msgs_per_s; done | median)
      s=$(for r in $(seq 1 "$RUNS"); do field "$OUT/tput_${impl}_$r.sub.err" sub msgs_per_s; done | median)
      ok=$(grep -l 'result=OK' "$OUT"/tput_${impl}_*.sub.err 2>/dev/null | wc -l)
      echo "$impl -> $impl: pub (until acked) $p msgs/s; sub (first-to-last) $s msgs/s; complete runs $ok/$RUNS"
    done
    ddsperf -D 8 sub >"$OUT/ddsperf-sub-64.txt" 2>&1 & sp=$!; sleep 1
    ddsperf -D 6 pub size 64 >/dev/null 2>&1; wait $sp
    k=$(awk '/ rate .*kS\/s/ { t=$2+0; for(i=1;i<=NF;i++) if($i=="rate") r=$(i+1); if (t>=2 && t<=7) print r }' "$OUT/ddsperf-sub-64.txt" | median)
    echo "ddsperf pub size 64 -> ddsperf sub (write batching on): $k k samples/s (median of 1-s intervals)" ;;
  lat)
    echo; echo "## latency, half round trip, 64 B (us; median over $RUNS runs of each statistic)"
    for r in $(seq 1 "$RUNS"); do
      "$RUST_CMD" pong --topic "l_$r" --count 10000 --size 64 --timeout 30 2>/dev/null & pp=$!
      sleep 0.3
      "$RUST_CMD" ping --topic "l_$r" --count 10000 --size 64 --timeout 30 2>"$OUT/lat_rust_$r.err"; wait $pp
    done
    stat() { for r in $(seq 1 "$RUNS"); do grep -o "$1=[0-9.]*" "$OUT/lat_rust_$r.err" | cut -d= -f2; done | median; }
    echo "rust ping/pong: p50 $(stat p50) p90 $(stat p90) p99 $(stat p99) mean $(stat mean) (round trips/s $(stat roundtrips_per_s))"
    ddsperf -D 9 pong >/dev/null 2>&1 & pp=$!; sleep 1
    ddsperf -D 7 ping size 64 >"$OUT/ddsperf-ping-64.txt" 2>&1; wait $pp
    dstat() { awk -v k="$1" '/ mean .*us .* cnt / { t=$2+0; for(i=1;i<=NF;i++) if($i==k) v=$(i+1); gsub("us","",v); if (t>=2 && t<=7) print v }' "$OUT/ddsperf-ping-64.txt" | median; }
    echo "ddsperf ping/pong: p50 $(dstat 50%) p90 $(dstat 90%) p99 $(dstat 99%) mean $(dstat mean)" ;;
  stream)
    echo; echo "## 64 KiB stream, $STREAM_N reliable samples (MB/s of text at the sub, median of $RUNS)"
    for r in $(seq 1 "$RUNS"); do for impl in rust rust-unchecked cyclone fastdds; do
      pubsub $impl "stream_${impl}_$r" "$STREAM_N" 65536
    done; done
    for impl in rust rust-unchecked cyclone fastdds; do
      m=$(for r in $(seq 1 "$RUNS"); do field "$OUT/stream_${impl}_$r.sub.err" sub MBps; done | median)
      echo "$impl -> $impl: $m MB/s"
    done
    ddsperf -D 8 sub >"$OUT/ddsperf-sub-64k.txt" 2>&1 & sp=$!; sleep 1
    ddsperf -D 6 pub size 64k >/dev/null 2>&1; wait $sp
    mb=$(awk '/ rate .*kS\/s/ { t=$2+0; if (t < 2 || t > 7) next; for(i=1;i<=NF;i++) if($i=="Mb/s") { print $(i-1); break } }' "$OUT/ddsperf-sub-64k.txt" | awk '{print $1/8}' | median)
    echo "ddsperf pub size 64k -> sub: $mb MB/s (median of 1-s intervals)" ;;
  big)
    for size in 1048576 104857600; do
      echo; echo "## one reliable $size-byte sample: write -> all acknowledged (s, median of $RUNS)"
      for r in $(seq 1 "$RUNS"); do for impl in rust cyclone fastdds; do
        pubsub $impl "big${size}_${impl}_$r" 1 "$size"
      done; done
      for impl in rust cyclone fastdds; do
        t=$(for r in $(seq 1 "$RUNS"); do field "$OUT/big${size}_${impl}_$r.pub.err" pub acked_s; done | median)
        ok=$(for r in $(seq 1 "$RUNS"); do grep -l 'result=OK' "$OUT/big${size}_${impl}_$r.sub.err" 2>/dev/null; done | wc -l)
        echo "$impl -> $impl: $t s (delivered $ok/$RUNS)"
      done
    done ;;
  *) echo "unknown section $section" >&2; exit 2 ;;
  esac
done
echo; echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
