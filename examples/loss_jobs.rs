//! Pipelined jobs on a lossy network: one main node and N computing nodes in this process,
//! JOBS zero-work jobs submitted at once with `MainNode::submit` and collected from
//! `solutions()`; prints how long they took and how many were lost, duplicated or wrong.
//! Meant to run with fault injection (`AMLIP_FAULTS`, see `rtps::transport::faults`):
//!
//! ```sh
//! cargo build --release --example loss_jobs
//! AMLIP_FAULTS=loss=0.2,dup=0.05,reorder=0.25 AMLIP_FAULTS_SEED=1 \
//!   ../shared/oracles/netns-run target/release/examples/loss_jobs [JOBS] [COMPUTING] [DOMAIN]
//! ```
//!
//! One warm-up job (discovery and matching included) is solved first and timed apart. Exit
//! status 0 only when every job was solved exactly once with the right answer. It opens
//! sockets on the loopback default; run it inside a private network namespace.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

mod common;

use common::clock;

use amlip::node::{MainNode, NodeError, NodeOptions};

/// Longest the whole run may take.
const DEADLINE: Duration = Duration::from_secs(180);

/// The answer of a computing node to `job`.
fn solve(job: &[u8]) -> Vec<u8> {
    job.to_ascii_uppercase()
}

#[derive(Debug, Default)]
struct Outcome {
    warm_up: Duration,
    elapsed: Duration,
    solved: usize,
    lost: usize,
    duplicated: usize,
    wrong: usize,
}

fn run(jobs: usize, computing: usize, domain: u32) -> Result<Outcome, NodeError> {
    let options = NodeOptions::default().with_domain(domain);
    let t0 = clock();
    common::with_computing("LossComputing", computing, &options, solve, |_| {
        let main = MainNode::new("LossMain", options.clone())?;
        main.request_job_solution_timeout("warm-up", DEADLINE)?;
        let warm_up = t0.elapsed();
        let solutions = main.solutions();
        let start = clock();
        let mut expected = BTreeMap::new();
        for i in 0..jobs {
            let job = format!("job {i}");
            let task = main.submit(job.clone())?;
            expected.insert(task, solve(job.as_bytes()));
        }
        let mut seen = BTreeMap::new();
        let mut out = Outcome {
            warm_up,
            ..Outcome::default()
        };
        let deadline = start + DEADLINE;
        while out.solved < jobs {
            let left = deadline.saturating_duration_since(clock());
            let Ok(s) = solutions.recv_timeout(left) else {
                break;
            };
            match expected.get(&s.task) {
                None => out.wrong += 1,
                Some(want) if *want != s.solution => out.wrong += 1,
                Some(_) => {}
            }
            if seen.insert(s.task, ()).is_some() {
                out.duplicated += 1;
            } else {
                out.solved += 1;
            }
        }
        out.elapsed = start.elapsed();
        // Late duplicates would show within a moment.
        while let Ok(s) = solutions.recv_timeout(Duration::from_millis(300)) {
            if seen.insert(s.task, ()).is_some() {
                out.duplicated += 1;
            } else {
                out.wrong += 1;
            }
        }
        out.lost = jobs - out.solved;
        Ok(out)
    })
}

fn main() -> ExitCode {
    let Some((jobs, computing, domain)) =
        common::jobs_computing_domain("loss_jobs", (1000, 3, 141))
    else {
        return ExitCode::from(2);
    };
    let faults = std::env::var("AMLIP_FAULTS").unwrap_or_default();
    match run(jobs, computing, domain) {
        Ok(o) => {
            println!(
                "jobs {jobs} computing {computing} faults [{faults}]: {:.3} s ({:.0} jobs/s), \
                 solved {} lost {} duplicated {} wrong {}; warm-up job (with discovery) {:.3} s",
                o.elapsed.as_secs_f64(),
                o.solved as f64 / o.elapsed.as_secs_f64().max(1e-9),
                o.solved,
                o.lost,
                o.duplicated,
                o.wrong,
                o.warm_up.as_secs_f64()
            );
            if o.lost == 0 && o.duplicated == 0 && o.wrong == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("loss_jobs: {e}");
            ExitCode::FAILURE
        }
    }
}
