//! Discovery races on the deterministic simulated network (issue 10, items 1 and 2): user
//! data that arrives before its writer's SEDP announcement, and a newcomer that misses our
//! first SPDP answers. Each test prints its seed on failure; rerun with `RTPS_SIM_SEED=<seed>`.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

use super::{EarlyDataLimits, ParticipantConfig};
use crate::discovery::data::qos::EndpointQos;
use crate::simworld::SimWorld;
use crate::transport::sim::LinkConfig;
use crate::wire::message::MessageBuilder;
use crate::wire::submessage::{Data, SerializedPayload, Submessage};
use crate::wire::{EntityId, GuidPrefix, Header, Locator, SequenceNumber};

fn reliable() -> EndpointQos {
    super::tests::reliable(false)
}

fn user_addr(w: &SimWorld, i: usize) -> SocketAddr {
    w.participants[i]
        .participant
        .participant_data()
        .default_unicast_locators
        .iter()
        .find_map(Locator::to_socket_addr)
        .expect("a user locator")
}

/// Two discovered participants; `b` has a reliable reader on "t" that `a` knows. Then `a`
/// creates a writer on "t" and writes one sample at once; its DATA is delivered to `b`
/// before the SEDP DATA(w) announcing the writer (the order a Fast DDS node's on-demand
/// writer produces on our two receive threads). Returns the virtual time from the write to
/// the sample being taken by `b`'s reader, and `b`'s stats.
fn data_before_announcement(
    seed: u64,
    tweak: fn(&mut ParticipantConfig),
) -> (Duration, super::Stats) {
    let mut w = SimWorld::new(seed, 0, true);
    let seed = w.seed();
    w.set_link(LinkConfig::PERFECT.with_delay(Duration::from_micros(200), Duration::ZERO));
    let a = w.add_participant("a", |_| {});
    let b = w.add_participant("b", tweak);
    let now = w.now;
    let rd = w.participants[b]
        .participant
        .create_reader(now, "t", "T", false, reliable())
        .unwrap();
    w.flush(b);
    // Discovery and the reader's announcement settle.
    w.run_for(Duration::from_secs(1));
    assert_eq!(
        w.participants[b].participant.remote_participants().count(),
        1,
        "seed {seed}: no discovery"
    );
    let now = w.now;
    let written = now;
    let pa = &mut w.participants[a].participant;
    let wr = pa.create_writer(now, "t", "T", false, reliable()).unwrap();
    assert_eq!(
        pa.matched_readers(wr).len(),
        1,
        "seed {seed}: a knows b's reader"
    );
    pa.write(
        now,
        wr,
        Bytes::from_static(&[0, 1, 0, 0, 42, 0, 0, 0]),
        None,
    )
    .unwrap();
    let to_user = user_addr(&w, b);
    let from = w.participants[a].address;
    let (mut user, mut meta) = (Vec::new(), Vec::new());
    while let Some(d) = w.participants[a].participant.poll_transmit(now) {
        for to in d.destinations {
            if to == to_user {
                user.push((to, d.bytes.clone()));
            } else {
                meta.push((to, d.bytes.clone()));
            }
        }
    }
    assert!(!user.is_empty(), "seed {seed}: the DATA went out at once");
    assert!(
        !meta.is_empty(),
        "seed {seed}: the SEDP DATA(w) went out at once"
    );
    for (to, bytes) in user {
        let _ = w.net.send(now, from, to, &bytes);
    }
    assert!(w.run_until(Duration::from_millis(5), |w| w.net.in_flight() == 0));
    assert!(
        w.participants[b].participant.matched_writers(rd).is_empty(),
        "seed {seed}: the DATA came first"
    );
    let now = w.now;
    for (to, bytes) in meta {
        let _ = w.net.send(now, from, to, &bytes);
    }
    let mut got = Vec::new();
    let ok = w.run_until(Duration::from_secs(5), |w| {
        while let Some(s) = w.participants[b].participant.take(rd) {
            got.push(s.payload);
        }
        !got.is_empty()
    });
    assert!(ok, "seed {seed}: the sample never arrived");
    let took = w.now - written;
    eprintln!("seed {seed}: sample taken {took:?} after the write");
    // Nothing arrives twice.
    w.run_for(Duration::from_millis(500));
    while let Some(s) = w.participants[b].participant.take(rd) {
        got.push(s.payload);
    }
    assert_eq!(
        got,
        vec![Bytes::from_static(&[0, 1, 0, 0, 42, 0, 0, 0])],
        "seed {seed}"
    );
    (took, w.participants[b].participant.stats())
}

#[test]
fn data_before_its_writers_announcement_is_held_and_replayed_at_the_match() {
    let (took, stats) = data_before_announcement(21, |_| {});
    assert!(took <= Duration::from_millis(10), "took {took:?}");
    assert_eq!(stats.early_data_held, 1, "{stats:?}");
    assert_eq!(stats.early_data_replayed, 1, "{stats:?}");
    assert_eq!(stats.early_data_dropped, 0, "{stats:?}");
}

#[test]
fn data_before_its_writers_announcement_dropped_is_asked_for_at_the_match() {
    // No room to hold payloads: the dropped DATA is remembered as a hint and the reader's
    // pre-emptive ACKNACK asks for it.
    let (took, stats) = data_before_announcement(22, |c| {
        c.early_data.max_bytes = 0;
    });
    assert!(took <= Duration::from_millis(10), "took {took:?}");
    assert_eq!(stats.early_data_held, 0, "{stats:?}");
    assert_eq!(stats.early_data_dropped, 1, "{stats:?}");
}

#[test]
fn data_before_its_writers_announcement_without_hold_comes_from_the_preemptive_acknack() {
    // Nothing kept at all: the pre-emptive ACKNACK makes the writer HEARTBEAT, and that
    // first HEARTBEAT is answered at once.
    let (took, stats) = data_before_announcement(23, |c| {
        c.early_data.max_entries = 0;
    });
    assert!(took <= Duration::from_millis(10), "took {took:?}");
    assert_eq!(stats.early_data_held, 0, "{stats:?}");
    assert_eq!(stats.early_data_replayed, 0, "{stats:?}");
}

fn datagram(prefix: GuidPrefix, writer_key: u32, sn: i64, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; payload.len() + 128];
    let mut m = MessageBuilder::new(&mut buf, &Header::new(prefix)).unwrap();
    m.push(&Submessage::Data(Data {
        reader_id: EntityId::UNKNOWN,
        writer_id: EntityId::from_u32((writer_key << 8) | 0x03),
        writer_sn: SequenceNumber(sn),
        inline_qos: None,
        payload: Some(SerializedPayload {
            bytes: payload,
            is_key: false,
        }),
    }))
    .unwrap();
    let n = m.finish();
    buf.truncate(n);
    buf
}

#[test]
fn the_early_data_hold_is_bounded_and_expires() {
    let mut w = SimWorld::new(24, 0, true);
    let seed = w.seed();
    let a = w.add_participant("a", |_| {});
    let b = w.add_participant("b", |_| {});
    let now = w.now;
    w.participants[b]
        .participant
        .create_reader(now, "t", "T", false, reliable())
        .unwrap();
    w.run_for(Duration::from_secs(1));
    let limits = EarlyDataLimits::default();
    let prefix = w.participants[a].participant.guid_prefix();
    let from = w.participants[a].address;
    let payload = vec![0u8; 1000];
    let p = &mut w.participants[b].participant;
    let mut now = w.now;
    // A flood from 5,000 writers nobody announced, then 500 DATA from a single one.
    for k in 0..5_000u32 {
        p.handle_datagram(now, from, &datagram(prefix, 0x1000 + k, 1, &payload));
        assert!(p.early.bytes() <= limits.max_bytes, "seed {seed}");
        assert!(p.early.len() <= limits.max_entries, "seed {seed}");
        now += Duration::from_micros(10);
    }
    let s = p.stats();
    assert_eq!(s.early_data_replayed, 0);
    assert!(s.early_data_held >= limits.max_entries as u64, "{s:?}");
    assert!(
        s.early_data_dropped >= 5_000 - limits.max_entries as u64,
        "{s:?}"
    );
    for sn in 1..=500 {
        p.handle_datagram(now, from, &datagram(prefix, 7, sn, &payload));
    }
    let one_writer: usize = p
        .early
        .take(crate::wire::Guid::new(
            prefix,
            EntityId::from_u32((7 << 8) | 0x03),
        ))
        .iter()
        .filter_map(|h| h.raw.as_ref().map(Bytes::len))
        .sum();
    assert!(one_writer <= limits.max_writer_bytes, "{one_writer}");
    assert!(one_writer > 0);
    // Old entries expire.
    p.handle_datagram(now, from, &datagram(prefix, 8, 1, &payload));
    assert!(p.early.len() > 0);
    let later = now + limits.max_age;
    p.handle_timeout(later);
    assert_eq!(p.early.len(), 0, "seed {seed}");
    assert_eq!(p.early.bytes(), 0, "seed {seed}");
}

/// `b` joins a running `a`, but everything from `a` to `b` is lost for its first 250 ms
/// (`b` not ready yet). Returns whether `b` discovered `a` within a second of joining.
fn newcomer_learns_of_us(seed: u64, answer_burst: u32) -> bool {
    let mut w = SimWorld::new(seed, 0, true);
    let a = w.add_participant("a", |c| c.answer_burst = answer_burst);
    // a's own initial burst is over long before b comes (its next periodic one is at 3.5 s).
    w.run_for(Duration::from_secs(1));
    let b = w.add_participant("b", |_| {});
    let (na, nb) = (w.participants[a].node, w.participants[b].node);
    w.net.set_link(na, nb, LinkConfig::PERFECT.with_loss(1.0));
    w.run_for(Duration::from_millis(250));
    assert_eq!(
        w.participants[a].participant.remote_participants().count(),
        1,
        "seed {}: a heard b",
        w.seed()
    );
    assert_eq!(
        w.participants[b].participant.remote_participants().count(),
        0
    );
    w.net.set_link(na, nb, LinkConfig::PERFECT);
    w.run_until(Duration::from_millis(750), |w| {
        w.participants[b].participant.remote_participants().count() == 1
    })
}

#[test]
fn a_newcomer_that_misses_our_first_answers_learns_of_us_within_a_second() {
    assert!(newcomer_learns_of_us(25, 5), "seed 25 (or RTPS_SIM_SEED)");
    // The old single answer would leave it waiting for the periodic announcement.
    assert!(!newcomer_learns_of_us(25, 1));
}

fn preemptive_acknack(zero_based: bool, heard_of: Option<i64>) -> crate::wire::submessage::AckNack {
    use crate::reliability::{OutSubmessage, ReaderConfig, StatefulReader, WriterProxyConfig};
    use crate::wire::Guid;
    let now = crate::transport::sim::virtual_epoch();
    let writer = Guid::new(GuidPrefix([1; 12]), EntityId::from_u32(0x103));
    let reader = Guid::new(GuidPrefix([2; 12]), EntityId::from_u32(0x104));
    let mut r = StatefulReader::new(reader, ReaderConfig::default());
    r.add_matched_writer(
        now,
        WriterProxyConfig {
            remote_writer_guid: writer,
            reliable: true,
            locators: Vec::new(),
        },
    );
    if zero_based {
        r.zero_based_preemptive(writer);
    }
    if let Some(sn) = heard_of {
        r.heard_of(writer, SequenceNumber(sn));
    }
    let t = r
        .poll_transmit(now)
        .expect("a pre-emptive ACKNACK at the match");
    assert!(r.poll_transmit(now).is_none());
    match t.submessages.first() {
        Some(OutSubmessage::AckNack(a)) => *a,
        other => panic!("not an ACKNACK: {other:?}"),
    }
}

#[test]
fn the_preemptive_acknack_takes_the_form_the_writer_answers() {
    // Default (Cyclone, ours): base 1, no bits, F clear.
    let a = preemptive_acknack(false, None);
    assert_eq!(a.reader_sn_state.base, SequenceNumber(1));
    assert!(a.reader_sn_state.is_empty() && !a.final_flag);
    // An eProsima writer: base 0, no bits, F clear (Fast DDS answers only that at once).
    let a = preemptive_acknack(true, None);
    assert_eq!(a.reader_sn_state.base, SequenceNumber(0));
    assert!(a.reader_sn_state.is_empty() && !a.final_flag);
    // Data seen before the match and not kept: asked for, whatever the vendor.
    for zero_based in [false, true] {
        let a = preemptive_acknack(zero_based, Some(3));
        assert_eq!(a.reader_sn_state.base, SequenceNumber(1));
        let nacked: Vec<i64> = a.reader_sn_state.iter().map(|s| s.0).collect();
        assert_eq!(nacked, vec![1, 2, 3]);
        assert!(!a.final_flag);
    }
}
