//! `--delay MIN..MAX`: how long the mock engine "works" on a job.

use core::fmt;
use core::str::FromStr;
use std::time::Duration;

use rand::Rng;

/// The longest delay accepted (a typo guard).
const MAX_DELAY: Duration = Duration::from_secs(3600);

/// A uniformly random delay between `min` and `max` (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delay {
    /// Shortest wait.
    pub min: Duration,
    /// Longest wait.
    pub max: Duration,
}

impl Delay {
    /// A delay drawn uniformly from `min..=max`.
    pub fn sample(&self, rng: &mut impl Rng) -> Duration {
        if self.max <= self.min {
            return self.min;
        }
        let span = (self.max - self.min).as_micros();
        let span = u64::try_from(span).unwrap_or(u64::MAX);
        self.min + Duration::from_micros(rng.gen_range(0..=span))
    }
}

/// One duration: a number of seconds (`2`, `0.5`, `1s`) or milliseconds (`200ms`).
fn parse_one(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (try 2, 1.5s or 200ms)"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("'{s}' is not a duration (try 2, 1.5s or 200ms)"));
    }
    let secs = v * scale;
    if secs > MAX_DELAY.as_secs_f64() {
        return Err(format!("'{s}' is longer than an hour"));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl FromStr for Delay {
    type Err = String;

    /// `X` (fixed) or `MIN..MAX`, each in seconds (`1`, `0.5s`) or milliseconds (`200ms`).
    fn from_str(s: &str) -> Result<Self, String> {
        let (min, max) = match s.split_once("..") {
            Some((a, b)) => (parse_one(a)?, parse_one(b)?),
            None => {
                let d = parse_one(s)?;
                (d, d)
            }
        };
        if min > max {
            return Err(format!("'{s}': the minimum is above the maximum"));
        }
        Ok(Delay { min, max })
    }
}

fn show(d: Duration, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if d.subsec_millis() == 0 && d.subsec_nanos() == 0 {
        write!(f, "{}s", d.as_secs())
    } else {
        write!(f, "{}ms", d.as_millis())
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show(self.min, f)?;
        if self.max != self.min {
            f.write_str("..")?;
            show(self.max, f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn d(s: &str) -> Result<Delay, String> {
        s.parse()
    }

    #[test]
    fn accepts_seconds_milliseconds_and_ranges() {
        let ms = Duration::from_millis;
        assert_eq!(
            d("0").unwrap(),
            Delay {
                min: ms(0),
                max: ms(0)
            }
        );
        assert_eq!(
            d("0..0").unwrap(),
            Delay {
                min: ms(0),
                max: ms(0)
            }
        );
        assert_eq!(
            d("1..5").unwrap(),
            Delay {
                min: ms(1000),
                max: ms(5000)
            }
        );
        assert_eq!(
            d("200ms..1s").unwrap(),
            Delay {
                min: ms(200),
                max: ms(1000)
            }
        );
        assert_eq!(
            d("0.5").unwrap(),
            Delay {
                min: ms(500),
                max: ms(500)
            }
        );
        assert_eq!(
            d(" 2s .. 3 ").unwrap(),
            Delay {
                min: ms(2000),
                max: ms(3000)
            }
        );
    }

    #[test]
    fn refuses_nonsense_negative_reversed_and_huge_delays() {
        for bad in [
            "", "x", "1..", "..2", "-1", "5..1", "nan", "inf", "2h", "4000", "1..2..3",
        ] {
            assert!(d(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn samples_stay_within_bounds_and_display_round_trips() {
        let mut rng = StdRng::seed_from_u64(1);
        let delay = d("50ms..300ms").unwrap();
        for _ in 0..1000 {
            let s = delay.sample(&mut rng);
            assert!(s >= delay.min && s <= delay.max);
        }
        for s in ["1s..5s", "50ms..300ms", "0s", "1500ms"] {
            assert_eq!(d(s).unwrap().to_string(), s);
        }
    }
}
