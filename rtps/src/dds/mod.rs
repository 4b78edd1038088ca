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
//! Each operation has its own error ([`ParticipantError`], [`CreateEndpointError`],
//! [`WriteError`], [`RecvError`], [`WaitError`]) that keeps its cause (`Error::source`); all
//! of them convert into [`DdsError`] with `?`, and [`error_chain`] prints one with its causes.
//!
//! Every operation runs on the sans-IO [`crate::participant::Participant`]; the driver
//! ([`crate::transport::driver`]) owns the sockets, the clock and the threads.

mod endpoint;
mod error;
mod participant;
mod qos;
mod stats;

pub use endpoint::{RawReader, RawWriter, Reader, Sample, Writer};
pub use error::{
    error_chain, CreateEndpointError, DdsError, ParticipantError, RecvError, WaitError, WriteError,
};
pub use participant::{
    DdsEvent, DomainParticipant, ParticipantOptions, ReceivePoller, WriteBatch, WriteBatcher,
    DEFAULT_BUSY_POLL,
};
pub use qos::Qos;
pub use stats::ParticipantStats;

pub use crate::history::ChangeKind;
pub use crate::participant::LostReason;
