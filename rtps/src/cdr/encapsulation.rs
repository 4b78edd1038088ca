//! The 4-octet encapsulation header in front of every serialized payload (RTPS 2.5 §10,
//! DDS-XTypes 1.3 §7.6.3.1.2): a 2-octet representation identifier (always big-endian) and 2
//! octets of options. XCDR1 alignment restarts right after it.

use core::fmt;

use super::error::CdrError;
use crate::wire::cursor::Endianness;

/// Octets in the encapsulation header.
pub const ENCAPSULATION_HEADER_LEN: usize = 4;

/// A representation identifier (DDS-XTypes 1.3 §7.6.3.1.2); an open newtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EncapsulationKind(pub u16);

impl EncapsulationKind {
    /// Plain CDR (XCDR1), big-endian.
    pub const CDR_BE: Self = Self(0x0000);
    /// Plain CDR (XCDR1), little-endian.
    pub const CDR_LE: Self = Self(0x0001);
    /// Parameter-list CDR (XCDR1, mutable types and discovery data), big-endian.
    pub const PL_CDR_BE: Self = Self(0x0002);
    /// Parameter-list CDR (XCDR1, mutable types and discovery data), little-endian.
    pub const PL_CDR_LE: Self = Self(0x0003);
    /// XML representation.
    pub const XML: Self = Self(0x0004);
    /// Plain CDR2 (XCDR2), big-endian.
    pub const CDR2_BE: Self = Self(0x0006);
    /// Plain CDR2 (XCDR2), little-endian.
    pub const CDR2_LE: Self = Self(0x0007);
    /// Parameter-list CDR2 (XCDR2), big-endian.
    pub const PL_CDR2_BE: Self = Self(0x000a);
    /// Parameter-list CDR2 (XCDR2), little-endian.
    pub const PL_CDR2_LE: Self = Self(0x000b);
    /// Delimited CDR2 (XCDR2 appendable types), big-endian.
    pub const D_CDR2_BE: Self = Self(0x0008);
    /// Delimited CDR2 (XCDR2 appendable types), little-endian.
    pub const D_CDR2_LE: Self = Self(0x0009);

    /// The plain CDR (XCDR1) kind for `endian`.
    pub fn plain_cdr(endian: Endianness) -> Self {
        match endian {
            Endianness::Big => Self::CDR_BE,
            Endianness::Little => Self::CDR_LE,
        }
    }

    /// The byte order of a plain CDR payload, or `Unsupported` for any other representation.
    pub fn plain_cdr_endianness(self) -> Result<Endianness, CdrError> {
        match self {
            Self::CDR_BE => Ok(Endianness::Big),
            Self::CDR_LE => Ok(Endianness::Little),
            Self::PL_CDR_BE | Self::PL_CDR_LE => Err(CdrError::Unsupported(
                "encapsulation PL_CDR (parameter list; not plain CDR)",
            )),
            Self::CDR2_BE
            | Self::CDR2_LE
            | Self::PL_CDR2_BE
            | Self::PL_CDR2_LE
            | Self::D_CDR2_BE
            | Self::D_CDR2_LE => Err(CdrError::Unsupported(
                "encapsulation XCDR2 (only plain XCDR1 CDR_BE/CDR_LE is supported)",
            )),
            Self::XML => Err(CdrError::Unsupported("encapsulation XML")),
            _ => Err(CdrError::Unsupported("encapsulation kind (unknown)")),
        }
    }

    /// The two octets on the wire (big-endian whatever the payload's byte order).
    pub fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

impl fmt::Display for EncapsulationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            Self::CDR_BE => "CDR_BE",
            Self::CDR_LE => "CDR_LE",
            Self::PL_CDR_BE => "PL_CDR_BE",
            Self::PL_CDR_LE => "PL_CDR_LE",
            Self::XML => "XML",
            Self::CDR2_BE => "CDR2_BE",
            Self::CDR2_LE => "CDR2_LE",
            Self::PL_CDR2_BE => "PL_CDR2_BE",
            Self::PL_CDR2_LE => "PL_CDR2_LE",
            Self::D_CDR2_BE => "D_CDR2_BE",
            Self::D_CDR2_LE => "D_CDR2_LE",
            Self(other) => return write!(f, "0x{other:04x}"),
        };
        f.write_str(name)
    }
}

/// Split a serialized payload into its encapsulation kind, options and body.
pub fn split_encapsulation(payload: &[u8]) -> Result<(EncapsulationKind, u16, &[u8]), CdrError> {
    match payload {
        [k0, k1, o0, o1, body @ ..] => Ok((
            EncapsulationKind(u16::from_be_bytes([*k0, *k1])),
            u16::from_be_bytes([*o0, *o1]),
            body,
        )),
        _ => Err(CdrError::Truncated("encapsulation header")),
    }
}

/// The encapsulation header of a plain CDR payload in `endian` order, options zero (as Fast DDS
/// and AML-IP send it: amlip-protocol.md §3.1).
pub fn plain_cdr_header(endian: Endianness) -> [u8; ENCAPSULATION_HEADER_LEN] {
    let [a, b] = EncapsulationKind::plain_cdr(endian).to_bytes();
    [a, b, 0, 0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_cdr_headers_match_fast_dds() {
        assert_eq!(plain_cdr_header(Endianness::Little), [0, 1, 0, 0]);
        assert_eq!(plain_cdr_header(Endianness::Big), [0, 0, 0, 0]);
    }

    #[test]
    fn split_reads_kind_and_options_big_endian() {
        let (kind, options, body) = split_encapsulation(&[0, 1, 0, 3, 9]).unwrap();
        assert_eq!(kind, EncapsulationKind::CDR_LE);
        assert_eq!(options, 3);
        assert_eq!(body, &[9]);
        for n in 0..4 {
            assert_eq!(
                split_encapsulation(&[0, 1, 0, 0][..n]),
                Err(CdrError::Truncated("encapsulation header"))
            );
        }
    }

    #[test]
    fn only_plain_cdr_kinds_have_an_endianness() {
        assert_eq!(
            EncapsulationKind::CDR_LE.plain_cdr_endianness(),
            Ok(Endianness::Little)
        );
        assert_eq!(
            EncapsulationKind::CDR_BE.plain_cdr_endianness(),
            Ok(Endianness::Big)
        );
        for k in [
            0x0002, 0x0003, 0x0004, 0x0006, 0x0007, 0x0008, 0x0009, 0x000a, 0x000b, 0x1234,
        ] {
            assert!(matches!(
                EncapsulationKind(k).plain_cdr_endianness(),
                Err(CdrError::Unsupported(_))
            ));
        }
        assert_eq!(EncapsulationKind::D_CDR2_LE.to_string(), "D_CDR2_LE");
        assert_eq!(EncapsulationKind(0x1234).to_string(), "0x1234");
    }
}
