//! A tiny deterministic "bus" for the sans-IO MultiService machines (architecture.md rule 8).
//!
//! It models what the protocol relies on from DDS (AML-IP spec §4.2, §4.9): every sample goes to
//! every reader of its topic, reliably, in per-(writer, reader) FIFO order; the shared topics
//! (`request_availability`, `task_target`) are TRANSIENT_LOCAL, so a late-joining server gets
//! their whole history; direct samples written before their reader exists wait for it. The
//! interleaving across channels comes from a seeded RNG, and chaos options add duplicate
//! deliveries and reordering inside a channel (stronger than DDS gives, to test robustness).
//! Samples from or to a removed node are lost, as with a dead participant.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use amlip::multiservice::topics::MultiServiceTopic;
use amlip::multiservice::{
    AmlipId, Client, ClientEvent, GenericData, MsData, MsReference, MsRequest, Outgoing, Payload,
    Server, ServerEvent, TaskId,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Extra disorder on top of random cross-channel interleaving.
#[derive(Debug, Clone, Copy, Default)]
pub struct Chaos {
    /// Probability that a delivered sample is delivered once more later.
    pub duplicate: f64,
    /// Probability that a delivery takes a random sample of its channel instead of the oldest.
    pub reorder: f64,
}

impl Chaos {
    /// The chaos used for a seed: none, duplicates, or duplicates + in-channel reordering.
    pub fn for_seed(seed: u64) -> Chaos {
        match seed % 3 {
            0 => Chaos::default(),
            1 => Chaos {
                duplicate: 0.1,
                reorder: 0.0,
            },
            _ => Chaos {
                duplicate: 0.1,
                reorder: 0.3,
            },
        }
    }
}

/// Run `f` for seeds `0..count` (`AMLIP_TEST_SEEDS` overrides the count; `AMLIP_TEST_SEED`
/// runs just that one), naming the seed on failure.
pub fn for_seeds(name: &str, count: u64, f: impl Fn(u64)) {
    let seeds: Vec<u64> = match std::env::var("AMLIP_TEST_SEED") {
        Ok(s) => vec![s.parse().expect("AMLIP_TEST_SEED must be a u64")],
        Err(_) => {
            let n = std::env::var("AMLIP_TEST_SEEDS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(count);
            (0..n).collect()
        }
    };
    for seed in seeds {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(seed)));
        if let Err(e) = r {
            eprintln!("{name} failed; rerun with AMLIP_TEST_SEED={seed}");
            std::panic::resume_unwind(e);
        }
    }
}

#[allow(clippy::disallowed_methods)]
fn epoch() -> Instant {
    Instant::now()
}

/// A main node: the client machine plus the jobs it still has to submit.
pub struct ClientNode {
    pub machine: Client,
    /// Jobs not submitted yet (sequential clients submit one after each solution).
    pub backlog: VecDeque<String>,
    pub sequential: bool,
    /// Job text of every submitted task, by task id.
    pub jobs: BTreeMap<TaskId, String>,
    /// Every solution delivered: task → (server, solution text).
    pub solutions: BTreeMap<TaskId, Vec<(AmlipId, String)>>,
    pub cancelled: BTreeSet<TaskId>,
}

/// A computing node: the server machine plus the jobs it is "computing".
pub struct ServerNode {
    pub machine: Server,
    pub work: Vec<(MsRequest, GenericData)>,
    /// Every task handed to this server.
    pub processed: Vec<MsRequest>,
}

type Channel = (AmlipId, MultiServiceTopic, AmlipId);

/// The bus (see the module doc).
pub struct Bus {
    pub seed: u64,
    rng: StdRng,
    chaos: Chaos,
    pub now: Instant,
    pub clients: BTreeMap<AmlipId, ClientNode>,
    pub servers: BTreeMap<AmlipId, ServerNode>,
    gone: BTreeSet<AmlipId>,
    channels: BTreeMap<Channel, VecDeque<Outgoing>>,
    shared_history: Vec<(AmlipId, Outgoing)>,
    direct_pending: Vec<(AmlipId, Outgoing)>,
    /// The engine: job → solution.
    solve: fn(&str) -> String,
    pub steps: u64,
}

impl Bus {
    /// An empty bus whose servers answer with `solve`.
    pub fn new(seed: u64, solve: fn(&str) -> String) -> Bus {
        Bus {
            seed,
            rng: StdRng::seed_from_u64(seed),
            chaos: Chaos::for_seed(seed),
            now: epoch(),
            clients: BTreeMap::new(),
            servers: BTreeMap::new(),
            gone: BTreeSet::new(),
            channels: BTreeMap::new(),
            shared_history: Vec::new(),
            direct_pending: Vec::new(),
            solve,
            steps: 0,
        }
    }

    fn new_id(&mut self, name: &str) -> AmlipId {
        loop {
            let id = AmlipId::new_random(name, &mut self.rng).expect("valid name");
            if !self.clients.contains_key(&id) && !self.servers.contains_key(&id) {
                return id;
            }
        }
    }

    /// Add a main node that will submit `jobs` (all at once, or one per solution).
    pub fn add_client(&mut self, name: &str, jobs: &[String], sequential: bool) -> AmlipId {
        let id = self.new_id(name);
        self.clients.insert(
            id,
            ClientNode {
                machine: Client::new(id),
                backlog: jobs.iter().cloned().collect(),
                sequential,
                jobs: BTreeMap::new(),
                solutions: BTreeMap::new(),
                cancelled: BTreeSet::new(),
            },
        );
        self.deliver_pending(id);
        self.submit_backlog(id);
        self.flush();
        id
    }

    /// Add a computing node with `slots` concurrent tasks and an optional task limit; it gets the
    /// TRANSIENT_LOCAL history of the shared topics.
    pub fn add_server(&mut self, name: &str, slots: usize, limit: Option<u64>) -> AmlipId {
        let id = self.new_id(name);
        let mut machine = Server::new(id, slots);
        machine.set_task_limit(self.now, limit);
        self.servers.insert(
            id,
            ServerNode {
                machine,
                work: Vec::new(),
                processed: Vec::new(),
            },
        );
        for (writer, out) in self.shared_history.clone() {
            self.enqueue(writer, id, out);
        }
        self.deliver_pending(id);
        self.flush();
        id
    }

    /// Remove a computing node: its queued samples and unfinished work are lost, and every
    /// client is told (as the node layer would on lease expiry).
    pub fn remove_server(&mut self, id: AmlipId) {
        self.servers.remove(&id);
        self.gone.insert(id);
        self.channels.retain(|(w, _, r), _| *w != id && *r != id);
        let now = self.now;
        for c in self.clients.values_mut() {
            c.machine.server_lost(now, id);
        }
        self.flush();
    }

    /// Submit more jobs from an existing client (all at once).
    pub fn submit(&mut self, client: AmlipId, jobs: &[String]) {
        if let Some(c) = self.clients.get_mut(&client) {
            c.backlog.extend(jobs.iter().cloned());
        }
        self.submit_backlog(client);
        self.flush();
    }

    /// Cancel a task (recorded as cancelled if it was pending); a sequential client moves on.
    pub fn cancel(&mut self, client: AmlipId, task: TaskId) {
        let now = self.now;
        if let Some(c) = self.clients.get_mut(&client) {
            if c.machine.cancel(now, task) {
                c.cancelled.insert(task);
            }
        }
        self.submit_backlog(client);
        self.flush();
    }

    fn submit_backlog(&mut self, id: AmlipId) {
        let now = self.now;
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        while let Some(job) = c.backlog.front().cloned() {
            if c.sequential && c.machine.in_flight() > 0 {
                break;
            }
            c.backlog.pop_front();
            let t = c
                .machine
                .submit(now, job.as_str().into())
                .expect("task ids");
            c.jobs.insert(t, job);
        }
    }

    fn deliver_pending(&mut self, id: AmlipId) {
        let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.direct_pending)
            .into_iter()
            .partition(|(_, o)| o.recipient() == Some(id));
        self.direct_pending = rest;
        for (writer, out) in mine {
            self.enqueue(writer, id, out);
        }
    }

    fn enqueue(&mut self, writer: AmlipId, reader: AmlipId, out: Outgoing) {
        let key = (writer, out.topic(), reader);
        self.channels.entry(key).or_default().push_back(out);
    }

    fn publish(&mut self, writer: AmlipId, out: Outgoing) {
        // Every sample crosses the bus as bytes: serialize, decode as its topic's type.
        let out = wire_round_trip(out);
        match out.recipient() {
            None => {
                self.shared_history.push((writer, out.clone()));
                let readers: Vec<AmlipId> = self.servers.keys().copied().collect();
                for r in readers {
                    self.enqueue(writer, r, out.clone());
                }
            }
            Some(r) if self.clients.contains_key(&r) || self.servers.contains_key(&r) => {
                self.enqueue(writer, r, out);
            }
            Some(r) if self.gone.contains(&r) => {}
            Some(_) => self.direct_pending.push((writer, out)),
        }
    }

    /// Drain every machine's outputs and events.
    pub fn flush(&mut self) {
        let ids: Vec<AmlipId> = self
            .clients
            .keys()
            .chain(self.servers.keys())
            .copied()
            .collect();
        for id in ids {
            self.flush_node(id);
        }
    }

    /// Drain one machine's outputs and events (handling an event may produce more output).
    fn flush_node(&mut self, id: AmlipId) {
        loop {
            let mut moved = false;
            while let Some(out) = self
                .clients
                .get_mut(&id)
                .and_then(|c| c.machine.poll_outgoing())
            {
                self.publish(id, out);
                moved = true;
            }
            while let Some(ev) = self
                .clients
                .get_mut(&id)
                .and_then(|c| c.machine.poll_event())
            {
                moved = true;
                self.on_client_event(id, ev);
            }
            while let Some(out) = self
                .servers
                .get_mut(&id)
                .and_then(|s| s.machine.poll_outgoing())
            {
                self.publish(id, out);
                moved = true;
            }
            while let Some(ev) = self
                .servers
                .get_mut(&id)
                .and_then(|s| s.machine.poll_event())
            {
                moved = true;
                let ServerEvent::Task { key, job } = ev else {
                    continue;
                };
                if let Some(s) = self.servers.get_mut(&id) {
                    s.processed.push(key);
                    s.work.push((key, job));
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn on_client_event(&mut self, id: AmlipId, ev: ClientEvent) {
        if let ClientEvent::Solved {
            task,
            server,
            solution,
            ..
        } = ev
        {
            if let Some(c) = self.clients.get_mut(&id) {
                let text = String::from_utf8(solution.bytes).expect("utf-8 solution");
                c.solutions.entry(task).or_default().push((server, text));
            }
            self.submit_backlog(id);
        }
    }

    fn deliver(&mut self, key: Channel) {
        let Some(ch) = self.channels.get_mut(&key) else {
            return;
        };
        let idx = if self.rng.gen_bool(self.chaos.reorder) {
            self.rng.gen_range(0..ch.len())
        } else {
            0
        };
        let Some(out) = ch.remove(idx) else {
            return;
        };
        if self.rng.gen_bool(self.chaos.duplicate) {
            ch.push_back(out.clone());
        }
        if ch.is_empty() {
            self.channels.remove(&key);
        }
        let (_, _, reader) = key;
        let now = self.now;
        self.deliver_to(reader, now, out);
        self.flush_node(reader);
    }

    fn deliver_to(&mut self, reader: AmlipId, now: Instant, out: Outgoing) {
        if let Some(c) = self.clients.get_mut(&reader) {
            match out {
                Outgoing::ReplyAvailable { reference, .. } => {
                    c.machine.handle_reply_available(now, reference)
                }
                Outgoing::Solution { data, .. } => c.machine.handle_solution(now, data),
                other => panic!("client got {other:?}"),
            }
        } else if let Some(s) = self.servers.get_mut(&reader) {
            match out {
                Outgoing::Request(r) => s.machine.handle_request(now, r),
                Outgoing::Target(t) => s.machine.handle_target(now, t),
                Outgoing::TaskData { data, .. } => s.machine.handle_task_data(now, data),
                other => panic!("server got {other:?}"),
            }
        }
    }

    fn complete_one(&mut self) {
        let busy: Vec<AmlipId> = self
            .servers
            .iter()
            .filter(|(_, s)| !s.work.is_empty())
            .map(|(id, _)| *id)
            .collect();
        let id = busy[self.rng.gen_range(0..busy.len())];
        let now = self.now;
        let solve = self.solve;
        let Some(s) = self.servers.get_mut(&id) else {
            return;
        };
        let i = self.rng.gen_range(0..s.work.len());
        let (key, job) = s.work.swap_remove(i);
        let text = String::from_utf8(job.bytes).expect("utf-8 job");
        s.machine
            .complete(now, key, solve(&text).as_str().into())
            .expect("complete a task we were given");
        self.flush_node(id);
    }

    /// One delivery or one job completion; false when nothing is left to do.
    pub fn step(&mut self) -> bool {
        let channels: Vec<Channel> = self.channels.keys().copied().collect();
        let working = self.servers.values().any(|s| !s.work.is_empty());
        if channels.is_empty() && !working {
            return false;
        }
        self.steps += 1;
        self.now += Duration::from_millis(1);
        if !channels.is_empty() && (!working || self.rng.gen_bool(0.7)) {
            let key = channels[self.rng.gen_range(0..channels.len())];
            self.deliver(key);
        } else {
            self.complete_one();
        }
        true
    }

    /// Step until quiet (bounded).
    pub fn run(&mut self) {
        for _ in 0..2_000_000 {
            if !self.step() {
                return;
            }
        }
        panic!("seed {}: the bus did not go quiet", self.seed);
    }

    /// Step while `cond` holds and there is something to do (bounded).
    pub fn run_while(&mut self, mut cond: impl FnMut(&Bus) -> bool) {
        for _ in 0..2_000_000 {
            if !cond(self) || !self.step() {
                return;
            }
        }
        panic!("seed {}: run_while did not finish", self.seed);
    }

    /// Solutions delivered to all clients.
    pub fn solved(&self) -> usize {
        self.clients.values().map(|c| c.solutions.len()).sum()
    }

    /// Check the goal: every task submitted and not cancelled was solved exactly once, with
    /// `solve(job)`; no wire (client, task) was handed to two servers; every server is idle.
    pub fn assert_all_solved_once(&self) {
        let seed = self.seed;
        for (cid, c) in &self.clients {
            assert!(c.backlog.is_empty(), "seed {seed}: {cid} has unsent jobs");
            for (task, job) in &c.jobs {
                if c.cancelled.contains(task) {
                    continue;
                }
                let got = c.solutions.get(task).map(Vec::as_slice).unwrap_or(&[]);
                assert_eq!(
                    got.len(),
                    1,
                    "seed {seed}: {cid} task {task} solutions {got:?}"
                );
                assert_eq!(
                    got[0].1,
                    (self.solve)(job),
                    "seed {seed}: {cid} task {task}"
                );
            }
            assert_eq!(c.machine.in_flight(), 0, "seed {seed}: {cid}");
        }
        let mut keys = BTreeSet::new();
        for (sid, s) in &self.servers {
            for k in &s.processed {
                assert!(
                    keys.insert(*k),
                    "seed {seed}: {k:?} processed twice ({sid})"
                );
            }
            assert!(
                s.machine.is_idle(),
                "seed {seed}: {sid} is stuck: {:?}",
                s.machine.slots().collect::<Vec<_>>()
            );
            assert!(s.work.is_empty());
        }
        assert!(self.channels.is_empty());
    }
}

/// Job names as in AML-IP's tests.
pub fn jobs(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}_{i}")).collect()
}

/// Serialize a sample and decode it back as its topic's type (the bus carries bytes).
fn wire_round_trip(out: Outgoing) -> Outgoing {
    let p = out.to_payload().expect("payload");
    let back = match &out {
        Outgoing::Request(_) => Outgoing::Request(MsRequest::from_payload(&p).expect("request")),
        Outgoing::ReplyAvailable { to_client, .. } => Outgoing::ReplyAvailable {
            to_client: *to_client,
            reference: MsReference::from_payload(&p).expect("reply"),
        },
        Outgoing::Target(_) => Outgoing::Target(MsReference::from_payload(&p).expect("target")),
        Outgoing::TaskData { to_server, .. } => Outgoing::TaskData {
            to_server: *to_server,
            data: MsData::from_payload(&p).expect("data"),
        },
        Outgoing::Solution { to_client, .. } => Outgoing::Solution {
            to_client: *to_client,
            data: MsData::from_payload(&p).expect("solution"),
        },
    };
    assert_eq!(back, out);
    back
}
