//! The RTPS participant: discovery (SPDP, SEDP), matching, and the dispatch of submessages to
//! the reliability state machines (RTPS 2.5 §8.3.4, §8.4, §8.5).
//!
//! Sans-IO, quinn-proto style (architecture.md rule 1). Inputs:
//! [`Participant::handle_datagram`] for every received UDP payload and
//! [`Participant::handle_timeout`] when [`Participant::poll_timeout`] is reached (early calls
//! are no-ops). Operations: `create_writer`, `create_reader`, `write`, `take`, `delete_*`,
//! `shutdown`. Outputs, drained after every input and operation, in this order:
//! [`Participant::poll_transmit`] (datagrams with their destinations), [`Participant::poll_event`],
//! then [`Participant::poll_timeout`]. Time (`now`) and the RNG seed are handed in; nothing here
//! reads a clock, opens a socket or starts a thread.

mod admission;
mod discovery;
mod early;
#[cfg(test)]
mod early_tests;
#[cfg(test)]
mod interop_tests;
pub mod matching;
mod output;
mod receiver;
mod sides;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::discovery::data::qos::{
    Durability as QosDurability, EndpointQos, History, ReliabilityKind,
};
use crate::discovery::data::{ParticipantData, ReaderData, WriterData};
use crate::history::{HistoryKind, ResourceLimits};
use crate::reliability::{
    Durability, ReaderConfig, ReaderStats, Sample, StatefulReader, StatefulWriter, WriteError,
    WriterConfig, WriterStats,
};
use crate::wire::{
    EntityId, EntityKind, Guid, GuidPrefix, Locator, SequenceNumber, Time, VendorId,
};
use sides::{Readers, Side, Writers};

pub use admission::MAX_SPDP_ONLY_PER_SOURCE;
pub use early::EarlyDataLimits;
pub use matching::Incompatibility;
pub use output::Datagram;

/// Most remote participants tracked at once (rule 6: every table is capped).
pub const MAX_REMOTE_PARTICIPANTS: usize = 1024;
/// Most remote endpoints tracked at once.
pub const MAX_REMOTE_ENDPOINTS: usize = 16_384;

/// How a participant is set up. The driver fills in the locators from the transport.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ParticipantConfig {
    /// DDS domain id.
    pub domain_id: u32,
    /// Participant id (port offset) the transport bound.
    pub participant_id: u32,
    /// Seed of the participant's RNG (GUID prefix, ...).
    pub seed: u64,
    /// GUID prefix; derived from `seed` when `None`.
    pub guid_prefix: Option<GuidPrefix>,
    /// `PID_ENTITY_NAME` of the participant.
    pub name: Option<String>,
    /// `PID_PROPERTY_LIST` entries announced in SPDP.
    pub properties: Vec<(String, String)>,
    /// Our metatraffic unicast locators (SPDP/SEDP unicast).
    pub metatraffic_unicast: Vec<Locator>,
    /// Our user-data unicast locators.
    pub default_unicast: Vec<Locator>,
    /// Our metatraffic multicast locators (announced; the SPDP group).
    pub metatraffic_multicast: Vec<Locator>,
    /// Where SPDP announcements are multicast (239.255.0.1:PB+DG·domain), if multicast works.
    pub spdp_multicast: Option<SocketAddr>,
    /// Unicast SPDP destinations probed periodically (the well-known metatraffic ports of
    /// participant ids 0..N on the interface), so discovery works without multicast.
    pub spdp_unicast_peers: Vec<SocketAddr>,
    /// Participant lease announced to peers.
    pub lease_duration: Duration,
    /// Period of SPDP announcements after the initial burst.
    pub announce_period: Duration,
    /// Announcements in the initial burst, `burst_interval` apart.
    pub announce_burst: u32,
    /// Interval of the initial burst.
    pub burst_interval: Duration,
    /// Directed announcements sent to a newly discovered participant, `burst_interval`
    /// apart, the first at once (then it gets the periodic ones like everybody).
    pub answer_burst: u32,
    /// Caps of the hold for user data that arrives before its writer's announcement.
    pub early_data: EarlyDataLimits,
    /// Largest datagram we build.
    pub max_message_size: usize,
    /// Payloads above this go as DATA_FRAG.
    pub fragment_size: u16,
    /// Only send to loopback addresses (127.0.0.0/8); set when the interface is loopback.
    pub loopback_only: bool,
    /// Heartbeat period of reliable writers.
    pub heartbeat_period: Duration,
    /// Largest sample the user readers accept (RTPS 2.5 §8.4.14.1 `sampleSize`): a bigger one
    /// is never allocated; it is skipped and counted (`ReaderConfig::max_sample_size`).
    pub max_sample_size: u32,
}

impl Default for ParticipantConfig {
    fn default() -> Self {
        ParticipantConfig {
            domain_id: 0,
            participant_id: 0,
            seed: 0,
            guid_prefix: None,
            name: None,
            properties: Vec::new(),
            metatraffic_unicast: Vec::new(),
            default_unicast: Vec::new(),
            metatraffic_multicast: Vec::new(),
            spdp_multicast: None,
            spdp_unicast_peers: Vec::new(),
            lease_duration: Duration::from_secs(20),
            announce_period: Duration::from_secs(3),
            announce_burst: 5,
            burst_interval: Duration::from_millis(100),
            answer_burst: 5,
            early_data: EarlyDataLimits::default(),
            max_message_size: 65_000,
            fragment_size: 64_000,
            loopback_only: true,
            heartbeat_period: Duration::from_millis(100),
            max_sample_size: ReaderConfig::default().max_sample_size,
        }
    }
}

/// Something the application may want to know (`poll_event`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A remote participant was discovered.
    ParticipantDiscovered {
        /// Its GUID prefix.
        guid_prefix: GuidPrefix,
        /// Its `PID_ENTITY_NAME`, if any.
        name: Option<String>,
        /// Its vendor.
        vendor_id: VendorId,
    },
    /// A remote participant went away.
    ParticipantLost {
        /// Its GUID prefix.
        guid_prefix: GuidPrefix,
        /// Why.
        reason: LostReason,
    },
    /// A local writer matched a remote reader.
    PublicationMatched {
        /// The local writer.
        writer: EntityId,
        /// The remote reader.
        reader: Guid,
    },
    /// A local writer lost a remote reader.
    PublicationUnmatched {
        /// The local writer.
        writer: EntityId,
        /// The remote reader.
        reader: Guid,
    },
    /// A local reader matched a remote writer.
    SubscriptionMatched {
        /// The local reader.
        reader: EntityId,
        /// The remote writer.
        writer: Guid,
    },
    /// A local reader lost a remote writer.
    SubscriptionUnmatched {
        /// The local reader.
        reader: EntityId,
        /// The remote writer.
        writer: Guid,
    },
    /// A remote endpoint on a local endpoint's topic is incompatible.
    IncompatibleQos {
        /// The local endpoint.
        local: EntityId,
        /// The remote endpoint.
        remote: Guid,
        /// Why they do not match.
        reason: Incompatibility,
    },
    /// Samples are ready to `take` on a local reader.
    DataAvailable {
        /// The local reader.
        reader: EntityId,
    },
    /// Every change of a local writer below `below` is acknowledged by all reliable readers.
    Acknowledged {
        /// The local writer.
        writer: EntityId,
        /// First sequence number not yet acknowledged by all.
        below: SequenceNumber,
    },
    /// A full KEEP_ALL writer history has room again.
    HistorySpaceAvailable {
        /// The local writer.
        writer: EntityId,
    },
}

/// Why a remote participant was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostReason {
    /// Its lease expired without an announcement.
    LeaseExpired,
    /// It announced its own removal (DATA(p\[UD\])).
    Disposed,
    /// It had sent nothing but SPDP and its place was given to a newcomer (a full table, or
    /// too many such participants from one address).
    Evicted,
}

/// Counters (`stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams handed to `handle_datagram`.
    pub datagrams_received: u64,
    /// Datagrams (or their tails) dropped as malformed.
    pub dropped_malformed: u64,
    /// Datagrams from ourselves (multicast loop) ignored.
    pub own_datagrams: u64,
    /// Submessages skipped because INFO_DST named another participant.
    pub not_for_us: u64,
    /// Discovery samples that did not decode or were incompatible.
    pub bad_discovery: u64,
    /// Remote participants or endpoints refused because a table was full.
    pub table_full: u64,
    /// Datagrams produced.
    pub datagrams_sent: u64,
    /// Submessages whose kind we do not handle (vendor ones included), skipped.
    pub unknown_submessages: u64,
    /// User DATA / DATA_FRAG held because their writer was not announced yet.
    pub early_data_held: u64,
    /// Held submessages replayed into a reader when their writer matched.
    pub early_data_replayed: u64,
    /// Early submessages dropped: over a cap, expired, or their writer never matched.
    pub early_data_dropped: u64,
    /// Datagrams (or their parts) naming a known participant but coming from an address it
    /// did not announce, dropped.
    pub rejected_source: u64,
    /// Participants that had sent nothing but SPDP, evicted to make room for newcomers.
    pub evicted: u64,
    /// Octets handed to `handle_datagram`.
    pub bytes_received: u64,
    /// Octets of the datagrams produced (once per datagram, whatever its destinations).
    pub bytes_sent: u64,
    /// Remote participants discovered (each time one appears, again after it was lost).
    pub participants_discovered: u64,
    /// Remote participants lost (lease expired, disposed or evicted).
    pub participants_lost: u64,
}

/// What the local user endpoints are matched with ([`Participant::matched`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Matched {
    /// Readers matched with a local writer (a reader matched with two writers counts twice;
    /// our own readers count too).
    pub readers: usize,
    /// Writers matched with a local reader (likewise).
    pub writers: usize,
    /// Remote participants owning at least one of them.
    pub participants: usize,
}

/// Why creating an endpoint failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CreateError {
    /// The 24-bit entity key space is used up.
    TooManyEndpoints,
    /// Topic or type name empty or over 255 bytes.
    InvalidName,
}

impl core::fmt::Display for CreateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            CreateError::TooManyEndpoints => "create endpoint: entity key space exhausted",
            CreateError::InvalidName => {
                "create endpoint: topic and type names must be 1..=255 bytes"
            }
        })
    }
}

impl std::error::Error for CreateError {}

/// Why an operation on an endpoint failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointError {
    /// No such local endpoint (deleted, or never created).
    UnknownEndpoint,
    /// The writer refused the change.
    Write(WriteError),
}

impl core::fmt::Display for EndpointError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EndpointError::UnknownEndpoint => f.write_str("no such local endpoint"),
            EndpointError::Write(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for EndpointError {}

/// A remote participant and its lease (RTPS 2.5 §8.5.3).
#[derive(Debug)]
struct RemoteParticipant {
    data: ParticipantData,
    lease_expiry: Option<Instant>,
    /// Directed announcements still to send it (see `ParticipantConfig::answer_burst`).
    answers_left: u32,
    /// When the next one goes.
    next_answer: Option<Instant>,
    /// The address its first SPDP came from.
    heard_from: std::net::IpAddr,
    /// When its last SPDP was accepted.
    last_heard: Instant,
    /// It sent something other than SPDP (it is then never evicted for a newcomer).
    engaged: bool,
}

/// A local writer: its announcement and its state machine.
#[derive(Debug)]
struct LocalWriter {
    data: WriterData,
    writer: StatefulWriter,
}

/// A local reader: its announcement, its state machine, whether DataAvailable was reported.
#[derive(Debug)]
struct LocalReader {
    data: ReaderData,
    reader: StatefulReader,
    notified: bool,
}

/// The SEDP builtin endpoints (RTPS 2.5 §8.5.4): reliable, TRANSIENT_LOCAL.
#[derive(Debug)]
struct Sedp {
    publications_writer: StatefulWriter,
    subscriptions_writer: StatefulWriter,
    publications_reader: StatefulReader,
    subscriptions_reader: StatefulReader,
}

/// The SPDP announcer state (RTPS 2.5 §8.5.3.2).
#[derive(Debug)]
struct Spdp {
    data: ParticipantData,
    payload: Bytes,
    sn: SequenceNumber,
    next_announce: Instant,
    burst_left: u32,
}

/// An RTPS participant (sans-IO).
#[derive(Debug)]
pub struct Participant {
    config: ParticipantConfig,
    prefix: GuidPrefix,
    rng: StdRng,
    spdp: Spdp,
    sedp: Sedp,
    remotes: BTreeMap<GuidPrefix, RemoteParticipant>,
    writers: BTreeMap<EntityId, LocalWriter>,
    readers: BTreeMap<EntityId, LocalReader>,
    remote_writers: BTreeMap<Guid, WriterData>,
    remote_readers: BTreeMap<Guid, ReaderData>,
    /// User data from remote writers not announced yet.
    early: early::EarlyData,
    next_entity_key: u32,
    out: VecDeque<Datagram>,
    events: VecDeque<Event>,
    stats: Stats,
    shut_down: bool,
    /// Reused datagram-building buffer.
    scratch: Vec<u8>,
    /// Local endpoints an input touched since the last `flush_entities`, which polls only
    /// them (every input and operation that changes an endpoint marks it, see
    /// [`Participant::touch`]).
    touched: Touched,
    /// Local endpoints touched since `timeout` was computed in full.
    touched_timeout: Touched,
    /// The last full [`Participant::poll_timeout`], lowered by what touched endpoints want
    /// since (see [`Participant::poll_timeout_hint`]); `None` before the first.
    timeout: Option<Option<Instant>>,
}

/// A set of local endpoint ids, or all of them.
#[derive(Debug, Default, Clone)]
pub(super) struct Touched {
    pub(super) all: bool,
    pub(super) ids: Vec<EntityId>,
}

impl Touched {
    /// Most ids kept before the set becomes "all" (an input touches one or two endpoints).
    const MAX_IDS: usize = 16;

    fn mark(&mut self, id: EntityId) {
        if self.all || self.ids.contains(&id) {
            return;
        }
        if self.ids.len() >= Self::MAX_IDS {
            self.mark_all();
        } else {
            self.ids.push(id);
        }
    }

    fn mark_all(&mut self) {
        self.all = true;
        self.ids.clear();
    }
}

/// A user reader asks for a hole this long after it sees one (a later sequence number, or
/// a HEARTBEAT): loss is repaired at about the speed of the network, while a datagram merely
/// overtaken by a few hundred microseconds fills the hole first.
const USER_NACK_DELAY: Duration = Duration::from_millis(1);
/// A user reader asks a writer for samples at most this often (repairs of what it asked for
/// may be in flight). 5 ms (the default) made 1,000 jobs at 30% loss take 2.8-4.1 s, 3 ms
/// 2.1-3.0 s; with no spacing a reliable 64 KiB stream overflowing the receiver's socket
/// buffer collapsed into repeated repairs.
const USER_NACK_SPACING: Duration = Duration::from_millis(3);
/// A user writer's first periodic HEARTBEAT comes this long after the last data it sent (each
/// transmit of data carries a piggy-backed one), then the period doubles up to the
/// participant's `heartbeat_period` while changes stay unacknowledged: a lost tail sample,
/// ACKNACK or repair costs about this long. A steady stream sends no periodic HEARTBEAT; a
/// writer that pauses sends one more HEARTBEAT (and gets one more ACKNACK) than with a fixed
/// period when the pause starts before its reader acknowledged. A writer that repaired
/// nothing lately checks for its tail less often (`reliability::writer`'s
/// `STREAM_CHECK_FACTOR`).
const USER_HEARTBEAT_MIN_PERIOD: Duration = Duration::from_millis(1);

/// The QoS of a local endpoint as the reliability layer wants it. User writers answer a NACK
/// at once (a NACK is unicast from one reader: there is nothing to coalesce) and heartbeat
/// with back-off (`USER_HEARTBEAT_MIN_PERIOD`).
fn writer_config(qos: &EndpointQos, config: &ParticipantConfig) -> WriterConfig {
    let (history, limits) = history_of(qos);
    WriterConfig {
        reliable: qos.reliability.kind == ReliabilityKind::Reliable,
        durability: match qos.durability {
            QosDurability::Volatile => Durability::Volatile,
            _ => Durability::TransientLocal,
        },
        history,
        resource_limits: limits,
        heartbeat_period: config.heartbeat_period,
        heartbeat_min_period: USER_HEARTBEAT_MIN_PERIOD.min(config.heartbeat_period),
        nack_response_delay: Duration::ZERO,
        fragment_size: config.fragment_size,
        max_transmit_size: config.max_message_size.saturating_sub(64),
        ..WriterConfig::default()
    }
}

fn history_of(qos: &EndpointQos) -> (HistoryKind, ResourceLimits) {
    let history = match qos.history {
        History::KeepLast { depth } => HistoryKind::KeepLast {
            depth: depth.max(1) as u32,
        },
        History::KeepAll => HistoryKind::KeepAll,
    };
    let positive = |v: i32| usize::try_from(v).ok().filter(|v| *v > 0);
    let limits = ResourceLimits {
        max_samples: positive(qos.resource_limits.max_samples),
        max_instances: positive(qos.resource_limits.max_instances),
    };
    (history, limits)
}

impl Participant {
    /// A participant that starts announcing itself at `now`.
    pub fn new(config: ParticipantConfig, now: Instant) -> Self {
        let mut rng = StdRng::seed_from_u64(config.seed);
        let prefix = config.guid_prefix.unwrap_or_else(|| {
            let mut p = [0u8; 12];
            p[..2].copy_from_slice(&VendorId::AMLIP_RS.0);
            rng.fill_bytes(&mut p[2..]);
            GuidPrefix(p)
        });
        let mut data = ParticipantData::new(prefix);
        data.domain_id = Some(config.domain_id);
        data.metatraffic_unicast_locators = config.metatraffic_unicast.clone();
        data.metatraffic_multicast_locators = config.metatraffic_multicast.clone();
        data.default_unicast_locators = config.default_unicast.clone();
        data.lease_duration = crate::wire::Duration::from_std(config.lease_duration);
        data.entity_name = config.name.clone();
        data.property_list = config.properties.clone();
        let payload = Bytes::from(data.to_payload().unwrap_or_default());
        let sedp_writer = |id: EntityId| {
            let cfg = WriterConfig {
                reliable: true,
                durability: Durability::TransientLocal,
                history: HistoryKind::KeepAll,
                heartbeat_period: config.heartbeat_period.max(Duration::from_millis(100)),
                max_transmit_size: config.max_message_size.saturating_sub(64),
                fragment_size: config.fragment_size,
                ..WriterConfig::default()
            };
            StatefulWriter::new(Guid::new(prefix, id), cfg)
        };
        let sedp_reader =
            |id: EntityId| StatefulReader::new(Guid::new(prefix, id), ReaderConfig::default());
        let sedp = Sedp {
            publications_writer: sedp_writer(EntityId::SEDP_PUBLICATIONS_ANNOUNCER),
            subscriptions_writer: sedp_writer(EntityId::SEDP_SUBSCRIPTIONS_ANNOUNCER),
            publications_reader: sedp_reader(EntityId::SEDP_PUBLICATIONS_DETECTOR),
            subscriptions_reader: sedp_reader(EntityId::SEDP_SUBSCRIPTIONS_DETECTOR),
        };
        let burst = config.announce_burst;
        let early_limits = config.early_data;
        let mut p = Participant {
            config,
            prefix,
            rng,
            spdp: Spdp {
                data,
                payload,
                sn: SequenceNumber(1),
                next_announce: now,
                burst_left: burst,
            },
            sedp,
            remotes: BTreeMap::new(),
            writers: BTreeMap::new(),
            readers: BTreeMap::new(),
            remote_writers: BTreeMap::new(),
            remote_readers: BTreeMap::new(),
            early: early::EarlyData::new(early_limits),
            next_entity_key: 1,
            out: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            shut_down: false,
            scratch: Vec::new(),
            touched: Touched {
                all: true,
                ids: Vec::new(),
            },
            touched_timeout: Touched::default(),
            timeout: None,
        };
        p.handle_timeout(now);
        p
    }

    /// Our GUID prefix.
    pub fn guid_prefix(&self) -> GuidPrefix {
        self.prefix
    }

    /// Our SPDP data as announced.
    pub fn participant_data(&self) -> &ParticipantData {
        &self.spdp.data
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The counters of the local writers, summed (the SEDP ones included).
    pub fn writer_stats(&self) -> WriterStats {
        let mut s = *self.sedp.publications_writer.stats();
        s += self.sedp.subscriptions_writer.stats();
        for w in self.writers.values() {
            s += w.writer.stats();
        }
        s
    }

    /// The counters of the local readers, summed (the SEDP ones included).
    pub fn readers_stats(&self) -> ReaderStats {
        let mut s = *self.sedp.publications_reader.stats();
        s += self.sedp.subscriptions_reader.stats();
        for r in self.readers.values() {
            s += r.reader.stats();
        }
        s
    }

    /// What the local user endpoints are matched with: see [`Matched`].
    pub fn matched(&self) -> Matched {
        let mut peers = BTreeSet::new();
        let mut m = Matched::default();
        for w in self.writers.values() {
            for g in w.writer.matched_readers() {
                m.readers += 1;
                if g.prefix != self.prefix {
                    peers.insert(g.prefix);
                }
            }
        }
        for r in self.readers.values() {
            for g in r.reader.matched_writers() {
                m.writers += 1;
                if g.prefix != self.prefix {
                    peers.insert(g.prefix);
                }
            }
        }
        m.participants = peers.len();
        m
    }

    /// A random `u64` from the participant's seeded RNG (for child seeds).
    pub fn random_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// Remote participants currently alive.
    pub fn remote_participants(&self) -> impl Iterator<Item = &ParticipantData> + '_ {
        self.remotes.values().map(|r| &r.data)
    }

    /// Remote readers matched with a local writer.
    pub fn matched_readers(&self, writer: EntityId) -> Vec<Guid> {
        self.writers
            .get(&writer)
            .map(|w| w.writer.matched_readers().collect())
            .unwrap_or_default()
    }

    /// True when a local writer has at least one matched reader (a write to it sends something).
    pub fn has_matched_readers(&self, writer: EntityId) -> bool {
        self.writers
            .get(&writer)
            .is_some_and(|w| w.writer.matched_readers().next().is_some())
    }

    /// Remote writers matched with a local reader.
    pub fn matched_writers(&self, reader: EntityId) -> Vec<Guid> {
        self.readers
            .get(&reader)
            .map(|r| r.reader.matched_writers().collect())
            .unwrap_or_default()
    }

    fn next_entity_id(&mut self, kind: EntityKind) -> Result<EntityId, CreateError> {
        let key = self.next_entity_key;
        if key >= 1 << 24 {
            return Err(CreateError::TooManyEndpoints);
        }
        self.next_entity_key += 1;
        let b = key.to_be_bytes();
        Ok(EntityId {
            key: [b[1], b[2], b[3]],
            kind,
        })
    }

    fn check_names(topic: &str, type_name: &str) -> Result<(), CreateError> {
        let ok = |s: &str| !s.is_empty() && s.len() <= 255 && !s.contains('\0');
        if ok(topic) && ok(type_name) {
            Ok(())
        } else {
            Err(CreateError::InvalidName)
        }
    }

    /// Note that local endpoint `id` changed: the next flush polls it for transmits and
    /// events, and the next timeout hint asks it.
    pub(super) fn touch(&mut self, id: EntityId) {
        self.touched.mark(id);
        self.touched_timeout.mark(id);
    }

    /// Note that any local endpoint, discovery or lease state may have changed.
    pub(super) fn touch_all(&mut self) {
        self.touched.mark_all();
        self.touched_timeout.mark_all();
    }

    /// A new local endpoint of side `S`: its id and its announcement (our locators, QoS
    /// `qos`, key hash), not announced yet.
    fn new_local<S: Side>(
        &mut self,
        topic: &str,
        type_name: &str,
        keyed: bool,
        qos: EndpointQos,
    ) -> Result<(EntityId, S::Data), CreateError> {
        Self::check_names(topic, type_name)?;
        let id = self.next_entity_id(S::entity_kind(keyed))?;
        self.touch_all();
        let guid = Guid::new(self.prefix, id);
        let mut data = S::new_data(guid, topic, type_name);
        let e = S::endpoint_mut(&mut data);
        e.qos = qos;
        e.participant_guid = Some(Guid::new(self.prefix, EntityId::PARTICIPANT));
        e.unicast_locators = self.config.default_unicast.clone();
        e.key_hash = Some(guid.to_bytes());
        Ok((id, data))
    }

    /// Match new local endpoint `id` of side `S` with the remote endpoints and our own of
    /// the other side.
    fn match_new<S: Side>(&mut self, now: Instant, id: EntityId) {
        self.match_local::<S>(now, id);
        self.match_new_local_to_locals::<S>(now, id);
    }

    /// Create a writer on `topic` of `type_name` (keyed or not) and announce it by SEDP.
    pub fn create_writer(
        &mut self,
        now: Instant,
        topic: &str,
        type_name: &str,
        keyed: bool,
        qos: EndpointQos,
    ) -> Result<EntityId, CreateError> {
        let (id, data) = self.new_local::<Writers>(topic, type_name, keyed, qos)?;
        let config = writer_config(&data.endpoint.qos, &self.config);
        let writer = StatefulWriter::new(data.endpoint.endpoint_guid, config);
        self.announce::<Writers>(now, &data);
        self.writers.insert(id, LocalWriter { data, writer });
        self.match_new::<Writers>(now, id);
        Ok(id)
    }

    /// Create a reader on `topic` of `type_name` (keyed or not) and announce it by SEDP.
    pub fn create_reader(
        &mut self,
        now: Instant,
        topic: &str,
        type_name: &str,
        keyed: bool,
        qos: EndpointQos,
    ) -> Result<EntityId, CreateError> {
        let (id, data) = self.new_local::<Readers>(topic, type_name, keyed, qos)?;
        let max_sample_size = self.config.max_sample_size;
        let reader_config = ReaderConfig {
            max_sample_size,
            // Room for the largest sample and a few more in flight behind it.
            max_reassembly_bytes: usize::try_from(max_sample_size)
                .unwrap_or(usize::MAX)
                .saturating_mul(2)
                .max(ReaderConfig::default().max_buffered_bytes),
            nack_delay: USER_NACK_DELAY,
            nack_spacing: USER_NACK_SPACING,
            ..ReaderConfig::default()
        };
        let reader = StatefulReader::new(data.endpoint.endpoint_guid, reader_config);
        self.announce::<Readers>(now, &data);
        self.readers.insert(
            id,
            LocalReader {
                data,
                reader,
                notified: false,
            },
        );
        self.match_new::<Readers>(now, id);
        Ok(id)
    }

    /// Delete a local writer: its readers are unmatched and its disposal announced.
    pub fn delete_writer(&mut self, now: Instant, writer: EntityId) -> Result<(), EndpointError> {
        if !self.writers.contains_key(&writer) {
            return Err(EndpointError::UnknownEndpoint);
        }
        // Whatever the writer has not sent yet goes out before it disappears: a sample written
        // just before the delete is sent once, not silently dropped.
        self.flush_entities(now);
        self.delete_local::<Writers>(now, writer)
    }

    /// Delete a local reader: its writers are unmatched and its disposal announced.
    pub fn delete_reader(&mut self, now: Instant, reader: EntityId) -> Result<(), EndpointError> {
        self.delete_local::<Readers>(now, reader)
    }

    /// Delete local endpoint `id` of side `S`: unmatched from every endpoint of the other
    /// side (each reported), its disposal announced.
    fn delete_local<S: Side>(&mut self, now: Instant, id: EntityId) -> Result<(), EndpointError> {
        self.touch_all();
        let (locals, events) = S::locals_and_events(self);
        let l = locals.remove(&id).ok_or(EndpointError::UnknownEndpoint)?;
        for remote in S::matched(&l) {
            events.push_back(S::unmatched(id, remote));
        }
        let guid = S::endpoint(S::data(&l)).endpoint_guid;
        self.unmatch_everywhere::<S>(guid);
        self.dispose_endpoint::<S>(now, guid);
        Ok(())
    }

    /// Write a serialized payload (with its encapsulation header) on a keyless writer.
    pub fn write(
        &mut self,
        now: Instant,
        writer: EntityId,
        payload: Bytes,
        source_timestamp: Option<Time>,
    ) -> Result<SequenceNumber, EndpointError> {
        self.touch(writer);
        let w = self
            .writers
            .get_mut(&writer)
            .ok_or(EndpointError::UnknownEndpoint)?;
        let sn = w
            .writer
            .write(now, payload, source_timestamp)
            .map_err(EndpointError::Write)?;
        Ok(sn)
    }

    /// Write a change of any kind on a keyed writer.
    pub fn write_change(
        &mut self,
        now: Instant,
        writer: EntityId,
        kind: crate::history::ChangeKind,
        key_hash: Option<[u8; 16]>,
        payload: Bytes,
        source_timestamp: Option<Time>,
    ) -> Result<SequenceNumber, EndpointError> {
        self.touch(writer);
        let w = self
            .writers
            .get_mut(&writer)
            .ok_or(EndpointError::UnknownEndpoint)?;
        let sn = w
            .writer
            .write_change(now, kind, key_hash, payload, source_timestamp)
            .map_err(EndpointError::Write)?;
        Ok(sn)
    }

    /// The last sequence number a local writer assigned (`None` for an unknown writer).
    pub fn last_sequence_number(&self, writer: EntityId) -> Option<SequenceNumber> {
        self.writers.get(&writer).map(|w| w.writer.last_sn())
    }

    /// True when a KEEP_ALL writer's history is full (a write would fail with HistoryFull).
    pub fn writer_is_full(&self, writer: EntityId) -> bool {
        self.writers
            .get(&writer)
            .is_some_and(|w| w.writer.is_full())
    }

    /// True when every change up to `sn` is acknowledged by every matched reliable reader.
    pub fn is_acked_by_all(&self, writer: EntityId, sn: SequenceNumber) -> bool {
        self.writers
            .get(&writer)
            .is_none_or(|w| w.writer.is_acked_by_all(sn))
    }

    /// Take the next sample of a local reader (in order per writer).
    pub fn take(&mut self, reader: EntityId) -> Option<Sample> {
        self.touch(reader);
        let r = self.readers.get_mut(&reader)?;
        let s = r.reader.poll_sample();
        if s.is_none() {
            r.notified = false;
        }
        s
    }

    /// Samples ready on a local reader.
    pub fn samples_ready(&self, reader: EntityId) -> usize {
        self.readers
            .get(&reader)
            .map_or(0, |r| r.reader.samples_ready())
    }

    /// Next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Announce our departure (DATA(p\[UD\]) and endpoint disposals); the participant sends
    /// nothing else afterwards except what is already queued.
    pub fn shutdown(&mut self, now: Instant) {
        if self.shut_down {
            return;
        }
        self.touch_all();
        let writers: Vec<EntityId> = self.writers.keys().copied().collect();
        for w in writers {
            let _ = self.delete_writer(now, w);
        }
        let readers: Vec<EntityId> = self.readers.keys().copied().collect();
        for r in readers {
            let _ = self.delete_reader(now, r);
        }
        self.flush_entities(now);
        self.send_spdp_disposal();
        self.shut_down = true;
    }

    /// [`Participant::poll_timeout`], computed in full and remembered for
    /// [`Participant::poll_timeout_hint`]. A driver's timer calls this before it sleeps.
    pub fn refresh_timeout(&mut self) -> Option<Instant> {
        let t = self.poll_timeout();
        self.timeout = Some(t);
        self.touched_timeout = Touched::default();
        t
    }

    /// A cheap bound for [`Participant::poll_timeout`] after an input: never later than it
    /// (an endpoint touched since the last [`Participant::refresh_timeout`] is asked again,
    /// the others cannot have moved), possibly earlier (a timeout cancelled since is still
    /// counted). Enough to decide whether a sleeping timer must wake earlier; O(touched
    /// endpoints) instead of O(all).
    #[must_use]
    pub fn poll_timeout_hint(&mut self) -> Option<Instant> {
        let touched = std::mem::take(&mut self.touched_timeout);
        let Some(mut t) = self.timeout.filter(|_| !touched.all) else {
            return self.refresh_timeout();
        };
        for id in &touched.ids {
            let own = match self.writers.get(id) {
                Some(w) => w.writer.poll_timeout(),
                None => self.readers.get(id).and_then(|r| r.reader.poll_timeout()),
            };
            if let Some(o) = own {
                t = Some(t.map_or(o, |t| t.min(o)));
            }
        }
        self.timeout = Some(t);
        t
    }

    /// When `handle_timeout` should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.shut_down {
            return None;
        }
        let mut t = Some(self.spdp.next_announce);
        let mut min = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        for r in self.remotes.values() {
            min(r.lease_expiry);
            min(r.next_answer);
        }
        min(self.sedp.publications_writer.poll_timeout());
        min(self.sedp.subscriptions_writer.poll_timeout());
        min(self.sedp.publications_reader.poll_timeout());
        min(self.sedp.subscriptions_reader.poll_timeout());
        for w in self.writers.values() {
            min(w.writer.poll_timeout());
        }
        for r in self.readers.values() {
            min(r.reader.poll_timeout());
        }
        t
    }

    /// Run timers that are due: SPDP announcements, lease expiry, heartbeats, ACKNACK delays.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.shut_down {
            return;
        }
        self.touch_all();
        if now >= self.spdp.next_announce {
            self.announce_spdp(None);
            let interval = if self.spdp.burst_left > 0 {
                self.spdp.burst_left -= 1;
                self.config.burst_interval
            } else {
                self.config.announce_period
            };
            self.spdp.next_announce = now + interval;
        }
        self.answer_newcomers(now);
        self.expire_leases(now);
        self.early.expire(now, &mut self.stats);
        self.sedp.publications_writer.handle_timeout(now);
        self.sedp.subscriptions_writer.handle_timeout(now);
        self.sedp.publications_reader.handle_timeout(now);
        self.sedp.subscriptions_reader.handle_timeout(now);
        for w in self.writers.values_mut() {
            w.writer.handle_timeout(now);
        }
        for r in self.readers.values_mut() {
            r.reader.handle_timeout(now);
        }
        self.flush_entities(now);
    }
}
