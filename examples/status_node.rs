//! A status node: prints each node of the domain as it appears and each change of its state
//! (`running`, `stopped`, `dropped`, ...), for a bounded time.
//!
//! ```sh
//! ../shared/oracles/netns-run cargo run --example status_node -- [--domain N] [SECONDS]
//! ```
//!
//! It runs for SECONDS (default 10), then prints how many nodes it saw and leaves. A node that
//! crashes is reported `dropped` once its lease expires (20 s by default). It opens sockets on
//! loopback: run it inside a private network namespace, or on a machine where that is fine.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use amlip::multiservice::{AmlipId, NodeKind, StateKind};
use amlip::node::{NodeError, NodeOptions, StatusNode};

fn parse_args() -> Result<(Option<u32>, u64), String> {
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
    let seconds = match args.as_slice() {
        [] => 10,
        [s] => s
            .parse()
            .map_err(|_| format!("not a number of seconds: {s:?}"))?,
        _ => return Err("too many arguments".to_owned()),
    };
    Ok((domain, seconds))
}

/// Prints status changes for `seconds`; returns the nodes seen.
fn run(domain: Option<u32>, seconds: u64) -> Result<usize, NodeError> {
    let mut options = NodeOptions::default();
    if let Some(domain) = domain {
        options = options.domain(domain);
    }
    let node = StatusNode::new("ExampleStatus", options)?;
    println!("status node {} listening for {seconds} s", node.id());
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(seconds));
            stop.store(true, Ordering::Release);
        });
    }
    let mut seen: BTreeMap<AmlipId, (NodeKind, StateKind)> = BTreeMap::new();
    while !stop.load(Ordering::Acquire) {
        let s = match node.recv_timeout(Duration::from_millis(200)) {
            Ok(s) => s,
            Err(NodeError::Timeout) => continue,
            Err(e) => return Err(e),
        };
        // Nodes republish their status; print only what changed.
        if seen.insert(s.id, (s.node_kind, s.state)) != Some((s.node_kind, s.state)) {
            println!("{} {} {}", s.id, s.node_kind, s.state);
        }
    }
    Ok(seen.len())
}

fn main() -> ExitCode {
    let (domain, seconds) = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("status_node: {e}\nusage: status_node [--domain N] [SECONDS]");
            return ExitCode::FAILURE;
        }
    };
    match run(domain, seconds) {
        Ok(n) => {
            println!("saw {n} node(s)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("status_node: error: {}", rtps::dds::error_chain(&e));
            ExitCode::FAILURE
        }
    }
}
