//! Job round-trip latency of the blocking API: one main node and N computing nodes in this
//! process (zero work, 64-byte jobs), each job sent after the previous one's solution, and the
//! percentiles printed. Repeating it shows how much a shared machine moves the figure from one
//! process to the next (thread placement), which one criterion run cannot.
//!
//! ```sh
//! cargo build --release --example job_latency
//! ../shared/oracles/netns-run target/release/examples/job_latency [JOBS] [COMPUTING] [DOMAIN]
//! ```
//!
//! It opens sockets on the loopback default; run it inside a private network namespace.

use std::process::ExitCode;
use std::time::Duration;

mod common;

use common::clock;

use amlip::node::{MainNode, NodeError, NodeOptions};

/// Jobs run before timing starts (matching, first writer creation).
const WARM_UP: usize = 100;
/// Longest wait for one solution.
const WAIT: Duration = Duration::from_secs(10);

fn run(jobs: usize, computing: usize, domain: u32) -> Result<Vec<f64>, NodeError> {
    let options = NodeOptions::default().with_domain(domain);
    common::with_computing(
        "LatencyComputing",
        computing,
        &options,
        <[u8]>::to_vec,
        |_| {
            let main = MainNode::new("LatencyMain", options.clone())?;
            let job: Vec<u8> = (0..64u8).collect();
            for _ in 0..WARM_UP {
                main.request_job_solution_timeout(job.clone(), WAIT)?;
            }
            let mut micros = Vec::with_capacity(jobs);
            for _ in 0..jobs {
                let t0 = clock();
                main.request_job_solution_timeout(job.clone(), WAIT)?;
                micros.push(t0.elapsed().as_secs_f64() * 1e6);
            }
            Ok(micros)
        },
    )
}

fn main() -> ExitCode {
    let Some((jobs, computing, domain)) =
        common::jobs_computing_domain("job_latency", (5000, 1, 140))
    else {
        return ExitCode::from(2);
    };
    let mut micros = match run(jobs, computing, domain) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("job_latency: {e}");
            return ExitCode::FAILURE;
        }
    };
    micros.sort_by(f64::total_cmp);
    let q = |p: f64| micros[((micros.len() - 1) as f64 * p) as usize];
    let mean = micros.iter().sum::<f64>() / micros.len() as f64;
    println!(
        "jobs {jobs}, computing {computing}: round trip p50 {:.1} p90 {:.1} p99 {:.1} mean {mean:.1} us",
        q(0.5),
        q(0.9),
        q(0.99)
    );
    ExitCode::SUCCESS
}
