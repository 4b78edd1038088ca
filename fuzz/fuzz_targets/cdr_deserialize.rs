//! Plain CDR decoding of a fixed nested type; what decodes round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rtps::fuzzing::cdr_deserialize(data);
});
