//! The `amlip` command line: `main`, `computing`, `status` and `demo` (issue 5 item 5).

mod commands;
pub mod delay;
mod demo;
pub mod exec;
pub mod jobs;
pub mod json;
pub mod logger;
pub mod signal;
mod stats;
mod status;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use amlip::multiservice::AmlipId;
use amlip::node::{NodeError, NodeOptions};
use delay::Delay;

const EXAMPLES: &str = "\
Examples:
  amlip demo                                 one main + 3 computing nodes in this process
  amlip computing                            answer jobs until interrupted (run a few of these)
  amlip main \"first job\" \"second job\"        send two jobs, print their solutions
  printf 'a\\nb\\n' | amlip main               one job per input line
  amlip computing 5 --delay 0                answer 5 jobs without the mock delay, then exit
  amlip status                               live table of the nodes in the domain
  amlip status --stats --json                statuses and this node's DDS counters, as JSON lines
  amlip computing --exec 'tr a-z A-Z'        run a program per job: job on stdin, solution from stdout
  amlip main --json --jobs-from jobs.txt     one job per line, one JSON object per solution
  amlip main --files DIR                     one job per file, solutions written as NAME.solution

Every node runs on DDS domain 166 over loopback unless --domain / --interface say otherwise,
and interoperates with eProsima AML-IP nodes on the same domain.
Logging: -v (info), -vv (debug), or AMLIP_LOG=error|warn|info|debug|trace.";

/// AML-IP workload distribution: a Main Node hands Jobs to idle Computing Nodes.
#[derive(Debug, Parser)]
#[command(
    name = "amlip",
    version,
    about,
    long_about = "AML-IP workload distribution on a pure-Rust RTPS/DDS stack.\n\n\
        A main node turns each input into a job; the MultiService protocol gives every job to \
        exactly one idle computing node, and the solution comes back to the main node.",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
struct Common {
    /// DDS domain id (0..=232).
    #[arg(long, global = true, default_value_t = 166, value_parser = clap::value_parser!(u32).range(0..=232))]
    domain: u32,
    /// Node name: at most 28 ASCII bytes (a random suffix makes the id unique).
    #[arg(long, global = true, value_parser = parse_name)]
    name: Option<String>,
    /// Network interface: a name (lo, eth0) or an IPv4 address. Default: loopback only.
    #[arg(long, global = true, default_value = "127.0.0.1", value_parser = parse_interface)]
    interface: Ipv4Addr,
    /// Send discovery also by unicast to this host (IPv4 ADDR or ADDR:PORT; repeatable): for nodes
    /// on other subnets or networks that drop multicast. Without a port, the domain's
    /// discovery ports of the first participants on that host.
    #[arg(long = "peer", global = true, value_name = "ADDR[:PORT]", value_parser = parse_peer)]
    peers: Vec<(Ipv4Addr, Option<u16>)>,
    /// Do not send or receive discovery multicast (use with --peer).
    #[arg(long, global = true)]
    no_multicast: bool,
    /// Microseconds a node keeps polling its socket after a message before it blocks (the
    /// thread waiting for a solution or a job polls it itself): saves the wake-up latency of
    /// each hop of a job for some CPU time right after traffic (0: block at once, for the
    /// least CPU).
    #[arg(long, global = true, value_name = "US", default_value_t = rtps::dds::DEFAULT_BUSY_POLL.as_micros() as u64,
          value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    busy_poll: u64,
    /// Largest job or solution: a main refuses bigger jobs, a computing node drops them (and
    /// never allocates room for one). Bytes, or with a K, M or G suffix (powers of 1024).
    #[arg(long, global = true, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    max_job_size: usize,
    /// Participant lease: how long the other nodes wait before declaring this node gone when
    /// it stops answering (crashed, paused), e.g. 20s (the default, as Fast DDS) or 2s.
    #[arg(long, global = true, default_value = "20s", value_parser = parse_lease)]
    lease: std::time::Duration,
    /// More logging on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send jobs and print their solutions (jobs from the arguments, or one per stdin line
    /// until an empty line or end of input).
    Main {
        /// The jobs; none: read them from stdin (or from --jobs-from / --files).
        jobs: Vec<String>,
        /// One JSON object per solution on stdout, then a summary object.
        #[arg(long)]
        json: bool,
        /// Read the jobs from FILE: one per line (empty lines skipped).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["jobs", "files"])]
        jobs_from: Option<PathBuf>,
        /// With --jobs-from: jobs are chunks of N bytes of the file instead of lines.
        #[arg(long, value_name = "N", requires = "jobs_from",
              value_parser = clap::value_parser!(u64).range(1..=u64::from(u32::MAX)))]
        split_bytes: Option<u64>,
        /// One job per file of DIR; each solution is written beside its job as NAME.solution.
        #[arg(long, value_name = "DIR", conflicts_with = "jobs")]
        files: Option<PathBuf>,
        /// Attempts per job: a job a computing node fails is offered to another one, and
        /// reported failed after this many (exit status 3 at the end).
        #[arg(long, default_value_t = amlip::multiservice::client::DEFAULT_MAX_ATTEMPTS,
              value_parser = clap::value_parser!(u32).range(1..=i64::from(amlip::multiservice::client::MAX_ATTEMPTS_LIMIT)))]
        attempts: u32,
        /// At exit, print the node's counters on stderr (datagrams, drops by reason,
        /// retransmissions, NACKs, send errors, matched peers, samples).
        #[arg(long)]
        stats: bool,
    },
    /// Answer jobs: the mock engine uppercases each job after a random wait.
    Computing {
        /// Answer this many jobs, then exit (default: until interrupted).
        count: Option<u64>,
        /// Mock work time per job: seconds or ms, fixed or MIN..MAX (0, 1..5, 200ms..1s).
        #[arg(long, default_value = "1..5")]
        delay: Delay,
        /// Jobs processed at once.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
        concurrency: u32,
        /// Run this command for each job instead of the mock: the job on its stdin, the
        /// solution from its stdout; a non-zero exit fails the job. Split into words like a
        /// shell does, but no shell runs (write `sh -c '...'` for pipes and redirections).
        #[arg(long, value_name = "'CMD ARGS'", value_parser = exec::parse_exec, conflicts_with = "delay")]
        exec: Option<exec::CommandLine>,
        /// With --exec: kill the command and fail the job after this long (e.g. 30s, 500ms).
        #[arg(long, value_name = "DURATION", requires = "exec", value_parser = parse_duration)]
        job_timeout: Option<std::time::Duration>,
        /// Most jobs taken ahead of the free slots while jobs are short: up to 1 ms of work
        /// by the average job time, which hides the round trip to the main node between
        /// short jobs. 0: only with a free slot, as AML-IP's computing nodes.
        #[arg(long, value_name = "N", default_value_t = amlip::multiservice::server::DEFAULT_PREFETCH as u32,
              value_parser = clap::value_parser!(u32).range(0..=amlip::multiservice::server::MAX_PREFETCH as i64))]
        prefetch: u32,
        /// At exit, print the node's counters on stderr (as for `main --stats`).
        #[arg(long)]
        stats: bool,
    },
    /// Show a live table of every node's status (id, kind, state).
    Status {
        /// Stop after this long (e.g. 10s); default: until interrupted.
        #[arg(long, value_parser = parse_duration)]
        duration: Option<std::time::Duration>,
        /// One JSON object per status change on stdout instead of the table.
        #[arg(long)]
        json: bool,
        /// Also print this node's DDS counters every second and at exit: datagrams in/out,
        /// rejected by reason, retransmissions, NACKs, send errors, matched peers (with
        /// --json, as an object of "type":"stats").
        #[arg(long)]
        stats: bool,
    },
    /// Run one main and several computing nodes in this process on sample jobs.
    Demo {
        /// Computing nodes to start.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=64))]
        computing: u32,
        /// Sample jobs to send.
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        jobs: u32,
        /// Mock work time per job (as for `computing`).
        #[arg(long, default_value = "50ms..300ms")]
        delay: Delay,
    },
}

fn parse_name(s: &str) -> Result<String, String> {
    AmlipId::new(s, [0; 4]).map_err(|e| e.to_string())?;
    if s.is_empty() {
        return Err("node name must not be empty".into());
    }
    Ok(s.to_owned())
}

fn parse_interface(s: &str) -> Result<Ipv4Addr, String> {
    rtps::transport::resolve_interface(s).map_err(|e| e.to_string())
}

/// `SIZE` of `--max-job-size`: bytes, or K, M, G (KiB, MiB, GiB; also lower case, with an
/// optional `B` / `iB`), at least 1 and under the 4 GiB AML-IP limit.
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (n, unit) = t.split_at(digits);
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("'{s}': give bytes, or a number with K, M or G")),
    };
    let n: u64 = n
        .parse()
        .map_err(|_| format!("'{s}': give bytes, or a number with K, M or G"))?;
    let bytes = n.checked_shl(shift).filter(|b| b >> shift == n);
    match bytes {
        Some(b) if (1..(1 << 32)).contains(&b) => usize::try_from(b).map_err(|e| e.to_string()),
        _ => Err(format!("'{s}': must be from 1 byte to under 4G")),
    }
}

/// `ADDR[:PORT]` of `--peer`: an IPv4 address, optionally with a port.
fn parse_peer(s: &str) -> Result<(Ipv4Addr, Option<u16>), String> {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => match p.parse::<u16>() {
            Ok(p) if p != 0 => (h, Some(p)),
            _ => return Err(format!("'{s}': bad port '{p}'")),
        },
        None => (s, None),
    };
    let addr = host
        .parse::<Ipv4Addr>()
        .map_err(|_| format!("'{host}': not an IPv4 address"))?;
    Ok((addr, port))
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let d: Delay = s.parse()?;
    if d.min != d.max {
        return Err(format!("'{s}': give one duration, not a range"));
    }
    Ok(d.min)
}

fn parse_lease(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(s)?;
    if d < std::time::Duration::from_secs(1) {
        return Err(format!("'{s}': the lease must be at least 1s"));
    }
    Ok(d)
}

impl Common {
    fn options(&self) -> NodeOptions {
        NodeOptions::default()
            .domain(self.domain)
            .interface(self.interface)
            .multicast(!self.no_multicast)
            .peers(self.peers.clone())
            .busy_poll(std::time::Duration::from_micros(self.busy_poll))
            .max_job_size(self.max_job_size)
            .lease_duration(self.lease)
    }

    fn name_or(&self, default: &str) -> String {
        self.name.clone().unwrap_or_else(|| default.to_owned())
    }
}

/// Parse the command line and run it: exit 0 on success, 1 on a runtime error, 2 on a usage
/// error.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    logger::init(cli.common.verbose);
    signal::install();
    let c = &cli.common;
    let r = match &cli.command {
        Command::Main {
            jobs,
            json,
            jobs_from,
            split_bytes,
            files,
            attempts,
            stats,
        } => {
            let source = if let Some(f) = jobs_from {
                let split = split_bytes.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
                jobs::from_file(f, split).map_err(|e| (f, e))
            } else if let Some(d) = files {
                jobs::from_dir(d).map_err(|e| (d, e))
            } else if !jobs.is_empty() {
                let list: Vec<_> = jobs
                    .iter()
                    .map(|j| {
                        Ok(jobs::Job {
                            bytes: j.as_bytes().to_vec(),
                            file: None,
                        })
                    })
                    .collect();
                Ok((list.len(), Box::new(list.into_iter()) as _))
            } else {
                Ok((0, Box::new(std::iter::empty()) as _))
            };
            let source = match source {
                Ok(s) => (jobs_from.is_some() || files.is_some() || !jobs.is_empty()).then_some(s),
                Err((path, e)) => {
                    eprintln!("amlip: error: cannot read {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            };
            let output = commands::MainOutput {
                json: *json,
                attempts: *attempts,
                stats: *stats,
            };
            commands::main(c.name_or("AMLMainNode"), c.options(), source, &output)
        }
        Command::Computing {
            count,
            delay,
            concurrency,
            exec,
            job_timeout,
            prefetch,
            stats,
        } => commands::computing(
            c.name_or("AMLComputingNode"),
            c.options()
                .prefetch(usize::try_from(*prefetch).unwrap_or(0)),
            *count,
            *delay,
            *concurrency,
            exec.as_ref().map(|e| (e.0.as_slice(), *job_timeout)),
            *stats,
        ),
        Command::Status {
            duration,
            json,
            stats,
        } => status::run(
            c.name_or("AMLStatusNode"),
            c.options(),
            *duration,
            *json,
            *stats,
        ),
        Command::Demo {
            computing,
            jobs,
            delay,
        } => demo::run(c.name.as_deref(), c.options(), *computing, *jobs, *delay),
    };
    match r {
        Ok(signal::Ended::Completed) => ExitCode::SUCCESS,
        Ok(signal::Ended::Interrupted) => ExitCode::from(signal::INTERRUPTED_EXIT),
        Ok(signal::Ended::Failed) => ExitCode::FAILURE,
        Ok(signal::Ended::JobsFailed) => ExitCode::from(signal::JOBS_FAILED_EXIT),
        Err(e) => {
            eprintln!("amlip: error: {}", rtps::dds::error_chain(&e));
            if matches!(e, NodeError::Dds(rtps::dds::DdsError::Participant(_))) {
                eprintln!(
                    "amlip: hint: check --interface, and that the domain's ports are free \
                     (another program may use them; try --domain)"
                );
            }
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("amlip").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_are_domain_166_on_loopback() {
        let c = parse(&["computing"]).unwrap();
        assert_eq!(c.common.domain, 166);
        assert_eq!(c.common.interface, Ipv4Addr::LOCALHOST);
        let Command::Computing {
            count,
            delay,
            concurrency,
            ..
        } = c.command
        else {
            panic!("not computing");
        };
        assert_eq!((count, concurrency), (None, 1));
        assert_eq!(delay.to_string(), "1s..5s");
        assert_eq!(c.common.max_job_size, 256 << 20);
    }

    #[test]
    fn prefetch_defaults_to_the_server_s_and_is_bounded() {
        let prefetch_of = |args: &[&str]| match parse(args).map(|c| c.command) {
            Ok(Command::Computing { prefetch, .. }) => Some(prefetch),
            _ => None,
        };
        let default = amlip::multiservice::server::DEFAULT_PREFETCH;
        assert_eq!(prefetch_of(&["computing"]), u32::try_from(default).ok());
        assert_eq!(prefetch_of(&["computing", "--prefetch", "0"]), Some(0));
        assert_eq!(prefetch_of(&["computing", "--prefetch", "64"]), Some(64));
        assert_eq!(prefetch_of(&["computing", "--prefetch", "65"]), None);
        assert_eq!(prefetch_of(&["computing", "--prefetch", "-1"]), None);
    }

    #[test]
    fn max_job_size_takes_bytes_or_a_binary_suffix() {
        for (arg, bytes) in [
            ("1000", 1000),
            ("4k", 4096),
            ("3MiB", 3 << 20),
            ("1G", 1 << 30),
        ] {
            let c = parse(&["main", "--max-job-size", arg]).unwrap();
            assert_eq!(c.common.max_job_size, bytes, "{arg}");
        }
        for bad in ["0", "4G", "1T", "-1", "M", "12 apples"] {
            let e = parse(&["main", "--max-job-size", bad]).err();
            assert_eq!(e.map(|e| e.exit_code()), Some(2), "{bad}");
        }
    }

    #[test]
    fn lease_takes_a_duration_of_at_least_a_second() {
        let c = parse(&["main", "x"]).unwrap();
        assert_eq!(c.common.options(), NodeOptions::default());
        let c = parse(&["--lease", "2s", "computing"]).unwrap();
        assert_eq!(c.common.options().lease_duration.as_secs(), 2);
    }

    #[test]
    fn flags_go_before_or_after_the_command() {
        let c = parse(&["--domain", "3", "main", "a", "b c", "--name", "M"]).unwrap();
        assert_eq!(c.common.domain, 3);
        assert_eq!(c.common.name.as_deref(), Some("M"));
        let Command::Main { jobs, .. } = c.command else {
            panic!("not main");
        };
        assert_eq!(jobs, ["a", "b c"]);
        let c = parse(&["computing", "5", "--delay", "0", "-vv"]).unwrap();
        assert_eq!(c.common.verbose, 2);
        let c = parse(&["main", "x", "--peer", "10.0.0.2", "--peer=10.0.0.3:7410"]).unwrap();
        assert_eq!(
            c.common.options().peers,
            [
                (Ipv4Addr::new(10, 0, 0, 2), None),
                (Ipv4Addr::new(10, 0, 0, 3), Some(7410))
            ]
        );
        assert!(c.common.options().multicast);
        assert!(
            !parse(&["--no-multicast", "status"])
                .unwrap()
                .common
                .options()
                .multicast
        );
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        let long = "x".repeat(29);
        for args in [
            vec!["main", "--name", long.as_str()],
            vec!["main", "--name", "caf\u{e9}"],
            vec!["main", "--name", ""],
            vec!["computing", "--delay", "5..1"],
            vec!["computing", "-3"],
            vec!["--domain", "233", "status"],
            vec!["--interface", "no-such-if0", "status"],
            vec!["demo", "--computing", "0"],
            vec!["--peer", "10.0.0.1:x", "status"],
            vec!["--peer", "10.0.0.1:0", "status"],
            vec!["--peer", "somehost", "status"],
            vec!["main", "--split-bytes", "3"],
            vec!["main", "--attempts", "0", "x"],
            vec!["computing", "--job-timeout", "1s"],
            vec!["computing", "--exec", "'unclosed"],
            vec!["--lease", "500ms", "main"],
            vec!["frobnicate"],
            vec![],
        ] {
            let e = parse(&args)
                .err()
                .unwrap_or_else(|| panic!("{args:?} parsed"));
            assert_eq!(e.exit_code(), 2, "{args:?}");
        }
        assert_eq!(parse(&["--help"]).err().unwrap().exit_code(), 0);
    }
}
