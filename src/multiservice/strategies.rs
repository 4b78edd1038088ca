//! proptest strategies for the AML-IP types (tests only).

use proptest::prelude::*;

use super::id::{AmlipId, TaskId};
use super::status::{NodeKind, StateKind, Status};
use super::types::{GenericData, MsData, MsReference, MsRequest};

/// Any valid id: 0-28 printable ASCII bytes and any random bytes.
pub(crate) fn arb_id() -> impl Strategy<Value = AmlipId> {
    ("[ -~]{0,28}", any::<[u8; 4]>())
        .prop_map(|(name, rand)| AmlipId::new(&name, rand).unwrap_or_else(|_| AmlipId::undefined()))
}

/// Any request.
pub(crate) fn arb_request() -> impl Strategy<Value = MsRequest> {
    (arb_id(), any::<u32>()).prop_map(|(client_id, t)| MsRequest {
        client_id,
        task_id: TaskId(t),
    })
}

/// Any reference.
pub(crate) fn arb_reference() -> impl Strategy<Value = MsReference> {
    (arb_request(), arb_id()).prop_map(|(r, s)| MsReference::new(r, s))
}

/// Any generic data of up to 64 bytes, with either flag.
pub(crate) fn arb_generic() -> impl Strategy<Value = GenericData> {
    (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..64))
        .prop_map(|(owned_flag, bytes)| GenericData { owned_flag, bytes })
}

/// Any ms_data.
pub(crate) fn arb_data() -> impl Strategy<Value = MsData> {
    (arb_reference(), arb_generic()).prop_map(|(r, d)| MsData::new(r, d))
}

/// Any status, known or unknown kind and state.
pub(crate) fn arb_status() -> impl Strategy<Value = Status> {
    (arb_id(), any::<u32>(), any::<u32>()).prop_map(|(id, k, s)| Status {
        id,
        node_kind: NodeKind(k),
        state: StateKind(s),
    })
}

/// A fixed anchor for the virtual clocks of the state-machine tests.
pub(crate) fn epoch() -> std::time::Instant {
    rtps::transport::sim::virtual_epoch()
}

/// A test node id.
pub(crate) fn node(name: &str, n: u8) -> AmlipId {
    AmlipId::new(name, [n, 0xa5, 0x5a, n]).unwrap()
}
