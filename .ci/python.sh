#!/usr/bin/env bash
# The Python package: install it from the clone into a fresh venv (`pip install ./python`, as a
# user would), then run its pytest suite inside a private network namespace. Prints pytest's
# summary line last.
#
#   bash .ci/python.sh          # from the repository root; needs python3 (with venv), Rust
#
# The tests drive the Rust CLI too: AMLIP_BIN, else target/{release,debug}/amlip, else
# `cargo build --offline --bin amlip` (the CI builds it before this runs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
if [ -z "${AMLIP_SHARED:-}" ] && [ -d ../shared ]; then
  AMLIP_SHARED=$(cd ../shared && pwd)
fi
NETNS_RUN="${AMLIP_SHARED:-../shared}/oracles/netns-run"
PYTHON=${PYTHON:-python3}
VENV=${AMLIP_PY_VENV:-$ROOT/target/py-venv}

"$PYTHON" --version
# Debian's python3 needs python3-venv for `-m venv` (this image's python3 has it; the CI installs
# it only when missing). No python3-dev: the abi3 extension links no libpython.
if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv
  else
    echo "$PYTHON has no venv/ensurepip: install python3-venv" >&2
    exit 1
  fi
fi
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
START=$(date +%s)
"$VENV/bin/pip" install --quiet --disable-pip-version-check ./python pytest
echo "pip install ./python pytest: $(( $(date +%s) - START )) s"

PYTEST=("$VENV/bin/python" -m pytest python/tests -q -p no:cacheprovider)
if [ "$(id -u)" -eq 0 ] && [ -x "$NETNS_RUN" ]; then
  "$NETNS_RUN" "${PYTEST[@]}"
else
  echo "WARNING: not root or $NETNS_RUN missing: the tests will skip (they need a private network namespace)"
  "${PYTEST[@]}"
fi
