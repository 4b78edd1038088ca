//! Shared by the examples: the clock and their `[JOBS] [COMPUTING] [DOMAIN]` arguments.

use std::time::Instant;

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
