//! The FilterLogEvents path of the tail engine against moto (an independent implementation
//! of the API), seeded with CreateLogGroup/CreateLogStream/PutLogEvents.
//!
//! moto deviations that matter here (see shared MOTO.md): FilterLogEvents returns events
//! grouped by stream rather than interleaved by time (the engine's re-order buffer sorts
//! them, which this test checks), ignores `logStreamNamePrefix` (the engine is given stream
//! names) and ignores JSON and `?term` filter patterns (none are sent here); StartLiveTail
//! returns one snapshot and closes (so only the polling path is tested against moto).
//! moto stores what PutLogEvents sends, so the hostile lines below come back byte for byte.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use berth::aws::logs::LogsClient;
use berth::logs::output::write_text;
use berth::logs::tail::{self, LogTarget, StreamSelector, TailMessage, TailMode, TailSpec};
use berth::logs::{LogEvent, time};

use crate::common::moto;

const HOSTILE: &[&str] = &[
    "\x1b]52;c;ZXZpbA==\x07clipboard",
    "\x1b[2J\x1b[Hcleared",
    "title\x1b]0;pwned\x07",
    "bidi \u{202e}gnp.exe",
    "nul\0byte",
    "c1 \u{9b}31m red",
];

async fn put(
    client: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
    events: &[(i64, String)],
) {
    let mut call = client
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(stream);
    for (ts, msg) in events {
        call = call.log_events(
            InputLogEvent::builder()
                .timestamp(*ts)
                .message(msg)
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    call.send().await.unwrap_or_else(|e| panic!("{e:?}"));
}

async fn drain(
    rx: &mut tokio::sync::mpsc::Receiver<TailMessage>,
    want: usize,
    out: &mut Vec<LogEvent>,
) {
    for _ in 0..100_000 {
        let msg = match tokio::time::timeout(Duration::from_secs(60), rx.recv()).await {
            Ok(Some(m)) => m,
            Ok(None) => return,
            Err(_) => panic!("no message for 60 s; have {}", out.len()),
        };
        match msg {
            TailMessage::Events(e) => out.extend(e),
            TailMessage::End(Some(e)) => panic!("{e}"),
            TailMessage::End(None) => return,
            _ => {}
        }
        if out.len() >= want {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_log_events_polling_against_moto() {
    let server = moto::shared();
    let cfg = moto::sdk_config(&server.endpoint_url()).await;
    let client = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    let group = "/ecs/moto/checkout-api";
    client
        .create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let streams: Vec<String> = (0..3).map(|i| format!("ecs/app/task{i:04}")).collect();
    for s in &streams {
        client
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name(s)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
    let now = time::now_ms();
    let base = now - 5 * 60_000;
    for (k, s) in streams.iter().enumerate() {
        // interleaved in time across streams
        let events: Vec<(i64, String)> = (0..40)
            .map(|i| {
                let ts = base + i * 3_000 + k as i64 * 1_000;
                (
                    ts,
                    format!(r#"{{"level":"info","msg":"req {i}","stream":{k}}}"#),
                )
            })
            .collect();
        put(&client, group, s, &events).await;
    }
    let hostile: Vec<(i64, String)> = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, m)| (base + 200_000 + i as i64, m.to_string()))
        .chain(std::iter::once((
            base + 210_000,
            "x".repeat(200_000) + "\x1b[31m",
        )))
        .collect();
    put(&client, group, &streams[0], &hostile).await;
    let total = 3 * 40 + hostile.len();

    let target = LogTarget {
        client: LogsClient::new(client.clone(), "us-east-1"),
        group: group.into(),
        streams: StreamSelector::Names(streams.clone()),
    };
    let mut spec = TailSpec::new(vec![target.clone()], now - 10 * 60_000);
    spec.page_limit = Some(7);
    let (handle, mut rx) = tail::spawn(spec);
    let mut got = Vec::new();
    drain(&mut rx, usize::MAX, &mut got).await;
    drop(handle);
    assert_eq!(got.len(), total);
    let ids: HashSet<_> = got.iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(ids.len(), total, "unique event ids");
    assert!(
        got.windows(2)
            .all(|w| w[0].timestamp_ms <= w[1].timestamp_ms),
        "merged by time although moto groups by stream"
    );
    assert!(
        got.iter()
            .all(|e| e.container.as_ref() == "app" && e.task_id.starts_with("task"))
    );

    // hostile lines: text output carries no raw control bytes
    let mut out = Vec::new();
    for e in &got {
        write_text(&mut out, e).unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(!out.iter().any(|&b| (b < 0x20 && b != b'\n') || b == 0x7f));
    let text = String::from_utf8_lossy(&out);
    assert!(!text.contains('\u{202e}') && !text.contains('\u{9b}'));
    assert_eq!(text.lines().count(), total);

    // follow: events put after the history was read arrive exactly once
    let mut spec = TailSpec::new(vec![target], now - 10 * 60_000);
    spec.follow = true;
    spec.mode = TailMode::Poll;
    spec.poll_min = Duration::from_millis(100);
    spec.poll_max = Duration::from_millis(300);
    spec.reorder_ms = 1_000;
    let (handle, mut rx) = tail::spawn(spec);
    let mut got = Vec::new();
    drain(&mut rx, total, &mut got).await;
    assert_eq!(got.len(), total);
    let later: Vec<(i64, String)> = (0..10)
        .map(|i| {
            (
                time::now_ms() - 2_000 + i,
                format!("level=warn msg=\"later {i}\""),
            )
        })
        .collect();
    put(&client, group, &streams[1], &later).await;
    drain(&mut rx, total + 10, &mut got).await;
    // a few more polls: nothing is delivered twice
    let mut extra = Vec::new();
    for _ in 0..3 {
        if let Ok(Some(TailMessage::Events(e))) =
            tokio::time::timeout(Duration::from_millis(500), rx.recv()).await
        {
            extra.extend(e);
        }
    }
    drop(handle);
    assert!(extra.is_empty(), "{extra:?}");
    assert_eq!(got.len(), total + 10);
    let ids: HashSet<_> = got.iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(ids.len(), total + 10);
    assert!(
        got[total..]
            .iter()
            .all(|e| e.parsed.format == berth::logs::Format::Logfmt)
    );
}

#[test]
fn invalid_utf8_and_huge_lines_are_written_safely() {
    let origin = berth::logs::Origin::new("/ecs/x", "ecs/app/abc");
    let lines = [
        String::from_utf8_lossy(b"bad \xff\xfe utf8 \x1b[31m").into_owned(),
        "y".repeat(1 << 20) + "\x1b]52;c;eA==\x07",
        "\u{2066}isolate\u{2069} \u{200f}rlm".to_string(),
    ];
    for raw in lines {
        let ev = LogEvent::new(&origin, "1".into(), 0, 0, raw);
        let mut out = Vec::new();
        write_text(&mut out, &ev).unwrap_or_else(|e| panic!("{e}"));
        assert!(!out.iter().any(|&b| b < 0x20 && b != b'\n'));
        let s = String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !s.chars().any(
                |c| matches!(c as u32, 0x80..=0x9f | 0x202a..=0x202e | 0x2066..=0x2069 | 0x200f)
            )
        );
        assert_eq!(s.matches('\n').count(), 1);
    }
}
