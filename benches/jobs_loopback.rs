//! Macro benches on real UDP sockets over loopback, all measured in the same run so the ratios
//! mean something on a shared machine:
//!
//! - `loopback/rtps_ping_pong`: the floor, a 16-byte reliable sample there and back between two
//!   `rtps::dds` participants (raw writer / reader; the echo is written from a reader listener,
//!   as the nodes answer, and the pinging thread waits in `recv_polling_timeout`, reading the
//!   socket itself as a main node's caller does). One job takes two such round trips
//!   (request → reply, target + data → solution).
//! - `loopback/job_round_trip_1`: `MainNode::request_job_solution` of a 64-byte job, 1 main +
//!   1 computing node, zero work.
//! - `loopback/job_round_trip_4`: the same with 4 computing nodes.
//! - `loopback/pipelined_4_computing`: 20,000 jobs `submit`ted at once (200 in smoke mode), 4
//!   computing nodes, zero work, until every solution is collected: jobs/s.
//! - `loopback/first_solution`: from `new()` of a computing and a main node to the first
//!   solution (discovery included).
//!
//! The ratio job round trip / (2 × ping-pong) is the back-to-back figures' (`measure.sh`
//! computes it). It is also measured interleaved, after each bench: 2,000 jobs each preceded by
//! two ping-pongs on the floor's participants, timed apart, so that a machine shared with other
//! work slows both alike (`ratio_*_interleaved`).
//!
//! Opens sockets, so it runs only inside a private network namespace (`netns-run cargo bench
//! --bench jobs_loopback`); elsewhere it prints `skipped: ...` and returns. At the end it prints
//! `FIGURE` lines (see `benches/measure.sh`).

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, Throughput};

use amlip::node::{ComputingNode, MainNode, NodeOptions};
use rtps::dds::{DomainParticipant, ParticipantOptions, Qos, RawReader, RawWriter};
use rtps::transport::interface::{loopback_only_namespace, NOT_IN_NAMESPACE};
use support::{record, record_value, Unit};

/// Bound on every wait (discovery, a reply): a bench never hangs.
const WAIT: Duration = Duration::from_secs(30);
/// CDR encapsulation header + 12 bytes.
const PING: [u8; 16] = [0, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

#[allow(clippy::disallowed_methods)]
fn clock() -> Instant {
    Instant::now()
}

fn echo(job: &[u8]) -> Vec<u8> {
    job.to_vec()
}

fn job64() -> Vec<u8> {
    (0..64u8).collect()
}

fn opts(domain: u32) -> NodeOptions {
    NodeOptions::default().with_domain(domain)
}

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Sets its flag when dropped (stops helper threads even when a bench panics).
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The floor: participant A pings, participant B echoes from a reader listener.
struct PingPong {
    ping: RawWriter,
    pong: RawReader,
}

impl PingPong {
    /// One round trip.
    fn round_trip(&self) {
        self.ping.write(&PING).expect("ping");
        self.pong.recv_polling_timeout(WAIT).expect("pong");
    }
}

/// Two participants on domain 150 with the ping-pong endpoints, matched; `f` runs while B
/// echoes.
fn with_ping_pong<R>(f: impl FnOnce(&PingPong) -> R) -> R {
    let qos = Qos::default().keyed(false).reliable().keep_all();
    let part = || {
        DomainParticipant::new(ParticipantOptions::default().domain_id(150)).expect("participant")
    };
    let (a, b) = (part(), part());
    let ping = a
        .create_raw_writer("bench/ping", "bench::Bytes", &qos)
        .unwrap();
    let pong = a
        .create_raw_reader("bench/pong", "bench::Bytes", &qos)
        .unwrap();
    let ping_r = b
        .create_raw_reader("bench/ping", "bench::Bytes", &qos)
        .unwrap();
    let pong_w = b
        .create_raw_writer("bench/pong", "bench::Bytes", &qos)
        .unwrap();
    ping.wait_for_matched(1, WAIT).expect("ping matched");
    pong_w.wait_for_matched(1, WAIT).expect("pong matched");
    // B echoes from a listener, on its receive thread: the fastest echo the API offers (the
    // nodes read through listeners too). One sample is in flight at a time, so the write never
    // finds the history full.
    ping_r.set_listener(move |x| {
        let _ = pong_w.try_write_bytes(x.value);
    });
    let pp = PingPong { ping, pong };
    pp.round_trip();
    let r = f(&pp);
    drop(ping_r);
    r
}

fn ping_pong(g: &mut Group<'_>, pp: &PingPong) {
    g.bench_function("rtps_ping_pong", |b| {
        b.iter_custom(|iters| {
            let start = clock();
            for _ in 0..iters {
                pp.round_trip();
            }
            let t = start.elapsed();
            record(
                "ping_pong",
                "RTPS ping-pong round trip, 16 B reliable (the floor)",
                Unit::Micros,
                t,
                iters,
            );
            t
        })
    });
}

/// Computing nodes answering with `echo` on their own threads while `f` runs.
fn with_computing<R>(domain: u32, n: usize, f: impl FnOnce() -> R) -> R {
    let comps: Vec<ComputingNode> = (0..n)
        .map(|i| ComputingNode::new(&format!("BenchComputing{i}"), opts(domain)).unwrap())
        .collect();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for c in &comps {
            let stop = &stop;
            s.spawn(move || c.run(stop, 1, echo));
        }
        let _stop = StopOnDrop(&stop);
        f()
    })
}

/// A main node on `domain` that has solved a first job (so every computing node is matched).
fn warm_main(domain: u32, computing: usize) -> MainNode {
    let main = MainNode::new("BenchMain", opts(domain)).unwrap();
    for _ in 0..3000 {
        if main.computing_nodes() >= computing {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    main.request_job_solution_timeout(job64(), WAIT)
        .expect("warm-up job");
    main
}

/// Jobs timed in the interleaved pass of each round-trip bench (see the module doc; 20 in
/// smoke mode).
const INTERLEAVED_JOBS: u32 = 2000;

fn job_round_trip(g: &mut Group<'_>, pp: &PingPong, domain: u32, computing: usize) {
    let (name, key, what, ratio_key) = if computing == 1 {
        (
            "job_round_trip_1",
            "job_rtt_1",
            "job round trip, 64 B, 1 main + 1 computing, zero work",
            "ratio_job_rtt_1_interleaved",
        )
    } else {
        (
            "job_round_trip_4",
            "job_rtt_4",
            "job round trip, 64 B, 1 main + 4 computing, zero work",
            "ratio_job_rtt_4_interleaved",
        )
    };
    with_computing(domain, computing, || {
        let main = warm_main(domain, computing);
        let job = job64();
        // Back to back, as the floor: the figure compared with 2 x `ping_pong`.
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = clock();
                for _ in 0..iters {
                    main.request_job_solution_timeout(job.clone(), WAIT)
                        .expect("solution");
                }
                let t = start.elapsed();
                record(key, what, Unit::Micros, t, iters);
                t
            })
        });
        // Interleaved: each job right after two ping-pongs on the floor's participants, both
        // timed, so that a machine busy with other work slows both alike. (Their receive
        // threads are still polling when the job starts, so jobs are slower here than back to
        // back on 2 cores.)
        let (mut jobs, mut floor) = (Duration::ZERO, Duration::ZERO);
        let n = if support::bench_mode() {
            INTERLEAVED_JOBS
        } else {
            20
        };
        for _ in 0..n {
            let t0 = clock();
            pp.round_trip();
            pp.round_trip();
            let t1 = clock();
            main.request_job_solution_timeout(job.clone(), WAIT)
                .expect("solution");
            jobs += t1.elapsed();
            floor += t1.saturating_duration_since(t0);
        }
        if !floor.is_zero() {
            record_value(
                ratio_key,
                "job round trip / 2 ping-pongs, interleaved",
                Unit::Ratio,
                jobs.as_secs_f64() / floor.as_secs_f64(),
            );
        }
    });
}

fn pipelined(c: &mut Criterion) {
    let n: u64 = if support::bench_mode() { 20_000 } else { 200 };
    let domain = 153;
    let mut g = c.benchmark_group("loopback");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(n));
    with_computing(domain, 4, || {
        let main = warm_main(domain, 4);
        let solutions = main.solutions();
        let job = job64();
        g.bench_function("pipelined_4_computing", |b| {
            b.iter_custom(|iters| {
                let start = clock();
                for _ in 0..iters {
                    for _ in 0..n {
                        main.submit(job.clone()).expect("submit");
                    }
                    for i in 0..n {
                        if let Err(e) = solutions.recv_timeout(WAIT) {
                            panic!(
                                "solution {i} of {n}: {e}; in flight {}, write errors {}",
                                main.in_flight(),
                                main.write_errors()
                            );
                        }
                    }
                }
                let t = start.elapsed();
                record(
                    "pipelined_4",
                    "pipelined throughput, 4 computing, zero work, 64 B jobs submitted at once",
                    Unit::PerSecond,
                    t,
                    iters * n,
                );
                t
            })
        });
        assert_eq!(
            main.write_errors(),
            0,
            "samples the main node could not write"
        );
    });
    g.finish();
}

fn first_solution(c: &mut Criterion) {
    let mut g = c.benchmark_group("loopback");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(5));
    g.bench_function("first_solution", |b| {
        b.iter_custom(|iters| {
            let mut t = Duration::ZERO;
            for _ in 0..iters {
                let start = clock();
                let comp = ComputingNode::new("BenchComputing", opts(154)).unwrap();
                let main = MainNode::new("BenchMain", opts(154)).unwrap();
                let (r, elapsed) = std::thread::scope(|s| {
                    s.spawn(|| comp.process_job(echo));
                    let r = main.request_job_solution_timeout(job64(), WAIT);
                    (r, start.elapsed())
                });
                r.expect("first solution");
                t += elapsed;
                // Dropping the nodes (goodbyes) is not timed.
            }
            record(
                "first_solution",
                "time from new() of both nodes to the first solution",
                Unit::Millis,
                t,
                iters,
            );
            t
        })
    });
    g.finish();
}

fn round_trips(c: &mut Criterion) {
    with_ping_pong(|pp| {
        let mut g = c.benchmark_group("loopback");
        g.warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3))
            .throughput(Throughput::Elements(1));
        ping_pong(&mut g, pp);
        job_round_trip(&mut g, pp, 151, 1);
        job_round_trip(&mut g, pp, 152, 4);
        g.finish();
    });
}

fn main() {
    if !loopback_only_namespace() {
        println!("{NOT_IN_NAMESPACE}");
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    round_trips(&mut c);
    pipelined(&mut c);
    first_solution(&mut c);
    c.final_summary();
    support::print_figures(&[]);
}
