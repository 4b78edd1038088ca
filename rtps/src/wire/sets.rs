//! Sequence-number and fragment-number sets (RTPS 2.5 §9.4.2.6, §9.4.2.8): a base number, a bit
//! count and up to eight 32-bit words in which bit `i` (most significant bit first) stands for
//! `base + i`.
//!
//! Both sets are capped at [`MAX_BITS`] = 256 bits (the spec's limit): a wire `numBits` above it
//! is `Invalid`, so a parse never reads more than 8 words and never allocates. Bits past
//! `num_bits` are cleared on parse, so two sets that mean the same thing compare equal.
//!
//! Bases are tolerated loosely: Fast DDS sends pre-emptive ACKNACKs with `bitmapBase = 0` and
//! Cyclone sends base 1 with 0 bits; both parse. A negative sequence-number base is `Invalid`.

use super::cursor::{Reader, Writer};
use super::error::{EmitError, ParseError};
use super::types::SequenceNumber;

/// Most bits in a set (RTPS 2.5 §9.4.2.6: `numBits` is at most 256).
pub const MAX_BITS: u32 = 256;

/// Words needed for `num_bits` bits.
fn words(num_bits: u32) -> usize {
    (num_bits as usize).div_ceil(32)
}

fn get_bit(bitmap: &[u32; 8], i: u32) -> bool {
    match bitmap.get((i / 32) as usize) {
        Some(w) => w & (1 << (31 - i % 32)) != 0,
        None => false,
    }
}

fn set_bit(bitmap: &mut [u32; 8], i: u32) {
    if let Some(w) = bitmap.get_mut((i / 32) as usize) {
        *w |= 1 << (31 - i % 32);
    }
}

/// Clear every bit at or past `num_bits`.
fn mask(bitmap: &mut [u32; 8], num_bits: u32) {
    for (k, w) in bitmap.iter_mut().enumerate() {
        let first = (k as u32) * 32;
        if num_bits <= first {
            *w = 0;
        } else if num_bits < first + 32 {
            *w &= !(u32::MAX >> (num_bits - first));
        }
    }
}

/// Read `numBits` and the words it announces.
fn parse_bits(r: &mut Reader<'_>, what: &'static str) -> Result<(u32, [u32; 8]), ParseError> {
    let num_bits = r.u32(what)?;
    if num_bits > MAX_BITS {
        return Err(ParseError::Invalid(what));
    }
    let mut bitmap = [0u32; 8];
    for w in bitmap.iter_mut().take(words(num_bits)) {
        *w = r.u32(what)?;
    }
    mask(&mut bitmap, num_bits);
    Ok((num_bits, bitmap))
}

/// Write `numBits` and its words.
fn emit_bits(
    w: &mut Writer<'_>,
    num_bits: u32,
    bitmap: &[u32; 8],
    what: &'static str,
) -> Result<(), EmitError> {
    if num_bits > MAX_BITS {
        return Err(EmitError::Unrepresentable(what));
    }
    w.u32(num_bits, what)?;
    let mut masked = *bitmap;
    mask(&mut masked, num_bits);
    for word in masked.iter().take(words(num_bits)) {
        w.u32(*word, what)?;
    }
    Ok(())
}

/// Offsets of the set bits below `num_bits`, ascending.
fn offsets(bitmap: &[u32; 8], num_bits: u32) -> impl Iterator<Item = u32> + '_ {
    (0..num_bits.min(MAX_BITS)).filter(move |i| get_bit(bitmap, *i))
}

/// A set of sequence numbers within `[base, base + 256)` (RTPS 2.5 §9.4.2.6,
/// `SequenceNumberSet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SequenceNumberSet {
    /// `bitmapBase`: the number that bit 0 stands for.
    pub base: SequenceNumber,
    /// `numBits`: how many bits are meaningful (at most 256).
    pub num_bits: u32,
    /// The bits, most significant bit of word 0 first.
    pub bitmap: [u32; 8],
}

impl SequenceNumberSet {
    /// An empty set (0 bits) based at `base`.
    pub fn new(base: SequenceNumber) -> Self {
        SequenceNumberSet {
            base,
            num_bits: 0,
            bitmap: [0; 8],
        }
    }

    fn offset(&self, sn: SequenceNumber) -> Option<u32> {
        let d = sn.0.checked_sub(self.base.0)?;
        u32::try_from(d).ok().filter(|d| *d < MAX_BITS)
    }

    /// Add `sn`, growing `num_bits` as needed; false (and no change) if `sn` is outside
    /// `[base, base + 256)`.
    pub fn insert(&mut self, sn: SequenceNumber) -> bool {
        match self.offset(sn) {
            Some(i) => {
                set_bit(&mut self.bitmap, i);
                self.num_bits = self.num_bits.max(i + 1);
                true
            }
            None => false,
        }
    }

    /// True if `sn` is in the set.
    pub fn contains(&self, sn: SequenceNumber) -> bool {
        self.offset(sn)
            .is_some_and(|i| i < self.num_bits && get_bit(&self.bitmap, i))
    }

    /// The members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = SequenceNumber> + '_ {
        let base = self.base.0;
        offsets(&self.bitmap, self.num_bits)
            .filter_map(move |i| base.checked_add(i64::from(i)).map(SequenceNumber))
    }

    /// True if no bit is set.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Parse `bitmapBase`, `numBits` and `ceil(numBits / 32)` words in the cursor's byte order.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let base = SequenceNumber::parse(r)?;
        if base.0 < 0 {
            return Err(ParseError::Invalid("sequence number set base"));
        }
        let (num_bits, bitmap) = parse_bits(r, "sequence number set bitmap")?;
        Ok(SequenceNumberSet {
            base,
            num_bits,
            bitmap,
        })
    }

    /// Emit in the cursor's byte order; `Unrepresentable` if `num_bits > 256`.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.base.emit(w)?;
        emit_bits(w, self.num_bits, &self.bitmap, "sequence number set bitmap")
    }

    /// Octets [`emit`](Self::emit) writes: 12 plus 4 per word.
    pub fn wire_len(&self) -> usize {
        12 + 4 * words(self.num_bits.min(MAX_BITS))
    }
}

/// A set of fragment numbers within `[base, base + 256)` (RTPS 2.5 §9.4.2.8,
/// `FragmentNumberSet`). Fragment numbers are 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentNumberSet {
    /// `bitmapBase`: the fragment number that bit 0 stands for.
    pub base: u32,
    /// `numBits`: how many bits are meaningful (at most 256).
    pub num_bits: u32,
    /// The bits, most significant bit of word 0 first.
    pub bitmap: [u32; 8],
}

impl FragmentNumberSet {
    /// An empty set (0 bits) based at `base`.
    pub fn new(base: u32) -> Self {
        FragmentNumberSet {
            base,
            num_bits: 0,
            bitmap: [0; 8],
        }
    }

    fn offset(&self, n: u32) -> Option<u32> {
        n.checked_sub(self.base).filter(|d| *d < MAX_BITS)
    }

    /// Add fragment `n`, growing `num_bits` as needed; false (and no change) if `n` is outside
    /// `[base, base + 256)`.
    pub fn insert(&mut self, n: u32) -> bool {
        match self.offset(n) {
            Some(i) => {
                set_bit(&mut self.bitmap, i);
                self.num_bits = self.num_bits.max(i + 1);
                true
            }
            None => false,
        }
    }

    /// True if fragment `n` is in the set.
    pub fn contains(&self, n: u32) -> bool {
        self.offset(n)
            .is_some_and(|i| i < self.num_bits && get_bit(&self.bitmap, i))
    }

    /// The members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let base = self.base;
        offsets(&self.bitmap, self.num_bits).filter_map(move |i| base.checked_add(i))
    }

    /// True if no bit is set.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Parse `bitmapBase`, `numBits` and `ceil(numBits / 32)` words in the cursor's byte order.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let base = r.u32("fragment number set base")?;
        let (num_bits, bitmap) = parse_bits(r, "fragment number set bitmap")?;
        Ok(FragmentNumberSet {
            base,
            num_bits,
            bitmap,
        })
    }

    /// Emit in the cursor's byte order; `Unrepresentable` if `num_bits > 256`.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.u32(self.base, "fragment number set base")?;
        emit_bits(w, self.num_bits, &self.bitmap, "fragment number set bitmap")
    }

    /// Octets [`emit`](Self::emit) writes: 8 plus 4 per word.
    pub fn wire_len(&self) -> usize {
        8 + 4 * words(self.num_bits.min(MAX_BITS))
    }
}

#[cfg(test)]
mod tests {
    use super::super::cursor::Endianness;
    use super::*;
    use proptest::prelude::*;

    fn emit_sn(s: &SequenceNumberSet, e: Endianness) -> Vec<u8> {
        let mut buf = vec![0xa5u8; s.wire_len() + 4];
        let mut w = Writer::new(&mut buf, e);
        s.emit(&mut w).unwrap();
        assert_eq!(w.position(), s.wire_len());
        assert_eq!(buf[s.wire_len()..], [0xa5; 4], "wrote past wire_len");
        buf.truncate(s.wire_len());
        buf
    }

    #[test]
    fn emits_golden_sequence_number_set_in_both_orders() {
        let mut s = SequenceNumberSet::new(SequenceNumber(5));
        assert!(s.insert(SequenceNumber(5)));
        assert!(s.insert(SequenceNumber(7)));
        assert!(s.insert(SequenceNumber(37)));
        assert_eq!(s.num_bits, 33);
        assert_eq!(
            emit_sn(&s, Endianness::Little),
            [
                0, 0, 0, 0, 5, 0, 0, 0, // base
                33, 0, 0, 0, // numBits
                0x00, 0x00, 0x00, 0xa0, // bits 0 and 2
                0x00, 0x00, 0x00, 0x80, // bit 32
            ]
        );
        assert_eq!(
            emit_sn(&s, Endianness::Big),
            [0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 33, 0xa0, 0, 0, 0, 0x80, 0, 0, 0]
        );
    }

    #[test]
    fn emits_golden_fragment_number_set() {
        let mut s = FragmentNumberSet::new(1);
        assert!(s.insert(2));
        let mut buf = [0xa5u8; 16];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        s.emit(&mut w).unwrap();
        assert_eq!(w.position(), s.wire_len());
        assert_eq!(
            buf,
            [1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0x40, 0xa5, 0xa5, 0xa5, 0xa5]
        );
    }

    #[test]
    fn insert_refuses_numbers_outside_the_window() {
        let mut s = SequenceNumberSet::new(SequenceNumber(10));
        assert!(!s.insert(SequenceNumber(9)));
        assert!(!s.insert(SequenceNumber(266)));
        assert!(s.insert(SequenceNumber(265)));
        assert_eq!(s.num_bits, 256);
        assert!(s.contains(SequenceNumber(265)));
        assert!(!s.contains(SequenceNumber(264)));
        assert_eq!(s.iter().collect::<Vec<_>>(), [SequenceNumber(265)]);
        let mut f = FragmentNumberSet::new(u32::MAX - 1);
        assert!(f.insert(u32::MAX));
        assert_eq!(f.iter().collect::<Vec<_>>(), [u32::MAX]);
    }

    #[test]
    fn rejects_more_than_256_bits() {
        let b = [0u8, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0];
        assert_eq!(
            SequenceNumberSet::parse(&mut Reader::new(&b, Endianness::Little)),
            Err(ParseError::Invalid("sequence number set bitmap"))
        );
        let mut s = SequenceNumberSet::new(SequenceNumber(1));
        s.num_bits = 257;
        let mut buf = [0u8; 64];
        assert!(s
            .emit(&mut Writer::new(&mut buf, Endianness::Little))
            .is_err());
    }

    #[test]
    fn tolerates_fast_dds_base_zero_and_cyclone_empty_sets() {
        let fast = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let s = SequenceNumberSet::parse(&mut Reader::new(&fast, Endianness::Little)).unwrap();
        assert_eq!(s, SequenceNumberSet::new(SequenceNumber(0)));
        let cyclone = [0u8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        let s = SequenceNumberSet::parse(&mut Reader::new(&cyclone, Endianness::Little)).unwrap();
        assert!(s.is_empty());
        let negative = [0xffu8, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(SequenceNumberSet::parse(&mut Reader::new(&negative, Endianness::Big)).is_err());
    }

    #[test]
    fn clears_bits_past_num_bits_on_parse() {
        let b = [0u8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        let s = SequenceNumberSet::parse(&mut Reader::new(&b, Endianness::Little)).unwrap();
        assert_eq!(s.bitmap[0], 0xc000_0000);
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            [SequenceNumber(1), SequenceNumber(2)]
        );
    }

    #[test]
    fn every_truncation_fails() {
        let mut s = SequenceNumberSet::new(SequenceNumber(100));
        s.insert(SequenceNumber(300));
        let bytes = emit_sn(&s, Endianness::Little);
        for n in 0..bytes.len() {
            let mut r = Reader::new(&bytes[..n], Endianness::Little);
            assert!(
                SequenceNumberSet::parse(&mut r).is_err(),
                "prefix {n} parsed"
            );
        }
        let mut f = FragmentNumberSet::new(3);
        f.insert(70);
        let mut buf = [0u8; 40];
        let mut w = Writer::new(&mut buf, Endianness::Big);
        f.emit(&mut w).unwrap();
        let len = w.position();
        for n in 0..len {
            let mut r = Reader::new(&buf[..n], Endianness::Big);
            assert!(
                FragmentNumberSet::parse(&mut r).is_err(),
                "prefix {n} parsed"
            );
        }
    }

    fn endian() -> impl Strategy<Value = Endianness> {
        prop_oneof![Just(Endianness::Little), Just(Endianness::Big)]
    }

    proptest! {
        #[test]
        fn sequence_number_sets_round_trip(
            base in 0i64..=i64::MAX - 300,
            members in proptest::collection::vec(0u32..256, 0..40),
            extra_bits in 0u32..40,
            e in endian(),
        ) {
            let mut s = SequenceNumberSet::new(SequenceNumber(base));
            for m in &members {
                prop_assert!(s.insert(SequenceNumber(base + i64::from(*m))));
            }
            s.num_bits = (s.num_bits + extra_bits).min(MAX_BITS);
            let bytes = emit_sn(&s, e);
            let mut r = Reader::new(&bytes, e);
            prop_assert_eq!(SequenceNumberSet::parse(&mut r), Ok(s));
            prop_assert!(r.is_empty());
            let mut want: Vec<_> = members.iter().map(|m| SequenceNumber(base + i64::from(*m))).collect();
            want.sort();
            want.dedup();
            prop_assert_eq!(s.iter().collect::<Vec<_>>(), want);
        }

        #[test]
        fn fragment_number_sets_round_trip(
            base in 1u32..1_000_000,
            members in proptest::collection::vec(0u32..256, 0..40),
            e in endian(),
        ) {
            let mut s = FragmentNumberSet::new(base);
            for m in &members {
                prop_assert!(s.insert(base + m));
                prop_assert!(s.contains(base + m));
            }
            let mut buf = vec![0xa5u8; s.wire_len() + 4];
            let mut w = Writer::new(&mut buf, e);
            s.emit(&mut w).unwrap();
            prop_assert_eq!(w.position(), s.wire_len());
            prop_assert_eq!(&buf[s.wire_len()..], &[0xa5; 4]);
            let mut r = Reader::new(&buf[..s.wire_len()], e);
            prop_assert_eq!(FragmentNumberSet::parse(&mut r), Ok(s));
            prop_assert_eq!(s.iter().count(), {
                let mut m = members.clone();
                m.sort();
                m.dedup();
                m.len()
            });
        }

        #[test]
        fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = SequenceNumberSet::parse(&mut Reader::new(&bytes, Endianness::Little));
            let _ = FragmentNumberSet::parse(&mut Reader::new(&bytes, Endianness::Big));
        }
    }
}
