use super::*;
use crate::multiservice::strategies::{epoch, node};
use crate::multiservice::TaskId;

fn drain(s: &mut Server) -> Vec<Outgoing> {
    std::iter::from_fn(|| s.poll_outgoing()).collect()
}

fn req(c: u8, t: u32) -> MsRequest {
    MsRequest {
        client_id: node("main", c),
        task_id: TaskId(t),
    }
}

fn reply_of(s: &Server, r: MsRequest) -> Outgoing {
    Outgoing::ReplyAvailable {
        to_client: r.client_id,
        reference: MsReference::new(r, s.id()),
    }
}

fn data(r: MsRequest, server: AmlipId, job: &str) -> MsData {
    MsData::new(MsReference::new(r, server), job.into())
}

#[test]
fn an_idle_server_answers_available_with_its_own_id() {
    let now = epoch();
    let mut s = Server::new(node("comp", 1), 1);
    s.handle_request(now, req(1, 0));
    assert_eq!(drain(&mut s), [reply_of(&s, req(1, 0))]);
    assert_eq!(s.slots().next().map(|x| x.1), Some(SlotState::Offered));
}

#[test]
fn a_busy_server_queues_requests_until_its_reply_loses() {
    let now = epoch();
    let mut s = Server::new(node("comp", 1), 1);
    s.handle_request(now, req(1, 0));
    s.handle_request(now, req(2, 0));
    assert_eq!(drain(&mut s), [reply_of(&s, req(1, 0))]);
    assert_eq!(s.queued(), 1);
    s.handle_target(now, MsReference::new(req(1, 0), node("comp", 9)));
    assert_eq!(drain(&mut s), [reply_of(&s, req(2, 0))]);
    assert_eq!(s.stats().lost, 1);
}

#[test]
fn a_won_task_runs_once_and_its_solution_is_headed_by_the_target() {
    let now = epoch();
    let me = node("comp", 1);
    let mut s = Server::new(me, 1);
    s.handle_request(now, req(1, 0));
    drain(&mut s);
    let target = MsReference::new(req(1, 0), me);
    s.handle_target(now, target);
    assert_eq!(s.poll_event(), None, "no job before its data");
    s.handle_task_data(now, data(req(1, 0), me, "job"));
    s.handle_task_data(now, data(req(1, 0), me, "job"));
    assert_eq!(
        s.poll_event(),
        Some(ServerEvent::Task {
            key: req(1, 0),
            job: "job".into()
        })
    );
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.stats().unmatched_data, 1);
    s.complete(now, req(1, 0), "JOB".into()).unwrap();
    assert_eq!(
        drain(&mut s),
        [Outgoing::Solution {
            to_client: req(1, 0).client_id,
            data: MsData::new(target, "JOB".into())
        }]
    );
    assert_eq!(
        s.complete(now, req(1, 0), "again".into()),
        Err(CompleteError::UnknownTask)
    );
    assert!(s.is_idle());
}

#[test]
fn data_before_the_target_starts_the_task_and_the_target_is_then_a_no_op() {
    let now = epoch();
    let me = node("comp", 1);
    let mut s = Server::new(me, 1);
    s.handle_request(now, req(1, 0));
    s.handle_task_data(now, data(req(1, 0), me, "job"));
    assert!(matches!(s.poll_event(), Some(ServerEvent::Task { .. })));
    s.handle_target(now, MsReference::new(req(1, 0), me));
    assert_eq!(s.poll_event(), None);
    s.complete(now, req(1, 0), "x".into()).unwrap();
}

#[test]
fn data_for_a_task_never_answered_or_naming_another_server_is_dropped() {
    let now = epoch();
    let me = node("comp", 1);
    let mut s = Server::new(me, 1);
    s.handle_task_data(now, data(req(1, 0), me, "stale"));
    s.handle_request(now, req(1, 1));
    s.handle_task_data(now, data(req(1, 1), node("comp", 2), "misdirected"));
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.stats().unmatched_data, 2);
}

#[test]
fn requests_whose_target_was_seen_are_not_answered() {
    let now = epoch();
    let mut s = Server::new(node("comp", 1), 1);
    for t in 0..3 {
        s.handle_target(now, MsReference::new(req(1, t), node("comp", 2)));
    }
    for t in 0..3 {
        s.handle_request(now, req(1, t));
    }
    assert!(drain(&mut s).is_empty());
    assert_eq!(s.stats().skipped_seen, 3);
    s.handle_request(now, req(1, 3));
    assert_eq!(drain(&mut s), [reply_of(&s, req(1, 3))]);
}

#[test]
fn a_queued_request_whose_target_arrives_is_never_answered() {
    let now = epoch();
    let mut s = Server::new(node("comp", 1), 1);
    s.handle_request(now, req(1, 0));
    s.handle_request(now, req(2, 0));
    drain(&mut s);
    s.handle_target(now, MsReference::new(req(2, 0), node("comp", 2)));
    assert_eq!(s.queued(), 0);
    s.handle_target(now, MsReference::new(req(1, 0), node("comp", 2)));
    assert!(drain(&mut s).is_empty());
    assert!(s.is_idle());
}

#[test]
fn a_cancel_target_naming_the_undefined_id_releases_the_slot() {
    let now = epoch();
    let mut s = Server::new(node("comp", 1), 1);
    s.handle_request(now, req(1, 0));
    s.handle_target(now, MsReference::new(req(1, 0), AmlipId::undefined()));
    assert!(s.is_idle());
}

#[test]
fn duplicate_requests_are_answered_once() {
    let now = epoch();
    let mut s = Server::new(node("comp", 1), 1);
    s.handle_request(now, req(1, 0));
    s.handle_request(now, req(1, 1));
    s.handle_request(now, req(1, 0));
    s.handle_request(now, req(1, 1));
    assert_eq!(drain(&mut s).len(), 1);
    assert_eq!(s.stats().duplicate_requests, 2);
}

#[test]
fn several_slots_answer_several_requests_at_once() {
    let now = epoch();
    let me = node("comp", 1);
    let mut s = Server::new(me, 3);
    for t in 0..5 {
        s.handle_request(now, req(1, t));
    }
    assert_eq!(drain(&mut s).len(), 3);
    for t in 0..3 {
        s.handle_task_data(now, data(req(1, t), me, "j"));
    }
    assert_eq!(std::iter::from_fn(|| s.poll_event()).count(), 3);
    s.complete(now, req(1, 1), "s".into()).unwrap();
    let out = drain(&mut s);
    assert!(matches!(out[0], Outgoing::Solution { .. }));
    assert_eq!(out[1], reply_of(&s, req(1, 3)));
}

#[test]
fn a_stopped_server_queues_requests_and_answers_them_when_started() {
    let now = epoch();
    let mut s = Server::new(node("comp", 1), 1);
    s.set_accepting(now, false);
    s.handle_request(now, req(1, 0));
    assert!(drain(&mut s).is_empty());
    s.set_accepting(now, true);
    assert_eq!(drain(&mut s), [reply_of(&s, req(1, 0))]);
}

#[test]
fn stopping_keeps_replies_already_sent() {
    let now = epoch();
    let me = node("comp", 1);
    let mut s = Server::new(me, 1);
    s.handle_request(now, req(1, 0));
    s.set_accepting(now, false);
    s.handle_target(now, MsReference::new(req(1, 0), me));
    s.handle_task_data(now, data(req(1, 0), me, "j"));
    assert!(s.poll_event().is_some());
}

#[test]
fn a_task_limit_counts_outstanding_replies() {
    let now = epoch();
    let me = node("comp", 1);
    let mut s = Server::new(me, 4);
    s.set_task_limit(now, Some(1));
    s.handle_request(now, req(1, 0));
    s.handle_request(now, req(2, 0));
    assert_eq!(drain(&mut s).len(), 1, "one job allowed, so one reply");
    s.handle_target(now, MsReference::new(req(1, 0), node("comp", 2)));
    assert_eq!(drain(&mut s), [reply_of(&s, req(2, 0))]);
    s.handle_task_data(now, data(req(2, 0), me, "j"));
    s.complete(now, req(2, 0), "s".into()).unwrap();
    assert_eq!(s.task_limit(), Some(0));
    s.handle_request(now, req(3, 0));
    assert_eq!(drain(&mut s).len(), 1, "only the solution");
}

#[test]
fn the_request_queue_is_bounded() {
    let now = epoch();
    let mut s = Server::new(node("comp", 1), 1).with_max_queued(2);
    s.set_accepting(now, false);
    for t in 0..5 {
        s.handle_request(now, req(1, t));
    }
    assert_eq!(s.queued(), 2);
    assert_eq!(s.stats().dropped_requests, 3);
}

#[test]
fn a_lost_client_frees_the_slots_waiting_for_it() {
    let now = epoch();
    let me = node("comp", 1);
    let mut s = Server::new(me, 2);
    s.set_task_limit(now, Some(5));
    s.handle_request(now, req(1, 0));
    s.handle_request(now, req(1, 1));
    s.handle_request(now, req(1, 2));
    s.handle_request(now, req(2, 0));
    s.handle_target(now, MsReference::new(req(1, 1), me));
    drain(&mut s);
    s.client_lost(now, req(1, 0).client_id);
    assert_eq!(
        s.task_limit(),
        Some(5),
        "the won-but-unstarted task is given back"
    );
    assert_eq!(drain(&mut s), [reply_of(&s, req(2, 0))]);
    assert_eq!(s.queued(), 0);
}

#[test]
fn samples_naming_the_undefined_client_are_ignored() {
    let now = epoch();
    let mut s = Server::new(node("comp", 1), 1);
    let bogus = MsRequest {
        client_id: AmlipId::undefined(),
        task_id: TaskId(0),
    };
    s.handle_request(now, bogus);
    s.handle_target(now, MsReference::new(bogus, s.id()));
    assert!(drain(&mut s).is_empty());
    assert_eq!(s.stats().invalid, 2);
}

/// Let every reply of `s` win at once (target, data, solution); the tasks in the order answered.
fn serve_all(s: &mut Server, now: std::time::Instant) -> Vec<u32> {
    let me = s.id();
    let mut order = Vec::new();
    for _ in 0..1000 {
        let replies: Vec<MsReference> = drain(s)
            .into_iter()
            .filter_map(|o| match o {
                Outgoing::ReplyAvailable { reference, .. } => Some(reference),
                _ => None,
            })
            .collect();
        if replies.is_empty() {
            break;
        }
        for r in replies {
            order.push(r.task_id.0);
            s.handle_target(now, r);
            s.handle_task_data(now, data(r.request(), me, "job"));
            while s.poll_event().is_some() {}
            s.complete(now, r.request(), "done".into()).unwrap();
        }
    }
    order
}

#[test]
fn with_a_spread_queued_requests_are_answered_out_of_order_but_all_exactly_once() {
    let now = epoch();
    let mut s = Server::new(node("comp", 1), 1).with_offer_spread(8);
    s.set_accepting(now, false);
    for t in 0..40 {
        s.handle_request(now, req(1, t));
    }
    s.set_accepting(now, true);
    let order = serve_all(&mut s, now);
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..40).collect::<Vec<_>>());
    assert_ne!(order, sorted, "a spread of 8 draws, not FIFO");
    // The FIFO default keeps the order.
    let mut fifo = Server::new(node("comp", 1), 1);
    fifo.set_accepting(now, false);
    for t in 0..40 {
        fifo.handle_request(now, req(1, t));
    }
    fifo.set_accepting(now, true);
    assert_eq!(serve_all(&mut fifo, now), sorted);
}

#[test]
fn idle_servers_with_a_spread_mostly_answer_different_requests() {
    let now = epoch();
    let mut servers: Vec<Server> = (1..=4)
        .map(|i| Server::new(node("comp", i), 1).with_offer_spread(32))
        .collect();
    let mut collisions = 0;
    for round in 0..50u32 {
        let firsts: Vec<u32> = servers
            .iter_mut()
            .map(|s| {
                // Requests queued while the server was busy, then a slot frees.
                s.set_accepting(now, false);
                for t in 0..64 {
                    s.handle_request(now, req(1, round * 64 + t));
                }
                s.set_accepting(now, true);
                let r = drain(s);
                let [Outgoing::ReplyAvailable { reference, .. }] = r.as_slice() else {
                    panic!("one reply expected: {r:?}");
                };
                reference.task_id.0
            })
            .collect();
        let distinct: std::collections::BTreeSet<u32> = firsts.iter().copied().collect();
        collisions += firsts.len() - distinct.len();
        // Release every server: a cancel of each request.
        for s in &mut servers {
            for t in 0..64 {
                s.handle_target(
                    now,
                    MsReference::new(req(1, round * 64 + t), AmlipId::undefined()),
                );
            }
            drain(s);
        }
    }
    // FIFO would collide 3 times per round (150); drawn among 32, about 0.6 per round.
    assert!(collisions < 60, "{collisions} collisions in 50 rounds");
}

#[test]
fn its_state_stays_bounded_over_many_tasks_from_many_clients() {
    let now = epoch();
    let me = node("comp", 1);
    let other = node("comp", 2);
    let mut s = Server::new(me, 4);
    let clients = 2000u32;
    for k in 0..20_000u32 {
        let c = k % clients;
        let client = AmlipId::new("main", [(c >> 8) as u8, c as u8, 1, 1]).unwrap();
        let r = MsRequest {
            client_id: client,
            task_id: TaskId(k / clients),
        };
        s.handle_request(now, r);
        let winner = if k % 2 == 0 { me } else { other };
        s.handle_target(now, MsReference::new(r, winner));
        if winner == me {
            s.handle_task_data(now, data(r, me, "job"));
        }
        while let Some(ServerEvent::Task { key, .. }) = s.poll_event() {
            s.complete(now, key, "ok".into()).unwrap();
        }
        drain(&mut s);
    }
    assert_eq!(s.stats().completed, 10_000);
    assert!(s.is_idle());
    assert_eq!((s.queued(), s.queue.len()), (0, 0));
    assert!(s.outgoing.is_empty() && s.events.is_empty());
    let max_clients = crate::multiservice::seen::DEFAULT_MAX_CLIENTS;
    assert!(s.seen.clients() <= max_clients);
    // A client forgotten (least recently used) comes back as one out-of-order entry.
    assert!(s.seen.sparse_entries() <= max_clients);
}

#[test]
fn a_refused_task_frees_its_slot_and_its_replays_are_skipped() {
    let now = epoch();
    let me = node("comp", 1);
    let mut s = Server::new(me, 1);
    s.set_task_limit(now, Some(1));
    s.handle_request(now, req(1, 0));
    s.handle_request(now, req(2, 0));
    drain(&mut s);
    s.handle_target(now, MsReference::new(req(1, 0), me));
    assert!(s.refuse(now, req(1, 0)));
    assert!(!s.refuse(now, req(1, 0)), "only once");
    assert_eq!(s.stats().refused, 1);
    assert_eq!(s.task_limit(), Some(1), "the refused task does not count");
    assert_eq!(drain(&mut s), [reply_of(&s, req(2, 0))], "the slot is free");
    s.handle_request(now, req(1, 0));
    assert_eq!(s.stats().skipped_seen, 1);
}

#[test]
fn a_failed_task_is_answered_with_a_failed_solution_and_frees_its_slot() {
    let now = epoch();
    let me = node("comp", 1);
    let mut s = Server::new(me, 1);
    s.handle_request(now, req(1, 0));
    s.handle_request(now, req(1, 1));
    drain(&mut s);
    let target = MsReference::new(req(1, 0), me);
    s.handle_target(now, target);
    s.handle_task_data(now, data(req(1, 0), me, "job"));
    assert!(s.poll_event().is_some());
    s.fail(now, req(1, 0), "exit status 1".into()).unwrap();
    assert_eq!(
        drain(&mut s),
        [
            Outgoing::Solution {
                to_client: req(1, 0).client_id,
                data: MsData::failure(target, "exit status 1".into())
            },
            reply_of(&s, req(1, 1)),
        ]
    );
    assert_eq!((s.stats().failed, s.stats().completed), (1, 0));
    assert_eq!(
        s.fail(now, req(1, 0), "again".into()),
        Err(CompleteError::UnknownTask)
    );
}

#[test]
fn a_reply_that_gets_no_target_frees_its_slot_after_the_timeout_for_another_client() {
    let now = epoch();
    let timeout = Duration::from_secs(2);
    let mut s = Server::new(node("comp", 1), 1).with_reply_timeout(timeout);
    assert_eq!(s.poll_timeout(), None);
    for t in 0..3 {
        s.handle_request(now, req(1, t));
    }
    s.handle_request(now, req(2, 0));
    assert_eq!(drain(&mut s), [reply_of(&s, req(1, 0))]);
    assert_eq!(s.poll_timeout(), Some(now + timeout));
    s.handle_timeout(now + Duration::from_millis(1999));
    assert!(drain(&mut s).is_empty(), "early calls are no-ops");
    // Client 1 gave no answer: its other requests wait behind client 2's.
    s.handle_timeout(now + timeout);
    assert_eq!(drain(&mut s), [reply_of(&s, req(2, 0))]);
    assert_eq!(s.stats().expired_replies, 1);
    assert_eq!(s.poll_timeout(), Some(now + timeout * 2));
    // With nobody else waiting, client 1 is answered again.
    s.handle_target(now + timeout, MsReference::new(req(2, 0), node("comp", 9)));
    assert_eq!(drain(&mut s), [reply_of(&s, req(1, 1))]);
}

#[test]
fn the_late_choice_of_a_timed_out_reply_is_still_run_once() {
    let now = epoch();
    let me = node("comp", 1);
    let mut s = Server::new(me, 1).with_reply_timeout(Duration::from_secs(2));
    s.handle_request(now, req(1, 0));
    s.handle_request(now, req(2, 0));
    drain(&mut s);
    let later = now + Duration::from_secs(3);
    s.handle_timeout(later);
    assert_eq!(drain(&mut s), [reply_of(&s, req(2, 0))]);
    // Client 1 was paused, and now chooses us: its job waits for the slot, then runs once.
    s.handle_target(later, MsReference::new(req(1, 0), me));
    s.handle_task_data(later, data(req(1, 0), me, "late"));
    assert_eq!(
        s.poll_event(),
        None,
        "the slot is taken by client 2's reply"
    );
    s.handle_target(later, MsReference::new(req(2, 0), node("comp", 9)));
    assert_eq!(
        s.poll_event(),
        Some(ServerEvent::Task {
            key: req(1, 0),
            job: "late".into()
        })
    );
    s.handle_task_data(later, data(req(1, 0), me, "late"));
    assert_eq!(s.poll_event(), None, "a duplicate is not run again");
    assert_eq!(s.stats().late_tasks, 1);
    s.complete(later, req(1, 0), "LATE".into()).unwrap();
    assert!(s.is_idle());
}

#[test]
fn a_won_task_whose_data_never_comes_is_freed_and_its_budget_given_back() {
    let now = epoch();
    let me = node("comp", 1);
    let mut s = Server::new(me, 1).with_reply_timeout(Duration::from_secs(2));
    s.set_task_limit(now, Some(1));
    s.handle_request(now, req(1, 0));
    drain(&mut s);
    s.handle_target(now, MsReference::new(req(1, 0), me));
    assert_eq!(s.task_limit(), Some(0));
    s.handle_timeout(now + Duration::from_secs(2));
    assert_eq!(s.task_limit(), Some(1));
    assert!(s.is_idle());
    s.handle_request(now, req(2, 0));
    assert_eq!(drain(&mut s), [reply_of(&s, req(2, 0))]);
}

#[test]
fn a_lost_client_s_targets_stay_recorded_for_when_it_comes_back() {
    let now = epoch();
    let me = node("comp", 1);
    let mut s = Server::new(me, 1);
    s.handle_request(now, req(1, 0));
    drain(&mut s);
    s.handle_target(now, MsReference::new(req(1, 0), node("comp", 2)));
    s.handle_request(now, req(1, 1));
    drain(&mut s);
    s.client_lost(now, req(1, 0).client_id);
    // Its participant reappears and its history is replayed: the decided request is skipped,
    // the open one answered again, and the data of the reply freed by the loss still runs.
    s.handle_request(now, req(1, 0));
    assert_eq!(s.stats().skipped_seen, 1);
    s.handle_request(now, req(1, 1));
    assert_eq!(drain(&mut s), [reply_of(&s, req(1, 1))]);
    s.handle_task_data(now, data(req(1, 1), me, "job"));
    assert!(matches!(s.poll_event(), Some(ServerEvent::Task { .. })));
}

/// Run tasks 100.. of client 3 on a one-slot server, one at a time, each taking `took`: the
/// job times the server's prefetch is based on. Returns the time after the last one.
fn run_timed_jobs(
    s: &mut Server,
    mut now: std::time::Instant,
    n: u32,
    took: Duration,
) -> std::time::Instant {
    for t in 100..100 + n {
        let r = req(3, t);
        s.handle_request(now, r);
        drain(s);
        s.handle_task_data(now, data(r, s.id(), "job"));
        while s.poll_event().is_some() {}
        now += took;
        s.complete(now, r, "done".into()).unwrap();
        drain(s);
    }
    now
}

/// Replies in `out`, by task id.
fn replied(out: &[Outgoing]) -> Vec<u32> {
    out.iter()
        .filter_map(|o| match o {
            Outgoing::ReplyAvailable { reference, .. } => Some(reference.task_id.0),
            _ => None,
        })
        .collect()
}

#[test]
fn a_server_with_short_jobs_answers_ahead_with_each_solution() {
    let mut s = Server::new(node("comp", 1), 1);
    let now = run_timed_jobs(
        &mut s,
        epoch(),
        PREFETCH_AFTER_JOBS,
        Duration::from_micros(50),
    );
    for t in 0..40 {
        s.handle_request(now, req(1, t));
    }
    // One free slot and DEFAULT_PREFETCH ahead (50 us jobs: 20 fit in the 1 ms budget).
    let first = replied(&drain(&mut s));
    assert_eq!(first.len(), 1 + DEFAULT_PREFETCH, "{first:?}");
    assert!(s.stats().prefetch_replies >= DEFAULT_PREFETCH as u64);
    // Every answered one is chosen; the first runs, the others wait for the slot.
    for &t in &first {
        let r = req(1, t);
        s.handle_target(now, MsReference::new(r, s.id()));
        s.handle_task_data(now, data(r, s.id(), "job"));
    }
    let tasks: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert_eq!(
        tasks.len(),
        first.len(),
        "each chosen job is handed over once"
    );
    assert!(
        drain(&mut s).is_empty(),
        "no more replies while {} jobs wait",
        first.len()
    );
    // A solution goes out with exactly one new reply: the queue ahead stays as deep.
    s.complete(now, req(1, first[0]), "x".into()).unwrap();
    let out = drain(&mut s);
    assert_eq!(replied(&out).len(), 1, "{out:?}");
    assert!(
        matches!(out.first(), Some(Outgoing::Solution { .. })),
        "{out:?}"
    );
}

#[test]
fn a_server_whose_jobs_take_a_millisecond_or_more_answers_only_with_free_slots() {
    for took in [Duration::from_millis(1), Duration::from_millis(30)] {
        let mut s = Server::new(node("comp", 1), 1);
        let now = run_timed_jobs(&mut s, epoch(), 20, took);
        for t in 0..10 {
            s.handle_request(now, req(1, t));
        }
        assert_eq!(replied(&drain(&mut s)), [0], "jobs of {took:?}");
        assert_eq!(s.stats().prefetch_replies, 0);
    }
}

#[test]
fn the_budget_of_work_ahead_follows_the_job_time_and_prefetch_zero_is_aml_ip() {
    // 400 us jobs: two fit in 1 ms.
    let mut s = Server::new(node("comp", 1), 1);
    let now = run_timed_jobs(&mut s, epoch(), 30, Duration::from_micros(400));
    for t in 0..10 {
        s.handle_request(now, req(1, t));
    }
    assert_eq!(replied(&drain(&mut s)), [0, 1, 2]);
    // Off: one reply per free slot, whatever the job time.
    let mut s = Server::new(node("comp", 1), 1).with_prefetch(0);
    let now = run_timed_jobs(&mut s, epoch(), 30, Duration::ZERO);
    for t in 0..10 {
        s.handle_request(now, req(1, t));
    }
    assert_eq!(replied(&drain(&mut s)), [0]);
    // Too few jobs timed yet: no prefetch.
    let mut s = Server::new(node("comp", 1), 1);
    let now = run_timed_jobs(&mut s, epoch(), PREFETCH_AFTER_JOBS - 1, Duration::ZERO);
    for t in 0..10 {
        s.handle_request(now, req(1, t));
    }
    assert_eq!(replied(&drain(&mut s)), [0]);
}

#[test]
fn a_task_limit_caps_the_replies_sent_ahead() {
    let mut s = Server::new(node("comp", 1), 1);
    let now = run_timed_jobs(&mut s, epoch(), PREFETCH_AFTER_JOBS, Duration::ZERO);
    s.set_task_limit(now, Some(2));
    for t in 0..10 {
        s.handle_request(now, req(1, t));
    }
    assert_eq!(replied(&drain(&mut s)), [0, 1]);
}
