//! The logs pane's session against the sandbox through the real SDK: following a whole
//! service while a deployment starts new tasks, the new tasks' streams join the tail, and no
//! event is delivered twice across the engine restarts that takes. The reference is a full
//! FilterLogEvents read of the same streams afterwards. Loops are bounded by message counts;
//! the timeout only stops a hung test, it never measures speed.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use berth::aws::AwsTarget;
use berth::aws::logs::{FilterRequest, LogsClient};
use berth::logs::LogEvent;
use berth::logs::session::{self, SessionEvent, SessionSpec};
use berth::logs::source::Scope;
use berth::logs::tail::{TailMessage, TailMode};
use berth::sandbox::{self, SandboxOptions, Scenario};
use tokio::sync::mpsc;

fn target(url: &str) -> AwsTarget {
    AwsTarget {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(url.to_string()),
        static_credentials: Some((
            sandbox::DEMO_ACCESS_KEY_ID.into(),
            sandbox::DEMO_SECRET_ACCESS_KEY.into(),
        )),
        attempt_timeout: None,
    }
}

/// The bad-deploy drill at 30x and SDK clients for it.
async fn bad_deploy() -> (sandbox::SandboxHandle, String, berth::aws::Clients) {
    let handle = sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            scenario: Scenario::BadDeploy,
            speed: 30.0,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let url = handle.endpoint_url();
    let clients = berth::aws::connect(&target(&url)).await.unwrap();
    (handle, url, clients)
}

async fn run_until_new_tasks(mode: TailMode) {
    // bad-deploy: two virtual minutes in, checkout-api starts tasks of a new revision.
    let (handle, url, clients) = bad_deploy().await;
    let since = handle.virtual_now_ms() - 10 * 60_000;
    let scope = Scope {
        cluster: "prod".into(),
        service: Some("checkout-api".into()),
        task: None,
        container: None,
    };
    let spec = SessionSpec {
        scope,
        since_ms: since,
        follow: true,
        filter_pattern: None,
        mode,
        rescan: Duration::from_millis(500),
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (_control, control_rx) = mpsc::channel(4);
    let task = tokio::spawn(session::run(
        clients.clone(),
        target(&url),
        spec,
        move |e| tx.send(e).is_ok(),
        control_rx,
    ));

    let mut first_tasks: Option<usize> = None;
    let mut streams_seen = 0;
    let mut delivered: Vec<LogEvent> = Vec::new();
    let mut new_task_lines = 0;
    let mut initial: BTreeSet<String> = BTreeSet::new();
    let outcome = tokio::time::timeout(Duration::from_secs(240), async {
        while let Some(event) = rx.recv().await {
            match event {
                SessionEvent::Resolved { streams, .. } => {
                    streams_seen = streams;
                    if first_tasks.is_none() {
                        first_tasks = Some(streams);
                    }
                }
                SessionEvent::Tail(TailMessage::Events(evs)) => {
                    for e in evs {
                        if first_tasks == Some(streams_seen) {
                            initial.insert(e.stream.to_string());
                        } else if !initial.contains(&*e.stream) {
                            new_task_lines += 1;
                        }
                        delivered.push(e);
                    }
                    if new_task_lines >= 5 {
                        return true;
                    }
                }
                SessionEvent::Tail(TailMessage::End(e)) => panic!("tail ended: {e:?}"),
                SessionEvent::Failed { message, .. } => panic!("session failed: {message}"),
                SessionEvent::Tail(_) => {}
            }
        }
        false
    })
    .await;
    task.abort();
    assert_eq!(outcome, Ok(true), "new tasks' lines never arrived");
    assert!(
        streams_seen > first_tasks.unwrap(),
        "the rescan found more streams ({first_tasks:?} → {streams_seen})"
    );

    // Exactly once: no (stream, timestamp, message) twice, and each delivered event exists
    // in a full read of its stream.
    let mut counts: HashMap<(String, i64, String), usize> = HashMap::new();
    for e in &delivered {
        *counts
            .entry((e.stream.to_string(), e.timestamp_ms, e.raw.clone()))
            .or_default() += 1;
    }
    let dupes: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        dupes.is_empty(),
        "delivered twice: {:?}",
        &dupes[..dupes.len().min(3)]
    );
    let group = delivered[0].group.to_string();
    let logs = LogsClient::new(clients.logs.clone(), "us-east-1".to_string());
    let streams: Vec<String> = delivered
        .iter()
        .map(|e| e.stream.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let newest = delivered.iter().map(|e| e.timestamp_ms).max().unwrap();
    let mut reference: BTreeSet<(String, i64, String)> = BTreeSet::new();
    let mut token = None;
    loop {
        let page = logs
            .filter_page(&FilterRequest {
                group: group.clone(),
                stream_names: streams.clone(),
                stream_prefix: None,
                start_ms: since,
                end_ms: Some(newest),
                filter_pattern: None,
                next_token: token.take(),
                limit: None,
            })
            .await
            .unwrap();
        for e in page.events {
            reference.insert((e.stream, e.timestamp_ms, e.message));
        }
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    for key in counts.keys() {
        assert!(
            reference.contains(key),
            "delivered but not in the log: {key:?}"
        );
    }
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_a_service_picks_up_new_tasks_polling() {
    run_until_new_tasks(TailMode::Poll).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_a_service_picks_up_new_tasks_live() {
    run_until_new_tasks(TailMode::Auto).await;
}

/// A stopped task's last lines (its crash) come with the history, before the live tail
/// starts: nothing can interleave with them, so they are not held for the re-order window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_tasks_last_lines_come_with_the_history() {
    let (handle, url, clients) = bad_deploy().await;

    // Wait (bounded by polls, not time) for a task of the bad revision to crash.
    let mut crashed = None;
    for _ in 0..300 {
        let arns = berth::aws::tasks::list_task_arns(
            &clients.ecs,
            "prod",
            Some("checkout-api"),
            berth::aws::tasks::TaskListing::Stopped,
        )
        .await
        .unwrap();
        let tasks = berth::aws::tasks::describe_tasks(&clients.ecs, "prod", &arns)
            .await
            .unwrap();
        crashed = tasks.into_iter().find(|t| {
            t.started_at.is_some() && t.containers.iter().any(|c| c.exit_code == Some(1))
        });
        if crashed.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let task = crashed.expect("a checkout-api task crashed");
    let stopped_ms = task.stopped_at.unwrap() * 1000;

    let spec = SessionSpec {
        scope: Scope {
            cluster: "prod".into(),
            service: None,
            task: Some(task.arn.clone()),
            container: None,
        },
        since_ms: stopped_ms - 10 * 60_000,
        follow: true,
        filter_pattern: None,
        mode: TailMode::Auto,
        rescan: Duration::from_secs(30),
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (_control, control_rx) = mpsc::channel(4);
    let session_task = tokio::spawn(session::run(
        clients.clone(),
        target(&url),
        spec,
        move |e| tx.send(e).is_ok(),
        control_rx,
    ));
    let mut before_live: Vec<LogEvent> = Vec::new();
    let mut history_loaded = false;
    let outcome = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(event) = rx.recv().await {
            match event {
                SessionEvent::Tail(TailMessage::Events(evs)) => before_live.extend(evs),
                SessionEvent::Tail(TailMessage::HistoryLoaded { .. }) => history_loaded = true,
                SessionEvent::Tail(TailMessage::Status(_)) if history_loaded => return true,
                SessionEvent::Tail(TailMessage::End(e)) => panic!("tail ended: {e:?}"),
                SessionEvent::Failed { message, .. } => panic!("session failed: {message}"),
                _ => {}
            }
        }
        false
    })
    .await;
    session_task.abort();
    assert_eq!(outcome, Ok(true), "the live tail never started");

    // The reference: the whole stream, read directly.
    let group = before_live
        .first()
        .map(|e| e.group.to_string())
        .expect("history delivered lines before the live tail started");
    let stream = before_live[0].stream.to_string();
    let logs = LogsClient::new(clients.logs.clone(), "us-east-1".to_string());
    let page = logs
        .filter_page(&FilterRequest {
            group,
            stream_names: vec![stream],
            stream_prefix: None,
            start_ms: stopped_ms - 10 * 60_000,
            end_ms: None,
            filter_pattern: None,
            next_token: None,
            limit: None,
        })
        .await
        .unwrap();
    assert!(page.next_token.is_none());
    let all: Vec<&str> = page.events.iter().map(|e| e.message.as_str()).collect();
    let got: Vec<&str> = before_live.iter().map(|e| e.raw.as_str()).collect();
    assert!(
        all.iter()
            .any(|m| m.contains("missing required configuration")),
        "the crash is in the stream: {all:?}"
    );
    let missing: Vec<&&str> = all.iter().filter(|m| !got.contains(m)).collect();
    assert!(
        missing.is_empty() && got.len() == all.len(),
        "{} of {} lines came before the live tail; missing: {missing:?}",
        got.len(),
        all.len()
    );
    assert_eq!(got, all, "in order");
    handle.shutdown().await;
}
