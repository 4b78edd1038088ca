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
