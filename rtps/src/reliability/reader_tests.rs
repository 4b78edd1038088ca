//! Reader unit tests: "DATA / HEARTBEAT / GAP in, samples and ACKNACK out".

use super::*;
use crate::reliability::test_support::*;
use crate::wire::submessage::SerializedPayload;

fn reader(reliable: bool, cfg: ReaderConfig, now: Instant) -> StatefulReader {
    let mut r = StatefulReader::new(reader_guid(1), cfg);
    r.add_matched_writer(
        now,
        WriterProxyConfig {
            remote_writer_guid: writer_guid(),
            reliable,
            locators: Vec::new(),
        },
    );
    if reliable {
        // The pre-emptive ACKNACK asks the writer for a HEARTBEAT.
        assert_eq!(drain(&mut r, now), vec![vec!["ACKNACK(1;)".to_string()]]);
    }
    r
}

fn drain(r: &mut StatefulReader, now: Instant) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for _ in 0..1000 {
        match r.poll_transmit(now) {
            Some(t) => out.push(describe_all(&t)),
            None => return out,
        }
    }
    panic!("reader never stopped transmitting");
}

fn samples(r: &mut StatefulReader) -> Vec<i64> {
    std::iter::from_fn(|| r.poll_sample())
        .map(|s| s.sn.0)
        .collect()
}

fn data(r: &mut StatefulReader, now: Instant, n: i64, bytes: &[u8]) {
    let d = Data {
        reader_id: reader_guid(1).entity_id,
        writer_id: writer_guid().entity_id,
        writer_sn: sn(n),
        inline_qos: None,
        payload: Some(SerializedPayload {
            bytes,
            is_key: false,
        }),
    };
    r.handle_data(now, WRITER_PREFIX, &d, None);
}

fn hb(r: &mut StatefulReader, now: Instant, first: i64, last: i64, count: u32, fin: bool) {
    let h = Heartbeat {
        reader_id: reader_guid(1).entity_id,
        writer_id: writer_guid().entity_id,
        first_sn: sn(first),
        last_sn: sn(last),
        count,
        final_flag: fin,
        liveliness_flag: false,
    };
    r.handle_heartbeat(now, WRITER_PREFIX, &h);
}

fn gap(r: &mut StatefulReader, now: Instant, start: i64, base: i64, extra: &[i64]) {
    let g = Gap {
        reader_id: reader_guid(1).entity_id,
        writer_id: writer_guid().entity_id,
        gap_start: sn(start),
        gap_list: sn_set(base, extra),
    };
    r.handle_gap(now, WRITER_PREFIX, &g);
}

#[allow(clippy::too_many_arguments)]
fn frag(
    r: &mut StatefulReader,
    now: Instant,
    n: i64,
    sample: &[u8],
    fs: u16,
    first: u32,
    count: u16,
) {
    let start = (first as usize - 1) * fs as usize;
    let end = (start + count as usize * fs as usize).min(sample.len());
    let d = DataFrag {
        reader_id: reader_guid(1).entity_id,
        writer_id: writer_guid().entity_id,
        writer_sn: sn(n),
        fragment_starting_num: first,
        fragments_in_submessage: count,
        fragment_size: fs,
        sample_size: sample.len() as u32,
        inline_qos: None,
        is_key: false,
        fragments: &sample[start..end],
    };
    r.handle_data_frag(now, WRITER_PREFIX, &d, None);
}

fn zero_delay() -> ReaderConfig {
    ReaderConfig {
        heartbeat_response_delay: Duration::ZERO,
        nack_spacing: Duration::ZERO,
        ..ReaderConfig::default()
    }
}

#[test]
fn with_sns_1_and_3_received_acknacks_base_2_with_bitmap_2() {
    let t = t0();
    let mut r = reader(true, ReaderConfig::default(), t);
    data(&mut r, t, 1, b"one");
    data(&mut r, t, 3, b"three");
    hb(&mut r, t, 1, 3, 1, false);
    assert!(
        drain(&mut r, t).is_empty(),
        "not before heartbeat_response_delay"
    );
    assert_eq!(r.poll_timeout(), Some(t + ms(5)));
    assert_eq!(
        drain(&mut r, t + ms(5)),
        vec![vec!["ACKNACK(2;2)".to_string()]]
    );
    assert_eq!(samples(&mut r), vec![1]);
    data(&mut r, t, 2, b"two");
    assert_eq!(samples(&mut r), vec![2, 3]);
}

#[test]
fn drops_duplicates() {
    let t = t0();
    let mut r = reader(true, zero_delay(), t);
    data(&mut r, t, 1, b"a");
    data(&mut r, t, 1, b"a");
    data(&mut r, t, 3, b"c");
    data(&mut r, t, 3, b"c");
    data(&mut r, t, 2, b"b");
    data(&mut r, t, 2, b"b");
    assert_eq!(samples(&mut r), vec![1, 2, 3]);
    assert_eq!(r.stats().duplicates, 3);
}

#[test]
fn delivers_out_of_order_samples_in_order() {
    let t = t0();
    let mut r = reader(true, zero_delay(), t);
    for n in [5, 3, 4, 2] {
        data(&mut r, t, n, b"x");
    }
    assert!(samples(&mut r).is_empty());
    data(&mut r, t, 1, b"x");
    assert_eq!(samples(&mut r), vec![1, 2, 3, 4, 5]);
}

#[test]
fn gap_fills_holes_but_buffered_samples_are_still_delivered() {
    let t = t0();
    let mut r = reader(true, zero_delay(), t);
    data(&mut r, t, 1, b"x");
    data(&mut r, t, 4, b"x");
    data(&mut r, t, 9, b"x");
    gap(&mut r, t, 2, 6, &[7]);
    assert_eq!(samples(&mut r), vec![1, 4]);
    gap(&mut r, t, 6, 7, &[8]);
    assert_eq!(samples(&mut r), vec![9]);
    data(&mut r, t, 8, b"x");
    assert_eq!(r.stats().duplicates, 1);
}

#[test]
fn answers_a_final_heartbeat_only_when_something_is_missing() {
    let t = t0();
    let mut r = reader(true, zero_delay(), t);
    data(&mut r, t, 1, b"x");
    hb(&mut r, t, 1, 1, 1, true);
    assert!(drain(&mut r, t).is_empty());
    hb(&mut r, t, 1, 1, 2, false);
    assert_eq!(drain(&mut r, t), vec![vec!["ACKNACK(2;,F)".to_string()]]);
    hb(&mut r, t, 1, 2, 3, true);
    assert_eq!(drain(&mut r, t), vec![vec!["ACKNACK(2;2)".to_string()]]);
}

#[test]
fn ignores_stale_heartbeats() {
    let t = t0();
    let mut r = reader(true, zero_delay(), t);
    hb(&mut r, t, 1, 0, 5, false);
    assert_eq!(drain(&mut r, t).len(), 1);
    hb(&mut r, t, 1, 3, 5, false);
    hb(&mut r, t, 1, 3, 4, false);
    assert!(drain(&mut r, t).is_empty());
    assert_eq!(r.stats().stale_heartbeats, 2);
}

#[test]
fn a_heartbeat_first_sn_skips_lost_changes_and_delivers_buffered_ones() {
    let t = t0();
    let mut r = reader(true, zero_delay(), t);
    data(&mut r, t, 3, b"x");
    data(&mut r, t, 6, b"x");
    hb(&mut r, t, 5, 6, 1, true);
    assert_eq!(samples(&mut r), vec![3]);
    assert_eq!(r.stats().lost, 3, "1, 2 and 4");
    // 5 is still available: final or not, it is asked for.
    assert_eq!(drain(&mut r, t), vec![vec!["ACKNACK(5;5)".to_string()]]);
    data(&mut r, t, 5, b"x");
    assert_eq!(samples(&mut r), vec![5, 6]);
}

#[test]
fn never_acknowledges_a_sample_whose_fragments_are_still_arriving() {
    // oracles README finding 1: HEARTBEAT(1..8) arrives with fragment 1 of sample 8.
    let t = t0();
    let mut r = reader(true, zero_delay(), t);
    for n in 1..=7 {
        data(&mut r, t, n, b"x");
    }
    let big = payload(4000, 8);
    frag(&mut r, t, 8, &big, 1000, 1, 1);
    hb(&mut r, t, 1, 8, 1, false);
    assert_eq!(
        drain(&mut r, t),
        vec![vec![
            "ACKNACK(8;)".to_string(),
            "NACKFRAG(8;2,3,4)".to_string()
        ]]
    );
    assert_eq!(samples(&mut r), (1..=7).collect::<Vec<_>>());
    frag(&mut r, t, 8, &big, 1000, 2, 3);
    let s = r.poll_sample().unwrap();
    assert_eq!((s.sn, &s.payload[..]), (sn(8), &big[..]));
}

#[test]
fn asks_for_missing_fragments_after_a_heartbeat_frag() {
    let t = t0();
    let mut r = reader(true, zero_delay(), t);
    let big = payload(4000, 1);
    frag(&mut r, t, 1, &big, 1000, 2, 1);
    let h = HeartbeatFrag {
        reader_id: reader_guid(1).entity_id,
        writer_id: writer_guid().entity_id,
        writer_sn: sn(1),
        last_fragment_num: 3,
        count: 1,
    };
    r.handle_heartbeat_frag(t, WRITER_PREFIX, &h);
    r.handle_heartbeat_frag(t, WRITER_PREFIX, &h);
    assert_eq!(r.stats().stale_heartbeats, 1);
    assert_eq!(
        drain(&mut r, t),
        vec![vec![
            "ACKNACK(1;)".to_string(),
            "NACKFRAG(1;1,3)".to_string()
        ]]
    );
}

#[test]
fn caps_sample_size_and_concurrent_reassemblies() {
    let t = t0();
    let cfg = ReaderConfig {
        max_sample_size: 3000,
        max_reassemblies: 2,
        ..zero_delay()
    };
    let mut r = reader(true, cfg, t);
    frag(&mut r, t, 1, &payload(4000, 0), 1000, 1, 1);
    assert_eq!(r.stats().fragments_rejected, 1);
    let small = payload(2000, 0);
    frag(&mut r, t, 4, &small, 1000, 1, 1);
    frag(&mut r, t, 3, &small, 1000, 1, 1);
    // Sample 2 is needed first: it evicts the highest reassembly (4).
    frag(&mut r, t, 2, &small, 1000, 1, 1);
    assert_eq!(r.stats().reassemblies_dropped, 1);
    // Sample 5 is above every reassembly: refused.
    frag(&mut r, t, 5, &small, 1000, 1, 1);
    assert_eq!(r.stats().fragments_rejected, 2);
}

#[test]
fn an_oversized_sample_is_never_allocated_and_does_not_stall_the_ones_after_it() {
    let t = t0();
    let cfg = ReaderConfig {
        max_sample_size: 3000,
        ..zero_delay()
    };
    let mut r = reader(true, cfg, t);
    data(&mut r, t, 1, b"one");
    let big = payload(4000, 0);
    for first in 1..=4 {
        frag(&mut r, t, 2, &big, 1000, first, 1);
    }
    data(&mut r, t, 3, b"three");
    assert_eq!(samples(&mut r), vec![1, 3]);
    assert_eq!(r.stats().oversized, 1, "counted once");
    hb(&mut r, t, 1, 3, 1, false);
    assert_eq!(drain(&mut r, t), vec![vec!["ACKNACK(4;,F)".to_string()]]);
}

#[test]
fn best_effort_delivers_newer_samples_drops_older_ones_and_never_acknacks() {
    let t = t0();
    let mut r = reader(false, zero_delay(), t);
    data(&mut r, t, 2, b"x");
    data(&mut r, t, 1, b"x");
    data(&mut r, t, 5, b"x");
    data(&mut r, t, 5, b"x");
    hb(&mut r, t, 1, 9, 1, false);
    gap(&mut r, t, 1, 9, &[]);
    data(&mut r, t, 6, b"x");
    assert_eq!(samples(&mut r), vec![2, 5, 6]);
    assert!(drain(&mut r, t).is_empty());
    assert_eq!(r.poll_timeout(), None);
}

#[test]
fn reads_dispose_status_info_and_key_hash_from_inline_qos() {
    use crate::reliability::out::InlineQos;
    use crate::wire::parameter::{emit_parameter, emit_sentinel, ParameterId, ParameterList};
    use crate::wire::{Endianness, Reader, Writer};
    let t = t0();
    let mut r = reader(true, zero_delay(), t);
    let mut buf = [0u8; 64];
    let mut w = Writer::new(&mut buf, Endianness::Big);
    emit_parameter(&mut w, ParameterId::KEY_HASH, |w| w.put(&[7; 16], "k")).unwrap();
    emit_parameter(&mut w, ParameterId::STATUS_INFO, |w| {
        w.put(&[0, 0, 0, 3], "s")
    })
    .unwrap();
    emit_sentinel(&mut w).unwrap();
    let len = w.position();
    let list = ParameterList::parse(&mut Reader::new(&buf[..len], Endianness::Big)).unwrap();
    assert_eq!(
        InlineQos::from_list(&list),
        InlineQos {
            key_hash: Some([7; 16]),
            status_info: Some(3)
        }
    );
    let d = Data {
        reader_id: reader_guid(1).entity_id,
        writer_id: writer_guid().entity_id,
        writer_sn: sn(1),
        inline_qos: Some(list),
        payload: None,
    };
    r.handle_data(t, WRITER_PREFIX, &d, None);
    let s = r.poll_sample().unwrap();
    assert_eq!(s.kind, ChangeKind::NotAliveDisposedUnregistered);
    assert_eq!(s.key_hash, Some([7; 16]));
    assert!(s.payload.is_empty());
}

#[test]
fn ignores_submessages_from_unmatched_writers() {
    let t = t0();
    let mut r = reader(true, zero_delay(), t);
    assert!(r.remove_matched_writer(writer_guid()));
    data(&mut r, t, 1, b"x");
    hb(&mut r, t, 1, 1, 1, false);
    assert_eq!(r.stats().unknown_writer, 2);
    assert!(samples(&mut r).is_empty() && drain(&mut r, t).is_empty());
}

#[test]
fn a_large_payload_is_shared_with_the_datagram_and_a_small_one_copied() {
    let big = Bytes::from(vec![7u8; 4096]);
    let part = &big[100..3000];
    let shared = share_or_copy(part, Some(&big));
    assert_eq!(shared.as_ptr(), part.as_ptr(), "large payload was copied");
    let small = share_or_copy(&big[..16], Some(&big));
    assert_ne!(
        small.as_ptr(),
        big.as_ptr(),
        "small payload pins the datagram"
    );
    let other = Bytes::from(vec![1u8; 4096]);
    let copied = share_or_copy(&other[..], Some(&big));
    assert_eq!(
        copied, other,
        "a slice of another buffer is copied, not mis-sliced"
    );
}

#[path = "reader_spoof_tests.rs"]
mod spoof;

/// A reliable reader with a 1 ms `nack_delay`, its pre-emptive ACKNACK sent.
fn nack_reader(t: Instant) -> StatefulReader {
    let cfg = ReaderConfig {
        nack_delay: ms(1),
        ..ReaderConfig::default()
    };
    let mut r = reader(true, cfg, t);
    drain(&mut r, t);
    r
}

#[test]
fn data_3_after_1_asks_for_2_within_the_nack_delay_without_a_heartbeat() {
    let t = t0();
    let mut r = nack_reader(t);
    data(&mut r, t, 1, b"one");
    assert!(drain(&mut r, t).is_empty());
    assert_eq!(r.poll_timeout(), None, "nothing missing: nothing to say");
    data(&mut r, t, 3, b"three");
    assert_eq!(r.poll_timeout(), Some(t + ms(1)));
    assert!(drain(&mut r, t).is_empty(), "a reordered 2 may still come");
    assert_eq!(
        drain(&mut r, t + ms(1)),
        vec![vec!["ACKNACK(2;2)".to_string()]]
    );
    // A HEARTBEAT that shows only the hole asked for already does not hurry (its repair may
    // be in flight): the repeat comes heartbeat_response_delay (5 ms) after the NACK.
    hb(&mut r, t + ms(2), 1, 3, 1, true);
    assert_eq!(r.poll_timeout(), Some(t + ms(6)));
    data(&mut r, t + ms(3), 2, b"two");
    assert_eq!(samples(&mut r), vec![1, 2, 3]);
    assert_eq!(
        drain(&mut r, t + ms(6)),
        vec![vec!["ACKNACK(4;,F)".to_string()]],
        "the HEARTBEAT's answer: all acknowledged"
    );
    // A new hole later (4 lost, 5 came) is asked for within the nack delay again.
    data(&mut r, t + ms(20), 5, b"five");
    assert_eq!(r.poll_timeout(), Some(t + ms(21)));
    assert_eq!(
        drain(&mut r, t + ms(21)),
        vec![vec!["ACKNACK(4;4)".to_string()]]
    );
}

#[test]
fn repeats_a_nack_with_back_off_while_the_sample_stays_missing() {
    let t = t0();
    let mut r = nack_reader(t);
    data(&mut r, t, 1, b"one");
    data(&mut r, t, 3, b"three");
    let mut sent = Vec::new();
    while let Some(at) = r.poll_timeout().filter(|at| *at <= t + ms(40)) {
        assert_eq!(drain(&mut r, at), vec![vec!["ACKNACK(2;2)".to_string()]]);
        sent.push(at.duration_since(t).as_millis());
    }
    assert_eq!(
        sent,
        vec![1, 6, 16, 36],
        "the NACK or its repair may be lost"
    );
    // Data from the writer (a repair under way) postpones the next repeat by an interval.
    data(&mut r, t + ms(40), 4, b"four");
    assert_eq!(r.poll_timeout(), Some(t + ms(76)));
    assert!(drain(&mut r, t + ms(76)).is_empty());
    assert_eq!(r.poll_timeout(), Some(t + ms(116)));
    assert_eq!(
        drain(&mut r, t + ms(116)),
        vec![vec!["ACKNACK(2;2)".to_string()]]
    );
    data(&mut r, t + ms(118), 2, b"two");
    assert_eq!(samples(&mut r), vec![1, 2, 3, 4]);
    let at = r.poll_timeout().unwrap();
    assert!(
        drain(&mut r, at).is_empty(),
        "nothing missing: the repeats stop"
    );
    assert_eq!(r.poll_timeout(), None);
}

/// A writer not heard from since the match is asked again: the pre-emptive ACKNACK repeats
/// 500 ms later, then twice as long each time up to 8 s, until the writer is heard from. A
/// lost pre-emptive ACKNACK or HEARTBEAT, or a writer that kept us matched while our
/// participant lost its participant (and so thinks we have everything), no longer leaves the
/// reader without the writer's samples for ever.
#[test]
fn repeats_the_preemptive_acknack_until_the_writer_is_heard_from() {
    let t = t0();
    let mut r = reader(true, zero_delay(), t);
    let mut at = t;
    for interval in [500, 1000, 2000, 4000, 8000, 8000] {
        at += ms(interval);
        assert_eq!(r.poll_timeout(), Some(at));
        assert!(drain(&mut r, at - ms(1)).is_empty());
        assert_eq!(drain(&mut r, at), vec![vec!["ACKNACK(1;)".to_string()]]);
    }
    // The writer answers (it has nothing): no more repeats, nothing to say.
    hb(&mut r, at, 1, 0, 1, true);
    assert!(drain(&mut r, at).is_empty());
    assert_eq!(r.poll_timeout(), None);
}

/// A writer heard from before the first repeat is not asked again.
#[test]
fn a_heartbeat_before_the_repeat_cancels_it() {
    let t = t0();
    let mut r = reader(true, zero_delay(), t);
    hb(&mut r, t + ms(100), 1, 2, 1, false);
    assert_eq!(
        drain(&mut r, t + ms(100)),
        vec![vec!["ACKNACK(1;1,2)".to_string()]]
    );
    data(&mut r, t + ms(101), 1, b"a");
    data(&mut r, t + ms(101), 2, b"b");
    assert_eq!(samples(&mut r), vec![1, 2]);
    assert!(drain(&mut r, t + ms(600)).is_empty());
}
