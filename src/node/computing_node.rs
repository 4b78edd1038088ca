//! [`ComputingNode`]: answers jobs with a closure (AML-IP spec §4.5, §7.1 `ComputingNode` and
//! `AsyncComputingNode` in one).
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! use amlip::node::{ComputingNode, NodeOptions};
//! let node = ComputingNode::new("AMLComputingNode", NodeOptions::default())?;
//! // One job (blocks until a main node sends one):
//! let client = node.process_job(|job| job.to_ascii_uppercase())?;
//! // Or until `stop` is set, up to 4 jobs at once:
//! let stop = AtomicBool::new(false);
//! let answered = node.run(&stop, 4, |job| job.to_ascii_uppercase())?;
//! # Ok::<(), amlip::node::NodeError>(())
//! ```
//!
//! Requests that arrive while the node is not processing wait in its queue (spec §4.9): they are
//! answered once `process_job` or `run` is called.
//!
//! An engine that can fail ([`ComputingNode::try_run_jobs`]) returns `Err(reason)`; an engine
//! that panics fails its job the same way (the panic is caught). A failed job is answered with
//! a failed solution carrying the reason (see [`crate::multiservice::types`]): our main nodes
//! offer it to another computing node, up to their attempts, then report it failed; AML-IP's
//! main nodes see the reason as the solution.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::core::{NodeCore, NodeEvent};
use super::options::{NodeError, NodeOptions};
use super::runtime::{now, Runtime};
use super::stats::NodeStats;
use crate::multiservice::{AmlipId, MsRequest, SlotState, StateKind};

/// How often blocked workers look at the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// How long a stopping node waits for replies it already sent to be decided (a target naming
/// it would hand it a job it must run, spec §11.6).
const OFFER_GRACE: Duration = Duration::from_secs(2);

type Task = (MsRequest, Vec<u8>);

/// The engine as the workers call it: `Err` is a failed job's reason.
type Engine<'a> = dyn Fn(MsRequest, &[u8]) -> Result<Vec<u8>, String> + Sync + 'a;

/// A ComputingNode (see the module doc). Dropping it publishes `dropped` and leaves the domain.
pub struct ComputingNode {
    runtime: Runtime,
    tasks: Mutex<Receiver<Task>>,
}

impl std::fmt::Debug for ComputingNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComputingNode")
            .field("id", &self.runtime.id())
            .finish()
    }
}

fn lock(m: &Mutex<Receiver<Task>>) -> MutexGuard<'_, Receiver<Task>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ComputingNode {
    /// Start a computing node called `name` (≤ 28 ASCII bytes) with a fresh random id. It
    /// answers no request until [`ComputingNode::process_job`] or [`ComputingNode::run`].
    pub fn new(name: &str, options: NodeOptions) -> Result<Self, NodeError> {
        let (tx, rx) = mpsc::channel::<Task>();
        let tx = Mutex::new(tx);
        let sink = move |e: NodeEvent| match e {
            NodeEvent::Task { key, job } => {
                let tx: MutexGuard<'_, Sender<Task>> = tx.lock().unwrap_or_else(|p| p.into_inner());
                let _ = tx.send((key, job));
            }
            NodeEvent::PeerLost { id, .. } => log::info!("node {id} left"),
            NodeEvent::PeerReturned { id, .. } => log::info!("node {id} is back"),
            _ => {}
        };
        let runtime = Runtime::start(
            name,
            &options,
            |id, now| {
                NodeCore::computing(id, 1, now)
                    .with_reply_timeout(options.reply_timeout)
                    .with_prefetch(options.prefetch)
            },
            Box::new(sink),
        )?;
        Ok(ComputingNode {
            runtime,
            tasks: Mutex::new(rx),
        })
    }

    /// This node's id (`name.hh.hh.hh.hh`).
    pub fn id(&self) -> AmlipId {
        self.runtime.id()
    }

    /// The node's counters: its participant's (datagrams, drops by reason, retransmissions,
    /// NACKs, matched peers, ...) and its core's (malformed samples, jobs over
    /// [`NodeOptions::max_job_size`], ...).
    pub fn stats(&self) -> NodeStats {
        self.runtime.stats()
    }

    /// Answer exactly one job with `f`; returns the main node that sent it. Blocks until a job
    /// comes (as AML-IP's `process_job`).
    pub fn process_job(
        &self,
        f: impl FnOnce(&[u8]) -> Vec<u8> + Send,
    ) -> Result<AmlipId, NodeError> {
        let f = Mutex::new(Some(f));
        let never = AtomicBool::new(false);
        let (_, first) = self.serve(&never, 1, Some(1), &|_, job: &[u8]| {
            let f = f.lock().unwrap_or_else(|p| p.into_inner()).take();
            Ok(f.map(|f| f(job)).unwrap_or_default())
        })?;
        first.map(|k| k.client_id).ok_or(NodeError::Closed)
    }

    /// Answer jobs with `f`, up to `concurrency` at once on as many threads, until `stop` is
    /// set; returns how many were answered. Jobs already won when `stop` is set are finished.
    pub fn run(
        &self,
        stop: &AtomicBool,
        concurrency: usize,
        f: impl Fn(&[u8]) -> Vec<u8> + Sync,
    ) -> Result<u64, NodeError> {
        self.run_jobs(stop, concurrency, None, f)
    }

    /// As [`ComputingNode::run`], also returning after `max_jobs` jobs (when given).
    pub fn run_jobs(
        &self,
        stop: &AtomicBool,
        concurrency: usize,
        max_jobs: Option<u64>,
        f: impl Fn(&[u8]) -> Vec<u8> + Sync,
    ) -> Result<u64, NodeError> {
        Ok(self
            .serve(stop, concurrency, max_jobs, &|_, job| Ok(f(job)))?
            .0)
    }

    /// As [`ComputingNode::run_jobs`] with an engine that may fail: `f` gets the task (client
    /// and task id) and the job; `Err(reason)` fails the job (see the module doc). Returns how
    /// many jobs were answered, failed ones included.
    pub fn try_run_jobs<E: std::fmt::Display>(
        &self,
        stop: &AtomicBool,
        concurrency: usize,
        max_jobs: Option<u64>,
        f: impl Fn(MsRequest, &[u8]) -> Result<Vec<u8>, E> + Sync,
    ) -> Result<u64, NodeError> {
        let f = |key, job: &[u8]| f(key, job).map_err(|e| e.to_string());
        Ok(self.serve(stop, concurrency, max_jobs, &f)?.0)
    }

    /// Answer jobs with `f` (see [`ComputingNode::run_jobs`]); returns how many were answered
    /// and the first one's task (only the first is kept: a long-lived node must not grow).
    fn serve(
        &self,
        stop: &AtomicBool,
        concurrency: usize,
        max_jobs: Option<u64>,
        f: &Engine<'_>,
    ) -> Result<(u64, Option<MsRequest>), NodeError> {
        let concurrency = concurrency.max(1);
        self.runtime.with_core(|c, now| {
            c.set_concurrency(now, concurrency)?;
            c.set_task_limit(now, max_jobs)?;
            c.set_accepting(now, true)?;
            c.set_state(now, StateKind::RUNNING);
            Ok::<(), NodeError>(())
        })??;
        let completed = AtomicU64::new(0);
        let first: Mutex<Option<MsRequest>> = Mutex::new(None);
        let finishing = AtomicBool::new(false);
        let failed: Mutex<Option<NodeError>> = Mutex::new(None);
        let target_reached = || max_jobs.is_some_and(|m| completed.load(Ordering::Acquire) >= m);
        std::thread::scope(|scope| {
            for _ in 0..concurrency {
                scope.spawn(|| {
                    let mut finish_since: Option<Instant> = None;
                    loop {
                        let next = self.next_task(stop, &target_reached);
                        match next {
                            Ok((key, job)) => {
                                let outcome =
                                    std::panic::catch_unwind(AssertUnwindSafe(|| f(key, &job)))
                                        .unwrap_or_else(|p| Err(panic_reason(p.as_ref())));
                                // Not held while the solution is serialized.
                                drop(job);
                                let r = self.runtime.with_core(|c, now| match outcome {
                                    Ok(solution) => c.complete(now, key, solution),
                                    Err(reason) => {
                                        log::info!("job {key:?} failed: {reason}");
                                        c.fail(now, key, reason.into_bytes())
                                    }
                                });
                                match r {
                                    Ok(Ok(())) => {
                                        completed.fetch_add(1, Ordering::AcqRel);
                                        first
                                            .lock()
                                            .unwrap_or_else(|p| p.into_inner())
                                            .get_or_insert(key);
                                    }
                                    Ok(Err(e)) => log::warn!("job of {key:?} not answered: {e}"),
                                    Err(e) => {
                                        *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                                        return;
                                    }
                                }
                            }
                            Err(RecvTimeoutError::Timeout) => {}
                            Err(RecvTimeoutError::Disconnected) => return,
                        }
                        if !(stop.load(Ordering::Acquire) || target_reached()) {
                            continue;
                        }
                        if !finishing.swap(true, Ordering::AcqRel) {
                            let _ = self.runtime.with_core(|c, now| c.set_accepting(now, false));
                        }
                        let since = *finish_since.get_or_insert_with(now);
                        if self.quiet(now().saturating_duration_since(since) >= OFFER_GRACE) {
                            return;
                        }
                    }
                });
            }
        });
        let _ = self.runtime.with_core(|c, now| {
            let _ = c.set_accepting(now, false);
            let _ = c.set_task_limit(now, None);
            c.set_state(now, StateKind::STOPPED);
        });
        if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        Ok((
            completed.into_inner(),
            first.into_inner().unwrap_or_else(|p| p.into_inner()),
        ))
    }

    /// The next job, waiting at most `POLL`. While jobs come quickly the waiting thread reads
    /// the node's traffic itself, so a job costs no hand-over from the receive thread.
    fn next_task(
        &self,
        stop: &AtomicBool,
        target_reached: &dyn Fn() -> bool,
    ) -> Result<Task, RecvTimeoutError> {
        let rx = lock(&self.tasks);
        let mut got = None;
        self.runtime
            .poll_until(now() + POLL, || match rx.try_recv() {
                Ok(t) => {
                    got = Some(Ok(t));
                    true
                }
                Err(TryRecvError::Empty) => stop.load(Ordering::Acquire) || target_reached(),
                Err(TryRecvError::Disconnected) => {
                    got = Some(Err(RecvTimeoutError::Disconnected));
                    true
                }
            });
        match got {
            Some(r) => r,
            None if stop.load(Ordering::Acquire) || target_reached() => {
                Err(RecvTimeoutError::Timeout)
            }
            None => rx.recv_timeout(POLL),
        }
    }

    /// True when no job is won or running here (and, unless `ignore_offers`, no reply waits
    /// for its target).
    fn quiet(&self, ignore_offers: bool) -> bool {
        self.runtime.inspect(|c| {
            c.server().is_none_or(|s| {
                s.slots()
                    .all(|(_, state, _)| ignore_offers && state == SlotState::Offered)
            })
        })
    }
}

/// The reason sent for a job whose engine panicked.
fn panic_reason(p: &(dyn std::any::Any + Send)) -> String {
    let msg = p
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    format!("the engine panicked: {msg}")
}
