//! The message receiver (RTPS 2.5 §8.3.4): walks a datagram's submessages, keeps the
//! receiver state (source prefix, destination, timestamp) and hands each entity submessage to
//! the state machine it is for. A malformed datagram is dropped from the first bad
//! submessage on, and counted (architecture.md rule 6).

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use super::discovery::SpdpSample;
use super::{LocalReader, Participant};
use crate::discovery::data::{disposal, guid_from_key_payload};
use crate::reliability::{StatefulReader, StatefulWriter};
use crate::wire::message::Message;
use crate::wire::submessage::Submessage;
use crate::wire::{EntityId, Guid, GuidPrefix, SequenceNumber, Time};

/// Receiver state for one message (RTPS 2.5 §8.3.4.1).
struct ReceiverState {
    source: GuidPrefix,
    for_us: bool,
    timestamp: Option<Time>,
    /// The UDP source address of the datagram.
    addr: SocketAddr,
    /// Whether `addr` may speak for `source`, once checked.
    allowed: Option<bool>,
    /// The datagram had submessages refused for their source address.
    rejected: bool,
}

impl Participant {
    /// Handle one received UDP payload.
    pub fn handle_datagram(&mut self, now: Instant, source: SocketAddr, datagram: &[u8]) {
        self.handle_datagram_in(now, source, datagram, None);
    }

    /// Handle one received UDP payload held in a shared buffer: large DATA payloads are
    /// delivered as slices of it, without a copy.
    pub fn handle_datagram_bytes(&mut self, now: Instant, source: SocketAddr, datagram: &Bytes) {
        self.handle_datagram_in(now, source, datagram, Some(datagram));
    }

    fn handle_datagram_in(
        &mut self,
        now: Instant,
        source: SocketAddr,
        datagram: &[u8],
        owner: Option<&Bytes>,
    ) {
        self.stats.datagrams_received += 1;
        self.stats.bytes_received += datagram.len() as u64;
        if self.shut_down {
            return;
        }
        let msg = match Message::parse(datagram) {
            Ok(m) => m,
            Err(e) => {
                log::trace!("dropping datagram from {source}: {e}");
                self.stats.dropped_malformed += 1;
                return;
            }
        };
        if msg.header.guid_prefix == self.prefix {
            // Our own SPDP looping back is ignored by discovery; user traffic between our
            // own writers and readers goes through our own socket and is handled as usual.
            self.stats.own_datagrams += 1;
        }
        let mut st = ReceiverState {
            source: msg.header.guid_prefix,
            for_us: true,
            timestamp: None,
            addr: source,
            allowed: None,
            rejected: false,
        };
        for item in msg.submessages() {
            let (sub, raw) = match item {
                Ok(s) => (s.submessage, s.raw),
                Err(e) => {
                    log::trace!("dropping rest of datagram from {source}: {e}");
                    self.stats.dropped_malformed += 1;
                    break;
                }
            };
            match sub {
                Submessage::InfoDestination(d) => {
                    st.for_us =
                        d.guid_prefix == GuidPrefix::UNKNOWN || d.guid_prefix == self.prefix;
                }
                Submessage::InfoSource(s) => {
                    st.source = s.guid_prefix;
                    st.for_us = true;
                    st.timestamp = None;
                    st.allowed = None;
                }
                Submessage::InfoTimestamp(t) => st.timestamp = t.timestamp,
                Submessage::InfoReply(_) | Submessage::InfoReplyIp4(_) | Submessage::Pad(_) => {}
                Submessage::Unknown { .. } => self.stats.unknown_submessages += 1,
                _ if !st.for_us => self.stats.not_for_us += 1,
                other => {
                    if self.check_source(&mut st, &other) {
                        self.dispatch(now, &st, &other, raw, owner);
                    }
                }
            }
        }
        if st.rejected {
            self.stats.rejected_source += 1;
        }
        self.process_sedp(now);
        self.flush_entities(now);
    }

    /// May this submessage's source participant speak from the datagram's address (see
    /// [`super::admission`])? The first accepted submessage other than SPDP marks a known
    /// participant as engaged.
    fn check_source(&mut self, st: &mut ReceiverState, sub: &Submessage<'_>) -> bool {
        let allowed = match st.allowed {
            Some(a) => a,
            None => {
                let a = self.source_allowed(st.source, &st.addr);
                if a && !matches!(sub, Submessage::Data(d) if d.writer_id == EntityId::SPDP_PARTICIPANT_ANNOUNCER)
                {
                    self.mark_engaged(st.source);
                    st.allowed = Some(true);
                } else if !a {
                    log::debug!(
                        "dropping traffic of {} from {}: not an address it announced",
                        st.source,
                        st.addr
                    );
                    st.allowed = Some(false);
                }
                a
            }
        };
        st.rejected |= !allowed;
        allowed
    }

    fn dispatch(
        &mut self,
        now: Instant,
        st: &ReceiverState,
        sub: &Submessage<'_>,
        raw: &[u8],
        owner: Option<&Bytes>,
    ) {
        let src = st.source;
        if Self::is_builtin_traffic(sub) {
            // Discovery: matching, leases and the SEDP endpoints may all change.
            self.touch_all();
        }
        match sub {
            Submessage::Data(d) if d.writer_id == EntityId::SPDP_PARTICIPANT_ANNOUNCER => {
                let key = d.payload.as_ref().filter(|p| p.is_key).map(|p| p.bytes);
                match disposal(d.inline_qos.as_ref(), key) {
                    Ok(Some(disp)) => {
                        self.handle_spdp(now, src, st.addr, SpdpSample::Disposed(disp.guid))
                    }
                    Ok(None) => match &d.payload {
                        Some(p) if !p.is_key => {
                            self.handle_spdp(now, src, st.addr, SpdpSample::Alive(p.bytes))
                        }
                        Some(p) => {
                            // A key-only DATA(p) without status info: Cyclone's unregister.
                            if let Ok(g) = guid_from_key_payload(p.bytes) {
                                self.handle_spdp(now, src, st.addr, SpdpSample::Disposed(g));
                            }
                        }
                        None => {}
                    },
                    Err(_) => self.stats.bad_discovery += 1,
                }
            }
            Submessage::Data(d) => {
                if self.held_early(now, st, d.writer_id, d.reader_id, d.writer_sn, raw) {
                    return;
                }
                // A user DATA's payload may be a slice of the datagram; SEDP ones are copied.
                let owner = owner.filter(|_| !Self::is_builtin(d.writer_id));
                self.route_to_readers(src, d.writer_id, d.reader_id, |r| {
                    r.handle_data_in(now, src, d, st.timestamp, owner)
                });
            }
            Submessage::DataFrag(d) => {
                if self.held_early(now, st, d.writer_id, d.reader_id, d.writer_sn, raw) {
                    return;
                }
                self.route_to_readers(src, d.writer_id, d.reader_id, |r| {
                    r.handle_data_frag(now, src, d, st.timestamp)
                });
            }
            Submessage::Heartbeat(h) => self.route_to_readers(src, h.writer_id, h.reader_id, |r| {
                r.handle_heartbeat(now, src, h)
            }),
            Submessage::Gap(g) => {
                self.route_to_readers(src, g.writer_id, g.reader_id, |r| r.handle_gap(now, src, g))
            }
            Submessage::HeartbeatFrag(h) => {
                self.route_to_readers(src, h.writer_id, h.reader_id, |r| {
                    r.handle_heartbeat_frag(now, src, h)
                })
            }
            Submessage::AckNack(a) => {
                self.route_to_writer(a.writer_id, |w| w.handle_acknack(now, src, a))
            }
            Submessage::NackFrag(n) => {
                self.route_to_writer(n.writer_id, |w| w.handle_nack_frag(now, src, n))
            }
            _ => {}
        }
    }

    /// The local readers a submessage from writer `src` + `writer_id` addressed to
    /// `reader_id` is for get it through `f`: the SEDP detector of an SEDP announcer, or the
    /// user reader named (with ENTITYID_UNKNOWN, every user reader matched with the writer),
    /// each marked touched. Other builtin writers' submessages are ignored.
    fn route_to_readers(
        &mut self,
        src: GuidPrefix,
        writer_id: EntityId,
        reader_id: EntityId,
        mut f: impl FnMut(&mut StatefulReader),
    ) {
        match writer_id {
            EntityId::SEDP_PUBLICATIONS_ANNOUNCER => f(&mut self.sedp.publications_reader),
            EntityId::SEDP_SUBSCRIPTIONS_ANNOUNCER => f(&mut self.sedp.subscriptions_reader),
            w if Self::is_builtin(w) => {}
            _ => {
                let writer = Guid::new(src, writer_id);
                let Participant {
                    readers,
                    touched,
                    touched_timeout,
                    ..
                } = self;
                let mut deliver = |id: EntityId, l: &mut LocalReader| {
                    touched.mark(id);
                    touched_timeout.mark(id);
                    f(&mut l.reader);
                };
                if reader_id != EntityId::UNKNOWN {
                    if let Some(l) = readers.get_mut(&reader_id) {
                        deliver(reader_id, l);
                    }
                    return;
                }
                for (id, l) in readers.iter_mut() {
                    if l.reader.matched_writers().any(|g| g == writer) {
                        deliver(*id, l);
                    }
                }
            }
        }
    }

    /// The local writer an ACKNACK or NACK_FRAG for `writer_id` is for gets it through `f`:
    /// an SEDP announcer, or the user writer (marked touched).
    fn route_to_writer(&mut self, writer_id: EntityId, f: impl FnOnce(&mut StatefulWriter)) {
        match writer_id {
            EntityId::SEDP_PUBLICATIONS_ANNOUNCER => f(&mut self.sedp.publications_writer),
            EntityId::SEDP_SUBSCRIPTIONS_ANNOUNCER => f(&mut self.sedp.subscriptions_writer),
            id => {
                self.touch(id);
                if let Some(w) = self.writers.get_mut(&id) {
                    f(&mut w.writer);
                }
            }
        }
    }

    /// User DATA or DATA_FRAG from a writer not announced yet (see `early`): held for a
    /// reader that may match it (else dropped); true if the submessage goes no further.
    fn held_early(
        &mut self,
        now: Instant,
        st: &ReceiverState,
        writer_id: EntityId,
        reader_id: EntityId,
        sn: SequenceNumber,
        raw: &[u8],
    ) -> bool {
        let writer = Guid::new(st.source, writer_id);
        if Self::is_builtin(writer_id) || !self.is_early_writer(writer) {
            return false;
        }
        let for_a_reader = if reader_id == EntityId::UNKNOWN {
            !self.readers.is_empty()
        } else {
            self.readers.contains_key(&reader_id)
        };
        if for_a_reader {
            self.early.hold(
                now,
                writer,
                reader_id,
                sn,
                st.timestamp,
                raw,
                &mut self.stats,
            );
        }
        true
    }

    /// True for a submessage of a builtin (discovery) writer, or for one of ours.
    fn is_builtin_traffic(sub: &Submessage<'_>) -> bool {
        let writer = match sub {
            Submessage::Data(d) => d.writer_id,
            Submessage::DataFrag(d) => d.writer_id,
            Submessage::Heartbeat(h) => h.writer_id,
            Submessage::Gap(g) => g.writer_id,
            Submessage::HeartbeatFrag(h) => h.writer_id,
            Submessage::AckNack(a) => a.writer_id,
            Submessage::NackFrag(n) => n.writer_id,
            _ => return false,
        };
        Self::is_builtin(writer)
    }

    /// The local readers a submessage from `writer` addressed to `reader_id` is for: that
    /// reader, or with ENTITYID_UNKNOWN every reader matched with the writer.
    pub(super) fn user_readers_for(&self, writer: Guid, reader_id: EntityId) -> Vec<EntityId> {
        if reader_id != EntityId::UNKNOWN {
            return if self.readers.contains_key(&reader_id) {
                vec![reader_id]
            } else {
                Vec::new()
            };
        }
        self.readers
            .iter()
            .filter(|(_, r)| r.reader.matched_writers().any(|g| g == writer))
            .map(|(id, _)| *id)
            .collect()
    }
}
