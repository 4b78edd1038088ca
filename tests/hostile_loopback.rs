//! A hostile LAN on real UDP sockets (issue 11 items 2 and 3): forged HEARTBEATs and GAPs
//! fired at a live main / computing pair, and a flood of fake SPDP participants. Skipped,
//! with a printed reason, unless inside a private network namespace (everything is sent to
//! 127.0.0.x or the namespace's loopback multicast):
//! `../shared/oracles/netns-run cargo test --test hostile_loopback`.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use amlip::node::{ComputingNode, MainNode, NodeOptions};
use rtps::dds::{DomainParticipant, ParticipantOptions};
use rtps::hostile::{fake_spdp, forged_gap, forged_heartbeat};
use rtps::transport::interface::require_private_namespace;
use rtps::transport::ports;
use rtps::wire::{EntityId, EntityKind, GuidPrefix, Locator};

const WAIT: Duration = Duration::from_secs(30);

#[allow(clippy::disallowed_methods)]
fn clock() -> Instant {
    Instant::now()
}

fn opts(domain: u32) -> NodeOptions {
    NodeOptions::default().with_domain(domain)
}

/// The GUID prefix of the participant whose name contains `name`, as discovery shows it.
fn discover(spy: &DomainParticipant, name: &str) -> GuidPrefix {
    let deadline = clock() + WAIT;
    while clock() < deadline {
        let found = spy
            .discovered_participants()
            .into_iter()
            .find(|(_, n)| n.as_deref().is_some_and(|n| n.contains(name)));
        if let Some((p, _)) = found {
            return p;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("{name} not discovered");
}

/// Every user writer a node has (entity keys are handed out from 1; a node has fewer than 16
/// endpoints).
fn writer_ids() -> Vec<EntityId> {
    let mut v = Vec::new();
    for key in 1u32..=16 {
        let b = key.to_be_bytes();
        for kind in [EntityKind::WRITER_NO_KEY, EntityKind::WRITER_WITH_KEY] {
            v.push(EntityId {
                key: [b[1], b[2], b[3]],
                kind,
            });
        }
    }
    v
}

/// Every unicast port a participant of `domain` with id 0..4 listens on (the test has three).
fn unicast_ports(domain: u32) -> Vec<SocketAddr> {
    (0..4)
        .flat_map(|pid| {
            [
                ports::metatraffic_unicast_port(domain, pid),
                ports::user_unicast_port(domain, pid),
            ]
        })
        .filter_map(Result::ok)
        .map(|port| SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .collect()
}

/// Forged HEARTBEATs (first = last = 1000, and 2^32) and GAPs claiming to come from every
/// writer of `from`, addressed to `to`, from `socket`, to every port of the domain.
fn fire(socket: &UdpSocket, domain: u32, from: GuidPrefix, to: GuidPrefix, round: u32) {
    let count = round.wrapping_mul(7919);
    for w in writer_ids() {
        let datagrams = [
            forged_heartbeat(from, w, to, 1000, 1000, count),
            forged_heartbeat(from, w, to, 1 << 32, 1 << 32, u32::MAX - round),
            forged_gap(from, w, to, 1, 1000),
            forged_gap(from, w, to, 1, 1 << 32),
        ];
        for d in datagrams.into_iter().flatten() {
            for a in unicast_ports(domain) {
                let _ = socket.send_to(&d, a);
            }
        }
    }
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn forged_heartbeats_and_gaps_at_a_live_pair_do_not_stop_the_jobs() {
    require_private_namespace();
    const DOMAIN: u32 = 140;
    const JOBS: usize = 300;
    let comp = ComputingNode::new("SpoofedComp", opts(DOMAIN)).unwrap();
    let main = MainNode::new("SpoofedMain", opts(DOMAIN)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || comp.run(&stop, 1, |job| job.to_ascii_uppercase()))
    };
    let spy = DomainParticipant::new(ParticipantOptions::default().domain_id(DOMAIN).name("spy"))
        .unwrap();
    let main_prefix = discover(&spy, "SpoofedMain");
    let comp_prefix = discover(&spy, "SpoofedComp");
    // The first job, so every endpoint is matched and has shown something.
    let (first, _) = main.request_job_solution_timeout("job 0", WAIT).unwrap();
    assert_eq!(first, b"JOB 0");
    // Forgers on the nodes' own address (only the reliability rules can help) and on
    // another loopback address (refused by address), firing a round every 10 jobs.
    let same = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let other = UdpSocket::bind((Ipv4Addr::new(127, 0, 0, 2), 0)).unwrap();
    let mut rounds = 0u32;
    for i in 1..JOBS {
        if i % 10 == 1 {
            for s in [&same, &other] {
                fire(s, DOMAIN, main_prefix, comp_prefix, rounds);
                fire(s, DOMAIN, comp_prefix, main_prefix, rounds);
            }
            rounds += 1;
        }
        let job = format!("job {i}");
        let (solution, _) = main
            .request_job_solution_timeout(job.as_bytes(), WAIT)
            .unwrap_or_else(|e| panic!("job {i} under forged traffic: {e}"));
        assert_eq!(solution, job.to_ascii_uppercase().as_bytes());
    }
    stop.store(true, Ordering::Release);
    let _ = worker.join();
    eprintln!("{JOBS} jobs solved while {rounds} rounds of forged datagrams were fired");
}

/// `count` fake SPDP participants (numbered from `first`) to the domain's SPDP multicast
/// group on loopback, spread over about `over`.
fn flood(domain: u32, first: u32, count: u32, over: Duration) {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    socket.set_multicast_loop_v4(true).unwrap();
    let port = ports::spdp_multicast_port(domain).unwrap();
    let group = SocketAddr::from((ports::SPDP_MULTICAST_GROUP, port));
    let dead = Locator::udp_v4(Ipv4Addr::LOCALHOST, 9);
    let start = clock();
    for n in first..first + count {
        let mut p = [0xfa; 12];
        p[8..].copy_from_slice(&n.to_be_bytes());
        let d = fake_spdp(GuidPrefix(p), domain, dead, Duration::from_secs(3600)).unwrap();
        let _ = socket.send_to(&d, group);
        // Pace to `over` in all.
        let due = over.mul_f64(f64::from(n - first + 1) / f64::from(count));
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            thread::sleep(wait);
        }
    }
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn nodes_that_join_during_and_after_a_discovery_flood_are_served() {
    require_private_namespace();
    const DOMAIN: u32 = 141;
    let comp = ComputingNode::new("FloodedComp", opts(DOMAIN)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || comp.run(&stop, 1, |job| job.to_ascii_uppercase()))
    };
    thread::sleep(Duration::from_millis(200));
    // A main node that joins during a flood of 5,000 fakes (1 s).
    let flooder = thread::spawn(|| flood(DOMAIN, 0, 5_000, Duration::from_secs(1)));
    thread::sleep(Duration::from_millis(300));
    let during = MainNode::new("DuringFlood", opts(DOMAIN)).unwrap();
    flooder.join().unwrap();
    let (s, _) = during
        .request_job_solution_timeout("during", WAIT)
        .expect("a node that joined during the flood is served");
    assert_eq!(s, b"DURING");
    // Another 5,000, then a main node that joins after them.
    flood(DOMAIN, 5_000, 5_000, Duration::from_secs(1));
    let t = clock();
    let after = MainNode::new("AfterFlood", opts(DOMAIN)).unwrap();
    let (s, _) = after
        .request_job_solution_timeout("after", WAIT)
        .expect("a node that joined after the flood is served");
    assert_eq!(s, b"AFTER");
    eprintln!(
        "first job of a main node started after the flood: {:?}",
        t.elapsed()
    );
    stop.store(true, Ordering::Release);
    let _ = worker.join();
}
