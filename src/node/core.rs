//! The sans-IO node: one AML-IP node's MultiService machine, its status and its peers, speaking
//! in (DDS topic name, serialized payload) terms (AML-IP spec §4.1, §5; observed §5).
//!
//! A [`NodeCore`] knows nothing of RTPS entities: it asks its driver to create endpoints
//! ([`NodeOutput::CreateEndpoint`], the per-recipient writers lazily, just before their first
//! sample, as AML-IP does) and to publish samples ([`NodeOutput::Publish`]). Two drivers run it:
//! the blocking nodes over `rtps::dds` (`super::runtime`) and the deterministic simulated
//! network ([`super::sim`]), so the same node logic is tested with loss and reordering.
//!
//! # Driving it
//! Inputs: [`NodeCore::handle_sample`] for every sample read on one of its readers (with the
//! writer's GUID prefix), [`NodeCore::handle_participant_lost`] when a remote participant's lease
//! expires or it leaves, [`NodeCore::handle_participant_discovered`] when one (re)appears,
//! [`NodeCore::handle_timeout`] when [`NodeCore::poll_timeout`] is due, and the operations
//! (`submit`, `cancel`, `complete`, `set_*`, `shutdown`). After every input drain
//! [`NodeCore::poll_output`] **in order** (an endpoint is always requested before the first
//! sample for it), then [`NodeCore::poll_event`].
//!
//! # Peers
//! The core learns which participant hosts which node from the samples themselves: a request,
//! target or task data names its client, a reply or solution names its server, a status names its
//! node, and each was written by that node's own participant. So when a participant is lost the
//! core knows which node died: a client re-issues that server's tasks
//! ([`Client::server_lost`]), a server forgets that client ([`Server::client_lost`]), a status
//! node reports it `dropped` (spec §5: AML-IP itself has no such detection). A lost participant
//! that reappears (new SPDP from the same GUID prefix: a process paused past its lease, then
//! resumed), or whose samples arrive again, hosts the same node again: a client chooses that
//! server again ([`Client::server_back`]).

use core::fmt;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use rtps::wire::GuidPrefix;

use crate::multiservice::topics::{
    self, EndpointDescription, EndpointKind, MultiServiceTopic, Side, STATUS_TOPIC,
};
use crate::multiservice::{
    AmlipId, Client, ClientEvent, CompleteError, GenericData, MsData, MsReference, MsRequest,
    NodeKind, Outgoing, Payload, Server, ServerEvent, StateKind, Status, SubmitError, TaskId,
};

/// Most remote nodes a core remembers (rule 6: every table is capped).
pub const MAX_PEERS: usize = 4096;

/// Default [`NodeCore::set_max_job_size`]: 256 MiB.
pub const DEFAULT_MAX_JOB_SIZE: usize = 256 << 20;
/// How long a computing node keeps its writers to a lost main node before deleting them: a main
/// paused past its lease that comes back in that time still gets the solutions written meanwhile
/// (a deleted writer would take them with it).
pub const KEEP_LOST_WRITERS: Duration = Duration::from_secs(120);

/// How many of the oldest queued requests a computing node draws its next answer from, so
/// idle computing nodes answer different requests of a pipelining main node (see
/// [`Server::with_offer_spread`]).
pub const OFFER_SPREAD: usize = 32;

/// Something the driver must do, in order (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeOutput {
    /// Create this writer or reader (always keyless, AML-IP spec §2.5, §6.3).
    CreateEndpoint(EndpointDescription),
    /// Delete the writer of a peer that is gone (its history is of no use any more).
    DeleteEndpoint {
        /// The DDS topic of the endpoint.
        topic_name: String,
        /// Writer or reader.
        kind: EndpointKind,
    },
    /// Publish `payload` (XCDR1 with its encapsulation header) on the writer of `topic_name`.
    Publish {
        /// The DDS topic name.
        topic_name: String,
        /// The serialized payload.
        payload: Vec<u8>,
    },
}

/// Something the node's user should know or do (drained with [`NodeCore::poll_event`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeEvent {
    /// A submitted job's one and only solution (main nodes).
    Solved {
        /// The task id [`NodeCore::submit`] returned.
        task: TaskId,
        /// The computing node that solved it.
        server: AmlipId,
        /// The solution bytes.
        solution: Vec<u8>,
        /// Time from the first submission to the solution (re-issues included), from the
        /// `now` values given.
        latency: Duration,
        /// The lost computing node the job was last re-issued from, if it was.
        reissued_from: Option<AmlipId>,
    },
    /// A task's server was lost; the task was requested again (main nodes, spec §11.1).
    Reissued {
        /// The task id [`NodeCore::submit`] returned.
        task: TaskId,
        /// The computing node that was lost.
        lost_server: AmlipId,
    },
    /// A task could not be re-issued: the client ran out of task ids (main nodes).
    Abandoned {
        /// The task id [`NodeCore::submit`] returned.
        task: TaskId,
    },
    /// A computing node failed a task; it was requested again (main nodes; see
    /// [`crate::multiservice::client`], "Failed jobs").
    Retried {
        /// The task id [`NodeCore::submit`] returned.
        task: TaskId,
        /// The computing node that failed it.
        server: AmlipId,
        /// Failed attempts so far.
        attempt: u32,
        /// Its reason.
        reason: Vec<u8>,
    },
    /// A task failed on its last attempt (main nodes): no solution will come.
    Failed {
        /// The task id [`NodeCore::submit`] returned.
        task: TaskId,
        /// The computing node of the last attempt.
        server: AmlipId,
        /// Its reason.
        reason: Vec<u8>,
        /// Attempts made.
        attempts: u32,
        /// Time from submission to the last failure.
        latency: Duration,
    },
    /// A job to process; answer it with [`NodeCore::complete`] (computing nodes).
    Task {
        /// The task: (client, task id).
        key: MsRequest,
        /// The job bytes.
        job: Vec<u8>,
    },
    /// A node's status: received, or `dropped` derived from its lost participant (status nodes).
    Status(Status),
    /// A remote node's participant is gone (every node kind).
    PeerLost {
        /// The node.
        id: AmlipId,
        /// Its kind, if known.
        kind: Option<NodeKind>,
    },
    /// A node whose participant was lost is back (it was paused past its lease; every kind).
    PeerReturned {
        /// The node.
        id: AmlipId,
        /// Its kind, if known.
        kind: Option<NodeKind>,
    },
}

/// Why a [`NodeCore`] operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CoreError {
    /// The operation needs another node kind (the one needed is named).
    WrongKind(&'static str),
    /// All 2^32 task ids of this node were used (spec §3.4).
    TaskIdsExhausted,
    /// A job or solution over 4 GiB has no `uint32` size on the wire (spec §3.7).
    TooLarge(usize),
    /// A job or solution over the node's cap ([`NodeCore::set_max_job_size`]): its size and
    /// the cap.
    OverMaxJobSize(usize, usize),
    /// No such task is being processed here.
    UnknownTask,
    /// The node was shut down.
    ShutDown,
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreError::WrongKind(k) => write!(f, "only a {k} node can do that"),
            CoreError::TaskIdsExhausted => {
                f.write_str("all 2^32 task ids of this node were used; restart it")
            }
            CoreError::TooLarge(n) => write!(f, "{n} bytes is over the 4 GiB AML-IP limit"),
            CoreError::OverMaxJobSize(n, max) => write!(
                f,
                "{n} bytes is over this node's maximum job size of {max} bytes (--max-job-size)"
            ),
            CoreError::UnknownTask => f.write_str("no such task is being processed"),
            CoreError::ShutDown => f.write_str("the node was shut down"),
        }
    }
}

impl std::error::Error for CoreError {}

impl From<SubmitError> for CoreError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::TaskIdsExhausted => CoreError::TaskIdsExhausted,
        }
    }
}

impl From<CompleteError> for CoreError {
    fn from(e: CompleteError) -> Self {
        match e {
            CompleteError::UnknownTask => CoreError::UnknownTask,
        }
    }
}

/// Counters of inputs the core dropped, for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoreStats {
    /// Samples handed to [`NodeCore::handle_sample`].
    pub samples: u64,
    /// Samples that did not decode as their topic's type.
    pub malformed: u64,
    /// Samples on a topic this node does not read, or addressed to another node.
    pub foreign: u64,
    /// Outgoing samples that could not be serialized (over 4 GiB).
    pub unserializable: u64,
    /// Jobs (computing nodes) or solutions (main nodes) dropped: over the maximum job size.
    pub oversized: u64,
}

/// What the core knows of a remote node.
#[derive(Debug, Clone, Copy)]
struct Peer {
    id: AmlipId,
    kind: Option<NodeKind>,
    state: Option<StateKind>,
}

/// A peer whose participant was lost: it may come back.
#[derive(Debug, Clone)]
struct Lost {
    peer: Peer,
    since: Instant,
    /// Its writers, deleted [`KEEP_LOST_WRITERS`] after `since` unless it comes back.
    writers: Vec<String>,
}

/// The machine of one node kind.
#[derive(Debug)]
enum Role {
    Main(Client),
    Computing(Server),
    Status,
}

/// One AML-IP node, sans-IO (see the module doc).
#[derive(Debug)]
pub struct NodeCore {
    id: AmlipId,
    kind: NodeKind,
    state: StateKind,
    base: String,
    role: Role,
    /// Topics whose writer was requested from the driver.
    writers: BTreeSet<String>,
    /// DDS names of the topics written so far, by topic and recipient (formatting a direct
    /// topic's name, with its recipient's id, costs more than the rest of a publish).
    topic_names: BTreeMap<(MultiServiceTopic, Option<AmlipId>), String>,
    peers: BTreeMap<GuidPrefix, Peer>,
    peer_order: VecDeque<GuidPrefix>,
    /// Peers whose participant was lost, in case it comes back (oldest first in `lost_order`).
    lost: BTreeMap<GuidPrefix, Lost>,
    lost_order: VecDeque<GuidPrefix>,
    /// When to delete the writers of lost peers, oldest first.
    forget_at: VecDeque<(Instant, GuidPrefix)>,
    output: VecDeque<NodeOutput>,
    events: VecDeque<NodeEvent>,
    stats: CoreStats,
    shut_down: bool,
    /// Largest job or solution sent or accepted.
    max_job_size: usize,
}

/// A sample's payload as the driver hands it over: an owned one lets a job or solution be
/// decoded in place ([`MsData::from_payload_vec`]).
enum Incoming<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl Incoming<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Incoming::Borrowed(b) => b,
            Incoming::Owned(v) => v,
        }
    }
}

impl NodeCore {
    fn new(id: AmlipId, kind: NodeKind, role: Role, now: Instant) -> Self {
        let mut core = NodeCore {
            id,
            kind,
            state: StateKind::UNKNOWN,
            base: topics::JOB_TOPIC_NAME.to_owned(),
            role,
            writers: BTreeSet::new(),
            topic_names: BTreeMap::new(),
            peers: BTreeMap::new(),
            peer_order: VecDeque::new(),
            lost: BTreeMap::new(),
            lost_order: VecDeque::new(),
            forget_at: VecDeque::new(),
            output: VecDeque::new(),
            events: VecDeque::new(),
            stats: CoreStats::default(),
            shut_down: false,
            max_job_size: DEFAULT_MAX_JOB_SIZE,
        };
        // The status writer first, then the MultiService endpoints (observed §5 entity order).
        core.request_endpoint(topics::status_writer());
        let side = match core.role {
            Role::Main(_) => Some(Side::Client),
            Role::Computing(_) => Some(Side::Server),
            Role::Status => None,
        };
        if let Some(side) = side {
            for e in topics::endpoints_at_creation(side, &core.base, &id) {
                core.request_endpoint(e);
            }
        }
        if matches!(core.role, Role::Status) {
            core.request_endpoint(topics::status_reader());
        }
        core.set_state(now, StateKind::STOPPED);
        core
    }

    /// A MainNode (MultiService client, spec §4.4): publishes `stopped`, and `running` while it
    /// has jobs in flight.
    pub fn main(id: AmlipId, now: Instant) -> Self {
        Self::new(id, NodeKind::MAIN, Role::Main(Client::new(id)), now)
    }

    /// A ComputingNode (MultiService server, spec §4.5) running at most `concurrency` jobs at
    /// once; it answers no request until [`NodeCore::set_accepting`] (requests wait), then
    /// draws each answer among the [`OFFER_SPREAD`] oldest requests.
    pub fn computing(id: AmlipId, concurrency: usize, now: Instant) -> Self {
        let mut server = Server::new(id, concurrency).with_offer_spread(OFFER_SPREAD);
        server.set_accepting(now, false);
        Self::new(id, NodeKind::COMPUTING, Role::Computing(server), now)
    }

    /// Free a computing node's reply that got no target within `timeout` (see
    /// [`Server::with_reply_timeout`]; no effect on other kinds).
    #[must_use]
    pub fn with_reply_timeout(mut self, timeout: Duration) -> Self {
        if let Role::Computing(s) = self.role {
            self.role = Role::Computing(s.with_reply_timeout(timeout));
        }
        self
    }

    /// Answer up to `prefetch` requests beyond the free slots while jobs are short (see
    /// [`Server::with_prefetch`]; no effect on other kinds).
    #[must_use]
    pub fn with_prefetch(mut self, prefetch: usize) -> Self {
        if let Role::Computing(s) = self.role {
            self.role = Role::Computing(s.with_prefetch(prefetch));
        }
        self
    }

    /// When [`NodeCore::handle_timeout`] is next due, if ever (a computing node's reply
    /// timeout, a main node's held replies, see [`Client::poll_timeout`]).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.shut_down {
            return None;
        }
        let server = match &self.role {
            Role::Computing(s) => s.poll_timeout(),
            Role::Main(c) => c.poll_timeout(),
            _ => None,
        };
        let forget = self
            .forget_at
            .front()
            .and_then(|(t, _)| t.checked_add(KEEP_LOST_WRITERS));
        match (server, forget) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Run the timers that are due (a computing node's reply timeout, a main node's held
    /// replies, the deletion of a lost peer's writers); early calls are no-ops.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.shut_down {
            return;
        }
        match &mut self.role {
            Role::Computing(s) => s.handle_timeout(now),
            Role::Main(c) => c.handle_timeout(now),
            _ => {}
        }
        while let Some(&(since, prefix)) = self.forget_at.front() {
            if since
                .checked_add(KEEP_LOST_WRITERS)
                .is_some_and(|t| t > now)
            {
                break;
            }
            self.forget_at.pop_front();
            self.forget_lost_writers(since, prefix);
        }
        self.pump(now);
    }

    /// A StatusNode: reads every node's status (spec §5).
    pub fn status(id: AmlipId, now: Instant) -> Self {
        Self::new(id, NodeKind::STATUS, Role::Status, now)
    }

    /// This node's id.
    pub fn id(&self) -> AmlipId {
        self.id
    }

    /// This node's kind.
    pub fn kind(&self) -> NodeKind {
        self.kind
    }

    /// The state last published.
    pub fn state(&self) -> StateKind {
        self.state
    }

    /// Counters.
    pub fn stats(&self) -> CoreStats {
        self.stats
    }

    /// Refuse to submit or complete a job or solution over `max` bytes, and drop incoming
    /// ones over it (counted in [`CoreStats::oversized`]). Default [`DEFAULT_MAX_JOB_SIZE`].
    pub fn set_max_job_size(&mut self, max: usize) {
        self.max_job_size = max;
    }

    /// The cap of [`NodeCore::set_max_job_size`].
    pub fn max_job_size(&self) -> usize {
        self.max_job_size
    }

    /// `len` bytes of job or solution may go out.
    fn check_size(&self, len: usize) -> Result<(), CoreError> {
        if u32::try_from(len).is_err() {
            return Err(CoreError::TooLarge(len));
        }
        if len > self.max_job_size {
            return Err(CoreError::OverMaxJobSize(len, self.max_job_size));
        }
        Ok(())
    }

    /// The MultiService client (main nodes).
    pub fn client(&self) -> Option<&Client> {
        match &self.role {
            Role::Main(c) => Some(c),
            _ => None,
        }
    }

    /// The MultiService server (computing nodes).
    pub fn server(&self) -> Option<&Server> {
        match &self.role {
            Role::Computing(s) => Some(s),
            _ => None,
        }
    }

    /// Remote nodes known, with the participant hosting each.
    pub fn peers(&self) -> impl Iterator<Item = (GuidPrefix, AmlipId, Option<NodeKind>)> + '_ {
        self.peers.iter().map(|(p, n)| (*p, n.id, n.kind))
    }

    /// The next thing for the driver to do.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<NodeOutput> {
        self.output.pop_front()
    }

    /// True when [`NodeCore::poll_output`] has something.
    pub fn has_output(&self) -> bool {
        !self.output.is_empty()
    }

    /// The next event for the user.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<NodeEvent> {
        self.events.pop_front()
    }

    fn request_endpoint(&mut self, e: EndpointDescription) {
        if e.kind == EndpointKind::Writer {
            self.writers.insert(e.topic_name.clone());
        }
        self.output.push_back(NodeOutput::CreateEndpoint(e));
    }

    fn publish_status(&mut self) {
        let status = Status {
            id: self.id,
            node_kind: self.kind,
            state: self.state,
        };
        match status.to_payload() {
            Ok(payload) => self.output.push_back(NodeOutput::Publish {
                topic_name: STATUS_TOPIC.to_owned(),
                payload,
            }),
            Err(_) => self.stats.unserializable = self.stats.unserializable.saturating_add(1),
        }
    }

    /// Publish a new state (spec §5: every transition is published; no-op if unchanged).
    pub fn set_state(&mut self, _now: Instant, state: StateKind) {
        if self.shut_down || state == self.state {
            return;
        }
        self.state = state;
        self.publish_status();
    }

    /// The DDS name of `out`'s topic (remembered; bounded like the peers).
    fn topic_name(&mut self, out: &Outgoing) -> String {
        let key = (out.topic(), out.recipient());
        if let Some(n) = self.topic_names.get(&key) {
            return n.clone();
        }
        let name = out.topic_name(&self.base);
        if self.topic_names.len() >= MAX_PEERS {
            self.topic_names.clear();
        }
        self.topic_names.insert(key, name.clone());
        name
    }

    fn emit_outgoing(&mut self, out: Outgoing) {
        let topic_name = self.topic_name(&out);
        if let Some(recipient) = out.recipient() {
            if !self.writers.contains(&topic_name) {
                let e = topics::multiservice_writer(out.topic(), &self.base, &recipient);
                self.request_endpoint(e);
            }
        }
        match out.into_payload() {
            Ok(payload) => self.output.push_back(NodeOutput::Publish {
                topic_name,
                payload,
            }),
            Err(_) => self.stats.unserializable = self.stats.unserializable.saturating_add(1),
        }
    }

    /// Drain the machine's samples and events into the core's queues.
    fn pump(&mut self, now: Instant) {
        loop {
            let out = match &mut self.role {
                Role::Main(c) => c.poll_outgoing(),
                Role::Computing(s) => s.poll_outgoing(),
                Role::Status => None,
            };
            match out {
                Some(o) => self.emit_outgoing(o),
                None => break,
            }
        }
        loop {
            let ev = match &mut self.role {
                Role::Main(c) => c.poll_event().map(|e| match e {
                    ClientEvent::Solved {
                        task,
                        server,
                        solution,
                        latency,
                        reissued_from,
                    } => NodeEvent::Solved {
                        task,
                        server,
                        solution: solution.bytes,
                        latency,
                        reissued_from,
                    },
                    ClientEvent::Reissued { task, lost_server } => {
                        NodeEvent::Reissued { task, lost_server }
                    }
                    ClientEvent::Abandoned { task } => NodeEvent::Abandoned { task },
                    ClientEvent::Retried {
                        task,
                        server,
                        attempt,
                        reason,
                    } => NodeEvent::Retried {
                        task,
                        server,
                        attempt,
                        reason: reason.bytes,
                    },
                    ClientEvent::Failed {
                        task,
                        server,
                        reason,
                        attempts,
                        latency,
                    } => NodeEvent::Failed {
                        task,
                        server,
                        reason: reason.bytes,
                        attempts,
                        latency,
                    },
                }),
                Role::Computing(s) => s.poll_event().map(|e| match e {
                    ServerEvent::Task { key, job } => NodeEvent::Task {
                        key,
                        job: job.bytes,
                    },
                }),
                Role::Status => None,
            };
            match ev {
                Some(e) => self.events.push_back(e),
                None => break,
            }
        }
        if let Role::Main(c) = &self.role {
            let state = if c.in_flight() > 0 {
                StateKind::RUNNING
            } else {
                StateKind::STOPPED
            };
            self.set_state(now, state);
        }
    }

    /// Remember that the participant `prefix` hosts node `id` (of `kind`, if known).
    fn learn_peer(&mut self, prefix: GuidPrefix, id: AmlipId, kind: Option<NodeKind>) {
        if id == self.id || !id.is_defined() {
            return;
        }
        if let Some(p) = self.peers.get_mut(&prefix) {
            if p.id != id {
                *p = Peer {
                    id,
                    kind: None,
                    state: None,
                };
            }
            if kind.is_some() {
                p.kind = kind;
            }
            return;
        }
        if self.peers.len() >= MAX_PEERS {
            if let Some(old) = self.peer_order.pop_front() {
                self.peers.remove(&old);
            }
        }
        self.peers.insert(
            prefix,
            Peer {
                id,
                kind,
                state: None,
            },
        );
        self.peer_order.push_back(prefix);
    }

    /// A sample read on the reader of `topic_name`, written by a writer of participant `writer`.
    /// Samples that do not decode, or that are not for this node, are dropped and counted.
    pub fn handle_sample(
        &mut self,
        now: Instant,
        topic_name: &str,
        writer: GuidPrefix,
        payload: &[u8],
    ) {
        self.handle_incoming(now, topic_name, writer, Incoming::Borrowed(payload));
    }

    /// As [`NodeCore::handle_sample`] with the payload handed over: a job or solution is then
    /// decoded in the payload's own buffer, never copied.
    pub fn handle_sample_owned(
        &mut self,
        now: Instant,
        topic_name: &str,
        writer: GuidPrefix,
        payload: Vec<u8>,
    ) {
        self.handle_incoming(now, topic_name, writer, Incoming::Owned(payload));
    }

    fn handle_incoming(
        &mut self,
        now: Instant,
        topic_name: &str,
        writer: GuidPrefix,
        incoming: Incoming<'_>,
    ) {
        let payload = incoming.bytes();
        self.stats.samples = self.stats.samples.saturating_add(1);
        if self.shut_down {
            return;
        }
        if !self.lost.is_empty() {
            // Its samples flow again: it was rediscovered (the event may still be on its way).
            self.participant_back(now, writer);
        }
        if topic_name == STATUS_TOPIC {
            self.handle_status(writer, payload);
            return;
        }
        let Some((topic, recipient)) = MultiServiceTopic::classify(topic_name, &self.base) else {
            self.stats.foreign = self.stats.foreign.saturating_add(1);
            return;
        };
        if recipient.is_some_and(|r| r != self.id) {
            self.stats.foreign = self.stats.foreign.saturating_add(1);
            return;
        }
        let handled = match topic {
            MultiServiceTopic::RequestAvailability => {
                self.decode::<MsRequest>(payload).map(|req| {
                    self.learn_peer(writer, req.client_id, Some(NodeKind::MAIN));
                    self.with_server(|s| s.handle_request(now, req))
                })
            }
            MultiServiceTopic::TaskTarget => self.decode::<MsReference>(payload).map(|t| {
                self.learn_peer(writer, t.client_id, Some(NodeKind::MAIN));
                self.with_server(|s| s.handle_target(now, t))
            }),
            MultiServiceTopic::TaskData => self.decode_data(incoming).map(|d| {
                self.learn_peer(writer, d.client_id, Some(NodeKind::MAIN));
                if d.server_id == self.id && !self.accept_size(&d, "job") {
                    // Its slot is freed: the node takes other jobs.
                    return self.with_server(|s| {
                        s.refuse(now, d.request());
                    });
                }
                self.with_server(|s| s.handle_task_data(now, d))
            }),
            MultiServiceTopic::ReplyAvailable => self.decode::<MsReference>(payload).map(|r| {
                self.learn_peer(writer, r.server_id, Some(NodeKind::COMPUTING));
                self.with_client(|c| c.handle_reply_available(now, r))
            }),
            MultiServiceTopic::TaskSolution => self.decode_data(incoming).map(|d| {
                self.learn_peer(writer, d.server_id, Some(NodeKind::COMPUTING));
                if !self.accept_size(&d, "solution") {
                    return true;
                }
                self.with_client(|c| c.handle_solution(now, d))
            }),
        };
        if handled == Some(false) {
            self.stats.foreign = self.stats.foreign.saturating_add(1);
        }
        self.pump(now);
    }

    fn decode<T: Payload>(&mut self, payload: &[u8]) -> Option<T> {
        match T::from_payload(payload) {
            Ok(v) => Some(v),
            Err(e) => {
                log::debug!("dropped a malformed {} sample: {e}", T::TYPE_NAME);
                self.stats.malformed = self.stats.malformed.saturating_add(1);
                None
            }
        }
    }

    /// A job or solution, decoded in place when the payload is owned.
    fn decode_data(&mut self, incoming: Incoming<'_>) -> Option<MsData> {
        match incoming {
            Incoming::Borrowed(b) => self.decode::<MsData>(b),
            Incoming::Owned(v) => match MsData::from_payload_vec(v) {
                Ok(d) => Some(d),
                Err(e) => {
                    log::debug!("dropped a malformed {} sample: {e}", MsData::TYPE_NAME);
                    self.stats.malformed = self.stats.malformed.saturating_add(1);
                    None
                }
            },
        }
    }

    /// False (logged and counted) if `d`'s job or solution is over the maximum job size.
    fn accept_size(&mut self, d: &MsData, what: &str) -> bool {
        let len = d.data.bytes.len();
        if len <= self.max_job_size {
            return true;
        }
        log::warn!(
            "dropped the {what} of task {} of {}: {len} bytes is over the maximum job size \
             of {} bytes (--max-job-size)",
            d.task_id,
            d.client_id,
            self.max_job_size
        );
        self.stats.oversized = self.stats.oversized.saturating_add(1);
        false
    }

    fn with_server(&mut self, f: impl FnOnce(&mut Server)) -> bool {
        match &mut self.role {
            Role::Computing(s) => {
                f(s);
                true
            }
            _ => false,
        }
    }

    fn with_client(&mut self, f: impl FnOnce(&mut Client)) -> bool {
        match &mut self.role {
            Role::Main(c) => {
                f(c);
                true
            }
            _ => false,
        }
    }

    fn handle_status(&mut self, writer: GuidPrefix, payload: &[u8]) {
        let Some(status) = self.decode::<Status>(payload) else {
            return;
        };
        if status.id == self.id {
            return;
        }
        self.learn_peer(writer, status.id, Some(status.node_kind));
        if let Some(p) = self.peers.get_mut(&writer) {
            p.state = Some(status.state);
        }
        if matches!(self.role, Role::Status) {
            self.events.push_back(NodeEvent::Status(status));
        } else {
            self.stats.foreign = self.stats.foreign.saturating_add(1);
        }
    }

    /// The participant `prefix` was discovered: if it hosted a node that was declared lost, that
    /// node is back (see the module doc).
    pub fn handle_participant_discovered(&mut self, now: Instant, prefix: GuidPrefix) {
        if self.shut_down || self.lost.is_empty() {
            return;
        }
        self.participant_back(now, prefix);
        self.pump(now);
    }

    fn participant_back(&mut self, now: Instant, prefix: GuidPrefix) {
        let Some(Lost { peer, .. }) = self.lost.remove(&prefix) else {
            return;
        };
        self.lost_order.retain(|p| *p != prefix);
        self.learn_peer(prefix, peer.id, peer.kind);
        if let Role::Main(c) = &mut self.role {
            c.server_back(now, peer.id);
        }
        self.events.push_back(NodeEvent::PeerReturned {
            id: peer.id,
            kind: peer.kind,
        });
    }

    /// The participant `prefix` is gone (lease expired or it left): the node it hosted is lost.
    pub fn handle_participant_lost(&mut self, now: Instant, prefix: GuidPrefix) {
        let Some(peer) = self.peers.remove(&prefix) else {
            return;
        };
        self.peer_order.retain(|p| *p != prefix);
        if self.shut_down {
            return;
        }
        let id = peer.id;
        let mut kept = Vec::new();
        match &mut self.role {
            Role::Main(c) => {
                // Its tasks are re-issued under new ids: the task data written to it is moot.
                c.server_lost(now, id);
                let topic = MultiServiceTopic::TaskData.direct_name(&self.base, &id);
                self.forget_writers(topic.into_iter());
            }
            Role::Computing(s) => {
                s.client_lost(now, id);
                kept = [
                    MultiServiceTopic::ReplyAvailable,
                    MultiServiceTopic::TaskSolution,
                ]
                .into_iter()
                .filter_map(|t| t.direct_name(&self.base, &id))
                .collect();
            }
            Role::Status => {
                if peer.state != Some(StateKind::DROPPED) {
                    if let Some(kind) = peer.kind {
                        self.events.push_back(NodeEvent::Status(Status {
                            id,
                            node_kind: kind,
                            state: StateKind::DROPPED,
                        }));
                    }
                }
            }
        }
        if peer.state == Some(StateKind::DROPPED) {
            // A clean exit: it will not come back.
            self.forget_writers(kept.into_iter());
        } else {
            if self.lost.len() >= MAX_PEERS {
                if let Some(old) = self.lost_order.pop_front() {
                    if let Some(l) = self.lost.remove(&old) {
                        self.forget_writers(l.writers.into_iter());
                    }
                }
            }
            if !kept.is_empty() {
                if self.forget_at.len() >= MAX_PEERS {
                    if let Some((since, old)) = self.forget_at.pop_front() {
                        self.forget_lost_writers(since, old);
                    }
                }
                self.forget_at.push_back((now, prefix));
            }
            self.lost.insert(
                prefix,
                Lost {
                    peer,
                    since: now,
                    writers: kept,
                },
            );
            self.lost_order.push_back(prefix);
        }
        self.events.push_back(NodeEvent::PeerLost {
            id,
            kind: peer.kind,
        });
        self.pump(now);
    }

    /// Delete the writers kept for the peer of `prefix` lost at `since`, if it is still lost.
    fn forget_lost_writers(&mut self, since: Instant, prefix: GuidPrefix) {
        let writers = match self.lost.get_mut(&prefix) {
            Some(l) if l.since == since => std::mem::take(&mut l.writers),
            _ => Vec::new(),
        };
        self.forget_writers(writers.into_iter());
    }

    fn forget_writers(&mut self, topics: impl Iterator<Item = String>) {
        for topic_name in topics {
            if self.writers.remove(&topic_name) {
                self.output.push_back(NodeOutput::DeleteEndpoint {
                    topic_name,
                    kind: EndpointKind::Writer,
                });
            }
        }
    }

    /// Submit a job (main nodes): its request is published at once; returns its task id.
    pub fn submit(&mut self, now: Instant, job: Vec<u8>) -> Result<TaskId, CoreError> {
        if self.shut_down {
            return Err(CoreError::ShutDown);
        }
        self.check_size(job.len())?;
        let Role::Main(c) = &mut self.role else {
            return Err(CoreError::WrongKind("main"));
        };
        let task = c.submit(now, GenericData::new(job))?;
        self.pump(now);
        Ok(task)
    }

    /// Abandon a submitted task (main nodes); false if it was not pending.
    pub fn cancel(&mut self, now: Instant, task: TaskId) -> bool {
        let Role::Main(c) = &mut self.role else {
            return false;
        };
        let was = c.cancel(now, task);
        self.pump(now);
        was
    }

    /// The solution of a [`NodeEvent::Task`] (computing nodes).
    pub fn complete(
        &mut self,
        now: Instant,
        key: MsRequest,
        solution: Vec<u8>,
    ) -> Result<(), CoreError> {
        self.check_size(solution.len())?;
        let Role::Computing(s) = &mut self.role else {
            return Err(CoreError::WrongKind("computing"));
        };
        s.complete(now, key, GenericData::new(solution))?;
        self.pump(now);
        Ok(())
    }

    /// Report that a [`NodeEvent::Task`] failed (computing nodes): its main node gets the
    /// reason as a failed solution (see [`crate::multiservice::types`]) and may offer the job
    /// to another computing node.
    pub fn fail(&mut self, now: Instant, key: MsRequest, reason: Vec<u8>) -> Result<(), CoreError> {
        if u32::try_from(reason.len()).is_err() {
            return Err(CoreError::TooLarge(reason.len()));
        }
        let Role::Computing(s) = &mut self.role else {
            return Err(CoreError::WrongKind("computing"));
        };
        s.fail(now, key, GenericData::new(reason))?;
        self.pump(now);
        Ok(())
    }

    /// Attempts per job before a main node reports it failed (see
    /// [`Client::set_max_attempts`]).
    pub fn set_max_attempts(&mut self, attempts: u32) -> Result<(), CoreError> {
        let Role::Main(c) = &mut self.role else {
            return Err(CoreError::WrongKind("main"));
        };
        c.set_max_attempts(attempts);
        Ok(())
    }

    /// Start or stop answering requests (computing nodes); requests wait while stopped.
    pub fn set_accepting(&mut self, now: Instant, accepting: bool) -> Result<(), CoreError> {
        let Role::Computing(s) = &mut self.role else {
            return Err(CoreError::WrongKind("computing"));
        };
        s.set_accepting(now, accepting);
        self.pump(now);
        Ok(())
    }

    /// Accept at most `limit` more jobs (computing nodes; `None`: unlimited).
    pub fn set_task_limit(&mut self, now: Instant, limit: Option<u64>) -> Result<(), CoreError> {
        let Role::Computing(s) = &mut self.role else {
            return Err(CoreError::WrongKind("computing"));
        };
        s.set_task_limit(now, limit);
        self.pump(now);
        Ok(())
    }

    /// Run at most `concurrency` jobs at once (computing nodes; at least 1).
    pub fn set_concurrency(&mut self, now: Instant, concurrency: usize) -> Result<(), CoreError> {
        let Role::Computing(s) = &mut self.role else {
            return Err(CoreError::WrongKind("computing"));
        };
        s.set_max_concurrent(now, concurrency);
        self.pump(now);
        Ok(())
    }

    /// The node is stopping, the first half of [`NodeCore::shutdown`]: cancel pending jobs
    /// (releasing the servers that answered them), stop answering requests, and publish
    /// `stopped` if it was running (as AML-IP's asynchronous nodes do, spec §5).
    pub fn stop(&mut self, now: Instant) {
        if self.shut_down {
            return;
        }
        match &mut self.role {
            Role::Main(c) => {
                c.cancel_all(now);
            }
            Role::Computing(s) => s.set_accepting(now, false),
            Role::Status => {}
        }
        self.pump(now);
        if self.state == StateKind::RUNNING {
            self.set_state(now, StateKind::STOPPED);
        }
    }

    /// The node is going away: [`NodeCore::stop`], then publish `dropped` (spec §5). Later
    /// inputs are ignored.
    pub fn shutdown(&mut self, now: Instant) {
        if self.shut_down {
            return;
        }
        self.stop(now);
        self.set_state(now, StateKind::DROPPED);
        self.shut_down = true;
    }

    /// True once [`NodeCore::shutdown`] was called.
    pub fn is_shut_down(&self) -> bool {
        self.shut_down
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
