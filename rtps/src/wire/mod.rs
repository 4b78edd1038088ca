//! The RTPS 2.x wire codec (RTPS 2.5 §9).
//!
//! # No-panic contract
//! Every `parse` in this module and its children takes untrusted bytes through [`Reader`] and
//! returns `Err(ParseError)` for malformed input: it never panics, never loops without consuming
//! input, and never allocates more than a small multiple of its input (every count and length is
//! capped before allocating). Every `emit` writes through [`Writer`] into a caller's buffer and
//! returns `Err(EmitError)` rather than writing past it.
//!
//! Representations borrow from the datagram where they carry bulk bytes (payloads, inline QoS),
//! so that a receive path copies at most once.

pub mod cursor;
pub mod encapsulation;
pub mod error;
pub mod header;
pub mod message;
pub mod parameter;
pub mod sets;
pub mod submessage;
pub mod types;

pub use cursor::{Endianness, Reader, Writer};
pub use error::{EmitError, ParseError};
pub use header::Header;
pub use message::{Message, MessageBuilder, SubmessageIter, SubmessageRef};
pub use sets::{FragmentNumberSet, SequenceNumberSet};
pub use submessage::{Submessage, SubmessageKind};
pub use types::{
    Duration, EntityId, EntityKind, Guid, GuidPrefix, Locator, LocatorKind, ProtocolVersion,
    SequenceNumber, Time, VendorId,
};
