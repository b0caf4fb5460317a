//! Diagnostics for configuration files: where (file, line, column), how bad, and what.
//!
//! Keymaps and themes share this type so `main` can print fatal ones before the terminal is
//! touched and the UI can show the warnings.

use std::fmt;
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The file cannot be used: berth refuses to start (exit code 2).
    Error,
    /// The file is used, but something in it was ignored or replaced.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// A path, or e.g. `keymaps/default.toml (built in)`.
    pub origin: String,
    /// 1-based; 0 when the problem is not inside a file (e.g. an unknown `--keymap` name).
    pub line: usize,
    /// 1-based, in characters; 0 when `line` is 0.
    pub column: usize,
    pub severity: Severity,
    pub message: String,
    /// The offending text, as written in the file (truncated when long).
    pub snippet: String,
}

impl Diagnostic {
    /// A diagnostic about the text at `span` (byte offsets into `src`).
    pub(crate) fn at(
        origin: &str,
        src: &str,
        span: Range<usize>,
        severity: Severity,
        message: impl Into<String>,
    ) -> Diagnostic {
        let (line, column) = line_column(src, span.start);
        Diagnostic {
            origin: origin.to_string(),
            line,
            column,
            severity,
            message: message.into(),
            snippet: snippet(src, span),
        }
    }

    /// A diagnostic that is not about a particular place in a file.
    pub(crate) fn whole(
        origin: &str,
        severity: Severity,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            origin: origin.to_string(),
            line: 0,
            column: 0,
            severity,
            message: message.into(),
            snippet: String::new(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}: {}", self.origin, self.severity, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}: {}",
                self.origin, self.line, self.column, self.severity, self.message
            )
        }
    }
}

/// 1-based line and column (in characters) of byte offset `offset` in `src`.
pub(crate) fn line_column(src: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

const SNIPPET_MAX_CHARS: usize = 80;

/// The text at `span`, on one line, truncated to a readable length.
fn snippet(src: &str, span: Range<usize>) -> String {
    let start = span.start.min(src.len());
    let end = span.end.clamp(start, src.len());
    let mut text = src.get(start..end).unwrap_or("");
    if text.trim().is_empty() {
        // A point (typical of syntax errors): show the line it is on.
        let line_start = src
            .get(..start)
            .and_then(|b| b.rfind('\n'))
            .map_or(0, |i| i + 1);
        let line_end = src
            .get(start..)
            .and_then(|a| a.find('\n'))
            .map_or(src.len(), |i| start + i);
        text = src.get(line_start..line_end).unwrap_or("").trim();
    }
    let first_line = text.lines().next().unwrap_or("").trim_end();
    let mut out: String = first_line.chars().take(SNIPPET_MAX_CHARS).collect();
    if first_line.chars().count() > SNIPPET_MAX_CHARS || text.trim_end().contains('\n') {
        out.push('…');
    }
    out
}

/// Turn the toml crate's syntax errors into diagnostics.
pub(crate) fn syntax_errors(
    origin: &str,
    src: &str,
    errors: Vec<toml::de::Error>,
) -> Vec<Diagnostic> {
    // Recovery after the first error often produces echoes of it; the first few are what help.
    const MAX_SYNTAX_ERRORS: usize = 5;
    errors
        .into_iter()
        .take(MAX_SYNTAX_ERRORS)
        .map(|e| {
            let message = format!("invalid TOML: {}", e.message().trim_end());
            match e.span() {
                Some(span) => Diagnostic::at(origin, src, span, Severity::Error, message),
                None => Diagnostic::whole(origin, Severity::Error, message),
            }
        })
        .collect()
}

/// The candidate closest to `word` by edit distance, if it is plausibly a typo of it.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// " (did you mean \"x\"?)" or "".
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    closest(word, candidates)
        .map(|c| format!(" (did you mean \"{c}\"?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 6), (2, 1));
        // 'é' is two bytes; '=' is the 4th character of line 2.
        assert_eq!(line_column(src, 10), (2, 4));
        assert_eq!(line_column(src, 999), (3, 1));
    }

    #[test]
    fn display_names_file_line_and_severity() {
        let d = Diagnostic::at(
            "k.toml",
            "x\nquitt",
            2..7,
            Severity::Error,
            "unknown action",
        );
        assert_eq!(d.to_string(), "k.toml:2:1: error: unknown action");
        assert_eq!(d.snippet, "quitt");
        let point = Diagnostic::at("k.toml", "a\nkeys = [\n", 9..9, Severity::Error, "x");
        assert_eq!(point.snippet, "keys = [");
        let w = Diagnostic::whole("--keymap", Severity::Warning, "odd");
        assert_eq!(w.to_string(), "--keymap: warning: odd");
    }

    #[test]
    fn suggestions_are_close_words_only() {
        assert_eq!(closest("quitt", ["quit", "help"]), Some("quit"));
        assert_eq!(closest("zzzzzz", ["quit", "help"]), None);
        assert_eq!(closest("page-up", ["page_up", "up"]), Some("page_up"));
    }
}
