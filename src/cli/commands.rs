//! `amlip main` and `amlip computing`.

use std::borrow::Cow;
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

/// Bytes shown as text (lossy UTF-8; borrowed, not copied, when they are UTF-8: a job may be
/// 100 MB).
pub fn text(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// The mock engine's answer: the job in upper case (UTF-8 text, else ASCII bytes).
pub fn upper(job: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(job) {
        Ok(t) => t.to_uppercase().into_bytes(),
        Err(_) => job.to_ascii_uppercase(),
    }
}

/// The line printed for a solution.
pub fn solution_line(job: &str, s: &Solution) -> String {
    SolutionLine(job, s).to_string()
}

/// [`solution_line`], written out without building it first.
struct SolutionLine<'a>(&'a str, &'a Solution);

impl std::fmt::Display for SolutionLine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let SolutionLine(job, s) = self;
        write!(
            f,
            "job \"{job}\" => \"{}\" from {} in {:.1} ms",
            text(&s.solution),
            s.server,
            s.latency.as_secs_f64() * 1e3
        )
    }
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
                let _ = writeln!(out, "{}", SolutionLine(&job, &s));
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

/// One line of stdin: a job's bytes, or why the input ended early.
type Line = Result<Vec<u8>, String>;

/// The next line of `input` without its `\n` or `\r\n` (bytes as they are: jobs are bytes on
/// the wire); `None` at the end of input; an error for a read error or a line over
/// `max_job_size` bytes (never read into memory past that).
fn read_job(input: &mut impl BufRead, max_job_size: usize) -> Option<Line> {
    let limit = u64::try_from(max_job_size.saturating_add(2)).unwrap_or(u64::MAX);
    let mut line = Vec::new();
    loop {
        match std::io::Read::take(&mut *input, limit).read_until(b'\n', &mut line) {
            Ok(0) if line.is_empty() => return None,
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Some(Err(format!("cannot read stdin: {e}"))),
        }
    }
    let ended = line.last() == Some(&b'\n');
    if ended {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    if line.len() > max_job_size || (!ended && line.len() as u64 >= limit) {
        return Some(Err(format!(
            "a line of stdin is over the maximum job size of {max_job_size} bytes \
             (--max-job-size)"
        )));
    }
    Some(Ok(line))
}

/// Lines of stdin until an empty line, the end of input or an error (sent last), from a
/// thread of their own (a blocking read cannot be interrupted; the thread ends with the
/// process).
fn stdin_jobs(max_job_size: usize) -> Receiver<Line> {
    let (tx, rx) = mpsc::channel();
    let on_error = tx.clone();
    let spawned = std::thread::Builder::new()
        .name("amlip-stdin".into())
        .spawn(move || {
            let mut input = std::io::stdin().lock();
            while let Some(line) = read_job(&mut input, max_job_size) {
                let failed = line.is_err();
                if matches!(&line, Ok(job) if job.is_empty()) || tx.send(line).is_err() || failed {
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        let _ = on_error.send(Err(format!("cannot read stdin: {e}")));
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
    let submit = |job: Vec<u8>| -> Result<(), NodeError> {
        // Hold the map while submitting so a fast solution finds its job.
        let mut p = pending.lock().unwrap_or_else(|e| e.into_inner());
        let shown = text(&job).into_owned();
        let t = node.submit(job)?;
        p.insert(t, shown);
        Ok(())
    };
    if !jobs.is_empty() {
        for j in jobs {
            submit(j.clone().into_bytes())?;
        }
        all_sent.store(true, Ordering::Release);
        return print_solutions(&node, &rx, &pending, &all_sent);
    }
    eprintln!("Type one job per line; an empty line or end of input finishes.");
    let lines = stdin_jobs(options.max_job_size);
    std::thread::scope(|s| {
        let (n, p, a) = (&node, &pending, &all_sent);
        let printer = s.spawn(move || print_solutions(n, &rx, p, a));
        let mut result = Ok(());
        let mut input_error = None;
        while !signal::stopping() {
            match lines.recv_timeout(TICK) {
                Ok(Ok(job)) => {
                    if let Err(e) = submit(job) {
                        result = Err(e);
                        break;
                    }
                }
                Ok(Err(e)) => {
                    input_error = Some(e);
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        all_sent.store(true, Ordering::Release);
        let printed = printer.join().unwrap_or(Err(NodeError::Closed));
        let ended = result.and(printed)?;
        match input_error {
            // The jobs read before it were solved (or the node was interrupted) first.
            Some(e) if ended == Ended::Completed => {
                eprintln!("amlip: error: {e}");
                Ok(Ended::Failed)
            }
            _ => Ok(ended),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(input: &[u8], max: usize) -> Vec<Line> {
        let mut r = input;
        std::iter::from_fn(|| read_job(&mut r, max)).collect()
    }

    #[test]
    fn stdin_lines_are_bytes_without_their_line_end() {
        let got = jobs(b"a\r\n\xff\xfe b\nlast", 100);
        assert_eq!(
            got,
            vec![
                Ok(b"a".to_vec()),
                Ok(b"\xff\xfe b".to_vec()),
                Ok(b"last".to_vec())
            ]
        );
        assert_eq!(jobs(b"\n", 100), vec![Ok(Vec::new())]);
        assert!(jobs(b"", 100).is_empty());
    }

    #[test]
    fn a_stdin_line_over_the_maximum_job_size_is_an_error() {
        assert_eq!(jobs(b"1234\r\n", 4), vec![Ok(b"1234".to_vec())]);
        for input in [&b"12345\n"[..], b"1234567890\nx\n", b"12345"] {
            let first = jobs(input, 4).into_iter().next();
            assert!(
                matches!(&first, Some(Err(e)) if e.contains("maximum job size of 4 bytes")),
                "{input:?}: {first:?}"
            );
        }
    }
}
