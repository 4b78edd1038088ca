//! DDS QoS policies as carried in SEDP (DDS 1.4 §2.2.3; RTPS 2.5 §9.6.2.2, Table 9.14):
//! plain Rust types, each with its parameter id and its wire encoding, and [`EndpointQos`]
//! grouping them with the spec defaults that apply when a policy is absent.
//!
//! Wire values are those of the RTPS PSM, not of the DDS API: `RELIABILITY` kind is 1 for
//! BEST_EFFORT and 2 for RELIABLE (checked in the Fast DDS and Cyclone captures). An unknown
//! kind value is `Invalid` and so is a boolean other than 0/1. Durations are RTPS
//! `Duration_t` (seconds, 2^-32 fractions); 100 ms is `{0, 0x1999999a}` as Fast DDS sends it.

use crate::wire::cursor::{Reader, Writer};
use crate::wire::error::{EmitError, ParseError};
use crate::wire::parameter::{emit_parameter, ParameterId};
use crate::wire::types::Duration;

use super::values::{
    emit_octets, emit_string_seq, read_bool, read_octets, read_string_seq, MAX_OCTETS_LEN,
    MAX_PARTITIONS,
};

/// 100 ms, the default `max_blocking_time`, encoded as Fast DDS and Cyclone do.
pub const DURATION_100_MS: Duration = Duration {
    seconds: 0,
    fraction: 0x1999_999a,
};

/// `LENGTH_UNLIMITED` for resource limits (DDS 1.4 §2.2.3.19).
pub const LENGTH_UNLIMITED: i32 = -1;

/// A QoS policy with its own parameter id and value encoding.
pub trait QosPolicy: Sized + Clone + PartialEq {
    /// The parameter id carrying this policy.
    const ID: ParameterId;
    /// Parse the parameter value (a cursor over the value, in the list's byte order).
    fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError>;
    /// Emit the parameter value (without the parameter header).
    fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError>;
}

/// Emit one policy as a whole parameter (header, value, padding).
pub fn emit_policy<P: QosPolicy>(w: &mut Writer<'_>, policy: &P) -> Result<(), EmitError> {
    emit_parameter(w, P::ID, |w| policy.emit(w))
}

/// A fieldless enum with explicit `u32` wire values.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident, $what:expr, default $default:ident,
     { $($(#[$vdoc:meta])* $var:ident = $v:expr,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $var,)*
        }

        impl $name {
            /// From the `u32` wire value; unknown values are `Invalid`.
            pub fn from_wire(v: u32) -> Result<Self, ParseError> {
                match v {
                    $($v => Ok($name::$var),)*
                    _ => Err(ParseError::Invalid($what)),
                }
            }

            /// The `u32` wire value.
            pub fn to_wire(self) -> u32 {
                match self {
                    $($name::$var => $v,)*
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::$default
            }
        }
    };
}

wire_enum! {
    /// `ReliabilityQosPolicyKind` with RTPS wire values (DDS 1.4 §2.2.3.14).
    ReliabilityKind, "reliability kind", default BestEffort, {
        /// `BEST_EFFORT` (1 on the wire).
        BestEffort = 1,
        /// `RELIABLE` (2 on the wire).
        Reliable = 2,
    }
}

wire_enum! {
    /// `DURABILITY` (DDS 1.4 §2.2.3.4), `PID_DURABILITY`.
    Durability, "durability kind", default Volatile, {
        /// `VOLATILE` (default).
        Volatile = 0,
        /// `TRANSIENT_LOCAL`.
        TransientLocal = 1,
        /// `TRANSIENT`.
        Transient = 2,
        /// `PERSISTENT`.
        Persistent = 3,
    }
}

wire_enum! {
    /// `LivelinessQosPolicyKind` (DDS 1.4 §2.2.3.11).
    LivelinessKind, "liveliness kind", default Automatic, {
        /// `AUTOMATIC` (default).
        Automatic = 0,
        /// `MANUAL_BY_PARTICIPANT`.
        ManualByParticipant = 1,
        /// `MANUAL_BY_TOPIC`.
        ManualByTopic = 2,
    }
}

wire_enum! {
    /// `OWNERSHIP` (DDS 1.4 §2.2.3.9), `PID_OWNERSHIP`.
    Ownership, "ownership kind", default Shared, {
        /// `SHARED` (default).
        Shared = 0,
        /// `EXCLUSIVE`.
        Exclusive = 1,
    }
}

wire_enum! {
    /// `DESTINATION_ORDER` (DDS 1.4 §2.2.3.17), `PID_DESTINATION_ORDER`.
    DestinationOrder, "destination order kind", default ByReceptionTimestamp, {
        /// `BY_RECEPTION_TIMESTAMP` (default).
        ByReceptionTimestamp = 0,
        /// `BY_SOURCE_TIMESTAMP`.
        BySourceTimestamp = 1,
    }
}

wire_enum! {
    /// `PresentationQosPolicyAccessScopeKind` (DDS 1.4 §2.2.3.6).
    PresentationAccessScope, "presentation access scope", default Instance, {
        /// `INSTANCE` (default).
        Instance = 0,
        /// `TOPIC`.
        Topic = 1,
        /// `GROUP`.
        Group = 2,
    }
}

/// `RELIABILITY` (DDS 1.4 §2.2.3.14), `PID_RELIABILITY`: kind and `max_blocking_time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reliability {
    /// Best effort or reliable.
    pub kind: ReliabilityKind,
    /// How long a reliable writer's `write` may block.
    pub max_blocking_time: Duration,
}

impl Reliability {
    /// Default for writers: RELIABLE, 100 ms.
    pub const WRITER_DEFAULT: Reliability = Reliability {
        kind: ReliabilityKind::Reliable,
        max_blocking_time: DURATION_100_MS,
    };
    /// Default for readers: BEST_EFFORT, 100 ms.
    pub const READER_DEFAULT: Reliability = Reliability {
        kind: ReliabilityKind::BestEffort,
        max_blocking_time: DURATION_100_MS,
    };
}

impl QosPolicy for Reliability {
    const ID: ParameterId = ParameterId::RELIABILITY;

    fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let kind = ReliabilityKind::from_wire(r.u32("reliability kind")?)?;
        let max_blocking_time = Duration::parse(r)?;
        Ok(Reliability {
            kind,
            max_blocking_time,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.u32(self.kind.to_wire(), "reliability kind")?;
        self.max_blocking_time.emit(w)
    }
}

macro_rules! kind_policy {
    ($ty:ident, $id:ident, $what:expr) => {
        impl QosPolicy for $ty {
            const ID: ParameterId = ParameterId::$id;

            fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
                $ty::from_wire(r.u32($what)?)
            }

            fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
                w.u32(self.to_wire(), $what)
            }
        }
    };
}

kind_policy!(Durability, DURABILITY, "durability kind");
kind_policy!(Ownership, OWNERSHIP, "ownership kind");
kind_policy!(DestinationOrder, DESTINATION_ORDER, "destination order kind");

/// `HISTORY` (DDS 1.4 §2.2.3.18), `PID_HISTORY`: kind and depth (depth ignored for KEEP_ALL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum History {
    /// `KEEP_LAST` with a depth of at least 1 (default: depth 1).
    KeepLast {
        /// Samples kept per instance.
        depth: i32,
    },
    /// `KEEP_ALL`.
    KeepAll,
}

impl Default for History {
    fn default() -> Self {
        History::KeepLast { depth: 1 }
    }
}

impl History {
    fn parse_kind_depth(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let kind = r.u32("history kind")?;
        let depth = r.i32("history depth")?;
        match kind {
            0 if depth >= 1 => Ok(History::KeepLast { depth }),
            0 => Err(ParseError::Invalid("history depth")),
            1 => Ok(History::KeepAll),
            _ => Err(ParseError::Invalid("history kind")),
        }
    }

    fn emit_kind_depth(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        match *self {
            History::KeepLast { depth } if depth >= 1 => {
                w.u32(0, "history kind")?;
                w.i32(depth, "history depth")
            }
            History::KeepLast { .. } => Err(EmitError::Unrepresentable("history depth")),
            History::KeepAll => {
                w.u32(1, "history kind")?;
                w.i32(1, "history depth")
            }
        }
    }
}

impl QosPolicy for History {
    const ID: ParameterId = ParameterId::HISTORY;

    fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        History::parse_kind_depth(r)
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.emit_kind_depth(w)
    }
}

/// `RESOURCE_LIMITS` (DDS 1.4 §2.2.3.19), `PID_RESOURCE_LIMITS`; -1 is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResourceLimits {
    /// Most samples over all instances.
    pub max_samples: i32,
    /// Most instances.
    pub max_instances: i32,
    /// Most samples per instance.
    pub max_samples_per_instance: i32,
}

impl Default for ResourceLimits {
    fn default() -> Self {
        ResourceLimits {
            max_samples: LENGTH_UNLIMITED,
            max_instances: LENGTH_UNLIMITED,
            max_samples_per_instance: LENGTH_UNLIMITED,
        }
    }
}

impl ResourceLimits {
    fn parse_fields(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(ResourceLimits {
            max_samples: r.i32("max samples")?,
            max_instances: r.i32("max instances")?,
            max_samples_per_instance: r.i32("max samples per instance")?,
        })
    }

    fn emit_fields(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.i32(self.max_samples, "max samples")?;
        w.i32(self.max_instances, "max instances")?;
        w.i32(self.max_samples_per_instance, "max samples per instance")
    }
}

impl QosPolicy for ResourceLimits {
    const ID: ParameterId = ParameterId::RESOURCE_LIMITS;

    fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        ResourceLimits::parse_fields(r)
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.emit_fields(w)
    }
}

/// `LIVELINESS` (DDS 1.4 §2.2.3.11), `PID_LIVELINESS`: kind and lease duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Liveliness {
    /// Who asserts liveliness.
    pub kind: LivelinessKind,
    /// How long an entity stays alive without an assertion.
    pub lease_duration: Duration,
}

impl Default for Liveliness {
    fn default() -> Self {
        Liveliness {
            kind: LivelinessKind::Automatic,
            lease_duration: Duration::INFINITE,
        }
    }
}

impl QosPolicy for Liveliness {
    const ID: ParameterId = ParameterId::LIVELINESS;

    fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let kind = LivelinessKind::from_wire(r.u32("liveliness kind")?)?;
        Ok(Liveliness {
            kind,
            lease_duration: Duration::parse(r)?,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.u32(self.kind.to_wire(), "liveliness kind")?;
        self.lease_duration.emit(w)
    }
}

/// A policy that is one `Duration_t`.
macro_rules! duration_policy {
    ($(#[$doc:meta])* $ty:ident { $field:ident }, $id:ident, default $default:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $ty {
            /// The policy's duration.
            pub $field: Duration,
        }

        impl Default for $ty {
            fn default() -> Self {
                $ty { $field: $default }
            }
        }

        impl QosPolicy for $ty {
            const ID: ParameterId = ParameterId::$id;

            fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
                Ok($ty { $field: Duration::parse(r)? })
            }

            fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
                self.$field.emit(w)
            }
        }
    };
}

duration_policy! {
    /// `DEADLINE` (DDS 1.4 §2.2.3.7), `PID_DEADLINE`; default infinite.
    Deadline { period }, DEADLINE, default Duration::INFINITE
}
duration_policy! {
    /// `LATENCY_BUDGET` (DDS 1.4 §2.2.3.8), `PID_LATENCY_BUDGET`; default zero.
    LatencyBudget { duration }, LATENCY_BUDGET, default Duration::ZERO
}
duration_policy! {
    /// `LIFESPAN` (DDS 1.4 §2.2.3.16), `PID_LIFESPAN`; default infinite.
    Lifespan { duration }, LIFESPAN, default Duration::INFINITE
}
duration_policy! {
    /// `TIME_BASED_FILTER` (DDS 1.4 §2.2.3.12), `PID_TIME_BASED_FILTER`; default zero.
    TimeBasedFilter { minimum_separation }, TIME_BASED_FILTER, default Duration::ZERO
}

/// `OWNERSHIP_STRENGTH` (DDS 1.4 §2.2.3.10), `PID_OWNERSHIP_STRENGTH`; default 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OwnershipStrength(pub i32);

impl QosPolicy for OwnershipStrength {
    const ID: ParameterId = ParameterId::OWNERSHIP_STRENGTH;

    fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(OwnershipStrength(r.i32("ownership strength")?))
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.i32(self.0, "ownership strength")
    }
}

/// `PRESENTATION` (DDS 1.4 §2.2.3.6), `PID_PRESENTATION`: scope and two booleans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Presentation {
    /// Scope of coherent and ordered access.
    pub access_scope: PresentationAccessScope,
    /// Coherent changes.
    pub coherent_access: bool,
    /// Ordered changes.
    pub ordered_access: bool,
}

impl QosPolicy for Presentation {
    const ID: ParameterId = ParameterId::PRESENTATION;

    fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let access_scope = PresentationAccessScope::from_wire(r.u32("presentation access scope")?)?;
        Ok(Presentation {
            access_scope,
            coherent_access: read_bool(r, "coherent access")?,
            ordered_access: read_bool(r, "ordered access")?,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.u32(self.access_scope.to_wire(), "presentation access scope")?;
        w.u8(u8::from(self.coherent_access), "coherent access")?;
        w.u8(u8::from(self.ordered_access), "ordered access")
    }
}

/// `PARTITION` (DDS 1.4 §2.2.3.13), `PID_PARTITION`: partition names (capped at
/// [`MAX_PARTITIONS`]); default empty (the default partition).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Partition(pub Vec<String>);

impl QosPolicy for Partition {
    const ID: ParameterId = ParameterId::PARTITION;

    fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(Partition(read_string_seq(r, MAX_PARTITIONS, "partition")?))
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        let start = w.position();
        emit_string_seq(w, start, &self.0, MAX_PARTITIONS, "partition")
    }
}

/// A policy that is one `sequence<octet>`.
macro_rules! octets_policy {
    ($(#[$doc:meta])* $ty:ident, $id:ident, $what:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        pub struct $ty(pub Vec<u8>);

        impl QosPolicy for $ty {
            const ID: ParameterId = ParameterId::$id;

            fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
                Ok($ty(read_octets(r, MAX_OCTETS_LEN, $what)?))
            }

            fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
                let start = w.position();
                emit_octets(w, start, &self.0, MAX_OCTETS_LEN, $what)
            }
        }
    };
}

octets_policy! {
    /// `USER_DATA` (DDS 1.4 §2.2.3.1), `PID_USER_DATA`; default empty.
    UserData, USER_DATA, "user data"
}
octets_policy! {
    /// `TOPIC_DATA` (DDS 1.4 §2.2.3.2), `PID_TOPIC_DATA`; default empty.
    TopicData, TOPIC_DATA, "topic data"
}
octets_policy! {
    /// `GROUP_DATA` (DDS 1.4 §2.2.3.3), `PID_GROUP_DATA`; default empty.
    GroupData, GROUP_DATA, "group data"
}

/// `DURABILITY_SERVICE` (DDS 1.4 §2.2.3.5), `PID_DURABILITY_SERVICE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DurabilityService {
    /// How long the service keeps an instance after it is disposed.
    pub service_cleanup_delay: Duration,
    /// History of the durability service.
    pub history: History,
    /// Resource limits of the durability service.
    pub resource_limits: ResourceLimits,
}

impl Default for DurabilityService {
    fn default() -> Self {
        DurabilityService {
            service_cleanup_delay: Duration::ZERO,
            history: History::default(),
            resource_limits: ResourceLimits::default(),
        }
    }
}

impl QosPolicy for DurabilityService {
    const ID: ParameterId = ParameterId::DURABILITY_SERVICE;

    fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(DurabilityService {
            service_cleanup_delay: Duration::parse(r)?,
            history: History::parse_kind_depth(r)?,
            resource_limits: ResourceLimits::parse_fields(r)?,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.service_cleanup_delay.emit(w)?;
        self.history.emit_kind_depth(w)?;
        self.resource_limits.emit_fields(w)
    }
}

/// The QoS of a discovered (or local) writer or reader, every policy that SEDP carries
/// (RTPS 2.5 §8.5.4.4, `PublicationBuiltinTopicData` / `SubscriptionBuiltinTopicData`).
/// Policies that apply to one side only (lifespan, ownership strength, durability service on
/// writers; time-based filter on readers) are kept on both, as some peers send them on both.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EndpointQos {
    /// `DURABILITY`.
    pub durability: Durability,
    /// `DURABILITY_SERVICE`.
    pub durability_service: DurabilityService,
    /// `DEADLINE`.
    pub deadline: Deadline,
    /// `LATENCY_BUDGET`.
    pub latency_budget: LatencyBudget,
    /// `LIVELINESS`.
    pub liveliness: Liveliness,
    /// `RELIABILITY` (default differs: writer reliable, reader best effort).
    pub reliability: Reliability,
    /// `DESTINATION_ORDER`.
    pub destination_order: DestinationOrder,
    /// `HISTORY`.
    pub history: History,
    /// `RESOURCE_LIMITS`.
    pub resource_limits: ResourceLimits,
    /// `LIFESPAN` (writers).
    pub lifespan: Lifespan,
    /// `OWNERSHIP`.
    pub ownership: Ownership,
    /// `OWNERSHIP_STRENGTH` (writers).
    pub ownership_strength: OwnershipStrength,
    /// `PRESENTATION`.
    pub presentation: Presentation,
    /// `PARTITION`.
    pub partition: Partition,
    /// `TIME_BASED_FILTER` (readers).
    pub time_based_filter: TimeBasedFilter,
    /// `USER_DATA`.
    pub user_data: UserData,
    /// `TOPIC_DATA`.
    pub topic_data: TopicData,
    /// `GROUP_DATA`.
    pub group_data: GroupData,
}

impl EndpointQos {
    /// Parameter ids of the policies (each decoded once, first occurrence wins).
    pub const IDS: &'static [ParameterId] = &[
        ParameterId::DURABILITY,
        ParameterId::DURABILITY_SERVICE,
        ParameterId::DEADLINE,
        ParameterId::LATENCY_BUDGET,
        ParameterId::LIVELINESS,
        ParameterId::RELIABILITY,
        ParameterId::DESTINATION_ORDER,
        ParameterId::HISTORY,
        ParameterId::RESOURCE_LIMITS,
        ParameterId::LIFESPAN,
        ParameterId::OWNERSHIP,
        ParameterId::OWNERSHIP_STRENGTH,
        ParameterId::PRESENTATION,
        ParameterId::PARTITION,
        ParameterId::TIME_BASED_FILTER,
        ParameterId::USER_DATA,
        ParameterId::TOPIC_DATA,
        ParameterId::GROUP_DATA,
    ];

    /// Spec defaults for a writer (DDS 1.4 §2.2.3): RELIABLE 100 ms, VOLATILE, KEEP_LAST 1,
    /// AUTOMATIC infinite liveliness, everything else its default.
    pub fn writer_default() -> Self {
        EndpointQos {
            durability: Durability::default(),
            durability_service: DurabilityService::default(),
            deadline: Deadline::default(),
            latency_budget: LatencyBudget::default(),
            liveliness: Liveliness::default(),
            reliability: Reliability::WRITER_DEFAULT,
            destination_order: DestinationOrder::default(),
            history: History::default(),
            resource_limits: ResourceLimits::default(),
            lifespan: Lifespan::default(),
            ownership: Ownership::default(),
            ownership_strength: OwnershipStrength::default(),
            presentation: Presentation::default(),
            partition: Partition::default(),
            time_based_filter: TimeBasedFilter::default(),
            user_data: UserData::default(),
            topic_data: TopicData::default(),
            group_data: GroupData::default(),
        }
    }

    /// Spec defaults for a reader: as for a writer but BEST_EFFORT.
    pub fn reader_default() -> Self {
        EndpointQos {
            reliability: Reliability::READER_DEFAULT,
            ..EndpointQos::writer_default()
        }
    }

    /// Decode the policy carried by parameter `id` into `self`; `Ok(false)` when `id` is not a
    /// QoS parameter.
    pub fn parse_parameter(
        &mut self,
        id: ParameterId,
        r: &mut Reader<'_>,
    ) -> Result<bool, ParseError> {
        fn set<P: QosPolicy>(slot: &mut P, r: &mut Reader<'_>) -> Result<bool, ParseError> {
            *slot = P::parse(r)?;
            Ok(true)
        }
        match id {
            ParameterId::DURABILITY => set(&mut self.durability, r),
            ParameterId::DURABILITY_SERVICE => set(&mut self.durability_service, r),
            ParameterId::DEADLINE => set(&mut self.deadline, r),
            ParameterId::LATENCY_BUDGET => set(&mut self.latency_budget, r),
            ParameterId::LIVELINESS => set(&mut self.liveliness, r),
            ParameterId::RELIABILITY => set(&mut self.reliability, r),
            ParameterId::DESTINATION_ORDER => set(&mut self.destination_order, r),
            ParameterId::HISTORY => set(&mut self.history, r),
            ParameterId::RESOURCE_LIMITS => set(&mut self.resource_limits, r),
            ParameterId::LIFESPAN => set(&mut self.lifespan, r),
            ParameterId::OWNERSHIP => set(&mut self.ownership, r),
            ParameterId::OWNERSHIP_STRENGTH => set(&mut self.ownership_strength, r),
            ParameterId::PRESENTATION => set(&mut self.presentation, r),
            ParameterId::PARTITION => set(&mut self.partition, r),
            ParameterId::TIME_BASED_FILTER => set(&mut self.time_based_filter, r),
            ParameterId::USER_DATA => set(&mut self.user_data, r),
            ParameterId::TOPIC_DATA => set(&mut self.topic_data, r),
            ParameterId::GROUP_DATA => set(&mut self.group_data, r),
            _ => Ok(false),
        }
    }

    /// Emit `RELIABILITY`, `DURABILITY` and `HISTORY` always, and every other policy whose
    /// value differs from its default (rtps-interop.md "QoS PIDs to send").
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        fn non_default<P: QosPolicy + Default>(
            w: &mut Writer<'_>,
            p: &P,
        ) -> Result<(), EmitError> {
            if *p != P::default() {
                emit_policy(w, p)?;
            }
            Ok(())
        }
        emit_policy(w, &self.reliability)?;
        emit_policy(w, &self.durability)?;
        emit_policy(w, &self.history)?;
        non_default(w, &self.durability_service)?;
        non_default(w, &self.deadline)?;
        non_default(w, &self.latency_budget)?;
        non_default(w, &self.liveliness)?;
        non_default(w, &self.destination_order)?;
        non_default(w, &self.resource_limits)?;
        non_default(w, &self.lifespan)?;
        non_default(w, &self.ownership)?;
        non_default(w, &self.ownership_strength)?;
        non_default(w, &self.presentation)?;
        non_default(w, &self.partition)?;
        non_default(w, &self.time_based_filter)?;
        non_default(w, &self.user_data)?;
        non_default(w, &self.topic_data)?;
        non_default(w, &self.group_data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::data::arbitrary::endpoint_qos;
    use crate::wire::cursor::Endianness;
    use crate::wire::parameter::ParameterList;
    use proptest::prelude::*;

    fn emit_le<P: QosPolicy>(p: &P) -> Vec<u8> {
        let mut buf = vec![0xa5u8; 64];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        emit_policy(&mut w, p).unwrap();
        let n = w.position();
        assert!(buf[n..].iter().all(|b| *b == 0xa5), "wrote past the end");
        buf.truncate(n);
        buf
    }

    #[test]
    fn reliability_matches_the_amlip_capture_bytes() {
        let bytes = emit_le(&Reliability::WRITER_DEFAULT);
        assert_eq!(
            bytes,
            [0x1a, 0x00, 0x0c, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0x9a, 0x99, 0x99, 0x19]
        );
        let r = Reliability::parse(&mut Reader::new(&bytes[4..], Endianness::Little));
        assert_eq!(r, Ok(Reliability::WRITER_DEFAULT));
    }

    #[test]
    fn durability_service_matches_the_fastdds_default_bytes() {
        let bytes = emit_le(&DurabilityService::default());
        let mut expected = vec![0x1e, 0x00, 28, 0x00];
        expected.extend_from_slice(&[0; 8]); // cleanup delay 0
        expected.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0]); // KEEP_LAST 1
        expected.extend_from_slice(&[0xff; 12]); // unlimited x3
        assert_eq!(bytes, expected);
    }

    #[test]
    fn presentation_and_partition_are_padded() {
        let p = Presentation {
            access_scope: PresentationAccessScope::Topic,
            coherent_access: true,
            ordered_access: false,
        };
        assert_eq!(
            emit_le(&p),
            [0x21, 0, 8, 0, 1, 0, 0, 0, 1, 0, 0, 0]
        );
        let part = Partition(vec!["a".into(), "bc".into()]);
        assert_eq!(
            emit_le(&part),
            [0x29, 0, 20, 0, 2, 0, 0, 0, 2, 0, 0, 0, b'a', 0, 0, 0, 3, 0, 0, 0, b'b', b'c', 0, 0]
        );
    }

    #[test]
    fn rejects_unknown_kinds_booleans_and_zero_depth() {
        let le = |b: &'static [u8]| Reader::new(b, Endianness::Little);
        assert_eq!(
            Reliability::parse(&mut le(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
            Err(ParseError::Invalid("reliability kind"))
        );
        assert_eq!(
            Durability::parse(&mut le(&[4, 0, 0, 0])),
            Err(ParseError::Invalid("durability kind"))
        );
        assert_eq!(
            History::parse(&mut le(&[0, 0, 0, 0, 0, 0, 0, 0])),
            Err(ParseError::Invalid("history depth"))
        );
        assert_eq!(
            History::parse(&mut le(&[1, 0, 0, 0, 0, 0, 0, 0])),
            Ok(History::KeepAll)
        );
        assert_eq!(
            Presentation::parse(&mut le(&[0, 0, 0, 0, 2, 0, 0, 0])),
            Err(ParseError::Invalid("coherent access"))
        );
    }

    #[test]
    fn defaults_differ_only_in_reliability() {
        let (w, r) = (EndpointQos::writer_default(), EndpointQos::reader_default());
        assert_eq!(w.reliability.kind, ReliabilityKind::Reliable);
        assert_eq!(r.reliability.kind, ReliabilityKind::BestEffort);
        assert_eq!(EndpointQos { reliability: r.reliability, ..w }, r);
        assert_eq!(w.history, History::KeepLast { depth: 1 });
        assert_eq!(w.liveliness.lease_duration, Duration::INFINITE);
    }

    #[test]
    fn default_qos_sends_only_reliability_durability_and_history() {
        let mut buf = vec![0xa5u8; 128];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        EndpointQos::reader_default().emit(&mut w).unwrap();
        let n = w.position();
        assert_eq!(
            &buf[..n],
            &[
                0x1a, 0, 12, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x9a, 0x99, 0x99, 0x19, // best effort
                0x1d, 0, 4, 0, 0, 0, 0, 0, // volatile
                0x40, 0, 8, 0, 0, 0, 0, 0, 1, 0, 0, 0, // keep last 1
            ]
        );
        assert!(buf[n..].iter().all(|b| *b == 0xa5));
    }

    #[test]
    fn every_truncation_of_every_policy_fails() {
        let mut qos = EndpointQos::writer_default();
        qos.partition = Partition(vec!["p".into()]);
        qos.user_data = UserData(vec![1, 2, 3]);
        qos.ownership = Ownership::Exclusive;
        qos.durability_service.service_cleanup_delay = Duration::INFINITE;
        qos.presentation.ordered_access = true;
        let mut buf = vec![0u8; 512];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        qos.emit(&mut w).unwrap();
        let n = w.position();
        let mut r = Reader::new(&buf[..n], Endianness::Little);
        let mut count = 0;
        while !r.is_empty() {
            let id = ParameterId(r.u16("id").unwrap());
            let len = usize::from(r.u16("len").unwrap());
            let value = r.take(len, "value").unwrap();
            // Strip the padding: the encoding proper must fail on every shorter prefix.
            let mut full = Reader::new(value, Endianness::Little);
            qos.clone().parse_parameter(id, &mut full).unwrap();
            let used = full.position();
            for cut in 0..used {
                let mut q = qos.clone();
                let mut short = Reader::new(&value[..cut], Endianness::Little);
                assert!(q.parse_parameter(id, &mut short).is_err(), "{id:?} at {cut}");
            }
            count += 1;
        }
        assert_eq!(count, 8);
    }

    fn round_trip(qos: &EndpointQos, defaults: EndpointQos, endian: Endianness) -> EndpointQos {
        let mut buf = vec![0u8; 4096];
        let mut w = Writer::new(&mut buf, endian);
        qos.emit(&mut w).unwrap();
        crate::wire::parameter::emit_sentinel(&mut w).unwrap();
        let n = w.position();
        let mut r = Reader::new(&buf[..n], endian);
        let list = ParameterList::parse(&mut r).unwrap();
        let mut out = defaults;
        for p in list.iter() {
            let mut v = Reader::new(p.value, endian);
            assert!(out.parse_parameter(p.id, &mut v).unwrap());
        }
        out
    }

    proptest! {
        #[test]
        fn any_endpoint_qos_round_trips(qos in endpoint_qos(), big in any::<bool>()) {
            let endian = if big { Endianness::Big } else { Endianness::Little };
            prop_assert_eq!(round_trip(&qos, EndpointQos::reader_default(), endian), qos);
        }
    }
}
