//! AML-IP nodes (AML-IP spec §4, §5, §7): the sans-IO [`NodeCore`] and the drivers that run it:
//! the blocking [`MainNode`], [`ComputingNode`] and [`StatusNode`] over `rtps::dds`, and the
//! deterministic simulated network ([`sim`]) the tests use.

mod computing_node;
pub mod core;
mod main_node;
mod options;
mod runtime;
#[doc(hidden)] // the deterministic test harness of `tests/nodes_sim.rs`: not stable API
pub mod sim;
mod stats;
mod status_node;

pub use self::core::{CoreError, CoreStats, NodeCore, NodeEvent, NodeOutput, DEFAULT_MAX_JOB_SIZE};
pub use computing_node::ComputingNode;
pub use main_node::{MainNode, Solution};
pub use options::{NodeError, NodeOptions};
pub use runtime::dds_qos;
pub use stats::NodeStats;
pub use status_node::StatusNode;
