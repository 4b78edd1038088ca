//! [`EndpointQos`]: the QoS policies of a writer or reader grouped, with the DDS defaults of
//! each side and the rule for which ones are sent (DDS 1.4 §2.2.3; RTPS 2.5 §8.5.4.4).

use crate::wire::cursor::{Reader, Writer};
use crate::wire::error::{EmitError, ParseError};
use crate::wire::parameter::ParameterId;

use super::*;

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
        fn non_default<P: QosPolicy + Default>(w: &mut Writer<'_>, p: &P) -> Result<(), EmitError> {
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
    use crate::wire::types::Duration;
    use proptest::prelude::*;

    #[test]
    fn defaults_differ_only_in_reliability() {
        let (w, r) = (EndpointQos::writer_default(), EndpointQos::reader_default());
        assert_eq!(w.reliability.kind, ReliabilityKind::Reliable);
        assert_eq!(r.reliability.kind, ReliabilityKind::BestEffort);
        assert_eq!(
            EndpointQos {
                reliability: r.reliability,
                ..w
            },
            r
        );
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
                assert!(
                    q.parse_parameter(id, &mut short).is_err(),
                    "{id:?} at {cut}"
                );
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
