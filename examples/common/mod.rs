//! Shared by the examples: the clock, their `[JOBS] [COMPUTING] [DOMAIN]` arguments and
//! their computing nodes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use amlip::node::{ComputingNode, NodeError, NodeOptions};

/// The current time (examples are drivers: they may read the clock).
#[allow(clippy::disallowed_methods)]
pub fn clock() -> Instant {
    Instant::now()
}

fn arg<T: std::str::FromStr>(i: usize, name: &str, default: T) -> Result<T, String> {
    match std::env::args().nth(i) {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|_| format!("{name}: not a number: {s:?}")),
    }
}

/// `[JOBS] [COMPUTING] [DOMAIN]` from the command line, each defaulting to `defaults` (JOBS
/// and COMPUTING at least 1); `None` after printing the usage of example `name`.
pub fn jobs_computing_domain(
    name: &str,
    defaults: (usize, usize, u32),
) -> Option<(usize, usize, u32)> {
    let parsed = (|| {
        Ok::<_, String>((
            arg(1, "JOBS", defaults.0)?.max(1),
            arg(2, "COMPUTING", defaults.1)?.max(1),
            arg(3, "DOMAIN", defaults.2)?,
        ))
    })();
    match parsed {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("{name}: {e}\nusage: {name} [JOBS] [COMPUTING] [DOMAIN]");
            None
        }
    }
}

/// Run `f` while `computing` computing nodes (named `{name}0`, `{name}1`, ... on `options`)
/// answer jobs with `solve`, one at a time each, on their own threads; they stop when `f`
/// returns (jobs already won are finished first).
pub fn with_computing<R>(
    name: &str,
    computing: usize,
    options: &NodeOptions,
    solve: fn(&[u8]) -> Vec<u8>,
    f: impl FnOnce(&[ComputingNode]) -> Result<R, NodeError>,
) -> Result<R, NodeError> {
    let comps = (0..computing)
        .map(|i| ComputingNode::new(&format!("{name}{i}"), options.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for c in &comps {
            let stop = &stop;
            s.spawn(move || c.run(stop, 1, solve));
        }
        let result = f(&comps);
        stop.store(true, Ordering::Release);
        result
    })
}
