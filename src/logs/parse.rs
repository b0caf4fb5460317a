//! Structured reading of one log line: JSON objects and logfmt are split into fields, and the
//! timestamp, level, message, error and correlation ids are picked out by their usual names.
//! Plain lines still get a level and a timestamp when they start with the usual prefixes.
//!
//! Fields are stored packed (one string, one offsets array per line) so that 100,000 buffered
//! lines cost two allocations each instead of two per field. JSON is walked with a serde
//! visitor straight into that packed form, without building a `serde_json::Value` tree.

use std::fmt::Write as _;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Lines longer than this are not parsed as JSON or logfmt (kept as plain text).
pub const MAX_STRUCTURED_LEN: usize = 256 * 1024;
/// Nested objects are flattened with dotted keys up to this depth; deeper values stay JSON.
const MAX_DEPTH: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    /// `warn`, `WARNING`, `err`, `critical`, ... (ASCII case-insensitive).
    pub fn from_name(s: &str) -> Option<Level> {
        let s = s.trim();
        if s.len() > 11 {
            return None;
        }
        let mut buf = [0u8; 11];
        let lower = &mut buf[..s.len()];
        lower.copy_from_slice(s.as_bytes());
        lower.make_ascii_lowercase();
        Some(match &*lower {
            b"trace" | b"verbose" | b"finest" | b"finer" => Level::Trace,
            b"debug" | b"dbg" | b"fine" | b"d" => Level::Debug,
            b"info" | b"information" | b"informational" | b"notice" | b"i" => Level::Info,
            b"warn" | b"warning" | b"w" => Level::Warn,
            b"error" | b"err" | b"severe" | b"e" => Level::Error,
            b"fatal" | b"critical" | b"crit" | b"panic" | b"emerg" | b"emergency" | b"alert"
            | b"f" => Level::Fatal,
            _ => return None,
        })
    }

    /// Numeric levels: syslog severities 0–7, Python `levelno` (10–50, when the key says so),
    /// and pino/bunyan (10 trace … 60 fatal).
    pub fn from_number(n: f64, python: bool) -> Option<Level> {
        if !n.is_finite() || n < 0.0 {
            return None;
        }
        let n = n as i64;
        Some(match (python, n) {
            (_, 0..=2) => Level::Fatal,
            (_, 3) => Level::Error,
            (_, 4) => Level::Warn,
            (_, 5 | 6) => Level::Info,
            (_, 7) => Level::Debug,
            (true, 8..=19) => Level::Debug,
            (true, 20..=29) => Level::Info,
            (true, 30..=39) => Level::Warn,
            (true, 40..=49) => Level::Error,
            (true, _) => Level::Fatal,
            (false, 8..=19) => Level::Trace,
            (false, 20..=29) => Level::Debug,
            (false, 30..=39) => Level::Info,
            (false, 40..=49) => Level::Warn,
            (false, 50..=59) => Level::Error,
            (false, _) => Level::Fatal,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Plain,
    Json,
    Logfmt,
}

/// Key/value pairs of a structured line, packed: `text` holds key₀ value₀ key₁ value₁ …, and
/// `ends[i] = (end of key i, end of value i)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    text: Box<str>,
    ends: Box<[(u32, u32)]>,
}

impl Fields {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<(&str, &str)> {
        let start = match i {
            0 => 0,
            _ => self.ends.get(i - 1)?.1 as usize,
        };
        let &(k, v) = self.ends.get(i)?;
        Some((
            self.text.get(start..k as usize)?,
            self.text.get(k as usize..v as usize)?,
        ))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The value of the first field named `key` (exact match first, then ASCII
    /// case-insensitive).
    pub fn find(&self, key: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| *k == key)
            .or_else(|| self.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
            .map(|(_, v)| v)
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.text.len() + self.ends.len() * std::mem::size_of::<(u32, u32)>()
    }
}

#[derive(Default)]
struct FieldsBuilder {
    text: String,
    ends: Vec<(u32, u32)>,
}

impl FieldsBuilder {
    fn push_key(&mut self, prefix: Option<&str>, key: &str) -> (usize, usize) {
        let start = self.text.len();
        if let Some(p) = prefix {
            self.text.push_str(p);
            self.text.push('.');
        }
        self.text.push_str(key);
        (start, self.text.len())
    }

    fn finish_value(&mut self, key_end: usize) {
        self.ends.push((key_end as u32, self.text.len() as u32));
    }

    fn build(self) -> Fields {
        if self.text.len() > u32::MAX as usize {
            return Fields::default();
        }
        Fields {
            text: self.text.into_boxed_str(),
            ends: self.ends.into_boxed_slice(),
        }
    }
}

/// What was recognised in one line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub format: Format,
    /// The line's own timestamp (epoch ms), when it has one.
    pub timestamp_ms: Option<i64>,
    pub level: Option<Level>,
    pub fields: Fields,
    /// Index into `fields` of the message (`msg`, `message`, ...).
    pub message_field: Option<u16>,
    /// Index into `fields` of the error (`error`, `err`, `exception`, ...).
    pub error_field: Option<u16>,
    /// The event itself spans several lines (a stack trace inside one event).
    pub multiline: bool,
    /// This line continues a stack trace that the log driver split into separate events
    /// (`    at foo(...)`, `Caused by: ...`): it belongs with the previous line of its stream.
    pub continuation: bool,
}

const MESSAGE_KEYS: &[&str] = &["msg", "message", "@m", "log", "text"];
const ERROR_KEYS: &[&str] = &[
    "error",
    "err",
    "exception",
    "error.message",
    "err.message",
    "exc_info",
    "stack",
    "stack_trace",
];
const LEVEL_KEYS: &[&str] = &[
    "level",
    "lvl",
    "severity",
    "levelname",
    "log.level",
    "loglevel",
    "level_name",
    "@l",
    "levelno",
];
const TIME_KEYS: &[&str] = &[
    "timestamp",
    "time",
    "ts",
    "@timestamp",
    "@t",
    "datetime",
    "date",
    "t",
];
/// Correlation id names, compared after lower-casing and dropping `_`, `-` and `.`.
const ID_KEYS: &[&str] = &[
    "requestid",
    "reqid",
    "traceid",
    "correlationid",
    "spanid",
    "xrequestid",
    "awsrequestid",
    "transactionid",
    "xraytraceid",
    "amzntraceid",
];

/// True when `key` names a correlation id (`request_id`, `traceId`, `x-request-id`, ...).
pub fn is_correlation_key(key: &str) -> bool {
    if key.len() > 32 {
        return false;
    }
    let mut buf = [0u8; 32];
    let mut n = 0;
    for b in key.bytes() {
        if matches!(b, b'_' | b'-' | b'.' | b'@') {
            continue;
        }
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    let norm = &buf[..n];
    ID_KEYS.iter().any(|k| k.as_bytes() == norm)
}

impl Parsed {
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.find(key)
    }

    /// The message to show: the message field of a structured line, else the whole line.
    pub fn message<'a>(&'a self, raw: &'a str) -> &'a str {
        self.message_field
            .and_then(|i| self.fields.get(usize::from(i)))
            .map(|(_, v)| v)
            .unwrap_or(raw)
    }

    pub fn error(&self) -> Option<&str> {
        self.error_field
            .and_then(|i| self.fields.get(usize::from(i)))
            .map(|(_, v)| v)
    }

    /// `(key, value)` of each correlation id, in line order.
    pub fn correlation_ids(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.fields
            .iter()
            .filter(|(k, v)| !v.is_empty() && is_correlation_key(k))
    }
}

/// Parse one line. Never fails: anything unrecognised is a plain line.
pub fn parse(raw: &str) -> Parsed {
    let trimmed = raw.trim();
    let mut parsed = if trimmed.len() <= MAX_STRUCTURED_LEN
        && trimmed.starts_with('{')
        && trimmed.ends_with('}')
    {
        parse_json(trimmed).unwrap_or_default()
    } else {
        Parsed::default()
    };
    if parsed.format == Format::Plain
        && raw.len() <= MAX_STRUCTURED_LEN
        && let Some(fields) = parse_logfmt(trimmed)
    {
        parsed.format = Format::Logfmt;
        parsed.fields = fields;
    }
    if parsed.format == Format::Plain {
        plain_hints(raw, &mut parsed);
    } else {
        pick_known_fields(&mut parsed);
    }
    parsed.multiline = raw.trim_end().contains('\n');
    parsed
}

fn pick_known_fields(p: &mut Parsed) {
    let mut level_rank = usize::MAX;
    let mut msg_rank = usize::MAX;
    let mut err_rank = usize::MAX;
    let mut time_rank = usize::MAX;
    for (i, (k, v)) in p.fields.iter().enumerate() {
        let Ok(idx) = u16::try_from(i) else { break };
        if let Some(r) = rank(LEVEL_KEYS, k)
            && r < level_rank
        {
            let lvl = Level::from_name(v).or_else(|| {
                v.parse::<f64>()
                    .ok()
                    .and_then(|n| Level::from_number(n, k.eq_ignore_ascii_case("levelno")))
            });
            if lvl.is_some() {
                p.level = lvl;
                level_rank = r;
            }
        }
        if let Some(r) = rank(MESSAGE_KEYS, k)
            && r < msg_rank
        {
            p.message_field = Some(idx);
            msg_rank = r;
        }
        if let Some(r) = rank(ERROR_KEYS, k)
            && r < err_rank
            && !v.is_empty()
            && v != "null"
        {
            p.error_field = Some(idx);
            err_rank = r;
        }
        if let Some(r) = rank(TIME_KEYS, k)
            && r < time_rank
            && let Some(t) = time_value(v)
        {
            p.timestamp_ms = Some(t);
            time_rank = r;
        }
    }
}

fn rank(keys: &[&str], k: &str) -> Option<usize> {
    keys.iter().position(|c| c.eq_ignore_ascii_case(k))
}

/// An RFC 3339 string, or epoch seconds/milliseconds/microseconds/nanoseconds.
fn time_value(v: &str) -> Option<i64> {
    if let Ok(n) = v.parse::<f64>() {
        if !n.is_finite() || n <= 0.0 {
            return None;
        }
        let ms = if n < 1e11 {
            n * 1e3
        } else if n < 1e14 {
            n
        } else if n < 1e17 {
            n / 1e3
        } else {
            n / 1e6
        };
        return Some(ms as i64);
    }
    crate::logs::time::parse_rfc3339(v)
}

// ---------------------------------------------------------------------------------------
// JSON

fn parse_json(s: &str) -> Option<Parsed> {
    let mut b = FieldsBuilder::default();
    // serde_json's recursion limit (128) stops hostile nesting; such lines stay plain.
    let mut de = serde_json::Deserializer::from_str(s);
    let ok = ObjectSeed {
        out: &mut b,
        prefix: None,
        depth: 0,
    }
    .deserialize(&mut de)
    .is_ok()
        && de.end().is_ok();
    if !ok {
        return None;
    }
    Some(Parsed {
        format: Format::Json,
        fields: b.build(),
        ..Parsed::default()
    })
}

/// Deserialises a JSON object, pushing each scalar as a (dotted key, text) field.
struct ObjectSeed<'a> {
    out: &'a mut FieldsBuilder,
    prefix: Option<&'a str>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let (start, key_end) = self.out.push_key(self.prefix, &key);
            map.next_value_seed(ValueSeed {
                out: &mut *self.out,
                key_start: start,
                key_end,
                depth: self.depth,
            })?;
        }
        Ok(())
    }
}

/// Keys: borrowed when the JSON has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = std::borrow::Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = std::borrow::Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(v.to_string()))
    }
}

struct ValueSeed<'a> {
    out: &'a mut FieldsBuilder,
    key_start: usize,
    key_end: usize,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl ValueSeed<'_> {
    fn scalar(self, write: impl FnOnce(&mut String)) {
        write(&mut self.out.text);
        self.out.finish_value(self.key_end);
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.scalar(|t| t.push_str(v));
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.scalar(|t| t.push_str(if v { "true" } else { "false" }));
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.scalar(|t| {
            let _ = write!(t, "{v}");
        });
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.scalar(|t| {
            let _ = write!(t, "{v}");
        });
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.scalar(|t| {
            let _ = write!(t, "{v}");
        });
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.scalar(|t| t.push_str("null"));
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        if self.depth + 1 >= MAX_DEPTH {
            let v: serde_json::Value =
                Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            let text = v.to_string();
            self.scalar(|t| t.push_str(&text));
            return Ok(());
        }
        // The key becomes the prefix of the nested keys; the parent itself is not a field.
        let prefix = self
            .out
            .text
            .get(self.key_start..self.key_end)
            .unwrap_or_default()
            .to_string();
        self.out.text.truncate(self.key_start);
        ObjectSeed {
            out: self.out,
            prefix: Some(&prefix),
            depth: self.depth + 1,
        }
        .visit_map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let v: serde_json::Value =
            Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
        let text = v.to_string();
        self.scalar(|t| t.push_str(&text));
        Ok(())
    }
}

use serde::Deserialize;

// ---------------------------------------------------------------------------------------
// logfmt

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/' | b'@' | b':')
}

/// `level=info msg="request done" status=200`: at least two pairs, and pairs make up at
/// least half of the words.
fn parse_logfmt(s: &str) -> Option<Fields> {
    let bytes = s.as_bytes();
    if !bytes.first().is_some_and(|&b| is_key_byte(b)) || !s.contains('=') {
        return None;
    }
    let mut b = FieldsBuilder::default();
    let mut words = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        words += 1;
        let start = i;
        while i < bytes.len() && is_key_byte(bytes[i]) {
            i += 1;
        }
        let key = s.get(start..i)?;
        if i < bytes.len() && bytes[i] == b'=' && !key.is_empty() {
            i += 1;
            let (_, key_end) = b.push_key(None, key);
            if bytes.get(i) == Some(&b'"') {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return None,
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') => {
                            match bytes.get(i + 1) {
                                Some(b'n') => b.text.push('\n'),
                                Some(b't') => b.text.push('\t'),
                                Some(&c @ (b'"' | b'\\')) => b.text.push(char::from(c)),
                                _ => b.text.push('\\'),
                            }
                            i += 2;
                        }
                        Some(_) => {
                            let from = i;
                            while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\\' {
                                i += 1;
                            }
                            b.text.push_str(s.get(from..i)?);
                        }
                    }
                }
            } else {
                let from = i;
                while i < bytes.len() && bytes[i] != b' ' {
                    i += 1;
                }
                b.text.push_str(s.get(from..i)?);
            }
            b.finish_value(key_end);
        } else {
            // a bare word: skip it
            while i < bytes.len() && bytes[i] != b' ' {
                i += 1;
            }
        }
        if i < bytes.len() && bytes[i] != b' ' {
            return None;
        }
    }
    let pairs = b.ends.len();
    if pairs >= 2 && pairs * 2 >= words {
        Some(b.build())
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------
// plain text

/// A leading timestamp (optionally in brackets) and a level word among the first few words.
fn plain_hints(raw: &str, p: &mut Parsed) {
    let head = raw.trim_start();
    p.continuation = is_continuation(raw);
    let t = head.strip_prefix('[').unwrap_or(head);
    if t.len() >= 19 {
        let end = t
            .char_indices()
            .find(|&(_, c)| c == ' ' || c == ']' || c == '\t')
            .map_or(t.len(), |(i, _)| i);
        // "2024-05-01 12:00:00,123" has a space separator: try the first 23 bytes too
        p.timestamp_ms = t
            .get(..end)
            .and_then(crate::logs::time::parse_rfc3339)
            .or_else(|| t.get(..23).and_then(crate::logs::time::parse_rfc3339))
            .or_else(|| t.get(..19).and_then(crate::logs::time::parse_rfc3339));
    }
    let window = match head.char_indices().nth(96) {
        Some((i, _)) => &head[..i],
        None => head,
    };
    for word in window
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .take(8)
    {
        if word.len() >= 4
            && let Some(l) = Level::from_name(word)
        {
            p.level = Some(l);
            break;
        }
    }
}

/// A line that continues a stack trace split into separate events.
pub fn is_continuation(raw: &str) -> bool {
    if raw.starts_with("Caused by:") || raw.starts_with("\tat ") || raw.starts_with("\t... ") {
        return true;
    }
    if !raw.starts_with(' ') && !raw.starts_with('\t') {
        return false;
    }
    let t = raw.trim_start();
    t.starts_with("at ") || t.starts_with("File \"") || t.starts_with("... ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fields_level_message_ids() {
        let p = parse(
            r#"{"timestamp":"2024-05-01T12:00:00.123Z","level":"WARN","msg":"slow request","request_id":"abc","status":503,"http":{"path":"/api/v1","ok":false},"tags":["a","b"]}"#,
        );
        assert_eq!(p.format, Format::Json);
        assert_eq!(p.level, Some(Level::Warn));
        assert_eq!(p.message("x"), "slow request");
        assert_eq!(p.field("status"), Some("503"));
        assert_eq!(p.field("http.path"), Some("/api/v1"));
        assert_eq!(p.field("http.ok"), Some("false"));
        assert_eq!(p.field("tags"), Some(r#"["a","b"]"#));
        assert_eq!(p.timestamp_ms, Some(1_714_564_800_123));
        let ids: Vec<_> = p.correlation_ids().collect();
        assert_eq!(ids, vec![("request_id", "abc")]);
    }

    #[test]
    fn level_spellings() {
        for (line, want) in [
            (r#"{"lvl":"err","message":"x"}"#, Level::Error),
            (r#"{"severity":"CRITICAL"}"#, Level::Fatal),
            (r#"{"levelname":"WARNING"}"#, Level::Warn),
            (r#"{"level":50}"#, Level::Error),
            (r#"{"level":30}"#, Level::Info),
            (r#"{"levelno":30}"#, Level::Warn),
            (r#"{"severity":3}"#, Level::Error),
        ] {
            assert_eq!(parse(line).level, Some(want), "{line}");
        }
    }

    #[test]
    fn error_and_escaped_json() {
        let p = parse(r#"{"msg":"a \"quoted\"\nline","error":"boom","traceId":"t-1"}"#);
        assert_eq!(p.message(""), "a \"quoted\"\nline");
        assert_eq!(p.error(), Some("boom"));
        assert_eq!(p.correlation_ids().count(), 1);
    }

    #[test]
    fn logfmt_lines() {
        let p = parse(
            r#"time=2024-05-01T12:00:00Z level=error msg="db timeout" request_id=r1 status=500"#,
        );
        assert_eq!(p.format, Format::Logfmt);
        assert_eq!(p.level, Some(Level::Error));
        assert_eq!(p.message(""), "db timeout");
        assert_eq!(p.field("status"), Some("500"));
        assert_eq!(parse("just some words = here").format, Format::Plain);
    }

    #[test]
    fn plain_lines_and_stack_traces() {
        let p = parse("2024-05-01T12:00:00.000Z INFO  [worker-3] processed batch");
        assert_eq!(p.format, Format::Plain);
        assert_eq!(p.level, Some(Level::Info));
        assert_eq!(p.timestamp_ms, Some(1_714_564_800_000));
        let p = parse("Error: boom\n    at foo (/app/x.js:1:2)");
        assert!(p.multiline);
        assert_eq!(p.level, Some(Level::Error));
        assert!(parse("    at foo (/app/x.js:1:2)").continuation);
        assert!(parse("Caused by: java.io.IOException").continuation);
        assert!(!parse("at noon we ate").continuation);
    }

    #[test]
    fn broken_json_is_plain() {
        let p = parse(r#"{"level":"info","msg":"#);
        assert_eq!(p.format, Format::Plain);
        assert_eq!(p.level, Some(Level::Info));
        assert_eq!(parse("{}").format, Format::Json);
        assert_eq!(parse(r#"{"a":1} trailing}"#).format, Format::Plain);
    }

    #[test]
    fn deep_nesting_is_kept_as_json() {
        let p = parse(r#"{"a":{"b":{"c":{"d":{"e":1}}}}}"#);
        assert_eq!(p.field("a.b.c.d"), Some(r#"{"e":1}"#));
        let deep = format!(
            "{}{}",
            "{\"a\":".repeat(5000),
            "1".to_string() + &"}".repeat(5000)
        );
        let _ = parse(&deep);
    }
}
