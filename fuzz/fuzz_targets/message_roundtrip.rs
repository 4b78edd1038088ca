//! Every parsed submessage re-emits byte-identically and emit + re-parse is lossless.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rtps::fuzzing::message_roundtrip(data);
});
