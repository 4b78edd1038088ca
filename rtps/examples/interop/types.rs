//! The oracles' data types (`../shared/oracles/idl/Message.idl`), their payload pattern, the
//! key hash of `interop::KeyedMessage` and the oracles' GUID notation.

use rtps::wire::Guid;
use serde::{Deserialize, Serialize};

/// Type name of the keyless type on the wire.
pub const MESSAGE_TYPE: &str = "interop::Message";
/// Type name of the keyed type on the wire.
pub const KEYED_MESSAGE_TYPE: &str = "interop::KeyedMessage";

/// `struct Message { unsigned long seq; string text; };` (final, XCDR1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Sample number, 1..=count.
    pub seq: u32,
    /// `size` characters of [`fill_text`].
    pub text: String,
}

/// `struct KeyedMessage { @key long id; string text; };` (final, XCDR1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyedMessage {
    /// The key; the oracles use one instance per sample (`id` = seq).
    pub id: i32,
    /// `size` characters of [`fill_text`].
    pub text: String,
}

/// The alphabet twice, so that any 26-character window starting at `k < 26` is one slice.
const ALPHABET2: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";

/// The 26-character period of the text of sample `seq` starting at character `i`.
fn period(seq: u32, i: usize) -> &'static [u8] {
    let k = ((u64::from(seq) + i as u64) % 26) as usize;
    ALPHABET2.get(k..k + 26).unwrap_or(&ALPHABET2[..26])
}

/// The text of sample `seq`: `size` characters, character `i` = `'a' + (seq + i) % 26`.
pub fn fill_text(seq: u32, size: usize) -> String {
    let p = period(seq, 0);
    let mut v = Vec::with_capacity(size);
    while v.len() < size {
        let n = (size - v.len()).min(p.len());
        v.extend_from_slice(&p[..n]);
    }
    // Only ASCII letters were pushed.
    String::from_utf8(v).unwrap_or_default()
}

/// True when `text` follows the pattern of sample `seq` (any length).
pub fn check_text(seq: u32, text: &str) -> bool {
    let p = period(seq, 0);
    text.as_bytes()
        .chunks(p.len())
        .all(|c| p.get(..c.len()) == Some(c))
}

/// The key hash of a `KeyedMessage` instance (RTPS 2.5 §9.6.4.8): the key members serialized
/// as big-endian CDR (`id`: 4 octets), zero-padded to 16 octets since the maximum key size is
/// below 16 (no MD5).
pub fn key_hash(id: i32) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[..4].copy_from_slice(&id.to_be_bytes());
    h
}

/// A GUID as both oracles print it: `01.0f.7f.01.xx.xx.xx.xx.xx.xx.xx.xx|0.0.1.c1`.
pub fn guid_str(g: Guid) -> String {
    let b = g.to_bytes();
    let prefix: Vec<String> = b[..12].iter().map(|x| format!("{x:02x}")).collect();
    let entity: Vec<String> = b[12..].iter().map(|x| format!("{x:x}")).collect();
    format!("{}|{}", prefix.join("."), entity.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtps::wire::{EntityId, GuidPrefix};

    #[test]
    fn text_pattern_matches_the_oracles_formula() {
        assert_eq!(fill_text(1, 5), "bcdef");
        assert_eq!(fill_text(25, 3), "zab");
        assert_eq!(fill_text(0, 0), "");
        assert!(check_text(7, &fill_text(7, 1000)));
        assert!(!check_text(8, &fill_text(7, 10)));
        assert!(check_text(u32::MAX, &fill_text(u32::MAX, 64)));
    }

    #[test]
    fn fast_text_equals_the_per_character_formula() {
        for seq in [0u32, 1, 25, 26, 1000, u32::MAX] {
            for size in [0usize, 1, 25, 26, 27, 100, 1000] {
                let slow: String = (0..size)
                    .map(|i| char::from(b'a' + ((u64::from(seq) + i as u64) % 26) as u8))
                    .collect();
                assert_eq!(fill_text(seq, size), slow);
                assert!(check_text(seq, &slow));
                if size > 0 {
                    let mut bad = slow.into_bytes();
                    bad[size - 1] = b'A';
                    assert!(!check_text(seq, &String::from_utf8(bad).unwrap()));
                }
            }
        }
    }

    #[test]
    fn keyed_message_key_hash_is_the_big_endian_id_padded_to_16_octets() {
        assert_eq!(
            key_hash(0x0102_0304),
            [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(key_hash(-1)[..4], [0xff; 4]);
    }

    #[test]
    fn message_serializes_as_the_fast_dds_generated_type_does() {
        let m = Message {
            seq: 3,
            text: "abc".into(),
        };
        let p = rtps::cdr::to_payload(&m, rtps::wire::cursor::Endianness::Little).unwrap();
        assert_eq!(p, [0, 1, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, b'a', b'b', b'c', 0]);
        assert_eq!(rtps::cdr::from_payload::<Message>(&p).unwrap(), m);
    }

    #[test]
    fn guids_print_in_the_oracles_notation() {
        let mut p = [0u8; 12];
        p[0] = 0x01;
        p[1] = 0x0f;
        p[11] = 0xab;
        let g = Guid::new(GuidPrefix(p), EntityId::from_bytes([0, 0, 1, 0xc1]));
        assert_eq!(guid_str(g), "01.0f.00.00.00.00.00.00.00.00.00.ab|0.0.1.c1");
    }
}
