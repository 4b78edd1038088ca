//! `amlip::status`: every node's {id, kind, state} (AML-IP spec §3.9, §5).

use core::fmt;

use rtps::wire::{EmitError, Reader, Writer};

use super::codec::{align4, DecodeError, Payload};
use super::id::AmlipId;

/// The kind of node publishing a status (`NodeKind`, AML-IP spec §3.9); an open newtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeKind(pub u32);

impl NodeKind {
    /// `undetermined` (0).
    pub const UNDETERMINED: NodeKind = NodeKind(0);
    /// `discovery` (1).
    pub const DISCOVERY: NodeKind = NodeKind(1);
    /// `agent` (2).
    pub const AGENT: NodeKind = NodeKind(2);
    /// `main` (3): a MainNode (MultiService client).
    pub const MAIN: NodeKind = NodeKind(3);
    /// `computing` (4): a ComputingNode (MultiService server).
    pub const COMPUTING: NodeKind = NodeKind(4);
    /// `status` (5): a StatusNode.
    pub const STATUS: NodeKind = NodeKind(5);
    /// `meta` (6).
    pub const META: NodeKind = NodeKind(6);
    /// `edge` (7).
    pub const EDGE: NodeKind = NodeKind(7);
    /// `inference` (8).
    pub const INFERENCE: NodeKind = NodeKind(8);
    /// `model_receiver` (9).
    pub const MODEL_RECEIVER: NodeKind = NodeKind(9);
    /// `model_sender` (10).
    pub const MODEL_SENDER: NodeKind = NodeKind(10);
    /// `fiware` (11).
    pub const FIWARE: NodeKind = NodeKind(11);

    const NAMES: [&'static str; 12] = [
        "undetermined",
        "discovery",
        "agent",
        "main",
        "computing",
        "status",
        "meta",
        "edge",
        "inference",
        "model_receiver",
        "model_sender",
        "fiware",
    ];

    /// The C++ `to_string()` name (`main`, `computing`, ...), or `None` for an unknown value.
    pub fn name(self) -> Option<&'static str> {
        usize::try_from(self.0)
            .ok()
            .and_then(|i| Self::NAMES.get(i).copied())
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "kind({})", self.0),
        }
    }
}

/// A node's state (`StateKind`, AML-IP spec §3.9); an open newtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StateKind(pub u32);

impl StateKind {
    /// `unknown` (0).
    pub const UNKNOWN: StateKind = StateKind(0);
    /// `running` (1).
    pub const RUNNING: StateKind = StateKind(1);
    /// `stopped` (2).
    pub const STOPPED: StateKind = StateKind(2);
    /// `dropped` (3): the node is gone (published on graceful exit, or derived from a lost lease).
    pub const DROPPED: StateKind = StateKind(3);

    /// The C++ `to_string()` name, or `None` for an unknown value.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("unknown"),
            1 => Some("running"),
            2 => Some("stopped"),
            3 => Some("dropped"),
            _ => None,
        }
    }
}

impl fmt::Display for StateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "state({})", self.0),
        }
    }
}

/// `amlip::status`: id, `uint32` node kind, `uint32` state (AML-IP spec §3.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status {
    /// The publishing node.
    pub id: AmlipId,
    /// Its kind.
    pub node_kind: NodeKind,
    /// Its state.
    pub state: StateKind,
}

impl Status {
    /// Largest payload a C++ StatusNode can store (`m_typeSize`, AML-IP spec §3.9).
    pub const MAX_PAYLOAD: usize = 144;

    /// `is_defined()`: id defined, kind not undetermined, state not unknown (spec §3.9).
    pub fn is_defined(&self) -> bool {
        self.id.is_defined()
            && self.node_kind != NodeKind::UNDETERMINED
            && self.state != StateKind::UNKNOWN
    }
}

impl Payload for Status {
    const TYPE_NAME: &'static str = "amlip::status";

    fn body_end(&self, pos: usize) -> usize {
        align4(self.id.cdr_end(pos)).saturating_add(8)
    }

    fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.id.emit(w)?;
        w.align(4, "node kind")?;
        w.u32(self.node_kind.0, "node kind")?;
        w.u32(self.state.0, "state")
    }

    fn parse_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = AmlipId::parse(r)?;
        r.align(4, "node kind")?;
        Ok(Status {
            id,
            node_kind: NodeKind(r.u32("node kind")?),
            state: StateKind(r.u32("state")?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multiservice::strategies::arb_status;
    use proptest::prelude::*;

    #[test]
    fn kinds_and_states_print_their_cpp_names() {
        assert_eq!(NodeKind::MAIN.to_string(), "main");
        assert_eq!(NodeKind::COMPUTING.to_string(), "computing");
        assert_eq!(NodeKind::FIWARE.to_string(), "fiware");
        assert_eq!(NodeKind(99).to_string(), "kind(99)");
        assert_eq!(StateKind::DROPPED.to_string(), "dropped");
        assert_eq!(StateKind(7).to_string(), "state(7)");
    }

    #[test]
    fn longest_status_fits_a_cpp_status_reader() {
        let s = Status {
            id: AmlipId::new(&"n".repeat(28), [1; 4]).unwrap(),
            node_kind: NodeKind::MAIN,
            state: StateKind::RUNNING,
        };
        assert_eq!(s.payload_len(), 52);
        assert!(s.payload_len() <= Status::MAX_PAYLOAD);
    }

    proptest! {
        #[test]
        fn statuses_round_trip_and_every_truncation_fails(s in arb_status()) {
            let p = s.to_payload().unwrap();
            prop_assert_eq!(Status::from_payload(&p), Ok(s));
            for n in 0..p.len() {
                prop_assert!(Status::from_payload(&p[..n]).is_err());
            }
        }
    }
}
