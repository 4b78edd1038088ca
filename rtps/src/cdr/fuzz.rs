//! The fixed nested type behind `rtps::fuzzing::cdr_deserialize`, shared with the proptest round
//! trips: strings, octet sequences, sequences of structs and enums, nested sequences, a map,
//! tuples, an array, a recursive tree. No floats (NaN would break equality) and no zero-sized
//! sequence elements (their decoding depends on the bytes left, see [`super::de`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{from_bytes, from_payload, to_vec};
use crate::wire::cursor::Endianness;

/// Fuzz/proptest sample: a struct nested in a sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Inner {
    pub tag: u8,
    pub value: u64,
    pub label: String,
    pub octets: Vec<u8>,
}

/// Fuzz/proptest sample: an enum with every variant shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Event {
    Start,
    Tick(u32),
    Move { dx: i16, dy: i16 },
    Note(String, u8),
    Nested(Box<Inner>),
}

/// Fuzz/proptest sample: a recursive type (bounded by [`super::MAX_DEPTH`] when decoding).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Tree {
    pub value: u8,
    pub kids: Vec<Tree>,
}

/// Fuzz/proptest sample: the top-level type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Sample {
    pub id: u32,
    pub flag: bool,
    pub name: String,
    pub small: (u8, i16, char),
    pub big: i64,
    pub inner: Vec<Inner>,
    pub events: Vec<Event>,
    pub arr: [u16; 3],
    pub map: BTreeMap<u16, String>,
    #[serde(with = "super::bytes")]
    pub blob: Vec<u8>,
    pub words: Vec<Vec<String>>,
    pub tree: Tree,
}

/// Decode [`Sample`] (and a borrowed tuple) from arbitrary bytes in both byte orders; whatever
/// decodes must re-encode, and the re-encoding must decode to an equal value and re-encode to
/// the same bytes. Panics only when that invariant is broken (a bug).
pub(crate) fn round_trip(data: &[u8]) {
    for endian in [Endianness::Little, Endianness::Big] {
        if let Ok(value) = from_bytes::<Sample>(data, endian) {
            let encoded = match to_vec(&value, endian) {
                Ok(bytes) => bytes,
                Err(e) => panic!("decoded {value:?} but cannot re-encode it: {e}"),
            };
            match from_bytes::<Sample>(&encoded, endian) {
                Ok(again) => {
                    assert_eq!(again, value, "re-decoded value differs");
                    assert_eq!(to_vec(&again, endian).ok(), Some(encoded));
                }
                Err(e) => panic!("re-encoding of {value:?} does not decode: {e}"),
            }
        }
        let _ = from_bytes::<(u32, &str, &[u8], Event)>(data, endian);
    }
    let _ = from_payload::<Sample>(data);
}
