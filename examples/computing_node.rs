//! A computing node with a real engine: it counts the words of each job (UTF-8 text) and
//! answers `"<words> words, <lines> lines, <bytes> bytes"`. The engine is fallible: a job with
//! no words (or not UTF-8) fails with a reason, and the main node offers it again (to another
//! computing node if there is one), then reports it failed.
//!
//! ```sh
//! ../shared/oracles/netns-run cargo run --example computing_node -- [--domain N] [--jobs N] [--seconds S]
//! ```
//!
//! It answers jobs (two at a time) until `--jobs` have been answered, failed attempts included
//! (default: no limit), or `--seconds` have passed (default 60), then leaves. Pair it with
//! `examples/main_node.rs`. It opens sockets on loopback: run it inside a private network
//! namespace, or on a machine where that is fine.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use amlip::node::{ComputingNode, NodeError, NodeOptions};

/// The engine: a word count, failing on a job with nothing to count.
fn word_count(job: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(job).map_err(|e| format!("the job is not UTF-8 text: {e}"))?;
    let words = text.split_whitespace().count();
    if words == 0 {
        return Err("nothing to count: the job has no words".to_owned());
    }
    let lines = text.lines().count();
    Ok(format!("{words} words, {lines} lines, {} bytes", job.len()).into_bytes())
}

struct Args {
    domain: Option<u32>,
    jobs: Option<u64>,
    seconds: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        domain: None,
        jobs: None,
        seconds: 60,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let n: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: not a number: {value:?}"))?;
        match flag.as_str() {
            "--domain" => args.domain = Some(u32::try_from(n).map_err(|_| "--domain: too big")?),
            "--jobs" => args.jobs = Some(n),
            "--seconds" => args.seconds = n,
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    Ok(args)
}

fn run(args: &Args) -> Result<u64, NodeError> {
    let mut options = NodeOptions::default();
    if let Some(domain) = args.domain {
        options = options.domain(domain);
    }
    let node = ComputingNode::new("ExampleComputing", options)?;
    println!("computing node {} ready", node.id());
    // Bounded run time: a timer sets `stop`; `try_run_jobs` returns soon after.
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        let seconds = args.seconds;
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(seconds));
            stop.store(true, Ordering::Release);
        });
    }
    node.try_run_jobs(&stop, 2, args.jobs, |task, job| {
        let answer = word_count(job);
        match &answer {
            Ok(a) => println!(
                "task {} of {}: {}",
                task.task_id,
                task.client_id,
                String::from_utf8_lossy(a)
            ),
            Err(reason) => println!(
                "task {} of {} failed: {reason}",
                task.task_id, task.client_id
            ),
        }
        answer
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "computing_node: {e}\nusage: computing_node [--domain N] [--jobs N] [--seconds S]"
            );
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(n) => {
            println!("answered {n} job(s)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("computing_node: error: {}", rtps::dds::error_chain(&e));
            ExitCode::FAILURE
        }
    }
}
