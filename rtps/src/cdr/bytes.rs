//! `sequence<octet>` fast path: `#[serde(with = "rtps::cdr::bytes")]` on a `Vec<u8>` field.
//!
//! Serde serializes a `Vec<u8>` element by element through `serialize_seq`; with this helper it
//! goes through `serialize_bytes` / `deserialize_byte_buf` instead, which our CDR serializer and
//! deserializer turn into one `u32` count and one copy. The bytes on the wire are the same
//! either way (DDS-XTypes 1.3 §7.4.1: `u32` count, then the octets, no alignment), so the
//! helper can be added or removed without changing the wire. A borrowed `&'de [u8]` field
//! already deserializes zero-copy through serde's own impl.

use core::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::Serializer;

/// Serialize any byte container as a CDR `sequence<octet>` in one copy.
pub fn serialize<T, S>(value: &T, s: S) -> Result<S::Ok, S::Error>
where
    T: AsRef<[u8]> + ?Sized,
    S: Serializer,
{
    s.serialize_bytes(value.as_ref())
}

/// Deserialize a CDR `sequence<octet>` into a `Vec<u8>` in one copy.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    d.deserialize_byte_buf(ByteBufVisitor)
}

struct ByteBufVisitor;

impl<'de> Visitor<'de> for ByteBufVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence of octets")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        // Other formats: serde's cautious pre-allocation bound (at most 4096 elements up front).
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(out)
    }
}
