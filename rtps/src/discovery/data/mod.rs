//! Discovery data as PL_CDR (RTPS 2.5 §8.5.3.2, §9.6.2.2; DDS 1.4 §2.2.3): the SPDP
//! `ParticipantData` and SEDP `WriterData` / `ReaderData` samples, the QoS policies they carry,
//! and the disposal (`[UD]`) forms.
//!
//! Each representation parses from a validated [`ParameterList`] (`parse_pl`) or from a whole
//! serialized payload with its encapsulation header (`from_payload`, PL_CDR_LE or PL_CDR_BE),
//! and emits an encapsulation header, the list and `PID_SENTINEL` through a
//! [`Writer`](crate::wire::Writer) (`emit_payload`, in the writer's byte order).
//!
//! # No-panic contract
//! Parsing never panics and never allocates more than a small multiple of its input: every
//! string, sequence and list is capped (`MAX_*` below) before anything is allocated. Values
//! longer than their encoding are accepted (RTPS 2.5 §9.6.2.2.1 lets later versions append);
//! shorter ones are `Truncated`.
//!
//! # What is kept
//! Every parameter the representation models is decoded; when a modelled id repeats, the first
//! occurrence wins (except locators, which accumulate). Every other parameter is kept raw in
//! `other_parameters` (vendor ids 0x8000 included, value padded to 4) so nothing the peer said
//! is lost. An unknown id with the must-understand bit (0x4000) and without the vendor bit is
//! [`DiscoveryError::Incompatible`], which the caller counts.
//!
//! # What is sent
//! Following `shared/docs/rtps-interop.md`: no id is repeated except locators; optional values
//! and non-default QoS only; raw `other_parameters` whose id is modelled are skipped.

use core::fmt;

use crate::wire::cursor::Reader;
use crate::wire::encapsulation::{split_payload, EncapsulationKind};
use crate::wire::error::ParseError;
use crate::wire::parameter::{ParameterId, ParameterList};

pub mod builtin_endpoints;
pub mod disposal;
pub mod endpoint;
pub mod participant;
pub mod qos;
mod values;

#[cfg(test)]
mod arbitrary;
#[cfg(test)]
mod golden;

pub use builtin_endpoints::BuiltinEndpointSet;
pub use disposal::{
    disposal, emit_disposal_inline_qos, emit_key_payload, guid_from_key_payload,
    key_hash_from_inline_qos, Disposal, StatusInfo,
};
pub use endpoint::{EndpointData, ReaderData, WriterData};
pub use participant::ParticipantData;
pub use qos::EndpointQos;
pub use values::{
    MAX_DATA_REPRESENTATIONS, MAX_LOCATORS, MAX_NAME_LEN, MAX_OCTETS_LEN, MAX_OTHER_PARAMETERS,
    MAX_PARTITIONS, MAX_PROPERTIES, MAX_PROPERTY_VALUE_LEN,
};

/// Why a discovery sample could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The payload or one of its parameters is malformed.
    Parse(ParseError),
    /// A mandatory parameter is absent (named by its spec name).
    Missing(&'static str),
    /// An unknown parameter carries the must-understand bit, or a value rules the sample
    /// out (RTPS 2.5 §9.6.2.2.1): the sample is ignored as incompatible.
    Incompatible(ParameterId),
    /// Well formed but not something we decode (e.g. an XCDR2 or non-PL encapsulation).
    Unsupported(&'static str),
}

impl fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscoveryError::Parse(e) => write!(f, "malformed discovery data: {e}"),
            DiscoveryError::Missing(what) => write!(f, "discovery data lacks {what}"),
            DiscoveryError::Incompatible(id) => match id.name() {
                Some(name) => write!(f, "incompatible discovery data: {name}"),
                None => write!(f, "incompatible discovery data: parameter {:#06x}", id.0),
            },
            DiscoveryError::Unsupported(what) => write!(f, "unsupported {what}"),
        }
    }
}

impl std::error::Error for DiscoveryError {}

impl From<ParseError> for DiscoveryError {
    fn from(e: ParseError) -> Self {
        DiscoveryError::Parse(e)
    }
}

/// The parameter list of a PL_CDR serialized payload (RTPS 2.5 §9.6.2.2): checks the
/// encapsulation (PL_CDR_LE or PL_CDR_BE) and walks the list up to its sentinel. Bytes after
/// the sentinel are ignored.
pub fn pl_cdr_list(payload: &[u8]) -> Result<ParameterList<'_>, DiscoveryError> {
    let (header, body) = split_payload(payload)?;
    let endian = match header.kind {
        EncapsulationKind::PL_CDR_LE | EncapsulationKind::PL_CDR_BE => header.kind.endianness(),
        k if k.is_xcdr2() => return Err(DiscoveryError::Unsupported("XCDR2 encapsulation")),
        _ => {
            return Err(DiscoveryError::Unsupported(
                "discovery data that is not PL_CDR",
            ))
        }
    };
    let endian = endian.ok_or(DiscoveryError::Unsupported("encapsulation kind"))?;
    let mut r = Reader::new(body, endian);
    Ok(ParameterList::parse(&mut r)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::cursor::Endianness;

    #[test]
    fn accepts_only_pl_cdr_encapsulations() {
        let le = [0x00, 0x03, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00];
        assert_eq!(pl_cdr_list(&le).unwrap().endian(), Endianness::Little);
        let be = [0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00];
        assert_eq!(pl_cdr_list(&be).unwrap().endian(), Endianness::Big);
        let cdr = [0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00];
        assert_eq!(
            pl_cdr_list(&cdr),
            Err(DiscoveryError::Unsupported(
                "discovery data that is not PL_CDR"
            ))
        );
        let x2 = [0x00, 0x0b, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00];
        assert_eq!(
            pl_cdr_list(&x2),
            Err(DiscoveryError::Unsupported("XCDR2 encapsulation"))
        );
        let xml = [0x00, 0x04, 0x00, 0x00];
        assert_eq!(
            pl_cdr_list(&xml),
            Err(DiscoveryError::Parse(ParseError::Unsupported(
                "encapsulation kind"
            )))
        );
    }

    #[test]
    fn displays_errors_by_spec_name() {
        assert_eq!(
            DiscoveryError::Incompatible(ParameterId::PROTOCOL_VERSION).to_string(),
            "incompatible discovery data: PROTOCOL_VERSION"
        );
        assert_eq!(
            DiscoveryError::Incompatible(ParameterId(0x4abc)).to_string(),
            "incompatible discovery data: parameter 0x4abc"
        );
        assert_eq!(
            DiscoveryError::Missing("PID_PARTICIPANT_GUID").to_string(),
            "discovery data lacks PID_PARTICIPANT_GUID"
        );
        assert_eq!(
            DiscoveryError::Parse(ParseError::Truncated("topic name")).to_string(),
            "malformed discovery data: truncated topic name"
        );
    }
}
