//! The writer's history cache (RTPS 2.5 §8.2.2, §8.4.7): changes ordered by sequence number,
//! with KEEP_LAST(n) / KEEP_ALL history and a resource limit (DDS 1.4 §2.2.3.18-19).
//!
//! Payloads are [`Bytes`], so sending one change to many readers, and cutting it into
//! fragments, never copies it. Sequence numbers are assigned by the writer; the cache only
//! stores, evicts (KEEP_LAST) and refuses (KEEP_ALL at `max_samples`). Instances are told
//! apart by their key hash; a keyless topic has the one instance `None`.

use core::fmt;
use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;

use crate::wire::{SequenceNumber, Time};

/// What a change does to its instance (RTPS 2.5 §8.2.1.2, `ChangeKind_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChangeKind {
    /// A new value for the instance.
    #[default]
    Alive,
    /// The instance was disposed (`PID_STATUS_INFO` disposed bit).
    NotAliveDisposed,
    /// The instance was unregistered (`PID_STATUS_INFO` unregistered bit).
    NotAliveUnregistered,
    /// Disposed and unregistered at once (both bits).
    NotAliveDisposedUnregistered,
}

impl ChangeKind {
    /// `PID_STATUS_INFO` flags (RTPS 2.5 §9.6.4.9): disposed 0x1, unregistered 0x2.
    pub fn status_info(self) -> u8 {
        match self {
            ChangeKind::Alive => 0,
            ChangeKind::NotAliveDisposed => 0x1,
            ChangeKind::NotAliveUnregistered => 0x2,
            ChangeKind::NotAliveDisposedUnregistered => 0x3,
        }
    }

    /// From `PID_STATUS_INFO` flags (the filtered bit 0x4 is the caller's business).
    pub fn from_status_info(flags: u8) -> Self {
        match flags & 0x3 {
            0x1 => ChangeKind::NotAliveDisposed,
            0x2 => ChangeKind::NotAliveUnregistered,
            0x3 => ChangeKind::NotAliveDisposedUnregistered,
            _ => ChangeKind::Alive,
        }
    }
}

/// A change in a history cache (RTPS 2.5 §8.2.7, `CacheChange`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheChange {
    /// Sequence number assigned by the writer.
    pub sn: SequenceNumber,
    /// Alive or not-alive.
    pub kind: ChangeKind,
    /// Instance key hash (`PID_KEY_HASH`); `None` for keyless topics.
    pub key_hash: Option<[u8; 16]>,
    /// Source timestamp (sent in INFO_TS).
    pub source_timestamp: Option<Time>,
    /// Serialized payload with its 4-byte encapsulation header (opaque here); for a not-alive
    /// change, the serialized key or empty.
    pub payload: Bytes,
}

/// History kind (DDS 1.4 §2.2.3.18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryKind {
    /// Keep the last `depth` changes per instance (`depth` 0 is treated as 1).
    KeepLast {
        /// Changes kept per instance.
        depth: u32,
    },
    /// Keep every change until it is removed (acknowledged, for a volatile writer).
    KeepAll,
}

impl Default for HistoryKind {
    fn default() -> Self {
        HistoryKind::KeepLast { depth: 1 }
    }
}

/// Resource limits (DDS 1.4 §2.2.3.19); `None` = unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ResourceLimits {
    /// Most changes held at once.
    pub max_samples: Option<usize>,
    /// Most instances held at once.
    pub max_instances: Option<usize>,
}

/// Why a change was not added (DDS 1.4 §2.2.2.4.2.11, `RETCODE_OUT_OF_RESOURCES`/`TIMEOUT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HistoryError {
    /// KEEP_ALL history at `max_samples`: the caller waits for acknowledgments or fails.
    Full,
    /// `max_instances` reached with a new instance.
    TooManyInstances,
    /// Sequence number not above every sequence number in the cache.
    OutOfOrder,
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HistoryError::Full => "history full (KEEP_ALL at max_samples)",
            HistoryError::TooManyInstances => "too many instances (max_instances)",
            HistoryError::OutOfOrder => "sequence number not increasing",
        })
    }
}

impl std::error::Error for HistoryError {}

/// A history cache (RTPS 2.5 §8.2.2, `HistoryCache`).
#[derive(Debug, Clone)]
pub struct HistoryCache {
    kind: HistoryKind,
    limits: ResourceLimits,
    changes: BTreeMap<SequenceNumber, CacheChange>,
    /// Per instance, its sequence numbers in the cache, oldest first.
    instances: BTreeMap<Option<[u8; 16]>, VecDeque<SequenceNumber>>,
    payload_bytes: usize,
}

impl HistoryCache {
    /// An empty cache.
    pub fn new(kind: HistoryKind, limits: ResourceLimits) -> Self {
        HistoryCache {
            kind,
            limits,
            changes: BTreeMap::new(),
            instances: BTreeMap::new(),
            payload_bytes: 0,
        }
    }

    /// The history kind.
    pub fn kind(&self) -> HistoryKind {
        self.kind
    }

    /// Number of changes held.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// True when no change is held.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Total payload bytes held.
    pub fn payload_bytes(&self) -> usize {
        self.payload_bytes
    }

    /// True when a KEEP_ALL cache is at `max_samples` (a KEEP_LAST cache never is: it evicts).
    pub fn is_full(&self) -> bool {
        match (self.kind, self.limits.max_samples) {
            (HistoryKind::KeepAll, Some(max)) => self.changes.len() >= max,
            _ => false,
        }
    }

    /// Add a change whose sequence number is above every one held (RTPS 2.5 §8.2.2.2
    /// `add_change`). KEEP_LAST evicts the instance's oldest change at `depth` and the oldest
    /// change overall at `max_samples`; KEEP_ALL refuses with [`HistoryError::Full`].
    /// Returns the sequence numbers evicted.
    pub fn add_change(&mut self, change: CacheChange) -> Result<Vec<SequenceNumber>, HistoryError> {
        if self.max_sn().is_some_and(|max| change.sn <= max) {
            return Err(HistoryError::OutOfOrder);
        }
        let instance_known = self.instances.contains_key(&change.key_hash);
        if !instance_known
            && self
                .limits
                .max_instances
                .is_some_and(|max| self.instances.len() >= max)
        {
            return Err(HistoryError::TooManyInstances);
        }
        if self.is_full() {
            return Err(HistoryError::Full);
        }
        let mut evicted = Vec::new();
        if let HistoryKind::KeepLast { depth } = self.kind {
            let depth = usize::try_from(depth.max(1)).unwrap_or(usize::MAX);
            let oldest_of_instance: Vec<SequenceNumber> = self
                .instances
                .get(&change.key_hash)
                .map(|q| {
                    let excess = (q.len() + 1).saturating_sub(depth);
                    q.iter().take(excess).copied().collect()
                })
                .unwrap_or_default();
            for sn in oldest_of_instance {
                if self.remove(sn).is_some() {
                    evicted.push(sn);
                }
            }
            if let Some(max) = self.limits.max_samples {
                while self.changes.len() >= max.max(1) {
                    let Some(sn) = self.min_sn() else { break };
                    if self.remove(sn).is_some() {
                        evicted.push(sn);
                    }
                }
            }
        }
        self.payload_bytes = self.payload_bytes.saturating_add(change.payload.len());
        self.instances
            .entry(change.key_hash)
            .or_default()
            .push_back(change.sn);
        self.changes.insert(change.sn, change);
        Ok(evicted)
    }

    /// The change with this sequence number.
    pub fn get(&self, sn: SequenceNumber) -> Option<&CacheChange> {
        self.changes.get(&sn)
    }

    /// Remove one change (RTPS 2.5 §8.2.2.3 `remove_change`).
    pub fn remove(&mut self, sn: SequenceNumber) -> Option<CacheChange> {
        let change = self.changes.remove(&sn)?;
        self.payload_bytes = self.payload_bytes.saturating_sub(change.payload.len());
        if let Some(q) = self.instances.get_mut(&change.key_hash) {
            // The oldest change goes first almost always: keep that O(1).
            if q.front() == Some(&sn) {
                q.pop_front();
            } else {
                q.retain(|s| *s != sn);
            }
            if q.is_empty() {
                self.instances.remove(&change.key_hash);
            }
        }
        Some(change)
    }

    /// Remove every change with a sequence number below `sn`; returns how many.
    pub fn remove_below(&mut self, sn: SequenceNumber) -> usize {
        let doomed: Vec<SequenceNumber> = self.changes.range(..sn).map(|(s, _)| *s).collect();
        doomed
            .into_iter()
            .filter(|s| self.remove(*s).is_some())
            .count()
    }

    /// Lowest sequence number held (RTPS 2.5 §8.2.2.4 `get_seq_num_min`).
    pub fn min_sn(&self) -> Option<SequenceNumber> {
        self.changes.keys().next().copied()
    }

    /// Highest sequence number held (RTPS 2.5 §8.2.2.5 `get_seq_num_max`).
    pub fn max_sn(&self) -> Option<SequenceNumber> {
        self.changes.keys().next_back().copied()
    }

    /// The changes with sequence numbers in `range`, ascending.
    pub fn range(
        &self,
        range: impl core::ops::RangeBounds<SequenceNumber>,
    ) -> impl Iterator<Item = &CacheChange> + '_ {
        self.changes.range(range).map(|(_, c)| c)
    }

    /// Every change, ascending.
    pub fn iter(&self) -> impl Iterator<Item = &CacheChange> + '_ {
        self.changes.values()
    }

    /// The next sequence number held at or after `sn`.
    pub fn next_at_or_after(&self, sn: SequenceNumber) -> Option<SequenceNumber> {
        self.changes.range(sn..).next().map(|(s, _)| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(sn: i64, key: Option<u8>) -> CacheChange {
        CacheChange {
            sn: SequenceNumber(sn),
            kind: ChangeKind::Alive,
            key_hash: key.map(|k| [k; 16]),
            source_timestamp: None,
            payload: Bytes::from(vec![0u8; 4]),
        }
    }

    fn sns(h: &HistoryCache) -> Vec<i64> {
        h.iter().map(|c| c.sn.0).collect()
    }

    #[test]
    fn keep_last_keeps_the_newest_changes_per_instance() {
        let mut h = HistoryCache::new(
            HistoryKind::KeepLast { depth: 2 },
            ResourceLimits::default(),
        );
        for sn in 1..=3 {
            h.add_change(change(sn, Some(1))).unwrap();
        }
        let evicted = h.add_change(change(4, Some(2))).unwrap();
        assert!(evicted.is_empty());
        let evicted = h.add_change(change(5, Some(1))).unwrap();
        assert_eq!(evicted, vec![SequenceNumber(2)]);
        assert_eq!(sns(&h), vec![3, 4, 5]);
        assert_eq!(h.payload_bytes(), 12);
    }

    #[test]
    fn keyless_topics_are_one_instance() {
        let mut h = HistoryCache::new(
            HistoryKind::KeepLast { depth: 1 },
            ResourceLimits::default(),
        );
        h.add_change(change(1, None)).unwrap();
        h.add_change(change(2, None)).unwrap();
        assert_eq!(sns(&h), vec![2]);
        assert!(!h.is_full());
    }

    #[test]
    fn keep_all_refuses_at_max_samples_and_accepts_after_removal() {
        let limits = ResourceLimits {
            max_samples: Some(2),
            max_instances: None,
        };
        let mut h = HistoryCache::new(HistoryKind::KeepAll, limits);
        h.add_change(change(1, None)).unwrap();
        h.add_change(change(2, None)).unwrap();
        assert!(h.is_full());
        assert_eq!(h.add_change(change(3, None)), Err(HistoryError::Full));
        assert_eq!(h.remove_below(SequenceNumber(2)), 1);
        h.add_change(change(3, None)).unwrap();
        assert_eq!(sns(&h), vec![2, 3]);
    }

    #[test]
    fn keep_last_evicts_the_oldest_change_at_max_samples() {
        let limits = ResourceLimits {
            max_samples: Some(2),
            max_instances: None,
        };
        let mut h = HistoryCache::new(HistoryKind::KeepLast { depth: 5 }, limits);
        for sn in 1..=3 {
            h.add_change(change(sn, Some(sn as u8))).unwrap();
        }
        assert_eq!(sns(&h), vec![2, 3]);
    }

    #[test]
    fn rejects_decreasing_sequence_numbers_and_too_many_instances() {
        let limits = ResourceLimits {
            max_samples: None,
            max_instances: Some(1),
        };
        let mut h = HistoryCache::new(HistoryKind::KeepAll, limits);
        h.add_change(change(5, Some(1))).unwrap();
        assert_eq!(
            h.add_change(change(5, Some(1))),
            Err(HistoryError::OutOfOrder)
        );
        assert_eq!(
            h.add_change(change(6, Some(2))),
            Err(HistoryError::TooManyInstances)
        );
        assert_eq!(
            h.next_at_or_after(SequenceNumber(1)),
            Some(SequenceNumber(5))
        );
        assert_eq!(h.range(SequenceNumber(6)..).count(), 0);
    }
}
