//! AML-IP workload distribution on a pure-Rust RTPS stack.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[doc(hidden)] // entry points of the `fuzz/` targets: not part of the stable API
pub mod fuzzing;
pub mod multiservice;
pub mod node;
