//! The writer and reader sides of endpoint creation, discovery and matching mirror each other:
//! [`Side`] names what differs (the tables, the entity kinds, the SEDP endpoints, the events,
//! how a pair is made), so that what is the same is written once, generic over [`Writers`]
//! and [`Readers`].

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use super::matching::{self, Incompatibility};
use super::{Event, LocalReader, LocalWriter, Participant};
use crate::discovery::data::qos::{Durability as QosDurability, ReliabilityKind};
use crate::discovery::data::{DiscoveryError, EndpointData, ReaderData, WriterData};
use crate::reliability::{ReaderProxyConfig, StatefulReader, StatefulWriter, WriterProxyConfig};
use crate::wire::{EntityId, EntityKind, Guid, Locator, VendorId};

/// One side of matching: local and remote writers, or local and remote readers.
pub(super) trait Side {
    /// The other side: a writer's readers, a reader's writers.
    type Other: Side<Other = Self>;
    /// An endpoint's SEDP announcement (`WriterData` / `ReaderData`).
    type Data: Clone;
    /// A local endpoint: its announcement and its state machine.
    type Local;
    /// "w" or "r", for logs.
    const LETTER: &'static str;

    /// The announcement's common part.
    fn endpoint(d: &Self::Data) -> &EndpointData;
    /// The announcement's common part, to fill in.
    fn endpoint_mut(d: &mut Self::Data) -> &mut EndpointData;
    /// Our own endpoint's announcement with the QoS defaults of the side.
    fn new_data(guid: Guid, topic: &str, type_name: &str) -> Self::Data;
    /// Decode an SEDP announcement.
    fn decode(payload: &[u8]) -> Result<Self::Data, DiscoveryError>;
    /// Encode an SEDP announcement (empty if it cannot be).
    fn encode(d: &Self::Data) -> Vec<u8>;
    /// A local endpoint's announcement.
    fn data(l: &Self::Local) -> &Self::Data;
    /// The remote endpoints a local one is matched with.
    fn matched(l: &Self::Local) -> impl Iterator<Item = Guid> + '_;
    /// Forget the remote endpoint `remote` of local `l`: true if they were matched.
    fn unmatch(l: &mut Self::Local, remote: Guid) -> bool;
    /// The event saying that local `local` and remote `remote` no longer match.
    fn unmatched(local: EntityId, remote: Guid) -> Event;
    /// The entity kind of a new local endpoint.
    fn entity_kind(keyed: bool) -> EntityKind;
    /// True for an entity kind of this side.
    fn is_kind(kind: EntityKind) -> bool;
    /// The local endpoints of this side.
    fn locals(p: &Participant) -> &BTreeMap<EntityId, Self::Local>;
    /// The local endpoints of this side, and the event queue.
    fn locals_and_events(
        p: &mut Participant,
    ) -> (&mut BTreeMap<EntityId, Self::Local>, &mut VecDeque<Event>);
    /// The remote endpoints of this side we know.
    fn remotes(p: &Participant) -> &BTreeMap<Guid, Self::Data>;
    /// The remote endpoints of this side we know, to change.
    fn remotes_mut(p: &mut Participant) -> &mut BTreeMap<Guid, Self::Data>;
    /// The SEDP writer announcing our endpoints of this side.
    fn announcer(p: &mut Participant) -> &mut StatefulWriter;
    /// The SEDP reader learning remote endpoints of this side.
    fn detector(p: &mut Participant) -> &mut StatefulReader;
    /// What follows learning remote endpoint `guid`: a writer's early data is replayed.
    fn learned(p: &mut Participant, now: Instant, guid: Guid);
    /// May our endpoint `local` of this side and `other` of the other side match
    /// ([`matching::check`], which takes the writer first)?
    fn check(local: &EndpointData, other: &EndpointData) -> Result<(), Incompatibility>;
    /// Local endpoint `id` and `other` match: the local endpoint gets a proxy for it, reached
    /// at `locators`, and the match is reported.
    fn add_match(
        p: &mut Participant,
        now: Instant,
        id: EntityId,
        other: &<Self::Other as Side>::Data,
        locators: Vec<Locator>,
    );
}

/// The writer side.
pub(super) struct Writers;

/// The reader side.
pub(super) struct Readers;

impl Side for Writers {
    type Other = Readers;
    type Data = WriterData;
    type Local = LocalWriter;
    const LETTER: &'static str = "w";

    fn endpoint(d: &WriterData) -> &EndpointData {
        &d.endpoint
    }
    fn endpoint_mut(d: &mut WriterData) -> &mut EndpointData {
        &mut d.endpoint
    }
    fn new_data(guid: Guid, topic: &str, type_name: &str) -> WriterData {
        WriterData::new(guid, topic, type_name)
    }
    fn decode(payload: &[u8]) -> Result<WriterData, DiscoveryError> {
        WriterData::from_payload(payload)
    }
    fn encode(d: &WriterData) -> Vec<u8> {
        d.to_payload().unwrap_or_default()
    }
    fn data(l: &LocalWriter) -> &WriterData {
        &l.data
    }
    fn matched(l: &LocalWriter) -> impl Iterator<Item = Guid> + '_ {
        l.writer.matched_readers()
    }
    fn unmatch(l: &mut LocalWriter, remote: Guid) -> bool {
        l.writer.remove_matched_reader(remote)
    }
    fn unmatched(local: EntityId, remote: Guid) -> Event {
        Event::PublicationUnmatched {
            writer: local,
            reader: remote,
        }
    }
    fn entity_kind(keyed: bool) -> EntityKind {
        if keyed {
            EntityKind::WRITER_WITH_KEY
        } else {
            EntityKind::WRITER_NO_KEY
        }
    }
    fn is_kind(kind: EntityKind) -> bool {
        kind.is_writer()
    }
    fn locals(p: &Participant) -> &BTreeMap<EntityId, LocalWriter> {
        &p.writers
    }
    fn locals_and_events(
        p: &mut Participant,
    ) -> (&mut BTreeMap<EntityId, LocalWriter>, &mut VecDeque<Event>) {
        (&mut p.writers, &mut p.events)
    }
    fn remotes(p: &Participant) -> &BTreeMap<Guid, WriterData> {
        &p.remote_writers
    }
    fn remotes_mut(p: &mut Participant) -> &mut BTreeMap<Guid, WriterData> {
        &mut p.remote_writers
    }
    fn announcer(p: &mut Participant) -> &mut StatefulWriter {
        &mut p.sedp.publications_writer
    }
    fn detector(p: &mut Participant) -> &mut StatefulReader {
        &mut p.sedp.publications_reader
    }
    fn learned(p: &mut Participant, now: Instant, guid: Guid) {
        p.replay_early(now, guid);
    }
    fn check(local: &EndpointData, other: &EndpointData) -> Result<(), Incompatibility> {
        matching::check(local, other)
    }
    fn add_match(
        p: &mut Participant,
        now: Instant,
        id: EntityId,
        r: &ReaderData,
        locators: Vec<Locator>,
    ) {
        let Some(w) = p.writers.get_mut(&id) else {
            return;
        };
        let guid = r.endpoint.endpoint_guid;
        w.writer.add_matched_reader(
            now,
            ReaderProxyConfig {
                remote_reader_guid: guid,
                reliable: r.endpoint.qos.reliability.kind == ReliabilityKind::Reliable,
                durable: r.endpoint.qos.durability != QosDurability::Volatile,
                expects_inline_qos: r.expects_inline_qos,
                locators,
            },
        );
        p.events.push_back(Event::PublicationMatched {
            writer: id,
            reader: guid,
        });
    }
}

impl Side for Readers {
    type Other = Writers;
    type Data = ReaderData;
    type Local = LocalReader;
    const LETTER: &'static str = "r";

    fn endpoint(d: &ReaderData) -> &EndpointData {
        &d.endpoint
    }
    fn endpoint_mut(d: &mut ReaderData) -> &mut EndpointData {
        &mut d.endpoint
    }
    fn new_data(guid: Guid, topic: &str, type_name: &str) -> ReaderData {
        ReaderData::new(guid, topic, type_name)
    }
    fn decode(payload: &[u8]) -> Result<ReaderData, DiscoveryError> {
        ReaderData::from_payload(payload)
    }
    fn encode(d: &ReaderData) -> Vec<u8> {
        d.to_payload().unwrap_or_default()
    }
    fn data(l: &LocalReader) -> &ReaderData {
        &l.data
    }
    fn matched(l: &LocalReader) -> impl Iterator<Item = Guid> + '_ {
        l.reader.matched_writers()
    }
    fn unmatch(l: &mut LocalReader, remote: Guid) -> bool {
        l.reader.remove_matched_writer(remote)
    }
    fn unmatched(local: EntityId, remote: Guid) -> Event {
        Event::SubscriptionUnmatched {
            reader: local,
            writer: remote,
        }
    }
    fn entity_kind(keyed: bool) -> EntityKind {
        if keyed {
            EntityKind::READER_WITH_KEY
        } else {
            EntityKind::READER_NO_KEY
        }
    }
    fn is_kind(kind: EntityKind) -> bool {
        kind.is_reader()
    }
    fn locals(p: &Participant) -> &BTreeMap<EntityId, LocalReader> {
        &p.readers
    }
    fn locals_and_events(
        p: &mut Participant,
    ) -> (&mut BTreeMap<EntityId, LocalReader>, &mut VecDeque<Event>) {
        (&mut p.readers, &mut p.events)
    }
    fn remotes(p: &Participant) -> &BTreeMap<Guid, ReaderData> {
        &p.remote_readers
    }
    fn remotes_mut(p: &mut Participant) -> &mut BTreeMap<Guid, ReaderData> {
        &mut p.remote_readers
    }
    fn announcer(p: &mut Participant) -> &mut StatefulWriter {
        &mut p.sedp.subscriptions_writer
    }
    fn detector(p: &mut Participant) -> &mut StatefulReader {
        &mut p.sedp.subscriptions_reader
    }
    fn learned(_: &mut Participant, _: Instant, _: Guid) {}
    fn check(local: &EndpointData, other: &EndpointData) -> Result<(), Incompatibility> {
        matching::check(other, local)
    }
    fn add_match(
        p: &mut Participant,
        now: Instant,
        id: EntityId,
        w: &WriterData,
        locators: Vec<Locator>,
    ) {
        let Some(r) = p.readers.get_mut(&id) else {
            return;
        };
        let guid = w.endpoint.endpoint_guid;
        r.reader.add_matched_writer(
            now,
            WriterProxyConfig {
                remote_writer_guid: guid,
                reliable: r.data.endpoint.qos.reliability.kind == ReliabilityKind::Reliable,
                locators,
            },
        );
        let eprosima = p
            .remotes
            .get(&guid.prefix)
            .is_some_and(|rp| rp.data.vendor_id == VendorId::EPROSIMA);
        if eprosima {
            r.reader.zero_based_preemptive(guid);
        }
        p.events.push_back(Event::SubscriptionMatched {
            reader: id,
            writer: guid,
        });
    }
}
