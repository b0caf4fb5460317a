//! The tail engine against the sandbox through the real SDK: thousands of events over many
//! streams and several log groups, late ingestion (the sandbox delays ~2% of events by
//! 5–40 s), throttling (a token bucket) and pagination (small pages, stream lists padded past
//! 100 names so they are chunked). Every event must arrive exactly once and in timestamp
//! order; the reference is a full FilterLogEvents read of the same window afterwards.
//! Loops are bounded by event and message counts; wall-clock time is never asserted.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use berth::aws::logs::{FilterRequest, LogsClient};
use berth::aws::{AwsTarget, Clients};
use berth::logs::LogEvent;
use berth::logs::source::{self, Scope};
use berth::logs::tail::{
    self, LogTarget, StreamSelector, TailMessage, TailMode, TailSpec, TailStatus,
};
use berth::sandbox::{self, SandboxHandle, SandboxOptions};

async fn start(opts: SandboxOptions) -> SandboxHandle {
    match sandbox::start(([127, 0, 0, 1], 0).into(), opts).await {
        Ok(h) => h,
        Err(e) => panic!("sandbox: {e}"),
    }
}

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

async fn connect(url: &str) -> Clients {
    berth::aws::connect(&target(url))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Targets for several prod services: one log group each.
async fn prod_targets(clients: &Clients, url: &str, since: i64, pad: usize) -> Vec<LogTarget> {
    let mut out = Vec::new();
    for service in [
        "checkout-api",
        "web-frontend",
        "payments-worker",
        "orders-api",
    ] {
        let scope = Scope {
            cluster: "prod".into(),
            service: Some(service.into()),
            task: None,
            container: None,
        };
        let resolved = source::resolve(clients, &scope, since)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!resolved.streams.is_empty(), "{service} has streams");
        let mut targets = source::targets(&resolved, clients, &target(url))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for t in &mut targets {
            if let StreamSelector::Names(names) = &mut t.streams {
                // streams that do not exist (yet): forces chunks of 100 names
                names.extend((0..pad).map(|i| format!("ecs/ghost/{i:032x}")));
            }
        }
        out.extend(targets);
    }
    out
}

/// Every event of `t` with `from <= timestamp <= to`, all pages.
async fn full_read(t: &LogTarget, from: i64, to: i64) -> Vec<(String, i64, String, String)> {
    let names = match &t.streams {
        StreamSelector::Names(n) => n.clone(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for chunk in names.chunks(100) {
        let mut req = FilterRequest {
            group: t.group.clone(),
            stream_names: chunk.to_vec(),
            start_ms: from,
            end_ms: Some(to),
            ..FilterRequest::default()
        };
        for _ in 0..10_000 {
            let page = loop {
                match t.client.filter_page(&req).await {
                    Ok(p) => break p,
                    Err(e) if e.is_transient() => {
                        tokio::time::sleep(Duration::from_millis(200)).await
                    }
                    Err(e) => panic!("{e}"),
                }
            };
            out.extend(page.events.into_iter().map(|e| {
                (
                    e.event_id.unwrap_or_default(),
                    e.timestamp_ms,
                    e.stream,
                    e.message,
                )
            }));
            match page.next_token {
                Some(tok) => req.next_token = Some(tok),
                None => break,
            }
        }
    }
    out
}

struct Collected {
    events: Vec<LogEvent>,
    statuses: Vec<TailStatus>,
}

/// Receive until `want` events arrived (or the engine ended); bounded by message count.
async fn collect(rx: &mut tokio::sync::mpsc::Receiver<TailMessage>, want: usize) -> Collected {
    let mut c = Collected {
        events: Vec::new(),
        statuses: Vec::new(),
    };
    for _ in 0..1_000_000 {
        // liveness guard only: a stuck engine fails instead of hanging the suite
        let msg = match tokio::time::timeout(Duration::from_secs(120), rx.recv()).await {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(_) => panic!("no message for 120 s; {} events so far", c.events.len()),
        };
        match msg {
            TailMessage::Events(evs) => c.events.extend(evs),
            TailMessage::Status(s) => c.statuses.push(s),
            TailMessage::End(Some(e)) => panic!("engine failed: {e}"),
            TailMessage::End(None) => break,
            _ => {}
        }
        if c.events.len() >= want {
            break;
        }
    }
    c
}

fn assert_ordered_and_unique(events: &[LogEvent]) {
    let mut ids = HashSet::new();
    for e in events {
        assert!(ids.insert(e.event_id.clone()), "duplicate {}", e.event_id);
    }
    let late: Vec<_> = events.iter().filter(|e| e.late).collect();
    assert!(late.is_empty(), "{} late events", late.len());
    for w in events.windows(2) {
        assert!(
            w[0].timestamp_ms <= w[1].timestamp_ms,
            "out of order: {} then {}",
            w[0].timestamp_ms,
            w[1].timestamp_ms
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_delivers_every_event_once_in_order_despite_throttling_and_late_ingestion() {
    let sb = start(SandboxOptions {
        speed: 50.0,
        rate: Some(25.0),
        burst: 10,
        ..SandboxOptions::default()
    })
    .await;
    let url = sb.endpoint_url();
    let clients = connect(&url).await;
    let since = sb.virtual_now_ms() - 5 * 60_000;
    let targets = prod_targets(&clients, &url, since, 120).await;
    let mut spec = TailSpec::new(targets.clone(), since);
    spec.follow = true;
    spec.mode = TailMode::Poll;
    spec.page_limit = Some(50);
    spec.overlap_ms = 60_000;
    // longer than the sandbox's worst ingestion delay (41.65 s), so nothing is late
    spec.reorder_ms = 50_000;
    spec.poll_min = Duration::from_millis(100);
    spec.poll_max = Duration::from_millis(400);
    spec.backoff_max = Duration::from_secs(2);
    let (handle, mut rx) = tail::spawn(spec);
    let got = collect(&mut rx, 3_000).await;
    drop(handle);

    assert!(got.events.len() >= 3_000, "{}", got.events.len());
    assert_ordered_and_unique(&got.events);
    let streams: HashSet<_> = got.events.iter().map(|e| e.stream.clone()).collect();
    assert!(streams.len() >= 10, "{} streams", streams.len());

    // the reference: everything up to the newest delivered timestamp
    let newest = got
        .events
        .iter()
        .map(|e| e.timestamp_ms)
        .max()
        .unwrap_or(since);
    let mut want = Vec::new();
    for t in &targets {
        want.extend(full_read(t, since, newest).await);
    }
    let want_ids: HashSet<&str> = want.iter().map(|w| w.0.as_str()).collect();
    let got_ids: HashSet<&str> = got.events.iter().map(|e| e.event_id.as_str()).collect();
    let missing: Vec<_> = want
        .iter()
        .filter(|w| !got_ids.contains(w.0.as_str()))
        .take(5)
        .collect();
    assert!(
        missing.is_empty(),
        "missing {} events, e.g. {missing:?}",
        want_ids.len() - got_ids.intersection(&want_ids).count()
    );
    let extra: Vec<_> = got_ids.difference(&want_ids).take(5).collect();
    assert!(extra.is_empty(), "unexpected events {extra:?}");
    assert_eq!(want.len(), want_ids.len());

    let late_ingested = want
        .iter()
        .filter(|w| {
            got.events
                .iter()
                .find(|e| e.event_id == w.0)
                .is_some_and(|e| e.ingestion_ms - e.timestamp_ms > 5_000)
        })
        .count();
    assert!(late_ingested > 0, "the window held late-ingested events");
    let stats = sb.stats();
    assert!(stats.throttled > 0, "throttling was exercised: {stats:?}");
    assert!(
        got.statuses
            .iter()
            .any(|s| matches!(s, TailStatus::Throttled { .. }))
            || stats.count("logs:FilterLogEvents") > 0
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_read_matches_the_api_and_older_history_extends_backwards() {
    let sb = start(SandboxOptions {
        speed: 60.0,
        ..SandboxOptions::default()
    })
    .await;
    let url = sb.endpoint_url();
    let clients = connect(&url).await;
    // let a few virtual minutes of logs accumulate (bounded polling on the virtual clock)
    let t0 = sb.virtual_now_ms();
    for _ in 0..200 {
        if sb.virtual_now_ms() > t0 + 4 * 60_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let now = sb.virtual_now_ms();
    let targets = prod_targets(&clients, &url, now - 60 * 60_000, 0).await;
    let since = now - 2 * 60_000;
    let mut spec = TailSpec::new(targets.clone(), since);
    spec.page_limit = Some(30);
    let (handle, mut rx) = tail::spawn(spec);
    let mut events = Vec::new();
    let mut older = Vec::new();
    let mut loaded = false;
    for _ in 0..100_000 {
        match rx.recv().await {
            Some(TailMessage::Events(e)) => events.extend(e),
            Some(TailMessage::HistoryLoaded { .. }) => loaded = true,
            Some(TailMessage::Older { events, .. }) => older.extend(events),
            Some(TailMessage::End(None)) | None => break,
            Some(TailMessage::End(Some(e))) => panic!("{e}"),
            Some(TailMessage::Status(_)) => {}
        }
    }
    assert!(loaded);
    assert!(events.len() > 100, "{}", events.len());
    assert_ordered_and_unique(&events);
    // each group is read at its own (virtual) moment: compare per group, up to that group's
    // newest event less the sandbox's worst ingestion delay
    let mut want = Vec::new();
    for t in &targets {
        let newest = events
            .iter()
            .filter(|e| *e.group == *t.group)
            .map(|e| e.timestamp_ms)
            .max()
            .unwrap_or(since);
        want.extend(full_read(t, since, newest - 45_000).await);
    }
    let got: HashSet<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert!(
        want.iter().all(|w| got.contains(w.0.as_str())),
        "every event of the window"
    );
    assert!(events.iter().all(|e| e.timestamp_ms >= since));
    drop(handle);

    // history backwards: a follow tail answering FetchOlder
    let mut spec = TailSpec::new(targets.clone(), since);
    spec.follow = true;
    spec.mode = TailMode::Poll;
    let (handle, mut rx) = tail::spawn(spec);
    let mut asked = false;
    let mut older_msgs = 0;
    for _ in 0..100_000 {
        match rx.recv().await {
            Some(TailMessage::HistoryLoaded { .. }) if !asked => {
                asked = handle.fetch_older(60_000);
            }
            Some(TailMessage::Older {
                events,
                from_ms,
                to_ms,
            }) => {
                assert_eq!((from_ms, to_ms), (since - 60_000, since - 1));
                assert!(
                    events
                        .iter()
                        .all(|e| e.timestamp_ms >= from_ms && e.timestamp_ms <= to_ms)
                );
                assert!(
                    events
                        .windows(2)
                        .all(|w| w[0].timestamp_ms <= w[1].timestamp_ms)
                );
                older.extend(events);
                older_msgs += 1;
                break;
            }
            Some(TailMessage::End(Some(e))) => panic!("{e}"),
            None | Some(TailMessage::End(None)) => break,
            _ => {}
        }
    }
    assert!(asked && older_msgs == 1);
    assert!(!older.is_empty());
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_tail_is_used_and_loses_nothing_across_the_history_seam() {
    let sb = start(SandboxOptions {
        speed: 20.0,
        ..SandboxOptions::default()
    })
    .await;
    let url = sb.endpoint_url();
    let clients = connect(&url).await;
    let since = sb.virtual_now_ms() - 60_000;
    let scope = Scope {
        cluster: "prod".into(),
        service: Some("web-frontend".into()),
        task: None,
        container: None,
    };
    let resolved = source::resolve(&clients, &scope, since)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let targets = source::targets(&resolved, &clients, &target(&url))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(targets.len(), 1);
    let mut spec = TailSpec::new(targets.clone(), since);
    spec.follow = true;
    spec.reorder_ms = 50_000;
    let (handle, mut rx) = tail::spawn(spec);
    let got = collect(&mut rx, 400).await;
    drop(handle);
    assert!(
        got.statuses.contains(&TailStatus::Live { sampled: false }),
        "{:?}",
        got.statuses
    );
    assert!(got.events.iter().any(|e| e.event_id.starts_with("live-")));
    assert_ordered_and_unique(&got.events);
    // live events have no eventId: compare by content
    let newest = got
        .events
        .iter()
        .map(|e| e.timestamp_ms)
        .max()
        .unwrap_or(since);
    let want = full_read(&targets[0], since, newest).await;
    let mut want_count: BTreeMap<(i64, String, String), i32> = BTreeMap::new();
    for w in &want {
        *want_count
            .entry((w.1, w.2.clone(), w.3.clone()))
            .or_default() += 1;
    }
    let mut got_count: BTreeMap<(i64, String, String), i32> = BTreeMap::new();
    for e in &got.events {
        *got_count
            .entry((e.timestamp_ms, e.stream.to_string(), e.raw.clone()))
            .or_default() += 1;
    }
    let missing: Vec<_> = want_count
        .iter()
        .filter(|(k, n)| got_count.get(*k) != Some(n))
        .take(3)
        .collect();
    assert!(missing.is_empty(), "{missing:?}");
    assert_eq!(want_count.len(), got_count.len());
    sb.shutdown().await;
}

#[tokio::test]
async fn live_tail_refused_falls_back_to_polling() {
    let sb = start(SandboxOptions::default()).await;
    let url = sb.endpoint_url();
    sb.set_faults(sandbox::Faults {
        error_rate: 1.0,
        operations: vec!["logs:StartLiveTail".into()],
        ..sandbox::Faults::default()
    });
    let clients = connect(&url).await;
    let t = LogTarget {
        client: LogsClient::new(clients.logs.clone(), "us-east-1"),
        group: "/ecs/prod/checkout-api".into(),
        streams: StreamSelector::All,
    };
    let mut spec = TailSpec::new(vec![t], sb.virtual_now_ms() - 60_000);
    spec.follow = true;
    let (handle, mut rx) = tail::spawn(spec);
    let mut reason = None;
    for _ in 0..1_000 {
        match rx.recv().await {
            Some(TailMessage::Status(TailStatus::Polling { reason: r, .. })) => {
                reason = r;
                break;
            }
            Some(TailMessage::End(e)) => panic!("ended: {e:?}"),
            None => break,
            _ => {}
        }
    }
    drop(handle);
    let reason = reason.unwrap_or_default();
    assert!(reason.contains("live tail"), "{reason}");
    sb.shutdown().await;
}

/// Fault injection on the tail: while FilterLogEvents answers HTTP 500 to a tenth of the
/// requests and drops another tenth of the connections mid-response, the tail keeps going
/// (the SDK retries, the engine backs off); once the faults clear, every event of the window
/// has arrived exactly once, in order, compared with a full read afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_loses_and_repeats_nothing_through_500s_and_resets() {
    let sb = start(SandboxOptions {
        speed: 50.0,
        ..SandboxOptions::default()
    })
    .await;
    let url = sb.endpoint_url();
    let clients = connect(&url).await;
    let since = sb.virtual_now_ms() - 5 * 60_000;
    let targets = prod_targets(&clients, &url, since, 120).await;
    let mut spec = TailSpec::new(targets.clone(), since);
    spec.follow = true;
    spec.mode = TailMode::Poll;
    spec.page_limit = Some(50);
    spec.overlap_ms = 60_000;
    spec.reorder_ms = 50_000;
    spec.poll_min = Duration::from_millis(100);
    spec.poll_max = Duration::from_millis(400);
    spec.backoff_max = Duration::from_secs(2);
    sb.set_faults(sandbox::Faults {
        error_rate: 0.1,
        reset_rate: 0.1,
        operations: vec!["logs:FilterLogEvents".into()],
        ..sandbox::Faults::default()
    });
    let (handle, mut rx) = tail::spawn(spec);
    let mut got = collect(&mut rx, 1_000).await;
    let faults_seen = sb.stats().faults;
    sb.set_faults(sandbox::Faults::default());
    let after = collect(&mut rx, 1_500).await;
    drop(handle);
    got.events.extend(after.events);
    assert!(faults_seen > 0, "the faults were exercised");
    assert_ordered_and_unique(&got.events);

    let newest = got
        .events
        .iter()
        .map(|e| e.timestamp_ms)
        .max()
        .unwrap_or(since);
    let mut want = Vec::new();
    for t in &targets {
        want.extend(full_read(t, since, newest).await);
    }
    let got_ids: HashSet<&str> = got.events.iter().map(|e| e.event_id.as_str()).collect();
    let missing: Vec<_> = want
        .iter()
        .filter(|w| !got_ids.contains(w.0.as_str()))
        .take(5)
        .collect();
    assert!(missing.is_empty(), "missing events, e.g. {missing:?}");
    let want_ids: HashSet<&str> = want.iter().map(|w| w.0.as_str()).collect();
    let extra: Vec<_> = got_ids.difference(&want_ids).take(5).collect();
    assert!(extra.is_empty(), "unexpected events {extra:?}");
    sb.shutdown().await;
}
