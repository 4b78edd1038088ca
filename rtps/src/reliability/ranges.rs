//! A small set of disjoint half-open `i64` ranges, kept merged, with a cap on the number of
//! ranges (RTPS 2.5 §8.4.15.3: sequence-number and fragment-number bookkeeping).
//!
//! Used for the sequence numbers a reader asked for again, the fragments asked for by
//! NACK_FRAG, and the sequence numbers a writer declared irrelevant with GAP. Every operation
//! is `O(log n)` in the number of ranges plus the ranges it merges, and never allocates more
//! than `max_ranges` entries: an insert that would exceed the cap drops the highest ranges
//! (the caller learns them again from the peer).

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Included, Unbounded};

/// Disjoint, non-adjacent half-open ranges `[start, end)` of `i64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RangeSet {
    /// start -> end (exclusive); ranges never overlap or touch.
    ranges: BTreeMap<i64, i64>,
    max_ranges: usize,
}

impl RangeSet {
    /// An empty set holding at most `max_ranges` ranges (at least 1).
    pub(crate) fn new(max_ranges: usize) -> Self {
        RangeSet {
            ranges: BTreeMap::new(),
            max_ranges: max_ranges.max(1),
        }
    }

    /// True when no value is in the set.
    pub(crate) fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Insert one value.
    pub(crate) fn insert(&mut self, v: i64) {
        self.insert_range(v, v.saturating_add(1));
    }

    /// Insert `[start, end)`, merging with overlapping or adjacent ranges.
    pub(crate) fn insert_range(&mut self, start: i64, end: i64) {
        if start >= end {
            return;
        }
        let mut start = start;
        let mut end = end;
        // A range starting at or before `start` that reaches it.
        if let Some((&s, &e)) = self.ranges.range(..=start).next_back() {
            if e >= start {
                start = s;
                end = end.max(e);
            }
        }
        // Ranges starting inside [start, end] are absorbed.
        let absorbed: Vec<(i64, i64)> = self
            .ranges
            .range((Included(start), Included(end)))
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in absorbed {
            self.ranges.remove(&s);
            end = end.max(e);
        }
        self.ranges.insert(start, end);
        while self.ranges.len() > self.max_ranges {
            self.ranges.pop_last();
        }
    }

    /// Remove `[start, end)`.
    pub(crate) fn remove_range(&mut self, start: i64, end: i64) {
        if start >= end {
            return;
        }
        let mut touched: Vec<(i64, i64)> = Vec::new();
        if let Some((&s, &e)) = self.ranges.range(..start).next_back() {
            if e > start {
                touched.push((s, e));
            }
        }
        touched.extend(
            self.ranges
                .range((Included(start), Excluded(end)))
                .map(|(&s, &e)| (s, e)),
        );
        for (s, e) in touched {
            self.ranges.remove(&s);
            if s < start {
                self.ranges.insert(s, start);
            }
            if e > end {
                self.ranges.insert(end, e);
            }
        }
        while self.ranges.len() > self.max_ranges {
            self.ranges.pop_last();
        }
    }

    /// Remove every value below `v`.
    pub(crate) fn remove_below(&mut self, v: i64) {
        self.remove_range(i64::MIN, v);
    }

    /// Is `v` in the set?
    pub(crate) fn contains(&self, v: i64) -> bool {
        self.ranges
            .range(..=v)
            .next_back()
            .is_some_and(|(_, &e)| e > v)
    }

    /// The end of the range containing `v`, if any (for skipping a whole run at once).
    pub(crate) fn run_end(&self, v: i64) -> Option<i64> {
        self.ranges
            .range(..=v)
            .next_back()
            .and_then(|(_, &e)| (e > v).then_some(e))
    }

    /// The smallest value in the set.
    pub(crate) fn first(&self) -> Option<i64> {
        self.ranges.keys().next().copied()
    }

    /// The ranges, ascending.
    pub(crate) fn ranges(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.ranges.iter().map(|(&s, &e)| (s, e))
    }

    /// The ranges intersecting `[from, ..)`, clipped to start at `from`, ascending.
    pub(crate) fn ranges_from(&self, from: i64) -> impl Iterator<Item = (i64, i64)> + '_ {
        let head = self
            .ranges
            .range(..from)
            .next_back()
            .filter(|(_, &e)| e > from)
            .map(|(_, &e)| (from, e));
        head.into_iter().chain(
            self.ranges
                .range((Included(from), Unbounded))
                .map(|(&s, &e)| (s, e)),
        )
    }

    /// Number of values in the set (saturating).
    #[cfg(test)]
    pub(crate) fn count(&self) -> u64 {
        self.ranges.iter().fold(0u64, |acc, (&s, &e)| {
            acc.saturating_add(u64::try_from(e.saturating_sub(s)).unwrap_or(u64::MAX))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn adjacent_and_overlapping_ranges_merge() {
        let mut s = RangeSet::new(16);
        s.insert_range(1, 3);
        s.insert_range(5, 7);
        s.insert_range(3, 5);
        assert_eq!(s.ranges().collect::<Vec<_>>(), vec![(1, 7)]);
        s.insert_range(0, 10);
        assert_eq!(s.ranges().collect::<Vec<_>>(), vec![(0, 10)]);
        s.remove_range(4, 6);
        assert_eq!(s.ranges().collect::<Vec<_>>(), vec![(0, 4), (6, 10)]);
        assert!(s.contains(3) && !s.contains(4) && s.contains(6));
        assert_eq!(s.run_end(7), Some(10));
        assert_eq!(s.count(), 8);
        assert_eq!(s.ranges_from(2).collect::<Vec<_>>(), vec![(2, 4), (6, 10)]);
    }

    #[test]
    fn the_range_cap_drops_the_highest_ranges() {
        let mut s = RangeSet::new(2);
        s.insert(10);
        s.insert(20);
        s.insert(1);
        assert_eq!(s.ranges().collect::<Vec<_>>(), vec![(1, 2), (10, 11)]);
    }

    proptest! {
        #[test]
        fn behaves_like_a_set_of_values(ops in proptest::collection::vec((any::<bool>(), 0i64..64, 0i64..8), 0..64)) {
            let mut s = RangeSet::new(1000);
            let mut model = BTreeSet::new();
            for (add, start, len) in ops {
                if add {
                    s.insert_range(start, start + len);
                    model.extend(start..start + len);
                } else {
                    s.remove_range(start, start + len);
                    for v in start..start + len { model.remove(&v); }
                }
                for v in -1..80 {
                    prop_assert_eq!(s.contains(v), model.contains(&v));
                }
                prop_assert_eq!(s.count(), model.len() as u64);
                let mut prev_end = i64::MIN;
                for (a, b) in s.ranges() {
                    prop_assert!(a < b && a > prev_end);
                    prev_end = b;
                }
            }
        }
    }
}
