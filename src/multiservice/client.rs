//! The sans-IO MultiService client (MainNode side, AML-IP spec §4.4, §4.6, improved per §11).
//!
//! Unlike AML-IP's clients (one handshake at a time) this one pipelines: every submitted task
//! publishes its request at once, replies are matched to tasks by task id, the first reply for a
//! task wins and is published unchanged as its target, with the job to that server only (the
//! job first: it is what the chosen server waits for, and the order does not matter to any
//! server, spec §12 "acting as client").
//! Exactly one solution per task reaches the user; late or duplicate replies and solutions are
//! dropped and counted.
//!
//! # Driving it
//! Feed samples read from `amlip/<base>_reply_available_<own>` to
//! [`Client::handle_reply_available`] and from `amlip/<base>_task_solution_<own>` to
//! [`Client::handle_solution`]; after every input drain [`Client::poll_outgoing`] (publish each
//! sample on [`Outgoing::topic_name`], in order) and [`Client::poll_event`].
//!
//! # Failure handling (spec §11.1, §11.2)
//! AML-IP has no failure detection: a task whose chosen server dies is never solved. When the
//! node layer learns that a server's participant is gone it calls [`Client::server_lost`]: every
//! task assigned to that server is re-requested under a **new** wire task id (C++ servers skip a
//! reused (client, task) pair), keeping the task id the user was given and the time of its first
//! submission; later replies from the lost server are not chosen until
//! [`Client::server_back`] says its participant reappeared (a node paused past its lease). A
//! late solution for the superseded wire id (the lost server came back with it), like any other
//! late or duplicate solution, is dropped, counted in [`ClientStats::stale_solutions`] and
//! logged at debug level: each task is solved once.
//! [`Client::cancel`] abandons a task; if no server was chosen yet it publishes a target naming
//! the undefined id, which releases every server that replied.
//!
//! # Failed jobs (amlip-rs extension)
//! AML-IP has no failure message (spec §4.10). Our computing nodes answer a job their engine
//! failed with a solution marked failed (a trailer AML-IP's readers ignore, see
//! [`super::types`]); AML-IP's never do, so against them nothing changes. The client counts the
//! attempts of each task: a failed solution before [`DEFAULT_MAX_ATTEMPTS`] (see
//! [`Client::set_max_attempts`]) re-requests the task under a new wire task id (as for a lost
//! server) and reports [`ClientEvent::Retried`]; the last one reports [`ClientEvent::Failed`]
//! with the last server's reason. A retried task prefers a server that has not failed it: a
//! reply from one that has is held for up to [`DEFAULT_RETRY_GRACE`] and chosen only if no
//! other server replies by then ([`Client::handle_timeout`]; with a single computing node the
//! job is simply tried there again). A held reply's server keeps its slot until the target
//! (naming whoever was chosen) releases it, as any losing reply.
//!
//! # Flow control
//! At most [`DEFAULT_MAX_OPEN_REQUESTS`] requests are open (published, no server chosen yet)
//! at once; later submissions wait in the client, in order, and their requests go out as
//! earlier tasks get their servers (in bursts of a sixteenth of the window). Every server queues each open request until it sees its
//! target, and drops requests beyond its bounded queue ([`super::server::DEFAULT_MAX_QUEUED`],
//! like Fast DDS's KEEP_ALL `max_samples`); without this window a burst of submissions larger
//! than that queue would leave the excess unanswered forever (seen with 20,000 jobs submitted
//! at once to 4 computing nodes).
//!
//! # What the node layer may forget (spec §11.3)
//! A request may leave the durable request history once its target was published (after every
//! matched reader acknowledged it), a target once its request is gone, and a job payload once
//! its task is solved, cancelled or re-issued.

use core::fmt;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use super::id::{AmlipId, TaskId};
use super::outgoing::Outgoing;
use super::types::{GenericData, MsData, MsReference, MsRequest};

/// How many lost servers a client remembers (to never choose their late replies).
pub const MAX_LOST_SERVERS: usize = 1024;

/// Default cap on open requests (see the module doc "Flow control"): well under a server's
/// request queue, and far more than the free slots of any realistic set of servers.
pub const DEFAULT_MAX_OPEN_REQUESTS: usize = 1024;

/// Default attempts per task before it is reported failed (see the module doc).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// Largest accepted value of [`Client::set_max_attempts`].
pub const MAX_ATTEMPTS_LIMIT: u32 = 100;

/// Default time a retried task waits for a server that has not failed it (module doc).
pub const DEFAULT_RETRY_GRACE: Duration = Duration::from_millis(250);

/// Something the client tells its user (drained with [`Client::poll_event`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// A task's one and only solution arrived.
    Solved {
        /// The task id returned by [`Client::submit`].
        task: TaskId,
        /// The server that solved it (from the solution header).
        server: AmlipId,
        /// The solution bytes.
        solution: GenericData,
        /// Time from the first submission to the solution (re-issues included), from the
        /// `now` values given.
        latency: Duration,
        /// The lost server the task was last re-issued from, if it was.
        reissued_from: Option<AmlipId>,
    },
    /// A task assigned to a lost server was requested again (spec §11.1).
    Reissued {
        /// The task id returned by [`Client::submit`].
        task: TaskId,
        /// The server that was lost.
        lost_server: AmlipId,
    },
    /// A task could not be re-issued because this client ran out of task ids.
    Abandoned {
        /// The task id returned by [`Client::submit`].
        task: TaskId,
    },
    /// A server reported that a task failed; it was requested again (module doc).
    Retried {
        /// The task id returned by [`Client::submit`].
        task: TaskId,
        /// The server that failed it.
        server: AmlipId,
        /// Failed attempts so far (1 after the first failure).
        attempt: u32,
        /// The server's reason.
        reason: GenericData,
    },
    /// A task failed on its last attempt: no solution will come (module doc).
    Failed {
        /// The task id returned by [`Client::submit`].
        task: TaskId,
        /// The server of the last attempt.
        server: AmlipId,
        /// Its reason.
        reason: GenericData,
        /// Attempts made.
        attempts: u32,
        /// Time from submission to the last failure.
        latency: Duration,
    },
}

/// Why a job could not be submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubmitError {
    /// All 2^32 task ids of this client id were used; a new node id is needed (spec §3.4).
    TaskIdsExhausted,
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::TaskIdsExhausted => {
                f.write_str("all 2^32 task ids of this client were used; restart with a new id")
            }
        }
    }
}

impl std::error::Error for SubmitError {}

/// Counters of inputs the client dropped, for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientStats {
    /// Tasks submitted.
    pub submitted: u64,
    /// Tasks solved (events delivered).
    pub solved: u64,
    /// Replies or solutions addressed to another client id.
    pub foreign: u64,
    /// Replies for tasks already assigned, finished or unknown (losers, duplicates, replays).
    pub stale_replies: u64,
    /// Replies from servers reported lost, or naming no server.
    pub refused_replies: u64,
    /// Solutions for tasks not awaiting one (duplicates, superseded or cancelled tasks).
    pub stale_solutions: u64,
    /// Lost servers whose participant came back.
    pub servers_back: u64,
    /// Tasks re-requested after their server was lost.
    pub reissued: u64,
    /// Failed solutions received (each attempt).
    pub failed_attempts: u64,
    /// Tasks reported failed after their last attempt.
    pub failed: u64,
    /// Replies held back because their server had failed the task before.
    pub deferred_replies: u64,
}

#[derive(Debug, Clone)]
enum Phase {
    /// Request held back by the window of open requests (not published yet).
    Held,
    /// Request published, waiting for the first reply.
    Requested,
    /// Target and job published to this server, waiting for the solution.
    Assigned(AmlipId),
}

#[derive(Debug, Clone)]
struct InFlight {
    /// The id the user holds.
    handle: TaskId,
    job: GenericData,
    /// First submission (kept across re-issues).
    since: Instant,
    phase: Phase,
    /// Failed attempts so far.
    attempts: u32,
    /// Servers that failed this task (at most `max_attempts`).
    avoid: Vec<AmlipId>,
    /// The lost server it was last re-issued from.
    reissued_from: Option<AmlipId>,
}

/// The MultiService client state machine (see the module doc).
#[derive(Debug)]
pub struct Client {
    id: AmlipId,
    /// Next wire task id; `None` once all were used.
    next_task: Option<u32>,
    /// In-flight tasks by wire task id.
    tasks: BTreeMap<TaskId, InFlight>,
    /// User handle → current wire task id.
    handles: BTreeMap<TaskId, TaskId>,
    /// Held tasks (wire ids), in the order their requests go out; may hold stale ids.
    held: VecDeque<TaskId>,
    /// Tasks whose request is published and that have no server yet.
    open: usize,
    max_open: usize,
    lost: BTreeSet<AmlipId>,
    lost_order: VecDeque<AmlipId>,
    max_attempts: u32,
    retry_grace: Duration,
    /// Held replies of servers that failed the task before, by wire task id, with the time
    /// they may be chosen.
    fallbacks: BTreeMap<TaskId, (MsReference, Instant)>,
    outgoing: VecDeque<Outgoing>,
    events: VecDeque<ClientEvent>,
    stats: ClientStats,
}

impl Client {
    /// A client with node id `id`; its first task id is 0 (spec §3.4).
    pub fn new(id: AmlipId) -> Self {
        Client {
            id,
            next_task: Some(0),
            tasks: BTreeMap::new(),
            handles: BTreeMap::new(),
            held: VecDeque::new(),
            open: 0,
            max_open: DEFAULT_MAX_OPEN_REQUESTS,
            lost: BTreeSet::new(),
            lost_order: VecDeque::new(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            retry_grace: DEFAULT_RETRY_GRACE,
            fallbacks: BTreeMap::new(),
            outgoing: VecDeque::new(),
            events: VecDeque::new(),
            stats: ClientStats::default(),
        }
    }

    /// This client's node id.
    pub fn id(&self) -> AmlipId {
        self.id
    }

    /// Counters.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// Tasks submitted and not yet solved, cancelled or abandoned.
    pub fn in_flight(&self) -> usize {
        self.tasks.len()
    }

    /// Requests published and waiting for a server (at most the window).
    pub fn open_requests(&self) -> usize {
        self.open
    }

    /// Set the window of open requests (at least 1); held requests go out if it grew.
    pub fn set_max_open_requests(&mut self, max_open: usize) {
        self.max_open = max_open.max(1);
        self.release();
    }

    /// Attempts per task before it is reported failed (1 to [`MAX_ATTEMPTS_LIMIT`]; see the
    /// module doc). Applies to failures received from now on.
    pub fn set_max_attempts(&mut self, attempts: u32) {
        self.max_attempts = attempts.clamp(1, MAX_ATTEMPTS_LIMIT);
    }

    /// How long a retried task waits for a server that has not failed it (module doc).
    pub fn set_retry_grace(&mut self, grace: Duration) {
        self.retry_grace = grace;
    }

    /// True while `task` (an id from [`Client::submit`]) awaits its solution.
    pub fn is_pending(&self, task: TaskId) -> bool {
        self.handles.contains_key(&task)
    }

    /// The server `task` is assigned to, if one was chosen.
    pub fn assigned_server(&self, task: TaskId) -> Option<AmlipId> {
        let wire = self.handles.get(&task)?;
        match self.tasks.get(wire)?.phase {
            Phase::Assigned(s) => Some(s),
            Phase::Held | Phase::Requested => None,
        }
    }

    fn allocate(&mut self) -> Result<TaskId, SubmitError> {
        let t = self.next_task.ok_or(SubmitError::TaskIdsExhausted)?;
        self.next_task = t.checked_add(1);
        Ok(TaskId(t))
    }

    /// Queue the request of a task (at the front for a re-issued one, whose job is older); it
    /// goes out when the window has room.
    fn request(
        &mut self,
        since: Instant,
        wire: TaskId,
        handle: TaskId,
        job: GenericData,
        front: bool,
    ) {
        self.tasks.insert(
            wire,
            InFlight {
                handle,
                job,
                since,
                phase: Phase::Held,
                attempts: 0,
                avoid: Vec::new(),
                reissued_from: None,
            },
        );
        self.handles.insert(handle, wire);
        if front {
            self.held.push_front(wire);
        } else {
            self.held.push_back(wire);
        }
        self.release();
    }

    /// Publish held requests while fewer than `max_open` are open.
    fn release(&mut self) {
        while self.open < self.max_open {
            let Some(wire) = self.held.pop_front() else {
                break;
            };
            let Some(t) = self.tasks.get_mut(&wire) else {
                continue;
            };
            if !matches!(t.phase, Phase::Held) {
                continue;
            }
            t.phase = Phase::Requested;
            self.open += 1;
            self.outgoing.push_back(Outgoing::Request(MsRequest {
                client_id: self.id,
                task_id: wire,
            }));
        }
    }

    /// A task left the `Requested` phase: held requests go out once a sixteenth of the window
    /// is free, in a burst (servers then read several per wake-up instead of one).
    fn closed_request(&mut self) {
        self.open = self.open.saturating_sub(1);
        let batch = (self.max_open / 16).max(1);
        if self.open.saturating_add(batch) <= self.max_open {
            self.release();
        }
    }

    /// Submit a job: publishes its request (once the window of open requests has room) and
    /// returns its task id (spec §4.4).
    pub fn submit(&mut self, now: Instant, job: GenericData) -> Result<TaskId, SubmitError> {
        let task = self.allocate()?;
        self.request(now, task, task, job, false);
        self.stats.submitted = self.stats.submitted.saturating_add(1);
        Ok(task)
    }

    /// A sample from `_reply_available_<own>`: the first reply for a waiting task chooses its
    /// server; the job goes to that server and the reply is published unchanged as the target
    /// (spec §4.4, §12 "acting as client").
    pub fn handle_reply_available(&mut self, now: Instant, reply: MsReference) {
        if reply.client_id != self.id {
            self.stats.foreign = self.stats.foreign.saturating_add(1);
            return;
        }
        if !reply.server_id.is_defined() || self.lost.contains(&reply.server_id) {
            self.stats.refused_replies = self.stats.refused_replies.saturating_add(1);
            return;
        }
        let Some(task) = self.tasks.get_mut(&reply.task_id) else {
            self.stats.stale_replies = self.stats.stale_replies.saturating_add(1);
            return;
        };
        if !matches!(task.phase, Phase::Requested) {
            self.stats.stale_replies = self.stats.stale_replies.saturating_add(1);
            return;
        }
        if task.avoid.contains(&reply.server_id) {
            self.stats.deferred_replies = self.stats.deferred_replies.saturating_add(1);
            let due = now.checked_add(self.retry_grace).unwrap_or(now);
            self.fallbacks.entry(reply.task_id).or_insert((reply, due));
            return;
        }
        self.assign(reply);
    }

    /// Choose `reply`'s server for its task (which is in the `Requested` phase).
    fn assign(&mut self, reply: MsReference) {
        self.fallbacks.remove(&reply.task_id);
        let Some(task) = self.tasks.get_mut(&reply.task_id) else {
            return;
        };
        task.phase = Phase::Assigned(reply.server_id);
        let data = MsData::new(reply, task.job.clone());
        self.outgoing.push_back(Outgoing::TaskData {
            to_server: reply.server_id,
            data,
        });
        self.outgoing.push_back(Outgoing::Target(reply));
        self.closed_request();
    }

    /// A sample from `_task_solution_<own>`: the solution of an assigned task, matched by
    /// (client, task) only (spec §12); delivered once, later copies dropped.
    pub fn handle_solution(&mut self, now: Instant, solution: MsData) {
        if solution.client_id != self.id {
            self.stats.foreign = self.stats.foreign.saturating_add(1);
            return;
        }
        let assigned = self
            .tasks
            .get(&solution.task_id)
            .is_some_and(|t| matches!(t.phase, Phase::Assigned(_)));
        if !assigned {
            self.stats.stale_solutions = self.stats.stale_solutions.saturating_add(1);
            log::debug!(
                "dropped a late or duplicate solution of task {} from {}",
                solution.task_id,
                solution.server_id
            );
            return;
        }
        let Some(task) = self.tasks.remove(&solution.task_id) else {
            return;
        };
        self.handles.remove(&task.handle);
        if solution.failed {
            self.task_failed(now, task, solution.server_id, solution.data);
            return;
        }
        self.stats.solved = self.stats.solved.saturating_add(1);
        self.events.push_back(ClientEvent::Solved {
            task: task.handle,
            server: solution.server_id,
            solution: solution.data,
            latency: now.saturating_duration_since(task.since),
            reissued_from: task.reissued_from,
        });
    }

    /// A failed solution for `task`: request it again, or report it failed after its last
    /// attempt (module doc).
    fn task_failed(&mut self, now: Instant, task: InFlight, server: AmlipId, reason: GenericData) {
        self.stats.failed_attempts = self.stats.failed_attempts.saturating_add(1);
        let attempts = task.attempts.saturating_add(1);
        if attempts < self.max_attempts {
            if let Ok(wire) = self.allocate() {
                let mut avoid = task.avoid;
                if !avoid.contains(&server) {
                    avoid.push(server);
                }
                // Oldest first, and the latency counts from the first submission.
                self.request(task.since, wire, task.handle, task.job, true);
                if let Some(t) = self.tasks.get_mut(&wire) {
                    t.attempts = attempts;
                    t.avoid = avoid;
                    t.reissued_from = task.reissued_from;
                }
                self.events.push_back(ClientEvent::Retried {
                    task: task.handle,
                    server,
                    attempt: attempts,
                    reason,
                });
                return;
            }
        }
        self.stats.failed = self.stats.failed.saturating_add(1);
        self.events.push_back(ClientEvent::Failed {
            task: task.handle,
            server,
            reason,
            attempts,
            latency: now.saturating_duration_since(task.since),
        });
    }

    /// When [`Client::handle_timeout`] has something to do: the earliest time a held reply
    /// may be chosen (module doc, "Failed jobs").
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.fallbacks.values().map(|(_, due)| *due).min()
    }

    /// Choose the held replies whose grace has passed (for tasks that found no other server).
    /// Early calls do nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<MsReference> = self
            .fallbacks
            .values()
            .filter(|(_, at)| *at <= now)
            .map(|(r, _)| *r)
            .collect();
        for reply in due {
            self.fallbacks.remove(&reply.task_id);
            let requested = self
                .tasks
                .get(&reply.task_id)
                .is_some_and(|t| matches!(t.phase, Phase::Requested));
            if requested && !self.lost.contains(&reply.server_id) {
                self.assign(reply);
            }
        }
    }

    /// Abandon `task`. If no server was chosen yet, a target naming the undefined id is published
    /// so every server that replied is released (spec §11.2). Returns false if `task` was not
    /// pending.
    pub fn cancel(&mut self, _now: Instant, task: TaskId) -> bool {
        let Some(wire) = self.handles.remove(&task) else {
            return false;
        };
        self.fallbacks.remove(&wire);
        match self.tasks.remove(&wire).map(|t| t.phase) {
            Some(Phase::Requested) => {
                self.outgoing.push_back(Outgoing::Target(MsReference {
                    client_id: self.id,
                    task_id: wire,
                    server_id: AmlipId::undefined(),
                }));
                self.closed_request();
            }
            Some(Phase::Held) => {
                // Nothing was published; forget stale queue entries now and then.
                if self.held.len() > self.tasks.len().saturating_mul(2).saturating_add(16) {
                    let tasks = &self.tasks;
                    self.held.retain(|w| tasks.contains_key(w));
                }
            }
            Some(Phase::Assigned(_)) | None => {}
        }
        true
    }

    /// Cancel every pending task (before the node goes away), releasing the servers that
    /// replied to tasks not yet assigned; returns how many tasks were pending.
    pub fn cancel_all(&mut self, now: Instant) -> usize {
        // Held tasks first, so cancelling an open one does not publish a held request.
        let mut held = 0usize;
        for wire in std::mem::take(&mut self.held) {
            if let Some(t) = self.tasks.remove(&wire) {
                self.handles.remove(&t.handle);
                held = held.saturating_add(1);
            }
        }
        let handles: Vec<TaskId> = self.handles.keys().copied().collect();
        for t in &handles {
            self.cancel(now, *t);
        }
        handles.len().saturating_add(held)
    }

    /// The participant of `server` reappeared after it was reported lost (paused past its
    /// lease, then resumed): its replies are chosen again.
    pub fn server_back(&mut self, _now: Instant, server: AmlipId) {
        if self.lost.remove(&server) {
            self.lost_order.retain(|s| *s != server);
            self.stats.servers_back = self.stats.servers_back.saturating_add(1);
        }
    }

    /// The participant of `server` is gone (lease expired, or it published `dropped`): re-request
    /// every task assigned to it under a new task id, and do not choose its replies until
    /// [`Client::server_back`].
    pub fn server_lost(&mut self, _now: Instant, server: AmlipId) {
        if self.lost.insert(server) {
            self.lost_order.push_back(server);
            if self.lost_order.len() > MAX_LOST_SERVERS {
                if let Some(old) = self.lost_order.pop_front() {
                    self.lost.remove(&old);
                }
            }
        }
        let orphaned: Vec<TaskId> = self
            .tasks
            .iter()
            .filter(|(_, t)| matches!(t.phase, Phase::Assigned(s) if s == server))
            .map(|(wire, _)| *wire)
            .collect();
        // Re-issued tasks go to the front of the held queue, oldest first.
        for wire in orphaned.into_iter().rev() {
            let Some(t) = self.tasks.remove(&wire) else {
                continue;
            };
            let handle = t.handle;
            match self.allocate() {
                Ok(new_wire) => {
                    self.tasks.insert(
                        new_wire,
                        InFlight {
                            phase: Phase::Held,
                            reissued_from: Some(server),
                            ..t
                        },
                    );
                    self.handles.insert(handle, new_wire);
                    self.held.push_front(new_wire);
                    self.stats.reissued = self.stats.reissued.saturating_add(1);
                    self.events.push_back(ClientEvent::Reissued {
                        task: handle,
                        lost_server: server,
                    });
                }
                Err(SubmitError::TaskIdsExhausted) => {
                    self.handles.remove(&handle);
                    self.events
                        .push_back(ClientEvent::Abandoned { task: handle });
                }
            }
        }
        self.release();
    }

    /// The next sample to publish.
    #[must_use]
    pub fn poll_outgoing(&mut self) -> Option<Outgoing> {
        self.outgoing.pop_front()
    }

    /// The next event for the user.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
