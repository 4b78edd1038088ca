//! Errors of the CDR layer (architecture.md rule 7): one small enum with `&'static str` context
//! and a hand-written `Display`, shared by the serializer and the deserializer because serde
//! requires one error type per format.

use core::fmt;

use crate::wire::error::ParseError;

/// Why a value could not be serialized to, or deserialized from, plain CDR (XCDR1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CdrError {
    /// The input ended before the named element was complete.
    Truncated(&'static str),
    /// The named element has a value CDR (or our mapping) does not allow, e.g. a `bool` octet
    /// other than 0/1, a string without its NUL or with invalid UTF-8.
    Invalid(&'static str),
    /// The named length, count or nesting depth is over what the input can hold or what we
    /// allow (checked before allocating).
    TooLarge(&'static str),
    /// The named Rust/serde construct has no plain CDR mapping (e.g. `Option`, `i128`,
    /// self-describing `deserialize_any`), or the encapsulation is not plain CDR.
    Unsupported(&'static str),
    /// A message from a `Serialize`/`Deserialize` implementation (`serde::ser::Error::custom`,
    /// `serde::de::Error::custom`), e.g. an enum variant index out of range.
    Message(String),
}

impl fmt::Display for CdrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CdrError::Truncated(what) => write!(f, "CDR: truncated {what}"),
            CdrError::Invalid(what) => write!(f, "CDR: invalid {what}"),
            CdrError::TooLarge(what) => write!(f, "CDR: {what} is over its size limit"),
            CdrError::Unsupported(what) => write!(f, "CDR: unsupported {what}"),
            CdrError::Message(msg) => write!(f, "CDR: {msg}"),
        }
    }
}

impl std::error::Error for CdrError {}

impl serde::ser::Error for CdrError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        CdrError::Message(msg.to_string())
    }
}

impl serde::de::Error for CdrError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        CdrError::Message(msg.to_string())
    }
}

impl From<ParseError> for CdrError {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::Truncated(what) => CdrError::Truncated(what),
            ParseError::Invalid(what) | ParseError::TrailingData(what) => CdrError::Invalid(what),
            ParseError::TooLarge(what) => CdrError::TooLarge(what),
            ParseError::Unsupported(what) => CdrError::Unsupported(what),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_element() {
        assert_eq!(
            CdrError::Truncated("string").to_string(),
            "CDR: truncated string"
        );
        assert_eq!(
            CdrError::Unsupported("Option").to_string(),
            "CDR: unsupported Option"
        );
        assert_eq!(
            CdrError::TooLarge("sequence count").to_string(),
            "CDR: sequence count is over its size limit"
        );
    }

    #[test]
    fn parse_errors_keep_their_context() {
        assert_eq!(
            CdrError::from(ParseError::Truncated("u32")),
            CdrError::Truncated("u32")
        );
        assert_eq!(
            CdrError::from(ParseError::TrailingData("x")),
            CdrError::Invalid("x")
        );
    }
}
