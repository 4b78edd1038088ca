//! The end of every input step: flush the core's outputs under the lock, then release the lock
//! and act on them (see the driver's module doc).
//!
//! [`Shared::flush`] drains `poll_transmit` into the outbox and `poll_event` into wake-ups;
//! [`Shared::release`] unlocks, sends the outbox if no other thread is sending it, and wakes
//! the waiting threads. Sending happens without the lock, one sender at a time, in order.

use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use super::{now, Shared, State};
use crate::participant::{Datagram, Event};
use crate::transport::udp::SendError;

/// Most datagrams waiting in the outbox (bounded memory: a flush past it counts send errors).
const MAX_OUTBOX: usize = 8192;
/// Most times a sender goes back for more before it leaves the rest to the timer thread (so an
/// application thread is not kept sending for other threads indefinitely).
const MAX_SEND_ROUNDS: usize = 8;
/// How soon the timer thread retries a datagram the kernel refused for lack of buffer space.
pub(super) const RETRY_AFTER: Duration = Duration::from_millis(1);

/// Who hands ready samples to listeners after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deliver {
    /// This thread (a driver thread, which holds no other lock).
    Here,
    /// The timer thread (this is an API call, whose caller may hold a lock a listener takes).
    TimerThread,
}

impl Shared {
    /// Drain the core's outputs after an input: datagrams into the outbox, events into
    /// wake-ups. Everything held back for batching is released with them.
    pub fn flush(&self, st: &mut State) {
        st.hold.sent();
        if st.faults.is_some() {
            self.drain_faulty(st);
        } else {
            while let Some(d) = st.participant.poll_transmit(now()) {
                Self::queue(st, d);
            }
        }
        while let Some(e) = st.participant.poll_event() {
            if let Event::DataAvailable { reader } = e {
                st.data_arrived = true;
                if st.listeners.contains_key(&reader) {
                    if !st.ready.contains(&reader) {
                        st.ready.push_back(reader);
                    }
                    st.ready_new = true;
                    continue;
                }
            }
            st.wake_waiters = true;
            // Only discovery and matching events go to subscribers; data and acknowledgment
            // events just wake the waiters (no extra thread wake-up per sample).
            if is_discovery_event(&e) && !st.subscribers.is_empty() {
                st.subscribers.retain(|s| s.send(e.clone()).is_ok());
            }
        }
        // Wake the timer thread only when the next timeout moved before its wake-up time.
        if let Some(deadline) = st.timer_deadline {
            if st
                .participant
                .poll_timeout_hint()
                .is_some_and(|n| n < deadline)
                || Self::faults_due(st).is_some_and(|n| n < deadline)
            {
                st.timer_deadline = None;
                self.timer.notify_one();
            }
        }
    }

    /// Put a datagram in the outbox (or count a send error when it is full).
    fn queue(st: &mut State, d: Datagram) {
        if st.outbox.len() < MAX_OUTBOX {
            st.outbox.push_back(d);
        } else {
            st.send_errors += d.destinations.len() as u64;
        }
    }

    /// [`Shared::flush`]'s draining with fault injection: every datagram goes through the
    /// injector, and what is due (now or held back earlier) is queued.
    fn drain_faulty(&self, st: &mut State) {
        let t = now();
        while let Some(d) = st.participant.poll_transmit(t) {
            if let Some(f) = st.faults.as_mut() {
                for to in &d.destinations {
                    f.submit(t, &d.bytes, *to);
                }
            }
        }
        while let Some((bytes, to)) = st.faults.as_mut().and_then(|f| f.pop_due(t)) {
            Self::queue(
                st,
                Datagram {
                    bytes,
                    destinations: vec![to],
                },
            );
        }
    }

    /// When the next held-back datagram of the fault injector is due.
    pub(super) fn faults_due(st: &State) -> Option<Instant> {
        st.faults.as_ref().and_then(|f| f.next_due())
    }

    /// End an API call's step: unlock, send, wake the threads waiting for a change. Samples it
    /// made ready for listeners are left to the timer thread (an API call never runs
    /// listeners: its caller may hold a lock a listener takes, a node writing from under its
    /// own lock, say).
    pub fn release(&self, st: MutexGuard<'_, State>) {
        self.finish(st, Deliver::TimerThread);
    }

    /// [`release`](Self::release), then lock again.
    pub fn release_relock<'a>(&'a self, st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.release(st);
        self.lock()
    }

    /// End a driver thread's step (which holds no other lock): as [`Shared::release`], and
    /// the samples it made ready are handed to listeners on this thread.
    pub(super) fn release_and_deliver(&self, st: MutexGuard<'_, State>) {
        self.finish(st, Deliver::Here);
    }

    /// [`release_and_deliver`](Self::release_and_deliver), then lock again.
    pub(super) fn release_deliver_relock<'a>(
        &'a self,
        st: MutexGuard<'a, State>,
    ) -> MutexGuard<'a, State> {
        self.release_and_deliver(st);
        self.lock()
    }

    fn finish(&self, mut st: MutexGuard<'_, State>, who: Deliver) {
        let deliver = match who {
            // The flag stays set: the timer thread takes it (or a receive thread that flushes
            // first delivers everything ready anyway).
            Deliver::TimerThread => {
                if st.ready_new {
                    st.timer_deadline = None;
                }
                st.ready_new
            }
            Deliver::Here => std::mem::take(&mut st.ready_new),
        };
        self.send_and_wake(st);
        if deliver {
            match who {
                Deliver::TimerThread => self.timer.notify_one(),
                Deliver::Here => self.deliver(),
            }
        }
    }

    /// Unlock; send the outbox unless another thread is sending it; wake the waiters.
    pub(super) fn send_and_wake(&self, mut st: MutexGuard<'_, State>) {
        let wake = std::mem::take(&mut st.wake_waiters);
        let batch = self.take_outbox(&mut st);
        drop(st);
        if let Some(batch) = batch {
            self.send_unlocked(batch);
        }
        if wake {
            // After the unlock, so that waiters do not wake up only to block on the mutex.
            self.changed.notify_all();
        }
    }

    /// Become the outbox's sender and take what it holds, unless it is empty or another
    /// thread sends it.
    fn take_outbox(&self, st: &mut State) -> Option<Vec<Datagram>> {
        if st.sending || st.outbox.is_empty() || self.is_closed() {
            return None;
        }
        st.sending = true;
        Some(st.outbox.drain(..).collect())
    }

    /// Send `batch` without the lock, then whatever other threads queued meanwhile, until the
    /// outbox is empty (at most `MAX_SEND_ROUNDS` times; then the timer thread goes on). A
    /// datagram the kernel refuses for lack of buffer space goes back to the head of the
    /// outbox with the rest, for the timer thread to retry.
    fn send_unlocked(&self, mut batch: Vec<Datagram>) {
        for _ in 0..MAX_SEND_ROUNDS {
            let (sent, errors) = self.send_batch(&mut batch);
            let refused = sent < batch.len();
            let mut st = self.lock();
            st.send_errors += errors;
            if refused {
                st.send_retries += 1;
                for d in batch.drain(sent..).rev() {
                    st.outbox.push_front(d);
                }
            }
            if refused || st.outbox.is_empty() || self.is_closed() {
                st.sending = false;
                if !st.outbox.is_empty() {
                    self.wake_timer_within(&mut st, RETRY_AFTER);
                }
                return;
            }
            batch = st.outbox.drain(..).collect();
        }
        let mut st = self.lock();
        st.sending = false;
        if !st.outbox.is_empty() {
            self.wake_timer_within(&mut st, Duration::ZERO);
        }
    }

    /// Send the datagrams of `batch` in order; returns how many were sent (all unless the
    /// kernel's buffer filled up: the unsent one, with the destinations left, is then
    /// `batch[sent]`, followed by the rest) and how many sends failed for good.
    fn send_batch(&self, batch: &mut [Datagram]) -> (usize, u64) {
        let mut errors = 0;
        for (i, d) in batch.iter_mut().enumerate() {
            for (j, to) in d.destinations.iter().enumerate() {
                match self.sender.send_to(&d.bytes, *to) {
                    Ok(()) => {}
                    Err(SendError::WouldBlock) => {
                        d.destinations.drain(..j);
                        return (i, errors);
                    }
                    Err(e) => {
                        log::debug!("send to {to} failed: {e}");
                        errors += 1;
                    }
                }
            }
        }
        (batch.len(), errors)
    }

    /// Have the timer thread run within `within`.
    fn wake_timer_within(&self, st: &mut State, within: Duration) {
        if st.timer_deadline.is_some_and(|d| d > now() + within) {
            st.timer_deadline = None;
            self.timer.notify_one();
        }
    }
}

/// Events that subscribers (the public events channel) want.
fn is_discovery_event(e: &Event) -> bool {
    !matches!(
        e,
        Event::DataAvailable { .. }
            | Event::Acknowledged { .. }
            | Event::HistorySpaceAvailable { .. }
    )
}
