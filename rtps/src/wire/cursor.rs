//! The one checked cursor through which all untrusted bytes are read, and its writing twin
//! (architecture.md rule 4).
//!
//! [`Reader`] never panics and never reads past its slice: every accessor returns
//! `Err(ParseError::Truncated(what))` when the bytes run out. [`Writer`] emits into a caller's
//! `&mut [u8]` and returns `Err(EmitError::BufferTooSmall(what))` instead of writing past it, so
//! a message builder can pack submessages up to a datagram size limit. Length prefixes (such as
//! `octetsToNextHeader` or a parameter length) are reserved with [`Writer::reserve_u16`] and
//! patched after the body is emitted.

use super::error::{EmitError, ParseError};

/// Byte order of an RTPS submessage or a CDR stream (RTPS 2.5 §9.4.5.1.2, the E flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Endianness {
    /// Most significant byte first (E flag clear).
    Big,
    /// Least significant byte first (E flag set). What every peer we know sends.
    #[default]
    Little,
}

impl Endianness {
    /// From the E flag of a submessage header (bit 0 of the flags octet).
    pub fn from_flag(flags: u8) -> Self {
        if flags & 0x01 != 0 {
            Endianness::Little
        } else {
            Endianness::Big
        }
    }

    /// The E flag value (0x01 for little-endian, 0 for big-endian).
    pub fn flag(self) -> u8 {
        match self {
            Endianness::Big => 0,
            Endianness::Little => 1,
        }
    }
}

/// A checked read cursor over untrusted bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    endian: Endianness,
}

macro_rules! read_int {
    ($name:ident, $ty:ty, $n:expr) => {
        #[doc = concat!("Read a `", stringify!($ty), "` in the cursor's byte order.")]
        pub fn $name(&mut self, what: &'static str) -> Result<$ty, ParseError> {
            let bytes = self.take_array::<$n>(what)?;
            Ok(match self.endian {
                Endianness::Big => <$ty>::from_be_bytes(bytes),
                Endianness::Little => <$ty>::from_le_bytes(bytes),
            })
        }
    };
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `buf`, reading integers in `endian` order.
    pub fn new(buf: &'a [u8], endian: Endianness) -> Self {
        Reader {
            buf,
            pos: 0,
            endian,
        }
    }

    /// The byte order used for integers.
    pub fn endian(&self) -> Endianness {
        self.endian
    }

    /// Change the byte order used for integers from here on.
    pub fn set_endian(&mut self, endian: Endianness) {
        self.endian = endian;
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when every byte has been consumed.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Consume and return the unread bytes.
    pub fn take_rest(&mut self) -> &'a [u8] {
        let rest = self.rest();
        self.pos = self.buf.len();
        rest
    }

    /// Consume `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ParseError> {
        if n > self.remaining() {
            return Err(ParseError::Truncated(what));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Consume exactly `N` bytes into an array.
    pub fn take_array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], ParseError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// Consume `n` bytes and return a cursor over them with the same byte order.
    pub fn sub(&mut self, n: usize, what: &'static str) -> Result<Reader<'a>, ParseError> {
        Ok(Reader::new(self.take(n, what)?, self.endian))
    }

    /// Skip `n` bytes.
    pub fn skip(&mut self, n: usize, what: &'static str) -> Result<(), ParseError> {
        self.take(n, what).map(|_| ())
    }

    /// Skip padding up to the next multiple of `align` from the start of this cursor's slice.
    pub fn align(&mut self, align: usize, what: &'static str) -> Result<(), ParseError> {
        let pad = padding(self.pos, align);
        self.skip(pad, what)
    }

    /// Fail unless every byte has been consumed.
    pub fn expect_end(&self, what: &'static str) -> Result<(), ParseError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ParseError::TrailingData(what))
        }
    }

    /// Read one octet.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, ParseError> {
        Ok(self.take_array::<1>(what)?[0])
    }

    read_int!(u16, u16, 2);
    read_int!(i16, i16, 2);
    read_int!(u32, u32, 4);
    read_int!(i32, i32, 4);
    read_int!(u64, u64, 8);
    read_int!(i64, i64, 8);
}

/// Bytes of padding needed to bring `pos` to a multiple of `align` (`align` a power of two, or
/// 0/1 for none).
pub fn padding(pos: usize, align: usize) -> usize {
    if align <= 1 {
        0
    } else {
        (align - pos % align) % align
    }
}

/// A position in a [`Writer`] whose `u16` is written later with [`Writer::patch_u16`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a reserved length must be patched"]
pub struct Patch(usize);

/// A checked write cursor over a caller's buffer.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    endian: Endianness,
}

macro_rules! write_int {
    ($name:ident, $ty:ty) => {
        #[doc = concat!("Write a `", stringify!($ty), "` in the cursor's byte order.")]
        pub fn $name(&mut self, v: $ty, what: &'static str) -> Result<(), EmitError> {
            match self.endian {
                Endianness::Big => self.put(&v.to_be_bytes(), what),
                Endianness::Little => self.put(&v.to_le_bytes(), what),
            }
        }
    };
}

impl<'a> Writer<'a> {
    /// A cursor at the start of `buf`, writing integers in `endian` order.
    pub fn new(buf: &'a mut [u8], endian: Endianness) -> Self {
        Writer {
            buf,
            pos: 0,
            endian,
        }
    }

    /// The byte order used for integers.
    pub fn endian(&self) -> Endianness {
        self.endian
    }

    /// Change the byte order used for integers from here on.
    pub fn set_endian(&mut self, endian: Endianness) {
        self.endian = endian;
    }

    /// Bytes written so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Room left in the buffer.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.pos]
    }

    /// Move the cursor back to `pos` (at most the current position), discarding what followed.
    /// Used by builders to undo a submessage that did not fit.
    pub fn truncate(&mut self, pos: usize) {
        if pos < self.pos {
            self.pos = pos;
        }
    }

    /// Write raw bytes.
    pub fn put(&mut self, bytes: &[u8], what: &'static str) -> Result<(), EmitError> {
        if bytes.len() > self.remaining() {
            return Err(EmitError::BufferTooSmall(what));
        }
        self.buf[self.pos..self.pos + bytes.len()].copy_from_slice(bytes);
        self.pos += bytes.len();
        Ok(())
    }

    /// Write `n` zero bytes.
    pub fn zeros(&mut self, n: usize, what: &'static str) -> Result<(), EmitError> {
        if n > self.remaining() {
            return Err(EmitError::BufferTooSmall(what));
        }
        self.buf[self.pos..self.pos + n].fill(0);
        self.pos += n;
        Ok(())
    }

    /// Write zero padding up to the next multiple of `align` from the start of the buffer.
    pub fn align(&mut self, align: usize, what: &'static str) -> Result<(), EmitError> {
        self.zeros(padding(self.pos, align), what)
    }

    /// Write one octet.
    pub fn u8(&mut self, v: u8, what: &'static str) -> Result<(), EmitError> {
        self.put(&[v], what)
    }

    write_int!(u16, u16);
    write_int!(i16, i16);
    write_int!(u32, u32);
    write_int!(i32, i32);
    write_int!(u64, u64);
    write_int!(i64, i64);

    /// Reserve a `u16` (written as zero for now) to be patched once the length is known.
    pub fn reserve_u16(&mut self, what: &'static str) -> Result<Patch, EmitError> {
        let at = self.pos;
        self.u16(0, what)?;
        Ok(Patch(at))
    }

    /// Bytes written after the reserved `u16` (the usual value of a length prefix).
    pub fn since(&self, patch: Patch) -> usize {
        self.pos - patch.0 - 2
    }

    /// Write `v` into a reserved `u16`, in the cursor's current byte order.
    pub fn patch_u16(&mut self, patch: Patch, v: u16) {
        let bytes = match self.endian {
            Endianness::Big => v.to_be_bytes(),
            Endianness::Little => v.to_le_bytes(),
        };
        self.buf[patch.0..patch.0 + 2].copy_from_slice(&bytes);
    }

    /// Patch a reserved `u16` with the count of bytes written after it, failing if over
    /// `u16::MAX`.
    pub fn patch_len(&mut self, patch: Patch, what: &'static str) -> Result<(), EmitError> {
        let len = u16::try_from(self.since(patch)).map_err(|_| EmitError::Unrepresentable(what))?;
        self.patch_u16(patch, len);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_byte_orders() {
        let b = [1, 2, 3, 4];
        assert_eq!(Reader::new(&b, Endianness::Big).u32("x"), Ok(0x0102_0304));
        assert_eq!(
            Reader::new(&b, Endianness::Little).u32("x"),
            Ok(0x0403_0201)
        );
    }

    #[test]
    fn truncation_is_an_error_not_a_panic() {
        let b = [1, 2, 3];
        let mut r = Reader::new(&b, Endianness::Little);
        assert_eq!(r.u32("word"), Err(ParseError::Truncated("word")));
        assert_eq!(r.position(), 0);
        assert_eq!(
            r.take(usize::MAX, "huge"),
            Err(ParseError::Truncated("huge"))
        );
        assert!(r.sub(4, "sub").is_err());
        assert_eq!(r.u16("half"), Ok(0x0201));
        assert_eq!(r.expect_end("end"), Err(ParseError::TrailingData("end")));
    }

    #[test]
    fn align_is_relative_to_the_cursor_start() {
        let b = [0u8; 8];
        let mut r = Reader::new(&b, Endianness::Little);
        r.u8("a").unwrap();
        r.align(4, "pad").unwrap();
        assert_eq!(r.position(), 4);
        r.align(4, "pad").unwrap();
        assert_eq!(r.position(), 4);
    }

    #[test]
    fn writer_refuses_to_overflow_and_patches_lengths() {
        let mut buf = [0xa5u8; 6];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        let p = w.reserve_u16("len").unwrap();
        w.u16(7, "body").unwrap();
        assert_eq!(
            w.u32(1, "too much"),
            Err(EmitError::BufferTooSmall("too much"))
        );
        w.patch_len(p, "len").unwrap();
        assert_eq!(w.written(), &[2, 0, 7, 0]);
        assert_eq!(buf, [2, 0, 7, 0, 0xa5, 0xa5]);
    }
}
