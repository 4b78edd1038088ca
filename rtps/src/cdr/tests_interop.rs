//! Interop goldens: the AML-IP byte examples of amlip-protocol.md §3.10 expressed as plain serde
//! structs, and `interop::Message` samples captured from Fast DDS and Cyclone DDS
//! (shared/captures/*.pcap, user DATA submessages).

use core::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Serialize};

use super::tests::{emit_after_prefix, hex};
use super::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AmlipId {
    name: String,
    rand: [u8; 4],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct MsRequest {
    client_id: AmlipId,
    task_id: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct MsReference {
    client_id: AmlipId,
    task_id: u32,
    server_id: AmlipId,
}

/// `GenericDataType`: `u32 data_size`, `bool` flag, `data_size` raw octets (§3.7).
#[derive(Debug, Clone, PartialEq)]
struct GenericData {
    data: Vec<u8>,
    owned: bool,
}

impl Serialize for GenericData {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let size = u32::try_from(self.data.len()).map_err(serde::ser::Error::custom)?;
        let mut t = s.serialize_tuple(3)?;
        t.serialize_element(&size)?;
        t.serialize_element(&self.owned)?;
        t.serialize_element(&RawOctets(&self.data))?;
        t.end()
    }
}

impl<'de> Deserialize<'de> for GenericData {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = GenericData;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("GenericDataType")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<GenericData, A::Error> {
                let size: u32 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let owned: bool = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                let len = usize::try_from(size).map_err(de::Error::custom)?;
                let data = seq
                    .next_element_seed(RawOctetsSeed { len })?
                    .ok_or_else(|| de::Error::invalid_length(2, &self))?;
                Ok(GenericData {
                    data: data.to_vec(),
                    owned,
                })
            }
        }
        d.deserialize_tuple(3, V)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct MsData {
    client_id: AmlipId,
    task_id: u32,
    server_id: AmlipId,
    data: GenericData,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[allow(dead_code)]
enum NodeKind {
    Undetermined,
    Discovery,
    Agent,
    Main,
    Computing,
    Status,
    Meta,
    Edge,
    Inference,
    ModelReceiver,
    ModelSender,
    Fiware,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[allow(dead_code)]
enum StateKind {
    Unknown,
    Running,
    Stopped,
    Dropped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Status {
    id: AmlipId,
    node_kind: NodeKind,
    state: StateKind,
}

fn client() -> AmlipId {
    AmlipId {
        name: "AMLMainNode".into(),
        rand: [0xaa, 0xa5, 0x47, 0xfe],
    }
}

fn server() -> AmlipId {
    AmlipId {
        name: "AMLComputingNode".into(),
        rand: [0xd1, 0xc3, 0x86, 0x0a],
    }
}

const MS_REQUEST: &str = "
    00 01 00 00 0c 00 00 00 41 4d 4c 4d 61 69 6e 4e
    6f 64 65 00 aa a5 47 fe 00 00 00 00";
const MS_REFERENCE: &str = "
    00 01 00 00 0c 00 00 00 41 4d 4c 4d 61 69 6e 4e
    6f 64 65 00 aa a5 47 fe 00 00 00 00 11 00 00 00
    41 4d 4c 43 6f 6d 70 75 74 69 6e 67 4e 6f 64 65
    00 d1 c3 86 0a";
const MS_DATA: &str = "
    00 01 00 00 0c 00 00 00 41 4d 4c 4d 61 69 6e 4e
    6f 64 65 00 aa a5 47 fe 00 00 00 00 11 00 00 00
    41 4d 4c 43 6f 6d 70 75 74 69 6e 67 4e 6f 64 65
    00 d1 c3 86 0a 00 00 00 09 00 00 00 01 66 69 72
    73 74 5f 6a 6f 62";
const STATUS: &str = "
    00 01 00 00 0c 00 00 00 41 4d 4c 4d 61 69 6e 4e
    6f 64 65 00 aa a5 47 fe 03 00 00 00 01 00 00 00";

/// The same values big-endian: header `00 00`, every `u32` byte-swapped.
const MS_REQUEST_BE: &str = "
    00 00 00 00 00 00 00 0c 41 4d 4c 4d 61 69 6e 4e
    6f 64 65 00 aa a5 47 fe 00 00 00 00";
const STATUS_BE: &str = "
    00 00 00 00 00 00 00 0c 41 4d 4c 4d 61 69 6e 4e
    6f 64 65 00 aa a5 47 fe 00 00 00 03 00 00 00 01";

/// Encode to exactly `golden`, decode it back, also with 1 to 3 trailing junk bytes (the RTPS
/// padding Fast DDS counts in the payload), and round-trip through big-endian.
fn check_golden<T>(value: &T, golden: &str)
where
    T: Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug,
{
    let golden = hex(golden);
    assert_eq!(to_payload(value, Endianness::Little).unwrap(), golden);
    assert_eq!(&from_payload::<T>(&golden).unwrap(), value);
    for junk in 1..=3 {
        let mut padded = golden.clone();
        padded.extend(core::iter::repeat_n(0xa5, junk));
        assert_eq!(&from_payload::<T>(&padded).unwrap(), value);
    }
    let be = to_payload(value, Endianness::Big).unwrap();
    assert_eq!(be.len(), golden.len());
    assert_eq!(&from_payload::<T>(&be).unwrap(), value);
    for n in 0..golden.len() {
        assert!(from_payload::<T>(&golden[..n]).is_err(), "{n}");
    }
}

#[test]
fn amlip_ms_request_matches_the_worked_example() {
    let v = MsRequest {
        client_id: client(),
        task_id: 0,
    };
    check_golden(&v, MS_REQUEST);
    assert_eq!(to_payload(&v, Endianness::Big).unwrap(), hex(MS_REQUEST_BE));
}

#[test]
fn amlip_ms_reference_matches_the_worked_example() {
    let v = MsReference {
        client_id: client(),
        task_id: 0,
        server_id: server(),
    };
    check_golden(&v, MS_REFERENCE);
}

#[test]
fn amlip_ms_data_with_raw_job_bytes_matches_the_worked_example() {
    let v = MsData {
        client_id: client(),
        task_id: 0,
        server_id: server(),
        data: GenericData {
            data: b"first_job".to_vec(),
            owned: true,
        },
    };
    check_golden(&v, MS_DATA);
}

#[test]
fn amlip_generic_data_with_a_hostile_size_fails_without_allocating() {
    // data_size 0xffffffff with three octets left.
    let body = hex("ffffffff 01 616263");
    assert_eq!(
        from_bytes::<GenericData>(&body, Endianness::Little),
        Err(CdrError::Truncated("raw octets"))
    );
    let empty = GenericData {
        data: Vec::new(),
        owned: false,
    };
    assert_eq!(
        emit_after_prefix(&empty, Endianness::Little),
        hex("00000000 00")
    );
}

#[test]
fn amlip_status_enums_are_u32_discriminants() {
    let v = Status {
        id: client(),
        node_kind: NodeKind::Main,
        state: StateKind::Running,
    };
    check_golden(&v, STATUS);
    assert_eq!(to_payload(&v, Endianness::Big).unwrap(), hex(STATUS_BE));
    let fiware = to_vec(&NodeKind::Fiware, Endianness::Little).unwrap();
    assert_eq!(fiware, hex("0b000000"));
    assert!(from_bytes::<NodeKind>(&hex("0c000000"), Endianness::Little).is_err());
}

#[test]
fn amlip_undefined_id_is_an_empty_string_and_zero_rand() {
    let undefined = AmlipId {
        name: String::new(),
        rand: [0; 4],
    };
    assert_eq!(
        emit_after_prefix(&undefined, Endianness::Little),
        hex("01 00 00 00 00 00 00 00 00")
    );
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Message {
    seq: u32,
    text: String,
}

/// The 64-character text of sample `seq` in the captures: `a..z` cycled, starting at `seq`.
fn capture_text(seq: u32) -> String {
    (0..64u32)
        .map(|i| char::from(b'a' + ((seq + i) % 26) as u8))
        .collect()
}

/// First user DATA payload of fastdds-to-fastdds.pcap (80 octets: 77 + 3 RTPS padding).
const FASTDDS_SAMPLE_1: &str = "
    00010000 01000000 41000000
    62636465666768696a6b6c6d6e6f707172737475767778797a6162636465666768696a6b6c6d
    6e6f707172737475767778797a6162636465666768696a6b6c6d 00 000000";
/// Fifth user DATA payload of fastdds-to-fastdds.pcap.
const FASTDDS_SAMPLE_5: &str = "
    00010000 05000000 41000000
    666768696a6b6c6d6e6f707172737475767778797a6162636465666768696a6b6c6d6e6f7071
    72737475767778797a6162636465666768696a6b6c6d6e6f7071 00 000000";
/// First user DATA payload of cyclone-to-cyclone.pcap: options `00 03` (3 octets of padding).
const CYCLONE_SAMPLE_1: &str = "
    00010003 01000000 41000000
    62636465666768696a6b6c6d6e6f707172737475767778797a6162636465666768696a6b6c6d
    6e6f707172737475767778797a6162636465666768696a6b6c6d 00 000000";

#[test]
fn captured_fast_dds_and_cyclone_messages_decode_to_seq_and_text() {
    for (payload, seq) in [
        (FASTDDS_SAMPLE_1, 1),
        (FASTDDS_SAMPLE_5, 5),
        (CYCLONE_SAMPLE_1, 1),
    ] {
        let payload = hex(payload);
        assert_eq!(payload.len(), 80);
        let m: Message = from_payload(&payload).unwrap();
        assert_eq!(m.seq, seq);
        assert_eq!(m.text, capture_text(seq));
        // Borrowed decoding works on the same bytes.
        let (s, text): (u32, &str) = from_payload(&payload).unwrap();
        assert_eq!((s, text), (seq, m.text.as_str()));
    }
}

#[test]
fn our_message_payload_is_the_captured_one_without_rtps_padding() {
    let m = Message {
        seq: 1,
        text: capture_text(1),
    };
    let ours = to_payload(&m, Endianness::Little).unwrap();
    let captured = hex(FASTDDS_SAMPLE_1);
    assert_eq!(ours.len(), 77);
    assert_eq!(&captured[..77], &ours[..]);
}

#[test]
fn deserializer_exposes_how_much_of_the_body_a_value_took() {
    let payload = hex(FASTDDS_SAMPLE_1);
    let (_, _, body) = split_encapsulation(&payload).unwrap();
    let mut de = Deserializer::new(body, Endianness::Little);
    let m = Message::deserialize(&mut de).unwrap();
    assert_eq!(m.seq, 1);
    assert_eq!(de.position(), 73);
    assert_eq!(de.remaining(), 3);
    assert_eq!(de.endian(), Endianness::Little);
}
