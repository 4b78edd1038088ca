//! DATA and DATA_FRAG (RTPS 2.5 §8.3.7.2, §8.3.7.3, §9.4.5.3, §9.4.5.4): a sample (or fragments
//! of one) with optional inline QoS.
//!
//! Both start with `extraFlags: u16` and `octetsToInlineQos: u16`, counted from the octet after
//! it (16 for DATA, 28 for DATA_FRAG); a larger value is honoured by skipping the extra octets,
//! a smaller one is `Invalid`. Inline QoS is a [`ParameterList`] in the submessage's byte order.
//! Payload and fragment bytes are borrowed and opaque here (the 4-octet encapsulation header is
//! the CDR layer's business).
//!
//! On emit, `extraFlags` is 0, `octetsToInlineQos` the standard value, and the submessage is
//! padded with zeros to a multiple of 4. A DATA payload keeps whatever padding was received (it
//! is "the rest of the submessage"), so a DATA whose payload length is not a multiple of 4 comes
//! back from a re-parse with the zero padding appended. DATA_FRAG fragments are cut to the
//! length the fragment numbers imply, so they round-trip exactly.

use super::super::cursor::{padding, Reader, Writer};
use super::super::error::{EmitError, ParseError};
use super::super::parameter::ParameterList;
use super::super::types::{EntityId, SequenceNumber};

/// Q flag of DATA and DATA_FRAG: inline QoS present (RTPS 2.5 §9.4.5.3, §9.4.5.4).
const INLINE_QOS: u8 = 0x02;
/// DATA D flag: the payload is serialized data.
const DATA_D: u8 = 0x04;
/// DATA K flag: the payload is a serialized key.
const DATA_K: u8 = 0x08;
/// DATA_FRAG K flag: the fragments are of a serialized key.
const DATA_FRAG_K: u8 = 0x04;

/// `octetsToInlineQos` of a DATA: reader id, writer id, sequence number.
const DATA_OCTETS_TO_INLINE_QOS: u16 = 16;
/// `octetsToInlineQos` of a DATA_FRAG: DATA's plus fragment number, count, size, sample size.
const DATA_FRAG_OCTETS_TO_INLINE_QOS: u16 = 28;

/// The serialized payload of a DATA (RTPS 2.5 §9.4.2.12): encapsulation header plus data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerializedPayload<'a> {
    /// The bytes as on the wire: a 4-octet encapsulation header, the data, any padding.
    pub bytes: &'a [u8],
    /// True for a serialized key (K flag), false for data (D flag).
    pub is_key: bool,
}

/// A sample or a change of instance state (RTPS 2.5 §8.3.7.2, `Data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Data<'a> {
    /// The reader addressed, or `ENTITYID_UNKNOWN`.
    pub reader_id: EntityId,
    /// The writer.
    pub writer_id: EntityId,
    /// The change's sequence number.
    pub writer_sn: SequenceNumber,
    /// Inline QoS (Q flag), in the submessage's byte order.
    pub inline_qos: Option<ParameterList<'a>>,
    /// The payload (D or K flag).
    pub payload: Option<SerializedPayload<'a>>,
}

/// Skip `extraFlags`, read `octetsToInlineQos` and check it is at least `standard`; returns
/// the extra octets to skip after the fixed fields.
fn octets_to_inline_qos(r: &mut Reader<'_>, standard: u16) -> Result<usize, ParseError> {
    r.skip(2, "extraFlags")?;
    let otiq = r.u16("octetsToInlineQos")?;
    otiq.checked_sub(standard)
        .map(usize::from)
        .ok_or(ParseError::Invalid("octetsToInlineQos"))
}

fn parse_inline_qos<'a>(
    flags: u8,
    r: &mut Reader<'a>,
) -> Result<Option<ParameterList<'a>>, ParseError> {
    if flags & INLINE_QOS != 0 {
        ParameterList::parse(r).map(Some)
    } else {
        Ok(None)
    }
}

fn emit_inline_qos(w: &mut Writer<'_>, qos: &Option<ParameterList<'_>>) -> Result<(), EmitError> {
    match qos {
        Some(pl) if pl.endian() != w.endian() => {
            Err(EmitError::Unrepresentable("inline qos byte order"))
        }
        Some(pl) => w.put(pl.as_bytes(), "inline qos"),
        None => Ok(()),
    }
}

fn qos_len(qos: &Option<ParameterList<'_>>) -> usize {
    qos.map_or(0, |q| q.as_bytes().len())
}

impl<'a> Data<'a> {
    pub(super) fn parse(flags: u8, r: &mut Reader<'a>) -> Result<Self, ParseError> {
        if flags & DATA_D != 0 && flags & DATA_K != 0 {
            return Err(ParseError::Invalid("data flags (both D and K)"));
        }
        let extra = octets_to_inline_qos(r, DATA_OCTETS_TO_INLINE_QOS)?;
        let reader_id = EntityId::parse(r)?;
        let writer_id = EntityId::parse(r)?;
        let writer_sn = SequenceNumber::parse(r)?;
        r.skip(extra, "octetsToInlineQos")?;
        let inline_qos = parse_inline_qos(flags, r)?;
        let payload = if flags & (DATA_D | DATA_K) != 0 {
            Some(SerializedPayload {
                bytes: r.take_rest(),
                is_key: flags & DATA_K != 0,
            })
        } else {
            None
        };
        Ok(Data {
            reader_id,
            writer_id,
            writer_sn,
            inline_qos,
            payload,
        })
    }

    pub(super) fn flags(&self) -> u8 {
        let q = if self.inline_qos.is_some() {
            INLINE_QOS
        } else {
            0
        };
        let dk = match self.payload {
            None => 0,
            Some(SerializedPayload { is_key: false, .. }) => DATA_D,
            Some(SerializedPayload { is_key: true, .. }) => DATA_K,
        };
        q | dk
    }

    fn unpadded_len(&self) -> usize {
        4 + 16 + qos_len(&self.inline_qos) + self.payload.map_or(0, |p| p.bytes.len())
    }

    pub(super) fn body_len(&self) -> usize {
        let n = self.unpadded_len();
        n + padding(n, 4)
    }

    pub(super) fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.u16(0, "extraFlags")?;
        w.u16(DATA_OCTETS_TO_INLINE_QOS, "octetsToInlineQos")?;
        self.reader_id.emit(w)?;
        self.writer_id.emit(w)?;
        self.writer_sn.emit(w)?;
        emit_inline_qos(w, &self.inline_qos)?;
        if let Some(p) = &self.payload {
            w.put(p.bytes, "serialized payload")?;
        }
        w.zeros(padding(self.unpadded_len(), 4), "data padding")
    }
}

/// Consecutive fragments of one sample (RTPS 2.5 §8.3.7.3, `DataFrag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataFrag<'a> {
    /// The reader addressed, or `ENTITYID_UNKNOWN`.
    pub reader_id: EntityId,
    /// The writer.
    pub writer_id: EntityId,
    /// The change's sequence number.
    pub writer_sn: SequenceNumber,
    /// Number of the first fragment in this submessage (1-based).
    pub fragment_starting_num: u32,
    /// How many consecutive fragments this submessage carries.
    pub fragments_in_submessage: u16,
    /// Size of every fragment but the last, in octets.
    pub fragment_size: u16,
    /// Size of the whole serialized sample, in octets.
    pub sample_size: u32,
    /// Inline QoS (Q flag), in the submessage's byte order.
    pub inline_qos: Option<ParameterList<'a>>,
    /// True for fragments of a serialized key (K flag).
    pub is_key: bool,
    /// The fragments' bytes, exactly as long as the fragment numbers imply (padding cut off).
    pub fragments: &'a [u8],
}

impl<'a> DataFrag<'a> {
    /// Octets the fragments must hold: `fragments_in_submessage * fragment_size`, or less for
    /// the last fragment of the sample; an error names the inconsistent field.
    pub fn expected_len(&self) -> Result<usize, &'static str> {
        let size = u64::from(self.fragment_size);
        let sample = u64::from(self.sample_size);
        let count = u64::from(self.fragments_in_submessage);
        if size == 0 {
            return Err("data_frag fragmentSize");
        }
        if self.fragment_starting_num == 0 {
            return Err("data_frag fragmentStartingNum");
        }
        if count == 0 {
            return Err("data_frag fragmentsInSubmessage");
        }
        let offset = u64::from(self.fragment_starting_num - 1) * size;
        if offset >= sample {
            return Err("data_frag fragmentStartingNum");
        }
        let total = sample.div_ceil(size);
        if u64::from(self.fragment_starting_num - 1) + count > total {
            return Err("data_frag fragmentsInSubmessage");
        }
        // At most 65535 * 65535 < 2^32, so it fits a usize on every target we build for.
        usize::try_from((count * size).min(sample - offset)).map_err(|_| "data_frag sampleSize")
    }

    pub(super) fn parse(flags: u8, r: &mut Reader<'a>) -> Result<Self, ParseError> {
        let extra = octets_to_inline_qos(r, DATA_FRAG_OCTETS_TO_INLINE_QOS)?;
        let mut d = DataFrag {
            reader_id: EntityId::parse(r)?,
            writer_id: EntityId::parse(r)?,
            writer_sn: SequenceNumber::parse(r)?,
            fragment_starting_num: r.u32("data_frag fragmentStartingNum")?,
            fragments_in_submessage: r.u16("data_frag fragmentsInSubmessage")?,
            fragment_size: r.u16("data_frag fragmentSize")?,
            sample_size: r.u32("data_frag sampleSize")?,
            inline_qos: None,
            is_key: flags & DATA_FRAG_K != 0,
            fragments: &[],
        };
        r.skip(extra, "octetsToInlineQos")?;
        d.inline_qos = parse_inline_qos(flags, r)?;
        let len = d.expected_len().map_err(ParseError::Invalid)?;
        d.fragments = r.take(len, "data_frag fragments")?;
        Ok(d)
    }

    pub(super) fn flags(&self) -> u8 {
        let q = if self.inline_qos.is_some() {
            INLINE_QOS
        } else {
            0
        };
        let k = if self.is_key { DATA_FRAG_K } else { 0 };
        q | k
    }

    fn unpadded_len(&self) -> usize {
        4 + 28 + qos_len(&self.inline_qos) + self.fragments.len()
    }

    pub(super) fn body_len(&self) -> usize {
        let n = self.unpadded_len();
        n + padding(n, 4)
    }

    pub(super) fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        let len = self.expected_len().map_err(EmitError::Unrepresentable)?;
        if len != self.fragments.len() {
            return Err(EmitError::Unrepresentable("data_frag fragments length"));
        }
        w.u16(0, "extraFlags")?;
        w.u16(DATA_FRAG_OCTETS_TO_INLINE_QOS, "octetsToInlineQos")?;
        self.reader_id.emit(w)?;
        self.writer_id.emit(w)?;
        self.writer_sn.emit(w)?;
        w.u32(self.fragment_starting_num, "data_frag fragmentStartingNum")?;
        w.u16(
            self.fragments_in_submessage,
            "data_frag fragmentsInSubmessage",
        )?;
        w.u16(self.fragment_size, "data_frag fragmentSize")?;
        w.u32(self.sample_size, "data_frag sampleSize")?;
        emit_inline_qos(w, &self.inline_qos)?;
        w.put(self.fragments, "data_frag fragments")?;
        w.zeros(padding(self.unpadded_len(), 4), "data_frag padding")
    }
}

#[cfg(test)]
#[path = "data_tests.rs"]
mod tests;
