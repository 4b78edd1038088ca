//! What the macro benches share: a record of every measured figure, printed at the end of the
//! run as `FIGURE` lines (`benches/measure.sh` turns them into a Markdown table), so ratios are
//! taken between figures of the same run.

#![allow(dead_code)]

use std::sync::Mutex;
use std::time::Duration;

/// One figure: its key, what it means, its unit, and its samples (value per operation).
struct Figure {
    key: &'static str,
    what: &'static str,
    unit: Unit,
    samples: Vec<f64>,
    ops: u64,
}

/// How a figure is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Seconds per operation, shown in microseconds.
    Micros,
    /// Seconds per operation, shown in milliseconds.
    Millis,
    /// Operations per second.
    PerSecond,
    /// A plain ratio (recorded with [`record_value`]).
    Ratio,
}

static FIGURES: Mutex<Vec<Figure>> = Mutex::new(Vec::new());

/// True when run by `cargo bench` (criterion's benchmark mode), false for the
/// `cargo test --benches` smoke run.
pub fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench") && !std::env::args().any(|a| a == "--test")
}

/// Record that `ops` operations took `elapsed` (one criterion sample or warm-up batch).
pub fn record(key: &'static str, what: &'static str, unit: Unit, elapsed: Duration, ops: u64) {
    if ops == 0 {
        return;
    }
    let per_op = elapsed.as_secs_f64() / ops as f64;
    let value = match unit {
        Unit::PerSecond if per_op > 0.0 => 1.0 / per_op,
        Unit::PerSecond => 0.0,
        Unit::Micros | Unit::Millis | Unit::Ratio => per_op,
    };
    push(key, what, unit, value, ops);
}

/// Record one sample of a figure measured directly (a ratio).
pub fn record_value(key: &'static str, what: &'static str, unit: Unit, value: f64) {
    push(key, what, unit, value, 1);
}

fn push(key: &'static str, what: &'static str, unit: Unit, value: f64, ops: u64) {
    let mut f = FIGURES.lock().unwrap_or_else(|p| p.into_inner());
    match f.iter_mut().find(|x| x.key == key) {
        Some(x) => {
            x.samples.push(value);
            x.ops = x.ops.saturating_add(ops);
        }
        None => f.push(Figure {
            key,
            what,
            unit,
            samples: vec![value],
            ops,
        }),
    }
}

/// The median of a figure's samples (seconds per op, or ops per second).
pub fn median(key: &str) -> Option<f64> {
    let f = FIGURES.lock().unwrap_or_else(|p| p.into_inner());
    let x = f.iter().find(|x| x.key == key)?;
    let mut s = x.samples.clone();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied()
}

/// Print every figure (median of its samples) and the ratios of medians asked for, as
/// `FIGURE<TAB>key<TAB>value<TAB>unit<TAB>description` lines.
pub fn print_figures(ratios: &[(&'static str, &'static str, &'static str, f64)]) {
    let rows: Vec<(&'static str, &'static str, Unit, usize, u64)> = {
        let f = FIGURES.lock().unwrap_or_else(|p| p.into_inner());
        f.iter()
            .map(|x| (x.key, x.what, x.unit, x.samples.len(), x.ops))
            .collect()
    };
    println!();
    for (key, what, unit, n, ops) in rows {
        let Some(m) = median(key) else {
            continue;
        };
        let (v, u) = match unit {
            Unit::Micros => (m * 1e6, "us"),
            Unit::Millis => (m * 1e3, "ms"),
            Unit::PerSecond => (m, "/s"),
            Unit::Ratio => (m, "x"),
        };
        let digits = if unit == Unit::Ratio { 2 } else { 1 };
        println!("FIGURE\t{key}\t{v:.digits$}\t{u}\t{what} (median of {n} samples, {ops} ops)");
    }
    // (key, numerator, denominator, scale): numerator / (scale x denominator).
    for (key, num, den, scale) in ratios {
        if let (Some(a), Some(b)) = (median(num), median(den)) {
            if b > 0.0 {
                println!(
                    "FIGURE\t{key}\t{:.2}\tx\t{num} / ({scale} x {den})",
                    a / (scale * b)
                );
            }
        }
    }
}
