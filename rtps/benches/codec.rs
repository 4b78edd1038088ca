//! Codec micro-benches (architecture.md rule 10): parse and emit of the messages a participant
//! handles most, and CDR encode/decode of a small sample.
//!
//! `cargo bench -p rtps --bench codec` measures; `cargo test --benches` runs each once as a
//! smoke test. Parse benches walk every submessage (that is where the work is); emit benches
//! build the whole datagram into a reused buffer.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rtps::discovery::data::ParticipantData;
use rtps::wire::submessage::{
    AckNack, Data, Heartbeat, InfoDestination, InfoTimestamp, SerializedPayload,
};
use rtps::wire::{
    EntityId, GuidPrefix, Header, Message, MessageBuilder, SequenceNumber, SequenceNumberSet,
    Submessage, Time, Writer,
};
use serde::{Deserialize, Serialize};

/// A real Fast DDS 2.9 SPDP payload (PL_CDR_LE) from `shared/captures/fastdds-to-fastdds.pcap`.
const SPDP_PAYLOAD: &[u8] = include_bytes!("../src/discovery/testdata/fastdds29_spdp.bin");

const PREFIX: GuidPrefix = GuidPrefix([1, 15, 0x7f, 1, 0xf7, 0x78, 0x33, 0xde, 0, 0, 0, 0]);
const PEER: GuidPrefix = GuidPrefix([1, 16, 0x2a, 0x2a, 0, 0, 0, 0, 0, 0, 0, 1]);
const WRITER: EntityId = EntityId::from_u32(0x0000_0102);
const READER: EntityId = EntityId::from_u32(0x0000_0107);
const NOW: Time = Time {
    seconds: 1_764_500_000,
    fraction: 0x8000_0000,
};

/// Parse a datagram and walk every submessage, as the receiver does.
fn parse_and_walk(datagram: &[u8]) -> usize {
    let Ok(message) = Message::parse(datagram) else {
        return 0;
    };
    let mut n = 0;
    for sub in message.submessages().flatten() {
        black_box(&sub.submessage);
        n += 1;
    }
    n
}

/// Build a datagram from submessages into `buf`; returns its length.
fn build(buf: &mut [u8], prefix: GuidPrefix, subs: &[Submessage<'_>]) -> usize {
    let Ok(mut b) = MessageBuilder::new(buf, &Header::new(prefix)) else {
        return 0;
    };
    for s in subs {
        if b.push(s).is_err() {
            return 0;
        }
    }
    b.finish()
}

fn data_message<'a>(payload: &'a [u8], writer: EntityId) -> [Submessage<'a>; 2] {
    [
        Submessage::InfoTimestamp(InfoTimestamp {
            timestamp: Some(NOW),
        }),
        Submessage::Data(Data {
            reader_id: EntityId::UNKNOWN,
            writer_id: writer,
            writer_sn: SequenceNumber(42),
            inline_qos: None,
            payload: Some(SerializedPayload {
                bytes: payload,
                is_key: false,
            }),
        }),
    ]
}

fn heartbeat_message() -> [Submessage<'static>; 2] {
    [
        Submessage::InfoDestination(InfoDestination { guid_prefix: PEER }),
        Submessage::Heartbeat(Heartbeat {
            reader_id: EntityId::UNKNOWN,
            writer_id: WRITER,
            first_sn: SequenceNumber(1),
            last_sn: SequenceNumber(1000),
            count: 7,
            final_flag: false,
            liveliness_flag: false,
        }),
    ]
}

fn acknack_message() -> [Submessage<'static>; 2] {
    let mut set = SequenceNumberSet::new(SequenceNumber(1001));
    for sn in 1001..1001 + 256 {
        set.insert(SequenceNumber(sn));
    }
    [
        Submessage::InfoDestination(InfoDestination {
            guid_prefix: PREFIX,
        }),
        Submessage::AckNack(AckNack {
            reader_id: READER,
            writer_id: WRITER,
            reader_sn_state: set,
            count: 9,
            final_flag: true,
        }),
    ]
}

/// A small user sample: the interop type plus a few more members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Sample {
    seq: u32,
    stamp: u64,
    text: String,
    values: Vec<u32>,
    flag: bool,
}

fn sample() -> Sample {
    Sample {
        seq: 42,
        stamp: 1_764_500_000_123,
        text: "hello from amlip-rs, a small sample".to_owned(),
        values: (0..8).collect(),
        flag: true,
    }
}

fn messages(c: &mut Criterion) {
    let mut buf = vec![0u8; 65_536];
    let payload: Vec<u8> = [0x00, 0x01, 0x00, 0x00]
        .into_iter()
        .chain((0u8..60).map(|i| i.wrapping_mul(7)))
        .collect(); // CDR_LE header + 60 bytes = 64-byte serialized payload

    let cases: [(&str, GuidPrefix, Vec<Submessage<'_>>); 4] = [
        ("data64", PREFIX, data_message(&payload, WRITER).to_vec()),
        (
            "spdp",
            PREFIX,
            data_message(SPDP_PAYLOAD, EntityId::SPDP_PARTICIPANT_ANNOUNCER).to_vec(),
        ),
        ("heartbeat", PREFIX, heartbeat_message().to_vec()),
        ("acknack256", PEER, acknack_message().to_vec()),
    ];
    for (name, prefix, subs) in &cases {
        let len = build(&mut buf, *prefix, subs);
        assert!(len > 0, "{name}: message does not build");
        let datagram = buf[..len].to_vec();
        assert_eq!(
            parse_and_walk(&datagram),
            subs.len(),
            "{name}: does not re-parse"
        );
        c.bench_function(&format!("{name}/parse ({len} B)"), |b| {
            b.iter(|| parse_and_walk(black_box(&datagram)))
        });
        c.bench_function(&format!("{name}/emit ({len} B)"), |b| {
            b.iter(|| build(black_box(&mut buf), *prefix, black_box(subs)))
        });
    }
}

fn spdp_data(c: &mut Criterion) {
    let participant = ParticipantData::from_payload(SPDP_PAYLOAD).expect("real SPDP payload");
    let mut buf = vec![0u8; 65_536];
    let subs = data_message(SPDP_PAYLOAD, EntityId::SPDP_PARTICIPANT_ANNOUNCER);
    let len = build(&mut buf, PREFIX, &subs);
    let datagram = buf[..len].to_vec();
    // What a receiver does with an SPDP datagram: parse it and decode the participant data.
    c.bench_function("spdp/parse + ParticipantData::from_payload", |b| {
        b.iter(|| {
            let message = Message::parse(black_box(&datagram)).ok()?;
            for sub in message.submessages().flatten() {
                if let Submessage::Data(Data {
                    payload: Some(p), ..
                }) = sub.submessage
                {
                    return ParticipantData::from_payload(p.bytes).ok();
                }
            }
            None
        })
    });
    // What an announcer does: encode the participant data, then the datagram around it.
    let mut scratch = vec![0u8; 4096];
    c.bench_function("spdp/ParticipantData::emit_payload + emit", |b| {
        b.iter(|| {
            let mut w = Writer::new(&mut scratch, rtps::wire::Endianness::Little);
            black_box(&participant).emit_payload(&mut w).ok()?;
            let n = w.position();
            let subs = data_message(&scratch[..n], EntityId::SPDP_PARTICIPANT_ANNOUNCER);
            Some(build(&mut buf, PREFIX, &subs))
        })
    });
}

fn cdr(c: &mut Criterion) {
    let s = sample();
    let endian = rtps::wire::Endianness::Little;
    let body = rtps::cdr::to_vec(&s, endian).expect("sample encodes");
    let back: Sample = rtps::cdr::from_bytes(&body, endian).expect("sample decodes");
    assert_eq!(back, s);
    c.bench_function(&format!("cdr/to_vec ({} B)", body.len()), |b| {
        b.iter(|| rtps::cdr::to_vec(black_box(&s), endian))
    });
    c.bench_function(&format!("cdr/from_bytes ({} B)", body.len()), |b| {
        b.iter(|| rtps::cdr::from_bytes::<Sample>(black_box(&body), endian))
    });
}

criterion_group!(benches, messages, spdp_data, cdr);
criterion_main!(benches);
