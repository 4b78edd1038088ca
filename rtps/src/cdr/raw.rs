//! Octets with no length prefix, whose count is known from elsewhere: the IDL `octet[N]` array
//! when `N` is only known at run time (e.g. AML-IP `GenericDataType`, whose `data_size` member
//! precedes a flag and then `data_size` raw octets; amlip-protocol.md §3.7).
//!
//! Serde has no such primitive, so this is a CDR-specific extension carried by a reserved
//! newtype/tuple-struct name. With our serializer [`RawOctets`] writes its bytes verbatim
//! (alignment 1, no count); with our deserializer [`RawOctetsSeed`] borrows exactly `len` bytes
//! from the input (zero copy, bounds-checked, no allocation). Other serde formats see an ordinary
//! newtype around a byte string, and a tuple of `len` octets.

use core::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};

/// The reserved struct name that marks raw octets (never a legal IDL or Rust identifier).
pub(crate) const RAW_OCTETS_TOKEN: &str = "$rtps::cdr::RawOctets";

/// Octets serialized verbatim: no `u32` count, no alignment (an IDL array of octets, CORBA 3.4 Part 2 §9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawOctets<'a>(pub &'a [u8]);

struct ByteStr<'a>(&'a [u8]);

impl Serialize for ByteStr<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl Serialize for RawOctets<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(RAW_OCTETS_TOKEN, &ByteStr(self.0))
    }
}

/// Deserializes exactly `len` raw octets, borrowed from the input (counterpart of
/// [`RawOctets`]). `len` is usually a value just read from the same input; it is checked against
/// the bytes left before anything is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawOctetsSeed {
    /// Number of octets to take.
    pub len: usize,
}

impl<'de> DeserializeSeed<'de> for RawOctetsSeed {
    type Value = &'de [u8];

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<&'de [u8], D::Error> {
        d.deserialize_tuple_struct(RAW_OCTETS_TOKEN, self.len, RawVisitor(self.len))
    }
}

struct RawVisitor(usize);

impl<'de> Visitor<'de> for RawVisitor {
    type Value = &'de [u8];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} raw octets borrowed from the input", self.0)
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<&'de [u8], E> {
        if v.len() == self.0 {
            Ok(v)
        } else {
            Err(E::invalid_length(v.len(), &self))
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<&'de [u8], A::Error> {
        Err(de::Error::custom(
            "raw octets can only be borrowed from a CDR deserializer",
        ))
    }
}
