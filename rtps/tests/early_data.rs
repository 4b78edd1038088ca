//! A writer created on demand that writes at once (AML-IP's per-client reply and solution
//! topics do this) sends its SEDP announcement to the metatraffic port and its first DATA to
//! the user port together; the reader's two receive threads may handle the DATA first. On
//! real UDP sockets over loopback, the sample must still arrive at once, every time, and
//! not at the writer's next periodic HEARTBEAT (3 s for Fast DDS). Runs only inside a
//! private network namespace (`../shared/oracles/netns-run cargo test -p rtps --test
//! early_data`); elsewhere it prints why it was skipped.

use std::time::Duration;

use rtps::dds::{DomainParticipant, ParticipantOptions, Qos};
use rtps::transport::driver::now as clock;
use rtps::transport::interface::require_private_namespace;

const ROUNDS: u32 = 40;

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_writer_created_on_demand_is_read_at_once_every_time() {
    require_private_namespace();
    let options = ParticipantOptions::default().domain_id(41);
    let a = DomainParticipant::new(options.clone()).unwrap();
    let b = DomainParticipant::new(options).unwrap();
    let qos = Qos::default().reliable().keep_all();
    let r = b.create_raw_reader("on_demand", "Blob", &qos).unwrap();
    {
        // `a` knows `b`'s reader before the first on-demand writer, as a running peer does.
        let probe = a.create_raw_writer("on_demand", "Blob", &qos).unwrap();
        probe.wait_for_matched(1, Duration::from_secs(10)).unwrap();
    }
    let mut times = Vec::new();
    for seq in 0..ROUNDS {
        let w = a.create_raw_writer("on_demand", "Blob", &qos).unwrap();
        let mut payload = vec![0x00, 0x01, 0x00, 0x00];
        payload.extend_from_slice(&seq.to_le_bytes());
        let start = clock();
        w.write(&payload).unwrap();
        let s = r.recv_timeout(Duration::from_secs(10)).unwrap();
        let took = clock() - start;
        assert_eq!(&s.value[..], &payload[..]);
        times.push(took);
        // Let the deletion of the writer settle before the next round.
        w.wait_for_acknowledgments(Duration::from_secs(10)).unwrap();
    }
    assert!(r.take().is_none(), "a sample arrived twice");
    let stats = b.stats().core;
    let max = times.iter().max().copied().unwrap_or_default();
    let mut sorted = times.clone();
    sorted.sort();
    eprintln!(
        "{ROUNDS} on-demand writers: median {:?}, max {max:?}; early data held {}, replayed {}, dropped {}",
        sorted[sorted.len() / 2],
        stats.early_data_held,
        stats.early_data_replayed,
        stats.early_data_dropped
    );
    for (seq, t) in times.iter().enumerate() {
        assert!(*t < Duration::from_secs(1), "round {seq} took {t:?}");
    }
}
