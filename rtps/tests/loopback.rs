//! Real UDP sockets on loopback. These tests open sockets only inside a private network
//! namespace whose one interface is `lo`: they are `#[ignore]`d (with the reason) in a plain
//! `cargo test`, and fail if run elsewhere. Run them with
//!
//! ```text
//! ../shared/oracles/netns-run cargo test -p rtps --test loopback -- --include-ignored
//! ```
//!
//! Each test uses its own domain id so that tests running in parallel never share a port.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use rtps::transport::interface::require_private_namespace;
use rtps::transport::udp::MAX_UDP_PAYLOAD;
use rtps::transport::{
    BindError, ReceiverKind, SendError, TransportConfig, UdpReceiver, UdpTransport,
};
use rtps::wire::Locator;

/// Long enough for loopback delivery on a loaded machine; only bounds waiting, never asserted.
const WAIT: Duration = Duration::from_secs(5);

fn bind(domain_id: u32) -> UdpTransport {
    let mut config = TransportConfig::default();
    config.domain_id = domain_id;
    UdpTransport::bind(config).expect("bind on loopback")
}

/// Receive one datagram on `r` (waiting at most [`WAIT`]) and return its bytes and sender.
fn recv(r: &UdpReceiver) -> Option<(Vec<u8>, SocketAddr)> {
    let mut buf = vec![0u8; MAX_UDP_PAYLOAD];
    let got = r.recv_timeout(&mut buf, Some(WAIT)).expect("recv")?;
    assert!(!got.possibly_truncated);
    assert_eq!(got.kind, r.kind());
    Some((buf.get(..got.len)?.to_vec(), got.from))
}

fn unicast(t: &UdpTransport, kind: ReceiverKind) -> SocketAddr {
    SocketAddr::V4(t.receiver(kind).expect("receiver").local_addr())
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn two_transports_on_domain_zero_get_participant_ids_zero_and_one_and_exchange_unicast() {
    require_private_namespace();
    let a = bind(0);
    let b = bind(0);
    assert_eq!((a.participant_id(), b.participant_id()), (0, 1));
    assert_eq!(a.ports().metatraffic_unicast, 7410);
    assert_eq!(b.ports().user_unicast, 7413);
    let sizes = a.buffer_sizes();
    println!(
        "socket buffers granted for a 4 MiB request: SO_RCVBUF {} SO_SNDBUF {}; multicast {}",
        sizes.recv,
        sizes.send,
        a.multicast_active()
    );
    assert!(sizes.recv > 0 && sizes.send > 0);

    let b_meta = unicast(&b, ReceiverKind::MetatrafficUnicast);
    a.send_to(b"hello metatraffic", b_meta).unwrap();
    let (bytes, from) = recv(b.receiver(ReceiverKind::MetatrafficUnicast).unwrap()).unwrap();
    assert_eq!(bytes, b"hello metatraffic");
    assert_eq!(Some(from), a.sender().local_addr());

    let a_user = unicast(&a, ReceiverKind::UserUnicast);
    b.send_to(b"hello user", a_user).unwrap();
    let (bytes, _) = recv(a.receiver(ReceiverKind::UserUnicast).unwrap()).unwrap();
    assert_eq!(bytes, b"hello user");
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_multicast_datagram_reaches_every_transport_including_the_sender() {
    require_private_namespace();
    let a = bind(1);
    let b = bind(1);
    assert!(a.multicast_active() && b.multicast_active());
    let group = a.spdp_multicast_addr();
    assert_eq!(
        group,
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(239, 255, 0, 1), 7650))
    );
    a.send_to(b"spdp announcement", group).unwrap();
    for t in [&a, &b] {
        let r = t.receiver(ReceiverKind::MetatrafficMulticast).unwrap();
        let (bytes, from) = recv(r).unwrap();
        assert_eq!(bytes, b"spdp announcement");
        assert_eq!(Some(from), a.sender().local_addr());
    }
    // Multicast is not delivered to the unicast sockets.
    let mut buf = [0u8; 64];
    let r = b.receiver(ReceiverKind::MetatrafficUnicast).unwrap();
    assert_eq!(
        r.recv_timeout(&mut buf, Some(Duration::from_millis(50)))
            .unwrap(),
        None
    );
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_transport_without_multicast_still_receives_unicast() {
    require_private_namespace();
    let mut config = TransportConfig::default();
    config.domain_id = 2;
    config.multicast = false;
    let quiet = UdpTransport::bind(config).unwrap();
    let loud = bind(2);
    assert!(!quiet.multicast_active());
    assert!(quiet.receiver(ReceiverKind::MetatrafficMulticast).is_none());
    let locators = quiet.local_locators();
    assert_eq!(locators.metatraffic_multicast, None);
    assert_eq!(
        locators.metatraffic_unicast,
        Locator::udp_v4(Ipv4Addr::LOCALHOST, quiet.ports().metatraffic_unicast)
    );
    assert!(matches!(
        quiet.send_to(b"x", quiet.spdp_multicast_addr()),
        Err(SendError::MulticastDisabled)
    ));

    // The multicast participant reaches it by unicast, as SPDP unicast probes do.
    let probe = unicast(&quiet, ReceiverKind::MetatrafficUnicast);
    loud.send_to(b"unicast spdp probe", probe).unwrap();
    let (bytes, _) = recv(quiet.receiver(ReceiverKind::MetatrafficUnicast).unwrap()).unwrap();
    assert_eq!(bytes, b"unicast spdp probe");
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_configured_participant_id_in_use_is_an_error_and_a_freed_id_is_reused() {
    require_private_namespace();
    let first = bind(3);
    let second = bind(3);
    let third = bind(3);
    assert_eq!(
        [&first, &second, &third].map(|t| t.participant_id()),
        [0, 1, 2]
    );
    let mut config = TransportConfig::default();
    config.domain_id = 3;
    config.participant_id = Some(1);
    let taken = UdpTransport::bind(config);
    assert!(matches!(
        taken,
        Err(BindError::ParticipantIdInUse { participant_id: 1 })
    ));
    drop(second);
    assert_eq!(bind(3).participant_id(), 1);
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn the_largest_udp_datagram_arrives_whole_and_larger_is_refused() {
    require_private_namespace();
    let a = bind(4);
    let b = bind(4);
    let to = unicast(&b, ReceiverKind::UserUnicast);
    let big: Vec<u8> = (0..MAX_UDP_PAYLOAD).map(|i| (i % 251) as u8).collect();
    a.send_to(&big, to).unwrap();
    let (bytes, _) = recv(b.receiver(ReceiverKind::UserUnicast).unwrap()).unwrap();
    assert_eq!(bytes, big);
    let too_big = vec![0u8; MAX_UDP_PAYLOAD + 1];
    assert!(matches!(a.send_to(&too_big, to), Err(SendError::TooLarge)));
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn a_loopback_transport_refuses_destinations_off_loopback() {
    require_private_namespace();
    let a = bind(5);
    for to in ["192.0.2.1:7410", "10.0.0.1:7400", "[::1]:7410"] {
        let to: SocketAddr = to.parse().unwrap();
        let err = a.send_to(b"must not leave", to).unwrap_err();
        assert!(
            matches!(err, SendError::NotLoopback | SendError::Unsupported),
            "{to}: {err}"
        );
    }
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn domains_do_not_hear_each_other() {
    require_private_namespace();
    let six = bind(6);
    let seven = bind(7);
    six.send_to(b"domain 6", six.spdp_multicast_addr()).unwrap();
    let (bytes, _) = recv(six.receiver(ReceiverKind::MetatrafficMulticast).unwrap()).unwrap();
    assert_eq!(bytes, b"domain 6");
    let mut buf = [0u8; 64];
    let r = seven.receiver(ReceiverKind::MetatrafficMulticast).unwrap();
    assert_eq!(
        r.recv_timeout(&mut buf, Some(Duration::from_millis(50)))
            .unwrap(),
        None
    );
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn user_multicast_is_opened_on_request_and_received() {
    require_private_namespace();
    let mut config = TransportConfig::default();
    config.domain_id = 8;
    config.user_multicast = true;
    config.send_timeout = None;
    let t = UdpTransport::bind(config).unwrap();
    let r = t.receiver(ReceiverKind::UserMulticast).unwrap();
    let group = SocketAddr::V4(r.local_addr());
    assert_eq!(group.port(), t.ports().user_multicast);
    assert_eq!(
        t.local_locators().default_multicast,
        Some(Locator::udp_v4(Ipv4Addr::new(239, 255, 0, 1), group.port()))
    );
    t.send_to(b"user multicast", group).unwrap();
    assert_eq!(recv(r).unwrap().0, b"user multicast");
    let parts = t.into_parts();
    assert!(parts.user_multicast.is_some() && parts.metatraffic_multicast.is_some());
}
