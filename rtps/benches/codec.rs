//! Codec micro-benches (filled in with the codec).
fn main() {}
