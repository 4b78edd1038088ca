//! The stateful writer, reliable or best-effort (RTPS 2.5 §8.4.7, §8.4.8, §8.4.9).
//!
//! Sans-IO, quinn style: inputs are [`StatefulWriter::write`], `handle_acknack`,
//! `handle_nack_frag` and `handle_timeout`; outputs are drained with
//! [`StatefulWriter::poll_transmit`] (call it until `None` after every input), timers are read
//! with [`StatefulWriter::poll_timeout`] and events with [`StatefulWriter::poll_event`]. `now`
//! is always handed in; nothing here reads a clock, opens a socket or draws a random number.
//!
//! One transmit holds submessages for one reader, at most `max_transmit_size` bytes of them
//! (one DATA or one fragment always goes, whatever the budget), in this order: repairs
//! (DATA / DATA_FRAG / GAP for what the reader NACKed, after `nack_response_delay`), new
//! changes (pushed in sequence-number order; a payload above `fragment_size` goes as DATA_FRAG,
//! several fragments per submessage), then a HEARTBEAT when the reader is reliable and either
//! one is due (periodic, or the answer to a non-final ACKNACK) or this transmit drained what
//! it had to send (piggy-backed). INFO_TS precedes a DATA whose timestamp differs from the
//! previous one in the same transmit. Readers are served round-robin.

use core::fmt;
use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound::{Excluded, Unbounded};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::fragment::fragment_count;
use super::out::{Destination, OutSubmessage, Transmit};
use super::reader_proxy::{NackOutcome, ReaderProxy, ReaderProxyConfig};
use super::writer_batch::{push_new_changes, repair_changes, repair_fragments, Batch};
use crate::history::{
    CacheChange, ChangeKind, HistoryCache, HistoryError, HistoryKind, ResourceLimits,
};
use crate::wire::submessage::{AckNack, Heartbeat, NackFrag};
use crate::wire::{Guid, GuidPrefix, SequenceNumber, Time};

/// Durability of a writer (DDS 1.4 §2.2.3.4): what a late-joining reader gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Durability {
    /// Late joiners start with the next change written.
    #[default]
    Volatile,
    /// Durable late joiners get the history.
    TransientLocal,
}

/// Writer configuration (RTPS 2.5 §8.4.7.1, §8.4.9.1 attributes; DDS QoS).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriterConfig {
    /// RELIABLE (HEARTBEAT, ACKNACK, repairs) or BEST_EFFORT.
    pub reliable: bool,
    /// VOLATILE or TRANSIENT_LOCAL.
    pub durability: Durability,
    /// KEEP_LAST(n) or KEEP_ALL.
    pub history: HistoryKind,
    /// `max_samples` / `max_instances`.
    pub resource_limits: ResourceLimits,
    /// Longest period of HEARTBEATs while some reliable reader has unacknowledged changes.
    pub heartbeat_period: Duration,
    /// First period of HEARTBEATs after data was sent (new or repaired): while changes stay
    /// unacknowledged the period doubles from here up to `heartbeat_period`, so a lost tail
    /// sample or a lost ACKNACK costs about this long, not a whole `heartbeat_period`. Equal
    /// to `heartbeat_period` (the default): a fixed period.
    pub heartbeat_min_period: Duration,
    /// Delay before answering a NACK (lets NACKs from several readers coalesce).
    pub nack_response_delay: Duration,
    /// Payloads larger than this go as DATA_FRAG fragments of this size.
    pub fragment_size: u16,
    /// Budget in bytes for the submessages of one transmit (the participant adds its header
    /// and INFO_DST on top).
    pub max_transmit_size: usize,
    /// Push new changes to reliable readers (false: announce with HEARTBEAT and wait for NACKs).
    pub push_mode: bool,
    /// A TRANSIENT_LOCAL KEEP_ALL writer keeps changes every matched reader already has (for
    /// late joiners) only while its history holds at most this many payload bytes: past it the
    /// oldest such changes go at once, so a 100 MB sample is freed when acknowledged, not when
    /// `max_samples` later writes push it out. Changes some reader still lacks always stay.
    pub durable_history_bytes: usize,
}

/// [`WriterConfig::durable_history_bytes`]'s default.
pub const DEFAULT_DURABLE_HISTORY_BYTES: usize = 8 << 20;

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            reliable: true,
            durability: Durability::Volatile,
            history: HistoryKind::KeepLast { depth: 1 },
            resource_limits: ResourceLimits::default(),
            heartbeat_period: Duration::from_millis(100),
            heartbeat_min_period: Duration::from_millis(100),
            nack_response_delay: Duration::from_millis(5),
            fragment_size: 64_000,
            max_transmit_size: 65_000,
            push_mode: true,
            durable_history_bytes: DEFAULT_DURABLE_HISTORY_BYTES,
        }
    }
}

/// Why [`StatefulWriter::write`] failed (DDS 1.4 §2.2.2.4.2.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteError {
    /// KEEP_ALL history at `max_samples`: wait for [`WriterEvent::HistorySpaceAvailable`]
    /// (up to max_blocking_time) and retry; nothing was dropped.
    HistoryFull,
    /// `max_instances` reached.
    TooManyInstances,
    /// The payload does not fit in a 32-bit sample size.
    PayloadTooLarge,
    /// The 64-bit sequence-number space is used up.
    SequenceNumbersExhausted,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WriteError::HistoryFull => "write: history full (KEEP_ALL at max_samples)",
            WriteError::TooManyInstances => "write: too many instances",
            WriteError::PayloadTooLarge => "write: payload larger than 4 GiB",
            WriteError::SequenceNumbersExhausted => "write: sequence numbers exhausted",
        })
    }
}

impl std::error::Error for WriteError {}

/// Something the API layer may wait for (`poll_event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriterEvent {
    /// Every change below `below` is acknowledged by every reliable reader
    /// (`wait_for_acknowledgments`).
    Acknowledged {
        /// First sequence number not acknowledged by all.
        below: SequenceNumber,
    },
    /// A full KEEP_ALL history has room again (a blocked `write` may retry).
    HistorySpaceAvailable,
}

/// Counters for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterStats {
    /// DATA submessages sent (first time and repairs).
    pub data_sent: u64,
    /// DATA_FRAG submessages sent.
    pub data_frag_sent: u64,
    /// DATA / DATA_FRAG submessages sent as repairs.
    pub repairs_sent: u64,
    /// GAP submessages sent.
    pub gaps_sent: u64,
    /// HEARTBEAT submessages sent.
    pub heartbeats_sent: u64,
    /// ACKNACK / NACK_FRAG ignored because their count was not above the last one.
    pub stale_nacks: u64,
    /// ACKNACK / NACK_FRAG from a reader that is not matched (or best-effort).
    pub unknown_reader: u64,
    /// ACKNACK submessages received (stale and unknown ones included).
    pub acknacks_received: u64,
    /// NACK_FRAG submessages received (stale and unknown ones included).
    pub nack_frags_received: u64,
}

impl core::ops::AddAssign<&WriterStats> for WriterStats {
    fn add_assign(&mut self, o: &WriterStats) {
        self.data_sent += o.data_sent;
        self.data_frag_sent += o.data_frag_sent;
        self.repairs_sent += o.repairs_sent;
        self.gaps_sent += o.gaps_sent;
        self.heartbeats_sent += o.heartbeats_sent;
        self.stale_nacks += o.stale_nacks;
        self.unknown_reader += o.unknown_reader;
        self.acknacks_received += o.acknacks_received;
        self.nack_frags_received += o.nack_frags_received;
    }
}

/// A writer that has been writing for `STREAM_CLEAN_FACTOR` times `heartbeat_min_period` and
/// has repaired nothing for `LOSSY_FACTOR` times it (a clean network) checks for its tail
/// after `heartbeat_min_period`, `2x`, .. up to `STREAM_CHECK_FACTOR` times it, not after
/// the minimum: a tail lost on a clean network is asked for that late at most (and the
/// readers' acknowledgments usually come first, so nothing is sent), while a writer that
/// repaired something lately, or a new one, heartbeats the minimum after its last data. A
/// request/response loop then wakes the driver's timer about once per
/// `STREAM_CHECK_FACTOR * heartbeat_min_period`, not once per minimum.
const STREAM_CHECK_FACTOR: u32 = 16;
/// See [`STREAM_CHECK_FACTOR`].
const STREAM_CLEAN_FACTOR: u32 = 32;
/// See [`STREAM_CHECK_FACTOR`].
const LOSSY_FACTOR: u32 = 1000;

/// A reliable or best-effort writer with a proxy per matched reader (RTPS 2.5 §8.4.9).
#[derive(Debug)]
pub struct StatefulWriter {
    guid: Guid,
    config: WriterConfig,
    history: HistoryCache,
    last_sn: SequenceNumber,
    readers: BTreeMap<Guid, ReaderProxy>,
    heartbeat_count: u32,
    next_heartbeat: Option<Instant>,
    /// The current HEARTBEAT period (backs off from `heartbeat_min_period` to
    /// `heartbeat_period`).
    heartbeat_interval: Duration,
    /// When data last went out with a piggy-backed HEARTBEAT (back-off mode only): a pending
    /// tail check looks at it instead of every write moving the timer.
    last_data_at: Option<Instant>,
    /// The first write (back-off mode).
    first_write_at: Option<Instant>,
    /// The last repair sent.
    last_repair_at: Option<Instant>,
    /// Round-robin position: the reader served last.
    last_served: Option<Guid>,
    events: VecDeque<WriterEvent>,
    reported_acked_below: SequenceNumber,
    reported_full: bool,
    /// Changes below this were delivered to every reader matched when the last one left: a
    /// full durable history without readers may drop those, never the ones written since.
    delivered_before_unmatch: SequenceNumber,
    stats: WriterStats,
}

impl StatefulWriter {
    /// A writer with an empty history and no matched reader.
    pub fn new(guid: Guid, config: WriterConfig) -> Self {
        let history = HistoryCache::new(config.history, config.resource_limits);
        let heartbeat_interval = config.heartbeat_min_period;
        StatefulWriter {
            guid,
            config,
            history,
            last_sn: SequenceNumber::ZERO,
            readers: BTreeMap::new(),
            heartbeat_count: 0,
            next_heartbeat: None,
            heartbeat_interval,
            last_data_at: None,
            first_write_at: None,
            last_repair_at: None,
            last_served: None,
            events: VecDeque::new(),
            reported_acked_below: SequenceNumber(1),
            reported_full: false,
            delivered_before_unmatch: SequenceNumber(1),
            stats: WriterStats::default(),
        }
    }

    /// This writer's GUID.
    pub fn guid(&self) -> Guid {
        self.guid
    }

    /// The configuration.
    pub fn config(&self) -> &WriterConfig {
        &self.config
    }

    /// The history cache (read-only).
    pub fn history(&self) -> &HistoryCache {
        &self.history
    }

    /// Sequence number of the last change written (0 before the first).
    pub fn last_sn(&self) -> SequenceNumber {
        self.last_sn
    }

    /// Counters.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// True when a KEEP_ALL history is at `max_samples` (a `write` would fail).
    pub fn is_full(&self) -> bool {
        self.history.is_full()
    }

    /// GUIDs of the matched readers.
    pub fn matched_readers(&self) -> impl Iterator<Item = Guid> + '_ {
        self.readers.keys().copied()
    }

    /// Write an ALIVE change of a keyless topic (RTPS 2.5 §8.4.7.2 `new_change`).
    pub fn write(
        &mut self,
        now: Instant,
        payload: Bytes,
        source_timestamp: Option<Time>,
    ) -> Result<SequenceNumber, WriteError> {
        self.write_change(now, ChangeKind::Alive, None, payload, source_timestamp)
    }

    /// Write a change of any kind, with its instance's key hash for keyed topics; for a
    /// dispose/unregister `payload` is the serialized key (or empty).
    pub fn write_change(
        &mut self,
        now: Instant,
        kind: ChangeKind,
        key_hash: Option<[u8; 16]>,
        payload: Bytes,
        source_timestamp: Option<Time>,
    ) -> Result<SequenceNumber, WriteError> {
        if u32::try_from(payload.len()).is_err() {
            return Err(WriteError::PayloadTooLarge);
        }
        if self.last_sn.0 == i64::MAX {
            return Err(WriteError::SequenceNumbersExhausted);
        }
        let sn = self.last_sn.next();
        let change = CacheChange {
            sn,
            kind,
            key_hash,
            source_timestamp,
            payload,
        };
        if self.history.is_full() {
            self.evict_oldest_acknowledged();
        }
        match self.history.add_change(change) {
            Ok(_evicted) => {}
            Err(HistoryError::Full) => {
                self.reported_full = true;
                return Err(WriteError::HistoryFull);
            }
            Err(HistoryError::TooManyInstances) => return Err(WriteError::TooManyInstances),
            Err(HistoryError::OutOfOrder) => return Err(WriteError::SequenceNumbersExhausted),
        }
        self.last_sn = sn;
        if self.readers.values().any(|p| p.reliable) {
            self.arm_heartbeat(now);
        }
        self.remove_acked();
        self.update_events();
        Ok(sn)
    }

    /// Match a remote reader (RTPS 2.5 §8.4.7.5 `matched_reader_add`). A durable reader of a
    /// TRANSIENT_LOCAL writer gets the history; any other starts with the next change.
    /// Re-adding a matched reader updates its locators only.
    pub fn add_matched_reader(&mut self, now: Instant, config: ReaderProxyConfig) {
        let guid = config.remote_reader_guid;
        if let Some(p) = self.readers.get_mut(&guid) {
            p.config.locators = config.locators;
            p.config.expects_inline_qos = config.expects_inline_qos;
            return;
        }
        let proxy = ReaderProxy::new(
            config,
            self.config.reliable,
            self.config.durability == Durability::TransientLocal,
            self.last_sn,
        );
        if proxy.reliable && proxy.has_unacked(self.last_sn) && self.next_heartbeat.is_none() {
            self.next_heartbeat = now.checked_add(self.config.heartbeat_period);
        }
        self.readers.insert(guid, proxy);
        self.update_events();
    }

    /// Unmatch a reader (RTPS 2.5 §8.4.7.5 `matched_reader_remove`); false if unknown.
    pub fn remove_matched_reader(&mut self, guid: Guid) -> bool {
        if self.readers.len() == 1 && self.readers.contains_key(&guid) {
            self.delivered_before_unmatch =
                self.delivered_before_unmatch.max(self.delivered_floor());
        }
        let removed = self.readers.remove(&guid).is_some();
        if removed {
            self.remove_acked();
            self.update_events();
        }
        removed
    }

    /// First sequence number not acknowledged by every reliable reader (`last_sn + 1` when
    /// there is none).
    pub fn acked_by_all_below(&self) -> SequenceNumber {
        self.readers
            .values()
            .filter(|p| p.reliable)
            .map(|p| p.acked_below)
            .min()
            .unwrap_or(self.last_sn.next())
            .min(self.last_sn.next())
    }

    /// Has every reliable reader acknowledged `sn` (DDS `wait_for_acknowledgments`)?
    pub fn is_acked_by_all(&self, sn: SequenceNumber) -> bool {
        sn < self.acked_by_all_below()
    }

    /// An ACKNACK from reader `reader_prefix` + `acknack.reader_id` (RTPS 2.5 §8.4.9.2.8).
    /// Stale counts are ignored; NACKed changes are resent after `nack_response_delay`.
    pub fn handle_acknack(&mut self, now: Instant, reader_prefix: GuidPrefix, acknack: &AckNack) {
        self.stats.acknacks_received += 1;
        let guid = Guid::new(reader_prefix, acknack.reader_id);
        let last_sn = self.last_sn;
        let delay = self.config.nack_response_delay;
        let Some(proxy) = self.readers.get_mut(&guid).filter(|p| p.reliable) else {
            self.stats.unknown_reader += 1;
            return;
        };
        if proxy.on_acknack(now, acknack, last_sn, delay) == NackOutcome::Stale {
            self.stats.stale_nacks += 1;
            return;
        }
        self.remove_acked();
        self.update_events();
    }

    /// A NACK_FRAG from a reader (RTPS 2.5 §8.3.7.11, §8.4.14.1): resend those fragments.
    pub fn handle_nack_frag(
        &mut self,
        now: Instant,
        reader_prefix: GuidPrefix,
        nack_frag: &NackFrag,
    ) {
        self.stats.nack_frags_received += 1;
        let guid = Guid::new(reader_prefix, nack_frag.reader_id);
        let fs = usize::from(self.config.fragment_size.max(1));
        let total = self
            .history
            .get(nack_frag.writer_sn)
            .map(|c| c.payload.len())
            .filter(|len| *len > fs)
            .map_or(0, |len| fragment_count(len, fs));
        let delay = self.config.nack_response_delay;
        let Some(proxy) = self.readers.get_mut(&guid).filter(|p| p.reliable) else {
            self.stats.unknown_reader += 1;
            return;
        };
        let outcome = proxy.on_nack_frag(now, nack_frag, total, delay);
        if outcome == NackOutcome::Stale {
            self.stats.stale_nacks += 1;
        }
    }

    /// Data went out (or is about to) with a piggy-backed HEARTBEAT: the next periodic one
    /// comes `heartbeat_min_period` after the last data, and the back-off starts again. So a
    /// steady stream sends no periodic HEARTBEAT at all (each transmit carries one), and a
    /// lost tail sample is asked for about `heartbeat_min_period` after it was sent.
    fn arm_heartbeat(&mut self, now: Instant) {
        let min = self
            .config
            .heartbeat_min_period
            .min(self.config.heartbeat_period);
        if min < self.config.heartbeat_period {
            self.last_data_at = Some(now);
            self.first_write_at.get_or_insert(now);
            // A tail check already pending soon enough is kept: when it comes it looks at
            // `last_data_at` (`handle_timeout`), so a writer sending every few microseconds
            // does not move the driver's timer (one wake-up per write burst) every time.
            let first = if self.clean_stream(now) {
                self.heartbeat_interval
                    .clamp(min, min.saturating_mul(STREAM_CHECK_FACTOR))
            } else {
                self.heartbeat_interval = min;
                min
            };
            let pending_soon = self
                .next_heartbeat
                .zip(now.checked_add(first))
                .is_some_and(|(at, limit)| at <= limit);
            if !pending_soon {
                self.next_heartbeat = now.checked_add(first);
            }
        } else if self.next_heartbeat.is_none() {
            self.heartbeat_interval = min;
            // A fixed period: not postponed by later writes.
            self.next_heartbeat = now.checked_add(min);
        }
    }

    /// The writer has been writing for a while and repaired nothing lately (see
    /// [`STREAM_CHECK_FACTOR`]).
    fn clean_stream(&self, now: Instant) -> bool {
        let min = self.config.heartbeat_min_period;
        let since = |t: Instant, factor: u32| {
            now.saturating_duration_since(t) >= min.saturating_mul(factor)
        };
        self.first_write_at
            .is_some_and(|f| since(f, STREAM_CLEAN_FACTOR))
            && self.last_repair_at.is_none_or(|r| since(r, LOSSY_FACTOR))
    }

    /// Run expired timers (RTPS 2.5 §8.4.9.2.7: periodic HEARTBEAT, its period doubling from
    /// `heartbeat_min_period` to `heartbeat_period` while changes stay unacknowledged). Early
    /// calls are no-ops.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(at) = self.next_heartbeat else {
            return;
        };
        if at > now {
            return;
        }
        let last_sn = self.last_sn;
        let mut any = false;
        // With back-off, a reader still being sent data gets its HEARTBEAT piggy-backed when
        // the data is drained (asking earlier would NACK fragments still in flight).
        let backoff = self.config.heartbeat_min_period < self.config.heartbeat_period;
        let min = self.config.heartbeat_min_period;
        if let Some(quiet) = self
            .last_data_at
            .and_then(|l| l.checked_add(min))
            .filter(|q| backoff && *q > now)
        {
            // Data went out less than `min` ago, with a piggy-backed HEARTBEAT: the stream
            // goes on. Look again once it has been quiet for `min`; a clean stream no more
            // often than every `min`, `2 min`, .. up to `STREAM_CHECK_FACTOR * min`.
            self.next_heartbeat = if self.clean_stream(now) {
                let cap = min.saturating_mul(STREAM_CHECK_FACTOR);
                let interval = self.heartbeat_interval.clamp(min, cap);
                let next = now.checked_add(interval).map(|n| n.max(quiet));
                self.heartbeat_interval = interval.saturating_mul(2).min(cap);
                next
            } else {
                Some(quiet)
            };
            return;
        }
        for p in self.readers.values_mut() {
            if p.has_unacked(last_sn) {
                p.heartbeat_due |= !(backoff && p.highest_sent < last_sn);
                any = true;
            }
        }
        self.heartbeat_interval = self
            .heartbeat_interval
            .saturating_mul(2)
            .min(self.config.heartbeat_period);
        self.next_heartbeat = if any {
            now.checked_add(self.heartbeat_interval)
        } else {
            None
        };
    }

    /// The earliest instant at which `handle_timeout` / `poll_transmit` have work to do.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.readers
            .values()
            .filter(|p| p.has_repairs())
            .filter_map(|p| p.repair_at)
            .chain(self.next_heartbeat)
            .min()
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<WriterEvent> {
        self.events.pop_front()
    }

    /// The next transmit, if any reader has something due at `now`. Drain until `None`.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        self.handle_timeout(now);
        // The participant polls every writer after every input: most have nothing due, and
        // are answered without building the round-robin order.
        let last_sn = self.last_sn;
        let due = |p: &ReaderProxy| {
            p.highest_sent < last_sn
                || (p.reliable && (p.heartbeat_due || p.repair_at.is_some_and(|t| t <= now)))
        };
        if !self.readers.values().any(due) {
            return None;
        }
        let order: Vec<Guid> = match self.last_served {
            Some(last) => self
                .readers
                .range((Excluded(last), Unbounded))
                .chain(self.readers.range(..=last))
                .map(|(g, _)| *g)
                .collect(),
            None => self.readers.keys().copied().collect(),
        };
        for guid in order {
            let repairs = self.stats.repairs_sent;
            if let Some(t) = self.build_transmit(guid, now) {
                if self.stats.repairs_sent > repairs {
                    // A repair may be lost too: ask again soon.
                    self.last_repair_at = Some(now);
                    self.arm_heartbeat(now);
                }
                self.last_served = Some(guid);
                self.remove_acked();
                self.update_events();
                return Some(t);
            }
        }
        None
    }

    /// The first sequence number not yet acknowledged by every reliable reader (and not yet
    /// sent to every best-effort one): changes below it are delivered everywhere.
    fn delivered_floor(&self) -> SequenceNumber {
        self.readers
            .values()
            .map(|p| {
                if p.reliable {
                    p.acked_below
                } else {
                    p.highest_sent.next()
                }
            })
            .min()
            .unwrap_or(self.last_sn.next())
    }

    /// A full KEEP_ALL history of a durable writer makes room by dropping its oldest change
    /// that every matched reader already has, as Fast DDS does (AML-IP relies on it, spec
    /// §6.4): late joiners then miss only changes that were delivered to everyone before. A
    /// change some reader still lacks is never dropped; the write fails with HistoryFull.
    /// Unlike Fast DDS, a writer without readers keeps what nobody has received yet (for the
    /// late joiners TRANSIENT_LOCAL promises it to): its writes fail until a reader takes them.
    fn evict_oldest_acknowledged(&mut self) {
        if let Some(min) = self.evictable_min() {
            self.history.remove(min);
        }
    }

    /// The oldest change a full durable history may drop to make room, if any.
    fn evictable_min(&self) -> Option<SequenceNumber> {
        let floor = if self.readers.is_empty() {
            self.delivered_before_unmatch
        } else {
            self.delivered_floor()
        };
        self.history.min_sn().filter(|min| *min < floor)
    }

    /// Drop changes nobody needs any more: under KEEP_ALL for a VOLATILE writer, those every
    /// reliable reader acknowledged and every best-effort reader was sent; for a durable one,
    /// the oldest of those while the history is over `durable_history_bytes`.
    fn remove_acked(&mut self) {
        if self.config.history != HistoryKind::KeepAll {
            return;
        }
        if self.config.durability != Durability::Volatile {
            while self.history.payload_bytes() > self.config.durable_history_bytes {
                let Some(min) = self.evictable_min() else {
                    break;
                };
                self.history.remove(min);
            }
            return;
        }
        let floor = self.delivered_floor();
        if self.history.min_sn().is_some_and(|min| min < floor) {
            self.history.remove_below(floor);
        }
    }

    fn update_events(&mut self) {
        let below = self.acked_by_all_below();
        if below > self.reported_acked_below {
            self.reported_acked_below = below;
            self.events
                .retain(|e| !matches!(e, WriterEvent::Acknowledged { .. }));
            self.events.push_back(WriterEvent::Acknowledged { below });
        }
        let room = !self.history.is_full() || self.evictable_min().is_some();
        if self.reported_full && room {
            self.reported_full = false;
            self.events.push_back(WriterEvent::HistorySpaceAvailable);
        }
    }

    /// Build the next transmit for one reader, or None if it has nothing due.
    fn build_transmit(&mut self, guid: Guid, now: Instant) -> Option<Transmit> {
        let StatefulWriter {
            guid: writer_guid,
            config,
            history,
            last_sn,
            readers,
            heartbeat_count,
            stats,
            ..
        } = self;
        let proxy = readers.get_mut(&guid)?;
        let mut b = Batch::new(config.max_transmit_size, proxy, *writer_guid);
        let fs = usize::from(config.fragment_size.max(1));

        // 1. Repairs, once nack_response_delay has passed.
        if proxy.reliable && proxy.repair_at.is_some_and(|t| t <= now) {
            repair_changes(&mut b, proxy, history, fs);
            repair_fragments(&mut b, proxy, history, fs);
            stats.repairs_sent += b.data_count;
            if !proxy.has_repairs() {
                proxy.repair_at = None;
            }
        }
        let repaired = !b.subs.is_empty();

        // 2. New changes.
        let mut sent_new = false;
        if proxy.reliable && !config.push_mode {
            if proxy.highest_sent < *last_sn {
                proxy.highest_sent = *last_sn;
                proxy.next_fragment = 1;
                proxy.heartbeat_due = true;
            }
        } else {
            sent_new = push_new_changes(&mut b, proxy, history, *last_sn, fs);
        }

        // 3. HEARTBEAT: due, or piggy-backed when this transmit drained the reader's queue.
        let drained = proxy.highest_sent >= *last_sn && !proxy.has_repairs();
        if proxy.reliable && (proxy.heartbeat_due || ((sent_new || repaired) && drained)) {
            *heartbeat_count = heartbeat_count.wrapping_add(1);
            let first = history
                .min_sn()
                .unwrap_or(last_sn.next())
                .max(proxy.first_relevant);
            b.subs.push(OutSubmessage::Heartbeat(Heartbeat {
                reader_id: proxy.guid().entity_id,
                writer_id: writer_guid.entity_id,
                first_sn: first,
                last_sn: *last_sn,
                count: *heartbeat_count,
                final_flag: proxy.acked_below > *last_sn,
                liveliness_flag: false,
            }));
            proxy.heartbeat_due = false;
            stats.heartbeats_sent += 1;
        }
        if b.subs.is_empty() {
            return None;
        }
        stats.data_sent += b.data_count - b.frag_count;
        stats.data_frag_sent += b.frag_count;
        stats.gaps_sent += b.gap_count;
        Some(Transmit {
            destination: Destination {
                guid,
                locators: proxy.config.locators.clone(),
            },
            submessages: b.subs,
        })
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
