//! `amlip main` and `amlip computing`.

use std::collections::BTreeMap;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;

use amlip::multiservice::TaskId;
use amlip::node::{ComputingNode, MainNode, NodeError, NodeOptions, Solution};

use super::delay::Delay;
use super::demo::clock;
use super::exec;
use super::jobs::{self, Job, Jobs};
use super::json;
use super::signal::{self, Ended};
use super::stats;

/// How long without a solution before saying we are waiting for computing nodes.
const PATIENCE: Duration = Duration::from_secs(1);

/// Bytes shown in human output: control characters and bytes that are not UTF-8 escaped
/// (see [`json::escape`]).
pub fn text(b: &[u8]) -> String {
    json::escape(b)
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
    SolutionLine(job, s).to_string()
}

/// [`solution_line`], written out without building it (nor an escaped copy of the solution)
/// first.
struct SolutionLine<'a>(&'a str, &'a Solution);

impl std::fmt::Display for SolutionLine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let SolutionLine(job, s) = *self;
        let solution = json::Escaped(&s.solution);
        if s.failed {
            write!(
                f,
                "job \"{job}\" FAILED after {} attempt(s), last on {}: {solution}",
                s.attempts, s.server
            )?;
        } else {
            write!(
                f,
                "job \"{job}\" => \"{solution}\" from {} in {:.1} ms",
                s.server,
                s.latency.as_secs_f64() * 1e3
            )?;
        }
        if let Some(lost) = s.reissued_from {
            write!(f, " (re-issued: {lost} was lost)")?;
        }
        Ok(())
    }
}

/// What `amlip main` remembers of a submitted job until its solution is printed.
#[derive(Debug)]
struct Entry {
    /// Position among the jobs, from 0.
    index: usize,
    /// The job as human output shows it (escaped, cut at [`SHOWN_MAX`] bytes).
    shown: String,
    /// Its file (`--files`).
    file: Option<PathBuf>,
}

/// Longest job text repeated in human output.
const SHOWN_MAX: usize = 1024;

/// `b` as [`text`], cut after [`SHOWN_MAX`] bytes (`...` then says so).
fn shown(b: &[u8]) -> String {
    let cut = &b[..b.len().min(SHOWN_MAX)];
    let mut s = text(cut);
    if cut.len() < b.len() {
        s.push_str("...");
    }
    s
}

impl Entry {
    fn new(index: usize, job: &Job) -> Self {
        Entry {
            index,
            shown: shown(&job.bytes),
            file: job.file.clone(),
        }
    }
}

/// Submitted jobs whose solution has not been printed yet.
type Pending = Arc<Mutex<BTreeMap<TaskId, Entry>>>;

fn pending_len(p: &Pending) -> usize {
    p.lock().unwrap_or_else(|e| e.into_inner()).len()
}

/// How often the commands look at the stop flag.
const TICK: Duration = Duration::from_millis(50);

/// How `amlip main` reports solutions.
#[derive(Debug, Clone, Default)]
pub struct MainOutput {
    /// One JSON object per solution, and a summary object (`--json`).
    pub json: bool,
    /// Attempts per job before it is reported failed (`--attempts`).
    pub attempts: u32,
    /// Print the node's counters on stderr at exit (`--stats`).
    pub stats: bool,
}

/// Solutions printed so far, and the progress line.
struct Report {
    json: bool,
    /// Jobs to expect, when known in advance.
    total: Option<usize>,
    solved: usize,
    failed: usize,
    start: Instant,
    progress: Option<Progress>,
    /// Solutions go to the terminal the progress line is on: clear it first.
    stdout_tty: bool,
    /// Solution lines not written yet: they go out when no other solution is waiting
    /// ([`Report::flush`]), one write for a burst of them rather than one per line.
    out: io::BufWriter<io::Stdout>,
}

/// The progress line on stderr (only when stderr is a terminal).
struct Progress {
    last: Instant,
    shown: bool,
}

/// When the progress line first appears, and how often it changes.
const PROGRESS_AFTER: Duration = Duration::from_secs(1);
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// `k/N jobs, R jobs/s, ETA S s` (N and the ETA when the total is known).
pub fn progress_line(done: usize, total: Option<usize>, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    match total {
        Some(n) => {
            let eta = if rate > 0.0 {
                format!("{:.0} s", n.saturating_sub(done) as f64 / rate)
            } else {
                "?".to_owned()
            };
            format!("{done}/{n} jobs, {rate:.1} jobs/s, ETA {eta}")
        }
        None => format!("{done} jobs, {rate:.1} jobs/s"),
    }
}

impl Report {
    fn new(json: bool, total: Option<usize>) -> Self {
        let progress = std::io::stderr().is_terminal().then(|| Progress {
            last: clock(),
            shown: false,
        });
        Report {
            json,
            total,
            solved: 0,
            failed: 0,
            start: clock(),
            progress,
            stdout_tty: std::io::stdout().is_terminal(),
            out: io::BufWriter::with_capacity(64 * 1024, io::stdout()),
        }
    }

    /// Write out the solution lines printed so far.
    fn flush(&mut self) {
        let _ = self.out.flush();
    }

    fn clear_progress(&mut self) {
        if let Some(p) = self.progress.as_mut() {
            if p.shown {
                eprint!("\r\x1b[K");
                p.shown = false;
            }
        }
    }

    fn tick(&mut self) {
        let now = clock();
        let elapsed = now.saturating_duration_since(self.start);
        let done = self.solved + self.failed;
        let total = self.total;
        let Some(p) = self.progress.as_mut() else {
            return;
        };
        if elapsed < PROGRESS_AFTER || now.saturating_duration_since(p.last) < PROGRESS_EVERY {
            return;
        }
        p.last = now;
        p.shown = true;
        eprint!("\r\x1b[K{}", progress_line(done, total, elapsed));
    }

    fn solution(&mut self, e: &Entry, s: &Solution) {
        if s.failed {
            self.failed += 1;
        } else {
            self.solved += 1;
        }
        if let (Some(f), false) = (&e.file, s.failed) {
            let path = jobs::solution_path(f);
            if let Err(err) = std::fs::write(&path, &s.solution) {
                eprintln!("amlip: cannot write {}: {err}", path.display());
            }
        }
        if self.stdout_tty {
            self.clear_progress();
        }
        if !self.json {
            let _ = writeln!(self.out, "{}", SolutionLine(&e.shown, s));
            return;
        }
        let line = {
            let mut o = json::Object::new()
                .str("type", "solution")
                .int("index", e.index as u64)
                .int("task", u64::from(s.task.0))
                .str("server", &s.server.to_string())
                .num("latency_ms", s.latency.as_secs_f64() * 1e3)
                .str("status", if s.failed { "failed" } else { "solved" })
                .int("attempts", u64::from(s.attempts));
            if let Some(f) = &e.file {
                o = o.str("file", &f.to_string_lossy());
            }
            o.bytes("solution", &s.solution).finish()
        };
        let _ = writeln!(self.out, "{line}");
    }

    fn summary(&mut self, submitted: usize, unsolved: usize) {
        self.flush();
        self.clear_progress();
        let elapsed = clock().saturating_duration_since(self.start).as_secs_f64();
        let done = self.solved + self.failed;
        let rate = if elapsed > 0.0 {
            done as f64 / elapsed
        } else {
            0.0
        };
        if self.json {
            let o = json::Object::new()
                .str("type", "summary")
                .int("jobs", submitted as u64)
                .int("solved", self.solved as u64)
                .int("failed", self.failed as u64)
                .int("unsolved", unsolved as u64)
                .num("seconds", elapsed)
                .num("jobs_per_s", rate)
                .finish();
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{o}");
            let _ = out.flush();
        }
        if self.failed > 0 {
            eprintln!("amlip: {} of {submitted} job(s) failed", self.failed);
        }
    }
}

/// Print solutions until `all_sent` is set and nothing is pending, or a stop signal.
fn print_solutions(
    node: &MainNode,
    rx: &Receiver<Solution>,
    pending: &Pending,
    all_sent: &AtomicBool,
    report: &mut Report,
) -> Result<Ended, NodeError> {
    let mut said_waiting = false;
    let mut idle = Duration::ZERO;
    // A solution taken without waiting (one was ready when the previous was printed).
    let mut ready: Option<Solution> = None;
    loop {
        if ready.is_none() {
            // Nothing else to print right now: let the lines out.
            report.flush();
        }
        if all_sent.load(Ordering::Acquire) && pending_len(pending) == 0 {
            return Ok(Ended::Completed);
        }
        if signal::stopping() {
            report.flush();
            let left = pending_len(pending);
            report.clear_progress();
            eprintln!(
                "Main node {} stopped: {left} job(s) not solved (cancelled).",
                node.id()
            );
            return Ok(Ended::Interrupted);
        }
        report.tick();
        let next = match ready.take() {
            Some(s) => Ok(s),
            None => rx.recv_timeout(TICK),
        };
        match next {
            Ok(s) => {
                idle = Duration::ZERO;
                let entry = pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&s.task);
                let entry = entry.unwrap_or(Entry {
                    index: usize::MAX,
                    shown: String::new(),
                    file: None,
                });
                report.solution(&entry, &s);
                ready = rx.try_recv().ok();
            }
            Err(RecvTimeoutError::Timeout) => {
                idle = idle.saturating_add(TICK);
                if !said_waiting
                    && idle >= PATIENCE
                    && pending_len(pending) > 0
                    && node.computing_nodes() == 0
                {
                    report.clear_progress();
                    eprintln!(
                        "No computing node found yet; waiting (start one with `amlip \
                         computing`; on other hosts check --interface, and use --peer ADDR \
                         where multicast does not pass)..."
                    );
                    said_waiting = true;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Err(NodeError::Closed),
        }
    }
}

/// One line of stdin: a job, or why the input ended early.
type Line = Result<Job, String>;

/// The next line of `input` without its `\n` or `\r\n` (bytes as they are: jobs are bytes on
/// the wire); `None` at the end of input; an error for a read error or a line over
/// `max_job_size` bytes (never read into memory past that).
fn read_job(input: &mut impl BufRead, max_job_size: usize) -> Option<Result<Vec<u8>, String>> {
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
                let line = line.map(|bytes| Job { bytes, file: None });
                let failed = line.is_err();
                if matches!(&line, Ok(job) if job.bytes.is_empty())
                    || tx.send(line).is_err()
                    || failed
                {
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        let _ = on_error.send(Err(format!("cannot read stdin: {e}")));
    }
    rx
}

/// `amlip main`: the jobs of `source` (known in advance, with their count), or else one per
/// stdin line. Interrupted, it cancels the jobs not solved yet; with failed jobs it ends
/// [`Ended::JobsFailed`].
pub fn main(
    name: String,
    options: NodeOptions,
    source: Option<Jobs>,
    output: &MainOutput,
) -> Result<Ended, NodeError> {
    let node = MainNode::new(&name, options.clone())?;
    node.set_max_attempts(output.attempts)?;
    eprintln!(
        "Main node {} on domain {} ({})",
        node.id(),
        options.domain,
        options.interface
    );
    let rx = node.solutions();
    let pending: Pending = Arc::new(Mutex::new(BTreeMap::new()));
    let all_sent = AtomicBool::new(false);
    let mut submitted = 0usize;
    let mut unreadable = 0usize;
    let mut input_error: Option<String> = None;
    let mut submit = |job: io::Result<Job>| -> Result<(), NodeError> {
        let job = match job {
            Ok(j) => j,
            Err(e) => {
                eprintln!("amlip: job {submitted} not sent: {e}");
                unreadable += 1;
                submitted += 1;
                return Ok(());
            }
        };
        let entry = Entry::new(submitted, &job);
        submitted += 1;
        // Hold the map while submitting so a fast solution finds its job.
        let mut p = pending.lock().unwrap_or_else(|e| e.into_inner());
        let t = node.submit(job.bytes)?;
        p.insert(t, entry);
        Ok(())
    };
    let (mut report, ended) = if let Some((total, jobs)) = source {
        let mut report = Report::new(output.json, Some(total));
        let mut result = Ok(());
        for j in jobs {
            if signal::stopping() {
                break;
            }
            if let Err(e) = submit(j) {
                result = Err(e);
                break;
            }
        }
        result?;
        all_sent.store(true, Ordering::Release);
        let ended = print_solutions(&node, &rx, &pending, &all_sent, &mut report)?;
        (report, ended)
    } else {
        eprintln!("Type one job per line; an empty line or end of input finishes.");
        let lines = stdin_jobs(options.max_job_size);
        let mut report = Report::new(output.json, None);
        let ended = std::thread::scope(|s| {
            let (n, p, a, r) = (&node, &pending, &all_sent, &mut report);
            let printer = s.spawn(move || print_solutions(n, &rx, p, a, r));
            let mut result = Ok(());
            while !signal::stopping() {
                match lines.recv_timeout(TICK) {
                    Ok(Ok(job)) => {
                        if let Err(e) = submit(Ok(job)) {
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
            result.and(printed)
        })?;
        (report, ended)
    };
    let unsolved = pending_len(&pending) + unreadable;
    report.summary(submitted, unsolved);
    if output.stats {
        stats::print_at_exit(&node.stats());
    }
    if let Some(e) = input_error {
        // The jobs read before it were solved (or the node was interrupted) first.
        eprintln!("amlip: error: {e}");
        if matches!(ended, Ended::Completed | Ended::JobsFailed) {
            return Ok(Ended::Failed);
        }
    }
    match ended {
        Ended::Completed if report.failed > 0 || unreadable > 0 => Ok(Ended::JobsFailed),
        e => Ok(e),
    }
}

/// `amlip computing [N]`: uppercase each job after a random `delay`, or run `exec` (a
/// command line, and a time limit per job) for it (see [`super::exec`]). A stop signal ends it cleanly (exit status 0): the jobs already won
/// are answered at once (the mock wait is cut short; a command runs to its end), then
/// `stopped` and `dropped` are published.
pub fn computing(
    name: String,
    options: NodeOptions,
    count: Option<u64>,
    delay: Delay,
    concurrency: u32,
    exec: Option<(&[String], Option<Duration>)>,
    stats: bool,
) -> Result<Ended, NodeError> {
    let node = ComputingNode::new(&name, options.clone())?;
    let until = match count {
        Some(1) => "1 job".to_owned(),
        Some(n) => format!("{n} jobs"),
        None => "jobs until interrupted (Ctrl-C)".to_owned(),
    };
    let engine = match exec {
        Some((argv, _)) => format!("running {argv:?} per job"),
        None => format!("mock work {delay} per job"),
    };
    eprintln!(
        "Computing node {} on domain {} ({}): answering {until}, {engine}",
        node.id(),
        options.domain,
        options.interface
    );
    let rng = Mutex::new(StdRng::from_entropy());
    let answered = node.try_run_jobs(
        signal::stop_flag(),
        usize::try_from(concurrency).unwrap_or(1),
        count,
        |key, job| {
            let solution = match exec {
                Some((argv, job_timeout)) => exec::run(argv, key, job, job_timeout),
                None => {
                    let wait = delay.sample(&mut *rng.lock().unwrap_or_else(|e| e.into_inner()));
                    signal::sleep(wait);
                    Ok(upper(job))
                }
            };
            let mut out = std::io::stdout().lock();
            let _ = match &solution {
                Ok(s) => writeln!(out, "job \"{}\" => \"{}\"", shown(job), shown(s)),
                Err(e) => writeln!(
                    out,
                    "job \"{}\" FAILED ({}): {e}",
                    shown(job),
                    exec::job_label(key)
                ),
            };
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
    if stats {
        stats::print_at_exit(&node.stats());
    }
    Ok(Ended::Completed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(input: &[u8], max: usize) -> Vec<Result<Vec<u8>, String>> {
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
