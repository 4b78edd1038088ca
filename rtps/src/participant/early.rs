//! A bounded hold for user DATA / DATA_FRAG that arrives before its writer's SEDP
//! announcement (a writer created on demand sends the announcement to the metatraffic port
//! and its first DATA to the user port at the same time; the two ports are read
//! independently, so the DATA may be handled first).
//!
//! Only traffic from a remote participant we already know is held, only while its writer is
//! unknown, and within caps in entries, bytes (total and per writer) and age: a hostile
//! sender cannot make it grow. A submessage that does not fit is remembered as a hint (its
//! writer and sequence number, no payload), so the reader's pre-emptive ACKNACK can ask for
//! it at the match (RTPS 2.5 §8.4.12.2). When the writer's announcement arrives, the held
//! submessages are replayed into the readers it matched, in arrival order.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::Stats;
use crate::wire::{EntityId, Guid, GuidPrefix, SequenceNumber, Time};

/// Caps of the early-data hold (`ParticipantConfig::early_data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlyDataLimits {
    /// Most submessages (held or hints) remembered at once; 0 disables the hold and hints.
    pub max_entries: usize,
    /// Most bytes held in total; 0 keeps hints only.
    pub max_bytes: usize,
    /// Most bytes held for one writer.
    pub max_writer_bytes: usize,
    /// How long a submessage is held.
    pub max_age: Duration,
}

impl Default for EarlyDataLimits {
    fn default() -> Self {
        EarlyDataLimits {
            max_entries: 256,
            max_bytes: 512 << 10,
            max_writer_bytes: 128 << 10,
            max_age: Duration::from_millis(1500),
        }
    }
}

/// One submessage received from a writer not yet announced.
#[derive(Debug, Clone)]
pub(super) struct Held {
    pub(super) writer: Guid,
    pub(super) reader_id: EntityId,
    pub(super) sn: SequenceNumber,
    pub(super) timestamp: Option<Time>,
    /// The submessage as received (header included), or `None` for a hint.
    pub(super) raw: Option<Bytes>,
    at: Instant,
}

/// The hold itself.
#[derive(Debug, Default)]
pub(super) struct EarlyData {
    limits: EarlyDataLimits,
    entries: VecDeque<Held>,
    bytes: usize,
}

impl EarlyData {
    pub(super) fn new(limits: EarlyDataLimits) -> Self {
        EarlyData {
            limits,
            entries: VecDeque::new(),
            bytes: 0,
        }
    }

    /// Bytes held now.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Entries (held and hints) now.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    fn forget(&mut self, h: &Held, stats: &mut Stats) {
        if let Some(raw) = &h.raw {
            self.bytes = self.bytes.saturating_sub(raw.len());
            stats.early_data_dropped += 1;
        }
    }

    /// Hold `raw` (a DATA or DATA_FRAG from `writer`, addressed to `reader_id`), or keep a
    /// hint of it when it does not fit.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn hold(
        &mut self,
        now: Instant,
        writer: Guid,
        reader_id: EntityId,
        sn: SequenceNumber,
        timestamp: Option<Time>,
        raw: &[u8],
        stats: &mut Stats,
    ) {
        self.expire(now, stats);
        if self.limits.max_entries == 0 {
            stats.early_data_dropped += 1;
            return;
        }
        while self.entries.len() >= self.limits.max_entries {
            if let Some(old) = self.entries.pop_front() {
                self.forget(&old, stats);
            }
        }
        let writer_bytes: usize = self
            .entries
            .iter()
            .filter(|h| h.writer == writer)
            .filter_map(|h| h.raw.as_ref().map(Bytes::len))
            .sum();
        let fits = raw.len() <= self.limits.max_bytes.saturating_sub(self.bytes)
            && raw.len() <= self.limits.max_writer_bytes.saturating_sub(writer_bytes);
        let raw = if fits {
            stats.early_data_held += 1;
            self.bytes += raw.len();
            Some(Bytes::copy_from_slice(raw))
        } else {
            stats.early_data_dropped += 1;
            None
        };
        self.entries.push_back(Held {
            writer,
            reader_id,
            sn,
            timestamp,
            raw,
            at: now,
        });
    }

    /// Forget what is older than `max_age`.
    pub(super) fn expire(&mut self, now: Instant, stats: &mut Stats) {
        while let Some(h) = self.entries.front() {
            if now.saturating_duration_since(h.at) < self.limits.max_age {
                break;
            }
            if let Some(h) = self.entries.pop_front() {
                self.forget(&h, stats);
            }
        }
    }

    /// Take everything held from `writer`, oldest first.
    pub(super) fn take(&mut self, writer: Guid) -> Vec<Held> {
        if !self.entries.iter().any(|h| h.writer == writer) {
            return Vec::new();
        }
        let (mine, rest): (VecDeque<Held>, VecDeque<Held>) =
            self.entries.drain(..).partition(|h| h.writer == writer);
        self.entries = rest;
        for h in &mine {
            if let Some(raw) = &h.raw {
                self.bytes = self.bytes.saturating_sub(raw.len());
            }
        }
        mine.into()
    }

    /// Forget everything from participant `prefix` (it went away).
    pub(super) fn drop_participant(&mut self, prefix: GuidPrefix, stats: &mut Stats) {
        let (gone, rest): (VecDeque<Held>, VecDeque<Held>) = self
            .entries
            .drain(..)
            .partition(|h| h.writer.prefix == prefix);
        self.entries = rest;
        for h in &gone {
            self.forget(h, stats);
        }
    }
}
