//! Entry points for the `fuzz/` targets: each takes arbitrary bytes and must not panic.

/// Discovery data (`discovery::data`): try the payload as SPDP participant data, SEDP writer
/// data, SEDP reader data and a disposal key; whatever parses must re-emit and parse back to
/// the same representation.
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
