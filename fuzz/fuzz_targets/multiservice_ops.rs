//! Operation sequences on a MultiService client and server: never panics, invariants hold.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    amlip::fuzzing::multiservice_ops(data);
});
