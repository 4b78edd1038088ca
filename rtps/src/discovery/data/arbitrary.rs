//! Proptest strategies for the discovery representations (tests only). Every value they make
//! is one the emitters accept and the parsers give back unchanged: names within the caps and
//! without NUL, raw values padded to 4, raw ids outside the modelled ones.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use crate::wire::parameter::ParameterId;
use crate::wire::types::{Duration, Guid, Locator, LocatorKind, ProtocolVersion, VendorId};

use super::builtin_endpoints::BuiltinEndpointSet;
use super::endpoint::{EndpointData, ReaderData, WriterData};
use super::participant::ParticipantData;
use super::qos::*;

pub(crate) fn guid() -> impl Strategy<Value = Guid> {
    any::<[u8; 16]>().prop_map(Guid::from_bytes)
}

pub(crate) fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::INFINITE),
        Just(Duration::ZERO),
        (any::<i32>(), any::<u32>()).prop_map(|(seconds, fraction)| Duration { seconds, fraction }),
    ]
}

pub(crate) fn locator() -> impl Strategy<Value = Locator> {
    (any::<i32>(), any::<u32>(), any::<[u8; 16]>()).prop_map(|(k, port, address)| Locator {
        kind: LocatorKind(k),
        port,
        address,
    })
}

pub(crate) fn locators() -> impl Strategy<Value = Vec<Locator>> {
    vec(locator(), 0..3)
}

/// Short names, sometimes non-ASCII, never NUL.
pub(crate) fn name() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z0-9_:/.]{0,24}", "\\PC{0,6}"]
}

/// Octets padded to a multiple of 4 (as the parser normalises raw values).
fn padded_octets() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<[u8; 4]>(), 0..4).prop_map(|v| v.concat())
}

/// Raw parameters with ids no representation models and without the must-understand bit
/// unless vendor-specific.
pub(crate) fn other_parameters() -> impl Strategy<Value = Vec<(ParameterId, Vec<u8>)>> {
    let id = prop_oneof![0x0080u16..0x4000, 0x8000u16..=0xffff].prop_map(ParameterId);
    vec((id, padded_octets()), 0..3)
}

fn history() -> impl Strategy<Value = History> {
    prop_oneof![
        (1i32..=i32::MAX).prop_map(|depth| History::KeepLast { depth }),
        Just(History::KeepAll),
    ]
}

fn resource_limits() -> impl Strategy<Value = ResourceLimits> {
    (any::<i32>(), any::<i32>(), any::<i32>()).prop_map(|(a, b, c)| ResourceLimits {
        max_samples: a,
        max_instances: b,
        max_samples_per_instance: c,
    })
}

pub(crate) fn endpoint_qos() -> impl Strategy<Value = EndpointQos> {
    let reliability =
        (prop::bool::ANY, duration()).prop_map(|(r, max_blocking_time)| Reliability {
            kind: if r {
                ReliabilityKind::Reliable
            } else {
                ReliabilityKind::BestEffort
            },
            max_blocking_time,
        });
    let durability = prop_oneof![
        Just(Durability::Volatile),
        Just(Durability::TransientLocal),
        Just(Durability::Transient),
        Just(Durability::Persistent),
    ];
    let durability_service =
        (duration(), history(), resource_limits()).prop_map(|(d, h, l)| DurabilityService {
            service_cleanup_delay: d,
            history: h,
            resource_limits: l,
        });
    let liveliness = (0u32..3, duration()).prop_map(|(k, lease_duration)| Liveliness {
        kind: LivelinessKind::from_wire(k).unwrap_or_default(),
        lease_duration,
    });
    let presentation =
        (0u32..3, prop::bool::ANY, prop::bool::ANY).prop_map(|(s, c, o)| Presentation {
            access_scope: PresentationAccessScope::from_wire(s).unwrap_or_default(),
            coherent_access: c,
            ordered_access: o,
        });
    let a = (
        reliability,
        durability,
        durability_service,
        duration(),
        duration(),
        liveliness,
    );
    let b = (
        prop::bool::ANY,
        history(),
        resource_limits(),
        duration(),
        prop::bool::ANY,
        any::<i32>(),
    );
    let c = (
        presentation,
        vec(name(), 0..3),
        duration(),
        vec(any::<u8>(), 0..6),
        vec(any::<u8>(), 0..6),
        vec(any::<u8>(), 0..6),
    );
    (a, b, c).prop_map(|(a, b, c)| EndpointQos {
        reliability: a.0,
        durability: a.1,
        durability_service: a.2,
        deadline: Deadline { period: a.3 },
        latency_budget: LatencyBudget { duration: a.4 },
        liveliness: a.5,
        destination_order: if b.0 {
            DestinationOrder::BySourceTimestamp
        } else {
            DestinationOrder::ByReceptionTimestamp
        },
        history: b.1,
        resource_limits: b.2,
        lifespan: Lifespan { duration: b.3 },
        ownership: if b.4 {
            Ownership::Exclusive
        } else {
            Ownership::Shared
        },
        ownership_strength: OwnershipStrength(b.5),
        presentation: c.0,
        partition: Partition(c.1),
        time_based_filter: TimeBasedFilter {
            minimum_separation: c.2,
        },
        user_data: UserData(c.3),
        topic_data: TopicData(c.4),
        group_data: GroupData(c.5),
    })
}

fn protocol_version() -> impl Strategy<Value = ProtocolVersion> {
    any::<u8>().prop_map(|minor| ProtocolVersion { major: 2, minor })
}

pub(crate) fn participant_data() -> impl Strategy<Value = ParticipantData> {
    let a = (
        protocol_version(),
        any::<[u8; 2]>(),
        guid(),
        option::of(any::<u32>()),
        option::of(name()),
        prop::bool::ANY,
    );
    let b = (
        locators(),
        locators(),
        locators(),
        locators(),
        duration(),
        any::<u32>(),
    );
    let c = (
        option::of(any::<i32>()),
        option::of(name()),
        vec(any::<u8>(), 0..6),
        vec((name(), name()), 0..3),
        vec((name(), vec(any::<u8>(), 0..5)), 0..2),
        other_parameters(),
    );
    (a, b, c).prop_map(|(a, b, c)| ParticipantData {
        protocol_version: a.0,
        vendor_id: VendorId(a.1),
        guid: a.2,
        domain_id: a.3,
        domain_tag: a.4,
        expects_inline_qos: a.5,
        metatraffic_unicast_locators: b.0,
        metatraffic_multicast_locators: b.1,
        default_unicast_locators: b.2,
        default_multicast_locators: b.3,
        lease_duration: b.4,
        builtin_endpoint_set: BuiltinEndpointSet(b.5),
        manual_liveliness_count: c.0,
        entity_name: c.1,
        user_data: c.2,
        property_list: c.3,
        binary_property_list: c.4,
        other_parameters: c.5,
    })
}

fn endpoint_data() -> impl Strategy<Value = EndpointData> {
    let a = (
        guid(),
        option::of(guid()),
        name(),
        name(),
        option::of(protocol_version()),
        option::of(any::<[u8; 2]>()),
    );
    let b = (
        locators(),
        locators(),
        endpoint_qos(),
        vec(any::<i16>(), 0..3),
        option::of(padded_octets()),
        option::of(any::<[u8; 16]>()),
        other_parameters(),
    );
    (a, b).prop_map(|(a, b)| EndpointData {
        endpoint_guid: a.0,
        participant_guid: a.1,
        topic_name: a.2,
        type_name: a.3,
        protocol_version: a.4,
        vendor_id: a.5.map(VendorId),
        unicast_locators: b.0,
        multicast_locators: b.1,
        qos: b.2,
        data_representation: b.3,
        type_consistency: b.4,
        key_hash: b.5,
        other_parameters: b.6,
    })
}

pub(crate) fn writer_data() -> impl Strategy<Value = WriterData> {
    (endpoint_data(), option::of(any::<u32>())).prop_map(|(endpoint, max)| WriterData {
        endpoint,
        type_max_size_serialized: max,
    })
}

pub(crate) fn reader_data() -> impl Strategy<Value = ReaderData> {
    (endpoint_data(), prop::bool::ANY).prop_map(|(endpoint, expects_inline_qos)| ReaderData {
        endpoint,
        expects_inline_qos,
    })
}
