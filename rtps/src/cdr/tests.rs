//! Golden bytes, every-truncation-fails and hostile-input tests for the CDR serde (the proptest
//! round trips are in `tests_prop.rs`, the AML-IP and capture goldens in `tests_interop.rs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;

/// Bytes from a hex string; whitespace is ignored.
pub(super) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(core::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// Serialize after a 3-byte prefix of 0xa5 (so alignment must be relative to the body start),
/// check the prefix was not touched and return the body.
pub(super) fn emit_after_prefix<T: Serialize + ?Sized>(value: &T, endian: Endianness) -> Vec<u8> {
    let mut out = vec![0xa5; 3];
    serialize_into(&mut out, value, endian).unwrap();
    assert_eq!(&out[..3], &[0xa5; 3], "bytes before the body were touched");
    let body = out.split_off(3);
    assert_eq!(body, to_vec(value, endian).unwrap());
    body
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Inner {
    a: u8,
    b: u16,
    c: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Outer {
    flag: bool,
    inner: Inner,
    name: String,
    big: u64,
    seq: Vec<u16>,
    arr: [u8; 3],
    tail: i32,
}

fn outer() -> Outer {
    Outer {
        flag: true,
        inner: Inner {
            a: 0x11,
            b: 0x2233,
            c: 0x4455_6677,
        },
        name: "hello".into(),
        big: 0x0102_0304_0506_0708,
        seq: vec![1, 2],
        arr: [7, 8, 9],
        tail: -2,
    }
}

const OUTER_LE: &str = "
    01 11 3322 77665544
    06000000 68656c6c6f00 000000000000
    0807060504030201
    02000000 0100 0200
    070809 00
    feffffff";

const OUTER_BE: &str = "
    01 11 2233 44556677
    00000006 68656c6c6f00 000000000000
    0102030405060708
    00000002 0001 0002
    070809 00
    fffffffe";

#[test]
fn nested_struct_golden_bytes_little_endian_with_padding() {
    let body = emit_after_prefix(&outer(), Endianness::Little);
    assert_eq!(body, hex(OUTER_LE));
    assert_eq!(
        from_bytes::<Outer>(&body, Endianness::Little).unwrap(),
        outer()
    );
}

#[test]
fn nested_struct_golden_bytes_big_endian_with_padding() {
    let body = emit_after_prefix(&outer(), Endianness::Big);
    assert_eq!(body, hex(OUTER_BE));
    assert_eq!(
        from_bytes::<Outer>(&body, Endianness::Big).unwrap(),
        outer()
    );
}

#[test]
fn payload_has_the_encapsulation_header_and_body_aligned_after_it() {
    let le = to_payload(&outer(), Endianness::Little).unwrap();
    assert_eq!(&le[..4], &[0, 1, 0, 0]);
    assert_eq!(&le[4..], &hex(OUTER_LE)[..]);
    let be = to_payload(&outer(), Endianness::Big).unwrap();
    assert_eq!(&be[..4], &[0, 0, 0, 0]);
    assert_eq!(&be[4..], &hex(OUTER_BE)[..]);
    assert_eq!(from_payload::<Outer>(&le).unwrap(), outer());
    assert_eq!(from_payload::<Outer>(&be).unwrap(), outer());

    let mut reused = vec![0xa5; 5];
    serialize_payload_into(&mut reused, &outer(), Endianness::Little).unwrap();
    assert_eq!(&reused[..5], &[0xa5; 5]);
    assert_eq!(&reused[5..], &le[..]);
}

#[test]
fn every_truncation_of_a_struct_fails() {
    for endian in [Endianness::Little, Endianness::Big] {
        let body = to_vec(&outer(), endian).unwrap();
        for n in 0..body.len() {
            let r = from_bytes::<Outer>(&body[..n], endian);
            assert!(r.is_err(), "decoded from {n} of {} bytes", body.len());
        }
        let payload = to_payload(&outer(), endian).unwrap();
        for n in 0..payload.len() {
            assert!(from_payload::<Outer>(&payload[..n]).is_err());
        }
    }
}

#[test]
fn trailing_bytes_after_the_value_are_ignored() {
    let mut body = hex(OUTER_LE);
    body.extend_from_slice(&[0xa5, 0xa5, 0xa5]);
    assert_eq!(
        from_bytes::<Outer>(&body, Endianness::Little).unwrap(),
        outer()
    );
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Shape {
    Empty,
    Circle(u32),
    Rect { w: u16, h: u16 },
    Pair(u8, u64),
}

#[test]
fn enums_are_a_u32_variant_index_then_the_content() {
    let cases = [
        (Shape::Empty, "00000000"),
        (Shape::Circle(5), "01000000 05000000"),
        (Shape::Rect { w: 1, h: 2 }, "02000000 0100 0200"),
        (Shape::Pair(9, 1), "03000000 09 000000 0100000000000000"),
    ];
    for (shape, bytes) in cases {
        let body = emit_after_prefix(&shape, Endianness::Little);
        assert_eq!(body, hex(bytes), "{shape:?}");
        assert_eq!(
            from_bytes::<Shape>(&body, Endianness::Little).unwrap(),
            shape
        );
    }
    assert_eq!(
        to_vec(&Shape::Circle(5), Endianness::Big).unwrap(),
        hex("00000001 00000005")
    );
}

#[test]
fn an_enum_index_out_of_range_is_an_error() {
    let r = from_bytes::<Shape>(&hex("04000000"), Endianness::Little);
    assert!(matches!(r, Err(CdrError::Message(_))), "{r:?}");
}

#[test]
fn maps_are_counted_sequences_of_pairs() {
    let map: BTreeMap<u8, String> = [(1, "a".to_string()), (2, String::new())].into();
    let body = emit_after_prefix(&map, Endianness::Little);
    assert_eq!(
        body,
        hex("02000000 01 000000 02000000 6100 02 00 01000000 00")
    );
    assert_eq!(
        from_bytes::<BTreeMap<u8, String>>(&body, Endianness::Little).unwrap(),
        map
    );
}

#[test]
fn units_unit_structs_and_newtypes_are_transparent() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Unit;
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Wrap(u16);
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct S((), Unit, Wrap, (u8, u32));

    let v = S((), Unit, Wrap(0x0102), (3, 4));
    let body = emit_after_prefix(&v, Endianness::Big);
    assert_eq!(body, hex("0102 03 00 00000004"));
    assert_eq!(from_bytes::<S>(&body, Endianness::Big).unwrap(), v);
}

#[test]
fn floats_and_signed_integers_use_their_bit_patterns() {
    let v = (1.5f32, -1.0f64, -1i8, -2i16, -3i64);
    let body = emit_after_prefix(&v, Endianness::Little);
    assert_eq!(
        body,
        hex("0000c03f 00000000 000000000000f0bf ff 00 feff 00000000 fdffffffffffffff")
    );
    assert_eq!(
        from_bytes::<(f32, f64, i8, i16, i64)>(&body, Endianness::Little).unwrap(),
        v
    );
}

#[test]
fn strings_have_a_length_with_the_nul_and_the_nul() {
    assert_eq!(to_vec("", Endianness::Little).unwrap(), hex("01000000 00"));
    assert_eq!(
        to_vec("ab", Endianness::Big).unwrap(),
        hex("00000003 616200")
    );
    assert_eq!(
        from_bytes::<String>(&hex("00000000"), Endianness::Little).unwrap(),
        "",
        "length 0 is read as empty (Fast CDR)"
    );
    assert_eq!(
        to_vec("a\0b", Endianness::Little),
        Err(CdrError::Invalid("string (embedded NUL)"))
    );
}

#[test]
fn malformed_strings_are_refused() {
    let cases = [
        (
            "03000000 616262",
            CdrError::Invalid("string (no NUL terminator)"),
        ),
        (
            "03000000 610062",
            CdrError::Invalid("string (no NUL terminator)"),
        ),
        (
            "03000000 610000",
            CdrError::Invalid("string (embedded NUL)"),
        ),
        ("03000000 ff6100", CdrError::Invalid("string (not UTF-8)")),
        ("05000000 616200", CdrError::Truncated("string")),
        ("0500", CdrError::Truncated("string length")),
    ];
    for (bytes, err) in cases {
        assert_eq!(
            from_bytes::<String>(&hex(bytes), Endianness::Little),
            Err(err.clone()),
            "{bytes}"
        );
        assert_eq!(
            from_bytes::<&str>(&hex(bytes), Endianness::Little),
            Err(err)
        );
    }
}

#[test]
fn booleans_accept_only_zero_and_one() {
    assert_eq!(from_bytes::<bool>(&[0], Endianness::Little), Ok(false));
    assert_eq!(from_bytes::<bool>(&[1], Endianness::Little), Ok(true));
    assert_eq!(
        from_bytes::<bool>(&[2], Endianness::Little),
        Err(CdrError::Invalid("bool (octet not 0 or 1)"))
    );
    assert_eq!(to_vec(&(true, false), Endianness::Big).unwrap(), vec![1, 0]);
}

#[test]
fn chars_are_one_ascii_octet() {
    assert_eq!(to_vec(&'A', Endianness::Little).unwrap(), vec![0x41]);
    assert!(matches!(
        to_vec(&'é', Endianness::Little),
        Err(CdrError::Invalid(_))
    ));
    assert_eq!(from_bytes::<char>(&[0x7a], Endianness::Big), Ok('z'));
    assert!(from_bytes::<char>(&[0xe9], Endianness::Big).is_err());
}

#[test]
fn options_and_128_bit_integers_are_unsupported() {
    assert!(matches!(
        to_vec(&Some(1u8), Endianness::Little),
        Err(CdrError::Unsupported(_))
    ));
    assert!(matches!(
        to_vec(&None::<u8>, Endianness::Little),
        Err(CdrError::Unsupported(_))
    ));
    assert!(matches!(
        from_bytes::<Option<u8>>(&[1, 1], Endianness::Little),
        Err(CdrError::Unsupported(_))
    ));
    assert!(matches!(
        to_vec(&1u128, Endianness::Little),
        Err(CdrError::Unsupported(_))
    ));
    assert!(matches!(
        from_bytes::<i128>(&[0; 16], Endianness::Little),
        Err(CdrError::Unsupported(_))
    ));
}

#[test]
fn self_describing_serde_features_are_unsupported() {
    #[derive(Debug, Serialize, Deserialize)]
    #[serde(untagged)]
    enum Untagged {
        A(u32),
    }
    assert!(matches!(
        from_bytes::<Untagged>(&[0; 4], Endianness::Little),
        Err(CdrError::Unsupported(_))
    ));

    #[derive(Debug, Serialize)]
    struct Skips {
        #[serde(skip_serializing_if = "Option::is_none")]
        x: Option<u8>,
    }
    assert!(matches!(
        to_vec(&Skips { x: None }, Endianness::Little),
        Err(CdrError::Unsupported(_))
    ));
}

#[test]
fn a_failed_serialize_into_leaves_the_buffer_as_it_was() {
    let mut out = vec![0xa5; 2];
    let r = serialize_into(&mut out, &(1u32, "a\0", 2u8), Endianness::Little);
    assert!(r.is_err());
    assert_eq!(out, vec![0xa5; 2]);
    let r = serialize_payload_into(&mut out, &(1u32, Some(1u8)), Endianness::Little);
    assert!(r.is_err());
    assert_eq!(out, vec![0xa5; 2]);
}

#[test]
fn octet_sequences_and_the_bytes_helper_share_one_wire_form() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Slow {
        tag: u8,
        data: Vec<u8>,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Fast {
        tag: u8,
        #[serde(with = "crate::cdr::bytes")]
        data: Vec<u8>,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Borrowed<'a> {
        tag: u8,
        #[serde(borrow)]
        data: &'a [u8],
    }
    let slow = emit_after_prefix(
        &Slow {
            tag: 9,
            data: vec![1, 2, 3],
        },
        Endianness::Little,
    );
    let fast = emit_after_prefix(
        &Fast {
            tag: 9,
            data: vec![1, 2, 3],
        },
        Endianness::Little,
    );
    assert_eq!(slow, hex("09 000000 03000000 010203"));
    assert_eq!(fast, slow);
    let back: Fast = from_bytes(&slow, Endianness::Little).unwrap();
    assert_eq!(back.data, vec![1, 2, 3]);
    let back: Slow = from_bytes(&fast, Endianness::Little).unwrap();
    assert_eq!(back.data, vec![1, 2, 3]);
    let b: Borrowed<'_> = from_bytes(&fast, Endianness::Little).unwrap();
    assert_eq!(b.data, &[1, 2, 3]);
    assert!(
        core::ptr::eq(b.data.as_ptr(), fast[8..].as_ptr()),
        "zero copy"
    );
}

#[test]
fn borrowed_strings_are_zero_copy() {
    #[derive(Debug, Deserialize)]
    struct S<'a> {
        _n: u8,
        text: &'a str,
    }
    let body = to_vec(&(7u8, "borrowed"), Endianness::Big).unwrap();
    let s: S<'_> = from_bytes(&body, Endianness::Big).unwrap();
    assert_eq!(s.text, "borrowed");
    assert!(core::ptr::eq(s.text.as_ptr(), body[8..].as_ptr()));
}

#[test]
fn raw_octets_have_no_count_and_borrow_exactly_len_bytes() {
    let body = emit_after_prefix(&(1u8, RawOctets(&[4, 5, 6]), 2u8), Endianness::Little);
    assert_eq!(body, hex("01 040506 02"));
    let mut de = Deserializer::new(&body, Endianness::Little);
    let got = serde::de::DeserializeSeed::deserialize(RawOctetsSeed { len: 4 }, &mut de).unwrap();
    assert_eq!(got, &[1, 4, 5, 6]);
    assert_eq!(de.position(), 4);
    assert_eq!(de.remaining(), 1);
    let mut de = Deserializer::new(&body, Endianness::Little);
    let r = serde::de::DeserializeSeed::deserialize(RawOctetsSeed { len: 6 }, &mut de);
    assert_eq!(r, Err(CdrError::Truncated("raw octets")));
}

#[test]
fn a_hostile_sequence_count_fails_before_allocating() {
    let body = hex("ffffffff 01020304");
    for endian in [Endianness::Little, Endianness::Big] {
        assert_eq!(
            from_bytes::<Vec<u64>>(&body, endian),
            Err(CdrError::TooLarge("sequence count"))
        );
        assert_eq!(
            from_bytes::<Vec<String>>(&body, endian),
            Err(CdrError::TooLarge("sequence count"))
        );
        assert_eq!(
            from_bytes::<BTreeMap<u32, u32>>(&body, endian),
            Err(CdrError::TooLarge("map count"))
        );
        assert_eq!(
            from_bytes::<Vec<()>>(&body, endian),
            Err(CdrError::TooLarge("sequence count"))
        );
        assert_eq!(
            from_bytes::<String>(&body, endian),
            Err(CdrError::Truncated("string"))
        );
        assert_eq!(
            from_bytes::<serde_like::Bytes>(&body, endian).map(|b| b.0.len()),
            Err(CdrError::Truncated("octet sequence"))
        );
    }
}

/// A `Vec<u8>` read through the bytes helper.
mod serde_like {
    #[derive(Debug, serde::Deserialize)]
    pub struct Bytes(#[serde(with = "crate::cdr::bytes")] pub Vec<u8>);
}

#[test]
fn nested_counts_of_zero_sized_elements_are_bounded_by_the_input() {
    // An outer count of K inner sequences of `()`, each claiming as many elements as there are
    // bytes left: ~2K^2 elements for 4K bytes of input, which must stop at the budget.
    let k: u32 = 2000;
    let mut body = k.to_le_bytes().to_vec();
    for i in 0..k {
        body.extend_from_slice(&(4 * (k - 1 - i)).to_le_bytes());
    }
    assert_eq!(
        from_bytes::<Vec<Vec<()>>>(&body, Endianness::Little),
        Err(CdrError::TooLarge("count of zero-sized elements"))
    );
    // An honest short one decodes.
    let v = vec![vec![(); 2], vec![]];
    let body = to_vec(&v, Endianness::Little).unwrap();
    let mut padded = body.clone();
    padded.extend_from_slice(&[0; 8]);
    assert_eq!(
        from_bytes::<Vec<Vec<()>>>(&padded, Endianness::Little).unwrap(),
        v
    );
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Node {
    kids: Vec<Node>,
}

fn chain(depth: usize) -> Vec<u8> {
    let mut body = Vec::new();
    for _ in 0..depth {
        body.extend_from_slice(&1u32.to_le_bytes());
    }
    body.extend_from_slice(&0u32.to_le_bytes());
    body
}

#[test]
fn nesting_deeper_than_the_cap_is_refused_without_recursing_further() {
    // Each level is a struct and a sequence: two levels of nesting.
    let ok = from_bytes::<Node>(&chain(MAX_DEPTH / 2 - 1), Endianness::Little).unwrap();
    assert_eq!(
        to_vec(&ok, Endianness::Little).unwrap(),
        chain(MAX_DEPTH / 2 - 1)
    );
    assert_eq!(
        from_bytes::<Node>(&chain(MAX_DEPTH / 2), Endianness::Little),
        Err(CdrError::TooLarge("nesting depth"))
    );
    assert_eq!(
        from_bytes::<Node>(&chain(100_000), Endianness::Little),
        Err(CdrError::TooLarge("nesting depth"))
    );
}

#[test]
fn payloads_that_are_not_plain_cdr_are_unsupported() {
    for kind in [
        [0, 2],
        [0, 3],
        [0, 6],
        [0, 7],
        [0, 9],
        [0, 0x0b],
        [0x12, 0x34],
    ] {
        let payload = [kind[0], kind[1], 0, 0, 1, 0, 0, 0];
        assert!(
            matches!(from_payload::<u32>(&payload), Err(CdrError::Unsupported(_))),
            "{kind:?}"
        );
    }
    assert_eq!(
        from_payload::<u32>(&[0, 1, 0]),
        Err(CdrError::Truncated("encapsulation header"))
    );
    // Options (e.g. Cyclone's padding count) are ignored.
    assert_eq!(from_payload::<u32>(&[0, 1, 0, 3, 7, 0, 0, 0]), Ok(7));
    assert_eq!(from_payload::<u32>(&[0, 0, 0, 0, 0, 0, 0, 7]), Ok(7));
}

#[test]
#[ignore = "needs the reference folder ../shared or $AMLIP_SHARED: run with cargo test -- --include-ignored"]
fn the_hostile_rtps_corpus_never_panics_the_cdr_fuzz_entry() {
    // The reference folder: `$AMLIP_SHARED`, or else beside the workspace (as rtps/tests/support).
    let shared = std::env::var_os("AMLIP_SHARED").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
        std::path::PathBuf::from,
    );
    let root = shared.join("corpus");
    let dirs = std::fs::read_dir(&root).unwrap_or_else(|e| {
        panic!(
            "needs the reference folder ../shared or $AMLIP_SHARED: no corpus at {}: {e}",
            root.display()
        )
    });
    let mut files = 0;
    for dir in dirs.flatten().filter(|d| d.path().is_dir()) {
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let data = std::fs::read(file.path()).unwrap();
            // The whole datagram, and the bytes from every 4-octet offset in its first 64.
            for at in (0..data.len().min(64)).step_by(4) {
                crate::fuzzing::cdr_deserialize(&data[at..]);
            }
            files += 1;
        }
    }
    assert!(files > 0, "empty corpus at {}", root.display());
}
