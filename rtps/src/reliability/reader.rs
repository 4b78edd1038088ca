//! The stateful reader, reliable or best-effort (RTPS 2.5 §8.4.10, §8.4.11, §8.4.12).
//!
//! Sans-IO, quinn style: inputs are `handle_data`, `handle_data_frag`, `handle_heartbeat`,
//! `handle_gap`, `handle_heartbeat_frag` and `handle_timeout`, each with the `now` and the
//! sending participant's GUID prefix the message receiver knows; outputs are
//! [`StatefulReader::poll_sample`] (in order per writer, each sequence number at most once),
//! [`StatefulReader::poll_transmit`] (ACKNACK and NACK_FRAG, `heartbeat_response_delay` after a
//! HEARTBEAT) and [`StatefulReader::poll_timeout`].
//!
//! A best-effort proxy delivers whatever is newer than the last sample delivered from that
//! writer and never answers. A reliable proxy buffers out-of-order samples (capped), drops
//! duplicates, fills holes with GAP and HEARTBEAT `firstSN`, and sends its first ACKNACK
//! pre-emptively when matched (base 1, no bits, F clear: "please HEARTBEAT me"; base 0 to
//! an eProsima writer, see [`StatefulReader::zero_based_preemptive`]; with the sequence
//! numbers it missed when data came before the match, see [`StatefulReader::heard_of`]).
//! The first HEARTBEAT of a writer heard nothing from since the match is answered at once.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::out::{Destination, InlineQos, OutSubmessage, Transmit};
use super::writer_proxy::{WriterProxy, WriterProxyConfig};
use crate::history::ChangeKind;
use crate::wire::submessage::{Data, DataFrag, Gap, Heartbeat, HeartbeatFrag};
use crate::wire::{Guid, GuidPrefix, SequenceNumber, Time};

/// Reader configuration (RTPS 2.5 §8.4.10.1 attributes) and its resource caps.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReaderConfig {
    /// Delay between a HEARTBEAT and the ACKNACK answering it (0 allowed).
    pub heartbeat_response_delay: Duration,
    /// Delay before an ACKNACK that asks for missing samples: after a sample that comes
    /// after a hole (a later sequence number than expected, no HEARTBEAT needed), or after a
    /// HEARTBEAT that shows one. Short enough to repair a loss at about the speed of the
    /// network, long enough for a sample merely reordered to fill the hole first.
    pub nack_delay: Duration,
    /// Least time between two ACKNACKs that ask one writer for samples: repairs of what the
    /// last one asked for may be in flight, and asking again at once would have them resent
    /// (under congestion, a collapse).
    pub nack_spacing: Duration,
    /// Most out-of-order samples buffered per writer.
    pub max_buffered_samples: usize,
    /// Most payload bytes buffered out of order per writer.
    pub max_buffered_bytes: usize,
    /// Largest sample accepted from DATA_FRAG.
    pub max_sample_size: u32,
    /// Most samples reassembled at once per writer.
    pub max_reassemblies: usize,
    /// Most bytes of samples reassembled at once per writer.
    pub max_reassembly_bytes: usize,
}

impl Default for ReaderConfig {
    fn default() -> Self {
        ReaderConfig {
            heartbeat_response_delay: Duration::from_millis(5),
            nack_delay: Duration::from_millis(5),
            nack_spacing: Duration::from_millis(5),
            max_buffered_samples: 4096,
            max_buffered_bytes: 64 << 20,
            max_sample_size: 256 << 20,
            max_reassemblies: 16,
            max_reassembly_bytes: 512 << 20,
        }
    }
}

/// Longest interval between repeated ACKNACKs for samples that stay missing.
pub const MAX_RENACK_INTERVAL: Duration = Duration::from_secs(1);

/// First repeat of the pre-emptive ACKNACK to a writer not heard from since the match (see
/// `WriterProxy::arm_preemptive_repeat`); it doubles from there.
pub const PREEMPTIVE_REPEAT_FIRST: Duration = Duration::from_millis(500);
/// Longest interval between repeats of the pre-emptive ACKNACK.
pub const PREEMPTIVE_REPEAT_MAX: Duration = Duration::from_secs(8);

/// A received sample, delivered once and in order per writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The writer that sent it.
    pub writer_guid: Guid,
    /// Its sequence number.
    pub sn: SequenceNumber,
    /// Alive, disposed or unregistered (`PID_STATUS_INFO`).
    pub kind: ChangeKind,
    /// `PID_KEY_HASH`, if sent.
    pub key_hash: Option<[u8; 16]>,
    /// INFO_TS that preceded it.
    pub source_timestamp: Option<Time>,
    /// The payload is a serialized key (K flag), e.g. a Cyclone dispose.
    pub payload_is_key: bool,
    /// The serialized payload with its encapsulation header (empty if none was sent).
    pub payload: Bytes,
}

/// Counters for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReaderStats {
    /// Samples handed to `poll_sample`.
    pub delivered: u64,
    /// Samples (or fragments) already delivered, buffered or irrelevant.
    pub duplicates: u64,
    /// Sequence numbers skipped because a HEARTBEAT said the writer no longer has them.
    pub lost: u64,
    /// Out-of-order samples dropped for lack of buffer room (a reliable writer resends).
    pub dropped_buffer_full: u64,
    /// Fragments refused (inconsistent, out of range, over the size caps).
    pub fragments_rejected: u64,
    /// Partial reassemblies given up.
    pub reassemblies_dropped: u64,
    /// Samples announced bigger than `max_sample_size`: never allocated, skipped (a reliable
    /// reader acknowledges them as if irrelevant, so the samples after them still come).
    pub oversized: u64,
    /// HEARTBEAT / HEARTBEAT_FRAG with a count not above the last one.
    pub stale_heartbeats: u64,
    /// Submessages with impossible sequence numbers.
    pub invalid: u64,
    /// Submessages from writers not matched.
    pub unknown_writer: u64,
    /// HEARTBEAT / GAP claims far beyond what the writer had shown, held back (issue 11).
    pub suspect: u64,
    /// Times a writer's HEARTBEAT contradicted an earlier claim and the reader went back to
    /// the first sequence number it had not delivered.
    pub resyncs: u64,
    /// ACKNACK submessages sent.
    pub acknacks_sent: u64,
    /// NACK_FRAG submessages sent.
    pub nack_frags_sent: u64,
}

impl core::ops::AddAssign<&ReaderStats> for ReaderStats {
    fn add_assign(&mut self, o: &ReaderStats) {
        self.delivered += o.delivered;
        self.duplicates += o.duplicates;
        self.lost += o.lost;
        self.dropped_buffer_full += o.dropped_buffer_full;
        self.fragments_rejected += o.fragments_rejected;
        self.reassemblies_dropped += o.reassemblies_dropped;
        self.oversized += o.oversized;
        self.stale_heartbeats += o.stale_heartbeats;
        self.invalid += o.invalid;
        self.unknown_writer += o.unknown_writer;
        self.suspect = self.suspect.saturating_add(o.suspect);
        self.resyncs = self.resyncs.saturating_add(o.resyncs);
        self.acknacks_sent += o.acknacks_sent;
        self.nack_frags_sent += o.nack_frags_sent;
    }
}

/// A reliable or best-effort reader with a proxy per matched writer (RTPS 2.5 §8.4.12).
#[derive(Debug)]
pub struct StatefulReader {
    guid: Guid,
    config: ReaderConfig,
    writers: BTreeMap<Guid, WriterProxy>,
    ready: VecDeque<Sample>,
    stats: ReaderStats,
    /// The highest ACKNACK / NACK_FRAG count an unmatched proxy used: a writer matched again
    /// (its participant lost, then rediscovered, while the writer kept its proxy of us) counts
    /// on from here, or it would ignore our counts as stale (RTPS 2.5 §8.4.15.7).
    count_floor: u32,
}

impl StatefulReader {
    /// A reader with no matched writer.
    pub fn new(guid: Guid, config: ReaderConfig) -> Self {
        StatefulReader {
            guid,
            config,
            writers: BTreeMap::new(),
            ready: VecDeque::new(),
            stats: ReaderStats::default(),
            count_floor: 0,
        }
    }

    /// This reader's GUID.
    pub fn guid(&self) -> Guid {
        self.guid
    }

    /// The configuration.
    pub fn config(&self) -> &ReaderConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> &ReaderStats {
        &self.stats
    }

    /// GUIDs of the matched writers.
    pub fn matched_writers(&self) -> impl Iterator<Item = Guid> + '_ {
        self.writers.keys().copied()
    }

    /// Match a remote writer (RTPS 2.5 §8.4.10.4 `matched_writer_add`); re-adding updates
    /// its locators only.
    pub fn add_matched_writer(&mut self, now: Instant, config: WriterProxyConfig) {
        let guid = config.remote_writer_guid;
        if let Some(p) = self.writers.get_mut(&guid) {
            p.config.locators = config.locators;
            return;
        }
        let proxy = WriterProxy::new(config, now).counting_from(self.count_floor);
        self.writers.insert(guid, proxy);
    }

    /// Note that a matched reliable `writer` has sent `sn` (seen before the match and not
    /// kept): the next ACKNACK asks for everything up to it (RTPS 2.5 §8.4.12.2).
    pub fn heard_of(&mut self, writer: Guid, sn: SequenceNumber) {
        if let Some(p) = self.writers.get_mut(&writer) {
            p.heard_of(sn);
        }
    }

    /// Send matched `writer` its pre-emptive ACKNACK with base 0 (the Fast DDS form) when it
    /// has nothing to ask for; see `WriterProxy::zero_based_preemptive`.
    pub fn zero_based_preemptive(&mut self, writer: Guid) {
        if let Some(p) = self.writers.get_mut(&writer) {
            p.zero_based_preemptive();
        }
    }

    /// Unmatch a writer; its buffered samples and reassemblies are dropped.
    pub fn remove_matched_writer(&mut self, guid: Guid) -> bool {
        match self.writers.remove(&guid) {
            Some(p) => {
                self.count_floor = self.count_floor.max(p.counts_used());
                true
            }
            None => false,
        }
    }

    /// A DATA from writer `writer_prefix` + `data.writer_id` (RTPS 2.5 §8.3.7.2), with the
    /// timestamp of the INFO_TS before it.
    pub fn handle_data(
        &mut self,
        now: Instant,
        writer_prefix: GuidPrefix,
        data: &Data<'_>,
        timestamp: Option<Time>,
    ) {
        self.handle_data_in(now, writer_prefix, data, timestamp, None);
    }

    /// [`StatefulReader::handle_data`] for a DATA parsed out of `datagram`: a large payload
    /// becomes a slice of the datagram's buffer instead of a copy (the receive path copies at
    /// most once: kernel to buffer).
    pub fn handle_data_in(
        &mut self,
        now: Instant,
        writer_prefix: GuidPrefix,
        data: &Data<'_>,
        timestamp: Option<Time>,
        datagram: Option<&Bytes>,
    ) {
        // An unmatched writer's payload is not even copied.
        if !self
            .writers
            .contains_key(&Guid::new(writer_prefix, data.writer_id))
        {
            self.stats.unknown_writer += 1;
            return;
        }
        let qos = data
            .inline_qos
            .as_ref()
            .map(InlineQos::from_list)
            .unwrap_or_default();
        let flags = qos.status_info.unwrap_or(0);
        let sample = Sample {
            writer_guid: Guid::new(writer_prefix, data.writer_id),
            sn: data.writer_sn,
            kind: ChangeKind::from_status_info(flags),
            key_hash: qos.key_hash,
            source_timestamp: timestamp,
            payload_is_key: data.payload.as_ref().is_some_and(|p| p.is_key),
            payload: data
                .payload
                .as_ref()
                .map_or_else(Bytes::new, |p| share_or_copy(p.bytes, datagram)),
        };
        let StatefulReader {
            config,
            stats,
            ready,
            writers,
            ..
        } = self;
        let Some(p) = writers.get_mut(&Guid::new(writer_prefix, data.writer_id)) else {
            stats.unknown_writer += 1;
            return;
        };
        p.on_sample(now, sample, flags & 0x4 != 0, config, stats, ready);
    }

    /// A DATA_FRAG (RTPS 2.5 §8.3.7.3): fragments are reassembled, the sample delivered when
    /// complete.
    pub fn handle_data_frag(
        &mut self,
        now: Instant,
        writer_prefix: GuidPrefix,
        frag: &DataFrag<'_>,
        timestamp: Option<Time>,
    ) {
        let StatefulReader {
            config,
            stats,
            ready,
            writers,
            ..
        } = self;
        let Some(p) = writers.get_mut(&Guid::new(writer_prefix, frag.writer_id)) else {
            stats.unknown_writer += 1;
            return;
        };
        p.on_data_frag(now, frag, timestamp, config, stats, ready);
    }

    /// A HEARTBEAT (RTPS 2.5 §8.3.7.5, §8.4.12.2): schedules an ACKNACK unless final and
    /// nothing is missing.
    pub fn handle_heartbeat(&mut self, now: Instant, writer_prefix: GuidPrefix, hb: &Heartbeat) {
        let StatefulReader {
            config,
            stats,
            ready,
            writers,
            ..
        } = self;
        let Some(p) = writers.get_mut(&Guid::new(writer_prefix, hb.writer_id)) else {
            stats.unknown_writer += 1;
            return;
        };
        p.on_heartbeat(now, hb, config, stats, ready);
    }

    /// A GAP (RTPS 2.5 §8.3.7.4): the listed sequence numbers are irrelevant.
    pub fn handle_gap(&mut self, now: Instant, writer_prefix: GuidPrefix, gap: &Gap) {
        let StatefulReader {
            config,
            stats,
            ready,
            writers,
            ..
        } = self;
        let Some(p) = writers.get_mut(&Guid::new(writer_prefix, gap.writer_id)) else {
            stats.unknown_writer += 1;
            return;
        };
        p.on_gap(now, gap, config, stats, ready);
    }

    /// A HEARTBEAT_FRAG (RTPS 2.5 §8.3.7.6): NACK_FRAG the missing fragments announced.
    pub fn handle_heartbeat_frag(
        &mut self,
        now: Instant,
        writer_prefix: GuidPrefix,
        hb: &HeartbeatFrag,
    ) {
        let StatefulReader {
            config,
            stats,
            writers,
            ..
        } = self;
        let Some(p) = writers.get_mut(&Guid::new(writer_prefix, hb.writer_id)) else {
            stats.unknown_writer += 1;
            return;
        };
        p.on_heartbeat_frag(now, hb, config, stats);
    }

    /// Run expired timers. The reader's only timers are its ACKNACK delays, which
    /// `poll_transmit` checks itself, so this is a no-op kept for the uniform driver loop.
    pub fn handle_timeout(&mut self, _now: Instant) {}

    /// The earliest ACKNACK due.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.writers.values().filter_map(|p| p.acknack_at).min()
    }

    /// The next ACKNACK (+ NACK_FRAGs) due at `now`, one writer per transmit. Drain until None.
    /// An ACKNACK that asks for whole samples is repeated while one stays missing and nothing
    /// else comes from the writer (the ACKNACK or the repair may be lost), 4 `nack_delay`s
    /// later (at least `nack_spacing` and 1 ms), then twice as long each time up to `MAX_RENACK_INTERVAL` (1 s).
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        let reader_id = self.guid.entity_id;
        let first_renack = (self.config.nack_delay * 4)
            .max(self.config.nack_spacing)
            .max(Duration::from_millis(1));
        loop {
            let (guid, p) = self
                .writers
                .iter_mut()
                .find(|(_, p)| p.acknack_at.is_some_and(|t| t <= now))?;
            p.acknack_at = None;
            if !p.renack_due(now) {
                continue;
            }
            let (acknack, nack_frags) = p.build_acknack(reader_id);
            // Fragments are asked for again on the next HEARTBEAT(_FRAG) only: a large sample
            // may still be arriving.
            let asks = !acknack.reader_sn_state.is_empty();
            if asks {
                p.last_nack_at = Some(now);
            }
            p.arm_renack(now, asks, first_renack, MAX_RENACK_INTERVAL);
            p.arm_preemptive_repeat(now, PREEMPTIVE_REPEAT_FIRST, PREEMPTIVE_REPEAT_MAX);
            self.stats.acknacks_sent += 1;
            self.stats.nack_frags_sent += nack_frags.len() as u64;
            let mut submessages = Vec::with_capacity(1 + nack_frags.len());
            submessages.push(OutSubmessage::AckNack(acknack));
            submessages.extend(nack_frags.into_iter().map(OutSubmessage::NackFrag));
            return Some(Transmit {
                destination: Destination {
                    guid: *guid,
                    locators: p.config.locators.clone(),
                },
                submessages,
            });
        }
    }

    /// The next sample delivered, in order per writer.
    #[must_use]
    pub fn poll_sample(&mut self) -> Option<Sample> {
        self.ready.pop_front()
    }

    /// Samples waiting in `poll_sample`.
    pub fn samples_ready(&self) -> usize {
        self.ready.len()
    }
}

#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;

/// Payloads at least this long are shared with the received datagram rather than copied.
const SHARE_THRESHOLD: usize = 1024;

/// A handle on `part`: a slice of `datagram` when `part` lies inside it and is large (no copy),
/// else a copy (small payloads are copied so they do not pin a whole receive buffer).
pub(crate) fn share_or_copy(part: &[u8], datagram: Option<&Bytes>) -> Bytes {
    if let Some(d) = datagram {
        let (start, end) = (d.as_ptr() as usize, d.as_ptr() as usize + d.len());
        let (p0, p1) = (part.as_ptr() as usize, part.as_ptr() as usize + part.len());
        if part.len() >= SHARE_THRESHOLD && start <= p0 && p1 <= end {
            return d.slice(p0 - start..p1 - start);
        }
    }
    Bytes::copy_from_slice(part)
}
