//! Reliability: the stateful writer and reader state machines, their proxies, and
//! fragmentation (RTPS 2.5 §8.4).
//!
//! Everything here is sans-IO (architecture.md rule 1): the participant feeds received
//! submessages into `handle_*`, drains `poll_transmit` / `poll_sample` / `poll_event`, and
//! calls `handle_timeout` at `poll_timeout`. Writers and readers emit owned
//! [`OutSubmessage`]s grouped into a [`Transmit`] per remote endpoint.
//!
//! # No-panic contract
//! No input from the network (ACKNACK, NACK_FRAG, HEARTBEAT, GAP, DATA, DATA_FRAG with any
//! field values) can make these state machines panic, loop without bound or allocate beyond
//! their configured caps (`ReaderConfig`, `WriterConfig` and history resource limits); see
//! `fuzzing::reliable_state_machines`.

mod fragment;
pub(crate) mod fuzz;
mod out;
mod ranges;
mod reader;
mod reader_proxy;
mod writer;
mod writer_batch;
mod writer_proxy;

pub use fragment::{fragment_count, fragment_range};
pub use out::{Destination, InlineQos, OutData, OutDataFrag, OutSubmessage, Transmit};
pub use reader::{ReaderConfig, ReaderStats, Sample, StatefulReader};
pub use reader_proxy::ReaderProxyConfig;
pub use writer::{
    Durability, StatefulWriter, WriteError, WriterConfig, WriterEvent, WriterStats,
    DEFAULT_DURABLE_HISTORY_BYTES,
};
pub use writer_proxy::WriterProxyConfig;

#[cfg(test)]
mod lossy_tests;
#[cfg(test)]
pub(crate) mod test_support;
