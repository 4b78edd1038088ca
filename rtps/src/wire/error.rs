//! Errors of the wire layer (architecture.md rule 7): small enums, `&'static str` context,
//! hand-written `Display`. A parse error names the element that was wrong; the caller counts the
//! datagram as malformed and drops it.

use core::fmt;

/// Why untrusted bytes could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The input ended before the named element was complete.
    Truncated(&'static str),
    /// The named element has a value the spec does not allow.
    Invalid(&'static str),
    /// The named length or count is over the cap we allow before allocating.
    TooLarge(&'static str),
    /// The named element is well formed but not supported (e.g. a CDR2 encapsulation).
    Unsupported(&'static str),
    /// Bytes were left over after the named element where none may be.
    TrailingData(&'static str),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Truncated(what) => write!(f, "truncated {what}"),
            ParseError::Invalid(what) => write!(f, "invalid {what}"),
            ParseError::TooLarge(what) => write!(f, "{what} is over its size limit"),
            ParseError::Unsupported(what) => write!(f, "unsupported {what}"),
            ParseError::TrailingData(what) => write!(f, "trailing bytes after {what}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Why a representation could not be emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmitError {
    /// The output buffer has no room for the named element.
    BufferTooSmall(&'static str),
    /// The named value cannot be represented on the wire (e.g. a length over `u16::MAX`).
    Unrepresentable(&'static str),
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::BufferTooSmall(what) => write!(f, "no room in the buffer for {what}"),
            EmitError::Unrepresentable(what) => {
                write!(f, "{what} cannot be represented on the wire")
            }
        }
    }
}

impl std::error::Error for EmitError {}
