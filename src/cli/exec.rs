//! `amlip computing --exec 'CMD ARGS'`: each job runs one process of the user's program.
//!
//! The command line is split into words as a POSIX shell would split it, without running a
//! shell ([`split_words`]: blanks separate words, `'...'` is literal, `"..."` keeps blanks
//! and lets `\` escape `"`, `\`, `$` and `` ` ``, a `\` outside quotes escapes any character);
//! no expansion, globbing or redirection: write `sh -c '...'` for those. Each job's bytes go to
//! the process's stdin, its stdout is the solution, its stderr is copied to ours line by line
//! behind the job's id (`[job <main node id>/<task>] `). The process also gets the job's id in
//! `AMLIP_CLIENT_ID` and `AMLIP_TASK_ID`. A non-zero exit, a signal, a failure to start, an
//! output over [`MAX_OUTPUT`] or `--job-timeout` (the process is killed) fails the job; the
//! reason (with the last line of stderr) goes back to the main node, which offers the job to
//! another computing node (see `amlip::multiservice::client`, "Failed jobs").

use core::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use amlip::multiservice::MsRequest;

/// Largest solution a process may write (the rest fails the job).
pub const MAX_OUTPUT: usize = 1 << 30;

/// How much of the last stderr line a failure reason quotes.
const REASON_STDERR: usize = 200;

/// Why a command line could not be split into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitError {
    /// A `'` or `"` is not closed.
    UnclosedQuote(char),
    /// The line ends with a lone `\`.
    TrailingBackslash,
    /// No words at all.
    Empty,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SplitError::UnclosedQuote(q) => write!(f, "unclosed {q} quote"),
            SplitError::TrailingBackslash => f.write_str("ends with a lone backslash"),
            SplitError::Empty => f.write_str("no command given"),
        }
    }
}

impl std::error::Error for SplitError {}

/// Split a command line into words (see the module doc).
pub fn split_words(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(SplitError::UnclosedQuote('\'')),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => w.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err(SplitError::UnclosedQuote('"')),
                        },
                        Some(c) => w.push(c),
                        None => return Err(SplitError::UnclosedQuote('"')),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => word.get_or_insert_with(String::new).push(c),
                None => return Err(SplitError::TrailingBackslash),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    if words.is_empty() {
        return Err(SplitError::Empty);
    }
    Ok(words)
}

/// The words of `--exec`: the program, then its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine(pub Vec<String>);

/// Parse `--exec`: the words, whose program must exist (a path, or a name found in `PATH`).
pub fn parse_exec(line: &str) -> Result<CommandLine, String> {
    let words = split_words(line).map_err(|e| format!("'{line}': {e}"))?;
    let program = &words[0];
    if find_program(program).is_none() {
        return Err(format!(
            "'{program}': no such program (in PATH or as a path)"
        ));
    }
    Ok(CommandLine(words))
}

fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = Path::new(program);
        return p.is_file().then(|| p.to_owned());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Why a job's process failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecError {
    /// It could not be started.
    Spawn(String),
    /// It exited with a non-zero status (or was killed by a signal).
    Exit(String),
    /// It ran longer than the job timeout and was killed.
    Timeout(Duration),
    /// Its output was over [`MAX_OUTPUT`].
    TooLarge,
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecError::Spawn(e) => write!(f, "cannot start the command: {e}"),
            ExecError::Exit(e) => f.write_str(e),
            ExecError::Timeout(d) => write!(f, "timed out after {d:?} (killed)"),
            ExecError::TooLarge => write!(f, "output over {MAX_OUTPUT} bytes"),
        }
    }
}

impl std::error::Error for ExecError {}

/// The label of a job in stderr lines: `<main node id>/<task>`.
pub fn job_label(key: MsRequest) -> String {
    format!("{}/{}", key.client_id, key.task_id)
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        (None, None) => status.to_string(),
    }
}

/// Read `r` to the end (at most [`MAX_OUTPUT`] bytes kept; `None` if there was more).
fn read_capped(mut r: impl Read) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    let mut over = false;
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if out.len().saturating_add(n) > MAX_OUTPUT {
                    over = true;
                } else {
                    out.extend_from_slice(&buf[..n]);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    (!over).then_some(out)
}

/// Wait for `child` until `deadline` (if any); `None` on timeout (the child is killed).
fn wait(child: &mut Child, deadline: Option<Instant>) -> std::io::Result<Option<ExitStatus>> {
    let mut pause = Duration::from_micros(100);
    loop {
        if let Some(s) = child.try_wait()? {
            return Ok(Some(s));
        }
        if deadline.is_some_and(|d| super::demo::clock() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Run `argv` for one job: `job` on stdin, stdout back (see the module doc).
pub fn run(
    argv: &[String],
    key: MsRequest,
    job: &[u8],
    timeout: Option<Duration>,
) -> Result<Vec<u8>, ExecError> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| ExecError::Spawn("no command".into()))?;
    let label = job_label(key);
    let deadline = timeout.map(|t| super::demo::clock() + t);
    let mut child = Command::new(program)
        .args(args)
        .env("AMLIP_CLIENT_ID", key.client_id.to_string())
        .env("AMLIP_TASK_ID", key.task_id.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ExecError::Spawn(format!("{program}: {e}")))?;
    let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let (out_tx, out_rx) = mpsc::channel();
    let (err_tx, err_rx) = mpsc::channel();
    // Detached threads: a grandchild may keep the pipes open after the process is killed.
    if let Some(mut stdin) = stdin {
        let job = job.to_vec();
        // A process that does not read its input just gets a broken pipe here.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&job);
        });
    }
    if let Some(stdout) = stdout {
        std::thread::spawn(move || {
            let _ = out_tx.send(read_capped(stdout));
        });
    }
    if let Some(stderr) = stderr {
        std::thread::spawn(move || {
            let _ = err_tx.send(copy_stderr(stderr, &label));
        });
    }
    let status = wait(&mut child, deadline).map_err(|e| ExecError::Exit(e.to_string()))?;
    let Some(status) = status else {
        return Err(ExecError::Timeout(timeout.unwrap_or_default()));
    };
    // The output ends when every holder of the pipe is gone (normally: at the exit).
    let left = deadline.map(|d| d.saturating_duration_since(super::demo::clock()));
    let out = match left {
        Some(l) => out_rx.recv_timeout(l.max(Duration::from_millis(100))),
        None => out_rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
    };
    let last_err = err_rx
        .recv_timeout(Duration::from_millis(100))
        .unwrap_or_default();
    if !status.success() {
        let mut why = describe(status);
        if !last_err.is_empty() {
            why.push_str(": ");
            why.push_str(&last_err);
        }
        return Err(ExecError::Exit(why));
    }
    match out {
        Ok(Some(out)) => Ok(out),
        Ok(None) => Err(ExecError::TooLarge),
        Err(RecvTimeoutError::Timeout) => Err(ExecError::Timeout(timeout.unwrap_or_default())),
        Err(RecvTimeoutError::Disconnected) => Ok(Vec::new()),
    }
}

/// Copy `stderr` to ours line by line behind `[job LABEL] `; returns its last non-empty line
/// (at most [`REASON_STDERR`] bytes, lossy UTF-8).
fn copy_stderr(stderr: impl Read, label: &str) -> String {
    let mut r = BufReader::new(stderr);
    let mut line = Vec::new();
    let mut last = String::new();
    loop {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return last,
            Ok(_) => {}
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let shown = super::json::escape(text);
        {
            let mut e = std::io::stderr().lock();
            let _ = writeln!(e, "[job {label}] {shown}");
        }
        if !text.is_empty() {
            let cut = &text[..text.len().min(REASON_STDERR)];
            last = String::from_utf8_lossy(cut).into_owned();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amlip::multiservice::{AmlipId, TaskId};

    fn key() -> MsRequest {
        MsRequest {
            client_id: AmlipId::new("M", [1, 2, 3, 4]).unwrap(),
            task_id: TaskId(7),
        }
    }

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn words_split_like_a_shell_without_running_one() {
        let w = |s: &str| split_words(s).unwrap();
        assert_eq!(w("tr a-z A-Z"), ["tr", "a-z", "A-Z"]);
        assert_eq!(w("  a\t b  "), ["a", "b"]);
        assert_eq!(
            w("sh -c 'echo $HOME | wc'"),
            ["sh", "-c", "echo $HOME | wc"]
        );
        assert_eq!(w(r#"a "b c" d"#), ["a", "b c", "d"]);
        assert_eq!(w(r#""x\"y\\z\$\n""#), [r#"x"y\z$\n"#]);
        assert_eq!(w(r"a\ b \'c"), ["a b", "'c"]);
        assert_eq!(w(r#"pre'fix'"mid"post ''"#), ["prefixmidpost", ""]);
        assert_eq!(split_words("'open"), Err(SplitError::UnclosedQuote('\'')));
        assert_eq!(split_words("\"open"), Err(SplitError::UnclosedQuote('"')));
        assert_eq!(split_words("end\\"), Err(SplitError::TrailingBackslash));
        assert_eq!(split_words("  "), Err(SplitError::Empty));
    }

    #[test]
    fn the_program_must_exist() {
        assert!(parse_exec("tr a-z A-Z").is_ok());
        assert!(parse_exec("/bin/sh -c true").is_ok());
        let e = parse_exec("no-such-program-amlip x").unwrap_err();
        assert!(e.contains("no such program"), "{e}");
        assert!(parse_exec("'unclosed").is_err());
    }

    #[test]
    fn a_job_is_the_stdin_and_the_solution_the_stdout_bytes_included() {
        let argv = split_words("tr a-z A-Z").unwrap();
        assert_eq!(
            run(&argv, key(), b"hello\0\xff", None).unwrap(),
            b"HELLO\0\xff"
        );
        let id = run(
            &sh("printf %s/%s \"$AMLIP_CLIENT_ID\" \"$AMLIP_TASK_ID\""),
            key(),
            b"",
            None,
        );
        assert_eq!(id.unwrap(), b"M.01.02.03.04/7");
        // A program that does not read its input still answers.
        assert_eq!(
            run(&sh("echo hi"), key(), &[b'x'; 1 << 20], None).unwrap(),
            b"hi\n"
        );
    }

    #[test]
    fn a_non_zero_exit_fails_the_job_quoting_the_last_stderr_line() {
        let e = run(
            &sh("echo first >&2; echo 'it broke' >&2; exit 3"),
            key(),
            b"",
            None,
        );
        assert_eq!(e, Err(ExecError::Exit("exit status 3: it broke".into())));
        let e = run(&sh("kill -9 $$"), key(), b"", None).unwrap_err();
        assert_eq!(e.to_string(), "killed by signal 9");
    }

    #[test]
    fn a_job_over_its_timeout_is_killed_and_fails() {
        let t = Duration::from_millis(200);
        let e = run(&sh("sleep 5"), key(), b"", Some(t));
        assert_eq!(e, Err(ExecError::Timeout(t)));
        assert_eq!(
            run(&sh("cat"), key(), b"quick", Some(Duration::from_secs(20))).unwrap(),
            b"quick"
        );
    }
}
