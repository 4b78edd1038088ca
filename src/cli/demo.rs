//! `amlip demo`: one main and several computing nodes in this process, on sample jobs, with a
//! progress display and a summary.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;

use amlip::multiservice::{AmlipId, TaskId};
use amlip::node::{ComputingNode, MainNode, NodeError, NodeOptions, Solution};

use super::commands::{solution_line, upper};
use super::delay::Delay;
use super::signal::{self, Ended};

/// The CLI's clock (the node layer gets `now` from its driver).
#[allow(clippy::disallowed_methods)]
pub fn clock() -> Instant {
    Instant::now()
}

const SAMPLE_JOBS: [&str; 12] = [
    "resize holiday_photo_001.png",
    "classify: a cat sitting on a mat",
    "translate: hola mundo",
    "sum the first million primes",
    "render frame 42 of the intro",
    "tokenize: the quick brown fox",
    "detect faces in crowd.jpg",
    "train epoch 1 of tiny-mlp",
    "compress logs/2024-06-01.txt",
    "transcribe meeting_notes.wav",
    "score move e2e4",
    "summarize chapter 7",
];

/// The `i`-th sample job (cycling, numbered past the first round).
pub fn sample_job(i: usize) -> String {
    let base = SAMPLE_JOBS[i % SAMPLE_JOBS.len()];
    match i / SAMPLE_JOBS.len() {
        0 => base.to_owned(),
        round => format!("{base} #{}", round + 1),
    }
}

/// `prefix` + `suffix`, the prefix shortened so the name fits 28 bytes.
pub fn node_name(prefix: &str, suffix: &str) -> String {
    let keep = 28usize.saturating_sub(suffix.len());
    let cut = prefix.get(..keep.min(prefix.len())).unwrap_or(prefix);
    format!("{cut}{suffix}")
}

/// A text progress bar: `[#####-----]  5/10`.
pub fn progress_bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width)
        .checked_div(total)
        .unwrap_or(width)
        .min(width);
    format!(
        "[{}{}] {done:>w$}/{total} jobs",
        "#".repeat(filled),
        "-".repeat(width - filled),
        w = total.to_string().len()
    )
}

/// The closing summary.
pub fn summary(
    results: &[(String, Solution)],
    nodes: &[(AmlipId, u64)],
    wall: Duration,
    setup: Duration,
) -> String {
    let mut out = String::new();
    let n = results.len();
    let lat: Vec<f64> = results
        .iter()
        .map(|(_, s)| s.latency.as_secs_f64() * 1e3)
        .collect();
    let avg = if n == 0 {
        0.0
    } else {
        lat.iter().sum::<f64>() / n as f64
    };
    let min = lat.iter().copied().fold(f64::INFINITY, f64::min);
    let max = lat.iter().copied().fold(0.0, f64::max);
    out.push_str(&format!(
        "\nSummary\n  jobs solved      {n} by {} computing node(s)\n",
        nodes.len()
    ));
    if n > 0 {
        out.push_str(&format!(
            "  time per job     {avg:.1} ms average (min {min:.1}, max {max:.1}), mock work included\n"
        ));
    }
    out.push_str(&format!(
        "  total            {:.2} s ({:.2} s to start the nodes)\n",
        wall.as_secs_f64(),
        setup.as_secs_f64()
    ));
    if wall > setup && n > 0 {
        out.push_str(&format!(
            "  throughput       {:.1} jobs/s\n",
            n as f64 / (wall - setup).as_secs_f64()
        ));
    }
    out.push_str("  jobs per node\n");
    for (id, count) in nodes {
        out.push_str(&format!("    {id:<30} {count}\n"));
    }
    out
}

/// `amlip demo`: a stop signal ends it early with the summary of the jobs solved so far.
pub fn run(
    name: Option<&str>,
    options: NodeOptions,
    computing: u32,
    jobs: u32,
    delay: Delay,
) -> Result<Ended, NodeError> {
    let start = clock();
    let base = name.unwrap_or("Demo");
    let comps = (0..computing)
        .map(|i| ComputingNode::new(&node_name(base, &format!("Computing{i}")), options.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let main = MainNode::new(&node_name(base, "Main"), options.clone())?;
    let tty = std::io::stdout().is_terminal();
    let mut out = std::io::stdout();
    let _ = writeln!(
        out,
        "AML-IP demo on domain {} ({}): main node {} and {computing} computing node(s), \
         mock work {delay} per job",
        options.domain,
        options.interface,
        main.id()
    );
    let setup = clock().saturating_duration_since(start);
    let stop = AtomicBool::new(false);
    let rng = Mutex::new(StdRng::from_entropy());
    let total = usize::try_from(jobs).unwrap_or(0);
    // Bound the wait: every job's work on one node, plus slack for discovery.
    let per_node = delay.max.saturating_mul(jobs);
    let deadline = start + per_node + Duration::from_secs(30);
    let (results, counts) = std::thread::scope(|s| {
        let workers: Vec<_> = comps
            .iter()
            .map(|c| {
                s.spawn(|| {
                    c.run(&stop, 1, |job| {
                        let wait =
                            delay.sample(&mut *rng.lock().unwrap_or_else(|e| e.into_inner()));
                        signal::sleep(wait);
                        upper(job)
                    })
                })
            })
            .collect();
        let collected = collect(&main, total, deadline, tty);
        stop.store(true, Ordering::Release);
        let counts: Vec<(AmlipId, u64)> = comps
            .iter()
            .zip(workers)
            .map(|(c, w)| (c.id(), w.join().ok().and_then(Result::ok).unwrap_or(0)))
            .collect();
        (collected, counts)
    });
    let results = results?;
    let wall = clock().saturating_duration_since(start);
    let _ = write!(out, "{}", summary(&results, &counts, wall, setup));
    let _ = out.flush();
    if results.len() < total {
        eprintln!(
            "Demo interrupted: {} of {total} job(s) solved.",
            results.len()
        );
        return Ok(Ended::Interrupted);
    }
    Ok(Ended::Completed)
}

/// Submit the sample jobs and collect their solutions, showing progress, until all are solved
/// or a stop signal.
fn collect(
    main: &MainNode,
    total: usize,
    deadline: Instant,
    tty: bool,
) -> Result<Vec<(String, Solution)>, NodeError> {
    let rx = main.solutions();
    let mut jobs: BTreeMap<TaskId, String> = BTreeMap::new();
    for i in 0..total {
        let job = sample_job(i);
        jobs.insert(main.submit(job.clone())?, job);
    }
    let mut out = std::io::stdout();
    let mut results = Vec::with_capacity(total);
    if tty {
        let _ = write!(out, "{}", progress_bar(0, total, 30));
        let _ = out.flush();
    }
    while results.len() < total && !signal::stopping() {
        let left = deadline.saturating_duration_since(clock());
        if left.is_zero() {
            return Err(NodeError::Timeout);
        }
        let s = match rx.recv_timeout(left.min(Duration::from_millis(100))) {
            Ok(s) => s,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
            Err(_) => return Err(NodeError::Closed),
        };
        let job = jobs.remove(&s.task).unwrap_or_default();
        let line = solution_line(&job, &s);
        results.push((job, s));
        if tty {
            let _ = write!(
                out,
                "\r\x1b[K{line}\n{}",
                progress_bar(results.len(), total, 30)
            );
        } else {
            let _ = writeln!(out, "[{}/{total}] {line}", results.len());
        }
        let _ = out.flush();
    }
    if tty {
        let _ = writeln!(out);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_jobs_cycle_with_a_round_number() {
        assert_eq!(sample_job(0), "resize holiday_photo_001.png");
        assert_eq!(sample_job(12), "resize holiday_photo_001.png #2");
        assert_eq!(sample_job(25), "classify: a cat sitting on a mat #3");
    }

    #[test]
    fn node_names_are_cut_to_fit_28_bytes() {
        assert_eq!(node_name("Demo", "Main"), "DemoMain");
        let n = node_name(&"x".repeat(28), "Computing12");
        assert_eq!(n.len(), 28);
        assert!(n.ends_with("Computing12"));
    }

    #[test]
    fn the_progress_bar_fills_in_proportion() {
        assert_eq!(progress_bar(0, 4, 8), "[--------] 0/4 jobs");
        assert_eq!(progress_bar(2, 4, 8), "[####----] 2/4 jobs");
        assert_eq!(progress_bar(12, 12, 4), "[####] 12/12 jobs");
        assert_eq!(progress_bar(0, 0, 4), "[####] 0/0 jobs");
    }

    #[test]
    fn a_reissued_job_says_from_which_node_and_counts_from_its_first_submission() {
        let s = Solution {
            task: TaskId(0),
            server: AmlipId::new("C", [1, 2, 3, 4]).unwrap(),
            solution: b"X".to_vec(),
            latency: Duration::from_millis(19_000),
            failed: false,
            attempts: 1,
            reissued_from: Some(AmlipId::new("Lost", [0xab, 0, 0, 1]).unwrap()),
        };
        assert_eq!(
            solution_line("x", &s),
            "job \"x\" => \"X\" from C.01.02.03.04 in 19000.0 ms (re-issued: Lost.ab.00.00.01 was lost)"
        );
        let fresh = Solution {
            reissued_from: None,
            ..s
        };
        assert!(solution_line("x", &fresh).ends_with(" in 19000.0 ms"));
    }

    #[test]
    fn the_summary_counts_jobs_and_nodes() {
        let id = AmlipId::new("C", [1, 2, 3, 4]).unwrap();
        let s = Solution {
            task: TaskId(0),
            server: id,
            solution: b"X".to_vec(),
            latency: Duration::from_millis(10),
            failed: false,
            attempts: 1,
            reissued_from: None,
        };
        let text = summary(
            &[("x".into(), s.clone()), ("y".into(), s)],
            &[(id, 2)],
            Duration::from_secs(2),
            Duration::from_secs(1),
        );
        assert!(
            text.contains("jobs solved      2 by 1 computing node(s)"),
            "{text}"
        );
        assert!(text.contains("10.0 ms average"), "{text}");
        assert!(text.contains("2.0 jobs/s"), "{text}");
        assert!(text.contains("C.01.02.03.04"), "{text}");
    }
}
