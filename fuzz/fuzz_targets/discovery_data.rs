//! SPDP/SEDP discovery data from arbitrary payloads; what parses round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rtps::fuzzing::discovery_data(data);
});
