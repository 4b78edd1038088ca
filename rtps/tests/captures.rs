//! Every RTPS message of every reference capture (`shared/captures/*.pcap`) goes through the
//! codec: parse, walk every submessage, re-emit byte-identically, and for every modeled
//! submessage emit + re-parse to an equal representation.

mod support;

use std::collections::BTreeMap;

use rtps::discovery::data::{disposal, ParticipantData, ReaderData, WriterData};
use rtps::wire::encapsulation::split_payload;
use rtps::wire::submessage::Data;
use rtps::wire::{
    EmitError, Endianness, EntityId, GuidPrefix, Header, Message, Submessage, Writer,
};
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
#[ignore = "needs the reference folder ../shared or $AMLIP_SHARED: run with cargo test -- --include-ignored"]
fn pcapng_captures_are_read_frame_by_frame() {
    let shared = support::shared_dir();
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

// ---- the codec over every capture ----

/// Per-kind and total counts for a capture (or all of them).
#[derive(Debug, Default)]
struct Tally {
    messages: usize,
    submessages: usize,
    reemitted: usize,
    modeled_roundtrips: usize,
    kinds: BTreeMap<String, usize>,
    discovery: BTreeMap<&'static str, usize>,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.messages += other.messages;
        self.submessages += other.submessages;
        self.reemitted += other.reemitted;
        self.modeled_roundtrips += other.modeled_roundtrips;
        for (k, n) in &other.kinds {
            *self.kinds.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &other.discovery {
            *self.discovery.entry(k).or_default() += n;
        }
    }

    fn print(&self, name: &str) {
        println!(
            "{name}: {} messages, {} submessages ({} re-emitted byte-identically, {} modeled emit+re-parse)",
            self.messages, self.submessages, self.reemitted, self.modeled_roundtrips
        );
        let kinds: Vec<String> = self.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!("    kinds: {}", kinds.join(", "));
        if !self.discovery.is_empty() {
            let disc: Vec<String> = self
                .discovery
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            println!("    discovery: {}", disc.join(", "));
        }
    }
}

fn kind_name(s: &Submessage<'_>) -> String {
    match s {
        Submessage::Pad(_) => "PAD".into(),
        Submessage::AckNack(_) => "ACKNACK".into(),
        Submessage::Heartbeat(_) => "HEARTBEAT".into(),
        Submessage::Gap(_) => "GAP".into(),
        Submessage::InfoTimestamp(_) => "INFO_TS".into(),
        Submessage::InfoSource(_) => "INFO_SRC".into(),
        Submessage::InfoReplyIp4(_) => "INFO_REPLY_IP4".into(),
        Submessage::InfoDestination(_) => "INFO_DST".into(),
        Submessage::InfoReply(_) => "INFO_REPLY".into(),
        Submessage::NackFrag(_) => "NACK_FRAG".into(),
        Submessage::HeartbeatFrag(_) => "HEARTBEAT_FRAG".into(),
        Submessage::Data(_) => "DATA".into(),
        Submessage::DataFrag(_) => "DATA_FRAG".into(),
        Submessage::Unknown { kind, .. } => format!("Unknown[{:02x}]", kind.0),
    }
}

/// Emit into a buffer pre-filled with 0xa5 that is 8 bytes longer than needed; return the
/// written bytes after checking the tail was not touched.
fn emit_checked(
    len: usize,
    endian: Endianness,
    emit: impl FnOnce(&mut Writer<'_>) -> Result<(), EmitError>,
) -> Result<Vec<u8>, String> {
    let mut buf = vec![0xa5u8; len + 8];
    let mut w = Writer::new(&mut buf, endian);
    emit(&mut w).map_err(|e| format!("emit failed: {e}"))?;
    let n = w.position();
    if buf[n..].iter().any(|&b| b != 0xa5) {
        return Err(format!("emit wrote past its {n} bytes"));
    }
    buf.truncate(n);
    Ok(buf)
}

/// All the checks of one RTPS datagram.
fn check_message(bytes: &[u8], tally: &mut Tally) -> Result<(), String> {
    let message = Message::parse(bytes).map_err(|e| format!("Message::parse: {e}"))?;
    tally.messages += 1;
    let header = bytes.get(..Header::LEN).ok_or("no header")?;
    for (i, sub) in message.submessages().enumerate() {
        let sub = sub.map_err(|e| format!("submessage #{i}: {e}"))?;
        tally.submessages += 1;
        let name = kind_name(&sub.submessage);
        *tally.kinds.entry(name.clone()).or_default() += 1;
        let again = emit_checked(sub.raw.len(), sub.endian, |w| sub.emit_as_received(w))
            .map_err(|e| format!("submessage #{i} {name}: emit_as_received: {e}"))?;
        if again != sub.raw {
            return Err(format!(
                "submessage #{i} {name}: emit_as_received differs from the {} bytes received",
                sub.raw.len()
            ));
        }
        tally.reemitted += 1;
        if !matches!(sub.submessage, Submessage::Unknown { .. }) {
            let len = sub.submessage.wire_len();
            let emitted = emit_checked(len, sub.endian, |w| sub.submessage.emit(w))
                .map_err(|e| format!("submessage #{i} {name}: Submessage::emit: {e}"))?;
            if emitted.len() != len {
                return Err(format!(
                    "submessage #{i} {name}: wire_len {len} but emit wrote {}",
                    emitted.len()
                ));
            }
            let mut datagram = header.to_vec();
            datagram.extend_from_slice(&emitted);
            let reparsed = Message::parse(&datagram)
                .map_err(|e| format!("submessage #{i} {name}: re-parse header: {e}"))?
                .submessages()
                .next()
                .ok_or_else(|| format!("submessage #{i} {name}: re-parse found nothing"))?
                .map_err(|e| format!("submessage #{i} {name}: re-parse: {e}"))?;
            if reparsed.submessage != sub.submessage {
                return Err(format!(
                    "submessage #{i} {name}: emit + re-parse differs:\n  received {:?}\n  re-parsed {:?}",
                    sub.submessage, reparsed.submessage
                ));
            }
            tally.modeled_roundtrips += 1;
        }
        if let Submessage::Data(data) = &sub.submessage {
            check_discovery(data, tally)
                .map_err(|e| format!("submessage #{i} DATA from {:?}: {e}", data.writer_id))?;
        }
    }
    Ok(())
}

/// SPDP/SEDP DATA with a PL_CDR payload parse into discovery data that re-emits losslessly, or
/// are recognised disposals.
fn check_discovery(data: &Data<'_>, tally: &mut Tally) -> Result<(), String> {
    let builtin = [
        EntityId::SPDP_PARTICIPANT_ANNOUNCER,
        EntityId::SEDP_PUBLICATIONS_ANNOUNCER,
        EntityId::SEDP_SUBSCRIPTIONS_ANNOUNCER,
    ];
    if !builtin.contains(&data.writer_id) {
        return Ok(());
    }
    let mut count = |what: &'static str| *tally.discovery.entry(what).or_default() += 1;
    let key = data.payload.filter(|p| p.is_key).map(|p| p.bytes);
    if let Some(d) =
        disposal(data.inline_qos.as_ref(), key).map_err(|e| format!("disposal: {e}"))?
    {
        if d.guid.prefix == GuidPrefix::UNKNOWN {
            return Err(format!("disposal of an unknown GUID: {d:?}"));
        }
        count(if key.is_some() {
            "disposal (key payload)"
        } else {
            "disposal (inline QoS)"
        });
        return Ok(());
    }
    let Some(payload) = &data.payload else {
        count("no payload");
        return Ok(());
    };
    let (encapsulation, _) =
        split_payload(payload.bytes).map_err(|e| format!("encapsulation: {e}"))?;
    if !encapsulation.kind.is_parameter_list() || payload.is_key {
        count("not a PL_CDR sample");
        return Ok(());
    }
    macro_rules! round_trip {
        ($ty:ident) => {{
            let p = $ty::from_payload(payload.bytes)
                .map_err(|e| format!("{}: {e}", stringify!($ty)))?;
            let emitted = p
                .to_payload()
                .map_err(|e| format!("{} emit: {e}", stringify!($ty)))?;
            let again = $ty::from_payload(&emitted)
                .map_err(|e| format!("{} re-parse: {e}", stringify!($ty)))?;
            if again != p {
                return Err(format!(
                    "{} emit + re-parse differs:\n  {p:?}\n  {again:?}",
                    stringify!($ty)
                ));
            }
            count(stringify!($ty));
        }};
    }
    if data.writer_id == EntityId::SPDP_PARTICIPANT_ANNOUNCER {
        round_trip!(ParticipantData);
    } else if data.writer_id == EntityId::SEDP_PUBLICATIONS_ANNOUNCER {
        round_trip!(WriterData);
    } else {
        round_trip!(ReaderData);
    }
    Ok(())
}

#[test]
#[ignore = "needs the reference folder ../shared or $AMLIP_SHARED: run with cargo test -- --include-ignored"]
fn every_rtps_message_of_every_capture_parses_and_reemits_exactly() {
    let shared = support::shared_dir();
    let mut total = Tally::default();
    let mut failures = Vec::new();
    let scans = support::scan_all_captures(&shared);
    assert!(!scans.is_empty(), "no capture in {}", shared.display());
    for scan in &scans {
        let mut tally = Tally::default();
        for d in &scan.rtps {
            if let Err(e) = check_message(&d.bytes, &mut tally) {
                failures.push(format!("{} frame {}: {e}", scan.name, d.frame));
            }
        }
        tally.print(&scan.name);
        println!(
            "    frames {}, non-RTPS UDP {}, not UDP {}, IP fragments {}",
            scan.frames, scan.non_rtps_udp, scan.not_udp, scan.ip_fragments
        );
        if scan.ip_fragments > 0 {
            println!(
                "    WARNING: {} IP fragments not reassembled",
                scan.ip_fragments
            );
        }
        total.add(&tally);
    }
    total.print(&format!("TOTAL over {} captures", scans.len()));
    for f in failures.iter().take(20) {
        println!("FAILED: {f}");
    }
    assert!(
        failures.is_empty(),
        "{} message(s) failed, first: {}",
        failures.len(),
        failures[0]
    );
}

/// Hex name for a seed file (content hash, so duplicates collapse).
fn seed_name(bytes: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    format!("capture-{:016x}", h.finish())
}

/// Not a check but a tool run by `fuzz/seed.sh`: does nothing unless `AMLIP_FUZZ_SEED_DIR` is
/// set (then it needs the reference folder). Not `#[ignore]`d, so that `--include-ignored` runs
/// never write seed files.
#[test]
fn writes_fuzz_seed_corpora() {
    let Some(dir) = std::env::var_os("AMLIP_FUZZ_SEED_DIR") else {
        println!("nothing to do: AMLIP_FUZZ_SEED_DIR not set (fuzz/seed.sh sets it)");
        return;
    };
    let shared = support::shared_dir();
    let dir = std::path::PathBuf::from(dir);
    let write = |target: &str, bytes: &[u8]| {
        let d = dir.join(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(seed_name(bytes)), bytes).unwrap();
    };
    for scan in support::scan_all_captures(&shared) {
        for d in &scan.rtps {
            write("message_parse", &d.bytes);
            write("message_roundtrip", &d.bytes);
            let Ok(message) = Message::parse(&d.bytes) else {
                continue;
            };
            for sub in message.submessages().flatten() {
                let Submessage::Data(data) = &sub.submessage else {
                    continue;
                };
                let Some(payload) = &data.payload else {
                    continue;
                };
                if data.writer_id.kind.is_builtin() {
                    write("discovery_data", payload.bytes);
                } else if let Some(body) = payload.bytes.get(4..) {
                    write("cdr_deserialize", body);
                }
            }
        }
    }
}
