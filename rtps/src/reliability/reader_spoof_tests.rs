//! Forged HEARTBEATs and GAPs (issue 11 item 2): a claim far beyond what the writer has shown
//! is held back, and a writer's real HEARTBEAT undoes whatever an earlier forged claim did.

use super::*;

/// A reader that has received and delivered 1..=3 and the writer's HEARTBEAT(1..3).
fn reader_at_3(t: Instant) -> StatefulReader {
    let mut r = reader(true, zero_delay(), t);
    for n in 1..=3 {
        data(&mut r, t, n, b"x");
    }
    hb(&mut r, t, 1, 3, 1, true);
    assert_eq!(samples(&mut r), vec![1, 2, 3]);
    assert!(drain(&mut r, t).is_empty());
    r
}

#[test]
fn a_heartbeat_far_beyond_what_the_writer_has_shown_is_held_and_the_stream_continues() {
    let t = t0();
    for forged in [1000, 1 << 32] {
        let mut r = reader_at_3(t);
        hb(&mut r, t, forged, forged, 2, true);
        assert_eq!(r.stats().suspect, 1);
        assert_eq!(r.stats().lost, 0, "nothing skipped");
        // Held back, and the writer is asked for a HEARTBEAT (F clear).
        assert_eq!(drain(&mut r, t), vec![vec!["ACKNACK(4;)".to_string()]]);
        data(&mut r, t, 4, b"x");
        data(&mut r, t, 5, b"x");
        assert_eq!(samples(&mut r), vec![4, 5]);
        // The writer's own HEARTBEAT (its count continues from its last one) is taken.
        hb(&mut r, t, 1, 5, 2, true);
        assert_eq!(r.stats().stale_heartbeats, 0);
        assert!(drain(&mut r, t).is_empty());
    }
}

#[test]
fn a_gap_far_beyond_what_the_writer_has_shown_is_held_and_the_stream_continues() {
    let t = t0();
    let mut r = reader_at_3(t);
    gap(&mut r, t, 1, 1000, &[]);
    gap(&mut r, t, 4, 1 << 32, &[]);
    assert_eq!(r.stats().suspect, 2);
    data(&mut r, t, 4, b"x");
    assert_eq!(samples(&mut r), vec![4]);
    assert_eq!(drain(&mut r, t), vec![vec!["ACKNACK(5;)".to_string()]]);
}

#[test]
fn the_same_far_claim_after_an_acknack_is_the_writers_answer_and_is_taken() {
    // A real writer can be far ahead (the reader missed hundreds of samples of a KEEP_LAST
    // writer): its answer to the ACKNACK repeats the claim.
    let t = t0();
    let mut r = reader_at_3(t);
    hb(&mut r, t, 1000, 1000, 2, true);
    assert_eq!(drain(&mut r, t).len(), 1);
    hb(&mut r, t, 1000, 1000, 3, true);
    assert_eq!(r.stats().suspect, 1);
    assert_eq!(r.stats().lost, 996, "4..=999");
    data(&mut r, t, 1000, b"x");
    assert_eq!(samples(&mut r), vec![1000]);
}

#[test]
fn two_forged_claims_in_one_burst_do_not_confirm_each_other() {
    let t = t0();
    let mut r = reader_at_3(t);
    hb(&mut r, t, 1000, 1000, 7, true);
    hb(&mut r, t, 1001, 1001, 8, true);
    gap(&mut r, t, 1, 1000, &[]);
    assert_eq!(r.stats().suspect, 3);
    data(&mut r, t, 4, b"x");
    assert_eq!(samples(&mut r), vec![4]);
}

#[test]
fn a_forged_heartbeat_before_anything_was_shown_is_undone_by_the_writers_next_heartbeat() {
    let t = t0();
    for (forged, count) in [(1000, 50), (1 << 32, u32::MAX), (1000, 3)] {
        let mut r = reader(true, zero_delay(), t);
        // Nothing shown yet: a late joiner's first HEARTBEAT may start anywhere, so it is taken.
        hb(&mut r, t, forged, forged, count, true);
        data(&mut r, t, 1, b"x");
        assert!(samples(&mut r).is_empty(), "dropped as skipped");
        let _ = drain(&mut r, t);
        // The writer's first real HEARTBEAT contradicts it, whatever its count: the reader
        // goes back and asks for 1 and 2.
        hb(&mut r, t, 1, 2, 1, false);
        assert_eq!(r.stats().resyncs, 1, "forged {forged} count {count}");
        assert_eq!(drain(&mut r, t), vec![vec!["ACKNACK(1;1,2)".to_string()]]);
        data(&mut r, t, 1, b"x");
        data(&mut r, t, 2, b"x");
        assert_eq!(samples(&mut r), vec![1, 2]);
    }
}

#[test]
fn a_forged_heartbeat_count_far_ahead_does_not_make_the_writers_heartbeats_stale() {
    let t = t0();
    let mut r = reader_at_3(t);
    hb(&mut r, t, 1, 3, u32::MAX - 3, true);
    data(&mut r, t, 5, b"x");
    // The writer's next HEARTBEAT (count 2) is answered: 4 is missing.
    hb(&mut r, t, 1, 5, 2, true);
    assert_eq!(drain(&mut r, t), vec![vec!["ACKNACK(4;4)".to_string()]]);
}

#[test]
fn a_forged_gap_within_reach_is_undone_and_nothing_is_delivered_twice() {
    let t = t0();
    let mut r = reader_at_3(t);
    data(&mut r, t, 5, b"x");
    gap(&mut r, t, 1, 10, &[]);
    assert_eq!(samples(&mut r), vec![5], "the GAP skipped 4, 6..9");
    data(&mut r, t, 4, b"x");
    assert!(samples(&mut r).is_empty());
    // The writer has written up to 6 only.
    hb(&mut r, t, 1, 6, 2, false);
    assert_eq!(r.stats().resyncs, 1);
    assert_eq!(drain(&mut r, t), vec![vec!["ACKNACK(6;6)".to_string()]]);
    data(&mut r, t, 6, b"x");
    data(&mut r, t, 5, b"x");
    assert_eq!(samples(&mut r), vec![6], "5 is not delivered twice");
}
