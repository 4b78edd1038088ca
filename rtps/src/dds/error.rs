//! Errors of the public DDS API (architecture.md rule 7): one small enum per operation, each
//! keeping its cause ([`std::error::Error::source`]), and [`DdsError`], any of them, for code
//! that wants one type (every operation's error converts into it with `?`).

use core::fmt;
use std::io;
use std::net::Ipv4Addr;

use crate::cdr::CdrError;
use crate::transport::BindError;

/// Why [`DomainParticipant::new`](super::DomainParticipant::new) failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ParticipantError {
    /// The UDP transport could not be bound (ports in use, a bad interface, ...).
    Bind {
        /// The DDS domain.
        domain_id: u32,
        /// The interface asked for.
        interface: Ipv4Addr,
        /// Why.
        source: BindError,
    },
    /// A driver thread could not be started.
    Spawn(io::Error),
}

impl fmt::Display for ParticipantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParticipantError::Bind {
                domain_id,
                interface,
                ..
            } => write!(
                f,
                "cannot open the DDS participant on domain {domain_id}, interface {interface}"
            ),
            ParticipantError::Spawn(_) => {
                f.write_str("cannot open the DDS participant: cannot start its threads")
            }
        }
    }
}

impl std::error::Error for ParticipantError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ParticipantError::Bind { source, .. } => Some(source),
            ParticipantError::Spawn(e) => Some(e),
        }
    }
}

/// Why creating a writer or a reader failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CreateEndpointError {
    /// The participant has been shut down.
    Closed,
    /// The participant refused it (a bad topic or type name, too many endpoints).
    Rejected(crate::participant::CreateError),
}

impl fmt::Display for CreateEndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CreateEndpointError::Closed => {
                f.write_str("cannot create the endpoint: the participant is shut down")
            }
            CreateEndpointError::Rejected(_) => f.write_str("cannot create the endpoint"),
        }
    }
}

impl std::error::Error for CreateEndpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CreateEndpointError::Closed => None,
            CreateEndpointError::Rejected(e) => Some(e),
        }
    }
}

/// Why a write (or a dispose) failed. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteError {
    /// A full KEEP_ALL history stayed full for the QoS's max_blocking_time (at once for
    /// `try_write_bytes`): retry later.
    Timeout,
    /// The participant has been shut down.
    Closed,
    /// The value could not be serialized.
    Serialize(CdrError),
    /// The writer refused the sample.
    Rejected(crate::reliability::WriteError),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Timeout => f.write_str("write timed out: the writer's history is full"),
            WriteError::Closed => f.write_str("write failed: the participant is shut down"),
            WriteError::Serialize(_) => f.write_str("cannot serialize the sample"),
            WriteError::Rejected(_) => f.write_str("the writer refused the sample"),
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WriteError::Serialize(e) => Some(e),
            WriteError::Rejected(e) => Some(e),
            WriteError::Timeout | WriteError::Closed => None,
        }
    }
}

/// Why no sample was received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecvError {
    /// No sample came in time.
    Timeout,
    /// The participant has been shut down.
    Closed,
    /// A received payload could not be deserialized (the sample is consumed; the next
    /// call reads the one after it).
    Deserialize(CdrError),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Timeout => f.write_str("no sample received in time"),
            RecvError::Closed => f.write_str("receive failed: the participant is shut down"),
            RecvError::Deserialize(_) => f.write_str("cannot deserialize a received sample"),
        }
    }
}

impl std::error::Error for RecvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RecvError::Deserialize(e) => Some(e),
            RecvError::Timeout | RecvError::Closed => None,
        }
    }
}

/// Why a wait (`wait_for_matched`, `wait_for_acknowledgments`) ended without its condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitError {
    /// The condition did not hold in time.
    Timeout,
    /// The participant has been shut down (or the endpoint deleted).
    Closed,
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WaitError::Timeout => "timed out",
            WaitError::Closed => "the participant is shut down",
        })
    }
}

impl std::error::Error for WaitError {}

/// Any error of the DDS API: each operation's own error, for code that wants one type.
/// `Display` and `source` are those of the error inside.
#[derive(Debug)]
#[non_exhaustive]
pub enum DdsError {
    /// Opening the participant failed.
    Participant(ParticipantError),
    /// Creating a writer or reader failed.
    CreateEndpoint(CreateEndpointError),
    /// A write failed.
    Write(WriteError),
    /// A receive failed.
    Recv(RecvError),
    /// A wait ended without its condition.
    Wait(WaitError),
}

impl DdsError {
    /// The operation timed out (a full history, no sample, a condition not met in time).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            DdsError::Write(WriteError::Timeout)
                | DdsError::Recv(RecvError::Timeout)
                | DdsError::Wait(WaitError::Timeout)
        )
    }

    /// The participant has been shut down.
    pub fn is_closed(&self) -> bool {
        matches!(
            self,
            DdsError::CreateEndpoint(CreateEndpointError::Closed)
                | DdsError::Write(WriteError::Closed)
                | DdsError::Recv(RecvError::Closed)
                | DdsError::Wait(WaitError::Closed)
        )
    }

    fn inner(&self) -> &(dyn std::error::Error + 'static) {
        match self {
            DdsError::Participant(e) => e,
            DdsError::CreateEndpoint(e) => e,
            DdsError::Write(e) => e,
            DdsError::Recv(e) => e,
            DdsError::Wait(e) => e,
        }
    }
}

impl fmt::Display for DdsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.inner(), f)
    }
}

impl std::error::Error for DdsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner().source()
    }
}

impl From<ParticipantError> for DdsError {
    fn from(e: ParticipantError) -> Self {
        DdsError::Participant(e)
    }
}

impl From<CreateEndpointError> for DdsError {
    fn from(e: CreateEndpointError) -> Self {
        DdsError::CreateEndpoint(e)
    }
}

impl From<WriteError> for DdsError {
    fn from(e: WriteError) -> Self {
        DdsError::Write(e)
    }
}

impl From<RecvError> for DdsError {
    fn from(e: RecvError) -> Self {
        DdsError::Recv(e)
    }
}

impl From<WaitError> for DdsError {
    fn from(e: WaitError) -> Self {
        DdsError::Wait(e)
    }
}

/// The full chain of an error, `: `-separated (its `Display`, then each source's).
///
/// ```
/// use rtps::dds::{error_chain, WriteError};
/// let e = WriteError::Rejected(rtps::reliability::WriteError::PayloadTooLarge);
/// assert_eq!(
///     error_chain(&e),
///     "the writer refused the sample: write: payload larger than 4 GiB"
/// );
/// ```
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut next = e.source();
    while let Some(c) = next {
        s.push_str(": ");
        s.push_str(&c.to_string());
        next = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn sources_are_kept() {
        let e = ParticipantError::Bind {
            domain_id: 7,
            interface: Ipv4Addr::LOCALHOST,
            source: BindError::Socket {
                what: "bind",
                error: io::Error::from(io::ErrorKind::AddrInUse),
            },
        };
        let chain = error_chain(&e);
        assert!(
            chain.starts_with("cannot open the DDS participant on domain 7"),
            "{chain}"
        );
        assert!(chain.contains("bind: "), "{chain}");
        let bind = e.source().and_then(|s| s.downcast_ref::<BindError>());
        assert!(matches!(bind, Some(BindError::Socket { .. })));
        let io = bind
            .and_then(|b| b.source())
            .and_then(|s| s.downcast_ref::<io::Error>());
        assert_eq!(io.map(io::Error::kind), Some(io::ErrorKind::AddrInUse));

        let e = DdsError::from(RecvError::Deserialize(CdrError::Truncated("u32")));
        assert_eq!(e.to_string(), "cannot deserialize a received sample");
        let cdr = e.source().and_then(|s| s.downcast_ref::<CdrError>());
        assert_eq!(cdr, Some(&CdrError::Truncated("u32")));
        assert!(!e.is_timeout());
        assert!(DdsError::from(WaitError::Timeout).is_timeout());
        assert!(DdsError::from(WriteError::Closed).is_closed());
    }
}
