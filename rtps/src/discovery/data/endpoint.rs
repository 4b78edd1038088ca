//! SEDP endpoint data, the DATA(w) and DATA(r) samples (RTPS 2.5 §8.5.4.4
//! `DiscoveredWriterData` / `DiscoveredReaderData`, §9.6.2.2 Table 9.14).
//!
//! Required on parse: `PID_ENDPOINT_GUID` (or, as the spec allows, `PID_KEY_HASH` alone),
//! `PID_TOPIC_NAME`, `PID_TYPE_NAME`. Absent QoS take the DDS defaults for the side (writers
//! RELIABLE, readers BEST_EFFORT). The entity kind and the GUID prefix are not checked here:
//! that is SEDP's job, as it knows the source prefix.
//!
//! Sent: `PID_ENDPOINT_GUID`, participant GUID, topic, type, `PID_KEY_HASH` (= the GUID, so
//! Fast DDS notices disposals), protocol version and vendor id when set, locators,
//! `RELIABILITY` / `DURABILITY` / `HISTORY` and the non-default QoS. Never
//! `PID_TYPE_INFORMATION` (unless a caller puts it in `other_parameters`) and never
//! `EXPECTS_INLINE_QOS=false`.

use crate::wire::cursor::{Reader, Writer};
use crate::wire::encapsulation::{Encapsulation, EncapsulationKind};
use crate::wire::error::{EmitError, ParseError};
use crate::wire::parameter::{emit_parameter, emit_sentinel, ParameterId, ParameterList};
use crate::wire::types::{EntityId, Guid, Locator, ProtocolVersion, VendorId};

use super::qos::EndpointQos;
use super::values::{
    emit_locators, emit_others, emit_string, keep_other, padded, push_locator, read_bool,
    read_count, read_string, to_vec, RawParameters, Seen, MAX_DATA_REPRESENTATIONS, MAX_NAME_LEN,
};
use super::{pl_cdr_list, DiscoveryError};

/// What DATA(w) and DATA(r) have in common: identity, topic, locators, QoS (RTPS 2.5
/// §8.5.4.4, `PublicationBuiltinTopicData` / `SubscriptionBuiltinTopicData` plus the proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointData {
    /// `PID_ENDPOINT_GUID`: the sample's key.
    pub endpoint_guid: Guid,
    /// `PID_PARTICIPANT_GUID` (Cyclone omits it).
    pub participant_guid: Option<Guid>,
    /// `PID_TOPIC_NAME`.
    pub topic_name: String,
    /// `PID_TYPE_NAME`.
    pub type_name: String,
    /// `PID_PROTOCOL_VERSION` (Fast DDS and Cyclone repeat it in SEDP).
    pub protocol_version: Option<ProtocolVersion>,
    /// `PID_VENDORID`.
    pub vendor_id: Option<VendorId>,
    /// `PID_UNICAST_LOCATOR`s; empty means "the participant's default locators".
    pub unicast_locators: Vec<Locator>,
    /// `PID_MULTICAST_LOCATOR`s.
    pub multicast_locators: Vec<Locator>,
    /// The QoS policies, defaults filled in.
    pub qos: EndpointQos,
    /// `PID_DATA_REPRESENTATION` ids (XTypes 1.3 §7.6.3.1.1: 0 XCDR1, 1 XML, 2 XCDR2); empty
    /// when absent, meaning XCDR1.
    pub data_representation: Vec<i16>,
    /// `PID_TYPE_CONSISTENCY` value, raw (padded to 4).
    pub type_consistency: Option<Vec<u8>>,
    /// `PID_KEY_HASH` (for SEDP, the endpoint GUID).
    pub key_hash: Option<[u8; 16]>,
    /// Every other parameter, raw (vendor ids, `PID_TYPE_INFORMATION`, ...), in wire order.
    pub other_parameters: Vec<(ParameterId, Vec<u8>)>,
}

/// Ids [`EndpointData`] decodes besides the QoS ones.
const COMMON_IDS: &[ParameterId] = &[
    ParameterId::ENDPOINT_GUID,
    ParameterId::PARTICIPANT_GUID,
    ParameterId::TOPIC_NAME,
    ParameterId::TYPE_NAME,
    ParameterId::PROTOCOL_VERSION,
    ParameterId::VENDOR_ID,
    ParameterId::UNICAST_LOCATOR,
    ParameterId::MULTICAST_LOCATOR,
    ParameterId::DATA_REPRESENTATION,
    ParameterId::TYPE_CONSISTENCY,
    ParameterId::KEY_HASH,
];

impl EndpointData {
    /// Our own endpoint's data: participant GUID from the prefix, key hash = GUID, protocol
    /// 2.4 and our vendor id, no locators (the participant's apply).
    pub fn new(endpoint_guid: Guid, topic_name: &str, type_name: &str, qos: EndpointQos) -> Self {
        EndpointData {
            endpoint_guid,
            participant_guid: Some(Guid::new(endpoint_guid.prefix, EntityId::PARTICIPANT)),
            topic_name: topic_name.to_owned(),
            type_name: type_name.to_owned(),
            protocol_version: Some(ProtocolVersion::V2_4),
            vendor_id: Some(VendorId::AMLIP_RS),
            unicast_locators: Vec::new(),
            multicast_locators: Vec::new(),
            qos,
            data_representation: Vec::new(),
            type_consistency: None,
            key_hash: Some(endpoint_guid.to_bytes()),
            other_parameters: Vec::new(),
        }
    }

    /// True when this representation (with a side's `extra` ids) decodes `id` itself.
    fn models(id: ParameterId, extra: &[ParameterId]) -> bool {
        COMMON_IDS.contains(&id) || EndpointQos::IDS.contains(&id) || extra.contains(&id)
    }

    /// Decode the common part; `extra` decodes the side's own ids (each offered once).
    fn parse_with(
        list: &ParameterList<'_>,
        qos: EndpointQos,
        extra_ids: &[ParameterId],
        mut extra: impl FnMut(ParameterId, &mut Reader<'_>) -> Result<(), ParseError>,
    ) -> Result<Self, DiscoveryError> {
        let endian = list.endian();
        let (mut guid, mut topic, mut type_name) = (None, None, None);
        let mut d = EndpointData::new(Guid::UNKNOWN, "", "", qos);
        d.participant_guid = None;
        d.protocol_version = None;
        d.vendor_id = None;
        d.key_hash = None;
        let mut other = RawParameters::new();
        let mut seen = Seen::default();
        for p in list.iter() {
            let mut r = Reader::new(p.value, endian);
            let r = &mut r;
            match p.id {
                ParameterId::UNICAST_LOCATOR => push_locator(&mut d.unicast_locators, r)?,
                ParameterId::MULTICAST_LOCATOR => push_locator(&mut d.multicast_locators, r)?,
                id if !EndpointData::models(id, extra_ids) => keep_other(&mut other, p)?,
                id if !seen.first(id) => {}
                ParameterId::ENDPOINT_GUID => guid = Some(Guid::parse(r)?),
                ParameterId::PARTICIPANT_GUID => d.participant_guid = Some(Guid::parse(r)?),
                ParameterId::TOPIC_NAME => {
                    topic = Some(read_string(r, MAX_NAME_LEN, "topic name")?)
                }
                ParameterId::TYPE_NAME => {
                    type_name = Some(read_string(r, MAX_NAME_LEN, "type name")?)
                }
                ParameterId::PROTOCOL_VERSION => {
                    let v = ProtocolVersion::parse(r)?;
                    if v.major != 2 {
                        return Err(DiscoveryError::Incompatible(ParameterId::PROTOCOL_VERSION));
                    }
                    d.protocol_version = Some(v);
                }
                ParameterId::VENDOR_ID => d.vendor_id = Some(VendorId::parse(r)?),
                ParameterId::DATA_REPRESENTATION => {
                    let n = read_count(r, MAX_DATA_REPRESENTATIONS, "data representation")?;
                    d.data_representation.reserve_exact(n);
                    for _ in 0..n {
                        d.data_representation.push(r.i16("data representation")?);
                    }
                }
                ParameterId::TYPE_CONSISTENCY => {
                    d.type_consistency = Some(padded(p.value, "type consistency")?)
                }
                ParameterId::KEY_HASH => d.key_hash = Some(r.take_array::<16>("key hash")?),
                id if extra_ids.contains(&id) => extra(id, r)?,
                id => {
                    d.qos.parse_parameter(id, r)?;
                }
            }
        }
        d.other_parameters = other;
        d.endpoint_guid = guid
            .or(d.key_hash.map(Guid::from_bytes))
            .ok_or(DiscoveryError::Missing("PID_ENDPOINT_GUID"))?;
        d.topic_name = topic.ok_or(DiscoveryError::Missing("PID_TOPIC_NAME"))?;
        d.type_name = type_name.ok_or(DiscoveryError::Missing("PID_TYPE_NAME"))?;
        Ok(d)
    }

    /// Emit the common part, `extra` (the side's own ids) after the locators, then the
    /// sentinel.
    fn emit_with(
        &self,
        w: &mut Writer<'_>,
        extra_ids: &[ParameterId],
        extra: impl FnOnce(&mut Writer<'_>) -> Result<(), EmitError>,
    ) -> Result<(), EmitError> {
        emit_parameter(w, ParameterId::ENDPOINT_GUID, |w| {
            self.endpoint_guid.emit(w)
        })?;
        if let Some(guid) = &self.participant_guid {
            emit_parameter(w, ParameterId::PARTICIPANT_GUID, |w| guid.emit(w))?;
        }
        emit_parameter(w, ParameterId::TOPIC_NAME, |w| {
            let start = w.position();
            emit_string(w, start, &self.topic_name, MAX_NAME_LEN, "topic name")
        })?;
        emit_parameter(w, ParameterId::TYPE_NAME, |w| {
            let start = w.position();
            emit_string(w, start, &self.type_name, MAX_NAME_LEN, "type name")
        })?;
        if let Some(hash) = &self.key_hash {
            emit_parameter(w, ParameterId::KEY_HASH, |w| w.put(hash, "key hash"))?;
        }
        if let Some(v) = &self.protocol_version {
            emit_parameter(w, ParameterId::PROTOCOL_VERSION, |w| v.emit(w))?;
        }
        if let Some(v) = &self.vendor_id {
            emit_parameter(w, ParameterId::VENDOR_ID, |w| v.emit(w))?;
        }
        emit_locators(w, ParameterId::UNICAST_LOCATOR, &self.unicast_locators)?;
        emit_locators(w, ParameterId::MULTICAST_LOCATOR, &self.multicast_locators)?;
        extra(w)?;
        self.qos.emit(w)?;
        if !self.data_representation.is_empty() {
            if self.data_representation.len() > MAX_DATA_REPRESENTATIONS {
                return Err(EmitError::Unrepresentable("data representation"));
            }
            emit_parameter(w, ParameterId::DATA_REPRESENTATION, |w| {
                w.u32(self.data_representation.len() as u32, "data representation")?;
                for id in &self.data_representation {
                    w.i16(*id, "data representation")?;
                }
                Ok(())
            })?;
        }
        if let Some(raw) = &self.type_consistency {
            emit_parameter(w, ParameterId::TYPE_CONSISTENCY, |w| {
                w.put(raw, "type consistency")
            })?;
        }
        emit_others(w, &self.other_parameters, |id| {
            EndpointData::models(id, extra_ids)
        })?;
        emit_sentinel(w)
    }
}

/// The SEDP publication sample, DATA(w) (RTPS 2.5 §8.5.4.4, `DiscoveredWriterData`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterData {
    /// Identity, topic, locators and QoS.
    pub endpoint: EndpointData,
    /// `PID_TYPE_MAX_SIZE_SERIALIZED` (Fast DDS sends it; AML-IP types: 140/172/404/144).
    pub type_max_size_serialized: Option<u32>,
}

impl WriterData {
    /// Ids only a writer's data decodes.
    const OWN_IDS: &'static [ParameterId] = &[ParameterId::TYPE_MAX_SIZE_SERIALIZED];

    /// Our own writer's data with the writer QoS defaults (see [`EndpointData::new`]).
    pub fn new(endpoint_guid: Guid, topic_name: &str, type_name: &str) -> Self {
        WriterData {
            endpoint: EndpointData::new(
                endpoint_guid,
                topic_name,
                type_name,
                EndpointQos::writer_default(),
            ),
            type_max_size_serialized: None,
        }
    }

    /// Decode from a validated parameter list (RTPS 2.5 §9.6.2.2).
    pub fn parse_pl(list: &ParameterList<'_>) -> Result<Self, DiscoveryError> {
        let mut max_size = None;
        let endpoint = EndpointData::parse_with(
            list,
            EndpointQos::writer_default(),
            WriterData::OWN_IDS,
            |_, r| {
                max_size = Some(r.u32("type max size serialized")?);
                Ok(())
            },
        )?;
        Ok(WriterData {
            endpoint,
            type_max_size_serialized: max_size,
        })
    }

    /// Decode a whole serialized payload (encapsulation PL_CDR_LE or PL_CDR_BE, then the list).
    pub fn from_payload(payload: &[u8]) -> Result<Self, DiscoveryError> {
        WriterData::parse_pl(&pl_cdr_list(payload)?)
    }

    /// Emit the parameters and the sentinel (no encapsulation header) in the writer's order.
    pub fn emit_pl(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.endpoint.emit_with(w, WriterData::OWN_IDS, |w| {
            match self.type_max_size_serialized {
                Some(n) => emit_parameter(w, ParameterId::TYPE_MAX_SIZE_SERIALIZED, |w| {
                    w.u32(n, "type max size serialized")
                }),
                None => Ok(()),
            }
        })
    }

    /// Emit a whole serialized payload (PL_CDR in the writer's byte order).
    pub fn emit_payload(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        Encapsulation::new(EncapsulationKind::pl_cdr(w.endian())).emit(w)?;
        self.emit_pl(w)
    }

    /// The serialized payload, PL_CDR_LE, in a new vector.
    pub fn to_payload(&self) -> Result<Vec<u8>, EmitError> {
        to_vec(|w| self.emit_payload(w))
    }
}

/// The SEDP subscription sample, DATA(r) (RTPS 2.5 §8.5.4.4, `DiscoveredReaderData`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderData {
    /// Identity, topic, locators and QoS.
    pub endpoint: EndpointData,
    /// `PID_EXPECTS_INLINE_QOS`; sent only when true, which Cyclone rejects.
    pub expects_inline_qos: bool,
}

impl ReaderData {
    /// Ids only a reader's data decodes.
    const OWN_IDS: &'static [ParameterId] = &[ParameterId::EXPECTS_INLINE_QOS];

    /// Our own reader's data with the reader QoS defaults (see [`EndpointData::new`]).
    pub fn new(endpoint_guid: Guid, topic_name: &str, type_name: &str) -> Self {
        ReaderData {
            endpoint: EndpointData::new(
                endpoint_guid,
                topic_name,
                type_name,
                EndpointQos::reader_default(),
            ),
            expects_inline_qos: false,
        }
    }

    /// Decode from a validated parameter list (RTPS 2.5 §9.6.2.2).
    pub fn parse_pl(list: &ParameterList<'_>) -> Result<Self, DiscoveryError> {
        let mut expects_inline_qos = false;
        let endpoint = EndpointData::parse_with(
            list,
            EndpointQos::reader_default(),
            ReaderData::OWN_IDS,
            |_, r| {
                expects_inline_qos = read_bool(r, "expects inline qos")?;
                Ok(())
            },
        )?;
        Ok(ReaderData {
            endpoint,
            expects_inline_qos,
        })
    }

    /// Decode a whole serialized payload (encapsulation PL_CDR_LE or PL_CDR_BE, then the list).
    pub fn from_payload(payload: &[u8]) -> Result<Self, DiscoveryError> {
        ReaderData::parse_pl(&pl_cdr_list(payload)?)
    }

    /// Emit the parameters and the sentinel (no encapsulation header) in the writer's order.
    pub fn emit_pl(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.endpoint.emit_with(w, ReaderData::OWN_IDS, |w| {
            if self.expects_inline_qos {
                emit_parameter(w, ParameterId::EXPECTS_INLINE_QOS, |w| {
                    w.u8(1, "expects inline qos")
                })
            } else {
                Ok(())
            }
        })
    }

    /// Emit a whole serialized payload (PL_CDR in the writer's byte order).
    pub fn emit_payload(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        Encapsulation::new(EncapsulationKind::pl_cdr(w.endian())).emit(w)?;
        self.emit_pl(w)
    }

    /// The serialized payload, PL_CDR_LE, in a new vector.
    pub fn to_payload(&self) -> Result<Vec<u8>, EmitError> {
        to_vec(|w| self.emit_payload(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::data::arbitrary::{reader_data, writer_data};
    use crate::discovery::data::qos::{Durability, History, ReliabilityKind};
    use crate::wire::cursor::Endianness;
    use crate::wire::types::GuidPrefix;
    use proptest::prelude::*;

    const PREFIX: [u8; 12] = [0x01, 0xa7, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 1];

    fn guid(entity: u32) -> Guid {
        Guid::new(GuidPrefix(PREFIX), EntityId::from_u32(entity))
    }

    fn status_writer() -> WriterData {
        let mut w = WriterData::new(guid(0x0000_0103), "amlip/status", "amlip::status");
        w.endpoint.qos.durability = Durability::TransientLocal;
        w.type_max_size_serialized = Some(144);
        w
    }

    fn golden_writer() -> Vec<u8> {
        let mut b = vec![0x00, 0x03, 0x00, 0x00];
        let guid_param = |b: &mut Vec<u8>, pid: u8, entity: [u8; 4]| {
            b.extend_from_slice(&[pid, 0, 16, 0]);
            b.extend_from_slice(&PREFIX);
            b.extend_from_slice(&entity);
        };
        guid_param(&mut b, 0x5a, [0, 0, 1, 0x03]);
        guid_param(&mut b, 0x50, [0, 0, 1, 0xc1]);
        b.extend_from_slice(&[0x05, 0, 20, 0, 13, 0, 0, 0]);
        b.extend_from_slice(b"amlip/status\0\0\0\0");
        b.extend_from_slice(&[0x07, 0, 20, 0, 14, 0, 0, 0]);
        b.extend_from_slice(b"amlip::status\0\0\0");
        guid_param(&mut b, 0x70, [0, 0, 1, 0x03]);
        b.extend_from_slice(&[0x15, 0, 4, 0, 2, 4, 0, 0]);
        b.extend_from_slice(&[0x16, 0, 4, 0, 0x01, 0xa7, 0, 0]);
        b.extend_from_slice(&[0x60, 0, 4, 0, 144, 0, 0, 0]);
        b.extend_from_slice(&[
            0x1a, 0, 12, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x9a, 0x99, 0x99, 0x19,
        ]);
        b.extend_from_slice(&[0x1d, 0, 4, 0, 1, 0, 0, 0]);
        b.extend_from_slice(&[0x40, 0, 8, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
        b.extend_from_slice(&[0x01, 0, 0, 0]);
        b
    }

    fn target_reader() -> ReaderData {
        let mut r = ReaderData::new(
            guid(0x0000_0304),
            "amlip/job_task_target",
            "amlip::ms_reference",
        );
        r.endpoint.qos.reliability.kind = ReliabilityKind::Reliable;
        r.endpoint.qos.history = History::KeepAll;
        r.endpoint.participant_guid = None;
        r.endpoint.protocol_version = None;
        r.endpoint.vendor_id = None;
        r
    }

    /// The reader in big-endian (PL_CDR_BE).
    fn golden_reader_be() -> Vec<u8> {
        let mut b = vec![0x00, 0x02, 0x00, 0x00];
        b.extend_from_slice(&[0, 0x5a, 0, 16]);
        b.extend_from_slice(&PREFIX);
        b.extend_from_slice(&[0, 0, 3, 0x04]);
        b.extend_from_slice(&[0, 0x05, 0, 28, 0, 0, 0, 22]);
        b.extend_from_slice(b"amlip/job_task_target\0\0\0");
        b.extend_from_slice(&[0, 0x07, 0, 24, 0, 0, 0, 20]);
        b.extend_from_slice(b"amlip::ms_reference\0");
        b.extend_from_slice(&[0, 0x70, 0, 16]);
        b.extend_from_slice(&PREFIX);
        b.extend_from_slice(&[0, 0, 3, 0x04]);
        b.extend_from_slice(&[
            0, 0x1a, 0, 12, 0, 0, 0, 2, 0, 0, 0, 0, 0x19, 0x99, 0x99, 0x9a,
        ]);
        b.extend_from_slice(&[0, 0x1d, 0, 4, 0, 0, 0, 0]);
        b.extend_from_slice(&[0, 0x40, 0, 8, 0, 0, 0, 1, 0, 0, 0, 1]);
        b.extend_from_slice(&[0, 0x01, 0, 0]);
        b
    }

    #[test]
    fn emits_golden_sedp_writer_bytes_and_nothing_past_them() {
        let expected = golden_writer();
        let mut buf = vec![0xa5u8; expected.len() + 16];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        status_writer().emit_payload(&mut w).unwrap();
        assert_eq!(w.position(), expected.len());
        assert_eq!(&buf[..expected.len()], &expected[..]);
        assert!(buf[expected.len()..].iter().all(|b| *b == 0xa5));
        assert_eq!(WriterData::from_payload(&expected), Ok(status_writer()));
    }

    #[test]
    fn emits_golden_sedp_reader_bytes_in_big_endian() {
        let expected = golden_reader_be();
        let mut buf = vec![0xa5u8; expected.len() + 16];
        let mut w = Writer::new(&mut buf, Endianness::Big);
        target_reader().emit_payload(&mut w).unwrap();
        assert_eq!(w.position(), expected.len());
        assert_eq!(&buf[..expected.len()], &expected[..]);
        assert!(buf[expected.len()..].iter().all(|b| *b == 0xa5));
        assert_eq!(ReaderData::from_payload(&expected), Ok(target_reader()));
    }

    #[test]
    fn every_truncation_fails() {
        for payload in [golden_writer(), golden_reader_be()] {
            for n in 0..payload.len() {
                assert!(WriterData::from_payload(&payload[..n]).is_err(), "w {n}");
                assert!(ReaderData::from_payload(&payload[..n]).is_err(), "r {n}");
            }
        }
    }

    #[test]
    fn side_specific_ids_are_raw_on_the_other_side() {
        // A writer's TYPE_MAX_SIZE_SERIALIZED read as reader data is kept raw, not lost.
        let as_reader = ReaderData::from_payload(&golden_writer()).unwrap();
        assert_eq!(
            as_reader.endpoint.other_parameters,
            vec![(ParameterId::TYPE_MAX_SIZE_SERIALIZED, vec![144, 0, 0, 0])]
        );
        assert_eq!(
            as_reader.endpoint.qos.reliability.kind,
            ReliabilityKind::Reliable
        );
    }

    #[test]
    fn requires_a_guid_topic_and_type_but_accepts_key_hash_for_the_guid() {
        let mut w = status_writer();
        w.endpoint.other_parameters.clear();
        let strip = |data: &WriterData, id: ParameterId| {
            let payload = data.to_payload().unwrap();
            let list = pl_cdr_list(&payload).unwrap();
            let mut buf = vec![0u8; 1024];
            let mut wr = Writer::new(&mut buf, Endianness::Little);
            Encapsulation::new(EncapsulationKind::PL_CDR_LE)
                .emit(&mut wr)
                .unwrap();
            for p in list.iter().filter(|p| p.id != id) {
                emit_parameter(&mut wr, p.id, |wr| wr.put(p.value, "v")).unwrap();
            }
            emit_sentinel(&mut wr).unwrap();
            let n = wr.position();
            buf.truncate(n);
            buf
        };
        let no_topic = strip(&w, ParameterId::TOPIC_NAME);
        assert_eq!(
            WriterData::from_payload(&no_topic),
            Err(DiscoveryError::Missing("PID_TOPIC_NAME"))
        );
        let no_type = strip(&w, ParameterId::TYPE_NAME);
        assert_eq!(
            WriterData::from_payload(&no_type),
            Err(DiscoveryError::Missing("PID_TYPE_NAME"))
        );
        let key_only = strip(&w, ParameterId::ENDPOINT_GUID);
        assert_eq!(WriterData::from_payload(&key_only), Ok(w.clone()));
        w.endpoint.key_hash = None;
        let neither = strip(&w, ParameterId::ENDPOINT_GUID);
        assert_eq!(
            WriterData::from_payload(&neither),
            Err(DiscoveryError::Missing("PID_ENDPOINT_GUID"))
        );
    }

    #[test]
    fn sends_expects_inline_qos_only_when_true() {
        let mut r = target_reader();
        let plain = r.to_payload().unwrap();
        let list = pl_cdr_list(&plain).unwrap();
        assert!(list.get(ParameterId::EXPECTS_INLINE_QOS).is_none());
        r.expects_inline_qos = true;
        let payload = r.to_payload().unwrap();
        let list = pl_cdr_list(&payload).unwrap();
        assert_eq!(
            list.get(ParameterId::EXPECTS_INLINE_QOS).map(|p| p.value),
            Some(&[1u8, 0, 0, 0][..])
        );
        assert_eq!(ReaderData::from_payload(&payload), Ok(r));
    }

    proptest! {
        #[test]
        fn any_writer_data_round_trips_in_both_byte_orders(d in writer_data(), big in any::<bool>()) {
            let endian = if big { Endianness::Big } else { Endianness::Little };
            let mut buf = vec![0u8; 8192];
            let mut w = Writer::new(&mut buf, endian);
            d.emit_payload(&mut w).unwrap();
            let n = w.position();
            prop_assert_eq!(WriterData::from_payload(&buf[..n]), Ok(d));
        }

        #[test]
        fn any_reader_data_round_trips_in_both_byte_orders(d in reader_data(), big in any::<bool>()) {
            let endian = if big { Endianness::Big } else { Endianness::Little };
            let mut buf = vec![0u8; 8192];
            let mut w = Writer::new(&mut buf, endian);
            d.emit_payload(&mut w).unwrap();
            let n = w.position();
            prop_assert_eq!(ReaderData::from_payload(&buf[..n]), Ok(d));
        }
    }
}
