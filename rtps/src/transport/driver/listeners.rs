//! Listeners: a reader's samples handed to a callback by the driver thread whose input made
//! them available, after the unlock (a refinement of the driver's model, see its module doc).
//!
//! No thread hand-off between the socket and the application. One thread at a time delivers a
//! given reader's samples, in order: a reader another thread is delivering is left to that
//! thread, which takes until the reader is empty before it lets go. A listener's writes are
//! held (`hold.rs`) until its thread is done delivering, so that the answer one sample causes
//! leaves in one datagram.

use std::sync::Arc;

use super::{Shared, State};
use crate::reliability::Sample;
use crate::wire::EntityId;

/// Called with every sample of a reader that has one (see the module doc). It runs on a driver
/// thread without the state lock: it may write, but should be quick, since the receive thread
/// that runs it receives nothing else meanwhile.
pub type Listener = Arc<dyn Fn(Sample) + Send + Sync>;

/// Most samples taken under one lock before they are handed to a listener.
const DELIVERY_BATCH: usize = 64;

/// A reader's listener and whether a thread is delivering its samples right now.
pub(super) struct ListenerSlot {
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

impl Shared {
    /// Hand the samples of ready readers to their listeners, then send what they wrote. A
    /// listener (which may own endpoints, whose drop takes the lock) is only ever dropped here
    /// without the lock.
    pub(super) fn deliver(&self) {
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
                    // Done: send what the listeners wrote (held by `hold.rs`), which may make
                    // local readers ready in turn.
                    if st.hold.held() > 0 {
                        self.flush(&mut st);
                        if std::mem::take(&mut st.ready_new) {
                            continue;
                        }
                    }
                    self.send_and_wake(st);
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
        let me = std::thread::current().id();
        let mut inside = false;
        loop {
            let batch = {
                let mut st = self.lock();
                if std::mem::take(&mut inside) {
                    st.hold.leave_listeners(me);
                }
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
                st.hold.enter_listeners(me);
                inside = true;
                batch
            };
            for s in batch {
                f(s);
            }
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
}
