//! The `amlip` binary end to end: usage errors everywhere; real nodes (two computing processes,
//! a main with 20 jobs, a status process) only inside a private network namespace
//! (`../shared/oracles/netns-run cargo test --test cli`).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use rtps::transport::interface::{loopback_only_namespace, NOT_IN_NAMESPACE};

const BIN: &str = env!("CARGO_BIN_EXE_amlip");

fn amlip(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run amlip")
}

/// A child process killed (by its own handle) when the test ends, even on failure.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str]) -> Guard {
    Guard(
        Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn amlip"),
    )
}

#[test]
fn usage_errors_exit_with_2_and_say_what_is_wrong() {
    let long = "n".repeat(29);
    for (args, says) in [
        (vec!["main", "--name", long.as_str()], "at most 28"),
        (
            vec!["computing", "--delay", "3..1"],
            "minimum is above the maximum",
        ),
        (vec!["--domain", "999", "status"], "999"),
        (
            vec!["--interface", "nosuchif9", "main", "x"],
            "no interface",
        ),
        (vec!["launch"], "unrecognized subcommand"),
    ] {
        let out = amlip(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let help = amlip(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("amlip computing"));
}

#[test]
fn a_main_and_two_computing_processes_solve_twenty_jobs() {
    if !loopback_only_namespace() {
        eprintln!("{NOT_IN_NAMESPACE}");
        return;
    }
    let status = spawn(&["--domain", "110", "status", "--duration", "3s"]);
    let _c1 = spawn(&["--domain", "110", "computing", "--delay", "0..0"]);
    let _c2 = spawn(&["--domain", "110", "computing", "--delay", "0..20ms"]);
    let jobs: Vec<String> = (0..20).map(|i| format!("job number {i}")).collect();
    let mut args = vec!["--domain", "110", "main"];
    args.extend(jobs.iter().map(String::as_str));
    let mut main = spawn(&args);
    let stdout = main.0.stdout.take().expect("stdout");
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .collect();
    let status_code = main.0.wait().expect("main exits");
    assert!(status_code.success(), "main failed: {lines:?}");
    assert_eq!(lines.len(), 20, "{lines:?}");
    for (i, job) in jobs.iter().enumerate() {
        let want = format!("job \"{job}\" => \"JOB NUMBER {i}\" from AMLComputingNode.");
        assert_eq!(
            lines.iter().filter(|l| l.starts_with(&want)).count(),
            1,
            "{want} in {lines:?}"
        );
    }
    // The status process (plain lines: not a tty) saw the computing nodes, which outlive it.
    let out = output_when_done(status);
    let text = String::from_utf8_lossy(&out);
    let computing: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| l.contains(" computing "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert_eq!(computing.len(), 2, "{text}");
}

#[test]
fn main_reads_jobs_from_stdin_until_an_empty_line() {
    if !loopback_only_namespace() {
        eprintln!("{NOT_IN_NAMESPACE}");
        return;
    }
    let _c = spawn(&["--domain", "111", "computing", "3", "--delay", "0"]);
    let mut main = Guard(
        Command::new(BIN)
            .args(["--domain", "111", "main"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn main"),
    );
    let mut stdin = main.0.stdin.take().expect("stdin");
    stdin.write_all(b"alpha\nbeta\n\nnot a job\n").unwrap();
    drop(stdin);
    let stdout = main.0.stdout.take().expect("stdout");
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .collect();
    assert!(main.0.wait().unwrap().success());
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines
        .iter()
        .any(|l| l.starts_with("job \"alpha\" => \"ALPHA\"")));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("job \"beta\" => \"BETA\"")));
}

#[test]
fn an_address_that_is_not_ours_is_a_runtime_error() {
    if !loopback_only_namespace() {
        eprintln!("{NOT_IN_NAMESPACE}");
        return;
    }
    let out = amlip(&["--interface", "192.0.2.1", "--domain", "112", "main", "x"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot open the DDS participant"), "{err}");
}

/// Wait (at most 20 s) for the process to end by itself; its stdout.
fn output_when_done(mut g: Guard) -> Vec<u8> {
    for _ in 0..200 {
        if let Ok(Some(_)) = g.0.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = g.0.kill();
    let mut out = Vec::new();
    if let Some(mut s) = g.0.stdout.take() {
        let _ = std::io::Read::read_to_end(&mut s, &mut out);
    }
    out
}

/// Every line of a child's pipe, through a channel (read on a thread of its own).
fn lines_of(pipe: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Lines from `rx` until one satisfies `want` (returned), at most `limit`; every line read is
/// appended to `seen`.
fn wait_line(
    rx: &std::sync::mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    limit: Duration,
    want: impl Fn(&str) -> bool,
) -> Option<String> {
    let steps = limit.as_millis() / 100;
    for _ in 0..steps {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(l) => {
                seen.push(l.clone());
                if want(&l) {
                    return Some(l);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(_) => return None,
        }
    }
    None
}

/// Send `signal` (INT, TERM) to the child with `kill`, the only portable way without libc.
fn signal(child: &Child, signal: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(ok.success(), "kill -{signal} failed");
}

/// Wait (at most 10 s) for the child to exit.
fn exit_status(g: &mut Guard) -> Option<std::process::ExitStatus> {
    for _ in 0..100 {
        if let Ok(Some(s)) = g.0.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

#[test]
fn ctrl_c_stops_a_computing_node_cleanly_and_the_status_node_sees_it_stop() {
    if !loopback_only_namespace() {
        eprintln!("{NOT_IN_NAMESPACE}");
        return;
    }
    const LIMIT: Duration = Duration::from_secs(15);
    let mut status = spawn(&["--domain", "113", "status"]);
    let status_out = lines_of(status.0.stdout.take().expect("stdout"));
    let mut comp = spawn(&["--domain", "113", "--name", "SigComp", "computing"]);
    let comp_err = lines_of(comp.0.stderr.take().expect("stderr"));
    let mut err = Vec::new();
    let started = wait_line(&comp_err, &mut err, LIMIT, |l| {
        l.starts_with("Computing node SigComp.")
    })
    .unwrap_or_else(|| panic!("computing node did not start: {err:?}"));
    let id = started
        .split(' ')
        .nth(2)
        .expect("id in the start line")
        .to_owned();
    let mut table = Vec::new();
    let running = format!("{id} computing running");
    assert!(
        wait_line(&status_out, &mut table, LIMIT, |l| l == running).is_some(),
        "{table:?}"
    );

    signal(&comp.0, "INT");
    let code = exit_status(&mut comp).expect("computing node exits after SIGINT");
    assert_eq!(code.code(), Some(0), "{err:?}");
    let stopped = wait_line(&comp_err, &mut err, LIMIT, |l| l.contains(" stopped"));
    assert!(
        stopped.is_some_and(|l| l.contains(&id) && l.contains("interrupted")),
        "{err:?}"
    );
    // The status node hears `stopped` (published, not derived from a lease), then `dropped`
    // long before the 20 s lease could expire.
    let stop_line = format!("{id} computing stopped");
    let drop_line = format!("{id} computing dropped");
    assert!(
        wait_line(&status_out, &mut table, LIMIT, |l| l == stop_line).is_some(),
        "{table:?}"
    );
    assert!(
        wait_line(&status_out, &mut table, LIMIT, |l| l == drop_line).is_some(),
        "{table:?}"
    );

    // SIGTERM stops the status node the same way.
    signal(&status.0, "TERM");
    let code = exit_status(&mut status).expect("status node exits after SIGTERM");
    assert_eq!(code.code(), Some(0));
}

/// Lines from `rx` until the channel closes (the process exited) or `limit` passes.
fn rest_of(rx: &std::sync::mpsc::Receiver<String>, seen: &mut Vec<String>, limit: Duration) {
    let _ = wait_line(rx, seen, limit, |_| false);
}

/// Each of `jobs` answered exactly once (upper-cased) in `lines`.
fn assert_each_once(jobs: &[String], lines: &[String]) {
    assert_eq!(lines.len(), jobs.len(), "{lines:?}");
    for job in jobs {
        let want = format!("job \"{job}\" => \"{}\" from ", job.to_uppercase());
        assert_eq!(
            lines.iter().filter(|l| l.starts_with(&want)).count(),
            1,
            "{want} in {lines:?}"
        );
    }
}

/// `computing` computing processes (300 ms a job) and a main with `jobs` jobs on `domain`, all
/// with a 2 s lease; after the first solution, the main (`pause_main`) or else the first
/// computing process is SIGSTOPped for 4 s, then resumed. The main must finish with each job
/// solved once; its lines are returned.
fn pause_past_the_lease(
    domain: &str,
    computing: usize,
    jobs: &[String],
    pause_main: bool,
) -> Vec<String> {
    let common = ["--domain", domain, "--lease", "2s"];
    let comps: Vec<Guard> = (0..computing)
        .map(|_| {
            let mut args = common.to_vec();
            args.extend(["computing", "--delay", "300ms"]);
            spawn(&args)
        })
        .collect();
    let mut args = common.to_vec();
    args.push("main");
    args.extend(jobs.iter().map(String::as_str));
    let mut main = spawn(&args);
    let out = lines_of(main.0.stdout.take().expect("stdout"));
    let mut lines = Vec::new();
    assert!(
        wait_line(&out, &mut lines, Duration::from_secs(20), |_| true).is_some(),
        "no first solution"
    );
    let paused = if pause_main { &main.0 } else { &comps[0].0 };
    signal(paused, "STOP");
    std::thread::sleep(Duration::from_secs(4));
    signal(paused, "CONT");
    rest_of(&out, &mut lines, Duration::from_secs(30));
    let code = exit_status(&mut main).expect("main exits");
    assert!(code.success(), "{lines:?}");
    assert_each_once(jobs, &lines);
    lines
}

/// The only computing process, SIGSTOPped past its 2 s lease while it works, then resumed:
/// the main re-issued its job, uses it again when it reappears, and finishes; the re-issued
/// job's line says so.
#[test]
fn a_computing_process_paused_past_its_lease_is_used_again_when_it_resumes() {
    if !loopback_only_namespace() {
        eprintln!("{NOT_IN_NAMESPACE}");
        return;
    }
    let jobs: Vec<String> = (0..6).map(|i| format!("paused job {i}")).collect();
    let lines = pause_past_the_lease("114", 1, &jobs, false);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" (re-issued: AMLComputingNode.") && l.ends_with(" was lost)")),
        "{lines:?}"
    );
}

/// A main process SIGSTOPped past its 2 s lease while its jobs are in flight, then resumed:
/// it finishes, each job solved once.
#[test]
fn a_main_process_paused_past_its_lease_finishes_when_it_resumes() {
    if !loopback_only_namespace() {
        eprintln!("{NOT_IN_NAMESPACE}");
        return;
    }
    let jobs: Vec<String> = (0..10).map(|i| format!("main job {i}")).collect();
    pause_past_the_lease("115", 2, &jobs, true);
}

/// A main SIGKILLed mid-job: the computing node frees itself from the dead main's handshake
/// after its reply timeout (2 s) and serves a new main long before the dead main's 20 s lease
/// expires (AML-IP: the whole lease).
#[test]
#[allow(clippy::disallowed_methods)] // the test measures wall-clock time
fn a_new_main_is_served_soon_after_the_previous_one_is_killed_mid_job() {
    if !loopback_only_namespace() {
        eprintln!("{NOT_IN_NAMESPACE}");
        return;
    }
    let _c = spawn(&["--domain", "116", "computing", "--delay", "200ms"]);
    let jobs: Vec<String> = (0..30).map(|i| format!("doomed {i}")).collect();
    let mut args = vec!["--domain", "116", "main"];
    args.extend(jobs.iter().map(String::as_str));
    let mut first = spawn(&args);
    let out = lines_of(first.0.stdout.take().expect("stdout"));
    let mut lines = Vec::new();
    assert!(
        wait_line(&out, &mut lines, Duration::from_secs(20), |_| true).is_some(),
        "no first solution"
    );
    let _ = first.0.kill();
    let _ = first.0.wait();
    let start = std::time::Instant::now();
    let next = spawn(&["--domain", "116", "main", "served"]);
    let out = output_when_done(next);
    let waited = start.elapsed();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("job \"served\" => \"SERVED\""), "{text}");
    assert!(
        waited < Duration::from_secs(10),
        "the new main waited {waited:?} (the dead main's lease is 20 s)"
    );
}
