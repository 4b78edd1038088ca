//! The sans-IO MultiService server (ComputingNode side, AML-IP spec §4.5, §4.7, improved per
//! §11).
//!
//! The server has `max_concurrent` slots. It answers "available" to a request only while a slot
//! is free (so C++ clients, which take the first reply, never give it more than it can run),
//! and each answer holds its slot until the request's target arrives: a target naming another
//! server (or the undefined id: a cancel) frees the slot, one naming this server keeps it until
//! the job has been processed and its solution published. Requests that find no free slot wait
//! in a bounded FIFO, like the C++ server's DDS reader queue; a request whose target is seen
//! while it waits is dropped from the queue.
//!
//! With an offer spread above 1 ([`Server::with_offer_spread`]) a free slot answers a request
//! drawn among the oldest queued ones instead of the oldest: every idle server sees the same
//! queue, and answering its head makes them all reply to the same request, of which only one
//! wins (on a fast network, always the same one: one server did all the work of a 4-server
//! cluster). The draw uses a small generator seeded from the server id (sans-IO, deterministic);
//! a queued request is drawn with probability at least 1 / spread at every offer, so none
//! starves. A client that sends one request at a time (AML-IP's) sees no difference.
//!
//! Task data is matched to its task by header (spec §11.5): it is accepted only for a task this
//! server answered, and only if the header names this server. Data that arrives before the
//! target is proof enough of the choice (the client only sends it after choosing), so the job
//! starts at once. Every target seen is recorded in a bounded [`SeenTasks`] so that replayed
//! requests (TRANSIENT_LOCAL history for a late joiner, duplicates) are not answered again.
//!
//! # Replies that get no answer
//! AML-IP's server waits for its target for ever, so a main node killed mid-handshake stalls it
//! for the main's whole lease. Here a slot that replied (or won) and got no target (or no data)
//! within the reply timeout ([`DEFAULT_REPLY_TIMEOUT`], [`Server::with_reply_timeout`]) is freed
//! ([`Server::handle_timeout`], due at [`Server::poll_timeout`]), and that client's other queued
//! requests are answered only when no other client's request waits, until it shows a sign of
//! life (a request, target or data). The choice may still come late (a main paused, then
//! resumed): the task data of a timed-out reply is accepted and run when a slot is free, once.
//!
//! # Prefetch (amlip-rs extension)
//! Between one job's solution and the next job's data a one-slot server sits idle for a whole
//! round trip to the main node; with jobs far shorter than that round trip, that idle time is
//! most of the server's time. So a server answers more requests than it has free slots: as
//! many as [`PREFETCH_BUDGET`] (1 ms) of work ahead, by the moving average of its recent jobs'
//! time (task data to solution), at most [`DEFAULT_PREFETCH`] ([`Server::with_prefetch`]; 0
//! turns it off), and only after [`PREFETCH_AFTER_JOBS`] jobs were timed. The next requests
//! are then answered with the solution of the current job (one datagram), and the next jobs
//! are there when a slot frees. A job won that way waits for a slot, about a millisecond at
//! most on average; jobs of a millisecond or more are never taken ahead, so a long job is not
//! queued behind another while another server may be idle (except the first long jobs after
//! a run of short ones, until the average catches up). Until then, and with prefetch off, a
//! server answers only with free slots, as AML-IP's does.
//!
//! # Driving it
//! Feed `_request_availability` samples to [`Server::handle_request`], `_task_target` to
//! [`Server::handle_target`] and `_task_data_<own>` to [`Server::handle_task_data`]; after every
//! input drain [`Server::poll_outgoing`] and [`Server::poll_event`]; each
//! [`ServerEvent::Task`] must eventually be answered with [`Server::complete`] or
//! [`Server::fail`] (spec §11.6: a server never abandons a task it won).

use core::fmt;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use super::id::AmlipId;
use super::outgoing::Outgoing;
use super::seen::SeenTasks;
use super::types::{GenericData, MsData, MsReference, MsRequest};

/// Default cap on requests waiting for a free slot (Fast DDS's KEEP_ALL `max_samples`).
pub const DEFAULT_MAX_QUEUED: usize = 5000;

/// Largest offer spread (see the module doc).
pub const MAX_OFFER_SPREAD: usize = 256;

/// Default time a reply (or a won task) waits for its target (or its data) before its slot is
/// freed (see the module doc "Replies that get no answer").
pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(2);

/// Most timed-out replies remembered (whose task data is still accepted), and most late task
/// data waiting for a slot.
pub const MAX_EXPIRED: usize = 4096;

/// Most clients remembered as unresponsive.
pub const MAX_UNRESPONSIVE: usize = 1024;

/// Default cap on the requests a server answers beyond its free slots (see the module doc
/// "Prefetch").
pub const DEFAULT_PREFETCH: usize = 16;

/// Largest [`Server::with_prefetch`].
pub const MAX_PREFETCH: usize = 64;

/// Most work a server takes ahead, by its average job time (module doc "Prefetch").
pub const PREFETCH_BUDGET: Duration = Duration::from_millis(1);

/// Jobs a server finishes before it may prefetch (module doc).
pub const PREFETCH_AFTER_JOBS: u32 = 8;

/// Something the server asks its user to do (drained with [`Server::poll_event`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// Process `job` and call [`Server::complete`] with `key` and the solution.
    Task {
        /// The task: (client, task id).
        key: MsRequest,
        /// The job bytes.
        job: GenericData,
    },
}

/// Why [`Server::complete`] refused a solution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompleteError {
    /// No task with that key is being processed here (never given, or already completed).
    UnknownTask,
}

impl fmt::Display for CompleteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompleteError::UnknownTask => f.write_str("no such task is being processed"),
        }
    }
}

impl std::error::Error for CompleteError {}

/// Counters of what the server did and dropped, for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerStats {
    /// "Available" replies published.
    pub replies: u64,
    /// Tasks won (job handed to the user).
    pub tasks: u64,
    /// Solutions published.
    pub completed: u64,
    /// Failed solutions published ([`Server::fail`]).
    pub failed: u64,
    /// Replies that lost (target named another server) or were cancelled.
    pub lost: u64,
    /// Requests skipped because their target had already been seen (replays).
    pub skipped_seen: u64,
    /// Requests already queued or answered (duplicates).
    pub duplicate_requests: u64,
    /// Requests dropped because the queue was full.
    pub dropped_requests: u64,
    /// Task data not naming this server, for no task it answered, or duplicated.
    pub unmatched_data: u64,
    /// Samples naming the undefined client.
    pub invalid: u64,
    /// Tasks refused after winning them ([`Server::refuse`]: a job over the size cap).
    pub refused: u64,
    /// Replies (or won tasks) whose target (or data) did not come within the reply timeout.
    pub expired_replies: u64,
    /// Tasks run from the data of a timed-out reply (the client chose this server late).
    pub late_tasks: u64,
    /// Replies sent beyond the free slots (module doc "Prefetch").
    pub prefetch_replies: u64,
}

/// The state of one slot, as shown by [`Server::slots`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    /// Replied "available", waiting for the target.
    Offered,
    /// Chosen by the target, waiting for the task data.
    Won,
    /// Job handed to the user, waiting for [`Server::complete`].
    Working,
}

#[derive(Debug, Clone)]
struct Slot {
    state: SlotState,
    /// The target (for Won / Working); the reply we sent while Offered.
    reference: MsReference,
    since: Instant,
}

/// The MultiService server state machine (see the module doc).
#[derive(Debug)]
pub struct Server {
    id: AmlipId,
    max_concurrent: usize,
    max_queued: usize,
    accepting: bool,
    /// Tasks this server may still accept; `None` = unlimited.
    budget: Option<u64>,
    slots: BTreeMap<MsRequest, Slot>,
    queue: VecDeque<MsRequest>,
    queued: BTreeSet<MsRequest>,
    seen: SeenTasks,
    outgoing: VecDeque<Outgoing>,
    events: VecDeque<ServerEvent>,
    stats: ServerStats,
    /// How many of the oldest queued requests a free slot draws from (1: FIFO).
    spread: usize,
    /// State of the xorshift generator of the draws (never 0).
    draw: u64,
    reply_timeout: Duration,
    /// Requests whose reply timed out (or whose client was lost while they waited): their task
    /// data, if it ever comes, is still run (oldest first in `expired_order`).
    expired: BTreeSet<MsRequest>,
    expired_order: VecDeque<MsRequest>,
    /// Task data of timed-out replies waiting for a free slot.
    late: VecDeque<MsData>,
    /// Clients whose reply timed out and that showed no sign of life since.
    unresponsive: BTreeSet<AmlipId>,
    /// Cap on the requests answered beyond the free slots (module doc "Prefetch").
    prefetch: usize,
    /// Moving average of the recent jobs' time, task data to solution, in nanoseconds.
    job_nanos: u64,
    /// Jobs timed so far (saturating).
    jobs_timed: u32,
}

/// A non-zero generator seed from the server id (its name and random bytes).
fn seed_of(id: &AmlipId) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.to_string().bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h.max(1)
}

impl Server {
    /// A server with node id `id` running at most `max_concurrent` tasks at once (at least 1);
    /// it accepts requests at once, with no task limit.
    pub fn new(id: AmlipId, max_concurrent: usize) -> Self {
        Server {
            id,
            max_concurrent: max_concurrent.max(1),
            max_queued: DEFAULT_MAX_QUEUED,
            accepting: true,
            budget: None,
            slots: BTreeMap::new(),
            queue: VecDeque::new(),
            queued: BTreeSet::new(),
            seen: SeenTasks::default(),
            outgoing: VecDeque::new(),
            events: VecDeque::new(),
            stats: ServerStats::default(),
            spread: 1,
            draw: seed_of(&id),
            reply_timeout: DEFAULT_REPLY_TIMEOUT,
            expired: BTreeSet::new(),
            expired_order: VecDeque::new(),
            late: VecDeque::new(),
            unresponsive: BTreeSet::new(),
            prefetch: DEFAULT_PREFETCH,
            job_nanos: 0,
            jobs_timed: 0,
        }
    }

    /// Answer up to `prefetch` requests beyond the free slots while recent jobs are short
    /// (0 to [`MAX_PREFETCH`]; 0: never, as AML-IP's server; default [`DEFAULT_PREFETCH`]).
    /// See the module doc "Prefetch".
    #[must_use]
    pub fn with_prefetch(mut self, prefetch: usize) -> Self {
        self.prefetch = prefetch.min(MAX_PREFETCH);
        self
    }

    /// Free a slot whose reply got no target (or whose won task got no data) within `timeout`
    /// (default [`DEFAULT_REPLY_TIMEOUT`]; see the module doc).
    #[must_use]
    pub fn with_reply_timeout(mut self, timeout: Duration) -> Self {
        self.reply_timeout = timeout;
        self
    }

    /// Answer a request drawn among the `spread` oldest queued (1 to [`MAX_OFFER_SPREAD`];
    /// 1, the default, is FIFO as AML-IP's server). See the module doc.
    #[must_use]
    pub fn with_offer_spread(mut self, spread: usize) -> Self {
        self.spread = spread.clamp(1, MAX_OFFER_SPREAD);
        self
    }

    /// The next draw in `0..n` (`n` ≥ 1): xorshift64, seeded from the server id.
    fn draw_below(&mut self, n: usize) -> usize {
        let mut x = self.draw;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.draw = x;
        usize::try_from(x % n.max(1) as u64).unwrap_or(0)
    }

    /// Set the cap on requests waiting for a slot (at least 1).
    #[must_use]
    pub fn with_max_queued(mut self, max_queued: usize) -> Self {
        self.max_queued = max_queued.max(1);
        self
    }

    /// This server's node id.
    pub fn id(&self) -> AmlipId {
        self.id
    }

    /// Counters.
    pub fn stats(&self) -> ServerStats {
        self.stats
    }

    /// Start or stop answering requests. Stopping never abandons a reply already sent: those
    /// slots still wait for their targets and run the task if chosen (spec §11.6).
    pub fn set_accepting(&mut self, now: Instant, accepting: bool) {
        self.accepting = accepting;
        self.offer(now);
    }

    /// Accept at most `limit` more tasks (`None`: unlimited). Outstanding replies count against
    /// it, so a server told to run N jobs never wins more than N (ComputingNode `process_job`).
    pub fn set_task_limit(&mut self, now: Instant, limit: Option<u64>) {
        self.budget = limit;
        self.offer(now);
    }

    /// Change how many tasks may run at once (at least 1). Lowering it never abandons a slot
    /// already taken; new replies wait until the occupied slots drop below the new value.
    pub fn set_max_concurrent(&mut self, now: Instant, max_concurrent: usize) {
        self.max_concurrent = max_concurrent.max(1);
        self.offer(now);
    }

    /// Tasks this server may still accept (`None`: unlimited).
    pub fn task_limit(&self) -> Option<u64> {
        self.budget
    }

    /// True when no reply, task or pending solution is outstanding.
    pub fn is_idle(&self) -> bool {
        self.slots.is_empty() && self.late.is_empty()
    }

    /// Requests waiting for a free slot.
    pub fn queued(&self) -> usize {
        self.queued.len()
    }

    /// The occupied slots: task, state, and since when (the `now` of the last transition).
    pub fn slots(&self) -> impl Iterator<Item = (MsRequest, SlotState, Instant)> + '_ {
        self.slots.iter().map(|(k, s)| (*k, s.state, s.since))
    }

    fn offered(&self) -> usize {
        self.slots
            .values()
            .filter(|s| s.state == SlotState::Offered)
            .count()
    }

    /// Requests answered beyond the free slots (see the module doc "Prefetch"): as many
    /// average jobs as fit in [`PREFETCH_BUDGET`], at most `prefetch`; 0 until
    /// [`PREFETCH_AFTER_JOBS`] jobs were timed, and for jobs of the budget or longer.
    fn ahead(&self) -> usize {
        if self.prefetch == 0
            || self.jobs_timed < PREFETCH_AFTER_JOBS
            || u128::from(self.job_nanos) >= PREFETCH_BUDGET.as_nanos()
        {
            return 0;
        }
        let fit = PREFETCH_BUDGET.as_nanos() / u128::from(self.job_nanos.max(1));
        usize::try_from(fit)
            .unwrap_or(usize::MAX)
            .min(self.prefetch)
    }

    /// Time a finished job (task data to solution) into the moving average (1/8 weight).
    fn time_job(&mut self, took: Duration) {
        let took = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.job_nanos = if self.jobs_timed == 0 {
            took
        } else {
            (self.job_nanos / 8)
                .saturating_mul(7)
                .saturating_add(took / 8)
        };
        self.jobs_timed = self.jobs_timed.saturating_add(1);
    }

    /// How many more "available" replies may go out now.
    fn capacity(&self) -> usize {
        if !self.accepting {
            return 0;
        }
        let free = self
            .max_concurrent
            .saturating_add(self.ahead())
            .saturating_sub(self.slots.len());
        match self.budget {
            None => free,
            Some(b) => {
                let left = usize::try_from(b).unwrap_or(usize::MAX);
                free.min(left.saturating_sub(self.offered()))
            }
        }
    }

    /// Index in the queue of the next request to answer: drawn among the `spread` oldest, from
    /// clients not known to be unresponsive if there are any (see the module doc).
    fn pick(&mut self) -> Option<usize> {
        if self.unresponsive.is_empty() {
            let window = self.queue.len().min(self.spread);
            return match window {
                0 => None,
                1 => Some(0),
                _ => Some(self.draw_below(window)),
            };
        }
        let unresponsive = &self.unresponsive;
        let live: Vec<usize> = self
            .queue
            .iter()
            .enumerate()
            .filter(|(_, r)| !unresponsive.contains(&r.client_id))
            .map(|(i, _)| i)
            .take(self.spread)
            .collect();
        match live.len() {
            0 => (!self.queue.is_empty()).then_some(0),
            1 => live.first().copied(),
            n => {
                let k = self.draw_below(n);
                live.get(k).copied()
            }
        }
    }

    /// Start the task data of timed-out replies while slots are free (a task won is never
    /// refused, spec §11.6, so neither `accepting` nor the offer budget holds them back).
    fn start_late(&mut self, now: Instant) {
        while self.slots.len() < self.max_concurrent {
            let Some(data) = self.late.pop_front() else {
                break;
            };
            self.start(now, data);
        }
    }

    /// Hand a task to the user: its slot is `Working`.
    fn start(&mut self, now: Instant, data: MsData) {
        let req = data.request();
        if !self.expired.is_empty() {
            self.expired.remove(&req);
        }
        self.slots.insert(
            req,
            Slot {
                state: SlotState::Working,
                reference: data.reference(),
                since: now,
            },
        );
        self.events.push_back(ServerEvent::Task {
            key: req,
            job: data.data,
        });
    }

    /// Answer queued requests while slots are free.
    fn offer(&mut self, now: Instant) {
        if !self.late.is_empty() {
            self.start_late(now);
        }
        while self.capacity() > 0 {
            let Some(i) = self.pick() else {
                break;
            };
            let Some(req) = self.queue.remove(i) else {
                break;
            };
            if !self.queued.remove(&req) || self.seen.contains(&req) {
                continue;
            }
            let reference = MsReference::new(req, self.id);
            if self.slots.len() >= self.max_concurrent {
                self.stats.prefetch_replies = self.stats.prefetch_replies.saturating_add(1);
            }
            self.slots.insert(
                req,
                Slot {
                    state: SlotState::Offered,
                    reference,
                    since: now,
                },
            );
            self.stats.replies = self.stats.replies.saturating_add(1);
            self.outgoing.push_back(Outgoing::ReplyAvailable {
                to_client: req.client_id,
                reference,
            });
        }
    }

    /// A sample from `_request_availability`: answered now if a slot is free, else queued;
    /// skipped if its target was already seen or it is a duplicate (spec §4.5, §4.9).
    pub fn handle_request(&mut self, now: Instant, req: MsRequest) {
        if !req.client_id.is_defined() {
            self.stats.invalid = self.stats.invalid.saturating_add(1);
            return;
        }
        self.alive(&req.client_id);
        if self.seen.contains(&req) {
            self.stats.skipped_seen = self.stats.skipped_seen.saturating_add(1);
            return;
        }
        if self.slots.contains_key(&req) || self.queued.contains(&req) {
            self.stats.duplicate_requests = self.stats.duplicate_requests.saturating_add(1);
            return;
        }
        if self.queued.len() >= self.max_queued {
            self.stats.dropped_requests = self.stats.dropped_requests.saturating_add(1);
            return;
        }
        self.queued.insert(req);
        self.queue.push_back(req);
        self.offer(now);
    }

    /// `client` showed a sign of life: its requests are answered in turn again.
    fn alive(&mut self, client: &AmlipId) {
        if !self.unresponsive.is_empty() {
            self.unresponsive.remove(client);
        }
    }

    /// Remember that the reply to `req` timed out (or its client was lost): its task data is
    /// still accepted later.
    fn remember_expired(&mut self, req: MsRequest) {
        if self.expired.insert(req) {
            self.expired_order.push_back(req);
            while self.expired_order.len() > MAX_EXPIRED {
                if let Some(old) = self.expired_order.pop_front() {
                    self.expired.remove(&old);
                }
            }
        }
    }

    fn consume_budget(&mut self) {
        if let Some(b) = self.budget.as_mut() {
            *b = b.saturating_sub(1);
        }
        self.stats.tasks = self.stats.tasks.saturating_add(1);
    }

    /// A sample from `_task_target`: recorded; frees the slot of a reply that lost, or marks the
    /// task won (spec §4.5).
    pub fn handle_target(&mut self, now: Instant, target: MsReference) {
        if !target.client_id.is_defined() {
            self.stats.invalid = self.stats.invalid.saturating_add(1);
            return;
        }
        let req = target.request();
        self.alive(&req.client_id);
        self.seen.insert(&req);
        if self.queued.remove(&req)
            && self.queue.len() > self.queued.len().saturating_mul(2).saturating_add(16)
        {
            let queued = &self.queued;
            self.queue.retain(|r| queued.contains(r));
        }
        let Some(slot) = self.slots.get_mut(&req) else {
            if target.server_id != self.id && !self.expired.is_empty() {
                // A timed-out reply that lost: its data will never come.
                self.expired.remove(&req);
            }
            return;
        };
        if slot.state != SlotState::Offered {
            return;
        }
        if target.server_id == self.id {
            slot.state = SlotState::Won;
            slot.reference = target;
            slot.since = now;
            self.consume_budget();
        } else {
            self.slots.remove(&req);
            self.stats.lost = self.stats.lost.saturating_add(1);
            self.offer(now);
        }
    }

    /// A sample from `_task_data_<own>`: the job of a task this server answered, matched by its
    /// header (spec §11.5); anything else is dropped and counted.
    pub fn handle_task_data(&mut self, now: Instant, data: MsData) {
        let req = data.request();
        let state = self.slots.get(&req).map(|s| s.state);
        if data.server_id == self.id
            && state.is_none()
            && self.late.len() < MAX_EXPIRED
            && self.expired.remove(&req)
        {
            // The choice of a reply that timed out: run it, once (see the module doc).
            self.alive(&req.client_id);
            self.seen.insert(&req);
            self.consume_budget();
            self.stats.late_tasks = self.stats.late_tasks.saturating_add(1);
            self.late.push_back(data);
            self.start_late(now);
            return;
        }
        if data.server_id != self.id || !matches!(state, Some(SlotState::Offered | SlotState::Won))
        {
            self.stats.unmatched_data = self.stats.unmatched_data.saturating_add(1);
            return;
        }
        self.alive(&req.client_id);
        if state == Some(SlotState::Offered) {
            // The client chose us (it only sends data to the server it targets).
            self.seen.insert(&req);
            self.consume_budget();
        }
        self.start(now, data);
    }

    /// Refuse task `key`, answered or won but whose job has not been handed over (its data is
    /// over the node's size cap): its slot is freed, its target counts as seen, and no solution
    /// goes out. False if no such task waits for its data here.
    pub fn refuse(&mut self, now: Instant, key: MsRequest) -> bool {
        let state = self.slots.get(&key).map(|s| s.state);
        if !matches!(state, Some(SlotState::Offered | SlotState::Won)) {
            return false;
        }
        self.slots.remove(&key);
        if state == Some(SlotState::Won) {
            if let Some(b) = self.budget.as_mut() {
                *b = b.saturating_add(1);
            }
        }
        self.seen.insert(&key);
        self.stats.refused = self.stats.refused.saturating_add(1);
        self.offer(now);
        true
    }

    /// The solution of a task given by [`ServerEvent::Task`]: published to its client headed by
    /// the target (spec §4.5), freeing the slot.
    pub fn complete(
        &mut self,
        now: Instant,
        key: MsRequest,
        solution: GenericData,
    ) -> Result<(), CompleteError> {
        self.answer(now, key, solution, false)
    }

    /// Report that the task given by [`ServerEvent::Task`] failed, `reason` saying why: a
    /// solution marked failed (the extension of [`super::types`]) is published to its client,
    /// whose main node may offer the job to another server; the slot is freed.
    pub fn fail(
        &mut self,
        now: Instant,
        key: MsRequest,
        reason: GenericData,
    ) -> Result<(), CompleteError> {
        self.answer(now, key, reason, true)
    }

    fn answer(
        &mut self,
        now: Instant,
        key: MsRequest,
        data: GenericData,
        failed: bool,
    ) -> Result<(), CompleteError> {
        match self.slots.get(&key) {
            Some(s) if s.state == SlotState::Working => {}
            _ => return Err(CompleteError::UnknownTask),
        }
        let Some(slot) = self.slots.remove(&key) else {
            return Err(CompleteError::UnknownTask);
        };
        self.time_job(now.saturating_duration_since(slot.since));
        let data = if failed {
            self.stats.failed = self.stats.failed.saturating_add(1);
            MsData::failure(slot.reference, data)
        } else {
            self.stats.completed = self.stats.completed.saturating_add(1);
            MsData::new(slot.reference, data)
        };
        self.outgoing.push_back(Outgoing::Solution {
            to_client: slot.reference.client_id,
            data,
        });
        self.offer(now);
        Ok(())
    }

    /// The participant of `client` is gone: forget its queued requests and free slots still
    /// waiting for its target or data. Tasks already handed to the user stay until completed
    /// (the solution waits in its writer's history). Its targets stay recorded and the data of
    /// its freed replies stays acceptable: a client paused past its lease comes back, and its
    /// history is then replayed.
    pub fn client_lost(&mut self, now: Instant, client: AmlipId) {
        let mut unstarted = 0u64;
        let mut freed = Vec::new();
        self.slots.retain(|k, s| {
            let keep = k.client_id != client || s.state == SlotState::Working;
            if !keep {
                freed.push(*k);
                if s.state == SlotState::Won {
                    unstarted = unstarted.saturating_add(1);
                }
            }
            keep
        });
        if let Some(b) = self.budget.as_mut() {
            *b = b.saturating_add(unstarted);
        }
        for k in freed {
            self.remember_expired(k);
        }
        self.unresponsive.remove(&client);
        self.queued.retain(|k| k.client_id != client);
        self.queue.retain(|k| k.client_id != client);
        self.offer(now);
    }

    /// When [`Server::handle_timeout`] is next due: the oldest reply (or won task) still
    /// waiting, plus the reply timeout.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.slots
            .values()
            .filter(|s| s.state != SlotState::Working)
            .map(|s| s.since)
            .min()
            .and_then(|t| t.checked_add(self.reply_timeout))
    }

    /// Free the slots whose reply got no target, or whose won task got no data, within the reply
    /// timeout; their clients' other requests wait behind other clients' until they show a sign
    /// of life (see the module doc). Early calls are no-ops.
    pub fn handle_timeout(&mut self, now: Instant) {
        let timeout = self.reply_timeout;
        let due: Vec<(MsRequest, SlotState)> = self
            .slots
            .iter()
            .filter(|(_, s)| {
                s.state != SlotState::Working
                    && s.since.checked_add(timeout).is_some_and(|t| t <= now)
            })
            .map(|(k, s)| (*k, s.state))
            .collect();
        if due.is_empty() {
            return;
        }
        for (req, state) in due {
            self.slots.remove(&req);
            if state == SlotState::Won {
                if let Some(b) = self.budget.as_mut() {
                    *b = b.saturating_add(1);
                }
            }
            self.stats.expired_replies = self.stats.expired_replies.saturating_add(1);
            log::debug!(
                "no {} from {} for task {} within {:?}: slot freed",
                if state == SlotState::Won {
                    "data"
                } else {
                    "target"
                },
                req.client_id,
                req.task_id,
                timeout
            );
            self.remember_expired(req);
            if self.unresponsive.len() >= MAX_UNRESPONSIVE {
                self.unresponsive.clear();
            }
            self.unresponsive.insert(req.client_id);
        }
        self.offer(now);
    }

    /// The next sample to publish.
    #[must_use]
    pub fn poll_outgoing(&mut self) -> Option<Outgoing> {
        self.outgoing.pop_front()
    }

    /// The next event for the user.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
