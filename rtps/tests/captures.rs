//! Every RTPS message of every reference capture (`shared/captures/*.pcap`) goes through the
//! codec: parse, walk every submessage, re-emit byte-identically, and for every modeled
//! submessage emit + re-parse to an equal representation.

mod support;

use support::pcap::{self, Transport};

// ---- the capture reader itself ----

fn rtps_payload() -> Vec<u8> {
    let mut p = b"RTPS\x02\x03\x01\x0f".to_vec();
    p.extend([7u8; 12]);
    p
}

fn ethernet(ip: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend(0x0800u16.to_be_bytes());
    f.extend_from_slice(ip);
    f
}

#[test]
fn classic_pcap_in_both_byte_orders_and_both_time_units_yields_the_udp_payload() {
    let ip = pcap::ipv4_udp(&[], 0x4000, &rtps_payload());
    let frame = ethernet(&ip);
    for big in [false, true] {
        for nanos in [false, true] {
            let file = pcap::write_classic(pcap::LINKTYPE_ETHERNET, big, nanos, &[&frame, &frame]);
            let frames = pcap::read_capture(&file).unwrap();
            assert_eq!(frames.len(), 2);
            assert_eq!(frames[1].number, 2);
            assert!(!frames[0].truncated);
            match pcap::decode_frame(frames[0].link_type, frames[0].data) {
                Transport::Udp(u) => {
                    assert_eq!(u.payload, rtps_payload().as_slice());
                    assert_eq!((u.src_port, u.dst_port), (7400, 7410));
                    assert_eq!(u.src, &[127, 0, 0, 1]);
                }
                other => panic!("expected UDP, got {other:?}"),
            }
        }
    }
}

#[test]
fn every_supported_link_type_reaches_the_udp_payload() {
    let ip = pcap::ipv4_udp(&[], 0, &rtps_payload());
    let mut sll = vec![0u8; 14];
    sll.extend(0x0800u16.to_be_bytes());
    sll.extend_from_slice(&ip);
    let mut sll2 = 0x0800u16.to_be_bytes().to_vec();
    sll2.extend([0u8; 18]);
    sll2.extend_from_slice(&ip);
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(&ip);
    let mut lo = 2u32.to_be_bytes().to_vec();
    lo.extend_from_slice(&ip);
    let mut vlan = vec![0u8; 12];
    vlan.extend([0x81, 0x00, 0, 5, 0x08, 0x00]);
    vlan.extend_from_slice(&ip);
    let cases: [(u32, Vec<u8>); 8] = [
        (pcap::LINKTYPE_ETHERNET, ethernet(&ip)),
        (pcap::LINKTYPE_ETHERNET, vlan),
        (pcap::LINKTYPE_LINUX_SLL, sll),
        (pcap::LINKTYPE_LINUX_SLL2, sll2),
        (pcap::LINKTYPE_RAW, ip.clone()),
        (pcap::LINKTYPE_IPV4, ip.clone()),
        (pcap::LINKTYPE_NULL, null),
        (pcap::LINKTYPE_LOOP, lo),
    ];
    for (link, frame) in cases {
        match pcap::decode_frame(link, &frame) {
            Transport::Udp(u) => assert_eq!(u.payload, rtps_payload().as_slice(), "link {link}"),
            other => panic!("link {link}: expected UDP, got {other:?}"),
        }
    }
}

#[test]
fn ipv4_options_are_skipped_and_fragments_are_reported() {
    let with_options = pcap::ipv4_udp(&[1, 1, 1, 0], 0, &rtps_payload());
    assert!(matches!(
        pcap::decode_frame(pcap::LINKTYPE_IPV4, &with_options),
        Transport::Udp(u) if u.payload == rtps_payload().as_slice()
    ));
    let first_fragment = pcap::ipv4_udp(&[], 0x2000, &rtps_payload());
    let later_fragment = pcap::ipv4_udp(&[], 0x0010, &rtps_payload());
    for f in [first_fragment, later_fragment] {
        assert_eq!(
            pcap::decode_frame(pcap::LINKTYPE_IPV4, &f),
            Transport::IpFragment
        );
    }
}

#[test]
fn truncated_or_corrupt_capture_files_are_errors_not_panics() {
    let frame = ethernet(&pcap::ipv4_udp(&[], 0, &rtps_payload()));
    let file = pcap::write_classic(pcap::LINKTYPE_ETHERNET, false, false, &[&frame]);
    for n in 0..file.len() {
        let cut = &file[..n];
        if let Ok(frames) = pcap::read_capture(cut) {
            // only cuts at a record boundary can succeed
            assert!(n == 24, "cut at {n} parsed as {} frames", frames.len());
        }
    }
    for n in 0..frame.len() {
        let _ = pcap::decode_frame(pcap::LINKTYPE_ETHERNET, &frame[..n]);
    }
    assert!(pcap::read_capture(b"not a capture file").is_err());
}

#[test]
fn pcapng_captures_are_read_frame_by_frame() {
    let Some(shared) = support::shared_dir() else {
        return;
    };
    let mut total = 0;
    for scan in support::scan_all_captures(&shared) {
        assert!(scan.frames > 0, "{}: no frames", scan.name);
        assert!(!scan.rtps.is_empty(), "{}: no RTPS datagram", scan.name);
        assert_eq!(
            scan.truncated, 0,
            "{}: frames cut by the snap length",
            scan.name
        );
        total += scan.rtps.len();
    }
    assert!(total > 0);
}
