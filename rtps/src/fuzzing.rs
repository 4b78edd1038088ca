//! Entry points for the `fuzz/` targets: each takes arbitrary bytes and must not panic.

/// CDR (XCDR1) deserializer: decode a fixed nested type (strings, sequences, enums, nested and
/// recursive structs, a map) from `data` in both byte orders; on success re-encode and check the
/// round trip. Panics only if that invariant is broken.
pub fn cdr_deserialize(data: &[u8]) {
    crate::cdr::fuzz::round_trip(data);
}
