//! Operation sequences on a reliable writer and reader: never panics, never delivers a sequence number twice.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rtps::fuzzing::reliable_state_machines(data);
});
