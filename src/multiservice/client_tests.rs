use super::*;
use crate::multiservice::strategies::{epoch, node};

fn drain(c: &mut Client) -> Vec<Outgoing> {
    std::iter::from_fn(|| c.poll_outgoing()).collect()
}

fn reply(c: &Client, task: u32, server: AmlipId) -> MsReference {
    MsReference {
        client_id: c.id(),
        task_id: TaskId(task),
        server_id: server,
    }
}

fn solution(r: MsReference, s: &str) -> MsData {
    MsData::new(r, GenericData::from(s))
}

#[test]
fn submissions_publish_requests_with_task_ids_from_zero() {
    let now = epoch();
    let mut c = Client::new(node("main", 1));
    assert_eq!(c.submit(now, "a".into()), Ok(TaskId(0)));
    assert_eq!(c.submit(now, "b".into()), Ok(TaskId(1)));
    let out = drain(&mut c);
    assert_eq!(
        out,
        [0, 1].map(|t| Outgoing::Request(MsRequest {
            client_id: c.id(),
            task_id: TaskId(t)
        }))
    );
    assert_eq!(c.in_flight(), 2);
}

#[test]
fn the_first_reply_becomes_the_target_and_the_job_goes_only_to_that_server() {
    let now = epoch();
    let (s1, s2) = (node("s", 1), node("s", 2));
    let mut c = Client::new(node("main", 1));
    c.submit(now, "job".into()).unwrap();
    drain(&mut c);
    let r1 = reply(&c, 0, s1);
    c.handle_reply_available(now, r1);
    c.handle_reply_available(now, reply(&c, 0, s2));
    assert_eq!(
        drain(&mut c),
        [
            Outgoing::TaskData {
                to_server: s1,
                data: MsData::new(r1, "job".into())
            },
            Outgoing::Target(r1),
        ]
    );
    assert_eq!(c.stats().stale_replies, 1);
    assert_eq!(c.assigned_server(TaskId(0)), Some(s1));
}

#[test]
fn replies_are_matched_by_task_id_with_many_tasks_in_flight() {
    let now = epoch();
    let s = node("s", 1);
    let mut c = Client::new(node("main", 1));
    for j in ["a", "b", "c"] {
        c.submit(now, j.into()).unwrap();
    }
    drain(&mut c);
    c.handle_reply_available(now, reply(&c, 2, s));
    c.handle_reply_available(now, reply(&c, 0, s));
    let out = drain(&mut c);
    let jobs: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Outgoing::TaskData { data, .. } => Some((data.task_id.0, data.data.bytes.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(jobs, [(2, b"c".to_vec()), (0, b"a".to_vec())]);
}

#[test]
fn one_solution_per_task_reaches_the_user() {
    let now = epoch();
    let s = node("s", 1);
    let mut c = Client::new(node("main", 1));
    let t = c.submit(now, "job".into()).unwrap();
    let r = reply(&c, 0, s);
    c.handle_reply_available(now, r);
    c.handle_solution(now + Duration::from_millis(5), solution(r, "JOB"));
    c.handle_solution(now, solution(r, "JOB"));
    assert_eq!(
        c.poll_event(),
        Some(ClientEvent::Solved {
            task: t,
            server: s,
            solution: "JOB".into(),
            latency: Duration::from_millis(5),
            reissued_from: None,
        })
    );
    assert_eq!(c.poll_event(), None);
    assert_eq!(c.stats().stale_solutions, 1);
    assert!(!c.is_pending(t));
    assert_eq!(c.in_flight(), 0);
}

#[test]
fn samples_for_another_client_are_ignored() {
    let now = epoch();
    let s = node("s", 1);
    let mut c = Client::new(node("main", 1));
    c.submit(now, "job".into()).unwrap();
    drain(&mut c);
    let other = MsReference {
        client_id: node("main", 2),
        task_id: TaskId(0),
        server_id: s,
    };
    c.handle_reply_available(now, other);
    c.handle_solution(now, solution(other, "X"));
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.poll_event(), None);
    assert_eq!(c.stats().foreign, 2);
}

#[test]
fn a_solution_before_the_task_was_assigned_is_not_accepted() {
    let now = epoch();
    let mut c = Client::new(node("main", 1));
    c.submit(now, "job".into()).unwrap();
    c.handle_solution(now, solution(reply(&c, 0, node("s", 1)), "X"));
    assert_eq!(c.poll_event(), None);
    assert!(c.is_pending(TaskId(0)));
}

#[test]
fn cancelling_a_waiting_task_publishes_a_target_naming_the_undefined_id() {
    let now = epoch();
    let mut c = Client::new(node("main", 1));
    let t = c.submit(now, "job".into()).unwrap();
    drain(&mut c);
    assert!(c.cancel(now, t));
    assert!(!c.cancel(now, t));
    assert_eq!(
        drain(&mut c),
        [Outgoing::Target(reply(&c, 0, AmlipId::undefined()))]
    );
    c.handle_reply_available(now, reply(&c, 0, node("s", 1)));
    assert!(drain(&mut c).is_empty());
}

#[test]
fn cancelling_an_assigned_task_drops_its_late_solution() {
    let now = epoch();
    let mut c = Client::new(node("main", 1));
    let t = c.submit(now, "job".into()).unwrap();
    let r = reply(&c, 0, node("s", 1));
    c.handle_reply_available(now, r);
    drain(&mut c);
    assert!(c.cancel(now, t));
    assert!(drain(&mut c).is_empty(), "the target was already published");
    c.handle_solution(now, solution(r, "late"));
    assert_eq!(c.poll_event(), None);
}

#[test]
fn a_lost_server_s_tasks_are_requested_again_under_new_ids() {
    let now = epoch();
    let (dead, alive) = (node("s", 1), node("s", 2));
    let mut c = Client::new(node("main", 1));
    let t0 = c.submit(now, "a".into()).unwrap();
    let t1 = c.submit(now, "b".into()).unwrap();
    let r0 = reply(&c, 0, dead);
    c.handle_reply_available(now, r0);
    c.handle_reply_available(now, reply(&c, 1, alive));
    drain(&mut c);
    c.server_lost(now, dead);
    assert_eq!(
        drain(&mut c),
        [Outgoing::Request(MsRequest {
            client_id: c.id(),
            task_id: TaskId(2)
        })]
    );
    assert_eq!(
        c.poll_event(),
        Some(ClientEvent::Reissued {
            task: t0,
            lost_server: dead
        })
    );
    // Late replies from the dead server are never chosen; its late solution is ignored.
    c.handle_reply_available(now, reply(&c, 2, dead));
    assert!(drain(&mut c).is_empty());
    c.handle_solution(now, solution(r0, "A"));
    assert_eq!(c.poll_event(), None);
    // The new wire id is served by a live server and solves the user's original task.
    let r2 = reply(&c, 2, alive);
    c.handle_reply_available(now, r2);
    c.handle_solution(now, solution(r2, "A"));
    assert!(matches!(c.poll_event(), Some(ClientEvent::Solved { task, .. }) if task == t0));
    assert!(c.is_pending(t1));
    assert_eq!(c.stats().reissued, 1);
}

#[test]
fn task_ids_run_out_with_an_error_not_a_wrap() {
    let now = epoch();
    let mut c = Client::new(node("main", 1));
    c.next_task = Some(u32::MAX);
    assert_eq!(c.submit(now, "a".into()), Ok(TaskId(u32::MAX)));
    assert_eq!(
        c.submit(now, "b".into()),
        Err(SubmitError::TaskIdsExhausted)
    );
    let s = node("s", 1);
    c.handle_reply_available(now, reply(&c, u32::MAX, s));
    c.server_lost(now, s);
    assert_eq!(
        c.poll_event(),
        Some(ClientEvent::Abandoned {
            task: TaskId(u32::MAX)
        })
    );
    assert_eq!(c.in_flight(), 0);
}

#[test]
fn cancel_all_releases_every_unassigned_task() {
    let now = epoch();
    let mut c = Client::new(node("main", 1));
    for j in ["a", "b", "c"] {
        c.submit(now, j.into()).unwrap();
    }
    c.handle_reply_available(now, reply(&c, 1, node("s", 1)));
    drain(&mut c);
    assert_eq!(c.cancel_all(now), 3);
    let targets: Vec<u32> = drain(&mut c)
        .into_iter()
        .map(|o| match o {
            Outgoing::Target(r) => {
                assert!(!r.server_id.is_defined());
                r.task_id.0
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(targets, [0, 2]);
    assert_eq!(c.in_flight(), 0);
}

#[test]
fn requests_beyond_the_window_wait_until_earlier_tasks_get_a_server() {
    let now = epoch();
    let s = node("s", 1);
    let mut c = Client::new(node("main", 1));
    c.set_max_open_requests(2);
    for j in ["a", "b", "c", "d"] {
        c.submit(now, j.into()).unwrap();
    }
    let requested = |out: &[Outgoing]| -> Vec<u32> {
        out.iter()
            .filter_map(|o| match o {
                Outgoing::Request(r) => Some(r.task_id.0),
                _ => None,
            })
            .collect()
    };
    assert_eq!(requested(&drain(&mut c)), [0, 1]);
    assert_eq!((c.in_flight(), c.open_requests()), (4, 2));
    // A reply assigns task 1: task 2's request goes out after its data and target.
    c.handle_reply_available(now, reply(&c, 1, s));
    let out = drain(&mut c);
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(requested(&out), [2]);
    assert!(matches!(out[1], Outgoing::Target(_)));
    // Cancelling an open task releases the window too; a held one publishes nothing.
    assert!(c.cancel(now, TaskId(3)));
    assert!(drain(&mut c).is_empty());
    assert!(c.cancel(now, TaskId(0)));
    assert_eq!(requested(&drain(&mut c)), Vec::<u32>::new());
    assert_eq!((c.in_flight(), c.open_requests()), (2, 1));
    // Widening the window releases held requests at once.
    c.submit(now, "e".into()).unwrap();
    c.submit(now, "f".into()).unwrap();
    assert_eq!(requested(&drain(&mut c)), [4]);
    c.set_max_open_requests(10);
    assert_eq!(requested(&drain(&mut c)), [5]);
}

#[test]
fn cancel_all_drops_held_tasks_without_publishing_their_requests() {
    let now = epoch();
    let mut c = Client::new(node("main", 1));
    c.set_max_open_requests(1);
    for j in ["a", "b", "c"] {
        c.submit(now, j.into()).unwrap();
    }
    drain(&mut c);
    assert_eq!(c.cancel_all(now), 3);
    let out = drain(&mut c);
    assert_eq!(
        out,
        [Outgoing::Target(MsReference {
            client_id: c.id(),
            task_id: TaskId(0),
            server_id: AmlipId::undefined(),
        })]
    );
    assert_eq!((c.in_flight(), c.open_requests()), (0, 0));
}

fn failure(r: MsReference, why: &str) -> MsData {
    MsData::failure(r, GenericData::from(why))
}

fn events(c: &mut Client) -> Vec<ClientEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

#[test]
fn a_failed_job_is_requested_again_preferring_another_server_then_reported_failed() {
    let now = epoch();
    let (s1, s2) = (node("s", 1), node("s", 2));
    let mut c = Client::new(node("main", 1));
    let t = c.submit(now, "job".into()).unwrap();
    drain(&mut c);
    let r0 = reply(&c, 0, s1);
    c.handle_reply_available(now, r0);
    drain(&mut c);
    let later = now + Duration::from_millis(30);
    c.handle_solution(later, failure(r0, "exit status 1"));
    assert_eq!(
        events(&mut c),
        [ClientEvent::Retried {
            task: t,
            server: s1,
            attempt: 1,
            reason: "exit status 1".into()
        }]
    );
    // Attempt 2 under a new wire id; s1 (which failed it) answers first, s2 wins.
    let req1 = MsRequest {
        client_id: c.id(),
        task_id: TaskId(1),
    };
    assert_eq!(drain(&mut c), [Outgoing::Request(req1)]);
    assert!(c.is_pending(t));
    c.handle_reply_available(later, reply(&c, 1, s1));
    assert_eq!(drain(&mut c), []);
    assert_eq!(c.stats().deferred_replies, 1);
    assert!(c.poll_timeout().is_some());
    let r1 = reply(&c, 1, s2);
    c.handle_reply_available(later, r1);
    assert_eq!(
        drain(&mut c),
        [
            Outgoing::TaskData {
                to_server: s2,
                data: MsData::new(r1, "job".into())
            },
            Outgoing::Target(r1),
        ]
    );
    assert_eq!(
        c.poll_timeout(),
        None,
        "the held reply is released by the target"
    );
    assert_eq!(c.assigned_server(t), Some(s2));
    c.handle_solution(later, failure(r1, "timed out"));
    assert!(
        matches!(events(&mut c)[..], [ClientEvent::Retried { attempt: 2, server, .. }] if server == s2)
    );
    // Attempt 3: both failed it; the first reply is held, and chosen when its grace passes.
    drain(&mut c);
    let r2 = reply(&c, 2, s1);
    c.handle_reply_available(later, r2);
    assert_eq!(drain(&mut c), []);
    let due = c.poll_timeout().unwrap();
    assert_eq!(due, later + DEFAULT_RETRY_GRACE);
    c.handle_timeout(due - Duration::from_millis(1));
    assert_eq!(drain(&mut c), [], "early calls do nothing");
    c.handle_timeout(due);
    assert_eq!(drain(&mut c).len(), 2);
    let end = due + Duration::from_millis(5);
    c.handle_solution(end, failure(r2, "exit status 2"));
    assert_eq!(
        events(&mut c),
        [ClientEvent::Failed {
            task: t,
            server: s1,
            reason: "exit status 2".into(),
            attempts: 3,
            latency: end - now,
        }]
    );
    assert!(!c.is_pending(t));
    assert_eq!(c.in_flight(), 0);
    assert_eq!((c.stats().failed_attempts, c.stats().failed), (3, 1));
    // A late copy of a failure is stale.
    c.handle_solution(end, failure(r2, "exit status 2"));
    assert_eq!(events(&mut c), []);
}

#[test]
fn with_one_attempt_a_failure_is_final_and_a_success_after_a_retry_is_solved() {
    let now = epoch();
    let s1 = node("s", 1);
    let mut c = Client::new(node("main", 1));
    c.set_max_attempts(1);
    let t = c.submit(now, "a".into()).unwrap();
    let r = reply(&c, 0, s1);
    c.handle_reply_available(now, r);
    c.handle_solution(now, failure(r, "no"));
    assert!(
        matches!(events(&mut c)[..], [ClientEvent::Failed { task, attempts: 1, .. }] if task == t)
    );
    c.set_max_attempts(0);
    let t = c.submit(now, "b".into()).unwrap();
    let r = reply(&c, 1, s1);
    c.handle_reply_available(now, r);
    c.handle_solution(now, failure(r, "no"));
    assert!(
        matches!(events(&mut c)[..], [ClientEvent::Failed { task, attempts: 1, .. }] if task == t)
    );
    c.set_max_attempts(2);
    let t = c.submit(now, "c".into()).unwrap();
    let r = reply(&c, 2, s1);
    c.handle_reply_available(now, r);
    c.handle_solution(now, failure(r, "flaky"));
    assert_eq!(events(&mut c).len(), 1);
    drain(&mut c);
    let r = reply(&c, 3, s1);
    c.handle_reply_available(now, r);
    c.handle_timeout(now + DEFAULT_RETRY_GRACE);
    c.handle_solution(now, solution(r, "C"));
    assert!(
        matches!(&events(&mut c)[..], [ClientEvent::Solved { task, solution, .. }] if *task == t && solution.bytes == b"C")
    );
}

#[test]
fn a_cancelled_retry_forgets_its_held_reply() {
    let now = epoch();
    let s1 = node("s", 1);
    let mut c = Client::new(node("main", 1));
    let t = c.submit(now, "a".into()).unwrap();
    let r = reply(&c, 0, s1);
    c.handle_reply_available(now, r);
    c.handle_solution(now, failure(r, "no"));
    c.handle_reply_available(now, reply(&c, 1, s1));
    assert!(c.poll_timeout().is_some());
    drain(&mut c);
    assert!(c.cancel(now, t));
    assert_eq!(c.poll_timeout(), None);
    c.handle_timeout(now + DEFAULT_RETRY_GRACE);
    assert!(!drain(&mut c)
        .iter()
        .any(|o| matches!(o, Outgoing::TaskData { .. })));
}

#[test]
fn a_lost_server_that_comes_back_is_chosen_again_and_latency_counts_from_submission() {
    let now = epoch();
    let s = node("s", 1);
    let mut c = Client::new(node("main", 1));
    let t = c.submit(now, "a".into()).unwrap();
    let r0 = reply(&c, 0, s);
    c.handle_reply_available(now, r0);
    drain(&mut c);
    let lost_at = now + Duration::from_secs(20);
    c.server_lost(lost_at, s);
    drain(&mut c);
    // Lost: its replies are refused.
    c.handle_reply_available(lost_at, reply(&c, 1, s));
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.stats().refused_replies, 1);
    // Its participant reappears: the re-issued request goes to it.
    let back = now + Duration::from_secs(30);
    c.server_back(back, s);
    assert_eq!(c.stats().servers_back, 1);
    let r1 = reply(&c, 1, s);
    c.handle_reply_available(back, r1);
    assert_eq!(drain(&mut c).len(), 2, "task data and target");
    // The old wire id's late solution is dropped; the new one solves the task once.
    c.handle_solution(back, solution(r0, "A"));
    assert_eq!(c.stats().stale_solutions, 1);
    c.handle_solution(back + Duration::from_millis(5), solution(r1, "A"));
    c.handle_solution(back, solution(r1, "A"));
    let events: Vec<ClientEvent> = std::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(
        events,
        [
            ClientEvent::Reissued {
                task: t,
                lost_server: s
            },
            ClientEvent::Solved {
                task: t,
                server: s,
                solution: "A".into(),
                latency: Duration::from_millis(30_005),
                reissued_from: Some(s),
            }
        ]
    );
    assert_eq!(c.stats().stale_solutions, 2);
}
