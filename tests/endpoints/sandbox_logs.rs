//! CloudWatch Logs through the real SDK against the sandbox: groups, streams, events,
//! filter patterns with pagination, and StartLiveTail's event stream.

use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream;
use berth::sandbox::SandboxOptions;

use crate::sandbox_support::*;

#[tokio::test]
async fn log_groups_streams_and_events() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let groups = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/ecs/prod/")
        .limit(4)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(groups.log_groups().len(), 4);
    assert!(groups.next_token().is_some());
    let group = "/ecs/prod/checkout-api";

    let streams = c
        .logs
        .describe_log_streams()
        .log_group_name(group)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let names: Vec<String> = streams
        .log_streams()
        .iter()
        .filter_map(|s| s.log_stream_name().map(str::to_string))
        .collect();
    assert!(names.len() >= 4);
    assert!(names.iter().all(|n| n.starts_with("ecs/checkout-api/")));
    let task_ids = all_task_arns(&c.ecs, "prod", Some("checkout-api"), None, 100).await;
    let id = task_ids[0].rsplit('/').next().unwrap_or_default();
    let stream = format!("ecs/checkout-api/{id}");
    assert!(names.contains(&stream));

    // latest events (startFromHead=false) then walk backward one page
    let latest = c
        .logs
        .get_log_events()
        .log_group_name(group)
        .log_stream_name(&stream)
        .limit(20)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(latest.events().len(), 20);
    let ts: Vec<i64> = latest
        .events()
        .iter()
        .filter_map(|e| e.timestamp())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]));
    assert!(
        latest
            .events()
            .iter()
            .all(|e| e.ingestion_time() >= e.timestamp())
    );
    let older = c
        .logs
        .get_log_events()
        .log_group_name(group)
        .log_stream_name(&stream)
        .limit(20)
        .set_next_token(latest.next_backward_token().map(str::to_string))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(older.events().len(), 20);
    assert!(
        older.events().last().and_then(|e| e.timestamp())
            <= latest.events().first().and_then(|e| e.timestamp())
    );
    let json_lines = latest
        .events()
        .iter()
        .filter(|e| e.message().is_some_and(|m| m.starts_with('{')))
        .count();
    assert!(json_lines > 10, "mostly JSON lines");

    match c
        .logs
        .get_log_events()
        .log_group_name("/ecs/nope")
        .log_stream_name("x")
        .send()
        .await
    {
        Ok(_) => panic!("missing group accepted"),
        Err(e) => assert!(e.into_service_error().is_resource_not_found_exception()),
    }
}

#[tokio::test]
async fn filter_log_events_interleaves_and_paginates() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let now = sb.virtual_now_ms();
    let group = "/ecs/prod/checkout-api";
    let mut all = Vec::new();
    let mut token = None;
    for _ in 0..200 {
        let r = c
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(now - 30 * 60_000)
            .limit(50)
            .set_next_token(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(r.events().len() <= 50);
        all.extend(r.events().iter().cloned());
        token = r.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert!(all.len() > 100, "{}", all.len());
    let ts: Vec<i64> = all.iter().filter_map(|e| e.timestamp()).collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "interleaved by time");
    let streams: std::collections::HashSet<_> =
        all.iter().filter_map(|e| e.log_stream_name()).collect();
    assert!(streams.len() >= 4);
    let ids: std::collections::HashSet<_> = all.iter().filter_map(|e| e.event_id()).collect();
    assert_eq!(ids.len(), all.len(), "event ids unique across pages");

    let errors = c
        .logs
        .filter_log_events()
        .log_group_name(group)
        .start_time(now - 30 * 60_000)
        .filter_pattern(r#"{ $.level = "ERROR" }"#)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!errors.events().is_empty());
    assert!(errors.events().iter().all(|e| {
        e.message()
            .is_some_and(|m| m.contains("\"level\":\"ERROR\""))
    }));

    let prefixed = c
        .logs
        .filter_log_events()
        .log_group_name(group)
        .log_stream_name_prefix("ecs/checkout-api/")
        .start_time(now - 5 * 60_000)
        .filter_pattern("request")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        prefixed
            .events()
            .iter()
            .all(|e| e.message().is_some_and(|m| m.contains("request")))
    );
}

#[tokio::test]
async fn start_live_tail_streams_updates() {
    let sb = start(SandboxOptions {
        speed: 30.0,
        ..SandboxOptions::default()
    })
    .await;
    let c = clients(&sb.endpoint_url()).await;
    let arn = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/prod/checkout-api";
    let mut out = c
        .logs
        .start_live_tail()
        .log_group_identifiers(arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let mut started = false;
    let mut results = 0;
    for _ in 0..6 {
        match out.response_stream.recv().await {
            Ok(Some(StartLiveTailResponseStream::SessionStart(s))) => {
                started = true;
                assert!(s.session_id().is_some());
            }
            Ok(Some(StartLiveTailResponseStream::SessionUpdate(u))) => {
                results += u.session_results().len();
                if results > 0 {
                    break;
                }
            }
            Ok(_) => {}
            Err(e) => panic!("live tail: {e:?}"),
        }
    }
    assert!(started);
    assert!(results > 0);
    sb.shutdown().await;
}
