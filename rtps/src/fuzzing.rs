//! Entry points for the `fuzz/` targets: each takes arbitrary bytes and must not panic.

/// Sequences of operations (writes, hostile ACKNACK / NACK_FRAG / HEARTBEAT / GAP / DATA /
/// DATA_FRAG, time, delivery through the codec) against one reliable or best-effort writer and
/// reader (RTPS 2.5 §8.4): never panics, and the reader never delivers a sequence number twice.
pub fn reliable_state_machines(data: &[u8]) {
    crate::reliability::fuzz::run(data);
}
