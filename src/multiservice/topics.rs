//! AML-IP topic names, type names, endpoint QoS and participant properties, as plain data the
//! node layer turns into RTPS entities (AML-IP spec §2, §6; observed §3-§5).
//!
//! Topic names are mangled in three steps (spec §2.1): base + MultiService suffix
//! (`job_task_data`), then for per-recipient ("direct") topics `_<recipient id>`
//! (`job_task_data_AMLComputingNode.d1.c3.86.0a`), then the DDS prefix `amlip/`. Type names get
//! the prefix `amlip::` instead. Every AML-IP topic is keyless (NO_KEY entity kinds 0x03/0x04).

use core::fmt;
use core::time::Duration;

use super::codec::Payload;
use super::id::AmlipId;
use super::status::{NodeKind, Status};
use super::types::{MsData, MsReference, MsRequest};

/// Prefix of every DDS topic name (`TOPIC_NAME_MANGLING`, spec §2.1).
pub const TOPIC_NAME_MANGLING: &str = "amlip/";
/// Prefix of every DDS type name (`TYPE_NAME_MANGLING`, spec §2.1).
pub const TYPE_NAME_MANGLING: &str = "amlip::";
/// Base name of the workload-distribution MultiService (`JOB_TOPIC_NAME`, spec §2.2).
pub const JOB_TOPIC_NAME: &str = "job";
/// Base name of the inference MultiService (`INFERENCE_TOPIC_NAME`, spec §2.2; same protocol).
pub const INFERENCE_TOPIC_NAME: &str = "inference";
/// The status DDS topic (`STATUS_TOPIC_NAME` mangled, spec §2.5).
pub const STATUS_TOPIC: &str = "amlip/status";
/// Default DDS domain of every AML-IP node (spec §6.1).
pub const DEFAULT_DOMAIN_ID: u32 = 166;

/// The five MultiService topics of one service (`MultiServiceTopicType`, spec §2.1, §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MultiServiceTopic {
    /// `_request_availability`: client → every server, `ms_request`.
    RequestAvailability,
    /// `_reply_available_<client>`: server → one client, `ms_reference`.
    ReplyAvailable,
    /// `_task_target`: client → every server, `ms_reference`.
    TaskTarget,
    /// `_task_data_<server>`: client → the chosen server, `ms_data_GENERIC`.
    TaskData,
    /// `_task_solution_<client>`: server → one client, `ms_data_GENERIC`.
    TaskSolution,
}

/// Which side of the MultiService protocol an endpoint belongs to (spec §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The client (MainNode).
    Client,
    /// The server (ComputingNode).
    Server,
}

impl MultiServiceTopic {
    /// Every topic, in protocol order.
    pub const ALL: [MultiServiceTopic; 5] = [
        MultiServiceTopic::RequestAvailability,
        MultiServiceTopic::ReplyAvailable,
        MultiServiceTopic::TaskTarget,
        MultiServiceTopic::TaskData,
        MultiServiceTopic::TaskSolution,
    ];

    /// The MultiService suffix appended to the base name (spec §2.1 step 1).
    pub fn suffix(self) -> &'static str {
        match self {
            MultiServiceTopic::RequestAvailability => "_request_availability",
            MultiServiceTopic::ReplyAvailable => "_reply_available",
            MultiServiceTopic::TaskTarget => "_task_target",
            MultiServiceTopic::TaskData => "_task_data",
            MultiServiceTopic::TaskSolution => "_task_solution",
        }
    }

    /// The DDS type name carried on this topic (spec §2.3).
    pub fn type_name(self) -> &'static str {
        match self {
            MultiServiceTopic::RequestAvailability => MsRequest::TYPE_NAME,
            MultiServiceTopic::ReplyAvailable | MultiServiceTopic::TaskTarget => {
                MsReference::TYPE_NAME
            }
            MultiServiceTopic::TaskData | MultiServiceTopic::TaskSolution => MsData::TYPE_NAME,
        }
    }

    /// True for the per-recipient topics (DirectWriter / TargetedReader, spec §4.2).
    pub fn is_direct(self) -> bool {
        matches!(
            self,
            MultiServiceTopic::ReplyAvailable
                | MultiServiceTopic::TaskData
                | MultiServiceTopic::TaskSolution
        )
    }

    /// The side that writes this topic (spec §2.5); the other side reads it.
    pub fn writer_side(self) -> Side {
        match self {
            MultiServiceTopic::RequestAvailability
            | MultiServiceTopic::TaskTarget
            | MultiServiceTopic::TaskData => Side::Client,
            MultiServiceTopic::ReplyAvailable | MultiServiceTopic::TaskSolution => Side::Server,
        }
    }

    /// The un-prefixed name without id suffix, e.g. `job_reply_available` (the `Topic` of the
    /// Fast DDS metadata, spec §6.2).
    pub fn unmangled(self, base: &str) -> String {
        format!("{base}{}", self.suffix())
    }

    /// The DDS name of a shared topic (`amlip/job_task_target`); `None` for a direct topic.
    pub fn shared_name(self, base: &str) -> Option<String> {
        (!self.is_direct()).then(|| format!("{TOPIC_NAME_MANGLING}{}", self.unmangled(base)))
    }

    /// The DDS name of a direct topic for `recipient` (`amlip/job_task_data_<recipient>`);
    /// `None` for a shared topic.
    pub fn direct_name(self, base: &str, recipient: &AmlipId) -> Option<String> {
        self.is_direct()
            .then(|| format!("{TOPIC_NAME_MANGLING}{}_{recipient}", self.unmangled(base)))
    }

    /// Recognise a DDS topic name of service `base`: the topic and, for direct topics, the
    /// recipient id parsed from the suffix.
    pub fn classify(dds_name: &str, base: &str) -> Option<(MultiServiceTopic, Option<AmlipId>)> {
        let rest = dds_name
            .strip_prefix(TOPIC_NAME_MANGLING)?
            .strip_prefix(base)?;
        Self::ALL.into_iter().find_map(|t| {
            let tail = rest.strip_prefix(t.suffix())?;
            if t.is_direct() {
                let id = tail.strip_prefix('_')?.parse().ok()?;
                Some((t, Some(id)))
            } else {
                tail.is_empty().then_some((t, None))
            }
        })
    }
}

/// DDS reliability kind (DDS 1.4 §2.2.3.14) as AML-IP configures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReliabilityKind {
    /// BEST_EFFORT.
    BestEffort,
    /// RELIABLE.
    Reliable,
}

/// DDS durability kind (DDS 1.4 §2.2.3.4) as AML-IP configures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DurabilityKind {
    /// VOLATILE.
    Volatile,
    /// TRANSIENT_LOCAL: the writer serves its history to late-joining readers.
    TransientLocal,
}

/// DDS history kind (DDS 1.4 §2.2.3.18); not a matching criterion, never on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryKind {
    /// KEEP_LAST with this depth.
    KeepLast(u32),
    /// KEEP_ALL (bounded by `max_samples`).
    KeepAll,
}

/// The QoS of one AML-IP endpoint, as plain data (spec §6.2, §6.3; observed §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EndpointQos {
    /// Reliability kind.
    pub reliability: ReliabilityKind,
    /// Reliability `max_blocking_time` (0.1 s on every AML-IP endpoint, observed §4).
    pub max_blocking_time: Duration,
    /// Durability kind.
    pub durability: DurabilityKind,
    /// History kind.
    pub history: HistoryKind,
    /// Resource limit `max_samples` (Fast DDS default 5000, spec §6.2).
    pub max_samples: u32,
}

impl EndpointQos {
    /// Every MultiService writer and reader: RELIABLE, TRANSIENT_LOCAL, KEEP_ALL (spec §6.3).
    pub const MULTISERVICE: EndpointQos = EndpointQos {
        reliability: ReliabilityKind::Reliable,
        max_blocking_time: Duration::from_millis(100),
        durability: DurabilityKind::TransientLocal,
        history: HistoryKind::KeepAll,
        max_samples: 5000,
    };
    /// The status writer of every node: RELIABLE, TRANSIENT_LOCAL, KEEP_LAST 1 (spec §6.3).
    pub const STATUS_WRITER: EndpointQos = EndpointQos {
        history: HistoryKind::KeepLast(1),
        ..Self::MULTISERVICE
    };
    /// The StatusNode's reader: RELIABLE, TRANSIENT_LOCAL, KEEP_ALL (spec §6.3).
    pub const STATUS_READER: EndpointQos = Self::MULTISERVICE;
}

/// Writer or reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointKind {
    /// A DataWriter (NO_KEY writer, entity kind 0x03).
    Writer,
    /// A DataReader (NO_KEY reader, entity kind 0x04).
    Reader,
}

/// One AML-IP endpoint to create: topic, type, QoS (spec §2.5, §6.3). Always keyless.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointDescription {
    /// DDS topic name.
    pub topic_name: String,
    /// DDS type name.
    pub type_name: &'static str,
    /// Writer or reader.
    pub kind: EndpointKind,
    /// QoS.
    pub qos: EndpointQos,
    /// `PID_TYPE_MAX_SIZE_SERIALIZED` a Fast DDS writer announces (observed §4); `None` for
    /// readers.
    pub type_max_size_serialized: Option<u32>,
}

/// `m_typeSize` Fast DDS announces for an AML-IP type (spec §3.1; observed §4).
pub fn type_max_size_serialized(type_name: &str) -> Option<u32> {
    match type_name {
        MsRequest::TYPE_NAME => Some(140),
        MsReference::TYPE_NAME => Some(172),
        MsData::TYPE_NAME => Some(404),
        Status::TYPE_NAME => Some(144),
        _ => None,
    }
}

fn endpoint(
    topic_name: String,
    type_name: &'static str,
    kind: EndpointKind,
) -> EndpointDescription {
    let qos = match (type_name, kind) {
        (Status::TYPE_NAME, EndpointKind::Writer) => EndpointQos::STATUS_WRITER,
        (Status::TYPE_NAME, EndpointKind::Reader) => EndpointQos::STATUS_READER,
        _ => EndpointQos::MULTISERVICE,
    };
    let type_max_size_serialized = match kind {
        EndpointKind::Writer => type_max_size_serialized(type_name),
        EndpointKind::Reader => None,
    };
    EndpointDescription {
        topic_name,
        type_name,
        kind,
        qos,
        type_max_size_serialized,
    }
}

/// The writer of `topic` that `side` uses for samples to `recipient` (direct topics), or the
/// shared writer (recipient ignored). Direct writers are created lazily on first use (spec §4.2).
pub fn multiservice_writer(
    topic: MultiServiceTopic,
    base: &str,
    recipient: &AmlipId,
) -> EndpointDescription {
    let name = topic
        .shared_name(base)
        .or_else(|| topic.direct_name(base, recipient))
        .unwrap_or_default();
    endpoint(name, topic.type_name(), EndpointKind::Writer)
}

/// The endpoints a MultiService side creates at construction (spec §2.5 "creation timing";
/// observed §5): readers on its own targeted topics and on the shared topics it reads, and (for
/// a client) the two shared writers.
pub fn endpoints_at_creation(side: Side, base: &str, own: &AmlipId) -> Vec<EndpointDescription> {
    MultiServiceTopic::ALL
        .into_iter()
        .filter_map(|t| {
            let name = t.shared_name(base).or_else(|| t.direct_name(base, own))?;
            if t.writer_side() != side {
                Some(endpoint(name, t.type_name(), EndpointKind::Reader))
            } else if !t.is_direct() {
                Some(endpoint(name, t.type_name(), EndpointKind::Writer))
            } else {
                None
            }
        })
        .collect()
}

/// The status writer every node creates (spec §5, §6.3).
pub fn status_writer() -> EndpointDescription {
    endpoint(
        STATUS_TOPIC.to_owned(),
        Status::TYPE_NAME,
        EndpointKind::Writer,
    )
}

/// The StatusNode's status reader (spec §5, §6.3).
pub fn status_reader() -> EndpointDescription {
    endpoint(
        STATUS_TOPIC.to_owned(),
        Status::TYPE_NAME,
        EndpointKind::Reader,
    )
}

/// Property naming the application (`fastdds.application.id`, spec §6.1).
pub const PROPERTY_APPLICATION_ID: &str = "fastdds.application.id";
/// Value of [`PROPERTY_APPLICATION_ID`].
pub const APPLICATION_ID: &str = "AML_IP";
/// Property carrying the node's JSON metadata (`fastdds.application.metadata`, spec §6.1).
pub const PROPERTY_APPLICATION_METADATA: &str = "fastdds.application.metadata";
/// Local (not propagated) property a StatusNode sets so it does not read its own status (§5).
pub const PROPERTY_IGNORE_LOCAL_ENDPOINTS: &str = "fastdds.ignore_local_endpoints";

/// The properties an AML-IP participant announces in SPDP, in wire order (observed §3):
/// metadata `{"Id":[..],"Name":"..","NodeKind":".."}` then `fastdds.application.id = AML_IP`.
/// (`PARTICIPANT_TYPE` and `fastdds.physical_data.*` that follow are Fast DDS's own.)
pub fn participant_properties(id: &AmlipId, kind: NodeKind) -> Vec<(&'static str, String)> {
    vec![
        (PROPERTY_APPLICATION_METADATA, metadata_json(id, kind)),
        (PROPERTY_APPLICATION_ID, APPLICATION_ID.to_owned()),
    ]
}

/// What an AML-IP node's DomainParticipant looks like (spec §6.1; observed §2, §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantDescription {
    /// DDS domain ([`DEFAULT_DOMAIN_ID`] unless configured).
    pub domain_id: u32,
    /// Participant name (`PID_ENTITY_NAME`) = the node name.
    pub name: String,
    /// Properties announced in SPDP (`PID_PROPERTY_LIST`, propagated), in wire order.
    pub properties: Vec<(&'static str, String)>,
    /// Properties set locally, not propagated (a StatusNode ignores its own endpoints).
    pub local_properties: Vec<(&'static str, String)>,
}

/// The participant of node `id` of kind `kind` on `domain_id` (spec §6.1).
pub fn participant(id: &AmlipId, kind: NodeKind, domain_id: u32) -> ParticipantDescription {
    let local_properties = if kind == NodeKind::STATUS {
        vec![(PROPERTY_IGNORE_LOCAL_ENDPOINTS, "true".to_owned())]
    } else {
        Vec::new()
    };
    ParticipantDescription {
        domain_id,
        name: id.name().to_owned(),
        properties: participant_properties(id, kind),
        local_properties,
    }
}

/// The compact, key-sorted metadata JSON of a node (spec §6.1; observed §3).
pub fn metadata_json(id: &AmlipId, kind: NodeKind) -> String {
    let [a, b, c, d] = id.rand();
    format!(
        "{{\"Id\":[{a},{b},{c},{d}],\"Name\":\"{}\",\"NodeKind\":\"{kind}\"}}",
        JsonStr(id.name())
    )
}

/// A JSON string body, escaped as nlohmann::json does for ASCII.
struct JsonStr<'a>(&'a str);

impl fmt::Display for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '\u{8}' => f.write_str("\\b")?,
                '\u{c}' => f.write_str("\\f")?,
                c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
                c => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn main_id() -> AmlipId {
        AmlipId::new("AMLMainNode", [0x1e, 0x05, 0x4a, 0xc1]).unwrap()
    }

    fn comp_id() -> AmlipId {
        AmlipId::new("AMLComputingNode", [0x4b, 0x17, 0x0f, 0xf8]).unwrap()
    }

    #[test]
    fn topic_names_match_the_observed_wire() {
        let t = MultiServiceTopic::ReplyAvailable;
        assert_eq!(
            t.direct_name(JOB_TOPIC_NAME, &main_id()).unwrap(),
            "amlip/job_reply_available_AMLMainNode.1e.05.4a.c1"
        );
        assert_eq!(
            MultiServiceTopic::TaskData
                .direct_name(JOB_TOPIC_NAME, &comp_id())
                .unwrap(),
            "amlip/job_task_data_AMLComputingNode.4b.17.0f.f8"
        );
        assert_eq!(
            MultiServiceTopic::TaskSolution
                .direct_name(JOB_TOPIC_NAME, &main_id())
                .unwrap(),
            "amlip/job_task_solution_AMLMainNode.1e.05.4a.c1"
        );
        assert_eq!(
            MultiServiceTopic::RequestAvailability
                .shared_name(JOB_TOPIC_NAME)
                .unwrap(),
            "amlip/job_request_availability"
        );
        assert_eq!(
            MultiServiceTopic::TaskTarget
                .shared_name(JOB_TOPIC_NAME)
                .unwrap(),
            "amlip/job_task_target"
        );
        assert_eq!(
            MultiServiceTopic::TaskTarget.direct_name("job", &main_id()),
            None
        );
        assert_eq!(MultiServiceTopic::TaskData.shared_name("job"), None);
    }

    #[test]
    fn type_names_match_the_spec() {
        use MultiServiceTopic::*;
        let names: Vec<_> = MultiServiceTopic::ALL
            .iter()
            .map(|t| t.type_name())
            .collect();
        assert_eq!(
            names,
            [
                "amlip::ms_request",
                "amlip::ms_reference",
                "amlip::ms_reference",
                "amlip::ms_data_GENERIC",
                "amlip::ms_data_GENERIC"
            ]
        );
        assert_eq!(Status::TYPE_NAME, "amlip::status");
        assert_eq!(TaskData.unmangled("job"), "job_task_data");
    }

    #[test]
    fn topic_names_classify_back() {
        for t in MultiServiceTopic::ALL {
            let name = t
                .shared_name("job")
                .or_else(|| t.direct_name("job", &comp_id()))
                .unwrap();
            let want = t.is_direct().then_some(comp_id());
            assert_eq!(MultiServiceTopic::classify(&name, "job"), Some((t, want)));
            assert_eq!(MultiServiceTopic::classify(&name, "inference"), None);
        }
        for bad in [
            "amlip/job_task_target_x.00.00.00.00",
            "amlip/job_task_data",
            "amlip/job_task_data_bad",
            "job_task_target",
            "amlip/status",
        ] {
            assert_eq!(MultiServiceTopic::classify(bad, "job"), None, "{bad}");
        }
    }

    #[test]
    fn endpoints_at_creation_match_observed_section_5() {
        let client = endpoints_at_creation(Side::Client, "job", &main_id());
        let got: Vec<_> = client
            .iter()
            .map(|e| (e.topic_name.as_str(), e.kind))
            .collect();
        assert_eq!(
            got,
            [
                ("amlip/job_request_availability", EndpointKind::Writer),
                (
                    "amlip/job_reply_available_AMLMainNode.1e.05.4a.c1",
                    EndpointKind::Reader
                ),
                ("amlip/job_task_target", EndpointKind::Writer),
                (
                    "amlip/job_task_solution_AMLMainNode.1e.05.4a.c1",
                    EndpointKind::Reader
                ),
            ]
        );
        let server = endpoints_at_creation(Side::Server, "job", &comp_id());
        let got: Vec<_> = server
            .iter()
            .map(|e| (e.topic_name.as_str(), e.kind))
            .collect();
        assert_eq!(
            got,
            [
                ("amlip/job_request_availability", EndpointKind::Reader),
                ("amlip/job_task_target", EndpointKind::Reader),
                (
                    "amlip/job_task_data_AMLComputingNode.4b.17.0f.f8",
                    EndpointKind::Reader
                ),
            ]
        );
        assert!(client
            .iter()
            .chain(&server)
            .all(|e| e.qos == EndpointQos::MULTISERVICE));
        assert_eq!(client[0].type_max_size_serialized, Some(140));
        assert_eq!(client[2].type_max_size_serialized, Some(172));
        assert_eq!(server[0].type_max_size_serialized, None);
    }

    #[test]
    fn direct_writers_and_status_endpoints_have_their_qos() {
        let w = multiservice_writer(MultiServiceTopic::TaskData, "job", &comp_id());
        assert_eq!(
            w.topic_name,
            "amlip/job_task_data_AMLComputingNode.4b.17.0f.f8"
        );
        assert_eq!(w.type_max_size_serialized, Some(404));
        assert_eq!(w.qos.history, HistoryKind::KeepAll);
        assert_eq!(w.qos.durability, DurabilityKind::TransientLocal);
        let s = status_writer();
        assert_eq!(s.topic_name, "amlip/status");
        assert_eq!(s.qos.history, HistoryKind::KeepLast(1));
        assert_eq!(s.type_max_size_serialized, Some(144));
        assert_eq!(status_reader().qos.history, HistoryKind::KeepAll);
        assert_eq!(status_reader().qos.reliability, ReliabilityKind::Reliable);
        let shared = multiservice_writer(MultiServiceTopic::TaskTarget, "job", &comp_id());
        assert_eq!(shared.topic_name, "amlip/job_task_target");
    }

    #[test]
    fn participant_metadata_is_the_observed_compact_json() {
        let props = participant_properties(&main_id(), NodeKind::MAIN);
        assert_eq!(
            props,
            [
                (
                    "fastdds.application.metadata",
                    r#"{"Id":[30,5,74,193],"Name":"AMLMainNode","NodeKind":"main"}"#.to_owned()
                ),
                ("fastdds.application.id", "AML_IP".to_owned()),
            ]
        );
        let p = participant(&main_id(), NodeKind::MAIN, DEFAULT_DOMAIN_ID);
        assert_eq!((p.domain_id, p.name.as_str()), (166, "AMLMainNode"));
        assert_eq!(p.properties, props);
        assert!(p.local_properties.is_empty());
        let st = participant(&main_id(), NodeKind::STATUS, 3);
        assert_eq!(
            st.local_properties,
            [("fastdds.ignore_local_endpoints", "true".to_owned())]
        );
        let odd = AmlipId::new("a\"b\\c\u{1}", [0; 4]).unwrap();
        assert_eq!(
            metadata_json(&odd, NodeKind::COMPUTING),
            r#"{"Id":[0,0,0,0],"Name":"a\"b\\c\u0001","NodeKind":"computing"}"#
        );
    }
}
