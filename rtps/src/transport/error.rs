//! Errors of the UDP transport (architecture.md rule 7): one enum per operation, hand-written
//! `Display`. OS failures keep their `io::Error`; nothing here describes a parse failure.

use core::fmt;
use std::io;

use super::ports::PortError;

/// Linux/BSD errno values std does not name as an `ErrorKind`.
mod errno {
    #[cfg(target_os = "linux")]
    pub const ENOBUFS: i32 = 105;
    #[cfg(target_os = "linux")]
    pub const EMSGSIZE: i32 = 90;
    #[cfg(not(target_os = "linux"))]
    pub const ENOBUFS: i32 = 55;
    #[cfg(not(target_os = "linux"))]
    pub const EMSGSIZE: i32 = 40;
}

/// Why [`UdpTransport::bind`](super::udp::UdpTransport::bind) failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum BindError {
    /// The domain or participant id has no ports.
    Ports(PortError),
    /// The interface address cannot be bound (the text says why).
    InvalidInterface(&'static str),
    /// The configured participant id's ports are taken.
    ParticipantIdInUse {
        /// The configured id.
        participant_id: u32,
    },
    /// Every participant id up to the cap has a port taken.
    NoFreeParticipantId {
        /// The last id tried.
        last_tried: u32,
    },
    /// A socket operation failed.
    Socket {
        /// The operation.
        what: &'static str,
        /// The OS error.
        error: io::Error,
    },
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindError::Ports(e) => write!(f, "{e}"),
            BindError::InvalidInterface(why) => write!(f, "invalid interface address: {why}"),
            BindError::ParticipantIdInUse { participant_id } => {
                write!(f, "the ports of participant id {participant_id} are in use")
            }
            BindError::NoFreeParticipantId { last_tried } => {
                write!(f, "no free participant id in 0..={last_tried}")
            }
            BindError::Socket { what, error } => write!(f, "{what}: {error}"),
        }
    }
}

impl std::error::Error for BindError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BindError::Ports(e) => Some(e),
            BindError::Socket { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<PortError> for BindError {
    fn from(e: PortError) -> Self {
        BindError::Ports(e)
    }
}

/// Why a send failed. Nothing is ever dropped silently: the caller decides to queue or give up.
#[derive(Debug)]
#[non_exhaustive]
pub enum SendError {
    /// The socket buffer is full (`EAGAIN`/`ENOBUFS`, or the send timeout passed): queue and retry.
    WouldBlock,
    /// The datagram is over [`MAX_UDP_PAYLOAD`](super::udp::MAX_UDP_PAYLOAD) (or the interface MTU for multicast).
    TooLarge,
    /// The destination is multicast but multicast is off or could not be joined.
    MulticastDisabled,
    /// A multicast send failed: the interface probably does not support multicast (Linux says
    /// "Required key not available" or "Network is unreachable").
    MulticastUnavailable(io::Error),
    /// Refused without sending: the transport is bound to loopback and the destination is not.
    NotLoopback,
    /// Refused without sending: only UDPv4 destinations are supported.
    Unsupported,
    /// Any other OS error.
    Io(io::Error),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::WouldBlock => f.write_str("socket send buffer full; retry later"),
            SendError::TooLarge => f.write_str("datagram too large for UDP"),
            SendError::MulticastDisabled => f.write_str("multicast is disabled on this transport"),
            SendError::MulticastUnavailable(e) => write!(
                f,
                "multicast send failed; the interface may not support multicast \
                 (use unicast discovery, or enable multicast on it): {e}"
            ),
            SendError::NotLoopback => f.write_str(
                "destination is not on loopback while the transport is bound to loopback",
            ),
            SendError::Unsupported => f.write_str("only UDPv4 destinations are supported"),
            SendError::Io(e) => write!(f, "send failed: {e}"),
        }
    }
}

impl std::error::Error for SendError {}

/// Why a receive failed (a timeout is `Ok(None)`, not an error).
#[derive(Debug)]
#[non_exhaustive]
pub enum RecvError {
    /// An OS error.
    Io(io::Error),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Io(e) => write!(f, "receive failed: {e}"),
        }
    }
}

impl std::error::Error for RecvError {}

/// Map a send `io::Error` to a [`SendError`] (pure; unit-tested).
pub fn classify_send_error(e: io::Error, multicast: bool) -> SendError {
    match (e.kind(), e.raw_os_error()) {
        (io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut, _) => SendError::WouldBlock,
        (_, Some(errno::ENOBUFS)) => SendError::WouldBlock,
        (_, Some(errno::EMSGSIZE)) => SendError::TooLarge,
        _ if multicast => SendError::MulticastUnavailable(e),
        _ => SendError::Io(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_buffers_are_would_block_not_drops() {
        let e = io::Error::from(io::ErrorKind::WouldBlock);
        assert!(matches!(
            classify_send_error(e, false),
            SendError::WouldBlock
        ));
        let e = io::Error::from_raw_os_error(errno::ENOBUFS);
        assert!(matches!(
            classify_send_error(e, true),
            SendError::WouldBlock
        ));
        let e = io::Error::from_raw_os_error(errno::EMSGSIZE);
        assert!(matches!(classify_send_error(e, false), SendError::TooLarge));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn multicast_on_an_interface_without_multicast_is_a_clear_error() {
        // ENOKEY, "Required key not available" (Atostek/RustDDS PR #373).
        let e = io::Error::from_raw_os_error(126);
        let err = classify_send_error(e, true);
        assert!(matches!(err, SendError::MulticastUnavailable(_)));
        let text = err.to_string();
        assert!(text.contains("may not support multicast"), "{text}");
        assert!(text.contains("Required key not available"), "{text}");
        let e = io::Error::from_raw_os_error(126);
        assert!(matches!(classify_send_error(e, false), SendError::Io(_)));
    }
}
