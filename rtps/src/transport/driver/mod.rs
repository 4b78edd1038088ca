//! The driver: the one place with a clock, sockets and threads (architecture.md rule 1).
//!
//! # The model: run to completion on the input's thread
//!
//! The protocol core ([`Participant`]) is sans-IO: inputs are `handle_*(now, ...)`, outputs are
//! `poll_*` (architecture.md §4). The driver feeds it from three kinds of thread, and every
//! input, whoever brings it, is one **input step** on the thread that brought it:
//!
//! 1. **lock** the [`State`] (one mutex per participant; it guards the core and the driver's
//!    queues, nothing else);
//! 2. **handle**: one `handle_*` call, or an API call (`write`, `take`, endpoint creation);
//! 3. **flush** ([`Shared::flush`], `output.rs`): drain `poll_transmit` into the state's
//!    **outbox** and `poll_event` into wake-ups (waiters, event subscribers, listeners);
//! 4. **release** ([`Shared::release`]): unlock, then send the outbox on the socket, then wake
//!    the threads waiting for a change.
//!
//! The inputs and their threads:
//! - a datagram: one receive thread per socket (`threads.rs`: metatraffic and user unicast,
//!   SPDP multicast), which calls `handle_datagram` with the datagram it just received (one
//!   copy, kernel to buffer);
//! - a timeout: one timer thread (`threads.rs`) calls `handle_timeout` at `poll_timeout`; it
//!   also sends what is held back or queued for a retry, and delivers samples to listeners on
//!   behalf of API calls;
//! - an API call: the caller's thread (`dds/`).
//!
//! Three rules make the model safe to reason about:
//! - **No I/O and no user code under the lock.** The socket is written after the unlock
//!   (`output.rs`), listeners run after it (`listeners.rs`), and a waiting thread waits on a
//!   condition variable that releases it. The core's state between two input steps is therefore
//!   always consistent, whatever thread comes next.
//! - **One sender at a time, in order.** The thread that finds the outbox idle becomes its
//!   sender (`State::sending`) and sends until it is empty; a thread that finds a sender at work
//!   leaves its datagrams to it. Datagrams leave in the order the core produced them. A datagram
//!   the kernel refuses for lack of buffer space stays at the head of the outbox and the timer
//!   thread retries it: it is never dropped, and the outbox is bounded (`MAX_OUTBOX`).
//! - **Every wait is bounded.** Receive threads block at most `RECV_POLL`, waiters at most
//!   100 ms between checks of their deadline, the timer thread until the next timeout.
//!
//! Three refinements, each in its own module, change *when* a step's datagrams leave or *which
//! thread* reads the socket, never what the core sees:
//! - **Write holding** (`hold.rs`): a write that continues the same thread's burst, a write made
//!   inside an open write batch and a write made by a listener are held for a moment, so that
//!   several DATA submessages share a datagram. It is a pure policy keyed by thread id, kept in
//!   the state, with its unit tests.
//! - **Listeners** (`listeners.rs`): a reader may have a [`Listener`]; its samples are handed to
//!   it by the driver thread whose input made them available (usually the receive thread that
//!   got the datagram), after the unlock. One thread at a time delivers a given reader, in
//!   order. API calls never run listeners (their caller may hold a lock a listener takes): the
//!   timer thread delivers for them.
//! - **Busy polling** (`busy_poll.rs`, an option: `busy_poll` zero turns it off): after data a
//!   receive thread polls its socket for a while before blocking again, and an application
//!   thread waiting for an answer may read the user-unicast socket itself (`turn.rs` says whose
//!   turn it is). Either way the reading thread runs ordinary input steps.
//!
//! Why not one protocol thread fed by a channel: every datagram and every write would then cross
//! a thread (a futex wake-up, and on a busy machine a wait for a CPU) before the core sees it,
//! and every answer again on the way back. Running the step on the input's thread keeps a round
//! trip at the cost of two socket operations; the lock is held only for the core's own work.

mod busy_poll;
mod hold;
mod listeners;
mod output;
mod threads;
mod turn;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::participant::{Datagram, Event, Participant};
use crate::transport::faults::{FaultConfig, FaultInjector, FaultStats};
use crate::transport::udp::{ReceiverKind, UdpReceiver, UdpSender};
use crate::wire::EntityId;

use hold::Hold;
pub use listeners::Listener;
use listeners::ListenerSlot;
use threads::RecvBuf;
use turn::SocketTurn;

/// How long a receive thread blocks before checking whether it should stop.
const RECV_POLL: Duration = Duration::from_millis(200);

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

/// State behind the driver's mutex: the core and the driver's queues.
#[doc(hidden)] // the driver's internals: not stable API
#[derive(Debug)]
pub struct State {
    /// The protocol core.
    pub participant: Participant,
    /// Datagrams flushed from the core and not sent yet, oldest first (see `output.rs`).
    outbox: VecDeque<Datagram>,
    /// A thread is sending the outbox now (without the lock): others leave theirs to it.
    sending: bool,
    /// Which writes are held back for batching (see `hold.rs`).
    hold: Hold,
    subscribers: Vec<Sender<Event>>,
    /// When the sleeping timer thread will wake (None while it is not sleeping).
    timer_deadline: Option<Instant>,
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
    /// A flush produced events that waiting threads want to see.
    wake_waiters: bool,
    /// Fault injection on sent datagrams (a test aid, `transport::faults`).
    faults: Option<FaultInjector>,
    /// Times the kernel refused a datagram for lack of buffer space (it was kept for a retry).
    send_retries: u64,
}

/// The driver's transport counters ([`State::transport_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransportStats {
    /// Datagrams that could not be sent at all (not retryable, or the outbox was full).
    pub send_errors: u64,
    /// Times a datagram was kept for a later retry (the kernel's send buffer was full).
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
    /// Signalled after a step that produced events (see [`Shared::wait_until`]).
    changed: Condvar,
    /// Wakes the timer thread early.
    timer: Condvar,
    sender: UdpSender,
    closed: AtomicBool,
    /// Whose turn it is to read `app_rx` (see `busy_poll.rs`).
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

    /// Wait for a change (an event) or until `deadline`, at most 100 ms; returns the guard.
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
                outbox: VecDeque::new(),
                sending: false,
                hold: Hold::default(),
                subscribers: Vec::new(),
                timer_deadline: None,
                send_errors: 0,
                received: 0,
                listeners: BTreeMap::new(),
                ready: VecDeque::new(),
                ready_new: false,
                data_arrived: false,
                wake_waiters: false,
                faults: faults.map(FaultInjector::next_in_process),
                send_retries: 0,
            }),
            changed: Condvar::new(),
            timer: Condvar::new(),
            sender,
            closed: AtomicBool::new(false),
            turn: Mutex::new(SocketTurn::Blocking),
            turn_changed: Condvar::new(),
            app_rx: Mutex::new(app_rx.clone()),
            app_buf: Mutex::new(RecvBuf::new()),
            busy_poll,
        });
        {
            let mut st = shared.lock();
            shared.flush(&mut st);
            shared.release_and_deliver(st);
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
                .spawn(move || threads::recv_loop(&sh, &rx, busy_poll, turns))?;
            // A multicast receiver cannot be woken by a datagram to itself without waking every
            // other member of the group: it is left to notice the close within RECV_POLL.
            threads.push((handle, unicast));
        }
        let sh = Arc::clone(&shared);
        threads.push((
            std::thread::Builder::new()
                .name("rtps-timer".into())
                .spawn(move || threads::timer_loop(&sh))?,
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
        let last;
        {
            let mut st = self.shared.lock();
            st.participant.shutdown(now());
            self.shared.flush(&mut st);
            // The goodbyes go out now, whoever was sending (nothing is sent after the close).
            last = std::mem::take(&mut st.outbox);
            // Listeners are not called any more; they are dropped below, without the lock.
            listeners = std::mem::take(&mut st.listeners);
            st.ready.clear();
            // Event receivers see the end now, even while endpoint or poller handles keep
            // this state alive.
            st.subscribers.clear();
            self.shared.closed.store(true, Ordering::Release);
        }
        for d in &last {
            for to in &d.destinations {
                let _ = self.shared.sender.send_to(&d.bytes, *to);
            }
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
