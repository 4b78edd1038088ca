//! Golden tests on real discovery payloads from `shared/captures` (Fast DDS 2.9.1 and Cyclone
//! DDS 0.10.2 oracles; AML-IP 0.3.0 on Fast DDS 2.14.5), extracted once into `../testdata/`:
//! each parses into the expected values, re-emits into something that parses back the same,
//! and fails on every truncation.

use std::net::Ipv4Addr;

use crate::wire::parameter::ParameterId;
use crate::wire::types::{Duration, Guid, Locator, ProtocolVersion, VendorId};

use super::builtin_endpoints::BuiltinEndpointSet;
use super::endpoint::{ReaderData, WriterData};
use super::participant::ParticipantData;
use super::qos::*;

const FASTDDS_SPDP: &[u8] = include_bytes!("../testdata/fastdds29_spdp.bin");
const FASTDDS_SEDP_W: &[u8] = include_bytes!("../testdata/fastdds29_sedp_w.bin");
const FASTDDS_SEDP_R: &[u8] = include_bytes!("../testdata/fastdds29_sedp_r.bin");
const CYCLONE_SPDP: &[u8] = include_bytes!("../testdata/cyclone010_spdp.bin");
const CYCLONE_SEDP_W: &[u8] = include_bytes!("../testdata/cyclone010_sedp_w.bin");
const CYCLONE_SEDP_R: &[u8] = include_bytes!("../testdata/cyclone010_sedp_r.bin");
const AMLIP_SPDP_MAIN: &[u8] = include_bytes!("../testdata/amlip_spdp_main.bin");
const AMLIP_SPDP_COMPUTING: &[u8] = include_bytes!("../testdata/amlip_spdp_computing.bin");
const AMLIP_SEDP_W_STATUS: &[u8] = include_bytes!("../testdata/amlip_sedp_w_status.bin");
const AMLIP_SEDP_W_TASK_DATA: &[u8] = include_bytes!("../testdata/amlip_sedp_w_task_data.bin");
const AMLIP_SEDP_R_REPLY: &[u8] = include_bytes!("../testdata/amlip_sedp_r_reply.bin");

const SPDP: &[&[u8]] = &[
    FASTDDS_SPDP,
    CYCLONE_SPDP,
    AMLIP_SPDP_MAIN,
    AMLIP_SPDP_COMPUTING,
];
const SEDP_W: &[&[u8]] = &[
    FASTDDS_SEDP_W,
    CYCLONE_SEDP_W,
    AMLIP_SEDP_W_STATUS,
    AMLIP_SEDP_W_TASK_DATA,
];
const SEDP_R: &[&[u8]] = &[FASTDDS_SEDP_R, CYCLONE_SEDP_R, AMLIP_SEDP_R_REPLY];

fn guid(hex: &str) -> Guid {
    let mut b = [0u8; 16];
    for (i, o) in b.iter_mut().enumerate() {
        *o = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    Guid::from_bytes(b)
}

fn local(port: u16) -> Locator {
    Locator::udp_v4(Ipv4Addr::LOCALHOST, port)
}

fn secs(seconds: i32) -> Duration {
    Duration {
        seconds,
        fraction: 0,
    }
}

fn props(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The QoS every Fast DDS endpoint spells out in full: all defaults but reliability,
/// durability as given.
fn fastdds_qos(reliability: Reliability, durability: Durability) -> EndpointQos {
    EndpointQos {
        reliability,
        durability,
        ..EndpointQos::writer_default()
    }
}

const RELIABLE_100_MS: Reliability = Reliability::WRITER_DEFAULT;
const RELIABLE_20_S: Reliability = Reliability {
    kind: ReliabilityKind::Reliable,
    max_blocking_time: Duration {
        seconds: 20,
        fraction: 0,
    },
};

#[test]
fn fastdds_2_9_participant_data() {
    let d = ParticipantData::from_payload(FASTDDS_SPDP).unwrap();
    assert_eq!(d.protocol_version, ProtocolVersion { major: 2, minor: 3 });
    assert_eq!(d.vendor_id, VendorId::EPROSIMA);
    assert_eq!(d.guid, guid("010f7f01f77833de00000000000001c1"));
    assert_eq!(d.domain_id, None);
    assert_eq!(d.metatraffic_unicast_locators, [local(7410)]);
    assert_eq!(d.default_unicast_locators, [local(7411)]);
    assert!(d.metatraffic_multicast_locators.is_empty());
    assert!(d.default_multicast_locators.is_empty());
    assert_eq!(d.lease_duration, secs(20));
    // Debian's Fast DDS is built with security: the secure builtin bits are set too.
    assert_eq!(d.builtin_endpoint_set, BuiltinEndpointSet(0x0c3f_0c3f));
    assert!(d.builtin_endpoint_set.contains(
        BuiltinEndpointSet::PARTICIPANT_SECURE_ANNOUNCER | BuiltinEndpointSet::SPDP_SEDP
    ));
    assert_eq!(d.entity_name.as_deref(), Some("oracle-fastdds-sub"));
    assert_eq!(
        d.property_list,
        props(&[
            ("PARTICIPANT_TYPE", "SIMPLE"),
            ("fastdds.physical_data.host", "vm:107806561077755904"),
            ("fastdds.physical_data.user", "root"),
            ("fastdds.physical_data.process", "30967"),
        ])
    );
    assert!(d.binary_property_list.is_empty());
    assert!(d.other_parameters.is_empty());
    assert!(!d.expects_inline_qos);
}

#[test]
fn cyclone_0_10_participant_data() {
    let d = ParticipantData::from_payload(CYCLONE_SPDP).unwrap();
    assert_eq!(d.protocol_version, ProtocolVersion { major: 2, minor: 1 });
    assert_eq!(d.vendor_id, VendorId::ECLIPSE);
    assert_eq!(d.guid, guid("01108a20ed4e6d54ee7ec52c000001c1"));
    assert_eq!(d.domain_id, Some(0));
    let group = Locator::udp_v4(Ipv4Addr::new(239, 255, 0, 1), 7400);
    let user_group = Locator::udp_v4(Ipv4Addr::new(239, 255, 0, 1), 7401);
    assert_eq!(d.metatraffic_unicast_locators, [local(33764)]);
    assert_eq!(d.metatraffic_multicast_locators, [group]);
    assert_eq!(d.default_unicast_locators, [local(33764)]);
    assert_eq!(d.default_multicast_locators, [user_group]);
    assert_eq!(d.lease_duration, secs(10));
    assert_eq!(d.builtin_endpoint_set, BuiltinEndpointSet(0xfc3f));
    assert!(d
        .builtin_endpoint_set
        .contains(BuiltinEndpointSet::TYPELOOKUP_SERVICE_REPLY_DATA_READER));
    assert_eq!(d.entity_name, None);
    assert_eq!(
        d.property_list,
        props(&[
            ("__ProcessName", "oracle-cyclone"),
            ("__Pid", "31154"),
            ("__Hostname", "vm"),
        ])
    );
    assert!(d.binary_property_list.is_empty());
    // Cyclone's own 0x8007 (product version, not Fast DDS's network configuration) and 0x8019.
    let ids: Vec<_> = d
        .other_parameters
        .iter()
        .map(|(id, v)| (id.0, v.len()))
        .collect();
    assert_eq!(ids, [(0x8007, 48), (0x8019, 4)]);
}

#[test]
fn amlip_main_and_computing_participant_data() {
    let main = ParticipantData::from_payload(AMLIP_SPDP_MAIN).unwrap();
    assert_eq!(
        main.protocol_version,
        ProtocolVersion { major: 2, minor: 2 }
    );
    assert_eq!(main.vendor_id, VendorId::EPROSIMA);
    assert_eq!(main.guid, guid("010f7f016358e1c700000000000001c1"));
    assert_eq!(main.domain_id, None);
    assert_eq!(main.metatraffic_unicast_locators, [local(48912)]);
    assert_eq!(main.default_unicast_locators, [local(48913)]);
    assert_eq!(main.lease_duration, secs(20));
    assert_eq!(main.builtin_endpoint_set, BuiltinEndpointSet(0x0c3f));
    assert_eq!(main.entity_name.as_deref(), Some("AMLMainNode"));
    assert_eq!(
        main.other_parameters,
        [(ParameterId(0x8007), vec![1, 0, 0, 0])]
    );
    assert_eq!(
        &main.property_list[..3],
        &props(&[
            (
                "fastdds.application.metadata",
                r#"{"Id":[30,5,74,193],"Name":"AMLMainNode","NodeKind":"main"}"#
            ),
            ("fastdds.application.id", "AML_IP"),
            ("PARTICIPANT_TYPE", "SIMPLE"),
        ])[..]
    );
    assert_eq!(main.property_list.len(), 6);
    assert_eq!(main.property_list[5].0, "fastdds.physical_data.process");

    let computing = ParticipantData::from_payload(AMLIP_SPDP_COMPUTING).unwrap();
    assert_eq!(computing.entity_name.as_deref(), Some("AMLComputingNode"));
    assert_eq!(computing.metatraffic_unicast_locators, [local(48910)]);
    assert_eq!(computing.default_unicast_locators, [local(48911)]);
    assert_eq!(
        computing.property_list[0].1,
        r#"{"Id":[75,23,15,248],"Name":"AMLComputingNode","NodeKind":"computing"}"#
    );
}

#[test]
fn fastdds_2_9_writer_and_reader_data() {
    let w = WriterData::from_payload(FASTDDS_SEDP_W).unwrap();
    let e = &w.endpoint;
    assert_eq!(e.endpoint_guid, guid("010f7f01fe78441d0000000000000103"));
    assert_eq!(
        e.participant_guid,
        Some(guid("010f7f01fe78441d00000000000001c1"))
    );
    assert_eq!(e.key_hash, Some(e.endpoint_guid.to_bytes()));
    assert_eq!(
        (e.topic_name.as_str(), e.type_name.as_str()),
        ("cap_small", "interop::Message")
    );
    assert_eq!(e.unicast_locators, [local(7413)]);
    assert_eq!(
        e.protocol_version,
        Some(ProtocolVersion { major: 2, minor: 3 })
    );
    assert_eq!(e.vendor_id, Some(VendorId::EPROSIMA));
    assert_eq!(w.type_max_size_serialized, Some(268));
    assert_eq!(e.qos, fastdds_qos(RELIABLE_20_S, Durability::Volatile));
    assert!(e.data_representation.is_empty());
    assert!(e.other_parameters.is_empty());

    let r = ReaderData::from_payload(FASTDDS_SEDP_R).unwrap();
    let e = &r.endpoint;
    assert_eq!(e.endpoint_guid, guid("010f7f01f77833de0000000000000104"));
    assert_eq!(e.unicast_locators, [local(7411)]);
    assert!(!r.expects_inline_qos);
    assert_eq!(e.qos, fastdds_qos(RELIABLE_100_MS, Durability::Volatile));
    assert_eq!(e.type_consistency, Some(vec![1, 0, 1, 1, 0, 0, 0, 0]));
    assert!(e.other_parameters.is_empty());
}

#[test]
fn cyclone_0_10_writer_and_reader_data() {
    let w = WriterData::from_payload(CYCLONE_SEDP_W).unwrap();
    let e = &w.endpoint;
    assert_eq!(e.endpoint_guid, guid("0110185ee4a27c9f8c00e43800000203"));
    // Cyclone sends neither participant GUID, key hash, locators nor the default policies.
    assert_eq!(e.participant_guid, None);
    assert_eq!(e.key_hash, None);
    assert!(e.unicast_locators.is_empty());
    assert_eq!(
        (e.topic_name.as_str(), e.type_name.as_str()),
        ("cap_small", "interop::Message")
    );
    assert_eq!(
        e.protocol_version,
        Some(ProtocolVersion { major: 2, minor: 1 })
    );
    assert_eq!(e.vendor_id, Some(VendorId::ECLIPSE));
    // KEEP_ALL, sent with depth 0.
    let keep_all = EndpointQos {
        history: History::KeepAll,
        ..fastdds_qos(RELIABLE_20_S, Durability::Volatile)
    };
    assert_eq!(e.qos, keep_all);
    assert_eq!(e.data_representation, [0, 2]);
    assert_eq!(w.type_max_size_serialized, None);
    let ids: Vec<_> = e
        .other_parameters
        .iter()
        .map(|(id, v)| (id.0, v.len()))
        .collect();
    assert_eq!(ids, [(0x0075, 100), (0x800c, 4)]);

    let r = ReaderData::from_payload(CYCLONE_SEDP_R).unwrap();
    assert_eq!(
        r.endpoint.endpoint_guid,
        guid("01108a20ed4e6d54ee7ec52c00000204")
    );
    assert_eq!(r.endpoint.qos.reliability, RELIABLE_20_S);
    assert_eq!(r.endpoint.qos.history, History::KeepAll);
    assert!(!r.expects_inline_qos);
}

#[test]
fn amlip_writer_and_reader_data() {
    let amlip_qos = fastdds_qos(RELIABLE_100_MS, Durability::TransientLocal);
    let w = WriterData::from_payload(AMLIP_SEDP_W_STATUS).unwrap();
    let e = &w.endpoint;
    assert_eq!(e.endpoint_guid, guid("010f7f016358e1c70000000000000103"));
    assert_eq!(
        (e.topic_name.as_str(), e.type_name.as_str()),
        ("amlip/status", "amlip::status")
    );
    assert_eq!(e.unicast_locators, [local(48913)]);
    assert_eq!(w.type_max_size_serialized, Some(144));
    assert_eq!(e.qos, amlip_qos);
    assert_eq!(
        e.other_parameters,
        [(ParameterId(0x8007), vec![1, 0, 0, 0])]
    );

    let w = WriterData::from_payload(AMLIP_SEDP_W_TASK_DATA).unwrap();
    assert_eq!(
        w.endpoint.topic_name,
        "amlip/job_task_data_AMLComputingNode.4b.17.0f.f8"
    );
    assert_eq!(w.endpoint.type_name, "amlip::ms_data_GENERIC");
    assert_eq!(w.type_max_size_serialized, Some(404));
    assert_eq!(w.endpoint.endpoint_guid.entity_id.to_u32(), 0x0000_0603);

    let r = ReaderData::from_payload(AMLIP_SEDP_R_REPLY).unwrap();
    let e = &r.endpoint;
    assert_eq!(e.endpoint_guid, guid("010f7f016358e1c70000000000000304"));
    assert_eq!(
        e.topic_name,
        "amlip/job_reply_available_AMLMainNode.1e.05.4a.c1"
    );
    assert_eq!(e.type_name, "amlip::ms_reference");
    assert!(!r.expects_inline_qos);
    assert_eq!(e.qos, amlip_qos);
    assert_eq!(e.type_consistency, Some(vec![1, 0, 1, 1, 0, 0, 0, 0]));
}

#[test]
fn captured_payloads_re_emit_to_the_same_representation() {
    for payload in SPDP {
        let d = ParticipantData::from_payload(payload).unwrap();
        assert_eq!(
            ParticipantData::from_payload(&d.to_payload().unwrap()),
            Ok(d)
        );
    }
    for payload in SEDP_W {
        let d = WriterData::from_payload(payload).unwrap();
        assert_eq!(WriterData::from_payload(&d.to_payload().unwrap()), Ok(d));
    }
    for payload in SEDP_R {
        let d = ReaderData::from_payload(payload).unwrap();
        assert_eq!(ReaderData::from_payload(&d.to_payload().unwrap()), Ok(d));
    }
}

#[test]
fn every_truncation_of_every_captured_payload_fails() {
    for payload in SPDP {
        for n in 0..payload.len() {
            assert!(
                ParticipantData::from_payload(&payload[..n]).is_err(),
                "p {n}"
            );
        }
    }
    for payload in SEDP_W.iter().chain(SEDP_R) {
        for n in 0..payload.len() {
            assert!(WriterData::from_payload(&payload[..n]).is_err(), "w {n}");
            assert!(ReaderData::from_payload(&payload[..n]).is_err(), "r {n}");
        }
    }
}

#[test]
fn our_re_emission_of_fastdds_sedp_sends_only_non_default_qos() {
    let w = WriterData::from_payload(AMLIP_SEDP_W_STATUS).unwrap();
    let ours = w.to_payload().unwrap();
    let list = super::pl_cdr_list(&ours).unwrap();
    let ids: Vec<u16> = list.iter().map(|p| p.id.0).collect();
    // ENDPOINT_GUID, PARTICIPANT_GUID, TOPIC, TYPE, KEY_HASH, VERSION, VENDOR, UNICAST,
    // TYPE_MAX_SIZE, RELIABILITY, DURABILITY, HISTORY, then the vendor 0x8007 kept raw.
    assert_eq!(
        ids,
        [0x5a, 0x50, 0x05, 0x07, 0x70, 0x15, 0x16, 0x2f, 0x60, 0x1a, 0x1d, 0x40, 0x8007]
    );
    assert!(ours.len() < AMLIP_SEDP_W_STATUS.len());
}

#[test]
fn fuzz_entry_survives_captured_payloads_with_every_byte_mutated() {
    // A bounded, deterministic stand-in for the fuzz target: each byte of each capture
    // replaced by a few values, every truncation, and the originals.
    for payload in SPDP.iter().chain(SEDP_W).chain(SEDP_R) {
        crate::fuzzing::discovery_data(payload);
        let mut copy = payload.to_vec();
        for i in 0..copy.len() {
            let original = copy[i];
            for v in [original ^ 0xff, original ^ 0x01, 0x80] {
                copy[i] = v;
                crate::fuzzing::discovery_data(&copy);
            }
            copy[i] = original;
            crate::fuzzing::discovery_data(&payload[..i]);
        }
    }
}
