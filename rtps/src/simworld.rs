//! A deterministic world of participants on the simulated network (architecture.md rule 8):
//! the same sans-IO [`Participant`] core the UDP driver runs, driven by a virtual clock over
//! [`SimNetwork`] with seeded loss, duplication, reordering, delay and partitions.
//!
//! Used by this crate's tests and by the `amlip` crate's MultiService tests. Every participant
//! gets its own loopback address (`127.0.1.N`) with participant id 0, as if each ran on its own
//! host; SPDP goes to the multicast group, and (when `multicast` is off) by unicast probes.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::participant::{Event, Participant, ParticipantConfig};
use crate::transport::ports;
use crate::transport::sim::{virtual_epoch, LinkConfig, NodeId, SimNetwork};
use crate::wire::Locator;

/// One participant of the world and its events so far.
#[derive(Debug)]
pub struct SimParticipant {
    /// The participant.
    pub participant: Participant,
    /// Its simulated node.
    pub node: NodeId,
    /// Its metatraffic unicast address (source of everything it sends).
    pub address: SocketAddr,
    /// Events polled from it, oldest first (tests read and clear them).
    pub events: Vec<Event>,
    /// False once stopped (no more input, output or timers: a crash) or while paused.
    pub running: bool,
    /// Paused ([`SimWorld::pause`]): datagrams sent to it wait in `backlog`.
    pub paused: bool,
    /// Datagrams that reached a paused participant, oldest first: what its sockets' receive
    /// buffers hold when the process is continued (at most `MAX_BACKLOG`, like a full buffer).
    pub backlog: VecDeque<(SocketAddr, Vec<u8>)>,
}

/// Most datagrams a paused participant's sockets hold (the rest are dropped, as by a full
/// receive buffer).
pub const MAX_BACKLOG: usize = 4096;

/// What a participant continued after a pause runs first (on a real host its receive and timer
/// threads race: both orders happen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeOrder {
    /// Its overdue timers (peers whose lease expired meanwhile are lost), then the datagrams
    /// that wait in its sockets.
    TimersFirst,
    /// The datagrams that wait in its sockets (which renew its peers' leases), then its timers.
    BacklogFirst,
}

/// Participants on a simulated network with a virtual clock.
#[derive(Debug)]
pub struct SimWorld {
    /// The network.
    pub net: SimNetwork,
    /// The participants, by index.
    pub participants: Vec<SimParticipant>,
    /// Virtual now.
    pub now: Instant,
    domain_id: u32,
    multicast: bool,
}

impl SimWorld {
    /// An empty world on `domain_id`; the seed comes from `RTPS_SIM_SEED` or `default_seed`.
    pub fn new(default_seed: u64, domain_id: u32, multicast: bool) -> Self {
        SimWorld {
            net: SimNetwork::new(default_seed),
            participants: Vec::new(),
            now: virtual_epoch(),
            domain_id,
            multicast,
        }
    }

    /// The seed in use (print it when a test fails).
    pub fn seed(&self) -> u64 {
        self.net.seed()
    }

    /// Set the default link behaviour (loss, duplication, delay, reordering).
    pub fn set_link(&mut self, link: LinkConfig) {
        self.net.set_default_link(link);
    }

    /// Add a participant; `tweak` may adjust its configuration. Returns its index.
    pub fn add_participant(
        &mut self,
        name: &str,
        tweak: impl FnOnce(&mut ParticipantConfig),
    ) -> usize {
        let idx = self.participants.len();
        let n = u8::try_from(idx + 1).unwrap_or(u8::MAX);
        let (ip, pid) = if self.multicast {
            (Ipv4Addr::new(127, 0, 1, n), 0)
        } else {
            (Ipv4Addr::LOCALHOST, idx as u32)
        };
        let d = self.domain_id;
        let meta_port = ports::metatraffic_unicast_port(d, pid).unwrap_or(7410);
        let user_port = ports::user_unicast_port(d, pid).unwrap_or(7411);
        let spdp_port = ports::spdp_multicast_port(d).unwrap_or(7400);
        let group = SocketAddr::new(IpAddr::V4(ports::SPDP_MULTICAST_GROUP), spdp_port);
        let node = self.net.add_node(name);
        let meta = SocketAddr::new(IpAddr::V4(ip), meta_port);
        let user = SocketAddr::new(IpAddr::V4(ip), user_port);
        let _ = self.net.bind(node, meta);
        let _ = self.net.bind(node, user);
        let mut config = ParticipantConfig {
            domain_id: d,
            participant_id: pid,
            seed: self.net.child_seed(),
            name: Some(name.to_string()),
            metatraffic_unicast: vec![Locator::udp_v4(ip, meta_port)],
            default_unicast: vec![Locator::udp_v4(ip, user_port)],
            ..ParticipantConfig::default()
        };
        if self.multicast {
            let _ = self.net.join(node, group);
            config.spdp_multicast = Some(group);
            config.metatraffic_multicast =
                vec![Locator::udp_v4(ports::SPDP_MULTICAST_GROUP, spdp_port)];
        } else {
            config.spdp_unicast_peers = (0..8)
                .filter_map(|p| ports::metatraffic_unicast_port(d, p).ok())
                .map(|port| SocketAddr::new(IpAddr::V4(ip), port))
                .collect();
        }
        tweak(&mut config);
        let participant = Participant::new(config, self.now);
        self.participants.push(SimParticipant {
            participant,
            node,
            address: meta,
            events: Vec::new(),
            running: true,
            paused: false,
            backlog: VecDeque::new(),
        });
        self.flush(idx);
        idx
    }

    /// Stop a participant abruptly (no goodbye): peers notice at lease expiry.
    pub fn crash(&mut self, idx: usize) {
        if let Some(p) = self.participants.get_mut(idx) {
            p.running = false;
        }
    }

    /// Pause a participant (SIGSTOP): no output or timers; datagrams sent to it wait in its
    /// sockets ([`SimParticipant::backlog`]) until [`SimWorld::resume`].
    pub fn pause(&mut self, idx: usize) {
        if let Some(p) = self.participants.get_mut(idx) {
            if p.running {
                p.running = false;
                p.paused = true;
            }
        }
    }

    /// Continue a paused participant (SIGCONT): its overdue timers and the datagrams waiting in
    /// its sockets run now, in `order`.
    pub fn resume(&mut self, idx: usize, order: ResumeOrder) {
        let now = self.now;
        let Some(p) = self.participants.get_mut(idx) else {
            return;
        };
        if !p.paused {
            return;
        }
        p.paused = false;
        p.running = true;
        if order == ResumeOrder::TimersFirst {
            self.run_timer(idx);
        }
        let backlog = std::mem::take(&mut self.participants[idx].backlog);
        for (from, bytes) in backlog {
            self.participants[idx]
                .participant
                .handle_datagram(now, from, &bytes);
            self.flush(idx);
        }
        self.run_timer(idx);
    }

    /// Run participant `idx`'s timer if it is due.
    fn run_timer(&mut self, idx: usize) {
        let now = self.now;
        let Some(p) = self.participants.get_mut(idx) else {
            return;
        };
        if p.running && p.participant.poll_timeout().is_some_and(|t| t <= now) {
            p.participant.handle_timeout(now);
            self.flush(idx);
        }
    }

    /// Move a participant's output into the network and its events into `events`.
    pub fn flush(&mut self, idx: usize) {
        let now = self.now;
        let Some(p) = self.participants.get_mut(idx) else {
            return;
        };
        if !p.running {
            return;
        }
        while let Some(d) = p.participant.poll_transmit(now) {
            for to in &d.destinations {
                let _ = self.net.send(now, p.address, *to, &d.bytes);
            }
        }
        while let Some(e) = p.participant.poll_event() {
            p.events.push(e);
        }
    }

    /// Advance to the next thing that happens (a delivery or a timer), at most to `limit`.
    /// Returns false when nothing is scheduled before `limit` (time is then moved to `limit`).
    pub fn step(&mut self, limit: Instant) -> bool {
        let mut next = self.net.next_delivery_time();
        for p in self.participants.iter().filter(|p| p.running) {
            if let Some(t) = p.participant.poll_timeout() {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        }
        let Some(t) = next.filter(|t| *t <= limit) else {
            self.now = self.now.max(limit);
            return false;
        };
        self.now = self.now.max(t);
        let now = self.now;
        while let Some(d) = self.net.poll_deliver(now) {
            if let Some(i) = self.participants.iter().position(|p| p.node == d.to_node) {
                let p = &mut self.participants[i];
                if p.running {
                    p.participant.handle_datagram(now, d.from_addr, &d.bytes);
                    self.flush(i);
                } else if p.paused && p.backlog.len() < MAX_BACKLOG {
                    p.backlog.push_back((d.from_addr, d.bytes));
                }
            }
        }
        for i in 0..self.participants.len() {
            let due = self.participants[i]
                .participant
                .poll_timeout()
                .is_some_and(|t| t <= now);
            if due && self.participants[i].running {
                self.participants[i].participant.handle_timeout(now);
                self.flush(i);
            }
        }
        true
    }

    /// Run until `done` holds or `max` of virtual time passes; true if `done` held.
    pub fn run_until(
        &mut self,
        max: Duration,
        mut done: impl FnMut(&mut SimWorld) -> bool,
    ) -> bool {
        let limit = self.now + max;
        loop {
            if done(self) {
                return true;
            }
            if self.now >= limit {
                return false;
            }
            self.step(limit);
        }
    }

    /// Run for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let limit = self.now + d;
        while self.step(limit) {}
    }
}
