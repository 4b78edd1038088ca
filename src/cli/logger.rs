//! A small stderr logger for the `log` facade: level from `-v` (repeatable) or `AMLIP_LOG`.

use std::io::Write;

use log::{LevelFilter, Log, Metadata, Record};

/// Prints `amlip[LEVEL] target: message` on stderr.
#[derive(Debug)]
struct StderrLogger {
    level: LevelFilter,
}

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let _ = writeln!(
                std::io::stderr().lock(),
                "amlip[{}] {}: {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

/// The level for `-v` given `verbose` times, unless `AMLIP_LOG` (`off`, `error`, `warn`,
/// `info`, `debug`, `trace`) says otherwise.
pub fn level(verbose: u8, env: Option<&str>) -> LevelFilter {
    if let Some(l) = env.and_then(|e| e.trim().parse::<LevelFilter>().ok()) {
        return l;
    }
    match verbose {
        0 => LevelFilter::Warn,
        1 => LevelFilter::Info,
        2 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

/// Install the logger (once; later calls do nothing).
pub fn init(verbose: u8) {
    let env = std::env::var("AMLIP_LOG").ok();
    let level = level(verbose, env.as_deref());
    let logger: &'static StderrLogger = Box::leak(Box::new(StderrLogger { level }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_and_the_environment_pick_the_level() {
        assert_eq!(level(0, None), LevelFilter::Warn);
        assert_eq!(level(1, None), LevelFilter::Info);
        assert_eq!(level(2, None), LevelFilter::Debug);
        assert_eq!(level(9, None), LevelFilter::Trace);
        assert_eq!(level(0, Some("debug")), LevelFilter::Debug);
        assert_eq!(level(3, Some("off")), LevelFilter::Off);
        assert_eq!(level(1, Some("loud")), LevelFilter::Info);
    }
}
