//! Writers for `berth logs`: `text` (one readable line per event, sanitised: no escape
//! sequence, C0/C1 control or bidi override from a log line reaches the terminal) and `jsonl`
//! (one JSON object per event, escaped by serde_json, for `jq`).

use std::io::{self, Write};

use serde_json::{Map, Value};

use super::parse::{Format, is_correlation_key};
use super::{LogEvent, time};
use crate::text::sanitize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// time, level, task, container, message and fields; safe for terminals
    #[default]
    Text,
    /// one JSON object per line (raw line, parsed fields, origin)
    Jsonl,
}

/// Keys already shown in the line's fixed columns.
pub(crate) fn is_shown_elsewhere(ev: &LogEvent, i: usize, key: &str) -> bool {
    let p = &ev.parsed;
    p.message_field.is_some_and(|m| usize::from(m) == i)
        || matches!(
            key.to_ascii_lowercase().as_str(),
            "timestamp" | "time" | "ts" | "@timestamp" | "level" | "lvl" | "severity" | "levelname"
        )
}

/// One event as text: `2024-05-01T12:00:00.123Z ERROR 1a2b3c4d app  message  k=v ...`.
/// The lines of a multi-line event (a stack trace) follow, indented.
pub fn write_text(w: &mut impl Write, ev: &LogEvent) -> io::Result<()> {
    let level = ev.parsed.level.map_or("-", |l| l.as_str());
    let mut line = String::with_capacity(ev.raw.len() + 64);
    line.push_str(&time::format_rfc3339(ev.timestamp_ms));
    line.push(' ');
    line.push_str(&format!("{level:<5} "));
    if !ev.task_id.is_empty() {
        line.push_str(&sanitize(ev.short_task_id()));
        line.push(' ');
    }
    if !ev.container.is_empty() {
        line.push_str(&sanitize(&ev.container));
        line.push(' ');
    } else if ev.task_id.is_empty() {
        line.push_str(&sanitize(&ev.stream));
        line.push(' ');
    }
    let message = ev.parsed.message(&ev.raw);
    let mut rest = String::new();
    if ev.parsed.format != Format::Plain {
        for (i, (k, v)) in ev.parsed.fields.iter().enumerate() {
            if is_shown_elsewhere(ev, i, k) {
                continue;
            }
            rest.push(' ');
            rest.push_str(k);
            rest.push('=');
            if v.is_empty() || v.contains([' ', '"', '=']) {
                rest.push_str(&format!("{v:?}"));
            } else {
                rest.push_str(v);
            }
        }
    }
    let mut lines = message.split('\n');
    let first = lines.next().unwrap_or_default();
    line.push(' ');
    line.push_str(&sanitize(first.trim_end_matches('\r')));
    line.push_str(&sanitize(&rest));
    line.push('\n');
    for cont in lines {
        line.push_str("    ");
        line.push_str(&sanitize(cont.trim_end_matches('\r')));
        line.push('\n');
    }
    w.write_all(line.as_bytes())
}

/// One event as a JSON object on one line. `fields` holds the parsed JSON object (or the
/// logfmt pairs) so `jq '.fields.status'` works.
pub fn write_jsonl(w: &mut impl Write, ev: &LogEvent) -> io::Result<()> {
    let mut m = Map::new();
    m.insert(
        "timestamp".into(),
        Value::String(time::format_rfc3339(ev.timestamp_ms)),
    );
    m.insert("timestamp_ms".into(), ev.timestamp_ms.into());
    m.insert("ingestion_ms".into(), ev.ingestion_ms.into());
    m.insert("event_id".into(), Value::String(ev.event_id.clone()));
    m.insert("group".into(), Value::String(ev.group.to_string()));
    m.insert("stream".into(), Value::String(ev.stream.to_string()));
    m.insert("task_id".into(), Value::String(ev.task_id.to_string()));
    m.insert("container".into(), Value::String(ev.container.to_string()));
    m.insert(
        "level".into(),
        ev.parsed.level.map_or(Value::Null, |l| {
            Value::String(l.as_str().to_ascii_lowercase())
        }),
    );
    m.insert(
        "message".into(),
        Value::String(ev.parsed.message(&ev.raw).to_string()),
    );
    if let Some(e) = ev.parsed.error() {
        m.insert("error".into(), Value::String(e.to_string()));
    }
    let ids: Map<String, Value> = ev
        .parsed
        .correlation_ids()
        .filter(|(k, _)| is_correlation_key(k))
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    if !ids.is_empty() {
        m.insert("ids".into(), Value::Object(ids));
    }
    let format = match ev.parsed.format {
        Format::Json => "json",
        Format::Logfmt => "logfmt",
        Format::Plain => "plain",
    };
    m.insert("format".into(), Value::String(format.into()));
    match ev.parsed.format {
        Format::Json => {
            if let Ok(v) = serde_json::from_str::<Value>(ev.raw.trim()) {
                m.insert("fields".into(), v);
            }
        }
        Format::Logfmt => {
            let f: Map<String, Value> = ev
                .parsed
                .fields
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect();
            m.insert("fields".into(), Value::Object(f));
        }
        Format::Plain => {}
    }
    if ev.late {
        m.insert("late".into(), Value::Bool(true));
    }
    m.insert("raw".into(), Value::String(ev.raw.clone()));
    serde_json::to_writer(&mut *w, &Value::Object(m))?;
    w.write_all(b"\n")
}

pub fn write_event(w: &mut impl Write, format: OutputFormat, ev: &LogEvent) -> io::Result<()> {
    match format {
        OutputFormat::Text => write_text(w, ev),
        OutputFormat::Jsonl => write_jsonl(w, ev),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Origin;

    fn ev(raw: &str) -> LogEvent {
        LogEvent::new(
            &Origin::new("/ecs/prod/api", "ecs/app/0123456789abcdef"),
            "id1".into(),
            1_714_564_800_123,
            1_714_564_800_500,
            raw.to_string(),
        )
    }

    fn text(raw: &str) -> String {
        let mut out = Vec::new();
        write_text(&mut out, &ev(raw)).unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn text_lines() {
        assert_eq!(
            text(r#"{"level":"error","msg":"boom","status":503,"path":"/a b"}"#),
            "2024-05-01T12:00:00.123Z ERROR 01234567 app  boom status=503 path=\"/a b\"\n"
        );
        assert_eq!(
            text("Error: x\n    at f (a.js:1:1)"),
            "2024-05-01T12:00:00.123Z ERROR 01234567 app  Error: x\n        at f (a.js:1:1)\n"
        );
    }

    #[test]
    fn hostile_text_has_no_control_bytes() {
        let out = text("a\x1b]52;c;ZXZpbA==\x07b\x1b[2J\u{202e}c\0d\u{9b}e\r\n\x1b[31mred");
        assert!(!out.bytes().any(|b| b < 0x20 && b != b'\n'), "{out:?}");
        assert!(!out.contains('\u{202e}') && !out.contains('\u{9b}'));
        assert_eq!(out.matches('\n').count(), 2);
    }

    #[test]
    fn jsonl_escapes_and_parses_back() {
        let mut out = Vec::new();
        write_jsonl(
            &mut out,
            &ev("{\"level\":\"warn\",\"msg\":\"a\\u001b[2Jb\",\"request_id\":\"r1\"}"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let s = String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.bytes().any(|b| b < 0x20 && b != b'\n'));
        let v: Value = serde_json::from_str(&s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v["level"], "warn");
        assert_eq!(v["ids"]["request_id"], "r1");
        assert_eq!(v["fields"]["msg"], "a\u{1b}[2Jb");
        assert_eq!(v["task_id"], "0123456789abcdef");
    }
}
