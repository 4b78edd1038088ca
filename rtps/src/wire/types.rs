//! Basic RTPS value types (RTPS 2.5 §8.2, §9.3.2): protocol version, vendor id, GUID prefix,
//! entity id, GUID, sequence number, locator, time and duration.
//!
//! Each has `parse(&mut Reader)` and `emit(&mut Writer)`; none can panic on any input.

use core::fmt;

use super::cursor::{Reader, Writer};
use super::error::{EmitError, ParseError};

/// RTPS protocol version (RTPS 2.5 §9.3.2, `ProtocolVersion_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtocolVersion {
    /// Major version: 2 for every version we accept.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
}

impl ProtocolVersion {
    /// The version we send.
    pub const V2_4: ProtocolVersion = ProtocolVersion { major: 2, minor: 4 };
    /// Two octets on the wire.
    pub const LEN: usize = 2;

    /// Parse two octets.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let [major, minor] = r.take_array::<2>("protocol version")?;
        Ok(ProtocolVersion { major, minor })
    }

    /// Emit two octets.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.put(&[self.major, self.minor], "protocol version")
    }
}

/// Vendor id (RTPS 2.5 §9.3.1.3, `VendorId_t`); an open newtype (rule 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VendorId(pub [u8; 2]);

impl VendorId {
    /// Unknown vendor.
    pub const UNKNOWN: VendorId = VendorId([0, 0]);
    /// RTI Connext.
    pub const RTI: VendorId = VendorId([0x01, 0x01]);
    /// eProsima Fast DDS.
    pub const EPROSIMA: VendorId = VendorId([0x01, 0x0f]);
    /// Eclipse Cyclone DDS.
    pub const ECLIPSE: VendorId = VendorId([0x01, 0x10]);
    /// RustDDS.
    pub const RUSTDDS: VendorId = VendorId([0x01, 0x12]);
    /// Ours: amlip-rs. 0x01 0xa7 is not in the OMG vendor table as of 2026.
    pub const AMLIP_RS: VendorId = VendorId([0x01, 0xa7]);
    /// Two octets on the wire.
    pub const LEN: usize = 2;

    /// Parse two octets.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(VendorId(r.take_array::<2>("vendor id")?))
    }

    /// Emit two octets.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.put(&self.0, "vendor id")
    }
}

/// GUID prefix: the participant part of a GUID (RTPS 2.5 §8.2.4.3, `GuidPrefix_t`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct GuidPrefix(pub [u8; 12]);

impl GuidPrefix {
    /// `GUIDPREFIX_UNKNOWN`.
    pub const UNKNOWN: GuidPrefix = GuidPrefix([0; 12]);
    /// Twelve octets on the wire.
    pub const LEN: usize = 12;

    /// Parse twelve octets.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(GuidPrefix(r.take_array::<12>("guid prefix")?))
    }

    /// Emit twelve octets.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.put(&self.0, "guid prefix")
    }
}

impl fmt::Debug for GuidPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for GuidPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                f.write_str(".")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The kind octet of an entity id (RTPS 2.5 §9.3.1.2); an open newtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EntityKind(pub u8);

impl EntityKind {
    /// Unknown / user-defined unknown.
    pub const UNKNOWN: EntityKind = EntityKind(0x00);
    /// User participant (only with the built-in flag, see [`EntityKind::BUILTIN_PARTICIPANT`]).
    pub const BUILTIN_PARTICIPANT: EntityKind = EntityKind(0xc1);
    /// User writer with key.
    pub const WRITER_WITH_KEY: EntityKind = EntityKind(0x02);
    /// User writer without key.
    pub const WRITER_NO_KEY: EntityKind = EntityKind(0x03);
    /// User reader without key.
    pub const READER_NO_KEY: EntityKind = EntityKind(0x04);
    /// User reader with key.
    pub const READER_WITH_KEY: EntityKind = EntityKind(0x07);
    /// Built-in writer with key.
    pub const BUILTIN_WRITER_WITH_KEY: EntityKind = EntityKind(0xc2);
    /// Built-in writer without key.
    pub const BUILTIN_WRITER_NO_KEY: EntityKind = EntityKind(0xc3);
    /// Built-in reader without key.
    pub const BUILTIN_READER_NO_KEY: EntityKind = EntityKind(0xc4);
    /// Built-in reader with key.
    pub const BUILTIN_READER_WITH_KEY: EntityKind = EntityKind(0xc7);

    /// Built-in entity (bits 6-7 = 0b11).
    pub fn is_builtin(self) -> bool {
        self.0 & 0xc0 == 0xc0
    }

    /// Vendor-specific entity (bits 6-7 = 0b01).
    pub fn is_vendor_specific(self) -> bool {
        self.0 & 0xc0 == 0x40
    }

    /// A writer kind (keyed or keyless, user or built-in).
    pub fn is_writer(self) -> bool {
        matches!(self.0 & 0x3f, 0x02 | 0x03)
    }

    /// A reader kind (keyed or keyless, user or built-in).
    pub fn is_reader(self) -> bool {
        matches!(self.0 & 0x3f, 0x04 | 0x07)
    }

    /// A keyed writer or reader.
    pub fn is_keyed(self) -> bool {
        matches!(self.0 & 0x3f, 0x02 | 0x07)
    }
}

/// Entity id: the endpoint part of a GUID (RTPS 2.5 §8.2.4.3, §9.3.1.2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EntityId {
    /// Three-octet entity key.
    pub key: [u8; 3],
    /// Entity kind octet.
    pub kind: EntityKind,
}

impl EntityId {
    /// Four octets on the wire.
    pub const LEN: usize = 4;
    /// `ENTITYID_UNKNOWN`.
    pub const UNKNOWN: EntityId = EntityId::from_u32(0x0000_0000);
    /// `ENTITYID_PARTICIPANT`.
    pub const PARTICIPANT: EntityId = EntityId::from_u32(0x0000_01c1);
    /// `ENTITYID_SEDP_BUILTIN_TOPICS_ANNOUNCER`.
    pub const SEDP_TOPICS_ANNOUNCER: EntityId = EntityId::from_u32(0x0000_02c2);
    /// `ENTITYID_SEDP_BUILTIN_TOPICS_DETECTOR`.
    pub const SEDP_TOPICS_DETECTOR: EntityId = EntityId::from_u32(0x0000_02c7);
    /// `ENTITYID_SEDP_BUILTIN_PUBLICATIONS_ANNOUNCER`.
    pub const SEDP_PUBLICATIONS_ANNOUNCER: EntityId = EntityId::from_u32(0x0000_03c2);
    /// `ENTITYID_SEDP_BUILTIN_PUBLICATIONS_DETECTOR`.
    pub const SEDP_PUBLICATIONS_DETECTOR: EntityId = EntityId::from_u32(0x0000_03c7);
    /// `ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_ANNOUNCER`.
    pub const SEDP_SUBSCRIPTIONS_ANNOUNCER: EntityId = EntityId::from_u32(0x0000_04c2);
    /// `ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_DETECTOR`.
    pub const SEDP_SUBSCRIPTIONS_DETECTOR: EntityId = EntityId::from_u32(0x0000_04c7);
    /// `ENTITYID_SPDP_BUILTIN_PARTICIPANT_ANNOUNCER`.
    pub const SPDP_PARTICIPANT_ANNOUNCER: EntityId = EntityId::from_u32(0x0001_00c2);
    /// `ENTITYID_SPDP_BUILTIN_PARTICIPANT_DETECTOR`.
    pub const SPDP_PARTICIPANT_DETECTOR: EntityId = EntityId::from_u32(0x0001_00c7);
    /// `ENTITYID_P2P_BUILTIN_PARTICIPANT_MESSAGE_WRITER`.
    pub const P2P_PARTICIPANT_MESSAGE_WRITER: EntityId = EntityId::from_u32(0x0002_00c2);
    /// `ENTITYID_P2P_BUILTIN_PARTICIPANT_MESSAGE_READER`.
    pub const P2P_PARTICIPANT_MESSAGE_READER: EntityId = EntityId::from_u32(0x0002_00c7);

    /// From the big-endian `u32` the spec writes entity ids as.
    pub const fn from_u32(v: u32) -> Self {
        let b = v.to_be_bytes();
        EntityId {
            key: [b[0], b[1], b[2]],
            kind: EntityKind(b[3]),
        }
    }

    /// As the big-endian `u32` the spec writes entity ids as.
    pub const fn to_u32(self) -> u32 {
        u32::from_be_bytes([self.key[0], self.key[1], self.key[2], self.kind.0])
    }

    /// The four wire octets (entity ids are octet arrays: never byte-swapped).
    pub const fn to_bytes(self) -> [u8; 4] {
        [self.key[0], self.key[1], self.key[2], self.kind.0]
    }

    /// From the four wire octets.
    pub const fn from_bytes(b: [u8; 4]) -> Self {
        EntityId {
            key: [b[0], b[1], b[2]],
            kind: EntityKind(b[3]),
        }
    }

    /// Parse four octets.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(EntityId::from_bytes(r.take_array::<4>("entity id")?))
    }

    /// Emit four octets.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.put(&self.to_bytes(), "entity id")
    }
}

impl fmt::Debug for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.to_u32())
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Globally unique id of an RTPS entity (RTPS 2.5 §8.2.4.1, `GUID_t`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Guid {
    /// Participant part.
    pub prefix: GuidPrefix,
    /// Entity part.
    pub entity_id: EntityId,
}

impl Guid {
    /// Sixteen octets on the wire.
    pub const LEN: usize = 16;
    /// `GUID_UNKNOWN`.
    pub const UNKNOWN: Guid = Guid {
        prefix: GuidPrefix::UNKNOWN,
        entity_id: EntityId::UNKNOWN,
    };

    /// A GUID from its parts.
    pub const fn new(prefix: GuidPrefix, entity_id: EntityId) -> Self {
        Guid { prefix, entity_id }
    }

    /// The sixteen wire octets.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..12].copy_from_slice(&self.prefix.0);
        out[12..].copy_from_slice(&self.entity_id.to_bytes());
        out
    }

    /// From the sixteen wire octets.
    pub fn from_bytes(b: [u8; 16]) -> Self {
        let mut prefix = [0u8; 12];
        prefix.copy_from_slice(&b[..12]);
        Guid {
            prefix: GuidPrefix(prefix),
            entity_id: EntityId::from_bytes([b[12], b[13], b[14], b[15]]),
        }
    }

    /// Parse sixteen octets.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(Guid::from_bytes(r.take_array::<16>("guid")?))
    }

    /// Emit sixteen octets.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.put(&self.to_bytes(), "guid")
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}", self.prefix, self.entity_id)
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Sequence number (RTPS 2.5 §9.3.2, `SequenceNumber_t`): `high: i32`, `low: u32` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SequenceNumber(pub i64);

impl SequenceNumber {
    /// Eight octets on the wire.
    pub const LEN: usize = 8;
    /// `SEQUENCENUMBER_UNKNOWN` (high = -1, low = 0).
    pub const UNKNOWN: SequenceNumber = SequenceNumber(-(1i64 << 32));
    /// Zero: "nothing written yet".
    pub const ZERO: SequenceNumber = SequenceNumber(0);

    /// Parse `high: i32` then `low: u32` in the cursor's byte order.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let high = r.i32("sequence number high")?;
        let low = r.u32("sequence number low")?;
        Ok(SequenceNumber((i64::from(high) << 32) | i64::from(low)))
    }

    /// Emit `high: i32` then `low: u32` in the cursor's byte order.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.i32((self.0 >> 32) as i32, "sequence number high")?;
        w.u32(self.0 as u32, "sequence number low")
    }

    /// The next sequence number (saturating).
    pub fn next(self) -> Self {
        SequenceNumber(self.0.saturating_add(1))
    }
}

/// Locator kind (RTPS 2.5 §9.3.2, `LOCATOR_KIND_*`); an open newtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocatorKind(pub i32);

impl LocatorKind {
    /// `LOCATOR_KIND_INVALID`.
    pub const INVALID: LocatorKind = LocatorKind(-1);
    /// `LOCATOR_KIND_RESERVED`.
    pub const RESERVED: LocatorKind = LocatorKind(0);
    /// `LOCATOR_KIND_UDPv4`.
    pub const UDP_V4: LocatorKind = LocatorKind(1);
    /// `LOCATOR_KIND_UDPv6`.
    pub const UDP_V6: LocatorKind = LocatorKind(2);
    /// Fast DDS shared memory (vendor kind 16).
    pub const SHM: LocatorKind = LocatorKind(16);
}

/// A transport address (RTPS 2.5 §8.3.2, §9.3.2 `Locator_t`): kind, port, 16-octet address
/// (IPv4 in the last four octets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Locator {
    /// Transport kind.
    pub kind: LocatorKind,
    /// Port (u32 on the wire).
    pub port: u32,
    /// Address; IPv4 uses the last four octets.
    pub address: [u8; 16],
}

impl Locator {
    /// Twenty-four octets on the wire.
    pub const LEN: usize = 24;
    /// `LOCATOR_INVALID`.
    pub const INVALID: Locator = Locator {
        kind: LocatorKind::INVALID,
        port: 0,
        address: [0; 16],
    };

    /// A UDPv4 locator.
    pub fn udp_v4(ip: std::net::Ipv4Addr, port: u16) -> Self {
        let mut address = [0u8; 16];
        address[12..].copy_from_slice(&ip.octets());
        Locator {
            kind: LocatorKind::UDP_V4,
            port: u32::from(port),
            address,
        }
    }

    /// The socket address, if this is a UDPv4 or UDPv6 locator with a valid port.
    pub fn to_socket_addr(&self) -> Option<std::net::SocketAddr> {
        let port = u16::try_from(self.port).ok().filter(|p| *p != 0)?;
        match self.kind {
            LocatorKind::UDP_V4 => {
                let [a, b, c, d] = [
                    self.address[12],
                    self.address[13],
                    self.address[14],
                    self.address[15],
                ];
                Some(std::net::SocketAddr::from(([a, b, c, d], port)))
            }
            LocatorKind::UDP_V6 => Some(std::net::SocketAddr::from((self.address, port))),
            _ => None,
        }
    }

    /// Parse kind, port, address in the cursor's byte order.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let kind = LocatorKind(r.i32("locator kind")?);
        let port = r.u32("locator port")?;
        let address = r.take_array::<16>("locator address")?;
        Ok(Locator {
            kind,
            port,
            address,
        })
    }

    /// Emit kind, port, address in the cursor's byte order.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.i32(self.kind.0, "locator kind")?;
        w.u32(self.port, "locator port")?;
        w.put(&self.address, "locator address")
    }
}

/// RTPS time (RTPS 2.5 §9.3.2 `Time_t`): seconds and 1/2^32 fractions of a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Time {
    /// Seconds since the Unix epoch.
    pub seconds: i32,
    /// Fractions of a second in units of 2^-32 s.
    pub fraction: u32,
}

impl Time {
    /// Eight octets on the wire.
    pub const LEN: usize = 8;
    /// `TIME_ZERO`.
    pub const ZERO: Time = Time {
        seconds: 0,
        fraction: 0,
    };
    /// `TIME_INVALID`.
    pub const INVALID: Time = Time {
        seconds: -1,
        fraction: 0xffff_ffff,
    };
    /// `TIME_INFINITE`.
    pub const INFINITE: Time = Time {
        seconds: 0x7fff_ffff,
        fraction: 0xffff_ffff,
    };

    /// Parse seconds then fraction in the cursor's byte order.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let seconds = r.i32("time seconds")?;
        let fraction = r.u32("time fraction")?;
        Ok(Time { seconds, fraction })
    }

    /// Emit seconds then fraction in the cursor's byte order.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.i32(self.seconds, "time seconds")?;
        w.u32(self.fraction, "time fraction")
    }

    /// From a duration since the Unix epoch (saturating).
    pub fn from_unix(d: std::time::Duration) -> Self {
        let seconds = i32::try_from(d.as_secs()).unwrap_or(i32::MAX);
        let fraction = ((u64::from(d.subsec_nanos()) << 32) / 1_000_000_000) as u32;
        Time { seconds, fraction }
    }
}

/// RTPS duration (RTPS 2.5 §9.3.2 `Duration_t`): same layout as [`Time`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Duration {
    /// Whole seconds.
    pub seconds: i32,
    /// Fractions of a second in units of 2^-32 s.
    pub fraction: u32,
}

impl Duration {
    /// Eight octets on the wire.
    pub const LEN: usize = 8;
    /// `DURATION_ZERO`.
    pub const ZERO: Duration = Duration {
        seconds: 0,
        fraction: 0,
    };
    /// `DURATION_INFINITE` (0x7fffffff s, 0xffffffff fraction).
    pub const INFINITE: Duration = Duration {
        seconds: 0x7fff_ffff,
        fraction: 0xffff_ffff,
    };

    /// Parse seconds then fraction in the cursor's byte order.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let seconds = r.i32("duration seconds")?;
        let fraction = r.u32("duration fraction")?;
        Ok(Duration { seconds, fraction })
    }

    /// Emit seconds then fraction in the cursor's byte order.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.i32(self.seconds, "duration seconds")?;
        w.u32(self.fraction, "duration fraction")
    }

    /// From a `std::time::Duration` (saturating to [`Duration::INFINITE`]).
    pub fn from_std(d: std::time::Duration) -> Self {
        match i32::try_from(d.as_secs()) {
            Ok(seconds) if seconds < i32::MAX => Duration {
                seconds,
                fraction: ((u64::from(d.subsec_nanos()) << 32) / 1_000_000_000) as u32,
            },
            _ => Duration::INFINITE,
        }
    }

    /// As a `std::time::Duration`; `None` for infinite; negative values clamp to zero.
    pub fn to_std(self) -> Option<std::time::Duration> {
        if self == Duration::INFINITE {
            return None;
        }
        if self.seconds < 0 {
            return Some(std::time::Duration::ZERO);
        }
        let nanos = (u64::from(self.fraction) * 1_000_000_000) >> 32;
        Some(std::time::Duration::new(self.seconds as u64, nanos as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::super::cursor::Endianness;
    use super::*;

    #[test]
    fn sequence_number_is_high_then_low() {
        let b = [0, 0, 0, 0, 5, 0, 0, 0];
        let sn = SequenceNumber::parse(&mut Reader::new(&b, Endianness::Little)).unwrap();
        assert_eq!(sn, SequenceNumber(5));
        let mut out = [0xa5u8; 8];
        SequenceNumber(5)
            .emit(&mut Writer::new(&mut out, Endianness::Little))
            .unwrap();
        assert_eq!(out, b);
        let unknown = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        let sn = SequenceNumber::parse(&mut Reader::new(&unknown, Endianness::Big)).unwrap();
        assert_eq!(sn, SequenceNumber::UNKNOWN);
    }

    #[test]
    fn entity_ids_are_octets() {
        assert_eq!(
            EntityId::SPDP_PARTICIPANT_ANNOUNCER.to_bytes(),
            [0, 1, 0, 0xc2]
        );
        assert!(EntityId::SEDP_PUBLICATIONS_ANNOUNCER.kind.is_writer());
        assert!(EntityId::SEDP_PUBLICATIONS_DETECTOR.kind.is_reader());
        assert!(EntityId::SEDP_PUBLICATIONS_DETECTOR.kind.is_builtin());
        assert!(!EntityKind::WRITER_NO_KEY.is_keyed());
    }

    #[test]
    fn locator_round_trips_and_converts() {
        let l = Locator::udp_v4(std::net::Ipv4Addr::LOCALHOST, 7410);
        let mut buf = [0u8; 24];
        l.emit(&mut Writer::new(&mut buf, Endianness::Little))
            .unwrap();
        assert_eq!(
            Locator::parse(&mut Reader::new(&buf, Endianness::Little)),
            Ok(l)
        );
        assert_eq!(l.to_socket_addr(), Some("127.0.0.1:7410".parse().unwrap()));
        assert_eq!(Locator::INVALID.to_socket_addr(), None);
    }

    #[test]
    fn durations_convert() {
        let d = Duration::from_std(std::time::Duration::from_millis(1500));
        assert_eq!(d.seconds, 1);
        assert_eq!(d.fraction, 0x8000_0000);
        assert_eq!(Duration::INFINITE.to_std(), None);
    }
}
