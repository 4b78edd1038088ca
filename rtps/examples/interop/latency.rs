//! `ping` / `pong`: one-way latency as half the round trip, the way `ddsperf ping` measures it
//! (a new ping as soon as the previous pong arrived). Topics `<topic>_ping` and `<topic>_pong`,
//! type `interop::Message`.

use std::time::Duration;

use rtps::dds::DdsError;

use crate::pubsub::finish;
use crate::types::{check_text, fill_text, Message};
use crate::{events, make_participant, now, Options, IMPL};

/// Percentile `p` (0..=1) of sorted `v` (nearest rank); 0 when empty.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted.len()) - 1;
    sorted.get(i).copied().unwrap_or(0)
}

/// The `SUMMARY ping` statistics line of half round trips given in nanoseconds.
pub fn summary_line(o: &Options, half_rtt_ns: &mut [u64], wall_s: f64) -> String {
    half_rtt_ns.sort_unstable();
    let n = half_rtt_ns.len();
    let us = |ns: u64| ns as f64 / 1e3;
    let mean = if n > 0 {
        half_rtt_ns.iter().map(|&x| x as f64).sum::<f64>() / n as f64 / 1e3
    } else {
        0.0
    };
    format!(
        "SUMMARY ping impl={IMPL} samples={n} size={} reliable={} roundtrips_per_s={:.1} half_rtt_us mean={mean:.1} p50={:.1} p90={:.1} p99={:.1} min={:.1} max={:.1}",
        o.size,
        u8::from(o.is_reliable()),
        if wall_s > 0.0 { n as f64 / wall_s } else { 0.0 },
        us(percentile(half_rtt_ns, 0.50)),
        us(percentile(half_rtt_ns, 0.90)),
        us(percentile(half_rtt_ns, 0.99)),
        us(half_rtt_ns.first().copied().unwrap_or(0)),
        us(half_rtt_ns.last().copied().unwrap_or(0)),
    )
}

/// `ping`: `--warmup` + `--count` round trips; prints the half round-trip percentiles.
pub fn run_ping(o: &Options) -> u8 {
    let start = now();
    let Some(p) = make_participant(o) else {
        return 3;
    };
    let printer = events::spawn_printer(&p, start);
    let ty = crate::types::MESSAGE_TYPE;
    let w = p.create_writer::<Message>(&format!("{}_ping", o.topic), ty, &o.qos(true));
    let r = p.create_reader::<Message>(&format!("{}_pong", o.topic), ty, &o.qos(false));
    let (w, r) = match (w, r) {
        (Ok(w), Ok(r)) => (w, r),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("[{IMPL}] create endpoints: {e}");
            return 3;
        }
    };
    let wanted = o.wait_subs.max(1);
    if w.wait_for_matched(wanted, o.timeout()).is_err()
        || r.wait_for_matched(wanted, o.timeout()).is_err()
    {
        eprintln!("[{IMPL}] ping: timeout waiting for the pong side");
        finish(p, printer);
        return 1;
    }
    std::thread::sleep(Duration::from_millis(o.settle));
    let total = o.count.saturating_add(o.warmup);
    let mut half = Vec::with_capacity(o.count as usize);
    let mut rc = 0;
    let mut t_first = None;
    for seq in 1..=total {
        let text = fill_text(seq, o.size);
        let t0 = now();
        if let Err(e) = w.write(&Message { seq, text }) {
            eprintln!("[{IMPL}] ping: write {seq}: {e}");
            rc = 1;
            break;
        }
        let deadline = t0 + o.timeout();
        let answered = loop {
            match r.recv_timeout(deadline.saturating_duration_since(now())) {
                Ok(s) if s.value.seq == seq => {
                    if !check_text(seq, &s.value.text) {
                        eprintln!("[{IMPL}] ping: CORRUPT pong {seq}");
                        rc = 2;
                    }
                    break true;
                }
                Ok(_) => continue, // a late answer to an earlier ping
                Err(DdsError::Timeout) | Err(_) => break false,
            }
        };
        if !answered {
            eprintln!("[{IMPL}] ping: no pong for {seq} within {:.1} s", o.timeout);
            rc = 1;
            break;
        }
        let rtt = now().duration_since(t0);
        if seq > o.warmup {
            t_first.get_or_insert(t0);
            half.push(u64::try_from(rtt.as_nanos() / 2).unwrap_or(u64::MAX));
        }
    }
    let wall = t_first.map_or(0.0, |t| now().duration_since(t).as_secs_f64());
    eprintln!("{}", summary_line(o, &mut half, wall));
    std::thread::sleep(o.linger());
    drop((w, r));
    finish(p, printer);
    rc
}

/// `pong`: echo `--warmup` + `--count` pings (or until `--timeout` s without a ping).
pub fn run_pong(o: &Options) -> u8 {
    let start = now();
    let Some(p) = make_participant(o) else {
        return 3;
    };
    let printer = events::spawn_printer(&p, start);
    let ty = crate::types::MESSAGE_TYPE;
    let r = p.create_reader::<Message>(&format!("{}_ping", o.topic), ty, &o.qos(false));
    let w = p.create_writer::<Message>(&format!("{}_pong", o.topic), ty, &o.qos(true));
    let (w, r) = match (w, r) {
        (Ok(w), Ok(r)) => (w, r),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("[{IMPL}] create endpoints: {e}");
            return 3;
        }
    };
    let total = o.count.saturating_add(o.warmup);
    // Echo from a listener, on the receive thread (no hand-off to this thread): each ping's
    // serialized bytes go back unchanged. A write that would block (a full history, whose
    // acknowledgments that very thread must receive) is handed to this thread instead, and so
    // is every later ping until that one is written, to keep the order.
    let (tx, rx) = std::sync::mpsc::channel::<Option<bytes::Bytes>>();
    let tx = std::sync::Mutex::new(tx);
    let raw_w = w.raw().clone();
    let handed_over = std::sync::atomic::AtomicBool::new(false);
    r.raw().set_listener(move |s| {
        if s.kind != rtps::dds::ChangeKind::Alive {
            return;
        }
        let tx = tx.lock().unwrap_or_else(|p| p.into_inner());
        let over = handed_over.load(std::sync::atomic::Ordering::Acquire);
        if !over && raw_w.try_write_bytes(s.value.clone()).is_ok() {
            let _ = tx.send(None);
        } else {
            handed_over.store(true, std::sync::atomic::Ordering::Release);
            let _ = tx.send(Some(s.value));
        }
    });
    let mut echoed = 0u32;
    let mut rc = 1;
    while echoed < total {
        match rx.recv_timeout(o.timeout()) {
            Ok(None) => echoed += 1,
            Ok(Some(bytes)) => {
                if let Err(e) = w.raw().write_bytes(bytes) {
                    eprintln!("[{IMPL}] pong: write: {e}");
                    break;
                }
                echoed += 1;
            }
            Err(_) => {
                let e = DdsError::Timeout;
                eprintln!("[{IMPL}] pong: {e} after {echoed} pings");
                break;
            }
        }
    }
    if echoed == total {
        rc = 0;
        if o.is_reliable() {
            let _ = w.wait_for_acknowledgments(o.timeout());
        }
    }
    eprintln!("SUMMARY pong impl={IMPL} echoed={echoed} expected={total}");
    std::thread::sleep(o.linger());
    drop((w, r));
    finish(p, printer);
    rc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&v, 1.0), 100);
        assert_eq!(percentile(&v, 0.0), 1);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[7], 0.9), 7);
    }
}
