//! The public DDS API on real UDP sockets over loopback. These tests only run inside a private
//! network namespace (`../shared/oracles/netns-run cargo test -- --include-ignored`, as `.ci/run`
//! does), so that no packet can leave the machine: a plain `cargo test` lists them as ignored.

use std::time::Duration;

use rtps::dds::{DdsEvent, DomainParticipant, ParticipantOptions, Qos, RawReader, RawWriter};
use rtps::transport::interface::require_private_namespace;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Message {
    seq: u32,
    text: String,
}

/// The test's clock (the protocol core never reads one; a test driving the API may).
#[allow(clippy::disallowed_methods)]
fn clock() -> std::time::Instant {
    std::time::Instant::now()
}

fn options(domain: u32, multicast: bool) -> ParticipantOptions {
    ParticipantOptions::default()
        .domain_id(domain)
        .multicast(multicast)
}

/// Two participants with raw `ping` (a to b) and `pong` (b to a) endpoints, matched.
struct PingPong {
    a: DomainParticipant,
    b: DomainParticipant,
    ping: RawWriter,
    pong: RawReader,
    ping_r: RawReader,
    pong_w: RawWriter,
}

fn ping_pong(opts: ParticipantOptions, qos: &Qos) -> PingPong {
    let a = DomainParticipant::new(opts.clone()).unwrap();
    let b = DomainParticipant::new(opts).unwrap();
    let ping = a.create_raw_writer("ping", "bench::Bytes", qos).unwrap();
    let pong = a.create_raw_reader("pong", "bench::Bytes", qos).unwrap();
    let ping_r = b.create_raw_reader("ping", "bench::Bytes", qos).unwrap();
    let pong_w = b.create_raw_writer("pong", "bench::Bytes", qos).unwrap();
    ping.wait_for_matched(1, Duration::from_secs(10)).unwrap();
    pong_w.wait_for_matched(1, Duration::from_secs(10)).unwrap();
    PingPong {
        a,
        b,
        ping,
        pong,
        ping_r,
        pong_w,
    }
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn two_participants_exchange_reliable_samples_in_order() {
    require_private_namespace();
    let a = DomainParticipant::new(options(11, true)).unwrap();
    let b = DomainParticipant::new(options(11, true)).unwrap();
    assert_ne!(a.participant_id(), b.participant_id());
    let qos = Qos::default().reliable().keep_all();
    let w = a
        .create_writer::<Message>("loop", "interop::Message", &qos)
        .unwrap();
    let r = b
        .create_reader::<Message>("loop", "interop::Message", &qos)
        .unwrap();
    w.wait_for_matched(1, Duration::from_secs(10)).unwrap();
    r.wait_for_matched(1, Duration::from_secs(10)).unwrap();
    for seq in 0..1000 {
        w.write(&Message {
            seq,
            text: format!("sample {seq}"),
        })
        .unwrap();
    }
    for seq in 0..1000 {
        let s = r.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(
            s.value,
            Message {
                seq,
                text: format!("sample {seq}")
            }
        );
    }
    w.wait_for_acknowledgments(Duration::from_secs(10)).unwrap();
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn discovery_works_by_unicast_when_multicast_is_off() {
    require_private_namespace();
    let a = DomainParticipant::new(options(12, false)).unwrap();
    let b = DomainParticipant::new(options(12, false)).unwrap();
    let qos = Qos::default().reliable();
    let w = a
        .create_writer::<Message>("uni", "interop::Message", &qos)
        .unwrap();
    let r = b
        .create_reader::<Message>("uni", "interop::Message", &qos)
        .unwrap();
    w.wait_for_matched(1, Duration::from_secs(10)).unwrap();
    w.write(&Message {
        seq: 7,
        text: "unicast".into(),
    })
    .unwrap();
    let s = r.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(s.value.seq, 7);
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_large_sample_is_fragmented_and_reassembled() {
    require_private_namespace();
    let a = DomainParticipant::new(options(13, true)).unwrap();
    let b = DomainParticipant::new(options(13, true)).unwrap();
    let qos = Qos::default().reliable().keep_all();
    let w = a.create_raw_writer("big", "Blob", &qos).unwrap();
    let r = b.create_raw_reader("big", "Blob", &qos).unwrap();
    w.wait_for_matched(1, Duration::from_secs(10)).unwrap();
    let mut payload = vec![0x00, 0x01, 0x00, 0x00];
    payload.extend((0..4_000_000u32).map(|i| (i % 251) as u8));
    w.write(&payload).unwrap();
    let s = r.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(s.value.len(), payload.len());
    assert!(s.value[..] == payload[..]);
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_dropped_participant_is_reported_lost_and_unmatched() {
    require_private_namespace();
    let a = DomainParticipant::new(options(14, true)).unwrap();
    let events = a.events();
    let qos = Qos::default().reliable();
    let r = a
        .create_reader::<Message>("bye", "interop::Message", &qos)
        .unwrap();
    {
        let b = DomainParticipant::new(options(14, true)).unwrap();
        let _w = b
            .create_writer::<Message>("bye", "interop::Message", &qos)
            .unwrap();
        r.wait_for_matched(1, Duration::from_secs(10)).unwrap();
    }
    // Bounded: at most 50 waits of 100 ms.
    let mut lost = false;
    for _ in 0..50 {
        if let Ok(DdsEvent::ParticipantLost { .. }) =
            events.recv_timeout(Duration::from_millis(100))
        {
            lost = true;
            break;
        }
    }
    assert!(lost, "no ParticipantLost event");
    assert_eq!(r.matched_writers(), 0);
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_listener_gets_every_sample_in_order_and_can_echo_from_the_receive_thread() {
    require_private_namespace();
    use std::sync::{mpsc, Arc, Mutex};
    // A small KEEP_ALL history: the echo side must never wait on its own receive thread.
    let qos = Qos::default().reliable().keep_all().max_samples(8);
    let PingPong {
        a: _a,
        b,
        ping,
        pong,
        ping_r,
        pong_w,
    } = ping_pong(options(15, true), &qos);
    // Written before there is a listener: must still reach it, first.
    ping.write(&[0, 0, 0, 0, 0]).unwrap();
    ping.wait_for_acknowledgments(Duration::from_secs(10))
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (full_tx, full_rx) = mpsc::channel();
    let full_tx = Mutex::new(full_tx);
    let echo = pong_w.clone();
    let seen_in = Arc::clone(&seen);
    ping_r.set_listener(move |s| {
        seen_in.lock().unwrap().push(s.value[4]);
        // The echo may find its history full: then a thread that may wait writes it.
        if echo.try_write_bytes(s.value.clone()).is_err() {
            let _ = full_tx.lock().unwrap().send(s.value);
        }
    });
    let waiter = std::thread::spawn(move || {
        // Bounded: ends once the listener is gone, or after a quiet 10 s.
        while let Ok(p) = full_rx.recv_timeout(Duration::from_secs(10)) {
            pong_w.write_bytes(p).unwrap();
        }
    });
    let (got_tx, got_rx) = mpsc::channel();
    pong.set_listener(move |s| {
        let _ = got_tx.send(s.value[4]);
    });
    for i in 1..=200u8 {
        ping.write(&[0, 0, 0, 0, i]).unwrap();
    }
    let mut echoed = Vec::new();
    while echoed.len() < 201 {
        echoed.push(got_rx.recv_timeout(Duration::from_secs(10)).unwrap());
    }
    echoed.sort_unstable();
    let all: Vec<u8> = (0..=200).collect();
    assert_eq!(echoed, all, "every sample echoed exactly once");
    assert_eq!(
        *seen.lock().unwrap(),
        all,
        "the listener saw every sample, in order"
    );
    // A listener's samples never reach take.
    assert!(pong.take().is_none());
    drop(ping_r);
    drop(b);
    waiter.join().unwrap();
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_waiting_thread_reads_its_answers_itself_and_the_receive_thread_takes_over_after() {
    require_private_namespace();
    use std::sync::mpsc;
    use std::thread::{self, ThreadId};
    // A long poll window: the receive thread is still polling (so the socket is free to take
    // over) when the test thread asks, however slow the machine.
    let opts = options(16, true).busy_poll(Duration::from_millis(500));
    let qos = Qos::default().reliable().keep_all();
    let PingPong {
        a,
        b: _b,
        ping,
        pong,
        ping_r,
        pong_w,
    } = ping_pong(opts, &qos);
    let echo = pong_w.clone();
    ping_r.set_listener(move |s| {
        let _ = echo.try_write_bytes(s.value);
    });
    let (tx, rx) = mpsc::channel::<(u8, ThreadId)>();
    let tx = std::sync::Mutex::new(tx);
    pong.set_listener(move |s| {
        let _ = tx
            .lock()
            .unwrap()
            .send((s.value[4], thread::current().id()));
    });
    let me = thread::current().id();
    let poller = a.receive_poller();
    let (mut on_me, mut polled) = (0, 0);
    for i in 0..50u8 {
        ping.write(&[0, 0, 0, 0, i]).unwrap();
        let mut got = None;
        let deadline = clock() + Duration::from_secs(10);
        let r = poller.poll_until(deadline, || {
            got = rx.try_recv().ok();
            got.is_some()
        });
        polled += usize::from(r == Some(true));
        let (n, by) = match got {
            Some(g) => g,
            None => rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        };
        assert_eq!(n, i, "answers in order, none lost");
        on_me += usize::from(by == me);
    }
    assert!(polled > 0, "the socket was never free to poll");
    // A poll that takes the socket over from the polling receive thread may find the answer
    // already read by it (one datagram in flight at the switch, more on a loaded machine
    // where the receive thread takes the socket back between rounds): that answer reaches
    // this thread through the listener on the receive thread. The others are read here.
    assert!(
        on_me > 0 && on_me <= polled,
        "answers read and handed to the listener on this thread: {on_me} of {polled} polled"
    );
    // Nobody polls now: the receive thread takes the socket back (after at most the park of
    // a thread that got its answer) and delivers what comes; this thread only waits for it.
    pong_w.write(&[0, 0, 0, 0, 200]).unwrap();
    let (n, by) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(n, 200);
    assert_ne!(by, me);
    drop(ping_r);
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn the_events_channel_ends_with_the_participant_even_while_handles_live() {
    require_private_namespace();
    let a = DomainParticipant::new(options(17, true)).unwrap();
    let qos = Qos::default().reliable().keep_all();
    let w = a.create_raw_writer("kept", "bench::Bytes", &qos).unwrap();
    let poller = a.receive_poller();
    let events = a.events();
    drop(a);
    loop {
        match events.recv_timeout(Duration::from_secs(10)) {
            Ok(_) => continue,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(e) => panic!("the events channel outlived its participant: {e}"),
        }
    }
    assert!(
        w.write(&[0, 1, 0, 0]).is_err(),
        "a write after the close fails"
    );
    assert_eq!(
        poller.poll_until(clock() + Duration::from_secs(1), || false),
        None
    );
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn recv_polling_timeout_gets_every_answer_in_order() {
    require_private_namespace();
    let qos = Qos::default().reliable().keep_all();
    let PingPong {
        a: _a,
        b: _b,
        ping,
        pong,
        ping_r,
        pong_w,
    } = ping_pong(options(18, true), &qos);
    ping_r.set_listener(move |s| {
        let _ = pong_w.try_write_bytes(s.value);
    });
    for i in 0..200u8 {
        ping.write(&[0, 0, 0, 0, i]).unwrap();
        let s = pong.recv_polling_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(s.value[4], i);
    }
    assert!(
        matches!(
            pong.recv_polling_timeout(Duration::from_millis(50)),
            Err(rtps::dds::RecvError::Timeout)
        ),
        "nothing more"
    );
    drop(ping_r);
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn stats_of_a_live_pair_count_datagrams_and_one_matched_peer() {
    require_private_namespace();
    let qos = Qos::default().reliable().keep_all();
    let p = ping_pong(options(19, true), &qos);
    p.ping.write(b"\x00\x01\x00\x00ping").unwrap();
    p.ping_r.recv_timeout(Duration::from_secs(10)).unwrap();
    p.ping
        .wait_for_acknowledgments(Duration::from_secs(10))
        .unwrap();
    for s in [p.a.stats(), p.b.stats()] {
        assert!(s.datagrams_in > 0 && s.datagrams_out > 0, "{s:?}");
        assert!(s.bytes_in > 0 && s.bytes_out > 0, "{s:?}");
        assert_eq!(s.matched_participants, 1, "{s:?}");
        assert_eq!(s.discovered_participants, 1, "{s:?}");
        assert_eq!((s.matched_readers, s.matched_writers), (1, 1), "{s:?}");
        assert_eq!((s.malformed, s.send_errors), (0, 0), "{s:?}");
    }
    let a = p.a.stats();
    assert!(a.acknacks_received > 0, "{a:?}");
    let _ = (&p.pong, &p.pong_w);
}
