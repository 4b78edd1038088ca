//! The behaviours of AML-IP's own tests (AML-IP spec §8) with whole nodes ([`NodeCore`] on the
//! sans-IO RTPS participant) on the simulated network, with loss, duplication and reordering.
//! A failing run prints its seed; rerun it alone with `AMLIP_TEST_SEED=<seed>`
//! (`AMLIP_TEST_SEEDS=<n>` runs more seeds).
//!
//! [`NodeCore`]: amlip::node::NodeCore

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use amlip::multiservice::{AmlipId, NodeKind, SlotState, StateKind, TaskId};
use amlip::node::sim::{Engine, SimCluster};
use amlip::node::NodeEvent;
use rtps::transport::sim::LinkConfig;

const SEEDS: u64 = 3;
/// Seeds of the pause-past-the-lease scenarios: the order in which a resumed node runs its
/// timers and its socket backlog is drawn from the seed, and a few seeds in ten hung before.
const PAUSE_SEEDS: u64 = 20;
/// Datagrams sent for 1,000 pipelined jobs on this clean simulated network before issue 11
/// (measured with 3fe4ead's timers: fixed 100 ms HEARTBEAT period, 5 ms NACK delays).
const CLEAN_DATAGRAMS_BEFORE: u64 = 5246;

fn for_seeds(name: &str, count: u64, f: impl Fn(u64)) {
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

fn upper(job: &[u8]) -> Vec<u8> {
    job.to_ascii_uppercase()
}

fn lower(job: &[u8]) -> Vec<u8> {
    job.to_ascii_lowercase()
}

fn engine(solve: fn(&[u8]) -> Vec<u8>) -> Engine {
    Engine {
        solve,
        work_time: Duration::from_millis(20),
    }
}

/// A lossy, reordering network (seed-dependent: every other seed also duplicates).
fn cluster(seed: u64) -> SimCluster {
    let mut c = SimCluster::new(seed.wrapping_mul(7919).wrapping_add(11));
    let mut link = LinkConfig::default()
        .with_loss(0.05)
        .with_delay(Duration::from_micros(100), Duration::from_micros(400))
        .with_reorder(0.05, Duration::from_millis(2));
    if seed % 2 == 1 {
        link = link.with_duplicate(0.05);
    }
    c.set_link(link);
    c
}

/// Jobs submitted, to check the answers: (main node, task) → job.
type Jobs = BTreeMap<(usize, TaskId), Vec<u8>>;

fn submit(c: &mut SimCluster, jobs: &mut Jobs, main: usize, job: String) -> TaskId {
    let t = c.submit(main, job.clone()).expect("submit");
    jobs.insert((main, t), job.into_bytes());
    t
}

fn solved(c: &SimCluster, mains: &[usize]) -> usize {
    mains.iter().map(|m| c.nodes[*m].solutions().len()).sum()
}

/// A solution: the server and its bytes.
type Answer = (AmlipId, Vec<u8>);

/// Every job solved exactly once with `solve(job)`; no wire task handed to two servers.
fn assert_all_solved_once(c: &SimCluster, jobs: &Jobs, solve: fn(&[u8]) -> Vec<u8>) {
    let seed = c.seed();
    let mut got: BTreeMap<(usize, TaskId), Vec<Answer>> = BTreeMap::new();
    for m in jobs.keys().map(|(m, _)| *m).collect::<BTreeSet<_>>() {
        for (t, server, sol) in c.nodes[m].solutions() {
            got.entry((m, t)).or_default().push((server, sol));
        }
    }
    for (key, job) in jobs {
        let sols = got.get(key).map(Vec::as_slice).unwrap_or(&[]);
        assert_eq!(
            sols.len(),
            1,
            "seed {seed}: task {key:?} solutions {sols:?}"
        );
        assert_eq!(sols[0].1, solve(job), "seed {seed}: task {key:?}");
    }
    assert_eq!(got.len(), jobs.len(), "seed {seed}: unexpected solutions");
    let mut keys = BTreeSet::new();
    for n in &c.nodes {
        for k in &n.processed {
            assert!(keys.insert(*k), "seed {seed}: {k:?} processed twice");
        }
    }
}

const LIMIT: Duration = Duration::from_secs(60);

/// §8.1 `one_main_one_computing`.
#[test]
fn one_main_and_one_computing_node_solve_a_job() {
    for_seeds("one_main_one_computing", SEEDS, |seed| {
        let mut c = cluster(seed);
        let comp = c
            .add_computing("CompTestNode", 1, Some(1), engine(upper))
            .unwrap();
        let main = c.add_main("MainTestNode").unwrap();
        let mut jobs = Jobs::new();
        submit(&mut c, &mut jobs, main, "test_data".into());
        assert!(
            c.run_until(LIMIT, |c| solved(c, &[main]) == 1),
            "seed {}",
            c.seed()
        );
        assert_all_solved_once(&c, &jobs, upper);
        let sols = c.nodes[main].solutions();
        assert_eq!(sols[0].1, c.id(comp));
        assert_eq!(sols[0].2, b"TEST_DATA");
        assert_eq!(c.nodes[comp].processed[0].client_id, c.id(main));
    });
}

/// §8.1 `n_main_one_computing`: no cross-delivery.
#[test]
fn three_mains_and_one_computing_node_each_get_their_own_solution() {
    for_seeds("n_main_one_computing", SEEDS, |seed| {
        let mut c = cluster(seed);
        let comp = c
            .add_computing("CompTestNode", 1, Some(3), engine(upper))
            .unwrap();
        let mains: Vec<usize> = (0..3)
            .map(|i| c.add_main(&format!("{i}MainTestNode")).unwrap())
            .collect();
        let mut jobs = Jobs::new();
        for (i, m) in mains.iter().enumerate() {
            submit(&mut c, &mut jobs, *m, format!("test_data{i}"));
        }
        assert!(
            c.run_until(LIMIT, |c| solved(c, &mains) == 3),
            "seed {}",
            c.seed()
        );
        assert_all_solved_once(&c, &jobs, upper);
        assert_eq!(c.nodes[comp].processed.len(), 3);
    });
}

/// §8.1 `one_main_n_computing`: one main sends 3 jobs one after another; 3 computing nodes
/// answer one job each.
#[test]
fn one_main_and_three_computing_nodes_answering_once_each() {
    for_seeds("one_main_n_computing", SEEDS, |seed| {
        let mut c = cluster(seed);
        let comps: Vec<usize> = (0..3)
            .map(|i| {
                c.add_computing(&format!("{i}CompTestNode"), 1, Some(1), engine(upper))
                    .unwrap()
            })
            .collect();
        let main = c.add_main("MainTestNode").unwrap();
        let mut jobs = Jobs::new();
        for k in 0..3 {
            submit(&mut c, &mut jobs, main, format!("test_data_{k}"));
            assert!(
                c.run_until(LIMIT, |c| solved(c, &[main]) == k + 1),
                "seed {}",
                c.seed()
            );
        }
        assert_all_solved_once(&c, &jobs, upper);
        for s in &comps {
            assert_eq!(c.nodes[*s].processed.len(), 1, "seed {}", c.seed());
            assert_eq!(c.nodes[*s].processed[0].client_id, c.id(main));
        }
    });
}

/// §8.3 `communicate_service_n_to_n`: 8 clients x 20 tasks on 4 servers processing exactly 40
/// each; every task solved exactly once with its lowercase answer.
#[test]
fn eight_clients_with_twenty_tasks_on_four_servers_are_each_solved_once() {
    for_seeds("n_to_n", 2, |seed| {
        let mut c = cluster(seed);
        let servers: Vec<usize> = (0..4)
            .map(|i| {
                c.add_computing(&format!("server_{i}"), 1, Some(40), engine(lower))
                    .unwrap()
            })
            .collect();
        let mains: Vec<usize> = (0..8)
            .map(|i| c.add_main(&format!("client_{i}")).unwrap())
            .collect();
        let mut jobs = Jobs::new();
        for (i, m) in mains.iter().enumerate() {
            for k in 0..20 {
                submit(&mut c, &mut jobs, *m, format!("NEW_TASK_{i}_{k}"));
            }
        }
        assert!(
            c.run_until(Duration::from_secs(120), |c| solved(c, &mains) == 160),
            "seed {}: {} solved",
            c.seed(),
            solved(&c, &mains)
        );
        assert_all_solved_once(&c, &jobs, lower);
        for s in &servers {
            assert_eq!(c.nodes[*s].processed.len(), 40, "seed {}", c.seed());
        }
    });
}

/// §8.4 `communicate_service_one_client_n_servers`: requests published before any server exists
/// are served when servers appear (TRANSIENT_LOCAL request history).
#[test]
fn requests_sent_before_any_server_exists_are_served_when_one_appears() {
    for_seeds("before_any_server", SEEDS, |seed| {
        let mut c = cluster(seed);
        let main = c.add_main("client").unwrap();
        let mut jobs = Jobs::new();
        for k in 0..20 {
            submit(&mut c, &mut jobs, main, format!("NEW_TASK_{k}"));
        }
        c.run_for(Duration::from_secs(2));
        assert_eq!(solved(&c, &[main]), 0);
        let mut running = Vec::new();
        for i in 0..2 {
            running.push(
                c.add_computing(&format!("server_{i}"), 1, None, engine(lower))
                    .unwrap(),
            );
        }
        assert!(
            c.run_until(LIMIT, |c| solved(c, &[main]) == 20),
            "seed {}: {} solved",
            c.seed(),
            solved(&c, &[main])
        );
        for k in 0..20 {
            submit(&mut c, &mut jobs, main, format!("NEW_TASK_MORE_{k}"));
        }
        assert!(
            c.run_until(LIMIT, |c| solved(c, &[main]) == 40),
            "seed {}",
            c.seed()
        );
        assert_all_solved_once(&c, &jobs, lower);
    });
}

/// §8.4 `communicate_service_one_on_one`: requests to a computing node that exists but does not
/// run yet wait for it.
#[test]
fn requests_to_a_computing_node_that_is_not_running_wait_for_it() {
    for_seeds("not_running", SEEDS, |seed| {
        let mut c = cluster(seed);
        let comp = c.add_computing("server", 1, None, engine(lower)).unwrap();
        c.with_core(comp, |core, now| core.set_accepting(now, false))
            .unwrap();
        let main = c.add_main("client").unwrap();
        let mut jobs = Jobs::new();
        for k in 0..20 {
            submit(&mut c, &mut jobs, main, format!("NEW_TASK_{k}"));
        }
        c.run_for(Duration::from_secs(3));
        assert_eq!(solved(&c, &[main]), 0, "seed {}", c.seed());
        c.with_core(comp, |core, now| core.set_accepting(now, true))
            .unwrap();
        assert!(
            c.run_until(LIMIT, |c| solved(c, &[main]) == 20),
            "seed {}",
            c.seed()
        );
        assert_all_solved_once(&c, &jobs, lower);
        let ids: Vec<u32> = c.nodes[main]
            .solutions()
            .iter()
            .map(|(t, _, _)| t.0)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(ids, (0..20).collect::<Vec<_>>());
    });
}

/// A computing node that crashes mid-run (AML-IP would hang): its participant's lease expires,
/// the main re-issues the tasks it held, and every task is still solved exactly once.
#[test]
fn a_computing_node_crashed_mid_run_has_its_tasks_reissued() {
    for_seeds("crash", SEEDS, |seed| {
        let mut c = cluster(seed);
        let slow = Engine {
            solve: upper,
            work_time: Duration::from_millis(300),
        };
        let servers: Vec<usize> = (0..3)
            .map(|i| {
                c.add_computing(&format!("server_{i}"), 2, None, slow)
                    .unwrap()
            })
            .collect();
        let mains: Vec<usize> = (0..2)
            .map(|i| c.add_main(&format!("client_{i}")).unwrap())
            .collect();
        let mut jobs = Jobs::new();
        for (i, m) in mains.iter().enumerate() {
            for k in 0..15 {
                submit(&mut c, &mut jobs, *m, format!("job_{i}_{k}"));
            }
        }
        assert!(
            c.run_until(LIMIT, |c| solved(c, &mains) >= 3
                && servers.iter().any(|s| c.nodes[*s].working() > 0)),
            "seed {}",
            c.seed()
        );
        let victim = *servers.iter().find(|s| c.nodes[**s].working() > 0).unwrap();
        let victim_id = c.id(victim);
        c.crash(victim);
        // What the victim sent before it crashed may still be on the wire (at most the link's
        // 0.5 ms delay + 2 ms reordering): those solutions were solved before the crash.
        c.run_until(Duration::from_millis(3), |_| false);
        let before: BTreeSet<(usize, TaskId)> = mains
            .iter()
            .flat_map(|m| c.nodes[*m].solutions().into_iter().map(move |s| (*m, s.0)))
            .collect();
        assert!(
            c.run_until(LIMIT, |c| solved(c, &mains) == 30),
            "seed {}: {} solved",
            c.seed(),
            solved(&c, &mains)
        );
        assert_all_solved_once(&c, &jobs, upper);
        let reissued = mains
            .iter()
            .flat_map(|m| &c.nodes[*m].events)
            .filter(|e| matches!(e, NodeEvent::Reissued { lost_server, .. } if *lost_server == victim_id))
            .count();
        assert!(reissued >= 1, "seed {}", c.seed());
        for m in &mains {
            for (t, server, _) in c.nodes[*m].solutions() {
                if !before.contains(&(*m, t)) {
                    assert_ne!(server, victim_id, "seed {}", c.seed());
                }
            }
        }
    });
}

/// Prefetch (the server module doc): computing nodes with 200 us jobs take jobs ahead of
/// their free slot; one of them crashes while it holds several won jobs. Those jobs are re-issued to the
/// others and every job is solved exactly once.
#[test]
fn a_crashed_computing_node_s_prefetched_jobs_are_reissued() {
    for_seeds("crash_prefetched", SEEDS, |seed| {
        let mut c = cluster(seed);
        let mut jobs = Jobs::new();
        // 200 us jobs: five fit in the 1 ms budget of work taken ahead.
        let main = three_computing_and_a_warm_main(
            &mut c,
            &mut jobs,
            "Prefetch",
            Duration::from_micros(200),
        );
        for k in 0..300 {
            submit(&mut c, &mut jobs, main, format!("job_{k}"));
        }
        let taken = |c: &SimCluster, i: usize| {
            c.nodes[i].core.server().map_or(0, |s| {
                s.slots()
                    .filter(|(_, state, _)| *state != SlotState::Offered)
                    .count()
            })
        };
        let comps: Vec<usize> = (0..c.nodes.len()).filter(|i| *i != main).collect();
        assert!(
            c.run_until(LIMIT, |c| solved(c, &[main]) >= 50
                && comps.iter().any(|i| taken(c, *i) >= 2)),
            "seed {}: no computing node took jobs ahead",
            c.seed()
        );
        let victim = *comps.iter().find(|i| taken(&c, **i) >= 2).unwrap();
        let victim_id = c.id(victim);
        let stats = c.nodes[victim].core.server().unwrap().stats();
        assert!(stats.prefetch_replies > 0, "seed {}: {stats:?}", c.seed());
        c.crash(victim);
        c.run_until(Duration::from_millis(3), |_| false);
        let before: BTreeSet<TaskId> = c.nodes[main].solutions().iter().map(|s| s.0).collect();
        assert!(
            c.run_until(LIMIT, |c| solved(c, &[main]) == 301),
            "seed {}: {} solved",
            c.seed(),
            solved(&c, &[main])
        );
        assert_all_solved_once(&c, &jobs, upper);
        let reissued = c.nodes[main]
            .events
            .iter()
            .filter(|e| matches!(e, NodeEvent::Reissued { lost_server, .. } if *lost_server == victim_id))
            .count();
        assert!(reissued >= 2, "seed {}: {reissued} re-issued", c.seed());
        for (t, server, _) in c.nodes[main].solutions() {
            if !before.contains(&t) {
                assert_ne!(server, victim_id, "seed {}", c.seed());
            }
        }
    });
}

/// A status node sees every node's states, and a crashed node reported `dropped` once its lease
/// expires (spec §5; AML-IP itself never notices a crash).
#[test]
fn a_status_node_reports_states_and_crashed_nodes_as_dropped() {
    for_seeds("status", SEEDS, |seed| {
        let mut c = cluster(seed);
        let st = c.add_status("StatusNode").unwrap();
        let comp = c.add_computing("Comp", 1, None, engine(upper)).unwrap();
        let main = c.add_main("Main").unwrap();
        let mut jobs = Jobs::new();
        submit(&mut c, &mut jobs, main, "x".into());
        let (main_id, comp_id) = (c.id(main), c.id(comp));
        // A node the status node never heard of cannot be reported: wait until it knows both.
        let seen = |c: &SimCluster, id: AmlipId| {
            c.nodes[st]
                .events
                .iter()
                .any(|e| matches!(e, NodeEvent::Status(s) if s.id == id))
        };
        assert!(c.run_until(LIMIT, |c| solved(c, &[main]) == 1
            && seen(c, main_id)
            && seen(c, comp_id)));
        c.shutdown(main);
        c.crash(comp);
        let dropped = |c: &SimCluster, id: AmlipId| {
            c.nodes[st].events.iter().any(|e| {
                matches!(e, NodeEvent::Status(s) if s.id == id && s.state == StateKind::DROPPED)
            })
        };
        assert!(
            c.run_until(LIMIT, |c| dropped(c, main_id) && dropped(c, comp_id)),
            "seed {}: status node saw {:?}",
            c.seed(),
            c.nodes[st].events
        );
        let seen: Vec<(AmlipId, NodeKind, StateKind)> = c.nodes[st]
            .events
            .iter()
            .filter_map(|e| match e {
                NodeEvent::Status(s) => Some((s.id, s.node_kind, s.state)),
                _ => None,
            })
            .collect();
        let of = |id: AmlipId| -> Vec<StateKind> {
            seen.iter().filter(|s| s.0 == id).map(|s| s.2).collect()
        };
        assert_eq!(of(comp_id), [StateKind::STOPPED, StateKind::DROPPED]);
        // KEEP_LAST 1: a state replaced before it was delivered may be skipped, never reordered.
        let m = of(main_id);
        assert_eq!(m.last(), Some(&StateKind::DROPPED));
        assert_eq!(m.iter().filter(|s| **s == StateKind::DROPPED).count(), 1);
        assert!(seen
            .iter()
            .all(|s| (s.0 == main_id) == (s.1 == NodeKind::MAIN)));
    });
}

/// The solutions of main `m` whose job was re-issued: (task, lost server, latency).
fn reissued_solutions(c: &SimCluster, m: usize) -> Vec<(TaskId, AmlipId, Duration)> {
    c.nodes[m]
        .events
        .iter()
        .filter_map(|e| match e {
            NodeEvent::Solved {
                task,
                latency,
                reissued_from: Some(lost),
                ..
            } => Some((*task, *lost, *latency)),
            _ => None,
        })
        .collect()
}

/// One computing node with one slot and 300 ms jobs, then a main that submits six jobs:
/// (computing node, main node, jobs).
fn slow_computing_and_six_jobs(c: &mut SimCluster) -> (usize, usize, Jobs) {
    let slow = Engine {
        solve: upper,
        work_time: Duration::from_millis(300),
    };
    let comp = c.add_computing("Comp", 1, None, slow).unwrap();
    let main = c.add_main("Main").unwrap();
    let mut jobs = Jobs::new();
    for k in 0..6 {
        submit(c, &mut jobs, main, format!("job_{k}"));
    }
    (comp, main, jobs)
}

/// The only computing node, paused (SIGSTOP) past its lease while it works, then resumed: the
/// main re-issued its job, and uses it again as soon as it reappears (AML-IP, and this project
/// before, hung for ever). Each job is solved once; a re-issued job's latency counts from its
/// first submission and names the lost node.
#[test]
fn the_only_computing_node_paused_past_its_lease_is_used_again_when_it_resumes() {
    for_seeds("paused_computing", PAUSE_SEEDS, |seed| {
        let mut c = cluster(seed);
        let (comp, main, jobs) = slow_computing_and_six_jobs(&mut c);
        assert!(
            c.run_until(LIMIT, |c| solved(c, &[main]) >= 1
                && c.nodes[comp].working() > 0),
            "seed {}",
            c.seed()
        );
        c.pause(comp);
        c.run_for(Duration::from_secs(8)); // lease 5 s
        let comp_id = c.id(comp);
        assert!(
            c.nodes[main].events.iter().any(
                |e| matches!(e, NodeEvent::Reissued { lost_server, .. } if *lost_server == comp_id)
            ),
            "seed {}: the paused node was not declared lost",
            c.seed()
        );
        c.resume(comp);
        let ok = c.run_until(LIMIT, |c| solved(c, &[main]) == 6);
        assert!(
            ok,
            "seed {}: {} solved; main's endpoints (topic, writer, matched) {:?}; the computing \
             node's {:?}",
            c.seed(),
            solved(&c, &[main]),
            c.nodes[main].matches(&c.world),
            c.nodes[comp].matches(&c.world)
        );
        assert_all_solved_once(&c, &jobs, upper);
        let reissued = reissued_solutions(&c, main);
        assert!(!reissued.is_empty(), "seed {}", c.seed());
        for (task, lost, latency) in reissued {
            assert_eq!(lost, comp_id, "seed {}", c.seed());
            assert!(
                latency >= Duration::from_secs(8),
                "seed {}: task {task} latency {latency:?} does not count from its submission",
                c.seed()
            );
        }
        let back = c.nodes[main]
            .events
            .iter()
            .filter(|e| matches!(e, NodeEvent::PeerReturned { id, .. } if *id == comp_id))
            .count();
        assert_eq!(back, 1, "seed {}", c.seed());
        let stats = c.nodes[main].core.client().unwrap().stats();
        assert_eq!(stats.servers_back, 1, "seed {}", c.seed());
    });
}

/// A main paused past its lease while its jobs are in flight, then resumed: the computing nodes
/// dropped it and it dropped them, but both sides come back and every job is solved once.
#[test]
fn a_main_paused_past_its_lease_then_resumed_finishes_each_job_once() {
    for_seeds("paused_main", PAUSE_SEEDS, |seed| {
        let mut c = cluster(seed);
        let slow = Engine {
            solve: upper,
            work_time: Duration::from_millis(300),
        };
        let servers: Vec<usize> = (0..2)
            .map(|i| c.add_computing(&format!("Comp{i}"), 1, None, slow).unwrap())
            .collect();
        let main = c.add_main("Main").unwrap();
        let mut jobs = Jobs::new();
        for k in 0..10 {
            submit(&mut c, &mut jobs, main, format!("job_{k}"));
        }
        assert!(
            c.run_until(LIMIT, |c| solved(c, &[main]) >= 2),
            "seed {}",
            c.seed()
        );
        c.pause(main);
        c.run_for(Duration::from_secs(8)); // lease 5 s
        let main_id = c.id(main);
        for s in &servers {
            assert!(
                c.nodes[*s]
                    .events
                    .iter()
                    .any(|e| matches!(e, NodeEvent::PeerLost { id, .. } if *id == main_id)),
                "seed {}: the paused main was not declared lost",
                c.seed()
            );
        }
        c.resume(main);
        assert!(
            c.run_until(LIMIT, |c| solved(c, &[main]) == 10),
            "seed {}: {} solved",
            c.seed(),
            solved(&c, &[main])
        );
        assert_all_solved_once(&c, &jobs, upper);
        assert!(servers
            .iter()
            .all(|s| c.nodes[*s].core.server().unwrap().is_idle()));
    });
}

/// A main that vanishes (crash) right after a computing node answered its request: the node
/// frees itself after the reply timeout (2 s) and serves the next main long before the dead
/// main's lease (20 s) expires (AML-IP waits for the whole lease).
#[test]
fn a_computing_node_whose_main_vanished_after_its_reply_serves_the_next_main() {
    for_seeds("vanished_main", SEEDS, |seed| {
        let mut c = cluster(seed);
        c.set_lease(Duration::from_secs(20));
        let comp = c.add_computing("Comp", 1, None, engine(upper)).unwrap();
        let dead = c.add_main("Doomed").unwrap();
        let mut jobs = Jobs::new();
        for k in 0..5 {
            c.submit(dead, format!("lost_{k}")).unwrap();
        }
        let dead_id = c.id(dead);
        assert!(
            c.run_until(LIMIT, |c| c.nodes[comp]
                .core
                .server()
                .unwrap()
                .slots()
                .any(|(k, st, _)| k.client_id == dead_id
                    && st == amlip::multiservice::SlotState::Offered)),
            "seed {}",
            c.seed()
        );
        c.crash(dead);
        let next = c.add_main("Next").unwrap();
        let start = c.now();
        submit(&mut c, &mut jobs, next, "served".into());
        assert!(
            c.run_until(Duration::from_secs(3), |c| solved(c, &[next]) == 1),
            "seed {}: the next main waited for the dead one",
            c.seed()
        );
        assert!(
            c.now() - start < Duration::from_secs(3),
            "seed {}",
            c.seed()
        );
        assert_all_solved_once(&c, &jobs, upper);
        let stats = c.nodes[comp].core.server().unwrap().stats();
        assert!(stats.expired_replies >= 1, "seed {}: {stats:?}", c.seed());
    });
}

/// Three computing nodes (one slot, `work_time` per job) and a main node that has had one job
/// solved (discovery and matching done); returns the main node.
fn three_computing_and_a_warm_main(
    c: &mut SimCluster,
    jobs: &mut Jobs,
    prefix: &str,
    work_time: Duration,
) -> usize {
    let engine = Engine {
        solve: upper,
        work_time,
    };
    for i in 0..3 {
        c.add_computing(&format!("{prefix}Computing{i}"), 1, None, engine)
            .unwrap();
    }
    let main = c.add_main(&format!("{prefix}Main")).unwrap();
    submit(c, jobs, main, "warm-up".into());
    assert!(
        c.run_until(LIMIT, |c| solved(c, &[main]) == 1),
        "seed {}: warm-up job not solved",
        c.seed()
    );
    main
}

/// Issue 11: 1,000 zero-work jobs pipelined by one main node over three computing nodes on a
/// network that loses 20%, duplicates 5% and reorders 25% of the datagrams: every job solved
/// exactly once, within a bound of virtual time that reflects the target on real sockets
/// (<= 2 s; 26 s before loss was repaired at the speed of the network).
#[test]
fn a_thousand_pipelined_jobs_survive_twenty_percent_loss_quickly() {
    for_seeds("thousand_jobs_lossy", 1, |seed| {
        let mut c = SimCluster::new(seed.wrapping_mul(7919).wrapping_add(13));
        c.set_link(
            LinkConfig::default()
                .with_loss(0.2)
                .with_duplicate(0.05)
                .with_delay(Duration::from_micros(20), Duration::from_micros(20))
                .with_reorder(0.25, Duration::from_millis(1)),
        );
        let mut jobs = Jobs::new();
        let main = three_computing_and_a_warm_main(&mut c, &mut jobs, "Loss", Duration::ZERO);
        let start = c.now();
        for k in 0..1000 {
            submit(&mut c, &mut jobs, main, format!("job {k}"));
        }
        let done = c.run_until(LIMIT, |c| solved(c, &[main]) == 1001);
        let took = c.now() - start;
        eprintln!("seed {}: 1,000 jobs in {took:?} of virtual time", c.seed());
        assert!(done, "seed {}: {} solved", c.seed(), solved(&c, &[main]));
        assert_all_solved_once(&c, &jobs, upper);
        assert!(
            took <= Duration::from_secs(2),
            "seed {}: 1,000 jobs took {took:?} of virtual time",
            c.seed()
        );
    });
}

/// The clean-network side of issue 11: the faster loss recovery (NACK on a hole, HEARTBEAT
/// back-off from 1 ms after the last data) adds no datagram to a steady stream of jobs; only
/// the pause at its end costs a few HEARTBEATs (sent before the readers' acknowledgments,
/// 5 ms after the last data): 5,252 datagrams instead of 5,246.
#[test]
fn a_thousand_pipelined_jobs_on_a_clean_network_send_no_extra_datagrams() {
    let mut c = SimCluster::new(17);
    c.set_link(LinkConfig::default().with_delay(Duration::from_micros(20), Duration::ZERO));
    let mut jobs = Jobs::new();
    let main = three_computing_and_a_warm_main(&mut c, &mut jobs, "Clean", Duration::ZERO);
    let sent0 = c.world.net.stats().sent;
    for k in 0..1000 {
        submit(&mut c, &mut jobs, main, format!("job {k}"));
    }
    assert!(c.run_until(LIMIT, |c| solved(c, &[main]) == 1001));
    let sent = c.world.net.stats().sent - sent0;
    eprintln!("clean network: {sent} datagrams for 1,000 jobs");
    assert_all_solved_once(&c, &jobs, upper);
    assert!(sent <= CLEAN_DATAGRAMS_BEFORE + 10, "{sent} datagrams");
}

/// The CLI's pause scenario on a worse network (`tests/cli.rs::pause_past_the_lease` run
/// with `AMLIP_FAULTS="loss=0.1,dup=0.05,reorder=0.1"` hung once in 20 runs, undiagnosed):
/// a 2 s lease, 10% loss, 5% duplication, 10% reordering, the only computing node paused for
/// 3 to 6 s at a point drawn from the seed while jobs are queued. Every job is solved once.
#[test]
fn a_computing_node_paused_past_a_short_lease_on_a_bad_network_finishes_every_job() {
    for_seeds("paused_bad_network", PAUSE_SEEDS * 5, |seed| {
        let mut c = SimCluster::new(seed.wrapping_mul(7919).wrapping_add(13));
        c.set_link(
            LinkConfig::default()
                .with_loss(0.1)
                .with_delay(Duration::from_micros(100), Duration::from_micros(400))
                .with_reorder(0.1, Duration::from_millis(2))
                .with_duplicate(0.05),
        );
        c.set_lease(Duration::from_secs(2));
        let (comp, main, jobs) = slow_computing_and_six_jobs(&mut c);
        assert!(
            c.run_until(LIMIT, |c| solved(c, &[main]) >= 1),
            "seed {}",
            c.seed()
        );
        c.run_for(Duration::from_millis(seed % 400));
        c.pause(comp);
        c.run_for(Duration::from_millis(3000 + (seed * 37) % 3000));
        c.resume(comp);
        let ok = c.run_until(LIMIT, |c| solved(c, &[main]) == 6);
        assert!(
            ok,
            "seed {}: {} solved; main's endpoints {:?}; the computing node's {:?}; client {:?}; \
             server {:?}",
            c.seed(),
            solved(&c, &[main]),
            c.nodes[main].matches(&c.world),
            c.nodes[comp].matches(&c.world),
            c.nodes[main].core.client().map(|cl| cl.stats()),
            c.nodes[comp].core.server().map(|s| s.stats()),
        );
        assert_all_solved_once(&c, &jobs, upper);
    });
}
