//! The RTPS message header (RTPS 2.5 §8.3.3.1, §9.4.4): the magic `"RTPS"`, the protocol
//! version, the vendor id and the sender's GUID prefix, 20 octets in all.
//!
//! The header is made of octet arrays only, so it has no byte order. We accept every version with
//! major 2 (Cyclone sends 2.1, Fast DDS 2.3, AML-IP 2.2) and reject other majors and any other
//! magic (including `"RTPX"`).

use super::cursor::{Reader, Writer};
use super::error::{EmitError, ParseError};
use super::types::{GuidPrefix, ProtocolVersion, VendorId};

/// The four magic octets that start every RTPS message (RTPS 2.5 §9.4.4).
pub const MAGIC: [u8; 4] = *b"RTPS";

/// The header of an RTPS message (RTPS 2.5 §8.3.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// Protocol version of the sender (major 2).
    pub version: ProtocolVersion,
    /// Vendor of the sender's implementation.
    pub vendor_id: VendorId,
    /// GUID prefix of the sending participant (`sourceGuidPrefix`).
    pub guid_prefix: GuidPrefix,
}

impl Header {
    /// Twenty octets on the wire (RTPS 2.5 §9.4.4).
    pub const LEN: usize = 20;

    /// Our header: version 2.4, vendor [`VendorId::AMLIP_RS`].
    pub fn new(guid_prefix: GuidPrefix) -> Self {
        Header {
            version: ProtocolVersion::V2_4,
            vendor_id: VendorId::AMLIP_RS,
            guid_prefix,
        }
    }

    /// Parse and check the 20-octet header (RTPS 2.5 §8.3.6.3: a receiver drops messages with
    /// another magic or a major version it does not support).
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let magic = r.take_array::<4>("rtps magic")?;
        if magic != MAGIC {
            return Err(ParseError::Invalid("rtps magic"));
        }
        let version = ProtocolVersion::parse(r)?;
        if version.major != 2 {
            return Err(ParseError::Unsupported("rtps major version"));
        }
        let vendor_id = VendorId::parse(r)?;
        let guid_prefix = GuidPrefix::parse(r)?;
        Ok(Header {
            version,
            vendor_id,
            guid_prefix,
        })
    }

    /// Emit the 20-octet header.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        if w.remaining() < Self::LEN {
            return Err(EmitError::BufferTooSmall("rtps header"));
        }
        w.put(&MAGIC, "rtps magic")?;
        self.version.emit(w)?;
        self.vendor_id.emit(w)?;
        self.guid_prefix.emit(w)
    }
}

#[cfg(test)]
mod tests {
    use super::super::cursor::Endianness;
    use super::*;
    use proptest::prelude::*;

    const GOLDEN: [u8; 20] = [
        b'R', b'T', b'P', b'S', 2, 4, 0x01, 0xa7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ];

    fn prefix() -> GuidPrefix {
        GuidPrefix([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    }

    #[test]
    fn emits_golden_bytes_and_nothing_more() {
        let mut buf = [0xa5u8; 24];
        let mut w = Writer::new(&mut buf, Endianness::Big);
        Header::new(prefix()).emit(&mut w).unwrap();
        assert_eq!(w.position(), Header::LEN);
        assert_eq!(buf[..20], GOLDEN);
        assert_eq!(buf[20..], [0xa5; 4]);
    }

    #[test]
    fn parses_golden_bytes() {
        let mut r = Reader::new(&GOLDEN, Endianness::Little);
        assert_eq!(Header::parse(&mut r), Ok(Header::new(prefix())));
        assert!(r.is_empty());
    }

    #[test]
    fn every_truncation_fails() {
        for n in 0..GOLDEN.len() {
            let mut r = Reader::new(&GOLDEN[..n], Endianness::Little);
            assert!(Header::parse(&mut r).is_err(), "prefix of {n} bytes parsed");
        }
    }

    #[test]
    fn accepts_every_2_x_version_and_rejects_other_majors() {
        for minor in [1u8, 2, 3, 4, 5, 200] {
            let mut b = GOLDEN;
            b[5] = minor;
            let h = Header::parse(&mut Reader::new(&b, Endianness::Big)).unwrap();
            assert_eq!(h.version, ProtocolVersion { major: 2, minor });
        }
        for major in [0u8, 1, 3, 0xff] {
            let mut b = GOLDEN;
            b[4] = major;
            assert_eq!(
                Header::parse(&mut Reader::new(&b, Endianness::Big)),
                Err(ParseError::Unsupported("rtps major version"))
            );
        }
    }

    #[test]
    fn rejects_other_magics_including_rtpx() {
        for magic in [*b"RTPX", *b"rtps", *b"RTP\0", [0; 4]] {
            let mut b = GOLDEN;
            b[..4].copy_from_slice(&magic);
            assert_eq!(
                Header::parse(&mut Reader::new(&b, Endianness::Big)),
                Err(ParseError::Invalid("rtps magic"))
            );
        }
    }

    #[test]
    fn refuses_a_short_buffer_without_writing() {
        let mut buf = [0xa5u8; 19];
        let mut w = Writer::new(&mut buf, Endianness::Big);
        assert!(Header::new(prefix()).emit(&mut w).is_err());
        assert_eq!(buf, [0xa5; 19]);
    }

    proptest! {
        #[test]
        fn round_trips(minor: u8, vendor: [u8; 2], p: [u8; 12]) {
            let h = Header {
                version: ProtocolVersion { major: 2, minor },
                vendor_id: VendorId(vendor),
                guid_prefix: GuidPrefix(p),
            };
            let mut buf = [0u8; 20];
            h.emit(&mut Writer::new(&mut buf, Endianness::Little)).unwrap();
            prop_assert_eq!(Header::parse(&mut Reader::new(&buf, Endianness::Big)), Ok(h));
        }
    }
}
