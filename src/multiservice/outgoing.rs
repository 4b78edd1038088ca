//! Samples the MultiService state machines ask the node layer to publish (AML-IP spec §4.1).

use rtps::wire::EmitError;

use super::codec::Payload;
use super::id::AmlipId;
use super::topics::MultiServiceTopic;
use super::types::{MsData, MsReference, MsRequest};

/// One sample to publish; each variant maps to exactly one MultiService topic (spec §2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Client → every server on `_request_availability`.
    Request(MsRequest),
    /// Server → one client on `_reply_available_<to_client>`: "I am available for this task".
    ReplyAvailable {
        /// The client (the topic suffix).
        to_client: AmlipId,
        /// {client, task, own server id}.
        reference: MsReference,
    },
    /// Client → every server on `_task_target`: the chosen reply, unchanged (or naming the
    /// undefined server id to cancel, spec §11.2).
    Target(MsReference),
    /// Client → the chosen server on `_task_data_<to_server>`: the job, headed by the target.
    TaskData {
        /// The chosen server (the topic suffix).
        to_server: AmlipId,
        /// Target header + job bytes.
        data: MsData,
    },
    /// Server → client on `_task_solution_<to_client>`: the solution, headed by the target.
    Solution {
        /// The client (the topic suffix).
        to_client: AmlipId,
        /// Target header + solution bytes.
        data: MsData,
    },
}

impl Outgoing {
    /// The topic this sample goes to.
    pub fn topic(&self) -> MultiServiceTopic {
        match self {
            Outgoing::Request(_) => MultiServiceTopic::RequestAvailability,
            Outgoing::ReplyAvailable { .. } => MultiServiceTopic::ReplyAvailable,
            Outgoing::Target(_) => MultiServiceTopic::TaskTarget,
            Outgoing::TaskData { .. } => MultiServiceTopic::TaskData,
            Outgoing::Solution { .. } => MultiServiceTopic::TaskSolution,
        }
    }

    /// The recipient named by a direct topic; `None` for the shared topics.
    pub fn recipient(&self) -> Option<AmlipId> {
        match self {
            Outgoing::Request(_) | Outgoing::Target(_) => None,
            Outgoing::ReplyAvailable { to_client, .. } | Outgoing::Solution { to_client, .. } => {
                Some(*to_client)
            }
            Outgoing::TaskData { to_server, .. } => Some(*to_server),
        }
    }

    /// The DDS topic name for service `base` (e.g. `amlip/job_task_data_<server>`).
    pub fn topic_name(&self, base: &str) -> String {
        let t = self.topic();
        match self.recipient() {
            Some(r) => t.direct_name(base, &r),
            None => t.shared_name(base),
        }
        .unwrap_or_default()
    }

    /// The serialized payload (XCDR1 little-endian, spec §3).
    pub fn to_payload(&self) -> Result<Vec<u8>, EmitError> {
        match self {
            Outgoing::Request(r) => r.to_payload(),
            Outgoing::ReplyAvailable { reference, .. } => reference.to_payload(),
            Outgoing::Target(r) => r.to_payload(),
            Outgoing::TaskData { data, .. } | Outgoing::Solution { data, .. } => data.to_payload(),
        }
    }

    /// As [`Outgoing::to_payload`], a job or solution serialized in its own buffer
    /// ([`MsData::into_payload`]: never held twice).
    pub fn into_payload(self) -> Result<Vec<u8>, EmitError> {
        match self {
            Outgoing::TaskData { data, .. } | Outgoing::Solution { data, .. } => {
                data.into_payload()
            }
            other => other.to_payload(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multiservice::{GenericData, TaskId};

    #[test]
    fn every_sample_names_its_topic_and_payload_type() {
        let c = AmlipId::new("C", [1, 2, 3, 4]).unwrap();
        let s = AmlipId::new("S", [5, 6, 7, 8]).unwrap();
        let req = MsRequest {
            client_id: c,
            task_id: TaskId(3),
        };
        let r = MsReference::new(req, s);
        let d = MsData::new(r, GenericData::from("x"));
        let all = [
            (Outgoing::Request(req), "amlip/job_request_availability"),
            (
                Outgoing::ReplyAvailable {
                    to_client: c,
                    reference: r,
                },
                "amlip/job_reply_available_C.01.02.03.04",
            ),
            (Outgoing::Target(r), "amlip/job_task_target"),
            (
                Outgoing::TaskData {
                    to_server: s,
                    data: d.clone(),
                },
                "amlip/job_task_data_S.05.06.07.08",
            ),
            (
                Outgoing::Solution {
                    to_client: c,
                    data: d,
                },
                "amlip/job_task_solution_C.01.02.03.04",
            ),
        ];
        for (o, name) in all {
            assert_eq!(o.topic_name("job"), name);
            assert_eq!(
                MultiServiceTopic::classify(name, "job").map(|x| x.0),
                Some(o.topic())
            );
            let p = o.to_payload().unwrap();
            let ok = match o.topic().type_name() {
                MsRequest::TYPE_NAME => MsRequest::from_payload(&p).is_ok(),
                MsReference::TYPE_NAME => MsReference::from_payload(&p).is_ok(),
                _ => MsData::from_payload(&p).is_ok(),
            };
            assert!(ok, "{name}");
        }
    }
}
