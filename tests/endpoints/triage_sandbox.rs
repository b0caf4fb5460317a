//! The console's own effect runner and reducer against the sandbox, through the real SDK:
//! what the panes show (counts, deployments, events, IPs, stopped reasons) equals what the
//! API returns when asked directly.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth::app::{Action, Command, View};
use berth::sandbox::{self, SandboxHandle, SandboxOptions};

use crate::common::console::{Console, loaded};

async fn ecs(handle: &SandboxHandle) -> aws_sdk_ecs::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(handle.endpoint_url())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ecs::config::Credentials::new(
            sandbox::DEMO_ACCESS_KEY_ID,
            sandbox::DEMO_SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .load()
        .await;
    aws_sdk_ecs::Client::new(&config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panes_show_what_the_api_returns() {
    // A nearly frozen clock: the fleet does not move between the console's read and ours.
    let handle = sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            speed: 1e-6,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let api = ecs(&handle).await;
    let mut c = Console::new(&handle);
    c.until("clusters", loaded).await;

    // Jump to prod's services and open checkout-api's deployments.
    c.apply(Action::Command(Command::CommandMode));
    for ch in "services prod".chars() {
        c.apply(Action::Key(crossterm::event::KeyCode::Char(ch).into()));
    }
    c.apply(Action::Key(crossterm::event::KeyCode::Enter.into()));
    c.until("services", |s| {
        matches!(s.view(), View::Services(_)) && loaded(s)
    })
    .await;
    let services_screen = c.screen();
    let raw = api
        .describe_services()
        .cluster("prod")
        .services("checkout-api")
        .services("payments-worker")
        .send()
        .await
        .unwrap();
    for svc in raw.services() {
        let name = svc.service_name().unwrap();
        let line = services_screen
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{services_screen}"));
        let counts = format!("{}/{}", svc.running_count(), svc.desired_count());
        assert!(line.contains(&counts), "{name}: {counts} not on {line:?}");
    }

    // Select checkout-api with a filter, then drill into its deployments and events.
    c.apply(Action::Command(Command::Filter));
    for ch in "checkout".chars() {
        c.apply(Action::Key(crossterm::event::KeyCode::Char(ch).into()));
    }
    c.apply(Action::Key(crossterm::event::KeyCode::Enter.into()));
    c.apply(Action::Command(Command::Select));
    c.until("deployments", |s| {
        matches!(s.view(), View::Deployments(_)) && loaded(s)
    })
    .await;
    let screen = c.screen();
    let svc = &raw.services()[0];
    assert_eq!(svc.service_name(), Some("checkout-api"));
    for d in svc.deployments() {
        let id = d.id().unwrap();
        let line = screen
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("deployment {id} missing:\n{screen}"));
        assert!(line.contains(d.status().unwrap()), "{line}");
        let counts = format!("{}/{}", d.running_count(), d.desired_count());
        assert!(line.contains(&counts), "{counts} not on {line}");
    }
    // Events, newest first, as the API returned them.
    c.apply(Action::Command(Command::ShowEvents));
    c.until("events", |s| {
        matches!(s.view(), View::Events(_)) && loaded(s)
    })
    .await;
    let screen = c.screen();
    let mut last = 0;
    for e in svc.events().iter().take(10) {
        // shown without the "(service NAME) " every event of this service starts with
        let full = e.message().unwrap();
        let prefix = format!("(service {}) ", svc.service_name().unwrap());
        let msg: String = full
            .strip_prefix(prefix.as_str())
            .unwrap_or(full)
            .chars()
            .take(60)
            .collect();
        // Each next event appears after the previous one (messages can repeat).
        let at = screen[last..]
            .find(&msg)
            .unwrap_or_else(|| panic!("event {msg:?} missing or out of order:\n{screen}"));
        last += at + msg.len();
    }

    // Tasks with the stopped ones: every IP and stopped reason the API has.
    c.apply(Action::Command(Command::ToggleStopped));
    c.until("tasks", |s| matches!(s.view(), View::Tasks(_)) && loaded(s))
        .await;
    let screen = c.screen();
    let mut arns = Vec::new();
    for status in [
        aws_sdk_ecs::types::DesiredStatus::Running,
        aws_sdk_ecs::types::DesiredStatus::Stopped,
    ] {
        let listed = api
            .list_tasks()
            .cluster("prod")
            .service_name("checkout-api")
            .desired_status(status)
            .send()
            .await
            .unwrap();
        arns.extend(listed.task_arns().iter().cloned());
    }
    assert!(!arns.is_empty());
    let tasks = api
        .describe_tasks()
        .cluster("prod")
        .set_tasks(Some(arns))
        .send()
        .await
        .unwrap();
    let mut stopped = 0;
    for t in tasks.tasks() {
        let id = t.task_arn().unwrap().rsplit('/').next().unwrap();
        let line = screen
            .lines()
            .find(|l| l.contains(&id[..8]))
            .unwrap_or_else(|| panic!("task {id} missing:\n{screen}"));
        let ip = t
            .attachments()
            .iter()
            .flat_map(|a| a.details())
            .find(|d| d.name() == Some("privateIPv4Address"))
            .and_then(|d| d.value())
            .unwrap();
        assert!(line.contains(ip), "{ip} not on {line}");
        assert!(line.contains(t.last_status().unwrap()), "{line}");
        if let Some(reason) = t.stopped_reason() {
            stopped += 1;
            let start: String = reason.chars().take(25).collect();
            assert!(line.contains(&start), "{start:?} not on {line}");
            for code in t.containers().iter().filter_map(|c| c.exit_code()) {
                assert!(
                    line.contains(&code.to_string()),
                    "exit {code} not on {line}"
                );
            }
        }
    }
    assert!(
        stopped > 0,
        "the sandbox starts with stopped tasks in its history"
    );
    handle.shutdown().await;
}

/// Load the services of one cluster through the runner; returns (rows, failed).
async fn load_services_via_runner(handle: &SandboxHandle, cluster: &str) -> (usize, bool) {
    let mut c = Console::new(handle);
    c.until("connected", |s| s.session.connected).await;
    handle.reset_stats();
    c.apply(Action::Command(Command::CommandMode));
    for ch in format!("services {cluster}").chars() {
        c.apply(Action::Key(crossterm::event::KeyCode::Char(ch).into()));
    }
    c.apply(Action::Key(crossterm::event::KeyCode::Enter.into()));
    c.until("services loaded or failed", |s| match s.view() {
        View::Services(v) => v.data.loaded_once || v.data.error.is_some(),
        _ => false,
    })
    .await;
    match c.state.view() {
        View::Services(v) => (v.data.rows.len(), v.data.error.is_some()),
        _ => (0, true),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_services_cost_the_minimum_calls() {
    let handle = sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            scale: Some(2000),
            clusters: Some(1),
            speed: 1e-6,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let (rows, failed) = load_services_via_runner(&handle, "prod").await;
    assert!(!failed);
    assert_eq!(rows, 2000);
    let stats = handle.stats();
    assert_eq!(stats.count("ecs:ListServices"), 2000 / 100, "{stats:?}");
    assert_eq!(stats.count("ecs:DescribeServices"), 2000 / 10, "{stats:?}");
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_at_a_low_rate_leaves_no_error_on_screen() {
    let handle = sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            scale: Some(300),
            clusters: Some(1),
            speed: 1e-6,
            rate: Some(10.0),
            burst: 5,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let (rows, failed) = load_services_via_runner(&handle, "prod").await;
    let stats = handle.stats();
    assert!(
        stats.throttled > 0,
        "the bucket must have throttled: {stats:?}"
    );
    assert!(!failed, "throttling must be absorbed");
    assert_eq!(rows, 300);
    handle.shutdown().await;
}
