//! [`DomainParticipant`]: a participant on real UDP sockets, run by the driver.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::endpoint::{EndpointCore, RawReader, RawWriter, Reader, Writer};
use super::{CreateEndpointError, ParticipantError, ParticipantStats, Qos};
use crate::participant::{Event, LostReason, Participant, ParticipantConfig};
use crate::transport::driver::{self, Driver, Shared};
use crate::transport::faults::{self, FaultConfig};
use crate::transport::ports::spdp_unicast_probe_addrs;
use crate::transport::udp::{TransportConfig, UdpTransport};
use crate::wire::{Guid, GuidPrefix};

/// How many participant ids' well-known ports receive unicast SPDP probes.
const UNICAST_PROBES: u32 = 9;

/// How to open a [`DomainParticipant`]: start from [`ParticipantOptions::default`] and change
/// what differs with the setters (or assign the public fields):
///
/// ```
/// use rtps::dds::ParticipantOptions;
/// let options = ParticipantOptions::default().domain_id(7).name("sensor");
/// assert_eq!(options.domain_id, 7);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParticipantOptions {
    /// DDS domain id (default 0).
    pub domain_id: u32,
    /// The interface to use (default 127.0.0.1: nothing leaves the host).
    pub interface: Ipv4Addr,
    /// Participant id (port offset); default: the first free one.
    pub participant_id: Option<u32>,
    /// `PID_ENTITY_NAME`.
    pub name: Option<String>,
    /// `PID_PROPERTY_LIST`.
    pub properties: Vec<(String, String)>,
    /// Announce by SPDP multicast (unicast probes of the well-known ports are always sent).
    pub multicast: bool,
    /// Initial peers (as Fast DDS's `initialPeersList`, Cyclone's `Peers`): SPDP also goes by
    /// unicast to each address, at its port when given, else at the SPDP unicast ports of
    /// the first participant ids of the domain on that host (RTPS 2.5 §9.6.2.3). Nodes on
    /// networks that drop multicast, or on other subnets, find each other this way.
    pub peers: Vec<(Ipv4Addr, Option<u16>)>,
    /// Lease announced to peers (SPDP announcements go out every 3 s, or three times per lease
    /// if it is shorter than 9 s).
    pub lease_duration: Duration,
    /// RNG seed (GUID prefix); default: random.
    pub seed: Option<u64>,
    /// How long a receive thread keeps polling its socket after a datagram that brought samples
    /// before it blocks (default [`DEFAULT_BUSY_POLL`]; zero: block at once). A blocked thread
    /// takes tens of microseconds to wake on a virtual machine; an answer that comes back
    /// within this window is read without that delay. The poll yields the CPU to other
    /// runnable threads; acknowledgments alone start no poll, and an idle participant polls
    /// nothing. A thread waiting for an answer (`RawReader::recv_polling_timeout`,
    /// [`ReceivePoller::poll_until`]) polls the user socket itself for as long, while the
    /// receive thread parks: the answer then reaches it without a thread hand-over.
    pub busy_poll: Duration,
    /// Largest sample (serialized payload) the participant's readers accept, default 256 MiB:
    /// a bigger one announced in DATA_FRAG is never allocated; it is skipped (logged and
    /// counted) so the samples after it still arrive.
    pub max_sample_size: u32,
    /// Fault injection on every datagram this participant sends, a test aid (see
    /// [`crate::transport::faults`]); default: from `AMLIP_FAULTS` / `AMLIP_FAULTS_SEED`,
    /// usually none.
    pub faults: Option<FaultConfig>,
}

/// [`ParticipantOptions::busy_poll`]'s default.
pub const DEFAULT_BUSY_POLL: Duration = Duration::from_micros(200);

impl Default for ParticipantOptions {
    fn default() -> Self {
        ParticipantOptions {
            domain_id: 0,
            interface: Ipv4Addr::LOCALHOST,
            participant_id: None,
            name: None,
            properties: Vec::new(),
            multicast: true,
            peers: Vec::new(),
            lease_duration: Duration::from_secs(20),
            seed: None,
            busy_poll: DEFAULT_BUSY_POLL,
            max_sample_size: crate::reliability::ReaderConfig::default().max_sample_size,
            faults: faults::from_env(),
        }
    }
}

impl ParticipantOptions {
    /// Set [`ParticipantOptions::domain_id`].
    #[must_use]
    pub fn domain_id(mut self, domain_id: u32) -> Self {
        self.domain_id = domain_id;
        self
    }

    /// Set [`ParticipantOptions::interface`].
    #[must_use]
    pub fn interface(mut self, interface: Ipv4Addr) -> Self {
        self.interface = interface;
        self
    }

    /// Set [`ParticipantOptions::participant_id`].
    #[must_use]
    pub fn participant_id(mut self, participant_id: u32) -> Self {
        self.participant_id = Some(participant_id);
        self
    }

    /// Set [`ParticipantOptions::name`].
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Add a property to [`ParticipantOptions::properties`].
    #[must_use]
    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.push((key.into(), value.into()));
        self
    }

    /// Set [`ParticipantOptions::multicast`].
    #[must_use]
    pub fn multicast(mut self, multicast: bool) -> Self {
        self.multicast = multicast;
        self
    }

    /// Add an initial peer to [`ParticipantOptions::peers`].
    #[must_use]
    pub fn peer(mut self, addr: Ipv4Addr, port: Option<u16>) -> Self {
        self.peers.push((addr, port));
        self
    }

    /// Set [`ParticipantOptions::lease_duration`].
    #[must_use]
    pub fn lease_duration(mut self, lease_duration: Duration) -> Self {
        self.lease_duration = lease_duration;
        self
    }

    /// Set [`ParticipantOptions::seed`].
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Set [`ParticipantOptions::busy_poll`].
    #[must_use]
    pub fn busy_poll(mut self, busy_poll: Duration) -> Self {
        self.busy_poll = busy_poll;
        self
    }

    /// Set [`ParticipantOptions::max_sample_size`].
    #[must_use]
    pub fn max_sample_size(mut self, max_sample_size: u32) -> Self {
        self.max_sample_size = max_sample_size;
        self
    }

    /// Set [`ParticipantOptions::faults`].
    #[must_use]
    pub fn faults(mut self, faults: Option<FaultConfig>) -> Self {
        self.faults = faults;
        self
    }
}

/// What the application hears about discovery (`DomainParticipant::events`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DdsEvent {
    /// A remote participant appeared.
    ParticipantDiscovered {
        /// Its GUID prefix.
        guid_prefix: GuidPrefix,
        /// Its name.
        name: Option<String>,
    },
    /// A remote participant left or its lease expired.
    ParticipantLost {
        /// Its GUID prefix.
        guid_prefix: GuidPrefix,
        /// Why.
        reason: LostReason,
    },
    /// A local writer matched a reader.
    PublicationMatched {
        /// The local writer.
        writer: Guid,
        /// The reader.
        reader: Guid,
    },
    /// A local writer lost a reader.
    PublicationUnmatched {
        /// The local writer.
        writer: Guid,
        /// The reader.
        reader: Guid,
    },
    /// A local reader matched a writer.
    SubscriptionMatched {
        /// The local reader.
        reader: Guid,
        /// The writer.
        writer: Guid,
    },
    /// A local reader lost a writer.
    SubscriptionUnmatched {
        /// The local reader.
        reader: Guid,
        /// The writer.
        writer: Guid,
    },
    /// A remote endpoint on a local endpoint's topic does not match.
    IncompatibleQos {
        /// The local endpoint.
        local: Guid,
        /// The remote endpoint.
        remote: Guid,
        /// Why.
        reason: String,
    },
}

impl DdsEvent {
    fn from_event(prefix: GuidPrefix, e: Event) -> Option<Self> {
        let g = |id| Guid::new(prefix, id);
        Some(match e {
            Event::ParticipantDiscovered {
                guid_prefix, name, ..
            } => DdsEvent::ParticipantDiscovered { guid_prefix, name },
            Event::ParticipantLost {
                guid_prefix,
                reason,
            } => DdsEvent::ParticipantLost {
                guid_prefix,
                reason,
            },
            Event::PublicationMatched { writer, reader } => DdsEvent::PublicationMatched {
                writer: g(writer),
                reader,
            },
            Event::PublicationUnmatched { writer, reader } => DdsEvent::PublicationUnmatched {
                writer: g(writer),
                reader,
            },
            Event::SubscriptionMatched { reader, writer } => DdsEvent::SubscriptionMatched {
                reader: g(reader),
                writer,
            },
            Event::SubscriptionUnmatched { reader, writer } => DdsEvent::SubscriptionUnmatched {
                reader: g(reader),
                writer,
            },
            Event::IncompatibleQos {
                local,
                remote,
                reason,
            } => DdsEvent::IncompatibleQos {
                local: g(local),
                remote,
                reason: reason.to_string(),
            },
            _ => return None,
        })
    }
}

/// Reads a participant's user socket on the calling thread (from
/// [`DomainParticipant::receive_poller`]).
#[derive(Debug, Clone)]
pub struct ReceivePoller {
    shared: Arc<Shared>,
}

impl ReceivePoller {
    /// Read and handle the participant's user traffic on this thread until `done()` returns
    /// true, until `deadline`, or until [`ParticipantOptions::busy_poll`] passes without a
    /// sample; samples of readers with a listener are handed to it on this thread, so hold no
    /// lock a listener takes. `done` is called without any lock of the participant, before
    /// each read.
    ///
    /// `Some(true)`: `done()`. `Some(false)`: the window ran out first. `None`: the socket is
    /// not free to poll now (its receive thread is blocked on it, another thread polls, busy
    /// polling is off, or the participant is closed); wait the usual way.
    #[must_use]
    pub fn poll_until(&self, deadline: Instant, mut done: impl FnMut() -> bool) -> Option<bool> {
        self.shared.poll_receive(deadline, true, &mut done)
    }
}

/// Groups a thread's writes on a participant (from [`DomainParticipant::write_batcher`]).
#[derive(Debug, Clone)]
pub struct WriteBatcher {
    shared: Arc<Shared>,
}

impl WriteBatcher {
    /// Until the returned guard is dropped, this thread's writes on the participant are held
    /// back, then handled as one write: sent together at once (several DATA submessages per
    /// datagram), or, when they continue a burst of this thread's writes, held a little longer
    /// with the burst. For the samples one input causes (a solution and the next offer, say):
    /// without it, the second write of a quick pair waits for the burst timer. A no-op inside
    /// a listener (whose writes are held until it returns anyway) or inside another batch.
    pub fn batch(&self) -> WriteBatch<'_> {
        WriteBatch {
            shared: &self.shared,
            opened: self.shared.begin_batch(),
        }
    }
}

/// An open write batch (see [`WriteBatcher::batch`]); dropping it sends the writes.
#[derive(Debug)]
pub struct WriteBatch<'a> {
    shared: &'a Shared,
    opened: bool,
}

impl Drop for WriteBatch<'_> {
    fn drop(&mut self) {
        self.shared.end_batch(self.opened);
    }
}

/// A DDS domain participant on UDP (loopback unless another interface is configured).
/// Dropping it announces its departure and stops its threads.
#[derive(Debug)]
pub struct DomainParticipant {
    driver: Driver,
    prefix: GuidPrefix,
    participant_id: u32,
}

fn random_seed() -> u64 {
    // The driver's wall clock mixed with the process id and an address, for a seed that
    // differs between processes started at the same instant.
    let t = driver::unix_time().map_or(0, |d| d.as_nanos() as u64);
    let local = 0u8;
    let addr = &local as *const u8 as u64;
    let mut x = t ^ (u64::from(std::process::id()) << 32) ^ addr.rotate_left(17);
    // splitmix64 finaliser
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl DomainParticipant {
    /// Bind the transport, start discovery and the driver threads.
    pub fn new(options: ParticipantOptions) -> Result<Self, ParticipantError> {
        let transport = UdpTransport::bind(TransportConfig {
            domain_id: options.domain_id,
            interface: options.interface,
            participant_id: options.participant_id,
            multicast: options.multicast,
            ..TransportConfig::default()
        })
        .map_err(|source| ParticipantError::Bind {
            domain_id: options.domain_id,
            interface: options.interface,
            source,
        })?;
        let locators = transport.local_locators();
        let pid = transport.participant_id();
        let spdp_multicast = transport
            .multicast_active()
            .then(|| transport.spdp_multicast_addr());
        let mut probes: Vec<SocketAddr> =
            spdp_unicast_probe_addrs(options.domain_id, options.interface, UNICAST_PROBES)
                .map(SocketAddr::V4)
                .collect();
        for (addr, port) in &options.peers {
            match port {
                Some(p) => probes.push(SocketAddr::V4(SocketAddrV4::new(*addr, *p))),
                None => probes.extend(
                    spdp_unicast_probe_addrs(options.domain_id, *addr, UNICAST_PROBES)
                        .map(SocketAddr::V4),
                ),
            }
        }
        probes.sort();
        probes.dedup();
        let config = ParticipantConfig {
            domain_id: options.domain_id,
            participant_id: pid,
            seed: options.seed.unwrap_or_else(random_seed),
            name: options.name.clone(),
            properties: options.properties.clone(),
            metatraffic_unicast: vec![locators.metatraffic_unicast],
            default_unicast: vec![locators.default_unicast],
            metatraffic_multicast: locators.metatraffic_multicast.into_iter().collect(),
            spdp_multicast,
            spdp_unicast_peers: probes,
            lease_duration: options.lease_duration,
            max_sample_size: options.max_sample_size,
            // A short lease needs announcements well within it (at least three per lease).
            announce_period: ParticipantConfig::default()
                .announce_period
                .min(options.lease_duration / 3),
            loopback_only: IpAddr::V4(options.interface).is_loopback(),
            ..ParticipantConfig::default()
        };
        let participant = Participant::new(config, driver::now());
        let prefix = participant.guid_prefix();
        let parts = transport.into_parts();
        let mut receivers = vec![parts.metatraffic_unicast, parts.user_unicast];
        receivers.extend(parts.metatraffic_multicast);
        receivers.extend(parts.user_multicast);
        let driver = Driver::start(
            participant,
            parts.sender,
            receivers,
            options.busy_poll,
            options.faults,
        )
        .map_err(ParticipantError::Spawn)?;
        Ok(DomainParticipant {
            driver,
            prefix,
            participant_id: pid,
        })
    }

    fn shared(&self) -> &Arc<Shared> {
        self.driver.shared()
    }

    /// A handle with which a thread that waits for an answer reads this participant's user
    /// socket itself, so the answer costs no hand-over from the receive thread (see
    /// [`ReceivePoller::poll_until`]). It does not keep the participant open.
    #[must_use]
    pub fn receive_poller(&self) -> ReceivePoller {
        ReceivePoller {
            shared: Arc::clone(self.shared()),
        }
    }

    /// A handle that groups a thread's writes on this participant into one send (see
    /// [`WriteBatcher::batch`]). It does not keep the participant open.
    pub fn write_batcher(&self) -> WriteBatcher {
        WriteBatcher {
            shared: Arc::clone(self.shared()),
        }
    }

    /// Our GUID prefix.
    pub fn guid_prefix(&self) -> GuidPrefix {
        self.prefix
    }

    /// The participant id (port offset) in use.
    pub fn participant_id(&self) -> u32 {
        self.participant_id
    }

    /// Remote participants currently known, with their names.
    pub fn discovered_participants(&self) -> Vec<(GuidPrefix, Option<String>)> {
        let st = self.shared().lock();
        st.participant
            .remote_participants()
            .map(|d| (d.guid.prefix, d.entity_name.clone()))
            .collect()
    }

    /// The participant's counters (datagrams in and out, drops by reason, retransmissions,
    /// NACKs, send errors, matched peers, ...), copied under one lock.
    pub fn stats(&self) -> ParticipantStats {
        let st = self.shared().lock();
        ParticipantStats::collect(&st.participant, st.transport_stats())
    }

    /// A channel of discovery and matching events from now on.
    #[must_use]
    pub fn events(&self) -> Receiver<DdsEvent> {
        let (tx, rx) = mpsc::channel();
        let (itx, irx) = mpsc::channel::<Event>();
        self.shared().subscribe(itx);
        let prefix = self.prefix;
        // A small forwarding thread converts core events; it ends with either side.
        let _ = std::thread::Builder::new()
            .name("rtps-events".into())
            .spawn(move || {
                for e in irx {
                    if let Some(d) = DdsEvent::from_event(prefix, e) {
                        if tx.send(d).is_err() {
                            break;
                        }
                    }
                }
            });
        rx
    }

    fn create(
        &self,
        topic: &str,
        type_name: &str,
        qos: &Qos,
        writer: bool,
    ) -> Result<EndpointCore, CreateEndpointError> {
        let shared = Arc::clone(self.shared());
        let mut st = shared.lock();
        if shared.is_closed() {
            return Err(CreateEndpointError::Closed);
        }
        let now = driver::now();
        let id = if writer {
            st.participant
                .create_writer(now, topic, type_name, qos.keyed, qos.inner.clone())
        } else {
            st.participant
                .create_reader(now, topic, type_name, qos.keyed, qos.inner.clone())
        }
        .map_err(CreateEndpointError::Rejected)?;
        shared.flush(&mut st);
        shared.release(st);
        Ok(EndpointCore::new(
            shared,
            Guid::new(self.prefix, id),
            qos.max_blocking_time,
        ))
    }

    /// A typed writer (CDR, little-endian).
    pub fn create_writer<T: Serialize>(
        &self,
        topic: &str,
        type_name: &str,
        qos: &Qos,
    ) -> Result<Writer<T>, CreateEndpointError> {
        Ok(Writer::new(self.create(topic, type_name, qos, true)?))
    }

    /// A typed reader (CDR, either byte order).
    pub fn create_reader<T: DeserializeOwned>(
        &self,
        topic: &str,
        type_name: &str,
        qos: &Qos,
    ) -> Result<Reader<T>, CreateEndpointError> {
        Ok(Reader::new(self.create(topic, type_name, qos, false)?))
    }

    /// A writer of serialized payloads (with their 4-byte encapsulation header).
    pub fn create_raw_writer(
        &self,
        topic: &str,
        type_name: &str,
        qos: &Qos,
    ) -> Result<RawWriter, CreateEndpointError> {
        Ok(RawWriter::new(self.create(topic, type_name, qos, true)?))
    }

    /// A reader of serialized payloads (with their 4-byte encapsulation header).
    pub fn create_raw_reader(
        &self,
        topic: &str,
        type_name: &str,
        qos: &Qos,
    ) -> Result<RawReader, CreateEndpointError> {
        Ok(RawReader::new(self.create(topic, type_name, qos, false)?))
    }
}
