//! Decode every AML-IP payload type; whatever decodes re-encodes to an equal value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    amlip::fuzzing::amlip_payloads(data);
});
