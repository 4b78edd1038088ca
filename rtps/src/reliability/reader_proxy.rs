//! A writer's state for one matched remote reader (RTPS 2.5 §8.4.7.5 `ReaderProxy`,
//! §8.4.9.2 reliable behaviour): what was sent, what is acknowledged, what was asked for again.
//!
//! The proxy keeps sequence numbers as three marks plus two small sets instead of one
//! `ChangeForReader` per change: every change `<= highest_sent` was sent (or GAPped) once,
//! every change `< acked_below` is acknowledged, and `requested` / `requested_frags` hold what
//! the reader NACKed. Changes below `first_relevant` were never meant for this reader (a
//! VOLATILE reader matched late) and are answered with GAP.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::ranges::RangeSet;
use crate::wire::submessage::{AckNack, NackFrag};
use crate::wire::{Guid, Locator, SequenceNumber};

/// Most sequence-number ranges remembered as requested per reader.
const MAX_REQUESTED_RANGES: usize = 1024;
/// Most samples with outstanding fragment requests per reader.
const MAX_REQUESTED_FRAG_SAMPLES: usize = 64;
/// Most fragment ranges remembered per sample.
const MAX_REQUESTED_FRAG_RANGES: usize = 1024;

/// A remote reader as matched by discovery (RTPS 2.5 §8.4.7.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderProxyConfig {
    /// The remote reader's GUID.
    pub remote_reader_guid: Guid,
    /// The reader is RELIABLE (it sends ACKNACK); ignored when the writer is best-effort.
    pub reliable: bool,
    /// The reader's durability is at least TRANSIENT_LOCAL (it wants the writer's history).
    pub durable: bool,
    /// The reader asked for inline QoS (`PID_EXPECTS_INLINE_QOS`).
    pub expects_inline_qos: bool,
    /// Where to send to it (unicast first, then multicast).
    pub locators: Vec<Locator>,
}

/// Outcome of an ACKNACK or NACK_FRAG for the writer's bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NackOutcome {
    /// Count not above the last one seen: ignored.
    Stale,
    /// Processed.
    Accepted,
}

/// The writer's state for one remote reader.
#[derive(Debug, Clone)]
pub(crate) struct ReaderProxy {
    pub(crate) config: ReaderProxyConfig,
    /// Reliable exchange (writer and reader both reliable).
    pub(crate) reliable: bool,
    /// Changes below this were never for this reader.
    pub(crate) first_relevant: SequenceNumber,
    /// Every change up to here was sent (or GAPped) once.
    pub(crate) highest_sent: SequenceNumber,
    /// For change `highest_sent + 1` being sent in fragments: the next fragment (1-based).
    pub(crate) next_fragment: u32,
    /// Every change below this is acknowledged.
    pub(crate) acked_below: SequenceNumber,
    /// The base of the reader's last ACKNACK (zero before the first): a later base below it
    /// means the reader lost its state (see `on_acknack`).
    reader_acked: SequenceNumber,
    /// Sequence numbers NACKed and not yet resent.
    pub(crate) requested: RangeSet,
    /// Fragments NACKed per sample and not yet resent.
    pub(crate) requested_frags: BTreeMap<SequenceNumber, RangeSet>,
    /// When requested repairs may go out (nack_response_delay after the first NACK).
    pub(crate) repair_at: Option<Instant>,
    /// Put a HEARTBEAT in the next transmit.
    pub(crate) heartbeat_due: bool,
    last_acknack_count: Option<u32>,
    last_nack_frag_count: Option<u32>,
}

impl ReaderProxy {
    /// A proxy for a reader matched when the writer's last sequence number is `last_sn`.
    /// A durable reader of a TRANSIENT_LOCAL writer starts from 1 (the whole history); any
    /// other starts after `last_sn`.
    pub(crate) fn new(
        config: ReaderProxyConfig,
        writer_reliable: bool,
        writer_durable: bool,
        last_sn: SequenceNumber,
    ) -> Self {
        let reliable = writer_reliable && config.reliable;
        let first_relevant = if writer_durable && config.durable {
            SequenceNumber(1)
        } else {
            last_sn.next()
        };
        ReaderProxy {
            config,
            reliable,
            first_relevant,
            highest_sent: SequenceNumber(first_relevant.0.saturating_sub(1)),
            next_fragment: 1,
            acked_below: first_relevant,
            reader_acked: SequenceNumber::ZERO,
            requested: RangeSet::new(MAX_REQUESTED_RANGES),
            requested_frags: BTreeMap::new(),
            repair_at: None,
            heartbeat_due: reliable,
            last_acknack_count: None,
            last_nack_frag_count: None,
        }
    }

    /// The remote reader's GUID.
    pub(crate) fn guid(&self) -> Guid {
        self.config.remote_reader_guid
    }

    /// Some sent or unsent change is not acknowledged yet.
    pub(crate) fn has_unacked(&self, last_sn: SequenceNumber) -> bool {
        self.reliable && self.acked_below <= last_sn
    }

    /// Repairs are waiting.
    pub(crate) fn has_repairs(&self) -> bool {
        !self.requested.is_empty() || !self.requested_frags.is_empty()
    }

    fn schedule_repair(&mut self, now: Instant, delay: Duration) {
        if self.repair_at.is_none() {
            self.repair_at = Some(now.checked_add(delay).unwrap_or(now));
        }
    }

    /// Apply an ACKNACK (RTPS 2.5 §8.4.9.2.8, §8.4.15.2): positive acks below the base,
    /// NACKs in the bitmap. Bases are clamped to `[1, last_sn + 1]`, which tolerates Fast
    /// DDS's pre-emptive base 0 and Cyclone's base 1 with no bits.
    pub(crate) fn on_acknack(
        &mut self,
        now: Instant,
        acknack: &AckNack,
        last_sn: SequenceNumber,
        nack_response_delay: Duration,
    ) -> NackOutcome {
        // A count at most 8 behind the last is a duplicate or reordered; one further behind
        // is taken, so that a forged count far ahead does not lock the reader out (issue 11).
        if self
            .last_acknack_count
            .is_some_and(|last| last.wrapping_sub(acknack.count) < 8)
        {
            return NackOutcome::Stale;
        }
        self.last_acknack_count = Some(acknack.count);
        let base = SequenceNumber(acknack.reader_sn_state.base.0.clamp(1, last_sn.next().0));
        if base > self.acked_below {
            self.acked_below = base;
            self.requested.remove_below(base.0);
            self.requested_frags = self.requested_frags.split_off(&base);
        } else if base < self.reader_acked {
            // The reader acknowledges less than it did: it lost its state for this writer
            // (its participant declared ours lost, say after a pause past the lease, and
            // found it again, while we kept it). RTPS has no message for that; Fast DDS's
            // builtin writers treat it so too. Its changes from `base` on count as
            // unacknowledged again: HEARTBEATs resume and its NACKs get them resent, where
            // otherwise it would wait for ever for discovery data it already had.
            self.acked_below = base.max(self.first_relevant);
        }
        self.reader_acked = base;
        if self.acked_below.0 - 1 > self.highest_sent.0 {
            self.highest_sent = SequenceNumber(self.acked_below.0 - 1);
            self.next_fragment = 1;
        }
        let mut nacked = false;
        for sn in acknack.reader_sn_state.iter() {
            if sn.0 >= 1 && sn <= self.highest_sent && sn >= base {
                self.requested.insert(sn.0);
                nacked = true;
            }
        }
        if nacked {
            self.schedule_repair(now, nack_response_delay);
        } else if !acknack.final_flag {
            // A non-final ACKNACK asks for an answer (RTPS 2.5 §8.3.7.1): a HEARTBEAT.
            self.heartbeat_due = true;
        }
        NackOutcome::Accepted
    }

    /// Apply a NACK_FRAG for a sample of `total_fragments` fragments (RTPS 2.5 §8.3.7.11,
    /// §8.4.14.1). Fragments not sent yet (of the sample being sent) are not requested.
    /// `total_fragments` 0 (a change not held, or not fragmented) requests the whole change,
    /// which is answered with DATA or GAP.
    pub(crate) fn on_nack_frag(
        &mut self,
        now: Instant,
        nack_frag: &NackFrag,
        total_fragments: u32,
        nack_response_delay: Duration,
    ) -> NackOutcome {
        if self
            .last_nack_frag_count
            .is_some_and(|last| nack_frag.count <= last)
        {
            return NackOutcome::Stale;
        }
        self.last_nack_frag_count = Some(nack_frag.count);
        let sn = nack_frag.writer_sn;
        if sn < self.acked_below || sn.0 < 1 {
            return NackOutcome::Accepted;
        }
        if total_fragments == 0 {
            if sn <= self.highest_sent {
                self.requested.insert(sn.0);
                self.schedule_repair(now, nack_response_delay);
            }
            return NackOutcome::Accepted;
        }
        let limit = if sn <= self.highest_sent {
            total_fragments
        } else if sn == self.highest_sent.next() {
            self.next_fragment.saturating_sub(1).min(total_fragments)
        } else {
            0
        };
        if limit == 0 {
            return NackOutcome::Accepted;
        }
        if !self.requested_frags.contains_key(&sn)
            && self.requested_frags.len() >= MAX_REQUESTED_FRAG_SAMPLES
        {
            return NackOutcome::Accepted;
        }
        let set = self
            .requested_frags
            .entry(sn)
            .or_insert_with(|| RangeSet::new(MAX_REQUESTED_FRAG_RANGES));
        for n in nack_frag.fragment_number_state.iter() {
            if n >= 1 && n <= limit {
                set.insert(i64::from(n));
            }
        }
        if set.is_empty() {
            self.requested_frags.remove(&sn);
        } else {
            self.schedule_repair(now, nack_response_delay);
        }
        NackOutcome::Accepted
    }
}
