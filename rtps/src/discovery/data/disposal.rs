//! Disposal and unregistration of discovery instances, the `DATA(p[UD])`, `DATA(w[UD])` and
//! `DATA(r[UD])` samples (RTPS 2.5 §8.5.3.2, §9.6.3.9 `StatusInfo_t`, §9.6.4.8 key hash).
//!
//! Two forms are seen in the captures:
//! - Fast DDS: inline QoS `PID_KEY_HASH` (the GUID) + `PID_STATUS_INFO`, no payload (DATA flags
//!   0x03); Fast DDS 2.9 adds its vendor `0x800f` in front.
//! - Cyclone: inline QoS `PID_STATUS_INFO` only, and a serialized key (DATA flags 0x0b): a
//!   PL_CDR_LE list holding just `PID_PARTICIPANT_GUID` or `PID_ENDPOINT_GUID`.
//!
//! [`disposal`] accepts both. We send both as well ([`emit_disposal_inline_qos`] and
//! [`emit_key_payload`]), since Fast DDS only notices the key hash and Connext only a key
//! payload with an encapsulation header (rtps-interop.md pitfall 4).

use crate::wire::cursor::{Endianness, Reader, Writer};
use crate::wire::encapsulation::{split_payload, Encapsulation, EncapsulationKind};
use crate::wire::error::{EmitError, ParseError};
use crate::wire::parameter::{emit_parameter, emit_sentinel, ParameterId, ParameterList};
use crate::wire::types::Guid;

use super::{pl_cdr_list, DiscoveryError};

/// The instance state change a sample carries (RTPS 2.5 §9.6.3.9): four octets whose last
/// octet holds the flags, so it is read big-endian whatever the list's byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StatusInfo(pub u32);

impl StatusInfo {
    /// The instance was disposed.
    pub const DISPOSED: StatusInfo = StatusInfo(0x1);
    /// The instance was unregistered.
    pub const UNREGISTERED: StatusInfo = StatusInfo(0x2);
    /// The sample was filtered out for this reader.
    pub const FILTERED: StatusInfo = StatusInfo(0x4);
    /// Disposed and unregistered: what a participant or endpoint going away sends.
    pub const DISPOSED_UNREGISTERED: StatusInfo = StatusInfo(0x3);
    /// Four octets on the wire.
    pub const LEN: usize = 4;

    /// True when every flag of `other` is set.
    pub fn contains(self, other: StatusInfo) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when disposed or unregistered: the instance is gone.
    pub fn is_disposal(self) -> bool {
        self.0 & (StatusInfo::DISPOSED.0 | StatusInfo::UNREGISTERED.0) != 0
    }

    /// Parse four octets (big-endian flags).
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(StatusInfo(u32::from_be_bytes(
            r.take_array::<4>("status info")?,
        )))
    }

    /// Emit four octets (big-endian flags).
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.put(&self.0.to_be_bytes(), "status info")
    }

    /// The `PID_STATUS_INFO` of an inline QoS list, if any.
    pub fn from_inline_qos(list: &ParameterList<'_>) -> Result<Option<Self>, ParseError> {
        match list.reader(ParameterId::STATUS_INFO) {
            Some(mut r) => Ok(Some(StatusInfo::parse(&mut r)?)),
            None => Ok(None),
        }
    }
}

/// The `PID_KEY_HASH` of an inline QoS list, if any (RTPS 2.5 §9.6.4.8).
pub fn key_hash_from_inline_qos(list: &ParameterList<'_>) -> Result<Option<[u8; 16]>, ParseError> {
    match list.reader(ParameterId::KEY_HASH) {
        Some(mut r) => Ok(Some(r.take_array::<16>("key hash")?)),
        None => Ok(None),
    }
}

/// The GUID in a serialized key payload of a builtin discovery topic: a PL_CDR list with
/// `PID_PARTICIPANT_GUID`, `PID_ENDPOINT_GUID` or `PID_KEY_HASH` (Cyclone), or a plain CDR
/// body of the 16 GUID octets.
pub fn guid_from_key_payload(payload: &[u8]) -> Result<Guid, DiscoveryError> {
    let (header, body) = split_payload(payload)?;
    if header.kind.is_xcdr2() {
        return Err(DiscoveryError::Unsupported("XCDR2 encapsulation"));
    }
    if !header.kind.is_parameter_list() {
        let octets = Reader::new(body, Endianness::Big).take_array::<16>("key")?;
        return Ok(Guid::from_bytes(octets));
    }
    let list = pl_cdr_list(payload)?;
    let key = list.iter().find(|p| {
        matches!(
            p.id,
            ParameterId::PARTICIPANT_GUID | ParameterId::ENDPOINT_GUID | ParameterId::KEY_HASH
        )
    });
    match key {
        Some(p) => Ok(Guid::parse(&mut Reader::new(p.value, list.endian()))?),
        None => Err(DiscoveryError::Missing(
            "PID_PARTICIPANT_GUID or PID_ENDPOINT_GUID",
        )),
    }
}

/// A discovery instance that went away: whose, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Disposal {
    /// The participant or endpoint GUID (the builtin topics' key).
    pub guid: Guid,
    /// Disposed and/or unregistered.
    pub status_info: StatusInfo,
}

/// Recognise a disposal from a DATA's inline QoS and, when the K flag is set, its serialized
/// key: `Ok(None)` for an ordinary sample (no `PID_STATUS_INFO`, or neither disposed nor
/// unregistered). The key comes from `PID_KEY_HASH` when present, else from the key payload.
pub fn disposal(
    inline_qos: Option<&ParameterList<'_>>,
    serialized_key: Option<&[u8]>,
) -> Result<Option<Disposal>, DiscoveryError> {
    let Some(list) = inline_qos else {
        return Ok(None);
    };
    let status_info = match StatusInfo::from_inline_qos(list)? {
        Some(s) if s.is_disposal() => s,
        _ => return Ok(None),
    };
    let guid = match (key_hash_from_inline_qos(list)?, serialized_key) {
        (Some(hash), _) => Guid::from_bytes(hash),
        (None, Some(key)) => guid_from_key_payload(key)?,
        (None, None) => return Err(DiscoveryError::Missing("PID_KEY_HASH or a serialized key")),
    };
    Ok(Some(Disposal { guid, status_info }))
}

/// Emit the inline QoS of a disposal as Fast DDS sends it: `PID_KEY_HASH` (the GUID),
/// `PID_STATUS_INFO`, sentinel.
pub fn emit_disposal_inline_qos(
    w: &mut Writer<'_>,
    guid: Guid,
    status_info: StatusInfo,
) -> Result<(), EmitError> {
    emit_parameter(w, ParameterId::KEY_HASH, |w| guid.emit(w))?;
    emit_parameter(w, ParameterId::STATUS_INFO, |w| status_info.emit(w))?;
    emit_sentinel(w)
}

/// Emit a serialized key as Cyclone sends it: encapsulation (PL_CDR in the writer's order),
/// one parameter `id` (`PID_PARTICIPANT_GUID` or `PID_ENDPOINT_GUID`) holding the GUID,
/// sentinel.
pub fn emit_key_payload(w: &mut Writer<'_>, id: ParameterId, guid: Guid) -> Result<(), EmitError> {
    Encapsulation::new(EncapsulationKind::pl_cdr(w.endian())).emit(w)?;
    emit_parameter(w, id, |w| guid.emit(w))?;
    emit_sentinel(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::types::{EntityId, GuidPrefix};

    const FASTDDS_P_UD_INLINE_QOS: &[u8] =
        include_bytes!("../testdata/fastdds29_p_ud_inline_qos.bin");
    const CYCLONE_P_UD_INLINE_QOS: &[u8] =
        include_bytes!("../testdata/cyclone010_p_ud_inline_qos.bin");
    const CYCLONE_P_UD_KEY: &[u8] = include_bytes!("../testdata/cyclone010_p_ud_key.bin");
    const CYCLONE_R_UD_KEY: &[u8] = include_bytes!("../testdata/cyclone010_r_ud_key.bin");

    fn list(bytes: &[u8]) -> ParameterList<'_> {
        ParameterList::parse(&mut Reader::new(bytes, Endianness::Little)).unwrap()
    }

    fn guid(hex: &str) -> Guid {
        let mut b = [0u8; 16];
        for (i, o) in b.iter_mut().enumerate() {
            *o = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        Guid::from_bytes(b)
    }

    #[test]
    fn recognises_the_fastdds_form_key_hash_and_status_info() {
        let d = disposal(Some(&list(FASTDDS_P_UD_INLINE_QOS)), None).unwrap();
        assert_eq!(
            d,
            Some(Disposal {
                guid: guid("010f7f01f77833de00000000000001c1"),
                status_info: StatusInfo::DISPOSED_UNREGISTERED,
            })
        );
    }

    #[test]
    fn recognises_the_cyclone_form_with_a_serialized_key() {
        let qos = list(CYCLONE_P_UD_INLINE_QOS);
        let d = disposal(Some(&qos), Some(CYCLONE_P_UD_KEY))
            .unwrap()
            .unwrap();
        assert_eq!(d.guid, guid("01108a20ed4e6d54ee7ec52c000001c1"));
        assert!(d.status_info.contains(StatusInfo::DISPOSED));
        assert!(d.status_info.contains(StatusInfo::UNREGISTERED));
        assert_eq!(
            guid_from_key_payload(CYCLONE_R_UD_KEY),
            Ok(guid("01108a20ed4e6d54ee7ec52c00000204"))
        );
        assert_eq!(
            disposal(Some(&qos), None),
            Err(DiscoveryError::Missing("PID_KEY_HASH or a serialized key"))
        );
    }

    #[test]
    fn ordinary_samples_are_not_disposals() {
        assert_eq!(disposal(None, None), Ok(None));
        let empty = ParameterList::empty(Endianness::Little);
        assert_eq!(disposal(Some(&empty), None), Ok(None));
        let mut buf = [0u8; 16];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        emit_parameter(&mut w, ParameterId::STATUS_INFO, |w| {
            StatusInfo::FILTERED.emit(w)
        })
        .unwrap();
        emit_sentinel(&mut w).unwrap();
        let n = w.position();
        assert_eq!(disposal(Some(&list(&buf[..n])), None), Ok(None));
    }

    #[test]
    fn emits_golden_disposal_inline_qos_and_key_payload() {
        let g = Guid::new(
            GuidPrefix([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
            EntityId::PARTICIPANT,
        );
        let mut buf = [0xa5u8; 40];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        emit_disposal_inline_qos(&mut w, g, StatusInfo::DISPOSED_UNREGISTERED).unwrap();
        assert_eq!(w.position(), 32);
        assert_eq!(
            buf,
            [
                0x70, 0x00, 0x10, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 1,
                0xc1, //
                0x71, 0x00, 0x04, 0x00, 0, 0, 0, 3, //
                0x01, 0x00, 0x00, 0x00, //
                0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
            ]
        );
        let d = disposal(Some(&list(&buf[..32])), None).unwrap().unwrap();
        assert_eq!(d.guid, g);

        let mut buf = [0xa5u8; 32];
        let mut w = Writer::new(&mut buf, Endianness::Big);
        emit_key_payload(&mut w, ParameterId::PARTICIPANT_GUID, g).unwrap();
        assert_eq!(w.position(), 28);
        assert_eq!(
            buf,
            [
                0x00, 0x02, 0x00, 0x00, //
                0x00, 0x50, 0x00, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 1,
                0xc1, //
                0x00, 0x01, 0x00, 0x00, //
                0xa5, 0xa5, 0xa5, 0xa5,
            ]
        );
        assert_eq!(guid_from_key_payload(&buf[..28]), Ok(g));
        for n in 0..28 {
            assert!(guid_from_key_payload(&buf[..n]).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn accepts_a_plain_cdr_key_and_rejects_xcdr2() {
        let mut payload = vec![0x00, 0x01, 0x00, 0x00];
        payload.extend_from_slice(&guid("0102030405060708090a0b0c000001c1").to_bytes());
        assert_eq!(
            guid_from_key_payload(&payload),
            Ok(guid("0102030405060708090a0b0c000001c1"))
        );
        payload[1] = 0x07;
        assert_eq!(
            guid_from_key_payload(&payload),
            Err(DiscoveryError::Unsupported("XCDR2 encapsulation"))
        );
        assert_eq!(
            guid_from_key_payload(&[0, 3, 0, 0, 1, 0, 0, 0]),
            Err(DiscoveryError::Missing(
                "PID_PARTICIPANT_GUID or PID_ENDPOINT_GUID"
            ))
        );
    }

    #[test]
    fn status_info_is_big_endian_in_both_list_orders() {
        for endian in [Endianness::Little, Endianness::Big] {
            let mut r = Reader::new(&[0, 0, 0, 2], endian);
            assert_eq!(StatusInfo::parse(&mut r), Ok(StatusInfo::UNREGISTERED));
        }
        assert!(StatusInfo::parse(&mut Reader::new(&[0, 0, 0], Endianness::Big)).is_err());
    }
}
