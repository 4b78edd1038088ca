//! Owned outgoing submessages of writers and readers, and the transmit that carries them
//! (RTPS 2.5 §8.3.7, §8.4.9, §8.4.12).
//!
//! The wire representations ([`Submessage`]) borrow their bulk bytes; the state machines
//! produce [`OutSubmessage`]s that hold a [`Bytes`] handle on the history's payload instead,
//! so a transmit owns everything it needs and fanning a sample out to many readers (or
//! cutting it into fragments) never copies it. The participant prefixes INFO_DST and packs the
//! submessages into datagrams with the message builder through
//! [`OutSubmessage::with_submessage`].

use bytes::Bytes;

use crate::history::ChangeKind;
use crate::wire::parameter::{emit_parameter, emit_sentinel, ParameterId, ParameterList};
use crate::wire::submessage::{
    AckNack, Data, DataFrag, Gap, Heartbeat, HeartbeatFrag, InfoTimestamp, NackFrag,
    SerializedPayload, Submessage,
};
use crate::wire::{
    EmitError, Endianness, EntityId, Guid, Locator, Reader, SequenceNumber, Time, Writer,
};

/// Inline QoS a writer sends with a change (RTPS 2.5 §9.6.4): only what the change needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InlineQos {
    /// `PID_KEY_HASH`.
    pub key_hash: Option<[u8; 16]>,
    /// `PID_STATUS_INFO` flags (disposed 0x1, unregistered 0x2, filtered 0x4).
    pub status_info: Option<u8>,
}

impl InlineQos {
    /// Longest encoding: KEY_HASH (4 + 16) + STATUS_INFO (4 + 4) + sentinel (4).
    pub const MAX_LEN: usize = 32;

    /// The inline QoS of a change of `kind` on instance `key_hash`.
    pub fn for_change(kind: ChangeKind, key_hash: Option<[u8; 16]>) -> Self {
        InlineQos {
            key_hash,
            status_info: (kind != ChangeKind::Alive).then(|| kind.status_info()),
        }
    }

    /// True when nothing is to be sent (no Q flag).
    pub fn is_empty(&self) -> bool {
        self.key_hash.is_none() && self.status_info.is_none()
    }

    /// Bytes of the encoded list (0 when empty).
    pub fn wire_len(&self) -> usize {
        if self.is_empty() {
            return 0;
        }
        4 + self.key_hash.map_or(0, |_| 20) + self.status_info.map_or(0, |_| 8)
    }

    /// Read `PID_KEY_HASH` and `PID_STATUS_INFO` from a received list (others are ignored;
    /// a value of the wrong length counts as absent).
    pub fn from_list(list: &ParameterList<'_>) -> Self {
        let key_hash = list
            .get(ParameterId::KEY_HASH)
            .and_then(|p| p.value.get(..16))
            .and_then(|v| <[u8; 16]>::try_from(v).ok());
        // StatusInfo_t is an octet array; the flags are in its last octet.
        let status_info = list
            .get(ParameterId::STATUS_INFO)
            .and_then(|p| p.value.get(3).copied());
        InlineQos {
            key_hash,
            status_info,
        }
    }

    /// Encode into `buf` in `endian` order and return the parameter list view over it.
    fn encode<'b>(
        &self,
        buf: &'b mut [u8; Self::MAX_LEN],
        endian: Endianness,
    ) -> Option<ParameterList<'b>> {
        if self.is_empty() {
            return None;
        }
        let len = {
            let mut w = Writer::new(&mut buf[..], endian);
            let r: Result<(), EmitError> = (|| {
                if let Some(k) = self.key_hash {
                    emit_parameter(&mut w, ParameterId::KEY_HASH, |w| w.put(&k, "key hash"))?;
                }
                if let Some(s) = self.status_info {
                    emit_parameter(&mut w, ParameterId::STATUS_INFO, |w| {
                        w.put(&[0, 0, 0, s], "status info")
                    })?;
                }
                emit_sentinel(&mut w)
            })();
            r.ok()?;
            w.position()
        };
        let bytes: &'b [u8] = buf.get(..len)?;
        ParameterList::parse(&mut Reader::new(bytes, endian)).ok()
    }
}

/// An owned DATA submessage (RTPS 2.5 §8.3.7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutData {
    /// Destination reader (`ENTITYID_UNKNOWN` for all).
    pub reader_id: EntityId,
    /// Sending writer.
    pub writer_id: EntityId,
    /// The change's sequence number.
    pub writer_sn: SequenceNumber,
    /// Inline QoS (key hash, status info).
    pub inline_qos: InlineQos,
    /// Serialized payload (None: no D/K flag, e.g. a dispose carried by inline QoS only).
    pub payload: Option<Bytes>,
    /// The payload is a serialized key (K flag).
    pub is_key: bool,
}

/// An owned DATA_FRAG submessage carrying one or more consecutive fragments (RTPS 2.5
/// §8.3.7.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutDataFrag {
    /// Destination reader.
    pub reader_id: EntityId,
    /// Sending writer.
    pub writer_id: EntityId,
    /// The change's sequence number.
    pub writer_sn: SequenceNumber,
    /// Number of the first fragment carried (1-based).
    pub fragment_starting_num: u32,
    /// How many fragments are carried.
    pub fragments_in_submessage: u16,
    /// Size of every fragment but possibly the last.
    pub fragment_size: u16,
    /// Size of the whole serialized sample.
    pub sample_size: u32,
    /// Inline QoS (key hash, status info).
    pub inline_qos: InlineQos,
    /// The sample is a serialized key (K flag).
    pub is_key: bool,
    /// The fragments' bytes: a slice of the history's payload, never a copy.
    pub fragments: Bytes,
}

/// A submessage produced by a writer or reader state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutSubmessage {
    /// INFO_TS before the DATA it timestamps (None: invalidate).
    InfoTimestamp(Option<Time>),
    /// DATA.
    Data(OutData),
    /// DATA_FRAG.
    DataFrag(OutDataFrag),
    /// HEARTBEAT.
    Heartbeat(Heartbeat),
    /// GAP.
    Gap(Gap),
    /// ACKNACK.
    AckNack(AckNack),
    /// NACK_FRAG.
    NackFrag(NackFrag),
    /// HEARTBEAT_FRAG.
    HeartbeatFrag(HeartbeatFrag),
}

impl OutSubmessage {
    /// Call `f` with the wire representation of this submessage, encoded in `endian` order
    /// (the inline QoS is built on the stack; payloads are borrowed, not copied).
    pub fn with_submessage<R>(
        &self,
        endian: Endianness,
        f: impl FnOnce(&Submessage<'_>) -> R,
    ) -> R {
        let mut qos_buf = [0u8; InlineQos::MAX_LEN];
        match self {
            OutSubmessage::InfoTimestamp(t) => {
                f(&Submessage::InfoTimestamp(InfoTimestamp { timestamp: *t }))
            }
            OutSubmessage::Data(d) => f(&Submessage::Data(Data {
                reader_id: d.reader_id,
                writer_id: d.writer_id,
                writer_sn: d.writer_sn,
                inline_qos: d.inline_qos.encode(&mut qos_buf, endian),
                payload: d.payload.as_ref().map(|p| SerializedPayload {
                    bytes: p,
                    is_key: d.is_key,
                }),
            })),
            OutSubmessage::DataFrag(d) => f(&Submessage::DataFrag(DataFrag {
                reader_id: d.reader_id,
                writer_id: d.writer_id,
                writer_sn: d.writer_sn,
                fragment_starting_num: d.fragment_starting_num,
                fragments_in_submessage: d.fragments_in_submessage,
                fragment_size: d.fragment_size,
                sample_size: d.sample_size,
                inline_qos: d.inline_qos.encode(&mut qos_buf, endian),
                is_key: d.is_key,
                fragments: &d.fragments,
            })),
            OutSubmessage::Heartbeat(h) => f(&Submessage::Heartbeat(*h)),
            OutSubmessage::Gap(g) => f(&Submessage::Gap(*g)),
            OutSubmessage::AckNack(a) => f(&Submessage::AckNack(*a)),
            OutSubmessage::NackFrag(n) => f(&Submessage::NackFrag(*n)),
            OutSubmessage::HeartbeatFrag(h) => f(&Submessage::HeartbeatFrag(*h)),
        }
    }

    /// Bytes this submessage takes on the wire, header included.
    pub fn wire_len(&self) -> usize {
        self.with_submessage(Endianness::Little, |s| s.wire_len())
    }

    /// Emit this submessage (header included) in the writer's byte order.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        self.with_submessage(w.endian(), |s| s.emit(w))
    }
}

/// Where a transmit goes: one remote endpoint (for INFO_DST) at its locators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The remote reader (for a writer's transmit) or writer (for a reader's).
    pub guid: Guid,
    /// Its unicast/multicast locators, as configured when matched.
    pub locators: Vec<Locator>,
}

/// Submessages for one destination, in order (RTPS 2.5 §8.3.4: the participant prefixes
/// INFO_DST with `destination.guid.prefix` and packs them into datagrams).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The remote endpoint.
    pub destination: Destination,
    /// The submessages.
    pub submessages: Vec<OutSubmessage>,
}
