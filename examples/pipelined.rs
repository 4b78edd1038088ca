//! Pipelined throughput of the library, with its cost in datagrams: one main node and N
//! computing nodes in this process (zero work, 64-byte jobs), all jobs submitted at once, then
//! every solution collected; prints jobs/s and, per job, the datagrams and ACKNACKs/HEARTBEATs
//! the main and the computing nodes sent. The same shape as the `loopback/pipelined_4_computing`
//! bench, in one run, to see where datagrams (and so system calls) go.
//!
//! ```sh
//! cargo build --release --example pipelined
//! ../shared/oracles/netns-run target/release/examples/pipelined [JOBS] [COMPUTING] [DOMAIN]
//! ```
//!
//! `BUSY_POLL_US=N` sets [`NodeOptions::busy_poll`] of every node (microseconds),
//! `PREFETCH=N` their [`NodeOptions::prefetch`]. It opens
//! sockets on the loopback default; run it inside a private network namespace.

use std::process::ExitCode;
use std::time::Duration;

mod common;

use common::clock;

use amlip::node::{MainNode, NodeError, NodeOptions};
use rtps::dds::ParticipantStats;

/// Longest wait for one solution.
const WAIT: Duration = Duration::from_secs(30);

/// Counters of one node's participant, as (datagrams out, ACKNACKs sent, HEARTBEATs sent).
fn counts(s: &ParticipantStats) -> [u64; 3] {
    [s.datagrams_out, s.acknacks_sent, s.heartbeats_sent]
}

fn run(jobs: usize, computing: usize, domain: u32) -> Result<(), NodeError> {
    let mut options = NodeOptions::default().with_domain(domain);
    if let Some(us) = std::env::var("BUSY_POLL_US")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        options = options.busy_poll(Duration::from_micros(us));
    }
    if let Some(n) = std::env::var("PREFETCH").ok().and_then(|s| s.parse().ok()) {
        options = options.prefetch(n);
    }
    common::with_computing(
        "PipelinedComputing",
        computing,
        &options,
        <[u8]>::to_vec,
        |comps| {
            let main = MainNode::new("PipelinedMain", options.clone())?;
            let solutions = main.solutions();
            let job: Vec<u8> = (0..64u8).collect();
            for _ in 0..3000 {
                if main.computing_nodes() >= computing {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            main.request_job_solution_timeout(job.clone(), WAIT)?;
            let main0 = counts(&main.stats().participant);
            let comps0: Vec<[u64; 3]> = comps
                .iter()
                .map(|c| counts(&c.stats().participant))
                .collect();
            let t0 = clock();
            for _ in 0..jobs {
                main.submit(job.clone())?;
            }
            for i in 0..jobs {
                if solutions.recv_timeout(WAIT).is_err() {
                    eprintln!("pipelined: solution {i} of {jobs} did not come within {WAIT:?}");
                    return Err(NodeError::Timeout);
                }
            }
            let t = t0.elapsed();
            let main1 = counts(&main.stats().participant);
            let mut comp_sum = [0u64; 3];
            for (c, before) in comps.iter().zip(&comps0) {
                let now = counts(&c.stats().participant);
                for k in 0..3 {
                    comp_sum[k] += now[k].saturating_sub(before[k]);
                }
            }
            let per = |x: u64| x as f64 / jobs as f64;
            println!(
                "jobs {jobs}, computing {computing}: {:.0} jobs/s ({:.2} s)",
                jobs as f64 / t.as_secs_f64(),
                t.as_secs_f64()
            );
            println!(
                "per job: main sent {:.2} datagrams ({:.2} ACKNACK, {:.2} HEARTBEAT); computing \
                 nodes sent {:.2} ({:.2} ACKNACK, {:.2} HEARTBEAT)",
                per(main1[0] - main0[0]),
                per(main1[1] - main0[1]),
                per(main1[2] - main0[2]),
                per(comp_sum[0]),
                per(comp_sum[1]),
                per(comp_sum[2]),
            );
            Ok(())
        },
    )
}

fn main() -> ExitCode {
    let Some((jobs, computing, domain)) =
        common::jobs_computing_domain("pipelined", (20_000, 4, 141))
    else {
        return ExitCode::from(2);
    };
    match run(jobs, computing, domain) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pipelined: {e}");
            ExitCode::FAILURE
        }
    }
}
