//! Forged traffic and discovery floods on the deterministic simulated network (issue 11
//! items 2 and 3). Each test prints its seed on failure; rerun with `RTPS_SIM_SEED=<seed>`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::MAX_SPDP_ONLY_PER_SOURCE;
use crate::hostile::{fake_spdp, forged_gap, forged_heartbeat};
use crate::participant::tests::{payload, reliable, seq_of};
use crate::participant::MAX_REMOTE_PARTICIPANTS;
use crate::simworld::SimWorld;
use crate::wire::{EntityId, GuidPrefix, Locator};

fn addr(a: u8, b: u8, c: u8, d: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(a, b, c, d)), port)
}

/// A simulated node that may send from `from` (any address, as a forger can).
fn attacker(w: &mut SimWorld, from: SocketAddr) -> SocketAddr {
    let node = w.net.add_node(&format!("attacker {from}"));
    w.net.bind(node, from).expect("attacker address free");
    from
}

/// A writer on `a` and a reader on `b`, matched.
fn pair(w: &mut SimWorld, a: usize, b: usize) -> (EntityId, EntityId) {
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
    let seed = w.seed();
    assert!(
        w.run_until(Duration::from_secs(5), |w| {
            w.participants[a].participant.matched_readers(wr).len() == 1
                && w.participants[b].participant.matched_writers(rd).len() == 1
        }),
        "seed {seed}: no match"
    );
    (wr, rd)
}

fn user_addr(w: &SimWorld, i: usize) -> SocketAddr {
    w.participants[i]
        .participant
        .participant_data()
        .default_unicast_locators[0]
        .to_socket_addr()
        .unwrap()
}

/// A matched reliable pair (writer on `a`, reader on `b`) and a forger on the writer's own
/// IP address (another port), where only the reliability rules can help.
struct Scene {
    w: SimWorld,
    seed: u64,
    a: usize,
    b: usize,
    wr: EntityId,
    rd: EntityId,
    /// The writer's and the reader's GUID prefixes.
    wp: GuidPrefix,
    rp: GuidPrefix,
    /// The reader's user unicast address.
    to: SocketAddr,
    forger: SocketAddr,
}

impl Scene {
    fn new(default_seed: u64) -> Self {
        let mut w = SimWorld::new(default_seed, 0, true);
        let seed = w.seed();
        let a = w.add_participant("writer", |_| {});
        let b = w.add_participant("reader", |_| {});
        let (wr, rd) = pair(&mut w, a, b);
        let wp = w.participants[a].participant.guid_prefix();
        let rp = w.participants[b].participant.guid_prefix();
        let to = user_addr(&w, b);
        let writer_ip = w.participants[a].address.ip();
        let forger = attacker(&mut w, SocketAddr::new(writer_ip, 9999));
        Scene {
            w,
            seed,
            a,
            b,
            wr,
            rd,
            wp,
            rp,
            to,
            forger,
        }
    }
}

#[test]
fn forged_heartbeats_and_gaps_mid_stream_do_not_stop_a_reliable_pair() {
    let Scene {
        mut w,
        seed,
        a,
        b,
        wr,
        rd,
        wp,
        rp,
        to,
        forger: same_ip,
    } = Scene::new(11);
    // From an address the writer never announced: refused outright.
    let elsewhere = attacker(&mut w, addr(127, 0, 1, 99, 9999));
    let forged: Vec<Vec<u8>> = vec![
        forged_heartbeat(wp, wr, rp, 1000, 1000, 1000).unwrap(),
        forged_heartbeat(wp, wr, rp, 1 << 32, 1 << 32, u32::MAX).unwrap(),
        forged_gap(wp, wr, rp, 1, 1000).unwrap(),
        forged_gap(wp, wr, rp, 1, 1 << 32).unwrap(),
    ];
    const N: u32 = 400;
    let mut got = Vec::new();
    let mut next = 0u32;
    let mut injected = 0;
    let ok = w.run_until(Duration::from_secs(30), |w| {
        while next < N && next < got.len() as u32 + 20 {
            let now = w.now;
            w.participants[a]
                .participant
                .write(now, wr, payload(next), None)
                .unwrap();
            next += 1;
            w.flush(a);
        }
        // Mid-stream, every 50 samples, one forged datagram from each address.
        if got.len() >= 50 * (injected + 1) && injected < forged.len() {
            let now = w.now;
            for from in [same_ip, elsewhere] {
                w.net.send(now, from, to, &forged[injected]).unwrap();
            }
            injected += 1;
        }
        while let Some(s) = w.participants[b].participant.take(rd) {
            got.push(seq_of(&s.payload));
        }
        got.len() as u32 >= N
    });
    assert!(ok, "seed {seed}: only {} of {N} samples arrived", got.len());
    assert_eq!(got, (0..N).collect::<Vec<_>>(), "seed {seed}");
    assert_eq!(injected, forged.len(), "seed {seed}");
    let stats = w.participants[b].participant.stats();
    assert_eq!(stats.rejected_source, 4, "seed {seed}: {stats:?}");
    let rs = w.participants[b].participant.reader_stats(rd).unwrap();
    assert_eq!(rs.suspect, 4, "seed {seed}: {rs:?}");
    assert_eq!(rs.lost, 0, "seed {seed}: {rs:?}");
}

#[test]
fn a_writer_recovers_from_a_forged_gap_within_one_heartbeat_period() {
    let Scene {
        mut w,
        seed,
        a,
        b,
        wr,
        rd,
        wp,
        rp,
        to,
        forger,
    } = Scene::new(12);
    let mut got = Vec::new();
    for i in 0..10 {
        let now = w.now;
        w.participants[a]
            .participant
            .write(now, wr, payload(i), None)
            .unwrap();
        w.flush(a);
    }
    assert!(w.run_until(Duration::from_secs(1), |w| {
        while let Some(s) = w.participants[b].participant.take(rd) {
            got.push(seq_of(&s.payload));
        }
        got.len() == 10
    }));
    w.run_for(Duration::from_millis(300));
    // Within reach of what the writer has shown (10), so the reader takes it: 11..=59 skipped.
    let now = w.now;
    w.net
        .send(now, forger, to, &forged_gap(wp, wr, rp, 1, 60).unwrap())
        .unwrap();
    w.run_for(Duration::from_millis(1));
    let start = w.now;
    for i in 10..20 {
        let now = w.now;
        w.participants[a]
            .participant
            .write(now, wr, payload(i), None)
            .unwrap();
        w.flush(a);
    }
    let ok = w.run_until(Duration::from_secs(5), |w| {
        while let Some(s) = w.participants[b].participant.take(rd) {
            got.push(seq_of(&s.payload));
        }
        got.len() == 20
    });
    assert!(ok, "seed {seed}: the pair stopped at {got:?}");
    assert_eq!(got, (0..20).collect::<Vec<_>>(), "seed {seed}");
    let took = w.now - start;
    // Heartbeat period 100 ms, plus the ACKNACK and the resend.
    assert!(took <= Duration::from_millis(150), "seed {seed}: {took:?}");
    let rs = w.participants[b].participant.reader_stats(rd).unwrap();
    assert_eq!(rs.resyncs, 1, "seed {seed}: {rs:?}");
}

/// A new participant with a writer on the topic of reader `rd` of participant `b` is
/// discovered and matched within a second of virtual time.
fn newcomer_matches_within_a_second(w: &mut SimWorld, b: usize, rd: EntityId) {
    let seed = w.seed();
    let c = w.add_participant("newcomer", |_| {});
    let now = w.now;
    let wc = w.participants[c]
        .participant
        .create_writer(now, "t", "T", false, reliable(false))
        .unwrap();
    w.flush(c);
    let ok = w.run_until(Duration::from_secs(1), |w| {
        w.participants[b].participant.matched_writers(rd).len() == 2
            && w.participants[c].participant.matched_readers(wc).len() == 1
    });
    assert!(ok, "seed {seed}: the newcomer was not matched within 1 s");
}

fn fake_prefix(n: u32) -> GuidPrefix {
    let mut p = [0xfa; 12];
    p[8..].copy_from_slice(&n.to_be_bytes());
    GuidPrefix(p)
}

/// Send `count` fake SPDP participants (numbered from `first`) from `from` to participant
/// `to`'s metatraffic port, one every `gap` of virtual time.
fn flood(w: &mut SimWorld, from: SocketAddr, to: usize, first: u32, count: u32, gap: Duration) {
    let dst = w.participants[to].address;
    let dead = Locator::udp_v4(Ipv4Addr::new(127, 0, 9, 9), 9);
    for n in first..first + count {
        let d = fake_spdp(fake_prefix(n), 0, dead, Duration::from_secs(3600)).unwrap();
        let now = w.now;
        w.net.send(now, from, dst, &d).unwrap();
        w.run_for(gap);
    }
}

#[test]
fn a_discovery_flood_churns_through_a_few_slots_and_real_nodes_still_get_in() {
    let mut w = SimWorld::new(13, 0, true);
    let seed = w.seed();
    let a = w.add_participant("old friend", |_| {});
    let b = w.add_participant("victim", |_| {});
    let (wr, rd) = pair(&mut w, a, b);
    // 5,000 fakes from one address in 1 s of virtual time: at most the per-source cap of
    // them are kept.
    let src = attacker(&mut w, addr(127, 0, 7, 1, 7400));
    flood(&mut w, src, b, 0, 5_000, Duration::from_micros(200));
    let p = &w.participants[b].participant;
    let n = p.remote_participants().count();
    assert!(
        n <= MAX_SPDP_ONLY_PER_SOURCE + 1,
        "seed {seed}: {n} participants"
    );
    assert!(
        p.stats().evicted >= 5_000 - MAX_SPDP_ONLY_PER_SOURCE as u64,
        "seed {seed}"
    );
    // The engaged old friend is still there and matched.
    assert_eq!(p.matched_writers(rd).len(), 1, "seed {seed}");
    assert_eq!(w.participants[a].participant.matched_readers(wr).len(), 1);
    // A newcomer after the flood is discovered and matched within a second.
    newcomer_matches_within_a_second(&mut w, b, rd);
}

#[test]
fn a_full_table_evicts_spdp_only_participants_least_recently_heard_first() {
    let mut w = SimWorld::new(14, 0, true);
    let seed = w.seed();
    let a = w.add_participant("old friend", |_| {});
    let b = w.add_participant("victim", |_| {});
    let (_, rd) = pair(&mut w, a, b);
    // Fakes from many addresses, under the per-source cap each, fill the table.
    let per_source = MAX_SPDP_ONLY_PER_SOURCE as u32 - 6;
    let sources = (MAX_REMOTE_PARTICIPANTS as u32).div_ceil(per_source) + 1;
    for s in 0..sources {
        let from = attacker(&mut w, addr(127, 0, 8, s as u8 + 1, 7400));
        flood(
            &mut w,
            from,
            b,
            s * per_source,
            per_source,
            Duration::from_micros(50),
        );
    }
    let p = &w.participants[b].participant;
    assert_eq!(
        p.remote_participants().count(),
        MAX_REMOTE_PARTICIPANTS,
        "seed {seed}"
    );
    assert!(p.stats().evicted > 0, "seed {seed}");
    assert_eq!(p.stats().table_full, 0, "seed {seed}: room is always made");
    // The least recently heard went first: the first fakes are gone, the last are there.
    let known = |n: u32| {
        w.participants[b]
            .participant
            .remote_participants()
            .any(|d| d.guid.prefix == fake_prefix(n))
    };
    assert!(!known(0), "seed {seed}");
    assert!(known(sources * per_source - 1), "seed {seed}");
    assert_eq!(
        w.participants[b].participant.matched_writers(rd).len(),
        1,
        "seed {seed}: the engaged participant was evicted"
    );
    // A real newcomer gets in and matches.
    newcomer_matches_within_a_second(&mut w, b, rd);
}

#[test]
fn a_refresh_or_disposal_from_an_address_the_participant_did_not_announce_is_refused() {
    let mut w = SimWorld::new(15, 0, true);
    let seed = w.seed();
    let a = w.add_participant("a", |_| {});
    let b = w.add_participant("b", |_| {});
    let _ = pair(&mut w, a, b);
    let ap = w.participants[a].participant.guid_prefix();
    let forger = attacker(&mut w, addr(127, 0, 1, 99, 7400));
    let dead = Locator::udp_v4(Ipv4Addr::new(127, 0, 1, 99), 9);
    let now = w.now;
    let d = fake_spdp(ap, 0, dead, Duration::from_secs(1)).unwrap();
    let dst = w.participants[b].address;
    w.net.send(now, forger, dst, &d).unwrap();
    w.run_for(Duration::from_millis(10));
    let p = &w.participants[b].participant;
    assert_eq!(p.stats().rejected_source, 1, "seed {seed}");
    let data = p
        .remote_participants()
        .find(|d| d.guid.prefix == ap)
        .unwrap();
    assert_ne!(data.metatraffic_unicast_locators, vec![dead], "seed {seed}");
}
