//! Parameter lists (RTPS 2.5 §9.4.2.11, §9.6.2.2): the encoding of inline QoS and of SPDP/SEDP
//! discovery data (PL_CDR).
//!
//! A list is a sequence of `{ parameterId: u16, length: u16, value[length] }`, each value padded
//! to a multiple of 4, ended by `PID_SENTINEL`. [`ParameterList`] is a validated view that
//! borrows the bytes; iterating it never fails because `parse` already walked the whole list.
//! The number of parameters is capped at [`MAX_PARAMETERS`] before anything is allocated.
//!
//! Ids are an open newtype (rule 5): unknown ids are kept and skipped. The must-understand bit
//! (0x4000) and the vendor-specific bit (0x8000) are exposed for the caller to decide.

use super::cursor::{padding, Endianness, Patch, Reader, Writer};
use super::error::{EmitError, ParseError};

/// Most parameters accepted in one list (a 64 KiB datagram could hold 16 K empty ones).
pub const MAX_PARAMETERS: usize = 1024;

/// A parameter id (RTPS 2.5 §9.6.2.2.2, Table 9.12); an open newtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParameterId(pub u16);

macro_rules! pids {
    ($($(#[$doc:meta])* $name:ident = $v:expr;)*) => {
        impl ParameterId {
            $($(#[$doc])* pub const $name: ParameterId = ParameterId($v);)*

            /// The spec name of a known id (for logs and dumps).
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($v => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

pids! {
    /// `PID_PAD`.
    PAD = 0x0000;
    /// `PID_SENTINEL`: ends the list.
    SENTINEL = 0x0001;
    /// `PID_PARTICIPANT_LEASE_DURATION`.
    PARTICIPANT_LEASE_DURATION = 0x0002;
    /// `PID_TIME_BASED_FILTER`.
    TIME_BASED_FILTER = 0x0004;
    /// `PID_TOPIC_NAME`.
    TOPIC_NAME = 0x0005;
    /// `PID_OWNERSHIP_STRENGTH`.
    OWNERSHIP_STRENGTH = 0x0006;
    /// `PID_TYPE_NAME`.
    TYPE_NAME = 0x0007;
    /// `PID_METATRAFFIC_MULTICAST_IPADDRESS` (deprecated).
    METATRAFFIC_MULTICAST_IPADDRESS = 0x000b;
    /// `PID_DEFAULT_UNICAST_IPADDRESS` (deprecated).
    DEFAULT_UNICAST_IPADDRESS = 0x000c;
    /// `PID_METATRAFFIC_UNICAST_PORT` (deprecated).
    METATRAFFIC_UNICAST_PORT = 0x000d;
    /// `PID_DEFAULT_UNICAST_PORT` (deprecated).
    DEFAULT_UNICAST_PORT = 0x000e;
    /// `PID_DOMAIN_ID`.
    DOMAIN_ID = 0x000f;
    /// `PID_MULTICAST_IPADDRESS` (deprecated).
    MULTICAST_IPADDRESS = 0x0011;
    /// `PID_PROTOCOL_VERSION`.
    PROTOCOL_VERSION = 0x0015;
    /// `PID_VENDORID`.
    VENDOR_ID = 0x0016;
    /// `PID_RELIABILITY`.
    RELIABILITY = 0x001a;
    /// `PID_LIVELINESS`.
    LIVELINESS = 0x001b;
    /// `PID_DURABILITY`.
    DURABILITY = 0x001d;
    /// `PID_DURABILITY_SERVICE`.
    DURABILITY_SERVICE = 0x001e;
    /// `PID_OWNERSHIP`.
    OWNERSHIP = 0x001f;
    /// `PID_PRESENTATION`.
    PRESENTATION = 0x0021;
    /// `PID_DEADLINE`.
    DEADLINE = 0x0023;
    /// `PID_DESTINATION_ORDER`.
    DESTINATION_ORDER = 0x0025;
    /// `PID_LATENCY_BUDGET`.
    LATENCY_BUDGET = 0x0027;
    /// `PID_PARTITION`.
    PARTITION = 0x0029;
    /// `PID_LIFESPAN`.
    LIFESPAN = 0x002b;
    /// `PID_USER_DATA`.
    USER_DATA = 0x002c;
    /// `PID_GROUP_DATA`.
    GROUP_DATA = 0x002d;
    /// `PID_TOPIC_DATA`.
    TOPIC_DATA = 0x002e;
    /// `PID_UNICAST_LOCATOR`.
    UNICAST_LOCATOR = 0x002f;
    /// `PID_MULTICAST_LOCATOR`.
    MULTICAST_LOCATOR = 0x0030;
    /// `PID_DEFAULT_UNICAST_LOCATOR`.
    DEFAULT_UNICAST_LOCATOR = 0x0031;
    /// `PID_METATRAFFIC_UNICAST_LOCATOR`.
    METATRAFFIC_UNICAST_LOCATOR = 0x0032;
    /// `PID_METATRAFFIC_MULTICAST_LOCATOR`.
    METATRAFFIC_MULTICAST_LOCATOR = 0x0033;
    /// `PID_CONTENT_FILTER_PROPERTY`.
    CONTENT_FILTER_PROPERTY = 0x0035;
    /// `PID_EXPECTS_INLINE_QOS`.
    EXPECTS_INLINE_QOS = 0x0043;
    /// `PID_PARTICIPANT_MANUAL_LIVELINESS_COUNT`.
    PARTICIPANT_MANUAL_LIVELINESS_COUNT = 0x0034;
    /// `PID_PARTICIPANT_BUILTIN_ENDPOINTS` (deprecated).
    PARTICIPANT_BUILTIN_ENDPOINTS = 0x0044;
    /// `PID_PARTICIPANT_ENTITYID`.
    PARTICIPANT_ENTITYID = 0x0051;
    /// `PID_GROUP_GUID`.
    GROUP_GUID = 0x0052;
    /// `PID_GROUP_ENTITYID`.
    GROUP_ENTITYID = 0x0053;
    /// `PID_HISTORY`.
    HISTORY = 0x0040;
    /// `PID_RESOURCE_LIMITS`.
    RESOURCE_LIMITS = 0x0041;
    /// `PID_DEFAULT_MULTICAST_LOCATOR`.
    DEFAULT_MULTICAST_LOCATOR = 0x0048;
    /// `PID_TRANSPORT_PRIORITY`.
    TRANSPORT_PRIORITY = 0x0049;
    /// `PID_PARTICIPANT_GUID`.
    PARTICIPANT_GUID = 0x0050;
    /// `PID_BUILTIN_ENDPOINT_SET`.
    BUILTIN_ENDPOINT_SET = 0x0058;
    /// `PID_PROPERTY_LIST`.
    PROPERTY_LIST = 0x0059;
    /// `PID_TYPE_MAX_SIZE_SERIALIZED`.
    TYPE_MAX_SIZE_SERIALIZED = 0x0060;
    /// `PID_ENTITY_NAME`.
    ENTITY_NAME = 0x0062;
    /// `PID_ENDPOINT_GUID`.
    ENDPOINT_GUID = 0x005a;
    /// `PID_CONTENT_FILTER_INFO`.
    CONTENT_FILTER_INFO = 0x0055;
    /// `PID_COHERENT_SET`.
    COHERENT_SET = 0x0056;
    /// `PID_DIRECTED_WRITE`.
    DIRECTED_WRITE = 0x0057;
    /// `PID_ORIGINAL_WRITER_INFO`.
    ORIGINAL_WRITER_INFO = 0x0061;
    /// `PID_KEY_HASH`.
    KEY_HASH = 0x0070;
    /// `PID_STATUS_INFO`.
    STATUS_INFO = 0x0071;
    /// `PID_TYPE_CONSISTENCY` (XTypes).
    TYPE_CONSISTENCY = 0x0074;
    /// `PID_TYPE_INFORMATION` (XTypes).
    TYPE_INFORMATION = 0x0075;
    /// `PID_DATA_REPRESENTATION` (XTypes).
    DATA_REPRESENTATION = 0x0073;
    /// `PID_BUILTIN_ENDPOINT_QOS`.
    BUILTIN_ENDPOINT_QOS = 0x0077;
    /// `PID_DOMAIN_TAG`.
    DOMAIN_TAG = 0x4014;
}

impl ParameterId {
    /// The must-understand bit (RTPS 2.5 §9.6.2.2.1): a receiver that does not know the id
    /// must treat the whole sample as incompatible.
    pub fn must_understand(self) -> bool {
        self.0 & 0x4000 != 0
    }

    /// The vendor-specific bit: interpret only when the sender's vendor is known.
    pub fn is_vendor_specific(self) -> bool {
        self.0 & 0x8000 != 0
    }
}

/// One parameter: its id and its value bytes as on the wire (padding included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameter<'a> {
    /// Parameter id.
    pub id: ParameterId,
    /// Value bytes (length as announced, which should include the padding to 4).
    pub value: &'a [u8],
}

/// A validated parameter list view: every parameter up to (not including) `PID_SENTINEL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParameterList<'a> {
    /// The list's bytes including the sentinel.
    bytes: &'a [u8],
    endian: Endianness,
    count: usize,
}

impl<'a> ParameterList<'a> {
    /// Walk a list from the cursor up to and including its `PID_SENTINEL`, leaving the cursor
    /// after the sentinel. The cursor's byte order is the list's.
    pub fn parse(r: &mut Reader<'a>) -> Result<Self, ParseError> {
        let start = r.rest();
        let begin = r.position();
        let mut count = 0usize;
        loop {
            let id = ParameterId(r.u16("parameter id")?);
            let len = usize::from(r.u16("parameter length")?);
            if id == ParameterId::SENTINEL {
                // The sentinel's length is ignored (RTPS 2.5 §9.4.2.11), but some stacks put
                // garbage there; we do not skip it.
                break;
            }
            r.skip(len, "parameter value")?;
            count += 1;
            if count > MAX_PARAMETERS {
                return Err(ParseError::TooLarge("parameter list"));
            }
        }
        let used = r.position() - begin;
        Ok(ParameterList {
            bytes: &start[..used],
            endian: r.endian(),
            count,
        })
    }

    /// An empty list (just a sentinel) in the given byte order.
    pub fn empty(endian: Endianness) -> ParameterList<'static> {
        const LE: [u8; 4] = [0x01, 0x00, 0x00, 0x00];
        const BE: [u8; 4] = [0x00, 0x01, 0x00, 0x00];
        let bytes: &'static [u8] = match endian {
            Endianness::Little => &LE,
            Endianness::Big => &BE,
        };
        ParameterList {
            bytes,
            endian,
            count: 0,
        }
    }

    /// The list's bytes as on the wire, sentinel included (for re-emitting verbatim).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The byte order of the list's ids, lengths and values.
    pub fn endian(&self) -> Endianness {
        self.endian
    }

    /// Number of parameters (sentinel excluded, `PID_PAD` included).
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when the list holds only the sentinel.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Iterate the parameters in wire order.
    pub fn iter(&self) -> ParameterIter<'a> {
        ParameterIter {
            r: Reader::new(self.bytes, self.endian),
            left: self.count,
        }
    }

    /// The first parameter with this id.
    pub fn get(&self, id: ParameterId) -> Option<Parameter<'a>> {
        self.iter().find(|p| p.id == id)
    }

    /// A cursor over the value of the first parameter with this id, in the list's byte order.
    pub fn reader(&self, id: ParameterId) -> Option<Reader<'a>> {
        self.get(id).map(|p| Reader::new(p.value, self.endian))
    }
}

/// Iterator over a validated [`ParameterList`].
#[derive(Debug, Clone)]
pub struct ParameterIter<'a> {
    r: Reader<'a>,
    left: usize,
}

impl<'a> Iterator for ParameterIter<'a> {
    type Item = Parameter<'a>;

    fn next(&mut self) -> Option<Parameter<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // The list was validated by `parse`, so these cannot fail; if they did, end early.
        let id = ParameterId(self.r.u16("parameter id").ok()?);
        let len = usize::from(self.r.u16("parameter length").ok()?);
        let value = self.r.take(len, "parameter value").ok()?;
        Some(Parameter { id, value })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

/// Emit one parameter: id, a length patched after `body` runs, the body, and zero padding to a
/// multiple of 4 (counted in the length, RTPS 2.5 §9.4.2.11).
pub fn emit_parameter(
    w: &mut Writer<'_>,
    id: ParameterId,
    body: impl FnOnce(&mut Writer<'_>) -> Result<(), EmitError>,
) -> Result<(), EmitError> {
    w.u16(id.0, "parameter id")?;
    let len: Patch = w.reserve_u16("parameter length")?;
    body(w)?;
    let pad = padding(w.since(len), 4);
    w.zeros(pad, "parameter padding")?;
    w.patch_len(len, "parameter length")
}

/// Emit `PID_SENTINEL` with length 0.
pub fn emit_sentinel(w: &mut Writer<'_>) -> Result<(), EmitError> {
    w.u16(ParameterId::SENTINEL.0, "sentinel")?;
    w.u16(0, "sentinel length")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(endian: Endianness) -> Vec<u8> {
        let mut buf = vec![0xa5u8; 64];
        let mut w = Writer::new(&mut buf, endian);
        emit_parameter(&mut w, ParameterId::DOMAIN_ID, |w| w.u32(166, "domain")).unwrap();
        emit_parameter(&mut w, ParameterId::ENTITY_NAME, |w| {
            w.u32(3, "len")?;
            w.put(b"ab\0", "name")
        })
        .unwrap();
        emit_sentinel(&mut w).unwrap();
        let n = w.position();
        buf.truncate(n);
        buf
    }

    #[test]
    fn emits_golden_bytes_with_padding() {
        assert_eq!(
            sample(Endianness::Little),
            [
                0x0f, 0x00, 0x04, 0x00, 0xa6, 0x00, 0x00, 0x00, // domain id 166
                0x62, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, b'a', b'b', 0, 0, // name
                0x01, 0x00, 0x00, 0x00, // sentinel
            ]
        );
    }

    #[test]
    fn parses_and_iterates_both_orders() {
        for endian in [Endianness::Little, Endianness::Big] {
            let bytes = sample(endian);
            let mut r = Reader::new(&bytes, endian);
            let pl = ParameterList::parse(&mut r).unwrap();
            assert!(r.is_empty());
            assert_eq!(pl.len(), 2);
            assert_eq!(pl.as_bytes(), &bytes[..]);
            let mut d = pl.reader(ParameterId::DOMAIN_ID).unwrap();
            assert_eq!(d.u32("domain"), Ok(166));
            let ids: Vec<_> = pl.iter().map(|p| p.id).collect();
            assert_eq!(ids, [ParameterId::DOMAIN_ID, ParameterId::ENTITY_NAME]);
        }
    }

    #[test]
    fn every_truncation_fails() {
        let bytes = sample(Endianness::Little);
        for n in 0..bytes.len() {
            let mut r = Reader::new(&bytes[..n], Endianness::Little);
            assert!(
                ParameterList::parse(&mut r).is_err(),
                "prefix of {n} bytes parsed"
            );
        }
    }

    #[test]
    fn caps_the_number_of_parameters() {
        let mut bytes = vec![0u8; 4 * (MAX_PARAMETERS + 2)];
        let n = bytes.len();
        bytes[n - 4..].copy_from_slice(&[1, 0, 0, 0]);
        let mut r = Reader::new(&bytes, Endianness::Little);
        assert_eq!(
            ParameterList::parse(&mut r),
            Err(ParseError::TooLarge("parameter list"))
        );
    }

    #[test]
    fn flags_must_understand_and_vendor_bits() {
        assert!(ParameterId::DOMAIN_TAG.must_understand());
        assert!(ParameterId(0x8007).is_vendor_specific());
        assert_eq!(ParameterId::TOPIC_NAME.name(), Some("TOPIC_NAME"));
    }
}
