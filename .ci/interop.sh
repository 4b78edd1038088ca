#!/usr/bin/env bash
# .ci/interop.sh: the interop CI step (issue 4), called by .ci/run.
#
#   1. installs the Debian packages the oracles need (Fast DDS 2.9.1, Cyclone DDS 0.10.2,
#      their code generators, cmake/g++, tshark), unless already present;
#   2. builds the two oracles with ../shared/oracles/build.sh (BUILD_DIR, default
#      target/oracles-build of this checkout: a shared /tmp directory may hold a CMake
#      cache made from another copy of ../shared, which CMake refuses to reuse);
#   3. builds the `interop` example in release;
#   4. runs .ci/interop-matrix.sh (every section: the 20 rows of run-interop-all.sh, 64 KiB
#      and 1 MiB samples, keyed, TRANSIENT_LOCAL late joiner, reader restart, writer leaving,
#      writer killed, Rust->Rust, and the tshark malformed/expert-error check on captures)
#      inside a private network namespace (netns-run);
#   5. fails if any row failed. The table goes to stdout and to $LOG_ROOT/matrix.md.
#
# Needs root (apt, unshare -n). About 8 minutes on 2 cores once packages are installed.
# Environment: ORACLES (default ../shared/oracles next to the repository), BUILD_DIR,
# CARGO_TARGET_DIR (default target/), LOG_ROOT, SECTIONS (subset of the matrix sections),
# SKIP_APT=1 (do not touch packages).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ORACLES=${ORACLES:-$(cd "$REPO/../shared/oracles" 2>/dev/null && pwd || echo /work/shared/oracles)}
export ORACLES
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
export BUILD_DIR=${BUILD_DIR:-$CARGO_TARGET_DIR/oracles-build}
# A CMake cache made from another source tree (another copy of ../shared) cannot be
# reused: start that build directory afresh instead of failing.
for o in fastdds cyclone; do
  cache="$BUILD_DIR/$o/CMakeCache.txt"
  if [ -f "$cache" ] && ! grep -q "^CMAKE_HOME_DIRECTORY:INTERNAL=$ORACLES/$o\$" "$cache"; then
    echo "== interop: $BUILD_DIR/$o was configured from another source tree; removing it"
    rm -rf "${BUILD_DIR:?}/$o"
  fi
done
export LOG_ROOT=${LOG_ROOT:-$BUILD_DIR/interop-logs/ci-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$LOG_ROOT"
t_start=$(date +%s)
step() { echo "== interop: $* ($(($(date +%s) - t_start)) s)"; }

PACKAGES="cmake make g++ gcc libfastrtps-dev libfastcdr-dev fastddsgen cyclonedds-dev cyclonedds-tools tshark"
if [ "${SKIP_APT:-0}" != 1 ]; then
  missing=""
  for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    step "apt-get install$missing"
    export DEBIAN_FRONTEND=noninteractive
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >"$LOG_ROOT/apt.log" 2>&1 \
      || { tail -20 "$LOG_ROOT/apt.log"; exit 1; }
  fi
fi

step "building the oracles in $BUILD_DIR"
"$ORACLES/build.sh" >"$LOG_ROOT/oracles-build.log" 2>&1 || { tail -30 "$LOG_ROOT/oracles-build.log"; exit 1; }

step "cargo build --release -p rtps --example interop"
(cd "$REPO" && cargo build --release -p rtps --example interop)
export RUST_CMD=$CARGO_TARGET_DIR/release/examples/interop

step "interop matrix (logs: $LOG_ROOT)"
rc=0
# shellcheck disable=SC2086
"$REPO/.ci/interop-matrix.sh" ${SECTIONS:-} | tee "$LOG_ROOT/matrix.md" || rc=$?
step "done, matrix exit status $rc"
exit "$rc"
