//! Write holding: which writes wait a moment so that several DATA submessages share a datagram
//! (a refinement of the driver's model, see the driver's module doc).
//!
//! A write is held when
//! - its thread is running listeners of this participant (the answer one received sample
//!   causes, on two topics say, leaves in one datagram when the listeners are done);
//! - its thread has a write batch open on this participant ([`Shared::begin_batch`]);
//! - it continues its thread's **burst**: writes less than `BURST_WINDOW` apart with no
//!   datagram received in between. So a thread answering what it just received (a ping-pong,
//!   a main node's next job after the last solution) is never held: only a thread writing
//!   without waiting for anything is. A burst's first held write is sent at most
//!   `BURST_DELAY` later (the timer thread sees to it).
//!
//! At most `HOLD_MAX` writes are held at once. [`Hold`] is a pure policy kept in the driver's
//! state and keyed by [`ThreadId`]: the time and the received-datagram count are handed in.

use std::thread::ThreadId;
use std::time::{Duration, Instant};

use super::{now, Shared, State};

/// A write less than this after the same thread's previous write continues its burst.
const BURST_WINDOW: Duration = Duration::from_micros(20);
/// Longest a burst's held writes wait for the rest of it.
const BURST_DELAY: Duration = Duration::from_micros(200);
/// Most writes held back at once.
const HOLD_MAX: u32 = 256;
/// Most threads whose last write is remembered (the oldest is forgotten first).
const MAX_MARKS: usize = 16;

/// What to do with a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    /// Hold it: whoever holds it sends it (the listener's thread, the batch's end, or the
    /// timer thread, which already knows when).
    Hold,
    /// Hold it, and have the timer thread send it by this time at the latest.
    HoldUntil(Instant),
    /// Send it (with everything held so far).
    Send,
}

/// A thread whose writes are held whatever their timing.
#[derive(Debug, Clone, Copy)]
struct Holder {
    thread: ThreadId,
    /// How deep it is in listener calls.
    listeners: u32,
    /// Its open batch, and how many writes it held.
    batch: Option<u32>,
}

/// A thread's last write outside a holder, for telling bursts apart.
#[derive(Debug, Clone, Copy)]
struct WriteMark {
    thread: ThreadId,
    at: Instant,
    /// The participant's count of received datagrams at the time.
    received: u64,
}

impl WriteMark {
    /// True when this write follows `prev`, the same thread's previous one, less than
    /// `BURST_WINDOW` later, with no datagram received in between.
    fn continues_burst(&self, prev: &WriteMark) -> bool {
        self.thread == prev.thread
            && self.received == prev.received
            && self.at.saturating_duration_since(prev.at) < BURST_WINDOW
    }
}

/// Which writes are held back, and why (see the module doc).
#[derive(Debug, Default)]
pub(super) struct Hold {
    holders: Vec<Holder>,
    marks: Vec<WriteMark>,
    /// Writes held now.
    held: u32,
    /// When the first write held outside a batch was held.
    since: Option<Instant>,
}

impl Hold {
    /// Decide for a write by `thread` at `at`, when the participant has received `received`
    /// datagrams so far.
    pub(super) fn on_write(&mut self, thread: ThreadId, at: Instant, received: u64) -> Decision {
        if self.held >= HOLD_MAX {
            return Decision::Send;
        }
        if let Some(h) = self.holders.iter_mut().find(|h| h.thread == thread) {
            self.held += 1;
            if h.listeners > 0 {
                self.since.get_or_insert(at);
            } else if let Some(n) = h.batch.as_mut() {
                *n += 1;
            }
            return Decision::Hold;
        }
        let mark = WriteMark {
            thread,
            at,
            received,
        };
        let prev = match self.marks.iter().position(|m| m.thread == thread) {
            Some(i) => Some(std::mem::replace(&mut self.marks[i], mark)),
            None => {
                if self.marks.len() >= MAX_MARKS {
                    self.marks.remove(0);
                }
                self.marks.push(mark);
                None
            }
        };
        if !prev.is_some_and(|p| mark.continues_burst(&p)) {
            return Decision::Send;
        }
        self.held += 1;
        match self.since {
            Some(_) => Decision::Hold,
            None => {
                self.since = Some(at);
                Decision::HoldUntil(at + BURST_DELAY)
            }
        }
    }

    /// Everything held was sent.
    pub(super) fn sent(&mut self) {
        self.held = 0;
        self.since = None;
    }

    /// Writes held now.
    pub(super) fn held(&self) -> u32 {
        self.held
    }

    /// When the held writes must go out at the latest.
    pub(super) fn due(&self) -> Option<Instant> {
        self.since.map(|t| t + BURST_DELAY)
    }

    fn holder(&mut self, thread: ThreadId) -> &mut Holder {
        let i = match self.holders.iter().position(|h| h.thread == thread) {
            Some(i) => i,
            None => {
                self.holders.push(Holder {
                    thread,
                    listeners: 0,
                    batch: None,
                });
                self.holders.len() - 1
            }
        };
        &mut self.holders[i]
    }

    fn forget_idle_holders(&mut self) {
        self.holders
            .retain(|h| h.listeners > 0 || h.batch.is_some());
    }

    /// `thread` is about to run listeners.
    pub(super) fn enter_listeners(&mut self, thread: ThreadId) {
        self.holder(thread).listeners += 1;
    }

    /// `thread` is done running listeners.
    pub(super) fn leave_listeners(&mut self, thread: ThreadId) {
        let h = self.holder(thread);
        h.listeners = h.listeners.saturating_sub(1);
        self.forget_idle_holders();
    }

    /// `thread` opens a batch; false if it runs listeners or has one open already.
    pub(super) fn begin_batch(&mut self, thread: ThreadId) -> bool {
        let h = self.holder(thread);
        if h.listeners > 0 || h.batch.is_some() {
            return false;
        }
        h.batch = Some(0);
        true
    }

    /// `thread` closes its batch: true when it held writes, which are then no longer counted
    /// (the caller decides for them as for one new write).
    pub(super) fn end_batch(&mut self, thread: ThreadId) -> bool {
        let n = self.holder(thread).batch.take().unwrap_or(0);
        self.forget_idle_holders();
        if n == 0 {
            return false;
        }
        self.held = self.held.saturating_sub(1);
        true
    }
}

impl Shared {
    /// After a write: send at once, unless it is held back (see the module doc).
    pub fn flush_write(&self, st: &mut State) {
        let me = std::thread::current().id();
        match st.hold.on_write(me, now(), st.received) {
            Decision::Hold => {}
            Decision::HoldUntil(due) => {
                if st.timer_deadline.is_some_and(|d| d > due) {
                    st.timer_deadline = None;
                    self.timer.notify_one();
                }
            }
            Decision::Send => self.flush(st),
        }
    }

    /// Open a write batch on this thread (a no-op inside a listener, whose writes are held
    /// anyway, or with a batch already open): this participant's writes are held until
    /// [`Shared::end_batch`], which then handles them as one write (sent at once unless they
    /// continue a burst). So the samples of one input (a solution and the next offer) share a
    /// datagram without waiting for the burst timer. Returns whether a batch was opened (pass
    /// it to `end_batch`).
    pub fn begin_batch(&self) -> bool {
        let mut st = self.lock();
        st.hold.begin_batch(std::thread::current().id())
    }

    /// Close the batch [`Shared::begin_batch`] opened (`opened`): its writes go out (or join
    /// the thread's burst).
    pub fn end_batch(&self, opened: bool) {
        if !opened {
            return;
        }
        let mut st = self.lock();
        if !st.hold.end_batch(std::thread::current().id()) || self.is_closed() {
            return;
        }
        self.flush_write(&mut st);
        self.release(st);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn other_thread() -> ThreadId {
        std::thread::spawn(|| std::thread::current().id())
            .join()
            .expect("thread")
    }

    /// A burst is one thread's writes with nothing received in between.
    #[test]
    fn a_burst_is_one_threads_writes_with_nothing_received_between() {
        let me = std::thread::current().id();
        let t0 = now();
        let us = |n| t0 + Duration::from_micros(n);
        let mut h = Hold::default();
        assert_eq!(
            h.on_write(me, us(0), 7),
            Decision::Send,
            "an isolated write"
        );
        assert_eq!(
            h.on_write(me, us(5), 7),
            Decision::HoldUntil(us(5) + BURST_DELAY)
        );
        assert_eq!(h.on_write(me, us(10), 7), Decision::Hold);
        assert_eq!(h.held(), 2);
        h.sent();
        assert_eq!(
            h.on_write(me, us(15), 8),
            Decision::Send,
            "a datagram came in between: an answer, not a burst"
        );
        assert_eq!(h.on_write(me, us(200), 8), Decision::Send, "after a pause");
        assert_eq!(
            h.on_write(other_thread(), us(201), 8),
            Decision::Send,
            "another thread's first write"
        );
        assert_eq!(
            h.on_write(me, us(205), 8),
            Decision::HoldUntil(us(205) + BURST_DELAY),
            "another thread's write does not end this one's burst"
        );
    }

    #[test]
    fn listeners_and_batches_hold_their_threads_writes_only() {
        let me = std::thread::current().id();
        let other = other_thread();
        let t0 = now();
        let mut h = Hold::default();
        h.enter_listeners(me);
        assert!(!h.begin_batch(me), "no batch inside a listener");
        assert_eq!(h.on_write(me, t0, 1), Decision::Hold);
        assert_eq!(h.on_write(other, t0, 1), Decision::Send);
        h.leave_listeners(me);
        assert_eq!(h.held(), 1);
        h.sent();
        assert!(h.begin_batch(me));
        assert!(!h.begin_batch(me), "one batch at a time");
        assert_eq!(h.on_write(me, t0, 1), Decision::Hold);
        assert_eq!(h.on_write(me, t0, 1), Decision::Hold);
        assert!(h.end_batch(me));
        assert_eq!(h.held(), 1, "the batch's writes count as one from now on");
        assert!(h.begin_batch(me));
        assert!(!h.end_batch(me), "an empty batch");
        for _ in 0..HOLD_MAX {
            h.enter_listeners(me);
            let _ = h.on_write(me, t0, 1);
        }
        assert_eq!(
            h.on_write(me, t0, 1),
            Decision::Send,
            "at most HOLD_MAX held"
        );
    }
}
