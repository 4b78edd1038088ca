//! Parse an RTPS message and walk all its submessages: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rtps::fuzzing::message_parse(data);
});
