//! The public DDS API: a [`DomainParticipant`] on real UDP sockets with typed and raw
//! writers and readers, blocking and channel-based (DDS 1.4 §2.2.2).
//!
//! ```no_run
//! use rtps::dds::{DomainParticipant, ParticipantOptions, Qos};
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Message { seq: u32, text: String }
//!
//! let p = DomainParticipant::new(ParticipantOptions::default())?;
//! let qos = Qos::default().reliable().keep_all();
//! let writer = p.create_writer::<Message>("chat", "interop::Message", &qos)?;
//! let reader = p.create_reader::<Message>("chat", "interop::Message", &qos)?;
//! writer.write(&Message { seq: 1, text: "hello".into() })?;
//! let sample = reader.recv_timeout(std::time::Duration::from_secs(1))?;
//! assert_eq!(sample.value.text, "hello");
//! # Ok::<(), rtps::dds::DdsError>(())
//! ```
//!
//! Every operation runs on the sans-IO [`crate::participant::Participant`]; the driver
//! ([`crate::transport::driver`]) owns the sockets, the clock and the threads.

mod endpoint;
mod participant;
mod qos;

use core::fmt;

pub use endpoint::{RawReader, RawWriter, Reader, Sample, Writer};
pub use participant::{
    DdsEvent, DomainParticipant, ParticipantOptions, ReceivePoller, WriteBatch, WriteBatcher,
    DEFAULT_BUSY_POLL,
};
pub use qos::Qos;

pub use crate::history::ChangeKind;
pub use crate::participant::LostReason;

/// Why a DDS operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DdsError {
    /// The transport could not be set up (ports in use, a bad interface, ...).
    Bind(String),
    /// The operation did not complete in time.
    Timeout,
    /// The participant has been shut down.
    Closed,
    /// A value could not be serialized.
    Serialize(String),
    /// A received payload could not be deserialized.
    Deserialize(String),
    /// An argument is invalid.
    InvalidArgument(&'static str),
    /// The writer refused the sample.
    Write(String),
}

impl fmt::Display for DdsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DdsError::Bind(e) => write!(f, "cannot open the DDS participant: {e}"),
            DdsError::Timeout => f.write_str("timed out"),
            DdsError::Closed => f.write_str("the participant is shut down"),
            DdsError::Serialize(e) => write!(f, "cannot serialize the sample: {e}"),
            DdsError::Deserialize(e) => write!(f, "cannot deserialize a received sample: {e}"),
            DdsError::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            DdsError::Write(e) => write!(f, "write failed: {e}"),
        }
    }
}

impl std::error::Error for DdsError {}
