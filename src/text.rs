//! Untrusted text (names, events, reasons, log lines) made safe for the terminal.
//!
//! Anything that came from AWS or from another program passes through [`sanitize`] before it
//! reaches a widget. Control characters could otherwise move the cursor, set the clipboard
//! (OSC 52), change the window title or reorder text (bidi overrides). We replace them with
//! visible stand-ins instead of dropping them, so an operator can still see that something odd
//! was there.

use std::borrow::Cow;

/// True for characters that must never reach the terminal as-is.
fn is_unsafe(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || u == 0x7f
        || (0x80..=0x9f).contains(&u)
        // bidi embeddings, overrides and isolates; the Arabic letter mark; LRM/RLM
        || (0x202a..=0x202e).contains(&u)
        || (0x2066..=0x2069).contains(&u)
        || u == 0x061c
        || u == 0x200e
        || u == 0x200f
        // line/paragraph separators would break a one-line cell
        || u == 0x2028
        || u == 0x2029
}

fn stand_in(c: char) -> char {
    let u = c as u32;
    match u {
        // Unicode "control pictures": ␛ for ESC, ␀ for NUL, ...
        0x00..=0x1f => char::from_u32(0x2400 + u).unwrap_or('\u{fffd}'),
        0x7f => '\u{2421}',
        _ => '\u{fffd}',
    }
}

/// Replace control characters, C1 controls and bidi overrides with visible stand-ins. Tabs
/// become a space. Returns the input unchanged (borrowed) in the common case.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c {
                '\t' => ' ',
                c if is_unsafe(c) => stand_in(c),
                c => c,
            })
            .collect(),
    )
}

/// [`sanitize`] each line, keeping the line breaks (reports printed by the command-line
/// programs).
pub fn sanitize_multiline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&sanitize(line));
    }
    out
}

/// Sanitise bytes that may not be UTF-8 (invalid sequences become U+FFFD).
pub fn sanitize_bytes(b: &[u8]) -> String {
    sanitize(&String::from_utf8_lossy(b)).into_owned()
}

/// Standard base64 with padding (for OSC 52).
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(input.as_bytes()), expected);
        }
    }

    use super::*;

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(sanitize("checkout-api"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_sequences_are_neutralised() {
        let hostile = "ok\x1b]52;c;ZXZpbA==\x07\x1b[2J\u{9b}31m\u{202e}gnp.exe";
        let out = sanitize(hostile);
        assert!(!out.chars().any(is_unsafe), "{out:?}");
        assert!(
            out.contains('\u{241b}'),
            "ESC is shown as a stand-in: {out:?}"
        );
        assert!(out.starts_with("ok"));
        assert!(out.ends_with("gnp.exe"));
    }

    #[test]
    fn tabs_become_spaces_and_newlines_are_visible() {
        assert_eq!(sanitize("a\tb"), "a b");
        assert_eq!(sanitize("a\nb"), "a\u{240a}b");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(sanitize_bytes(b"a\xffb\x1b"), "a\u{fffd}b\u{241b}");
    }
}
