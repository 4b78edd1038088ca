//! What a flood of fake SPDP participants costs a node, and how soon a real newcomer is
//! served after it (issue 11 item 3). A computing node runs in a child process; this process
//! sends it `FAKES` fake participants (default 5,000) on the domain's SPDP multicast group
//! over about one second, reads the child's CPU time from `/proc/<pid>/stat` (the idle second
//! before, the flood second, and the two seconds after), starts a main node at mid-flood and
//! another right after the flood, and times each one's first solution.
//!
//! ```sh
//! cargo build --release --example spdp_flood
//! ../shared/oracles/netns-run target/release/examples/spdp_flood [FAKES] [DOMAIN]
//! ```
//!
//! Everything goes to 127.0.0.1 and the loopback multicast group: run it inside a private
//! network namespace.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::AtomicBool;
use std::thread;
use std::time::{Duration, Instant};

use amlip::node::{ComputingNode, MainNode, NodeOptions};
use rtps::hostile::fake_spdp;
use rtps::transport::interface::{loopback_only_namespace, NOT_IN_NAMESPACE};
use rtps::transport::ports;
use rtps::wire::{GuidPrefix, Locator};

const WAIT: Duration = Duration::from_secs(30);
/// Linux's USER_HZ: the unit of utime and stime in /proc/<pid>/stat.
const TICKS_PER_SECOND: f64 = 100.0;

#[allow(clippy::disallowed_methods)]
fn clock() -> Instant {
    Instant::now()
}

/// User + system CPU seconds of process `pid`.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = after_comm.split_whitespace().collect();
    // Fields 14 and 15 of the whole line are 12 and 13 after the state field's position.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// The child: a computing node until its stdin closes.
fn node(domain: u32) -> ExitCode {
    let comp = match ComputingNode::new("FloodTarget", NodeOptions::default().with_domain(domain)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("computing node: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let worker = {
        let stop = std::sync::Arc::clone(&stop);
        thread::spawn(move || comp.run(&stop, 1, |job| job.to_ascii_uppercase()))
    };
    println!("ready");
    let _ = std::io::stdout().flush();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    stop.store(true, std::sync::atomic::Ordering::Release);
    let _ = worker.join();
    ExitCode::SUCCESS
}

/// `count` fake participants to the SPDP group of `domain`, paced over `over`.
fn flood(domain: u32, count: u32, over: Duration) -> std::io::Result<()> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    socket.set_multicast_loop_v4(true)?;
    let port = ports::spdp_multicast_port(domain).map_err(std::io::Error::other)?;
    let group = SocketAddr::from((ports::SPDP_MULTICAST_GROUP, port));
    let dead = Locator::udp_v4(Ipv4Addr::LOCALHOST, 9);
    let start = clock();
    for n in 0..count {
        let mut p = [0xfa; 12];
        p[8..].copy_from_slice(&n.to_be_bytes());
        let d = fake_spdp(GuidPrefix(p), domain, dead, Duration::from_secs(3600))
            .ok_or_else(|| std::io::Error::other("fake SPDP does not fit"))?;
        socket.send_to(&d, group)?;
        let due = over.mul_f64(f64::from(n + 1) / f64::from(count));
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            thread::sleep(wait);
        }
    }
    Ok(())
}

fn first_solution(name: &str, domain: u32) -> Result<Instant, String> {
    let main = MainNode::new(name, NodeOptions::default().with_domain(domain))
        .map_err(|e| format!("{name}: {e}"))?;
    main.request_job_solution_timeout("x", WAIT)
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(clock())
}

fn run(fakes: u32, domain: u32) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["node", &domain.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let pid = child.id();
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
    }
    let cpu = || cpu_seconds(pid).ok_or("cannot read the child's CPU time");
    thread::sleep(Duration::from_millis(500));
    let c0 = cpu()?;
    thread::sleep(Duration::from_secs(1));
    let c1 = cpu()?;
    let flood_start = clock();
    let during = thread::spawn(move || {
        thread::sleep(Duration::from_millis(500));
        first_solution("DuringFlood", domain)
    });
    flood(domain, fakes, Duration::from_secs(1)).map_err(|e| e.to_string())?;
    let flood_end = clock();
    let c2 = cpu()?;
    let after_new = clock();
    let after = first_solution("AfterFlood", domain)?;
    let during = during.join().map_err(|_| "panicked")??;
    thread::sleep(Duration::from_secs(2).saturating_sub(flood_end.elapsed()));
    let c3 = cpu()?;
    let since_end = |t: Instant| t.saturating_duration_since(flood_end).as_secs_f64() * 1e3;
    let figure = |key: &str, value: f64, unit: &str, what: &str| {
        println!("FIGURE\t{key}\t{value:.3}\t{unit}\t{what}");
    };
    figure(
        "flood_fakes",
        f64::from(fakes),
        "",
        "fake SPDP participants sent",
    );
    figure(
        "flood_seconds",
        (flood_end - flood_start).as_secs_f64(),
        "s",
        "time to send them",
    );
    figure(
        "cpu_idle",
        c1 - c0,
        "s",
        "node CPU in the idle second before",
    );
    figure("cpu_flood", c2 - c1, "s", "node CPU during the flood");
    figure(
        "cpu_after",
        (c3 - c2) / 2.0,
        "s/s",
        "node CPU per second in the 2 s after the flood (two newcomers served)",
    );
    figure(
        "during_served_after_end",
        since_end(during),
        "ms",
        "main joined mid-flood: first solution, ms after the flood ended (0: before)",
    );
    figure(
        "after_served",
        (after - after_new).as_secs_f64() * 1e3,
        "ms",
        "main started after the flood: new() to first solution",
    );
    drop(child.stdin.take());
    let _ = child.wait();
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let num = |i: usize, default: u32| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    if args.get(1).map(String::as_str) == Some("node") {
        return node(num(2, 150));
    }
    if !loopback_only_namespace() {
        eprintln!("{NOT_IN_NAMESPACE}");
        return ExitCode::FAILURE;
    }
    match run(num(1, 5_000), num(2, 150)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("spdp_flood: {e}");
            ExitCode::FAILURE
        }
    }
}
