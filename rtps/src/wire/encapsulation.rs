//! The serialized-payload header (RTPS 2.5 §10.2, §10.5; XTypes 1.3 §7.6.3.1.2): the four
//! octets in front of every DATA / DATA_FRAG payload that say how the rest is encoded.
//!
//! ```text
//! 0        2        4
//! +--------+--------+---- ... ----+
//! |  kind  | options|    body     |
//! +--------+--------+---- ... ----+
//! ```
//!
//! `kind` is always big-endian, whatever the body's byte order. The low two bits of `options`
//! count padding octets at the end of the body (XTypes); Fast DDS and Cyclone leave `options`
//! zero even when they pad.
//!
//! [`EncapsulationKind`] is an open newtype (rule 5). [`split_payload`] recognises every kind we
//! know, XCDR2 included, and hands back the body; a caller that can only decode XCDR1 returns
//! `ParseError::Unsupported("XCDR2 encapsulation")` itself. Unknown kinds (XML, 0x0004, ...)
//! are `Unsupported`. Nothing here can panic.

use core::fmt;

use super::cursor::{Endianness, Reader, Writer};
use super::error::{EmitError, ParseError};

/// The representation identifier of a serialized payload (RTPS 2.5 §10.5, XTypes 1.3
/// §7.6.3.1.2, Table 60); an open newtype.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EncapsulationKind(pub u16);

impl EncapsulationKind {
    /// `CDR_BE`: plain (XCDR1) CDR, big-endian.
    pub const CDR_BE: EncapsulationKind = EncapsulationKind(0x0000);
    /// `CDR_LE`: plain (XCDR1) CDR, little-endian.
    pub const CDR_LE: EncapsulationKind = EncapsulationKind(0x0001);
    /// `PL_CDR_BE`: XCDR1 parameter list, big-endian (discovery data).
    pub const PL_CDR_BE: EncapsulationKind = EncapsulationKind(0x0002);
    /// `PL_CDR_LE`: XCDR1 parameter list, little-endian (discovery data).
    pub const PL_CDR_LE: EncapsulationKind = EncapsulationKind(0x0003);
    /// `CDR2_BE`: XCDR2 plain, big-endian.
    pub const CDR2_BE: EncapsulationKind = EncapsulationKind(0x0006);
    /// `CDR2_LE`: XCDR2 plain, little-endian.
    pub const CDR2_LE: EncapsulationKind = EncapsulationKind(0x0007);
    /// `D_CDR2_BE`: XCDR2 delimited (appendable types), big-endian.
    pub const D_CDR2_BE: EncapsulationKind = EncapsulationKind(0x0008);
    /// `D_CDR2_LE`: XCDR2 delimited (appendable types), little-endian.
    pub const D_CDR2_LE: EncapsulationKind = EncapsulationKind(0x0009);
    /// `PL_CDR2_BE`: XCDR2 parameter list (mutable types), big-endian.
    pub const PL_CDR2_BE: EncapsulationKind = EncapsulationKind(0x000a);
    /// `PL_CDR2_LE`: XCDR2 parameter list (mutable types), little-endian.
    pub const PL_CDR2_LE: EncapsulationKind = EncapsulationKind(0x000b);

    /// True for the ten kinds listed above.
    pub fn is_known(self) -> bool {
        matches!(self.0, 0x0000..=0x0003 | 0x0006..=0x000b)
    }

    /// The body's byte order, for a known kind (odd ids are little-endian).
    pub fn endianness(self) -> Option<Endianness> {
        if !self.is_known() {
            None
        } else if self.0 & 1 == 1 {
            Some(Endianness::Little)
        } else {
            Some(Endianness::Big)
        }
    }

    /// True for `PL_CDR_*` and `PL_CDR2_*` (a parameter list body).
    pub fn is_parameter_list(self) -> bool {
        matches!(self.0, 0x0002 | 0x0003 | 0x000a | 0x000b)
    }

    /// True for the XCDR2 kinds (`CDR2_*`, `D_CDR2_*`, `PL_CDR2_*`).
    pub fn is_xcdr2(self) -> bool {
        matches!(self.0, 0x0006..=0x000b)
    }

    /// The kind of a plain XCDR1 body in this byte order.
    pub fn cdr(endian: Endianness) -> Self {
        match endian {
            Endianness::Big => EncapsulationKind::CDR_BE,
            Endianness::Little => EncapsulationKind::CDR_LE,
        }
    }

    /// The kind of an XCDR1 parameter-list body in this byte order.
    pub fn pl_cdr(endian: Endianness) -> Self {
        match endian {
            Endianness::Big => EncapsulationKind::PL_CDR_BE,
            Endianness::Little => EncapsulationKind::PL_CDR_LE,
        }
    }

    /// The spec name of a known kind (for logs).
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0000 => "CDR_BE",
            0x0001 => "CDR_LE",
            0x0002 => "PL_CDR_BE",
            0x0003 => "PL_CDR_LE",
            0x0006 => "CDR2_BE",
            0x0007 => "CDR2_LE",
            0x0008 => "D_CDR2_BE",
            0x0009 => "D_CDR2_LE",
            0x000a => "PL_CDR2_BE",
            0x000b => "PL_CDR2_LE",
            _ => return None,
        })
    }
}

impl fmt::Debug for EncapsulationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "EncapsulationKind({:#06x})", self.0),
        }
    }
}

/// The four-octet serialized-payload header (RTPS 2.5 §10.2, `SerializedPayloadHeader`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encapsulation {
    /// Representation identifier (always big-endian on the wire).
    pub kind: EncapsulationKind,
    /// Representation options; the low two bits of `options[1]` count trailing padding octets.
    pub options: [u8; 2],
}

impl Encapsulation {
    /// Four octets on the wire.
    pub const LEN: usize = 4;

    /// A header of this kind with zero options.
    pub const fn new(kind: EncapsulationKind) -> Self {
        Encapsulation {
            kind,
            options: [0, 0],
        }
    }

    /// Padding octets at the end of the body announced in `options` (XTypes 1.3 §7.6.3.1.2);
    /// peers often leave this 0 even when they pad.
    pub fn padding(&self) -> usize {
        usize::from(self.options[1] & 0x03)
    }

    /// Parse the four octets; the kind is read big-endian whatever the cursor's order. Any kind
    /// is accepted here (use [`split_payload`] to reject unknown ones).
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let [k0, k1, o0, o1] = r.take_array::<4>("encapsulation header")?;
        Ok(Encapsulation {
            kind: EncapsulationKind(u16::from_be_bytes([k0, k1])),
            options: [o0, o1],
        })
    }

    /// Emit the four octets (kind big-endian).
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        let [k0, k1] = self.kind.0.to_be_bytes();
        w.put(
            &[k0, k1, self.options[0], self.options[1]],
            "encapsulation header",
        )
    }
}

/// Split a serialized payload into its header and body (RTPS 2.5 §10.2). Every known kind,
/// XCDR2 included, is returned; an unknown kind is `Unsupported("encapsulation kind")`. The body
/// keeps any trailing padding (see [`Encapsulation::padding`]).
pub fn split_payload(payload: &[u8]) -> Result<(Encapsulation, &[u8]), ParseError> {
    let mut r = Reader::new(payload, Endianness::Big);
    let header = Encapsulation::parse(&mut r)?;
    if !header.kind.is_known() {
        return Err(ParseError::Unsupported("encapsulation kind"));
    }
    Ok((header, r.take_rest()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emits_golden_bytes_and_touches_nothing_past_the_end() {
        let mut buf = [0xa5u8; 6];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        Encapsulation {
            kind: EncapsulationKind::PL_CDR_LE,
            options: [0, 3],
        }
        .emit(&mut w)
        .unwrap();
        assert_eq!(w.position(), 4);
        assert_eq!(buf, [0x00, 0x03, 0x00, 0x03, 0xa5, 0xa5]);
    }

    #[test]
    fn kind_is_big_endian_whatever_the_cursor_order() {
        let b = [0x00, 0x01, 0x00, 0x00];
        for endian in [Endianness::Little, Endianness::Big] {
            let e = Encapsulation::parse(&mut Reader::new(&b, endian)).unwrap();
            assert_eq!(e.kind, EncapsulationKind::CDR_LE);
        }
    }

    #[test]
    fn classifies_every_known_kind() {
        use EncapsulationKind as K;
        let table = [
            (K::CDR_BE, Endianness::Big, false, false),
            (K::CDR_LE, Endianness::Little, false, false),
            (K::PL_CDR_BE, Endianness::Big, true, false),
            (K::PL_CDR_LE, Endianness::Little, true, false),
            (K::CDR2_BE, Endianness::Big, false, true),
            (K::CDR2_LE, Endianness::Little, false, true),
            (K::D_CDR2_BE, Endianness::Big, false, true),
            (K::D_CDR2_LE, Endianness::Little, false, true),
            (K::PL_CDR2_BE, Endianness::Big, true, true),
            (K::PL_CDR2_LE, Endianness::Little, true, true),
        ];
        for (kind, endian, pl, x2) in table {
            assert_eq!(kind.endianness(), Some(endian), "{kind:?}");
            assert_eq!(kind.is_parameter_list(), pl, "{kind:?}");
            assert_eq!(kind.is_xcdr2(), x2, "{kind:?}");
            let payload = [0, kind.0 as u8, 0, 0, 9];
            assert_eq!(split_payload(&payload).unwrap().1, &[9]);
        }
        assert_eq!(EncapsulationKind::pl_cdr(Endianness::Big), K::PL_CDR_BE);
        assert_eq!(EncapsulationKind::cdr(Endianness::Little), K::CDR_LE);
    }

    #[test]
    fn unknown_kinds_are_unsupported() {
        for kind in [0x0004u16, 0x0005, 0x000c, 0x8001, 0xffff] {
            let [a, b] = kind.to_be_bytes();
            assert_eq!(EncapsulationKind(kind).endianness(), None);
            assert_eq!(
                split_payload(&[a, b, 0, 0]),
                Err(ParseError::Unsupported("encapsulation kind"))
            );
        }
        assert_eq!(
            format!("{:?}", EncapsulationKind(4)),
            "EncapsulationKind(0x0004)"
        );
    }

    #[test]
    fn every_truncation_fails() {
        let payload = [0x00, 0x03, 0x00, 0x00];
        for n in 0..payload.len() {
            assert_eq!(
                split_payload(&payload[..n]),
                Err(ParseError::Truncated("encapsulation header"))
            );
        }
        assert_eq!(split_payload(&payload).unwrap().1, &[] as &[u8]);
    }

    #[test]
    fn reports_the_padding_count_from_the_options() {
        let (e, body) = split_payload(&[0, 1, 0, 2, 1, 0, 0]).unwrap();
        assert_eq!(e.padding(), 2);
        assert_eq!(body, &[1, 0, 0]);
    }

    proptest! {
        #[test]
        fn round_trips_any_header(kind in any::<u16>(), options in any::<[u8; 2]>()) {
            let e = Encapsulation { kind: EncapsulationKind(kind), options };
            let mut buf = [0u8; 4];
            e.emit(&mut Writer::new(&mut buf, Endianness::Little)).unwrap();
            prop_assert_eq!(Encapsulation::parse(&mut Reader::new(&buf, Endianness::Little)), Ok(e));
        }
    }
}
