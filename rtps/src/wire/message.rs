//! RTPS messages (RTPS 2.5 §8.3.3, §9.4): a [`Header`] followed by submessages, parsed lazily
//! by [`Message::submessages`] and built by [`MessageBuilder`].
//!
//! The iterator reads one submessage header at a time and hands its body, and nothing more, to
//! the kind's parser. `octetsToNextHeader == 0` extends the submessage to the end of the message
//! (except for PAD and INFO_TS, RTPS 2.5 §9.4.5.1.3); a length that runs past the message is an
//! error. The iterator is fused: after the first `Err` it yields `None`, so a receiver drops the
//! rest of a corrupt datagram (architecture.md rule 6).
//!
//! Each item is a [`SubmessageRef`] that keeps the submessage's wire bytes, so it can be
//! forwarded byte for byte with [`SubmessageRef::emit_as_received`].
//!
//! # No-panic contract
//! Parsing and iterating never panic and never allocate; [`MessageBuilder`] never writes past
//! its buffer and leaves nothing of a submessage it refused.

use super::cursor::{Endianness, Reader, Writer};
use super::error::{EmitError, ParseError};
use super::header::Header;
use super::submessage::{Submessage, SubmessageKind, SUBMESSAGE_HEADER_LEN};

/// A parsed RTPS message: the checked header and the unparsed submessages (RTPS 2.5 §8.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The message header.
    pub header: Header,
    body: &'a [u8],
}

impl<'a> Message<'a> {
    /// Check the header of a datagram; submessages are parsed by [`Message::submessages`].
    pub fn parse(datagram: &'a [u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(datagram, Endianness::Big);
        let header = Header::parse(&mut r)?;
        Ok(Message {
            header,
            body: r.take_rest(),
        })
    }

    /// The octets after the header.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// Iterate the submessages in wire order; fused after the first error.
    pub fn submessages(&self) -> SubmessageIter<'a> {
        SubmessageIter {
            rest: self.body,
            failed: false,
        }
    }
}

/// Iterator over the submessages of a [`Message`] (RTPS 2.5 §8.3.4).
#[derive(Debug, Clone)]
pub struct SubmessageIter<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Iterator for SubmessageIter<'a> {
    type Item = Result<SubmessageRef<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match SubmessageRef::parse(self.rest) {
            Ok(s) => {
                self.rest = self.rest.get(s.raw.len()..).unwrap_or_default();
                Some(Ok(s))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for SubmessageIter<'_> {}

/// One submessage as received: its wire bytes, byte order and parsed representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmessageRef<'a> {
    /// This submessage as on the wire, header included.
    pub raw: &'a [u8],
    /// Its byte order (the E flag).
    pub endian: Endianness,
    /// Its representation.
    pub submessage: Submessage<'a>,
}

impl<'a> SubmessageRef<'a> {
    /// Parse the first submessage of `buf` (RTPS 2.5 §9.4.5.1); `raw.len()` is what it used.
    pub fn parse(buf: &'a [u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(buf, Endianness::Big);
        let kind = SubmessageKind(r.u8("submessage id")?);
        let flags = r.u8("submessage flags")?;
        let endian = Endianness::from_flag(flags);
        r.set_endian(endian);
        let len = r.u16("octetsToNextHeader")?;
        let body = if len == 0 && kind.zero_length_extends_to_end() {
            r.take_rest()
        } else {
            r.take(usize::from(len), "submessage body")?
        };
        let raw = buf
            .get(..SUBMESSAGE_HEADER_LEN + body.len())
            .ok_or(ParseError::Truncated("submessage"))?;
        let submessage = Submessage::parse(kind, flags, body)?;
        Ok(SubmessageRef {
            raw,
            endian,
            submessage,
        })
    }

    /// The flags octet as received (E flag included).
    pub fn flags(&self) -> u8 {
        self.raw.get(1).copied().unwrap_or_default()
    }

    /// Write the submessage exactly as it was received.
    pub fn emit_as_received(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.put(self.raw, "submessage")
    }
}

/// Packs submessages into one datagram behind a header, up to the buffer's length
/// (RTPS 2.5 §8.3.3). A submessage that does not fit is not written at all.
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    w: Writer<'b>,
}

impl<'b> MessageBuilder<'b> {
    /// Start a little-endian message in `buf` (its length is the datagram size limit).
    pub fn new(buf: &'b mut [u8], header: &Header) -> Result<Self, EmitError> {
        Self::with_endian(buf, header, Endianness::Little)
    }

    /// Start a message whose submessages are emitted in `endian` order.
    pub fn with_endian(
        buf: &'b mut [u8],
        header: &Header,
        endian: Endianness,
    ) -> Result<Self, EmitError> {
        let mut w = Writer::new(buf, endian);
        header.emit(&mut w)?;
        Ok(MessageBuilder { w })
    }

    /// Append a submessage; on any error (`BufferTooSmall` when it does not fit) nothing of it
    /// stays written.
    pub fn push(&mut self, s: &Submessage<'_>) -> Result<(), EmitError> {
        if s.wire_len() > self.w.remaining() {
            return Err(EmitError::BufferTooSmall("submessage"));
        }
        let at = self.w.position();
        s.emit(&mut self.w).inspect_err(|_| self.w.truncate(at))
    }

    /// Append a received submessage byte for byte (for forwarding); all or nothing.
    pub fn push_as_received(&mut self, s: &SubmessageRef<'_>) -> Result<(), EmitError> {
        s.emit_as_received(&mut self.w)
    }

    /// True while no submessage has been pushed.
    pub fn is_empty(&self) -> bool {
        self.w.position() <= Header::LEN
    }

    /// Octets written so far, header included.
    pub fn len(&self) -> usize {
        self.w.position()
    }

    /// Room left for submessages.
    pub fn remaining(&self) -> usize {
        self.w.remaining()
    }

    /// The datagram written so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.w.written()
    }

    /// Finish the message; returns the datagram length.
    pub fn finish(self) -> usize {
        self.w.position()
    }
}

#[cfg(test)]
mod tests {
    use super::super::sets::SequenceNumberSet;
    use super::super::submessage::{
        AckNack, Data, DataFrag, Heartbeat, InfoDestination, InfoTimestamp, Pad, SerializedPayload,
    };
    use super::super::types::{
        EntityId, GuidPrefix, ProtocolVersion, SequenceNumber, Time, VendorId,
    };
    use super::*;
    use proptest::prelude::*;

    const PREFIX: GuidPrefix = GuidPrefix([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const W: EntityId = EntityId::from_u32(0x0000_0102);

    fn heartbeat(count: u32) -> Submessage<'static> {
        Submessage::Heartbeat(Heartbeat {
            reader_id: EntityId::UNKNOWN,
            writer_id: W,
            first_sn: SequenceNumber(1),
            last_sn: SequenceNumber(2),
            count,
            final_flag: false,
            liveliness_flag: false,
        })
    }

    fn info_dst() -> Submessage<'static> {
        Submessage::InfoDestination(InfoDestination {
            guid_prefix: GuidPrefix([0xaa; 12]),
        })
    }

    /// Kinds, and `emit_as_received` of every submessage reproduces the body exactly.
    fn walk(datagram: &[u8]) -> Vec<SubmessageKind> {
        let m = Message::parse(datagram).unwrap();
        let mut out = vec![0u8; datagram.len()];
        let mut w = Writer::new(&mut out, Endianness::Little);
        let mut kinds = Vec::new();
        for s in m.submessages() {
            let s = s.unwrap();
            s.emit_as_received(&mut w).unwrap();
            kinds.push(s.submessage.kind());
        }
        assert_eq!(
            w.written(),
            m.body(),
            "emit_as_received is not byte-identical"
        );
        kinds
    }

    #[test]
    fn builder_emits_golden_bytes_and_nothing_more() {
        let mut buf = [0xa5u8; 100];
        let mut b = MessageBuilder::new(&mut buf, &Header::new(PREFIX)).unwrap();
        assert!(b.is_empty());
        b.push(&info_dst()).unwrap();
        b.push(&heartbeat(1)).unwrap();
        assert!(!b.is_empty());
        assert_eq!(b.len(), 20 + 16 + 32);
        let n = b.finish();
        #[rustfmt::skip]
        let golden: [u8; 68] = [
            b'R', b'T', b'P', b'S', 2, 4, 0x01, 0xa7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
            0x0e, 0x01, 12, 0, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
            0x07, 0x01, 28, 0, 0, 0, 0, 0, 0, 0, 1, 2,
            0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0,
        ];
        assert_eq!(n, golden.len());
        assert_eq!(buf[..n], golden);
        assert!(buf[n..].iter().all(|b| *b == 0xa5));
        let m = Message::parse(&golden).unwrap();
        assert_eq!(m.header, Header::new(PREFIX));
        let subs: Vec<_> = m.submessages().map(|s| s.unwrap().submessage).collect();
        assert_eq!(subs, [info_dst(), heartbeat(1)]);
    }

    #[test]
    fn builder_undoes_a_submessage_that_does_not_fit() {
        let mut buf = [0xa5u8; 20 + 32 + 20];
        let mut b = MessageBuilder::new(&mut buf, &Header::new(PREFIX)).unwrap();
        b.push(&heartbeat(1)).unwrap();
        assert_eq!(
            b.push(&heartbeat(2)),
            Err(EmitError::BufferTooSmall("submessage"))
        );
        assert_eq!(b.len(), 52);
        b.push(&info_dst()).unwrap();
        assert_eq!(b.remaining(), 4);
        let n = b.finish();
        assert_eq!(n, 68);
        assert_eq!(buf[68..], [0xa5; 4]);
    }

    #[test]
    fn builder_undoes_a_submessage_that_fails_to_emit() {
        let mut buf = [0u8; 200];
        let mut b = MessageBuilder::new(&mut buf, &Header::new(PREFIX)).unwrap();
        let bad = Submessage::DataFrag(DataFrag {
            reader_id: EntityId::UNKNOWN,
            writer_id: W,
            writer_sn: SequenceNumber(1),
            fragment_starting_num: 0,
            fragments_in_submessage: 1,
            fragment_size: 4,
            sample_size: 4,
            inline_qos: None,
            is_key: false,
            fragments: &[1, 2, 3, 4],
        });
        assert!(b.push(&bad).is_err());
        assert!(b.is_empty());
        assert_eq!(b.len(), Header::LEN);
    }

    #[test]
    fn builder_refuses_a_buffer_smaller_than_the_header() {
        let mut buf = [0u8; 19];
        assert!(MessageBuilder::new(&mut buf, &Header::new(PREFIX)).is_err());
    }

    fn message(subs: &[&[u8]]) -> Vec<u8> {
        let mut m = vec![0u8; 20];
        Header::new(PREFIX)
            .emit(&mut Writer::new(&mut m, Endianness::Big))
            .unwrap();
        for s in subs {
            m.extend_from_slice(s);
        }
        m
    }

    #[test]
    fn a_header_only_message_has_no_submessages() {
        let m = message(&[]);
        assert_eq!(Message::parse(&m).unwrap().submessages().count(), 0);
        for n in 0..m.len() {
            assert!(Message::parse(&m[..n]).is_err(), "prefix {n} parsed");
        }
    }

    #[test]
    fn zero_length_extends_to_the_end_except_for_pad_and_info_ts() {
        #[rustfmt::skip]
        let data = [
            0x15, 0x05, 0, 0, 0, 0, 16, 0,
            0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0, 0, 0,
            0, 1, 0, 0, 1, 2, 3,
        ];
        let m = message(&[&[0x01, 0x01, 0, 0], &[0x09, 0x03, 0, 0], &data]);
        assert_eq!(
            walk(&m),
            [
                SubmessageKind::PAD,
                SubmessageKind::INFO_TS,
                SubmessageKind::DATA
            ]
        );
        let msg = Message::parse(&m).unwrap();
        let subs: Vec<_> = msg.submessages().map(|s| s.unwrap()).collect();
        assert_eq!(subs[0].submessage, Submessage::Pad(Pad { len: 0 }));
        assert_eq!(
            subs[1].submessage,
            Submessage::InfoTimestamp(InfoTimestamp { timestamp: None })
        );
        let Submessage::Data(d) = &subs[2].submessage else {
            panic!("not data")
        };
        assert_eq!(
            d.payload,
            Some(SerializedPayload {
                bytes: &[0, 1, 0, 0, 1, 2, 3],
                is_key: false
            })
        );
        assert_eq!(subs[2].raw, &data[..]);
        // An INFO_TS with a zero length and a timestamp expected is truncated, not extended.
        let m = message(&[&[0x09, 0x01, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]]);
        let r: Vec<_> = Message::parse(&m).unwrap().submessages().collect();
        assert_eq!(r, [Err(ParseError::Truncated("time seconds"))]);
    }

    #[test]
    fn rejects_a_submessage_longer_than_the_message_and_stops_there() {
        let hb = heartbeat(1);
        let mut b = [0u8; 32];
        hb.emit(&mut Writer::new(&mut b, Endianness::Little))
            .unwrap();
        let mut long = b;
        long[2] = 100;
        let m = message(&[&b, &long, &b]);
        let mut it = Message::parse(&m).unwrap().submessages();
        assert!(matches!(it.next(), Some(Ok(_))));
        assert_eq!(
            it.next(),
            Some(Err(ParseError::Truncated("submessage body")))
        );
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
    }

    #[test]
    fn a_body_cannot_read_into_the_next_submessage() {
        let mut b = [0u8; 32];
        heartbeat(1)
            .emit(&mut Writer::new(&mut b, Endianness::Big))
            .unwrap();
        let mut short = b;
        short[3] = 8;
        let m = message(&[&short[..12], &b]);
        let r: Vec<_> = Message::parse(&m).unwrap().submessages().collect();
        assert_eq!(r, [Err(ParseError::Truncated("sequence number high"))]);
    }

    #[test]
    fn a_partial_submessage_header_is_an_error() {
        let m = message(&[&[0x0e, 0x01, 0]]);
        let r: Vec<_> = Message::parse(&m).unwrap().submessages().collect();
        assert_eq!(r, [Err(ParseError::Truncated("octetsToNextHeader"))]);
    }

    #[test]
    fn unknown_vendor_submessages_and_odd_encodings_re_emit_byte_for_byte() {
        let mut hb = [0u8; 32];
        heartbeat(7)
            .emit(&mut Writer::new(&mut hb, Endianness::Little))
            .unwrap();
        hb[1] |= 0x80; // a flag bit we do not know
        #[rustfmt::skip]
        let data = [
            0x15, 0x00, 0, 28, 0xab, 0xcd, 0, 20, // extraFlags set, octetsToInlineQos 20
            0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1,
            0xee, 0xee, 0xee, 0xee, // skipped
            0, 0, 0, 0, // no payload (no D flag): ignored
        ];
        let vendor = [0x80, 0x01, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        let m = message(&[&hb, &data, &vendor, &[0x33, 0x00, 0, 0, 9, 9]]);
        assert_eq!(
            walk(&m),
            [
                SubmessageKind::HEARTBEAT,
                SubmessageKind::DATA,
                SubmessageKind(0x80),
                SubmessageKind(0x33)
            ]
        );
    }

    fn testdata(name: &str) -> Vec<u8> {
        let path = format!("{}/src/wire/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Every submessage re-emitted from its representation parses back to an equal one.
    fn reemit_all(datagram: &[u8]) {
        for s in Message::parse(datagram).unwrap().submessages() {
            let s = s.unwrap();
            let mut buf = vec![0u8; s.submessage.wire_len()];
            s.submessage
                .emit(&mut Writer::new(&mut buf, s.endian))
                .unwrap();
            assert_eq!(SubmessageRef::parse(&buf).unwrap().submessage, s.submessage);
        }
    }

    /// Every prefix of a datagram fails somewhere, unless it ends on a submessage boundary.
    fn truncations_fail(datagram: &[u8]) {
        let mut boundaries = vec![Header::LEN];
        for s in Message::parse(datagram).unwrap().submessages() {
            let last = boundaries.last().copied().unwrap_or_default();
            boundaries.push(last + s.unwrap().raw.len());
        }
        for n in 0..datagram.len() {
            let ok = Message::parse(&datagram[..n])
                .map(|m| m.submessages().all(|s| s.is_ok()))
                .unwrap_or(false);
            assert_eq!(ok, boundaries.contains(&n), "prefix of {n} bytes");
        }
    }

    #[test]
    fn parses_a_fast_dds_spdp_datagram_with_its_vendor_submessage() {
        let d = testdata("fastdds-data-p-vendor80.bin");
        let m = Message::parse(&d).unwrap();
        assert_eq!(m.header.version, ProtocolVersion { major: 2, minor: 3 });
        assert_eq!(m.header.vendor_id, VendorId::EPROSIMA);
        assert_eq!(
            walk(&d),
            [
                SubmessageKind::INFO_TS,
                SubmessageKind::DATA,
                SubmessageKind(0x80)
            ]
        );
        let subs: Vec<_> = m.submessages().map(|s| s.unwrap()).collect();
        let Submessage::Data(data) = &subs[1].submessage else {
            panic!("not data")
        };
        assert_eq!(data.writer_id, EntityId::SPDP_PARTICIPANT_ANNOUNCER);
        assert_eq!(data.writer_sn, SequenceNumber(1));
        let payload = data.payload.unwrap();
        assert!(!payload.is_key);
        assert_eq!(payload.bytes[..2], [0x00, 0x03], "PL_CDR_LE");
        assert!(data.inline_qos.is_none());
        let Submessage::Unknown { body, .. } = subs[2].submessage else {
            panic!("not unknown")
        };
        assert_eq!(body.len(), 56);
        reemit_all(&d);
        truncations_fail(&d);
        crate::fuzzing::message_roundtrip(&d);
    }

    #[test]
    fn parses_a_cyclone_datagram_with_several_heartbeats() {
        let d = testdata("cyclone-heartbeats.bin");
        let m = Message::parse(&d).unwrap();
        assert_eq!(m.header.version, ProtocolVersion { major: 2, minor: 1 });
        assert_eq!(m.header.vendor_id, VendorId::ECLIPSE);
        let kinds = walk(&d);
        assert_eq!(kinds[0], SubmessageKind::INFO_DST);
        assert_eq!(kinds[1..], [SubmessageKind::HEARTBEAT; 5]);
        let writers: Vec<_> = m
            .submessages()
            .filter_map(|s| match s.unwrap().submessage {
                Submessage::Heartbeat(h) => Some(h.writer_id),
                _ => None,
            })
            .collect();
        assert_eq!(writers[0], EntityId::SEDP_PUBLICATIONS_ANNOUNCER);
        assert_eq!(writers[1], EntityId::SEDP_SUBSCRIPTIONS_ANNOUNCER);
        reemit_all(&d);
        truncations_fail(&d);
        crate::fuzzing::message_roundtrip(&d);
    }

    #[test]
    fn parses_a_fast_dds_data_frag_datagram() {
        let d = testdata("fastdds-data-frag.bin");
        assert_eq!(
            walk(&d),
            [
                SubmessageKind::INFO_DST,
                SubmessageKind::INFO_TS,
                SubmessageKind::DATA_FRAG,
                SubmessageKind(0x80)
            ]
        );
        let m = Message::parse(&d).unwrap();
        let f = m
            .submessages()
            .find_map(|s| match s.unwrap().submessage {
                Submessage::DataFrag(f) => Some(f),
                _ => None,
            })
            .unwrap();
        assert_eq!(f.fragment_starting_num, 4);
        assert_eq!(f.fragments_in_submessage, 1);
        assert_eq!(f.fragment_size, 65324);
        assert_eq!(f.sample_size, 200_013);
        // The last fragment: 200013 - 3 * 65324 octets (the 3 padding octets are cut off).
        assert_eq!(f.fragments.len(), 4041);
        reemit_all(&d);
        truncations_fail(&d);
        crate::fuzzing::message_roundtrip(&d);
    }

    fn submessage() -> impl Strategy<Value = Submessage<'static>> {
        prop_oneof![
            any::<u32>().prop_map(heartbeat),
            Just(info_dst()),
            (0u16..64).prop_map(|n| Submessage::Pad(Pad { len: n * 4 })),
            (any::<u32>(), 0i64..1000).prop_map(|(count, base)| {
                let mut set = SequenceNumberSet::new(SequenceNumber(base));
                set.insert(SequenceNumber(base + i64::from(count % 256)));
                Submessage::AckNack(AckNack {
                    reader_id: EntityId::UNKNOWN,
                    writer_id: W,
                    reader_sn_state: set,
                    count,
                    final_flag: true,
                })
            }),
            (0usize..400).prop_map(|n| {
                const BYTES: [u8; 400] = [7; 400];
                Submessage::Data(Data {
                    reader_id: EntityId::UNKNOWN,
                    writer_id: W,
                    writer_sn: SequenceNumber(n as i64),
                    inline_qos: None,
                    payload: Some(SerializedPayload {
                        bytes: &BYTES[..n & !3],
                        is_key: false,
                    }),
                })
            }),
            any::<(i32, u32)>().prop_map(|(seconds, fraction)| {
                Submessage::InfoTimestamp(InfoTimestamp {
                    timestamp: Some(Time { seconds, fraction }),
                })
            }),
        ]
    }

    proptest! {
        #[test]
        fn builder_packs_until_full_and_parses_back(
            subs in proptest::collection::vec(submessage(), 0..20),
            size in 20usize..1500,
            big_endian: bool,
        ) {
            let e = if big_endian { Endianness::Big } else { Endianness::Little };
            let mut buf = vec![0xa5u8; size];
            let mut b = MessageBuilder::with_endian(&mut buf, &Header::new(PREFIX), e).unwrap();
            let mut packed = Vec::new();
            for s in &subs {
                let (before, room) = (b.len(), b.remaining());
                match b.push(s) {
                    Ok(()) => {
                        prop_assert_eq!(b.len(), before + s.wire_len());
                        packed.push(s.clone());
                    }
                    Err(e) => {
                        prop_assert_eq!(e, EmitError::BufferTooSmall("submessage"));
                        prop_assert!(s.wire_len() > room);
                        prop_assert_eq!(b.len(), before);
                    }
                }
            }
            let n = b.finish();
            prop_assert!(buf[n..].iter().all(|b| *b == 0xa5));
            let m = Message::parse(&buf[..n]).unwrap();
            let got: Vec<_> = m.submessages().map(|s| s.map(|s| (s.endian, s.submessage))).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(got.len(), packed.len());
            for ((endian, g), p) in got.into_iter().zip(packed) {
                prop_assert_eq!(endian, e);
                prop_assert_eq!(g, p);
            }
        }

        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let m = message(&[&body]);
            crate::fuzzing::message_parse(&m);
            crate::fuzzing::message_roundtrip(&m);
            let msg = Message::parse(&m).unwrap();
            let items: Vec<_> = msg.submessages().collect();
            // Fused: nothing after the first error.
            if let Some(i) = items.iter().position(|s| s.is_err()) {
                prop_assert_eq!(i, items.len() - 1);
            }
        }

        #[test]
        fn mutated_real_datagrams_round_trip_or_fail_cleanly(
            which in 0usize..3,
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let name = ["fastdds-data-p-vendor80.bin", "cyclone-heartbeats.bin", "fastdds-data-frag.bin"][which];
            let mut d = testdata(name);
            for (at, v) in flips {
                let i = at.index(d.len());
                d[i] = v;
            }
            let n = Header::LEN + cut.index(d.len() - Header::LEN + 1);
            crate::fuzzing::message_parse(&d[..n]);
            crate::fuzzing::message_roundtrip(&d[..n]);
        }
    }
}
