//! Turning the state machines' transmits into datagrams (RTPS 2.5 §8.3.3, §8.3.7.7): a header,
//! INFO_DST for directed traffic, the submessages packed up to `max_message_size`, and the
//! destination addresses filtered to what this participant may reach.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use super::{Event, Participant};
use crate::reliability::{OutSubmessage, Transmit, WriterEvent};
use crate::wire::header::Header;
use crate::wire::message::MessageBuilder;
use crate::wire::submessage::{InfoDestination, Submessage};
use crate::wire::{EmitError, Endianness, EntityId, GuidPrefix, Locator, LocatorKind};

/// Most transmits (each up to `max_message_size`) one writer adds to one flush: a writer with
/// a 100 MB sample to send queues it ~1 MiB at a time, the rest when the queue has drained
/// (the next [`Participant::poll_transmit`]), instead of a copy of all of it in datagrams.
const MAX_TRANSMITS_PER_WRITER_FLUSH: usize = 16;

/// One datagram to send to every address in `destinations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// The RTPS message.
    pub bytes: Vec<u8>,
    /// Where to send it.
    pub destinations: Vec<SocketAddr>,
}

impl Participant {
    /// True when we may send to this locator: UDPv4 with a valid port and, on a loopback
    /// configuration, a 127.0.0.0/8 address (the network-safety rule).
    pub(super) fn is_reachable(&self, l: &Locator) -> bool {
        if l.kind != LocatorKind::UDP_V4 {
            return false;
        }
        match l.to_socket_addr() {
            Some(SocketAddr::V4(a)) => {
                let ip = a.ip();
                if self.config.loopback_only {
                    ip.is_loopback()
                } else {
                    !ip.is_unspecified() && !ip.is_broadcast()
                }
            }
            _ => false,
        }
    }

    /// Socket addresses of the reachable locators.
    pub(super) fn reachable(&self, locators: &[Locator]) -> Vec<SocketAddr> {
        let mut v: Vec<SocketAddr> = locators
            .iter()
            .filter(|l| self.is_reachable(l))
            .filter_map(Locator::to_socket_addr)
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn allowed(&self, a: &SocketAddr) -> bool {
        match a.ip() {
            IpAddr::V4(ip) if self.config.loopback_only => ip.is_loopback() || ip.is_multicast(),
            IpAddr::V4(_) => true,
            IpAddr::V6(_) => false,
        }
    }

    /// Pack `subs` into datagrams (header, INFO_DST when `dst` is given, submessages), split
    /// at `max_message_size`, and queue them for `addrs`.
    pub(super) fn queue_submessages(
        &mut self,
        dst: Option<GuidPrefix>,
        subs: &[OutSubmessage],
        mut addrs: Vec<SocketAddr>,
    ) {
        addrs.retain(|a| self.allowed(a));
        if addrs.is_empty() || subs.is_empty() {
            return;
        }
        let header = Header::new(self.prefix);
        let max = self.config.max_message_size.max(256);
        // One reusable scratch buffer: no per-datagram allocation and zeroing of 64 KiB.
        let mut buf = std::mem::take(&mut self.scratch);
        if buf.len() < max {
            buf.resize(max, 0);
        }
        let mut i = 0;
        let mut last_ts: Option<&OutSubmessage> = None;
        while i < subs.len() {
            let Some(slice) = buf.get_mut(..max) else {
                break;
            };
            let Ok(mut b) = MessageBuilder::new(slice, &header) else {
                break;
            };
            if let Some(prefix) = dst {
                let info_dst = Submessage::InfoDestination(InfoDestination {
                    guid_prefix: prefix,
                });
                if b.push(&info_dst).is_err() {
                    break;
                }
            }
            // A continuation datagram repeats the INFO_TS in force (RTPS 2.5 §8.3.4.1).
            if let (Some(ts), true) = (last_ts, i > 0) {
                if !matches!(subs[i], OutSubmessage::InfoTimestamp(_)) {
                    let _ = ts.with_submessage(Endianness::Little, |s| b.push(s));
                }
            }
            let fixed = b.len();
            while i < subs.len() {
                let s = &subs[i];
                match s.with_submessage(Endianness::Little, |m| b.push(m)) {
                    Ok(()) => {
                        if matches!(s, OutSubmessage::InfoTimestamp(_)) {
                            last_ts = Some(s);
                        }
                        i += 1;
                    }
                    Err(EmitError::BufferTooSmall(_)) if b.len() > fixed => break,
                    Err(e) => {
                        log::warn!("dropping a submessage that cannot be emitted: {e}");
                        i += 1;
                    }
                }
            }
            if b.len() > fixed {
                let len = b.finish();
                self.stats.datagrams_sent += 1;
                self.stats.bytes_sent += len as u64;
                let bytes = buf.get(..len).map(<[u8]>::to_vec).unwrap_or_default();
                self.out.push_back(Datagram {
                    bytes,
                    destinations: addrs.clone(),
                });
            }
        }
        self.scratch = buf;
    }

    /// Where `t` goes: its reachable locators, or else the remote participant's unicast
    /// locators (metatraffic ones for builtin endpoints).
    fn transmit_addrs(&self, t: &Transmit, builtin: bool) -> Vec<SocketAddr> {
        let addrs = self.reachable(&t.destination.locators);
        if !addrs.is_empty() {
            return addrs;
        }
        match self.remotes.get(&t.destination.guid.prefix) {
            Some(r) if builtin => self.reachable(&r.data.metatraffic_unicast_locators),
            Some(r) => self.reachable(&r.data.default_unicast_locators),
            None => addrs,
        }
    }

    /// Queue the transmits of one flush, packing those for the same participant at the same
    /// addresses into shared datagrams (one INFO_DST; RTPS 2.5 §8.3.4: submessages of several
    /// writers and readers may share a message). An answer written on two topics, or a DATA
    /// and an ACKNACK for the same peer, then costs one datagram.
    fn queue_transmits(&mut self, transmits: Vec<(Transmit, bool)>) {
        struct Group {
            dst: GuidPrefix,
            addrs: Vec<SocketAddr>,
            subs: Vec<OutSubmessage>,
            /// A timestamp (INFO_TS with a time) is in force at the end of `subs`.
            timestamped: bool,
        }
        let mut groups: Vec<Group> = Vec::new();
        for (t, builtin) in transmits {
            let addrs = self.transmit_addrs(&t, builtin);
            let dst = t.destination.guid.prefix;
            let i = match groups.iter().position(|g| g.dst == dst && g.addrs == addrs) {
                Some(i) => i,
                None => {
                    groups.push(Group {
                        dst,
                        addrs,
                        subs: Vec::new(),
                        timestamped: false,
                    });
                    groups.len() - 1
                }
            };
            let Some(g) = groups.get_mut(i) else {
                continue;
            };
            // A DATA that this transmit sends without a timestamp must not inherit the one an
            // earlier transmit of the group left in force.
            let first_data_unstamped = t
                .submessages
                .iter()
                .find(|s| {
                    matches!(
                        s,
                        OutSubmessage::InfoTimestamp(_)
                            | OutSubmessage::Data(_)
                            | OutSubmessage::DataFrag(_)
                    )
                })
                .is_some_and(|s| !matches!(s, OutSubmessage::InfoTimestamp(_)));
            if g.timestamped && first_data_unstamped {
                g.subs.push(OutSubmessage::InfoTimestamp(None));
                g.timestamped = false;
            }
            for s in t.submessages {
                if let OutSubmessage::InfoTimestamp(ts) = &s {
                    g.timestamped = ts.is_some();
                }
                g.subs.push(s);
            }
        }
        for g in groups {
            self.queue_submessages(Some(g.dst), &g.subs, g.addrs);
        }
    }

    /// Drain every state machine's transmits and events into datagrams and events.
    pub(super) fn flush_entities(&mut self, now: Instant) {
        // Only the endpoints an input touched since the last flush can have something new:
        // user traffic touches its endpoints, and everything that can change the builtin
        // (SEDP) ones (discovery traffic, endpoint creation and deletion, timers) touches all.
        let touched = std::mem::take(&mut self.touched);
        let mut builtin: Vec<Transmit> = Vec::new();
        if touched.all {
            while let Some(t) = self.sedp.publications_writer.poll_transmit(now) {
                builtin.push(t);
            }
            while let Some(t) = self.sedp.subscriptions_writer.poll_transmit(now) {
                builtin.push(t);
            }
            while let Some(t) = self.sedp.publications_reader.poll_transmit(now) {
                builtin.push(t);
            }
            while let Some(t) = self.sedp.subscriptions_reader.poll_transmit(now) {
                builtin.push(t);
            }
            while self.sedp.publications_writer.poll_event().is_some() {}
            while self.sedp.subscriptions_writer.poll_event().is_some() {}
        }
        let mut user: Vec<Transmit> = Vec::new();
        let mut events: Vec<Event> = Vec::new();
        let mut ids = touched.ids;
        ids.sort_unstable();
        let is_touched = |id: &EntityId| touched.all || ids.binary_search(id).is_ok();
        let mut more: Vec<EntityId> = Vec::new();
        for (id, w) in self.writers.iter_mut().filter(|(id, _)| is_touched(id)) {
            let mut n = 0;
            while let Some(t) = w.writer.poll_transmit(now) {
                user.push(t);
                n += 1;
                if n >= MAX_TRANSMITS_PER_WRITER_FLUSH {
                    more.push(*id);
                    break;
                }
            }
            while let Some(e) = w.writer.poll_event() {
                events.push(match e {
                    WriterEvent::Acknowledged { below } => {
                        Event::Acknowledged { writer: *id, below }
                    }
                    WriterEvent::HistorySpaceAvailable => {
                        Event::HistorySpaceAvailable { writer: *id }
                    }
                });
            }
        }
        for (_, r) in self.readers.iter_mut().filter(|(id, _)| is_touched(id)) {
            while let Some(t) = r.reader.poll_transmit(now) {
                user.push(t);
            }
        }
        for (id, r) in self.readers.iter_mut().filter(|(id, _)| is_touched(id)) {
            if !r.notified && r.reader.samples_ready() > 0 {
                r.notified = true;
                events.push(Event::DataAvailable { reader: *id });
            }
        }
        self.events.extend(events);
        for id in more {
            self.touched.mark(id);
        }
        let all = builtin
            .into_iter()
            .map(|t| (t, true))
            .chain(user.into_iter().map(|t| (t, false)))
            .collect();
        self.queue_transmits(all);
    }

    /// The next datagram to send, if any. Call until `None` after every input and operation:
    /// changes written since the last call are packed together (several DATA per datagram),
    /// so a caller that writes a burst before polling gets fewer, fuller datagrams.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        if self.out.is_empty() && !self.shut_down {
            self.flush_entities(now);
        }
        self.out.pop_front()
    }

    /// True when a local endpoint is a builtin one (used by the receiver).
    pub(super) fn is_builtin(id: EntityId) -> bool {
        id.kind.is_builtin()
    }
}
