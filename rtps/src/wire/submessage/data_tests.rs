//! Tests of DATA and DATA_FRAG: golden bytes in both orders, truncations, flag and length
//! validation, and proptest round trips.

use super::super::super::cursor::{Endianness, Reader, Writer};
use super::super::super::parameter::{emit_parameter, emit_sentinel, ParameterId};
use super::super::testutil::*;
use super::super::Submessage;
use super::*;
use proptest::prelude::*;

const W: EntityId = EntityId::SPDP_PARTICIPANT_ANNOUNCER;
const PAYLOAD: [u8; 8] = [0x00, 0x01, 0x00, 0x00, b'a', b'b', b'c', 0];

/// A list with `PID_STATUS_INFO = 1` in `e` order.
fn status_info(e: Endianness) -> Vec<u8> {
    let mut buf = vec![0u8; 12];
    let mut w = Writer::new(&mut buf, e);
    emit_parameter(&mut w, ParameterId::STATUS_INFO, |w| {
        w.put(&[0, 0, 0, 1], "v")
    })
    .unwrap();
    emit_sentinel(&mut w).unwrap();
    buf
}

fn qos(bytes: &[u8], e: Endianness) -> ParameterList<'_> {
    ParameterList::parse(&mut Reader::new(bytes, e)).unwrap()
}

fn data<'a>(qos: Option<ParameterList<'a>>, payload: &'a [u8]) -> Submessage<'a> {
    Submessage::Data(Data {
        reader_id: EntityId::UNKNOWN,
        writer_id: W,
        writer_sn: SequenceNumber(1),
        inline_qos: qos,
        payload: Some(SerializedPayload {
            bytes: payload,
            is_key: false,
        }),
    })
}

#[rustfmt::skip]
const DATA_LE: [u8; 44] = [
    0x15, 0x07, 40, 0,
    0, 0, 16, 0,
    0, 0, 0, 0, 0, 1, 0, 0xc2,
    0, 0, 0, 0, 1, 0, 0, 0,
    0x71, 0, 4, 0, 0, 0, 0, 1, 1, 0, 0, 0,
    0x00, 0x01, 0x00, 0x00, b'a', b'b', b'c', 0,
];

#[rustfmt::skip]
const DATA_BE: [u8; 44] = [
    0x15, 0x06, 0, 40,
    0, 0, 0, 16,
    0, 0, 0, 0, 0, 1, 0, 0xc2,
    0, 0, 0, 0, 0, 0, 0, 1,
    0, 0x71, 0, 4, 0, 0, 0, 1, 0, 1, 0, 0,
    0x00, 0x01, 0x00, 0x00, b'a', b'b', b'c', 0,
];

#[test]
fn data_golden_bytes_in_both_orders() {
    for (e, golden) in [(Endianness::Little, &DATA_LE), (Endianness::Big, &DATA_BE)] {
        let list = status_info(e);
        let s = data(Some(qos(&list, e)), &PAYLOAD);
        golden_round_trip(&s, e, golden);
        // Every cut into the fixed fields or the inline QoS fails; cuts into the payload are
        // just a shorter payload.
        truncations_fail(golden, 4 + 16 + 12);
    }
}

#[test]
fn data_cut_inside_its_payload_is_a_shorter_payload() {
    let mut b = DATA_LE[..4 + 20 + 12 + 3].to_vec();
    b[2] = 20 + 12 + 3;
    let Submessage::Data(d) = parse_one(&b).unwrap() else {
        panic!("not data")
    };
    assert_eq!(d.payload.unwrap().bytes, &PAYLOAD[..3]);
}

#[test]
fn data_without_payload_or_qos_is_just_the_fixed_fields() {
    let s = Submessage::Data(Data {
        reader_id: EntityId::UNKNOWN,
        writer_id: W,
        writer_sn: SequenceNumber(2),
        inline_qos: None,
        payload: None,
    });
    #[rustfmt::skip]
    let le = [
        0x15, 0x01, 20, 0, 0, 0, 16, 0,
        0, 0, 0, 0, 0, 1, 0, 0xc2, 0, 0, 0, 0, 2, 0, 0, 0,
    ];
    golden_round_trip(&s, Endianness::Little, &le);
    truncations_fail(&le, 20);
}

#[test]
fn data_key_payload_sets_the_k_flag() {
    let s = Submessage::Data(Data {
        reader_id: EntityId::UNKNOWN,
        writer_id: W,
        writer_sn: SequenceNumber(3),
        inline_qos: None,
        payload: Some(SerializedPayload {
            bytes: &PAYLOAD,
            is_key: true,
        }),
    });
    let b = emit_golden(&s, Endianness::Little);
    assert_eq!(b[1], 0x09);
    assert_eq!(parse_one(&b), Ok(s));
}

#[test]
fn data_with_both_d_and_k_is_invalid() {
    let mut b = DATA_LE;
    b[1] |= 0x08;
    assert_eq!(
        parse_one(&b),
        Err(ParseError::Invalid("data flags (both D and K)"))
    );
}

#[test]
fn data_honours_a_larger_octets_to_inline_qos_and_rejects_a_smaller_one() {
    // Insert 4 unknown octets before the inline QoS and say so in octetsToInlineQos.
    let mut b = DATA_LE[..24].to_vec();
    b.extend_from_slice(&[0xee; 4]);
    b.extend_from_slice(&DATA_LE[24..]);
    b[2] = 44;
    b[6] = 20;
    let list = status_info(Endianness::Little);
    assert_eq!(
        parse_one(&b),
        Ok(data(Some(qos(&list, Endianness::Little)), &PAYLOAD))
    );
    let mut b = DATA_LE;
    b[6] = 12;
    assert_eq!(parse_one(&b), Err(ParseError::Invalid("octetsToInlineQos")));
}

#[test]
fn data_payload_keeps_received_padding_and_emit_pads_to_four() {
    let s = data(None, &PAYLOAD[..5]);
    let b = emit_golden(&s, Endianness::Little);
    assert_eq!(b.len(), 4 + 20 + 8);
    assert_eq!(b[2], 28);
    assert_eq!(b[24..], [0, 1, 0, 0, b'a', 0, 0, 0]);
    assert_eq!(parse_one(&b), Ok(data(None, &[0, 1, 0, 0, b'a', 0, 0, 0])));
}

#[test]
fn data_refuses_inline_qos_in_the_other_byte_order() {
    let list = status_info(Endianness::Big);
    let s = data(Some(qos(&list, Endianness::Big)), &PAYLOAD);
    let mut buf = [0u8; 64];
    assert_eq!(
        s.emit(&mut Writer::new(&mut buf, Endianness::Little)),
        Err(EmitError::Unrepresentable("inline qos byte order"))
    );
}

fn frag<'a>(start: u32, count: u16, size: u16, sample: u32, fragments: &'a [u8]) -> DataFrag<'a> {
    DataFrag {
        reader_id: EntityId::UNKNOWN,
        writer_id: EntityId::from_u32(0x0000_0102),
        writer_sn: SequenceNumber(4),
        fragment_starting_num: start,
        fragments_in_submessage: count,
        fragment_size: size,
        sample_size: sample,
        inline_qos: None,
        is_key: false,
        fragments,
    }
}

#[test]
fn data_frag_golden_bytes_for_a_short_last_fragment() {
    let s = Submessage::DataFrag(frag(3, 1, 4, 10, &[9, 10]));
    #[rustfmt::skip]
    let le = [
        0x16, 0x01, 36, 0,
        0, 0, 28, 0,
        0, 0, 0, 0, 0, 0, 1, 2,
        0, 0, 0, 0, 4, 0, 0, 0,
        3, 0, 0, 0, 1, 0, 4, 0, 10, 0, 0, 0,
        9, 10, 0, 0,
    ];
    golden_round_trip(&s, Endianness::Little, &le);
    truncations_fail(&le, 4 + 28 + 2);
}

#[test]
fn data_frag_golden_bytes_with_inline_qos_big_endian() {
    let list = status_info(Endianness::Big);
    let mut f = frag(1, 2, 4, 10, &[1, 2, 3, 4, 5, 6, 7, 8]);
    f.inline_qos = Some(qos(&list, Endianness::Big));
    f.is_key = true;
    let s = Submessage::DataFrag(f);
    #[rustfmt::skip]
    let be = [
        0x16, 0x06, 0, 52,
        0, 0, 0, 28,
        0, 0, 0, 0, 0, 0, 1, 2,
        0, 0, 0, 0, 0, 0, 0, 4,
        0, 0, 0, 1, 0, 2, 0, 4, 0, 0, 0, 10,
        0, 0x71, 0, 4, 0, 0, 0, 1, 0, 1, 0, 0,
        1, 2, 3, 4, 5, 6, 7, 8,
    ];
    golden_round_trip(&s, Endianness::Big, &be);
    truncations_fail(&be, 52);
}

fn frag_bytes(f: DataFrag<'_>) -> Vec<u8> {
    // Emit a consistent fragment, then let the caller corrupt the fixed fields.
    emit_golden(&Submessage::DataFrag(f), Endianness::Little)
}

#[test]
fn data_frag_rejects_inconsistent_fragment_numbers() {
    let good = frag_bytes(frag(1, 2, 4, 10, &[0; 8]));
    let set = |at: usize, v: &[u8]| {
        let mut b = good.clone();
        b[at..at + v.len()].copy_from_slice(v);
        parse_one(&b).map(|_| ())
    };
    let inv = |what| Err(ParseError::Invalid(what));
    assert_eq!(set(30, &[0, 0]), inv("data_frag fragmentSize"));
    assert_eq!(set(24, &[0, 0, 0, 0]), inv("data_frag fragmentStartingNum"));
    assert_eq!(set(28, &[0, 0]), inv("data_frag fragmentsInSubmessage"));
    assert_eq!(set(24, &[4, 0, 0, 0]), inv("data_frag fragmentStartingNum"));
    assert_eq!(set(28, &[4, 0]), inv("data_frag fragmentsInSubmessage"));
    assert_eq!(set(32, &[0, 0, 0, 0]), inv("data_frag fragmentStartingNum"));
    // A sample larger than the fragments carried: the data is too short.
    assert_eq!(
        set(30, &[8, 0]),
        Err(ParseError::Truncated("data_frag fragments"))
    );
    assert_eq!(set(32, &[9, 0, 0, 0]), Ok(()));
}

#[test]
fn data_frag_cuts_padding_off_the_fragments() {
    let mut b = frag_bytes(frag(3, 1, 4, 10, &[9, 10]));
    b[38] = 0xee;
    let Submessage::DataFrag(f) = parse_one(&b).unwrap() else {
        panic!("not data_frag")
    };
    assert_eq!(f.fragments, &[9, 10]);
}

#[test]
fn data_frag_emit_refuses_an_inconsistent_representation() {
    let mut buf = [0u8; 128];
    let mut w = Writer::new(&mut buf, Endianness::Little);
    let s = Submessage::DataFrag(frag(1, 1, 4, 10, &[1, 2, 3]));
    assert_eq!(
        s.emit(&mut w),
        Err(EmitError::Unrepresentable("data_frag fragments length"))
    );
    let s = Submessage::DataFrag(frag(0, 1, 4, 10, &[1, 2, 3, 4]));
    assert!(s.emit(&mut w).is_err());
}

/// A parameter list in `e` order from (id, value words) pairs.
fn list_bytes(params: &[(u16, Vec<u32>)], e: Endianness) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let mut w = Writer::new(&mut buf, e);
    for (id, words) in params {
        emit_parameter(&mut w, ParameterId(*id), |w| {
            words.iter().try_for_each(|v| w.u32(*v, "v"))
        })
        .unwrap();
    }
    emit_sentinel(&mut w).unwrap();
    let n = w.position();
    buf.truncate(n);
    buf
}

fn params() -> impl Strategy<Value = Option<Vec<(u16, Vec<u32>)>>> {
    proptest::option::of(proptest::collection::vec(
        (
            any::<u16>().prop_filter("not a sentinel", |id| *id != 1),
            proptest::collection::vec(any::<u32>(), 0..4),
        ),
        0..5,
    ))
}

proptest! {
    #[test]
    fn datas_round_trip(
        r in entity_id(), w in entity_id(), sn in sn(), p in params(),
        payload in proptest::option::of((proptest::collection::vec(any::<u8>(), 0..64), any::<bool>())),
        e in endian(),
    ) {
        let list = p.map(|p| list_bytes(&p, e));
        let mut payload = payload;
        if let Some((bytes, _)) = payload.as_mut() {
            bytes.truncate(bytes.len() & !3);
        }
        let s = Submessage::Data(Data {
            reader_id: r,
            writer_id: w,
            writer_sn: sn,
            inline_qos: list.as_deref().map(|l| qos(l, e)),
            payload: payload.as_ref().map(|(bytes, is_key)| SerializedPayload { bytes, is_key: *is_key }),
        });
        round_trip(&s, e)?;
    }

    #[test]
    fn unaligned_data_payloads_come_back_zero_padded(payload in proptest::collection::vec(any::<u8>(), 0..64), e in endian()) {
        let b = emit_golden(&data(None, &payload), e);
        let mut padded = payload.clone();
        padded.resize(payload.len().div_ceil(4) * 4, 0);
        prop_assert_eq!(parse_one(&b), Ok(data(None, &padded)));
    }

    #[test]
    fn data_frags_round_trip(
        sample in 1u32..5000, size in 1u16..600, start_frac in 0.0f64..1.0, count_frac in 0.0f64..1.0,
        p in params(), is_key: bool, r in entity_id(), w in entity_id(), sn in sn(), e in endian(),
    ) {
        let total = sample.div_ceil(u32::from(size));
        let start = 1 + ((f64::from(total) * start_frac) as u32).min(total - 1);
        let left = total - start + 1;
        let count = (1 + ((f64::from(left) * count_frac) as u32).min(left - 1)).min(u32::from(u16::MAX)) as u16;
        let mut f = frag(start, count, size, sample, &[]);
        let len = f.expected_len().unwrap();
        let fragments: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let list = p.map(|p| list_bytes(&p, e));
        f.fragments = &fragments;
        f.inline_qos = list.as_deref().map(|l| qos(l, e));
        f.is_key = is_key;
        f.reader_id = r;
        f.writer_id = w;
        f.writer_sn = sn;
        round_trip(&Submessage::DataFrag(f), e)?;
    }
}
