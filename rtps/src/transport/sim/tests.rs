//! Goals of the simulated network, with fixed seeds (exact counts are deterministic; the
//! assertions use ranges).
use super::*;
use std::net::{Ipv4Addr, SocketAddrV4};

fn addr(last: u8, port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, last), port))
}

fn group() -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(239, 255, 0, 1), 7400))
}

/// Two nodes `a` (10.0.0.1:7410) and `b` (10.0.0.2:7410).
fn pair(net: &mut SimNetwork) -> (NodeId, NodeId) {
    let a = net.add_node("a");
    let b = net.add_node("b");
    net.bind(a, addr(1, 7410)).unwrap();
    net.bind(b, addr(2, 7410)).unwrap();
    (a, b)
}

/// Deliver everything, advancing the virtual clock; bounded by `max` deliveries.
fn drain(net: &mut SimNetwork, max: usize) -> Vec<Delivery> {
    let mut out = Vec::new();
    while let Some(t) = net.next_delivery_time() {
        assert!(out.len() < max, "more deliveries than expected");
        match net.poll_deliver(t) {
            Some(d) => out.push(d),
            None => assert!(!matches!(net.next_delivery_time(), Some(n) if n <= t)),
        }
    }
    out
}

#[test]
fn loss_rate_is_as_configured_over_ten_thousand_sends() {
    let mut net = SimNetwork::with_seed(7);
    let (_, _) = pair(&mut net);
    net.set_default_link(LinkConfig::PERFECT.with_loss(0.2));
    let now = virtual_epoch();
    for i in 0..10_000u32 {
        net.send(now, addr(1, 7410), addr(2, 7410), &i.to_le_bytes())
            .unwrap();
    }
    let delivered = drain(&mut net, 10_000).len();
    let s = net.stats();
    assert_eq!(s.sent, 10_000);
    assert_eq!(s.lost + s.delivered, 10_000);
    assert_eq!(s.delivered as usize, delivered);
    // Binomial(10000, 0.2): sd = 40; allow five of them.
    assert!(
        (1800..=2200).contains(&s.lost),
        "lost {} (seed {})",
        s.lost,
        net.seed()
    );
}

#[test]
fn duplication_rate_is_as_configured_and_copies_are_identical() {
    let mut net = SimNetwork::with_seed(11);
    let (_, b) = pair(&mut net);
    net.set_default_link(LinkConfig::PERFECT.with_duplicate(0.1));
    let now = virtual_epoch();
    for i in 0..10_000u32 {
        net.send(now, addr(1, 7410), addr(2, 7410), &i.to_le_bytes())
            .unwrap();
    }
    let got = drain(&mut net, 20_000);
    let dup = net.stats().duplicated;
    assert!((800..=1200).contains(&dup), "duplicated {dup}");
    assert_eq!(got.len() as u64, 10_000 + dup);
    assert!(got
        .iter()
        .all(|d| d.to_node == b && d.from_addr == addr(1, 7410)));
    let distinct: BTreeSet<_> = got.iter().map(|d| d.bytes.clone()).collect();
    assert_eq!(distinct.len(), 10_000);
}

#[test]
fn delay_and_jitter_bound_every_delivery_time() {
    let mut net = SimNetwork::with_seed(3);
    pair(&mut net);
    let (delay, jitter) = (Duration::from_millis(10), Duration::from_millis(5));
    net.set_default_link(LinkConfig::PERFECT.with_delay(delay, jitter));
    let t0 = virtual_epoch();
    for i in 0..1000u32 {
        net.send(t0, addr(1, 7410), addr(2, 7410), &i.to_le_bytes())
            .unwrap();
    }
    assert_eq!(net.poll_deliver(t0 + Duration::from_millis(9)), None);
    assert!(net.next_delivery_time().unwrap() >= t0 + delay);
    let got = drain(&mut net, 1000);
    assert_eq!(got.len(), 1000);
    assert!(got
        .iter()
        .all(|d| d.at >= t0 + delay && d.at <= t0 + delay + jitter));
    assert!(got.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn a_perfect_link_keeps_send_order_and_reordering_breaks_it() {
    let order = |reorder: f64| {
        let mut net = SimNetwork::with_seed(5);
        pair(&mut net);
        net.set_default_link(LinkConfig::PERFECT.with_reorder(reorder, Duration::from_millis(50)));
        let t0 = virtual_epoch();
        for i in 0..200u32 {
            let now = t0 + Duration::from_millis(u64::from(i));
            net.send(now, addr(1, 7410), addr(2, 7410), &i.to_le_bytes())
                .unwrap();
        }
        drain(&mut net, 200)
            .into_iter()
            .map(|d| u32::from_le_bytes(d.bytes.try_into().unwrap()))
            .collect::<Vec<_>>()
    };
    let in_order: Vec<u32> = (0..200).collect();
    assert_eq!(order(0.0), in_order);
    let shuffled = order(0.3);
    assert_ne!(shuffled, in_order);
    let mut sorted = shuffled.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, in_order, "reordering neither loses nor invents");
}

/// A busy scenario: loss, duplication, jitter, reordering, multicast, over time.
fn trace(seed: u64) -> Vec<(Duration, usize, SocketAddr, SocketAddr, Vec<u8>)> {
    let mut net = SimNetwork::with_seed(seed);
    let (a, b) = pair(&mut net);
    let c = net.add_node("c");
    net.bind(c, addr(3, 7410)).unwrap();
    for n in [a, b, c] {
        net.join(n, group()).unwrap();
    }
    net.set_default_link(
        LinkConfig::PERFECT
            .with_loss(0.2)
            .with_duplicate(0.1)
            .with_delay(Duration::from_micros(100), Duration::from_micros(50))
            .with_reorder(0.2, Duration::from_millis(2)),
    );
    let t0 = virtual_epoch();
    let mut out = Vec::new();
    let mut now = t0;
    for i in 0..500u32 {
        now += Duration::from_micros(30);
        let from = addr(1 + (i % 3) as u8, 7410);
        let to = if i % 5 == 0 {
            group()
        } else {
            addr(1 + ((i + 1) % 3) as u8, 7410)
        };
        net.send(now, from, to, &i.to_le_bytes()).unwrap();
        while let Some(d) = net.poll_deliver(now) {
            out.push((d.at - t0, d.to_node.0, d.to_addr, d.from_addr, d.bytes));
        }
    }
    for d in drain(&mut net, 10_000) {
        out.push((d.at - t0, d.to_node.0, d.to_addr, d.from_addr, d.bytes));
    }
    out
}

#[test]
fn the_same_seed_gives_an_identical_delivery_trace() {
    let first = trace(42);
    assert!(first.len() > 300);
    assert_eq!(first, trace(42));
    assert_ne!(first, trace(43));
}

#[test]
fn a_partition_drops_traffic_both_ways_until_healed() {
    let mut net = SimNetwork::with_seed(1);
    let (a, b) = pair(&mut net);
    let c = net.add_node("c");
    net.bind(c, addr(3, 7410)).unwrap();
    let t0 = virtual_epoch();
    let p = net.partition(&[a], &[b]);
    assert!(net.partitioned(b, a));
    net.send(t0, addr(1, 7410), addr(2, 7410), b"a->b").unwrap();
    net.send(t0, addr(2, 7410), addr(1, 7410), b"b->a").unwrap();
    net.send(t0, addr(1, 7410), addr(3, 7410), b"a->c").unwrap();
    let got = drain(&mut net, 10);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].bytes, b"a->c");
    assert_eq!(net.stats().partitioned, 2);

    // In flight when the partition starts: dropped at delivery time.
    net.heal(p);
    net.set_default_link(LinkConfig::PERFECT.with_delay(Duration::from_millis(5), Duration::ZERO));
    net.send(t0, addr(1, 7410), addr(2, 7410), b"late").unwrap();
    let p2 = net.partition(&[b], &[a, c]);
    assert_eq!(drain(&mut net, 10), vec![]);
    assert_eq!(net.stats().partitioned, 3);

    net.heal(p2);
    assert!(!net.partitioned(a, b));
    net.send(t0, addr(1, 7410), addr(2, 7410), b"healed")
        .unwrap();
    let got = drain(&mut net, 10);
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].to_node, got[0].bytes.as_slice()),
        (b, &b"healed"[..])
    );
}

#[test]
fn multicast_fans_out_to_every_member_including_the_sender() {
    let mut net = SimNetwork::with_seed(9);
    let (a, b) = pair(&mut net);
    let c = net.add_node("c");
    let d = net.add_node("not a member");
    net.bind(c, addr(3, 7410)).unwrap();
    net.bind(d, addr(4, 7410)).unwrap();
    for n in [a, b, c] {
        net.join(n, group()).unwrap();
    }
    let t0 = virtual_epoch();
    net.send(t0, addr(2, 7410), group(), b"spdp").unwrap();
    let got = drain(&mut net, 10);
    let nodes: Vec<NodeId> = got.iter().map(|d| d.to_node).collect();
    assert_eq!(nodes, vec![a, b, c]);
    assert!(got
        .iter()
        .all(|d| d.to_addr == group() && d.from_addr == addr(2, 7410)));

    net.leave(c, group());
    net.send(t0, addr(2, 7410), group(), b"again").unwrap();
    assert_eq!(drain(&mut net, 10).len(), 2);
    // A partition cuts only the partitioned members.
    net.partition(&[a], &[b]);
    net.send(t0, addr(2, 7410), group(), b"cut").unwrap();
    let got = drain(&mut net, 10);
    assert_eq!(got.iter().map(|d| d.to_node).collect::<Vec<_>>(), vec![b]);
}

#[test]
fn bad_addresses_are_refused_or_counted_unroutable() {
    let mut net = SimNetwork::with_seed(2);
    let (a, b) = pair(&mut net);
    let t0 = virtual_epoch();
    assert_eq!(net.bind(b, addr(1, 7410)), Err(SimError::AddressInUse));
    assert_eq!(net.bind(a, addr(1, 7410)), Ok(()));
    assert_eq!(net.bind(NodeId(99), addr(9, 1)), Err(SimError::UnknownNode));
    assert!(matches!(
        net.bind(a, group()),
        Err(SimError::WrongAddressKind(_))
    ));
    assert!(matches!(
        net.join(a, addr(1, 1)),
        Err(SimError::WrongAddressKind(_))
    ));
    assert_eq!(
        net.send(t0, addr(9, 9), addr(2, 7410), b"x"),
        Err(SimError::UnknownSource)
    );
    net.send(t0, addr(1, 7410), addr(8, 7410), b"nobody")
        .unwrap();
    net.send(t0, addr(1, 7410), group(), b"no members").unwrap();
    assert_eq!(net.stats().unroutable, 2);
    // Unbound while in flight.
    net.send(t0, addr(1, 7410), addr(2, 7410), b"gone").unwrap();
    net.unbind(addr(2, 7410));
    assert_eq!(net.poll_deliver(t0), None);
    assert_eq!(net.stats().unroutable, 3);
}

#[test]
fn the_queue_is_capped_and_overflow_counted() {
    let mut net = SimNetwork::with_seed(4);
    pair(&mut net);
    net.set_max_in_flight(10);
    let t0 = virtual_epoch();
    for _ in 0..15 {
        net.send(t0, addr(1, 7410), addr(2, 7410), b"x").unwrap();
    }
    assert_eq!(net.in_flight(), 10);
    assert_eq!(net.stats().overflowed, 5);
}

#[test]
fn probabilities_outside_the_unit_interval_do_not_panic() {
    let mut net = SimNetwork::with_seed(6);
    pair(&mut net);
    let t0 = virtual_epoch();
    for p in [f64::NAN, -1.0, 2.0, f64::INFINITY] {
        net.set_default_link(
            LinkConfig::PERFECT
                .with_loss(p)
                .with_duplicate(p)
                .with_reorder(p, Duration::MAX)
                .with_delay(Duration::MAX, Duration::MAX),
        );
        net.send(t0, addr(1, 7410), addr(2, 7410), b"x").unwrap();
    }
    assert!(net.stats().lost >= 1);
}

#[test]
fn seeds_parse_in_decimal_and_hex() {
    assert_eq!(parse_seed("42"), Some(42));
    assert_eq!(parse_seed(" 0x2A "), Some(42));
    assert_eq!(parse_seed("forty-two"), None);
    assert_eq!(SimNetwork::with_seed(99).seed(), 99);
}
