//! The logs pane end to end on the demo sandbox, keys only, at 80x24: a service's logs
//! merged from its tasks, then only the errors.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;

use crate::common::pty::Pty;

fn ok(r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// Log rows on screen: `HH:MM:SS.mmm LEVEL <task> ...` (rows 3.. of the screen).
fn log_rows(screen: &str) -> Vec<(String, String)> {
    screen
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let time = w.next()?;
            let bytes = time.as_bytes();
            let is_time = bytes.len() == 12 && bytes[2] == b':' && bytes[8] == b'.';
            if !is_time {
                return None;
            }
            let level = w.next()?.to_string();
            let task = w.next()?.to_string();
            Some((level, task))
        })
        .collect()
}

#[test]
fn a_services_merged_logs_then_only_errors() {
    let mut p = Pty::spawn(&["--demo", "--speed", "5"], &[], 80, 24);
    ok(p.wait_for_text("batch"));
    // The first cluster (batch), its first service, then `l`.
    p.send_key("enter");
    ok(p.wait_for_text("batch › services"));
    ok(p.wait_for_text("etl-ingest"));
    p.send_key("l");
    ok(p.wait_for_text("› logs"));
    // Lines from more than one task, merged by time.
    ok(p.wait_until("lines from two tasks", |s| {
        let tasks: BTreeSet<String> = log_rows(s).into_iter().map(|(_, t)| t).collect();
        tasks.len() >= 2
    }));
    let screen = p.screen_text();
    let times: Vec<&str> = screen
        .lines()
        .filter(|l| log_rows(l).len() == 1)
        .map(|l| &l[..12])
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "lines not in time order:\n{screen}");
    assert!(screen.contains("streams"), "{screen}");

    // `e`: errors only. The demo's etl-ingest logs errors within its first minutes.
    p.send_key("e");
    ok(p.wait_for_text("filter level>=error"));
    ok(p.wait_until("only error lines", |s| {
        let rows = log_rows(s);
        !rows.is_empty()
            && rows
                .iter()
                .all(|(level, _)| level == "ERROR" || level == "FATAL")
    }));
    // Again: everything back.
    p.send_key("e");
    ok(p.wait_until("filter cleared, info lines back", |s| {
        !s.contains("filter level>=error") && log_rows(s).iter().any(|(l, _)| l == "INFO")
    }));
    // Esc leaves the pane and the tail stops; q quits cleanly.
    p.send_key("esc");
    ok(p.wait_for_text("batch › services"));
    p.send_key("q");
    let status = p.wait_exit().unwrap();
    assert!(status.success(), "{status:?}");
    ok(p.check_terminal_restored());
}
