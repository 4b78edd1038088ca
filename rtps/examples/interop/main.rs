//! `interop`: the Rust side of the interop oracles (`../shared/oracles/README.md`).
//!
//! Same CLI, output lines and exit codes as `oracle-fastdds` and `oracle-cyclone`, so
//! `run-interop.sh` / `run-interop-all.sh` can pair it with Fast DDS 2.9 and Cyclone DDS 0.10:
//!
//! ```text
//! interop pub --topic T --count N [--reliable|--best-effort] [--transient-local] [--size B]
//!             [--keyed] [--domain D] [--rate HZ] [--burst B] [--wait-subs M] [--settle MS]
//!             [--linger S] [--timeout S] [--depth D]
//! interop sub --topic T --count N --timeout S [--reliable|--best-effort] [--transient-local]
//!             [--keyed] [--domain D] [--linger S] [--quiet] [--depth D]
//! (pub and sub also take --unchecked: a ddsperf-like workload for speed comparisons; every
//! mode takes --busy-poll US, the receive threads' poll window)
//! interop ping|pong --topic T --count N --size B ...   (latency, half round trip)
//! ```
//!
//! `sub` prints `<seq> <text-len>` per sample on stdout; events and a `SUMMARY` line go to
//! stderr. Exit status: 0 ok, 1 timeout / no reader / not acknowledged, 2 corrupt content or
//! usage error, 3 entity creation failed. `ping` sends a sample on `<topic>_ping` as soon as
//! the previous answer arrived on `<topic>_pong` and prints the half round-trip percentiles;
//! `pong` echoes. Run only inside `../shared/oracles/netns-run`.

mod events;
mod latency;
mod pubsub;
mod types;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use rtps::dds::{DomainParticipant, ParticipantOptions, Qos};

/// What this implementation calls itself in `[impl]` prefixes and `SUMMARY impl=`.
pub const IMPL: &str = "rust";

/// The clock (examples, like the driver, may read it).
#[allow(clippy::disallowed_methods)]
pub fn now() -> Instant {
    Instant::now()
}

/// Role of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Write `--count` samples.
    Pub,
    /// Wait for `--count` samples, check their content.
    Sub,
    /// Latency: write a ping, wait for its pong, `--count` times.
    Ping,
    /// Latency: answer every ping.
    Pong,
}

/// The oracle contract's options (README "The oracle contract").
#[derive(Debug, Clone, Parser)]
#[command(
    name = "interop",
    about = "RTPS interop/perf peer with the CLI of the Fast DDS and Cyclone DDS oracles"
)]
pub struct Options {
    /// pub | sub | ping | pong
    #[arg(value_enum)]
    pub mode: Mode,
    /// Topic name.
    #[arg(long, default_value = "interop")]
    pub topic: String,
    /// pub: samples to write (seq 1..N); sub: samples to wait for; ping: round trips.
    #[arg(long, default_value_t = 10)]
    pub count: u32,
    /// DDS domain id.
    #[arg(long, default_value_t = 0)]
    pub domain: u32,
    /// RELIABLE reliability (default).
    #[arg(long, overrides_with = "best_effort")]
    pub reliable: bool,
    /// BEST_EFFORT reliability.
    #[arg(long = "best-effort", overrides_with = "reliable")]
    pub best_effort: bool,
    /// TRANSIENT_LOCAL durability (default VOLATILE).
    #[arg(long = "transient-local")]
    pub transient_local: bool,
    /// Use interop::KeyedMessage (id = seq) instead of interop::Message.
    #[arg(long)]
    pub keyed: bool,
    /// pub/ping: text length per sample.
    #[arg(long, default_value_t = 16)]
    pub size: usize,
    /// pub: samples per second, 0 = as fast as possible.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// pub: with --rate, samples written back-to-back per period (0 is taken as 1).
    #[arg(long, default_value_t = 1)]
    pub burst: u32,
    /// pub/ping: wait for M matched readers before writing (0 = write at once).
    #[arg(long = "wait-subs", default_value_t = 1)]
    pub wait_subs: usize,
    /// pub/ping: pause after matching before the first write, in ms.
    #[arg(long, default_value_t = 500)]
    pub settle: u64,
    /// Stay alive S s at the end (pub default 1 s after the last write/ack; sub default 0).
    #[arg(long)]
    pub linger: Option<f64>,
    /// sub: give up after S s; pub: max wait for readers, for acks, and write blocking time.
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// History KEEP_LAST D; 0 = KEEP_ALL (writer and reader).
    #[arg(long, default_value_t = 0)]
    pub depth: u32,
    /// sub: no per-sample lines.
    #[arg(long)]
    pub quiet: bool,
    /// ddsperf-like workload, for speed comparisons with `ddsperf pub`/`sub`: pub fills the
    /// text once and only changes the sample number (each write still serializes the whole
    /// sample); sub copies each payload out of the reader and reads only the sample number
    /// (no decoding or checking of the text). Rust program only; the oracles lack it.
    #[arg(long)]
    pub unchecked: bool,
    /// Microseconds the receive threads keep polling after a datagram before they block
    /// (`ParticipantOptions::busy_poll`; 0: block at once). Rust program only.
    #[arg(long, value_name = "US", default_value_t = rtps::dds::DEFAULT_BUSY_POLL.as_micros() as u64)]
    pub busy_poll: u64,
    /// ping: round trips not counted in the statistics at the start.
    #[arg(long, default_value_t = 100)]
    pub warmup: u32,
    /// Accepted for CLI compatibility with oracle-fastdds; ignored.
    #[arg(long)]
    pub shm: bool,
    /// Accepted for CLI compatibility with oracle-fastdds; ignored (buffers are 4 MiB).
    #[arg(long)]
    pub sockbuf: Option<u64>,
}

impl Options {
    /// Reliable unless `--best-effort` came last.
    pub fn is_reliable(&self) -> bool {
        !self.best_effort
    }

    /// `--timeout` as a duration (negative or NaN: zero).
    pub fn timeout(&self) -> Duration {
        secs(self.timeout)
    }

    /// `--linger` with the oracles' per-role defaults.
    pub fn linger(&self) -> Duration {
        secs(self.linger.unwrap_or(match self.mode {
            Mode::Pub => 1.0,
            _ => 0.0,
        }))
    }

    /// The type name on the wire.
    pub fn type_name(&self) -> &'static str {
        if self.keyed {
            types::KEYED_MESSAGE_TYPE
        } else {
            types::MESSAGE_TYPE
        }
    }

    /// Endpoint QoS as the oracles set it: reliability, durability, KEEP_ALL or KEEP_LAST
    /// `--depth`, blocking time `--timeout`; history room for every sample (oracle finding 4).
    pub fn qos(&self, writer: bool) -> Qos {
        let mut q = Qos::default().keyed(self.keyed);
        q = if self.is_reliable() {
            q.reliable()
        } else {
            q.best_effort()
        };
        q = if self.transient_local {
            q.transient_local()
        } else {
            q.volatile()
        };
        q = if self.depth > 0 {
            q.keep_last(self.depth)
        } else {
            let room = if writer {
                self.count.saturating_add(1)
            } else {
                self.count.saturating_add(100)
            };
            q.keep_all().max_samples(room.max(100))
        };
        q.max_blocking_time(self.timeout())
    }
}

/// Seconds as a duration; negative, NaN or huge values are clamped.
pub fn secs(s: f64) -> Duration {
    if s.is_finite() && s > 0.0 {
        Duration::try_from_secs_f64(s).unwrap_or(Duration::from_secs(u64::from(u32::MAX)))
    } else {
        Duration::ZERO
    }
}

/// Open the participant and print the oracles' `participant` line; `None` (after printing
/// why) when it cannot be created.
pub fn make_participant(o: &Options) -> Option<DomainParticipant> {
    let role = match o.mode {
        Mode::Pub => "pub",
        Mode::Sub => "sub",
        Mode::Ping => "ping",
        Mode::Pong => "pong",
    };
    let options = ParticipantOptions::default()
        .domain_id(o.domain)
        .name(format!("interop-{IMPL}-{role}"))
        .busy_poll(Duration::from_micros(o.busy_poll));
    match DomainParticipant::new(options) {
        Ok(p) => {
            let guid = rtps::wire::Guid::new(p.guid_prefix(), rtps::wire::EntityId::PARTICIPANT);
            eprintln!(
                "[{IMPL}] participant {} domain={} topic={} type={} reliability={} durability={}",
                types::guid_str(guid),
                o.domain,
                o.topic,
                o.type_name(),
                if o.is_reliable() {
                    "reliable"
                } else {
                    "best-effort"
                },
                if o.transient_local {
                    "transient-local"
                } else {
                    "volatile"
                },
            );
            Some(p)
        }
        Err(e) => {
            eprintln!("[{IMPL}] create participant: {e}");
            None
        }
    }
}

fn main() -> ExitCode {
    let o = match Options::try_parse() {
        Ok(o) => o,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let rc = match o.mode {
        Mode::Pub => pubsub::run_pub(&o),
        Mode::Sub => pubsub::run_sub(&o),
        Mode::Ping => latency::run_ping(&o),
        Mode::Pong => latency::run_pong(&o),
    };
    ExitCode::from(rc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        Options::try_parse_from(std::iter::once("interop").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_are_the_oracles_defaults() {
        let o = parse(&["sub"]).unwrap();
        assert_eq!(o.topic, "interop");
        assert_eq!(o.count, 10);
        assert!(o.is_reliable());
        assert!(!o.transient_local && !o.keyed && !o.quiet);
        assert_eq!(o.size, 16);
        assert_eq!((o.wait_subs, o.settle, o.depth), (1, 500, 0));
        assert_eq!(o.timeout(), Duration::from_secs(30));
        assert_eq!(o.linger(), Duration::ZERO);
        assert_eq!(parse(&["pub"]).unwrap().linger(), Duration::from_secs(1));
    }

    #[test]
    fn the_run_interop_all_command_lines_parse() {
        let o = parse(&[
            "pub",
            "--topic",
            "rust_3",
            "--count",
            "10",
            "--best-effort",
            "--size",
            "200000",
            "--timeout",
            "20",
        ])
        .unwrap();
        assert!(!o.is_reliable());
        assert_eq!((o.size, o.count, o.topic.as_str()), (200_000, 10, "rust_3"));
        let o = parse(&[
            "pub",
            "--transient-local",
            "--size",
            "1024",
            "--wait-subs",
            "0",
            "--settle",
            "0",
            "--linger",
            "6",
            "--keyed",
            "--rate",
            "100",
            "--burst",
            "5",
            "--shm",
            "--sockbuf",
            "1000",
            "--depth",
            "3",
        ])
        .unwrap();
        assert!(o.transient_local && o.keyed);
        assert_eq!(o.linger(), Duration::from_secs(6));
        assert_eq!(o.type_name(), "interop::KeyedMessage");
        let o = parse(&[
            "sub",
            "--quiet",
            "--linger",
            "3.5",
            "--best-effort",
            "--reliable",
        ])
        .unwrap();
        assert!(o.quiet && o.is_reliable());
        assert_eq!(o.linger(), Duration::from_millis(3500));
    }

    #[test]
    fn usage_errors_are_reported_not_accepted() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["relay"]).is_err());
        assert!(parse(&["sub", "--frobnicate"]).is_err());
        assert!(parse(&["sub", "--count"]).is_err());
        assert!(parse(&["sub", "--count", "x"]).is_err());
    }

    #[test]
    fn odd_durations_are_clamped_not_panicking() {
        assert_eq!(secs(-1.0), Duration::ZERO);
        assert_eq!(secs(f64::NAN), Duration::ZERO);
        assert!(secs(1e300) > Duration::from_secs(1_000_000));
    }
}
