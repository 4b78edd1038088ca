//! AML-IP nodes on the deterministic simulated network (architecture.md rule 8): each node is a
//! [`NodeCore`] on its own sans-IO RTPS [`Participant`](rtps::participant::Participant) of an
//! [`rtps::simworld::SimWorld`], so whole MultiService scenarios (discovery, reliable delivery,
//! lease expiry) run with seeded loss, duplication and reordering on a virtual clock.
//!
//! Computing nodes answer with an engine function after a virtual work time. Everything is
//! deterministic for a given seed (`RTPS_SIM_SEED` overrides it; print [`SimCluster::seed`] on
//! failure).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rtps::discovery::data::qos::{self as rq, EndpointQos as RtpsQos, Reliability, ResourceLimits};
use rtps::simworld::{ResumeOrder, SimWorld};
use rtps::transport::sim::LinkConfig;
use rtps::wire::EntityId;

use super::core::{NodeCore, NodeEvent, NodeOutput};
use crate::multiservice::topics::{
    DurabilityKind, EndpointDescription, EndpointKind, EndpointQos, HistoryKind, ReliabilityKind,
};
use crate::multiservice::{AmlipId, IdError, MsRequest, TaskId};

/// The RTPS QoS of an AML-IP endpoint description (AML-IP spec §6.2, §6.3).
pub fn rtps_qos(e: &EndpointDescription) -> RtpsQos {
    let q: &EndpointQos = &e.qos;
    let mut r = match e.kind {
        EndpointKind::Writer => RtpsQos::writer_default(),
        EndpointKind::Reader => RtpsQos::reader_default(),
    };
    r.reliability = Reliability {
        kind: match q.reliability {
            ReliabilityKind::Reliable => rq::ReliabilityKind::Reliable,
            ReliabilityKind::BestEffort => rq::ReliabilityKind::BestEffort,
        },
        max_blocking_time: rtps::wire::Duration::from_std(q.max_blocking_time),
    };
    r.durability = match q.durability {
        DurabilityKind::Volatile => rq::Durability::Volatile,
        DurabilityKind::TransientLocal => rq::Durability::TransientLocal,
    };
    r.history = match q.history {
        HistoryKind::KeepAll => rq::History::KeepAll,
        HistoryKind::KeepLast(d) => rq::History::KeepLast {
            depth: i32::try_from(d.max(1)).unwrap_or(i32::MAX),
        },
    };
    r.resource_limits = ResourceLimits {
        max_samples: i32::try_from(q.max_samples).unwrap_or(rq::LENGTH_UNLIMITED),
        ..ResourceLimits::default()
    };
    r
}

/// How a simulated computing node answers: solution = `engine(job)` after `work_time`.
#[derive(Debug, Clone, Copy)]
pub struct Engine {
    /// Job → solution.
    pub solve: fn(&[u8]) -> Vec<u8>,
    /// Virtual time each job takes.
    pub work_time: Duration,
}

/// One node of the cluster.
#[derive(Debug)]
pub struct SimNode {
    /// The node's core.
    pub core: NodeCore,
    /// Index of its participant in the world.
    pub participant: usize,
    /// Every event the core produced, oldest first (tests read them).
    pub events: Vec<NodeEvent>,
    /// Jobs handed to this node (computing nodes).
    pub processed: Vec<MsRequest>,
    /// Samples the participant refused to write (full KEEP_ALL history).
    pub write_errors: u64,
    engine: Option<Engine>,
    /// Jobs being worked on: due time, task, solution.
    work: Vec<(Instant, MsRequest, Vec<u8>)>,
    writers: BTreeMap<String, EntityId>,
    readers: BTreeMap<EntityId, String>,
    running: bool,
    /// Since when the node is paused (see [`SimCluster::pause`]).
    paused_at: Option<Instant>,
}

impl SimNode {
    /// Each endpoint's topic, whether it is a writer, and how many remote endpoints it matches
    /// (for a test's failure message).
    pub fn matches(&self, world: &SimWorld) -> Vec<(String, bool, usize)> {
        let Some(p) = world.participants.get(self.participant) else {
            return Vec::new();
        };
        let p = &p.participant;
        let writers = self
            .writers
            .iter()
            .map(|(t, id)| (t.clone(), true, p.matched_readers(*id).len()));
        let readers = self
            .readers
            .iter()
            .map(|(id, t)| (t.clone(), false, p.matched_writers(*id).len()));
        writers.chain(readers).collect()
    }

    /// Solutions received so far (main nodes): task, server, solution.
    pub fn solutions(&self) -> Vec<(TaskId, AmlipId, Vec<u8>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                NodeEvent::Solved {
                    task,
                    server,
                    solution,
                    ..
                } => Some((*task, *server, solution.clone())),
                _ => None,
            })
            .collect()
    }

    /// Jobs currently being worked on (computing nodes).
    pub fn working(&self) -> usize {
        self.work.len()
    }

    /// False once crashed or shut down.
    pub fn is_running(&self) -> bool {
        self.running
    }
}

/// AML-IP nodes on a simulated network (see the module doc).
#[derive(Debug)]
pub struct SimCluster {
    /// The RTPS world.
    pub world: SimWorld,
    /// The nodes, by index.
    pub nodes: Vec<SimNode>,
    rng: StdRng,
    lease: Duration,
    reply_timeout: Duration,
}

impl SimCluster {
    /// An empty cluster on domain 166 with SPDP multicast; `RTPS_SIM_SEED` overrides `seed`.
    pub fn new(seed: u64) -> Self {
        let world = SimWorld::new(seed, crate::multiservice::topics::DEFAULT_DOMAIN_ID, true);
        let rng = StdRng::seed_from_u64(world.seed());
        SimCluster {
            world,
            nodes: Vec::new(),
            rng,
            lease: Duration::from_secs(5),
            reply_timeout: crate::multiservice::server::DEFAULT_REPLY_TIMEOUT,
        }
    }

    /// The seed in use.
    pub fn seed(&self) -> u64 {
        self.world.seed()
    }

    /// Set the link behaviour for every pair (loss, duplication, delay, reordering).
    pub fn set_link(&mut self, link: LinkConfig) {
        self.world.set_link(link);
    }

    /// Participant lease of nodes added from now on (default 5 s of virtual time).
    pub fn set_lease(&mut self, lease: Duration) {
        self.lease = lease;
    }

    /// Reply timeout of computing nodes added from now on (default 2 s).
    pub fn set_reply_timeout(&mut self, timeout: Duration) {
        self.reply_timeout = timeout;
    }

    /// Virtual now.
    pub fn now(&self) -> Instant {
        self.world.now
    }

    fn add(&mut self, name: &str, make: impl FnOnce(AmlipId, Instant) -> NodeCore) -> usize {
        let lease = self.lease;
        let participant = self
            .world
            .add_participant(name, |c| c.lease_duration = lease);
        let core = make(
            AmlipId::new_random(name, &mut self.rng).unwrap_or_else(|_| AmlipId::undefined()),
            self.world.now,
        );
        self.nodes.push(SimNode {
            core,
            participant,
            events: Vec::new(),
            processed: Vec::new(),
            write_errors: 0,
            engine: None,
            work: Vec::new(),
            writers: BTreeMap::new(),
            readers: BTreeMap::new(),
            running: true,
            paused_at: None,
        });
        let idx = self.nodes.len() - 1;
        self.pump(idx);
        idx
    }

    /// Add a main node; returns its index.
    pub fn add_main(&mut self, name: &str) -> Result<usize, IdError> {
        AmlipId::new(name, [0; 4])?;
        Ok(self.add(name, NodeCore::main))
    }

    /// Add a computing node running `concurrency` jobs at once with `engine`, accepting at once
    /// with an optional job limit; returns its index.
    pub fn add_computing(
        &mut self,
        name: &str,
        concurrency: usize,
        limit: Option<u64>,
        engine: Engine,
    ) -> Result<usize, IdError> {
        AmlipId::new(name, [0; 4])?;
        let timeout = self.reply_timeout;
        let i = self.add(name, |id, now| {
            NodeCore::computing(id, concurrency, now).with_reply_timeout(timeout)
        });
        self.nodes[i].engine = Some(engine);
        let now = self.world.now;
        let core = &mut self.nodes[i].core;
        let _ = core.set_task_limit(now, limit);
        let _ = core.set_accepting(now, true);
        self.pump(i);
        Ok(i)
    }

    /// Add a status node; returns its index.
    pub fn add_status(&mut self, name: &str) -> Result<usize, IdError> {
        AmlipId::new(name, [0; 4])?;
        Ok(self.add(name, NodeCore::status))
    }

    /// The id of node `i`.
    pub fn id(&self, i: usize) -> AmlipId {
        self.nodes[i].core.id()
    }

    /// Submit a job from main node `i`.
    pub fn submit(&mut self, i: usize, job: impl Into<Vec<u8>>) -> Option<TaskId> {
        let now = self.world.now;
        let t = self.nodes.get_mut(i)?.core.submit(now, job.into()).ok();
        self.pump(i);
        t
    }

    /// Run `f` on node `i`'s core at the current virtual time, then pump it.
    pub fn with_core<R>(&mut self, i: usize, f: impl FnOnce(&mut NodeCore, Instant) -> R) -> R {
        let now = self.world.now;
        let r = f(&mut self.nodes[i].core, now);
        self.pump(i);
        r
    }

    /// Crash node `i`: its participant stops at once, without a goodbye (peers notice when its
    /// lease expires).
    pub fn crash(&mut self, i: usize) {
        if let Some(n) = self.nodes.get_mut(i) {
            n.running = false;
            n.work.clear();
            self.world.crash(n.participant);
        }
    }

    /// Pause node `i` (SIGSTOP): its participant and core neither send, receive nor run timers;
    /// datagrams sent to it meanwhile wait in its sockets (up to a full receive buffer) until
    /// [`SimCluster::resume`] continues it.
    pub fn pause(&mut self, i: usize) {
        let now = self.world.now;
        if let Some(n) = self.nodes.get_mut(i) {
            if n.running {
                n.running = false;
                n.paused_at = Some(now);
                self.world.pause(n.participant);
            }
        }
    }

    /// Continue node `i` after [`SimCluster::pause`] (SIGCONT): its overdue timers fire at once
    /// (peers whose lease expired meanwhile are lost) and the datagrams that waited in its
    /// sockets are handled, in an order drawn from the seed (on a host the receive and timer
    /// threads race); its jobs in progress finish the paused time later.
    pub fn resume(&mut self, i: usize) {
        let now = self.world.now;
        let Some(n) = self.nodes.get_mut(i) else {
            return;
        };
        let Some(at) = n.paused_at.take() else {
            return;
        };
        let paused = now.saturating_duration_since(at);
        for w in &mut n.work {
            w.0 += paused;
        }
        n.running = true;
        let p = n.participant;
        // The process's receive and timer threads race after a SIGCONT: either may run first.
        let order = if self.rng.gen_bool(0.5) {
            ResumeOrder::TimersFirst
        } else {
            ResumeOrder::BacklogFirst
        };
        self.world.resume(p, order);
        self.pump(i);
    }

    /// Shut node `i` down cleanly: `dropped` status, then the participant's goodbye.
    pub fn shutdown(&mut self, i: usize) {
        let now = self.world.now;
        let Some(n) = self.nodes.get_mut(i) else {
            return;
        };
        n.core.shutdown(now);
        self.pump(i);
        let n = &mut self.nodes[i];
        n.running = false;
        let p = n.participant;
        self.world.participants[p].participant.shutdown(now);
        self.world.flush(p);
        self.world.crash(p);
    }

    /// Carry out node `i`'s outputs, feed it its samples and participant events, run its
    /// engine on new tasks; repeat until quiet.
    fn pump(&mut self, i: usize) {
        let now = self.world.now;
        let Some(node) = self.nodes.get_mut(i) else {
            return;
        };
        if !node.running {
            return;
        }
        if node.core.poll_timeout().is_some_and(|t| t <= now) {
            node.core.handle_timeout(now);
        }
        let p = node.participant;
        for _ in 0..1000 {
            let mut moved = false;
            let part = &mut self.world.participants[p].participant;
            while let Some(o) = node.core.poll_output() {
                moved = true;
                match o {
                    NodeOutput::CreateEndpoint(e) => {
                        let qos = rtps_qos(&e);
                        match e.kind {
                            EndpointKind::Writer => {
                                if let Ok(id) =
                                    part.create_writer(now, &e.topic_name, e.type_name, false, qos)
                                {
                                    node.writers.insert(e.topic_name, id);
                                }
                            }
                            EndpointKind::Reader => {
                                if let Ok(id) =
                                    part.create_reader(now, &e.topic_name, e.type_name, false, qos)
                                {
                                    node.readers.insert(id, e.topic_name);
                                }
                            }
                        }
                    }
                    NodeOutput::DeleteEndpoint { topic_name, kind } => {
                        if kind == EndpointKind::Writer {
                            if let Some(id) = node.writers.remove(&topic_name) {
                                let _ = part.delete_writer(now, id);
                            }
                        }
                    }
                    NodeOutput::Publish {
                        topic_name,
                        payload,
                    } => {
                        let written = node
                            .writers
                            .get(&topic_name)
                            .map(|id| part.write(now, *id, Bytes::from(payload), None).is_ok());
                        if written != Some(true) {
                            node.write_errors = node.write_errors.saturating_add(1);
                        }
                    }
                }
            }
            for (rid, topic) in &node.readers {
                while let Some(s) = part.take(*rid) {
                    moved = true;
                    node.core
                        .handle_sample(now, topic, s.writer_guid.prefix, &s.payload);
                }
            }
            self.world.flush(p);
            let events = std::mem::take(&mut self.world.participants[p].events);
            for e in events {
                match e {
                    rtps::participant::Event::ParticipantLost { guid_prefix, .. } => {
                        moved = true;
                        node.core.handle_participant_lost(now, guid_prefix);
                    }
                    rtps::participant::Event::ParticipantDiscovered { guid_prefix, .. } => {
                        moved = true;
                        node.core.handle_participant_discovered(now, guid_prefix);
                    }
                    _ => {}
                }
            }
            if node.core.poll_timeout().is_some_and(|t| t <= now) {
                moved = true;
                node.core.handle_timeout(now);
            }
            while let Some(e) = node.core.poll_event() {
                moved = true;
                if let NodeEvent::Task { key, job } = &e {
                    node.processed.push(*key);
                    if let Some(engine) = node.engine {
                        node.work
                            .push((now + engine.work_time, *key, (engine.solve)(job)));
                    }
                }
                node.events.push(e);
            }
            let (due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut node.work)
                .into_iter()
                .partition(|(t, _, _)| *t <= now);
            node.work = rest;
            for (_, key, solution) in due {
                moved = true;
                let _ = node.core.complete(now, key, solution);
            }
            if !moved {
                return;
            }
        }
    }

    fn pump_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.pump(i);
        }
    }

    /// Run until `done` holds or `max` of virtual time passes; true if `done` held.
    pub fn run_until(&mut self, max: Duration, mut done: impl FnMut(&SimCluster) -> bool) -> bool {
        let limit = self.world.now + max;
        loop {
            self.pump_all();
            if done(self) {
                return true;
            }
            if self.world.now >= limit {
                return false;
            }
            let next_work = self
                .nodes
                .iter()
                .filter(|n| n.running)
                .flat_map(|n| {
                    n.work
                        .iter()
                        .map(|(t, _, _)| *t)
                        .chain(n.core.poll_timeout())
                })
                .min();
            let step_limit = next_work.map_or(limit, |t| t.min(limit));
            self.world.step(step_limit);
        }
    }

    /// Run for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(d, |_| false);
    }
}
