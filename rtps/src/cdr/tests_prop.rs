//! Proptest round trips of nested structs with sequences, strings, enums, tuples and maps in
//! both byte orders, and no-panic checks on arbitrary and mutated input.

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;

use super::fuzz::{round_trip, Event, Inner, Sample, Tree};
use super::*;

fn text() -> impl Strategy<Value = String> {
    "[^\\x00]{0,12}"
}

fn inner() -> impl Strategy<Value = Inner> {
    (any::<u8>(), any::<u64>(), text(), vec(any::<u8>(), 0..8)).prop_map(
        |(tag, value, label, octets)| Inner {
            tag,
            value,
            label,
            octets,
        },
    )
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::Start),
        any::<u32>().prop_map(Event::Tick),
        (any::<i16>(), any::<i16>()).prop_map(|(dx, dy)| Event::Move { dx, dy }),
        (text(), any::<u8>()).prop_map(|(s, n)| Event::Note(s, n)),
        inner().prop_map(|i| Event::Nested(Box::new(i))),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = any::<u8>().prop_map(|value| Tree {
        value,
        kids: Vec::new(),
    });
    leaf.prop_recursive(5, 24, 3, |kid| {
        (any::<u8>(), vec(kid, 0..3)).prop_map(|(value, kids)| Tree { value, kids })
    })
}

prop_compose! {
    fn sample()(
        id in any::<u32>(),
        flag in any::<bool>(),
        name in text(),
        small in (any::<u8>(), any::<i16>(), proptest::char::range('\0', '\x7f')),
        big in any::<i64>(),
        inner in vec(inner(), 0..4),
        events in vec(event(), 0..5),
        arr in any::<[u16; 3]>(),
        map in btree_map(any::<u16>(), text(), 0..4),
        blob in vec(any::<u8>(), 0..16),
        words in vec(vec(text(), 0..3), 0..3),
        tree in tree(),
    ) -> Sample {
        Sample { id, flag, name, small, big, inner, events, arr, map, blob, words, tree }
    }
}

fn endian() -> impl Strategy<Value = Endianness> {
    prop_oneof![Just(Endianness::Little), Just(Endianness::Big)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn nested_samples_round_trip_in_both_byte_orders(s in sample(), e in endian()) {
        let body = to_vec(&s, e).unwrap();
        prop_assert_eq!(from_bytes::<Sample>(&body, e).unwrap(), s.clone());
        let payload = to_payload(&s, e).unwrap();
        prop_assert_eq!(&payload[4..], &body[..]);
        prop_assert_eq!(from_payload::<Sample>(&payload).unwrap(), s);
    }

    #[test]
    fn alignment_is_relative_to_the_body_start_whatever_precedes_it(
        s in sample(), e in endian(), prefix in 0usize..9,
    ) {
        let mut out = vec![0xa5; prefix];
        serialize_into(&mut out, &s, e).unwrap();
        prop_assert!(out[..prefix].iter().all(|&b| b == 0xa5));
        prop_assert_eq!(&out[prefix..], &to_vec(&s, e).unwrap()[..]);
    }

    #[test]
    fn the_two_byte_orders_differ_only_in_byte_order_not_in_length(s in sample()) {
        let le = to_vec(&s, Endianness::Little).unwrap();
        let be = to_vec(&s, Endianness::Big).unwrap();
        prop_assert_eq!(le.len(), be.len());
        // Decoding with the wrong byte order must not panic (it may succeed or fail).
        let _ = from_bytes::<Sample>(&le, Endianness::Big);
    }

    #[test]
    fn tuples_of_primitives_and_strings_round_trip(
        v in (any::<u8>(), any::<u16>(), text(), any::<i32>(), any::<u64>(), any::<bool>()),
        e in endian(),
    ) {
        let body = to_vec(&v, e).unwrap();
        prop_assert_eq!(from_bytes::<(u8, u16, String, i32, u64, bool)>(&body, e).unwrap(), v);
    }

    #[test]
    fn every_truncation_of_a_sample_fails(s in sample(), e in endian()) {
        let body = to_vec(&s, e).unwrap();
        for n in 0..body.len() {
            prop_assert!(from_bytes::<Sample>(&body[..n], e).is_err());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_round_trip_when_they_decode(
        data in vec(any::<u8>(), 0..256),
    ) {
        round_trip(&data);
    }

    #[test]
    fn mutated_encodings_never_panic_and_round_trip_when_they_decode(
        s in sample(), e in endian(), flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut body = to_vec(&s, e).unwrap();
        for (at, v) in flips {
            let i = at.index(body.len());
            body[i] = v;
        }
        round_trip(&body);
        let len = cut.index(body.len() + 1);
        round_trip(&body[..len]);
    }
}
