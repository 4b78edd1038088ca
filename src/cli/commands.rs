//! `amlip main` and `amlip computing`.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;

use amlip::multiservice::TaskId;
use amlip::node::{ComputingNode, MainNode, NodeError, NodeOptions, Solution};

use super::delay::Delay;
use super::signal::{self, Ended};

/// How long without a solution before saying we are waiting for computing nodes.
const PATIENCE: Duration = Duration::from_secs(1);

/// Bytes shown as text (lossy UTF-8).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The mock engine's answer: the job in upper case (UTF-8 text, else ASCII bytes).
pub fn upper(job: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(job) {
        Ok(t) => t.to_uppercase().into_bytes(),
        Err(_) => job.to_ascii_uppercase(),
    }
}

/// The line printed for a solution; the time counts from the job's first submission, and a job
/// re-issued after its computing node was lost says so.
pub fn solution_line(job: &str, s: &Solution) -> String {
    let reissued = s
        .reissued_from
        .map(|lost| format!(" (re-issued: {lost} was lost)"))
        .unwrap_or_default();
    format!(
        "job \"{job}\" => \"{}\" from {} in {:.1} ms{reissued}",
        text(&s.solution),
        s.server,
        s.latency.as_secs_f64() * 1e3
    )
}

/// Submitted jobs whose solution has not been printed yet.
type Pending = Arc<Mutex<BTreeMap<TaskId, String>>>;

fn pending_len(p: &Pending) -> usize {
    p.lock().unwrap_or_else(|e| e.into_inner()).len()
}

/// How often the commands look at the stop flag.
const TICK: Duration = Duration::from_millis(50);

/// Print solutions until `all_sent` is set and nothing is pending, or a stop signal.
fn print_solutions(
    node: &MainNode,
    rx: &Receiver<Solution>,
    pending: &Pending,
    all_sent: &AtomicBool,
) -> Result<Ended, NodeError> {
    let mut said_waiting = false;
    let mut idle = Duration::ZERO;
    let mut out = std::io::stdout();
    loop {
        if all_sent.load(Ordering::Acquire) && pending_len(pending) == 0 {
            return Ok(Ended::Completed);
        }
        if signal::stopping() {
            let left = pending_len(pending);
            eprintln!(
                "Main node {} stopped: {left} job(s) not solved (cancelled).",
                node.id()
            );
            return Ok(Ended::Interrupted);
        }
        match rx.recv_timeout(TICK) {
            Ok(s) => {
                idle = Duration::ZERO;
                let job = pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&s.task)
                    .unwrap_or_default();
                let _ = writeln!(out, "{}", solution_line(&job, &s));
                let _ = out.flush();
            }
            Err(RecvTimeoutError::Timeout) => {
                idle = idle.saturating_add(TICK);
                if !said_waiting
                    && idle >= PATIENCE
                    && pending_len(pending) > 0
                    && node.computing_nodes() == 0
                {
                    eprintln!("Waiting for a computing node (start one with `amlip computing`)...");
                    said_waiting = true;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Err(NodeError::Closed),
        }
    }
}

/// Lines of stdin until an empty line or end of input, from a thread of their own (a blocking
/// read cannot be interrupted; the thread ends with the process).
fn stdin_jobs() -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("amlip-stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else {
                    break;
                };
                let job = line.trim_end_matches('\r');
                if job.is_empty() || tx.send(job.to_owned()).is_err() {
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        log::error!("cannot read stdin: {e}");
    }
    rx
}

/// `amlip main [JOB...]`: interrupted, it cancels the jobs not solved yet.
pub fn main(name: String, options: NodeOptions, jobs: &[String]) -> Result<Ended, NodeError> {
    let node = MainNode::new(&name, options.clone())?;
    eprintln!(
        "Main node {} on domain {} ({})",
        node.id(),
        options.domain,
        options.interface
    );
    let rx = node.solutions();
    let pending: Pending = Arc::new(Mutex::new(BTreeMap::new()));
    let all_sent = AtomicBool::new(false);
    let submit = |job: String| -> Result<(), NodeError> {
        // Hold the map while submitting so a fast solution finds its job.
        let mut p = pending.lock().unwrap_or_else(|e| e.into_inner());
        let t = node.submit(job.clone())?;
        p.insert(t, job);
        Ok(())
    };
    if !jobs.is_empty() {
        for j in jobs {
            submit(j.clone())?;
        }
        all_sent.store(true, Ordering::Release);
        return print_solutions(&node, &rx, &pending, &all_sent);
    }
    eprintln!("Type one job per line; an empty line or end of input finishes.");
    let lines = stdin_jobs();
    std::thread::scope(|s| {
        let (n, p, a) = (&node, &pending, &all_sent);
        let printer = s.spawn(move || print_solutions(n, &rx, p, a));
        let mut result = Ok(());
        while !signal::stopping() {
            match lines.recv_timeout(TICK) {
                Ok(job) => {
                    if let Err(e) = submit(job) {
                        result = Err(e);
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        all_sent.store(true, Ordering::Release);
        let printed = printer.join().unwrap_or(Err(NodeError::Closed));
        result.and(printed)
    })
}

/// `amlip computing [N]`: uppercase each job after a random `delay`. A stop signal ends it
/// cleanly (exit status 0): the jobs already won are answered at once (the mock wait is cut
/// short), then `stopped` and `dropped` are published.
pub fn computing(
    name: String,
    options: NodeOptions,
    count: Option<u64>,
    delay: Delay,
    concurrency: u32,
) -> Result<Ended, NodeError> {
    let node = ComputingNode::new(&name, options.clone())?;
    let until = match count {
        Some(1) => "1 job".to_owned(),
        Some(n) => format!("{n} jobs"),
        None => "jobs until interrupted (Ctrl-C)".to_owned(),
    };
    eprintln!(
        "Computing node {} on domain {} ({}): answering {until}, mock work {delay} per job",
        node.id(),
        options.domain,
        options.interface
    );
    let rng = Mutex::new(StdRng::from_entropy());
    let answered = node.run_jobs(
        signal::stop_flag(),
        usize::try_from(concurrency).unwrap_or(1),
        count,
        |job| {
            let wait = delay.sample(&mut *rng.lock().unwrap_or_else(|e| e.into_inner()));
            signal::sleep(wait);
            let solution = upper(job);
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "job \"{}\" => \"{}\"", text(job), text(&solution));
            let _ = out.flush();
            solution
        },
    )?;
    let why = if signal::stopping() {
        " (interrupted)"
    } else {
        ""
    };
    eprintln!(
        "Computing node {} stopped{why}: answered {answered} job(s).",
        node.id()
    );
    Ok(Ended::Completed)
}
