//! A pure-Rust, sans-IO RTPS 2.x stack.
//!
//! Layers, bottom up (see `shared/docs/architecture.md`):
//! - [`wire`]: the RTPS message codec: header, submessages, parameter lists, locators,
//!   sequence-number sets, serialized-payload encapsulation. Every parser takes untrusted bytes
//!   through one checked [`wire::Reader`] and never panics.
//! - [`cdr`]: a serde serializer/deserializer for plain CDR (XCDR1).
//! - [`discovery`]: SPDP/SEDP discovery data (participant, writer and reader data) as PL_CDR.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cdr;
#[cfg(feature = "udp")]
pub mod dds;
pub mod discovery;
#[doc(hidden)] // entry points of the `fuzz/` targets: not part of the stable API
pub mod fuzzing;
pub mod history;
#[doc(hidden)] // forged datagrams for the hostile-network tests and examples: not stable API
pub mod hostile;
pub mod participant;
pub mod reliability;
#[doc(hidden)] // the deterministic test world of this crate's and `amlip`'s tests: not stable API
pub mod simworld;
pub mod transport;
pub mod wire;
