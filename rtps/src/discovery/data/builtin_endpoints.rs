//! `BuiltinEndpointSet_t` (RTPS 2.5 §8.5.3.2, §9.3.2.12; XTypes 1.3 §7.6.2.1; DDS-Security 1.1
//! §7.4.7.1): which builtin endpoints a participant has, sent as `PID_BUILTIN_ENDPOINT_SET`.
//!
//! An open bit set: unknown bits are kept. Observed values: Fast DDS 2.14 (AML-IP) `0x00000c3f`;
//! Fast DDS 2.9 as packaged by Debian (built with security) `0x0c3f0c3f`, i.e. it also claims
//! the secure SEDP, secure participant-message and secure SPDP endpoints with security off;
//! Cyclone 0.10 `0x0000fc3f` (type lookup included).

use core::fmt;
use core::ops::{BitOr, BitOrAssign};

use crate::wire::cursor::{Reader, Writer};
use crate::wire::error::{EmitError, ParseError};

/// The builtin endpoints a participant announces (RTPS 2.5 §9.3.2.12); an open bit set.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct BuiltinEndpointSet(pub u32);

macro_rules! bes_bits {
    ($($(#[$doc:meta])* $name:ident = $bit:expr;)*) => {
        impl BuiltinEndpointSet {
            $($(#[$doc])* pub const $name: BuiltinEndpointSet = BuiltinEndpointSet(1 << $bit);)*

            /// Spec names of the bits set, lowest first (unknown bits are skipped).
            pub fn names(self) -> impl Iterator<Item = &'static str> {
                const ALL: &[(u32, &str)] = &[$((1 << $bit, stringify!($name)),)*];
                ALL.iter().filter(move |(b, _)| self.0 & b != 0).map(|(_, n)| *n)
            }
        }
    };
}

bes_bits! {
    /// `DISC_BUILTIN_ENDPOINT_PARTICIPANT_ANNOUNCER` (SPDP writer).
    PARTICIPANT_ANNOUNCER = 0;
    /// `DISC_BUILTIN_ENDPOINT_PARTICIPANT_DETECTOR` (SPDP reader).
    PARTICIPANT_DETECTOR = 1;
    /// `DISC_BUILTIN_ENDPOINT_PUBLICATIONS_ANNOUNCER` (SEDP publications writer).
    PUBLICATIONS_ANNOUNCER = 2;
    /// `DISC_BUILTIN_ENDPOINT_PUBLICATIONS_DETECTOR` (SEDP publications reader).
    PUBLICATIONS_DETECTOR = 3;
    /// `DISC_BUILTIN_ENDPOINT_SUBSCRIPTIONS_ANNOUNCER` (SEDP subscriptions writer).
    SUBSCRIPTIONS_ANNOUNCER = 4;
    /// `DISC_BUILTIN_ENDPOINT_SUBSCRIPTIONS_DETECTOR` (SEDP subscriptions reader).
    SUBSCRIPTIONS_DETECTOR = 5;
    /// `DISC_BUILTIN_ENDPOINT_PARTICIPANT_PROXY_ANNOUNCER` (deprecated).
    PARTICIPANT_PROXY_ANNOUNCER = 6;
    /// `DISC_BUILTIN_ENDPOINT_PARTICIPANT_PROXY_DETECTOR` (deprecated).
    PARTICIPANT_PROXY_DETECTOR = 7;
    /// `DISC_BUILTIN_ENDPOINT_PARTICIPANT_STATE_ANNOUNCER` (deprecated).
    PARTICIPANT_STATE_ANNOUNCER = 8;
    /// `DISC_BUILTIN_ENDPOINT_PARTICIPANT_STATE_DETECTOR` (deprecated).
    PARTICIPANT_STATE_DETECTOR = 9;
    /// `BUILTIN_ENDPOINT_PARTICIPANT_MESSAGE_DATA_WRITER` (WLP writer).
    PARTICIPANT_MESSAGE_DATA_WRITER = 10;
    /// `BUILTIN_ENDPOINT_PARTICIPANT_MESSAGE_DATA_READER` (WLP reader).
    PARTICIPANT_MESSAGE_DATA_READER = 11;
    /// `BUILTIN_ENDPOINT_TYPELOOKUP_SERVICE_REQUEST_DATA_WRITER` (XTypes).
    TYPELOOKUP_SERVICE_REQUEST_DATA_WRITER = 12;
    /// `BUILTIN_ENDPOINT_TYPELOOKUP_SERVICE_REQUEST_DATA_READER` (XTypes).
    TYPELOOKUP_SERVICE_REQUEST_DATA_READER = 13;
    /// `BUILTIN_ENDPOINT_TYPELOOKUP_SERVICE_REPLY_DATA_WRITER` (XTypes).
    TYPELOOKUP_SERVICE_REPLY_DATA_WRITER = 14;
    /// `BUILTIN_ENDPOINT_TYPELOOKUP_SERVICE_REPLY_DATA_READER` (XTypes).
    TYPELOOKUP_SERVICE_REPLY_DATA_READER = 15;
    /// `SEDP_BUILTIN_PUBLICATIONS_SECURE_WRITER` (DDS-Security).
    PUBLICATIONS_SECURE_ANNOUNCER = 16;
    /// `SEDP_BUILTIN_PUBLICATIONS_SECURE_READER` (DDS-Security).
    PUBLICATIONS_SECURE_DETECTOR = 17;
    /// `SEDP_BUILTIN_SUBSCRIPTIONS_SECURE_WRITER` (DDS-Security).
    SUBSCRIPTIONS_SECURE_ANNOUNCER = 18;
    /// `SEDP_BUILTIN_SUBSCRIPTIONS_SECURE_READER` (DDS-Security).
    SUBSCRIPTIONS_SECURE_DETECTOR = 19;
    /// `BUILTIN_PARTICIPANT_MESSAGE_SECURE_WRITER` (DDS-Security).
    PARTICIPANT_MESSAGE_SECURE_WRITER = 20;
    /// `BUILTIN_PARTICIPANT_MESSAGE_SECURE_READER` (DDS-Security).
    PARTICIPANT_MESSAGE_SECURE_READER = 21;
    /// `BUILTIN_PARTICIPANT_STATELESS_MESSAGE_WRITER` (DDS-Security).
    PARTICIPANT_STATELESS_MESSAGE_WRITER = 22;
    /// `BUILTIN_PARTICIPANT_STATELESS_MESSAGE_READER` (DDS-Security).
    PARTICIPANT_STATELESS_MESSAGE_READER = 23;
    /// `BUILTIN_PARTICIPANT_VOLATILE_MESSAGE_SECURE_WRITER` (DDS-Security).
    PARTICIPANT_VOLATILE_MESSAGE_SECURE_WRITER = 24;
    /// `BUILTIN_PARTICIPANT_VOLATILE_MESSAGE_SECURE_READER` (DDS-Security).
    PARTICIPANT_VOLATILE_MESSAGE_SECURE_READER = 25;
    /// `SPDP_BUILTIN_PARTICIPANT_SECURE_WRITER` (DDS-Security).
    PARTICIPANT_SECURE_ANNOUNCER = 26;
    /// `SPDP_BUILTIN_PARTICIPANT_SECURE_READER` (DDS-Security).
    PARTICIPANT_SECURE_DETECTOR = 27;
}

impl BuiltinEndpointSet {
    /// No builtin endpoints.
    pub const EMPTY: BuiltinEndpointSet = BuiltinEndpointSet(0);
    /// The SPDP and SEDP publications/subscriptions announcers and detectors (`0x3f`): what a
    /// minimal participant needs and what we announce.
    pub const SPDP_SEDP: BuiltinEndpointSet = BuiltinEndpointSet(0x3f);
    /// Four octets on the wire.
    pub const LEN: usize = 4;

    /// True when every bit of `other` is set here.
    pub fn contains(self, other: BuiltinEndpointSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// Parse a `u32` in the cursor's byte order.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(BuiltinEndpointSet(r.u32("builtin endpoint set")?))
    }

    /// Emit a `u32` in the cursor's byte order.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.u32(self.0, "builtin endpoint set")
    }
}

impl BitOr for BuiltinEndpointSet {
    type Output = BuiltinEndpointSet;

    fn bitor(self, rhs: BuiltinEndpointSet) -> BuiltinEndpointSet {
        BuiltinEndpointSet(self.0 | rhs.0)
    }
}

impl BitOrAssign for BuiltinEndpointSet {
    fn bitor_assign(&mut self, rhs: BuiltinEndpointSet) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for BuiltinEndpointSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BuiltinEndpointSet({:#010x}", self.0)?;
        for (i, name) in self.names().enumerate() {
            f.write_str(if i == 0 { ": " } else { " | " })?;
            f.write_str(name)?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::cursor::Endianness;

    #[test]
    fn names_the_bits_amlip_announces() {
        let bes = BuiltinEndpointSet(0x0c3f);
        assert!(bes.contains(BuiltinEndpointSet::SPDP_SEDP));
        assert!(bes.contains(
            BuiltinEndpointSet::PARTICIPANT_MESSAGE_DATA_WRITER
                | BuiltinEndpointSet::PARTICIPANT_MESSAGE_DATA_READER
        ));
        assert!(!bes.contains(BuiltinEndpointSet::TYPELOOKUP_SERVICE_REQUEST_DATA_WRITER));
        assert_eq!(bes.names().count(), 8);
        assert_eq!(
            format!("{:?}", BuiltinEndpointSet(0x5)),
            "BuiltinEndpointSet(0x00000005: PARTICIPANT_ANNOUNCER | PUBLICATIONS_ANNOUNCER)"
        );
    }

    #[test]
    fn round_trips_in_both_orders_with_golden_bytes() {
        for (endian, bytes) in [
            (Endianness::Little, [0x3f, 0x0c, 0x00, 0x00]),
            (Endianness::Big, [0x00, 0x00, 0x0c, 0x3f]),
        ] {
            let mut buf = [0xa5u8; 5];
            BuiltinEndpointSet(0x0c3f)
                .emit(&mut Writer::new(&mut buf, endian))
                .unwrap();
            assert_eq!(&buf[..4], &bytes);
            assert_eq!(buf[4], 0xa5);
            let mut r = Reader::new(&bytes, endian);
            assert_eq!(
                BuiltinEndpointSet::parse(&mut r),
                Ok(BuiltinEndpointSet(0x0c3f))
            );
            for n in 0..4 {
                assert!(BuiltinEndpointSet::parse(&mut Reader::new(&bytes[..n], endian)).is_err());
            }
        }
    }
}
