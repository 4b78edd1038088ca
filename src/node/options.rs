//! Options and errors of the blocking node API (AML-IP spec §6.1, §7.1).

use core::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

use rtps::dds::{
    CreateEndpointError, DdsError, ParticipantError, RecvError, WaitError, WriteError,
};

use super::core::{CoreError, DEFAULT_MAX_JOB_SIZE};
use crate::multiservice::topics::DEFAULT_DOMAIN_ID;
use crate::multiservice::IdError;

/// How a node joins the network (AML-IP spec §6.1): start from [`NodeOptions::default`] and
/// change what differs with the setters (or assign the public fields):
///
/// ```
/// use std::net::Ipv4Addr;
/// use amlip::node::NodeOptions;
/// let options = NodeOptions::default()
///     .domain(7)
///     .interface(Ipv4Addr::LOCALHOST)
///     .multicast(false);
/// assert_eq!(options.domain, 7);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeOptions {
    /// DDS domain (default 166, as every AML-IP node).
    pub domain: u32,
    /// The interface to use (default 127.0.0.1: nothing leaves the host).
    pub interface: Ipv4Addr,
    /// Announce by SPDP multicast too (unicast probes are always sent); default true.
    pub multicast: bool,
    /// Initial peers: SPDP also goes by unicast to these hosts (at the port when given, else
    /// at the SPDP ports of the domain's first participant ids there); see
    /// [`rtps::dds::ParticipantOptions::peers`].
    pub peers: Vec<(Ipv4Addr, Option<u16>)>,
    /// Participant lease: how long peers wait before declaring this node gone after a crash
    /// (default 20 s, as Fast DDS).
    pub lease_duration: Duration,
    /// Cap on the samples each of the node's writers keeps until its readers acknowledge them
    /// (default `None`: AML-IP's 5000, spec §6.2). Local only, nothing on the wire changes. A
    /// full history loses nothing: later samples wait, in order, for acknowledgments (or, with
    /// no reader matched yet, for one to come and take them).
    pub writer_history_limit: Option<u32>,
    /// How long the node keeps polling its sockets after a message before it blocks (default
    /// 200 us, [`rtps::dds::DEFAULT_BUSY_POLL`]; zero: block at once). The thread that waits
    /// for an answer polls the socket itself (a caller of
    /// [`MainNode::request_job_solution`](super::MainNode::request_job_solution), a computing
    /// node's worker), other threads' answers are polled by the receive thread. It saves the
    /// wake-up latency of a blocked thread on the hops of a job (tens of microseconds on a
    /// virtual machine) at the cost of CPU time right after traffic; an idle node polls
    /// nothing.
    pub busy_poll: Duration,
    /// Largest job or solution, in bytes (default [`DEFAULT_MAX_JOB_SIZE`], 256 MiB). A main
    /// node refuses to submit a bigger job ([`NodeError::JobTooLarge`]); a bigger job or
    /// solution received is dropped (logged and counted), and its readers never allocate
    /// room for one.
    pub max_job_size: usize,
    /// How long a computing node that answered a request waits for the main node's choice (and
    /// then for the job) before it frees itself for other requests (default 2 s). A late choice
    /// is still honoured: the job runs when it comes.
    pub reply_timeout: Duration,
    /// Most requests a computing node answers beyond its free slots when its jobs are short
    /// (default 16, at most 64; 0: never, as AML-IP's nodes): it takes up to 1 ms of work
    /// ahead, by its average job time, which hides the round trip to the main node between
    /// short jobs. See the "Prefetch" section of [`crate::multiservice::server`].
    pub prefetch: usize,
    /// Fault injection on every datagram the node sends (loss, duplication, reordering,
    /// delay), a test aid for rehearsing a bad network; default: from `AMLIP_FAULTS` /
    /// `AMLIP_FAULTS_SEED` (see [`rtps::transport::faults`]), usually none.
    pub faults: Option<rtps::transport::FaultConfig>,
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions {
            domain: DEFAULT_DOMAIN_ID,
            interface: Ipv4Addr::LOCALHOST,
            multicast: true,
            peers: Vec::new(),
            lease_duration: Duration::from_secs(20),
            writer_history_limit: None,
            busy_poll: rtps::dds::DEFAULT_BUSY_POLL,
            max_job_size: DEFAULT_MAX_JOB_SIZE,
            reply_timeout: crate::multiservice::server::DEFAULT_REPLY_TIMEOUT,
            prefetch: crate::multiservice::server::DEFAULT_PREFETCH,
            faults: rtps::transport::faults::from_env(),
        }
    }
}

impl NodeOptions {
    /// These options on another domain.
    #[must_use]
    pub fn with_domain(self, domain: u32) -> Self {
        self.domain(domain)
    }

    /// Set [`NodeOptions::domain`].
    #[must_use]
    pub fn domain(mut self, domain: u32) -> Self {
        self.domain = domain;
        self
    }

    /// Set [`NodeOptions::interface`].
    #[must_use]
    pub fn interface(mut self, interface: Ipv4Addr) -> Self {
        self.interface = interface;
        self
    }

    /// Set [`NodeOptions::multicast`].
    #[must_use]
    pub fn multicast(mut self, multicast: bool) -> Self {
        self.multicast = multicast;
        self
    }

    /// Add an initial peer to [`NodeOptions::peers`].
    #[must_use]
    pub fn peer(mut self, addr: Ipv4Addr, port: Option<u16>) -> Self {
        self.peers.push((addr, port));
        self
    }

    /// Set [`NodeOptions::peers`].
    #[must_use]
    pub fn peers(mut self, peers: Vec<(Ipv4Addr, Option<u16>)>) -> Self {
        self.peers = peers;
        self
    }

    /// Set [`NodeOptions::lease_duration`].
    #[must_use]
    pub fn lease_duration(mut self, lease_duration: Duration) -> Self {
        self.lease_duration = lease_duration;
        self
    }

    /// Set [`NodeOptions::writer_history_limit`].
    #[must_use]
    pub fn writer_history_limit(mut self, limit: Option<u32>) -> Self {
        self.writer_history_limit = limit;
        self
    }

    /// Set [`NodeOptions::busy_poll`].
    #[must_use]
    pub fn busy_poll(mut self, busy_poll: Duration) -> Self {
        self.busy_poll = busy_poll;
        self
    }

    /// Set [`NodeOptions::max_job_size`].
    #[must_use]
    pub fn max_job_size(mut self, max_job_size: usize) -> Self {
        self.max_job_size = max_job_size;
        self
    }

    /// Set [`NodeOptions::prefetch`].
    #[must_use]
    pub fn prefetch(mut self, prefetch: usize) -> Self {
        self.prefetch = prefetch;
        self
    }

    /// Set [`NodeOptions::reply_timeout`].
    #[must_use]
    pub fn reply_timeout(mut self, reply_timeout: Duration) -> Self {
        self.reply_timeout = reply_timeout;
        self
    }

    /// Set [`NodeOptions::faults`].
    #[must_use]
    pub fn faults(mut self, faults: Option<rtps::transport::FaultConfig>) -> Self {
        self.faults = faults;
        self
    }
}

/// Why a node operation failed. `source()` gives the cause where there is one (the DDS
/// error's own cause, an OS error, ...).
#[derive(Debug)]
#[non_exhaustive]
pub enum NodeError {
    /// The node name is not a valid AML-IP name (≤ 28 ASCII bytes, no NUL; spec §3.3).
    InvalidName(IdError),
    /// The DDS layer failed (ports in use, a bad interface, ...). Its `Display` and
    /// `source` are the DDS error's.
    Dds(DdsError),
    /// A thread of the node could not be started.
    Spawn(std::io::Error),
    /// The node refused the operation.
    Core(CoreError),
    /// The node was shut down while waiting.
    Closed,
    /// The operation did not complete in time.
    Timeout,
    /// A job or solution over [`NodeOptions::max_job_size`]: its size and the cap.
    JobTooLarge {
        /// Its size in bytes.
        size: usize,
        /// The cap in bytes.
        max: usize,
    },
    /// The job failed on every attempt (computing nodes running a fallible engine).
    JobFailed {
        /// The computing node of the last attempt.
        server: crate::multiservice::AmlipId,
        /// Attempts made.
        attempts: u32,
        /// Its reason.
        reason: String,
    },
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::InvalidName(e) => write!(f, "invalid node name: {e}"),
            NodeError::Dds(e) => e.fmt(f),
            NodeError::Spawn(_) => f.write_str("cannot start the node's threads"),
            NodeError::Core(e) => e.fmt(f),
            NodeError::Closed => f.write_str("the node was shut down"),
            NodeError::Timeout => f.write_str("timed out"),
            NodeError::JobTooLarge { size, max } => write!(
                f,
                "job of {size} bytes is over the maximum job size of {max} bytes \
                 (NodeOptions::max_job_size, --max-job-size)"
            ),
            NodeError::JobFailed {
                server,
                attempts,
                reason,
            } => write!(
                f,
                "the job failed {attempts} time(s), last on {server}: {reason}"
            ),
        }
    }
}

impl std::error::Error for NodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NodeError::Dds(e) => e.source(),
            NodeError::Spawn(e) => Some(e),
            NodeError::Core(e) => e.source(),
            NodeError::InvalidName(_)
            | NodeError::Closed
            | NodeError::Timeout
            | NodeError::JobTooLarge { .. }
            | NodeError::JobFailed { .. } => None,
        }
    }
}

impl From<IdError> for NodeError {
    fn from(e: IdError) -> Self {
        NodeError::InvalidName(e)
    }
}

impl From<DdsError> for NodeError {
    fn from(e: DdsError) -> Self {
        if e.is_closed() {
            NodeError::Closed
        } else if e.is_timeout() {
            NodeError::Timeout
        } else {
            NodeError::Dds(e)
        }
    }
}

impl From<ParticipantError> for NodeError {
    fn from(e: ParticipantError) -> Self {
        DdsError::from(e).into()
    }
}

impl From<CreateEndpointError> for NodeError {
    fn from(e: CreateEndpointError) -> Self {
        DdsError::from(e).into()
    }
}

impl From<WriteError> for NodeError {
    fn from(e: WriteError) -> Self {
        DdsError::from(e).into()
    }
}

impl From<RecvError> for NodeError {
    fn from(e: RecvError) -> Self {
        DdsError::from(e).into()
    }
}

impl From<WaitError> for NodeError {
    fn from(e: WaitError) -> Self {
        DdsError::from(e).into()
    }
}

impl From<CoreError> for NodeError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::ShutDown => NodeError::Closed,
            CoreError::OverMaxJobSize(size, max) => NodeError::JobTooLarge { size, max },
            e => NodeError::Core(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtps::cdr::CdrError;
    use std::error::Error as _;

    #[test]
    fn dds_errors_keep_their_source_and_timeouts_stay_timeouts() {
        assert!(matches!(
            NodeError::from(WaitError::Timeout),
            NodeError::Timeout
        ));
        assert!(matches!(
            NodeError::from(WriteError::Closed),
            NodeError::Closed
        ));
        let e = NodeError::from(RecvError::Deserialize(CdrError::Invalid("bool")));
        assert!(matches!(
            e,
            NodeError::Dds(DdsError::Recv(RecvError::Deserialize(_)))
        ));
        assert_eq!(e.to_string(), "cannot deserialize a received sample");
        let cdr = e.source().and_then(|s| s.downcast_ref::<CdrError>());
        assert_eq!(cdr, Some(&CdrError::Invalid("bool")));
        let e = NodeError::Spawn(std::io::Error::from(std::io::ErrorKind::OutOfMemory));
        assert_eq!(
            rtps::dds::error_chain(&e),
            "cannot start the node's threads: out of memory"
        );
    }
}
