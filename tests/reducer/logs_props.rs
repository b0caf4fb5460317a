//! Property tests for the log parsers: no input makes them panic, errors point inside the
//! query, and the text writer never lets a control byte through.

use berth::logs::output::write_text;
use berth::logs::parse::parse;
use berth::logs::query::Query;
use berth::logs::time::{format_rfc3339, parse_duration_ms, parse_rfc3339, parse_since};
use berth::logs::{LogEvent, Origin};
use proptest::prelude::*;

fn query_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("level>=warn".to_string()),
        Just("status>=500".to_string()),
        Just("path~/api/".to_string()),
        Just("request_id=abc".to_string()),
        Just("and".to_string()),
        Just("or".to_string()),
        Just("not".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("\"quoted text\"".to_string()),
        Just("-".to_string()),
        Just(">=".to_string()),
        "[a-zA-Z0-9_./~=<>!\"()-]{0,8}",
    ]
}

/// CloudWatch term semantics for the patterns `to_filter_pattern` produces:
/// `"a" -"b"` (all of / none of) or `?"a" ?"b"` (any of); case-sensitive substrings.
fn pattern_matches(pattern: &str, line: &str) -> bool {
    let mut all = Vec::new();
    let mut any = Vec::new();
    let mut none = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('"') {
        let prefix = rest[..open].trim();
        let after = &rest[open + 1..];
        let Some(close) = after.find('"') else { break };
        let term = &after[..close];
        match prefix {
            "?" => any.push(term),
            "-" => none.push(term),
            _ => all.push(term),
        }
        rest = &after[close + 1..];
    }
    all.iter().all(|t| line.contains(t))
        && (any.is_empty() || any.iter().any(|t| line.contains(t)))
        && !none.iter().any(|t| line.contains(t))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics(s in any::<String>()) {
        let p = parse(&s);
        let _ = p.message(&s);
        let _ = p.correlation_ids().count();
        let _ = p.error();
    }

    #[test]
    fn parse_never_panics_on_json_like_input(s in r#"\{("[a-z_.]{0,6}":("[^"\\]{0,10}"|[0-9.eE+-]{1,6}|true|null|\{|\[|\]|\}|,)){0,8}\}?"#) {
        let p = parse(&s);
        for (k, _) in p.fields.iter() {
            prop_assert!(!k.is_empty() || s.contains("\"\""));
        }
    }

    #[test]
    fn logfmt_like_input(s in r#"([a-z_]{1,5}=("[^"]{0,6}"|[a-z0-9]{0,5}) ?){0,6}"#) {
        let _ = parse(&s);
    }

    #[test]
    fn query_parse_never_panics_and_errors_point_inside(s in any::<String>()) {
        match Query::parse(&s) {
            Ok(q) => {
                let _ = q.to_filter_pattern();
            }
            Err(e) => {
                prop_assert!(e.position <= s.chars().count());
                prop_assert!(!e.message.is_empty());
                let _ = e.render(&s);
            }
        }
    }

    #[test]
    fn query_from_pieces(pieces in prop::collection::vec(query_piece(), 0..10)) {
        let s = pieces.join(" ");
        let ev = LogEvent::new(&Origin::new("g", "ecs/app/t1"), "1".into(), 0, 0,
            r#"{"level":"error","status":503,"path":"/api/x","request_id":"abc"}"#.into());
        match Query::parse(&s) {
            Ok(q) => {
                let _ = q.matches(&ev);
                // the server-side pattern never excludes a line the query matches
                if q.matches(&ev) && let Some(p) = q.to_filter_pattern() {
                    prop_assert!(pattern_matches(&p, &ev.raw), "{p} excludes a matching line");
                }
            }
            Err(e) => prop_assert!(e.position <= s.chars().count()),
        }
    }

    #[test]
    fn text_output_has_no_control_bytes(raw in any::<Vec<u8>>(), stream in "[ -~]{0,20}") {
        let raw = String::from_utf8_lossy(&raw).into_owned();
        let ev = LogEvent::new(&Origin::new("g", &stream), "1".into(), 0, 0, raw);
        let mut out = Vec::new();
        write_text(&mut out, &ev).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(!out.iter().any(|&b| (b < 0x20 && b != b'\n') || b == 0x7f));
        let s = String::from_utf8(out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(!s.chars().any(|c| matches!(c as u32, 0x80..=0x9f | 0x202a..=0x202e | 0x2066..=0x2069)));
    }

    #[test]
    fn times_round_trip(ms in -10_000_000_000_000i64..10_000_000_000_000i64) {
        prop_assert_eq!(parse_rfc3339(&format_rfc3339(ms)), Some(ms));
    }

    #[test]
    fn time_parsers_never_panic(s in any::<String>()) {
        let _ = parse_rfc3339(&s);
        let _ = parse_duration_ms(&s);
        let _ = parse_since(&s, 0);
    }
}
