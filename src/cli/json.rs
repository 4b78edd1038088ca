//! Output for scripts and for eyes: one-line JSON objects (written by hand: a string escaper
//! and base64 are all the CLI needs), and the escaping of job and solution bytes in human
//! output so that control characters never reach the terminal.

use std::fmt::Write;

/// Append `s` as a JSON string (RFC 8259 §7): quotes, backslash and control characters
/// escaped, everything else as is (the output is UTF-8).
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if escape_common(out, c) {
            continue;
        }
        if u32::from(c) < 0x20 || c == '\u{7f}' {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out.push('"');
}

/// The escapes JSON and human output share (`"`, `\`, `\n`, `\r`, `\t`); false for others.
fn escape_common(out: &mut String, c: char) -> bool {
    let e = match c {
        '"' => "\\\"",
        '\\' => "\\\\",
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        _ => return false,
    };
    out.push_str(e);
    true
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3).saturating_mul(4));
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One JSON object on one line, built field by field.
#[derive(Debug)]
pub struct Object {
    out: String,
}

impl Default for Object {
    fn default() -> Self {
        Self::new()
    }
}

impl Object {
    /// `{`
    pub fn new() -> Self {
        Object {
            out: String::from("{"),
        }
    }

    fn key(&mut self, key: &str) {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        push_str(&mut self.out, key);
        self.out.push(':');
    }

    /// A string field.
    pub fn str(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        push_str(&mut self.out, value);
        self
    }

    /// An integer field.
    pub fn int(mut self, key: &str, value: u64) -> Self {
        self.key(key);
        let _ = write!(self.out, "{value}");
        self
    }

    /// A number field (finite; 3 decimals; non-finite values are written as 0).
    pub fn num(mut self, key: &str, value: f64) -> Self {
        self.key(key);
        let v = if value.is_finite() { value } else { 0.0 };
        let _ = write!(self.out, "{v:.3}");
        self
    }

    /// Bytes: `key` as a string when they are UTF-8, else in base64, and `<key>_encoding`
    /// saying which (`utf8` or `base64`).
    pub fn bytes(self, key: &str, value: &[u8]) -> Self {
        let encoding = format!("{key}_encoding");
        match std::str::from_utf8(value) {
            Ok(s) => self.str(&encoding, "utf8").str(key, s),
            Err(_) => self.str(&encoding, "base64").str(key, &base64(value)),
        }
    }

    /// `}`: the object as one line (no newline).
    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

/// Job or solution bytes for human output: printable UTF-8 as is; `"` and `\` backslashed;
/// control characters as `\n`, `\r`, `\t` or `\u{..}`; bytes that are not UTF-8 as `\xNN`.
pub fn escape(bytes: &[u8]) -> String {
    Escaped(bytes).to_string()
}

/// [`escape`] written straight to a formatter, without building the escaped copy first (a
/// solution may be 100 MB): runs of characters that need no escape are written as they are.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a [u8]);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut special = String::new();
        for chunk in self.0.utf8_chunks() {
            let valid = chunk.valid();
            let mut start = 0;
            for (i, c) in valid.char_indices() {
                special.clear();
                if !escape_common(&mut special, c) {
                    if !c.is_control() {
                        continue;
                    }
                    let _ = write!(special, "\\u{{{:x}}}", u32::from(c));
                }
                f.write_str(valid.get(start..i).unwrap_or_default())?;
                f.write_str(&special)?;
                start = i + c.len_utf8();
            }
            f.write_str(valid.get(start..).unwrap_or_default())?;
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded, "{plain}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00, 0x80]), "//4AgA==");
    }

    #[test]
    fn json_strings_escape_quotes_backslashes_and_control_characters() {
        let mut s = String::new();
        push_str(&mut s, "a\"b\\c\nd\u{1}\u{7f}é€");
        assert_eq!(s, r#""a\"b\\c\nd\u0001\u007fé€""#);
    }

    #[test]
    fn objects_are_one_line_with_bytes_as_text_or_base64() {
        let o = Object::new()
            .str("type", "solution")
            .int("index", 3)
            .num("latency_ms", 1.23456)
            .bytes("solution", b"OK\n")
            .finish();
        assert_eq!(
            o,
            r#"{"type":"solution","index":3,"latency_ms":1.235,"solution_encoding":"utf8","solution":"OK\n"}"#
        );
        let o = Object::new().bytes("s", &[0xff, 0]).finish();
        assert_eq!(o, r#"{"s_encoding":"base64","s":"/wA="}"#);
        assert_eq!(Object::new().num("x", f64::NAN).finish(), r#"{"x":0.000}"#);
        assert_eq!(Object::new().finish(), "{}");
    }

    #[test]
    fn human_output_shows_control_characters_and_bad_bytes_escaped() {
        assert_eq!(escape(b"plain text"), "plain text");
        assert_eq!(
            escape(b"a\x1b[2Jb\n\"q\"\\\xff\xc3"),
            "a\\u{1b}[2Jb\\n\\\"q\\\"\\\\\\xff\\xc3"
        );
        assert_eq!(escape("é\u{85}".as_bytes()), "é\\u{85}");
    }
}
