//! CDR values inside PL_CDR parameters (RTPS 2.5 §9.6.2.2, §9.3.2; CDR per CORBA 3.4 §9.3):
//! strings, octet and string sequences, booleans, property lists, and the raw-parameter
//! bookkeeping shared by the discovery representations.
//!
//! Every value starts 4-aligned relative to the CDR stream (parameter headers are 4 octets and
//! values are padded to 4), so alignment inside a value is computed from the value's start: on
//! the read side by a [`Reader`] over the value alone, on the write side from a `start`
//! position taken when the value began.

use crate::wire::cursor::{padding, Endianness, Reader, Writer};
use crate::wire::error::{EmitError, ParseError};
use crate::wire::parameter::{emit_parameter, Parameter, ParameterId};
use crate::wire::types::Locator;

use super::DiscoveryError;

/// Longest name accepted (topic, type, entity, partition, property name, domain tag), in
/// octets without the NUL.
pub const MAX_NAME_LEN: usize = 256;
/// Longest property value accepted, in octets without the NUL.
pub const MAX_PROPERTY_VALUE_LEN: usize = 64 * 1024;
/// Longest octet sequence accepted (user, topic and group data, binary property values).
pub const MAX_OCTETS_LEN: usize = 64 * 1024;
/// Most locators of one kind (e.g. metatraffic unicast) accepted in one sample.
pub const MAX_LOCATORS: usize = 32;
/// Most parameters kept raw in `other_parameters`.
pub const MAX_OTHER_PARAMETERS: usize = 64;
/// Most properties (and, separately, binary properties) in a `PID_PROPERTY_LIST`.
pub const MAX_PROPERTIES: usize = 128;
/// Most partition names in a `PID_PARTITION`.
pub const MAX_PARTITIONS: usize = 64;
/// Most entries in a `PID_DATA_REPRESENTATION`.
pub const MAX_DATA_REPRESENTATIONS: usize = 16;

/// Parameters kept verbatim: id and value (padded to a multiple of 4).
pub(crate) type RawParameters = Vec<(ParameterId, Vec<u8>)>;

/// Read a CDR sequence length (after aligning to 4) and check it against `cap`.
pub(crate) fn read_count(
    r: &mut Reader<'_>,
    cap: usize,
    what: &'static str,
) -> Result<usize, ParseError> {
    r.align(4, what)?;
    let n = usize::try_from(r.u32(what)?).map_err(|_| ParseError::TooLarge(what))?;
    if n > cap {
        return Err(ParseError::TooLarge(what));
    }
    Ok(n)
}

/// Read a CDR string: `u32` length including the NUL, the octets, the NUL. Length 0 is read
/// as the empty string (some stacks send it); a missing terminator, an interior NUL or
/// non-UTF-8 octets are `Invalid`; more than `cap` octets is `TooLarge`.
pub(crate) fn read_string(
    r: &mut Reader<'_>,
    cap: usize,
    what: &'static str,
) -> Result<String, ParseError> {
    r.align(4, what)?;
    let len = usize::try_from(r.u32(what)?).map_err(|_| ParseError::TooLarge(what))?;
    if len == 0 {
        return Ok(String::new());
    }
    if len - 1 > cap {
        return Err(ParseError::TooLarge(what));
    }
    let bytes = r.take(len, what)?;
    let Some((&0, text)) = bytes.split_last() else {
        return Err(ParseError::Invalid(what));
    };
    if text.contains(&0) {
        return Err(ParseError::Invalid(what));
    }
    core::str::from_utf8(text)
        .map(str::to_owned)
        .map_err(|_| ParseError::Invalid(what))
}

/// Write zero padding so that the next element is 4-aligned relative to `start`.
pub(crate) fn pad_from(
    w: &mut Writer<'_>,
    start: usize,
    what: &'static str,
) -> Result<(), EmitError> {
    w.zeros(padding(w.position().saturating_sub(start), 4), what)
}

/// Write a CDR string (aligned to 4 from `start`); a string over `cap` octets or with an
/// interior NUL is `Unrepresentable` (it would not parse back).
pub(crate) fn emit_string(
    w: &mut Writer<'_>,
    start: usize,
    s: &str,
    cap: usize,
    what: &'static str,
) -> Result<(), EmitError> {
    if s.len() > cap || s.as_bytes().contains(&0) {
        return Err(EmitError::Unrepresentable(what));
    }
    let len = u32::try_from(s.len() + 1).map_err(|_| EmitError::Unrepresentable(what))?;
    pad_from(w, start, what)?;
    w.u32(len, what)?;
    w.put(s.as_bytes(), what)?;
    w.u8(0, what)
}

/// Read a CDR `sequence<octet>` of at most `cap` octets.
pub(crate) fn read_octets(
    r: &mut Reader<'_>,
    cap: usize,
    what: &'static str,
) -> Result<Vec<u8>, ParseError> {
    let n = read_count(r, cap, what)?;
    Ok(r.take(n, what)?.to_vec())
}

/// Write a CDR `sequence<octet>` (aligned to 4 from `start`).
pub(crate) fn emit_octets(
    w: &mut Writer<'_>,
    start: usize,
    bytes: &[u8],
    cap: usize,
    what: &'static str,
) -> Result<(), EmitError> {
    if bytes.len() > cap {
        return Err(EmitError::Unrepresentable(what));
    }
    let len = u32::try_from(bytes.len()).map_err(|_| EmitError::Unrepresentable(what))?;
    pad_from(w, start, what)?;
    w.u32(len, what)?;
    w.put(bytes, what)
}

/// Read a CDR boolean: one octet, 0 or 1 (anything else is `Invalid`, as in Cyclone).
pub(crate) fn read_bool(r: &mut Reader<'_>, what: &'static str) -> Result<bool, ParseError> {
    match r.u8(what)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(ParseError::Invalid(what)),
    }
}

/// Read a `sequence<string>` of at most `cap` names.
pub(crate) fn read_string_seq(
    r: &mut Reader<'_>,
    cap: usize,
    what: &'static str,
) -> Result<Vec<String>, ParseError> {
    let n = read_count(r, cap, what)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(read_string(r, MAX_NAME_LEN, what)?);
    }
    Ok(out)
}

/// Write a `sequence<string>`.
pub(crate) fn emit_string_seq(
    w: &mut Writer<'_>,
    start: usize,
    names: &[String],
    cap: usize,
    what: &'static str,
) -> Result<(), EmitError> {
    if names.len() > cap {
        return Err(EmitError::Unrepresentable(what));
    }
    let n = u32::try_from(names.len()).map_err(|_| EmitError::Unrepresentable(what))?;
    w.u32(n, what)?;
    for name in names {
        emit_string(w, start, name, MAX_NAME_LEN, what)?;
    }
    Ok(())
}

/// Properties and binary properties of a `PID_PROPERTY_LIST`.
pub(crate) type PropertyLists = (Vec<(String, String)>, Vec<(String, Vec<u8>)>);

/// Read a `PID_PROPERTY_LIST` value (DDS-Security 1.1 §7.2.1, `PropertyQosPolicy`):
/// `sequence<{string name, string value}>` then, optionally, `sequence<{string name,
/// sequence<octet> value}>`. Fast DDS sends only the first sequence, Cyclone both.
pub(crate) fn read_property_list(r: &mut Reader<'_>) -> Result<PropertyLists, ParseError> {
    let n = read_count(r, MAX_PROPERTIES, "property list")?;
    let mut properties = Vec::with_capacity(n);
    for _ in 0..n {
        let name = read_string(r, MAX_NAME_LEN, "property name")?;
        let value = read_string(r, MAX_PROPERTY_VALUE_LEN, "property value")?;
        properties.push((name, value));
    }
    let mut binary = Vec::new();
    let pad = padding(r.position(), 4);
    if r.remaining() >= pad + 4 {
        let n = read_count(r, MAX_PROPERTIES, "binary property list")?;
        binary.reserve_exact(n);
        for _ in 0..n {
            let name = read_string(r, MAX_NAME_LEN, "binary property name")?;
            let value = read_octets(r, MAX_OCTETS_LEN, "binary property value")?;
            binary.push((name, value));
        }
    }
    Ok((properties, binary))
}

/// Write a `PID_PROPERTY_LIST` value; the binary sequence only when it is not empty (as Fast
/// DDS does, which AML-IP peers expect).
pub(crate) fn emit_property_list(
    w: &mut Writer<'_>,
    properties: &[(String, String)],
    binary: &[(String, Vec<u8>)],
) -> Result<(), EmitError> {
    let start = w.position();
    if properties.len() > MAX_PROPERTIES || binary.len() > MAX_PROPERTIES {
        return Err(EmitError::Unrepresentable("property list"));
    }
    w.u32(properties.len() as u32, "property list")?;
    for (name, value) in properties {
        emit_string(w, start, name, MAX_NAME_LEN, "property name")?;
        emit_string(w, start, value, MAX_PROPERTY_VALUE_LEN, "property value")?;
    }
    if !binary.is_empty() {
        pad_from(w, start, "binary property list")?;
        w.u32(binary.len() as u32, "binary property list")?;
        for (name, value) in binary {
            emit_string(w, start, name, MAX_NAME_LEN, "binary property name")?;
            emit_octets(w, start, value, MAX_OCTETS_LEN, "binary property value")?;
        }
    }
    Ok(())
}

/// Append a locator from a parameter value, refusing more than [`MAX_LOCATORS`].
pub(crate) fn push_locator(list: &mut Vec<Locator>, r: &mut Reader<'_>) -> Result<(), ParseError> {
    if list.len() >= MAX_LOCATORS {
        return Err(ParseError::TooLarge("locator list"));
    }
    list.push(Locator::parse(r)?);
    Ok(())
}

/// Emit one parameter per locator.
pub(crate) fn emit_locators(
    w: &mut Writer<'_>,
    id: ParameterId,
    list: &[Locator],
) -> Result<(), EmitError> {
    if list.len() > MAX_LOCATORS {
        return Err(EmitError::Unrepresentable("locator list"));
    }
    for l in list {
        emit_parameter(w, id, |w| l.emit(w))?;
    }
    Ok(())
}

/// A copy of `value` zero-padded to a multiple of 4, as it will be emitted again.
pub(crate) fn padded(value: &[u8], what: &'static str) -> Result<Vec<u8>, ParseError> {
    let n = value.len() + padding(value.len(), 4);
    if n > usize::from(u16::MAX) {
        return Err(ParseError::TooLarge(what));
    }
    let mut out = Vec::with_capacity(n);
    out.extend_from_slice(value);
    out.resize(n, 0);
    Ok(out)
}

/// Keep a parameter the representation does not model: `PID_PAD` is dropped, an unknown
/// must-understand id is `Incompatible`, anything else is kept raw (capped).
pub(crate) fn keep_other(
    other: &mut RawParameters,
    p: Parameter<'_>,
) -> Result<(), DiscoveryError> {
    if p.id == ParameterId::PAD {
        return Ok(());
    }
    if p.id.must_understand() && !p.id.is_vendor_specific() {
        return Err(DiscoveryError::Incompatible(p.id));
    }
    if other.len() >= MAX_OTHER_PARAMETERS {
        return Err(ParseError::TooLarge("unmodelled parameters").into());
    }
    other.push((p.id, padded(p.value, "parameter value")?));
    Ok(())
}

/// Emit raw parameters, skipping `PID_SENTINEL`, `PID_PAD` and the ids `modelled` says the
/// representation emits itself (never repeat an id).
pub(crate) fn emit_others(
    w: &mut Writer<'_>,
    other: &[(ParameterId, Vec<u8>)],
    modelled: impl Fn(ParameterId) -> bool,
) -> Result<(), EmitError> {
    for (id, value) in other {
        if *id == ParameterId::SENTINEL || *id == ParameterId::PAD || modelled(*id) {
            continue;
        }
        emit_parameter(w, *id, |w| w.put(value, "parameter value"))?;
    }
    Ok(())
}

/// Largest payload [`to_vec`] will build (16 MiB).
const MAX_TO_VEC: usize = 16 << 20;

/// Run an emitter into a fresh little-endian buffer, growing it while it reports
/// `BufferTooSmall` (up to 16 MiB), and return the bytes written.
pub(crate) fn to_vec(
    emit: impl Fn(&mut Writer<'_>) -> Result<(), EmitError>,
) -> Result<Vec<u8>, EmitError> {
    let mut size = 512;
    loop {
        let mut buf = vec![0u8; size];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        match emit(&mut w) {
            Ok(()) => {
                let n = w.position();
                buf.truncate(n);
                return Ok(buf);
            }
            Err(EmitError::BufferTooSmall(_)) if size < MAX_TO_VEC => size *= 4,
            Err(e) => return Err(e),
        }
    }
}

/// Ids already decoded in this list, so that a repeated one is ignored (first wins).
#[derive(Debug, Default)]
pub(crate) struct Seen(Vec<ParameterId>);

impl Seen {
    /// True the first time `id` is offered.
    pub(crate) fn first(&mut self, id: ParameterId) -> bool {
        if self.0.contains(&id) {
            false
        } else {
            self.0.push(id);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(b: &[u8]) -> Reader<'_> {
        Reader::new(b, Endianness::Little)
    }

    #[test]
    fn reads_strings_strictly() {
        assert_eq!(
            read_string(&mut le(b"\x03\0\0\0ab\0"), 8, "s"),
            Ok("ab".into())
        );
        assert_eq!(read_string(&mut le(b"\0\0\0\0"), 8, "s"), Ok(String::new()));
        assert_eq!(
            read_string(&mut le(b"\x03\0\0\0abc"), 8, "s"),
            Err(ParseError::Invalid("s"))
        );
        assert_eq!(
            read_string(&mut le(b"\x03\0\0\0a\0\0"), 8, "s"),
            Err(ParseError::Invalid("s"))
        );
        assert_eq!(
            read_string(&mut le(b"\x03\0\0\0\xff\xfe\0"), 8, "s"),
            Err(ParseError::Invalid("s"))
        );
        assert_eq!(
            read_string(&mut le(b"\x09\0\0\0ab\0"), 8, "s"),
            Err(ParseError::Truncated("s"))
        );
        assert_eq!(
            read_string(&mut le(b"\x0a\0\0\0"), 8, "s"),
            Err(ParseError::TooLarge("s"))
        );
        assert_eq!(
            read_string(&mut le(b"\xff\xff\xff\xff"), 8, "s"),
            Err(ParseError::TooLarge("s"))
        );
    }

    #[test]
    fn emits_strings_aligned_from_the_value_start() {
        let mut buf = [0xa5u8; 20];
        let mut w = Writer::new(&mut buf, Endianness::Little);
        w.u8(9, "x").unwrap();
        let start = w.position();
        emit_string(&mut w, start, "a", 8, "s").unwrap();
        emit_string(&mut w, start, "b", 8, "s").unwrap();
        let n = w.position();
        assert_eq!(
            &buf[..n],
            &[9, 2, 0, 0, 0, b'a', 0, 0, 0, 2, 0, 0, 0, b'b', 0]
        );
        assert!(buf[n..].iter().all(|b| *b == 0xa5));
        let mut w = Writer::new(&mut buf, Endianness::Little);
        assert_eq!(
            emit_string(&mut w, 0, "a\0b", 8, "s"),
            Err(EmitError::Unrepresentable("s"))
        );
        assert_eq!(
            emit_string(&mut w, 0, "123456789", 8, "s"),
            Err(EmitError::Unrepresentable("s"))
        );
    }

    #[test]
    fn booleans_are_zero_or_one() {
        assert_eq!(read_bool(&mut le(&[1]), "b"), Ok(true));
        assert_eq!(read_bool(&mut le(&[0]), "b"), Ok(false));
        assert_eq!(read_bool(&mut le(&[2]), "b"), Err(ParseError::Invalid("b")));
    }

    #[test]
    fn property_list_with_and_without_binary_part() {
        let props = vec![("k".to_string(), "vv".to_string())];
        for binary in [vec![], vec![("b".to_string(), vec![1, 2, 3])]] {
            let mut buf = [0u8; 64];
            let mut w = Writer::new(&mut buf, Endianness::Big);
            emit_property_list(&mut w, &props, &binary).unwrap();
            let n = w.position();
            let mut r = Reader::new(&buf[..n], Endianness::Big);
            assert_eq!(read_property_list(&mut r), Ok((props.clone(), binary)));
        }
        // Cyclone: an empty binary sequence after the properties.
        let cyclone = b"\x01\0\0\0\x02\0\0\0k\0\0\0\x02\0\0\0v\0\0\0\0\0\0\0";
        assert_eq!(
            read_property_list(&mut le(cyclone)),
            Ok((vec![("k".into(), "v".into())], vec![]))
        );
    }

    #[test]
    fn caps_counts_before_allocating() {
        let huge = 0xffff_fff0u32.to_le_bytes();
        assert_eq!(
            read_property_list(&mut le(&huge)),
            Err(ParseError::TooLarge("property list"))
        );
        assert_eq!(
            read_string_seq(&mut le(&huge), MAX_PARTITIONS, "partition"),
            Err(ParseError::TooLarge("partition"))
        );
        assert_eq!(
            read_octets(&mut le(&huge), MAX_OCTETS_LEN, "user data"),
            Err(ParseError::TooLarge("user data"))
        );
        let mut list = vec![Locator::INVALID; MAX_LOCATORS];
        assert_eq!(
            push_locator(&mut list, &mut le(&[0; 24])),
            Err(ParseError::TooLarge("locator list"))
        );
    }

    #[test]
    fn keeps_unknown_and_vendor_parameters_and_flags_must_understand() {
        let mut other = RawParameters::new();
        let p = |id, value| Parameter {
            id: ParameterId(id),
            value,
        };
        keep_other(&mut other, p(0x8007, &[1, 0, 0, 0])).unwrap();
        keep_other(&mut other, p(0x0077, &[1, 2, 3])).unwrap();
        keep_other(&mut other, p(0x0000, &[])).unwrap();
        keep_other(&mut other, p(0xc001, &[])).unwrap();
        assert_eq!(
            keep_other(&mut other, p(0x4001, &[])),
            Err(DiscoveryError::Incompatible(ParameterId(0x4001)))
        );
        assert_eq!(
            other,
            vec![
                (ParameterId(0x8007), vec![1, 0, 0, 0]),
                (ParameterId(0x0077), vec![1, 2, 3, 0]),
                (ParameterId(0xc001), vec![]),
            ]
        );
    }
}
