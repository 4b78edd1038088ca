//! AML-IP nodes (AML-IP spec §4, §5, §7): the sans-IO [`core::NodeCore`] and the drivers that
//! run it, the deterministic simulated network ([`sim`]) and, over `rtps::dds`, the blocking
//! `MainNode`, `ComputingNode` and `StatusNode`.

pub mod core;
pub mod sim;

pub use self::core::{CoreError, CoreStats, NodeCore, NodeEvent, NodeOutput};
