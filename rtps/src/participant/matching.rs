//! Endpoint matching (RTPS 2.5 §8.5.5; DDS 1.4 §2.2.3 "Requested/Offered" compatibility).
//!
//! A local writer and a remote reader (or the reverse) match when topic name, type name and
//! keyed-ness agree, every requested/offered QoS pair is compatible and their partitions
//! intersect. An incompatible pair yields the reason, which the participant reports as an
//! event.

use core::fmt;

use crate::discovery::data::qos::{Durability, LivelinessKind, ReliabilityKind};
use crate::discovery::data::EndpointData;

/// `XCDR_DATA_REPRESENTATION` (DDS-XTypes 1.3 §7.6.3.1.1).
pub const XCDR_DATA_REPRESENTATION: i16 = 0;

/// Why a writer and a reader on the same topic do not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incompatibility {
    /// Type names differ.
    TypeName,
    /// One is keyed, the other is not (entity kind octets 0x02/0x07 vs 0x03/0x04).
    TopicKind,
    /// The reader asks for RELIABLE from a BEST_EFFORT writer.
    Reliability,
    /// The reader asks for more durability than the writer offers.
    Durability,
    /// The reader's deadline is shorter than the writer's.
    Deadline,
    /// Liveliness kind or lease are incompatible.
    Liveliness,
    /// Ownership kinds differ.
    Ownership,
    /// Destination order: the reader wants source order from a reception-order writer.
    DestinationOrder,
    /// No partition in common.
    Partition,
    /// The writer's data representation is not one the reader accepts.
    DataRepresentation,
}

impl fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Incompatibility::TypeName => "type names differ",
            Incompatibility::TopicKind => "one endpoint is keyed and the other is not",
            Incompatibility::Reliability => "reader requests RELIABLE, writer offers BEST_EFFORT",
            Incompatibility::Durability => "reader requests more durability than the writer offers",
            Incompatibility::Deadline => "reader's deadline is shorter than the writer's",
            Incompatibility::Liveliness => "liveliness kind or lease incompatible",
            Incompatibility::Ownership => "ownership kinds differ",
            Incompatibility::DestinationOrder => "destination order incompatible",
            Incompatibility::Partition => "no partition in common",
            Incompatibility::DataRepresentation => "data representation not accepted by the reader",
        })
    }
}

fn durability_rank(d: Durability) -> u8 {
    match d {
        Durability::Volatile => 0,
        Durability::TransientLocal => 1,
        Durability::Transient => 2,
        Durability::Persistent => 3,
    }
}

fn liveliness_rank(k: LivelinessKind) -> u8 {
    match k {
        LivelinessKind::Automatic => 0,
        LivelinessKind::ManualByParticipant => 1,
        LivelinessKind::ManualByTopic => 2,
    }
}

/// Partition match: an empty list means the default partition `""`; names match exactly or
/// through `*`/`?` wildcards (DDS 1.4 §2.2.3.13, fnmatch).
fn partitions_intersect(a: &[String], b: &[String]) -> bool {
    let default = [String::new()];
    let a = if a.is_empty() { &default[..] } else { a };
    let b = if b.is_empty() { &default[..] } else { b };
    a.iter()
        .any(|x| b.iter().any(|y| x == y || wildcard(x, y) || wildcard(y, x)))
}

/// Glob match of `name` against `pattern` with `*` and `?` (bounded: O(len²)).
fn wildcard(pattern: &str, name: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return false;
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // dp[j] = pattern[..i] matches name[..j]
    let mut dp = vec![false; n.len() + 1];
    dp[0] = true;
    for &pc in &p {
        let mut next = vec![false; n.len() + 1];
        if pc == '*' {
            let mut any = false;
            for j in 0..=n.len() {
                any |= dp[j];
                next[j] = any;
            }
        } else {
            for j in 1..=n.len() {
                next[j] = dp[j - 1] && (pc == '?' || pc == n[j - 1]);
            }
        }
        dp = next;
    }
    dp[n.len()]
}

/// Check whether `writer` may send to `reader` (same topic name assumed by the caller).
pub fn check(writer: &EndpointData, reader: &EndpointData) -> Result<(), Incompatibility> {
    if writer.type_name != reader.type_name {
        return Err(Incompatibility::TypeName);
    }
    if writer.endpoint_guid.entity_id.kind.is_keyed()
        != reader.endpoint_guid.entity_id.kind.is_keyed()
    {
        return Err(Incompatibility::TopicKind);
    }
    let (w, r) = (&writer.qos, &reader.qos);
    if r.reliability.kind == ReliabilityKind::Reliable
        && w.reliability.kind == ReliabilityKind::BestEffort
    {
        return Err(Incompatibility::Reliability);
    }
    if durability_rank(r.durability) > durability_rank(w.durability) {
        return Err(Incompatibility::Durability);
    }
    if r.deadline.period < w.deadline.period {
        return Err(Incompatibility::Deadline);
    }
    if liveliness_rank(r.liveliness.kind) > liveliness_rank(w.liveliness.kind)
        || r.liveliness.lease_duration < w.liveliness.lease_duration
    {
        return Err(Incompatibility::Liveliness);
    }
    if r.ownership != w.ownership {
        return Err(Incompatibility::Ownership);
    }
    if r.destination_order > w.destination_order {
        return Err(Incompatibility::DestinationOrder);
    }
    if !partitions_intersect(&w.partition.0, &r.partition.0) {
        return Err(Incompatibility::Partition);
    }
    let offered = writer
        .data_representation
        .first()
        .copied()
        .unwrap_or(XCDR_DATA_REPRESENTATION);
    let accepted = &reader.data_representation;
    let ok = if accepted.is_empty() {
        offered == XCDR_DATA_REPRESENTATION
    } else {
        accepted.contains(&offered)
    };
    if !ok {
        return Err(Incompatibility::DataRepresentation);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::data::qos::{EndpointQos, Partition, Reliability};
    use crate::wire::{EntityId, Guid, GuidPrefix};

    fn endpoint(kind: u8, qos: EndpointQos) -> EndpointData {
        let guid = Guid::new(
            GuidPrefix([1; 12]),
            EntityId::from_u32(0x100 | u32::from(kind)),
        );
        EndpointData::new(guid, "t", "T", qos)
    }

    #[test]
    fn default_writer_matches_default_and_reliable_readers() {
        let w = endpoint(0x03, EndpointQos::writer_default());
        let r = endpoint(0x04, EndpointQos::reader_default());
        assert_eq!(check(&w, &r), Ok(()));
        let mut q = EndpointQos::reader_default();
        q.reliability = Reliability::WRITER_DEFAULT;
        assert_eq!(check(&w, &endpoint(0x04, q)), Ok(()));
    }

    #[test]
    fn best_effort_writer_does_not_serve_a_reliable_reader() {
        let w = endpoint(0x03, EndpointQos::reader_default());
        let mut q = EndpointQos::reader_default();
        q.reliability = Reliability::WRITER_DEFAULT;
        assert_eq!(
            check(&w, &endpoint(0x04, q)),
            Err(Incompatibility::Reliability)
        );
    }

    #[test]
    fn volatile_writer_does_not_serve_a_transient_local_reader() {
        let w = endpoint(0x03, EndpointQos::writer_default());
        let mut q = EndpointQos::reader_default();
        q.durability = Durability::TransientLocal;
        assert_eq!(
            check(&w, &endpoint(0x04, q)),
            Err(Incompatibility::Durability)
        );
    }

    #[test]
    fn keyed_and_keyless_do_not_match() {
        let w = endpoint(0x02, EndpointQos::writer_default());
        let r = endpoint(0x04, EndpointQos::reader_default());
        assert_eq!(check(&w, &r), Err(Incompatibility::TopicKind));
    }

    #[test]
    fn partitions_match_exactly_or_by_wildcard() {
        let mut wq = EndpointQos::writer_default();
        wq.partition = Partition(vec!["jobs".into()]);
        let w = endpoint(0x03, wq);
        assert_eq!(
            check(&w, &endpoint(0x04, EndpointQos::reader_default())),
            Err(Incompatibility::Partition)
        );
        let mut rq = EndpointQos::reader_default();
        rq.partition = Partition(vec!["j*".into()]);
        assert_eq!(check(&w, &endpoint(0x04, rq)), Ok(()));
        assert!(wildcard("a?c", "abc"));
        assert!(!wildcard("a?c", "abcd"));
    }

    #[test]
    fn xcdr2_only_writer_needs_a_reader_that_lists_it() {
        let mut w = endpoint(0x03, EndpointQos::writer_default());
        w.data_representation = vec![2];
        let mut r = endpoint(0x04, EndpointQos::reader_default());
        assert_eq!(check(&w, &r), Err(Incompatibility::DataRepresentation));
        r.data_representation = vec![0, 2];
        assert_eq!(check(&w, &r), Ok(()));
    }
}
