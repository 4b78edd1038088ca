//! NodeCore unit tests: cores wired to each other by a tiny in-test router that delivers every
//! published sample to every core with a reader on that topic.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::*;
use crate::multiservice::topics::EndpointQos;

fn epoch() -> Instant {
    rtps::transport::sim::virtual_epoch()
}

fn id(name: &str, r: u8) -> AmlipId {
    AmlipId::new(name, [r, 0, 0, r]).unwrap()
}

fn prefix(n: u8) -> GuidPrefix {
    GuidPrefix([n; 12])
}

/// A core plus what the router knows of its endpoints.
struct Wired {
    core: NodeCore,
    prefix: GuidPrefix,
    readers: BTreeSet<String>,
    writers: Vec<String>,
    deleted: Vec<String>,
    events: Vec<NodeEvent>,
}

struct Router {
    nodes: Vec<Wired>,
    now: Instant,
}

impl Router {
    fn new() -> Self {
        Router {
            nodes: Vec::new(),
            now: epoch(),
        }
    }

    fn add(&mut self, core: NodeCore) -> usize {
        let n = self.nodes.len();
        self.nodes.push(Wired {
            core,
            prefix: prefix(n as u8 + 1),
            readers: BTreeSet::new(),
            writers: Vec::new(),
            deleted: Vec::new(),
            events: Vec::new(),
        });
        self.run();
        n
    }

    /// Deliver until quiet; computing cores answer every task with its uppercase job.
    fn run(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            for i in 0..self.nodes.len() {
                while let Some(o) = self.nodes[i].core.poll_output() {
                    moved = true;
                    match o {
                        NodeOutput::CreateEndpoint(e) => match e.kind {
                            EndpointKind::Reader => {
                                self.nodes[i].readers.insert(e.topic_name);
                            }
                            EndpointKind::Writer => self.nodes[i].writers.push(e.topic_name),
                        },
                        NodeOutput::DeleteEndpoint { topic_name, .. } => {
                            self.nodes[i].deleted.push(topic_name)
                        }
                        NodeOutput::Publish {
                            topic_name,
                            payload,
                        } => {
                            assert!(
                                self.nodes[i].writers.contains(&topic_name),
                                "published on {topic_name} before creating its writer"
                            );
                            let from = self.nodes[i].prefix;
                            let now = self.now;
                            for (j, n) in self.nodes.iter_mut().enumerate() {
                                if j != i && n.readers.contains(&topic_name) {
                                    // Both ways a driver hands samples over.
                                    if j % 2 == 0 {
                                        n.core.handle_sample(now, &topic_name, from, &payload);
                                    } else {
                                        n.core.handle_sample_owned(
                                            now,
                                            &topic_name,
                                            from,
                                            payload.clone(),
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
                while let Some(e) = self.nodes[i].core.poll_event() {
                    moved = true;
                    if let NodeEvent::Task { key, job } = &e {
                        let now = self.now;
                        let core = &mut self.nodes[i].core;
                        if job.starts_with(b"fail") {
                            core.fail(now, *key, b"no luck".to_vec()).unwrap();
                        } else {
                            core.complete(now, *key, job.to_ascii_uppercase()).unwrap();
                        }
                    }
                    self.nodes[i].events.push(e);
                }
            }
            if !moved {
                return;
            }
            self.now += Duration::from_millis(1);
        }
        panic!("router did not go quiet");
    }

    fn solutions(&self, i: usize) -> Vec<(TaskId, AmlipId, Vec<u8>)> {
        self.nodes[i]
            .events
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
}

fn outputs(core: &mut NodeCore) -> Vec<NodeOutput> {
    std::iter::from_fn(|| core.poll_output()).collect()
}

#[test]
fn a_main_core_creates_its_endpoints_then_publishes_stopped() {
    let now = epoch();
    let me = id("AMLMainNode", 1);
    let mut core = NodeCore::main(me, now);
    let out = outputs(&mut core);
    let names: Vec<(&str, EndpointKind)> = out
        .iter()
        .filter_map(|o| match o {
            NodeOutput::CreateEndpoint(e) => Some((e.topic_name.as_str(), e.kind)),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        [
            ("amlip/status", EndpointKind::Writer),
            ("amlip/job_request_availability", EndpointKind::Writer),
            (
                "amlip/job_reply_available_AMLMainNode.01.00.00.01",
                EndpointKind::Reader
            ),
            ("amlip/job_task_target", EndpointKind::Writer),
            (
                "amlip/job_task_solution_AMLMainNode.01.00.00.01",
                EndpointKind::Reader
            ),
        ]
    );
    let Some(NodeOutput::Publish {
        topic_name,
        payload,
    }) = out.last()
    else {
        panic!("no status published: {out:?}");
    };
    assert_eq!(topic_name, "amlip/status");
    let st = Status::from_payload(payload).unwrap();
    assert_eq!(
        (st.id, st.node_kind, st.state),
        (me, NodeKind::MAIN, StateKind::STOPPED)
    );
}

#[test]
fn status_and_computing_cores_create_the_observed_endpoints() {
    let now = epoch();
    let mut c = NodeCore::computing(id("C", 2), 1, now);
    let created: Vec<(String, EndpointKind, EndpointQos)> = outputs(&mut c)
        .into_iter()
        .filter_map(|o| match o {
            NodeOutput::CreateEndpoint(e) => Some((e.topic_name, e.kind, e.qos)),
            _ => None,
        })
        .collect();
    assert_eq!(created.len(), 4);
    assert_eq!(created[0].2, EndpointQos::STATUS_WRITER);
    assert_eq!(created[3].0, "amlip/job_task_data_C.02.00.00.02");
    let mut s = NodeCore::status(id("S", 3), now);
    let created: Vec<(String, EndpointKind)> = outputs(&mut s)
        .into_iter()
        .filter_map(|o| match o {
            NodeOutput::CreateEndpoint(e) => Some((e.topic_name, e.kind)),
            _ => None,
        })
        .collect();
    assert_eq!(
        created,
        [
            ("amlip/status".to_owned(), EndpointKind::Writer),
            ("amlip/status".to_owned(), EndpointKind::Reader),
        ]
    );
}

#[test]
fn a_main_and_a_computing_core_solve_a_job_and_learn_each_others_participant() {
    let mut r = Router::new();
    let main = r.add(NodeCore::main(id("M", 1), r.now));
    let comp = r.add(NodeCore::computing(id("C", 2), 1, r.now));
    let now = r.now;
    r.nodes[comp].core.set_accepting(now, true).unwrap();
    let t = r.nodes[main]
        .core
        .submit(now, b"test_data".to_vec())
        .unwrap();
    r.run();
    assert_eq!(r.solutions(main), [(t, id("C", 2), b"TEST_DATA".to_vec())]);
    let task_data = "amlip/job_task_data_C.02.00.00.02".to_owned();
    assert_eq!(
        r.nodes[main]
            .writers
            .iter()
            .filter(|w| **w == task_data)
            .count(),
        1
    );
    let peers: Vec<_> = r.nodes[main].core.peers().collect();
    assert_eq!(
        peers,
        [(r.nodes[comp].prefix, id("C", 2), Some(NodeKind::COMPUTING))]
    );
    let peers: Vec<_> = r.nodes[comp].core.peers().collect();
    assert_eq!(
        peers,
        [(r.nodes[main].prefix, id("M", 1), Some(NodeKind::MAIN))]
    );
    // A second job reuses the lazily created writer.
    r.nodes[main].core.submit(now, b"again".to_vec()).unwrap();
    r.run();
    assert_eq!(r.solutions(main).len(), 2);
    assert_eq!(
        r.nodes[main]
            .writers
            .iter()
            .filter(|w| **w == task_data)
            .count(),
        1
    );
}

#[test]
fn a_computing_core_answers_nothing_until_it_accepts() {
    let mut r = Router::new();
    let main = r.add(NodeCore::main(id("M", 1), r.now));
    let comp = r.add(NodeCore::computing(id("C", 2), 1, r.now));
    let now = r.now;
    r.nodes[main].core.submit(now, b"x".to_vec()).unwrap();
    r.run();
    assert!(r.solutions(main).is_empty());
    assert_eq!(r.nodes[comp].core.server().unwrap().queued(), 1);
    r.nodes[comp].core.set_accepting(now, true).unwrap();
    r.run();
    assert_eq!(r.solutions(main).len(), 1);
}

#[test]
fn the_main_core_is_running_while_jobs_are_in_flight() {
    let mut r = Router::new();
    let st = r.add(NodeCore::status(id("S", 9), r.now));
    let main = r.add(NodeCore::main(id("M", 1), r.now));
    let comp = r.add(NodeCore::computing(id("C", 2), 1, r.now));
    let now = r.now;
    r.nodes[main].core.submit(now, b"x".to_vec()).unwrap();
    r.run();
    assert_eq!(r.nodes[main].core.state(), StateKind::RUNNING);
    r.nodes[comp].core.set_accepting(now, true).unwrap();
    r.run();
    assert_eq!(r.nodes[main].core.state(), StateKind::STOPPED);
    let seen: Vec<(NodeKind, StateKind)> = r.nodes[st]
        .events
        .iter()
        .filter_map(|e| match e {
            NodeEvent::Status(s) if s.id == id("M", 1) => Some((s.node_kind, s.state)),
            _ => None,
        })
        .collect();
    assert_eq!(
        seen,
        [
            (NodeKind::MAIN, StateKind::STOPPED),
            (NodeKind::MAIN, StateKind::RUNNING),
            (NodeKind::MAIN, StateKind::STOPPED),
        ]
    );
}

#[test]
fn a_lost_participant_is_reported_dropped_once_by_a_status_core() {
    let mut r = Router::new();
    let st = r.add(NodeCore::status(id("S", 9), r.now));
    let a = r.add(NodeCore::main(id("A", 1), r.now));
    let b = r.add(NodeCore::main(id("B", 2), r.now));
    let now = r.now;
    // B leaves cleanly (publishes dropped), A's lease expires.
    r.nodes[b].core.shutdown(now);
    r.run();
    let (pa, pb) = (r.nodes[a].prefix, r.nodes[b].prefix);
    r.nodes[st].core.handle_participant_lost(now, pa);
    r.nodes[st].core.handle_participant_lost(now, pb);
    r.nodes[st].core.handle_participant_lost(now, pa);
    r.run();
    let dropped: Vec<AmlipId> = r.nodes[st]
        .events
        .iter()
        .filter_map(|e| match e {
            NodeEvent::Status(s) if s.state == StateKind::DROPPED => Some(s.id),
            _ => None,
        })
        .collect();
    assert_eq!(dropped, [id("B", 2), id("A", 1)]);
    let lost = r.nodes[st]
        .events
        .iter()
        .filter(|e| matches!(e, NodeEvent::PeerLost { .. }))
        .count();
    assert_eq!(lost, 2);
}

#[test]
fn losing_the_chosen_server_reissues_its_task_to_another_one() {
    let mut r = Router::new();
    let main = r.add(NodeCore::main(id("M", 1), r.now));
    let c1 = r.add(NodeCore::computing(id("C", 1), 1, r.now));
    let now = r.now;
    r.nodes[c1].core.set_accepting(now, true).unwrap();
    // C1 takes the task but never completes it: intercept by not routing its events.
    let t = r.nodes[main].core.submit(now, b"job".to_vec()).unwrap();
    // Deliver manually without completing: run the router but C1's Task gets completed by the
    // router, so instead crash C1 before it runs by removing its readers after the data.
    let p1 = r.nodes[c1].prefix;
    r.nodes[c1].readers.retain(|t| !t.contains("task_data"));
    r.run();
    assert_eq!(
        r.nodes[main].core.client().unwrap().assigned_server(t),
        Some(id("C", 1))
    );
    let c2 = r.add(NodeCore::computing(id("C", 2), 1, r.now));
    r.nodes[c2].core.set_accepting(now, true).unwrap();
    r.run();
    r.nodes[main].core.handle_participant_lost(now, p1);
    // The reissued request reaches C2 (a new request on the shared topic).
    r.run();
    assert_eq!(r.solutions(main), [(t, id("C", 2), b"JOB".to_vec())]);
    assert!(r.nodes[main].events.iter().any(
        |e| matches!(e, NodeEvent::Reissued { lost_server, .. } if *lost_server == id("C", 1))
    ));
    assert_eq!(r.nodes[main].deleted, ["amlip/job_task_data_C.01.00.00.01"]);
}

#[test]
fn malformed_and_foreign_samples_are_counted_and_dropped() {
    let now = epoch();
    let me = id("M", 1);
    let mut core = NodeCore::main(me, now);
    let _ = outputs(&mut core);
    let p = prefix(7);
    core.handle_sample(
        now,
        "amlip/job_task_solution_M.01.00.00.01",
        p,
        b"\0\x01\0\0xx",
    );
    core.handle_sample(now, "amlip/job_task_solution_X.01.00.00.01", p, b"");
    core.handle_sample(now, "some/other", p, b"");
    let req = MsRequest {
        client_id: id("Z", 5),
        task_id: TaskId(0),
    };
    core.handle_sample(
        now,
        "amlip/job_request_availability",
        p,
        &req.to_payload().unwrap(),
    );
    let s = core.stats();
    assert_eq!((s.samples, s.malformed, s.foreign), (4, 1, 3));
    assert!(outputs(&mut core).is_empty());
    assert!(core.poll_event().is_none());
}

#[test]
fn operations_of_another_node_kind_are_refused() {
    let now = epoch();
    let mut c = NodeCore::computing(id("C", 1), 1, now);
    assert_eq!(
        c.submit(now, b"x".to_vec()),
        Err(CoreError::WrongKind("main"))
    );
    let mut m = NodeCore::main(id("M", 1), now);
    assert_eq!(
        m.set_accepting(now, true),
        Err(CoreError::WrongKind("computing"))
    );
    let key = MsRequest {
        client_id: id("M", 1),
        task_id: TaskId(0),
    };
    assert_eq!(
        c.complete(now, key, Vec::new()),
        Err(CoreError::UnknownTask)
    );
    assert!(!m.cancel(now, TaskId(3)));
}

#[test]
fn shutdown_cancels_publishes_dropped_and_ignores_later_input() {
    let mut r = Router::new();
    let main = r.add(NodeCore::main(id("M", 1), r.now));
    let now = r.now;
    r.nodes[main].core.submit(now, b"x".to_vec()).unwrap();
    r.run();
    let _ = outputs(&mut r.nodes[main].core);
    r.nodes[main].core.shutdown(now);
    let out = outputs(&mut r.nodes[main].core);
    let statuses: Vec<StateKind> = out
        .iter()
        .filter_map(|o| match o {
            NodeOutput::Publish {
                topic_name,
                payload,
            } if topic_name == STATUS_TOPIC => Some(Status::from_payload(payload).unwrap().state),
            _ => None,
        })
        .collect();
    assert_eq!(statuses.last(), Some(&StateKind::DROPPED));
    assert_eq!(
        r.nodes[main].core.submit(now, b"y".to_vec()),
        Err(CoreError::ShutDown)
    );
    r.nodes[main].core.shutdown(now);
    assert!(outputs(&mut r.nodes[main].core).is_empty());
}

#[test]
fn jobs_and_solutions_over_the_maximum_job_size_are_refused_or_dropped() {
    let mut r = Router::new();
    let main = r.add(NodeCore::main(id("M", 1), r.now));
    let comp = r.add(NodeCore::computing(id("C", 2), 1, r.now));
    let now = r.now;
    assert_eq!(r.nodes[main].core.max_job_size(), DEFAULT_MAX_JOB_SIZE);
    r.nodes[main].core.set_max_job_size(8);
    let refused = r.nodes[main].core.submit(now, vec![b'x'; 9]);
    assert_eq!(refused, Err(CoreError::OverMaxJobSize(9, 8)));
    assert!(refused
        .unwrap_err()
        .to_string()
        .contains("maximum job size of 8 bytes"));
    // A computing node with a smaller cap drops the job, counted, and never runs it.
    r.nodes[comp].core.set_max_job_size(4);
    r.nodes[comp].core.set_accepting(now, true).unwrap();
    r.nodes[main]
        .core
        .submit(now, b"12345678".to_vec())
        .unwrap();
    r.run();
    assert!(r.solutions(main).is_empty());
    assert_eq!(r.nodes[comp].core.stats().oversized, 1);
    assert!(!r.nodes[comp]
        .events
        .iter()
        .any(|e| matches!(e, NodeEvent::Task { .. })));
    // Its slot was freed: the next job within the cap is solved.
    let server = r.nodes[comp].core.server().unwrap();
    assert_eq!((server.stats().refused, server.is_idle()), (1, true));
    let t = r.nodes[main].core.submit(now, b"1234".to_vec()).unwrap();
    r.run();
    assert_eq!(r.solutions(main), [(t, id("C", 2), b"1234".to_vec())]);
    // A main drops a solution over its cap, counted.
    let reference = MsReference {
        client_id: id("M", 1),
        task_id: TaskId(1),
        server_id: id("C", 2),
    };
    let big = MsData::new(reference, GenericData::new(vec![b'y'; 9]));
    let topic = MultiServiceTopic::TaskSolution
        .direct_name(topics::JOB_TOPIC_NAME, &id("M", 1))
        .unwrap();
    let from = r.nodes[comp].prefix;
    r.nodes[main]
        .core
        .handle_sample_owned(now, &topic, from, big.into_payload().unwrap());
    assert_eq!(r.nodes[main].core.stats().oversized, 1);
    assert_eq!(r.solutions(main).len(), 1, "only the job within the cap");
}

#[test]
fn a_failed_job_goes_to_the_other_computing_node_then_is_reported_failed() {
    let mut r = Router::new();
    let m = r.add(NodeCore::main(id("M", 1), r.now));
    let mut servers = Vec::new();
    for n in 1..=2 {
        let mut c = NodeCore::computing(id("C", n), 1, r.now);
        c.set_accepting(r.now, true).unwrap();
        servers.push(r.add(c));
    }
    let now = r.now;
    let task = r.nodes[m]
        .core
        .submit(now, b"fail please".to_vec())
        .unwrap();
    let ok = r.nodes[m].core.submit(now, b"fine".to_vec()).unwrap();
    // Held replies of servers that failed the task are chosen once their grace passes.
    for _ in 0..10 {
        r.run();
        r.now += crate::multiservice::client::DEFAULT_RETRY_GRACE;
        let now = r.now;
        r.nodes[m].core.handle_timeout(now);
    }
    r.run();
    let ev = &r.nodes[m].events;
    let retried: Vec<AmlipId> = ev
        .iter()
        .filter_map(|e| match e {
            NodeEvent::Retried {
                task: t, server, ..
            } if *t == task => Some(*server),
            _ => None,
        })
        .collect();
    assert_eq!(retried.len(), 2, "{ev:?}");
    assert_ne!(
        retried[0], retried[1],
        "the second attempt goes to the other node"
    );
    let failed: Vec<_> = ev
        .iter()
        .filter(|e| matches!(e, NodeEvent::Failed { task: t, attempts: 3, reason, .. } if *t == task && reason == b"no luck"))
        .collect();
    assert_eq!(failed.len(), 1, "{ev:?}");
    assert_eq!(r.solutions(m).len(), 1);
    assert_eq!(r.solutions(m)[0].0, ok);
    assert_eq!(r.nodes[m].core.client().map(|c| c.in_flight()), Some(0));
    let failed_on: u64 = servers
        .iter()
        .filter_map(|&i| r.nodes[i].core.server().map(|s| s.stats().failed))
        .sum();
    assert_eq!(failed_on, 3);
}

#[test]
fn a_computing_node_keeps_its_writers_to_a_lost_main_until_it_may_come_back() {
    let now = epoch();
    let (me, main) = (id("C", 1), id("M", 1));
    let mut core = NodeCore::computing(me, 1, now);
    core.set_accepting(now, true).unwrap();
    let _ = outputs(&mut core);
    let p = prefix(7);
    let req = MsRequest {
        client_id: main,
        task_id: TaskId(0),
    };
    core.handle_sample(
        now,
        "amlip/job_request_availability",
        p,
        &req.to_payload().unwrap(),
    );
    let data = MsData::new(MsReference::new(req, me), GenericData::new(b"job".to_vec()));
    core.handle_sample(
        now,
        "amlip/job_task_data_C.01.00.00.01",
        p,
        &data.to_payload().unwrap(),
    );
    let _ = outputs(&mut core);
    assert!(matches!(core.poll_event(), Some(NodeEvent::Task { .. })));
    // The main is lost (paused past its lease, maybe): its writers stay for its return.
    core.handle_participant_lost(now, p);
    assert!(!outputs(&mut core)
        .iter()
        .any(|o| matches!(o, NodeOutput::DeleteEndpoint { .. })));
    core.complete(now, req, b"JOB".to_vec()).unwrap();
    let out = outputs(&mut core);
    assert!(out
        .iter()
        .any(|o| matches!(o, NodeOutput::Publish { topic_name, .. }
        if topic_name == "amlip/job_task_solution_M.01.00.00.01")));
    // It did not come back: its writers go.
    assert_eq!(core.poll_timeout(), Some(now + KEEP_LOST_WRITERS));
    core.handle_timeout(now + KEEP_LOST_WRITERS - Duration::from_millis(1));
    assert!(outputs(&mut core).is_empty());
    core.handle_timeout(now + KEEP_LOST_WRITERS);
    let deleted: Vec<String> = outputs(&mut core)
        .into_iter()
        .filter_map(|o| match o {
            NodeOutput::DeleteEndpoint { topic_name, .. } => Some(topic_name),
            _ => None,
        })
        .collect();
    assert_eq!(
        deleted,
        [
            "amlip/job_reply_available_M.01.00.00.01",
            "amlip/job_task_solution_M.01.00.00.01"
        ]
    );
    assert_eq!(core.poll_timeout(), None);
}

#[test]
fn a_lost_participant_that_reappears_hosts_its_node_again() {
    let now = epoch();
    let (me, comp) = (id("M", 1), id("C", 1));
    let mut core = NodeCore::main(me, now);
    let t = core.submit(now, b"job".to_vec()).unwrap();
    let p = prefix(9);
    let reply = |task| {
        MsReference {
            client_id: me,
            task_id: TaskId(task),
            server_id: comp,
        }
        .to_payload()
        .unwrap()
    };
    core.handle_sample(now, "amlip/job_reply_available_M.01.00.00.01", p, &reply(0));
    assert_eq!(core.client().unwrap().assigned_server(t), Some(comp));
    core.handle_participant_lost(now, p);
    assert_eq!(core.client().unwrap().assigned_server(t), None);
    core.handle_participant_discovered(now, p);
    let events: Vec<NodeEvent> = std::iter::from_fn(|| core.poll_event()).collect();
    assert!(events.contains(&NodeEvent::PeerReturned {
        id: comp,
        kind: Some(NodeKind::COMPUTING)
    }));
    // Its reply to the re-issued request (task 1) is chosen again.
    core.handle_sample(now, "amlip/job_reply_available_M.01.00.00.01", p, &reply(1));
    assert_eq!(core.client().unwrap().assigned_server(t), Some(comp));
}
