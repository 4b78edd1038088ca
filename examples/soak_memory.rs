//! Memory of long-lived nodes (issue 11 item 4): a main node in this process and a computing node
//! in a child process (this program again), so each side's resident memory is its own.
//!
//! - `soak_memory soak [JOBS] [WINDOW]`: JOBS zero-work jobs (64 bytes, echoed back), WINDOW of
//!   them in flight; both processes print their RSS (`VmRSS`) every 100,000 jobs.
//! - `soak_memory big [MB] [SOLUTION_MB]`: one job of MB MiB, answered with SOLUTION_MB MiB
//!   (default: the job echoed back); both processes print their peak RSS (`VmHWM`) and the time.
//!
//! ```sh
//! cargo build --release --example soak_memory
//! ../shared/oracles/netns-run target/release/examples/soak_memory soak 1000000
//! ../shared/oracles/netns-run target/release/examples/soak_memory big 100
//! ```
//!
//! It opens sockets on the loopback default; run it inside a private network namespace. Every
//! wait is bounded: it stops by itself, with a non-zero exit status on a timeout.

use std::process::{Child, Command, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use amlip::node::{ComputingNode, MainNode, NodeError, NodeOptions};

/// RSS printed every this many jobs.
const STEP: u64 = 100_000;
/// Longest wait for one solution.
const WAIT: Duration = Duration::from_secs(60);
/// The domain both processes use.
const DOMAIN: u32 = 141;

#[allow(clippy::disallowed_methods)]
fn clock() -> Instant {
    Instant::now()
}

/// A `/proc/self/status` field in KiB (`VmRSS`, `VmHWM`), 0 if unreadable.
fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn arg<T: std::str::FromStr>(i: usize, name: &str, default: T) -> Result<T, String> {
    match std::env::args().nth(i) {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|_| format!("{name}: not a number: {s:?}")),
    }
}

fn options() -> NodeOptions {
    NodeOptions::default().with_domain(DOMAIN)
}

/// The child: a computing node answering `jobs` jobs with `solution_len` bytes (or the job
/// itself), printing its memory.
fn computing(jobs: u64, solution_len: Option<usize>) -> Result<(), NodeError> {
    let node = ComputingNode::new("SoakComputing", options())?;
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let t0 = clock();
    node.run_jobs(&stop, 1, Some(jobs), |job| {
        let n = done.fetch_add(1, Ordering::AcqRel) + 1;
        if n % STEP == 0 {
            println!(
                "computing: {n} jobs, RSS {:.1} MiB",
                mib(status_kib("VmRSS"))
            );
        }
        match solution_len {
            Some(len) => vec![0x5a; len],
            None => job.to_vec(),
        }
    })?;
    if jobs < STEP {
        println!(
            "computing: {jobs} job(s) in {:.2} s, peak RSS (VmHWM) {:.1} MiB",
            t0.elapsed().as_secs_f64(),
            mib(status_kib("VmHWM"))
        );
    }
    Ok(())
}

fn spawn_computing(jobs: u64, solution_len: Option<usize>) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut c = Command::new(exe);
    c.arg("computing").arg(jobs.to_string());
    if let Some(len) = solution_len {
        c.arg(len.to_string());
    }
    c.spawn()
        .map_err(|e| format!("cannot start the computing node: {e}"))
}

/// Wait for the child at most `limit`, killing it after that.
fn reap(mut child: Child, limit: Duration) -> Result<(), String> {
    let deadline = clock() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(s)) if s.success() => return Ok(()),
            Ok(Some(s)) => return Err(format!("computing node exited with {s}")),
            Ok(None) if clock() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("computing node did not finish in time".into());
            }
        }
    }
}

fn soak(jobs: u64, window: u64) -> Result<(), String> {
    let child = spawn_computing(jobs, None)?;
    let r = (|| {
        let main = MainNode::new("SoakMain", options()).map_err(|e| e.to_string())?;
        let solutions = main.solutions();
        let job: Vec<u8> = (0..64u8).collect();
        let t0 = clock();
        let mut sent = 0u64;
        while sent < window.min(jobs) {
            main.submit(job.clone()).map_err(|e| e.to_string())?;
            sent += 1;
        }
        for n in 1..=jobs {
            solutions
                .recv_timeout(WAIT)
                .map_err(|e| format!("no solution after {} jobs: {e}", n - 1))?;
            if sent < jobs {
                main.submit(job.clone()).map_err(|e| e.to_string())?;
                sent += 1;
            }
            if n % STEP == 0 {
                println!(
                    "main:      {n} jobs, RSS {:.1} MiB ({:.0} jobs/s)",
                    mib(status_kib("VmRSS")),
                    n as f64 / t0.elapsed().as_secs_f64()
                );
            }
        }
        Ok(())
    })();
    let reaped = reap(child, WAIT);
    r.and(reaped)
}

fn big(job_mib: usize, solution_mib: Option<usize>) -> Result<(), String> {
    let solution_len = solution_mib.map(|m| m << 20);
    let child = spawn_computing(1, solution_len)?;
    let r = (|| {
        let main = MainNode::new("BigJobMain", options()).map_err(|e| e.to_string())?;
        let before = status_kib("VmRSS");
        let job = vec![0xa5u8; job_mib << 20];
        let t0 = clock();
        let (solution, _) = main
            .request_job_solution_timeout(job, WAIT)
            .map_err(|e| e.to_string())?;
        println!(
            "main: {job_mib} MiB job, {:.1} MiB solution in {:.2} s, RSS before {:.1} MiB, \
             peak RSS (VmHWM) {:.1} MiB",
            mib(solution.len() as u64 / 1024),
            t0.elapsed().as_secs_f64(),
            mib(before),
            mib(status_kib("VmHWM"))
        );
        Ok(())
    })();
    let reaped = reap(child, WAIT);
    r.and(reaped)
}

fn main() -> ExitCode {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let r = match mode.as_str() {
        "soak" => arg(2, "JOBS", 1_000_000u64)
            .and_then(|j| Ok((j.max(1), arg(3, "WINDOW", 64u64)?.max(1))))
            .and_then(|(j, w)| soak(j, w)),
        "big" => arg(2, "MB", 100usize).and_then(|m| {
            let s = std::env::args().nth(3).map(|_| arg(3, "SOLUTION_MB", 0));
            big(m, s.transpose()?)
        }),
        "computing" => arg(2, "JOBS", 1u64).and_then(|j| {
            let len = std::env::args().nth(3).map(|_| arg(3, "LEN", 0usize));
            computing(j, len.transpose()?).map_err(|e| e.to_string())
        }),
        _ => Err("usage: soak_memory soak [JOBS] [WINDOW] | big [MB] [SOLUTION_MB]".into()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("soak_memory: {e}");
            ExitCode::FAILURE
        }
    }
}
