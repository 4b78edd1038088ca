//! Forged datagrams, to rehearse a hostile network in tests and benches (issue 11): a
//! HEARTBEAT or GAP claiming to come from someone else's writer, and SPDP announcements of
//! participants that do not exist. Plain RTPS has no authentication (RTPS 2.5 §8.3.3), so
//! anyone on the network can send these; see the participant's admission rules and the
//! reliable reader's handling of suspect claims for what they can and cannot do.

use bytes::Bytes;

use crate::discovery::data::ParticipantData;
use crate::wire::submessage::{Data, Gap, Heartbeat, InfoDestination, SerializedPayload};
use crate::wire::{
    EntityId, GuidPrefix, Header, Locator, MessageBuilder, SequenceNumber, SequenceNumberSet,
    Submessage,
};

/// One datagram from `from` carrying `subs` (`None` if it does not fit 64 KiB).
fn datagram(from: GuidPrefix, subs: &[Submessage<'_>]) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 65_000];
    let mut b = MessageBuilder::new(&mut buf, &Header::new(from)).ok()?;
    for s in subs {
        b.push(s).ok()?;
    }
    let len = b.finish();
    buf.truncate(len);
    Some(buf)
}

/// One datagram from `from` with INFO_DST `to` and `sub`.
fn directed(from: GuidPrefix, to: GuidPrefix, sub: Submessage<'_>) -> Option<Vec<u8>> {
    let dst = Submessage::InfoDestination(InfoDestination { guid_prefix: to });
    datagram(from, &[dst, sub])
}

/// A HEARTBEAT claiming to come from writer `writer` of participant `from`, to every reader
/// (`ENTITYID_UNKNOWN`) of participant `to`: the writer's history is `first..=last`.
pub fn forged_heartbeat(
    from: GuidPrefix,
    writer: EntityId,
    to: GuidPrefix,
    first: i64,
    last: i64,
    count: u32,
) -> Option<Vec<u8>> {
    let hb = Heartbeat {
        reader_id: EntityId::UNKNOWN,
        writer_id: writer,
        first_sn: SequenceNumber(first),
        last_sn: SequenceNumber(last),
        count,
        final_flag: true,
        liveliness_flag: false,
    };
    directed(from, to, Submessage::Heartbeat(hb))
}

/// A GAP claiming to come from writer `writer` of participant `from`, to every reader of
/// participant `to`: `start..base` are irrelevant.
pub fn forged_gap(
    from: GuidPrefix,
    writer: EntityId,
    to: GuidPrefix,
    start: i64,
    base: i64,
) -> Option<Vec<u8>> {
    let gap = Gap {
        reader_id: EntityId::UNKNOWN,
        writer_id: writer,
        gap_start: SequenceNumber(start),
        gap_list: SequenceNumberSet::new(SequenceNumber(base)),
    };
    directed(from, to, Submessage::Gap(gap))
}

/// An SPDP DATA(p) announcing a participant `prefix` on `domain` reachable at `locator`
/// (metatraffic and default unicast), with a lease of `lease`.
pub fn fake_spdp(
    prefix: GuidPrefix,
    domain: u32,
    locator: Locator,
    lease: std::time::Duration,
) -> Option<Vec<u8>> {
    let mut data = ParticipantData::new(prefix);
    data.domain_id = Some(domain);
    data.metatraffic_unicast_locators = vec![locator];
    data.default_unicast_locators = vec![locator];
    data.lease_duration = crate::wire::Duration::from_std(lease);
    let payload = Bytes::from(data.to_payload().ok()?);
    let d = Data {
        reader_id: EntityId::SPDP_PARTICIPANT_DETECTOR,
        writer_id: EntityId::SPDP_PARTICIPANT_ANNOUNCER,
        writer_sn: SequenceNumber(1),
        inline_qos: None,
        payload: Some(SerializedPayload {
            bytes: &payload,
            is_key: false,
        }),
    };
    datagram(prefix, &[Submessage::Data(d)])
}
