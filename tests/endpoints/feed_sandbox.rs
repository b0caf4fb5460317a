//! "What changed, and when" (#16) on the sandbox, through the real SDK: the cluster's event
//! feed, standalone tasks (a schedule's runs and a one-off RunTask) at cluster scope and in
//! why-stopped.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use std::sync::{Arc, Mutex};

use aws_sdk_ecs::types::DesiredStatus;
use berth::app::{Action, Command, View};
use berth::aws::AwsTarget;
use berth::aws::loaders::{self, Progress};
use berth::domain::Task;
use berth::domain::stop_cause::StopCause;
use berth::sandbox::{self, SandboxHandle, SandboxOptions, Scenario};

use crate::common::console::{Console, key, loaded, type_text};
use crate::sandbox_support as sb;

/// A virtual clock that effectively stands still.
fn frozen() -> SandboxOptions {
    SandboxOptions {
        scenario: Scenario::Steady,
        speed: 1e-6,
        ..SandboxOptions::default()
    }
}

/// Connected, with the clusters filtered to `cluster` (selected).
async fn on_cluster(console: &mut Console, cluster: &str) {
    console
        .until("clusters loaded", |s| s.session.connected && loaded(s))
        .await;
    console.apply(Action::Command(Command::Filter));
    type_text(console, cluster);
    console.apply(key(crossterm::event::KeyCode::Enter));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_feed_interleaves_every_services_events_newest_first() {
    let handle = sb::start(frozen()).await;
    let mut console = Console::new(&handle);
    on_cluster(&mut console, "prod").await;
    console.apply(Action::Command(Command::ShowEvents));
    console.until("the feed loaded", loaded).await;
    assert!(matches!(console.state.view(), View::Pane(_)));
    let (_, doc, n) = berth::app::export::markdown(&console.state).unwrap();
    assert!(doc.contains("of 6 services"), "{doc}");
    let rows: Vec<(String, String)> = doc
        .lines()
        .filter(|l| l.starts_with("| 20"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].to_string(), cells[2].to_string())
        })
        .collect();
    assert_eq!(rows.len(), n);
    assert!(rows.len() > 6, "{doc}");
    // newest first across services
    assert!(rows.windows(2).all(|w| w[0].0 >= w[1].0), "{doc}");
    // interleaved: some service's events appear before and after another's
    let services: Vec<&str> = rows.iter().map(|(_, s)| s.as_str()).collect();
    let mut distinct = services.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() >= 2, "{doc}");
    let runs = services.windows(2).filter(|w| w[0] != w[1]).count() + 1;
    assert!(
        runs > distinct.len(),
        "the events are merged, not listed service by service:\n{doc}"
    );
    // enter opens the event's service
    let first = services[0].to_string();
    console.apply(Action::Command(Command::Select));
    match console.state.view() {
        View::Deployments(v) => assert_eq!(v.service, first),
        other => panic!("{other:?}"),
    }
    handle.shutdown().await;
}

/// The clients as the console builds them.
async fn console_clients(handle: &SandboxHandle) -> berth::aws::Clients {
    berth::aws::connect(&AwsTarget {
        region: Some("us-east-1".into()),
        endpoint_url: Some(handle.endpoint_url()),
        static_credentials: Some((
            sandbox::DEMO_ACCESS_KEY_ID.into(),
            sandbox::DEMO_SECRET_ACCESS_KEY.into(),
        )),
        ..AwsTarget::default()
    })
    .await
    .unwrap()
}

async fn cluster_tasks(handle: &SandboxHandle, service: Option<&str>) -> Vec<Task> {
    let clients = console_clients(handle).await;
    let permits = tokio::sync::Semaphore::new(4);
    let found = Arc::new(Mutex::new(Vec::new()));
    let sink = found.clone();
    let progress = move |p| {
        if let Progress::Batch(b) = p {
            sink.lock().unwrap().extend(b);
        }
    };
    loaders::tasks(&clients, &permits, "prod", service, true, &progress)
        .await
        .unwrap();
    drop(progress);
    Arc::try_unwrap(found).unwrap().into_inner().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_tasks_are_listed_at_cluster_scope_with_group_started_by_and_why() {
    let handle = sb::start(frozen()).await;
    let tasks = cluster_tasks(&handle, None).await;
    let runs: Vec<&Task> = tasks
        .iter()
        .filter(|t| t.group.as_deref() == Some("family:nightly-reconcile"))
        .collect();
    assert!(runs.len() >= 3, "a run every 15 minutes: {runs:?}");
    for t in &runs {
        assert_eq!(
            t.started_by.as_deref(),
            Some("events-rule/nightly-reconcile")
        );
        assert_eq!(t.service_name(), None);
    }
    let stopped: Vec<&&Task> = runs.iter().filter(|t| t.last_status == "STOPPED").collect();
    assert!(stopped.len() >= 2, "{runs:?}");
    for t in &stopped {
        assert_eq!(
            t.stopped_reason.as_deref(),
            Some("Essential container in task exited")
        );
        assert_eq!(t.stop_code.as_deref(), Some("EssentialContainerExited"));
    }
    let exits: Vec<i32> = stopped
        .iter()
        .flat_map(|t| t.containers.iter().filter_map(|c| c.exit_code))
        .collect();
    assert!(exits.contains(&0) && exits.contains(&1), "{exits:?}");

    let migrate: Vec<&Task> = tasks
        .iter()
        .filter(|t| t.group.as_deref() == Some("family:db-migrate"))
        .collect();
    assert_eq!(migrate.len(), 1, "{migrate:?}");
    assert_eq!(migrate[0].started_by.as_deref(), Some("user/alice"));
    assert_eq!(migrate[0].last_status, "STOPPED");
    assert!(migrate[0].containers.iter().any(|c| c.exit_code == Some(1)));

    // A service's tasks never include them.
    let service = cluster_tasks(&handle, Some("checkout-api")).await;
    assert!(!service.is_empty());
    assert!(
        service
            .iter()
            .all(|t| t.service_name() == Some("checkout-api"))
    );

    // ListTasks' startedBy filter finds exactly the schedule's runs.
    let c = sb::clients(&handle.endpoint_url()).await;
    let by_rule = c
        .ecs
        .list_tasks()
        .cluster("prod")
        .started_by("events-rule/nightly-reconcile")
        .desired_status(DesiredStatus::Stopped)
        .send()
        .await
        .unwrap();
    let mut want: Vec<String> = runs
        .iter()
        .filter(|t| t.desired_status == "STOPPED")
        .map(|t| t.arn.clone())
        .collect();
    let mut got = by_rule.task_arns().to_vec();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn why_stopped_at_cluster_scope_names_the_standalone_tasks() {
    let handle = sb::start(frozen()).await;
    let mut console = Console::new(&handle);
    on_cluster(&mut console, "prod").await;
    console.apply(Action::Command(Command::ShowStopCauses));
    console.until("stopped loaded", loaded).await;
    let View::Stopped(v) = console.state.view() else {
        panic!("{}", console.screen());
    };
    assert_eq!(v.service, None);
    let completed = v
        .groups
        .iter()
        .find(|g| g.cause == StopCause::Completed)
        .expect("the schedule's successful runs");
    assert_eq!(completed.services, ["standalone:nightly-reconcile"]);
    assert!(
        v.groups
            .iter()
            .any(|g| !g.cause.is_routine()
                && g.services.iter().any(|s| s == "standalone:db-migrate")),
        "{:?}",
        v.groups
    );
    // The SERVICES column (20 wide) shows the label's start.
    let screen = console.screen();
    assert!(screen.contains("standal"), "{screen}");
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_a_standalone_task_come_from_its_task_definitions_log_group() {
    let handle = sb::start(frozen()).await;
    let mut console = Console::new(&handle);
    on_cluster(&mut console, "prod").await;
    // The cluster's tasks (from the feed: `t` at cluster scope), stopped ones too.
    console.apply(Action::Command(Command::ShowEvents));
    console.until("the feed", loaded).await;
    console.apply(Action::Command(Command::ShowTasks));
    console.apply(Action::Command(Command::ToggleStopped));
    console
        .until("cluster tasks", |s| {
            matches!(s.view(), View::Tasks(v) if v.service.is_none() && v.include_stopped)
                && loaded(s)
        })
        .await;
    console.apply(Action::Command(Command::Filter));
    type_text(&mut console, "family:db-migrate");
    console.apply(key(crossterm::event::KeyCode::Enter));
    let screen = console.screen();
    let View::Tasks(v) = console.state.view() else {
        panic!("{screen}");
    };
    let task = v
        .table
        .selected_row()
        .and_then(|i| v.data.rows.get(i))
        .cloned()
        .unwrap_or_else(|| panic!("no db-migrate task:\n{screen}"));
    assert_eq!(task.group.as_deref(), Some("family:db-migrate"));
    // At 220 columns the cluster's tasks show who started them.
    assert!(screen.contains("user/alice"), "{screen}");
    assert!(screen.contains("family:db-migrate"), "{screen}");

    console.apply(Action::Command(Command::ShowLogs));
    console
        .until(
            "the task's log lines",
            |s| matches!(s.view(), View::Logs(v) if v.history_loaded && !v.buffer.is_empty()),
        )
        .await;
    let View::Logs(logs) = console.state.view() else {
        panic!("{}", console.screen());
    };
    assert!(logs.scope.service.is_none());
    assert!(logs.streams > 0, "{:?}", logs.notes);
    assert!(
        logs.buffer
            .iter()
            .all(|e| &*e.group == "/ecs/prod/db-migrate" && *e.task_id == task.id),
        "only the task's lines, from its task definition's log group"
    );
    handle.shutdown().await;
}

/// The feed of a big cluster through the console: over a fresh services view it costs no call;
/// from the clusters view it costs exactly the services loader's calls, ⌈N/100⌉ ListServices
/// and ⌈N/10⌉ DescribeServices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_of_2000_services_costs_the_services_loads_calls_or_none() {
    let handle = sb::start(SandboxOptions {
        scale: Some(2000),
        speed: 1e-6,
        ..SandboxOptions::default()
    })
    .await;
    let mut console = Console::new(&handle);
    console
        .until("clusters loaded", |s| s.session.connected && loaded(s))
        .await;
    let (cluster, n) = console
        .state
        .clusters
        .data
        .rows
        .iter()
        .map(|c| (c.name.clone(), c.active_services as usize))
        .max_by_key(|(_, n)| *n)
        .unwrap();
    assert!(n > 100, "{cluster}: {n}");

    // Over the services view, loaded just now: no call.
    console.apply(Action::Command(Command::CommandMode));
    type_text(&mut console, &format!("services {cluster}"));
    console.apply(key(crossterm::event::KeyCode::Enter));
    console.until("services loaded", loaded).await;
    // The services view's own reads (target health of the rows on screen) are done.
    console
        .until("target health read", |s| s.targets.settled())
        .await;
    handle.reset_stats();
    console.apply(Action::Command(Command::CommandMode));
    type_text(&mut console, "events all");
    console.apply(key(crossterm::event::KeyCode::Enter));
    console.until("the feed", loaded).await;
    assert_eq!(handle.stats().total(), 0, "{:?}", handle.stats().requests);
    let (_, doc, _) = berth::app::export::markdown(&console.state).unwrap();
    assert!(doc.contains(&format!("of {n} services")), "{}", &doc[..300]);

    // From the clusters view: the services loader's calls, nothing else.
    console.apply(Action::Command(Command::CommandMode));
    type_text(&mut console, "clusters");
    console.apply(key(crossterm::event::KeyCode::Enter));
    console
        .until("clusters reloaded", |s| {
            matches!(s.view(), View::Clusters) && !s.clusters.data.is_loading()
        })
        .await;
    console.apply(Action::Command(Command::Filter));
    type_text(&mut console, &cluster);
    console.apply(key(crossterm::event::KeyCode::Enter));
    handle.reset_stats();
    console.apply(Action::Command(Command::ShowEvents));
    console.until("the feed", loaded).await;
    let stats = handle.stats();
    assert_eq!(stats.count("ecs:ListServices"), n.div_ceil(100) as u64);
    assert_eq!(stats.count("ecs:DescribeServices"), n.div_ceil(10) as u64);
    assert_eq!(
        stats.total(),
        (n.div_ceil(100) + n.div_ceil(10)) as u64,
        "{:?}",
        stats.requests
    );
    let (_, doc, rows) = berth::app::export::markdown(&console.state).unwrap();
    assert!(doc.contains(&format!("of {n} services")), "{}", &doc[..300]);
    assert!(rows <= berth::panes::cluster_events::CAP);
    handle.shutdown().await;
}

/// The schedule runs relative to the sandbox's start, not the wall clock's quarter hours: a
/// sandbox started on a quarter hour (1_800_000_000 s is one) has no job starting up in its
/// first minutes, so what a test sees does not depend on when it runs.
#[tokio::test]
async fn a_sandbox_started_on_a_quarter_hour_has_no_job_starting() {
    let handle = sb::start(SandboxOptions {
        start_time_ms: Some(1_800_000_000_000),
        ..frozen()
    })
    .await;
    let tasks = cluster_tasks(&handle, None).await;
    let starting: Vec<&Task> = tasks
        .iter()
        .filter(|t| t.desired_status == "RUNNING" && t.last_status != "RUNNING")
        .collect();
    assert!(starting.is_empty(), "{starting:#?}");
}
