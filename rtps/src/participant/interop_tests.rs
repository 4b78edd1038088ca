//! Regressions found by running against Fast DDS 2.9 and Cyclone DDS 0.10 (issue 4); each test
//! reproduces the peer-visible behaviour on the simulated network, so `cargo test` covers it
//! without the peers.

use std::time::Duration;

use bytes::Bytes;

use crate::discovery::data::qos::{EndpointQos, History, Reliability};
use crate::simworld::SimWorld;
use crate::wire::EntityId;

fn qos(reliable: bool) -> EndpointQos {
    let mut q = EndpointQos::writer_default();
    q.reliability = if reliable {
        Reliability::WRITER_DEFAULT
    } else {
        Reliability::READER_DEFAULT
    };
    q.history = History::KeepAll;
    q
}

/// A writer and a reader on `t`, matched both ways; returns (world, pub, writer, sub, reader).
fn matched_pair(seed: u64, reliable: bool) -> (SimWorld, usize, EntityId, usize, EntityId) {
    let mut w = SimWorld::new(seed, 0, true);
    let a = w.add_participant("pub", |_| {});
    let b = w.add_participant("sub", |_| {});
    let now = w.now;
    let wr = w.participants[a]
        .participant
        .create_writer(now, "t", "T", false, qos(reliable))
        .unwrap();
    let rd = w.participants[b]
        .participant
        .create_reader(now, "t", "T", false, qos(reliable))
        .unwrap();
    w.flush(a);
    w.flush(b);
    let ok = w.run_until(Duration::from_secs(5), |w| {
        w.participants[a].participant.matched_readers(wr).len() == 1
            && w.participants[b].participant.matched_writers(rd).len() == 1
    });
    assert!(ok, "seed {}: no match", w.seed());
    // Let discovery traffic (SEDP acks, SPDP burst) settle so nothing else flushes the writer.
    w.run_for(Duration::from_secs(2));
    (w, a, wr, b, rd)
}

fn write_and_deliver_within(reliable: bool, within: Duration) {
    let (mut w, a, wr, b, rd) = matched_pair(11, reliable);
    let seed = w.seed();
    let now = w.now;
    w.participants[a]
        .participant
        .write(now, wr, Bytes::from_static(&[0, 1, 0, 0, 7, 0, 0, 0]), None)
        .unwrap();
    // The datagram must be ready right after `write`: the driver drains `poll_transmit(now)`
    // after every operation, and it must yield the change at once rather than hold it until
    // some timer or datagram.
    let first = w.participants[a].participant.poll_transmit(now);
    assert!(first.is_some(), "seed {seed}: write queued nothing");
    if let Some(d) = first {
        for to in &d.destinations {
            let from = w.participants[a].address;
            let _ = w.net.send(now, from, *to, &d.bytes);
        }
    }
    w.flush(a);
    w.run_for(within);
    let got = w.participants[b].participant.take(rd);
    assert!(
        got.is_some(),
        "seed {seed}: sample not delivered within {within:?}"
    );
}

/// Peer behaviour: a Cyclone reader got best-effort samples from us up to 1 s late and in a
/// burst (so 1 MiB samples overflowed its socket buffer), because a written change waited in
/// the writer for the next received datagram; reliable ones waited for the 100 ms heartbeat.
#[test]
fn a_best_effort_write_goes_out_at_once() {
    write_and_deliver_within(false, Duration::from_micros(10));
}

/// Same for a reliable writer: DATA (with its piggy-backed HEARTBEAT) leaves on `write`, not
/// at the next periodic heartbeat.
#[test]
fn a_reliable_write_goes_out_at_once() {
    write_and_deliver_within(true, Duration::from_micros(10));
}
