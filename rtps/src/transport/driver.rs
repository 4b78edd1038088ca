//! The driver: the one place with a clock, sockets and threads (architecture.md rule 1).
//!
//! It owns a sans-IO [`Participant`] behind a mutex and feeds it:
//! - one receive thread per socket (metatraffic and user unicast, SPDP multicast) calls
//!   `handle_datagram` with the datagram it just received (one copy: kernel to buffer);
//! - one timer thread calls `handle_timeout` at `poll_timeout`;
//! - API calls (`write`, `take`, endpoint creation) run on the caller's thread;
//! - a thread that waits for an answer may read the user-unicast socket itself for a while
//!   ([`Shared::poll_receive`]; the receive thread parks meanwhile, see `transport/turn.rs`), so
//!   the answer reaches it without a hand-over from the receive thread.
//!
//! After every input the driver drains `poll_transmit` onto the send socket (a datagram the
//! kernel refuses for lack of buffer space is queued and retried by the timer thread, never
//! dropped) and `poll_event` into subscribers, then wakes anyone waiting for a change.
//!
//! A reader may have a [`Listener`] instead of a waiting thread: its samples are then handed to
//! the listener by the thread that made them available (usually the receive thread that got the
//! datagram), after the state lock is released: no thread hand-off between the socket and the
//! application. One thread at a time delivers a given reader's samples, in order.

use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};

use bytes::{Bytes, BytesMut};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::faults::{FaultConfig, FaultInjector, FaultStats};
use super::turn::SocketTurn;
use super::udp::{ReceiverKind, SendError, UdpReceiver, UdpSender};
use crate::participant::{Event, Participant};
use crate::reliability::Sample;
use crate::wire::EntityId;

/// Called with every sample of a reader that has one (see the module doc). It runs on a driver
/// thread without the state lock: it may write, but should be quick, since the receive thread
/// that runs it receives nothing else meanwhile.
pub type Listener = Arc<dyn Fn(Sample) + Send + Sync>;

thread_local! {
    /// True while this thread runs listeners (their writes are held until they are done).
    static DELIVERING: Cell<bool> = const { Cell::new(false) };
    /// This thread's last write outside a listener (see [`Shared::flush_write`]).
    static LAST_WRITE: Cell<Option<WriteMark>> = const { Cell::new(None) };
    /// The write batch this thread has open (see [`Shared::begin_batch`]): the participant
    /// (the address of its [`Shared`]) and how many writes it held.
    static BATCH: Cell<Option<(usize, u32)>> = const { Cell::new(None) };
}

/// Most samples taken under one lock before they are handed to a listener.
const DELIVERY_BATCH: usize = 64;

/// A reader's listener and whether a thread is delivering its samples right now.
struct ListenerSlot {
    f: Listener,
    busy: bool,
}

impl std::fmt::Debug for ListenerSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerSlot")
            .field("busy", &self.busy)
            .finish()
    }
}

/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_536;
/// How long a receive thread blocks before checking whether it should stop.
const RECV_POLL: Duration = Duration::from_millis(200);
/// Most datagrams kept for retry after the kernel refused them (bounded memory).
const MAX_RETRY: usize = 8192;
/// A write that comes less than this after the previous write is part of a burst: it is held
/// back (at most `BATCH_DELAY`, at most `BATCH_MAX` writes) so that the burst packs several
/// DATA submessages per datagram. An isolated write is sent at once.
const BATCH_WINDOW: Duration = Duration::from_micros(20);
/// Longest a held-back write waits for the rest of its burst.
const BATCH_DELAY: Duration = Duration::from_micros(200);
/// Most writes held back at once.
const BATCH_MAX: u32 = 256;

/// The current time (the driver is the only caller of the clock).
#[allow(clippy::disallowed_methods)]
pub fn now() -> Instant {
    Instant::now()
}

/// Wall-clock time since the Unix epoch (source timestamps, seeds); `None` before 1970.
#[allow(clippy::disallowed_methods)]
pub fn unix_time() -> Option<Duration> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
}

/// State behind the driver's mutex.
#[doc(hidden)] // the driver's internals: not stable API
#[derive(Debug)]
pub struct State {
    /// The protocol core.
    pub participant: Participant,
    retry: VecDeque<(Vec<u8>, SocketAddr)>,
    subscribers: Vec<Sender<Event>>,
    /// When the sleeping timer thread will wake (None while it is not sleeping).
    timer_deadline: Option<Instant>,
    /// Writes held back for batching, and since when.
    held: u32,
    held_since: Option<Instant>,
    /// Datagrams we could not send at all (not retryable: e.g. too large).
    pub send_errors: u64,
    /// Datagrams received and handled (a write after one is not part of a burst).
    received: u64,
    /// Readers whose samples go to a listener.
    listeners: BTreeMap<EntityId, ListenerSlot>,
    /// Readers with a listener and samples to deliver, oldest first.
    ready: VecDeque<EntityId>,
    /// A flush made a reader ready since the flushing thread last looked: that thread (which
    /// takes the flag under the same lock) arranges the delivery.
    ready_new: bool,
    /// A flush saw new samples for some reader (taken by the receive thread: it busy-polls
    /// only after data, the traffic that gets answered, not after acknowledgments).
    data_arrived: bool,
    /// Fault injection on sent datagrams (a test aid, `transport::faults`).
    faults: Option<FaultInjector>,
    /// Datagrams queued for a later retry (the kernel's buffer was full, or earlier ones wait).
    send_retries: u64,
}

/// The driver's transport counters ([`State::transport_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransportStats {
    /// Datagrams that could not be sent at all (not retryable, or the retry queue was full).
    pub send_errors: u64,
    /// Datagrams queued for a later retry.
    pub send_retries: u64,
    /// What the fault injector did (all zero without one).
    pub faults: FaultStats,
}

impl State {
    /// The driver's transport counters.
    pub fn transport_stats(&self) -> TransportStats {
        TransportStats {
            send_errors: self.send_errors,
            send_retries: self.send_retries,
            faults: self
                .faults
                .as_ref()
                .map(FaultInjector::stats)
                .unwrap_or_default(),
        }
    }
}

/// What driver threads and API handles share.
#[derive(Debug)]
pub struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    timer: Condvar,
    sender: UdpSender,
    closed: AtomicBool,
    wake_pending: AtomicBool,
    /// Whose turn it is to read `app_rx` (see [`Shared::poll_receive`]).
    turn: Mutex<SocketTurn>,
    /// Signalled when an application thread hands the socket back early, and on close.
    turn_changed: Condvar,
    /// The user-unicast receiver, which a waiting application thread may poll (taken away
    /// when the driver stops, so the socket closes with it).
    app_rx: Mutex<Option<Arc<UdpReceiver>>>,
    /// The polling application thread's receive buffer (one poller at a time).
    app_buf: Mutex<RecvBuf>,
    busy_poll: Duration,
}

/// A receive buffer: datagrams are carved out of a large chunk, so large payloads are handed
/// to readers as slices without a copy.
#[derive(Debug)]
struct RecvBuf {
    chunk: BytesMut,
}

impl RecvBuf {
    fn new() -> Self {
        RecvBuf {
            chunk: BytesMut::new(),
        }
    }

    /// Room for the largest datagram (a fresh chunk when the rest of this one is too short;
    /// zeroed once per chunk).
    fn space(&mut self) -> &mut [u8] {
        if self.chunk.len() < MAX_DATAGRAM {
            self.chunk = BytesMut::zeroed(RECV_CHUNK);
        }
        let n = self.chunk.len().min(MAX_DATAGRAM);
        &mut self.chunk[..n]
    }

    /// The `len` bytes just received into [`RecvBuf::space`].
    fn take(&mut self, len: usize) -> Bytes {
        let len = len.min(MAX_DATAGRAM).min(self.chunk.len());
        self.chunk.split_to(len).freeze()
    }
}

impl Shared {
    /// Lock the state (a poisoned lock is recovered: the core never panics by contract, and
    /// the state stays consistent between calls).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True once the participant is shutting down.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// After a write: send at once, unless the write is part of a burst, in which case it is
    /// held back for at most `BATCH_DELAY` or `BATCH_MAX` writes so the burst goes out in
    /// fuller datagrams.
    ///
    /// A burst is writes that one thread makes to one participant less than `BATCH_WINDOW`
    /// apart with no datagram received in between (see `WriteMark::continues_burst`). So a
    /// thread answering what it just received (a ping-pong, a main node's next job after the
    /// last solution) or what another thread just wrote is never held: only a thread writing
    /// without waiting for anything is.
    ///
    /// Writes made by listeners are always held, without waking the timer thread: the
    /// delivering thread sends them when its listeners are done (see `Shared::deliver`), so
    /// the samples one received sample causes (an answer on two topics) share a datagram.
    pub fn flush_write(&self, st: &mut State) {
        if DELIVERING.with(Cell::get) && st.held < BATCH_MAX {
            st.held += 1;
            st.held_since.get_or_insert_with(now);
            return;
        }
        let me = std::ptr::from_ref(self) as usize;
        if let Some((p, n)) = BATCH.with(Cell::get) {
            if p == me && st.held < BATCH_MAX {
                st.held += 1;
                BATCH.with(|b| b.set(Some((p, n + 1))));
                return;
            }
        }
        self.burst_or_flush(st);
    }

    /// Open a write batch on this thread (a no-op inside a listener, whose writes are held
    /// anyway, or with a batch already open): this participant's writes are held until
    /// [`Shared::end_batch`], which then handles them as one write (sent at once unless they
    /// continue a burst, see [`Shared::flush_write`]). So the samples of one input (a solution
    /// and the next offer) share a datagram without waiting for the burst timer. Returns
    /// whether a batch was opened (pass it to `end_batch`).
    pub fn begin_batch(&self) -> bool {
        if DELIVERING.with(Cell::get) || BATCH.with(Cell::get).is_some() {
            return false;
        }
        BATCH.with(|b| b.set(Some((std::ptr::from_ref(self) as usize, 0))));
        true
    }

    /// Close the batch [`Shared::begin_batch`] opened (`opened`): its writes go out (or join
    /// the thread's burst).
    pub fn end_batch(&self, opened: bool) {
        if !opened {
            return;
        }
        let Some((_, n)) = BATCH.with(Cell::take) else {
            return;
        };
        if n == 0 {
            return;
        }
        let mut st = self.lock();
        if self.is_closed() {
            return;
        }
        // The batch's writes are counted in `held` already; decide for them as for one write.
        st.held = st.held.saturating_sub(1);
        self.burst_or_flush(&mut st);
        self.wake(st);
    }

    /// [`Shared::flush_write`] outside a listener: hold the write if it continues this
    /// thread's burst, else send everything.
    fn burst_or_flush(&self, st: &mut State) {
        let t = now();
        let mark = WriteMark {
            at: t,
            participant: std::ptr::from_ref(self) as usize,
            received: st.received,
        };
        let in_burst = LAST_WRITE
            .with(|l| l.replace(Some(mark)))
            .is_some_and(|prev| mark.continues_burst(&prev));
        if in_burst && st.held < BATCH_MAX {
            st.held += 1;
            if st.held_since.is_none() {
                st.held_since = Some(t);
                let due = t + BATCH_DELAY;
                if st.timer_deadline.is_some_and(|d| d > due) {
                    st.timer_deadline = None;
                    self.timer.notify_one();
                }
            }
            return;
        }
        self.flush(st);
    }

    /// When held-back writes must go out.
    fn held_due(st: &State) -> Option<Instant> {
        st.held_since.map(|t| t + BATCH_DELAY)
    }

    /// Drain transmits and events after an input, wake waiters and the timer.
    pub fn flush(&self, st: &mut State) {
        st.held = 0;
        st.held_since = None;
        while let Some((bytes, to)) = st.retry.pop_front() {
            match self.sender.send_to(&bytes, to) {
                Ok(()) => {}
                Err(SendError::WouldBlock) => {
                    st.retry.push_front((bytes, to));
                    break;
                }
                Err(_) => st.send_errors += 1,
            }
        }
        if st.faults.is_some() {
            self.flush_faulty(st);
        } else {
            while let Some(d) = st.participant.poll_transmit(now()) {
                for to in &d.destinations {
                    self.send_or_queue(st, &d.bytes, *to);
                }
            }
        }
        let mut any = false;
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
            any = true;
            // Only discovery and matching events go to subscribers; data and acknowledgment
            // events just wake the waiters (no extra thread wake-up per sample).
            if is_discovery_event(&e) && !st.subscribers.is_empty() {
                st.subscribers.retain(|s| s.send(e.clone()).is_ok());
            }
        }
        if any {
            // Waiters are woken after the caller unlocks (`wake`), so they do not wake up only
            // to block on the mutex.
            self.wake_pending.store(true, Ordering::Release);
        }
        // Wake the timer thread only when the next timeout moved before its wake-up time.
        if let Some(deadline) = st.timer_deadline {
            if st
                .participant
                .poll_timeout_hint()
                .is_some_and(|n| n < deadline)
                || !st.retry.is_empty()
                || Self::faults_due(st).is_some_and(|n| n < deadline)
            {
                st.timer_deadline = None;
                self.timer.notify_one();
            }
        }
    }

    /// Send one datagram, or queue it for retry behind earlier ones or when the kernel's
    /// buffer is full.
    fn send_or_queue(&self, st: &mut State, bytes: &[u8], to: SocketAddr) {
        if !st.retry.is_empty() {
            if st.retry.len() < MAX_RETRY {
                st.send_retries += 1;
                st.retry.push_back((bytes.to_vec(), to));
            } else {
                st.send_errors += 1;
            }
            return;
        }
        match self.sender.send_to(bytes, to) {
            Ok(()) => {}
            Err(SendError::WouldBlock) if st.retry.len() < MAX_RETRY => {
                st.send_retries += 1;
                st.retry.push_back((bytes.to_vec(), to))
            }
            Err(e) => {
                log::debug!("send to {to} failed: {e}");
                st.send_errors += 1;
            }
        }
    }

    /// [`Shared::flush`]'s sending with fault injection: every datagram goes through the
    /// injector, and what is due (now or held back earlier) is sent.
    fn flush_faulty(&self, st: &mut State) {
        let t = now();
        while let Some(d) = st.participant.poll_transmit(t) {
            if let Some(f) = st.faults.as_mut() {
                for to in &d.destinations {
                    f.submit(t, &d.bytes, *to);
                }
            }
        }
        while let Some((bytes, to)) = st.faults.as_mut().and_then(|f| f.pop_due(t)) {
            self.send_or_queue(st, &bytes, to);
        }
    }

    /// When the next held-back datagram of the fault injector is due.
    fn faults_due(st: &State) -> Option<Instant> {
        st.faults.as_ref().and_then(FaultInjector::next_due)
    }

    /// Release the state lock after an API call's flush, and wake the threads waiting for a
    /// change if it produced events. If it made samples ready for a listener, the timer thread
    /// is woken to deliver them: an API call never runs listeners itself, because its caller
    /// may hold a lock a listener takes (a node writing from under its own lock, say).
    pub fn wake(&self, mut st: MutexGuard<'_, State>) {
        // The flag stays set: the timer thread takes it (or a receive thread that flushes
        // first delivers everything ready anyway).
        let deliver = st.ready_new;
        if deliver {
            st.timer_deadline = None;
        }
        drop(st);
        if self.wake_pending.swap(false, Ordering::AcqRel) {
            self.changed.notify_all();
        }
        if deliver {
            self.timer.notify_one();
        }
    }

    /// [`wake`](Self::wake), then lock again.
    pub fn wake_relock<'a>(&'a self, st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.wake(st);
        self.lock()
    }

    /// [`wake`](Self::wake) for the driver's own threads, which hold no other lock: samples
    /// their flush made ready are handed to listeners on this thread.
    fn wake_and_deliver(&self, mut st: MutexGuard<'_, State>) {
        let deliver = std::mem::take(&mut st.ready_new);
        drop(st);
        if self.wake_pending.swap(false, Ordering::AcqRel) {
            self.changed.notify_all();
        }
        if deliver {
            self.deliver();
        }
    }

    /// [`wake_and_deliver`](Self::wake_and_deliver), then lock again.
    fn wake_deliver_relock<'a>(&'a self, st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.wake_and_deliver(st);
        self.lock()
    }

    /// Hand the samples of ready readers to their listeners, in order, one delivering thread
    /// per reader: a reader another thread is delivering is left to that thread, which takes
    /// until the reader is empty before it lets go. A listener (which may own endpoints, whose
    /// drop takes the lock) is only ever dropped here without the lock.
    fn deliver(&self) {
        loop {
            let (reader, f) = {
                let mut st = self.lock();
                if self.is_closed() {
                    return;
                }
                let next = st
                    .ready
                    .iter()
                    .position(|r| st.listeners.get(r).is_some_and(|l| !l.busy));
                let Some(reader) = next.and_then(|i| st.ready.remove(i)) else {
                    // Done: send what the listeners wrote (held by `flush_write`), which may
                    // make local readers ready in turn.
                    if st.held > 0 {
                        self.flush(&mut st);
                        if std::mem::take(&mut st.ready_new) {
                            continue;
                        }
                    }
                    drop(st);
                    if self.wake_pending.swap(false, Ordering::AcqRel) {
                        self.changed.notify_all();
                    }
                    return;
                };
                let Some(slot) = st.listeners.get_mut(&reader) else {
                    continue;
                };
                slot.busy = true;
                (reader, Arc::clone(&slot.f))
            };
            self.deliver_reader(reader, &f);
            drop(f);
        }
    }

    /// Take `reader`'s samples in batches and hand them to `f` until it is empty.
    fn deliver_reader(&self, reader: EntityId, f: &Listener) {
        loop {
            let batch = {
                let mut st = self.lock();
                if self.is_closed() || !st.listeners.contains_key(&reader) {
                    return;
                }
                let mut batch = Vec::new();
                while batch.len() < DELIVERY_BATCH {
                    match st.participant.take(reader) {
                        Some(s) => batch.push(s),
                        None => break,
                    }
                }
                if batch.is_empty() {
                    // Empty: the core reports DataAvailable again for the next sample.
                    if let Some(slot) = st.listeners.get_mut(&reader) {
                        slot.busy = false;
                    }
                    st.ready.retain(|r| *r != reader);
                    return;
                }
                batch
            };
            let outer = DELIVERING.with(|d| d.replace(true));
            for s in batch {
                f(s);
            }
            DELIVERING.with(|d| d.set(outer));
        }
    }

    /// Give `reader` a listener: from now on its samples, including any already waiting, go to
    /// `f` and not to `take`. Call without the state lock.
    pub fn set_listener(&self, reader: EntityId, f: Listener) {
        {
            let mut st = self.lock();
            st.listeners.insert(reader, ListenerSlot { f, busy: false });
            if !st.ready.contains(&reader) {
                st.ready.push_back(reader);
            }
        }
        self.deliver();
    }

    /// Forget the listener of a reader being deleted. The caller drops what is returned after
    /// releasing the lock (the listener may own endpoints, whose drop takes the lock).
    #[must_use = "drop the listener after releasing the lock"]
    pub fn remove_listener(st: &mut State, reader: EntityId) -> Option<Listener> {
        st.ready.retain(|r| *r != reader);
        st.listeners.remove(&reader).map(|l| l.f)
    }

    /// Wait for a change (an event) or until `deadline`; returns the guard.
    pub fn wait_until<'a>(
        &self,
        guard: MutexGuard<'a, State>,
        deadline: Instant,
    ) -> MutexGuard<'a, State> {
        let left = deadline.saturating_duration_since(now());
        match self
            .changed
            .wait_timeout(guard, left.min(Duration::from_millis(100)))
        {
            Ok((g, _)) => g,
            Err(e) => e.into_inner().0,
        }
    }

    /// Handle one received datagram: the core takes it, its transmits go out, waiters are
    /// woken, and (if `run_listeners`) the samples it made ready are handed to listeners on
    /// this thread, else the timer thread is woken to deliver them. Returns whether it brought
    /// samples, or `None` if the participant is closed.
    ///
    /// With `more_queued` (the socket held another datagram before this one was read: a
    /// backlog) nothing is sent yet and `Some(false)` is returned: the caller reads the next
    /// datagram and the answers to the backlog leave together, one datagram per destination,
    /// when a datagram is handled without it (or at [`Shared::flush_received`]).
    fn handle_received(
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
        self.flush(&mut st);
        let data = std::mem::take(&mut st.data_arrived);
        if run_listeners {
            self.wake_and_deliver(st);
        } else {
            self.wake(st);
        }
        Some(data)
    }

    /// Send what the datagrams handled with `more_queued` caused, and deliver their samples
    /// (as [`Shared::handle_received`] does after one datagram).
    fn flush_received(&self, run_listeners: bool) -> Option<bool> {
        let mut st = self.lock();
        if self.is_closed() {
            return None;
        }
        self.flush(&mut st);
        let data = std::mem::take(&mut st.data_arrived);
        if run_listeners {
            self.wake_and_deliver(st);
        } else {
            self.wake(st);
        }
        Some(data)
    }

    fn turn(&self) -> MutexGuard<'_, SocketTurn> {
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
    fn recv_turn(&self, poll: bool) -> bool {
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

    /// Subscribe to the participant's events.
    pub fn subscribe(&self, tx: Sender<Event>) {
        self.lock().subscribers.push(tx);
    }
}

/// Owns the driver threads; dropping it shuts the participant down.
#[derive(Debug)]
pub struct Driver {
    shared: Arc<Shared>,
    /// Threads, and whether `drop` waits for them.
    threads: Vec<(JoinHandle<()>, bool)>,
    /// The unicast receive sockets, woken with an empty datagram on close.
    wake_addrs: Vec<SocketAddr>,
}

/// A write by one thread, for telling bursts apart (see [`Shared::flush_write`]).
#[derive(Debug, Clone, Copy)]
struct WriteMark {
    at: Instant,
    /// Which participant (the address of its [`Shared`]).
    participant: usize,
    /// Its [`State::received`] count at the time.
    received: u64,
}

impl WriteMark {
    /// True when this write follows `prev`, this thread's previous one, on the same
    /// participant, less than `BATCH_WINDOW` later, with no datagram received in between.
    fn continues_burst(&self, prev: &WriteMark) -> bool {
        self.participant == prev.participant
            && self.received == prev.received
            && self.at.saturating_duration_since(prev.at) < BATCH_WINDOW
    }
}

impl Driver {
    /// Start the threads for `participant` over these sockets.
    pub fn start(
        participant: Participant,
        sender: UdpSender,
        receivers: Vec<UdpReceiver>,
        busy_poll: Duration,
        faults: Option<FaultConfig>,
    ) -> std::io::Result<Self> {
        let receivers: Vec<Arc<UdpReceiver>> = receivers.into_iter().map(Arc::new).collect();
        let app_rx = receivers
            .iter()
            .find(|r| r.kind() == ReceiverKind::UserUnicast)
            .cloned();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                participant,
                retry: VecDeque::new(),
                subscribers: Vec::new(),
                timer_deadline: None,
                held: 0,
                held_since: None,
                send_errors: 0,
                received: 0,
                listeners: BTreeMap::new(),
                ready: VecDeque::new(),
                ready_new: false,
                data_arrived: false,
                faults: faults.map(FaultInjector::next_in_process),
                send_retries: 0,
            }),
            changed: Condvar::new(),
            timer: Condvar::new(),
            sender,
            closed: AtomicBool::new(false),
            wake_pending: AtomicBool::new(false),
            turn: Mutex::new(SocketTurn::Blocking),
            turn_changed: Condvar::new(),
            app_rx: Mutex::new(app_rx.clone()),
            app_buf: Mutex::new(RecvBuf::new()),
            busy_poll,
        });
        {
            let mut st = shared.lock();
            shared.flush(&mut st);
            shared.wake_and_deliver(st);
        }
        let mut threads = Vec::new();
        let mut wake_addrs = Vec::new();
        for rx in receivers {
            let sh = Arc::clone(&shared);
            let name = format!("rtps-recv-{:?}", rx.kind());
            let local = rx.local_addr();
            let unicast = !local.ip().is_multicast();
            if unicast {
                wake_addrs.push(SocketAddr::V4(local));
            }
            let turns = app_rx.as_ref().is_some_and(|a| Arc::ptr_eq(a, &rx));
            let handle = std::thread::Builder::new()
                .name(name)
                .spawn(move || recv_loop(&sh, &rx, busy_poll, turns))?;
            // A multicast receiver cannot be woken by a datagram to itself without waking every
            // other member of the group: it is left to notice the close within RECV_POLL.
            threads.push((handle, unicast));
        }
        let sh = Arc::clone(&shared);
        threads.push((
            std::thread::Builder::new()
                .name("rtps-timer".into())
                .spawn(move || timer_loop(&sh))?,
            true,
        ));
        Ok(Driver {
            shared,
            threads,
            wake_addrs,
        })
    }

    /// The shared state.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let listeners;
        {
            let mut st = self.shared.lock();
            st.participant.shutdown(now());
            self.shared.flush(&mut st);
            // Listeners are not called any more; they are dropped below, without the lock.
            listeners = std::mem::take(&mut st.listeners);
            st.ready.clear();
            // Event receivers see the end now, even while endpoint or poller handles keep
            // this state alive.
            st.subscribers.clear();
            self.shared.closed.store(true, Ordering::Release);
        }
        drop(listeners);
        self.shared.changed.notify_all();
        self.shared.timer.notify_all();
        self.shared.turn_changed.notify_all();
        self.shared
            .app_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        // Wake the unicast receive threads at once with an empty datagram to themselves (the
        // close is then not delayed by their RECV_POLL); multicast ones are detached.
        for to in &self.wake_addrs {
            let _ = self.shared.sender.send_to(&[], *to);
        }
        for (t, join) in self.threads.drain(..) {
            if join {
                let _ = t.join();
            }
        }
    }
}

/// Size of the receive buffers' chunks.
const RECV_CHUNK: usize = 256 * 1024;

/// Most datagrams of a backlog handled before their answers are sent (see `recv_loop`).
const RECV_BATCH: usize = 16;

/// Receive and handle datagrams until the participant closes. After a datagram that brought
/// samples the thread polls the socket for `busy_poll` (yielding between polls) before it
/// blocks again: the answer to what it just delivered usually comes back within that window,
/// and is then read without the wake-up latency of a blocked thread. Acknowledgments and
/// heartbeats alone do not start a poll (a writer's receive thread would only steal CPU from
/// the writer). With `turns` (the user-unicast socket) it parks while an application thread
/// polls the socket itself ([`Shared::poll_receive`]).
fn recv_loop(shared: &Shared, rx: &UdpReceiver, busy_poll: Duration, turns: bool) {
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

fn timer_loop(shared: &Shared) {
    let mut st = shared.lock();
    loop {
        if shared.is_closed() {
            break;
        }
        if st.ready_new {
            st = shared.wake_deliver_relock(st);
        }
        let t = now();
        if Shared::held_due(&st).is_some_and(|d| d <= t) {
            shared.flush(&mut st);
            st = shared.wake_deliver_relock(st);
        }
        let next = [
            st.participant.refresh_timeout(),
            Shared::held_due(&st),
            Shared::faults_due(&st),
        ]
        .into_iter()
        .flatten()
        .min();
        if next.is_some_and(|n| n <= t) {
            st.participant.handle_timeout(t);
            shared.flush(&mut st);
            st = shared.wake_deliver_relock(st);
            continue;
        }
        let mut wait = next.map_or(Duration::from_secs(1), |n| n.saturating_duration_since(t));
        if !st.retry.is_empty() {
            shared.flush(&mut st);
            st = shared.wake_deliver_relock(st);
            wait = wait.min(Duration::from_millis(1));
        }
        st.timer_deadline = Some(t + wait);
        st = match shared.timer.wait_timeout(st, wait) {
            Ok((g, _)) => g,
            Err(e) => e.into_inner().0,
        };
        st.timer_deadline = None;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A burst is one thread's writes to one participant with nothing received in between.
    #[test]
    fn a_burst_is_one_threads_writes_with_nothing_received_between() {
        let t0 = now();
        let mark = |us, participant, received| WriteMark {
            at: t0 + Duration::from_micros(us),
            participant,
            received,
        };
        let first = mark(0, 1, 7);
        assert!(mark(5, 1, 7).continues_burst(&first));
        assert!(
            !mark(5, 1, 8).continues_burst(&first),
            "a datagram came in between: an answer, not a burst"
        );
        assert!(
            !mark(5, 2, 7).continues_burst(&first),
            "another participant"
        );
        assert!(!mark(100, 1, 7).continues_burst(&first), "after a pause");
    }
}
