//! SPDP participant data, the DATA(p) sample (RTPS 2.5 §8.5.3.2 `SPDPdiscoveredParticipantData`,
//! §9.6.2.2 Table 9.13).
//!
//! Required on parse: `PID_PROTOCOL_VERSION` (major 2), `PID_VENDORID`,
//! `PID_PARTICIPANT_GUID` and `PID_BUILTIN_ENDPOINT_SET` (what Cyclone and dust_dds require).
//! Sent: protocol version, vendor id, participant GUID, domain id (when set), locators, lease,
//! builtin endpoint set, and the optional values when present (never
//! `EXPECTS_INLINE_QOS=false`; see rtps-interop.md "SPDP").

use crate::wire::cursor::{Reader, Writer};
use crate::wire::encapsulation::{Encapsulation, EncapsulationKind};
use crate::wire::error::EmitError;
use crate::wire::parameter::{emit_parameter, emit_sentinel, ParameterId, ParameterList};
use crate::wire::types::{
    Duration, EntityId, Guid, GuidPrefix, Locator, ProtocolVersion, VendorId,
};

use super::builtin_endpoints::BuiltinEndpointSet;
use super::qos::{QosPolicy, UserData};
use super::values::{
    emit_locators, emit_octets, emit_others, emit_property_list, emit_string, keep_other,
    push_locator, read_bool, read_property_list, read_string, to_vec, RawParameters, Seen,
    MAX_NAME_LEN, MAX_OCTETS_LEN,
};
use super::{pl_cdr_list, DiscoveryError};

/// The SPDP sample announcing a participant (RTPS 2.5 §8.5.3.2, `ParticipantProxy` plus
/// `ParticipantBuiltinTopicData` and the lease).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantData {
    /// `PID_PROTOCOL_VERSION`.
    pub protocol_version: ProtocolVersion,
    /// `PID_VENDORID`.
    pub vendor_id: VendorId,
    /// `PID_PARTICIPANT_GUID`: prefix + `ENTITYID_PARTICIPANT`; the sample's key.
    pub guid: Guid,
    /// `PID_DOMAIN_ID`; absent means "the receiver's domain".
    pub domain_id: Option<u32>,
    /// `PID_DOMAIN_TAG`; absent means the empty tag.
    pub domain_tag: Option<String>,
    /// `PID_EXPECTS_INLINE_QOS`; default false (sent only when true).
    pub expects_inline_qos: bool,
    /// `PID_METATRAFFIC_UNICAST_LOCATOR`s: where to send SEDP and directed SPDP.
    pub metatraffic_unicast_locators: Vec<Locator>,
    /// `PID_METATRAFFIC_MULTICAST_LOCATOR`s.
    pub metatraffic_multicast_locators: Vec<Locator>,
    /// `PID_DEFAULT_UNICAST_LOCATOR`s: where user data goes unless an endpoint says otherwise.
    pub default_unicast_locators: Vec<Locator>,
    /// `PID_DEFAULT_MULTICAST_LOCATOR`s.
    pub default_multicast_locators: Vec<Locator>,
    /// `PID_PARTICIPANT_LEASE_DURATION`; default 100 s.
    pub lease_duration: Duration,
    /// `PID_BUILTIN_ENDPOINT_SET`.
    pub builtin_endpoint_set: BuiltinEndpointSet,
    /// `PID_PARTICIPANT_MANUAL_LIVELINESS_COUNT`.
    pub manual_liveliness_count: Option<i32>,
    /// `PID_ENTITY_NAME`.
    pub entity_name: Option<String>,
    /// `PID_USER_DATA`; empty when absent.
    pub user_data: Vec<u8>,
    /// `PID_PROPERTY_LIST` properties `(name, value)`, in wire order.
    pub property_list: Vec<(String, String)>,
    /// `PID_PROPERTY_LIST` binary properties `(name, value)` (Cyclone sends an empty sequence).
    pub binary_property_list: Vec<(String, Vec<u8>)>,
    /// Every other parameter, raw (vendor ids included), in wire order.
    pub other_parameters: Vec<(ParameterId, Vec<u8>)>,
}

impl ParticipantData {
    /// Lease duration assumed when the parameter is absent (RTPS 2.5 §9.6.2.2.2).
    pub const DEFAULT_LEASE_DURATION: Duration = Duration {
        seconds: 100,
        fraction: 0,
    };

    /// Ids this representation decodes (locator ids may repeat; the rest are decoded once).
    pub const IDS: &'static [ParameterId] = &[
        ParameterId::PROTOCOL_VERSION,
        ParameterId::VENDOR_ID,
        ParameterId::PARTICIPANT_GUID,
        ParameterId::DOMAIN_ID,
        ParameterId::DOMAIN_TAG,
        ParameterId::EXPECTS_INLINE_QOS,
        ParameterId::METATRAFFIC_UNICAST_LOCATOR,
        ParameterId::METATRAFFIC_MULTICAST_LOCATOR,
        ParameterId::DEFAULT_UNICAST_LOCATOR,
        ParameterId::DEFAULT_MULTICAST_LOCATOR,
        ParameterId::PARTICIPANT_LEASE_DURATION,
        ParameterId::BUILTIN_ENDPOINT_SET,
        ParameterId::PARTICIPANT_MANUAL_LIVELINESS_COUNT,
        ParameterId::ENTITY_NAME,
        ParameterId::USER_DATA,
        ParameterId::PROPERTY_LIST,
    ];

    /// Our own participant's data with protocol 2.4, our vendor id, the SPDP/SEDP builtin
    /// endpoints, the default lease and no locators yet.
    pub fn new(prefix: GuidPrefix) -> Self {
        ParticipantData {
            protocol_version: ProtocolVersion::V2_4,
            vendor_id: VendorId::AMLIP_RS,
            guid: Guid::new(prefix, EntityId::PARTICIPANT),
            domain_id: None,
            domain_tag: None,
            expects_inline_qos: false,
            metatraffic_unicast_locators: Vec::new(),
            metatraffic_multicast_locators: Vec::new(),
            default_unicast_locators: Vec::new(),
            default_multicast_locators: Vec::new(),
            lease_duration: ParticipantData::DEFAULT_LEASE_DURATION,
            builtin_endpoint_set: BuiltinEndpointSet::SPDP_SEDP,
            manual_liveliness_count: None,
            entity_name: None,
            user_data: Vec::new(),
            property_list: Vec::new(),
            binary_property_list: Vec::new(),
            other_parameters: Vec::new(),
        }
    }

    /// Decode from a validated parameter list (RTPS 2.5 §9.6.2.2).
    pub fn parse_pl(list: &ParameterList<'_>) -> Result<Self, DiscoveryError> {
        let endian = list.endian();
        let mut d = ParticipantData::new(GuidPrefix::UNKNOWN);
        let (mut version, mut vendor, mut guid, mut bes) = (None, None, None, None);
        let mut other = RawParameters::new();
        let mut seen = Seen::default();
        for p in list.iter() {
            let mut r = Reader::new(p.value, endian);
            let r = &mut r;
            match p.id {
                ParameterId::METATRAFFIC_UNICAST_LOCATOR => {
                    push_locator(&mut d.metatraffic_unicast_locators, r)?
                }
                ParameterId::METATRAFFIC_MULTICAST_LOCATOR => {
                    push_locator(&mut d.metatraffic_multicast_locators, r)?
                }
                ParameterId::DEFAULT_UNICAST_LOCATOR => {
                    push_locator(&mut d.default_unicast_locators, r)?
                }
                ParameterId::DEFAULT_MULTICAST_LOCATOR => {
                    push_locator(&mut d.default_multicast_locators, r)?
                }
                id if !ParticipantData::IDS.contains(&id) => keep_other(&mut other, p)?,
                id if !seen.first(id) => {}
                ParameterId::PROTOCOL_VERSION => version = Some(ProtocolVersion::parse(r)?),
                ParameterId::VENDOR_ID => vendor = Some(VendorId::parse(r)?),
                ParameterId::PARTICIPANT_GUID => guid = Some(Guid::parse(r)?),
                ParameterId::DOMAIN_ID => d.domain_id = Some(r.u32("domain id")?),
                ParameterId::DOMAIN_TAG => {
                    d.domain_tag = Some(read_string(r, MAX_NAME_LEN, "domain tag")?)
                }
                ParameterId::EXPECTS_INLINE_QOS => {
                    d.expects_inline_qos = read_bool(r, "expects inline qos")?
                }
                ParameterId::PARTICIPANT_LEASE_DURATION => d.lease_duration = Duration::parse(r)?,
                ParameterId::BUILTIN_ENDPOINT_SET => bes = Some(BuiltinEndpointSet::parse(r)?),
                ParameterId::PARTICIPANT_MANUAL_LIVELINESS_COUNT => {
                    d.manual_liveliness_count = Some(r.i32("manual liveliness count")?)
                }
                ParameterId::ENTITY_NAME => {
                    d.entity_name = Some(read_string(r, MAX_NAME_LEN, "entity name")?)
                }
                ParameterId::USER_DATA => d.user_data = UserData::parse(r)?.0,
                ParameterId::PROPERTY_LIST => {
                    (d.property_list, d.binary_property_list) = read_property_list(r)?
                }
                _ => {}
            }
        }
        d.other_parameters = other;
        d.protocol_version = version.ok_or(DiscoveryError::Missing("PID_PROTOCOL_VERSION"))?;
        if d.protocol_version.major != 2 {
            return Err(DiscoveryError::Incompatible(ParameterId::PROTOCOL_VERSION));
        }
        d.vendor_id = vendor.ok_or(DiscoveryError::Missing("PID_VENDORID"))?;
        d.guid = guid.ok_or(DiscoveryError::Missing("PID_PARTICIPANT_GUID"))?;
        d.builtin_endpoint_set = bes.ok_or(DiscoveryError::Missing("PID_BUILTIN_ENDPOINT_SET"))?;
        Ok(d)
    }

    /// Decode a whole serialized payload (encapsulation PL_CDR_LE or PL_CDR_BE, then the list).
    pub fn from_payload(payload: &[u8]) -> Result<Self, DiscoveryError> {
        ParticipantData::parse_pl(&pl_cdr_list(payload)?)
    }

    /// Emit the parameters and the sentinel (no encapsulation header) in the writer's order.
    pub fn emit_pl(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        emit_parameter(w, ParameterId::PROTOCOL_VERSION, |w| {
            self.protocol_version.emit(w)
        })?;
        emit_parameter(w, ParameterId::VENDOR_ID, |w| self.vendor_id.emit(w))?;
        emit_parameter(w, ParameterId::PARTICIPANT_GUID, |w| self.guid.emit(w))?;
        if let Some(domain) = self.domain_id {
            emit_parameter(w, ParameterId::DOMAIN_ID, |w| w.u32(domain, "domain id"))?;
        }
        if let Some(tag) = &self.domain_tag {
            emit_parameter(w, ParameterId::DOMAIN_TAG, |w| {
                let start = w.position();
                emit_string(w, start, tag, MAX_NAME_LEN, "domain tag")
            })?;
        }
        if self.expects_inline_qos {
            emit_parameter(w, ParameterId::EXPECTS_INLINE_QOS, |w| {
                w.u8(1, "expects inline qos")
            })?;
        }
        emit_locators(
            w,
            ParameterId::METATRAFFIC_UNICAST_LOCATOR,
            &self.metatraffic_unicast_locators,
        )?;
        emit_locators(
            w,
            ParameterId::METATRAFFIC_MULTICAST_LOCATOR,
            &self.metatraffic_multicast_locators,
        )?;
        emit_locators(
            w,
            ParameterId::DEFAULT_UNICAST_LOCATOR,
            &self.default_unicast_locators,
        )?;
        emit_locators(
            w,
            ParameterId::DEFAULT_MULTICAST_LOCATOR,
            &self.default_multicast_locators,
        )?;
        emit_parameter(w, ParameterId::PARTICIPANT_LEASE_DURATION, |w| {
            self.lease_duration.emit(w)
        })?;
        emit_parameter(w, ParameterId::BUILTIN_ENDPOINT_SET, |w| {
            self.builtin_endpoint_set.emit(w)
        })?;
        if let Some(count) = self.manual_liveliness_count {
            emit_parameter(w, ParameterId::PARTICIPANT_MANUAL_LIVELINESS_COUNT, |w| {
                w.i32(count, "manual liveliness count")
            })?;
        }
        if let Some(name) = &self.entity_name {
            emit_parameter(w, ParameterId::ENTITY_NAME, |w| {
                let start = w.position();
                emit_string(w, start, name, MAX_NAME_LEN, "entity name")
            })?;
        }
        if !self.user_data.is_empty() {
            emit_parameter(w, ParameterId::USER_DATA, |w| {
                let start = w.position();
                emit_octets(w, start, &self.user_data, MAX_OCTETS_LEN, "user data")
            })?;
        }
        if !self.property_list.is_empty() || !self.binary_property_list.is_empty() {
            emit_parameter(w, ParameterId::PROPERTY_LIST, |w| {
                emit_property_list(w, &self.property_list, &self.binary_property_list)
            })?;
        }
        emit_others(w, &self.other_parameters, |id| {
            ParticipantData::IDS.contains(&id)
        })?;
        emit_sentinel(w)
    }

    /// Emit a whole serialized payload: encapsulation (PL_CDR_LE or PL_CDR_BE, following the
    /// writer's byte order), parameters, sentinel.
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
    use crate::discovery::data::arbitrary::participant_data;
    use crate::discovery::data::MAX_LOCATORS;
    use crate::wire::cursor::Endianness;
    use crate::wire::error::ParseError;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    const PREFIX: [u8; 12] = [0x01, 0xa7, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 1];

    fn ours() -> ParticipantData {
        let mut d = ParticipantData::new(GuidPrefix(PREFIX));
        d.domain_id = Some(166);
        d.metatraffic_unicast_locators = vec![Locator::udp_v4(Ipv4Addr::LOCALHOST, 48910)];
        d.default_unicast_locators = vec![Locator::udp_v4(Ipv4Addr::LOCALHOST, 48911)];
        d.lease_duration = Duration {
            seconds: 20,
            fraction: 0,
        };
        d.entity_name = Some("rs".into());
        d.property_list = vec![("fastdds.application.id".into(), "AML_IP".into())];
        d
    }

    fn golden() -> Vec<u8> {
        let mut b = vec![0x00, 0x03, 0x00, 0x00];
        b.extend_from_slice(&[0x15, 0, 4, 0, 2, 4, 0, 0]);
        b.extend_from_slice(&[0x16, 0, 4, 0, 0x01, 0xa7, 0, 0]);
        b.extend_from_slice(&[0x50, 0, 16, 0]);
        b.extend_from_slice(&PREFIX);
        b.extend_from_slice(&[0, 0, 1, 0xc1]);
        b.extend_from_slice(&[0x0f, 0, 4, 0, 166, 0, 0, 0]);
        for (pid, port) in [(0x32u8, 0x0eu8), (0x31, 0x0f)] {
            b.extend_from_slice(&[pid, 0, 24, 0, 1, 0, 0, 0, port, 0xbf, 0, 0]);
            b.extend_from_slice(&[0; 12]);
            b.extend_from_slice(&[127, 0, 0, 1]);
        }
        b.extend_from_slice(&[0x02, 0, 8, 0, 20, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&[0x58, 0, 4, 0, 0x3f, 0, 0, 0]);
        b.extend_from_slice(&[0x62, 0, 8, 0, 3, 0, 0, 0, b'r', b's', 0, 0]);
        b.extend_from_slice(&[0x59, 0, 44, 0, 1, 0, 0, 0, 23, 0, 0, 0]);
        b.extend_from_slice(b"fastdds.application.id\0\0");
        b.extend_from_slice(&[7, 0, 0, 0]);
        b.extend_from_slice(b"AML_IP\0\0");
        b.extend_from_slice(&[0x01, 0, 0, 0]);
        b
    }

    #[test]
    fn emits_golden_spdp_bytes_and_nothing_past_them() {
        let expected = golden();
        let mut buf = vec![0xa5u8; expected.len() + 16];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        ours().emit_payload(&mut w).unwrap();
        assert_eq!(w.position(), expected.len());
        assert_eq!(&buf[..expected.len()], &expected[..]);
        assert!(buf[expected.len()..].iter().all(|b| *b == 0xa5));
        assert_eq!(ours().to_payload().unwrap(), expected);
        assert_eq!(ParticipantData::from_payload(&expected), Ok(ours()));
    }

    #[test]
    fn every_truncation_fails() {
        let payload = golden();
        for n in 0..payload.len() {
            assert!(
                ParticipantData::from_payload(&payload[..n]).is_err(),
                "prefix of {n} bytes parsed"
            );
        }
    }

    #[test]
    fn reports_too_small_a_buffer() {
        let mut buf = [0u8; 100];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        assert!(matches!(
            ours().emit_payload(&mut w),
            Err(EmitError::BufferTooSmall(_))
        ));
    }

    fn payload_with(params: &[(u16, &[u8])]) -> Vec<u8> {
        let mut buf = vec![0u8; 1024];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        Encapsulation::new(EncapsulationKind::PL_CDR_LE)
            .emit(&mut w)
            .unwrap();
        for (id, value) in params {
            emit_parameter(&mut w, ParameterId(*id), |w| w.put(value, "v")).unwrap();
        }
        emit_sentinel(&mut w).unwrap();
        let n = w.position();
        buf.truncate(n);
        buf
    }

    const GUID: &[u8] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 1, 0xc1];

    #[test]
    fn requires_version_vendor_guid_and_builtin_endpoints() {
        let all: [(u16, &[u8]); 4] = [
            (0x15, &[2, 1, 0, 0]),
            (0x16, &[1, 0x10, 0, 0]),
            (0x50, GUID),
            (0x58, &[0x3f, 0, 0, 0]),
        ];
        let d = ParticipantData::from_payload(&payload_with(&all)).unwrap();
        assert_eq!(d.lease_duration, ParticipantData::DEFAULT_LEASE_DURATION);
        assert_eq!(d.domain_id, None);
        let names = [
            "PID_PROTOCOL_VERSION",
            "PID_VENDORID",
            "PID_PARTICIPANT_GUID",
            "PID_BUILTIN_ENDPOINT_SET",
        ];
        for (skip, name) in names.iter().enumerate() {
            let some: Vec<_> = (0..4).filter(|i| *i != skip).map(|i| all[i]).collect();
            assert_eq!(
                ParticipantData::from_payload(&payload_with(&some)),
                Err(DiscoveryError::Missing(name))
            );
        }
    }

    #[test]
    fn rejects_protocol_major_other_than_2_and_unknown_must_understand() {
        let base: [(u16, &[u8]); 4] = [
            (0x15, &[1, 0, 0, 0]),
            (0x16, &[1, 0x10, 0, 0]),
            (0x50, GUID),
            (0x58, &[0x3f, 0, 0, 0]),
        ];
        assert_eq!(
            ParticipantData::from_payload(&payload_with(&base)),
            Err(DiscoveryError::Incompatible(ParameterId::PROTOCOL_VERSION))
        );
        let mut list = base.to_vec();
        list[0] = (0x15, &[2, 5, 0, 0]);
        list.push((0x4777, &[]));
        assert_eq!(
            ParticipantData::from_payload(&payload_with(&list)),
            Err(DiscoveryError::Incompatible(ParameterId(0x4777)))
        );
        // Vendor ids with the bit set and known must-understand ids are fine.
        list.pop();
        list.push((0xc777, &[9, 9, 9, 9]));
        list.push((0x4014, &[2, 0, 0, 0, b't', 0, 0, 0]));
        let d = ParticipantData::from_payload(&payload_with(&list)).unwrap();
        assert_eq!(d.domain_tag.as_deref(), Some("t"));
        assert_eq!(
            d.other_parameters,
            vec![(ParameterId(0xc777), vec![9, 9, 9, 9])]
        );
    }

    #[test]
    fn first_of_a_repeated_id_wins_and_locators_accumulate() {
        let loc = |port: u8| {
            let mut v = vec![1, 0, 0, 0, port, 0, 0, 0];
            v.extend_from_slice(&[0; 16]);
            v
        };
        let (l1, l2) = (loc(1), loc(2));
        let list: [(u16, &[u8]); 8] = [
            (0x15, &[2, 1, 0, 0]),
            (0x16, &[1, 0x10, 0, 0]),
            (0x50, GUID),
            (0x58, &[0x3f, 0, 0, 0]),
            (0x0f, &[7, 0, 0, 0]),
            (0x0f, &[8, 0, 0, 0]),
            (0x32, &l1),
            (0x32, &l2),
        ];
        let d = ParticipantData::from_payload(&payload_with(&list)).unwrap();
        assert_eq!(d.domain_id, Some(7));
        let ports: Vec<_> = d
            .metatraffic_unicast_locators
            .iter()
            .map(|l| l.port)
            .collect();
        assert_eq!(ports, [1, 2]);
    }

    #[test]
    fn refuses_more_locators_than_the_cap() {
        let mut d = ours();
        d.default_unicast_locators = vec![Locator::INVALID; MAX_LOCATORS];
        let payload = d.to_payload().unwrap();
        assert_eq!(ParticipantData::from_payload(&payload), Ok(d.clone()));
        d.default_unicast_locators.push(Locator::INVALID);
        assert_eq!(
            d.to_payload(),
            Err(EmitError::Unrepresentable("locator list"))
        );
        let mut extra = payload.clone();
        let at = extra.len() - 4;
        let mut param = vec![0x31, 0, 24, 0];
        param.extend_from_slice(&[0; 24]);
        extra.splice(at..at, param);
        assert_eq!(
            ParticipantData::from_payload(&extra),
            Err(DiscoveryError::Parse(ParseError::TooLarge("locator list")))
        );
    }

    #[test]
    fn never_repeats_a_modelled_id_from_other_parameters() {
        let mut d = ours();
        d.other_parameters = vec![
            (ParameterId::DOMAIN_ID, vec![9, 0, 0, 0]),
            (ParameterId(0x8007), vec![1, 0, 0, 0]),
        ];
        let back = ParticipantData::from_payload(&d.to_payload().unwrap()).unwrap();
        assert_eq!(back.domain_id, Some(166));
        assert_eq!(
            back.other_parameters,
            vec![(ParameterId(0x8007), vec![1, 0, 0, 0])]
        );
    }

    proptest! {
        #[test]
        fn any_participant_data_round_trips_in_both_byte_orders(
            d in participant_data(),
            big in any::<bool>(),
        ) {
            let endian = if big { Endianness::Big } else { Endianness::Little };
            let mut buf = vec![0u8; 8192];
            let mut w = Writer::new(&mut buf, endian);
            d.emit_payload(&mut w).unwrap();
            let n = w.position();
            prop_assert_eq!(ParticipantData::from_payload(&buf[..n]), Ok(d));
        }
    }
}
