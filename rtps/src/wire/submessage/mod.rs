//! RTPS submessages (RTPS 2.5 §8.3.7, §9.4.5): the open [`SubmessageKind`] code point, one
//! representation per kind and the [`Submessage`] enum that parses and emits them.
//!
//! Every submessage starts with a 4-octet header: `submessageId: u8`, `flags: u8` (bit 0 is the
//! E flag: the byte order of the rest of the submessage) and `octetsToNextHeader: u16` in that
//! byte order. The body is parsed through a [`Reader`] of exactly the body's length, so it can
//! never read into the next submessage. Bytes left after the fields a kind defines are ignored
//! (RTPS 2.5 §8.3.4.1: a receiver skips what a later minor version may have appended); the
//! exact wire bytes stay available through [`SubmessageRef`](super::message::SubmessageRef).
//!
//! `emit` sets the E flag from the [`Writer`]'s byte order, writes the kind's flags, the body and
//! patches `octetsToNextHeader`; DATA and DATA_FRAG are padded with zeros to a multiple of 4 so
//! that the next submessage is aligned (RTPS 2.5 §9.4.1). [`Submessage::Unknown`] is re-emitted
//! verbatim with its own flags (its body cannot be byte-swapped).
//!
//! # No-panic contract
//! Parsing never panics on any input, allocates at most the capped locator lists of INFO_REPLY
//! (32 + 32 locators), and emitting never writes past the caller's buffer.

mod ack;
mod data;
mod info;

pub use ack::{AckNack, Gap, Heartbeat, HeartbeatFrag, NackFrag};
pub use data::{Data, DataFrag, SerializedPayload};
pub use info::{
    InfoDestination, InfoReply, InfoReplyIp4, InfoSource, InfoTimestamp, LocatorUdpV4, Pad,
    MAX_REPLY_LOCATORS,
};

use super::cursor::{Endianness, Reader, Writer};
use super::error::{EmitError, ParseError};

/// The submessage header length: id, flags, `octetsToNextHeader` (RTPS 2.5 §9.4.5.1).
pub const SUBMESSAGE_HEADER_LEN: usize = 4;

/// A submessage id (RTPS 2.5 §9.4.5.1.1, Table 9.10); an open newtype: unknown and vendor ids
/// (>= 0x80) are kept and skipped by length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubmessageKind(pub u8);

impl SubmessageKind {
    /// `PAD` (RTPS 2.5 §8.3.7.11).
    pub const PAD: SubmessageKind = SubmessageKind(0x01);
    /// `ACKNACK` (RTPS 2.5 §8.3.7.1).
    pub const ACKNACK: SubmessageKind = SubmessageKind(0x06);
    /// `HEARTBEAT` (RTPS 2.5 §8.3.7.5).
    pub const HEARTBEAT: SubmessageKind = SubmessageKind(0x07);
    /// `GAP` (RTPS 2.5 §8.3.7.4).
    pub const GAP: SubmessageKind = SubmessageKind(0x08);
    /// `INFO_TS` (RTPS 2.5 §8.3.7.9).
    pub const INFO_TS: SubmessageKind = SubmessageKind(0x09);
    /// `INFO_SRC` (RTPS 2.5 §8.3.7.9).
    pub const INFO_SRC: SubmessageKind = SubmessageKind(0x0c);
    /// `INFO_REPLY_IP4` (RTPS 2.5 §9.4.5.13).
    pub const INFO_REPLY_IP4: SubmessageKind = SubmessageKind(0x0d);
    /// `INFO_DST` (RTPS 2.5 §8.3.7.7).
    pub const INFO_DST: SubmessageKind = SubmessageKind(0x0e);
    /// `INFO_REPLY` (RTPS 2.5 §8.3.7.8).
    pub const INFO_REPLY: SubmessageKind = SubmessageKind(0x0f);
    /// `NACK_FRAG` (RTPS 2.5 §8.3.7.10).
    pub const NACK_FRAG: SubmessageKind = SubmessageKind(0x12);
    /// `HEARTBEAT_FRAG` (RTPS 2.5 §8.3.7.6).
    pub const HEARTBEAT_FRAG: SubmessageKind = SubmessageKind(0x13);
    /// `DATA` (RTPS 2.5 §8.3.7.2).
    pub const DATA: SubmessageKind = SubmessageKind(0x15);
    /// `DATA_FRAG` (RTPS 2.5 §8.3.7.3).
    pub const DATA_FRAG: SubmessageKind = SubmessageKind(0x16);

    /// True for vendor-specific ids (0x80..=0xff, RTPS 2.5 §9.4.5.1.1).
    pub fn is_vendor_specific(self) -> bool {
        self.0 >= 0x80
    }

    /// Whether `octetsToNextHeader == 0` means "up to the end of the message" for this kind
    /// (every kind but PAD and INFO_TS, RTPS 2.5 §9.4.5.1.3).
    pub fn zero_length_extends_to_end(self) -> bool {
        self != Self::PAD && self != Self::INFO_TS
    }
}

/// One parsed submessage (RTPS 2.5 §8.3.7). Bulk bytes borrow from the datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submessage<'a> {
    /// `PAD`.
    Pad(Pad),
    /// `ACKNACK`.
    AckNack(AckNack),
    /// `HEARTBEAT`.
    Heartbeat(Heartbeat),
    /// `GAP`.
    Gap(Gap),
    /// `INFO_TS`.
    InfoTimestamp(InfoTimestamp),
    /// `INFO_SRC`.
    InfoSource(InfoSource),
    /// `INFO_REPLY_IP4`.
    InfoReplyIp4(InfoReplyIp4),
    /// `INFO_DST`.
    InfoDestination(InfoDestination),
    /// `INFO_REPLY`.
    InfoReply(InfoReply),
    /// `NACK_FRAG`.
    NackFrag(NackFrag),
    /// `HEARTBEAT_FRAG`.
    HeartbeatFrag(HeartbeatFrag),
    /// `DATA`.
    Data(Data<'a>),
    /// `DATA_FRAG`.
    DataFrag(DataFrag<'a>),
    /// Any other id, vendor ids included (RTPS 2.5 §8.3.4.1: skipped by length).
    Unknown {
        /// The submessage id.
        kind: SubmessageKind,
        /// The flags octet as received (E flag included).
        flags: u8,
        /// The body, opaque.
        body: &'a [u8],
    },
}

impl<'a> Submessage<'a> {
    /// Parse the body of a submessage of `kind` whose header carried `flags`; the byte order
    /// comes from the E flag. Trailing bytes after the known fields are ignored.
    pub fn parse(kind: SubmessageKind, flags: u8, body: &'a [u8]) -> Result<Self, ParseError> {
        let r = &mut Reader::new(body, Endianness::from_flag(flags));
        Ok(match kind {
            SubmessageKind::PAD => Submessage::Pad(Pad::parse(r)?),
            SubmessageKind::ACKNACK => Submessage::AckNack(AckNack::parse(flags, r)?),
            SubmessageKind::HEARTBEAT => Submessage::Heartbeat(Heartbeat::parse(flags, r)?),
            SubmessageKind::GAP => Submessage::Gap(Gap::parse(r)?),
            SubmessageKind::INFO_TS => Submessage::InfoTimestamp(InfoTimestamp::parse(flags, r)?),
            SubmessageKind::INFO_SRC => Submessage::InfoSource(InfoSource::parse(r)?),
            SubmessageKind::INFO_REPLY_IP4 => {
                Submessage::InfoReplyIp4(InfoReplyIp4::parse(flags, r)?)
            }
            SubmessageKind::INFO_DST => Submessage::InfoDestination(InfoDestination::parse(r)?),
            SubmessageKind::INFO_REPLY => Submessage::InfoReply(InfoReply::parse(flags, r)?),
            SubmessageKind::NACK_FRAG => Submessage::NackFrag(NackFrag::parse(r)?),
            SubmessageKind::HEARTBEAT_FRAG => Submessage::HeartbeatFrag(HeartbeatFrag::parse(r)?),
            SubmessageKind::DATA => Submessage::Data(Data::parse(flags, r)?),
            SubmessageKind::DATA_FRAG => Submessage::DataFrag(DataFrag::parse(flags, r)?),
            _ => Submessage::Unknown { kind, flags, body },
        })
    }

    /// The submessage id this representation is emitted with.
    pub fn kind(&self) -> SubmessageKind {
        match self {
            Submessage::Pad(_) => SubmessageKind::PAD,
            Submessage::AckNack(_) => SubmessageKind::ACKNACK,
            Submessage::Heartbeat(_) => SubmessageKind::HEARTBEAT,
            Submessage::Gap(_) => SubmessageKind::GAP,
            Submessage::InfoTimestamp(_) => SubmessageKind::INFO_TS,
            Submessage::InfoSource(_) => SubmessageKind::INFO_SRC,
            Submessage::InfoReplyIp4(_) => SubmessageKind::INFO_REPLY_IP4,
            Submessage::InfoDestination(_) => SubmessageKind::INFO_DST,
            Submessage::InfoReply(_) => SubmessageKind::INFO_REPLY,
            Submessage::NackFrag(_) => SubmessageKind::NACK_FRAG,
            Submessage::HeartbeatFrag(_) => SubmessageKind::HEARTBEAT_FRAG,
            Submessage::Data(_) => SubmessageKind::DATA,
            Submessage::DataFrag(_) => SubmessageKind::DATA_FRAG,
            Submessage::Unknown { kind, .. } => *kind,
        }
    }

    /// The kind-specific flags (E flag excluded; for `Unknown`, the flags as received).
    fn flags(&self) -> u8 {
        match self {
            Submessage::Pad(_)
            | Submessage::Gap(_)
            | Submessage::InfoSource(_)
            | Submessage::InfoDestination(_)
            | Submessage::NackFrag(_)
            | Submessage::HeartbeatFrag(_) => 0,
            Submessage::AckNack(s) => s.flags(),
            Submessage::Heartbeat(s) => s.flags(),
            Submessage::InfoTimestamp(s) => s.flags(),
            Submessage::InfoReplyIp4(s) => s.flags(),
            Submessage::InfoReply(s) => s.flags(),
            Submessage::Data(s) => s.flags(),
            Submessage::DataFrag(s) => s.flags(),
            Submessage::Unknown { flags, .. } => *flags,
        }
    }

    /// Octets of the body `emit` writes (padding included).
    fn body_len(&self) -> usize {
        match self {
            Submessage::Pad(s) => usize::from(s.len),
            Submessage::AckNack(s) => s.body_len(),
            Submessage::Heartbeat(_) => Heartbeat::BODY_LEN,
            Submessage::Gap(s) => s.body_len(),
            Submessage::InfoTimestamp(s) => s.body_len(),
            Submessage::InfoSource(_) => InfoSource::BODY_LEN,
            Submessage::InfoReplyIp4(s) => s.body_len(),
            Submessage::InfoDestination(_) => InfoDestination::BODY_LEN,
            Submessage::InfoReply(s) => s.body_len(),
            Submessage::NackFrag(s) => s.body_len(),
            Submessage::HeartbeatFrag(_) => HeartbeatFrag::BODY_LEN,
            Submessage::Data(s) => s.body_len(),
            Submessage::DataFrag(s) => s.body_len(),
            Submessage::Unknown { body, .. } => body.len(),
        }
    }

    /// Octets [`emit`](Self::emit) writes: the 4-octet header plus the body.
    pub fn wire_len(&self) -> usize {
        SUBMESSAGE_HEADER_LEN + self.body_len()
    }

    /// Emit header and body: E flag from `w.endian()` (an `Unknown` keeps its own flags and byte
    /// order), `octetsToNextHeader` patched after the body. On error the writer may hold part of
    /// the submessage; [`MessageBuilder`](super::message::MessageBuilder) undoes it.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        if self.body_len() > usize::from(u16::MAX) {
            return Err(EmitError::Unrepresentable("octetsToNextHeader"));
        }
        let outer = w.endian();
        let flags = match self {
            Submessage::Unknown { flags, .. } => {
                w.set_endian(Endianness::from_flag(*flags));
                *flags
            }
            _ => (self.flags() & !0x01) | outer.flag(),
        };
        let result = self.emit_inner(w, flags);
        w.set_endian(outer);
        result
    }

    fn emit_inner(&self, w: &mut Writer<'_>, flags: u8) -> Result<(), EmitError> {
        w.u8(self.kind().0, "submessage id")?;
        w.u8(flags, "submessage flags")?;
        let len = w.reserve_u16("octetsToNextHeader")?;
        match self {
            Submessage::Pad(s) => s.emit_body(w)?,
            Submessage::AckNack(s) => s.emit_body(w)?,
            Submessage::Heartbeat(s) => s.emit_body(w)?,
            Submessage::Gap(s) => s.emit_body(w)?,
            Submessage::InfoTimestamp(s) => s.emit_body(w)?,
            Submessage::InfoSource(s) => s.emit_body(w)?,
            Submessage::InfoReplyIp4(s) => s.emit_body(w)?,
            Submessage::InfoDestination(s) => s.emit_body(w)?,
            Submessage::InfoReply(s) => s.emit_body(w)?,
            Submessage::NackFrag(s) => s.emit_body(w)?,
            Submessage::HeartbeatFrag(s) => s.emit_body(w)?,
            Submessage::Data(s) => s.emit_body(w)?,
            Submessage::DataFrag(s) => s.emit_body(w)?,
            Submessage::Unknown { body, .. } => w.put(body, "submessage body")?,
        }
        w.patch_len(len, "octetsToNextHeader")
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers shared by the per-kind tests: golden emission, single-submessage parse,
    //! truncation loops and proptest strategies.

    use super::super::cursor::{Endianness, Writer};
    use super::super::message::SubmessageRef;
    use super::super::sets::{FragmentNumberSet, SequenceNumberSet};
    use super::super::types::{EntityId, GuidPrefix, SequenceNumber};
    use super::*;
    use proptest::prelude::*;

    /// Emit into a 0xa5-filled buffer; check the length and that nothing past it was touched.
    pub fn emit_golden(s: &Submessage<'_>, e: Endianness) -> Vec<u8> {
        let n = s.wire_len();
        let mut buf = vec![0xa5u8; n + 8];
        let mut w = Writer::new(&mut buf, e);
        s.emit(&mut w).unwrap();
        assert_eq!(w.position(), n, "emit wrote a length other than wire_len");
        assert_eq!(w.endian(), e, "emit must restore the writer's byte order");
        assert_eq!(buf[n..], [0xa5; 8], "emit wrote past wire_len");
        buf.truncate(n);
        buf
    }

    /// Parse exactly one submessage that fills `bytes`.
    pub fn parse_one(bytes: &[u8]) -> Result<Submessage<'_>, ParseError> {
        let s = SubmessageRef::parse(bytes)?;
        assert_eq!(s.raw, bytes, "submessage did not fill its bytes");
        Ok(s.submessage)
    }

    /// Every prefix of `bytes` (length field untouched) fails, and every body shorter than
    /// `min_body` (length field patched to match) fails.
    pub fn truncations_fail(bytes: &[u8], min_body: usize) {
        for n in 0..bytes.len() {
            assert!(
                SubmessageRef::parse(&bytes[..n]).is_err(),
                "raw prefix of {n} bytes parsed"
            );
        }
        let e = Endianness::from_flag(bytes[1]);
        for n in 0..min_body {
            let mut b = bytes[..SUBMESSAGE_HEADER_LEN + n].to_vec();
            let len = match e {
                Endianness::Little => (n as u16).to_le_bytes(),
                Endianness::Big => (n as u16).to_be_bytes(),
            };
            b[2..4].copy_from_slice(&len);
            assert!(parse_one(&b).is_err(), "body cut to {n} bytes parsed");
        }
    }

    /// Golden emission in `e`, then parse back to the same representation.
    pub fn golden_round_trip(s: &Submessage<'_>, e: Endianness, expected: &[u8]) {
        let bytes = emit_golden(s, e);
        assert_eq!(bytes, expected, "golden bytes differ");
        assert_eq!(parse_one(&bytes).as_ref(), Ok(s));
    }

    pub fn endian() -> impl Strategy<Value = Endianness> {
        prop_oneof![Just(Endianness::Little), Just(Endianness::Big)]
    }

    pub fn entity_id() -> impl Strategy<Value = EntityId> {
        any::<[u8; 4]>().prop_map(EntityId::from_bytes)
    }

    pub fn guid_prefix() -> impl Strategy<Value = GuidPrefix> {
        any::<[u8; 12]>().prop_map(GuidPrefix)
    }

    pub fn sn() -> impl Strategy<Value = SequenceNumber> {
        any::<i64>().prop_map(SequenceNumber)
    }

    pub fn sn_set() -> impl Strategy<Value = SequenceNumberSet> {
        (
            0i64..=i64::MAX - 256,
            proptest::collection::vec(0i64..256, 0..20),
        )
            .prop_map(|(base, m)| {
                let mut s = SequenceNumberSet::new(SequenceNumber(base));
                for i in m {
                    s.insert(SequenceNumber(base + i));
                }
                s
            })
    }

    pub fn fragment_set() -> impl Strategy<Value = FragmentNumberSet> {
        (
            0u32..=u32::MAX - 256,
            proptest::collection::vec(0u32..256, 0..20),
        )
            .prop_map(|(base, m)| {
                let mut s = FragmentNumberSet::new(base);
                for i in m {
                    s.insert(base + i);
                }
                s
            })
    }

    /// Emit in `e` and parse back; must be equal.
    pub fn round_trip(s: &Submessage<'_>, e: Endianness) -> Result<(), TestCaseError> {
        let bytes = emit_golden(s, e);
        prop_assert_eq!(bytes.len() % 4, 0, "emitted submessage is not aligned");
        let parsed = parse_one(&bytes);
        prop_assert_eq!(parsed.as_ref(), Ok(s));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    #[test]
    fn unknown_and_vendor_kinds_are_kept_verbatim() {
        let body = [1u8, 2, 3, 4, 5];
        let s = Submessage::parse(SubmessageKind(0x80), 0x00, &body).unwrap();
        assert_eq!(
            s,
            Submessage::Unknown {
                kind: SubmessageKind(0x80),
                flags: 0,
                body: &body
            }
        );
        assert!(s.kind().is_vendor_specific());
        // Emitted with its own (big-endian) byte order even into a little-endian writer.
        let bytes = emit_golden(&s, Endianness::Little);
        assert_eq!(bytes, [0x80, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5]);
        assert_eq!(parse_one(&bytes), Ok(s));
    }

    #[test]
    fn refuses_bodies_over_64k() {
        let body = vec![0u8; 70_000];
        let s = Submessage::Unknown {
            kind: SubmessageKind(0x99),
            flags: 1,
            body: &body,
        };
        let mut buf = vec![0xa5u8; 80_000];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        assert_eq!(
            s.emit(&mut w),
            Err(EmitError::Unrepresentable("octetsToNextHeader"))
        );
        assert_eq!(w.position(), 0);
    }

    #[test]
    fn only_pad_and_info_ts_keep_a_zero_length() {
        assert!(!SubmessageKind::PAD.zero_length_extends_to_end());
        assert!(!SubmessageKind::INFO_TS.zero_length_extends_to_end());
        assert!(SubmessageKind::DATA.zero_length_extends_to_end());
        assert!(SubmessageKind(0x80).zero_length_extends_to_end());
    }
}
