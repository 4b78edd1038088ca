//! The MultiService sample types and their XCDR1 layouts (AML-IP spec §3.5-§3.8).
//!
//! ```text
//! ms_request      = id client, u32 task
//! ms_reference    = id client, u32 task, id server
//! ms_data_GENERIC = id client, u32 task, id server, u32 size, bool owned, octet[size]
//!                   [, pad to 4, octet[8] "AMLFAIL1"]   (amlip-rs extension, see below)
//! ```
//! Every `u32` is aligned to 4 relative to the body start; ids are a CDR string + 4 raw octets.
//!
//! # The failed-solution extension (amlip-rs)
//! AML-IP has no message for a job that failed (spec §4.10). A computing node of ours whose
//! engine fails a job still answers it, with a solution sample whose data is the reason (text)
//! followed, after zero padding to a multiple of 4, by the 8 octets [`FAILED_TRAILER`]. The
//! trailer is a member after the last one AML-IP knows: Fast CDR stops at the first unknown
//! member and ignores the rest (spec §3.1 receive tolerance), so a C++ or Python main node sees
//! an ordinary solution whose bytes are the reason, while our main nodes see a failure and offer
//! the job to another computing node ([`super::client`]). It cannot be confused with real data:
//! the data's length is explicit (the trailer is never inside it), and a conforming sender puts
//! at most 3 padding bytes after the data, never 8 (§3.1). Anything else after the data is
//! ignored, as before.

use rtps::wire::{EmitError, Endianness, Reader, Writer};

use super::codec::{
    align4, body_reader, read_bool, DecodeError, Payload, CDR_LE, ENCAPSULATION_LEN,
};
use super::id::{AmlipId, TaskId};

fn emit_task(w: &mut Writer<'_>, task: TaskId) -> Result<(), EmitError> {
    w.align(4, "task id")?;
    w.u32(task.0, "task id")
}

fn parse_task(r: &mut Reader<'_>) -> Result<TaskId, DecodeError> {
    r.align(4, "task id")?;
    Ok(TaskId(r.u32("task id")?))
}

fn task_end(pos: usize) -> usize {
    align4(pos).saturating_add(4)
}

/// `amlip::ms_request`: a client asks which servers are available for one task (spec §3.5).
///
/// The (client, task) pair is also the key that names a task everywhere in the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsRequest {
    /// The requesting client (MainNode).
    pub client_id: AmlipId,
    /// The client's task id.
    pub task_id: TaskId,
}

impl Payload for MsRequest {
    const TYPE_NAME: &'static str = "amlip::ms_request";

    fn body_end(&self, pos: usize) -> usize {
        task_end(self.client_id.cdr_end(pos))
    }

    fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.client_id.emit(w)?;
        emit_task(w, self.task_id)
    }

    fn parse_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(MsRequest {
            client_id: AmlipId::parse(r)?,
            task_id: parse_task(r)?,
        })
    }
}

/// `amlip::ms_reference`: a server's "available" reply, or the client's choice (target)
/// (spec §3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsReference {
    /// The client that owns the task.
    pub client_id: AmlipId,
    /// The client's task id.
    pub task_id: TaskId,
    /// The server that replied (in a reply) or was chosen (in a target; undefined = cancelled).
    pub server_id: AmlipId,
}

impl MsReference {
    /// The (client, task) pair this reference is about (`request()`, spec §3.6).
    pub fn request(&self) -> MsRequest {
        MsRequest {
            client_id: self.client_id,
            task_id: self.task_id,
        }
    }

    /// The reference `request` + `server`.
    pub fn new(request: MsRequest, server_id: AmlipId) -> Self {
        MsReference {
            client_id: request.client_id,
            task_id: request.task_id,
            server_id,
        }
    }
}

impl Payload for MsReference {
    const TYPE_NAME: &'static str = "amlip::ms_reference";

    fn body_end(&self, pos: usize) -> usize {
        self.server_id
            .cdr_end(task_end(self.client_id.cdr_end(pos)))
    }

    fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.client_id.emit(w)?;
        emit_task(w, self.task_id)?;
        self.server_id.emit(w)
    }

    fn parse_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(MsReference {
            client_id: AmlipId::parse(r)?,
            task_id: parse_task(r)?,
            server_id: AmlipId::parse(r)?,
        })
    }
}

/// `GENERIC`: opaque job or solution bytes (`GenericDataType`, spec §3.7).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GenericData {
    /// `has_been_allocated`: a C++ ownership flag leaked onto the wire; AML-IP sends 1 for data
    /// built from a string or vector, 0 for borrowed buffers and for the empty default.
    pub owned_flag: bool,
    /// The job or solution bytes.
    pub bytes: Vec<u8>,
}

impl GenericData {
    /// Data as AML-IP's string/vector constructors build it: flag 1, or 0 when empty (spec §3.7).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        let bytes = bytes.into();
        GenericData {
            owned_flag: !bytes.is_empty(),
            bytes,
        }
    }

    /// Body position after this block when it starts at `pos`.
    pub fn cdr_end(&self, pos: usize) -> usize {
        align4(pos)
            .saturating_add(5)
            .saturating_add(self.bytes.len())
    }

    /// Emit `u32 size, bool owned, raw bytes` (spec §3.7).
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.emit_head(w)?;
        w.put(&self.bytes, "generic data bytes")
    }

    /// Emit `u32 size, bool owned`: everything but the bytes.
    fn emit_head(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        let size = u32::try_from(self.bytes.len())
            .map_err(|_| EmitError::Unrepresentable("generic data size"))?;
        w.align(4, "generic data size")?;
        w.u32(size, "generic data size")?;
        w.u8(u8::from(self.owned_flag), "generic data owned flag")
    }

    /// Parse `u32 size, bool owned, raw bytes`; the size is checked against the remaining input
    /// before anything is allocated.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (owned_flag, size) = Self::parse_head(r)?;
        let bytes = r.take(size, "generic data bytes")?.to_vec();
        Ok(GenericData { owned_flag, bytes })
    }

    /// Parse `u32 size, bool owned`; the bytes follow.
    fn parse_head(r: &mut Reader<'_>) -> Result<(bool, usize), DecodeError> {
        r.align(4, "generic data size")?;
        let size = r.u32("generic data size")?;
        let owned_flag = read_bool(r, "generic data owned flag")?;
        let size = usize::try_from(size).map_err(|_| DecodeError::Truncated("generic data"))?;
        Ok((owned_flag, size))
    }
}

impl From<&str> for GenericData {
    fn from(s: &str) -> Self {
        GenericData::new(s.as_bytes())
    }
}

impl From<Vec<u8>> for GenericData {
    fn from(v: Vec<u8>) -> Self {
        GenericData::new(v)
    }
}

/// The 8 octets after a failed solution's data (see the module doc).
pub const FAILED_TRAILER: [u8; 8] = *b"AMLFAIL1";

/// `amlip::ms_data_GENERIC`: task data (client → chosen server) or its solution (server →
/// client), headed by the target reference (spec §3.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsData {
    /// The client that owns the task.
    pub client_id: AmlipId,
    /// The client's task id.
    pub task_id: TaskId,
    /// The chosen server.
    pub server_id: AmlipId,
    /// The job (task data) or the solution.
    pub data: GenericData,
    /// A solution reporting that the job failed, `data` being the reason (the amlip-rs
    /// extension of the module doc; false in everything AML-IP sends).
    pub failed: bool,
}

impl MsData {
    /// `data` headed by `reference`.
    pub fn new(reference: MsReference, data: GenericData) -> Self {
        MsData {
            client_id: reference.client_id,
            task_id: reference.task_id,
            server_id: reference.server_id,
            data,
            failed: false,
        }
    }

    /// A failed solution: `reason` headed by `reference`, marked failed (see the module doc).
    pub fn failure(reference: MsReference, reason: GenericData) -> Self {
        MsData {
            failed: true,
            ..MsData::new(reference, reason)
        }
    }

    /// The header as a reference.
    pub fn reference(&self) -> MsReference {
        MsReference {
            client_id: self.client_id,
            task_id: self.task_id,
            server_id: self.server_id,
        }
    }

    /// The (client, task) pair.
    pub fn request(&self) -> MsRequest {
        self.reference().request()
    }

    /// [`Payload::to_payload`] without a copy of the data: the header is put in front of the
    /// bytes in their own buffer (it grows by the header, which the allocator does in place for
    /// a large buffer, and the bytes move up once), so a big job or solution is never held
    /// twice while it is serialized.
    pub fn into_payload(self) -> Result<Vec<u8>, EmitError> {
        if self.failed {
            // A failure's reason is small, and its trailer goes after the data.
            return self.to_payload();
        }
        let n = self.data.bytes.len();
        let head_len = self.payload_len().saturating_sub(n);
        let mut head = vec![0u8; head_len];
        let (encapsulation, body) = head
            .split_at_mut_checked(ENCAPSULATION_LEN)
            .ok_or(EmitError::BufferTooSmall("encapsulation header"))?;
        encapsulation.copy_from_slice(&[CDR_LE[0], CDR_LE[1], 0, 0]);
        let mut w = Writer::new(body, Endianness::Little);
        self.reference().emit_body(&mut w)?;
        self.data.emit_head(&mut w)?;
        let mut v = self.data.bytes;
        v.reserve_exact(head_len);
        v.resize(n.saturating_add(head_len), 0);
        v.copy_within(0..n, head_len);
        v[..head_len].copy_from_slice(&head);
        Ok(v)
    }

    /// [`Payload::from_payload`] without a copy of the data: the bytes are moved down to the
    /// start of the payload's own buffer, which becomes [`GenericData::bytes`].
    pub fn from_payload_vec(payload: Vec<u8>) -> Result<Self, DecodeError> {
        let (reference, owned_flag, start, size, failed) = {
            let mut r = body_reader(&payload)?;
            let reference = MsReference::parse_body(&mut r)?;
            let (owned_flag, size) = GenericData::parse_head(&mut r)?;
            if r.remaining() < size {
                return Err(DecodeError::Truncated("generic data bytes"));
            }
            let end = r.position().saturating_add(size);
            let trailer_at = size.saturating_add(align4(end).saturating_sub(end));
            let failed = r
                .rest()
                .get(trailer_at..)
                .and_then(|rest| rest.get(..FAILED_TRAILER.len()))
                .is_some_and(|t| t == FAILED_TRAILER);
            (
                reference,
                owned_flag,
                payload.len().saturating_sub(r.remaining()),
                size,
                failed,
            )
        };
        let mut bytes = payload;
        bytes.truncate(start.saturating_add(size));
        bytes.drain(..start);
        Ok(MsData {
            failed,
            ..MsData::new(reference, GenericData { owned_flag, bytes })
        })
    }
}

impl Payload for MsData {
    const TYPE_NAME: &'static str = "amlip::ms_data_GENERIC";

    fn body_end(&self, pos: usize) -> usize {
        let end = self.data.cdr_end(self.reference().body_end(pos));
        if self.failed {
            align4(end).saturating_add(FAILED_TRAILER.len())
        } else {
            end
        }
    }

    fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.reference().emit_body(w)?;
        self.data.emit(w)?;
        if self.failed {
            w.align(4, "failed trailer")?;
            w.put(&FAILED_TRAILER, "failed trailer")?;
        }
        Ok(())
    }

    fn parse_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let reference = MsReference::parse_body(r)?;
        let data = GenericData::parse(r)?;
        let pad = align4(r.position()).saturating_sub(r.position());
        let failed = r
            .rest()
            .get(pad..)
            .and_then(|rest| rest.get(..FAILED_TRAILER.len()))
            .is_some_and(|t| t == FAILED_TRAILER);
        Ok(MsData {
            failed,
            ..MsData::new(reference, data)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multiservice::strategies::{arb_data, arb_reference, arb_request};
    use proptest::prelude::*;
    use rtps::wire::Endianness;

    #[test]
    fn generic_data_flag_follows_aml_ip_constructors() {
        assert!(GenericData::from("x").owned_flag);
        assert!(!GenericData::new(Vec::new()).owned_flag);
        assert_eq!(GenericData::default().bytes, Vec::<u8>::new());
    }

    #[test]
    fn generic_data_size_larger_than_the_input_fails_before_allocating() {
        let body = [0xff, 0xff, 0xff, 0x7f, 1, b'a'];
        assert_eq!(
            GenericData::parse(&mut Reader::new(&body, Endianness::Little)),
            Err(DecodeError::Truncated("generic data bytes"))
        );
    }

    #[test]
    fn generic_data_owned_flag_must_be_a_bool() {
        let body = [1, 0, 0, 0, 2, b'a'];
        assert_eq!(
            GenericData::parse(&mut Reader::new(&body, Endianness::Little)),
            Err(DecodeError::Invalid("generic data owned flag"))
        );
    }

    fn round_trip<T: Payload + PartialEq + Clone + core::fmt::Debug>(
        v: &T,
    ) -> Result<(), TestCaseError> {
        let le = v.to_payload().unwrap();
        prop_assert_eq!(le.len(), v.payload_len());
        prop_assert_eq!(T::from_payload(&le), Ok(v.clone()));
        let mut be = vec![0u8; v.payload_len()];
        prop_assert_eq!(v.emit_payload(&mut be, Endianness::Big), Ok(be.len()));
        prop_assert_eq!(T::from_payload(&be), Ok(v.clone()));
        let mut padded = le.clone();
        padded.extend_from_slice(&[0xee; 3]);
        prop_assert_eq!(T::from_payload(&padded), Ok(v.clone()));
        for n in 0..le.len() {
            prop_assert!(T::from_payload(&le[..n]).is_err());
        }
        Ok(())
    }

    #[test]
    fn a_failed_solution_carries_the_trailer_after_padding_and_aml_ip_reads_the_reason() {
        let id = AmlipId::new("C", [1, 2, 3, 4]).unwrap();
        let r = MsReference {
            client_id: id,
            task_id: TaskId(7),
            server_id: id,
        };
        let ok = MsData::new(r, GenericData::from("exit 1"));
        let failed = MsData::failure(r, GenericData::from("exit 1"));
        let a = ok.to_payload().unwrap();
        let b = failed.to_payload().unwrap();
        assert_eq!(b.len(), failed.payload_len());
        // The body ends 1 byte short of a multiple of 4: 1 zero byte, then the trailer.
        assert_eq!((a.len() - 4) % 4, 3);
        assert_eq!(&b[..a.len()], &a[..]);
        assert_eq!(&b[a.len()..], b"\0AMLFAIL1");
        assert_eq!(MsData::from_payload(&b), Ok(failed.clone()));
        assert_eq!(MsData::from_payload(&a), Ok(ok.clone()));
        // RTPS padding after either is ignored.
        let mut padded = b.clone();
        padded.extend_from_slice(&[0xee; 3]);
        assert_eq!(MsData::from_payload(&padded), Ok(failed));
        // Up to 3 padding bytes, other trailing bytes, a partial trailer: a plain solution.
        for tail in [&b"\0\0\0"[..], b"\0AMLFAIL", b"\0AMLFAIL2", b"AMLFAIL1"] {
            let mut p = a.clone();
            p.extend_from_slice(tail);
            assert_eq!(MsData::from_payload(&p), Ok(ok.clone()), "{tail:?}");
        }
    }

    proptest! {
        #[test]
        fn requests_round_trip_in_both_byte_orders(v in arb_request()) {
            round_trip(&v)?;
        }

        #[test]
        fn references_round_trip_in_both_byte_orders(v in arb_reference()) {
            round_trip(&v)?;
        }

        #[test]
        fn ms_data_round_trips_in_both_byte_orders(v in arb_data()) {
            round_trip(&v)?;
        }

        #[test]
        fn ms_data_serialized_in_place_matches_the_copying_codec(v in arb_data()) {
            let copied = v.to_payload().unwrap();
            let in_place = v.clone().into_payload().unwrap();
            prop_assert_eq!(&in_place, &copied);
            prop_assert_eq!(MsData::from_payload_vec(in_place).unwrap(), v.clone());
            let mut padded = copied.clone();
            padded.extend_from_slice(&[0, 0, 0]);
            prop_assert_eq!(MsData::from_payload_vec(padded).unwrap(), v);
            for cut in 0..copied.len() {
                prop_assert!(MsData::from_payload_vec(copied[..cut].to_vec()).is_err());
            }
        }

        #[test]
        fn a_failed_ms_data_decoded_in_place_stays_failed(v in arb_data()) {
            let v = MsData::failure(v.reference(), v.data);
            let in_place = v.clone().into_payload().unwrap();
            prop_assert_eq!(&in_place, &v.to_payload().unwrap());
            prop_assert_eq!(MsData::from_payload_vec(in_place).unwrap(), v);
        }
    }
}
