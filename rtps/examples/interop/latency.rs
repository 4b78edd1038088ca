//! `ping` / `pong`: one-way latency as half the round trip, the way `ddsperf ping` measures it
//! (a new ping as soon as the previous pong arrived). Topics `<topic>_ping` and `<topic>_pong`,
//! type `interop::Message`.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

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

/// What the pong listener of `ping` keeps.
struct PingState {
    /// The ping in flight.
    seq: u32,
    /// When it was written.
    t0: Instant,
    t_first: Option<Instant>,
    /// Half round trips measured so far (ns).
    half: Vec<u64>,
    rc: u8,
    done: bool,
    /// A ping the listener could not write without waiting.
    stalled_write: Option<Bytes>,
}

/// The serialized ping `seq`.
fn ping_payload(seq: u32, size: usize) -> Bytes {
    let m = Message {
        seq,
        text: fill_text(seq, size),
    };
    rtps::cdr::to_payload(&m, rtps::wire::Endianness::Little)
        .map(Bytes::from)
        .unwrap_or_default()
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
    // As `ddsperf ping` does, each pong is handled by a listener on the receive thread, which
    // takes the time and writes the next ping at once; this thread only starts the loop and
    // watches for progress.
    let state = Arc::new(Mutex::new(PingState {
        seq: 1,
        t0: now(),
        t_first: None,
        half: Vec::with_capacity(o.count as usize),
        rc: 0,
        done: false,
        stalled_write: None,
    }));
    let progress = Arc::new(AtomicU32::new(0));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    {
        let (state, progress, raw_w) = (Arc::clone(&state), Arc::clone(&progress), w.raw().clone());
        let (warmup, size) = (o.warmup, o.size);
        let done_tx = Mutex::new(done_tx);
        r.raw().set_listener(move |s| {
            let t = now();
            let Ok(m) = rtps::cdr::from_payload::<Message>(&s.value) else {
                return;
            };
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            if st.done || m.seq != st.seq {
                return; // a late answer to an earlier ping
            }
            if !check_text(m.seq, &m.text) {
                eprintln!("[{IMPL}] ping: CORRUPT pong {}", m.seq);
                st.rc = 2;
            }
            if m.seq > warmup {
                let t0 = st.t0;
                st.t_first.get_or_insert(t0);
                let rtt = t.duration_since(t0);
                st.half
                    .push(u64::try_from(rtt.as_nanos() / 2).unwrap_or(u64::MAX));
            }
            progress.store(m.seq, Ordering::Release);
            if m.seq >= total {
                st.done = true;
                let _ = done_tx.lock().unwrap_or_else(|p| p.into_inner()).send(());
                return;
            }
            st.seq = m.seq + 1;
            let next = ping_payload(st.seq, size);
            st.t0 = now();
            if raw_w.try_write_bytes(next.clone()).is_err() {
                // A full history: the main thread writes it (it may wait for acknowledgments).
                st.stalled_write = Some(next);
                let _ = done_tx.lock().unwrap_or_else(|p| p.into_inner()).send(());
            }
        });
    }
    let first = ping_payload(1, o.size);
    state.lock().unwrap_or_else(|p| p.into_inner()).t0 = now();
    let mut rc = match w.raw().write_bytes(first) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("[{IMPL}] ping: write 1: {e}");
            1
        }
    };
    let mut seen = 0;
    let mut last_progress = now();
    while rc == 0 {
        let woken = done_rx.recv_timeout(Duration::from_millis(100)).is_ok();
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        if st.done {
            break;
        }
        if let Some(next) = st.stalled_write.take() {
            drop(st);
            if let Err(e) = w.raw().write_bytes(next) {
                eprintln!("[{IMPL}] ping: write: {e}");
                rc = 1;
            }
            continue;
        }
        drop(st);
        let p = progress.load(Ordering::Acquire);
        if p != seen || woken {
            seen = p;
            last_progress = now();
        } else if now().duration_since(last_progress) > o.timeout() {
            eprintln!(
                "[{IMPL}] ping: no pong for {} within {:.1} s",
                p + 1,
                o.timeout
            );
            rc = 1;
        }
    }
    let (mut half, t_first) = {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        st.done = true;
        rc = rc.max(st.rc);
        (std::mem::take(&mut st.half), st.t_first)
    };
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
    // is every later ping from then on, to keep the order. This thread only watches progress.
    let (tx, rx) = mpsc::channel::<Bytes>();
    let tx = Mutex::new(tx);
    let raw_w = w.raw().clone();
    let handed_over = AtomicBool::new(false);
    let listener_echoed = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&listener_echoed);
    r.raw().set_listener(move |s| {
        if s.kind != rtps::dds::ChangeKind::Alive {
            return;
        }
        if !handed_over.load(Ordering::Acquire) && raw_w.try_write_bytes(s.value.clone()).is_ok() {
            counter.fetch_add(1, Ordering::AcqRel);
        } else {
            handed_over.store(true, Ordering::Release);
            let _ = tx.lock().unwrap_or_else(|p| p.into_inner()).send(s.value);
        }
    });
    let mut by_us = 0u32;
    let mut echoed = 0u32;
    let mut rc = 1;
    let mut last_progress = now();
    while echoed < total {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(bytes) => {
                if let Err(e) = w.raw().write_bytes(bytes) {
                    eprintln!("[{IMPL}] pong: write: {e}");
                    break;
                }
                by_us += 1;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let n = listener_echoed
            .load(Ordering::Acquire)
            .saturating_add(by_us);
        if n != echoed {
            echoed = n;
            last_progress = now();
        } else if now().duration_since(last_progress) > o.timeout() {
            eprintln!("[{IMPL}] pong: timed out after {echoed} pings");
            break;
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
