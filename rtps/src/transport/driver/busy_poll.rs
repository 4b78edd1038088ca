//! Busy polling, an option (`busy_poll` zero turns it off): an application thread that waits
//! for an answer reads the user-unicast socket itself for a while, so the answer reaches it
//! without a hand-over from the receive thread (which parks meanwhile; `turn.rs` says whose
//! turn it is). The reading thread runs ordinary input steps (see the driver's module doc);
//! the receive thread's own polling after data is in `threads.rs`.

use std::sync::MutexGuard;
use std::time::Instant;

use super::threads::RECV_BATCH;
use super::turn::SocketTurn;
use super::{now, Shared, RECV_POLL};

impl Shared {
    pub(super) fn turn(&self) -> MutexGuard<'_, SocketTurn> {
        self.turn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Read the user-unicast socket on the calling thread while it waits for an answer, until
    /// `done()`, until `deadline`, or until `busy_poll` passes with no sample received. The
    /// answer is then read and handled by the thread that wants it: no hand-over from the
    /// receive thread (which is parked meanwhile). `done` is called without the state lock,
    /// before each read.
    ///
    /// With `run_listeners` the samples of readers with a listener are delivered on this
    /// thread, so it must hold no lock a listener takes; without, the timer thread delivers
    /// them.
    ///
    /// Returns `Some(true)` when `done()`, `Some(false)` when the window or the deadline ran
    /// out, `None` when the socket is not free to poll (the receive thread is blocked on it,
    /// another thread polls, busy polling is off, the participant is closed): the caller then
    /// waits as usual.
    pub fn poll_receive(
        &self,
        deadline: Instant,
        run_listeners: bool,
        done: &mut dyn FnMut() -> bool,
    ) -> Option<bool> {
        if self.busy_poll.is_zero() || self.is_closed() {
            return None;
        }
        let rx = self
            .app_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        let mut until = deadline.min(now() + self.busy_poll);
        if !self.turn().app_claim(until) {
            return None;
        }
        let mut buf = self.app_buf.lock().unwrap_or_else(|e| e.into_inner());
        // As in `recv_loop`: a datagram read right after another one waits for the rest of
        // the backlog (at most `RECV_BATCH`) before the answers go out together.
        let mut unflushed = 0usize;
        let mut backlog = false;
        let answered = loop {
            if unflushed == 0 && done() {
                break true;
            }
            if self.is_closed() {
                break false;
            }
            match rx.try_recv(buf.space()) {
                Ok(Some(r)) => {
                    let datagram = buf.take(r.len);
                    let defer = backlog && unflushed < RECV_BATCH;
                    backlog = true;
                    unflushed = if defer { unflushed + 1 } else { 0 };
                    match self.handle_received(r.from, &datagram, run_listeners, defer) {
                        None => break false,
                        Some(true) => {
                            until = deadline.min(now() + self.busy_poll);
                            self.turn().app_extend(until);
                        }
                        Some(false) => {}
                    }
                }
                Ok(None) if unflushed > 0 => {
                    unflushed = 0;
                    backlog = false;
                    match self.flush_received(run_listeners) {
                        None => break false,
                        Some(true) => {
                            until = deadline.min(now() + self.busy_poll);
                            self.turn().app_extend(until);
                        }
                        Some(false) => {}
                    }
                }
                Ok(None) => {
                    backlog = false;
                    if now() >= until {
                        break false;
                    }
                    std::thread::yield_now();
                }
                Err(e) => {
                    log::warn!("receive on {:?} failed: {e}", rx.kind());
                    break false;
                }
            }
        };
        if unflushed > 0 {
            let _ = self.flush_received(run_listeners);
        }
        drop(buf);
        let linger = answered.then_some(self.busy_poll);
        if self.turn().app_release(now(), linger) {
            self.turn_changed.notify_all();
        }
        Some(answered)
    }

    /// The receive thread of `app_rx` waits for its turn to read (`poll`: without blocking);
    /// false once the participant is closed.
    pub(super) fn recv_turn(&self, poll: bool) -> bool {
        let mut turn = self.turn();
        loop {
            if self.is_closed() {
                return false;
            }
            match turn.recv_claim(now(), poll) {
                Ok(()) => return true,
                Err(wait) => {
                    turn = match self.turn_changed.wait_timeout(turn, wait.min(RECV_POLL)) {
                        Ok((g, _)) => g,
                        Err(e) => e.into_inner().0,
                    };
                }
            }
        }
    }
}
