//! Fault injection on the send path of the UDP transport: a **test aid** for rehearsing a
//! bad network where the kernel has no `netem`.
//!
//! `AMLIP_FAULTS="loss=0.2,dup=0.05,reorder=0.25,delay=1ms"` (read once per process by
//! `from_env`) applies to every datagram the process sends through the driver:
//! - `loss=P`: the datagram is dropped with probability `P`;
//! - `dup=P`: it is sent twice with probability `P`;
//! - `reorder=P`: it is held back by [`REORDER_HOLD`] (plus `delay`) with probability `P`, so
//!   the datagrams sent after it overtake it;
//! - `delay=D` (`500us`, `1ms`, `0.2s`): every datagram is sent `D` later.
//!
//! Probabilities are decimals in `[0, 1]` or percentages (`20%`). `AMLIP_FAULTS_SEED=N`
//! seeds the random choices for repeatable runs (default: from the clock); each participant
//! of the process draws from its own stream derived from that seed. A malformed variable is
//! reported on stderr and ignored: the process runs without faults, it never panics.
//!
//! [`FaultInjector`] is pure (time handed in, its own seeded generator): the driver hands it
//! each datagram and sends what [`FaultInjector::pop_due`] returns.

use core::fmt;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(feature = "udp")]
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The environment variable with the fault specification.
pub const FAULTS_ENV: &str = "AMLIP_FAULTS";
/// The environment variable with the seed of the fault injector.
pub const FAULTS_SEED_ENV: &str = "AMLIP_FAULTS_SEED";
/// How long a reordered datagram is held back (on top of `delay`).
pub const REORDER_HOLD: Duration = Duration::from_millis(1);
/// Most datagrams held back at once; beyond that a datagram goes out without its delay.
pub const MAX_HELD: usize = 4096;
/// Longest `delay` accepted.
const MAX_DELAY: Duration = Duration::from_secs(10);

/// What to do to sent datagrams; probabilities in parts per million.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct FaultConfig {
    /// Probability (ppm) that a datagram is dropped.
    pub loss_ppm: u32,
    /// Probability (ppm) that a datagram is sent twice.
    pub dup_ppm: u32,
    /// Probability (ppm) that a datagram is held back by [`REORDER_HOLD`].
    pub reorder_ppm: u32,
    /// Delay added to every datagram.
    pub delay: Duration,
    /// Seed of the random choices.
    pub seed: u64,
}

/// Why a fault specification did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultParseError {
    /// An item without `=`.
    MissingValue(String),
    /// A key other than loss, dup, reorder, delay.
    UnknownKey(String),
    /// A probability outside `[0, 1]` or not a number.
    BadProbability(String),
    /// A delay without a unit (us, ms, s), negative or above 10 s.
    BadDelay(String),
    /// The seed is not an unsigned integer.
    BadSeed(String),
}

impl fmt::Display for FaultParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultParseError::MissingValue(s) => write!(f, "`{s}`: expected key=value"),
            FaultParseError::UnknownKey(s) => {
                write!(f, "unknown key `{s}` (expected loss, dup, reorder, delay)")
            }
            FaultParseError::BadProbability(s) => {
                write!(f, "`{s}`: expected a probability in [0, 1] or a percentage")
            }
            FaultParseError::BadDelay(s) => {
                write!(
                    f,
                    "`{s}`: expected a delay such as 500us, 1ms, 0.2s (at most 10 s)"
                )
            }
            FaultParseError::BadSeed(s) => write!(f, "`{s}`: expected an unsigned integer seed"),
        }
    }
}

impl std::error::Error for FaultParseError {}

fn parse_probability(v: &str) -> Result<u32, FaultParseError> {
    let bad = || FaultParseError::BadProbability(v.to_owned());
    let (num, scale) = match v.strip_suffix('%') {
        Some(n) => (n, 0.01),
        None => (v, 1.0),
    };
    let p = num.trim().parse::<f64>().map_err(|_| bad())? * scale;
    if !(0.0..=1.0).contains(&p) {
        return Err(bad());
    }
    // In range, so the product fits in a u32.
    Ok((p * 1e6).round() as u32)
}

fn parse_delay(v: &str) -> Result<Duration, FaultParseError> {
    let bad = || FaultParseError::BadDelay(v.to_owned());
    let v = v.trim();
    let (num, unit_s) = if let Some(n) = v.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1.0)
    } else {
        return Err(bad());
    };
    let secs = num.trim().parse::<f64>().map_err(|_| bad())? * unit_s;
    if !(0.0..=MAX_DELAY.as_secs_f64()).contains(&secs) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

impl FaultConfig {
    /// Parse `loss=0.2,dup=0.05,reorder=0.25,delay=1ms` (any subset, any order; an empty
    /// string is no fault). The seed stays 0.
    pub fn parse(spec: &str) -> Result<FaultConfig, FaultParseError> {
        let mut c = FaultConfig::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| FaultParseError::MissingValue(item.to_owned()))?;
            match key.trim() {
                "loss" => c.loss_ppm = parse_probability(value)?,
                "dup" => c.dup_ppm = parse_probability(value)?,
                "reorder" => c.reorder_ppm = parse_probability(value)?,
                "delay" => c.delay = parse_delay(value)?,
                other => return Err(FaultParseError::UnknownKey(other.to_owned())),
            }
        }
        Ok(c)
    }

    /// This configuration with `seed`.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// True when it changes nothing.
    pub fn is_none(&self) -> bool {
        self.loss_ppm == 0 && self.dup_ppm == 0 && self.reorder_ppm == 0 && self.delay.is_zero()
    }
}

/// Parse the two environment values (`None` when `spec` is unset); `clock_seed` is used when
/// no seed is given.
pub fn from_values(
    spec: Option<&str>,
    seed: Option<&str>,
    clock_seed: u64,
) -> Result<Option<FaultConfig>, FaultParseError> {
    let Some(spec) = spec else {
        return Ok(None);
    };
    let config = FaultConfig::parse(spec)?;
    let seed = match seed {
        Some(s) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| FaultParseError::BadSeed(s.to_owned()))?,
        None => clock_seed,
    };
    Ok((!config.is_none()).then_some(config.with_seed(seed)))
}

/// `AMLIP_FAULTS` / `AMLIP_FAULTS_SEED`, read once per process. A malformed value is reported
/// on stderr (and the log) and ignored. (It reads the environment and the clock: the driver's
/// side, behind the `udp` feature.)
#[cfg(feature = "udp")]
pub fn from_env() -> Option<FaultConfig> {
    static CONFIG: OnceLock<Option<FaultConfig>> = OnceLock::new();
    *CONFIG.get_or_init(|| {
        let spec = std::env::var(FAULTS_ENV).ok();
        let seed = std::env::var(FAULTS_SEED_ENV).ok();
        let clock = super::driver::unix_time().map_or(0, |d| d.as_nanos() as u64);
        match from_values(spec.as_deref(), seed.as_deref(), clock) {
            Ok(Some(c)) => {
                log::warn!("{FAULTS_ENV}: injecting faults into sent datagrams: {c:?}");
                Some(c)
            }
            Ok(None) => None,
            Err(e) => {
                eprintln!("warning: {FAULTS_ENV}/{FAULTS_SEED_ENV} ignored: {e}");
                log::error!("{FAULTS_ENV}/{FAULTS_SEED_ENV} ignored: {e}");
                None
            }
        }
    })
}

/// splitmix64 step.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut x = *state;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Counters of what the injector did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultStats {
    /// Datagrams handed in.
    pub submitted: u64,
    /// Dropped.
    pub lost: u64,
    /// Sent twice.
    pub duplicated: u64,
    /// Held back to be overtaken.
    pub reordered: u64,
}

/// Applies a [`FaultConfig`] to datagrams: [`FaultInjector::submit`] each one, then send
/// what [`FaultInjector::pop_due`] returns (now or later, see [`FaultInjector::next_due`]).
#[derive(Debug)]
pub struct FaultInjector {
    config: FaultConfig,
    rng: u64,
    queue: BTreeMap<(Instant, u64), (Vec<u8>, SocketAddr)>,
    order: u64,
    stats: FaultStats,
}

impl FaultInjector {
    /// An injector drawing from the stream `stream` of the configured seed.
    pub fn new(config: FaultConfig, stream: u64) -> Self {
        let mut rng = config.seed ^ stream.wrapping_mul(0xd134_2543_de82_ef95);
        splitmix(&mut rng);
        FaultInjector {
            config,
            rng,
            queue: BTreeMap::new(),
            order: 0,
            stats: FaultStats::default(),
        }
    }

    /// An injector on its own stream: the n-th created in this process gets stream n, so a
    /// process that creates its participants in the same order draws the same faults.
    pub fn next_in_process(config: FaultConfig) -> Self {
        static STREAMS: AtomicU64 = AtomicU64::new(0);
        FaultInjector::new(config, STREAMS.fetch_add(1, Ordering::Relaxed))
    }

    fn chance(&mut self, ppm: u32) -> bool {
        ppm > 0 && splitmix(&mut self.rng) % 1_000_000 < u64::from(ppm)
    }

    /// What was done so far.
    pub fn stats(&self) -> FaultStats {
        self.stats
    }

    /// Decide the fate of one datagram sent at `now`: dropped, or queued (once or twice) to go
    /// out at `now`, `now + delay` or later when reordered.
    pub fn submit(&mut self, now: Instant, bytes: &[u8], to: SocketAddr) {
        self.stats.submitted += 1;
        if self.chance(self.config.loss_ppm) {
            self.stats.lost += 1;
            return;
        }
        let copies = if self.chance(self.config.dup_ppm) {
            self.stats.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut hold = self.config.delay;
            if self.chance(self.config.reorder_ppm) {
                self.stats.reordered += 1;
                hold += REORDER_HOLD;
            }
            let due = if hold.is_zero() || self.queue.len() >= MAX_HELD {
                now
            } else {
                now.checked_add(hold).unwrap_or(now)
            };
            self.order = self.order.wrapping_add(1);
            self.queue.insert((due, self.order), (bytes.to_vec(), to));
        }
    }

    /// The next datagram due at `now`, oldest deadline first.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Vec<u8>, SocketAddr)> {
        let entry = self.queue.first_entry().filter(|e| e.key().0 <= now)?;
        Some(entry.remove())
    }

    /// When the next held datagram is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.queue.keys().next().map(|(t, _)| *t)
    }

    /// Datagrams held back.
    pub fn held(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let c = FaultConfig::parse("loss=0.2,dup=0.05,reorder=0.25,delay=1ms").unwrap();
        assert_eq!(c.loss_ppm, 200_000);
        assert_eq!(c.dup_ppm, 50_000);
        assert_eq!(c.reorder_ppm, 250_000);
        assert_eq!(c.delay, Duration::from_millis(1));
    }

    #[test]
    fn parses_percentages_units_spaces_and_subsets() {
        let c = FaultConfig::parse(" loss = 30% , delay=500us ").unwrap();
        assert_eq!((c.loss_ppm, c.dup_ppm), (300_000, 0));
        assert_eq!(c.delay, Duration::from_micros(500));
        assert_eq!(
            FaultConfig::parse("delay=0.2s").unwrap().delay,
            Duration::from_millis(200)
        );
        assert!(FaultConfig::parse("").unwrap().is_none());
    }

    #[test]
    fn rejects_malformed_specs_with_a_reason() {
        for (spec, want) in [
            ("loss", FaultParseError::MissingValue("loss".into())),
            ("lose=0.1", FaultParseError::UnknownKey("lose".into())),
            ("loss=1.5", FaultParseError::BadProbability("1.5".into())),
            ("loss=-0.1", FaultParseError::BadProbability("-0.1".into())),
            ("dup=x", FaultParseError::BadProbability("x".into())),
            ("loss=NaN", FaultParseError::BadProbability("NaN".into())),
            ("delay=5", FaultParseError::BadDelay("5".into())),
            ("delay=20s", FaultParseError::BadDelay("20s".into())),
        ] {
            assert_eq!(FaultConfig::parse(spec), Err(want.clone()), "{spec}");
            assert!(!want.to_string().is_empty());
        }
    }

    #[test]
    fn environment_values_take_the_seed_or_the_clock() {
        assert_eq!(from_values(None, Some("1"), 9), Ok(None));
        let c = from_values(Some("loss=0.1"), Some("42"), 9)
            .unwrap()
            .unwrap();
        assert_eq!((c.loss_ppm, c.seed), (100_000, 42));
        let c = from_values(Some("loss=0.1"), None, 9).unwrap().unwrap();
        assert_eq!(c.seed, 9);
        assert_eq!(from_values(Some("loss=0"), None, 9), Ok(None));
        assert!(matches!(
            from_values(Some("loss=0.1"), Some("-3"), 9),
            Err(FaultParseError::BadSeed(_))
        ));
    }

    fn run(config: FaultConfig, n: u64) -> (FaultInjector, Vec<u64>) {
        let t0 = crate::reliability::test_support::t0();
        let to: SocketAddr = "127.0.0.1:7400".parse().unwrap();
        let mut inj = FaultInjector::new(config, 0);
        let mut out = Vec::new();
        for i in 0..n {
            let now = t0 + Duration::from_micros(10 * i);
            inj.submit(now, &i.to_le_bytes(), to);
            while let Some((b, _)) = inj.pop_due(now) {
                out.push(u64::from_le_bytes(b.try_into().unwrap()));
            }
        }
        let end = t0 + Duration::from_secs(60);
        while let Some((b, _)) = inj.pop_due(end) {
            out.push(u64::from_le_bytes(b.try_into().unwrap()));
        }
        (inj, out)
    }

    #[test]
    fn loss_dup_and_reorder_happen_at_about_the_configured_rates() {
        let c = FaultConfig::parse("loss=0.2,dup=0.05,reorder=0.25")
            .unwrap()
            .with_seed(7);
        let (inj, out) = run(c, 20_000);
        let s = inj.stats();
        assert_eq!(s.submitted, 20_000);
        assert!((3_600..4_400).contains(&s.lost), "{s:?}");
        assert!((600..1_000).contains(&s.duplicated), "{s:?}");
        assert!((3_600..4_400).contains(&s.reordered), "{s:?}");
        assert_eq!(out.len() as u64, 20_000 - s.lost + s.duplicated);
        assert!(out.windows(2).any(|w| w[0] > w[1]), "some overtaken");
        assert_eq!(inj.held(), 0);
    }

    #[test]
    fn the_same_seed_gives_the_same_faults_and_no_faults_change_nothing() {
        let c = FaultConfig::parse("loss=0.3,reorder=0.5,dup=0.1")
            .unwrap()
            .with_seed(3);
        assert_eq!(run(c, 500).1, run(c, 500).1);
        assert_ne!(run(c, 500).1, run(c.with_seed(4), 500).1);
        let (_, out) = run(FaultConfig::default(), 100);
        assert_eq!(out, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn delay_holds_every_datagram_and_the_queue_is_bounded() {
        let c = FaultConfig::parse("delay=1ms").unwrap();
        let t0 = crate::reliability::test_support::t0();
        let to: SocketAddr = "127.0.0.1:7400".parse().unwrap();
        let mut inj = FaultInjector::new(c, 1);
        inj.submit(t0, b"a", to);
        assert!(inj.pop_due(t0).is_none());
        assert_eq!(inj.next_due(), Some(t0 + Duration::from_millis(1)));
        assert!(inj.pop_due(t0 + Duration::from_millis(1)).is_some());
        for _ in 0..MAX_HELD + 10 {
            inj.submit(t0, b"b", to);
        }
        let now_sendable = std::iter::from_fn(|| inj.pop_due(t0)).count();
        assert_eq!(now_sendable, 10, "past the cap, datagrams go out at once");
    }
}
