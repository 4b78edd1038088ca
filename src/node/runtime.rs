//! The driver that runs a [`NodeCore`] over `rtps::dds`: one participant per node; the only
//! place in the node layer with a clock.
//!
//! Every input (a sample, a lost participant, a user operation) runs under one lock: the core
//! handles it, then its outputs are carried out in order (endpoints created or deleted, samples
//! written) before the lock is released. The core's events are handed to the node's sink after
//! the lock is released, so a sink may call back into the node.
//!
//! Samples reach the core through reader listeners, on the participant's receive thread: a
//! message costs no thread hand-off between the socket and the core, and the answer is written
//! from the same thread. That thread must never wait for an acknowledgment it would itself
//! receive, so writes do not block: a sample whose writer's history is full goes to an ordered
//! backlog (and so does everything published after it), which one flusher thread writes with
//! the blocking write. Nothing is dropped. Threads per node: the participant's, one for
//! discovery events and the core's timers ([`NodeCore::poll_timeout`]), one flusher.

use std::collections::{BTreeMap, VecDeque};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rtps::dds::{
    error_chain, DdsEvent, DomainParticipant, ParticipantOptions, Qos, RawReader, RawWriter,
    ReceivePoller, WriteBatcher, WriteError,
};

use super::core::{NodeCore, NodeEvent, NodeOutput};
use super::options::{NodeError, NodeOptions};
use super::stats::NodeStats;
use crate::multiservice::topics::{
    self, DurabilityKind, EndpointDescription, EndpointKind, HistoryKind, ReliabilityKind,
    STATUS_TOPIC,
};
use crate::multiservice::AmlipId;

/// Where a node's events go (called without the node's lock held).
pub(crate) type Sink = Box<dyn Fn(NodeEvent) + Send + Sync>;

/// How long a node going away waits for its last samples (the `dropped` status, cancels) to
/// be acknowledged (AML-IP's writers wait up to 1 s, spec §6.4).
const GOODBYE_TIMEOUT: Duration = Duration::from_millis(500);

/// Longest the events thread sleeps: it also looks at the core's timers and the node's end.
const EVENT_POLL: Duration = Duration::from_millis(100);

/// The current time: the RTPS driver's clock (the only one).
pub(crate) fn now() -> Instant {
    rtps::transport::driver::now()
}

/// The DDS QoS of an AML-IP endpoint description (AML-IP spec §6.2, §6.3).
pub fn dds_qos(e: &EndpointDescription) -> Qos {
    let q = &e.qos;
    let mut qos = Qos::default().keyed(false);
    qos = match q.reliability {
        ReliabilityKind::Reliable => qos.reliable(),
        ReliabilityKind::BestEffort => qos.best_effort(),
    };
    qos = match q.durability {
        DurabilityKind::TransientLocal => qos.transient_local(),
        DurabilityKind::Volatile => qos.volatile(),
    };
    qos = match q.history {
        HistoryKind::KeepAll => qos.keep_all(),
        HistoryKind::KeepLast(d) => qos.keep_last(d.max(1)),
    };
    qos.max_samples(q.max_samples)
        .max_blocking_time(q.max_blocking_time)
}

/// Room for the header of a job or solution (ids, task id, sizes, alignment) over the job.
const SAMPLE_OVERHEAD: usize = 1024;

/// The readers' sample cap for a node whose jobs are at most `max_job_size` bytes: a bigger
/// sample is never allocated.
fn max_sample_size(max_job_size: usize) -> u32 {
    u32::try_from(max_job_size.saturating_add(SAMPLE_OVERHEAD)).unwrap_or(u32::MAX)
}

struct State {
    core: NodeCore,
    participant: Option<DomainParticipant>,
    writers: BTreeMap<String, RawWriter>,
    /// Readers (kept alive here; their samples go to listeners).
    readers: BTreeMap<String, RawReader>,
    /// Samples published after a writer's history was full, in publication order; the
    /// flusher writes them (see the module doc).
    backlog: VecDeque<(RawWriter, Bytes)>,
    write_errors: u64,
    /// `NodeOptions::writer_history_limit`.
    writer_history_limit: Option<u32>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("core", &self.core)
            .field("writers", &self.writers.len())
            .finish()
    }
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when the backlog grows, shrinks, or the node closes.
    backlog_changed: Condvar,
    sink: Sink,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Groups the samples one input publishes into one send (see [`Shared::with_core`]).
    batcher: WriteBatcher,
}

/// A running node (see the module doc). Dropping it shuts the node down: pending jobs are
/// cancelled, `dropped` is published, and the participant says goodbye.
pub(crate) struct Runtime {
    shared: Arc<Shared>,
    id: AmlipId,
    poller: ReceivePoller,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("id", &self.id).finish()
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Runtime {
    /// Open the participant of a node called `name` and start it; `make` builds its core.
    pub(crate) fn start(
        name: &str,
        options: &NodeOptions,
        make: impl FnOnce(AmlipId, Instant) -> NodeCore,
        sink: Sink,
    ) -> Result<Self, NodeError> {
        let id = AmlipId::new_random(name, &mut StdRng::from_entropy())?;
        let mut core = make(id, now());
        core.set_max_job_size(options.max_job_size);
        let desc = topics::participant(&id, core.kind(), options.domain);
        let mut popts = ParticipantOptions::default()
            .domain_id(options.domain)
            .interface(options.interface)
            .name(desc.name)
            .multicast(options.multicast)
            .lease_duration(options.lease_duration)
            .busy_poll(options.busy_poll)
            .max_sample_size(max_sample_size(options.max_job_size))
            .faults(options.faults);
        popts.properties = desc
            .properties
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        popts.peers = options.peers.clone();
        let participant = DomainParticipant::new(popts)?;
        let events = participant.events();
        let poller = participant.receive_poller();
        let batcher = participant.write_batcher();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                core,
                participant: Some(participant),
                writers: BTreeMap::new(),
                readers: BTreeMap::new(),
                backlog: VecDeque::new(),
                write_errors: 0,
                writer_history_limit: options.writer_history_limit,
            }),
            backlog_changed: Condvar::new(),
            sink,
            threads: Mutex::new(Vec::new()),
            batcher,
        });
        let rt = Runtime { shared, id, poller };
        let weak = Arc::downgrade(&rt.shared);
        let flusher = std::thread::Builder::new()
            .name(format!("amlip-flush-{}", id.name()))
            .spawn(move || Shared::flush_backlog(&weak))
            .map_err(NodeError::Spawn)?;
        rt.push_thread(flusher);
        // Carry out the constructor's outputs (endpoints, first status).
        Shared::with_core(&rt.shared, |_, _| ())?;
        let weak = Arc::downgrade(&rt.shared);
        let t = std::thread::Builder::new()
            .name(format!("amlip-events-{}", id.name()))
            .spawn(move || {
                let mut wait = EVENT_POLL;
                loop {
                    let e = events.recv_timeout(wait);
                    let Some(shared) = weak.upgrade() else {
                        break;
                    };
                    let r = match e {
                        Ok(DdsEvent::ParticipantLost { guid_prefix, .. }) => {
                            Shared::with_core(&shared, |c, now| {
                                c.handle_participant_lost(now, guid_prefix)
                            })
                        }
                        Ok(DdsEvent::ParticipantDiscovered { guid_prefix, .. }) => {
                            Shared::with_core(&shared, |c, now| {
                                c.handle_participant_discovered(now, guid_prefix)
                            })
                        }
                        Ok(_) => Ok(()),
                        Err(RecvTimeoutError::Timeout) if !shared.is_closed() => Ok(()),
                        Err(_) => break,
                    };
                    if r.is_err() {
                        break;
                    }
                    // The core's timers: run them when due, wake for the next (at most
                    // `EVENT_POLL` away, so one set meanwhile is not missed by much).
                    let next = lock(&shared.state).core.poll_timeout();
                    let t = now();
                    if next.is_some_and(|n| n <= t) {
                        let r = Shared::with_core(&shared, |c, now| c.handle_timeout(now));
                        if r.is_err() {
                            break;
                        }
                    }
                    let next = lock(&shared.state).core.poll_timeout();
                    wait = next.map_or(EVENT_POLL, |n| {
                        n.saturating_duration_since(now())
                            .clamp(Duration::from_millis(1), EVENT_POLL)
                    });
                }
            })
            .map_err(NodeError::Spawn)?;
        rt.push_thread(t);
        log::info!("node {id} started");
        Ok(rt)
    }

    fn push_thread(&self, t: JoinHandle<()>) {
        Shared::push_thread(&self.shared, t);
    }

    /// This node's id.
    pub(crate) fn id(&self) -> AmlipId {
        self.id
    }

    /// Run `f` on the core, carry out its outputs, then deliver its events.
    pub(crate) fn with_core<R>(
        &self,
        f: impl FnOnce(&mut NodeCore, Instant) -> R,
    ) -> Result<R, NodeError> {
        Shared::with_core(&self.shared, f)
    }

    /// Read the node's traffic on the calling thread until `done()`, `deadline`, or a quiet
    /// `busy_poll` (see [`ReceivePoller::poll_until`]): a thread waiting for a solution or a
    /// job gets it without a hand-over from the receive thread. The samples run the core on
    /// this thread, so the caller must hold no lock a listener or the sink takes. `Some(true)`
    /// when `done()`.
    pub(crate) fn poll_until(&self, deadline: Instant, done: impl FnMut() -> bool) -> Option<bool> {
        self.poller.poll_until(deadline, done)
    }

    /// Look at the core without changing it.
    pub(crate) fn inspect<R>(&self, f: impl FnOnce(&NodeCore) -> R) -> R {
        f(&lock(&self.shared.state).core)
    }

    /// Remote readers matched by the writer of `topic` (0 if there is no such writer).
    pub(crate) fn matched_readers(&self, topic: &str) -> usize {
        let st = lock(&self.shared.state);
        st.writers.get(topic).map_or(0, RawWriter::matched_readers)
    }

    /// Samples that could not be written (a full KEEP_ALL history, a closed participant).
    pub(crate) fn write_errors(&self) -> u64 {
        lock(&self.shared.state).write_errors
    }

    /// The node's counters: its participant's, its core's and the write errors (the
    /// participant's lock is taken under the node's, as every write does).
    pub(crate) fn stats(&self) -> NodeStats {
        let st = lock(&self.shared.state);
        NodeStats {
            participant: st
                .participant
                .as_ref()
                .map(DomainParticipant::stats)
                .unwrap_or_default(),
            core: st.core.stats(),
            write_errors: st.write_errors,
        }
    }
}

impl Shared {
    fn is_closed(&self) -> bool {
        lock(&self.state).participant.is_none()
    }

    fn push_thread(this: &Arc<Shared>, t: JoinHandle<()>) {
        this.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(t);
    }

    fn with_core<R>(
        this: &Arc<Shared>,
        f: impl FnOnce(&mut NodeCore, Instant) -> R,
    ) -> Result<R, NodeError> {
        let mut events = Vec::new();
        let mut readers = Vec::new();
        let r = {
            let mut st = lock(&this.state);
            if st.participant.is_none() {
                return Err(NodeError::Closed);
            }
            let r = f(&mut st.core, now());
            let res = Self::drain(&mut st, &mut readers, Some(&this.batcher));
            if !st.backlog.is_empty() {
                this.backlog_changed.notify_all();
            }
            while let Some(e) = st.core.poll_event() {
                events.push(e);
            }
            res.map(|()| r)
        };
        for (topic, reader) in readers {
            Self::listen(this, topic, reader);
        }
        for e in events {
            (this.sink)(e);
        }
        r
    }

    /// Carry out the core's outputs in order; new readers are returned to be given a listener.
    /// The caller wakes the flusher if the backlog is not empty afterwards.
    ///
    /// With `batcher`, the samples of one input (a solution and the next offer) are written in
    /// one batch, so they leave together and at once: without it the second of a quick pair
    /// would wait for the driver's burst timer. A lone sample is written as it is.
    fn drain(
        st: &mut State,
        readers: &mut Vec<(String, RawReader)>,
        batcher: Option<&WriteBatcher>,
    ) -> Result<(), NodeError> {
        let mut result = Ok(());
        let mut batch = None;
        while let Some(o) = st.core.poll_output() {
            let Some(p) = st.participant.as_ref() else {
                return Err(NodeError::Closed);
            };
            match o {
                NodeOutput::CreateEndpoint(e) => {
                    let qos = dds_qos(&e);
                    match e.kind {
                        EndpointKind::Writer => {
                            let qos = match st.writer_history_limit {
                                Some(m) => qos.max_samples(m.max(1)),
                                None => qos,
                            };
                            match p.create_raw_writer(&e.topic_name, e.type_name, &qos) {
                                Ok(w) => {
                                    st.writers.insert(e.topic_name, w);
                                }
                                Err(err) => result = Err(err.into()),
                            }
                        }
                        EndpointKind::Reader => {
                            match p.create_raw_reader(&e.topic_name, e.type_name, &qos) {
                                Ok(r) => readers.push((e.topic_name, r)),
                                Err(err) => result = Err(err.into()),
                            }
                        }
                    }
                }
                NodeOutput::DeleteEndpoint { topic_name, kind } => {
                    if kind == EndpointKind::Writer {
                        st.writers.remove(&topic_name);
                    }
                }
                NodeOutput::Publish {
                    topic_name,
                    payload,
                } => {
                    let Some(w) = st.writers.get(&topic_name).cloned() else {
                        st.write_errors = st.write_errors.saturating_add(1);
                        continue;
                    };
                    let payload = Bytes::from(payload);
                    if batch.is_none() && st.core.has_output() {
                        batch = batcher.map(WriteBatcher::batch);
                    }
                    if !st.backlog.is_empty() {
                        // Behind earlier samples still waiting: keep the order.
                        st.backlog.push_back((w, payload));
                        continue;
                    }
                    match w.try_write_bytes(payload.clone()) {
                        Ok(()) => {}
                        Err(WriteError::Timeout) => st.backlog.push_back((w, payload)),
                        Err(e) => {
                            log::warn!("write on {topic_name} failed: {}", error_chain(&e));
                            st.write_errors = st.write_errors.saturating_add(1);
                        }
                    }
                }
            }
        }
        result
    }

    /// Wait until the flusher has written the backlog, or until `deadline`.
    fn wait_backlog(this: &Arc<Shared>, deadline: Instant) {
        let mut st = lock(&this.state);
        while !st.backlog.is_empty() {
            let left = deadline.saturating_duration_since(now());
            if left.is_zero() {
                return;
            }
            st = match this.backlog_changed.wait_timeout(st, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Hand `reader`'s samples to the core, on the thread that receives them.
    fn listen(this: &Arc<Shared>, topic: String, reader: RawReader) {
        let weak = Arc::downgrade(this);
        let topic_in = topic.clone();
        reader.set_listener(move |s| {
            if let Some(shared) = weak.upgrade() {
                let prefix = s.writer.prefix;
                // The reader's only reference to a reassembled sample: no copy.
                let payload = Vec::from(s.value);
                let _ = Shared::with_core(&shared, |c, now| {
                    c.handle_sample_owned(now, &topic_in, prefix, payload)
                });
            }
        });
        lock(&this.state).readers.insert(topic, reader);
    }

    /// The flusher thread: writes the backlog in order with the blocking write (a full history
    /// waits for acknowledgments, which the receive thread is free to process), until the node
    /// closes.
    fn flush_backlog(weak: &std::sync::Weak<Shared>) {
        loop {
            let Some(this) = weak.upgrade() else {
                return;
            };
            let front = {
                let mut st = lock(&this.state);
                loop {
                    if st.participant.is_none() {
                        return;
                    }
                    if let Some(f) = st.backlog.front() {
                        break f.clone();
                    }
                    st = match this
                        .backlog_changed
                        .wait_timeout(st, Duration::from_millis(200))
                    {
                        Ok((g, _)) => g,
                        Err(p) => p.into_inner().0,
                    };
                }
            };
            // Written without the node's lock (so the core keeps running); new samples queue
            // behind this one because it stays at the front until it is written.
            let (writer, payload) = front;
            let ok = loop {
                match writer.write_bytes(payload.clone()) {
                    Ok(()) => break true,
                    Err(WriteError::Timeout) if !this.is_closed() => continue,
                    Err(e) => {
                        log::warn!("backlogged write failed: {}", error_chain(&e));
                        break false;
                    }
                }
            };
            let mut st = lock(&this.state);
            st.backlog.pop_front();
            if !ok {
                st.write_errors = st.write_errors.saturating_add(1);
            }
            drop(st);
            this.backlog_changed.notify_all();
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // The node's lock is never held while waiting for acknowledgments: the receive thread
        // that brings them may be waiting for that lock in a listener.
        let shared = &self.shared;
        let deadline = now() + GOODBYE_TIMEOUT;
        let mut readers = Vec::new();
        // `stopped` first, acknowledged before `dropped` replaces it in the KEEP_LAST 1
        // status writer, so status nodes see a clean stop (spec §5).
        let status = {
            let mut st = lock(&shared.state);
            st.core.stop(now());
            let _ = Shared::drain(&mut st, &mut readers, None);
            st.writers.get(STATUS_TOPIC).cloned()
        };
        Shared::wait_backlog(shared, deadline);
        if let Some(w) = status {
            let left = deadline.saturating_duration_since(now());
            if w.matched_readers() > 0 && !left.is_zero() {
                let _ = w.wait_for_acknowledgments(left);
            }
        }
        let writers: Vec<RawWriter> = {
            let mut st = lock(&shared.state);
            st.core.shutdown(now());
            let _ = Shared::drain(&mut st, &mut readers, None);
            while st.core.poll_event().is_some() {}
            st.writers.values().cloned().collect()
        };
        Shared::wait_backlog(shared, deadline);
        for w in &writers {
            let left = deadline.saturating_duration_since(now());
            if w.matched_readers() > 0 && !left.is_zero() {
                let _ = w.wait_for_acknowledgments(left);
            }
        }
        drop(writers);
        let participant = {
            let mut st = lock(&shared.state);
            if !st.backlog.is_empty() {
                log::warn!(
                    "node {}: {} samples not written before shutdown",
                    self.id,
                    st.backlog.len()
                );
                st.backlog.clear();
            }
            st.writers.clear();
            st.readers.clear();
            st.participant.take()
        };
        shared.backlog_changed.notify_all();
        // Dropping the participant says goodbye and stops its threads.
        drop(participant);
        let threads = std::mem::take(
            &mut *self
                .shared
                .threads
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        for t in threads {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
        log::info!("node {} stopped", self.id);
    }
}
