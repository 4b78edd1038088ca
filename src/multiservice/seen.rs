//! The bounded record of (client, task) pairs whose target a server has seen (AML-IP spec §4.5
//! `already_processed_requests_`, made bounded per §11.4).
//!
//! Clients allocate task ids 0, 1, 2, ... and publish a target for every request, so per client
//! the seen set is "every task below a watermark" plus a sparse set of out-of-order tasks above
//! it; in steady state the sparse set stays as small as the client's tasks in flight. Two caps
//! keep hostile or pathological input bounded:
//! - a client's sparse set over `max_sparse` entries: the watermark jumps past its smallest
//!   entry, so older never-targeted tasks of that client count as seen (their requests, if they
//!   ever arrive, are left to other servers);
//! - over `max_clients` clients: the least recently used client record is forgotten (a replay of
//!   its old requests would then get stale replies, which its targets, replayed too, release).

use std::collections::{BTreeMap, BTreeSet};

use super::id::AmlipId;
use super::types::MsRequest;

/// Default cap on the clients remembered.
pub const DEFAULT_MAX_CLIENTS: usize = 1024;
/// Default cap on one client's out-of-order seen tasks.
pub const DEFAULT_MAX_SPARSE: usize = 4096;

#[derive(Debug, Clone, Default)]
struct Window {
    /// Every task id below this has been seen (u64 so that task `u32::MAX` fits).
    below: u64,
    /// Seen task ids at or above `below`.
    above: BTreeSet<u32>,
    /// Recency stamp for eviction.
    last_used: u64,
}

impl Window {
    fn contains(&self, task: u32) -> bool {
        u64::from(task) < self.below || self.above.contains(&task)
    }

    fn insert(&mut self, task: u32, max_sparse: usize) {
        if u64::from(task) < self.below {
            return;
        }
        self.above.insert(task);
        if self.above.len() > max_sparse {
            if let Some(first) = self.above.pop_first() {
                self.below = u64::from(first).saturating_add(1);
            }
        }
        while let Some(&first) = self.above.first() {
            if u64::from(first) != self.below {
                break;
            }
            self.above.pop_first();
            self.below = self.below.saturating_add(1);
        }
    }
}

/// Bounded set of (client, task) pairs (see the module doc).
#[derive(Debug, Clone)]
pub struct SeenTasks {
    clients: BTreeMap<AmlipId, Window>,
    tick: u64,
    max_clients: usize,
    max_sparse: usize,
}

impl Default for SeenTasks {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_CLIENTS, DEFAULT_MAX_SPARSE)
    }
}

impl SeenTasks {
    /// An empty set with the given caps (each at least 1).
    pub fn new(max_clients: usize, max_sparse: usize) -> Self {
        SeenTasks {
            clients: BTreeMap::new(),
            tick: 0,
            max_clients: max_clients.max(1),
            max_sparse: max_sparse.max(1),
        }
    }

    /// True if the target of `req` has been recorded (and not forgotten).
    pub fn contains(&self, req: &MsRequest) -> bool {
        self.clients
            .get(&req.client_id)
            .is_some_and(|w| w.contains(req.task_id.0))
    }

    /// Record the target of `req`.
    pub fn insert(&mut self, req: &MsRequest) {
        self.tick = self.tick.saturating_add(1);
        if !self.clients.contains_key(&req.client_id) && self.clients.len() >= self.max_clients {
            let lru = self
                .clients
                .iter()
                .min_by_key(|(_, w)| w.last_used)
                .map(|(id, _)| *id);
            if let Some(id) = lru {
                self.clients.remove(&id);
            }
        }
        let w = self.clients.entry(req.client_id).or_default();
        w.last_used = self.tick;
        w.insert(req.task_id.0, self.max_sparse);
    }

    /// Forget everything about `client` (its participant is gone).
    pub fn forget_client(&mut self, client: &AmlipId) {
        self.clients.remove(client);
    }

    /// Clients remembered.
    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    /// Out-of-order entries remembered in total (the watermarks are free).
    pub fn sparse_entries(&self) -> usize {
        self.clients.values().map(|w| w.above.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multiservice::TaskId;

    fn req(c: u8, t: u32) -> MsRequest {
        MsRequest {
            client_id: AmlipId::new("c", [c, 0, 0, 0]).unwrap(),
            task_id: TaskId(t),
        }
    }

    #[test]
    fn in_order_targets_collapse_into_a_watermark() {
        let mut s = SeenTasks::default();
        for t in 0..1000 {
            s.insert(&req(1, t));
        }
        assert_eq!(s.sparse_entries(), 0);
        assert!(s.contains(&req(1, 999)));
        assert!(!s.contains(&req(1, 1000)));
        assert!(!s.contains(&req(2, 0)));
    }

    #[test]
    fn out_of_order_targets_are_kept_until_the_gap_closes() {
        let mut s = SeenTasks::default();
        s.insert(&req(1, 2));
        s.insert(&req(1, 1));
        assert!(!s.contains(&req(1, 0)));
        assert_eq!(s.sparse_entries(), 2);
        s.insert(&req(1, 0));
        assert_eq!(s.sparse_entries(), 0);
        assert!(s.contains(&req(1, 2)));
    }

    #[test]
    fn a_client_with_a_permanent_gap_stays_bounded() {
        let mut s = SeenTasks::new(4, 8);
        for t in 1..10_000 {
            s.insert(&req(1, t));
        }
        assert!(s.sparse_entries() <= 8);
        assert!(s.contains(&req(1, 9_999)));
        assert!(s.contains(&req(1, 0)), "the gap was given up");
    }

    #[test]
    fn least_recently_used_clients_are_forgotten_past_the_cap() {
        let mut s = SeenTasks::new(2, 8);
        s.insert(&req(1, 0));
        s.insert(&req(2, 0));
        s.insert(&req(1, 1));
        s.insert(&req(3, 0));
        assert_eq!(s.clients(), 2);
        assert!(s.contains(&req(1, 1)));
        assert!(!s.contains(&req(2, 0)));
        s.forget_client(&req(1, 0).client_id);
        assert!(!s.contains(&req(1, 0)));
    }

    #[test]
    fn the_last_task_id_does_not_overflow() {
        let mut s = SeenTasks::default();
        s.insert(&req(1, u32::MAX));
        assert!(s.contains(&req(1, u32::MAX)));
        for t in [0, 1] {
            s.insert(&req(1, t));
        }
        assert!(!s.contains(&req(1, 5)));
    }
}
