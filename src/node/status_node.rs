//! [`StatusNode`]: the statuses of every node in the domain (AML-IP spec §5, §7.1).
//!
//! ```no_run
//! use std::time::Duration;
//! use amlip::node::{NodeOptions, StatusNode};
//! let node = StatusNode::new("AMLStatusNode", NodeOptions::default())?;
//! while let Ok(s) = node.recv_timeout(Duration::from_secs(5)) {
//!     println!("{} {} {}", s.id, s.node_kind, s.state);
//! }
//! # Ok::<(), amlip::node::NodeError>(())
//! ```
//!
//! Besides the statuses nodes publish, a node whose participant disappears (its lease expired
//! after a crash) is reported `dropped`, once; AML-IP itself never notices a crash.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

use super::core::{NodeCore, NodeEvent};
use super::options::{NodeError, NodeOptions};
use super::runtime::Runtime;
use super::stats::NodeStats;
use crate::multiservice::{AmlipId, StateKind, Status};

/// A StatusNode (see the module doc). Dropping it publishes `dropped` and leaves the domain.
pub struct StatusNode {
    runtime: Runtime,
    statuses: Mutex<Receiver<Status>>,
}

impl std::fmt::Debug for StatusNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusNode")
            .field("id", &self.runtime.id())
            .finish()
    }
}

impl StatusNode {
    /// Start a status node called `name` (≤ 28 ASCII bytes); it collects statuses at once
    /// (late joiners get each live node's latest status, spec §5).
    pub fn new(name: &str, options: NodeOptions) -> Result<Self, NodeError> {
        let (tx, rx) = mpsc::channel::<Status>();
        let tx = Mutex::new(tx);
        let sink = move |e: NodeEvent| {
            if let NodeEvent::Status(s) = e {
                let _ = tx.lock().unwrap_or_else(|p| p.into_inner()).send(s);
            }
        };
        let runtime = Runtime::start(name, &options, NodeCore::status, Box::new(sink))?;
        runtime.with_core(|c, now| c.set_state(now, StateKind::RUNNING))?;
        Ok(StatusNode {
            runtime,
            statuses: Mutex::new(rx),
        })
    }

    /// This node's id (`name.hh.hh.hh.hh`).
    pub fn id(&self) -> AmlipId {
        self.runtime.id()
    }

    /// The next status, waiting up to `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Status, NodeError> {
        let rx = self.statuses.lock().unwrap_or_else(|p| p.into_inner());
        rx.recv_timeout(timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => NodeError::Timeout,
            RecvTimeoutError::Disconnected => NodeError::Closed,
        })
    }

    /// The node's counters: its participant's (datagrams, drops by reason, retransmissions,
    /// NACKs, matched peers, ...) and its core's.
    pub fn stats(&self) -> NodeStats {
        self.runtime.stats()
    }

    /// The next status if one is ready.
    pub fn try_recv(&self) -> Option<Status> {
        let rx = self.statuses.lock().unwrap_or_else(|p| p.into_inner());
        rx.try_recv().ok()
    }
}
