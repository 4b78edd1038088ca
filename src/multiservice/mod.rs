//! AML-IP MultiService: sample types, topic/type names and QoS, and the sans-IO client and
//! server state machines (AML-IP spec `shared/docs/amlip-protocol.md` §2-§6, §11, §12).
//!
//! - [`id`], [`types`], [`status`]: the wire types with their exact XCDR1 bytes ([`codec`]:
//!   `00 01 00 00` + little-endian plain CDR; big-endian accepted; 0-3 trailing bytes ignored).
//! - [`topics`]: `amlip/<base>_<suffix>[_<id>]` topic names, `amlip::` type names, endpoint QoS
//!   and participant properties as plain data for the node layer.
//! - [`client`], [`server`]: the handshake of spec §4 as sans-IO machines: `handle_*(now, ..)`
//!   in, [`Outgoing`] samples and events out (`poll_outgoing` / `poll_event`, drained after
//!   every input). [`Outgoing::topic_name`] says where each sample goes.
//!
//! Where the spec left a choice, this module decides:
//! - names over 28 bytes, non-ASCII names and names with NUL are refused, both when building an
//!   id and when decoding one (C++ would truncate and then disagree on topic names, §3.3); a
//!   zero string length decodes as the empty name, as Fast CDR does;
//! - a payload that ends before its last member is an error (Fast CDR would default the rest,
//!   §3.1): every prefix of a valid payload is rejected;
//! - [`Payload::to_payload`] returns a `Result`: a job over 4 GiB has no `uint32` size;
//! - the client pipelines, re-issues the tasks of a lost server under new task ids, and cancels
//!   with a target naming the undefined id (§11.1, §11.2, §11.7);
//! - a job a server's engine fails is answered with a solution marked failed by a trailer
//!   AML-IP's readers ignore ([`types`]); the client offers it to another server up to its
//!   attempts, then reports it failed ([`client`], "Failed jobs"; §4.10 has no failure message);
//! - the server holds one slot per reply, matches task data by header, treats data naming it as
//!   proof of the choice even before the target arrives, and keeps its seen-target record and
//!   its request queue bounded (§11.4, §11.5, §11.8);
//! - a reply that gets no target within a timeout frees the server's slot (a dead client does
//!   not stall it), and a lost server whose participant comes back is chosen again (§11.1).

pub mod client;
pub mod codec;
pub mod id;
pub mod outgoing;
pub mod seen;
pub mod server;
pub mod status;
pub mod topics;
pub mod types;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod strategies;

pub use client::{Client, ClientEvent, ClientStats, SubmitError};
pub use codec::{DecodeError, Payload};
pub use id::{AmlipId, IdError, TaskId};
pub use outgoing::Outgoing;
pub use server::{CompleteError, Server, ServerEvent, ServerStats, SlotState};
pub use status::{NodeKind, StateKind, Status};
pub use types::{GenericData, MsData, MsReference, MsRequest};
