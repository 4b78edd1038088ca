//! The plain CDR (XCDR1) serializer (DDS-XTypes 1.3 §7.4.1, CORBA 3.4 Part 2 §9.3).
//!
//! Appends to a caller's `Vec<u8>`; alignment is relative to the byte where the body started
//! (the byte after the encapsulation header). Padding is written as zeros. See the mapping table
//! in [`super`].

use serde::ser::{self, Serialize};

use super::error::CdrError;
use super::raw::RAW_OCTETS_TOKEN;
use crate::wire::cursor::{padding, Endianness};

/// A serde serializer writing plain CDR (XCDR1) into a `Vec<u8>` (DDS-XTypes 1.3 §7.4.1).
#[derive(Debug)]
pub struct Serializer<'a> {
    out: &'a mut Vec<u8>,
    base: usize,
    endian: Endianness,
    raw_next: bool,
}

macro_rules! put_int {
    ($name:ident, $ty:ty, $align:expr) => {
        fn $name(self, v: $ty) -> Result<(), CdrError> {
            self.align($align);
            let bytes = match self.endian {
                Endianness::Big => v.to_be_bytes(),
                Endianness::Little => v.to_le_bytes(),
            };
            self.out.extend_from_slice(&bytes);
            Ok(())
        }
    };
}

impl<'a> Serializer<'a> {
    /// A serializer appending to `out`; alignment counts from `out.len()` at this call.
    pub fn new(out: &'a mut Vec<u8>, endian: Endianness) -> Self {
        let base = out.len();
        Serializer {
            out,
            base,
            endian,
            raw_next: false,
        }
    }

    /// Bytes of body written so far (the current alignment offset).
    pub fn position(&self) -> usize {
        self.out.len().saturating_sub(self.base)
    }

    /// Write zero padding up to the next multiple of `align` relative to the body start.
    fn align(&mut self, align: usize) {
        let pad = padding(self.position(), align);
        if pad != 0 {
            self.out.resize(self.out.len() + pad, 0);
        }
    }

    fn put_u32(&mut self, v: u32) {
        self.align(4);
        let bytes = match self.endian {
            Endianness::Big => v.to_be_bytes(),
            Endianness::Little => v.to_le_bytes(),
        };
        self.out.extend_from_slice(&bytes);
    }

    /// Write a `u32` length or count prefix, failing if `n` does not fit.
    fn put_len(&mut self, n: usize, what: &'static str) -> Result<(), CdrError> {
        let n = u32::try_from(n).map_err(|_| CdrError::TooLarge(what))?;
        self.put_u32(n);
        Ok(())
    }

    /// Start a counted sequence or map: reserve the `u32` count, patched by `Compound::end`.
    fn begin_counted(&mut self) -> Compound<'_, 'a> {
        self.align(4);
        let at = self.out.len();
        self.out.extend_from_slice(&[0; 4]);
        Compound {
            ser: self,
            count: Some((at, 0)),
        }
    }
}

/// Serializes the elements of a sequence, map, tuple, struct or variant; for sequences and maps
/// it counts the elements and patches the reserved `u32` count at the end.
#[derive(Debug)]
pub struct Compound<'s, 'a> {
    ser: &'s mut Serializer<'a>,
    /// Position of the reserved count in `out` and the elements seen so far.
    count: Option<(usize, usize)>,
}

impl Compound<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CdrError> {
        if let Some((_, n)) = self.count.as_mut() {
            *n = n.saturating_add(1);
        }
        value.serialize(&mut *self.ser)
    }

    fn finish(self) -> Result<(), CdrError> {
        if let Some((at, n)) = self.count {
            let n = u32::try_from(n).map_err(|_| CdrError::TooLarge("sequence count"))?;
            let bytes = match self.ser.endian {
                Endianness::Big => n.to_be_bytes(),
                Endianness::Little => n.to_le_bytes(),
            };
            let slot = self
                .ser
                .out
                .get_mut(at..at + 4)
                .ok_or(CdrError::Invalid("sequence count slot"))?;
            slot.copy_from_slice(&bytes);
        }
        Ok(())
    }
}

impl<'s, 'a> ser::Serializer for &'s mut Serializer<'a> {
    type Ok = ();
    type Error = CdrError;
    type SerializeSeq = Compound<'s, 'a>;
    type SerializeTuple = Compound<'s, 'a>;
    type SerializeTupleStruct = Compound<'s, 'a>;
    type SerializeTupleVariant = Compound<'s, 'a>;
    type SerializeMap = Compound<'s, 'a>;
    type SerializeStruct = Compound<'s, 'a>;
    type SerializeStructVariant = Compound<'s, 'a>;

    fn serialize_bool(self, v: bool) -> Result<(), CdrError> {
        self.out.push(u8::from(v));
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), CdrError> {
        self.out.extend_from_slice(&v.to_be_bytes());
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), CdrError> {
        self.out.push(v);
        Ok(())
    }

    put_int!(serialize_i16, i16, 2);
    put_int!(serialize_u16, u16, 2);
    put_int!(serialize_i32, i32, 4);
    put_int!(serialize_u32, u32, 4);
    put_int!(serialize_i64, i64, 8);
    put_int!(serialize_u64, u64, 8);

    fn serialize_f32(self, v: f32) -> Result<(), CdrError> {
        self.serialize_u32(v.to_bits())
    }

    fn serialize_f64(self, v: f64) -> Result<(), CdrError> {
        self.serialize_u64(v.to_bits())
    }

    fn serialize_i128(self, _v: i128) -> Result<(), CdrError> {
        Err(CdrError::Unsupported("i128 (no XCDR1 mapping)"))
    }

    fn serialize_u128(self, _v: u128) -> Result<(), CdrError> {
        Err(CdrError::Unsupported("u128 (no XCDR1 mapping)"))
    }

    fn serialize_char(self, v: char) -> Result<(), CdrError> {
        if !v.is_ascii() {
            return Err(CdrError::Invalid(
                "char (CDR char is one octet: ASCII only)",
            ));
        }
        self.out.push(v as u8);
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), CdrError> {
        let bytes = v.as_bytes();
        if bytes.contains(&0) {
            return Err(CdrError::Invalid("string (embedded NUL)"));
        }
        self.put_len(bytes.len().saturating_add(1), "string length")?;
        self.out.reserve(bytes.len() + 1);
        self.out.extend_from_slice(bytes);
        self.out.push(0);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), CdrError> {
        if core::mem::take(&mut self.raw_next) {
            self.out.extend_from_slice(v);
            return Ok(());
        }
        self.put_len(v.len(), "octet sequence length")?;
        self.out.extend_from_slice(v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), CdrError> {
        Err(CdrError::Unsupported("Option (no plain CDR mapping)"))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), CdrError> {
        Err(CdrError::Unsupported("Option (no plain CDR mapping)"))
    }

    fn serialize_unit(self) -> Result<(), CdrError> {
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), CdrError> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        variant_index: u32,
        _variant: &'static str,
    ) -> Result<(), CdrError> {
        self.put_u32(variant_index);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), CdrError> {
        if name == RAW_OCTETS_TOKEN {
            self.raw_next = true;
            let r = value.serialize(&mut *self);
            self.raw_next = false;
            return r;
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        variant_index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<(), CdrError> {
        self.put_u32(variant_index);
        value.serialize(self)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, CdrError> {
        Ok(self.begin_counted())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, CdrError> {
        Ok(Compound {
            ser: self,
            count: None,
        })
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, CdrError> {
        Ok(Compound {
            ser: self,
            count: None,
        })
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        variant_index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, CdrError> {
        self.put_u32(variant_index);
        Ok(Compound {
            ser: self,
            count: None,
        })
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, CdrError> {
        Ok(self.begin_counted())
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, CdrError> {
        Ok(Compound {
            ser: self,
            count: None,
        })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        variant_index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, CdrError> {
        self.put_u32(variant_index);
        Ok(Compound {
            ser: self,
            count: None,
        })
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = CdrError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CdrError> {
        self.element(value)
    }

    fn end(self) -> Result<(), CdrError> {
        self.finish()
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = CdrError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CdrError> {
        self.element(value)
    }

    fn end(self) -> Result<(), CdrError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = CdrError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CdrError> {
        self.element(value)
    }

    fn end(self) -> Result<(), CdrError> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = CdrError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CdrError> {
        self.element(value)
    }

    fn end(self) -> Result<(), CdrError> {
        self.finish()
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = CdrError;

    /// A key starts a pair: the count is of pairs.
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), CdrError> {
        self.element(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CdrError> {
        value.serialize(&mut *self.ser)
    }

    fn end(self) -> Result<(), CdrError> {
        self.finish()
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = CdrError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _key: &'static str,
        value: &T,
    ) -> Result<(), CdrError> {
        self.element(value)
    }

    /// A skipped field (`#[serde(skip_serializing_if)]`) would desynchronise a positional
    /// format, so it is refused.
    fn skip_field(&mut self, _key: &'static str) -> Result<(), CdrError> {
        Err(CdrError::Unsupported(
            "skipped struct field (CDR is positional)",
        ))
    }

    fn end(self) -> Result<(), CdrError> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = CdrError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _key: &'static str,
        value: &T,
    ) -> Result<(), CdrError> {
        self.element(value)
    }

    fn skip_field(&mut self, _key: &'static str) -> Result<(), CdrError> {
        Err(CdrError::Unsupported(
            "skipped struct field (CDR is positional)",
        ))
    }

    fn end(self) -> Result<(), CdrError> {
        self.finish()
    }
}
