//! A pure-Rust, sans-IO RTPS 2.x stack.
//!
//! Layers, bottom up (see `shared/docs/architecture.md`):
//! - [`wire`]: the RTPS message codec: header, submessages, parameter lists, locators,
//!   sequence-number sets, serialized-payload encapsulation. Every parser takes untrusted bytes
//!   through one checked [`wire::Reader`] and never panics.
//! - [`cdr`]: a serde serializer/deserializer for plain CDR (XCDR1).
//! - [`discovery`]: SPDP/SEDP discovery data (participant, writer and reader data) as PL_CDR.
#![forbid(unsafe_code)]

pub mod cdr;
pub mod dds;
pub mod discovery;
pub mod fuzzing;
pub mod history;
pub mod hostile;
pub mod participant;
pub mod reliability;
pub mod simworld;
pub mod transport;
pub mod wire;
