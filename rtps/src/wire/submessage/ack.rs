//! Reliability submessages (RTPS 2.5 §8.3.7.1, .4, .5, .6, .10; §9.4.5.2 - §9.4.5.7):
//! ACKNACK, HEARTBEAT, GAP, NACK_FRAG and HEARTBEAT_FRAG. All are fixed layouts in the
//! submessage's byte order; entity ids are octet arrays.

use super::super::cursor::{Reader, Writer};
use super::super::error::{EmitError, ParseError};
use super::super::sets::{FragmentNumberSet, SequenceNumberSet};
use super::super::types::{EntityId, SequenceNumber};

/// ACKNACK F flag: the reader does not need a HEARTBEAT in reply (RTPS 2.5 §9.4.5.2).
const ACKNACK_FINAL: u8 = 0x02;
/// HEARTBEAT F flag: the writer does not require a reply (RTPS 2.5 §9.4.5.6).
const HEARTBEAT_FINAL: u8 = 0x02;
/// HEARTBEAT L flag: the HEARTBEAT asserts the writer's liveliness (RTPS 2.5 §9.4.5.6).
const HEARTBEAT_LIVELINESS: u8 = 0x04;

/// A reader's positive and negative acknowledgement (RTPS 2.5 §8.3.7.1, `AckNack`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckNack {
    /// The acknowledging reader.
    pub reader_id: EntityId,
    /// The writer being acknowledged.
    pub writer_id: EntityId,
    /// Everything below `base` is acknowledged; set bits are missing (negative acks).
    pub reader_sn_state: SequenceNumberSet,
    /// Incremented with every ACKNACK so duplicates can be dropped.
    pub count: u32,
    /// F flag: no HEARTBEAT response needed.
    pub final_flag: bool,
}

impl AckNack {
    pub(super) fn parse(flags: u8, r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(AckNack {
            reader_id: EntityId::parse(r)?,
            writer_id: EntityId::parse(r)?,
            reader_sn_state: SequenceNumberSet::parse(r)?,
            count: r.u32("acknack count")?,
            final_flag: flags & ACKNACK_FINAL != 0,
        })
    }

    pub(super) fn flags(&self) -> u8 {
        if self.final_flag {
            ACKNACK_FINAL
        } else {
            0
        }
    }

    pub(super) fn body_len(&self) -> usize {
        8 + self.reader_sn_state.wire_len() + 4
    }

    pub(super) fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.reader_id.emit(w)?;
        self.writer_id.emit(w)?;
        self.reader_sn_state.emit(w)?;
        w.u32(self.count, "acknack count")
    }
}

/// A writer's announcement of the sequence numbers it has (RTPS 2.5 §8.3.7.5, `Heartbeat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// The reader addressed, or `ENTITYID_UNKNOWN` for all matched readers.
    pub reader_id: EntityId,
    /// The announcing writer.
    pub writer_id: EntityId,
    /// First sequence number available in the writer's history.
    pub first_sn: SequenceNumber,
    /// Last sequence number available in the writer's history.
    pub last_sn: SequenceNumber,
    /// Incremented with every HEARTBEAT so duplicates can be dropped.
    pub count: u32,
    /// F flag: the reader need not reply.
    pub final_flag: bool,
    /// L flag: liveliness assertion.
    pub liveliness_flag: bool,
}

impl Heartbeat {
    pub(super) const BODY_LEN: usize = 28;

    pub(super) fn parse(flags: u8, r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(Heartbeat {
            reader_id: EntityId::parse(r)?,
            writer_id: EntityId::parse(r)?,
            first_sn: SequenceNumber::parse(r)?,
            last_sn: SequenceNumber::parse(r)?,
            count: r.u32("heartbeat count")?,
            final_flag: flags & HEARTBEAT_FINAL != 0,
            liveliness_flag: flags & HEARTBEAT_LIVELINESS != 0,
        })
    }

    pub(super) fn flags(&self) -> u8 {
        let mut f = 0;
        if self.final_flag {
            f |= HEARTBEAT_FINAL;
        }
        if self.liveliness_flag {
            f |= HEARTBEAT_LIVELINESS;
        }
        f
    }

    pub(super) fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.reader_id.emit(w)?;
        self.writer_id.emit(w)?;
        self.first_sn.emit(w)?;
        self.last_sn.emit(w)?;
        w.u32(self.count, "heartbeat count")
    }
}

/// A writer's notice that sequence numbers are irrelevant to the reader (RTPS 2.5 §8.3.7.4,
/// `Gap`): `[gap_start, gap_list.base)` plus the members of `gap_list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The reader addressed, or `ENTITYID_UNKNOWN`.
    pub reader_id: EntityId,
    /// The writer.
    pub writer_id: EntityId,
    /// First irrelevant sequence number.
    pub gap_start: SequenceNumber,
    /// Further irrelevant sequence numbers from `gap_list.base` on.
    pub gap_list: SequenceNumberSet,
}

impl Gap {
    pub(super) fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(Gap {
            reader_id: EntityId::parse(r)?,
            writer_id: EntityId::parse(r)?,
            gap_start: SequenceNumber::parse(r)?,
            gap_list: SequenceNumberSet::parse(r)?,
        })
    }

    pub(super) fn body_len(&self) -> usize {
        8 + 8 + self.gap_list.wire_len()
    }

    pub(super) fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.reader_id.emit(w)?;
        self.writer_id.emit(w)?;
        self.gap_start.emit(w)?;
        self.gap_list.emit(w)
    }
}

/// A reader's request for missing fragments of one sample (RTPS 2.5 §8.3.7.10, `NackFrag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NackFrag {
    /// The requesting reader.
    pub reader_id: EntityId,
    /// The writer of the sample.
    pub writer_id: EntityId,
    /// The sample whose fragments are missing.
    pub writer_sn: SequenceNumber,
    /// The missing fragment numbers (1-based).
    pub fragment_number_state: FragmentNumberSet,
    /// Incremented with every NACK_FRAG so duplicates can be dropped.
    pub count: u32,
}

impl NackFrag {
    pub(super) fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(NackFrag {
            reader_id: EntityId::parse(r)?,
            writer_id: EntityId::parse(r)?,
            writer_sn: SequenceNumber::parse(r)?,
            fragment_number_state: FragmentNumberSet::parse(r)?,
            count: r.u32("nack_frag count")?,
        })
    }

    pub(super) fn body_len(&self) -> usize {
        8 + 8 + self.fragment_number_state.wire_len() + 4
    }

    pub(super) fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.reader_id.emit(w)?;
        self.writer_id.emit(w)?;
        self.writer_sn.emit(w)?;
        self.fragment_number_state.emit(w)?;
        w.u32(self.count, "nack_frag count")
    }
}

/// A writer's announcement of the fragments it has of one sample (RTPS 2.5 §8.3.7.6,
/// `HeartbeatFrag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatFrag {
    /// The reader addressed, or `ENTITYID_UNKNOWN`.
    pub reader_id: EntityId,
    /// The writer.
    pub writer_id: EntityId,
    /// The sample.
    pub writer_sn: SequenceNumber,
    /// Fragments `1..=last_fragment_num` are available.
    pub last_fragment_num: u32,
    /// Incremented with every HEARTBEAT_FRAG.
    pub count: u32,
}

impl HeartbeatFrag {
    pub(super) const BODY_LEN: usize = 24;

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(HeartbeatFrag {
            reader_id: EntityId::parse(r)?,
            writer_id: EntityId::parse(r)?,
            writer_sn: SequenceNumber::parse(r)?,
            last_fragment_num: r.u32("heartbeat_frag last fragment")?,
            count: r.u32("heartbeat_frag count")?,
        })
    }

    pub(super) fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.reader_id.emit(w)?;
        self.writer_id.emit(w)?;
        self.writer_sn.emit(w)?;
        w.u32(self.last_fragment_num, "heartbeat_frag last fragment")?;
        w.u32(self.count, "heartbeat_frag count")
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::cursor::Endianness;
    use super::super::testutil::*;
    use super::super::Submessage;
    use super::*;
    use proptest::prelude::*;

    const R: EntityId = EntityId::from_u32(0x0000_0107);
    const W: EntityId = EntityId::from_u32(0x0000_0102);

    fn acknack() -> Submessage<'static> {
        let mut set = SequenceNumberSet::new(SequenceNumber(3));
        set.insert(SequenceNumber(4));
        Submessage::AckNack(AckNack {
            reader_id: R,
            writer_id: W,
            reader_sn_state: set,
            count: 7,
            final_flag: true,
        })
    }

    #[test]
    fn acknack_golden_bytes_in_both_orders() {
        #[rustfmt::skip]
        let le = [
            0x06, 0x03, 28, 0,
            0, 0, 1, 7, 0, 0, 1, 2,
            0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0x40,
            7, 0, 0, 0,
        ];
        golden_round_trip(&acknack(), Endianness::Little, &le);
        #[rustfmt::skip]
        let be = [
            0x06, 0x02, 0, 28,
            0, 0, 1, 7, 0, 0, 1, 2,
            0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 2, 0x40, 0, 0, 0,
            0, 0, 0, 7,
        ];
        golden_round_trip(&acknack(), Endianness::Big, &be);
        truncations_fail(&le, 28);
        truncations_fail(&be, 28);
    }

    #[test]
    fn acknack_with_fast_dds_base_zero_parses() {
        #[rustfmt::skip]
        let b = [
            0x06, 0x01, 24, 0,
            0, 0, 1, 7, 0, 0, 1, 2,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            1, 0, 0, 0,
        ];
        let Submessage::AckNack(a) = parse_one(&b).unwrap() else {
            panic!("not an acknack")
        };
        assert_eq!(a.reader_sn_state, SequenceNumberSet::new(SequenceNumber(0)));
        assert!(!a.final_flag);
    }

    fn heartbeat() -> Submessage<'static> {
        Submessage::Heartbeat(Heartbeat {
            reader_id: EntityId::UNKNOWN,
            writer_id: W,
            first_sn: SequenceNumber(1),
            last_sn: SequenceNumber(0x1_0000_0002),
            count: 9,
            final_flag: false,
            liveliness_flag: true,
        })
    }

    #[test]
    fn heartbeat_golden_bytes_in_both_orders() {
        #[rustfmt::skip]
        let le = [
            0x07, 0x05, 28, 0,
            0, 0, 0, 0, 0, 0, 1, 2,
            0, 0, 0, 0, 1, 0, 0, 0,
            1, 0, 0, 0, 2, 0, 0, 0,
            9, 0, 0, 0,
        ];
        golden_round_trip(&heartbeat(), Endianness::Little, &le);
        #[rustfmt::skip]
        let be = [
            0x07, 0x04, 0, 28,
            0, 0, 0, 0, 0, 0, 1, 2,
            0, 0, 0, 0, 0, 0, 0, 1,
            0, 0, 0, 1, 0, 0, 0, 2,
            0, 0, 0, 9,
        ];
        golden_round_trip(&heartbeat(), Endianness::Big, &be);
        truncations_fail(&le, 28);
        truncations_fail(&be, 28);
    }

    #[test]
    fn heartbeat_ignores_bytes_appended_by_later_versions() {
        let mut b = emit_golden(&heartbeat(), Endianness::Little);
        b[2] += 4;
        b.extend_from_slice(&[0xee; 4]);
        assert_eq!(parse_one(&b), Ok(heartbeat()));
    }

    #[test]
    fn gap_golden_bytes() {
        let mut list = SequenceNumberSet::new(SequenceNumber(10));
        list.insert(SequenceNumber(12));
        let s = Submessage::Gap(Gap {
            reader_id: R,
            writer_id: W,
            gap_start: SequenceNumber(5),
            gap_list: list,
        });
        #[rustfmt::skip]
        let le = [
            0x08, 0x01, 32, 0,
            0, 0, 1, 7, 0, 0, 1, 2,
            0, 0, 0, 0, 5, 0, 0, 0,
            0, 0, 0, 0, 10, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0x20,
        ];
        golden_round_trip(&s, Endianness::Little, &le);
        truncations_fail(&le, 32);
    }

    #[test]
    fn nack_frag_golden_bytes() {
        let mut set = FragmentNumberSet::new(1);
        set.insert(3);
        let s = Submessage::NackFrag(NackFrag {
            reader_id: R,
            writer_id: W,
            writer_sn: SequenceNumber(2),
            fragment_number_state: set,
            count: 1,
        });
        #[rustfmt::skip]
        let be = [
            0x12, 0x00, 0, 32,
            0, 0, 1, 7, 0, 0, 1, 2,
            0, 0, 0, 0, 0, 0, 0, 2,
            0, 0, 0, 1, 0, 0, 0, 3, 0x20, 0, 0, 0,
            0, 0, 0, 1,
        ];
        golden_round_trip(&s, Endianness::Big, &be);
        truncations_fail(&be, 32);
    }

    #[test]
    fn heartbeat_frag_golden_bytes() {
        let s = Submessage::HeartbeatFrag(HeartbeatFrag {
            reader_id: R,
            writer_id: W,
            writer_sn: SequenceNumber(2),
            last_fragment_num: 17,
            count: 3,
        });
        #[rustfmt::skip]
        let le = [
            0x13, 0x01, 24, 0,
            0, 0, 1, 7, 0, 0, 1, 2,
            0, 0, 0, 0, 2, 0, 0, 0,
            17, 0, 0, 0, 3, 0, 0, 0,
        ];
        golden_round_trip(&s, Endianness::Little, &le);
        truncations_fail(&le, 24);
    }

    proptest! {
        #[test]
        fn acknacks_round_trip(r in entity_id(), w in entity_id(), set in sn_set(), count: u32, f: bool, e in endian()) {
            round_trip(&Submessage::AckNack(AckNack { reader_id: r, writer_id: w, reader_sn_state: set, count, final_flag: f }), e)?;
        }

        #[test]
        fn heartbeats_round_trip(r in entity_id(), w in entity_id(), a in sn(), b in sn(), count: u32, f: bool, l: bool, e in endian()) {
            round_trip(&Submessage::Heartbeat(Heartbeat { reader_id: r, writer_id: w, first_sn: a, last_sn: b, count, final_flag: f, liveliness_flag: l }), e)?;
        }

        #[test]
        fn gaps_round_trip(r in entity_id(), w in entity_id(), start in sn(), list in sn_set(), e in endian()) {
            round_trip(&Submessage::Gap(Gap { reader_id: r, writer_id: w, gap_start: start, gap_list: list }), e)?;
        }

        #[test]
        fn nack_frags_round_trip(r in entity_id(), w in entity_id(), s in sn(), set in fragment_set(), count: u32, e in endian()) {
            round_trip(&Submessage::NackFrag(NackFrag { reader_id: r, writer_id: w, writer_sn: s, fragment_number_state: set, count }), e)?;
        }

        #[test]
        fn heartbeat_frags_round_trip(r in entity_id(), w in entity_id(), s in sn(), last: u32, count: u32, e in endian()) {
            round_trip(&Submessage::HeartbeatFrag(HeartbeatFrag { reader_id: r, writer_id: w, writer_sn: s, last_fragment_num: last, count }), e)?;
        }
    }
}
