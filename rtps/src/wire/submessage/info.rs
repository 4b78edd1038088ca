//! Interpreter submessages that change the receiver's state (RTPS 2.5 §8.3.7.7 - .9, §8.3.7.11;
//! §9.4.5.8 - §9.4.5.14): PAD, INFO_TS, INFO_SRC, INFO_DST, INFO_REPLY and INFO_REPLY_IP4.
//!
//! INFO_REPLY's locator lists are capped at [`MAX_REPLY_LOCATORS`] each before allocating.

use super::super::cursor::{Reader, Writer};
use super::super::error::{EmitError, ParseError};
use super::super::types::{GuidPrefix, Locator, ProtocolVersion, Time, VendorId};

/// INFO_TS I flag: the timestamp is invalidated and absent (RTPS 2.5 §9.4.5.9).
const INFO_TS_INVALIDATE: u8 = 0x02;
/// INFO_REPLY / INFO_REPLY_IP4 M flag: a multicast list follows (RTPS 2.5 §9.4.5.11, .13).
const INFO_REPLY_MULTICAST: u8 = 0x02;

/// Most locators accepted in each INFO_REPLY list.
pub const MAX_REPLY_LOCATORS: usize = 32;

/// Padding to align what follows (RTPS 2.5 §8.3.7.11, `Pad`); the body is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pad {
    /// Octets of padding after the submessage header (emitted as zeros).
    pub len: u16,
}

impl Pad {
    pub(super) fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let len = u16::try_from(r.take_rest().len()).map_err(|_| ParseError::TooLarge("pad"))?;
        Ok(Pad { len })
    }

    pub(super) fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.zeros(usize::from(self.len), "pad")
    }
}

/// The source timestamp of the submessages that follow (RTPS 2.5 §8.3.7.9, `InfoTimestamp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoTimestamp {
    /// The timestamp; `None` when the I flag invalidates it.
    pub timestamp: Option<Time>,
}

impl InfoTimestamp {
    pub(super) fn parse(flags: u8, r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let timestamp = if flags & INFO_TS_INVALIDATE != 0 {
            None
        } else {
            Some(Time::parse(r)?)
        };
        Ok(InfoTimestamp { timestamp })
    }

    pub(super) fn flags(&self) -> u8 {
        match self.timestamp {
            None => INFO_TS_INVALIDATE,
            Some(_) => 0,
        }
    }

    pub(super) fn body_len(&self) -> usize {
        match self.timestamp {
            None => 0,
            Some(_) => Time::LEN,
        }
    }

    pub(super) fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        match &self.timestamp {
            None => Ok(()),
            Some(t) => t.emit(w),
        }
    }
}

/// The sender of the submessages that follow (RTPS 2.5 §8.3.7.9, `InfoSource`); an unused
/// `long` precedes the fields on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoSource {
    /// Protocol version of the source.
    pub version: ProtocolVersion,
    /// Vendor of the source.
    pub vendor_id: VendorId,
    /// GUID prefix of the source participant.
    pub guid_prefix: GuidPrefix,
}

impl InfoSource {
    pub(super) const BODY_LEN: usize = 20;

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        r.skip(4, "info_src unused")?;
        Ok(InfoSource {
            version: ProtocolVersion::parse(r)?,
            vendor_id: VendorId::parse(r)?,
            guid_prefix: GuidPrefix::parse(r)?,
        })
    }

    pub(super) fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.u32(0, "info_src unused")?;
        self.version.emit(w)?;
        self.vendor_id.emit(w)?;
        self.guid_prefix.emit(w)
    }
}

/// The participant the submessages that follow are for (RTPS 2.5 §8.3.7.7,
/// `InfoDestination`); `GUIDPREFIX_UNKNOWN` means every participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoDestination {
    /// GUID prefix of the destination participant.
    pub guid_prefix: GuidPrefix,
}

impl InfoDestination {
    pub(super) const BODY_LEN: usize = 12;

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(InfoDestination {
            guid_prefix: GuidPrefix::parse(r)?,
        })
    }

    pub(super) fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.guid_prefix.emit(w)
    }
}

/// Where to send replies to the submessages that follow (RTPS 2.5 §8.3.7.8, `InfoReply`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InfoReply {
    /// Unicast reply locators (at most [`MAX_REPLY_LOCATORS`]).
    pub unicast_locators: Vec<Locator>,
    /// Multicast reply locators (M flag; at most [`MAX_REPLY_LOCATORS`]).
    pub multicast_locators: Vec<Locator>,
}

fn parse_locators(r: &mut Reader<'_>) -> Result<Vec<Locator>, ParseError> {
    let n = r.u32("info_reply locator count")?;
    let n = usize::try_from(n)
        .ok()
        .filter(|n| *n <= MAX_REPLY_LOCATORS)
        .ok_or(ParseError::TooLarge("info_reply locator list"))?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(Locator::parse(r)?);
    }
    Ok(out)
}

fn emit_locators(w: &mut Writer<'_>, l: &[Locator]) -> Result<(), EmitError> {
    if l.len() > MAX_REPLY_LOCATORS {
        return Err(EmitError::Unrepresentable("info_reply locator list"));
    }
    w.u32(l.len() as u32, "info_reply locator count")?;
    l.iter().try_for_each(|l| l.emit(w))
}

impl InfoReply {
    pub(super) fn parse(flags: u8, r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let unicast_locators = parse_locators(r)?;
        let multicast_locators = if flags & INFO_REPLY_MULTICAST != 0 {
            parse_locators(r)?
        } else {
            Vec::new()
        };
        Ok(InfoReply {
            unicast_locators,
            multicast_locators,
        })
    }

    /// The M flag is set whenever there are multicast locators.
    pub(super) fn flags(&self) -> u8 {
        if self.multicast_locators.is_empty() {
            0
        } else {
            INFO_REPLY_MULTICAST
        }
    }

    pub(super) fn body_len(&self) -> usize {
        let list = |l: &Vec<Locator>| 4 + Locator::LEN * l.len();
        let m = if self.multicast_locators.is_empty() {
            0
        } else {
            list(&self.multicast_locators)
        };
        list(&self.unicast_locators) + m
    }

    pub(super) fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        emit_locators(w, &self.unicast_locators)?;
        if !self.multicast_locators.is_empty() {
            emit_locators(w, &self.multicast_locators)?;
        }
        Ok(())
    }
}

/// A UDPv4 address and port as INFO_REPLY_IP4 carries them (RTPS 2.5 §9.4.5.13,
/// `LocatorUDPv4_t`), in the submessage's byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LocatorUdpV4 {
    /// IPv4 address as a `u32` (`a.b.c.d` = `a << 24 | ...`).
    pub address: u32,
    /// UDP port (u32 on the wire).
    pub port: u32,
}

impl LocatorUdpV4 {
    /// Eight octets on the wire.
    pub const LEN: usize = 8;

    /// Parse address then port in the cursor's byte order.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(LocatorUdpV4 {
            address: r.u32("udpv4 locator address")?,
            port: r.u32("udpv4 locator port")?,
        })
    }

    /// Emit address then port in the cursor's byte order.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.u32(self.address, "udpv4 locator address")?;
        w.u32(self.port, "udpv4 locator port")
    }

    /// As a general [`Locator`] (kind UDPv4, address in the last four octets).
    pub fn to_locator(self) -> Locator {
        let mut address = [0u8; 16];
        address[12..].copy_from_slice(&self.address.to_be_bytes());
        Locator {
            kind: super::super::types::LocatorKind::UDP_V4,
            port: self.port,
            address,
        }
    }
}

/// Where to send replies, UDPv4 only (RTPS 2.5 §9.4.5.13, `InfoReplyIp4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoReplyIp4 {
    /// Unicast reply locator.
    pub unicast: LocatorUdpV4,
    /// Multicast reply locator (M flag).
    pub multicast: Option<LocatorUdpV4>,
}

impl InfoReplyIp4 {
    pub(super) fn parse(flags: u8, r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let unicast = LocatorUdpV4::parse(r)?;
        let multicast = if flags & INFO_REPLY_MULTICAST != 0 {
            Some(LocatorUdpV4::parse(r)?)
        } else {
            None
        };
        Ok(InfoReplyIp4 { unicast, multicast })
    }

    pub(super) fn flags(&self) -> u8 {
        match self.multicast {
            Some(_) => INFO_REPLY_MULTICAST,
            None => 0,
        }
    }

    pub(super) fn body_len(&self) -> usize {
        match self.multicast {
            Some(_) => 2 * LocatorUdpV4::LEN,
            None => LocatorUdpV4::LEN,
        }
    }

    pub(super) fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.unicast.emit(w)?;
        match &self.multicast {
            Some(m) => m.emit(w),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::cursor::Endianness;
    use super::super::super::types::LocatorKind;
    use super::super::testutil::*;
    use super::super::Submessage;
    use super::*;
    use proptest::prelude::*;

    const P: GuidPrefix = GuidPrefix([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    #[test]
    fn pad_golden_bytes_keep_their_length() {
        let s = Submessage::Pad(Pad { len: 8 });
        let le = [0x01, 0x01, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        golden_round_trip(&s, Endianness::Little, &le);
        // A zero-length PAD is just a header and does not extend to the end of the message.
        golden_round_trip(
            &Submessage::Pad(Pad { len: 0 }),
            Endianness::Big,
            &[0x01, 0x00, 0, 0],
        );
        truncations_fail(&le, 0);
    }

    #[test]
    fn info_ts_golden_bytes_with_and_without_a_timestamp() {
        let s = Submessage::InfoTimestamp(InfoTimestamp {
            timestamp: Some(Time {
                seconds: 0x1234_5678,
                fraction: 0x8000_0000,
            }),
        });
        let le = [0x09, 0x01, 8, 0, 0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0x80];
        golden_round_trip(&s, Endianness::Little, &le);
        truncations_fail(&le, 8);
        let none = Submessage::InfoTimestamp(InfoTimestamp { timestamp: None });
        golden_round_trip(&none, Endianness::Little, &[0x09, 0x03, 0, 0]);
        golden_round_trip(&none, Endianness::Big, &[0x09, 0x02, 0, 0]);
    }

    #[test]
    fn info_src_golden_bytes() {
        let s = Submessage::InfoSource(InfoSource {
            version: ProtocolVersion { major: 2, minor: 3 },
            vendor_id: VendorId::EPROSIMA,
            guid_prefix: P,
        });
        #[rustfmt::skip]
        let le = [
            0x0c, 0x01, 20, 0,
            0, 0, 0, 0, 2, 3, 0x01, 0x0f,
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        ];
        golden_round_trip(&s, Endianness::Little, &le);
        truncations_fail(&le, 20);
    }

    #[test]
    fn info_dst_golden_bytes() {
        let s = Submessage::InfoDestination(InfoDestination { guid_prefix: P });
        let be = [0x0e, 0x00, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        golden_round_trip(&s, Endianness::Big, &be);
        truncations_fail(&be, 12);
    }

    #[test]
    fn info_reply_golden_bytes() {
        let s = Submessage::InfoReply(InfoReply {
            unicast_locators: vec![Locator::udp_v4([127, 0, 0, 1].into(), 7411)],
            multicast_locators: vec![Locator::udp_v4([239, 255, 0, 1].into(), 7401)],
        });
        #[rustfmt::skip]
        let le = [
            0x0f, 0x03, 56, 0,
            1, 0, 0, 0,
            1, 0, 0, 0, 0xf3, 0x1c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1,
            1, 0, 0, 0,
            1, 0, 0, 0, 0xe9, 0x1c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 239, 255, 0, 1,
        ];
        golden_round_trip(&s, Endianness::Little, &le);
        truncations_fail(&le, 56);
    }

    #[test]
    fn info_reply_caps_its_locator_lists_before_allocating() {
        let b = [0x0f, 0x00, 0, 4, 0, 0, 0, 33];
        assert_eq!(
            parse_one(&b),
            Err(ParseError::TooLarge("info_reply locator list"))
        );
        let b = [0x0f, 0x00, 0, 4, 0xff, 0xff, 0xff, 0xff];
        assert!(parse_one(&b).is_err());
        let s = Submessage::InfoReply(InfoReply {
            unicast_locators: vec![Locator::INVALID; 33],
            multicast_locators: vec![],
        });
        let mut buf = vec![0u8; 2000];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        assert!(s.emit(&mut w).is_err());
    }

    #[test]
    fn info_reply_ip4_golden_bytes() {
        let s = Submessage::InfoReplyIp4(InfoReplyIp4 {
            unicast: LocatorUdpV4 {
                address: 0x7f00_0001,
                port: 7411,
            },
            multicast: Some(LocatorUdpV4 {
                address: 0xefff_0001,
                port: 7401,
            }),
        });
        #[rustfmt::skip]
        let be = [
            0x0d, 0x02, 0, 16,
            0x7f, 0, 0, 1, 0, 0, 0x1c, 0xf3,
            0xef, 0xff, 0, 1, 0, 0, 0x1c, 0xe9,
        ];
        golden_round_trip(&s, Endianness::Big, &be);
        truncations_fail(&be, 16);
        let Submessage::InfoReplyIp4(r) = s else {
            unreachable!()
        };
        assert_eq!(
            r.unicast.to_locator(),
            Locator::udp_v4([127, 0, 0, 1].into(), 7411)
        );
    }

    fn locator() -> impl Strategy<Value = Locator> {
        (any::<i32>(), any::<u32>(), any::<[u8; 16]>()).prop_map(|(k, port, address)| Locator {
            kind: LocatorKind(k),
            port,
            address,
        })
    }

    fn udp4() -> impl Strategy<Value = LocatorUdpV4> {
        (any::<u32>(), any::<u32>()).prop_map(|(address, port)| LocatorUdpV4 { address, port })
    }

    proptest! {
        #[test]
        fn pads_round_trip(len in 0u16..2000, e in endian()) {
            let s = Submessage::Pad(Pad { len: len & !3 });
            round_trip(&s, e)?;
        }

        #[test]
        fn info_timestamps_round_trip(t in proptest::option::of((any::<i32>(), any::<u32>())), e in endian()) {
            let timestamp = t.map(|(seconds, fraction)| Time { seconds, fraction });
            round_trip(&Submessage::InfoTimestamp(InfoTimestamp { timestamp }), e)?;
        }

        #[test]
        fn info_sources_round_trip(v: [u8; 2], vendor: [u8; 2], p in guid_prefix(), e in endian()) {
            let s = InfoSource { version: ProtocolVersion { major: v[0], minor: v[1] }, vendor_id: VendorId(vendor), guid_prefix: p };
            round_trip(&Submessage::InfoSource(s), e)?;
        }

        #[test]
        fn info_destinations_round_trip(p in guid_prefix(), e in endian()) {
            round_trip(&Submessage::InfoDestination(InfoDestination { guid_prefix: p }), e)?;
        }

        #[test]
        fn info_replies_round_trip(
            u in proptest::collection::vec(locator(), 0..=MAX_REPLY_LOCATORS),
            m in proptest::collection::vec(locator(), 0..=MAX_REPLY_LOCATORS),
            e in endian(),
        ) {
            round_trip(&Submessage::InfoReply(InfoReply { unicast_locators: u, multicast_locators: m }), e)?;
        }

        #[test]
        fn info_reply_ip4s_round_trip(u in udp4(), m in proptest::option::of(udp4()), e in endian()) {
            round_trip(&Submessage::InfoReplyIp4(InfoReplyIp4 { unicast: u, multicast: m }), e)?;
        }
    }
}
