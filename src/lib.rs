//! AML-IP workload distribution on a pure-Rust RTPS stack.
#![forbid(unsafe_code)]

pub mod fuzzing;
pub mod multiservice;
pub mod node;
