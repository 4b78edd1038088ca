//! The XCDR1 serialized-payload envelope shared by every AML-IP type (AML-IP spec §3.1, §3.2).
//!
//! Every AML-IP payload is a 4-byte encapsulation header followed by a plain-CDR body whose
//! alignment origin is the first byte after the header. We always send `00 01 00 00` (CDR_LE);
//! we accept `00 01` and `00 00` (CDR_BE) with any option bytes, and ignore trailing bytes after
//! the last member (the 0-3 RTPS padding bytes Fast DDS counts in the payload, §3.1 receive
//! tolerance).
//!
//! # No-panic contract
//! Decoding reads untrusted bytes only through [`rtps::wire::Reader`]: it never panics, and the
//! only allocation is a copy of a length-checked slice of the input. Encoding writes through
//! [`rtps::wire::Writer`] into a buffer sized by [`Payload::payload_len`].

use core::fmt;

use rtps::wire::{EmitError, Endianness, ParseError, Reader, Writer};

/// Encapsulation header length in octets (RTPS 2.5 §10.2, `SerializedPayloadHeader`).
pub const ENCAPSULATION_LEN: usize = 4;
/// Encapsulation identifier CDR_BE (RTPS 2.5 §10.5).
pub const CDR_BE: [u8; 2] = [0x00, 0x00];
/// Encapsulation identifier CDR_LE (RTPS 2.5 §10.5): what AML-IP sends on x86/ARM (spec §3.1).
pub const CDR_LE: [u8; 2] = [0x00, 0x01];

/// Why an AML-IP payload could not be decoded (AML-IP spec §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The encapsulation identifier is not CDR_LE or CDR_BE (PL_CDR, XCDR2, ...).
    UnsupportedEncapsulation([u8; 2]),
    /// The payload ended before the named member was complete.
    Truncated(&'static str),
    /// The named member has a value the type does not allow (bool not 0/1, string without NUL,
    /// non-ASCII id name, ...).
    Invalid(&'static str),
    /// The named member is longer than its bound (an id name over 28 bytes).
    TooLarge(&'static str),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnsupportedEncapsulation([a, b]) => {
                write!(
                    f,
                    "unsupported encapsulation {a:02x} {b:02x} (want CDR_LE or CDR_BE)"
                )
            }
            DecodeError::Truncated(what) => write!(f, "truncated {what}"),
            DecodeError::Invalid(what) => write!(f, "invalid {what}"),
            DecodeError::TooLarge(what) => write!(f, "{what} is over its size limit"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<ParseError> for DecodeError {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::Truncated(w) => DecodeError::Truncated(w),
            ParseError::TooLarge(w) => DecodeError::TooLarge(w),
            ParseError::Invalid(w) | ParseError::Unsupported(w) | ParseError::TrailingData(w) => {
                DecodeError::Invalid(w)
            }
            // A kind of parse error this version does not know (ParseError is non_exhaustive).
            _ => DecodeError::Invalid("payload"),
        }
    }
}

/// An AML-IP top-level sample type: one DDS type name, one XCDR1 body layout (AML-IP spec §3).
pub trait Payload: Sized {
    /// The DDS type name, `amlip::` prefix included (AML-IP spec §2.3).
    const TYPE_NAME: &'static str;

    /// Body position after emitting `self` starting at body position `pos` (alignment included).
    fn body_end(&self, pos: usize) -> usize;

    /// Emit the body (alignment relative to the start of `w`'s buffer, i.e. the body start).
    fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError>;

    /// Parse the body (alignment relative to the start of `r`'s slice, i.e. the body start);
    /// bytes after the last member are left unread.
    fn parse_body(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Exact length of the serialized payload, encapsulation included, without RTPS padding.
    fn payload_len(&self) -> usize {
        ENCAPSULATION_LEN.saturating_add(self.body_end(0))
    }

    /// Emit encapsulation header and body into `buf` in `endian` order; returns the length used.
    /// Nothing past that length is touched.
    fn emit_payload(&self, buf: &mut [u8], endian: Endianness) -> Result<usize, EmitError> {
        let (header, body) = split_header(buf)?;
        let id = match endian {
            Endianness::Big => CDR_BE,
            Endianness::Little => CDR_LE,
        };
        header.copy_from_slice(&[id[0], id[1], 0, 0]);
        let mut w = Writer::new(body, endian);
        self.emit_body(&mut w)?;
        Ok(ENCAPSULATION_LEN.saturating_add(w.position()))
    }

    /// The serialized payload AML-IP sends: `00 01 00 00` then the little-endian body. Fails only
    /// for a job or solution over 4 GiB (its size does not fit the `uint32` on the wire).
    fn to_payload(&self) -> Result<Vec<u8>, EmitError> {
        let mut buf = vec![0u8; self.payload_len()];
        let n = self.emit_payload(&mut buf, Endianness::Little)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Decode a serialized payload (CDR_LE or CDR_BE; trailing bytes ignored, AML-IP spec §3.1).
    fn from_payload(payload: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(payload)?;
        Self::parse_body(&mut r)
    }
}

fn split_header(buf: &mut [u8]) -> Result<(&mut [u8], &mut [u8]), EmitError> {
    if buf.len() < ENCAPSULATION_LEN {
        return Err(EmitError::BufferTooSmall("encapsulation header"));
    }
    Ok(buf.split_at_mut(ENCAPSULATION_LEN))
}

/// A reader over the body of `payload`, in the byte order its encapsulation header names.
pub fn body_reader(payload: &[u8]) -> Result<Reader<'_>, DecodeError> {
    let mut r = Reader::new(payload, Endianness::Little);
    let [a, b, _opt0, _opt1] = r.take_array::<4>("encapsulation header")?;
    let endian = match [a, b] {
        CDR_LE => Endianness::Little,
        CDR_BE => Endianness::Big,
        other => return Err(DecodeError::UnsupportedEncapsulation(other)),
    };
    Ok(Reader::new(r.rest(), endian))
}

/// Round `pos` up to a multiple of 4 (saturating).
pub(crate) fn align4(pos: usize) -> usize {
    pos.saturating_add(3) & !3
}

/// Read a CDR `bool`: one octet, 0 or 1 (anything else makes Fast CDR throw, spec §3.2).
pub(crate) fn read_bool(r: &mut Reader<'_>, what: &'static str) -> Result<bool, DecodeError> {
    match r.u8(what)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::Invalid(what)),
    }
}

/// Read a CDR string of at most `max` characters; returns its bytes without the NUL.
///
/// Length 0 is accepted as the empty string, like Fast CDR (spec §3.2); otherwise the last byte
/// must be the NUL and no other byte may be.
pub(crate) fn read_string<'a>(
    r: &mut Reader<'a>,
    max: usize,
    what: &'static str,
) -> Result<&'a [u8], DecodeError> {
    r.align(4, what)?;
    let len = r.u32(what)?;
    let len = usize::try_from(len).map_err(|_| DecodeError::TooLarge(what))?;
    if len == 0 {
        return Ok(&[]);
    }
    if len - 1 > max {
        return Err(DecodeError::TooLarge(what));
    }
    let bytes = r.take(len, what)?;
    match bytes.split_last() {
        Some((0, chars)) if !chars.contains(&0) => Ok(chars),
        _ => Err(DecodeError::Invalid(what)),
    }
}

/// Emit a CDR string (aligned `uint32` length counting the NUL, the bytes, the NUL).
pub(crate) fn emit_string(
    w: &mut Writer<'_>,
    s: &[u8],
    what: &'static str,
) -> Result<(), EmitError> {
    let len = s
        .len()
        .checked_add(1)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or(EmitError::Unrepresentable(what))?;
    w.align(4, what)?;
    w.u32(len, what)?;
    w.put(s, what)?;
    w.u8(0, what)
}

/// Body end after a CDR string of `n` characters starting at `pos`.
pub(crate) fn string_end(pos: usize, n: usize) -> usize {
    align4(pos)
        .saturating_add(4)
        .saturating_add(n)
        .saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_reader_accepts_both_cdr_byte_orders_and_ignores_options() {
        let le = [0, 1, 0xff, 0xee, 1, 0, 0, 0];
        assert_eq!(body_reader(&le).unwrap().u32("x"), Ok(1));
        let be = [0, 0, 0, 0, 0, 0, 0, 1];
        assert_eq!(body_reader(&be).unwrap().u32("x"), Ok(1));
    }

    #[test]
    fn body_reader_rejects_parameter_lists_and_xcdr2() {
        for id in [[0, 2], [0, 3], [0, 6], [0, 7], [0, 0x0b], [1, 1]] {
            let p = [id[0], id[1], 0, 0, 0, 0, 0, 0];
            assert_eq!(
                body_reader(&p).err(),
                Some(DecodeError::UnsupportedEncapsulation(id))
            );
        }
        assert!(matches!(
            body_reader(&[0, 1, 0]),
            Err(DecodeError::Truncated(_))
        ));
    }

    #[test]
    fn strings_need_their_nul_and_respect_the_bound() {
        let ok = [3, 0, 0, 0, b'a', b'b', 0];
        assert_eq!(
            read_string(&mut Reader::new(&ok, Endianness::Little), 28, "s"),
            Ok(&b"ab"[..])
        );
        let empty = [0, 0, 0, 0];
        assert_eq!(
            read_string(&mut Reader::new(&empty, Endianness::Little), 28, "s"),
            Ok(&b""[..])
        );
        let no_nul = [2, 0, 0, 0, b'a', b'b'];
        assert_eq!(
            read_string(&mut Reader::new(&no_nul, Endianness::Little), 28, "s"),
            Err(DecodeError::Invalid("s"))
        );
        let inner_nul = [3, 0, 0, 0, 0, b'b', 0];
        assert_eq!(
            read_string(&mut Reader::new(&inner_nul, Endianness::Little), 28, "s"),
            Err(DecodeError::Invalid("s"))
        );
        let long = [4, 0, 0, 0, b'a', b'b', b'c', 0];
        assert_eq!(
            read_string(&mut Reader::new(&long, Endianness::Little), 2, "s"),
            Err(DecodeError::TooLarge("s"))
        );
        let huge = [0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            read_string(
                &mut Reader::new(&huge, Endianness::Little),
                usize::MAX - 1,
                "s"
            ),
            Err(DecodeError::Truncated("s"))
        );
    }

    #[test]
    fn bools_other_than_zero_and_one_are_rejected() {
        assert_eq!(
            read_bool(&mut Reader::new(&[1], Endianness::Little), "b"),
            Ok(true)
        );
        assert_eq!(
            read_bool(&mut Reader::new(&[2], Endianness::Little), "b"),
            Err(DecodeError::Invalid("b"))
        );
    }
}
