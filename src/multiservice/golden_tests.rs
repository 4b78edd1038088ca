//! Golden bytes: the worked examples of AML-IP spec §3.10 and observed §7, their big-endian
//! re-encodings, and every AML-IP user payload captured from real nodes
//! (`shared/captures/amlip-{demo,status}.pcap`, extracted once into `testdata/*.samples`).

use rtps::wire::{EmitError, Endianness};

use super::codec::{DecodeError, Payload};
use super::id::{AmlipId, TaskId};
use super::status::{NodeKind, StateKind, Status};
use super::topics::{MultiServiceTopic, JOB_TOPIC_NAME, STATUS_TOPIC};
use super::types::{GenericData, MsData, MsReference, MsRequest};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn client() -> AmlipId {
    AmlipId::new("AMLMainNode", [0xaa, 0xa5, 0x47, 0xfe]).unwrap()
}

fn server() -> AmlipId {
    AmlipId::new("AMLComputingNode", [0xd1, 0xc3, 0x86, 0x0a]).unwrap()
}

fn request() -> MsRequest {
    MsRequest {
        client_id: client(),
        task_id: TaskId(0),
    }
}

fn reference() -> MsReference {
    MsReference::new(request(), server())
}

const REQUEST: &str = "00 01 00 00 0c 00 00 00 41 4d 4c 4d 61 69 6e 4e
                       6f 64 65 00 aa a5 47 fe 00 00 00 00";
const REFERENCE: &str = "00 01 00 00 0c 00 00 00 41 4d 4c 4d 61 69 6e 4e
                         6f 64 65 00 aa a5 47 fe 00 00 00 00 11 00 00 00
                         41 4d 4c 43 6f 6d 70 75 74 69 6e 67 4e 6f 64 65
                         00 d1 c3 86 0a";
const DATA: &str = "00 01 00 00 0c 00 00 00 41 4d 4c 4d 61 69 6e 4e
                    6f 64 65 00 aa a5 47 fe 00 00 00 00 11 00 00 00
                    41 4d 4c 43 6f 6d 70 75 74 69 6e 67 4e 6f 64 65
                    00 d1 c3 86 0a 00 00 00 09 00 00 00 01 66 69 72
                    73 74 5f 6a 6f 62";
const STATUS: &str = "00 01 00 00 0c 00 00 00 41 4d 4c 4d 61 69 6e 4e
                      6f 64 65 00 aa a5 47 fe 03 00 00 00 01 00 00 00";

/// The big-endian re-encoding of a little-endian golden payload: CDR_BE and every `uint32` at
/// the given payload offsets byte-swapped.
fn big_endian(le: &[u8], u32_offsets: &[usize]) -> Vec<u8> {
    let mut be = le.to_vec();
    be[1] = 0;
    for &o in u32_offsets {
        be[o..o + 4].reverse();
    }
    be
}

/// Golden check: emitted into a 0xa5-filled buffer in both byte orders (bytes exact, nothing
/// past the end touched, too-small buffers refused), decoded back in both byte orders, with
/// 1-3 trailing junk bytes, and every truncation fails.
fn golden<T: Payload + PartialEq + core::fmt::Debug>(v: &T, le: &[u8], u32_offsets: &[usize]) {
    let be = big_endian(le, u32_offsets);
    for (endian, want) in [(Endianness::Little, le), (Endianness::Big, &be[..])] {
        let mut buf = vec![0xa5u8; want.len() + 8];
        assert_eq!(v.emit_payload(&mut buf, endian), Ok(want.len()));
        assert_eq!(&buf[..want.len()], want, "{endian:?}");
        assert!(buf[want.len()..].iter().all(|&b| b == 0xa5));
        for short in 0..want.len() {
            let mut buf = vec![0xa5u8; short];
            assert!(matches!(
                v.emit_payload(&mut buf, endian),
                Err(EmitError::BufferTooSmall(_))
            ));
        }
        assert_eq!(T::from_payload(want).as_ref(), Ok(v));
        for junk in 1..=3 {
            let mut padded = want.to_vec();
            padded.extend(std::iter::repeat_n(0x5a, junk));
            assert_eq!(T::from_payload(&padded).as_ref(), Ok(v));
        }
        for n in 0..want.len() {
            assert!(
                T::from_payload(&want[..n]).is_err(),
                "{endian:?} prefix {n}"
            );
        }
    }
    assert_eq!(v.to_payload().unwrap(), le);
    assert_eq!(v.payload_len(), le.len());
}

#[test]
fn ms_request_matches_spec_3_10() {
    let le = hex(REQUEST);
    assert_eq!(le.len(), 28);
    golden(&request(), &le, &[4, 24]);
}

#[test]
fn ms_reference_matches_spec_3_10() {
    let le = hex(REFERENCE);
    assert_eq!(le.len(), 53);
    golden(&reference(), &le, &[4, 24, 28]);
}

#[test]
fn ms_data_matches_spec_3_10_with_its_three_pad_bytes() {
    let le = hex(DATA);
    assert_eq!(le.len(), 70);
    let v = MsData::new(reference(), GenericData::from("first_job"));
    golden(&v, &le, &[4, 24, 28, 56]);
}

#[test]
fn status_matches_spec_3_10() {
    let le = hex(STATUS);
    assert_eq!(le.len(), 32);
    let v = Status {
        id: client(),
        node_kind: NodeKind::MAIN,
        state: StateKind::RUNNING,
    };
    golden(&v, &le, &[4, 24, 28]);
}

#[test]
fn undefined_id_matches_spec_3_10() {
    golden(
        &AmlipId::undefined(),
        &hex("00 01 00 00 01 00 00 00 00 00 00 00 00"),
        &[4],
    );
}

#[test]
fn observed_section_7_samples_decode_and_re_encode() {
    let main = AmlipId::new("AMLMainNode", [0x1e, 0x05, 0x4a, 0xc1]).unwrap();
    let comp = AmlipId::new("AMLComputingNode", [0x4b, 0x17, 0x0f, 0xf8]).unwrap();
    let req = MsRequest {
        client_id: main,
        task_id: TaskId(0),
    };
    let enc = "00010000";
    let req_hex = format!("{enc} 0c000000 414d4c4d61696e4e6f646500 1e054ac1 00000000");
    golden(&req, &hex(&req_hex), &[4, 24]);
    let refr = MsReference::new(req, comp);
    let ref_hex = format!("{req_hex} 11000000 414d4c436f6d707574696e674e6f646500 4b170ff8");
    golden(&refr, &hex(&ref_hex), &[4, 24, 28]);
    // As captured: followed by the 3 RTPS pad bytes.
    assert_eq!(
        MsReference::from_payload(&hex(&format!("{ref_hex} 000000"))),
        Ok(refr)
    );
    let data = MsData::new(refr, GenericData::from("first python job"));
    let data_hex = format!("{ref_hex} 000000 10000000 01 666972737420707974686f6e206a6f62");
    golden(&data, &hex(&data_hex), &[4, 24, 28, 56]);
}

#[test]
fn other_encapsulations_are_refused() {
    let mut pl_cdr = hex(REQUEST);
    pl_cdr[1] = 3;
    assert_eq!(
        MsRequest::from_payload(&pl_cdr),
        Err(DecodeError::UnsupportedEncapsulation([0, 3]))
    );
}

/// One captured sample: topic, type name, payload (with its RTPS padding).
fn samples(text: &str) -> Vec<(String, String, Vec<u8>)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 5, "{l}");
            (f[0].to_owned(), f[1].to_owned(), hex(f[4]))
        })
        .collect()
}

/// Decode a captured payload as `T`, check it re-encodes to the captured bytes (minus 0-3 zero
/// pad bytes), and return it.
fn decode_captured<T: Payload + core::fmt::Debug>(payload: &[u8]) -> T {
    let v = T::from_payload(payload).unwrap_or_else(|e| panic!("{e}: {payload:02x?}"));
    let enc = v.to_payload().unwrap();
    assert_eq!(&payload[..enc.len()], &enc[..]);
    let pad = &payload[enc.len()..];
    assert!(pad.len() < 4 && pad.iter().all(|&b| b == 0), "{pad:02x?}");
    assert_eq!((enc.len() + pad.len()) % 4, 0);
    v
}

fn check_capture(text: &str) -> Vec<&'static str> {
    let mut kinds = Vec::new();
    for (topic, type_name, payload) in samples(text) {
        if topic == STATUS_TOPIC {
            assert_eq!(type_name, Status::TYPE_NAME);
            let s: Status = decode_captured(&payload);
            assert!(s.is_defined());
            assert!([NodeKind::MAIN, NodeKind::COMPUTING].contains(&s.node_kind));
            kinds.push("status");
            continue;
        }
        let (t, recipient) = MultiServiceTopic::classify(&topic, JOB_TOPIC_NAME)
            .unwrap_or_else(|| panic!("unknown topic {topic}"));
        assert_eq!(type_name, t.type_name(), "{topic}");
        match t {
            MultiServiceTopic::RequestAvailability => {
                let _: MsRequest = decode_captured(&payload);
                kinds.push("request");
            }
            MultiServiceTopic::ReplyAvailable | MultiServiceTopic::TaskTarget => {
                let r: MsReference = decode_captured(&payload);
                if let Some(rcpt) = recipient {
                    assert_eq!(rcpt, r.client_id);
                }
                kinds.push("reference");
            }
            MultiServiceTopic::TaskData | MultiServiceTopic::TaskSolution => {
                let d: MsData = decode_captured(&payload);
                let want = if t == MultiServiceTopic::TaskData {
                    d.server_id
                } else {
                    d.client_id
                };
                assert_eq!(recipient, Some(want));
                kinds.push("data");
            }
        }
    }
    kinds
}

#[test]
fn every_payload_of_the_demo_capture_decodes_and_re_encodes_exactly() {
    let kinds = check_capture(include_str!("testdata/amlip-demo.samples"));
    assert_eq!(kinds.len(), 10);
    let text = include_str!("testdata/amlip-demo.samples");
    let jobs: Vec<Vec<u8>> = samples(text)
        .into_iter()
        .filter(|(t, _, _)| t.contains("_task_"))
        .filter_map(|(t, _, p)| {
            (t.contains("_data_") || t.contains("_solution_"))
                .then(|| MsData::from_payload(&p).unwrap().data.bytes)
        })
        .collect();
    assert_eq!(
        jobs,
        [
            &b"first python job"[..],
            b"FIRST PYTHON JOB",
            b"second python job",
            b"SECOND PYTHON JOB"
        ]
    );
}

#[test]
fn every_payload_of_the_status_capture_decodes_and_re_encodes_exactly() {
    let text = include_str!("testdata/amlip-status.samples");
    let kinds = check_capture(text);
    assert_eq!(kinds.iter().filter(|k| **k == "status").count(), 11);
    // The C++ manual test sends its job with the owned flag 0 and a trailing NUL (observed §7).
    let job = samples(text)
        .into_iter()
        .find(|(t, _, _)| t.contains("_task_data_"))
        .map(|(_, _, p)| MsData::from_payload(&p).unwrap().data)
        .unwrap();
    assert!(!job.owned_flag);
    assert_eq!(job.bytes, b"<Job Data In String>\0");
    let states: Vec<StateKind> = samples(text)
        .into_iter()
        .filter(|(t, _, _)| t == STATUS_TOPIC)
        .map(|(_, _, p)| Status::from_payload(&p).unwrap())
        .filter(|s| s.node_kind == NodeKind::COMPUTING)
        .map(|s| s.state)
        .collect();
    use StateKind as S;
    assert_eq!(
        states,
        [S::RUNNING, S::STOPPED, S::RUNNING, S::STOPPED, S::DROPPED]
    );
}
