//! Fragmenting a large sample into DATA_FRAG and reassembling it (RTPS 2.5 §8.3.7.3,
//! §8.4.14.1).
//!
//! Fragment numbers are 1-based. A sample of `sample_size` bytes cut at `fragment_size` has
//! `ceil(sample_size / fragment_size)` fragments; all but the last are `fragment_size` long.
//! The reassembly buffer is allocated once at the announced sample size (the caller caps it
//! first) and each fragment is copied into place once; the finished buffer becomes the
//! sample's [`Bytes`] without another copy. A bitmap (one bit per fragment) tracks what has
//! arrived, so hostile fragment orders cost no more memory than the buffer / 8.

use bytes::Bytes;

use crate::history::ChangeKind;
use crate::wire::sets::FragmentNumberSet;
use crate::wire::Time;

/// Number of fragments of a `sample_size`-byte sample cut at `fragment_size` (0 if either is 0).
pub fn fragment_count(sample_size: usize, fragment_size: usize) -> u32 {
    if fragment_size == 0 {
        return 0;
    }
    u32::try_from(sample_size.div_ceil(fragment_size)).unwrap_or(u32::MAX)
}

/// Byte range of fragment `n` (1-based) within the sample, if it exists.
pub fn fragment_range(
    sample_size: usize,
    fragment_size: usize,
    n: u32,
) -> Option<core::ops::Range<usize>> {
    if n == 0 || n > fragment_count(sample_size, fragment_size) {
        return None;
    }
    let start = usize::try_from(n - 1).ok()?.checked_mul(fragment_size)?;
    let end = start.saturating_add(fragment_size).min(sample_size);
    (start < end).then_some(start..end)
}

/// Why a fragment was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FragmentReject {
    /// `fragment_size` or `sample_size` differ from the reassembly's, or are 0.
    Inconsistent,
    /// Starting number 0 or past the last fragment, or the bytes are too short.
    OutOfRange,
}

/// A sample being reassembled from DATA_FRAG submessages (RTPS 2.5 §8.4.14.1.2).
#[derive(Debug, Clone)]
pub(crate) struct Reassembly {
    sample_size: u32,
    fragment_size: u16,
    total: u32,
    buf: Vec<u8>,
    received: Vec<u64>,
    received_count: u32,
    /// Highest fragment number received.
    pub(crate) highest_received: u32,
    /// Highest fragment number the writer said it sent (HEARTBEAT_FRAG).
    pub(crate) last_fragment_announced: u32,
    /// From the inline QoS of the first fragment that carried one.
    pub(crate) kind: ChangeKind,
    pub(crate) key_hash: Option<[u8; 16]>,
    pub(crate) is_key: bool,
    pub(crate) source_timestamp: Option<Time>,
}

impl Reassembly {
    /// A reassembly for a sample of this size; the caller has capped `sample_size`.
    pub(crate) fn new(sample_size: u32, fragment_size: u16) -> Option<Self> {
        let total = fragment_count(
            usize::try_from(sample_size).ok()?,
            usize::from(fragment_size),
        );
        if total == 0 {
            return None;
        }
        let words = usize::try_from(total.div_ceil(64)).ok()?;
        Some(Reassembly {
            sample_size,
            fragment_size,
            total,
            // Zeroed allocation: pages are committed as fragments arrive.
            buf: vec![0u8; usize::try_from(sample_size).ok()?],
            received: vec![0u64; words],
            received_count: 0,
            highest_received: 0,
            last_fragment_announced: 0,
            kind: ChangeKind::Alive,
            key_hash: None,
            is_key: false,
            source_timestamp: None,
        })
    }

    /// Sample size in bytes.
    pub(crate) fn sample_size(&self) -> u32 {
        self.sample_size
    }

    /// Number of fragments.
    pub(crate) fn total(&self) -> u32 {
        self.total
    }

    fn has(&self, n: u32) -> bool {
        let Some(i) = n.checked_sub(1).map(|i| i as usize) else {
            return false;
        };
        self.received
            .get(i / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    fn mark(&mut self, n: u32) {
        let Some(i) = n.checked_sub(1).map(|i| i as usize) else {
            return;
        };
        if let Some(w) = self.received.get_mut(i / 64) {
            *w |= 1u64 << (i % 64);
        }
    }

    /// Copy in `count` fragments from `starting_num`, taken consecutively from `data`.
    /// Returns how many new fragments were stored.
    pub(crate) fn insert(
        &mut self,
        sample_size: u32,
        fragment_size: u16,
        starting_num: u32,
        count: u16,
        data: &[u8],
    ) -> Result<u32, FragmentReject> {
        if sample_size != self.sample_size || fragment_size != self.fragment_size {
            return Err(FragmentReject::Inconsistent);
        }
        if starting_num == 0 || starting_num > self.total {
            return Err(FragmentReject::OutOfRange);
        }
        let fs = usize::from(self.fragment_size);
        let size = self.buf.len();
        let mut stored = 0;
        let mut offset_in_data = 0usize;
        for k in 0..u32::from(count) {
            let Some(n) = starting_num.checked_add(k).filter(|n| *n <= self.total) else {
                break;
            };
            let Some(range) = fragment_range(size, fs, n) else {
                break;
            };
            let len = range.len();
            let Some(src) = data.get(offset_in_data..offset_in_data.saturating_add(len)) else {
                if stored == 0 && k == 0 {
                    return Err(FragmentReject::OutOfRange);
                }
                break;
            };
            offset_in_data = offset_in_data.saturating_add(fs);
            if self.has(n) {
                continue;
            }
            if let Some(dst) = self.buf.get_mut(range) {
                dst.copy_from_slice(src);
                self.mark(n);
                self.received_count += 1;
                self.highest_received = self.highest_received.max(n);
                stored += 1;
            }
        }
        Ok(stored)
    }

    /// Every fragment arrived.
    pub(crate) fn is_complete(&self) -> bool {
        self.received_count >= self.total
    }

    /// The missing fragments from the first missing one, at most 256 of them and none above
    /// `upto` (RTPS 2.5 §8.3.7.11 NACK_FRAG `fragmentNumberState`); None if none is missing.
    pub(crate) fn missing(&self, upto: u32) -> Option<FragmentNumberSet> {
        let upto = upto.min(self.total);
        let first = (1..=upto).find(|n| !self.has(*n))?;
        let mut set = FragmentNumberSet::new(first);
        let end = first.saturating_add(255).min(upto);
        for n in first..=end {
            if !self.has(n) {
                set.insert(n);
            }
        }
        Some(set)
    }

    /// The finished sample (call when complete).
    pub(crate) fn into_payload(self) -> Bytes {
        Bytes::from(self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fragment_ranges_cover_the_sample_with_a_short_last_fragment() {
        assert_eq!(fragment_count(10, 4), 3);
        assert_eq!(fragment_range(10, 4, 1), Some(0..4));
        assert_eq!(fragment_range(10, 4, 3), Some(8..10));
        assert_eq!(fragment_range(10, 4, 4), None);
        assert_eq!(fragment_range(10, 4, 0), None);
        assert_eq!(fragment_count(10, 0), 0);
    }

    #[test]
    fn reassembles_out_of_order_with_duplicates_and_reports_missing() {
        let sample: Vec<u8> = (0..100u8).collect();
        let mut r = Reassembly::new(100, 16).unwrap();
        assert_eq!(r.total(), 7);
        // Fragments 3..4 in one submessage, then 7 (short), then a duplicate.
        assert_eq!(r.insert(100, 16, 3, 2, &sample[32..64]), Ok(2));
        assert_eq!(r.insert(100, 16, 7, 1, &sample[96..]), Ok(1));
        assert_eq!(r.insert(100, 16, 3, 1, &sample[32..48]), Ok(0));
        let missing: Vec<u32> = r.missing(u32::MAX).unwrap().iter().collect();
        assert_eq!(missing, vec![1, 2, 5, 6]);
        assert_eq!(r.missing(2).unwrap().iter().collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(r.insert(100, 16, 1, 2, &sample[..32]), Ok(2));
        assert_eq!(r.insert(100, 16, 5, 2, &sample[64..96]), Ok(2));
        assert!(r.is_complete());
        assert!(r.missing(u32::MAX).is_none());
        assert_eq!(&r.into_payload()[..], &sample[..]);
    }

    #[test]
    fn rejects_inconsistent_and_out_of_range_fragments() {
        let mut r = Reassembly::new(100, 16).unwrap();
        assert_eq!(
            r.insert(99, 16, 1, 1, &[0; 16]),
            Err(FragmentReject::Inconsistent)
        );
        assert_eq!(
            r.insert(100, 8, 1, 1, &[0; 16]),
            Err(FragmentReject::Inconsistent)
        );
        assert_eq!(
            r.insert(100, 16, 0, 1, &[0; 16]),
            Err(FragmentReject::OutOfRange)
        );
        assert_eq!(
            r.insert(100, 16, 8, 1, &[0; 16]),
            Err(FragmentReject::OutOfRange)
        );
        assert_eq!(
            r.insert(100, 16, 1, 1, &[0; 15]),
            Err(FragmentReject::OutOfRange)
        );
        // Too few bytes for the second fragment: only the first is stored.
        assert_eq!(r.insert(100, 16, 1, 2, &[0; 20]), Ok(1));
        assert!(Reassembly::new(0, 16).is_none());
        assert!(Reassembly::new(16, 0).is_none());
    }

    proptest! {
        #[test]
        fn any_fragment_order_reassembles_the_sample(
            size in 1usize..2000, fs in 1u16..300, seed in any::<u64>()
        ) {
            let sample: Vec<u8> = (0..size).map(|i| (i as u64 ^ seed) as u8).collect();
            let mut r = Reassembly::new(size as u32, fs).unwrap();
            let total = r.total();
            let mut order: Vec<u32> = (1..=total).collect();
            let mut x = seed | 1;
            for i in (1..order.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                order.swap(i, (x % (i as u64 + 1)) as usize);
            }
            for n in order {
                let range = fragment_range(size, usize::from(fs), n).unwrap();
                prop_assert_eq!(r.insert(size as u32, fs, n, 1, &sample[range]), Ok(1));
            }
            prop_assert!(r.is_complete());
            prop_assert_eq!(&r.into_payload()[..], &sample[..]);
        }
    }
}
