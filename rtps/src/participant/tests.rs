//! Participant behaviour on the deterministic simulated network (architecture.md rule 8).
//! Each test prints its seed on failure; rerun with `RTPS_SIM_SEED=<seed>`.

use std::time::Duration;

use bytes::Bytes;

use super::{Event, LostReason};
use crate::discovery::data::qos::{Durability, EndpointQos, History, Reliability};
use crate::simworld::SimWorld;
use crate::transport::sim::LinkConfig;
use crate::wire::EntityId;

pub(super) fn reliable(durable: bool) -> EndpointQos {
    let mut q = EndpointQos::writer_default();
    q.reliability = Reliability::WRITER_DEFAULT;
    q.history = History::KeepAll;
    if durable {
        q.durability = Durability::TransientLocal;
    }
    q
}

pub(super) fn payload(i: u32) -> Bytes {
    let mut v = vec![0x00, 0x01, 0x00, 0x00];
    v.extend_from_slice(&i.to_le_bytes());
    Bytes::from(v)
}

pub(super) fn seq_of(p: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&p[4..8]);
    u32::from_le_bytes(b)
}

fn discovered(w: &SimWorld, i: usize) -> usize {
    w.participants[i].participant.remote_participants().count()
}

fn matched(w: &SimWorld, i: usize, writer: EntityId) -> usize {
    w.participants[i].participant.matched_readers(writer).len()
}

#[test]
fn five_participants_discover_each_other_and_match() {
    let mut w = SimWorld::new(1, 0, true);
    let seed = w.seed();
    let mut writers = Vec::new();
    for i in 0..5 {
        let idx = w.add_participant(&format!("p{i}"), |_| {});
        let now = w.now;
        let p = &mut w.participants[idx].participant;
        writers.push(
            p.create_writer(now, "topic", "T", false, reliable(false))
                .unwrap(),
        );
        p.create_reader(now, "topic", "T", false, reliable(false))
            .unwrap();
        w.flush(idx);
    }
    let ok = w.run_until(Duration::from_secs(10), |w| {
        (0..5).all(|i| discovered(w, i) == 4 && matched(w, i, writers[i]) == 5)
    });
    assert!(ok, "seed {seed}: discovery/matching incomplete");
}

#[test]
fn reliable_samples_arrive_once_in_order_under_loss_duplication_and_reordering() {
    let mut w = SimWorld::new(2, 0, true);
    let seed = w.seed();
    w.set_link(
        LinkConfig::default()
            .with_loss(0.2)
            .with_duplicate(0.1)
            .with_delay(Duration::from_micros(200), Duration::from_micros(300))
            .with_reorder(0.1, Duration::from_millis(2)),
    );
    let a = w.add_participant("pub", |_| {});
    let b = w.add_participant("sub", |_| {});
    let now = w.now;
    let wr = w.participants[a]
        .participant
        .create_writer(now, "t", "T", false, reliable(false))
        .unwrap();
    let rd = w.participants[b]
        .participant
        .create_reader(now, "t", "T", false, reliable(false))
        .unwrap();
    w.flush(a);
    w.flush(b);
    assert!(
        w.run_until(Duration::from_secs(20), |w| matched(w, a, wr) == 1),
        "seed {seed}: no match"
    );
    const N: u32 = 10_000;
    let mut got = Vec::new();
    let mut next = 0u32;
    let ok = w.run_until(Duration::from_secs(120), |w| {
        // Keep up to 200 in flight.
        while next < N && next < got.len() as u32 + 200 {
            let now = w.now;
            w.participants[a]
                .participant
                .write(now, wr, payload(next), None)
                .unwrap();
            next += 1;
            w.flush(a);
        }
        while let Some(s) = w.participants[b].participant.take(rd) {
            got.push(seq_of(&s.payload));
        }
        got.len() as u32 >= N
    });
    assert!(ok, "seed {seed}: only {} of {N} samples arrived", got.len());
    let expected: Vec<u32> = (0..N).collect();
    assert_eq!(
        got, expected,
        "seed {seed}: samples out of order or duplicated"
    );
}

#[test]
fn a_late_transient_local_reader_gets_the_history() {
    let mut w = SimWorld::new(3, 0, true);
    let seed = w.seed();
    let a = w.add_participant("pub", |_| {});
    let now = w.now;
    let wr = w.participants[a]
        .participant
        .create_writer(now, "t", "T", false, reliable(true))
        .unwrap();
    for i in 0..10 {
        w.participants[a]
            .participant
            .write(now, wr, payload(i), None)
            .unwrap();
    }
    w.flush(a);
    w.run_for(Duration::from_secs(1));
    let b = w.add_participant("late", |_| {});
    let now = w.now;
    let rd = w.participants[b]
        .participant
        .create_reader(now, "t", "T", false, reliable(true))
        .unwrap();
    w.flush(b);
    let mut got = Vec::new();
    let ok = w.run_until(Duration::from_secs(10), |w| {
        while let Some(s) = w.participants[b].participant.take(rd) {
            got.push(seq_of(&s.payload));
        }
        got.len() >= 10
    });
    assert!(ok, "seed {seed}: late reader got {got:?}");
    assert_eq!(got, (0..10).collect::<Vec<_>>());
}

#[test]
fn a_silent_participant_is_dropped_when_its_lease_expires() {
    let mut w = SimWorld::new(4, 0, true);
    let seed = w.seed();
    let a = w.add_participant("a", |c| c.lease_duration = Duration::from_secs(5));
    let b = w.add_participant("b", |c| c.lease_duration = Duration::from_secs(5));
    assert!(
        w.run_until(Duration::from_secs(5), |w| discovered(w, a) == 1),
        "seed {seed}"
    );
    w.crash(b);
    let ok = w.run_until(Duration::from_secs(10), |w| discovered(w, a) == 0);
    assert!(ok, "seed {seed}: lease did not expire");
    assert!(w.participants[a].events.iter().any(|e| matches!(
        e,
        Event::ParticipantLost {
            reason: LostReason::LeaseExpired,
            ..
        }
    )));
}

#[test]
fn a_clean_shutdown_is_noticed_at_once() {
    let mut w = SimWorld::new(5, 0, true);
    let seed = w.seed();
    let a = w.add_participant("a", |_| {});
    let b = w.add_participant("b", |_| {});
    let now = w.now;
    let rd = w.participants[a]
        .participant
        .create_reader(now, "t", "T", false, reliable(false))
        .unwrap();
    let wr = w.participants[b]
        .participant
        .create_writer(now, "t", "T", false, reliable(false))
        .unwrap();
    w.flush(a);
    w.flush(b);
    assert!(
        w.run_until(Duration::from_secs(5), |w| matched(w, b, wr) == 1),
        "seed {seed}"
    );
    let now = w.now;
    w.participants[b].participant.shutdown(now);
    w.flush(b);
    w.crash(b);
    let ok = w.run_until(Duration::from_millis(500), |w| discovered(w, a) == 0);
    assert!(ok, "seed {seed}: shutdown not noticed");
    let ev = &w.participants[a].events;
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::SubscriptionUnmatched { reader, .. } if *reader == rd)));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::ParticipantLost {
            reason: LostReason::Disposed,
            ..
        }
    )));
}

#[test]
fn discovery_works_by_unicast_without_multicast() {
    let mut w = SimWorld::new(6, 0, false);
    let seed = w.seed();
    let a = w.add_participant("a", |_| {});
    let b = w.add_participant("b", |_| {});
    let c = w.add_participant("c", |_| {});
    let ok = w.run_until(Duration::from_secs(10), |w| {
        [a, b, c].iter().all(|&i| discovered(w, i) == 2)
    });
    assert!(ok, "seed {seed}: unicast discovery incomplete");
}

#[test]
fn an_incompatible_reader_raises_an_event_and_does_not_match() {
    let mut w = SimWorld::new(7, 0, true);
    let seed = w.seed();
    let a = w.add_participant("a", |_| {});
    let b = w.add_participant("b", |_| {});
    let now = w.now;
    let wr = w.participants[a]
        .participant
        .create_writer(now, "t", "T", false, reliable(false))
        .unwrap();
    w.participants[b]
        .participant
        .create_reader(now, "t", "T", false, reliable(true))
        .unwrap();
    w.flush(a);
    w.flush(b);
    let ok = w.run_until(Duration::from_secs(5), |w| {
        w.participants[a]
            .events
            .iter()
            .any(|e| matches!(e, Event::IncompatibleQos { .. }))
    });
    assert!(ok, "seed {seed}: no IncompatibleQos event");
    assert_eq!(matched(&w, a, wr), 0);
}

#[test]
fn best_effort_keep_last_writer_never_blocks() {
    let mut w = SimWorld::new(8, 0, true);
    let a = w.add_participant("a", |_| {});
    let now = w.now;
    let mut q = EndpointQos::reader_default();
    q.history = History::KeepLast { depth: 4 };
    let wr = w.participants[a]
        .participant
        .create_writer(now, "t", "T", false, q)
        .unwrap();
    for i in 0..10_000 {
        assert!(w.participants[a]
            .participant
            .write(now, wr, payload(i), None)
            .is_ok());
    }
}

#[test]
fn malformed_datagrams_are_counted_and_dropped() {
    let mut w = SimWorld::new(9, 0, true);
    let a = w.add_participant("a", |_| {});
    let now = w.now;
    let src = "127.0.0.1:9".parse().unwrap();
    let p = &mut w.participants[a].participant;
    p.handle_datagram(now, src, b"not rtps at all");
    p.handle_datagram(now, src, b"RTPS\x02\x04");
    let mut trunc =
        b"RTPS\x02\x04\x01\x0f\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c".to_vec();
    trunc.extend_from_slice(&[0x15, 0x05, 0xff, 0x00, 0x00]);
    p.handle_datagram(now, src, &trunc);
    assert_eq!(p.stats().dropped_malformed, 3);
    assert_eq!(p.remote_participants().count(), 0);
}

#[test]
fn a_10_mb_sample_arrives_under_10_percent_loss() {
    let mut w = SimWorld::new(10, 0, true);
    let seed = w.seed();
    w.set_link(
        LinkConfig::default()
            .with_loss(0.1)
            .with_delay(Duration::from_micros(100), Duration::from_micros(100)),
    );
    let small = |c: &mut super::ParticipantConfig| {
        c.fragment_size = 8000;
        c.max_message_size = 16_000;
    };
    let a = w.add_participant("pub", small);
    let b = w.add_participant("sub", small);
    let now = w.now;
    let wr = w.participants[a]
        .participant
        .create_writer(now, "big", "Blob", false, reliable(false))
        .unwrap();
    let rd = w.participants[b]
        .participant
        .create_reader(now, "big", "Blob", false, reliable(false))
        .unwrap();
    w.flush(a);
    w.flush(b);
    assert!(
        w.run_until(Duration::from_secs(20), |w| matched(w, a, wr) == 1),
        "seed {seed}: no match"
    );
    let mut blob = vec![0x00, 0x01, 0x00, 0x00];
    blob.extend((0..10_000_000u32).map(|i| (i % 253) as u8));
    let blob = Bytes::from(blob);
    let now = w.now;
    w.participants[a]
        .participant
        .write(now, wr, blob.clone(), None)
        .unwrap();
    w.flush(a);
    let mut got = None;
    let ok = w.run_until(Duration::from_secs(60), |w| {
        got = got
            .take()
            .or_else(|| w.participants[b].participant.take(rd));
        got.is_some()
    });
    assert!(ok, "seed {seed}: 10 MB sample not delivered");
    assert!(
        got.is_some_and(|s| s.payload == blob),
        "seed {seed}: payload differs"
    );
}

#[test]
fn a_sample_written_just_before_its_writer_is_deleted_is_still_sent() {
    let mut w = SimWorld::new(12, 0, true);
    let seed = w.seed();
    let a = w.add_participant("pub", |_| {});
    let b = w.add_participant("sub", |_| {});
    let now = w.now;
    let wr = w.participants[a]
        .participant
        .create_writer(now, "t", "T", false, reliable(false))
        .unwrap();
    let rd = w.participants[b]
        .participant
        .create_reader(now, "t", "T", false, reliable(false))
        .unwrap();
    w.flush(a);
    w.flush(b);
    assert!(
        w.run_until(Duration::from_secs(5), |w| matched(w, a, wr) == 1),
        "seed {seed}"
    );
    let now = w.now;
    let p = &mut w.participants[a].participant;
    p.write(now, wr, payload(42), None).unwrap();
    // No poll_transmit between the write and the delete.
    p.delete_writer(now, wr).unwrap();
    w.flush(a);
    let mut got = None;
    let ok = w.run_until(Duration::from_secs(2), |w| {
        got = got
            .take()
            .or_else(|| w.participants[b].participant.take(rd));
        got.is_some()
    });
    assert!(
        ok,
        "seed {seed}: the last sample was dropped with its writer"
    );
    assert_eq!(got.map(|s| seq_of(&s.payload)), Some(42));
}

/// Samples that one flush sends to the same participant share a datagram (one INFO_DST), and
/// a DATA written without a timestamp does not inherit the one an earlier writer's DATA set:
/// an INFO_TS invalidate comes between them (RTPS 2.5 §8.3.7.9). Both samples arrive.
#[test]
fn one_flush_packs_several_writers_for_one_peer_into_one_datagram() {
    use crate::wire::message::Message;
    use crate::wire::submessage::Submessage;
    use crate::wire::Time;

    let mut w = SimWorld::new(13, 0, true);
    let seed = w.seed();
    let a = w.add_participant("pub", |_| {});
    let b = w.add_participant("sub", |_| {});
    let now = w.now;
    let mut pairs = Vec::new();
    for topic in ["t1", "t2"] {
        let wr = w.participants[a]
            .participant
            .create_writer(now, topic, "T", false, reliable(false))
            .unwrap();
        let rd = w.participants[b]
            .participant
            .create_reader(now, topic, "T", false, reliable(false))
            .unwrap();
        pairs.push((wr, rd));
    }
    w.flush(a);
    w.flush(b);
    assert!(
        w.run_until(Duration::from_secs(5), |w| pairs
            .iter()
            .all(|(wr, _)| matched(w, a, *wr) == 1)),
        "seed {seed}: no match"
    );
    // Let discovery settle so that the flush below carries only the two writes.
    w.run_for(Duration::from_secs(2));
    let now = w.now;
    let stamp = Time {
        seconds: 1_700_000_000,
        fraction: 0,
    };
    let p = &mut w.participants[a].participant;
    p.write(now, pairs[0].0, payload(1), Some(stamp)).unwrap();
    p.write(now, pairs[1].0, payload(2), None).unwrap();
    let d = p.poll_transmit(now).expect("a datagram");
    assert!(
        p.poll_transmit(now).is_none(),
        "seed {seed}: the two samples for one peer took two datagrams"
    );
    let m = Message::parse(&d.bytes).expect("parses");
    let kinds: Vec<&str> = m
        .submessages()
        .map(|s| match s.expect("submessage").submessage {
            Submessage::InfoDestination(_) => "dst",
            Submessage::InfoTimestamp(t) if t.timestamp.is_some() => "ts",
            Submessage::InfoTimestamp(_) => "ts-invalidate",
            Submessage::Data(_) => "data",
            Submessage::Heartbeat(_) => "hb",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        ["dst", "ts", "data", "hb", "ts-invalidate", "data", "hb"],
        "seed {seed}"
    );
    for to in &d.destinations {
        let from = w.participants[a].address;
        let _ = w.net.send(now, from, *to, &d.bytes);
    }
    w.flush(a);
    let mut got = Vec::new();
    let ok = w.run_until(Duration::from_secs(1), |w| {
        for (_, rd) in &pairs {
            while let Some(s) = w.participants[b].participant.take(*rd) {
                got.push(seq_of(&s.payload));
            }
        }
        got.len() == 2
    });
    assert!(ok, "seed {seed}: got {got:?}");
    assert_eq!(got, [1, 2], "seed {seed}");
}
