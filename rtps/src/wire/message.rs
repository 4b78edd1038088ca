//! RTPS messages (RTPS 2.5 §8.3.3, §9.4): a [`Header`] followed by submessages, parsed lazily
//! by [`Message::submessages`] and built by [`MessageBuilder`].
//!
//! The iterator reads one submessage header at a time and hands its body, and nothing more, to
//! the kind's parser. `octetsToNextHeader == 0` extends the submessage to the end of the message
//! (except for PAD and INFO_TS, RTPS 2.5 §9.4.5.1.3); a length that runs past the message is an
//! error. The iterator is fused: after the first `Err` it yields `None`, so a receiver drops the
//! rest of a corrupt datagram (architecture.md rule 6).
//!
//! Each item is a [`SubmessageRef`] that keeps the submessage's wire bytes, so it can be
//! forwarded byte for byte with [`SubmessageRef::emit_as_received`].

use super::cursor::{Endianness, Reader, Writer};
use super::error::{EmitError, ParseError};
use super::header::Header;
use super::submessage::{Submessage, SubmessageKind, SUBMESSAGE_HEADER_LEN};

/// A parsed RTPS message: the checked header and the unparsed submessages (RTPS 2.5 §8.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The message header.
    pub header: Header,
    body: &'a [u8],
}

impl<'a> Message<'a> {
    /// Check the header of a datagram; submessages are parsed by [`Message::submessages`].
    pub fn parse(datagram: &'a [u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(datagram, Endianness::Big);
        let header = Header::parse(&mut r)?;
        Ok(Message {
            header,
            body: r.take_rest(),
        })
    }

    /// The octets after the header.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// Iterate the submessages in wire order; fused after the first error.
    pub fn submessages(&self) -> SubmessageIter<'a> {
        SubmessageIter {
            rest: self.body,
            failed: false,
        }
    }
}

/// Iterator over the submessages of a [`Message`] (RTPS 2.5 §8.3.4).
#[derive(Debug, Clone)]
pub struct SubmessageIter<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Iterator for SubmessageIter<'a> {
    type Item = Result<SubmessageRef<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match SubmessageRef::parse(self.rest) {
            Ok(s) => {
                self.rest = self.rest.get(s.raw.len()..).unwrap_or_default();
                Some(Ok(s))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for SubmessageIter<'_> {}

/// One submessage as received: its wire bytes, byte order and parsed representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmessageRef<'a> {
    /// This submessage as on the wire, header included.
    pub raw: &'a [u8],
    /// Its byte order (the E flag).
    pub endian: Endianness,
    /// Its representation.
    pub submessage: Submessage<'a>,
}

impl<'a> SubmessageRef<'a> {
    /// Parse the first submessage of `buf` (RTPS 2.5 §9.4.5.1); `raw.len()` is what it used.
    pub fn parse(buf: &'a [u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(buf, Endianness::Big);
        let kind = SubmessageKind(r.u8("submessage id")?);
        let flags = r.u8("submessage flags")?;
        let endian = Endianness::from_flag(flags);
        r.set_endian(endian);
        let len = r.u16("octetsToNextHeader")?;
        let body = if len == 0 && kind.zero_length_extends_to_end() {
            r.take_rest()
        } else {
            r.take(usize::from(len), "submessage body")?
        };
        let raw = buf
            .get(..SUBMESSAGE_HEADER_LEN + body.len())
            .ok_or(ParseError::Truncated("submessage"))?;
        let submessage = Submessage::parse(kind, flags, body)?;
        Ok(SubmessageRef {
            raw,
            endian,
            submessage,
        })
    }

    /// The flags octet as received (E flag included).
    pub fn flags(&self) -> u8 {
        self.raw.get(1).copied().unwrap_or_default()
    }

    /// Write the submessage exactly as it was received.
    pub fn emit_as_received(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.put(self.raw, "submessage")
    }
}

/// Packs submessages into one datagram behind a header, up to the buffer's length
/// (RTPS 2.5 §8.3.3). A submessage that does not fit is not written at all.
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    w: Writer<'b>,
}

impl<'b> MessageBuilder<'b> {
    /// Start a little-endian message in `buf` (its length is the datagram size limit).
    pub fn new(buf: &'b mut [u8], header: &Header) -> Result<Self, EmitError> {
        Self::with_endian(buf, header, Endianness::Little)
    }

    /// Start a message whose submessages are emitted in `endian` order.
    pub fn with_endian(
        buf: &'b mut [u8],
        header: &Header,
        endian: Endianness,
    ) -> Result<Self, EmitError> {
        let mut w = Writer::new(buf, endian);
        header.emit(&mut w)?;
        Ok(MessageBuilder { w })
    }

    /// Append a submessage; on any error (`BufferTooSmall` when it does not fit) nothing of it
    /// stays written.
    pub fn push(&mut self, s: &Submessage<'_>) -> Result<(), EmitError> {
        if s.wire_len() > self.w.remaining() {
            return Err(EmitError::BufferTooSmall("submessage"));
        }
        let at = self.w.position();
        s.emit(&mut self.w).inspect_err(|_| self.w.truncate(at))
    }

    /// Append a received submessage byte for byte (for forwarding); all or nothing.
    pub fn push_as_received(&mut self, s: &SubmessageRef<'_>) -> Result<(), EmitError> {
        s.emit_as_received(&mut self.w)
    }

    /// True while no submessage has been pushed.
    pub fn is_empty(&self) -> bool {
        self.w.position() <= Header::LEN
    }

    /// Octets written so far, header included.
    pub fn len(&self) -> usize {
        self.w.position()
    }

    /// Room left for submessages.
    pub fn remaining(&self) -> usize {
        self.w.remaining()
    }

    /// The datagram written so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.w.written()
    }

    /// Finish the message; returns the datagram length.
    pub fn finish(self) -> usize {
        self.w.position()
    }
}

#[cfg(test)]
mod tests {}
