//! SPDP and SEDP inside the participant (RTPS 2.5 §8.5.3, §8.5.4): announcing ourselves and our
//! endpoints, learning remote participants and endpoints, leases, and matching.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use super::sides::{Readers, Side, Writers};
use super::{Event, LostReason, Participant, RemoteParticipant, MAX_REMOTE_ENDPOINTS};
use crate::discovery::data::{
    guid_from_key_payload, BuiltinEndpointSet, EndpointData, ParticipantData,
};
use crate::history::ChangeKind;
use crate::reliability::{
    InlineQos, OutData, OutSubmessage, ReaderProxyConfig, Sample, WriterProxyConfig,
};
use crate::wire::message::SubmessageRef;
use crate::wire::submessage::Submessage;
use crate::wire::{EntityId, Guid, GuidPrefix, Locator};

impl Participant {
    /// Where an undirected SPDP announcement goes: the multicast group, the unicast probe
    /// ports, and every known participant's metatraffic unicast locators.
    fn spdp_destinations(&self) -> Vec<SocketAddr> {
        let mut out: Vec<SocketAddr> = Vec::new();
        out.extend(self.config.spdp_multicast);
        out.extend(self.config.spdp_unicast_peers.iter().copied());
        for r in self.remotes.values() {
            out.extend(self.reachable(&r.data.metatraffic_unicast_locators));
        }
        // Never announce to our own unicast ports.
        let own: Vec<SocketAddr> = self
            .config
            .metatraffic_unicast
            .iter()
            .filter_map(Locator::to_socket_addr)
            .collect();
        out.retain(|a| !own.contains(a));
        out.sort();
        out.dedup();
        out
    }

    /// Send our DATA(p): to `to` (directed, with INFO_DST) or to every SPDP destination.
    pub(super) fn announce_spdp(&mut self, to: Option<(GuidPrefix, Vec<SocketAddr>)>) {
        let data = OutSubmessage::Data(OutData {
            reader_id: EntityId::SPDP_PARTICIPANT_DETECTOR,
            writer_id: EntityId::SPDP_PARTICIPANT_ANNOUNCER,
            writer_sn: self.spdp.sn,
            inline_qos: InlineQos::default(),
            payload: Some(self.spdp.payload.clone()),
            is_key: false,
        });
        let (dst, addrs) = match to {
            Some((prefix, addrs)) => (Some(prefix), addrs),
            None => (None, self.spdp_destinations()),
        };
        self.queue_submessages(dst, &[data], addrs);
    }

    /// DATA(p[UD]): our participant is going away (key hash + status info, no payload).
    pub(super) fn send_spdp_disposal(&mut self) {
        self.spdp.sn = self.spdp.sn.next();
        let data = OutSubmessage::Data(OutData {
            reader_id: EntityId::SPDP_PARTICIPANT_DETECTOR,
            writer_id: EntityId::SPDP_PARTICIPANT_ANNOUNCER,
            writer_sn: self.spdp.sn,
            inline_qos: InlineQos::for_change(
                ChangeKind::NotAliveDisposedUnregistered,
                Some(Guid::new(self.prefix, EntityId::PARTICIPANT).to_bytes()),
            ),
            payload: None,
            is_key: false,
        });
        let addrs = self.spdp_destinations();
        self.queue_submessages(None, &[data], addrs);
    }

    /// A DATA from an SPDP announcer (RTPS 2.5 §8.5.3.1).
    pub(super) fn handle_spdp(
        &mut self,
        now: Instant,
        source: GuidPrefix,
        addr: SocketAddr,
        sample: SpdpSample<'_>,
    ) {
        match sample {
            SpdpSample::Alive(payload) => {
                let data = match ParticipantData::from_payload(payload) {
                    Ok(d) => d,
                    Err(e) => {
                        log::debug!("SPDP from {source}: {e}");
                        self.stats.bad_discovery += 1;
                        return;
                    }
                };
                self.participant_alive(now, addr, data);
            }
            SpdpSample::Disposed(guid) => {
                if !self.source_allowed(guid.prefix, &addr) {
                    self.stats.rejected_source += 1;
                } else if self.remotes.contains_key(&guid.prefix) {
                    self.remove_participant(now, guid.prefix, LostReason::Disposed);
                }
            }
        }
    }

    fn participant_alive(&mut self, now: Instant, addr: SocketAddr, data: ParticipantData) {
        let prefix = data.guid.prefix;
        if prefix == self.prefix || prefix == GuidPrefix::UNKNOWN {
            return;
        }
        if data.domain_id.is_some_and(|d| d != self.config.domain_id) {
            return;
        }
        if data.domain_tag.as_deref().is_some_and(|t| !t.is_empty()) {
            return; // we use the default (empty) domain tag
        }
        let lease_expiry = data
            .lease_duration
            .to_std()
            .and_then(|d| now.checked_add(d));
        if let Some(r) = self.remotes.get_mut(&prefix) {
            // A refresh (Fast DDS re-sends with the same sequence number): renew the lease
            // and take locator changes, if it comes from where the participant said it is.
            if !r.accepts(addr.ip()) {
                self.stats.rejected_source += 1;
                return;
            }
            r.lease_expiry = lease_expiry;
            r.last_heard = now;
            r.data = data;
            return;
        }
        if !self.make_room(now, &addr) {
            return;
        }
        log::debug!("discovered participant {prefix} ({:?})", data.entity_name);
        self.stats.participants_discovered += 1;
        self.events.push_back(Event::ParticipantDiscovered {
            guid_prefix: prefix,
            name: data.entity_name.clone(),
            vendor_id: data.vendor_id,
        });
        // Answer a newcomer at once with a directed announcement, and again a few times over
        // its first second (`answer_burst`): it may not be listening yet (Fast DDS does the
        // same with its initial announcements).
        let addrs = self.reachable(&data.metatraffic_unicast_locators);
        let bes = data.builtin_endpoint_set;
        let meta = self.meta_locators(&data);
        let answers_left = self.config.answer_burst.saturating_sub(1);
        let mut remote = RemoteParticipant::new(data, lease_expiry, addr, now);
        remote.answers_left = answers_left;
        remote.next_answer = (answers_left > 0)
            .then(|| now.checked_add(self.config.burst_interval))
            .flatten();
        self.remotes.insert(prefix, remote);
        if self.config.answer_burst > 0 {
            self.announce_spdp(Some((prefix, addrs)));
        }
        // Match the SEDP builtin endpoints it has (RTPS 2.5 §8.5.4.1).
        let reader = |id: EntityId| ReaderProxyConfig {
            remote_reader_guid: Guid::new(prefix, id),
            reliable: true,
            durable: true,
            expects_inline_qos: false,
            locators: meta.clone(),
        };
        let writer = |id: EntityId| WriterProxyConfig {
            remote_writer_guid: Guid::new(prefix, id),
            reliable: true,
            locators: meta.clone(),
        };
        if bes.contains(BuiltinEndpointSet::PUBLICATIONS_DETECTOR) {
            self.sedp
                .publications_writer
                .add_matched_reader(now, reader(EntityId::SEDP_PUBLICATIONS_DETECTOR));
        }
        if bes.contains(BuiltinEndpointSet::SUBSCRIPTIONS_DETECTOR) {
            self.sedp
                .subscriptions_writer
                .add_matched_reader(now, reader(EntityId::SEDP_SUBSCRIPTIONS_DETECTOR));
        }
        if bes.contains(BuiltinEndpointSet::PUBLICATIONS_ANNOUNCER) {
            self.sedp
                .publications_reader
                .add_matched_writer(now, writer(EntityId::SEDP_PUBLICATIONS_ANNOUNCER));
        }
        if bes.contains(BuiltinEndpointSet::SUBSCRIPTIONS_ANNOUNCER) {
            self.sedp
                .subscriptions_reader
                .add_matched_writer(now, writer(EntityId::SEDP_SUBSCRIPTIONS_ANNOUNCER));
        }
        self.flush_entities(now);
    }

    fn meta_locators(&self, data: &ParticipantData) -> Vec<Locator> {
        data.metatraffic_unicast_locators
            .iter()
            .filter(|l| self.is_reachable(l))
            .copied()
            .collect()
    }

    /// Send the directed announcements due to newly discovered participants.
    pub(super) fn answer_newcomers(&mut self, now: Instant) {
        let interval = self.config.burst_interval;
        let mut due: Vec<(GuidPrefix, Vec<Locator>)> = Vec::new();
        for (prefix, r) in self.remotes.iter_mut() {
            if r.next_answer.is_none_or(|t| t > now) {
                continue;
            }
            r.answers_left = r.answers_left.saturating_sub(1);
            r.next_answer = (r.answers_left > 0)
                .then(|| now.checked_add(interval))
                .flatten();
            due.push((*prefix, r.data.metatraffic_unicast_locators.clone()));
        }
        for (prefix, locators) in due {
            let addrs = self.reachable(&locators);
            self.announce_spdp(Some((prefix, addrs)));
        }
    }

    /// Drop participants whose lease has expired.
    pub(super) fn expire_leases(&mut self, now: Instant) {
        let expired: Vec<GuidPrefix> = self
            .remotes
            .iter()
            .filter(|(_, r)| r.lease_expiry.is_some_and(|t| t <= now))
            .map(|(p, _)| *p)
            .collect();
        for p in expired {
            self.remove_participant(now, p, LostReason::LeaseExpired);
        }
    }

    /// Forget a participant and everything it owned.
    pub(super) fn remove_participant(
        &mut self,
        now: Instant,
        prefix: GuidPrefix,
        reason: LostReason,
    ) {
        if self.remotes.remove(&prefix).is_none() {
            return;
        }
        log::debug!("lost participant {prefix}: {reason:?}");
        self.early.drop_participant(prefix, &mut self.stats);
        self.remove_remotes_of::<Writers>(prefix);
        self.remove_remotes_of::<Readers>(prefix);
        let g = |id| Guid::new(prefix, id);
        self.sedp
            .publications_writer
            .remove_matched_reader(g(EntityId::SEDP_PUBLICATIONS_DETECTOR));
        self.sedp
            .subscriptions_writer
            .remove_matched_reader(g(EntityId::SEDP_SUBSCRIPTIONS_DETECTOR));
        self.sedp
            .publications_reader
            .remove_matched_writer(g(EntityId::SEDP_PUBLICATIONS_ANNOUNCER));
        self.sedp
            .subscriptions_reader
            .remove_matched_writer(g(EntityId::SEDP_SUBSCRIPTIONS_ANNOUNCER));
        self.stats.participants_lost += 1;
        self.events.push_back(Event::ParticipantLost {
            guid_prefix: prefix,
            reason,
        });
        let _ = now;
    }

    /// Announce a local endpoint on the SEDP writer of its side.
    pub(super) fn announce<S: Side>(&mut self, now: Instant, data: &S::Data) {
        let payload = Bytes::from(S::encode(data));
        let key = Some(S::endpoint(data).endpoint_guid.to_bytes());
        let _ = S::announcer(self).write_change(now, ChangeKind::Alive, key, payload, None);
    }

    /// Withdraw a local endpoint: DATA(w[UD]) / DATA(r[UD]) with key hash and status info.
    pub(super) fn dispose_endpoint<S: Side>(&mut self, now: Instant, guid: Guid) {
        let _ = S::announcer(self).write_change(
            now,
            ChangeKind::NotAliveDisposedUnregistered,
            Some(guid.to_bytes()),
            Bytes::new(),
            None,
        );
    }

    /// Take what the SEDP readers delivered and act on it.
    pub(super) fn process_sedp(&mut self, now: Instant) {
        self.process_sedp_side::<Writers>(now);
        self.process_sedp_side::<Readers>(now);
    }

    /// Take what the SEDP reader of side `S` delivered and act on it.
    fn process_sedp_side<S: Side>(&mut self, now: Instant) {
        while let Some(s) = S::detector(self).poll_sample() {
            match sedp_key(&s) {
                SedpChange::Alive => match S::decode(&s.payload) {
                    Ok(d) if S::endpoint(&d).endpoint_guid.prefix == s.writer_guid.prefix => {
                        self.remote_alive::<S>(now, d)
                    }
                    Ok(_) => self.stats.bad_discovery += 1,
                    Err(e) => {
                        log::debug!("SEDP DATA({}) from {}: {e}", S::LETTER, s.writer_guid);
                        self.stats.bad_discovery += 1;
                    }
                },
                SedpChange::Gone(guid) => self.remove_remote::<S>(guid),
                SedpChange::Bad => self.stats.bad_discovery += 1,
            }
        }
    }

    /// Locators to reach a remote endpoint: its own, else its participant's default ones.
    fn endpoint_locators(&self, e: &EndpointData) -> Vec<Locator> {
        let own: Vec<Locator> = e
            .unicast_locators
            .iter()
            .filter(|l| self.is_reachable(l))
            .copied()
            .collect();
        if !own.is_empty() {
            return own;
        }
        self.remotes
            .get(&e.endpoint_guid.prefix)
            .map(|r| {
                r.data
                    .default_unicast_locators
                    .iter()
                    .filter(|l| self.is_reachable(l))
                    .copied()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A remote endpoint announced (or announced again, changed): matched with our endpoints
    /// of the other side (a changed announcement re-evaluates the match from scratch).
    fn remote_alive<S: Side>(&mut self, now: Instant, d: S::Data) {
        let guid = S::endpoint(&d).endpoint_guid;
        if !S::is_kind(guid.entity_id.kind) || !self.remotes.contains_key(&guid.prefix) {
            self.stats.bad_discovery += 1;
            return;
        }
        let known = S::remotes(self).contains_key(&guid);
        if !known && S::remotes(self).len() >= MAX_REMOTE_ENDPOINTS {
            self.stats.table_full += 1;
            return;
        }
        if known {
            self.remove_remote::<S>(guid);
        }
        let locators = self.endpoint_locators(S::endpoint(&d));
        for id in self.local_ids_of::<S::Other>(&S::endpoint(&d).topic_name) {
            self.pair::<S::Other>(now, id, &d, locators.clone(), true);
        }
        S::remotes_mut(self).insert(guid, d);
        S::learned(self, now, guid);
    }

    /// True when user data from `writer` arrives before its announcement: it belongs to a
    /// remote participant we know and SEDP has not told us about the writer yet.
    pub(super) fn is_early_writer(&self, writer: Guid) -> bool {
        writer.prefix != self.prefix
            && !self.remote_writers.contains_key(&writer)
            && self.remotes.contains_key(&writer.prefix)
    }

    /// Replay what the early-data hold kept from `writer` into the readers it now matches
    /// (the reader's pre-emptive ACKNACK, built at the next flush, then asks for what is
    /// still missing below it); hints only tell the readers which sequence numbers exist.
    pub(super) fn replay_early(&mut self, now: Instant, writer: Guid) {
        for h in self.early.take(writer) {
            let readers = self.user_readers_for(writer, h.reader_id);
            let matched: Vec<EntityId> = readers
                .into_iter()
                .filter(|id| {
                    self.readers
                        .get(id)
                        .is_some_and(|r| r.reader.matched_writers().any(|g| g == writer))
                })
                .collect();
            let Some(raw) = &h.raw else {
                for id in matched {
                    if let Some(r) = self.readers.get_mut(&id) {
                        r.reader.heard_of(writer, h.sn);
                    }
                }
                continue;
            };
            if matched.is_empty() {
                self.stats.early_data_dropped += 1;
                continue;
            }
            let Ok(sub) = SubmessageRef::parse(raw) else {
                self.stats.early_data_dropped += 1;
                continue;
            };
            for id in matched {
                self.touch(id);
                let Some(r) = self.readers.get_mut(&id) else {
                    continue;
                };
                match &sub.submessage {
                    Submessage::Data(d) => {
                        r.reader
                            .handle_data_in(now, writer.prefix, d, h.timestamp, Some(raw))
                    }
                    Submessage::DataFrag(d) => {
                        r.reader
                            .handle_data_frag(now, writer.prefix, d, h.timestamp)
                    }
                    _ => {}
                }
            }
            self.stats.early_data_replayed += 1;
        }
    }

    /// Forget a remote endpoint: unmatched from our endpoints of the other side.
    fn remove_remote<S: Side>(&mut self, guid: Guid) {
        if S::remotes_mut(self).remove(&guid).is_some() {
            self.unmatch_everywhere::<S>(guid);
        }
    }

    /// Forget the remote endpoints of side `S` that participant `prefix` owns.
    fn remove_remotes_of<S: Side>(&mut self, prefix: GuidPrefix) {
        let gone: Vec<Guid> = S::remotes(self)
            .keys()
            .filter(|g| g.prefix == prefix)
            .copied()
            .collect();
        for g in gone {
            self.remove_remote::<S>(g);
        }
    }

    /// Unmatch endpoint `guid` of side `S` (remote, or a local one being deleted) from our
    /// endpoints of the other side, reporting each.
    pub(super) fn unmatch_everywhere<S: Side>(&mut self, guid: Guid) {
        let (locals, events) = S::Other::locals_and_events(self);
        for (id, l) in locals.iter_mut() {
            if S::Other::unmatch(l, guid) {
                events.push_back(S::Other::unmatched(*id, guid));
            }
        }
    }

    /// Match a new local endpoint of side `S` against the known endpoints of the other side:
    /// remote ones, and our own (served through our own unicast locator).
    pub(super) fn match_local<S: Side>(&mut self, now: Instant, id: EntityId) {
        let Some(topic) = S::locals(self)
            .get(&id)
            .map(|l| S::endpoint(S::data(l)).topic_name.clone())
        else {
            return;
        };
        let on_topic = |d: &&<S::Other as Side>::Data| S::Other::endpoint(d).topic_name == topic;
        let mut candidates: Vec<(<S::Other as Side>::Data, Vec<Locator>)> = S::Other::remotes(self)
            .values()
            .filter(on_topic)
            .map(|d| (d.clone(), self.endpoint_locators(S::Other::endpoint(d))))
            .collect();
        candidates.extend(
            S::Other::locals(self)
                .values()
                .map(S::Other::data)
                .filter(on_topic)
                .map(|d| (d.clone(), self.config.default_unicast.clone())),
        );
        for (d, locators) in candidates {
            self.pair::<S>(now, id, &d, locators, true);
        }
    }

    /// A new local endpoint of side `S` is also an endpoint for our existing local endpoints
    /// of the other side.
    pub(super) fn match_new_local_to_locals<S: Side>(&mut self, now: Instant, id: EntityId) {
        let Some(d) = S::locals(self).get(&id).map(|l| S::data(l).clone()) else {
            return;
        };
        let locators = self.config.default_unicast.clone();
        for other in self.local_ids_of::<S::Other>(&S::endpoint(&d).topic_name) {
            self.pair::<S::Other>(now, other, &d, locators.clone(), false);
        }
    }

    /// Our endpoints of side `S` on `topic`.
    fn local_ids_of<S: Side>(&self, topic: &str) -> Vec<EntityId> {
        S::locals(self)
            .iter()
            .filter(|(_, l)| S::endpoint(S::data(l)).topic_name == topic)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Pair local endpoint `id` of side `S` with the other side's endpoint `other` (remote
    /// or local), reached at `locators`: on a match (RTPS 2.5 §8.5.5 and DDS 1.4 §2.2.3
    /// request/offered rules) the local endpoint gets a proxy for it and `PublicationMatched`
    /// or `SubscriptionMatched` is reported; otherwise, if `report_incompatible`,
    /// `IncompatibleQos` says why.
    pub(super) fn pair<S: Side>(
        &mut self,
        now: Instant,
        id: EntityId,
        other: &<S::Other as Side>::Data,
        locators: Vec<Locator>,
        report_incompatible: bool,
    ) {
        let Some(l) = S::locals(self).get(&id) else {
            return;
        };
        let remote = S::Other::endpoint(other).endpoint_guid;
        match S::check(S::endpoint(S::data(l)), S::Other::endpoint(other)) {
            Ok(()) => S::add_match(self, now, id, other, locators),
            Err(reason) if report_incompatible => self.events.push_back(Event::IncompatibleQos {
                local: id,
                remote,
                reason,
            }),
            Err(_) => {}
        }
    }
}

/// What an SPDP DATA carried.
#[derive(Debug)]
pub(super) enum SpdpSample<'a> {
    /// A ParticipantData payload.
    Alive(&'a [u8]),
    /// The participant is gone.
    Disposed(Guid),
}

enum SedpChange {
    Alive,
    Gone(Guid),
    Bad,
}

/// Classify an SEDP sample: alive, or a disposal keyed by hash (Fast DDS) or by a serialized
/// key payload (Cyclone).
fn sedp_key(s: &Sample) -> SedpChange {
    if s.kind == ChangeKind::Alive && !s.payload_is_key {
        return SedpChange::Alive;
    }
    if let Some(h) = s.key_hash {
        return SedpChange::Gone(Guid::from_bytes(h));
    }
    match guid_from_key_payload(&s.payload) {
        Ok(g) => SedpChange::Gone(g),
        Err(_) => SedpChange::Bad,
    }
}
