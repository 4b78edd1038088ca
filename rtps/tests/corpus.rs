//! The hostile corpus (`shared/corpus/*/*`: 586 RTPS datagrams that Fast DDS and Cyclone DDS seed
//! their fuzzers with) through every parser: no panic, no hang, bounded allocation. Plus every
//! capture message cut at every length.
//!
// `unsafe` is allowed in this test binary ONLY for the counting `#[global_allocator]` below: a
// `GlobalAlloc` impl is an `unsafe impl` by definition. It forwards every call to
// `std::alloc::System` unchanged and only adds thread-local byte counters. The crates under test
// keep `#![forbid(unsafe_code)]`.
#![allow(unsafe_code)]

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};

use rtps::discovery::data::{ParticipantData, ReaderData, WriterData};
use rtps::wire::encapsulation::split_payload;
use rtps::wire::{Message, ParseError, Submessage};
use serde::{Deserialize, Serialize};

// ---- allocation accounting ----

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

/// `System`, plus per-thread live/peak byte counts (per thread so parallel tests do not mix).
struct Counting;

fn on_alloc(size: usize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(size);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn on_dealloc(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(size)));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counters
// are thread-local `Cell`s without destructors, so they never allocate or re-enter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        // SAFETY: forwarded unchanged (the caller upholds `GlobalAlloc::alloc`'s contract).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_dealloc(layout.size());
        // SAFETY: as above; `ptr` came from `System` through this wrapper.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        on_dealloc(layout.size());
        on_alloc(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Run `f` and return its result with the peak bytes it had allocated at once (this thread).
fn peak_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(Cell::get).saturating_sub(base);
    (out, peak)
}

// ---- what each datagram goes through ----

/// The fixed CDR type for the sweep: the interop sample type.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct InteropMessage {
    seq: u32,
    text: String,
}

/// A CDR type with sequences, to make hostile counts meet allocation.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Sequences {
    id: u16,
    names: Vec<String>,
    values: Vec<u64>,
    nested: Vec<(u8, Vec<u32>)>,
}

/// What happened to one datagram.
#[derive(Debug, Default)]
struct Outcome {
    /// `None` when the header and every submessage parsed.
    rejected: Option<ParseError>,
    submessages: usize,
    pl_cdr_payloads: usize,
    discovery_ok: usize,
    cdr_ok: usize,
}

/// Parse the message, walk its submessages, and feed every DATA payload to the discovery and
/// CDR decoders; also run the fuzz entry points, which add the re-emit checks.
fn handle(datagram: &[u8]) -> Outcome {
    let mut out = Outcome::default();
    rtps::fuzzing::message_parse(datagram);
    rtps::fuzzing::message_roundtrip(datagram);
    let message = match Message::parse(datagram) {
        Ok(m) => m,
        Err(e) => {
            out.rejected = Some(e);
            return out;
        }
    };
    for sub in message.submessages() {
        let sub = match sub {
            Ok(s) => s,
            Err(e) => {
                out.rejected = Some(e);
                break;
            }
        };
        out.submessages += 1;
        let Submessage::Data(data) = &sub.submessage else {
            continue;
        };
        let Some(payload) = &data.payload else {
            continue;
        };
        rtps::fuzzing::discovery_data(payload.bytes);
        if let Ok((encapsulation, body)) = split_payload(payload.bytes) {
            if encapsulation.kind.is_parameter_list() {
                out.pl_cdr_payloads += 1;
                out.discovery_ok +=
                    usize::from(ParticipantData::from_payload(payload.bytes).is_ok());
                out.discovery_ok += usize::from(WriterData::from_payload(payload.bytes).is_ok());
                out.discovery_ok += usize::from(ReaderData::from_payload(payload.bytes).is_ok());
            } else {
                rtps::fuzzing::cdr_deserialize(body);
            }
        }
        out.cdr_ok += usize::from(rtps::cdr::from_payload::<InteropMessage>(payload.bytes).is_ok());
        out.cdr_ok += usize::from(rtps::cdr::from_payload::<Sequences>(payload.bytes).is_ok());
    }
    out
}

/// The allocation bound per datagram.
fn allowed_bytes(len: usize) -> usize {
    64 * len + 64 * 1024
}

#[test]
#[ignore = "needs the reference folder ../shared or $AMLIP_SHARED: run with cargo test -- --include-ignored"]
fn every_hostile_datagram_is_handled_without_panic_and_with_bounded_allocation() {
    let shared = support::shared_dir();
    let files = support::corpus_files(&shared);
    assert!(!files.is_empty(), "no corpus in {}", shared.display());
    let mut parsed = 0usize;
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let (mut submessages, mut pl_cdr, mut discovery_ok, mut cdr_ok) = (0, 0, 0, 0);
    let mut over_budget = Vec::new();
    let mut worst = (0usize, 0usize, String::new()); // (peak, len, name)
    for file in &files {
        let (outcome, peak) = peak_allocation(|| handle(&file.bytes));
        if peak > allowed_bytes(file.bytes.len()) {
            over_budget.push(format!(
                "{}: {} bytes allocated for a {}-byte datagram",
                file.name,
                peak,
                file.bytes.len()
            ));
        }
        if peak > worst.0 {
            worst = (peak, file.bytes.len(), file.name.clone());
        }
        match outcome.rejected {
            None => parsed += 1,
            Some(e) => *reasons.entry(e.to_string()).or_default() += 1,
        }
        submessages += outcome.submessages;
        pl_cdr += outcome.pl_cdr_payloads;
        discovery_ok += outcome.discovery_ok;
        cdr_ok += outcome.cdr_ok;
    }
    let rejected: usize = reasons.values().sum();
    println!(
        "corpus: {} datagrams, {parsed} parse fully, {rejected} rejected; {submessages} submessages \
         walked; {pl_cdr} PL_CDR payloads ({discovery_ok} discovery parses ok); {cdr_ok} CDR decodes ok",
        files.len()
    );
    println!(
        "peak allocation: {} bytes for {} ({} bytes)",
        worst.0, worst.2, worst.1
    );
    let mut by_count: Vec<(&String, &usize)> = reasons.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    println!("rejection reasons:");
    for (reason, n) in by_count {
        println!("  {n:4}  {reason}");
    }
    assert_eq!(parsed + rejected, files.len());
    assert!(
        over_budget.is_empty(),
        "allocation over 64 x len + 64 KiB:\n{}",
        over_budget.join("\n")
    );
}

#[test]
#[ignore = "needs the reference folder ../shared or $AMLIP_SHARED: run with cargo test -- --include-ignored"]
fn every_capture_message_cut_at_every_length_is_handled_without_panic() {
    let shared = support::shared_dir();
    let mut seen = HashSet::new();
    let (mut messages, mut cuts, mut cut_ok) = (0usize, 0usize, 0usize);
    for scan in support::scan_all_captures(&shared) {
        for d in scan.rtps {
            if !seen.insert(d.bytes.clone()) {
                continue; // periodic announcements repeat verbatim
            }
            messages += 1;
            for n in 0..d.bytes.len() {
                let cut = &d.bytes[..n];
                cuts += 1;
                if let Ok(m) = Message::parse(cut) {
                    if m.submessages().all(|s| s.is_ok()) {
                        cut_ok += 1;
                    }
                }
            }
        }
    }
    println!(
        "{messages} distinct capture messages, {cuts} truncations, {cut_ok} still parse fully"
    );
}

#[test]
fn the_counting_allocator_sees_the_peak_of_what_a_closure_allocates() {
    let (len, peak) = peak_allocation(|| {
        let a = vec![1u8; 10_000];
        let b = vec![2u8; 5_000];
        a.len() + b.len()
    });
    assert_eq!(len, 15_000);
    assert!((15_000..20_000).contains(&peak), "peak {peak}");
    let ((), peak) = peak_allocation(|| {});
    assert_eq!(peak, 0);
}
