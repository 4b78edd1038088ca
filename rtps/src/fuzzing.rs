//! Entry points for the `fuzz/` targets: each takes arbitrary bytes and must not panic.

/// Parses `data` as an RTPS message and walks its submessages (RTPS 2.5 §9.4).
pub fn message_parse(data: &[u8]) {
    if let Ok(m) = crate::wire::Message::parse(data) {
        for s in m.submessages() {
            if s.is_err() {
                break;
            }
        }
    }
}

/// Parses `data` as an RTPS message and checks that every submessage re-emits as parsed.
pub fn message_roundtrip(data: &[u8]) {
    use crate::wire::{EmitError, Submessage, SubmessageRef, Writer};

    let Ok(m) = crate::wire::Message::parse(data) else {
        return;
    };
    for s in m.submessages() {
        let Ok(s) = s else { break };
        let mut raw = vec![0u8; s.raw.len()];
        let mut w = Writer::new(&mut raw, s.endian);
        s.emit_as_received(&mut w)
            .unwrap_or_else(|e| panic!("emit_as_received: {e}"));
        assert_eq!(raw, s.raw, "emit_as_received is not byte-identical");

        let n = s.submessage.wire_len();
        let mut buf = vec![0u8; n];
        let mut w = Writer::new(&mut buf, s.endian);
        match s.submessage.emit(&mut w) {
            Ok(()) => assert_eq!(w.position(), n, "emit wrote other than wire_len"),
            // Only a body over 64 KiB (from an input longer than any datagram) may fail.
            Err(EmitError::Unrepresentable(_)) if n > usize::from(u16::MAX) => continue,
            Err(e) => panic!("emit of a parsed {:?}: {e}", s.submessage.kind()),
        }
        let again = SubmessageRef::parse(&buf)
            .unwrap_or_else(|e| panic!("re-parse of {:?}: {e}", s.submessage.kind()));
        assert_eq!(again.raw.len(), n);
        match (&s.submessage, &again.submessage) {
            // A DATA payload that was not a multiple of 4 comes back with emit's zero padding.
            (Submessage::Data(a), Submessage::Data(b)) if a.payload != b.payload => {
                let (Some(pa), Some(pb)) = (a.payload, b.payload) else {
                    panic!("DATA payload presence changed");
                };
                assert_eq!(pa.is_key, pb.is_key);
                let (head, pad) = pb.bytes.split_at(pa.bytes.len().min(pb.bytes.len()));
                assert_eq!(head, pa.bytes, "DATA payload changed");
                assert!(pad.len() < 4 && pad.iter().all(|b| *b == 0), "DATA padding");
                let (mut a2, mut b2) = (*a, *b);
                a2.payload = None;
                b2.payload = None;
                assert_eq!(a2, b2, "DATA changed on re-emit");
            }
            (a, b) => assert_eq!(a, b, "representation changed on re-emit"),
        }
    }
}

/// Parses `data` as SPDP/SEDP discovery data and checks that what parses re-emits and
/// parses back equal.
pub fn discovery_data(data: &[u8]) {
    use crate::discovery::data::{guid_from_key_payload, ParticipantData, ReaderData, WriterData};

    macro_rules! round_trip {
        ($ty:ty) => {
            if let Ok(parsed) = <$ty>::from_payload(data) {
                let again = match parsed.to_payload() {
                    Ok(bytes) => bytes,
                    Err(e) => panic!("{} parsed but does not re-emit: {e}", stringify!($ty)),
                };
                assert_eq!(
                    <$ty>::from_payload(&again),
                    Ok(parsed),
                    "{}",
                    stringify!($ty)
                );
            }
        };
    }
    round_trip!(ParticipantData);
    round_trip!(WriterData);
    round_trip!(ReaderData);
    let _ = guid_from_key_payload(data);
}

/// Decodes `data` as plain CDR in both byte orders and checks that what decodes round-trips.
pub fn cdr_deserialize(data: &[u8]) {
    crate::cdr::fuzz::round_trip(data);
}

/// Sequences of operations (writes, hostile ACKNACK / NACK_FRAG / HEARTBEAT / GAP / DATA /
/// DATA_FRAG, time, delivery through the codec) against one reliable or best-effort writer and
/// reader (RTPS 2.5 §8.4): never panics, and the reader never delivers a sequence number twice.
pub fn reliable_state_machines(data: &[u8]) {
    crate::reliability::fuzz::run(data);
}
