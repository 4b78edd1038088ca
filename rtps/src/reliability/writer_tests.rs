//! Writer unit tests: "ACKNACK in, DATA and HEARTBEAT out".

use super::*;
use crate::reliability::test_support::*;
use crate::wire::submessage::NackFrag;

fn config() -> WriterConfig {
    WriterConfig {
        history: HistoryKind::KeepAll,
        ..WriterConfig::default()
    }
}

fn reader(n: u8, reliable: bool, durable: bool) -> ReaderProxyConfig {
    ReaderProxyConfig {
        remote_reader_guid: reader_guid(n),
        reliable,
        durable,
        expects_inline_qos: false,
        locators: Vec::new(),
    }
}

fn writer_with_reader(cfg: WriterConfig, now: Instant) -> StatefulWriter {
    let mut w = StatefulWriter::new(writer_guid(), cfg);
    w.add_matched_reader(now, reader(1, true, false));
    // The first HEARTBEAT announces an empty writer.
    assert_eq!(drain_writer(&mut w, now), vec![vec!["HB(1,0,F)"]]);
    w
}

/// A writer with `nack_response_delay` zero that has sent changes 1..=3 to reader 1.
fn three_sent_answering_at_once(t: Instant) -> StatefulWriter {
    let cfg = WriterConfig {
        nack_response_delay: Duration::ZERO,
        ..config()
    };
    let mut w = writer_with_reader(cfg, t);
    for i in 0..3 {
        w.write(t, payload(10, i), None).unwrap();
    }
    drain_writer(&mut w, t);
    w
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn pushes_new_changes_then_a_piggybacked_heartbeat() {
    let t = t0();
    let mut w = writer_with_reader(config(), t);
    for i in 0..3 {
        w.write(t, payload(10, i), None).unwrap();
    }
    assert_eq!(
        drain_writer(&mut w, t),
        vec![s(&["DATA(1)", "DATA(2)", "DATA(3)", "HB(1,3)"])]
    );
    assert_eq!(w.stats().data_sent, 3);
}

#[test]
fn answers_a_nack_with_the_data_after_the_nack_response_delay() {
    let t = t0();
    let mut w = writer_with_reader(config(), t);
    for i in 0..3 {
        w.write(t, payload(10, i), None).unwrap();
    }
    drain_writer(&mut w, t);
    w.handle_acknack(
        t,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 2, &[2, 3], 1),
    );
    assert!(drain_writer(&mut w, t).is_empty(), "not before the delay");
    let at = w.poll_timeout().unwrap();
    assert_eq!(at, t + ms(5));
    assert_eq!(
        drain_writer(&mut w, at),
        vec![s(&["DATA(2)", "DATA(3)", "HB(2,3)"])]
    );
    assert_eq!(w.stats().repairs_sent, 2);
    assert!(w.is_acked_by_all(sn(1)) && !w.is_acked_by_all(sn(2)));
}

#[test]
fn gaps_a_keep_last_change_that_was_overwritten() {
    let t = t0();
    let cfg = WriterConfig {
        history: HistoryKind::KeepLast { depth: 2 },
        nack_response_delay: Duration::ZERO,
        ..config()
    };
    let mut w = writer_with_reader(cfg, t);
    for i in 0..4 {
        w.write(t, payload(10, i), None).unwrap();
        drain_writer(&mut w, t);
    }
    w.handle_acknack(
        t,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 1, &[1, 2, 4], 1),
    );
    assert_eq!(
        drain_writer(&mut w, t),
        vec![s(&["GAP(1..3)", "DATA(4)", "HB(3,4)"])]
    );
}

#[test]
fn gaps_overwritten_changes_not_yet_sent_instead_of_sending_them() {
    let t = t0();
    let cfg = WriterConfig {
        history: HistoryKind::KeepLast { depth: 1 },
        ..config()
    };
    let mut w = writer_with_reader(cfg, t);
    for i in 0..3 {
        w.write(t, payload(10, i), None).unwrap();
    }
    assert_eq!(
        drain_writer(&mut w, t),
        vec![s(&["GAP(1..3)", "DATA(3)", "HB(3,3)"])]
    );
}

#[test]
fn ignores_an_acknack_whose_count_is_not_above_the_last_one() {
    let t = t0();
    let mut w = three_sent_answering_at_once(t);
    let prefix = reader_guid(1).prefix;
    w.handle_acknack(t, prefix, &acknack(reader_guid(1), 3, &[], 5));
    w.handle_acknack(t, prefix, &acknack(reader_guid(1), 1, &[1, 2], 4));
    w.handle_acknack(t, prefix, &acknack(reader_guid(1), 1, &[1, 2], 5));
    assert!(drain_writer(&mut w, t).is_empty());
    assert_eq!(w.stats().stale_nacks, 2);
    assert!(w.is_acked_by_all(sn(2)));
}

#[test]
fn a_forged_acknack_count_far_ahead_does_not_make_the_readers_acknacks_stale() {
    let t = t0();
    let cfg = WriterConfig {
        nack_response_delay: Duration::ZERO,
        ..config()
    };
    let mut w = writer_with_reader(cfg, t);
    for i in 0..3 {
        w.write(t, payload(10, i), None).unwrap();
    }
    drain_writer(&mut w, t);
    let prefix = reader_guid(1).prefix;
    w.handle_acknack(t, prefix, &acknack(reader_guid(1), 1, &[], u32::MAX));
    // The reader's own ACKNACK (count 1) still asks for 2 and is answered.
    w.handle_acknack(t, prefix, &acknack(reader_guid(1), 2, &[2], 1));
    assert_eq!(w.stats().stale_nacks, 0);
    assert!(!drain_writer(&mut w, t).is_empty());
}

#[test]
fn heartbeats_periodically_while_changes_are_unacknowledged() {
    let t = t0();
    let mut w = writer_with_reader(config(), t);
    w.write(t, payload(10, 0), None).unwrap();
    drain_writer(&mut w, t);
    assert_eq!(w.poll_timeout(), Some(t + ms(100)));
    w.handle_timeout(t + ms(50));
    assert!(
        drain_writer(&mut w, t + ms(50)).is_empty(),
        "early timeout is a no-op"
    );
    w.handle_timeout(t + ms(100));
    assert_eq!(drain_writer(&mut w, t + ms(100)), vec![s(&["HB(1,1)"])]);
    assert_eq!(w.poll_timeout(), Some(t + ms(200)));
    w.handle_acknack(
        t + ms(110),
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 2, &[], 1),
    );
    assert_eq!(
        w.poll_event(),
        Some(WriterEvent::Acknowledged { below: sn(2) })
    );
    w.handle_timeout(t + ms(200));
    assert!(drain_writer(&mut w, t + ms(200)).is_empty());
    assert_eq!(
        w.poll_timeout(),
        None,
        "no heartbeats once everything is acknowledged"
    );
}

#[test]
fn answers_a_non_final_acknack_without_nacks_with_a_heartbeat() {
    let t = t0();
    let mut w = writer_with_reader(config(), t);
    // Fast DDS's pre-emptive ACKNACK: bitmapBase 0, no bits, F clear.
    let mut a = acknack(reader_guid(1), 0, &[], 1);
    a.final_flag = false;
    w.handle_acknack(t, reader_guid(1).prefix, &a);
    assert_eq!(drain_writer(&mut w, t), vec![s(&["HB(1,0,F)"])]);
    // Cyclone's base 1 numBits 0 with F set: nothing to answer.
    w.handle_acknack(
        t,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 1, &[], 2),
    );
    assert!(drain_writer(&mut w, t).is_empty());
}

/// A KEEP_LAST(10) writer answering at once, with changes 1..=3 written before reader 1
/// (VOLATILE) matched.
fn late_volatile_reader(t: Instant) -> StatefulWriter {
    let cfg = WriterConfig {
        history: HistoryKind::KeepLast { depth: 10 },
        nack_response_delay: Duration::ZERO,
        ..config()
    };
    let mut w = StatefulWriter::new(writer_guid(), cfg);
    for i in 0..3 {
        w.write(t, payload(10, i), None).unwrap();
    }
    w.add_matched_reader(t, reader(1, true, false));
    w
}

#[test]
fn a_late_volatile_reader_starts_after_the_last_change_and_gets_gaps_for_older_ones() {
    let t = t0();
    let mut w = late_volatile_reader(t);
    assert_eq!(drain_writer(&mut w, t), vec![s(&["HB(4,3,F)"])]);
    w.handle_acknack(
        t,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 1, &[1, 2], 1),
    );
    assert_eq!(
        drain_writer(&mut w, t),
        vec![s(&["GAP(1..3)", "HB(4,3,F)"])]
    );
}

#[test]
fn a_late_durable_reader_of_a_transient_local_writer_gets_the_history() {
    let t = t0();
    let cfg = WriterConfig {
        durability: Durability::TransientLocal,
        history: HistoryKind::KeepLast { depth: 2 },
        ..config()
    };
    let mut w = StatefulWriter::new(writer_guid(), cfg);
    for i in 0..3 {
        w.write(
            t,
            payload(10, i),
            Some(Time {
                seconds: 7,
                fraction: i.into(),
            }),
        )
        .unwrap();
    }
    w.add_matched_reader(t, reader(1, true, true));
    assert_eq!(
        drain_writer(&mut w, t),
        vec![s(&[
            "GAP(1..2)",
            "TS",
            "DATA(2)",
            "TS",
            "DATA(3)",
            "HB(2,3)"
        ])]
    );
}

#[test]
fn cuts_large_payloads_into_data_frag_within_the_transmit_budget() {
    let t = t0();
    let cfg = WriterConfig {
        fragment_size: 100,
        max_transmit_size: 500,
        ..config()
    };
    let mut w = writer_with_reader(cfg, t);
    w.write(t, payload(1000, 1), None).unwrap();
    assert_eq!(
        drain_writer(&mut w, t),
        vec![
            s(&["FRAG(1:1+4)"]),
            s(&["FRAG(1:5+4)"]),
            s(&["FRAG(1:9+2)", "HB(1,1)"]),
        ]
    );
    // A NACK_FRAG is answered with just those fragments.
    let nf = NackFrag {
        reader_id: reader_guid(1).entity_id,
        writer_id: writer_guid().entity_id,
        writer_sn: sn(1),
        fragment_number_state: frag_set(2, &[2, 3, 7]),
        count: 1,
    };
    w.handle_nack_frag(t, reader_guid(1).prefix, &nf);
    w.handle_nack_frag(t, reader_guid(1).prefix, &nf);
    assert_eq!(w.stats().stale_nacks, 1);
    assert_eq!(
        drain_writer(&mut w, t + ms(5)),
        vec![s(&["FRAG(1:2+2)", "FRAG(1:7+1)", "HB(1,1)"])]
    );
    // An ACKNACK of the whole sample resends every fragment.
    w.handle_acknack(
        t + ms(5),
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 1, &[1], 1),
    );
    let all = drain_writer(&mut w, t + ms(10));
    assert_eq!(all.len(), 3);
    assert_eq!(all[0], s(&["FRAG(1:1+4)"]));
}

#[test]
fn does_not_resend_fragments_it_has_not_sent_yet() {
    let t = t0();
    let cfg = WriterConfig {
        fragment_size: 100,
        max_transmit_size: 300,
        nack_response_delay: Duration::ZERO,
        ..config()
    };
    let mut w = writer_with_reader(cfg, t);
    w.write(t, payload(1000, 1), None).unwrap();
    assert_eq!(
        w.poll_transmit(t).map(|t| describe_all(&t)),
        Some(s(&["FRAG(1:1+2)"]))
    );
    let nf = NackFrag {
        reader_id: reader_guid(1).entity_id,
        writer_id: writer_guid().entity_id,
        writer_sn: sn(1),
        fragment_number_state: frag_set(2, &[2, 3, 4]),
        count: 1,
    };
    w.handle_nack_frag(t, reader_guid(1).prefix, &nf);
    // Fragment 2 is resent; 3 and 4 were never sent, so they go once, as new data.
    assert_eq!(
        drain_writer(&mut w, t),
        vec![
            s(&["FRAG(1:2+1)"]),
            s(&["FRAG(1:3+2)"]),
            s(&["FRAG(1:5+2)"]),
            s(&["FRAG(1:7+2)"]),
            s(&["FRAG(1:9+2)", "HB(1,1)"]),
        ]
    );
}

#[test]
fn keep_all_refuses_writes_when_full_and_frees_space_on_acknowledgment() {
    let t = t0();
    let cfg = WriterConfig {
        resource_limits: ResourceLimits {
            max_samples: Some(2),
            max_instances: None,
        },
        ..config()
    };
    let mut w = writer_with_reader(cfg, t);
    w.write(t, payload(10, 0), None).unwrap();
    w.write(t, payload(10, 1), None).unwrap();
    assert!(w.is_full());
    assert_eq!(
        w.write(t, payload(10, 2), None),
        Err(WriteError::HistoryFull)
    );
    drain_writer(&mut w, t);
    w.handle_acknack(
        t,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 2, &[2], 1),
    );
    assert_eq!(
        w.poll_event(),
        Some(WriterEvent::Acknowledged { below: sn(2) })
    );
    assert_eq!(w.poll_event(), Some(WriterEvent::HistorySpaceAvailable));
    assert_eq!(w.history().min_sn(), Some(sn(2)));
    assert_eq!(w.write(t, payload(10, 2), None), Ok(sn(3)));
}

#[test]
fn a_volatile_keep_all_writer_without_readers_keeps_nothing() {
    let t = t0();
    let cfg = WriterConfig {
        resource_limits: ResourceLimits {
            max_samples: Some(1),
            max_instances: None,
        },
        ..config()
    };
    let mut w = StatefulWriter::new(writer_guid(), cfg);
    for i in 0..5 {
        w.write(t, payload(10, i), None).unwrap();
    }
    assert!(w.history().is_empty());
    assert!(w.is_acked_by_all(sn(5)));
}

#[test]
fn a_best_effort_keep_last_writer_never_blocks_and_never_heartbeats() {
    let t = t0();
    let cfg = WriterConfig {
        reliable: false,
        history: HistoryKind::KeepLast { depth: 1 },
        ..WriterConfig::default()
    };
    let mut w = StatefulWriter::new(writer_guid(), cfg);
    w.add_matched_reader(t, reader(1, false, false));
    for i in 0..1000u32 {
        w.write(t, payload(10, i as u8), None).unwrap();
        if i % 7 == 0 {
            for tr in drain_writer(&mut w, t) {
                assert!(tr.iter().all(|d| d.starts_with("DATA")), "{tr:?}");
            }
        }
    }
    assert_eq!(w.poll_timeout(), None);
    // Acknowledgments from a best-effort reader are not expected and are ignored.
    w.handle_acknack(
        t,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 1, &[1], 1),
    );
    assert_eq!(w.stats().unknown_reader, 1);
}

#[test]
fn serves_readers_round_robin_and_waits_for_every_reliable_reader() {
    let t = t0();
    let mut w = StatefulWriter::new(writer_guid(), config());
    w.add_matched_reader(t, reader(1, true, false));
    w.add_matched_reader(t, reader(2, true, false));
    w.add_matched_reader(t, reader(3, false, false));
    drain_writer(&mut w, t);
    w.write(t, payload(10, 0), None).unwrap();
    let mut dests = Vec::new();
    while let Some(tr) = w.poll_transmit(t) {
        dests.push(tr.destination.guid);
    }
    // Reader 2 was served last (its first HEARTBEAT), so reader 3 comes first.
    assert_eq!(dests, vec![reader_guid(3), reader_guid(1), reader_guid(2)]);
    w.handle_acknack(
        t,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 2, &[], 1),
    );
    assert!(!w.is_acked_by_all(sn(1)));
    w.handle_acknack(
        t,
        reader_guid(2).prefix,
        &acknack(reader_guid(2), 2, &[], 1),
    );
    assert!(w.is_acked_by_all(sn(1)));
    assert!(
        w.history().is_empty(),
        "acknowledged by all: removed under KEEP_ALL"
    );
    assert!(w.remove_matched_reader(reader_guid(2)));
    assert!(!w.remove_matched_reader(reader_guid(2)));
}

#[test]
fn sends_dispose_with_status_info_and_key_hash_inline() {
    let t = t0();
    let mut w = writer_with_reader(config(), t);
    w.write_change(
        t,
        ChangeKind::NotAliveDisposed,
        Some([9; 16]),
        Bytes::new(),
        None,
    )
    .unwrap();
    let tr = w.poll_transmit(t).unwrap();
    let OutSubmessage::Data(d) = &tr.submessages[0] else {
        panic!("{:?}", tr.submessages)
    };
    assert_eq!(d.inline_qos.key_hash, Some([9; 16]));
    assert_eq!(d.inline_qos.status_info, Some(1));
    assert_eq!(d.payload, None);
    // It round-trips through the wire codec with the Q flag and no payload.
    let mut buf = [0u8; 128];
    let mut wr = crate::wire::Writer::new(&mut buf, crate::wire::Endianness::Little);
    tr.submessages[0].emit(&mut wr).unwrap();
    let len = wr.position();
    assert_eq!(len, tr.submessages[0].wire_len());
    assert_eq!(buf[1] & 0x0e, 0x02, "Q flag only");
}

#[test]
fn a_full_durable_keep_all_history_drops_its_oldest_change_everyone_acknowledged() {
    let t = t0();
    let cfg = durable_keep_all_of_two();
    let mut w = writer_with_reader(cfg, t);
    w.write(t, payload(10, 0), None).unwrap();
    w.write(t, payload(10, 1), None).unwrap();
    drain_writer(&mut w, t);
    // Nothing acknowledged yet: nothing may be dropped.
    assert_eq!(
        w.write(t, payload(10, 2), None),
        Err(WriteError::HistoryFull)
    );
    // Sample 1 acknowledged: it makes room, sample 2 (unacknowledged) stays.
    w.handle_acknack(
        t,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 2, &[2], 1),
    );
    assert_eq!(w.write(t, payload(10, 2), None), Ok(sn(3)));
    assert_eq!(w.history().min_sn(), Some(sn(2)));
    assert_eq!(w.history().len(), 2);
}

#[test]
fn a_full_durable_history_without_readers_keeps_what_nobody_received() {
    let t = t0();
    let cfg = durable_keep_all_of_two();
    // Never matched: the changes are for the late joiners, none may be dropped.
    let mut w = StatefulWriter::new(writer_guid(), cfg);
    w.write(t, payload(10, 0), None).unwrap();
    w.write(t, payload(10, 1), None).unwrap();
    assert_eq!(
        w.write(t, payload(10, 2), None),
        Err(WriteError::HistoryFull)
    );
    // A durable late joiner acknowledges sample 1: there is room again.
    w.add_matched_reader(t, reader(1, true, true));
    drain_writer(&mut w, t);
    w.handle_acknack(
        t,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 2, &[2], 1),
    );
    let events: Vec<_> = std::iter::from_fn(|| w.poll_event()).collect();
    assert!(
        events.contains(&WriterEvent::HistorySpaceAvailable),
        "{events:?}"
    );
    assert_eq!(w.write(t, payload(10, 2), None), Ok(sn(3)));
    assert_eq!(w.history().min_sn(), Some(sn(2)));
    // The reader leaves having acknowledged 2 but not 3: 2 may go, 3 and later may not.
    drain_writer(&mut w, t);
    w.handle_acknack(
        t,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 3, &[3], 2),
    );
    assert!(w.remove_matched_reader(reader_guid(1)));
    assert_eq!(w.write(t, payload(10, 3), None), Ok(sn(4)));
    assert_eq!(w.history().min_sn(), Some(sn(3)));
    assert_eq!(
        w.write(t, payload(10, 4), None),
        Err(WriteError::HistoryFull)
    );
}

/// A TRANSIENT_LOCAL KEEP_ALL writer configuration holding at most 2 samples.
fn durable_keep_all_of_two() -> WriterConfig {
    WriterConfig {
        durability: Durability::TransientLocal,
        resource_limits: ResourceLimits {
            max_samples: Some(2),
            max_instances: None,
        },
        ..config()
    }
}

#[test]
fn a_durable_history_over_its_byte_budget_drops_what_every_reader_acknowledged() {
    let t = t0();
    let cfg = WriterConfig {
        durability: Durability::TransientLocal,
        durable_history_bytes: 100,
        ..config()
    };
    let mut w = writer_with_reader(cfg, t);
    for i in 0..3 {
        w.write(t, payload(10, i), None).unwrap();
    }
    w.write(t, payload(1000, 3), None).unwrap();
    drain_writer(&mut w, t);
    assert_eq!(w.history().len(), 4, "nothing acknowledged yet: all kept");
    w.handle_acknack(
        t,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 4, &[4], 1),
    );
    assert_eq!(
        w.history().len(),
        1,
        "acknowledged small changes go while the unacknowledged big one is over the budget"
    );
    w.handle_acknack(
        t,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 5, &[], 2),
    );
    assert!(
        w.history().is_empty(),
        "the big change goes once acknowledged"
    );
    for i in 0..5 {
        w.write(t, payload(10, i), None).unwrap();
    }
    drain_writer(&mut w, t);
    w.handle_acknack(
        t,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 10, &[], 3),
    );
    assert_eq!(
        w.history().len(),
        5,
        "within the budget, acknowledged changes stay for late joiners"
    );
}

#[test]
fn answers_a_nack_at_once_with_a_zero_nack_response_delay() {
    let t = t0();
    let mut w = three_sent_answering_at_once(t);
    let later = t + ms(1);
    w.handle_acknack(
        later,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 2, &[2], 1),
    );
    assert_eq!(
        drain_writer(&mut w, later),
        vec![s(&["DATA(2)", "HB(2,3)"])]
    );
}

#[test]
fn heartbeats_a_lost_tail_after_the_min_period_and_backs_off() {
    let t = t0();
    let cfg = WriterConfig {
        heartbeat_min_period: ms(3),
        ..config()
    };
    let mut w = writer_with_reader(cfg, t);
    // A steady stream: every transmit carries a HEARTBEAT, no periodic one in between.
    for i in 0..5u64 {
        let at = t + ms(2 * i);
        w.write(at, payload(10, i as u8), None).unwrap();
        let n = i as i64 + 1;
        assert_eq!(
            drain_writer(&mut w, at),
            vec![s(&[&format!("DATA({n})"), &format!("HB(1,{n})")])]
        );
    }
    // The stream stops at 8 ms with nothing acknowledged (the tail may be lost): HEARTBEATs
    // 3, 6, 12, 24 and 48 ms apart, then every 100 ms.
    let last = t + ms(8);
    let mut at = Vec::new();
    while let Some(next) = w.poll_timeout() {
        if next > last + ms(300) {
            break;
        }
        assert_eq!(drain_writer(&mut w, next), vec![s(&["HB(1,5)"])]);
        at.push(next.duration_since(last).as_millis());
    }
    assert_eq!(at, vec![3, 9, 21, 45, 93, 189, 289]);
    // Acknowledged: silence.
    w.handle_acknack(
        last + ms(300),
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 6, &[], 2),
    );
    let next = w.poll_timeout().unwrap();
    drain_writer(&mut w, next);
    assert_eq!(w.poll_timeout(), None);
}

/// Drive `w` as the driver's timer thread does: it sleeps until the deadline it read last
/// (a later one set meanwhile does not wake it; an earlier one does), so a deadline moved by
/// every write still costs a wake-up each time the old one passes. Writes every `step` for
/// `writes` times, checking that only data with piggy-backed HEARTBEATs (from `hb_first`)
/// goes out; returns the timer wake-ups and the time of the last write.
fn stream_counting_timer_wakes(
    w: &mut StatefulWriter,
    start: Instant,
    step: Duration,
    (first_sn, hb_first): (u32, u32),
    writes: u32,
) -> (u32, Instant) {
    let mut timer = w.poll_timeout();
    let mut wakes = 0;
    let mut at = start;
    for i in 0..writes {
        at = start + step * i;
        while let Some(due) = timer.filter(|d| *d <= at) {
            wakes += 1;
            assert_eq!(drain_writer(w, due), Vec::<Vec<String>>::new());
            timer = w.poll_timeout();
        }
        w.write(at, payload(10, i as u8), None).unwrap();
        let n = first_sn + i;
        assert_eq!(
            drain_writer(w, at),
            vec![s(&[&format!("DATA({n})"), &format!("HB({hb_first},{n})")])]
        );
        let p = w.poll_timeout();
        if p.is_some_and(|p| timer.is_none_or(|d| p < d)) {
            wakes += 1;
            timer = p;
        }
    }
    (wakes, at)
}

fn min_period_1ms() -> WriterConfig {
    WriterConfig {
        heartbeat_min_period: ms(1),
        heartbeat_period: ms(200),
        nack_response_delay: Duration::ZERO,
        ..config()
    }
}

#[test]
fn a_long_clean_stream_checks_its_tail_rarely_and_still_heartbeats_it() {
    let t = t0();
    let mut w = writer_with_reader(min_period_1ms(), t);
    // 200 ms of writes 100 us apart, nothing acknowledged (a request/response loop whose
    // reader acknowledges later): a tail check every millisecond would wake the timer about
    // 220 times; backing off once the writer is 32 ms old with no repair, about 50.
    let (wakes, last) =
        stream_counting_timer_wakes(&mut w, t, Duration::from_micros(100), (1, 1), 2000);
    assert!(wakes < 80, "{wakes} timer wake-ups");
    // The stream stops: the tail is still heartbeated, at most 16 min periods later.
    let next = w.poll_timeout().unwrap();
    assert_eq!(drain_writer(&mut w, next), vec![s(&["HB(1,2000)"])]);
    let after = next.duration_since(last);
    assert!(after >= ms(1) && after <= ms(16), "{after:?}");
}

#[test]
fn a_repair_makes_the_tail_check_precise_again() {
    let t = t0();
    let mut w = writer_with_reader(min_period_1ms(), t);
    let step = Duration::from_micros(100);
    let (_, last) = stream_counting_timer_wakes(&mut w, t, step, (1, 1), 1000);
    // The reader asks for 5 again: repaired at once.
    let r = last + step;
    w.handle_acknack(
        r,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 5, &[5], 1),
    );
    assert_eq!(drain_writer(&mut w, r), vec![s(&["DATA(5)", "HB(5,1000)"])]);
    // A short stream after the repair, then a pause: the tail HEARTBEAT comes the minimum
    // period after the last data, as in a stream that never backed off.
    let (_, last) = stream_counting_timer_wakes(&mut w, r + step, step, (1001, 5), 50);
    let mut next = w.poll_timeout().unwrap();
    while drain_writer(&mut w, next).is_empty() {
        next = w.poll_timeout().unwrap();
    }
    assert_eq!(next.duration_since(last), ms(1));
}

/// A reader that acknowledged everything and then acknowledges less (its participant declared
/// ours lost after a pause past the lease and found it again: a fresh proxy on its side, while
/// this writer kept it matched) gets the changes a TRANSIENT_LOCAL writer still holds again
/// (SEDP's are): the changes count as unacknowledged,
/// HEARTBEATs resume and its NACK is answered. Before, the writer took them as acknowledged
/// for ever and the reader never got them (SEDP: the endpoints were never matched again).
#[test]
fn a_reader_that_acknowledges_less_than_before_gets_the_changes_again() {
    let t = t0();
    let cfg = WriterConfig {
        durability: Durability::TransientLocal,
        nack_response_delay: Duration::ZERO,
        ..config()
    };
    let mut w = StatefulWriter::new(writer_guid(), cfg);
    w.add_matched_reader(t, reader(1, true, true));
    for i in 0..3 {
        w.write(t, payload(10, i), None).unwrap();
    }
    drain_writer(&mut w, t);
    let prefix = reader_guid(1).prefix;
    w.handle_acknack(t, prefix, &acknack(reader_guid(1), 4, &[], 1));
    assert!(w.is_acked_by_all(sn(3)));
    assert!(drain_writer(&mut w, t).is_empty());
    // The fresh proxy's pre-emptive ACKNACK: base 1, nothing asked, F clear.
    let mut preemptive = acknack(reader_guid(1), 1, &[], 2);
    preemptive.final_flag = false;
    w.handle_acknack(t, prefix, &preemptive);
    assert!(
        !w.is_acked_by_all(sn(1)),
        "the changes count as unacknowledged again"
    );
    assert_eq!(drain_writer(&mut w, t), vec![s(&["HB(1,3)"])]);
    w.handle_acknack(t, prefix, &acknack(reader_guid(1), 1, &[1, 2, 3], 3));
    assert_eq!(
        drain_writer(&mut w, t),
        vec![s(&["DATA(1)", "DATA(2)", "DATA(3)", "HB(1,3)"])]
    );
    w.handle_acknack(t, prefix, &acknack(reader_guid(1), 4, &[], 4));
    assert!(w.is_acked_by_all(sn(3)));
}

/// A late VOLATILE reader's ACKNACK below the changes it was never sent is no such regression:
/// they stay irrelevant to it.
#[test]
fn a_late_volatile_readers_first_acknack_is_not_a_regression() {
    let t = t0();
    let mut w = late_volatile_reader(t);
    drain_writer(&mut w, t);
    w.handle_acknack(
        t,
        reader_guid(1).prefix,
        &acknack(reader_guid(1), 1, &[], 1),
    );
    assert!(w.is_acked_by_all(sn(3)));
}
