//! Entry points for the `fuzz/` targets: each takes arbitrary bytes and must not panic.
