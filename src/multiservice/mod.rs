//! AML-IP MultiService: sample types, topic/type names and QoS, and the sans-IO client and
//! server state machines (AML-IP spec `shared/docs/amlip-protocol.md` §2-§6, §11, §12).

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
