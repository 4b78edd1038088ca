//! The behaviours of AML-IP's own MultiService tests (AML-IP spec §8) on the sans-IO machines,
//! over a seeded bus with random interleaving, duplicates and reordering. A failing run prints
//! its seed; rerun it alone with `AMLIP_TEST_SEED=<seed>`.

mod multiservice_bus;

use std::collections::BTreeSet;

use amlip::multiservice::{AmlipId, TaskId};
use multiservice_bus::{for_seeds, jobs, Bus};

/// Seeds per scenario (each seed picks one of three chaos levels); heavy scenarios use fewer.
const SEEDS: u64 = 24;
const HEAVY_SEEDS: u64 = 9;

fn upper(s: &str) -> String {
    s.to_uppercase()
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn processed_by(bus: &Bus, server: AmlipId) -> usize {
    bus.servers[&server].processed.len()
}

/// §8.1 `one_main_one_computing`.
#[test]
fn one_main_and_one_computing_node_solve_a_job() {
    for_seeds("one_main_one_computing", SEEDS, |seed| {
        let mut bus = Bus::new(seed, upper);
        let s = bus.add_server("CompTestNode", 1, Some(1));
        let c = bus.add_client("MainTestNode", &["test_data".into()], false);
        bus.run();
        bus.assert_all_solved_once();
        let sol = &bus.clients[&c].solutions[&TaskId(0)];
        assert_eq!(sol[0], (s, "TEST_DATA".to_owned()));
        assert_eq!(bus.servers[&s].processed[0].client_id, c);
    });
}

/// §8.1 `n_main_one_computing`: no cross-delivery.
#[test]
fn three_mains_and_one_computing_node_each_get_their_own_solution() {
    for_seeds("n_main_one_computing", SEEDS, |seed| {
        let mut bus = Bus::new(seed, upper);
        let s = bus.add_server("CompTestNode", 1, Some(3));
        let mains: Vec<AmlipId> = (0..3)
            .map(|i| {
                bus.add_client(
                    &format!("{i}MainTestNode"),
                    &[format!("test_data{i}")],
                    false,
                )
            })
            .collect();
        bus.run();
        bus.assert_all_solved_once();
        for (i, c) in mains.iter().enumerate() {
            let sol = &bus.clients[c].solutions[&TaskId(0)];
            assert_eq!(sol[0].1, format!("TEST_DATA{i}"), "seed {seed}");
        }
        assert_eq!(processed_by(&bus, s), 3);
    });
}

/// §8.1 `one_main_n_computing`: each computing node answers exactly one job.
#[test]
fn one_main_and_three_computing_nodes_answering_once_each() {
    for_seeds("one_main_n_computing", SEEDS, |seed| {
        for sequential in [true, false] {
            let mut bus = Bus::new(seed, upper);
            let servers: Vec<AmlipId> = (0..3)
                .map(|i| bus.add_server(&format!("{i}CompTestNode"), 1, Some(1)))
                .collect();
            let c = bus.add_client("MainTestNode", &jobs("test_data", 3), sequential);
            bus.run();
            bus.assert_all_solved_once();
            for s in &servers {
                assert_eq!(processed_by(&bus, *s), 1, "seed {seed}");
                assert_eq!(bus.servers[s].processed[0].client_id, c);
            }
        }
    });
}

/// §8.3 `communicate_service_n_to_n`: 8 clients x 20 tasks, 4 servers processing exactly 40
/// each; every task solved exactly once with its lowercase answer.
#[test]
fn eight_clients_with_twenty_tasks_on_four_servers_are_each_solved_once() {
    for_seeds("n_to_n", HEAVY_SEEDS, |seed| {
        for sequential in [true, false] {
            let mut bus = Bus::new(seed, lower);
            let servers: Vec<AmlipId> = (0..4)
                .map(|i| bus.add_server(&format!("server_{i}"), 1, Some(40)))
                .collect();
            for i in 0..8 {
                bus.add_client(
                    &format!("client_{i}"),
                    &jobs(&format!("NEW_TASK_{i}"), 20),
                    sequential,
                );
            }
            bus.run();
            bus.assert_all_solved_once();
            assert_eq!(bus.solved(), 160);
            for s in &servers {
                assert_eq!(processed_by(&bus, *s), 40, "seed {seed}");
            }
        }
    });
}

/// §8.4 `communicate_service_one_on_one`: requests sent while the server exists but is not
/// running wait for it; all 40 solved by that one server with task ids 0..39.
#[test]
fn requests_to_a_server_that_is_not_running_are_served_once_it_runs() {
    for_seeds("async_one_on_one", SEEDS, |seed| {
        let mut bus = Bus::new(seed, lower);
        let s = bus.add_server("server", 1, None);
        let now = bus.now;
        bus.servers
            .get_mut(&s)
            .unwrap()
            .machine
            .set_accepting(now, false);
        let c = bus.add_client("client", &jobs("NEW_TASK", 20), false);
        bus.run();
        assert_eq!(bus.solved(), 0, "seed {seed}");
        let now = bus.now;
        bus.servers
            .get_mut(&s)
            .unwrap()
            .machine
            .set_accepting(now, true);
        bus.flush();
        bus.run();
        assert_eq!(bus.solved(), 20, "seed {seed}");
        bus.submit(c, &jobs("NEW_TASK_MORE", 20));
        bus.run();
        bus.assert_all_solved_once();
        let client = &bus.clients[&c];
        let ids: Vec<u32> = client.solutions.keys().map(|t| t.0).collect();
        assert_eq!(ids, (0..40).collect::<Vec<_>>());
        assert!(client.solutions.values().all(|v| v[0].0 == s));
    });
}

/// §8.4 `communicate_service_one_client_n_servers`: requests before any server exists are
/// served when servers appear; then the server that solved the last task is stopped and 20
/// more tasks are still all solved.
#[test]
fn requests_sent_before_any_server_exists_are_served_when_servers_appear() {
    for_seeds("async_one_client_n_servers", SEEDS, |seed| {
        let mut bus = Bus::new(seed, lower);
        let c = bus.add_client("client", &jobs("NEW_TASK", 20), false);
        bus.run();
        assert_eq!(bus.solved(), 0);
        for i in 0..4 {
            bus.add_server(&format!("server_{i}"), 1, None);
        }
        bus.run();
        assert_eq!(bus.solved(), 20, "seed {seed}");
        let last = bus.clients[&c].solutions[&TaskId(19)][0].0;
        bus.remove_server(last);
        bus.submit(c, &jobs("NEW_TASK_MORE", 20));
        bus.run();
        bus.assert_all_solved_once();
        let after: Vec<AmlipId> = (20..40)
            .map(|t| bus.clients[&c].solutions[&TaskId(t)][0].0)
            .collect();
        assert!(!after.contains(&last), "seed {seed}");
    });
}

/// §8.4 `communicate_service_n_clients_one_server` and `communicate_service_n_to_n`.
#[test]
fn many_clients_requesting_before_the_servers_exist_are_all_served() {
    for_seeds("async_n_clients", HEAVY_SEEDS, |seed| {
        for n_servers in [1, 4] {
            let mut bus = Bus::new(seed, lower);
            let clients: Vec<AmlipId> = (0..8)
                .map(|i| {
                    bus.add_client(
                        &format!("client_{i}"),
                        &jobs(&format!("NEW_TASK_{i}"), 20),
                        false,
                    )
                })
                .collect();
            bus.run();
            for i in 0..n_servers {
                bus.add_server(&format!("server_{i}"), 1, None);
            }
            bus.run();
            assert_eq!(bus.solved(), 160, "seed {seed}");
            for (i, c) in clients.iter().enumerate() {
                bus.submit(*c, &jobs(&format!("NEW_TASK_MORE_{i}"), 20));
            }
            bus.run();
            bus.assert_all_solved_once();
            assert_eq!(bus.solved(), 320);
        }
    });
}

/// A server removed mid-run (AML-IP would hang): its accepted-but-unsolved tasks are re-issued
/// by the clients once they learn it is lost, and every task is still solved exactly once.
#[test]
fn a_server_removed_mid_run_has_its_unsolved_tasks_reissued() {
    for_seeds("server_removed", SEEDS, |seed| {
        let mut bus = Bus::new(seed, upper);
        for i in 0..4 {
            bus.add_server(&format!("server_{i}"), 2, None);
        }
        let clients: Vec<AmlipId> = (0..2)
            .map(|i| {
                bus.add_client(
                    &format!("client_{i}"),
                    &jobs(&format!("job_{i}"), 30),
                    false,
                )
            })
            .collect();
        bus.run_while(|b| b.solved() < 5 || b.servers.values().all(|s| s.work.is_empty()));
        let victim = *bus
            .servers
            .iter()
            .find(|(_, s)| !s.work.is_empty())
            .map(|(id, _)| id)
            .expect("a busy server");
        let solved_before: BTreeSet<(AmlipId, TaskId)> = bus
            .clients
            .iter()
            .flat_map(|(c, n)| n.solutions.keys().map(move |t| (*c, *t)))
            .collect();
        bus.remove_server(victim);
        bus.run();
        bus.assert_all_solved_once();
        let reissued: u64 = clients
            .iter()
            .map(|c| bus.clients[c].machine.stats().reissued)
            .sum();
        assert!(reissued >= 1, "seed {seed}");
        for (c, n) in &bus.clients {
            for (t, sol) in &n.solutions {
                if !solved_before.contains(&(*c, *t)) {
                    assert_ne!(sol[0].0, victim, "seed {seed}");
                }
            }
        }
    });
}

/// Cancelling releases the servers that replied (spec §11.2): with a single one-slot server,
/// tasks cancelled before assignment never get stuck in its slot.
#[test]
fn cancelled_tasks_release_the_servers_that_answered() {
    for_seeds("cancel", SEEDS, |seed| {
        let mut bus = Bus::new(seed, upper);
        let s = bus.add_server("server", 1, None);
        let c = bus.add_client("client", &jobs("job", 6), false);
        // Deliver a little, then cancel every other task wherever it is.
        for _ in 0..3 {
            bus.step();
        }
        for t in [0, 2, 4] {
            bus.cancel(c, TaskId(t));
        }
        bus.run();
        bus.assert_all_solved_once();
        for t in [1, 3, 5] {
            assert!(
                bus.clients[&c].solutions.contains_key(&TaskId(t)),
                "seed {seed}"
            );
        }
        assert!(bus.servers[&s].machine.is_idle());
    });
}

/// A late-joining server gets the whole request and target history (spec §4.9) and processes
/// none of those old tasks.
#[test]
fn a_late_joining_server_does_not_process_history() {
    for_seeds("late_joiner", SEEDS, |seed| {
        let mut bus = Bus::new(seed, upper);
        bus.add_server("early", 1, None);
        let c = bus.add_client("client", &jobs("job", 10), false);
        bus.run();
        let late = bus.add_server("late", 1, None);
        bus.run();
        bus.assert_all_solved_once();
        let l = &bus.servers[&late];
        assert!(l.processed.is_empty(), "seed {seed}");
        // Stale replies it may send are ignored by the client.
        assert!(
            l.machine.stats().replies <= bus.clients[&c].machine.stats().stale_replies,
            "seed {seed}"
        );
        bus.submit(c, &jobs("more", 10));
        bus.run();
        bus.assert_all_solved_once();
    });
}

/// Servers with several slots run several tasks at once and still never run one twice.
#[test]
fn multi_slot_servers_share_pipelined_clients_without_duplicates() {
    for_seeds("multi_slot", SEEDS, |seed| {
        let mut bus = Bus::new(seed, lower);
        for i in 0..3 {
            bus.add_server(&format!("server_{i}"), 3, None);
        }
        for i in 0..5 {
            bus.add_client(
                &format!("client_{i}"),
                &jobs(&format!("JOB_{i}"), 25),
                false,
            );
        }
        bus.run();
        bus.assert_all_solved_once();
        assert_eq!(bus.solved(), 125);
    });
}

/// Random topologies with servers joining and leaving and tasks cancelled mid-run: every task
/// that was not cancelled is still solved exactly once, and no server is left stuck.
#[test]
fn random_topologies_with_churn_and_cancels_still_solve_every_task_once() {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    for_seeds("churn", SEEDS, |seed| {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
        let mut bus = Bus::new(seed, upper);
        let mut servers: Vec<AmlipId> = (0..rng.gen_range(0..3))
            .map(|i| bus.add_server(&format!("s{i}"), rng.gen_range(1..4), None))
            .collect();
        let clients: Vec<AmlipId> = (0..rng.gen_range(1..5))
            .map(|i| {
                let n = rng.gen_range(1..15);
                bus.add_client(
                    &format!("c{i}"),
                    &jobs(&format!("job{i}"), n),
                    rng.gen_bool(0.3),
                )
            })
            .collect();
        for round in 0..rng.gen_range(1..6) {
            for _ in 0..rng.gen_range(0..60) {
                bus.step();
            }
            match rng.gen_range(0..3) {
                0 => {
                    servers.push(bus.add_server(&format!("late{round}"), rng.gen_range(1..4), None))
                }
                1 if !servers.is_empty() => {
                    let victim = servers.swap_remove(rng.gen_range(0..servers.len()));
                    bus.remove_server(victim);
                }
                _ => {
                    let c = clients[rng.gen_range(0..clients.len())];
                    bus.cancel(c, TaskId(rng.gen_range(0..15)));
                }
            }
        }
        if servers.is_empty() {
            bus.add_server("last", 1, None);
        }
        bus.run();
        bus.assert_all_solved_once();
    });
}
