//! A main node: sends each job given on the command line to a computing node, one after the
//! other, and prints its solution and who solved it.
//!
//! ```sh
//! ../shared/oracles/netns-run cargo run --example main_node -- [--domain N] JOB...
//! ```
//!
//! With `examples/computing_node.rs` running: `main_node "hello world" "one two three"`
//! prints `job "hello world" => "2 words, 1 lines, 11 bytes" from ExampleComputing.xx.xx.xx.xx`.
//! A job the engine fails (`main_node " "`) is tried up to 3 times, then reported failed.
//! Exit status: 0 when every job was solved, 2 when some failed, 1 on an error or when no
//! solution came within 30 s (no computing node?). It opens sockets on loopback: run it inside
//! a private network namespace, or on a machine where that is fine.

use std::process::ExitCode;
use std::time::Duration;

use amlip::node::{MainNode, NodeError, NodeOptions};

/// How long a job may wait for its solution (a computing node included).
const JOB_TIMEOUT: Duration = Duration::from_secs(30);

fn parse_args() -> Result<(Option<u32>, Vec<String>), String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut domain = None;
    if args.first().map(String::as_str) == Some("--domain") {
        let value = args.get(1).ok_or("--domain needs a value")?;
        domain = Some(
            value
                .parse()
                .map_err(|_| format!("--domain: not a number: {value:?}"))?,
        );
        args.drain(..2);
    }
    if args.is_empty() {
        return Err("no job given".to_owned());
    }
    Ok((domain, args))
}

/// Sends the jobs; `Ok(false)` when some failed.
fn run(domain: Option<u32>, jobs: &[String]) -> Result<bool, NodeError> {
    let mut options = NodeOptions::default();
    if let Some(domain) = domain {
        options = options.domain(domain);
    }
    let node = MainNode::new("ExampleMain", options)?;
    println!("main node {} sending {} job(s)", node.id(), jobs.len());
    let mut all_solved = true;
    for job in jobs {
        match node.request_job_solution_timeout(job.as_str(), JOB_TIMEOUT) {
            Ok((solution, server)) => println!(
                "job {job:?} => {:?} from {server}",
                String::from_utf8_lossy(&solution)
            ),
            Err(NodeError::JobFailed {
                attempts, reason, ..
            }) => {
                println!("job {job:?} failed after {attempts} attempt(s): {reason}");
                all_solved = false;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(all_solved)
}

fn main() -> ExitCode {
    let (domain, jobs) = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("main_node: {e}\nusage: main_node [--domain N] JOB...");
            return ExitCode::FAILURE;
        }
    };
    match run(domain, &jobs) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(NodeError::Timeout) => {
            eprintln!(
                "main_node: no solution within {JOB_TIMEOUT:?}: is a computing node running?"
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("main_node: error: {}", rtps::dds::error_chain(&e));
            ExitCode::FAILURE
        }
    }
}
