//! One writer, 1..3 readers, joined by a tiny deterministic lossy link: seeded loss,
//! duplication, reordering and delay, a virtual clock, and every datagram going through the
//! wire codec (MessageBuilder out, Message::parse in). The seed comes from `RTPS_SIM_SEED`
//! (default fixed per test) and is printed when a test fails. Every loop is bounded.
//!
//! (The general simulated network for whole participants lives elsewhere; this one only
//! wires the state machines of this module together.)

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::test_support::*;
use super::*;
use crate::history::{HistoryKind, ResourceLimits};
use crate::wire::SequenceNumber;

/// Link behaviour, applied independently to every datagram in each direction.
#[derive(Debug, Clone, Copy)]
struct Net {
    loss: f64,
    dup: f64,
    reorder: f64,
}

const LOSSLESS: Net = Net {
    loss: 0.0,
    dup: 0.0,
    reorder: 0.0,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Writer,
    Reader(usize),
}

struct Sim {
    rng: StdRng,
    start: Instant,
    now: Instant,
    net: Net,
    writer: StatefulWriter,
    readers: Vec<StatefulReader>,
    /// (delivery time, tie-breaker) -> (destination, datagram)
    queue: BTreeMap<(Instant, u64), (Node, Vec<u8>)>,
    seq: u64,
    datagram_size: usize,
    datagrams: u64,
    lost: u64,
}

/// Prints the seed if the test panics.
struct SeedGuard(u64);

impl Drop for SeedGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("lossy link failed with RTPS_SIM_SEED={}", self.0);
        }
    }
}

fn seed(default: u64) -> (u64, SeedGuard) {
    let s = std::env::var("RTPS_SIM_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    (s, SeedGuard(s))
}

fn reader_config() -> ReaderConfig {
    ReaderConfig {
        heartbeat_response_delay: ms(2),
        nack_spacing: ms(2),
        ..ReaderConfig::default()
    }
}

impl Sim {
    fn new(seed: u64, net: Net, writer: WriterConfig) -> Self {
        let start = t0();
        let datagram_size = writer.max_transmit_size + 32;
        Sim {
            rng: StdRng::seed_from_u64(seed),
            start,
            now: start,
            net,
            writer: StatefulWriter::new(writer_guid(), writer),
            readers: Vec::new(),
            queue: BTreeMap::new(),
            seq: 0,
            datagram_size,
            datagrams: 0,
            lost: 0,
        }
    }

    /// Match a new reader on both sides; returns its index.
    fn add_reader(&mut self, reliable: bool, durable: bool) -> usize {
        let i = self.readers.len();
        let guid = reader_guid(u8::try_from(i + 1).unwrap());
        let mut r = StatefulReader::new(guid, reader_config());
        r.add_matched_writer(
            self.now,
            WriterProxyConfig {
                remote_writer_guid: writer_guid(),
                reliable,
                locators: Vec::new(),
            },
        );
        self.writer.add_matched_reader(
            self.now,
            ReaderProxyConfig {
                remote_reader_guid: guid,
                reliable,
                durable,
                expects_inline_qos: false,
                locators: Vec::new(),
            },
        );
        self.readers.push(r);
        i
    }

    fn send(&mut self, to: Node, datagram: Vec<u8>) {
        self.datagrams += 1;
        if self.rng.gen_bool(self.net.loss) {
            self.lost += 1;
            return;
        }
        let copies = if self.rng.gen_bool(self.net.dup) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut delay = Duration::from_micros(500 + self.rng.gen_range(0..1000));
            if self.rng.gen_bool(self.net.reorder) {
                delay += Duration::from_micros(self.rng.gen_range(1000..8000));
            }
            self.seq += 1;
            self.queue
                .insert((self.now + delay, self.seq), (to, datagram.clone()));
        }
    }

    /// Drain every endpoint's transmits into the link.
    fn pump(&mut self) {
        for _ in 0..100_000 {
            let Some(t) = self.writer.poll_transmit(self.now) else {
                break;
            };
            let to = self
                .readers
                .iter()
                .position(|r| r.guid() == t.destination.guid)
                .expect("transmit to a matched reader");
            let mut grams = to_datagrams(WRITER_PREFIX, &t, self.datagram_size);
            assert_eq!(grams.len(), 1, "a writer transmit fits one datagram");
            self.send(Node::Reader(to), grams.remove(0));
        }
        for i in 0..self.readers.len() {
            let prefix = self.readers[i].guid().prefix;
            for _ in 0..1000 {
                let Some(t) = self.readers[i].poll_transmit(self.now) else {
                    break;
                };
                assert_eq!(t.destination.guid, writer_guid());
                for g in to_datagrams(prefix, &t, self.datagram_size) {
                    self.send(Node::Writer, g);
                }
            }
        }
    }

    /// Advance the clock to the next datagram or timer (or `wake`), deliver what is due and
    /// run timers. False when nothing at all is scheduled.
    fn step(&mut self, wake: Option<Instant>) -> bool {
        let next = [
            self.queue.keys().next().map(|(t, _)| *t),
            self.writer.poll_timeout(),
            wake,
        ]
        .into_iter()
        .chain(self.readers.iter().map(|r| r.poll_timeout()))
        .flatten()
        .min();
        let Some(next) = next else { return false };
        self.now = self.now.max(next);
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let (to, g) = entry.remove();
            match to {
                Node::Writer => deliver_to_writer(&mut self.writer, self.now, &g),
                Node::Reader(i) => deliver_to_reader(&mut self.readers[i], self.now, &g),
            }
        }
        self.writer.handle_timeout(self.now);
        for r in &mut self.readers {
            r.handle_timeout(self.now);
        }
        true
    }

    fn elapsed(&self) -> Duration {
        self.now - self.start
    }
}

/// The payload of sample `i`: its index then filler.
fn sample_payload(i: u32, len: usize) -> Bytes {
    let mut v = vec![(i % 251) as u8; len.max(4)];
    v[..4].copy_from_slice(&i.to_le_bytes());
    Bytes::from(v)
}

fn index_of(p: &[u8]) -> u32 {
    u32::from_le_bytes([p[0], p[1], p[2], p[3]])
}

/// Checks each reader gets samples 0..n exactly once and in order (reliable).
struct InOrder {
    next: Vec<u32>,
}

impl InOrder {
    fn collect(&mut self, sim: &mut Sim) {
        for (i, r) in sim.readers.iter_mut().enumerate() {
            if self.next.len() <= i {
                self.next.push(0);
            }
            while let Some(s) = r.poll_sample() {
                let idx = index_of(&s.payload);
                assert_eq!(idx, self.next[i], "reader {i}: out of order or duplicate");
                assert_eq!(s.sn, SequenceNumber(i64::from(idx) + 1));
                self.next[i] += 1;
            }
        }
    }

    fn all_at(&self, n: u32, readers: usize) -> bool {
        self.next.len() == readers && self.next.iter().all(|x| *x == n)
    }
}

/// Write `n` samples of `len` bytes, 50 per millisecond, honouring KEEP_ALL back-pressure,
/// until every reader has all of them; returns virtual seconds taken.
fn run_reliable(sim: &mut Sim, n: u32, len: usize, max_steps: usize) -> f64 {
    let mut check = InOrder { next: Vec::new() };
    let mut written = 0u32;
    let mut next_write = sim.now;
    for _ in 0..max_steps {
        if written < n && sim.now >= next_write {
            for _ in 0..50 {
                if written == n {
                    break;
                }
                match sim
                    .writer
                    .write(sim.now, sample_payload(written, len), None)
                {
                    Ok(_) => written += 1,
                    Err(WriteError::HistoryFull) => break,
                    Err(e) => panic!("write failed: {e}"),
                }
            }
            next_write = sim.now + ms(1);
        }
        sim.pump();
        check.collect(sim);
        if written == n
            && check.all_at(n, sim.readers.len())
            && sim.writer.is_acked_by_all(SequenceNumber(i64::from(n)))
        {
            return sim.elapsed().as_secs_f64();
        }
        let wake = (written < n).then_some(next_write);
        assert!(
            sim.step(wake),
            "nothing scheduled, but not done: {:?}",
            check.next
        );
        assert!(
            sim.elapsed() < Duration::from_secs(3600),
            "virtual hour elapsed"
        );
    }
    panic!(
        "not done after {max_steps} steps: written {written}, readers at {:?}, writer {:?}",
        check.next,
        sim.writer.stats()
    );
}

#[test]
fn ten_thousand_reliable_samples_arrive_exactly_once_in_order_under_loss_dup_and_reorder() {
    let (seed, _guard) = seed(0x5eed_0001);
    let net = Net {
        loss: 0.2,
        dup: 0.1,
        reorder: 0.2,
    };
    let cfg = WriterConfig {
        history: HistoryKind::KeepAll,
        resource_limits: ResourceLimits {
            max_samples: Some(2000),
            max_instances: None,
        },
        heartbeat_period: ms(20),
        nack_response_delay: ms(1),
        max_transmit_size: 1400,
        ..WriterConfig::default()
    };
    let mut sim = Sim::new(seed, net, cfg);
    for _ in 0..3 {
        sim.add_reader(true, false);
    }
    let secs = run_reliable(&mut sim, 10_000, 32, 2_000_000);
    eprintln!(
        "10k x 32 B, 3 readers, 20% loss: {secs:.2} virtual s, {} datagrams ({} lost), writer {:?}",
        sim.datagrams,
        sim.lost,
        sim.writer.stats()
    );
    for r in &sim.readers {
        assert_eq!(r.stats().delivered, 10_000);
    }
}

#[test]
fn a_ten_megabyte_sample_arrives_under_ten_percent_loss() {
    let (seed, _guard) = seed(0x5eed_0002);
    let net = Net {
        loss: 0.1,
        dup: 0.05,
        reorder: 0.1,
    };
    let cfg = WriterConfig {
        history: HistoryKind::KeepAll,
        heartbeat_period: ms(20),
        nack_response_delay: ms(1),
        fragment_size: 1300,
        max_transmit_size: 1400,
        ..WriterConfig::default()
    };
    let mut sim = Sim::new(seed, net, cfg);
    sim.add_reader(true, false);
    let secs = run_reliable(&mut sim, 1, 10 << 20, 2_000_000);
    let r = sim.readers[0].stats();
    eprintln!(
        "10 MB in {} fragments, 10% loss: {secs:.2} virtual s, {} datagrams ({} lost), {} NACK_FRAGs, writer {:?}",
        (10 << 20) / 1300 + 1,
        sim.datagrams,
        sim.lost,
        r.nack_frags_sent,
        sim.writer.stats()
    );
}

#[test]
fn a_hundred_megabyte_sample_goes_through() {
    let (seed, _guard) = seed(0x5eed_0003);
    let net = Net {
        loss: 0.01,
        dup: 0.0,
        reorder: 0.0,
    };
    let cfg = WriterConfig {
        history: HistoryKind::KeepAll,
        heartbeat_period: ms(20),
        nack_response_delay: ms(1),
        ..WriterConfig::default()
    };
    let mut sim = Sim::new(seed, net, cfg);
    sim.add_reader(true, false);
    let secs = run_reliable(&mut sim, 1, 100 << 20, 200_000);
    eprintln!(
        "100 MB, 1% loss: {secs:.2} virtual s, {} datagrams ({} lost)",
        sim.datagrams, sim.lost
    );
}

/// A TRANSIENT_LOCAL KEEP_ALL writer with a 20 ms heartbeat and a 1 ms NACK response delay.
fn transient_local_keep_all() -> WriterConfig {
    WriterConfig {
        durability: Durability::TransientLocal,
        history: HistoryKind::KeepAll,
        heartbeat_period: ms(20),
        nack_response_delay: ms(1),
        max_transmit_size: 1400,
        ..WriterConfig::default()
    }
}

#[test]
fn a_late_joining_transient_local_reader_gets_the_history() {
    let (seed, _guard) = seed(0x5eed_0004);
    let net = Net {
        loss: 0.2,
        dup: 0.1,
        reorder: 0.2,
    };
    let cfg = transient_local_keep_all();
    let mut sim = Sim::new(seed, net, cfg);
    sim.add_reader(true, true);
    run_reliable(&mut sim, 300, 100, 500_000);
    // The late joiner: gets samples 0..300 from the history, then the new ones with reader 0.
    let late = sim.add_reader(true, true);
    let mut check = InOrder { next: vec![300, 0] };
    let mut written = 300u32;
    for _ in 0..500_000 {
        if written < 400 {
            sim.writer
                .write(sim.now, sample_payload(written, 100), None)
                .unwrap();
            written += 1;
        }
        sim.pump();
        check.collect(&mut sim);
        if check.all_at(400, 2) && sim.writer.is_acked_by_all(SequenceNumber(400)) {
            assert_eq!(sim.readers[late].stats().delivered, 400);
            return;
        }
        assert!(sim.step(None));
    }
    panic!("late joiner stuck at {:?}", check.next);
}

/// A reader whose writer's participant was lost and then rediscovered (a peer paused past its
/// lease) matches the writer again, while the writer, which never lost the reader, kept its
/// proxy: the writer must not take the new proxy's ACKNACKs for stale ones, and the reader gets
/// the history again, then new samples.
#[test]
fn a_reader_matched_again_by_a_writer_that_kept_its_proxy_gets_the_history_again() {
    let (seed, _guard) = seed(0x5eed_0007);
    let cfg = transient_local_keep_all();
    let mut sim = Sim::new(seed, LOSSLESS, cfg);
    sim.add_reader(true, true);
    // One sample at a time, each acknowledged: the reader's ACKNACK count climbs.
    for i in 0..50 {
        sim.writer
            .write(sim.now, sample_payload(i, 16), None)
            .unwrap();
        for _ in 0..10_000 {
            sim.pump();
            while sim.readers[0].poll_sample().is_some() {}
            if sim.writer.is_acked_by_all(SequenceNumber(i64::from(i) + 1)) {
                break;
            }
            assert!(sim.step(None));
        }
    }
    let r = &mut sim.readers[0];
    assert!(r.remove_matched_writer(writer_guid()));
    r.add_matched_writer(
        sim.now,
        WriterProxyConfig {
            remote_writer_guid: writer_guid(),
            reliable: true,
            locators: Vec::new(),
        },
    );
    sim.writer
        .write(sim.now, sample_payload(50, 16), None)
        .unwrap();
    let rematched = sim.now;
    let mut got = Vec::new();
    for _ in 0..100_000 {
        sim.pump();
        got.extend(
            std::iter::from_fn(|| sim.readers[0].poll_sample()).map(|s| index_of(&s.payload)),
        );
        if got.len() == 51 {
            assert_eq!(got, (0..=50).collect::<Vec<_>>());
            return;
        }
        assert!(sim.step(Some(sim.now + ms(10))));
        // A few round trips of virtual time, not the old proxy's count of heartbeats.
        assert!(sim.now - rematched < ms(100), "got {got:?}");
    }
    panic!("the matched-again reader got {got:?}");
}

#[test]
fn a_late_joining_volatile_reader_gets_only_new_samples() {
    let (seed, _guard) = seed(0x5eed_0005);
    let cfg = WriterConfig {
        durability: Durability::TransientLocal,
        history: HistoryKind::KeepLast { depth: 1000 },
        heartbeat_period: ms(20),
        max_transmit_size: 1400,
        ..WriterConfig::default()
    };
    let mut sim = Sim::new(seed, LOSSLESS, cfg);
    sim.add_reader(true, true);
    run_reliable(&mut sim, 50, 16, 100_000);
    let late = sim.add_reader(true, false);
    sim.writer
        .write(sim.now, sample_payload(50, 16), None)
        .unwrap();
    for _ in 0..10_000 {
        sim.pump();
        if let Some(s) = sim.readers[late].poll_sample() {
            assert_eq!(index_of(&s.payload), 50);
            assert_eq!(sim.readers[late].stats().delivered, 1);
            return;
        }
        assert!(sim.step(None));
    }
    panic!("volatile late joiner got nothing");
}

#[test]
fn a_keep_last_best_effort_writer_never_blocks_or_fails() {
    let (seed, _guard) = seed(0x5eed_0006);
    let net = Net {
        loss: 0.2,
        dup: 0.1,
        reorder: 0.3,
    };
    let cfg = WriterConfig {
        reliable: false,
        history: HistoryKind::KeepLast { depth: 1 },
        resource_limits: ResourceLimits {
            max_samples: Some(1),
            max_instances: None,
        },
        max_transmit_size: 1400,
        ..WriterConfig::default()
    };
    let mut sim = Sim::new(seed, net, cfg);
    sim.add_reader(false, false);
    let mut last = 0i64;
    let mut got = 0u64;
    for i in 0..10_000u32 {
        sim.writer
            .write(sim.now, sample_payload(i, 64), None)
            .expect("KEEP_LAST best effort never fails");
        if i % 3 == 0 {
            sim.pump();
        }
        while let Some(s) = sim.readers[0].poll_sample() {
            assert!(s.sn.0 > last, "best effort never goes backwards or repeats");
            last = s.sn.0;
            got += 1;
        }
        sim.step(Some(sim.now + Duration::from_micros(100)));
    }
    assert_eq!(sim.writer.history().len(), 1);
    assert_eq!(sim.writer.poll_timeout(), None, "no heartbeats");
    assert!(got > 1000, "most samples sent should arrive: got {got}");
    eprintln!("best effort: {got} of 10000 delivered (only every third was sent)");
}

#[test]
fn a_pull_mode_writer_delivers_everything_through_heartbeats_and_nacks() {
    let (seed, _guard) = seed(0x5eed_0007);
    let net = Net {
        loss: 0.2,
        dup: 0.1,
        reorder: 0.2,
    };
    let cfg = WriterConfig {
        history: HistoryKind::KeepAll,
        heartbeat_period: ms(20),
        nack_response_delay: ms(1),
        max_transmit_size: 1400,
        push_mode: false,
        ..WriterConfig::default()
    };
    let mut sim = Sim::new(seed, net, cfg);
    sim.add_reader(true, false);
    sim.add_reader(true, false);
    run_reliable(&mut sim, 500, 64, 500_000);
}

#[test]
fn many_fragmented_samples_in_cyclone_sized_datagrams_arrive_under_loss() {
    let (seed, _guard) = seed(0x5eed_0008);
    let net = Net {
        loss: 0.2,
        dup: 0.1,
        reorder: 0.2,
    };
    // Cyclone's defaults: 1344-byte fragments, up to 14720-byte datagrams.
    let cfg = WriterConfig {
        history: HistoryKind::KeepAll,
        resource_limits: ResourceLimits {
            max_samples: Some(20),
            max_instances: None,
        },
        heartbeat_period: ms(20),
        nack_response_delay: ms(1),
        fragment_size: 1344,
        max_transmit_size: 14_720 - 32,
        ..WriterConfig::default()
    };
    let mut sim = Sim::new(seed, net, cfg);
    sim.add_reader(true, false);
    sim.add_reader(true, false);
    let secs = run_reliable(&mut sim, 100, 200_000, 1_000_000);
    eprintln!(
        "100 x 200 KB, 2 readers, 20% loss: {secs:.2} virtual s, {} datagrams ({} lost)",
        sim.datagrams, sim.lost
    );
}
