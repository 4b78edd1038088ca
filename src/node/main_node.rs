//! [`MainNode`]: hands jobs to computing nodes and gets their solutions (AML-IP spec §4.4, §7.1
//! `MainNode` and `AsyncMainNode` in one).
//!
//! ```no_run
//! use amlip::node::{MainNode, NodeOptions};
//! let main = MainNode::new("AMLMainNode", NodeOptions::default())?;
//! // Blocking: waits for a computing node if there is none yet.
//! let (solution, server) = main.request_job_solution("hello")?;
//! println!("{server} answered {}", String::from_utf8_lossy(&solution));
//! // Pipelined: submit many, collect the solutions as they come.
//! let solutions = main.solutions();
//! let tasks: Vec<_> = ["a", "b", "c"].iter().map(|j| main.submit(*j)).collect::<Result<_, _>>()?;
//! for _ in &tasks {
//!     let s = solutions.recv().expect("node alive");
//!     println!("task {} solved by {}", s.task, s.server);
//! }
//! # Ok::<(), amlip::node::NodeError>(())
//! ```

use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::core::{NodeCore, NodeEvent};
use super::options::{NodeError, NodeOptions};
use super::runtime::{now, Runtime};
use super::stats::NodeStats;
use crate::multiservice::topics::{MultiServiceTopic, JOB_TOPIC_NAME};
use crate::multiservice::{AmlipId, TaskId};

/// A job's solution, as delivered to [`MainNode::solutions`] or [`MainNode::on_solution`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    /// The task id [`MainNode::submit`] returned.
    pub task: TaskId,
    /// The computing node that solved it.
    pub server: AmlipId,
    /// The solution bytes.
    pub solution: Vec<u8>,
    /// Time from submission to the solution (re-issues after a lost server included).
    pub latency: Duration,
    /// The job failed on its last attempt: `solution` is the last computing node's reason
    /// (see [`MainNode::set_max_attempts`]).
    pub failed: bool,
    /// Attempts made (1 unless computing nodes failed the job before).
    pub attempts: u32,
    /// The lost computing node the job was last re-issued from, if it was.
    pub reissued_from: Option<AmlipId>,
}

type Callback = Box<dyn Fn(Solution) + Send + Sync>;
type Waited = Result<Solution, NodeError>;
type Waiter = Sender<Waited>;

/// Longest a caller polls for its solution before it blocks (the poll also ends after a quiet
/// `busy_poll`).
const POLL_LIMIT: Duration = Duration::from_millis(100);

/// Where solutions go: a blocked caller, the callback, or the channel.
struct Router {
    waiters: BTreeMap<TaskId, Waiter>,
    callback: Option<Arc<Callback>>,
    channel: Sender<Solution>,
    first_receiver: Option<Receiver<Solution>>,
    /// Failed attempts of tasks that were retried and are not finished.
    retries: BTreeMap<TaskId, u32>,
}

fn lock(m: &Mutex<Router>) -> MutexGuard<'_, Router> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Router {
    fn deliver(router: &Mutex<Router>, e: NodeEvent) {
        match e {
            NodeEvent::Solved {
                task,
                server,
                solution,
                latency,
                reissued_from,
            } => Self::finish(
                router,
                Solution {
                    task,
                    server,
                    solution,
                    latency,
                    failed: false,
                    attempts: 1,
                    reissued_from,
                },
            ),
            NodeEvent::Failed {
                task,
                server,
                reason,
                attempts,
                latency,
            } => Self::finish(
                router,
                Solution {
                    task,
                    server,
                    solution: reason,
                    latency,
                    failed: true,
                    attempts,
                    reissued_from: None,
                },
            ),
            NodeEvent::Retried {
                task,
                server,
                attempt,
                reason,
            } => {
                log::info!(
                    "task {task}: attempt {attempt} failed on {server} ({}), offered again",
                    String::from_utf8_lossy(&reason)
                );
                lock(router).retries.insert(task, attempt);
            }
            NodeEvent::Reissued { task, lost_server } => {
                log::info!("task {task}: computing node {lost_server} lost, job requested again");
            }
            NodeEvent::Abandoned { task } => {
                log::warn!("task {task} abandoned: no task ids left");
                let mut r = lock(router);
                r.retries.remove(&task);
                if let Some(w) = r.waiters.remove(&task) {
                    let _ = w.send(Err(NodeError::Core(
                        super::core::CoreError::TaskIdsExhausted,
                    )));
                }
            }
            NodeEvent::PeerLost { id, .. } => log::info!("node {id} left"),
            NodeEvent::PeerReturned { id, .. } => log::info!("node {id} is back"),
            NodeEvent::Task { .. } | NodeEvent::Status(_) => {}
        }
    }

    /// Hand a finished task to its waiter, the callback or the channel.
    fn finish(router: &Mutex<Router>, mut s: Solution) {
        let task = s.task;
        {
            // Sent after the router's lock is released: the woken caller submits its next
            // job at once, and would otherwise block on this lock.
            let mut r = lock(router);
            if !r.retries.is_empty() {
                if let Some(n) = r.retries.remove(&task) {
                    s.attempts = s.attempts.max(n.saturating_add(1));
                }
            }
            if let Some(w) = r.waiters.remove(&task) {
                drop(r);
                let result = if s.failed {
                    Err(NodeError::JobFailed {
                        server: s.server,
                        attempts: s.attempts,
                        reason: String::from_utf8_lossy(&s.solution).into_owned(),
                    })
                } else {
                    Ok(s)
                };
                let _ = w.send(result);
            } else if let Some(cb) = r.callback.clone() {
                drop(r);
                cb(s);
            } else {
                let channel = r.channel.clone();
                drop(r);
                let _ = channel.send(s);
            }
        }
    }
}

/// A MainNode (see the module doc). Dropping it cancels its pending jobs, publishes `dropped`
/// and leaves the domain.
pub struct MainNode {
    // Declared first: dropped (shut down) before the router goes.
    runtime: Runtime,
    router: Arc<Mutex<Router>>,
}

impl std::fmt::Debug for MainNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MainNode")
            .field("id", &self.runtime.id())
            .finish()
    }
}

impl MainNode {
    /// Start a main node called `name` (≤ 28 ASCII bytes) with a fresh random id.
    pub fn new(name: &str, options: NodeOptions) -> Result<Self, NodeError> {
        let (tx, rx) = mpsc::channel();
        let router = Arc::new(Mutex::new(Router {
            waiters: BTreeMap::new(),
            callback: None,
            channel: tx,
            first_receiver: Some(rx),
            retries: BTreeMap::new(),
        }));
        let r = Arc::clone(&router);
        let runtime = Runtime::start(
            name,
            &options,
            NodeCore::main,
            Box::new(move |e| Router::deliver(&r, e)),
        )?;
        Ok(MainNode { runtime, router })
    }

    /// This node's id (`name.hh.hh.hh.hh`).
    pub fn id(&self) -> AmlipId {
        self.runtime.id()
    }

    /// Attempts per job before it is reported failed (default 3, at most 100): a computing
    /// node whose engine fails a job answers with a failed solution, and the job is offered
    /// to another computing node (see [`crate::multiservice::client`], "Failed jobs"). A
    /// failed job ends [`MainNode::request_job_solution`] with [`NodeError::JobFailed`], and
    /// reaches [`MainNode::solutions`] / [`MainNode::on_solution`] with `failed` set.
    pub fn set_max_attempts(&self, attempts: u32) -> Result<(), NodeError> {
        Ok(self
            .runtime
            .with_core(|c, _| c.set_max_attempts(attempts))??)
    }

    /// Send a job and wait for its solution; returns it with the computing node that solved it.
    /// Waits as long as it takes, also for a computing node to appear (spec §4.9).
    pub fn request_job_solution(
        &self,
        job: impl Into<Vec<u8>>,
    ) -> Result<(Vec<u8>, AmlipId), NodeError> {
        let rx = self.submit_waiting(job.into())?.1;
        let r = match self.poll_for(&rx, now() + POLL_LIMIT) {
            Some(r) => Ok(r),
            None => rx.recv(),
        };
        match r {
            Ok(r) => r.map(|s| (s.solution, s.server)),
            Err(_) => Err(NodeError::Closed),
        }
    }

    /// As [`MainNode::request_job_solution`], giving up (and cancelling the job) after
    /// `timeout`.
    pub fn request_job_solution_timeout(
        &self,
        job: impl Into<Vec<u8>>,
        timeout: Duration,
    ) -> Result<(Vec<u8>, AmlipId), NodeError> {
        let deadline = now() + timeout;
        let (task, rx) = self.submit_waiting(job.into())?;
        let r = match self.poll_for(&rx, deadline) {
            Some(r) => Ok(r),
            None => rx.recv_timeout(deadline.saturating_duration_since(now())),
        };
        match r {
            Ok(r) => r.map(|s| (s.solution, s.server)),
            Err(RecvTimeoutError::Timeout) => {
                lock(&self.router).waiters.remove(&task);
                self.cancel(task);
                // The solution may have raced the cancel.
                match rx.try_recv() {
                    Ok(r) => r.map(|s| (s.solution, s.server)),
                    Err(_) => Err(NodeError::Timeout),
                }
            }
            Err(RecvTimeoutError::Disconnected) => Err(NodeError::Closed),
        }
    }

    /// While the solution comes quickly, read the node's traffic on this thread (no hand-over
    /// from the receive thread); `None` if it did not come within the poll window.
    fn poll_for(&self, rx: &Receiver<Waited>, deadline: Instant) -> Option<Waited> {
        let mut got = None;
        self.runtime.poll_until(deadline, || match rx.try_recv() {
            Ok(r) => {
                got = Some(r);
                true
            }
            Err(TryRecvError::Empty) => false,
            Err(TryRecvError::Disconnected) => true,
        });
        got
    }

    fn submit_waiting(&self, job: Vec<u8>) -> Result<(TaskId, Receiver<Waited>), NodeError> {
        let (tx, rx) = mpsc::channel();
        let router = Arc::clone(&self.router);
        // Registered under the node's lock, before any reader can deliver the solution.
        let task = self.runtime.with_core(move |c, now| {
            let t = c.submit(now, job)?;
            lock(&router).waiters.insert(t, tx);
            Ok::<_, NodeError>(t)
        })??;
        Ok((task, rx))
    }

    /// Send a job without waiting: its solution goes to the callback set with
    /// [`MainNode::on_solution`], or else to the channel of [`MainNode::solutions`].
    pub fn submit(&self, job: impl Into<Vec<u8>>) -> Result<TaskId, NodeError> {
        let job = job.into();
        Ok(self.runtime.with_core(move |c, now| c.submit(now, job))??)
    }

    /// The channel of solutions of [`MainNode::submit`]ted jobs. The first call gets every
    /// solution since the node started; a later call replaces the channel (the older receiver
    /// gets nothing more).
    #[must_use]
    pub fn solutions(&self) -> Receiver<Solution> {
        let mut r = lock(&self.router);
        if let Some(rx) = r.first_receiver.take() {
            return rx;
        }
        let (tx, rx) = mpsc::channel();
        r.channel = tx;
        rx
    }

    /// Call `f` for every solution of a [`MainNode::submit`]ted job instead of sending it to
    /// the channel. It runs on the node's receive thread, the lowest-latency place: keep it
    /// short (hand long work to a thread of yours) and do not wait in it for another solution
    /// (that thread would bring it). Submitting more jobs from it is fine.
    pub fn on_solution(&self, f: impl Fn(Solution) + Send + Sync + 'static) {
        lock(&self.router).callback = Some(Arc::new(Box::new(f)));
    }

    /// Abandon a submitted job; false if it was not pending (spec §11.2: the computing nodes
    /// that answered are released).
    pub fn cancel(&self, task: TaskId) -> bool {
        self.runtime
            .with_core(|c, now| c.cancel(now, task))
            .unwrap_or(false)
    }

    /// Jobs submitted and not yet solved or cancelled.
    pub fn in_flight(&self) -> usize {
        self.runtime
            .inspect(|c| c.client().map_or(0, |c| c.in_flight()))
    }

    /// Computing nodes currently matched (readers of this node's requests).
    pub fn computing_nodes(&self) -> usize {
        let topic = MultiServiceTopic::RequestAvailability
            .shared_name(JOB_TOPIC_NAME)
            .unwrap_or_default();
        self.runtime.matched_readers(&topic)
    }

    /// The node's counters: its participant's (datagrams, drops by reason, retransmissions,
    /// NACKs, matched peers, ...) and its core's (malformed samples, solutions over
    /// [`NodeOptions::max_job_size`], ...).
    pub fn stats(&self) -> NodeStats {
        self.runtime.stats()
    }

    /// Samples this node could not write (a full KEEP_ALL history); 0 in normal operation.
    pub fn write_errors(&self) -> u64 {
        self.runtime.write_errors()
    }
}
