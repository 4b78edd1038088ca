//! The `amlip` binary end to end: usage errors everywhere; real nodes (two computing processes,
//! a main with 20 jobs, a status process) only inside a private network namespace
//! (`../shared/oracles/netns-run cargo test --test cli -- --include-ignored`).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use rtps::transport::interface::require_private_namespace;

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

/// `amlip ARGS` (a main) reading `input` on its stdin, which is then closed; stdout and
/// stderr piped.
fn main_reading(args: &[&str], input: &[u8]) -> Guard {
    let mut main = Guard(
        Command::new(BIN)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn main"),
    );
    let mut stdin = main.0.stdin.take().expect("stdin");
    stdin.write_all(input).unwrap();
    drop(stdin);
    main
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
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_main_and_two_computing_processes_solve_twenty_jobs() {
    require_private_namespace();
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
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn main_reads_jobs_from_stdin_until_an_empty_line() {
    require_private_namespace();
    let _c = spawn(&["--domain", "111", "computing", "3", "--delay", "0"]);
    let mut main = main_reading(&["--domain", "111", "main"], b"alpha\nbeta\n\nnot a job\n");
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
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_non_utf8_stdin_line_is_a_job_like_any_other() {
    require_private_namespace();
    let _c = spawn(&["--domain", "113", "computing", "3", "--delay", "0"]);
    let mut main = main_reading(
        &["--domain", "113", "main"],
        b"first\n\xff\xfe bytes\r\nthird\n",
    );
    let stdout = main.0.stdout.take().expect("stdout");
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .collect();
    assert!(main.0.wait().unwrap().success(), "{lines:?}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    for expected in [
        "job \"first\" => \"FIRST\"",
        // Human output escapes bytes that are not UTF-8 (issue 13).
        "job \"\\xff\\xfe bytes\" => \"\\xff\\xfe BYTES\"",
        "job \"third\" => \"THIRD\"",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(expected)),
            "{expected}: {lines:?}"
        );
    }
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_job_over_the_maximum_job_size_is_refused_with_an_error() {
    require_private_namespace();
    let out = amlip(&["--domain", "114", "--max-job-size", "4", "main", "12345"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("maximum job size of 4 bytes"), "{err}");
    let mut main = main_reading(
        &["--domain", "114", "--max-job-size", "4", "main"],
        b"12345\n",
    );
    let out = main.0.stderr.take().map(|mut e| {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut e, &mut s);
        s
    });
    let status = main.0.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{out:?}");
    assert!(
        out.as_deref()
            .is_some_and(|e| e.contains("maximum job size of 4 bytes")),
        "{out:?}"
    );
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn an_address_that_is_not_ours_is_a_runtime_error() {
    require_private_namespace();
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
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn ctrl_c_stops_a_computing_node_cleanly_and_the_status_node_sees_it_stop() {
    require_private_namespace();
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

/// A tiny strict JSON reader for the tests (RFC 8259 values; enough to check `--json` output
/// without a dependency).
mod json {
    use std::collections::BTreeMap;

    #[derive(Debug, Clone, PartialEq)]
    pub enum Value {
        Null,
        Bool(bool),
        Num(f64),
        Str(String),
        Arr(Vec<Value>),
        Obj(BTreeMap<String, Value>),
    }

    impl Value {
        pub fn str(&self, key: &str) -> &str {
            match self {
                Value::Obj(m) => match m.get(key) {
                    Some(Value::Str(s)) => s,
                    other => panic!("{key}: not a string: {other:?}"),
                },
                _ => panic!("not an object"),
            }
        }

        pub fn num(&self, key: &str) -> f64 {
            match self {
                Value::Obj(m) => match m.get(key) {
                    Some(Value::Num(n)) => *n,
                    other => panic!("{key}: not a number: {other:?}"),
                },
                _ => panic!("not an object"),
            }
        }
    }

    pub fn parse(text: &str) -> Result<Value, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing data at {}", p.i));
        }
        Ok(v)
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn ws(&mut self) {
            while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }

        fn eat(&mut self, b: u8) -> Result<(), String> {
            self.ws();
            if self.s.get(self.i) == Some(&b) {
                self.i += 1;
                Ok(())
            } else {
                Err(format!("expected {} at {}", b as char, self.i))
            }
        }

        fn lit(&mut self, word: &str, v: Value) -> Result<Value, String> {
            if self.s[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                Ok(v)
            } else {
                Err(format!("bad literal at {}", self.i))
            }
        }

        fn value(&mut self) -> Result<Value, String> {
            self.ws();
            match self.s.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    let mut m = BTreeMap::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(Value::Obj(m));
                    }
                    loop {
                        self.ws();
                        let k = self.string()?;
                        self.eat(b':')?;
                        let v = self.value()?;
                        if m.insert(k.clone(), v).is_some() {
                            return Err(format!("duplicate key {k}"));
                        }
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                return Ok(Value::Obj(m));
                            }
                            _ => return Err(format!("bad object at {}", self.i)),
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut a = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(Value::Arr(a));
                    }
                    loop {
                        a.push(self.value()?);
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                return Ok(Value::Arr(a));
                            }
                            _ => return Err(format!("bad array at {}", self.i)),
                        }
                    }
                }
                Some(b'"') => Ok(Value::Str(self.string()?)),
                Some(b't') => self.lit("true", Value::Bool(true)),
                Some(b'f') => self.lit("false", Value::Bool(false)),
                Some(b'n') => self.lit("null", Value::Null),
                Some(b'-' | b'0'..=b'9') => {
                    let start = self.i;
                    while matches!(
                        self.s.get(self.i),
                        Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                    ) {
                        self.i += 1;
                    }
                    let t =
                        std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
                    let digits = t.trim_start_matches('-').as_bytes();
                    let leading_zero =
                        digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit();
                    if leading_zero || t.ends_with('.') {
                        return Err(format!("bad number {t}"));
                    }
                    t.parse()
                        .map(Value::Num)
                        .map_err(|_| format!("bad number {t}"))
                }
                _ => Err(format!("unexpected input at {}", self.i)),
            }
        }

        fn string(&mut self) -> Result<String, String> {
            if self.s.get(self.i) != Some(&b'"') {
                return Err(format!("expected a string at {}", self.i));
            }
            self.i += 1;
            let mut out = String::new();
            loop {
                let rest = std::str::from_utf8(&self.s[self.i..]).map_err(|e| e.to_string())?;
                let mut chars = rest.chars();
                let c = chars.next().ok_or("unterminated string")?;
                self.i += c.len_utf8();
                match c {
                    '"' => return Ok(out),
                    '\\' => {
                        let e = *self.s.get(self.i).ok_or("bad escape")?;
                        self.i += 1;
                        match e {
                            b'"' => out.push('"'),
                            b'\\' => out.push('\\'),
                            b'/' => out.push('/'),
                            b'n' => out.push('\n'),
                            b'r' => out.push('\r'),
                            b't' => out.push('\t'),
                            b'b' => out.push('\u{8}'),
                            b'f' => out.push('\u{c}'),
                            b'u' => {
                                let hex = self.s.get(self.i..self.i + 4).ok_or("short \\u")?;
                                let hex = std::str::from_utf8(hex).map_err(|e| e.to_string())?;
                                let n = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                                self.i += 4;
                                out.push(char::from_u32(n).ok_or("surrogate")?);
                            }
                            _ => return Err(format!("bad escape at {}", self.i)),
                        }
                    }
                    c if u32::from(c) < 0x20 => return Err("raw control character".into()),
                    c => out.push(c),
                }
            }
        }
    }

    #[test]
    fn the_test_reader_accepts_json_and_rejects_the_rest() {
        let v = parse(r#"{"a":"x\"\u0001\n","b":[1,-2.5e3,true,null],"c":{}}"#).unwrap();
        assert_eq!(v.str("a"), "x\"\u{1}\n");
        for bad in [
            r#"{"a":1"#,
            r#"{"a":"b\x"}"#,
            "{\"a\":\"\u{1}\"}",
            r#"{"a":1} x"#,
            "01",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

/// Decode standard base64 (for the tests).
fn unbase64(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = A.iter().position(|a| *a == c).expect("base64 digit") as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

/// The JSON lines of a `--json` run: every line must parse.
fn json_lines(stdout: &[u8]) -> Vec<json::Value> {
    String::from_utf8(stdout.to_vec())
        .expect("UTF-8 output")
        .lines()
        .map(|l| json::parse(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Run `amlip ARGS PATH`, which must succeed; its JSON lines.
fn main_json(args: &[&str], path: &std::path::Path) -> Vec<json::Value> {
    let out = Command::new(BIN)
        .args(args)
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .expect("run main");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    json_lines(&out.stdout)
}

/// A scratch directory of the test, emptied.
fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("amlip-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Kill a long-running process; its stdout.
fn stdout_after_kill(mut g: Guard) -> String {
    let _ = g.0.kill();
    let _ = g.0.wait();
    let mut out = Vec::new();
    if let Some(mut s) = g.0.stdout.take() {
        let _ = std::io::Read::read_to_end(&mut s, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn exec_runs_a_program_per_job_and_json_output_parses() {
    require_private_namespace();
    let status = spawn(&["--domain", "114", "status", "--json", "--duration", "4s"]);
    let _c = spawn(&["--domain", "114", "computing", "--exec", "tr a-z A-Z"]);
    let d = scratch("exec");
    let list = d.join("jobs.txt");
    std::fs::write(&list, "alpha\r\nbeta \"q\"\n\ngamma\n").unwrap();
    let objs = main_json(&["--domain", "114", "main", "--json", "--jobs-from"], &list);
    assert_eq!(objs.len(), 4, "{objs:?}");
    let mut got: Vec<(u64, String)> = objs[..3]
        .iter()
        .map(|o| {
            assert_eq!(o.str("type"), "solution");
            assert_eq!(o.str("status"), "solved");
            assert_eq!(o.str("solution_encoding"), "utf8");
            assert!(o.str("server").starts_with("AMLComputingNode."));
            assert!(o.num("latency_ms") >= 0.0);
            assert_eq!(o.num("attempts"), 1.0);
            (o.num("index") as u64, o.str("solution").to_owned())
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (0, "ALPHA".to_owned()),
            (1, "BETA \"Q\"".to_owned()),
            (2, "GAMMA".to_owned())
        ]
    );
    let summary = &objs[3];
    assert_eq!(summary.str("type"), "summary");
    assert_eq!((summary.num("jobs"), summary.num("solved")), (3.0, 3.0));
    assert_eq!((summary.num("failed"), summary.num("unsolved")), (0.0, 0.0));

    // --files: binary jobs, solutions beside them; JSON gives non-UTF-8 solutions in base64.
    let files = d.join("files");
    std::fs::create_dir(&files).unwrap();
    std::fs::write(files.join("a.txt"), b"hello\n").unwrap();
    std::fs::write(files.join("b.bin"), b"\xff\x00bin\x1b").unwrap();
    let objs = main_json(&["--domain", "114", "main", "--json", "--files"], &files);
    assert_eq!(objs.len(), 3, "{objs:?}");
    let bin = objs
        .iter()
        .find(|o| o.str("type") == "solution" && o.str("file").ends_with("b.bin"))
        .expect("b.bin's solution");
    assert_eq!(bin.str("solution_encoding"), "base64");
    assert_eq!(unbase64(bin.str("solution")), b"\xff\x00BIN\x1b");
    assert_eq!(
        std::fs::read(files.join("a.txt.solution")).unwrap(),
        b"HELLO\n"
    );
    assert_eq!(
        std::fs::read(files.join("b.bin.solution")).unwrap(),
        b"\xff\x00BIN\x1b"
    );

    // Human output escapes control characters.
    let out = Command::new(BIN)
        .args(["--domain", "114", "main", "tab\there\u{1b}[2J"])
        .stdin(Stdio::null())
        .output()
        .expect("run main");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(r#"job "tab\there\u{1b}[2J" => "TAB\tHERE\u{1b}[2J" from "#),
        "{text}"
    );

    // `amlip status --json`: one object per change, the computing node among them.
    let objs = json_lines(&output_when_done(status));
    assert!(
        objs.iter()
            .any(|o| o.str("kind") == "computing" && o.str("state") == "running"),
        "{objs:?}"
    );
    assert!(objs.iter().all(|o| o.str("type") == "status"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_failing_job_is_offered_to_the_other_computing_node_then_reported_failed() {
    require_private_namespace();
    let fail = "sh -c 'cat >/dev/null; echo it broke >&2; exit 3'";
    let c1 = spawn(&["--domain", "115", "computing", "--exec", fail]);
    let c2 = spawn(&["--domain", "115", "computing", "--exec", fail]);
    let mut main = spawn(&["--domain", "115", "main", "--json", "doomed"]);
    let code = exit_status(&mut main).expect("main ends");
    let out = output_when_done(main);
    assert_eq!(code.code(), Some(3), "{}", String::from_utf8_lossy(&out));
    let objs = json_lines(&out);
    assert_eq!(objs.len(), 2, "{objs:?}");
    assert_eq!(objs[0].str("status"), "failed");
    assert_eq!(objs[0].num("attempts"), 3.0);
    assert_eq!(objs[0].str("solution"), "exit status 3: it broke");
    assert_eq!((objs[1].num("failed"), objs[1].num("solved")), (1.0, 0.0));
    // Each computing node failed it at least once: the second attempt went to the other one.
    let (o1, o2) = (stdout_after_kill(c1), stdout_after_kill(c2));
    let fails = |o: &str| o.lines().filter(|l| l.contains("FAILED")).count();
    assert!(fails(&o1) >= 1 && fails(&o2) >= 1, "{o1}\n{o2}");
    assert_eq!(fails(&o1) + fails(&o2), 3, "{o1}\n{o2}");
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_job_over_its_timeout_is_killed_and_reported_failed() {
    require_private_namespace();
    let _c = spawn(&[
        "--domain",
        "116",
        "computing",
        "--exec",
        "sleep 30",
        "--job-timeout",
        "300ms",
    ]);
    let out = amlip(&["--domain", "116", "main", "--attempts", "1", "slow"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.starts_with("job \"slow\" FAILED after 1 attempt(s), last on AMLComputingNode.")
            && text.contains("timed out after 300ms"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 1 job(s) failed"));
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn three_hosts_find_each_other_by_multicast_or_with_peer_when_multicast_is_dropped() {
    require_private_namespace();
    // In a namespace of its own inside this one (the bridge and veths stay out of the
    // loopback-only namespace the other tests check for).
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/multihost.sh");
    let out = Command::new("unshare")
        .args(["-n", "bash", script, BIN])
        .env("AMLIP_MULTIHOST_INNER", "1")
        .stdin(Stdio::null())
        .output();
    let Ok(out) = out else {
        eprintln!("skipped: unshare not found");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    if text.contains("skipped:") || err.contains("unshare failed") {
        eprintln!("skipped: {text}{err}");
        return;
    }
    assert!(out.status.success(), "{text}\n{err}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("PASS")).count(),
        5,
        "{text}\n{err}"
    );
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
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_computing_process_paused_past_its_lease_is_used_again_when_it_resumes() {
    require_private_namespace();
    let jobs: Vec<String> = (0..6).map(|i| format!("paused job {i}")).collect();
    let lines = pause_past_the_lease("117", 1, &jobs, false);
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
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_main_process_paused_past_its_lease_finishes_when_it_resumes() {
    require_private_namespace();
    let jobs: Vec<String> = (0..10).map(|i| format!("main job {i}")).collect();
    pause_past_the_lease("118", 2, &jobs, true);
}

/// A main SIGKILLed mid-job: the computing node frees itself from the dead main's handshake
/// after its reply timeout (2 s) and serves a new main long before the dead main's 20 s lease
/// expires (AML-IP: the whole lease).
#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
#[allow(clippy::disallowed_methods)] // the test measures wall-clock time
fn a_new_main_is_served_soon_after_the_previous_one_is_killed_mid_job() {
    require_private_namespace();
    let _c = spawn(&["--domain", "119", "computing", "--delay", "200ms"]);
    let jobs: Vec<String> = (0..30).map(|i| format!("doomed {i}")).collect();
    let mut args = vec!["--domain", "119", "main"];
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
    let next = spawn(&["--domain", "119", "main", "served"]);
    let out = output_when_done(next);
    let waited = start.elapsed();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("job \"served\" => \"SERVED\""), "{text}");
    assert!(
        waited < Duration::from_secs(10),
        "the new main waited {waited:?} (the dead main's lease is 20 s)"
    );
}

/// Issue 11: `AMLIP_FAULTS` as a user sets it (the environment of every process: 20% of the
/// datagrams each sends lost, 5% duplicated, 25% reordered): 100 jobs over two computing
/// processes, each solved exactly once with the right answer, and the main exits 0.
#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn jobs_over_a_network_made_lossy_by_amlip_faults_are_each_solved_once() {
    require_private_namespace();
    let faults = |seed: &str| {
        [
            ("AMLIP_FAULTS", "loss=0.2,dup=0.05,reorder=0.25".to_owned()),
            ("AMLIP_FAULTS_SEED", seed.to_owned()),
        ]
    };
    let computing = |seed: &str| {
        Guard(
            Command::new(BIN)
                .args(["--domain", "120", "computing", "--delay", "0"])
                .envs(faults(seed))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn computing"),
        )
    };
    let (_c1, _c2) = (computing("1"), computing("2"));
    let jobs: Vec<String> = (0..100).map(|i| format!("faulty job {i}")).collect();
    let out = Command::new(BIN)
        .args(["--domain", "120", "main", "--json"])
        .args(&jobs)
        .envs(faults("3"))
        .stdin(Stdio::null())
        .output()
        .expect("run main");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let objs = json_lines(&out.stdout);
    assert_eq!(objs.len(), jobs.len() + 1, "{objs:?}");
    let mut seen = vec![0u32; jobs.len()];
    for o in &objs[..jobs.len()] {
        assert_eq!(o.str("status"), "solved", "{o:?}");
        let i = o.num("index") as usize;
        assert_eq!(o.str("solution"), jobs[i].to_uppercase(), "{o:?}");
        seen[i] += 1;
    }
    assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
    let summary = &objs[jobs.len()];
    assert_eq!((summary.num("solved"), summary.num("failed")), (100.0, 0.0));
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn status_stats_json_lines_parse_and_count_traffic_and_the_matched_peer() {
    require_private_namespace();
    let _comp = spawn(&["--domain", "121", "computing", "--delay", "0"]);
    let status = spawn(&[
        "--domain",
        "121",
        "status",
        "--json",
        "--stats",
        "--duration",
        "3s",
    ]);
    // `main --stats`: the node's counters on stderr at exit.
    let out = amlip(&["--domain", "121", "main", "--stats", "x"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("stats: datagrams in "), "{err}");
    assert!(err.contains("; node: samples "), "{err}");
    let objs = json_lines(&output_when_done(status));
    let stats: Vec<_> = objs.iter().filter(|o| o.str("type") == "stats").collect();
    // One object at the start, one a second, one at exit.
    assert!(stats.len() >= 3, "{objs:?}");
    let last = stats[stats.len() - 1];
    assert!(last.num("datagrams_in") > 0.0, "{last:?}");
    assert!(last.num("datagrams_out") > 0.0, "{last:?}");
    assert_eq!(last.num("rejected_malformed"), 0.0, "{last:?}");
    assert_eq!(last.num("send_errors"), 0.0, "{last:?}");
    // The computing node; the main node has left by then (it may still be known, unmatched).
    assert_eq!(last.num("matched_participants"), 1.0, "{last:?}");
    assert!(objs.iter().any(|o| o.str("type") == "status"), "{objs:?}");
}
