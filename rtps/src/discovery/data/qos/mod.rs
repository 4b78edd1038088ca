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
kind_policy!(
    DestinationOrder,
    DESTINATION_ORDER,
    "destination order kind"
);

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

pub use endpoint::EndpointQos;

mod endpoint;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::cursor::Endianness;

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
        assert_eq!(emit_le(&p), [0x21, 0, 8, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
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
}
