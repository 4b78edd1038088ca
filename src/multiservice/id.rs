//! The AML-IP node id (`AmlipIdDataType`, AML-IP spec §2.4, §3.3) and the task id (§3.4).
//!
//! An id is a name of at most 28 ASCII bytes (no NUL) plus 4 random bytes. On the wire it is a
//! CDR string followed by the 4 raw octets; printed it is `name.hh.hh.hh.hh`, and that string is
//! the suffix of every per-node MultiService topic, so two nodes only talk if they agree on it
//! byte for byte. Names over 28 bytes are refused rather than truncated (C++ receivers would
//! silently truncate them and compute different topic names, §3.3).

use core::fmt;
use core::str::FromStr;

use rand::RngCore;
use rtps::wire::{EmitError, Reader, Writer};

use super::codec::{emit_string, read_string, string_end, DecodeError, Payload};

/// Why an id could not be built from a name or parsed from its printed form (AML-IP spec §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdError {
    /// The name is longer than [`AmlipId::NAME_SIZE`] bytes (the length is given).
    NameTooLong(usize),
    /// The name has a byte outside ASCII.
    NotAscii,
    /// The name contains a NUL byte.
    ContainsNul,
    /// The printed id is not `name.hh.hh.hh.hh` (the part that is wrong is named).
    Malformed(&'static str),
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdError::NameTooLong(n) => write!(
                f,
                "node name is {n} bytes long; AML-IP allows at most {}",
                AmlipId::NAME_SIZE
            ),
            IdError::NotAscii => f.write_str("node name must be ASCII"),
            IdError::ContainsNul => f.write_str("node name must not contain a NUL byte"),
            IdError::Malformed(what) => write!(f, "malformed id string: {what}"),
        }
    }
}

impl std::error::Error for IdError {}

/// An AML-IP node id: name (≤ 28 ASCII bytes, zero-filled) + 4 random bytes (AML-IP spec §3.3).
///
/// Equality and ordering compare the whole 28-byte name array, then the random bytes, as the C++
/// `operator==` / `operator<` do.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AmlipId {
    name: [u8; AmlipId::NAME_SIZE],
    rand: [u8; AmlipId::RAND_SIZE],
}

impl AmlipId {
    /// Longest name in bytes (`NAME_SIZE`, AML-IP spec §3.3).
    pub const NAME_SIZE: usize = 28;
    /// Random bytes (`RAND_SIZE`, AML-IP spec §3.3).
    pub const RAND_SIZE: usize = 4;

    /// An id from a name and its 4 random bytes; the name must be ≤ 28 ASCII bytes without NUL.
    pub fn new(name: &str, rand: [u8; Self::RAND_SIZE]) -> Result<Self, IdError> {
        let bytes = name.as_bytes();
        if !name.is_ascii() {
            return Err(IdError::NotAscii);
        }
        if bytes.contains(&0) {
            return Err(IdError::ContainsNul);
        }
        let mut out = [0u8; Self::NAME_SIZE];
        out.get_mut(..bytes.len())
            .ok_or(IdError::NameTooLong(bytes.len()))?
            .copy_from_slice(bytes);
        Ok(AmlipId { name: out, rand })
    }

    /// A fresh id for a node called `name`, its 4 random bytes drawn from `rng` (spec §3.3).
    pub fn new_random(name: &str, rng: &mut impl RngCore) -> Result<Self, IdError> {
        let mut rand = [0u8; Self::RAND_SIZE];
        rng.fill_bytes(&mut rand);
        Self::new(name, rand)
    }

    /// The undefined id: all-zero name and random bytes (spec §3.3); a target naming it cancels.
    pub const fn undefined() -> Self {
        AmlipId {
            name: [0; Self::NAME_SIZE],
            rand: [0; Self::RAND_SIZE],
        }
    }

    /// True unless this is the all-zero [`AmlipId::undefined`] id (`is_defined()`, spec §3.3).
    pub fn is_defined(&self) -> bool {
        *self != Self::undefined()
    }

    /// The name bytes (up to the first NUL of the 28-byte array).
    pub fn name_bytes(&self) -> &[u8] {
        let len = self
            .name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(Self::NAME_SIZE);
        self.name.get(..len).unwrap_or(&[])
    }

    /// The name (always ASCII, so always valid UTF-8).
    pub fn name(&self) -> &str {
        core::str::from_utf8(self.name_bytes()).unwrap_or("")
    }

    /// The 4 random bytes.
    pub fn rand(&self) -> [u8; Self::RAND_SIZE] {
        self.rand
    }

    /// Body position after this id when it starts at body position `pos`.
    pub fn cdr_end(&self, pos: usize) -> usize {
        string_end(pos, self.name_bytes().len()).saturating_add(Self::RAND_SIZE)
    }

    /// Emit as CDR: string name, then the 4 random octets (spec §3.3).
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        emit_string(w, self.name_bytes(), "id name")?;
        w.put(&self.rand, "id random bytes")
    }

    /// Parse from CDR; names over 28 bytes, non-ASCII names and missing NULs are rejected.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let name = read_string(r, Self::NAME_SIZE, "id name")?;
        if !name.is_ascii() {
            return Err(DecodeError::Invalid("id name (not ASCII)"));
        }
        let rand = r.take_array::<{ Self::RAND_SIZE }>("id random bytes")?;
        let mut out = [0u8; Self::NAME_SIZE];
        out.get_mut(..name.len())
            .ok_or(DecodeError::TooLarge("id name"))?
            .copy_from_slice(name);
        Ok(AmlipId { name: out, rand })
    }
}

impl Default for AmlipId {
    fn default() -> Self {
        Self::undefined()
    }
}

/// `name.hh.hh.hh.hh` with lowercase zero-padded hex (`to_dds_string()`, spec §2.4).
impl fmt::Display for AmlipId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        for b in self.rand {
            write!(f, ".{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for AmlipId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ID{{{self}}}")
    }
}

/// Parses the printed form `name.hh.hh.hh.hh` (the name may itself contain dots).
impl FromStr for AmlipId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, IdError> {
        let mut rand = [0u8; Self::RAND_SIZE];
        let mut rest = s;
        for slot in rand.iter_mut().rev() {
            let (head, hex) = rest
                .rsplit_once('.')
                .ok_or(IdError::Malformed("fewer than 4 random bytes"))?;
            if hex.len() != 2 || !hex.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(IdError::Malformed(
                    "random byte is not 2 lowercase hex digits",
                ));
            }
            *slot = u8::from_str_radix(hex, 16)
                .map_err(|_| IdError::Malformed("random byte is not hex"))?;
            rest = head;
        }
        Self::new(rest, rand)
    }
}

/// `amlip::AMLIP-ID`: an id as a top-level sample (used by AML-IP's own tests, spec §2.3).
impl Payload for AmlipId {
    const TYPE_NAME: &'static str = "amlip::AMLIP-ID";

    fn body_end(&self, pos: usize) -> usize {
        self.cdr_end(pos)
    }

    fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.emit(w)
    }

    fn parse_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::parse(r)
    }
}

/// A task id: unique per client, allocated 0, 1, 2, ... (`TaskId = uint32`, AML-IP spec §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TaskId(pub u32);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multiservice::strategies::arb_id;
    use proptest::prelude::*;
    use rand::{rngs::StdRng, SeedableRng};
    use rtps::wire::Endianness;

    #[test]
    fn prints_as_name_and_four_lowercase_hex_bytes() {
        let id = AmlipId::new("AMLComputingNode", [0xd1, 0xc3, 0x86, 0x0a]).unwrap();
        assert_eq!(id.to_string(), "AMLComputingNode.d1.c3.86.0a");
        assert_eq!(format!("{id:?}"), "ID{AMLComputingNode.d1.c3.86.0a}");
        assert_eq!(AmlipId::undefined().to_string(), ".00.00.00.00");
    }

    #[test]
    fn printed_form_parses_back_even_with_dots_in_the_name() {
        let id = AmlipId::new("a.b.c", [0, 0xff, 0x10, 1]).unwrap();
        assert_eq!(id.to_string().parse::<AmlipId>(), Ok(id));
        assert!("name.1.02.03.04".parse::<AmlipId>().is_err());
        assert!("name.0A.02.03.04".parse::<AmlipId>().is_err());
        assert!("02.03.04".parse::<AmlipId>().is_err());
    }

    #[test]
    fn names_over_28_bytes_non_ascii_or_with_nul_are_refused() {
        let name28 = "x".repeat(28);
        assert!(AmlipId::new(&name28, [1; 4]).is_ok());
        assert_eq!(
            AmlipId::new(&"x".repeat(29), [1; 4]),
            Err(IdError::NameTooLong(29))
        );
        assert_eq!(AmlipId::new("nodé", [1; 4]), Err(IdError::NotAscii));
        assert_eq!(AmlipId::new("a\0b", [1; 4]), Err(IdError::ContainsNul));
    }

    #[test]
    fn random_ids_take_their_bytes_from_the_given_rng() {
        let a = AmlipId::new_random("n", &mut StdRng::seed_from_u64(7)).unwrap();
        let b = AmlipId::new_random("n", &mut StdRng::seed_from_u64(7)).unwrap();
        assert_eq!(a, b);
        assert!(a.is_defined());
        assert!(!AmlipId::undefined().is_defined());
        assert!(AmlipId::new("", [0, 0, 0, 1]).unwrap().is_defined());
    }

    #[test]
    fn undefined_id_encodes_as_empty_string_and_zero_bytes() {
        let mut buf = [0xa5u8; 16];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        AmlipId::undefined().emit(&mut w).unwrap();
        assert_eq!(w.position(), 9);
        assert_eq!(
            buf,
            [1, 0, 0, 0, 0, 0, 0, 0, 0, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5]
        );
    }

    #[test]
    fn a_28_byte_name_on_the_wire_is_accepted_and_29_is_not() {
        for (n, ok) in [(28usize, true), (29, false)] {
            let mut body = Vec::new();
            body.extend_from_slice(&u32::try_from(n + 1).unwrap().to_le_bytes());
            body.extend(std::iter::repeat_n(b'a', n));
            body.extend_from_slice(&[0, 1, 2, 3, 4]);
            let r = AmlipId::parse(&mut Reader::new(&body, Endianness::Little));
            assert_eq!(r.is_ok(), ok, "{n}");
        }
    }

    #[test]
    fn non_ascii_names_on_the_wire_are_rejected() {
        let body = [2, 0, 0, 0, 0xc3, 0, 1, 2, 3, 4];
        assert_eq!(
            AmlipId::parse(&mut Reader::new(&body, Endianness::Little)),
            Err(DecodeError::Invalid("id name (not ASCII)"))
        );
    }

    proptest! {
        #[test]
        fn ids_round_trip_through_cdr_and_their_printed_form(id in arb_id()) {
            let p = id.to_payload().unwrap();
            prop_assert_eq!(p.len(), id.payload_len());
            prop_assert_eq!(AmlipId::from_payload(&p), Ok(id));
            prop_assert_eq!(id.to_string().parse::<AmlipId>(), Ok(id));
        }
    }
}
