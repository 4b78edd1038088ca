//! AML-IP MultiService: sample types, topic/type names and QoS, and the sans-IO client and
//! server state machines (AML-IP spec `shared/docs/amlip-protocol.md` §2-§6, §11, §12).

pub mod codec;
pub mod id;
pub mod status;
pub mod topics;
pub mod types;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod strategies;

pub use codec::{DecodeError, Payload};
pub use id::{AmlipId, IdError, TaskId};
pub use status::{NodeKind, StateKind, Status};
pub use types::{GenericData, MsData, MsReference, MsRequest};
