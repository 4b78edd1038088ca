//! The plain CDR (XCDR1) deserializer (DDS-XTypes 1.3 §7.4.1, CORBA 3.4 Part 2 §9.3).
//!
//! # No-panic, bounded-allocation contract
//! All input goes through the checked [`Reader`]; every failure is a [`CdrError`]. A sequence or
//! map count is checked against the bytes left *before* the visitor sees it (every element of
//! an IDL type takes at least one octet), so a hostile count of `0xffff_ffff` fails at once and
//! no pre-allocation is larger than the input. Elements that take no bytes at all (Rust
//! zero-sized types such as `()`) are charged against a budget equal to the body length, so
//! nested hostile counts cannot make decoding loop for longer than the input justifies. Nesting
//! of sequences, structs, tuples, enums and newtypes is capped at [`MAX_DEPTH`], so recursive
//! types (`struct Node { children: Vec<Node> }`) cannot overflow the stack. Strings and octet
//! sequences are borrowed from the input when the target type allows it (`&str`, `&[u8]`).

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::error::CdrError;
use super::raw::RAW_OCTETS_TOKEN;
use crate::wire::cursor::{Endianness, Reader};

/// Deepest nesting of sequences, structs, tuples, enums and newtypes the deserializer accepts.
pub const MAX_DEPTH: usize = 64;

/// A serde deserializer reading plain CDR (XCDR1) from a borrowed body (DDS-XTypes 1.3 §7.4.1).
#[derive(Debug, Clone)]
pub struct Deserializer<'de> {
    r: Reader<'de>,
    depth: usize,
    zero_size_budget: usize,
}

macro_rules! de_int {
    ($name:ident, $visit:ident, $read:ident, $align:expr, $what:expr) => {
        fn $name<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
            self.r.align($align, $what)?;
            visitor.$visit(self.r.$read($what)?)
        }
    };
}

impl<'de> Deserializer<'de> {
    /// A deserializer over `body` (the bytes after the encapsulation header; alignment counts
    /// from its first byte), reading integers in `endian` order.
    pub fn new(body: &'de [u8], endian: Endianness) -> Self {
        Deserializer {
            r: Reader::new(body, endian),
            depth: 0,
            zero_size_budget: body.len(),
        }
    }

    /// Bytes of the body consumed so far (padding included).
    pub fn position(&self) -> usize {
        self.r.position()
    }

    /// Bytes of the body not consumed yet.
    pub fn remaining(&self) -> usize {
        self.r.remaining()
    }

    /// Byte order used for integers.
    pub fn endian(&self) -> Endianness {
        self.r.endian()
    }

    /// Run `f` one nesting level deeper, failing past [`MAX_DEPTH`].
    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, CdrError>,
    ) -> Result<T, CdrError> {
        if self.depth >= MAX_DEPTH {
            return Err(CdrError::TooLarge("nesting depth"));
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }

    /// Read a `u32` length or count (aligned to 4) as a `usize`.
    fn read_u32_len(&mut self, what: &'static str) -> Result<usize, CdrError> {
        self.r.align(4, what)?;
        let n = self.r.u32(what)?;
        usize::try_from(n).map_err(|_| CdrError::TooLarge(what))
    }

    /// Read a sequence or map count, refusing one larger than the bytes left.
    fn read_count(&mut self, what: &'static str) -> Result<usize, CdrError> {
        let n = self.read_u32_len(what)?;
        if n > self.r.remaining() {
            return Err(CdrError::TooLarge(what));
        }
        Ok(n)
    }

    /// Charge one element that consumed no input against the zero-size budget.
    fn charge_zero_size(&mut self) -> Result<(), CdrError> {
        self.zero_size_budget = self
            .zero_size_budget
            .checked_sub(1)
            .ok_or(CdrError::TooLarge("count of zero-sized elements"))?;
        Ok(())
    }

    /// Read a CDR string: `u32` length including the NUL, the bytes, the NUL. A length of 0 is
    /// accepted as the empty string (as Fast CDR does); embedded NULs and non-UTF-8 are refused.
    fn read_str(&mut self) -> Result<&'de str, CdrError> {
        let n = self.read_u32_len("string length")?;
        if n == 0 {
            return Ok("");
        }
        let bytes = self.r.take(n, "string")?;
        let Some((&0, text)) = bytes.split_last() else {
            return Err(CdrError::Invalid("string (no NUL terminator)"));
        };
        if text.contains(&0) {
            return Err(CdrError::Invalid("string (embedded NUL)"));
        }
        core::str::from_utf8(text).map_err(|_| CdrError::Invalid("string (not UTF-8)"))
    }

    /// Read a `sequence<octet>`: `u32` count, then the octets.
    fn read_octets(&mut self) -> Result<&'de [u8], CdrError> {
        let n = self.read_u32_len("octet sequence length")?;
        Ok(self.r.take(n, "octet sequence")?)
    }
}

/// Elements of a sequence (counted on the wire) or of a tuple, struct or variant (counted by
/// the type); also the pairs of a map.
struct Access<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    left: usize,
    /// The count came from the wire: charge elements that consume nothing.
    counted: bool,
    /// Where the current map pair started.
    pair_start: usize,
}

impl<'a, 'de> Access<'a, 'de> {
    fn fixed(de: &'a mut Deserializer<'de>, len: usize) -> Self {
        Access {
            de,
            left: len,
            counted: false,
            pair_start: 0,
        }
    }

    fn counted(de: &'a mut Deserializer<'de>, len: usize) -> Self {
        Access {
            de,
            left: len,
            counted: true,
            pair_start: 0,
        }
    }
}

impl<'de> de::SeqAccess<'de> for Access<'_, 'de> {
    type Error = CdrError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, CdrError> {
        let Some(left) = self.left.checked_sub(1) else {
            return Ok(None);
        };
        self.left = left;
        let before = self.de.position();
        let value = seed.deserialize(&mut *self.de)?;
        if self.counted && self.de.position() == before {
            self.de.charge_zero_size()?;
        }
        Ok(Some(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::MapAccess<'de> for Access<'_, 'de> {
    type Error = CdrError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, CdrError> {
        let Some(left) = self.left.checked_sub(1) else {
            return Ok(None);
        };
        self.left = left;
        self.pair_start = self.de.position();
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, CdrError> {
        let value = seed.deserialize(&mut *self.de)?;
        if self.de.position() == self.pair_start {
            self.de.charge_zero_size()?;
        }
        Ok(value)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// An enum: `u32` discriminant (the variant index), then the variant's content.
struct Enum<'a, 'de> {
    de: &'a mut Deserializer<'de>,
}

impl<'a, 'de> de::EnumAccess<'de> for Enum<'a, 'de> {
    type Error = CdrError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), CdrError> {
        self.de.r.align(4, "enum discriminant")?;
        let index = self.de.r.u32("enum discriminant")?;
        let value = seed.deserialize(IntoDeserializer::<CdrError>::into_deserializer(index))?;
        Ok((value, self))
    }
}

impl<'de> de::VariantAccess<'de> for Enum<'_, 'de> {
    type Error = CdrError;

    fn unit_variant(self) -> Result<(), CdrError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, CdrError> {
        seed.deserialize(&mut *self.de)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, CdrError> {
        visitor.visit_seq(Access::fixed(self.de, len))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, CdrError> {
        visitor.visit_seq(Access::fixed(self.de, fields.len()))
    }
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de> {
    type Error = CdrError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, CdrError> {
        Err(CdrError::Unsupported(
            "deserialize_any (CDR is not self-describing)",
        ))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, CdrError> {
        Err(CdrError::Unsupported(
            "deserialize_ignored_any (CDR is not self-describing)",
        ))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
        match self.r.u8("bool")? {
            0 => visitor.visit_bool(false),
            1 => visitor.visit_bool(true),
            _ => Err(CdrError::Invalid("bool (octet not 0 or 1)")),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
        visitor.visit_i8(i8::from_be_bytes([self.r.u8("i8")?]))
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
        visitor.visit_u8(self.r.u8("u8")?)
    }

    de_int!(deserialize_i16, visit_i16, i16, 2, "i16");
    de_int!(deserialize_u16, visit_u16, u16, 2, "u16");
    de_int!(deserialize_i32, visit_i32, i32, 4, "i32");
    de_int!(deserialize_u32, visit_u32, u32, 4, "u32");
    de_int!(deserialize_i64, visit_i64, i64, 8, "i64");
    de_int!(deserialize_u64, visit_u64, u64, 8, "u64");

    fn deserialize_i128<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, CdrError> {
        Err(CdrError::Unsupported("i128 (no XCDR1 mapping)"))
    }

    fn deserialize_u128<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, CdrError> {
        Err(CdrError::Unsupported("u128 (no XCDR1 mapping)"))
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
        self.r.align(4, "f32")?;
        visitor.visit_f32(f32::from_bits(self.r.u32("f32")?))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
        self.r.align(8, "f64")?;
        visitor.visit_f64(f64::from_bits(self.r.u64("f64")?))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
        let b = self.r.u8("char")?;
        if !b.is_ascii() {
            return Err(CdrError::Invalid("char (not ASCII)"));
        }
        visitor.visit_char(char::from(b))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
        visitor.visit_borrowed_str(self.read_str()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
        visitor.visit_borrowed_str(self.read_str()?)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
        visitor.visit_borrowed_bytes(self.read_octets()?)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
        visitor.visit_borrowed_bytes(self.read_octets()?)
    }

    fn deserialize_option<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, CdrError> {
        Err(CdrError::Unsupported("Option (no plain CDR mapping)"))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, CdrError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, CdrError> {
        self.nested(|de| visitor.visit_newtype_struct(de))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
        let n = self.read_count("sequence count")?;
        self.nested(|de| visitor.visit_seq(Access::counted(de, n)))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, CdrError> {
        self.nested(|de| visitor.visit_seq(Access::fixed(de, len)))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, CdrError> {
        if name == RAW_OCTETS_TOKEN {
            return visitor.visit_borrowed_bytes(self.r.take(len, "raw octets")?);
        }
        self.nested(|de| visitor.visit_seq(Access::fixed(de, len)))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
        let n = self.read_count("map count")?;
        self.nested(|de| visitor.visit_map(Access::counted(de, n)))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, CdrError> {
        self.nested(|de| visitor.visit_seq(Access::fixed(de, fields.len())))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, CdrError> {
        self.nested(|de| visitor.visit_enum(Enum { de }))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CdrError> {
        self.r.align(4, "identifier")?;
        visitor.visit_u32(self.r.u32("identifier")?)
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}
