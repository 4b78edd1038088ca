#!/usr/bin/env bash
# Fill fuzz/corpus/<target>/ (gitignored) with seed inputs before a fuzz run:
#  - message_parse, message_roundtrip: the 586 hostile datagrams of ../shared/corpus/*/ and every
#    RTPS datagram of ../shared/captures/*.pcap;
#  - discovery_data: the serialized payloads of the SPDP/SEDP DATA submessages of the captures;
#  - cdr_deserialize: the CDR bodies (after the encapsulation header) of the user DATA payloads.
# The capture part is done by a test of rtps/tests/captures.rs (it has the pcap reader) that
# does nothing unless AMLIP_FUZZ_SEED_DIR is set.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
shared=${AMLIP_SHARED:-$root/../shared}
if [ ! -d "$shared" ]; then
  echo "seed.sh: $shared not found (set AMLIP_SHARED); fuzzing from empty corpora" >&2
  exit 0
fi
shared=$(cd "$shared" && pwd)
for t in message_parse message_roundtrip discovery_data cdr_deserialize; do
  mkdir -p "$here/corpus/$t"
done
for set in "$shared"/corpus/*/; do
  name=$(basename "$set")
  for f in "$set"*; do
    [ -f "$f" ] || continue
    for t in message_parse message_roundtrip; do
      cp "$f" "$here/corpus/$t/$name-$(basename "$f")"
    done
  done
done
cd "$root"
AMLIP_SHARED="$shared" AMLIP_FUZZ_SEED_DIR="$here/corpus" \
  cargo test -q --workspace --test captures ${CARGO_OFFLINE:+--offline} -- \
  --exact writes_fuzz_seed_corpora --nocapture
for t in message_parse message_roundtrip discovery_data cdr_deserialize; do
  echo "seed corpus $t: $(find "$here/corpus/$t" -type f | wc -l) files"
done
