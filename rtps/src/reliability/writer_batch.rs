//! Assembling one writer transmit for one reader within a byte budget (RTPS 2.5 §8.4.9.2):
//! repairs (DATA, DATA_FRAG, GAP for NACKed changes), then new changes in sequence-number
//! order, each DATA preceded by INFO_TS when its timestamp differs from the previous one.
//!
//! The budget counts exact wire lengths; `CONTROL_RESERVE` bytes stay free for the HEARTBEAT
//! the writer may append, so a transmit never exceeds `max_transmit_size` unless a single
//! DATA or fragment is larger than it.

use super::fragment::{fragment_count, fragment_range};
use super::out::{InlineQos, OutData, OutDataFrag, OutSubmessage};
use super::ranges::RangeSet;
use super::reader_proxy::ReaderProxy;
use crate::history::{CacheChange, ChangeKind, HistoryCache};
use crate::wire::sets::SequenceNumberSet;
use crate::wire::submessage::Gap;
use crate::wire::{EntityId, Guid, SequenceNumber, Time};

/// Bytes kept free in each transmit for the HEARTBEAT after the data.
const CONTROL_RESERVE: usize = 32;

/// Submessages being gathered for one reader within a byte budget.
pub(crate) struct Batch {
    pub(crate) subs: Vec<OutSubmessage>,
    used: usize,
    budget: usize,
    /// The INFO_TS state so far in this transmit (None: no INFO_TS yet).
    timestamp: Option<Option<Time>>,
    reader_id: EntityId,
    writer_id: EntityId,
    pub(crate) data_count: u64,
    pub(crate) frag_count: u64,
    pub(crate) gap_count: u64,
}

impl Batch {
    pub(crate) fn new(max_transmit_size: usize, proxy: &ReaderProxy, writer: Guid) -> Self {
        Batch {
            subs: Vec::new(),
            used: 0,
            budget: max_transmit_size.saturating_sub(CONTROL_RESERVE),
            timestamp: None,
            reader_id: proxy.guid().entity_id,
            writer_id: writer.entity_id,
            data_count: 0,
            frag_count: 0,
            gap_count: 0,
        }
    }

    /// Room for `len` more bytes (always for the first submessage).
    fn fits(&self, len: usize) -> bool {
        self.subs.is_empty() || self.used.saturating_add(len) <= self.budget
    }

    fn remaining(&self) -> usize {
        self.budget.saturating_sub(self.used)
    }

    /// INFO_TS needed before a DATA with this timestamp, and its length.
    fn timestamp_len(&self, ts: Option<Time>) -> usize {
        match (self.timestamp, ts) {
            (None, None) => 0,
            (Some(prev), ts) if prev == ts => 0,
            (_, Some(_)) => 12,
            (Some(_), None) => 4,
        }
    }

    fn push_data(&mut self, s: OutSubmessage, len: usize, ts: Option<Time>, is_frag: bool) {
        if self.timestamp_len(ts) > 0 {
            self.subs.push(OutSubmessage::InfoTimestamp(ts));
        }
        self.timestamp = Some(ts);
        self.used = self.used.saturating_add(len);
        self.subs.push(s);
        self.data_count += 1;
        if is_frag {
            self.frag_count += 1;
        }
    }

    /// GAP for `[start, end)` (RTPS 2.5 §8.3.7.4: gapStart up to gapList.base - 1); false
    /// when the budget is used up.
    fn push_gap(&mut self, start: SequenceNumber, end: SequenceNumber) -> bool {
        if start >= end {
            return true;
        }
        let g = OutSubmessage::Gap(Gap {
            reader_id: self.reader_id,
            writer_id: self.writer_id,
            gap_start: start,
            gap_list: SequenceNumberSet::new(end),
        });
        let len = g.wire_len();
        if !self.subs.is_empty() && self.used.saturating_add(len) > self.budget {
            return false;
        }
        self.subs.push(g);
        self.used = self.used.saturating_add(len);
        self.gap_count += 1;
        true
    }

    /// Try to add one DATA for `change`; false when the budget is used up.
    fn try_data(&mut self, change: &CacheChange) -> bool {
        let d = OutSubmessage::Data(OutData {
            reader_id: self.reader_id,
            writer_id: self.writer_id,
            writer_sn: change.sn,
            inline_qos: InlineQos::for_change(change.kind, change.key_hash),
            payload: (change.kind == ChangeKind::Alive || !change.payload.is_empty())
                .then(|| change.payload.clone()),
            is_key: change.kind != ChangeKind::Alive,
        });
        let len = d.wire_len() + self.timestamp_len(change.source_timestamp);
        if !self.fits(len) {
            return false;
        }
        self.push_data(d, len, change.source_timestamp, false);
        true
    }

    /// Add DATA_FRAGs for fragments `[from, to)` of `change`; returns the first fragment not
    /// sent (== `to` when all went).
    fn try_fragments(&mut self, change: &CacheChange, fs: usize, from: u32, to: u32) -> u32 {
        let size = change.payload.len();
        let qos = InlineQos::for_change(change.kind, change.key_hash);
        let mut n = from;
        while n < to {
            // DATA_FRAG header (36) + inline QoS + padding (<= 3) + INFO_TS if needed.
            let overhead = 36 + qos.wire_len() + 3 + self.timestamp_len(change.source_timestamp);
            let room = self.remaining().saturating_sub(overhead) / fs;
            let count = if self.subs.is_empty() {
                room.max(1)
            } else {
                room
            };
            let count = u32::try_from(count)
                .unwrap_or(u32::MAX)
                .min(to - n)
                .min(u32::from(u16::MAX));
            if count == 0 {
                break;
            }
            let (Some(first), Some(last)) = (
                fragment_range(size, fs, n),
                fragment_range(size, fs, n + count - 1),
            ) else {
                break;
            };
            let bytes = change.payload.slice(first.start..last.end);
            let s = OutSubmessage::DataFrag(OutDataFrag {
                reader_id: self.reader_id,
                writer_id: self.writer_id,
                writer_sn: change.sn,
                fragment_starting_num: n,
                fragments_in_submessage: u16::try_from(count).unwrap_or(u16::MAX),
                fragment_size: u16::try_from(fs).unwrap_or(u16::MAX),
                sample_size: u32::try_from(size).unwrap_or(u32::MAX),
                inline_qos: qos,
                is_key: change.kind != ChangeKind::Alive,
                fragments: bytes,
            });
            let len = s.wire_len() + self.timestamp_len(change.source_timestamp);
            self.push_data(s, len, change.source_timestamp, true);
            n += count;
        }
        n
    }
}

fn is_fragmented(change: &CacheChange, fs: usize) -> bool {
    change.payload.len() > fs
}

/// Resend NACKed changes: DATA if held, GAP if not (or never for this reader); fragmented
/// changes become fragment requests.
pub(crate) fn repair_changes(
    b: &mut Batch,
    proxy: &mut ReaderProxy,
    history: &HistoryCache,
    fs: usize,
) {
    // Each iteration removes at least one sequence number or stops.
    while let Some(first) = proxy.requested.first() {
        let sn = SequenceNumber(first);
        let run_end = proxy.requested.run_end(first).unwrap_or(first + 1);
        if sn < proxy.first_relevant {
            let end = run_end.min(proxy.first_relevant.0);
            if !b.push_gap(sn, SequenceNumber(end)) {
                return;
            }
            proxy.requested.remove_range(first, end);
            continue;
        }
        let Some(change) = history.get(sn) else {
            let next_held = history.next_at_or_after(sn).map_or(i64::MAX, |s| s.0);
            let end = run_end.min(next_held);
            if !b.push_gap(sn, SequenceNumber(end)) {
                return;
            }
            proxy.requested.remove_range(first, end);
            continue;
        };
        if is_fragmented(change, fs) {
            let total = fragment_count(change.payload.len(), fs);
            proxy
                .requested_frags
                .entry(sn)
                .or_insert_with(|| RangeSet::new(1024))
                .insert_range(1, i64::from(total) + 1);
            proxy.requested.remove_range(first, first + 1);
            continue;
        }
        if !b.try_data(change) {
            return;
        }
        proxy.requested.remove_range(first, first + 1);
    }
}

/// Resend NACKed fragments.
pub(crate) fn repair_fragments(
    b: &mut Batch,
    proxy: &mut ReaderProxy,
    history: &HistoryCache,
    fs: usize,
) {
    let sns: Vec<SequenceNumber> = proxy.requested_frags.keys().copied().collect();
    for sn in sns {
        let Some(change) = history.get(sn).filter(|c| is_fragmented(c, fs)) else {
            if !b.push_gap(sn, sn.next()) {
                return;
            }
            proxy.requested_frags.remove(&sn);
            continue;
        };
        let Some(set) = proxy.requested_frags.get_mut(&sn) else {
            continue;
        };
        // Only fragments that exist can be sent; anything else is forgotten.
        let total = fragment_count(change.payload.len(), fs);
        set.remove_range(i64::from(total) + 1, i64::MAX);
        set.remove_below(1);
        let ranges: Vec<(i64, i64)> = set.ranges().collect();
        for (start, end) in ranges {
            let from = u32::try_from(start).unwrap_or(u32::MAX);
            let to = u32::try_from(end).unwrap_or(u32::MAX);
            let next = b.try_fragments(change, fs, from, to);
            set.remove_range(start, i64::from(next));
            if next < to {
                return;
            }
        }
        if set.is_empty() {
            proxy.requested_frags.remove(&sn);
        }
    }
}

/// Push changes after `highest_sent`; returns whether anything was sent.
pub(crate) fn push_new_changes(
    b: &mut Batch,
    proxy: &mut ReaderProxy,
    history: &HistoryCache,
    last_sn: SequenceNumber,
    fs: usize,
) -> bool {
    let mut sent = false;
    while proxy.highest_sent < last_sn {
        let sn = proxy.highest_sent.next();
        let Some(change) = history.get(sn) else {
            // Not held (KEEP_LAST overwrite, or acknowledged and removed): GAP to a reliable
            // reader, skip for a best-effort one.
            let end = history.next_at_or_after(sn).unwrap_or(last_sn.next());
            if proxy.reliable {
                if !b.push_gap(sn, end) {
                    return sent;
                }
                sent = true;
            }
            proxy.highest_sent = SequenceNumber(end.0 - 1);
            proxy.next_fragment = 1;
            continue;
        };
        if is_fragmented(change, fs) {
            let total = fragment_count(change.payload.len(), fs);
            let from = proxy.next_fragment.max(1);
            let next = b.try_fragments(change, fs, from, total + 1);
            sent |= next > from;
            if next <= total {
                proxy.next_fragment = next;
                return sent;
            }
            proxy.highest_sent = sn;
            proxy.next_fragment = 1;
            continue;
        }
        if !b.try_data(change) {
            return sent;
        }
        sent = true;
        proxy.highest_sent = sn;
    }
    sent
}
