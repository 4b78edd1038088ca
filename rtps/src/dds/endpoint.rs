//! Typed and raw writers and readers of the public API.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{RecvError, WaitError, WriteError};
use crate::cdr;
use crate::history::ChangeKind;
use crate::participant::EndpointError;
use crate::reliability::WriteError as CoreWriteError;
use crate::transport::driver::{self, Shared};
use crate::wire::{Endianness, Guid, Time};

/// One received sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample<T> {
    /// The value (for a raw reader: the serialized payload with its encapsulation header).
    pub value: T,
    /// The writer that sent it.
    pub writer: Guid,
    /// Its sequence number from that writer.
    pub sn: i64,
    /// The writer's source timestamp, if it sent one.
    pub source_timestamp: Option<SystemTime>,
    /// Alive, or a disposal/unregistration (raw readers only; typed readers skip those).
    pub kind: ChangeKind,
}

impl Sample<Bytes> {
    fn from_core(s: crate::reliability::Sample) -> Self {
        Sample {
            value: s.payload,
            writer: s.writer_guid,
            sn: s.sn.0,
            source_timestamp: s.source_timestamp.and_then(to_system_time),
            kind: s.kind,
        }
    }
}

/// What every endpoint handle holds.
#[derive(Debug, Clone)]
pub(crate) struct EndpointCore {
    shared: Arc<Shared>,
    guid: Guid,
    max_blocking_time: Duration,
}

fn to_system_time(t: Time) -> Option<SystemTime> {
    if t == Time::INVALID || t.seconds < 0 {
        return None;
    }
    let nanos = (u64::from(t.fraction) * 1_000_000_000) >> 32;
    UNIX_EPOCH.checked_add(Duration::new(t.seconds as u64, nanos as u32))
}

fn timestamp() -> Option<Time> {
    driver::unix_time().map(Time::from_unix)
}

impl EndpointCore {
    pub(crate) fn new(shared: Arc<Shared>, guid: Guid, max_blocking_time: Duration) -> Self {
        EndpointCore {
            shared,
            guid,
            max_blocking_time,
        }
    }

    fn write(
        &self,
        kind: ChangeKind,
        key_hash: Option<[u8; 16]>,
        payload: Bytes,
        max_blocking_time: Duration,
    ) -> Result<(), WriteError> {
        let deadline = driver::now() + max_blocking_time;
        let ts = timestamp();
        let mut st = self.shared.lock();
        loop {
            if self.shared.is_closed() {
                return Err(WriteError::Closed);
            }
            let now = driver::now();
            let r = st.participant.write_change(
                now,
                self.guid.entity_id,
                kind,
                key_hash,
                payload.clone(),
                ts,
            );
            match r {
                Ok(_) => {
                    // A writer no reader matches has nothing to send: no flush, and no burst
                    // for the writes that follow (a node's status nobody reads, say).
                    if st.participant.has_matched_readers(self.guid.entity_id) {
                        self.shared.flush_write(&mut st);
                    }
                    self.shared.release(st);
                    return Ok(());
                }
                Err(EndpointError::Write(CoreWriteError::HistoryFull)) => {
                    if now >= deadline {
                        return Err(WriteError::Timeout);
                    }
                    st = self.shared.wait_until(st, deadline);
                }
                Err(EndpointError::UnknownEndpoint) => return Err(WriteError::Closed),
                Err(EndpointError::Write(e)) => return Err(WriteError::Rejected(e)),
            }
        }
    }

    fn wait_for_acknowledgments(&self, timeout: Duration) -> Result<(), WaitError> {
        let deadline = driver::now() + timeout;
        let mut st = self.shared.lock();
        // Send anything held back for batching before waiting for its acknowledgment.
        self.shared.flush(&mut st);
        st = self.shared.release_relock(st);
        let Some(last) = st.participant.last_sequence_number(self.guid.entity_id) else {
            return Err(WaitError::Closed);
        };
        loop {
            if st.participant.is_acked_by_all(self.guid.entity_id, last) {
                return Ok(());
            }
            if self.shared.is_closed() {
                return Err(WaitError::Closed);
            }
            if driver::now() >= deadline {
                return Err(WaitError::Timeout);
            }
            st = self.shared.wait_until(st, deadline);
        }
    }

    fn matched(&self, writer: bool) -> usize {
        let st = self.shared.lock();
        if writer {
            st.participant.matched_readers(self.guid.entity_id).len()
        } else {
            st.participant.matched_writers(self.guid.entity_id).len()
        }
    }

    fn wait_for_matched(&self, writer: bool, n: usize, timeout: Duration) -> Result<(), WaitError> {
        let deadline = driver::now() + timeout;
        let mut st = self.shared.lock();
        loop {
            let m = if writer {
                st.participant.matched_readers(self.guid.entity_id).len()
            } else {
                st.participant.matched_writers(self.guid.entity_id).len()
            };
            if m >= n {
                return Ok(());
            }
            if self.shared.is_closed() {
                return Err(WaitError::Closed);
            }
            if driver::now() >= deadline {
                return Err(WaitError::Timeout);
            }
            st = self.shared.wait_until(st, deadline);
        }
    }

    fn take_raw(&self) -> Option<Sample<Bytes>> {
        let mut st = self.shared.lock();
        st.participant
            .take(self.guid.entity_id)
            .map(Sample::from_core)
    }

    /// The next sample, waiting up to `timeout`; with `poll`, the calling thread reads the
    /// socket itself for a while first (see [`RawReader::recv_polling_timeout`]).
    fn recv_raw(&self, timeout: Option<Duration>, poll: bool) -> Result<Sample<Bytes>, RecvError> {
        let deadline = timeout.map(|t| driver::now() + t);
        let reader = self.guid.entity_id;
        let mut may_poll = poll;
        let mut st = self.shared.lock();
        loop {
            if let Some(s) = st.participant.take(reader) {
                return Ok(Sample::from_core(s));
            }
            if self.shared.is_closed() {
                return Err(RecvError::Closed);
            }
            let d = match deadline {
                Some(d) if driver::now() >= d => return Err(RecvError::Timeout),
                Some(d) => d,
                None => driver::now() + Duration::from_secs(1),
            };
            if may_poll {
                // Read the socket on this thread for a while first: the sample then costs no
                // hand-over from the receive thread. Listeners are left to the driver's threads
                // (this caller may hold a lock one takes).
                drop(st);
                let mut got = None;
                let polled = self.shared.poll_receive(d, false, &mut || {
                    got = self.shared.lock().participant.take(reader);
                    got.is_some()
                });
                if let Some(s) = got {
                    return Ok(Sample::from_core(s));
                }
                may_poll = polled.is_none();
                st = self.shared.lock();
                if may_poll {
                    st = self.shared.wait_until(st, d);
                }
                continue;
            }
            st = self.shared.wait_until(st, d);
        }
    }
}

/// Deletes the endpoint when the last handle goes.
#[derive(Debug)]
struct Owned(EndpointCore, bool);

impl Drop for Owned {
    fn drop(&mut self) {
        if self.0.shared.is_closed() {
            return;
        }
        let mut st = self.0.shared.lock();
        let now = driver::now();
        let id = self.0.guid.entity_id;
        let mut listener = None;
        let _ = if self.1 {
            st.participant.delete_writer(now, id)
        } else {
            listener = Shared::remove_listener(&mut st, id);
            st.participant.delete_reader(now, id)
        };
        self.0.shared.flush(&mut st);
        self.0.shared.release(st);
        // Without the lock: the listener may own endpoints of this participant.
        drop(listener);
    }
}

/// A writer of serialized payloads (each with its 4-byte encapsulation header). Cloning is
/// cheap; the endpoint is deleted when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct RawWriter {
    inner: Arc<Owned>,
}

impl RawWriter {
    pub(crate) fn new(core: EndpointCore) -> Self {
        RawWriter {
            inner: Arc::new(Owned(core, true)),
        }
    }

    fn core(&self) -> &EndpointCore {
        &self.inner.0
    }

    /// Write a payload (copied once into the history).
    pub fn write(&self, payload: &[u8]) -> Result<(), WriteError> {
        self.write_bytes(Bytes::copy_from_slice(payload))
    }

    /// Write a payload without copying. A full KEEP_ALL history blocks up to the QoS's
    /// max_blocking_time, then fails with [`WriteError::Timeout`] (nothing written).
    pub fn write_bytes(&self, payload: Bytes) -> Result<(), WriteError> {
        let t = self.core().max_blocking_time;
        self.core().write(ChangeKind::Alive, None, payload, t)
    }

    /// Write a payload without blocking: a full KEEP_ALL history fails at once with
    /// [`WriteError::Timeout`] and nothing is written. For writers called from a reader's
    /// listener, which must not wait for acknowledgments its own thread would receive.
    pub fn try_write_bytes(&self, payload: Bytes) -> Result<(), WriteError> {
        self.core()
            .write(ChangeKind::Alive, None, payload, Duration::ZERO)
    }

    /// Write a payload of a keyed topic with its instance's key hash.
    pub fn write_keyed(&self, payload: Bytes, key_hash: [u8; 16]) -> Result<(), WriteError> {
        let t = self.core().max_blocking_time;
        self.core()
            .write(ChangeKind::Alive, Some(key_hash), payload, t)
    }

    /// Dispose an instance of a keyed topic.
    pub fn dispose(&self, key_hash: [u8; 16]) -> Result<(), WriteError> {
        let t = self.core().max_blocking_time;
        self.core().write(
            ChangeKind::NotAliveDisposed,
            Some(key_hash),
            Bytes::new(),
            t,
        )
    }

    /// Wait until every sample written so far is acknowledged by every reliable reader.
    pub fn wait_for_acknowledgments(&self, timeout: Duration) -> Result<(), WaitError> {
        self.core().wait_for_acknowledgments(timeout)
    }

    /// Readers currently matched.
    pub fn matched_readers(&self) -> usize {
        self.core().matched(true)
    }

    /// Wait until at least `n` readers are matched.
    pub fn wait_for_matched(&self, n: usize, timeout: Duration) -> Result<(), WaitError> {
        self.core().wait_for_matched(true, n, timeout)
    }

    /// This writer's GUID.
    pub fn guid(&self) -> Guid {
        self.core().guid
    }
}

/// A typed writer: values are serialized as CDR (little-endian, `CDR_LE`).
#[derive(Debug)]
pub struct Writer<T> {
    raw: RawWriter,
    _t: PhantomData<fn(&T)>,
}

impl<T> Clone for Writer<T> {
    fn clone(&self) -> Self {
        Writer {
            raw: self.raw.clone(),
            _t: PhantomData,
        }
    }
}

impl<T: Serialize> Writer<T> {
    pub(crate) fn new(core: EndpointCore) -> Self {
        Writer {
            raw: RawWriter::new(core),
            _t: PhantomData,
        }
    }

    fn encode(value: &T) -> Result<Bytes, WriteError> {
        cdr::to_payload(value, Endianness::Little)
            .map(Bytes::from)
            .map_err(WriteError::Serialize)
    }

    /// Write a value; a full KEEP_ALL history blocks up to max_blocking_time.
    pub fn write(&self, value: &T) -> Result<(), WriteError> {
        self.raw.write_bytes(Self::encode(value)?)
    }

    /// Write a value of a keyed topic with its instance's key hash.
    pub fn write_keyed(&self, value: &T, key_hash: [u8; 16]) -> Result<(), WriteError> {
        self.raw.write_keyed(Self::encode(value)?, key_hash)
    }

    /// Wait until every sample written so far is acknowledged by every reliable reader.
    pub fn wait_for_acknowledgments(&self, timeout: Duration) -> Result<(), WaitError> {
        self.raw.wait_for_acknowledgments(timeout)
    }

    /// Readers currently matched.
    pub fn matched_readers(&self) -> usize {
        self.raw.matched_readers()
    }

    /// Wait until at least `n` readers are matched.
    pub fn wait_for_matched(&self, n: usize, timeout: Duration) -> Result<(), WaitError> {
        self.raw.wait_for_matched(n, timeout)
    }

    /// This writer's GUID.
    pub fn guid(&self) -> Guid {
        self.raw.guid()
    }

    /// The raw writer underneath.
    pub fn raw(&self) -> &RawWriter {
        &self.raw
    }
}

/// A reader of serialized payloads (each with its encapsulation header).
#[derive(Debug, Clone)]
pub struct RawReader {
    inner: Arc<Owned>,
}

impl RawReader {
    pub(crate) fn new(core: EndpointCore) -> Self {
        RawReader {
            inner: Arc::new(Owned(core, false)),
        }
    }

    fn core(&self) -> &EndpointCore {
        &self.inner.0
    }

    /// The next sample, if one is ready.
    #[must_use]
    pub fn take(&self) -> Option<Sample<Bytes>> {
        self.core().take_raw()
    }

    /// Wait up to `timeout` for the next sample.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Sample<Bytes>, RecvError> {
        self.core().recv_raw(Some(timeout), false)
    }

    /// As [`RawReader::recv_timeout`], for an answer to something just written: while it
    /// waits, this thread reads the participant's socket itself (for up to
    /// [`ParticipantOptions::busy_poll`](super::ParticipantOptions::busy_poll) without a
    /// sample), so the answer reaches it without a hand-over from the receive thread. For a
    /// stream, prefer `recv_timeout`: the receive thread then reads ahead while this thread
    /// works on each sample. Listeners of other readers are left to the driver's threads.
    pub fn recv_polling_timeout(&self, timeout: Duration) -> Result<Sample<Bytes>, RecvError> {
        self.core().recv_raw(Some(timeout), true)
    }

    /// Wait for the next sample until the participant closes.
    pub fn recv(&self) -> Result<Sample<Bytes>, RecvError> {
        self.core().recv_raw(None, false)
    }

    /// Blocking iterator over samples; ends when the participant is dropped.
    pub fn iter(&self) -> impl Iterator<Item = Sample<Bytes>> + '_ {
        std::iter::from_fn(move || self.recv().ok())
    }

    /// Hand every sample of this reader, from now on and any already waiting, to `f` instead
    /// of `take`/`recv` (which then see nothing). `f` runs on the participant's receive
    /// thread (or whichever thread made the sample available), one sample at a time and in
    /// order, with no thread hand-off in between: the lowest-latency way to read. Keep it
    /// quick and never block in it on something that thread must receive (use
    /// [`RawWriter::try_write_bytes`] to write from it). Samples arriving after the
    /// participant began shutting down are not delivered.
    pub fn set_listener(&self, f: impl Fn(Sample<Bytes>) + Send + Sync + 'static) {
        let core = self.core();
        core.shared.set_listener(
            core.guid.entity_id,
            Arc::new(move |s| f(Sample::from_core(s))),
        );
    }

    /// Writers currently matched.
    pub fn matched_writers(&self) -> usize {
        self.core().matched(false)
    }

    /// Wait until at least `n` writers are matched.
    pub fn wait_for_matched(&self, n: usize, timeout: Duration) -> Result<(), WaitError> {
        self.core().wait_for_matched(false, n, timeout)
    }

    /// This reader's GUID.
    pub fn guid(&self) -> Guid {
        self.core().guid
    }
}

/// A typed reader: CDR payloads of either byte order are deserialized into `T`.
/// Disposals and unregistrations are skipped (use a [`RawReader`] to see them).
#[derive(Debug)]
pub struct Reader<T> {
    raw: RawReader,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Reader<T> {
    fn clone(&self) -> Self {
        Reader {
            raw: self.raw.clone(),
            _t: PhantomData,
        }
    }
}

impl<T: DeserializeOwned> Reader<T> {
    pub(crate) fn new(core: EndpointCore) -> Self {
        Reader {
            raw: RawReader::new(core),
            _t: PhantomData,
        }
    }

    fn decode(s: Sample<Bytes>) -> Result<Sample<T>, RecvError> {
        let value = cdr::from_payload::<T>(&s.value).map_err(RecvError::Deserialize)?;
        Ok(Sample {
            value,
            writer: s.writer,
            sn: s.sn,
            source_timestamp: s.source_timestamp,
            kind: s.kind,
        })
    }

    /// The next alive sample, if one is ready (`Some(Err)` for a payload that does not decode).
    #[must_use]
    pub fn take(&self) -> Option<Result<Sample<T>, RecvError>> {
        loop {
            let s = self.raw.take()?;
            if s.kind == ChangeKind::Alive {
                return Some(Self::decode(s));
            }
        }
    }

    /// Wait up to `timeout` for the next alive sample.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Sample<T>, RecvError> {
        let deadline = driver::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(driver::now());
            let s = self.raw.recv_timeout(left)?;
            if s.kind == ChangeKind::Alive {
                return Self::decode(s);
            }
        }
    }

    /// Blocking iterator over alive samples; ends when the participant is dropped.
    pub fn iter(&self) -> impl Iterator<Item = Result<Sample<T>, RecvError>> + '_ {
        std::iter::from_fn(move || loop {
            match self.raw.recv() {
                Ok(s) if s.kind == ChangeKind::Alive => return Some(Self::decode(s)),
                Ok(_) => continue,
                Err(_) => return None,
            }
        })
    }

    /// Writers currently matched.
    pub fn matched_writers(&self) -> usize {
        self.raw.matched_writers()
    }

    /// Wait until at least `n` writers are matched.
    pub fn wait_for_matched(&self, n: usize, timeout: Duration) -> Result<(), WaitError> {
        self.raw.wait_for_matched(n, timeout)
    }

    /// This reader's GUID.
    pub fn guid(&self) -> Guid {
        self.raw.guid()
    }

    /// The raw reader underneath.
    pub fn raw(&self) -> &RawReader {
        &self.raw
    }
}
