//! `pub` and `sub`: the oracle contract (README "The oracle contract").

use std::collections::BTreeSet;
use std::io::Write as _;
use std::time::{Duration, Instant};

use rtps::dds::{DomainParticipant, RecvError, WriteError, Writer};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::types::{check_text, fill_text, key_hash, KeyedMessage, Message};
use crate::{events, make_participant, now, Options, IMPL};

/// What the oracle programs do with either type.
pub trait Payload: Serialize + DeserializeOwned + Send + 'static {
    /// The sample number `seq` with `text`.
    fn make(seq: u32, text: String) -> Self;
    /// Change the sample number.
    fn set_seq(&mut self, seq: u32);
    /// Its sample number (the key for `KeyedMessage`).
    fn seq(&self) -> u32;
    /// Its text.
    fn text(&self) -> &str;
    /// Its key hash, for keyed types.
    fn key_hash(&self) -> Option<[u8; 16]>;
}

impl Payload for Message {
    fn make(seq: u32, text: String) -> Self {
        Message { seq, text }
    }
    fn set_seq(&mut self, seq: u32) {
        self.seq = seq;
    }
    fn seq(&self) -> u32 {
        self.seq
    }
    fn text(&self) -> &str {
        &self.text
    }
    fn key_hash(&self) -> Option<[u8; 16]> {
        None
    }
}

impl Payload for KeyedMessage {
    fn make(seq: u32, text: String) -> Self {
        KeyedMessage {
            id: seq as i32,
            text,
        }
    }
    fn set_seq(&mut self, seq: u32) {
        self.id = seq as i32;
    }
    fn seq(&self) -> u32 {
        self.id as u32
    }
    fn text(&self) -> &str {
        &self.text
    }
    fn key_hash(&self) -> Option<[u8; 16]> {
        Some(key_hash(self.id))
    }
}

/// Write one value (keyed types with their key hash).
pub fn write<T: Payload>(w: &Writer<T>, v: &T) -> Result<(), WriteError> {
    match v.key_hash() {
        Some(h) => w.write_keyed(v, h),
        None => w.write(v),
    }
}

/// `pub` for either type.
pub fn run_pub(o: &Options) -> u8 {
    if o.keyed {
        pub_typed::<KeyedMessage>(o)
    } else {
        pub_typed::<Message>(o)
    }
}

/// `sub` for either type.
pub fn run_sub(o: &Options) -> u8 {
    if o.keyed {
        sub_typed::<KeyedMessage>(o)
    } else {
        sub_typed::<Message>(o)
    }
}

/// The sample number (first member, `long`) of a serialized Message or KeyedMessage, in the
/// byte order its encapsulation header says.
fn unchecked_seq(payload: &[u8]) -> Option<u32> {
    let b: [u8; 4] = payload.get(4..8)?.try_into().ok()?;
    match payload.get(1)? {
        0 | 2 => Some(u32::from_be_bytes(b)),
        _ => Some(u32::from_le_bytes(b)),
    }
}

/// Sleep until `deadline` (no-op if it has passed).
pub fn sleep_until(deadline: Instant) {
    let left = deadline.saturating_duration_since(now());
    if !left.is_zero() {
        std::thread::sleep(left);
    }
}

fn pub_typed<T: Payload>(o: &Options) -> u8 {
    let start = now();
    let Some(p) = make_participant(o) else {
        return 3;
    };
    let printer = events::spawn_printer(&p, start);
    let w = match p.create_writer::<T>(&o.topic, o.type_name(), &o.qos(true)) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("[{IMPL}] create writer: {e}");
            return 3;
        }
    };
    if o.wait_subs > 0 && w.wait_for_matched(o.wait_subs, o.timeout()).is_err() {
        eprintln!(
            "[{IMPL}] pub: timeout waiting for {} matched reader(s)",
            o.wait_subs
        );
        finish(p, printer);
        return 1;
    }
    std::thread::sleep(Duration::from_millis(o.settle));

    let burst = o.burst.max(1);
    let period = if o.rate > 0.0 {
        crate::secs(f64::from(burst) / o.rate)
    } else {
        Duration::ZERO
    };
    let mut write_errors = 0u32;
    let mut fixed = o.unchecked.then(|| T::make(1, fill_text(1, o.size)));
    let t0 = now();
    let mut next = t0;
    for seq in 1..=o.count {
        let fresh;
        let v = match fixed.as_mut() {
            Some(v) => {
                v.set_seq(seq);
                &*v
            }
            None => {
                fresh = T::make(seq, fill_text(seq, o.size));
                &fresh
            }
        };
        if let Err(e) = write(&w, v) {
            write_errors += 1;
            eprintln!("[{IMPL}] pub: write of sample {seq} failed: {e}");
        }
        if !period.is_zero() && seq % burst == 0 {
            next += period;
            sleep_until(next);
        }
    }
    let write_s = now().duration_since(t0).as_secs_f64();
    let mut t = write_s;
    let mut rc = u8::from(write_errors > 0);
    if o.is_reliable() {
        let r = w.wait_for_acknowledgments(o.timeout());
        t = now().duration_since(t0).as_secs_f64();
        if let Err(e) = r {
            eprintln!(
                "[{IMPL}] pub: not all samples acknowledged within {:.1} s: {e}",
                o.timeout
            );
            rc = 1;
        }
    }
    let bytes = f64::from(o.count) * o.size as f64;
    eprintln!(
        "SUMMARY pub impl={IMPL} samples={} size={} reliable={} write_s={write_s:.6} {}={t:.6} msgs_per_s={:.1} MBps={:.3} write_errors={write_errors}",
        o.count,
        o.size,
        u8::from(o.is_reliable()),
        if o.is_reliable() { "acked_s" } else { "sent_s" },
        if t > 0.0 { f64::from(o.count) / t } else { 0.0 },
        if t > 0.0 { bytes / t / 1e6 } else { 0.0 },
    );
    std::thread::sleep(o.linger());
    drop(w);
    finish(p, printer);
    rc
}

/// Drop the participant (it announces its departure) and wait for the event printer.
pub fn finish(p: DomainParticipant, printer: Option<std::thread::JoinHandle<()>>) {
    drop(p);
    if let Some(h) = printer {
        let _ = h.join();
    }
}

/// The statistics of the `SUMMARY sub` line.
#[derive(Debug, Default)]
struct SubStats {
    received: u32,
    corrupt: u32,
    out_of_order: u32,
    last_seq: Option<u32>,
    seen: BTreeSet<u32>,
    bytes: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

fn sub_typed<T: Payload>(o: &Options) -> u8 {
    let start = now();
    let Some(p) = make_participant(o) else {
        return 3;
    };
    let printer = events::spawn_printer(&p, start);
    let r = match p.create_reader::<T>(&o.topic, o.type_name(), &o.qos(false)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("[{IMPL}] create reader: {e}");
            return 3;
        }
    };
    let mut st = SubStats::default();
    let deadline = start + o.timeout();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    while st.received < o.count && o.unchecked {
        let left = deadline.saturating_duration_since(now());
        if left.is_zero() {
            break;
        }
        match r.raw().recv_timeout(left.min(Duration::from_millis(100))) {
            Ok(s) => {
                let at = now();
                // The copy a deserialization would make; the text is not looked at.
                let payload = s.value.to_vec();
                let Some(seq) = unchecked_seq(&payload) else {
                    st.corrupt += 1;
                    continue;
                };
                st.first.get_or_insert(at);
                st.last = Some(at);
                if st.last_seq.is_some_and(|l| seq <= l) {
                    st.out_of_order += 1;
                }
                st.last_seq = Some(seq);
                if (1..=o.count).contains(&seq) {
                    st.seen.insert(seq);
                }
                // The text's length: the payload less the header, seq and string length.
                st.bytes += payload.len().saturating_sub(12) as u64;
                st.received += 1;
            }
            Err(RecvError::Timeout) => {}
            Err(e) => {
                eprintln!("[{IMPL}] sub: {e}");
                break;
            }
        }
    }
    while st.received < o.count && !o.unchecked {
        let left = deadline.saturating_duration_since(now());
        if left.is_zero() {
            break;
        }
        match r.recv_timeout(left.min(Duration::from_millis(100))) {
            Ok(s) => {
                let at = now();
                let v = s.value;
                let seq = v.seq();
                let text = v.text();
                if !check_text(seq, text) {
                    st.corrupt += 1;
                    eprintln!(
                        "[{IMPL}] sub CORRUPT content in sample {seq} (len {})",
                        text.len()
                    );
                }
                st.first.get_or_insert(at);
                st.last = Some(at);
                if st.last_seq.is_some_and(|l| seq <= l) {
                    st.out_of_order += 1;
                }
                st.last_seq = Some(seq);
                if (1..=o.count).contains(&seq) {
                    st.seen.insert(seq);
                }
                st.bytes += text.len() as u64;
                st.received += 1;
                if !o.quiet {
                    let _ = writeln!(out, "{seq} {}", text.len());
                    let _ = out.flush();
                }
            }
            Err(RecvError::Timeout) => {}
            Err(RecvError::Deserialize(e)) => {
                st.corrupt += 1;
                eprintln!("[{IMPL}] sub CORRUPT sample that does not decode: {e}");
            }
            Err(e) => {
                eprintln!("[{IMPL}] sub: {e}");
                break;
            }
        }
    }
    drop(out);
    let done = st.received >= o.count;
    if done && !o.linger().is_zero() {
        // Stay alive (and taking) so that the last samples are acknowledged.
        let until = now() + o.linger();
        while now() < until {
            let _ = r.recv_timeout(until.saturating_duration_since(now()));
        }
    }
    let span = match (st.first, st.last) {
        (Some(f), Some(l)) => l.duration_since(f).as_secs_f64(),
        _ => 0.0,
    };
    let rate = if span > 0.0 && st.received > 1 {
        f64::from(st.received - 1) / span
    } else {
        0.0
    };
    let unique = st.seen.len() as u32;
    let result = match (done, st.corrupt > 0) {
        (_, true) => "CORRUPT",
        (true, false) => "OK",
        (false, false) => "TIMEOUT",
    };
    eprintln!(
        "SUMMARY sub impl={IMPL} received={} expected={} unique={unique} missing={} out_of_order={} corrupt={} first_to_last_s={span:.6} msgs_per_s={rate:.1} MBps={:.3} result={result}",
        st.received,
        o.count,
        o.count.saturating_sub(unique),
        st.out_of_order,
        st.corrupt,
        if span > 0.0 { st.bytes as f64 / span / 1e6 } else { 0.0 },
    );
    drop(r);
    finish(p, printer);
    match result {
        "OK" => 0,
        "CORRUPT" => 2,
        _ => 1,
    }
}
