//! Helpers shared by the reliability unit tests and the lossy-link tests.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::out::{OutSubmessage, Transmit};
use super::reader::StatefulReader;
use super::writer::StatefulWriter;
use crate::wire::header::Header;
use crate::wire::message::{Message, MessageBuilder};
use crate::wire::sets::{FragmentNumberSet, SequenceNumberSet};
use crate::wire::submessage::{AckNack, Submessage};
use crate::wire::{EntityId, Guid, GuidPrefix, SequenceNumber, Time};

/// The one base instant of a test (tests never read the clock again).
pub(crate) fn t0() -> Instant {
    crate::transport::sim::virtual_epoch()
}

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(crate) const WRITER_PREFIX: GuidPrefix = GuidPrefix([0x01, 0xa7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

pub(crate) fn writer_guid() -> Guid {
    Guid::new(WRITER_PREFIX, EntityId::from_u32(0x0000_0103))
}

pub(crate) fn reader_guid(n: u8) -> Guid {
    Guid::new(
        GuidPrefix([0x01, 0xa7, 0, 0, 0, 0, 0, 0, 0, 0, 1, n]),
        EntityId::from_u32(0x0000_0104),
    )
}

pub(crate) fn sn(n: i64) -> SequenceNumber {
    SequenceNumber(n)
}

pub(crate) fn payload(n: usize, seed: u8) -> Bytes {
    Bytes::from(
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed)
            .collect::<Vec<u8>>(),
    )
}

pub(crate) fn sn_set(base: i64, members: &[i64]) -> SequenceNumberSet {
    let mut s = SequenceNumberSet::new(sn(base));
    for m in members {
        assert!(s.insert(sn(*m)));
    }
    s
}

pub(crate) fn frag_set(base: u32, members: &[u32]) -> FragmentNumberSet {
    let mut s = FragmentNumberSet::new(base);
    for m in members {
        assert!(s.insert(*m));
    }
    s
}

pub(crate) fn acknack(reader: Guid, base: i64, missing: &[i64], count: u32) -> AckNack {
    AckNack {
        reader_id: reader.entity_id,
        writer_id: writer_guid().entity_id,
        reader_sn_state: sn_set(base, missing),
        count,
        final_flag: missing.is_empty(),
    }
}

/// A short text for one submessage, for readable assertions.
pub(crate) fn describe(s: &OutSubmessage) -> String {
    match s {
        OutSubmessage::InfoTimestamp(_) => "TS".into(),
        OutSubmessage::Data(d) => format!("DATA({})", d.writer_sn.0),
        OutSubmessage::DataFrag(d) => format!(
            "FRAG({}:{}+{})",
            d.writer_sn.0, d.fragment_starting_num, d.fragments_in_submessage
        ),
        OutSubmessage::Heartbeat(h) => format!(
            "HB({},{}{})",
            h.first_sn.0,
            h.last_sn.0,
            if h.final_flag { ",F" } else { "" }
        ),
        OutSubmessage::Gap(g) => {
            let extra: Vec<String> = g.gap_list.iter().map(|s| s.0.to_string()).collect();
            if extra.is_empty() {
                format!("GAP({}..{})", g.gap_start.0, g.gap_list.base.0)
            } else {
                format!(
                    "GAP({}..{}+{})",
                    g.gap_start.0,
                    g.gap_list.base.0,
                    extra.join(",")
                )
            }
        }
        OutSubmessage::AckNack(a) => {
            let bits: Vec<String> = a.reader_sn_state.iter().map(|s| s.0.to_string()).collect();
            format!(
                "ACKNACK({};{}{})",
                a.reader_sn_state.base.0,
                bits.join(","),
                if a.final_flag { ",F" } else { "" }
            )
        }
        OutSubmessage::NackFrag(n) => {
            let bits: Vec<String> = n
                .fragment_number_state
                .iter()
                .map(|s| s.to_string())
                .collect();
            format!("NACKFRAG({};{})", n.writer_sn.0, bits.join(","))
        }
        OutSubmessage::HeartbeatFrag(h) => {
            format!("HBFRAG({},{})", h.writer_sn.0, h.last_fragment_num)
        }
    }
}

pub(crate) fn describe_all(t: &Transmit) -> Vec<String> {
    t.submessages.iter().map(describe).collect()
}

/// Every transmit a writer has at `now`, described.
pub(crate) fn drain_writer(w: &mut StatefulWriter, now: Instant) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for _ in 0..10_000 {
        match w.poll_transmit(now) {
            Some(t) => out.push(describe_all(&t)),
            None => return out,
        }
    }
    panic!("writer never stopped transmitting");
}

/// Serialize a transmit into datagrams through the wire codec (header, INFO_DST, then as
/// many submessages as fit in `max_datagram` bytes per datagram).
pub(crate) fn to_datagrams(from: GuidPrefix, t: &Transmit, max_datagram: usize) -> Vec<Vec<u8>> {
    use crate::wire::submessage::InfoDestination;
    let mut out = Vec::new();
    let mut buf = vec![0u8; max_datagram];
    let mut i = 0;
    let header = Header::new(from);
    let dst = Submessage::InfoDestination(InfoDestination {
        guid_prefix: t.destination.guid.prefix,
    });
    while i < t.submessages.len() {
        let mut b = MessageBuilder::new(&mut buf, &header).expect("header fits");
        b.push(&dst).expect("INFO_DST fits");
        let mut pushed = 0;
        while let Some(s) = t.submessages.get(i) {
            let r = s.with_submessage(crate::wire::Endianness::Little, |s| b.push(s));
            if r.is_err() {
                assert!(pushed > 0, "one submessage larger than a datagram");
                break;
            }
            pushed += 1;
            i += 1;
        }
        let len = b.finish();
        out.push(buf[..len].to_vec());
    }
    out
}

/// Feed a datagram to a writer (ACKNACK, NACK_FRAG) the way a message receiver would.
pub(crate) fn deliver_to_writer(w: &mut StatefulWriter, now: Instant, datagram: &[u8]) {
    let msg = Message::parse(datagram).expect("our own datagram parses");
    let prefix = msg.header.guid_prefix;
    for s in msg.submessages() {
        match s.expect("our own submessage parses").submessage {
            Submessage::AckNack(a) => w.handle_acknack(now, prefix, &a),
            Submessage::NackFrag(n) => w.handle_nack_frag(now, prefix, &n),
            _ => {}
        }
    }
}

/// Feed a datagram to a reader (DATA, DATA_FRAG, GAP, HEARTBEAT...), tracking INFO_TS.
pub(crate) fn deliver_to_reader(r: &mut StatefulReader, now: Instant, datagram: &[u8]) {
    let msg = Message::parse(datagram).expect("our own datagram parses");
    let prefix = msg.header.guid_prefix;
    let mut ts: Option<Time> = None;
    for s in msg.submessages() {
        match s.expect("our own submessage parses").submessage {
            Submessage::InfoTimestamp(t) => ts = t.timestamp,
            Submessage::Data(d) => r.handle_data(now, prefix, &d, ts),
            Submessage::DataFrag(d) => r.handle_data_frag(now, prefix, &d, ts),
            Submessage::Heartbeat(h) => r.handle_heartbeat(now, prefix, &h),
            Submessage::HeartbeatFrag(h) => r.handle_heartbeat_frag(now, prefix, &h),
            Submessage::Gap(g) => r.handle_gap(now, prefix, &g),
            _ => {}
        }
    }
}
