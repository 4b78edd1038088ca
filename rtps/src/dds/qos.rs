//! The QoS builder of the public API (DDS 1.4 §2.2.3).

use std::time::Duration;

use crate::discovery::data::qos::{
    Durability, EndpointQos, History, Partition, Reliability, ReliabilityKind,
};

/// Endpoint QoS: reliable, volatile, KEEP_LAST(1), keyless unless changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Qos {
    pub(crate) inner: EndpointQos,
    pub(crate) keyed: bool,
    pub(crate) max_blocking_time: Duration,
}

impl Default for Qos {
    fn default() -> Self {
        Qos {
            inner: EndpointQos::writer_default(),
            keyed: false,
            max_blocking_time: Duration::from_millis(100),
        }
    }
}

impl Qos {
    /// RELIABLE: every sample is delivered, repaired on loss.
    #[must_use]
    pub fn reliable(mut self) -> Self {
        self.inner.reliability.kind = ReliabilityKind::Reliable;
        self
    }

    /// BEST_EFFORT: no repair.
    #[must_use]
    pub fn best_effort(mut self) -> Self {
        self.inner.reliability = Reliability::READER_DEFAULT;
        self
    }

    /// TRANSIENT_LOCAL: late-joining readers get the writer's history.
    #[must_use]
    pub fn transient_local(mut self) -> Self {
        self.inner.durability = Durability::TransientLocal;
        self
    }

    /// VOLATILE: late joiners start with the next sample.
    #[must_use]
    pub fn volatile(mut self) -> Self {
        self.inner.durability = Durability::Volatile;
        self
    }

    /// KEEP_LAST(depth).
    #[must_use]
    pub fn keep_last(mut self, depth: u32) -> Self {
        self.inner.history = History::KeepLast {
            depth: i32::try_from(depth.max(1)).unwrap_or(i32::MAX),
        };
        self
    }

    /// KEEP_ALL: nothing is overwritten; a full writer blocks up to `max_blocking_time`.
    #[must_use]
    pub fn keep_all(mut self) -> Self {
        self.inner.history = History::KeepAll;
        self
    }

    /// RESOURCE_LIMITS max_samples (0 = unlimited).
    #[must_use]
    pub fn max_samples(mut self, n: u32) -> Self {
        self.inner.resource_limits.max_samples = if n == 0 {
            -1
        } else {
            i32::try_from(n).unwrap_or(i32::MAX)
        };
        self
    }

    /// How long `write` on a full KEEP_ALL writer waits before failing.
    #[must_use]
    pub fn max_blocking_time(mut self, d: Duration) -> Self {
        self.max_blocking_time = d;
        self.inner.reliability.max_blocking_time = crate::wire::Duration::from_std(d);
        self
    }

    /// A keyed topic (entity kinds 0x02 / 0x07) or a keyless one (0x03 / 0x04).
    #[must_use]
    pub fn keyed(mut self, keyed: bool) -> Self {
        self.keyed = keyed;
        self
    }

    /// Add a partition name.
    #[must_use]
    pub fn partition(mut self, name: &str) -> Self {
        let mut v = self.inner.partition.0.clone();
        v.push(name.to_string());
        self.inner.partition = Partition(v);
        self
    }

    /// The discovery QoS this builds.
    pub fn endpoint_qos(&self) -> &EndpointQos {
        &self.inner
    }

    /// Build from a discovery QoS (e.g. a protocol's own description).
    #[must_use]
    pub fn from_endpoint_qos(inner: EndpointQos, keyed: bool) -> Self {
        let max_blocking_time = inner
            .reliability
            .max_blocking_time
            .to_std()
            .unwrap_or(Duration::from_secs(3600));
        Qos {
            inner,
            keyed,
            max_blocking_time,
        }
    }
}
