//! A reader's state for one matched remote writer (RTPS 2.5 §8.4.10.4 `WriterProxy`,
//! §8.4.12 reliable reader behaviour): what was delivered, what is buffered out of order,
//! what the writer declared irrelevant, which samples are being reassembled.
//!
//! Every sequence number below `next_expected` has been delivered or is irrelevant (GAP) or
//! lost (HEARTBEAT `firstSN` moved past it). Out-of-order samples wait in `buffered` within
//! caps; a reliable writer resends what was dropped, so a full buffer costs time, never a
//! sample. A sample that is still being reassembled is never acknowledged: it is left out of
//! the ACKNACK bitmap (and so below its base) and its missing fragments are asked for with
//! NACK_FRAG (oracles README finding 1).

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::fragment::Reassembly;
use super::out::InlineQos;
use super::ranges::RangeSet;
use super::reader::{ReaderConfig, ReaderStats, Sample};
use crate::history::ChangeKind;
use crate::wire::sets::SequenceNumberSet;
use crate::wire::submessage::{AckNack, DataFrag, Gap, Heartbeat, HeartbeatFrag, NackFrag};
use crate::wire::{EntityId, Guid, Locator, SequenceNumber, Time};

/// Most irrelevant-range entries remembered per writer.
const MAX_IRRELEVANT_RANGES: usize = 1024;

/// A HEARTBEAT or GAP that claims sequence numbers more than this far beyond the highest one
/// the writer has shown is suspect (issue 11: plain RTPS has no authentication, and a forged
/// claim would make the reader skip samples it still expects). The width of an ACKNACK
/// bitmap: a real writer's claims run that far ahead only after heavy loss.
const SUSPECT_MARGIN: i64 = 256;

/// A HEARTBEAT whose count is at most this far behind the last one is a duplicate or a
/// reordered old one (stale). A count further behind is taken as it is: the last count may
/// have come from a forged HEARTBEAT, and a real writer must not be locked out by it.
const STALE_COUNT_WINDOW: u32 = 8;

/// A remote writer as matched by discovery (RTPS 2.5 §8.4.10.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterProxyConfig {
    /// The remote writer's GUID.
    pub remote_writer_guid: Guid,
    /// Reliable exchange (reader and writer both RELIABLE): ACKNACK, in-order delivery.
    pub reliable: bool,
    /// Where to send ACKNACK / NACK_FRAG (unicast first).
    pub locators: Vec<Locator>,
}

/// The reader's state for one remote writer.
#[derive(Debug, Clone)]
pub(crate) struct WriterProxy {
    pub(crate) config: WriterProxyConfig,
    /// Every sequence number below this is delivered, irrelevant or lost.
    pub(crate) next_expected: SequenceNumber,
    /// Highest sequence number heard of (HEARTBEAT `lastSN`, GAP, DATA).
    highest_known: SequenceNumber,
    /// Highest `lastSN` of a HEARTBEAT: the writer has sent everything up to here.
    announced: SequenceNumber,
    buffered: BTreeMap<SequenceNumber, Sample>,
    buffered_bytes: usize,
    irrelevant: RangeSet,
    reassemblies: BTreeMap<SequenceNumber, Reassembly>,
    reassembly_bytes: usize,
    last_heartbeat_count: Option<u32>,
    last_heartbeat_frag_count: Option<u32>,
    acknack_count: u32,
    nack_frag_count: u32,
    /// When the next ACKNACK goes (heartbeat_response_delay after a HEARTBEAT).
    pub(crate) acknack_at: Option<Instant>,
    /// The next ACKNACK asks the writer for a HEARTBEAT (F flag clear).
    preemptive: bool,
    /// A pre-emptive ACKNACK with nothing to ask for goes with base 0, not 1 (see
    /// [`WriterProxy::zero_based_preemptive`]).
    preemptive_base_zero: bool,
    /// Highest sequence number delivered (or filtered) from a DATA: a resync never goes
    /// below it, so nothing is delivered twice.
    delivered_max: SequenceNumber,
    /// A suspect claim was held back when `acknack_count` had this value: the same claim
    /// after an ACKNACK went out is the writer's answer and is taken.
    suspect_held_at: Option<u32>,
    /// `acknack_at` is a repeat of an ACKNACK that asked for missing samples: it goes only
    /// if something is still missing.
    renack_pending: bool,
    /// Interval of the next repeat (zero: none asked for yet).
    renack_interval: Duration,
    /// Interval of the next repeat of the pre-emptive ACKNACK (zero: none sent yet), see
    /// [`WriterProxy::arm_preemptive_repeat`].
    preemptive_interval: Duration,
    /// `acknack_at` is a repeat of the pre-emptive ACKNACK: an answer due sooner replaces it.
    preemptive_pending: bool,
    /// `highest_known` when the last ACKNACK that asked for samples went: holes below it were
    /// asked for already (their repairs may be in flight), so only a later one is asked for
    /// within `nack_delay`; the others wait for the usual `heartbeat_response_delay` or the
    /// repeat.
    nacked_high: SequenceNumber,
    /// When the last ACKNACK that asked for samples went.
    pub(crate) last_nack_at: Option<Instant>,
    /// Data came from the writer since the last ACKNACK (a repair may be under way).
    heard: bool,
}

impl WriterProxy {
    /// A proxy with nothing received; reliable proxies send a pre-emptive ACKNACK at `now`.
    pub(crate) fn new(config: WriterProxyConfig, now: Instant) -> Self {
        let reliable = config.reliable;
        WriterProxy {
            config,
            next_expected: SequenceNumber(1),
            highest_known: SequenceNumber::ZERO,
            announced: SequenceNumber::ZERO,
            buffered: BTreeMap::new(),
            buffered_bytes: 0,
            irrelevant: RangeSet::new(MAX_IRRELEVANT_RANGES),
            reassemblies: BTreeMap::new(),
            reassembly_bytes: 0,
            last_heartbeat_count: None,
            last_heartbeat_frag_count: None,
            acknack_count: 0,
            nack_frag_count: 0,
            acknack_at: reliable.then_some(now),
            preemptive: reliable,
            preemptive_base_zero: false,
            delivered_max: SequenceNumber::ZERO,
            suspect_held_at: None,
            renack_pending: false,
            renack_interval: Duration::ZERO,
            preemptive_interval: Duration::ZERO,
            preemptive_pending: false,
            nacked_high: SequenceNumber::ZERO,
            last_nack_at: None,
            heard: false,
        }
    }

    /// Send the pre-emptive ACKNACK in the form Fast DDS readers use and Fast DDS writers
    /// answer with a HEARTBEAT at once: base 0, no bits (a Fast DDS writer only restarts its
    /// periodic HEARTBEAT timer, 3 s, on base 1). Cyclone refuses base 0 except from
    /// eProsima and RTI, so this is for eProsima writers only.
    pub(crate) fn zero_based_preemptive(&mut self) {
        self.preemptive_base_zero = true;
    }

    /// Start the ACKNACK and NACK_FRAG counts above `floor` (see
    /// `StatefulReader::remove_matched_writer`).
    pub(crate) fn counting_from(mut self, floor: u32) -> Self {
        self.acknack_count = floor;
        self.nack_frag_count = floor;
        self
    }

    /// The highest ACKNACK or NACK_FRAG count sent so far.
    pub(crate) fn counts_used(&self) -> u32 {
        self.acknack_count.max(self.nack_frag_count)
    }

    /// The ACKNACK now due at `now` should go: anything but a repeat, or a repeat while
    /// a whole sample is still missing (else the repeats stop) and nothing came from the writer
    /// since the last ACKNACK (else a long repair is under way, and the repeat waits one more
    /// interval rather than ask for it twice).
    pub(crate) fn renack_due(&mut self, now: Instant) -> bool {
        self.preemptive_pending = false;
        if !std::mem::take(&mut self.renack_pending) {
            return true;
        }
        if !self.has_hole() {
            self.renack_interval = Duration::ZERO;
            return false;
        }
        if std::mem::take(&mut self.heard) {
            self.acknack_at = now.checked_add(self.renack_interval);
            self.renack_pending = self.acknack_at.is_some();
            return false;
        }
        true
    }

    /// After an ACKNACK: if it asked for whole samples, repeat it `first` later, then twice as long
    /// each time up to `max`, while something stays missing.
    pub(crate) fn arm_renack(&mut self, now: Instant, asked: bool, first: Duration, max: Duration) {
        self.heard = false;
        if !asked {
            self.renack_interval = Duration::ZERO;
            return;
        }
        self.renack_interval = back_off(self.renack_interval, first, max);
        self.acknack_at = now.checked_add(self.renack_interval);
        self.renack_pending = self.acknack_at.is_some();
    }

    /// After an ACKNACK: while nothing was heard from the writer since the match (no
    /// HEARTBEAT, GAP or sample), the pre-emptive ACKNACK goes again `first` later, then twice
    /// as long each time up to `max`. A writer answers it with a HEARTBEAT, and one that kept
    /// us matched while our participant lost its participant (a pause past the lease) sends
    /// nothing else: without the repeat, a lost pre-emptive ACKNACK or HEARTBEAT would leave
    /// this reader without the writer's samples (its discovery data, for SEDP) for ever.
    pub(crate) fn arm_preemptive_repeat(&mut self, now: Instant, first: Duration, max: Duration) {
        let heard_nothing = self.last_heartbeat_count.is_none()
            && self.highest_known.0 < 1
            && self.next_expected.0 <= 1
            && self.buffered.is_empty()
            && self.reassemblies.is_empty();
        if !self.reliable() || !heard_nothing || self.acknack_at.is_some() {
            self.preemptive_interval = Duration::ZERO;
            return;
        }
        self.preemptive_interval = back_off(self.preemptive_interval, first, max);
        self.acknack_at = now.checked_add(self.preemptive_interval);
        self.preemptive = self.acknack_at.is_some();
        self.preemptive_pending = self.preemptive;
    }

    /// The writer was heard from: a pending repeat of the pre-emptive ACKNACK is off.
    fn cancel_preemptive_repeat(&mut self) {
        if std::mem::take(&mut self.preemptive_pending) {
            self.acknack_at = None;
            self.preemptive = false;
        }
        self.preemptive_interval = Duration::ZERO;
    }

    pub(crate) fn reliable(&self) -> bool {
        self.config.reliable
    }

    fn guid(&self) -> Guid {
        self.config.remote_writer_guid
    }

    /// The writer has sent `sn` (seen before the match and not kept).
    pub(crate) fn heard_of(&mut self, sn: SequenceNumber) {
        if self.reliable() && sn >= self.next_expected {
            self.highest_known = self.highest_known.max(sn);
        }
    }

    /// Already delivered, buffered or irrelevant.
    fn is_duplicate(&self, sn: SequenceNumber) -> bool {
        sn < self.next_expected || self.buffered.contains_key(&sn) || self.irrelevant.contains(sn.0)
    }

    /// A complete sample arrived (DATA, or the last fragment). Delivers in order, buffers
    /// ahead-of-order ones within the caps, drops duplicates (RTPS 2.5 §8.4.12.2). A sample
    /// after a hole schedules an ACKNACK asking for the hole within `nack_delay`.
    pub(crate) fn on_sample(
        &mut self,
        now: Instant,
        sample: Sample,
        filtered: bool,
        cfg: &ReaderConfig,
        stats: &mut ReaderStats,
        out: &mut VecDeque<Sample>,
    ) {
        self.cancel_preemptive_repeat();
        let sn = sample.sn;
        self.heard = true;
        if sn.0 < 1 {
            stats.invalid += 1;
            return;
        }
        if !self.reliable() {
            // Best effort: in order-ish, anything older than the last delivered is dropped.
            if sn < self.next_expected {
                stats.duplicates += 1;
                return;
            }
            self.next_expected = sn.next();
            self.reassemblies_retain_from(self.next_expected);
            if !filtered {
                stats.delivered += 1;
                out.push_back(sample);
            }
            return;
        }
        if self.is_duplicate(sn) {
            stats.duplicates += 1;
            return;
        }
        let known_before = self.highest_known;
        self.highest_known = self.highest_known.max(sn);
        if let Some(r) = self.reassemblies.remove(&sn) {
            self.reassembly_bytes = self
                .reassembly_bytes
                .saturating_sub(r.sample_size() as usize);
        }
        if filtered {
            self.irrelevant.insert(sn.0);
            self.delivered_max = self.delivered_max.max(sn);
        } else if sn == self.next_expected {
            self.next_expected = sn.next();
            self.delivered_max = self.delivered_max.max(sn);
            stats.delivered += 1;
            out.push_back(sample);
        } else {
            // Make room by dropping the highest buffered samples if this one is lower.
            let len = sample.payload.len();
            while self.buffered.len() >= cfg.max_buffered_samples.max(1)
                || self.buffered_bytes.saturating_add(len) > cfg.max_buffered_bytes
            {
                match self.buffered.last_key_value() {
                    Some((&high, _)) if high > sn => {
                        if let Some(s) = self.buffered.remove(&high) {
                            self.buffered_bytes =
                                self.buffered_bytes.saturating_sub(s.payload.len());
                        }
                        stats.dropped_buffer_full += 1;
                    }
                    _ => {
                        stats.dropped_buffer_full += 1;
                        return;
                    }
                }
            }
            self.buffered_bytes = self.buffered_bytes.saturating_add(len);
            self.buffered.insert(sn, sample);
            if self.new_hole(known_before, sn.0 - 1) {
                self.schedule_nack(now, cfg);
            }
            return;
        }
        self.advance(stats, out);
    }

    /// Move `next_expected` over buffered samples (delivering them) and irrelevant runs.
    fn advance(&mut self, stats: &mut ReaderStats, out: &mut VecDeque<Sample>) {
        // Each iteration moves next_expected forward, so this ends.
        loop {
            if let Some(s) = self.buffered.remove(&self.next_expected) {
                self.buffered_bytes = self.buffered_bytes.saturating_sub(s.payload.len());
                self.delivered_max = self.delivered_max.max(self.next_expected);
                self.next_expected = self.next_expected.next();
                stats.delivered += 1;
                out.push_back(s);
                continue;
            }
            if let Some(end) = self.irrelevant.run_end(self.next_expected.0) {
                let next_buffered = self.buffered.keys().next().map_or(i64::MAX, |s| s.0);
                self.next_expected = SequenceNumber(end.min(next_buffered));
                continue;
            }
            break;
        }
        self.irrelevant.remove_below(self.next_expected.0);
        self.reassemblies_retain_from(self.next_expected);
    }

    fn reassemblies_retain_from(&mut self, from: SequenceNumber) {
        let keep = self.reassemblies.split_off(&from);
        for r in self.reassemblies.values() {
            self.reassembly_bytes = self
                .reassembly_bytes
                .saturating_sub(r.sample_size() as usize);
        }
        self.reassemblies = keep;
    }

    /// A DATA_FRAG (RTPS 2.5 §8.4.14.1.2): store the fragments, deliver when complete.
    pub(crate) fn on_data_frag(
        &mut self,
        now: Instant,
        frag: &DataFrag<'_>,
        timestamp: Option<Time>,
        cfg: &ReaderConfig,
        stats: &mut ReaderStats,
        out: &mut VecDeque<Sample>,
    ) {
        self.cancel_preemptive_repeat();
        let sn = frag.writer_sn;
        self.heard = true;
        if sn.0 < 1 || frag.fragment_size == 0 || frag.fragment_starting_num == 0 {
            stats.invalid += 1;
            return;
        }
        if (self.reliable() && self.is_duplicate(sn)) || sn < self.next_expected {
            stats.duplicates += 1;
            return;
        }
        if frag.sample_size > cfg.max_sample_size {
            stats.fragments_rejected += 1;
            if self.reliable() {
                // Once per sample: later fragments of it are duplicates of an irrelevant one.
                stats.oversized += 1;
                log::warn!(
                    "skipped sample {} of writer {}: {} bytes is over the reader's maximum \
                     sample size of {} bytes",
                    sn.0,
                    self.guid(),
                    frag.sample_size,
                    cfg.max_sample_size
                );
                self.highest_known = self.highest_known.max(sn);
                self.irrelevant.insert(sn.0);
                self.advance(stats, out);
            }
            return;
        }
        if self.reliable() {
            self.highest_known = self.highest_known.max(sn);
        }
        if !self.reassemblies.contains_key(&sn) && !self.make_room(sn, frag.sample_size, cfg, stats)
        {
            stats.fragments_rejected += 1;
            return;
        }
        let r = match self.reassemblies.entry(sn) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let Some(r) = Reassembly::new(frag.sample_size, frag.fragment_size) else {
                    stats.fragments_rejected += 1;
                    return;
                };
                self.reassembly_bytes = self
                    .reassembly_bytes
                    .saturating_add(r.sample_size() as usize);
                e.insert(r)
            }
        };
        if r.insert(
            frag.sample_size,
            frag.fragment_size,
            frag.fragment_starting_num,
            frag.fragments_in_submessage,
            frag.fragments,
        )
        .is_err()
        {
            stats.fragments_rejected += 1;
            return;
        }
        let mut filtered = false;
        if let Some(list) = &frag.inline_qos {
            let qos = InlineQos::from_list(list);
            if qos.key_hash.is_some() {
                r.key_hash = qos.key_hash;
            }
            if let Some(flags) = qos.status_info {
                r.kind = ChangeKind::from_status_info(flags);
                filtered = flags & 0x4 != 0;
            }
        }
        r.is_key |= frag.is_key;
        if r.source_timestamp.is_none() {
            r.source_timestamp = timestamp;
        }
        if !r.is_complete() {
            return;
        }
        let Some(r) = self.reassemblies.remove(&sn) else {
            return;
        };
        self.reassembly_bytes = self
            .reassembly_bytes
            .saturating_sub(r.sample_size() as usize);
        let (kind, key_hash, source_timestamp, payload_is_key) =
            (r.kind, r.key_hash, r.source_timestamp, r.is_key);
        let sample = Sample {
            writer_guid: self.guid(),
            sn,
            kind,
            key_hash,
            source_timestamp,
            payload_is_key,
            payload: r.into_payload(),
        };
        self.on_sample(now, sample, filtered, cfg, stats, out);
    }

    /// Room for a new reassembly of `size` bytes for `sn`: evict higher-numbered ones (the
    /// lowest are needed first for in-order delivery) or refuse.
    fn make_room(
        &mut self,
        sn: SequenceNumber,
        size: u32,
        cfg: &ReaderConfig,
        stats: &mut ReaderStats,
    ) -> bool {
        let size = size as usize;
        if size > cfg.max_reassembly_bytes {
            return false;
        }
        while self.reassemblies.len() >= cfg.max_reassemblies.max(1)
            || self.reassembly_bytes.saturating_add(size) > cfg.max_reassembly_bytes
        {
            match self.reassemblies.last_key_value() {
                Some((&high, _)) if high > sn => {
                    if let Some(r) = self.reassemblies.remove(&high) {
                        self.reassembly_bytes = self
                            .reassembly_bytes
                            .saturating_sub(r.sample_size() as usize);
                    }
                    stats.reassemblies_dropped += 1;
                }
                _ => return false,
            }
        }
        true
    }

    /// A GAP (RTPS 2.5 §8.3.7.4, §8.4.12): `[gapStart, gapList.base)` and the bitmap are
    /// irrelevant. Samples already buffered in that range are still delivered. A GAP far
    /// beyond what the writer has shown is held back once (see [`Self::hold_suspect`]).
    pub(crate) fn on_gap(
        &mut self,
        now: Instant,
        gap: &Gap,
        cfg: &ReaderConfig,
        stats: &mut ReaderStats,
        out: &mut VecDeque<Sample>,
    ) {
        self.cancel_preemptive_repeat();
        if !self.reliable() {
            return;
        }
        let claim = gap
            .gap_list
            .iter()
            .last()
            .unwrap_or(SequenceNumber::ZERO)
            .max(SequenceNumber(gap.gap_list.base.0.saturating_sub(1)));
        if self.hold_suspect(now, claim, "GAP", cfg, stats) {
            return;
        }
        let start = gap.gap_start.0.max(self.next_expected.0);
        let end = gap.gap_list.base.0;
        if start < end {
            self.irrelevant.insert_range(start, end);
            self.highest_known = self.highest_known.max(SequenceNumber(end - 1));
        }
        for sn in gap.gap_list.iter() {
            if sn >= self.next_expected && !self.buffered.contains_key(&sn) {
                self.irrelevant.insert(sn.0);
                self.highest_known = self.highest_known.max(sn);
            }
        }
        let doomed: Vec<SequenceNumber> = self
            .reassemblies
            .keys()
            .copied()
            .filter(|sn| self.irrelevant.contains(sn.0))
            .collect();
        for sn in doomed {
            if let Some(r) = self.reassemblies.remove(&sn) {
                self.reassembly_bytes = self
                    .reassembly_bytes
                    .saturating_sub(r.sample_size() as usize);
                stats.reassemblies_dropped += 1;
            }
        }
        self.advance(stats, out);
    }

    /// A HEARTBEAT (RTPS 2.5 §8.3.7.5, §8.4.12): stale counts are ignored; changes
    /// below `firstSN` are lost (buffered ones still delivered); an ACKNACK is scheduled
    /// unless the F flag is set and nothing is missing.
    pub(crate) fn on_heartbeat(
        &mut self,
        now: Instant,
        hb: &Heartbeat,
        cfg: &ReaderConfig,
        stats: &mut ReaderStats,
        out: &mut VecDeque<Sample>,
    ) {
        self.cancel_preemptive_repeat();
        if !self.reliable() {
            return;
        }
        if hb.first_sn.0 < 1 || hb.last_sn.0 < hb.first_sn.0 - 1 {
            stats.invalid += 1;
            return;
        }
        if self.hold_suspect(now, hb.last_sn, "HEARTBEAT", cfg, stats) {
            return;
        }
        if hb.last_sn < self.delivered_max {
            // Older than a sample already delivered (sent before it, or bogus): nothing to
            // learn from it.
            stats.stale_heartbeats += 1;
            return;
        }
        let stale = self
            .last_heartbeat_count
            .is_some_and(|c| c.wrapping_sub(hb.count) < STALE_COUNT_WINDOW);
        if hb.last_sn.next() < self.next_expected || (!stale && hb.last_sn < self.announced) {
            // A real writer's lastSN never decreases and nothing beyond it can have been
            // skipped: an earlier claim (HEARTBEAT or GAP) was not the writer's. Checked even
            // for a stale count, which a forged count just ahead of the writer's would make.
            self.resync(hb.last_sn, stats);
        } else if stale {
            stats.stale_heartbeats += 1;
            return;
        }
        // The first HEARTBEAT from a writer we have heard nothing from since the match is
        // the answer to our pre-emptive ACKNACK: what it announces was sent before we knew
        // the writer, so the ACKNACK that asks for it goes at once.
        let fresh = self.last_heartbeat_count.is_none() && self.highest_known.0 < 1;
        self.last_heartbeat_count = Some(hb.count);
        let known_before = self.highest_known;
        self.highest_known = self.highest_known.max(hb.last_sn);
        self.announced = self.announced.max(hb.last_sn);
        if hb.first_sn > self.next_expected {
            let held = self.buffered.range(..hb.first_sn).count() as u64;
            let irrelevant = self.irrelevant_count(self.next_expected, hb.first_sn);
            let span = u64::try_from(hb.first_sn.0 - self.next_expected.0).unwrap_or(u64::MAX);
            stats.lost = stats
                .lost
                .saturating_add(span.saturating_sub(held).saturating_sub(irrelevant));
            self.irrelevant
                .insert_range(self.next_expected.0, hb.first_sn.0);
            let before = self.reassemblies.len();
            let keep = self.reassemblies.split_off(&hb.first_sn);
            for r in self.reassemblies.values() {
                self.reassembly_bytes = self
                    .reassembly_bytes
                    .saturating_sub(r.sample_size() as usize);
            }
            self.reassemblies = keep;
            stats.reassemblies_dropped += (before - self.reassemblies.len()) as u64;
            self.advance(stats, out);
        }
        if fresh && self.has_missing() {
            self.acknack_at = Some(self.acknack_at.map_or(now, |t| t.min(now)));
            self.renack_pending = false;
        } else if self.new_hole(known_before, hb.last_sn.0)
            || (self.has_hole() && self.last_nack_at.is_none())
        {
            self.schedule_nack(now, cfg);
        } else if !hb.final_flag || self.has_missing() {
            self.schedule_acknack(now, cfg);
        }
    }

    /// A HEARTBEAT_FRAG (RTPS 2.5 §8.3.7.6): the writer sent fragments up to
    /// `lastFragmentNum`; ask for the missing ones.
    pub(crate) fn on_heartbeat_frag(
        &mut self,
        now: Instant,
        hb: &HeartbeatFrag,
        cfg: &ReaderConfig,
        stats: &mut ReaderStats,
    ) {
        self.cancel_preemptive_repeat();
        if !self.reliable() {
            return;
        }
        if self
            .last_heartbeat_frag_count
            .is_some_and(|c| hb.count <= c)
        {
            stats.stale_heartbeats += 1;
            return;
        }
        self.last_heartbeat_frag_count = Some(hb.count);
        if let Some(r) = self.reassemblies.get_mut(&hb.writer_sn) {
            r.last_fragment_announced = r.last_fragment_announced.max(hb.last_fragment_num);
            if r.missing(r.last_fragment_announced).is_some() {
                self.schedule_acknack(now, cfg);
            }
        }
    }

    /// Hold back a HEARTBEAT or GAP claiming sequence numbers up to `claim` when that is far
    /// beyond the highest the writer has shown (issue 11): it is counted, logged, and answered
    /// with an ACKNACK that asks for a HEARTBEAT; the same kind of claim arriving after that
    /// ACKNACK went out is the writer's own answer and is taken. A claim within reach clears
    /// a held one. Nothing is held before the writer has shown anything (a late joiner's
    /// first HEARTBEAT may legitimately start anywhere). True when held.
    fn hold_suspect(
        &mut self,
        now: Instant,
        claim: SequenceNumber,
        what: &str,
        cfg: &ReaderConfig,
        stats: &mut ReaderStats,
    ) -> bool {
        let far = self.highest_known.0 >= 1
            && claim.0 > self.highest_known.0.saturating_add(SUSPECT_MARGIN);
        match self.suspect_held_at {
            Some(at) if far && at != self.acknack_count => {
                self.suspect_held_at = None;
                false
            }
            _ if far => {
                stats.suspect = stats.suspect.saturating_add(1);
                log::debug!(
                    "suspect {what} from {}: claims {} but the writer has shown {}; held",
                    self.guid(),
                    claim.0,
                    self.highest_known.0
                );
                self.suspect_held_at = Some(self.acknack_count);
                self.preemptive = true;
                self.schedule_acknack(now, cfg);
                true
            }
            _ => {
                self.suspect_held_at = None;
                false
            }
        }
    }

    /// The writer's HEARTBEAT says its last change is `last`, which contradicts an earlier
    /// claim: go back to the first sequence number not delivered (never below one that was)
    /// and forget what the earlier claims marked irrelevant or announced. The writer resends
    /// what is missing, or GAPs it again.
    fn resync(&mut self, last: SequenceNumber, stats: &mut ReaderStats) {
        stats.resyncs = stats.resyncs.saturating_add(1);
        log::debug!(
            "{}: HEARTBEAT lastSN {} contradicts an earlier claim (next expected {}); resync",
            self.guid(),
            last.0,
            self.next_expected.0
        );
        if self.next_expected > last.next() {
            self.next_expected = self.delivered_max.next();
        }
        self.irrelevant.remove_range(self.next_expected.0, i64::MAX);
        self.announced = last;
        let buffered = self.buffered.keys().next_back().copied();
        let reassembling = self.reassemblies.keys().next_back().copied();
        self.highest_known = last
            .max(buffered.unwrap_or(SequenceNumber::ZERO))
            .max(reassembling.unwrap_or(SequenceNumber::ZERO));
        self.suspect_held_at = None;
    }

    fn schedule_acknack(&mut self, now: Instant, cfg: &ReaderConfig) {
        let at = now.checked_add(cfg.heartbeat_response_delay).unwrap_or(now);
        let repeat = std::mem::take(&mut self.preemptive_pending);
        if std::mem::take(&mut self.renack_pending) || repeat {
            // A repeat was scheduled: this answer replaces it, no later than it.
            self.acknack_at = Some(self.acknack_at.map_or(at, |t| t.min(at)));
        } else if self.acknack_at.is_none() {
            self.acknack_at = Some(at);
        }
    }

    /// An ACKNACK that asks for missing samples: within `nack_delay` (or
    /// `heartbeat_response_delay` if shorter) but not sooner than `heartbeat_response_delay`
    /// after the last one that asked; sooner than an ACKNACK already scheduled, never later.
    fn schedule_nack(&mut self, now: Instant, cfg: &ReaderConfig) {
        let delay = cfg.nack_delay.min(cfg.heartbeat_response_delay);
        let mut at = now.checked_add(delay).unwrap_or(now);
        // At most one ACKNACK asking for samples per `nack_spacing`: repairs of what the last
        // one asked for may be in flight, and asking again at once would have them resent
        // (under congestion, a collapse).
        if let Some(t) = self
            .last_nack_at
            .and_then(|t| t.checked_add(cfg.nack_spacing))
        {
            at = at.max(t);
        }
        self.acknack_at = Some(self.acknack_at.map_or(at, |t| t.min(at)));
        self.renack_pending = false;
    }

    /// Irrelevant sequence numbers in `[from, to)`.
    fn irrelevant_count(&self, from: SequenceNumber, to: SequenceNumber) -> u64 {
        self.irrelevant
            .ranges_from(from.0)
            .take_while(|(s, _)| *s < to.0)
            .map(|(s, e)| u64::try_from(e.min(to.0) - s).unwrap_or(0))
            .fold(0u64, u64::saturating_add)
    }

    /// Some sequence number up to `highest_known` is neither delivered, buffered nor
    /// irrelevant (samples being reassembled count as missing).
    fn has_missing(&self) -> bool {
        self.not_buffered() > 0
    }

    /// How many sequence numbers from `next_expected` to `highest_known` are neither buffered
    /// nor irrelevant (0 when nothing is expected up to there).
    fn not_buffered(&self) -> u64 {
        if self.highest_known < self.next_expected {
            return 0;
        }
        let span = u64::try_from(self.highest_known.0 - self.next_expected.0)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let held = self.buffered.len() as u64;
        let irrelevant = self.irrelevant_count(self.next_expected, self.highest_known.next());
        span.saturating_sub(held.saturating_add(irrelevant))
    }

    /// A hole that was not asked for yet: sequence numbers up to `upto` newly heard of (above
    /// `known_before`, the highest known until now) and above what the last ACKNACK asked
    /// for, while some sample is missing altogether.
    fn new_hole(&self, known_before: SequenceNumber, upto: i64) -> bool {
        upto > known_before.0.max(self.nacked_high.0) && self.has_hole()
    }

    /// Some sequence number up to `highest_known` is missing altogether: not delivered,
    /// buffered, irrelevant nor being reassembled (a sample whose fragments are arriving is
    /// not a hole: its fragments may still be in flight).
    fn has_hole(&self) -> bool {
        let missing = self.not_buffered();
        if missing == 0 {
            return false;
        }
        let reassembling = self
            .reassemblies
            .range(self.next_expected..=self.highest_known)
            .count() as u64;
        missing > reassembling
    }

    /// The ACKNACK (and NACK_FRAGs) due now (RTPS 2.5 §8.4.12.2): base `next_expected`,
    /// bitmap = missing sequence numbers within 256, excluding samples being reassembled;
    /// a NACK_FRAG per such sample the writer has announced.
    pub(crate) fn build_acknack(&mut self, reader_id: EntityId) -> (AckNack, Vec<NackFrag>) {
        let base = self.next_expected;
        let mut set = SequenceNumberSet::new(base);
        let end = self.highest_known.0.min(base.0.saturating_add(255));
        let mut sn = base.0;
        while sn <= end {
            if let Some(run_end) = self.irrelevant.run_end(sn) {
                sn = run_end;
                continue;
            }
            let s = SequenceNumber(sn);
            if !self.buffered.contains_key(&s) && !self.reassemblies.contains_key(&s) {
                set.insert(s);
            }
            sn += 1;
        }
        let mut nack_frags = Vec::new();
        for (sn, r) in &self.reassemblies {
            let upto = if *sn <= self.announced {
                r.total()
            } else {
                r.last_fragment_announced
            };
            if let Some(missing) = r.missing(upto) {
                self.nack_frag_count = self.nack_frag_count.wrapping_add(1);
                nack_frags.push(NackFrag {
                    reader_id,
                    writer_id: self.guid().entity_id,
                    writer_sn: *sn,
                    fragment_number_state: missing,
                    count: self.nack_frag_count,
                });
            }
        }
        if self.preemptive
            && self.preemptive_base_zero
            && base == SequenceNumber(1)
            && set.is_empty()
            && nack_frags.is_empty()
        {
            set = SequenceNumberSet::new(SequenceNumber(0));
        }
        if !set.is_empty() {
            self.nacked_high = self.highest_known;
        }
        self.acknack_count = self.acknack_count.wrapping_add(1);
        let acknack = AckNack {
            reader_id,
            writer_id: self.guid().entity_id,
            reader_sn_state: set,
            count: self.acknack_count,
            // F clear ("answer me") when anything is missing, fragments included.
            final_flag: !self.preemptive && set.is_empty() && nack_frags.is_empty(),
        };
        self.preemptive = false;
        (acknack, nack_frags)
    }
}

/// The next interval of a repeat that doubles from `first` up to `max` (`last` zero: none yet).
fn back_off(last: Duration, first: Duration, max: Duration) -> Duration {
    if last.is_zero() {
        first
    } else {
        last.saturating_mul(2).min(max)
    }
}
