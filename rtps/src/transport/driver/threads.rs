//! The driver's threads: one receive thread per socket and the timer thread, each running
//! input steps (see the driver's module doc).

use std::net::SocketAddr;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::output::RETRY_AFTER;
use super::{now, Shared, State, RECV_POLL};
use crate::transport::udp::UdpReceiver;

/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_536;

/// A receive buffer: datagrams are carved out of a large chunk, so large payloads are handed
/// to readers as slices without a copy.
#[derive(Debug)]
pub(super) struct RecvBuf {
    chunk: BytesMut,
}

impl RecvBuf {
    pub(super) fn new() -> Self {
        RecvBuf {
            chunk: BytesMut::new(),
        }
    }

    /// Room for the largest datagram (a fresh chunk when the rest of this one is too short;
    /// zeroed once per chunk).
    pub(super) fn space(&mut self) -> &mut [u8] {
        if self.chunk.len() < MAX_DATAGRAM {
            self.chunk = BytesMut::zeroed(RECV_CHUNK);
        }
        let n = self.chunk.len().min(MAX_DATAGRAM);
        &mut self.chunk[..n]
    }

    /// The `len` bytes just received into [`RecvBuf::space`].
    pub(super) fn take(&mut self, len: usize) -> Bytes {
        let len = len.min(MAX_DATAGRAM).min(self.chunk.len());
        self.chunk.split_to(len).freeze()
    }
}

impl Shared {
    /// Handle one received datagram: the core takes it, its transmits go out, waiters are
    /// woken, and (if `run_listeners`) the samples it made ready are handed to listeners on
    /// this thread, else the timer thread is woken to deliver them. Returns whether it brought
    /// samples, or `None` if the participant is closed.
    ///
    /// With `more_queued` (the socket held another datagram before this one was read: a
    /// backlog) nothing is sent yet and `Some(false)` is returned: the caller reads the next
    /// datagram and the answers to the backlog leave together, one datagram per destination,
    /// when a datagram is handled without it (or at [`Shared::flush_received`]).
    pub(super) fn handle_received(
        &self,
        from: SocketAddr,
        datagram: &Bytes,
        run_listeners: bool,
        more_queued: bool,
    ) -> Option<bool> {
        let mut st = self.lock();
        if self.is_closed() {
            return None;
        }
        st.participant.handle_datagram_bytes(now(), from, datagram);
        st.received = st.received.wrapping_add(1);
        if more_queued {
            return Some(false);
        }
        Some(self.finish_received(st, run_listeners))
    }

    /// Send what the datagrams handled with `more_queued` caused, and deliver their samples
    /// (as [`Shared::handle_received`] does after one datagram).
    pub(super) fn flush_received(&self, run_listeners: bool) -> Option<bool> {
        let st = self.lock();
        if self.is_closed() {
            return None;
        }
        Some(self.finish_received(st, run_listeners))
    }

    /// End a receive step: flush, then release (delivering to listeners on this thread with
    /// `run_listeners`); returns whether samples arrived.
    fn finish_received(&self, mut st: MutexGuard<'_, State>, run_listeners: bool) -> bool {
        self.flush(&mut st);
        let data = std::mem::take(&mut st.data_arrived);
        if run_listeners {
            self.release_and_deliver(st);
        } else {
            self.release(st);
        }
        data
    }
}

/// Size of the receive buffers' chunks.
const RECV_CHUNK: usize = 256 * 1024;

/// Most datagrams of a backlog handled before their answers are sent (see `recv_loop`).
pub(super) const RECV_BATCH: usize = 16;

/// Receive and handle datagrams until the participant closes. After a datagram that brought
/// samples the thread polls the socket for `busy_poll` (yielding between polls) before it
/// blocks again: the answer to what it just delivered usually comes back within that window,
/// and is then read without the wake-up latency of a blocked thread. Acknowledgments and
/// heartbeats alone do not start a poll (a writer's receive thread would only steal CPU from
/// the writer). With `turns` (the user-unicast socket) it parks while an application thread
/// polls the socket itself ([`Shared::poll_receive`]).
pub(super) fn recv_loop(shared: &Shared, rx: &UdpReceiver, busy_poll: Duration, turns: bool) {
    let mut buf = RecvBuf::new();
    let mut poll_until: Option<Instant> = None;
    // Datagrams handled in a row without sending (see `Shared::handle_received`), and whether
    // the previous read found one (then the socket has a backlog).
    let mut unflushed = 0usize;
    let mut backlog = false;
    while !shared.is_closed() {
        if turns && unflushed > 0 && shared.turn().recv_claim(now(), true).is_err() {
            // An application thread polls the socket now: answer the backlog before parking.
            unflushed = 0;
            backlog = false;
            if shared.flush_received(true).is_none() {
                break;
            }
        }
        if turns && unflushed == 0 && !shared.recv_turn(poll_until.is_some()) {
            break;
        }
        let space = buf.space();
        let received = match poll_until {
            Some(_) => rx.try_recv(space),
            None => rx.recv_timeout(space, Some(RECV_POLL)),
        };
        match received {
            Ok(Some(r)) => {
                let datagram = buf.take(r.len);
                // Only a datagram read right after another one, in a poll (the socket is
                // non-blocking: a read that finds nothing costs no wake-up), waits for the
                // rest of the backlog; the first one of a burst is answered at once.
                let defer = backlog && poll_until.is_some() && unflushed < RECV_BATCH;
                backlog = true;
                unflushed = if defer { unflushed + 1 } else { 0 };
                match shared.handle_received(r.from, &datagram, true, defer) {
                    None => break,
                    Some(true) if !busy_poll.is_zero() => {
                        poll_until = now().checked_add(busy_poll);
                    }
                    Some(_) if defer => {
                        poll_until = now().checked_add(busy_poll);
                    }
                    Some(_) => {}
                }
            }
            Ok(None) if unflushed > 0 => {
                backlog = false;
                unflushed = 0;
                match shared.flush_received(true) {
                    None => break,
                    Some(true) if !busy_poll.is_zero() => {
                        poll_until = now().checked_add(busy_poll);
                    }
                    Some(_) => {}
                }
            }
            Ok(None) => {
                backlog = false;
                if let Some(until) = poll_until {
                    if now() >= until {
                        poll_until = None;
                    } else {
                        std::thread::yield_now();
                    }
                }
            }
            Err(e) => {
                log::warn!("receive on {:?} failed: {e}", rx.kind());
                if std::mem::take(&mut unflushed) > 0 && shared.flush_received(true).is_none() {
                    break;
                }
                backlog = false;
                poll_until = None;
                std::thread::sleep(RECV_POLL);
            }
        }
    }
}

/// Run timeouts, send held-back writes when due, retry refused datagrams and deliver samples
/// that API calls made ready, until the participant closes.
pub(super) fn timer_loop(shared: &Shared) {
    let mut st = shared.lock();
    loop {
        if shared.is_closed() {
            break;
        }
        if st.ready_new {
            st = shared.release_deliver_relock(st);
        }
        let t = now();
        if st.hold.due().is_some_and(|d| d <= t) {
            shared.flush(&mut st);
            st = shared.release_deliver_relock(st);
        }
        if !st.outbox.is_empty() && !st.sending {
            // Refused by the kernel earlier, or left by a sender that had sent enough.
            st = shared.release_deliver_relock(st);
        }
        let next = [
            st.participant.refresh_timeout(),
            st.hold.due(),
            Shared::faults_due(&st),
        ]
        .into_iter()
        .flatten()
        .min();
        if next.is_some_and(|n| n <= t) {
            st.participant.handle_timeout(t);
            shared.flush(&mut st);
            st = shared.release_deliver_relock(st);
            continue;
        }
        let mut wait = next.map_or(Duration::from_secs(1), |n| n.saturating_duration_since(t));
        if !st.outbox.is_empty() {
            wait = wait.min(RETRY_AFTER);
        }
        st.timer_deadline = Some(t + wait);
        st = match shared.timer.wait_timeout(st, wait) {
            Ok((g, _)) => g,
            Err(e) => e.into_inner().0,
        };
        st.timer_deadline = None;
    }
}
