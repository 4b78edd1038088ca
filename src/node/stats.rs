//! [`NodeStats`]: a node's counters, from its participant up to its AML-IP core.

use rtps::dds::ParticipantStats;

use super::core::CoreStats;

/// A snapshot of a node's counters ([`MainNode::stats`](super::MainNode::stats),
/// [`ComputingNode::stats`](super::ComputingNode::stats),
/// [`StatusNode::stats`](super::StatusNode::stats)).
#[non_exhaustive]
#[derive(Debug, Clone, Default)]
pub struct NodeStats {
    /// The node's DDS participant: datagrams in and out, drops by reason, retransmissions,
    /// NACKs, send errors, matched peers (all zero once the node is closed).
    pub participant: ParticipantStats,
    /// The node's AML-IP core: samples handled, and those dropped (malformed, foreign,
    /// oversized, ...).
    pub core: CoreStats,
    /// Samples the node could not write (a full KEEP_ALL history); 0 in normal operation.
    pub write_errors: u64,
}
