//! Macro benches of whole AML-IP nodes on the simulated network (fixed seed, no loss, 20 us
//! one-way delay): every node's MultiService core and its sans-IO RTPS participant run in this one
//! thread, so the time per job is the CPU cost of the whole stack for one job, both ends.
//!
//! - `sim/job_round_trip`: 1 main + 1 computing node, zero work, a 64-byte job.
//! - `sim/pipelined_4_computing`: a batch of jobs submitted at once, 4 computing nodes.
//!
//! `cargo bench --bench jobs_sim`; `cargo test --benches` runs each once as a smoke test.

mod support;

use std::time::Duration;

use criterion::{criterion_group, Criterion, Throughput};

use amlip::node::sim::{Engine, SimCluster};
use rtps::transport::sim::LinkConfig;
use support::{record, Unit};

const SEED: u64 = 0x5eed_0005;
/// One-way delay of the simulated link.
const ONE_WAY: Duration = Duration::from_micros(20);
/// Virtual time allowed for discovery or a batch (never reached on a perfect link).
const LIMIT: Duration = Duration::from_secs(60);

fn echo(job: &[u8]) -> Vec<u8> {
    job.to_vec()
}

const ZERO_WORK: Engine = Engine {
    solve: echo,
    work_time: Duration::ZERO,
};

/// A main node and `computing` computing nodes, discovered, one job already solved.
fn cluster(computing: usize) -> (SimCluster, usize) {
    let mut c = SimCluster::new(SEED);
    // No loss; a one-way delay like loopback's, so virtual time moves and the reliability
    // timers (heartbeat responses, acknowledgments) run as they would for real.
    c.set_link(LinkConfig::PERFECT.with_delay(ONE_WAY, Duration::ZERO));
    for i in 0..computing {
        c.add_computing(&format!("BenchComputing{i}"), 1, None, ZERO_WORK)
            .expect("name");
    }
    let main = c.add_main("BenchMain").expect("name");
    c.submit(main, vec![0u8; 64]).expect("submit");
    assert!(
        c.run_until(LIMIT, |c| in_flight(c, main) == 0),
        "warm-up job"
    );
    (c, main)
}

fn in_flight(c: &SimCluster, main: usize) -> usize {
    c.nodes[main].core.client().map_or(0, |c| c.in_flight())
}

/// Submit `n` jobs at once and run until all are solved.
fn batch(c: &mut SimCluster, main: usize, n: usize) {
    for node in &mut c.nodes {
        node.events.clear();
    }
    for i in 0..n {
        let mut job = vec![0u8; 64];
        job[..8].copy_from_slice(&(i as u64).to_le_bytes());
        c.submit(main, job).expect("submit");
    }
    if !c.run_until(LIMIT, |c| in_flight(c, main) == 0) {
        let diag: Vec<String> = c
            .nodes
            .iter()
            .map(|x| {
                format!(
                    "write_errors {} core {:?} client {:?} server {:?}",
                    x.write_errors,
                    x.core.stats(),
                    x.core.client().map(|c| c.stats()),
                    x.core.server().map(|s| s.stats())
                )
            })
            .collect();
        panic!("batch not solved: {diag:#?}");
    }
}

fn job_round_trip(cr: &mut Criterion) {
    let (mut c, main) = cluster(1);
    let mut g = cr.benchmark_group("sim");
    g.throughput(Throughput::Elements(1));
    g.bench_function("job_round_trip", |b| {
        b.iter_custom(|iters| {
            let start = clock();
            for _ in 0..iters {
                batch(&mut c, main, 1);
            }
            let t = start.elapsed();
            record(
                "sim_job_round_trip",
                "sim: CPU time of one job, 1 main + 1 computing, both stacks",
                Unit::Micros,
                t,
                iters,
            );
            t
        })
    });
    g.finish();
}

fn pipelined(cr: &mut Criterion) {
    let n = if support::bench_mode() { 1000 } else { 50 };
    let (mut c, main) = cluster(4);
    let mut g = cr.benchmark_group("sim");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.bench_function("pipelined_4_computing", |b| {
        b.iter_custom(|iters| {
            let start = clock();
            for _ in 0..iters {
                batch(&mut c, main, n);
            }
            let t = start.elapsed();
            record(
                "sim_pipelined_4",
                "sim: jobs/s of one CPU running 1 main + 4 computing stacks",
                Unit::PerSecond,
                t,
                iters * n as u64,
            );
            t
        })
    });
    g.finish();
}

#[allow(clippy::disallowed_methods)]
fn clock() -> std::time::Instant {
    std::time::Instant::now()
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = job_round_trip, pipelined
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    support::print_figures(&[]);
}
