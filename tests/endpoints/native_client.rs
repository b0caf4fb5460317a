//! berth's own Session Manager client (`berth::exec::native`) against the sandbox's data
//! channel, through the same calls the console and `berth exec` make: ExecuteCommand with the
//! wrapped command, the signed upgrade, the channel, the scripted runner. Faults from the
//! sandbox (a dropped socket mid-output, duplicated, reordered and corrupted frames, acks
//! withheld) must not lose, repeat or reorder a byte; KMS-encrypted sessions work and a key
//! that does not exist fails in words.
//!
//! Waits are bounded only to turn a hang into a failure; nothing asserts timing.

use std::time::Duration;

use berth::aws::ssmmessages::ChannelAccess;
use berth::aws::{self, AwsTarget, Clients};
use berth::exec::native::{self, Grant, channel, exit_status, shell};
use berth::sandbox::{Faults, SandboxHandle, SandboxOptions};

use crate::sandbox_support::*;

const DEADLINE: Duration = Duration::from_secs(60);

async fn connect(sb: &SandboxHandle) -> Clients {
    let target = AwsTarget {
        region: Some("us-east-1".into()),
        endpoint_url: Some(sb.endpoint_url()),
        static_credentials: Some((
            berth::sandbox::DEMO_ACCESS_KEY_ID.into(),
            berth::sandbox::DEMO_SECRET_ACCESS_KEY.into(),
        )),
        ..AwsTarget::default()
    };
    aws::connect(&target)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
}

/// A running task of `cluster` whose ExecuteCommand succeeds: (task arn, task id, container,
/// SSM target).
async fn exec_task(clients: &Clients, cluster: &str) -> (String, String, String, String) {
    let arns = all_task_arns(&clients.ecs, cluster, None, None, 100).await;
    for t in describe_tasks(&clients.ecs, cluster, &arns).await {
        if !t.enable_execute_command() || t.last_status() != Some("RUNNING") {
            continue;
        }
        let Some(c) = t.containers().iter().find(|c| {
            c.managed_agents()
                .iter()
                .any(|a| a.last_status() == Some("RUNNING"))
        }) else {
            continue;
        };
        let arn = t.task_arn().unwrap_or_default().to_string();
        let id = arn.rsplit('/').next().unwrap_or_default().to_string();
        let target = format!("ecs:{cluster}_{id}_{}", c.runtime_id().unwrap_or_default());
        return (arn, id, c.name().unwrap_or_default().to_string(), target);
    }
    panic!("no exec-ready task in {cluster}");
}

/// Run `command` the way `berth exec` does with stdin not a terminal: its stdout and outcome.
async fn run(clients: &Clients, cluster: &str, command: &str) -> (Vec<u8>, native::Outcome) {
    let (arn, _, container, target) = exec_task(clients, cluster).await;
    let wrapped = exit_status::wrap(command, true, false);
    let grant =
        aws::exec::execute_command(&clients.ecs, cluster, &arn, &container, &wrapped.command)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    let ch = channel::open(
        ChannelAccess::new(clients),
        Grant::from_session(grant, &target),
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    let mut out = Vec::new();
    let outcome = tokio::time::timeout(
        DEADLINE,
        shell::scripted(ch, wrapped.marker.as_deref(), tokio::io::empty(), &mut out),
    )
    .await
    .unwrap_or_else(|_| panic!("the session did not end"));
    (out, outcome)
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_byte_of_a_mebibyte_arrives_once_and_in_order_under_faults() {
    let sb = start(SandboxOptions::default()).await;
    let clients = connect(&sb).await;
    let (sum, outcome) = run(&clients, "prod", "sha256sum /var/lib/berth/data-1m").await;
    assert_eq!(outcome.status, Some(0), "{outcome:?}");
    let expected = String::from_utf8_lossy(&sum)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    assert_eq!(expected.len(), 64, "{}", String::from_utf8_lossy(&sum));

    sb.set_faults(Faults {
        dc_drop_after: Some(40),
        dc_duplicate_pct: 10.0,
        dc_reorder_pct: 10.0,
        dc_corrupt_pct: 5.0,
        dc_withhold_acks_ms: 2000,
        ..Faults::default()
    });
    let before = sb.stats();
    let (data, outcome) = run(&clients, "prod", "cat /var/lib/berth/data-1m").await;
    let after = sb.stats();
    assert_eq!(outcome.status, Some(0), "{outcome:?}");
    assert_eq!(data.len(), 1_048_576);
    assert_eq!(sha256_hex(&data), expected);
    // the faults really happened, and the client resumed the session once
    let dc = |s: &berth::sandbox::Stats| s.data_channel.clone();
    assert!(
        dc(&after).injected > dc(&before).injected + 10,
        "{:?}",
        dc(&after)
    );
    assert!(
        dc(&after).retransmits > dc(&before).retransmits,
        "{:?}",
        dc(&after)
    );
    assert_eq!(
        dc(&after).resumes,
        dc(&before).resumes + 1,
        "{:?}",
        dc(&after)
    );
    // (the SDK may retry the call itself; one resumed connection is what counts)
    assert!(after.count("ssm:ResumeSession") >= 1);
    // every upgrade was signed with berth's own credentials
    assert_eq!(dc(&after).unsigned_upgrades, 0);
    assert!(dc(&after).signed_upgrades >= 3);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_s_status_comes_back_and_the_status_line_never_shows() {
    let sb = start(SandboxOptions::default()).await;
    let clients = connect(&sb).await;
    let (out, outcome) = run(&clients, "prod", "echo one; echo two; exit 42").await;
    assert_eq!(outcome.status, Some(42), "{outcome:?}");
    assert_eq!(outcome.how, "exit 42");
    assert_eq!(String::from_utf8_lossy(&out), "one\ntwo\n");
    let (out, outcome) = run(&clients, "prod", "no-such-tool --flag").await;
    assert_eq!(outcome.status, Some(127), "{outcome:?}");
    assert!(
        String::from_utf8_lossy(&out).contains("no-such-tool: not found"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    sb.shutdown().await;
}

/// Drive a channel by hand: the `Ready` event and the output until it closes.
async fn session_events(
    clients: &Clients,
    cluster: &str,
    command: &str,
) -> (Vec<channel::Event>, String) {
    let (arn, id, container, target) = exec_task(clients, cluster).await;
    let grant = aws::exec::execute_command(&clients.ecs, cluster, &arn, &container, command)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let mut ch = channel::open(
        ChannelAccess::new(clients),
        Grant::from_session(grant, &target),
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    let mut events = Vec::new();
    tokio::time::timeout(DEADLINE, async {
        while let Some(e) = ch.events.recv().await {
            let end = matches!(e, channel::Event::Closed(_) | channel::Event::Failed(_));
            events.push(e);
            if end {
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the session did not end"));
    (events, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_session_works_and_a_missing_key_fails_in_words() {
    let sb = start(SandboxOptions::default()).await;
    let clients = connect(&sb).await;
    // staging's exec configuration names the sandbox's KMS key
    let (events, id) = session_events(&clients, "staging", "hostname").await;
    let ready = events.iter().find_map(|e| match e {
        channel::Event::Ready { encrypted, .. } => Some(*encrypted),
        _ => None,
    });
    assert_eq!(ready, Some(true), "{events:?}");
    let output: Vec<u8> = events
        .iter()
        .filter_map(|e| match e {
            channel::Event::Output(b) => Some(b.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(
        String::from_utf8_lossy(&output).contains(&id),
        "{}",
        String::from_utf8_lossy(&output)
    );
    assert_eq!(sb.stats().count("kms:GenerateDataKey"), 1);

    // a plain cluster is not encrypted
    let (events, _) = session_events(&clients, "prod", "hostname").await;
    assert!(
        events.iter().any(|e| matches!(
            e,
            channel::Event::Ready {
                encrypted: false,
                ..
            }
        )),
        "{events:?}"
    );

    let missing = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000";
    sb.set_faults(Faults {
        exec_kms_key: Some(missing.into()),
        ..Faults::default()
    });
    let (events, _) = session_events(&clients, "prod", "hostname").await;
    let failed = events.iter().find_map(|e| match e {
        channel::Event::Failed(e) => Some(e.clone()),
        _ => None,
    });
    let failed = failed.unwrap_or_else(|| panic!("{events:?}"));
    assert!(failed.contains("KMS GenerateDataKey"), "{failed}");
    assert!(failed.contains(missing), "{failed}");
    assert!(failed.contains("does not exist"), "{failed}");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, channel::Event::Output(_))),
        "{events:?}"
    );
    sb.shutdown().await;
}
