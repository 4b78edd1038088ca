//! A deterministic simulated datagram network with a virtual clock (architecture.md rule 8).
//!
//! Nodes own unicast [`SocketAddr`]s and join multicast groups (a group is a multicast
//! `SocketAddr`). [`SimNetwork::send`] takes a datagram at virtual time `now`; each copy is then
//! independently dropped (per-link loss), duplicated, delayed (fixed delay + uniform jitter, plus
//! a random extra delay that reorders) or cut by a partition. [`SimNetwork::poll_deliver`] hands
//! out datagrams due at `now` in time order (ties in send order), and
//! [`SimNetwork::next_delivery_time`] tells the harness where to advance the clock.
//!
//! Everything is driven by one seeded [`StdRng`]: the seed comes from `RTPS_SIM_SEED` when set,
//! else from the caller, is printed on creation (shown by the test harness on failure) and is
//! available from [`SimNetwork::seed`]. The same seed and the same calls give the same trace.
//! No real time, no threads; the queue is capped.

use core::fmt;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The environment variable that overrides the seed.
pub const SEED_ENV: &str = "RTPS_SIM_SEED";
/// The default cap on datagrams in flight.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1 << 20;

/// The seed to use: `RTPS_SIM_SEED` (decimal or `0x` hex) if set and valid, else `default`.
pub fn seed_from_env(default: u64) -> u64 {
    std::env::var(SEED_ENV)
        .ok()
        .and_then(|s| parse_seed(&s))
        .unwrap_or(default)
}

/// Parse a seed written in decimal or `0x` hexadecimal.
fn parse_seed(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// An arbitrary real instant to anchor a virtual clock; the simulation uses only offsets from
/// it, so runs stay deterministic. The one place the simulation reads the clock.
#[allow(clippy::disallowed_methods)]
pub fn virtual_epoch() -> Instant {
    Instant::now()
}

/// A simulated node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

/// The behaviour of a directed link between two nodes. Probabilities are in `[0, 1]`
/// (out-of-range values act as the nearest bound; NaN as 0).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct LinkConfig {
    /// Probability that a copy is lost.
    pub loss: f64,
    /// Probability that a copy is delivered twice.
    pub duplicate: f64,
    /// Fixed one-way delay.
    pub delay: Duration,
    /// Uniform random extra delay in `[0, jitter]`.
    pub jitter: Duration,
    /// Probability that a copy gets an extra delay in `[0, reorder_delay]`, overtaking others.
    pub reorder: f64,
    /// The largest reordering delay.
    pub reorder_delay: Duration,
}

impl LinkConfig {
    /// No loss, no duplication, no delay.
    pub const PERFECT: LinkConfig = LinkConfig {
        loss: 0.0,
        duplicate: 0.0,
        delay: Duration::ZERO,
        jitter: Duration::ZERO,
        reorder: 0.0,
        reorder_delay: Duration::ZERO,
    };

    /// This link with loss probability `p`.
    #[must_use]
    pub fn with_loss(self, p: f64) -> Self {
        LinkConfig { loss: p, ..self }
    }

    /// This link with duplication probability `p`.
    #[must_use]
    pub fn with_duplicate(self, p: f64) -> Self {
        LinkConfig {
            duplicate: p,
            ..self
        }
    }

    /// This link with a fixed delay and uniform jitter.
    #[must_use]
    pub fn with_delay(self, delay: Duration, jitter: Duration) -> Self {
        LinkConfig {
            delay,
            jitter,
            ..self
        }
    }

    /// This link with reordering probability `p` and maximum extra delay `max`.
    #[must_use]
    pub fn with_reorder(self, p: f64, max: Duration) -> Self {
        LinkConfig {
            reorder: p,
            reorder_delay: max,
            ..self
        }
    }
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig::PERFECT
    }
}

/// One datagram handed to its destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The virtual time it was due.
    pub at: Instant,
    /// The receiving node.
    pub to_node: NodeId,
    /// The destination address (unicast address or multicast group).
    pub to_addr: SocketAddr,
    /// The sender's address.
    pub from_addr: SocketAddr,
    /// The datagram.
    pub bytes: Vec<u8>,
}

/// Counters of what happened to datagram copies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Datagrams passed to `send`.
    pub sent: u64,
    /// Copies delivered.
    pub delivered: u64,
    /// Copies lost by link loss.
    pub lost: u64,
    /// Extra copies created by duplication.
    pub duplicated: u64,
    /// Copies that got a reordering delay.
    pub reordered: u64,
    /// Copies dropped by a partition (at send or delivery time).
    pub partitioned: u64,
    /// Datagrams or copies with no listener.
    pub unroutable: u64,
    /// Copies dropped because the queue was at its cap.
    pub overflowed: u64,
}

/// Why a simulated network operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimError {
    /// No node has this id.
    UnknownNode,
    /// The source address is not bound by any node.
    UnknownSource,
    /// The unicast address is already bound by another node.
    AddressInUse,
    /// A multicast address was bound, or a unicast address joined.
    WrongAddressKind(&'static str),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::UnknownNode => f.write_str("unknown simulated node"),
            SimError::UnknownSource => f.write_str("source address is not bound by any node"),
            SimError::AddressInUse => f.write_str("address already bound by another node"),
            SimError::WrongAddressKind(what) => write!(f, "wrong address kind: {what}"),
        }
    }
}

impl std::error::Error for SimError {}

/// A partition handle, for [`SimNetwork::heal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionId(u64);

#[derive(Debug, Clone)]
struct InFlight {
    from_node: NodeId,
    to_node: NodeId,
    from_addr: SocketAddr,
    to_addr: SocketAddr,
    bytes: Vec<u8>,
}

/// The simulated network (see the module documentation).
#[derive(Debug)]
pub struct SimNetwork {
    seed: u64,
    rng: StdRng,
    names: Vec<String>,
    owners: BTreeMap<SocketAddr, NodeId>,
    groups: BTreeMap<SocketAddr, BTreeSet<NodeId>>,
    default_link: LinkConfig,
    links: BTreeMap<(NodeId, NodeId), LinkConfig>,
    partitions: BTreeMap<PartitionId, (BTreeSet<NodeId>, BTreeSet<NodeId>)>,
    next_partition: u64,
    queue: BTreeMap<(Instant, u64), InFlight>,
    next_seq: u64,
    max_in_flight: usize,
    stats: SimStats,
}

/// `p` as a probability: a uniform draw below it. NaN and negatives never fire.
fn chance(rng: &mut StdRng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

/// A uniform duration in `[0, max]` (nanosecond resolution, capped at `u64::MAX` ns).
fn uniform(rng: &mut StdRng, max: Duration) -> Duration {
    let max = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    if max == 0 {
        Duration::ZERO
    } else {
        Duration::from_nanos(rng.gen_range(0..=max))
    }
}

impl SimNetwork {
    /// A network seeded from `RTPS_SIM_SEED`, or `default_seed` when unset; prints the seed.
    pub fn new(default_seed: u64) -> Self {
        let seed = seed_from_env(default_seed);
        eprintln!("simulated network seed = {seed} (set {SEED_ENV}={seed} to reproduce)");
        Self::with_seed(seed)
    }

    /// A network with exactly this seed (the environment is not consulted).
    pub fn with_seed(seed: u64) -> Self {
        SimNetwork {
            seed,
            rng: StdRng::seed_from_u64(seed),
            names: Vec::new(),
            owners: BTreeMap::new(),
            groups: BTreeMap::new(),
            default_link: LinkConfig::PERFECT,
            links: BTreeMap::new(),
            partitions: BTreeMap::new(),
            next_partition: 0,
            queue: BTreeMap::new(),
            next_seq: 0,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            stats: SimStats::default(),
        }
    }

    /// The seed in use (quote it in failure messages).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A seed for a child component (a participant's RNG), drawn from the network's RNG.
    pub fn child_seed(&mut self) -> u64 {
        self.rng.gen()
    }

    /// Counters so far.
    pub fn stats(&self) -> SimStats {
        self.stats
    }

    /// Cap the number of copies in flight (extra copies are dropped and counted).
    pub fn set_max_in_flight(&mut self, max: usize) {
        self.max_in_flight = max;
    }

    /// Add a node; its name appears only in debug output.
    pub fn add_node(&mut self, name: &str) -> NodeId {
        self.names.push(name.to_owned());
        NodeId(self.names.len() - 1)
    }

    /// The node's name.
    pub fn node_name(&self, node: NodeId) -> Option<&str> {
        self.names.get(node.0).map(String::as_str)
    }

    fn check_node(&self, node: NodeId) -> Result<(), SimError> {
        if node.0 < self.names.len() {
            Ok(())
        } else {
            Err(SimError::UnknownNode)
        }
    }

    /// Let `node` receive unicast datagrams sent to `addr` (and send from it).
    pub fn bind(&mut self, node: NodeId, addr: SocketAddr) -> Result<(), SimError> {
        self.check_node(node)?;
        if addr.ip().is_multicast() {
            return Err(SimError::WrongAddressKind("bind needs a unicast address"));
        }
        match self.owners.get(&addr) {
            Some(owner) if *owner != node => Err(SimError::AddressInUse),
            _ => {
                self.owners.insert(addr, node);
                Ok(())
            }
        }
    }

    /// Release a unicast address; copies in flight to it are then unroutable.
    pub fn unbind(&mut self, addr: SocketAddr) {
        self.owners.remove(&addr);
    }

    /// The node bound to a unicast address.
    pub fn owner(&self, addr: SocketAddr) -> Option<NodeId> {
        self.owners.get(&addr).copied()
    }

    /// Let `node` receive datagrams sent to the multicast `group` (address and port).
    pub fn join(&mut self, node: NodeId, group: SocketAddr) -> Result<(), SimError> {
        self.check_node(node)?;
        if !group.ip().is_multicast() {
            return Err(SimError::WrongAddressKind("join needs a multicast group"));
        }
        self.groups.entry(group).or_default().insert(node);
        Ok(())
    }

    /// Stop `node` receiving `group`.
    pub fn leave(&mut self, node: NodeId, group: SocketAddr) {
        if let Some(members) = self.groups.get_mut(&group) {
            members.remove(&node);
        }
    }

    /// Set the behaviour of every link without its own configuration.
    pub fn set_default_link(&mut self, link: LinkConfig) {
        self.default_link = link;
    }

    /// Set the behaviour of the directed link `from -> to`.
    pub fn set_link(&mut self, from: NodeId, to: NodeId, link: LinkConfig) {
        self.links.insert((from, to), link);
    }

    /// Drop everything between nodes of `a` and nodes of `b` (both directions) until healed.
    pub fn partition(&mut self, a: &[NodeId], b: &[NodeId]) -> PartitionId {
        let id = PartitionId(self.next_partition);
        self.next_partition = self.next_partition.saturating_add(1);
        self.partitions.insert(
            id,
            (a.iter().copied().collect(), b.iter().copied().collect()),
        );
        id
    }

    /// Remove one partition.
    pub fn heal(&mut self, id: PartitionId) {
        self.partitions.remove(&id);
    }

    /// Remove every partition.
    pub fn heal_all(&mut self) {
        self.partitions.clear();
    }

    /// Whether a partition separates `x` and `y`.
    pub fn partitioned(&self, x: NodeId, y: NodeId) -> bool {
        self.partitions
            .values()
            .any(|(a, b)| (a.contains(&x) && b.contains(&y)) || (a.contains(&y) && b.contains(&x)))
    }

    /// Send a datagram from a bound address at virtual time `now`. A multicast destination
    /// fans out to every node that joined it (the sender too, as with `IP_MULTICAST_LOOP`).
    /// A destination nobody listens on is silently unroutable, as with UDP.
    pub fn send(
        &mut self,
        now: Instant,
        from: SocketAddr,
        to: SocketAddr,
        bytes: &[u8],
    ) -> Result<(), SimError> {
        let from_node = self.owner(from).ok_or(SimError::UnknownSource)?;
        self.stats.sent = self.stats.sent.saturating_add(1);
        let targets: Vec<NodeId> = if to.ip().is_multicast() {
            self.groups
                .get(&to)
                .map(|m| m.iter().copied().collect())
                .unwrap_or_default()
        } else {
            self.owner(to).into_iter().collect()
        };
        if targets.is_empty() {
            self.stats.unroutable = self.stats.unroutable.saturating_add(1);
        }
        for to_node in targets {
            self.transmit_copy(now, from_node, to_node, from, to, bytes);
        }
        Ok(())
    }

    fn transmit_copy(
        &mut self,
        now: Instant,
        from_node: NodeId,
        to_node: NodeId,
        from_addr: SocketAddr,
        to_addr: SocketAddr,
        bytes: &[u8],
    ) {
        if self.partitioned(from_node, to_node) {
            self.stats.partitioned = self.stats.partitioned.saturating_add(1);
            return;
        }
        let link = self
            .links
            .get(&(from_node, to_node))
            .copied()
            .unwrap_or(self.default_link);
        if chance(&mut self.rng, link.loss) {
            self.stats.lost = self.stats.lost.saturating_add(1);
            return;
        }
        let copies = if chance(&mut self.rng, link.duplicate) {
            self.stats.duplicated = self.stats.duplicated.saturating_add(1);
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut delay = link
                .delay
                .saturating_add(uniform(&mut self.rng, link.jitter));
            if chance(&mut self.rng, link.reorder) {
                self.stats.reordered = self.stats.reordered.saturating_add(1);
                delay = delay.saturating_add(uniform(&mut self.rng, link.reorder_delay));
            }
            if self.queue.len() >= self.max_in_flight {
                self.stats.overflowed = self.stats.overflowed.saturating_add(1);
                continue;
            }
            let at = now.checked_add(delay).unwrap_or(now);
            let seq = self.next_seq;
            self.next_seq = self.next_seq.wrapping_add(1);
            self.queue.insert(
                (at, seq),
                InFlight {
                    from_node,
                    to_node,
                    from_addr,
                    to_addr,
                    bytes: bytes.to_vec(),
                },
            );
        }
    }

    /// When the next copy is due, if any is in flight.
    pub fn next_delivery_time(&self) -> Option<Instant> {
        self.queue.keys().next().map(|(at, _)| *at)
    }

    /// Copies in flight.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    /// The next copy due at or before `now`, in time order (ties in send order). Copies cut by a
    /// partition made while in flight, or whose listener went away, are dropped and counted.
    #[must_use]
    pub fn poll_deliver(&mut self, now: Instant) -> Option<Delivery> {
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > now {
                return None;
            }
            let ((at, _), d) = entry.remove_entry();
            if self.partitioned(d.from_node, d.to_node) {
                self.stats.partitioned = self.stats.partitioned.saturating_add(1);
                continue;
            }
            let listening = if d.to_addr.ip().is_multicast() {
                self.groups
                    .get(&d.to_addr)
                    .is_some_and(|m| m.contains(&d.to_node))
            } else {
                self.owner(d.to_addr) == Some(d.to_node)
            };
            if !listening {
                self.stats.unroutable = self.stats.unroutable.saturating_add(1);
                continue;
            }
            self.stats.delivered = self.stats.delivered.saturating_add(1);
            return Some(Delivery {
                at,
                to_node: d.to_node,
                to_addr: d.to_addr,
                from_addr: d.from_addr,
                bytes: d.bytes,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests;
