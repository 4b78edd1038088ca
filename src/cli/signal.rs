//! Graceful Ctrl-C / SIGTERM: the first signal sets a stop flag the commands poll, so every
//! node publishes `stopped`, then `dropped`, and its participant says goodbye (peers notice at
//! once instead of after the lease); a second signal exits at once with status 130.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

/// Set by the first SIGINT / SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);
/// Signals received so far.
static SIGNALS: AtomicU32 = AtomicU32::new(0);

/// Exit status of a process stopped by a signal before it finished its work (128 + SIGINT).
pub const INTERRUPTED_EXIT: u8 = 130;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It did all it was asked (or, for commands that run until interrupted, it was stopped).
    Completed,
    /// A signal stopped it before its work was done (exit status 130).
    Interrupted,
    /// It stopped on an error it has already reported, after finishing what it could
    /// (exit status 1).
    Failed,
    /// It ended, but some jobs failed (`amlip main`: exit status [`JOBS_FAILED_EXIT`]).
    JobsFailed,
}

/// Exit status of `amlip main` when some jobs failed on every attempt.
pub const JOBS_FAILED_EXIT: u8 = 3;

/// Install the SIGINT / SIGTERM handler (a warning if it cannot be installed: the default
/// action, killing the process, then applies).
pub fn install() {
    let r = ctrlc::set_handler(|| {
        if SIGNALS.fetch_add(1, Ordering::AcqRel) == 0 {
            STOP.store(true, Ordering::Release);
            eprintln!("amlip: stopping (interrupt again to quit at once)");
        } else {
            eprintln!("amlip: quitting at once");
            std::process::exit(i32::from(INTERRUPTED_EXIT));
        }
    });
    if let Err(e) = r {
        log::warn!("cannot handle Ctrl-C gracefully: {e}");
    }
}

/// The stop flag (for `ComputingNode::run`).
pub fn stop_flag() -> &'static AtomicBool {
    &STOP
}

/// True once a stop signal came.
pub fn stopping() -> bool {
    STOP.load(Ordering::Acquire)
}

/// Sleep for `d`, cut short by a stop signal; true if it slept the whole time.
pub fn sleep(d: Duration) -> bool {
    const STEP: Duration = Duration::from_millis(20);
    let mut left = d;
    while !left.is_zero() {
        if stopping() {
            return false;
        }
        let step = left.min(STEP);
        std::thread::sleep(step);
        left = left.saturating_sub(step);
    }
    !stopping()
}
