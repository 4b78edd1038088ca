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
    pub fn with_loss(self, p: f64) -> Self {
        LinkConfig { loss: p, ..self }
    }

    /// This link with duplication probability `p`.
    pub fn with_duplicate(self, p: f64) -> Self {
        LinkConfig {
            duplicate: p,
            ..self
        }
    }

    /// This link with a fixed delay and uniform jitter.
    pub fn with_delay(self, delay: Duration, jitter: Duration) -> Self {
        LinkConfig {
            delay,
            jitter,
            ..self
        }
    }

    /// This link with reordering probability `p` and maximum extra delay `max`.
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
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddrV4};

    fn addr(last: u8, port: u16) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, last), port))
    }

    fn group() -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(239, 255, 0, 1), 7400))
    }

    /// Two nodes `a` (10.0.0.1:7410) and `b` (10.0.0.2:7410).
    fn pair(net: &mut SimNetwork) -> (NodeId, NodeId) {
        let a = net.add_node("a");
        let b = net.add_node("b");
        net.bind(a, addr(1, 7410)).unwrap();
        net.bind(b, addr(2, 7410)).unwrap();
        (a, b)
    }

    /// Deliver everything, advancing the virtual clock; bounded by `max` deliveries.
    fn drain(net: &mut SimNetwork, max: usize) -> Vec<Delivery> {
        let mut out = Vec::new();
        while let Some(t) = net.next_delivery_time() {
            assert!(out.len() < max, "more deliveries than expected");
            match net.poll_deliver(t) {
                Some(d) => out.push(d),
                None => assert!(!matches!(net.next_delivery_time(), Some(n) if n <= t)),
            }
        }
        out
    }

    #[test]
    fn loss_rate_is_as_configured_over_ten_thousand_sends() {
        let mut net = SimNetwork::with_seed(7);
        let (_, _) = pair(&mut net);
        net.set_default_link(LinkConfig::PERFECT.with_loss(0.2));
        let now = virtual_epoch();
        for i in 0..10_000u32 {
            net.send(now, addr(1, 7410), addr(2, 7410), &i.to_le_bytes())
                .unwrap();
        }
        let delivered = drain(&mut net, 10_000).len();
        let s = net.stats();
        assert_eq!(s.sent, 10_000);
        assert_eq!(s.lost + s.delivered, 10_000);
        assert_eq!(s.delivered as usize, delivered);
        // Binomial(10000, 0.2): sd = 40; allow five of them.
        assert!(
            (1800..=2200).contains(&s.lost),
            "lost {} (seed {})",
            s.lost,
            net.seed()
        );
    }

    #[test]
    fn duplication_rate_is_as_configured_and_copies_are_identical() {
        let mut net = SimNetwork::with_seed(11);
        let (_, b) = pair(&mut net);
        net.set_default_link(LinkConfig::PERFECT.with_duplicate(0.1));
        let now = virtual_epoch();
        for i in 0..10_000u32 {
            net.send(now, addr(1, 7410), addr(2, 7410), &i.to_le_bytes())
                .unwrap();
        }
        let got = drain(&mut net, 20_000);
        let dup = net.stats().duplicated;
        assert!((800..=1200).contains(&dup), "duplicated {dup}");
        assert_eq!(got.len() as u64, 10_000 + dup);
        assert!(got
            .iter()
            .all(|d| d.to_node == b && d.from_addr == addr(1, 7410)));
        let distinct: BTreeSet<_> = got.iter().map(|d| d.bytes.clone()).collect();
        assert_eq!(distinct.len(), 10_000);
    }

    #[test]
    fn delay_and_jitter_bound_every_delivery_time() {
        let mut net = SimNetwork::with_seed(3);
        pair(&mut net);
        let (delay, jitter) = (Duration::from_millis(10), Duration::from_millis(5));
        net.set_default_link(LinkConfig::PERFECT.with_delay(delay, jitter));
        let t0 = virtual_epoch();
        for i in 0..1000u32 {
            net.send(t0, addr(1, 7410), addr(2, 7410), &i.to_le_bytes())
                .unwrap();
        }
        assert_eq!(net.poll_deliver(t0 + Duration::from_millis(9)), None);
        assert!(net.next_delivery_time().unwrap() >= t0 + delay);
        let got = drain(&mut net, 1000);
        assert_eq!(got.len(), 1000);
        assert!(got
            .iter()
            .all(|d| d.at >= t0 + delay && d.at <= t0 + delay + jitter));
        assert!(got.windows(2).all(|w| w[0].at <= w[1].at));
    }

    #[test]
    fn a_perfect_link_keeps_send_order_and_reordering_breaks_it() {
        let order = |reorder: f64| {
            let mut net = SimNetwork::with_seed(5);
            pair(&mut net);
            net.set_default_link(
                LinkConfig::PERFECT.with_reorder(reorder, Duration::from_millis(50)),
            );
            let t0 = virtual_epoch();
            for i in 0..200u32 {
                let now = t0 + Duration::from_millis(u64::from(i));
                net.send(now, addr(1, 7410), addr(2, 7410), &i.to_le_bytes())
                    .unwrap();
            }
            drain(&mut net, 200)
                .into_iter()
                .map(|d| u32::from_le_bytes(d.bytes.try_into().unwrap()))
                .collect::<Vec<_>>()
        };
        let in_order: Vec<u32> = (0..200).collect();
        assert_eq!(order(0.0), in_order);
        let shuffled = order(0.3);
        assert_ne!(shuffled, in_order);
        let mut sorted = shuffled.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, in_order, "reordering neither loses nor invents");
    }

    /// A busy scenario: loss, duplication, jitter, reordering, multicast, over time.
    fn trace(seed: u64) -> Vec<(Duration, usize, SocketAddr, SocketAddr, Vec<u8>)> {
        let mut net = SimNetwork::with_seed(seed);
        let (a, b) = pair(&mut net);
        let c = net.add_node("c");
        net.bind(c, addr(3, 7410)).unwrap();
        for n in [a, b, c] {
            net.join(n, group()).unwrap();
        }
        net.set_default_link(
            LinkConfig::PERFECT
                .with_loss(0.2)
                .with_duplicate(0.1)
                .with_delay(Duration::from_micros(100), Duration::from_micros(50))
                .with_reorder(0.2, Duration::from_millis(2)),
        );
        let t0 = virtual_epoch();
        let mut out = Vec::new();
        let mut now = t0;
        for i in 0..500u32 {
            now += Duration::from_micros(30);
            let from = addr(1 + (i % 3) as u8, 7410);
            let to = if i % 5 == 0 {
                group()
            } else {
                addr(1 + ((i + 1) % 3) as u8, 7410)
            };
            net.send(now, from, to, &i.to_le_bytes()).unwrap();
            while let Some(d) = net.poll_deliver(now) {
                out.push((d.at - t0, d.to_node.0, d.to_addr, d.from_addr, d.bytes));
            }
        }
        for d in drain(&mut net, 10_000) {
            out.push((d.at - t0, d.to_node.0, d.to_addr, d.from_addr, d.bytes));
        }
        out
    }

    #[test]
    fn the_same_seed_gives_an_identical_delivery_trace() {
        let first = trace(42);
        assert!(first.len() > 300);
        assert_eq!(first, trace(42));
        assert_ne!(first, trace(43));
    }

    #[test]
    fn a_partition_drops_traffic_both_ways_until_healed() {
        let mut net = SimNetwork::with_seed(1);
        let (a, b) = pair(&mut net);
        let c = net.add_node("c");
        net.bind(c, addr(3, 7410)).unwrap();
        let t0 = virtual_epoch();
        let p = net.partition(&[a], &[b]);
        assert!(net.partitioned(b, a));
        net.send(t0, addr(1, 7410), addr(2, 7410), b"a->b").unwrap();
        net.send(t0, addr(2, 7410), addr(1, 7410), b"b->a").unwrap();
        net.send(t0, addr(1, 7410), addr(3, 7410), b"a->c").unwrap();
        let got = drain(&mut net, 10);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].bytes, b"a->c");
        assert_eq!(net.stats().partitioned, 2);

        // In flight when the partition starts: dropped at delivery time.
        net.heal(p);
        net.set_default_link(
            LinkConfig::PERFECT.with_delay(Duration::from_millis(5), Duration::ZERO),
        );
        net.send(t0, addr(1, 7410), addr(2, 7410), b"late").unwrap();
        let p2 = net.partition(&[b], &[a, c]);
        assert_eq!(drain(&mut net, 10), vec![]);
        assert_eq!(net.stats().partitioned, 3);

        net.heal(p2);
        assert!(!net.partitioned(a, b));
        net.send(t0, addr(1, 7410), addr(2, 7410), b"healed")
            .unwrap();
        let got = drain(&mut net, 10);
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].to_node, got[0].bytes.as_slice()),
            (b, &b"healed"[..])
        );
    }

    #[test]
    fn multicast_fans_out_to_every_member_including_the_sender() {
        let mut net = SimNetwork::with_seed(9);
        let (a, b) = pair(&mut net);
        let c = net.add_node("c");
        let d = net.add_node("not a member");
        net.bind(c, addr(3, 7410)).unwrap();
        net.bind(d, addr(4, 7410)).unwrap();
        for n in [a, b, c] {
            net.join(n, group()).unwrap();
        }
        let t0 = virtual_epoch();
        net.send(t0, addr(2, 7410), group(), b"spdp").unwrap();
        let got = drain(&mut net, 10);
        let nodes: Vec<NodeId> = got.iter().map(|d| d.to_node).collect();
        assert_eq!(nodes, vec![a, b, c]);
        assert!(got
            .iter()
            .all(|d| d.to_addr == group() && d.from_addr == addr(2, 7410)));

        net.leave(c, group());
        net.send(t0, addr(2, 7410), group(), b"again").unwrap();
        assert_eq!(drain(&mut net, 10).len(), 2);
        // A partition cuts only the partitioned members.
        net.partition(&[a], &[b]);
        net.send(t0, addr(2, 7410), group(), b"cut").unwrap();
        let got = drain(&mut net, 10);
        assert_eq!(got.iter().map(|d| d.to_node).collect::<Vec<_>>(), vec![b]);
    }

    #[test]
    fn bad_addresses_are_refused_or_counted_unroutable() {
        let mut net = SimNetwork::with_seed(2);
        let (a, b) = pair(&mut net);
        let t0 = virtual_epoch();
        assert_eq!(net.bind(b, addr(1, 7410)), Err(SimError::AddressInUse));
        assert_eq!(net.bind(a, addr(1, 7410)), Ok(()));
        assert_eq!(net.bind(NodeId(99), addr(9, 1)), Err(SimError::UnknownNode));
        assert!(matches!(
            net.bind(a, group()),
            Err(SimError::WrongAddressKind(_))
        ));
        assert!(matches!(
            net.join(a, addr(1, 1)),
            Err(SimError::WrongAddressKind(_))
        ));
        assert_eq!(
            net.send(t0, addr(9, 9), addr(2, 7410), b"x"),
            Err(SimError::UnknownSource)
        );
        net.send(t0, addr(1, 7410), addr(8, 7410), b"nobody")
            .unwrap();
        net.send(t0, addr(1, 7410), group(), b"no members").unwrap();
        assert_eq!(net.stats().unroutable, 2);
        // Unbound while in flight.
        net.send(t0, addr(1, 7410), addr(2, 7410), b"gone").unwrap();
        net.unbind(addr(2, 7410));
        assert_eq!(net.poll_deliver(t0), None);
        assert_eq!(net.stats().unroutable, 3);
    }

    #[test]
    fn the_queue_is_capped_and_overflow_counted() {
        let mut net = SimNetwork::with_seed(4);
        pair(&mut net);
        net.set_max_in_flight(10);
        let t0 = virtual_epoch();
        for _ in 0..15 {
            net.send(t0, addr(1, 7410), addr(2, 7410), b"x").unwrap();
        }
        assert_eq!(net.in_flight(), 10);
        assert_eq!(net.stats().overflowed, 5);
    }

    #[test]
    fn probabilities_outside_the_unit_interval_do_not_panic() {
        let mut net = SimNetwork::with_seed(6);
        pair(&mut net);
        let t0 = virtual_epoch();
        for p in [f64::NAN, -1.0, 2.0, f64::INFINITY] {
            net.set_default_link(
                LinkConfig::PERFECT
                    .with_loss(p)
                    .with_duplicate(p)
                    .with_reorder(p, Duration::MAX)
                    .with_delay(Duration::MAX, Duration::MAX),
            );
            net.send(t0, addr(1, 7410), addr(2, 7410), b"x").unwrap();
        }
        assert!(net.stats().lost >= 1);
    }

    #[test]
    fn seeds_parse_in_decimal_and_hex() {
        assert_eq!(parse_seed("42"), Some(42));
        assert_eq!(parse_seed(" 0x2A "), Some(42));
        assert_eq!(parse_seed("forty-two"), None);
        assert_eq!(SimNetwork::with_seed(99).seed(), 99);
    }
}
