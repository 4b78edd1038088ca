//! Plain CDR (XCDR1) serde support (DDS-XTypes 1.3 §7.4.1 "XCDR1", CORBA 3.4 Part 2 §9.3).
//!
//! [`to_vec`] / [`serialize_into`] write a body; [`to_payload`] / [`serialize_payload_into`]
//! put the 4-octet encapsulation header (`00 01 00 00` CDR_LE, `00 00 00 00` CDR_BE) in front.
//! [`from_bytes`] reads a body, [`from_payload`] reads the header first (CDR_BE / CDR_LE only;
//! PL_CDR and XCDR2 are [`CdrError::Unsupported`]). Alignment is always relative to the first
//! byte of the body. Trailing bytes after the value are allowed (Fast DDS counts up to 3 octets
//! of RTPS padding in the payload, and AML-IP relies on it: amlip-protocol.md §3.1).
//!
//! # Mapping (serde data model -> XCDR1)
//! | serde | CDR |
//! |---|---|
//! | `bool` | 1 octet, only 0/1 accepted |
//! | `i8`/`u8` | 1 octet |
//! | `i16`/`u16` | 2 octets, aligned to 2 |
//! | `i32`/`u32`/`f32` | 4 octets, aligned to 4 |
//! | `i64`/`u64`/`f64` | 8 octets, aligned to 8 (XCDR1; XCDR2 would use 4) |
//! | `i128`/`u128` | unsupported |
//! | `char` | 1 octet, ASCII only |
//! | `str`/`String` | `u32` length including the NUL, the UTF-8 bytes, NUL; embedded NULs refused; length 0 read as `""` (as Fast CDR does) |
//! | bytes (`serialize_bytes`, [`bytes`] helper, `&[u8]`) | `sequence<octet>`: `u32` count, the octets |
//! | seq (`Vec<T>`, `&[T]`, sets) | `sequence<T>`: `u32` count, the elements |
//! | map | sequence of (key, value) pairs: `u32` count of pairs |
//! | tuple, `[T; N]` | the elements, no count (IDL array) |
//! | struct, tuple struct | the fields in order, no header |
//! | unit, unit struct | nothing |
//! | newtype struct | transparent |
//! | `Option` | unsupported (plain XCDR1 has no optional member) |
//! | unit variant | `u32` variant index (IDL enum, values 0, 1, ... in declaration order) |
//! | newtype/tuple/struct variant | `u32` variant index, then the content (our union mapping: a union whose discriminant is the variant index) |
//! | [`RawOctets`] | the octets, no count (IDL `octet[N]` with `N` known from another member) |
//!
//! Not supported: `deserialize_any` (untagged/internally tagged enums, `#[serde(flatten)]`),
//! skipped fields. Sequences of zero-sized elements (`Vec<()>`) only decode while there are at
//! least as many bytes left as elements (no IDL type is zero-sized, see [`de`]).

pub mod bytes;
pub mod de;
pub mod encapsulation;
pub mod error;
pub(crate) mod fuzz;
pub mod raw;
pub mod ser;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_interop;
#[cfg(test)]
mod tests_prop;

use serde::{Deserialize, Serialize};

pub use de::{Deserializer, MAX_DEPTH};
pub use encapsulation::{
    plain_cdr_header, split_encapsulation, EncapsulationKind, ENCAPSULATION_HEADER_LEN,
};
pub use error::CdrError;
pub use raw::{RawOctets, RawOctetsSeed};
pub use ser::Serializer;

use crate::wire::cursor::Endianness;

/// Serialize `value` as a plain CDR body (no encapsulation header) in `endian` order.
pub fn to_vec<T: Serialize + ?Sized>(value: &T, endian: Endianness) -> Result<Vec<u8>, CdrError> {
    let mut out = Vec::with_capacity(64);
    serialize_into(&mut out, value, endian)?;
    Ok(out)
}

/// Append `value` as a plain CDR body to `out`; alignment counts from `out.len()` at the call.
/// On error `out` is left as it was.
pub fn serialize_into<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
    endian: Endianness,
) -> Result<(), CdrError> {
    let start = out.len();
    let result = value.serialize(&mut Serializer::new(out, endian));
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Serialize `value` as a serialized payload: encapsulation header (CDR_LE or CDR_BE, options
/// zero) then the plain CDR body (RTPS 2.5 §10, DDS-XTypes 1.3 §7.6.3.1.2). No trailing
/// padding is added; the submessage builder pads.
pub fn to_payload<T: Serialize + ?Sized>(
    value: &T,
    endian: Endianness,
) -> Result<Vec<u8>, CdrError> {
    let mut out = Vec::with_capacity(64);
    serialize_payload_into(&mut out, value, endian)?;
    Ok(out)
}

/// Append a serialized payload (header then body) to `out`; alignment counts from the byte
/// after the header. On error `out` is left as it was.
pub fn serialize_payload_into<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
    endian: Endianness,
) -> Result<(), CdrError> {
    let start = out.len();
    out.extend_from_slice(&plain_cdr_header(endian));
    let result = serialize_into(out, value, endian);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Deserialize a `T` from a plain CDR body in `endian` order; bytes after the value are ignored.
pub fn from_bytes<'de, T: Deserialize<'de>>(
    body: &'de [u8],
    endian: Endianness,
) -> Result<T, CdrError> {
    T::deserialize(&mut Deserializer::new(body, endian))
}

/// Deserialize a `T` from a serialized payload: a CDR_BE or CDR_LE encapsulation header (options
/// ignored), then the body; bytes after the value are ignored.
pub fn from_payload<'de, T: Deserialize<'de>>(payload: &'de [u8]) -> Result<T, CdrError> {
    let (kind, _options, body) = split_encapsulation(payload)?;
    from_bytes(body, kind.plain_cdr_endianness()?)
}
