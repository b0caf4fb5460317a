//! CPU and memory trends through the real aws-sdk-cloudwatch (Smithy RPC v2 CBOR) against the
//! sandbox: the at-capacity drill's CPU, queries batched 500 a call, unknown services empty,
//! access denied as a value.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use berth::aws::metrics::{self, MAX_QUERIES_PER_CALL, METRICS_PER_SERVICE};
use berth::aws::{AwsTarget, Clients};
use berth::domain::metrics::MetricsUnavailable;
use berth::sandbox::{self, Faults, SandboxHandle, SandboxOptions, Scenario};

use berth::app::{Action, Command, View};
use crossterm::event::KeyCode;

use crate::common::console::{Console, key, loaded, type_text};
use crate::sandbox_support as sb;

const GET_METRIC_DATA: &str = "cloudwatch:GetMetricData";

async fn console_clients(sandbox: &SandboxHandle) -> Clients {
    berth::aws::connect(&AwsTarget {
        region: Some("us-east-1".into()),
        endpoint_url: Some(sandbox.endpoint_url()),
        static_credentials: Some((
            sandbox::DEMO_ACCESS_KEY_ID.into(),
            sandbox::DEMO_SECRET_ACCESS_KEY.into(),
        )),
        ..AwsTarget::default()
    })
    .await
    .unwrap()
}

/// A sandbox whose virtual clock runs ten minutes a second, waited on until `minutes` past
/// its start.
async fn sandbox_at(scenario: Scenario, minutes: i64) -> SandboxHandle {
    let start = 1_800_000_000_000;
    let handle = sb::start(SandboxOptions {
        scenario,
        speed: 600.0,
        start_time_ms: Some(start),
        ..SandboxOptions::default()
    })
    .await;
    while handle.virtual_now_ms() < start + minutes * 60_000 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    handle
}

fn now_secs(handle: &SandboxHandle) -> i64 {
    handle.virtual_now_ms() / 1000
}

#[tokio::test]
async fn the_at_capacity_drill_pins_web_frontend_cpu_above_90_percent_in_one_call() {
    let handle = sandbox_at(Scenario::AtCapacity, 8).await;
    let clients = console_clients(&handle).await;
    handle.reset_stats();
    let services = ["web-frontend", "checkout-api", "no-such-service"].map(String::from);
    let found = metrics::service_metrics(&clients.cloudwatch, "prod", &services, now_secs(&handle))
        .await
        .unwrap();
    assert_eq!(handle.stats().count(GET_METRIC_DATA), 1);

    let web = &found["web-frontend"];
    // an hour of minutes (the sandbox simulates an hour of history before it starts)
    assert!(
        web.cpu.points.len() >= 59,
        "{} points",
        web.cpu.points.len()
    );
    assert!(
        web.cpu.points.windows(2).all(|w| w[0].0 < w[1].0),
        "oldest first"
    );
    let cpu = web.cpu.current().unwrap();
    assert!(
        cpu >= 90.0,
        "web-frontend CPU {cpu}% in the at-capacity drill"
    );
    assert!(web.memory.current().unwrap() < 90.0);
    // before the incident the drill's service was not pinned
    assert!(web.cpu.points.first().unwrap().1 < 90.0);

    let checkout = &found["checkout-api"];
    assert!(checkout.cpu.current().unwrap() < 90.0);
    assert!(!checkout.memory.points.is_empty());
    assert!(found["no-such-service"].cpu.points.is_empty());
}

#[tokio::test]
async fn the_steady_fleet_is_not_at_capacity() {
    let handle = sandbox_at(Scenario::Steady, 8).await;
    let clients = console_clients(&handle).await;
    let found = metrics::service_metrics(
        &clients.cloudwatch,
        "prod",
        &["web-frontend".to_string()],
        now_secs(&handle),
    )
    .await
    .unwrap();
    assert!(found["web-frontend"].cpu.max().unwrap() < 90.0);
}

#[tokio::test]
async fn queries_go_500_a_call() {
    let handle = sandbox_at(Scenario::Steady, 0).await;
    let clients = console_clients(&handle).await;
    let per_call = MAX_QUERIES_PER_CALL / METRICS_PER_SERVICE;
    for (services, calls) in [(1, 1), (per_call, 1), (per_call + 1, 2), (3 * per_call, 3)] {
        handle.reset_stats();
        let names: Vec<String> = (0..services).map(|i| format!("svc-{i}")).collect();
        let found =
            metrics::service_metrics(&clients.cloudwatch, "prod", &names, now_secs(&handle))
                .await
                .unwrap();
        assert_eq!(found.len(), services);
        assert_eq!(
            handle.stats().count(GET_METRIC_DATA),
            calls,
            "{services} services"
        );
    }
}

#[tokio::test]
async fn next_token_pages_are_followed_and_merged() {
    let handle = sandbox_at(Scenario::AtCapacity, 8).await;
    let clients = console_clients(&handle).await;
    let services = ["web-frontend", "checkout-api"].map(String::from);
    let now = now_secs(&handle);
    let whole = metrics::service_metrics(&clients.cloudwatch, "prod", &services, now)
        .await
        .unwrap();
    handle.reset_stats();
    // 4 series of ~60 points in pages of 25
    let paged =
        metrics::service_metrics_paged(&clients.cloudwatch, "prod", &services, now, Some(25))
            .await
            .unwrap();
    let calls = handle.stats().count(GET_METRIC_DATA);
    let points: usize = whole
        .values()
        .map(|m| m.cpu.points.len() + m.memory.points.len())
        .sum();
    assert!(points > 200, "{points}");
    assert_eq!(calls as usize, points.div_ceil(25), "{points} datapoints");
    assert_eq!(paged, whole);
}

#[tokio::test]
async fn access_denied_is_a_value() {
    let handle = sandbox_at(Scenario::Steady, 0).await;
    handle.set_faults(Faults {
        denied_operations: vec![GET_METRIC_DATA.into()],
        ..Faults::default()
    });
    let clients = console_clients(&handle).await;
    let err = metrics::service_metrics(
        &clients.cloudwatch,
        "prod",
        &["web-frontend".to_string()],
        now_secs(&handle),
    )
    .await
    .unwrap_err();
    assert_eq!(metrics::unavailable(&err), MetricsUnavailable::AccessDenied);
    assert_eq!(
        metrics::unavailable(&err).to_string(),
        "metrics unavailable: access denied"
    );
}

/// A 2,000-service fleet in one cluster on a virtual clock that stands still.
async fn big_fleet() -> (SandboxHandle, String) {
    let handle = sb::start(SandboxOptions {
        scale: Some(2000),
        clusters: Some(1),
        speed: 1e-6,
        ..SandboxOptions::default()
    })
    .await;
    let ecs = sb::clients(&handle.endpoint_url()).await.ecs;
    for arn in sb::all_cluster_arns(&ecs, 100).await {
        let name = arn.rsplit('/').next().unwrap().to_string();
        if sb::all_service_arns(&ecs, &name, Some(100)).await.len() >= 1900 {
            return (handle, name);
        }
    }
    panic!("no cluster of 2,000 services");
}

/// A 200x50 console on the services of `cluster`, `metrics_off` as with `--no-metrics`.
async fn console_on(handle: &SandboxHandle, cluster: &str, metrics_off: bool) -> Console {
    let mut console = Console::new(handle);
    console.state.metrics.disabled = metrics_off;
    console.apply(Action::Resize {
        cols: 200,
        rows: 50,
    });
    console.until("connected", |s| s.session.connected).await;
    console.apply(Action::Command(Command::CommandMode));
    type_text(&mut console, &format!("services {cluster}"));
    console.apply(key(KeyCode::Enter));
    console.until("services loaded", loaded).await;
    console
}

/// Refreshes as the loop sends them, each answered before the next.
async fn refreshes(console: &mut Console, n: usize) {
    for _ in 0..n {
        console.apply(Action::RefreshDue);
        while let Ok(Some(a)) =
            tokio::time::timeout(std::time::Duration::from_millis(300), console.rx.recv()).await
        {
            console.apply(a);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_2000_services_the_console_reads_metrics_of_the_rows_on_screen_in_one_call() {
    let (handle, cluster) = big_fleet().await;
    handle.reset_stats();
    let mut console = console_on(&handle, &cluster, false).await;
    console
        .until("metrics read", |s| {
            !s.metrics.trends.is_empty() && s.metrics.in_flight.is_none()
        })
        .await;
    let View::Services(v) = console.state.view() else {
        panic!("{:?}", console.state.view())
    };
    assert!(v.data.rows.len() >= 1900, "{}", v.data.rows.len());
    // the frame's table: the terminal less header (2), title, column headers and footer
    let on_screen: Vec<String> = v.table.visible[..usize::from(console.state.rows) - 5]
        .iter()
        .map(|&i| format!("{cluster}/{}", v.data.rows[i].service.name))
        .collect();
    let mut read: Vec<String> = console.state.metrics.trends.keys().cloned().collect();
    read.sort();
    let mut want = on_screen.clone();
    want.sort();
    assert_eq!(read, want, "exactly the rows on screen");
    assert!(
        console
            .state
            .metrics
            .trends
            .values()
            .all(|(_, t)| t.as_ref().is_ok_and(|m| m.cpu.points.len() >= 59)),
        "an hour of minutes each"
    );
    assert_eq!(handle.stats().count(GET_METRIC_DATA), 1);
    // refreshes within the minute read nothing again
    refreshes(&mut console, 3).await;
    assert_eq!(handle.stats().count(GET_METRIC_DATA), 1);
    let screen = console.screen();
    assert!(screen.contains(" CPU ") && screen.contains('%'), "{screen}");
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_metrics_off_the_console_never_calls_cloudwatch() {
    let (handle, cluster) = big_fleet().await;
    handle.reset_stats();
    let mut console = console_on(&handle, &cluster, true).await;
    refreshes(&mut console, 2).await;
    console.apply(Action::Command(Command::Select));
    console
        .until("deployments", |s| {
            matches!(s.view(), View::Deployments(_)) && loaded(s)
        })
        .await;
    refreshes(&mut console, 2).await;
    assert!(handle.stats().count("ecs:DescribeServices") > 0);
    assert_eq!(handle.stats().count(GET_METRIC_DATA), 0);
    assert!(console.state.metrics.trends.is_empty());
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_at_capacity_drill_shows_on_the_services_list() {
    let handle = sandbox_at(Scenario::AtCapacity, 8).await;
    let mut console = Console::new(&handle);
    console.apply(Action::Resize {
        cols: 200,
        rows: 50,
    });
    console.until("connected", |s| s.session.connected).await;
    console.apply(Action::Command(Command::CommandMode));
    type_text(&mut console, "services prod");
    console.apply(key(KeyCode::Enter));
    console
        .until("metrics read", |s| {
            loaded(s) && !s.metrics.trends.is_empty() && s.metrics.in_flight.is_none()
        })
        .await;
    let cpu = |service: &str| {
        console
            .state
            .metrics
            .trend("prod", service)
            .and_then(|t| t.as_ref().ok())
            .and_then(|m| m.cpu.current())
            .unwrap_or_else(|| panic!("no CPU for {service}"))
    };
    let (web, checkout) = (cpu("web-frontend"), cpu("checkout-api"));
    assert!(web >= 90.0, "web-frontend {web}%");
    assert!(checkout < 90.0, "checkout-api {checkout}%");
    let screen = console.screen();
    let row = screen
        .lines()
        .find(|l| l.contains("web-frontend"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(row.contains(&format!("{web:>3.0}%")), "{row}");
    assert!(row.contains('█'), "{row}");
    handle.shutdown().await;
}

/// The running tasks of `service` in `cluster`, as the console asks for them.
async fn running_tasks(
    clients: &Clients,
    cluster: &str,
    service: &str,
) -> Vec<berth::domain::metrics::TaskQuery> {
    let arns = clients
        .ecs
        .list_tasks()
        .cluster(cluster)
        .service_name(service)
        .send()
        .await
        .unwrap()
        .task_arns()
        .to_vec();
    let out = clients
        .ecs
        .describe_tasks()
        .cluster(cluster)
        .set_tasks(Some(arns))
        .send()
        .await
        .unwrap();
    out.tasks()
        .iter()
        .filter(|t| t.last_status() == Some("RUNNING"))
        .map(|t| {
            let td = t.task_definition_arn().unwrap();
            berth::domain::metrics::TaskQuery {
                arn: t.task_arn().unwrap().to_string(),
                family: td
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .split(':')
                    .next()
                    .unwrap()
                    .into(),
                cpu_units: t.cpu().and_then(|c| c.parse().ok()),
                memory_mib: t.memory().and_then(|m| m.parse().ok()),
            }
        })
        .collect()
}

#[tokio::test]
async fn per_task_cpu_and_memory_come_from_container_insights_only_where_it_is_enhanced() {
    let handle = sandbox_at(Scenario::Oom, 20).await;
    let clients = console_clients(&handle).await;
    let tasks = running_tasks(&clients, "prod", "checkout-api").await;
    assert!(tasks.len() >= 2, "{tasks:?}");
    assert!(tasks.iter().all(|t| t.cpu_units.is_some()), "{tasks:?}");
    handle.reset_stats();
    let now = now_secs(&handle);
    let found = metrics::task_metrics(&clients.cloudwatch, "prod", &tasks, now)
        .await
        .unwrap();
    // two metrics a task, all in one call
    assert_eq!(handle.stats().count(GET_METRIC_DATA), 1);
    let a = &found[&tasks[0].arn];
    let b = &found[&tasks[1].arn];
    assert!(
        !a.cpu.points.is_empty() && !a.memory.points.is_empty(),
        "{a:?}"
    );
    for v in a.cpu.points.iter().chain(&a.memory.points).map(|p| p.1) {
        assert!(
            (0.0..=100.0).contains(&v),
            "a percentage of the task's own reservation: {v}"
        );
    }
    assert_ne!(a.cpu, b.cpu, "each task its own series");

    // without the task-level reservation the Reserved metrics give the same percentages
    let blind: Vec<_> = tasks
        .iter()
        .map(|t| berth::domain::metrics::TaskQuery {
            cpu_units: None,
            memory_mib: None,
            ..t.clone()
        })
        .collect();
    let again = metrics::task_metrics(&clients.cloudwatch, "prod", &blind, now)
        .await
        .unwrap();
    let close = |x: &berth::domain::metrics::Series, y: &berth::domain::metrics::Series| {
        x.points.len() == y.points.len()
            && x.points
                .iter()
                .zip(&y.points)
                .all(|(p, q)| p.0 == q.0 && (p.1 - q.1).abs() < 1e-6)
    };
    assert!(close(&again[&tasks[0].arn].cpu, &a.cpu));
    assert!(close(&again[&tasks[0].arn].memory, &a.memory));

    // the oom drill's leaking tasks fill their memory from the minute they start
    let leaking = running_tasks(&clients, "prod", "payments-worker").await;
    let found = metrics::task_metrics(&clients.cloudwatch, "prod", &leaking, now)
        .await
        .unwrap();
    let rising = leaking
        .iter()
        .filter_map(|t| found.get(&t.arn))
        .filter(|m| m.memory.points.len() >= 3)
        .all(|m| m.memory.points.windows(2).all(|w| w[0].1 <= w[1].1));
    assert!(rising, "leaking tasks' memory only climbs: {found:?}");

    // staging has no enhanced observability: CloudWatch has nothing per task
    let staging = running_tasks(&clients, "staging", "checkout-api").await;
    assert!(!staging.is_empty());
    let none = metrics::task_metrics(&clients.cloudwatch, "staging", &staging, now)
        .await
        .unwrap();
    assert!(
        none.values()
            .all(|m| m.cpu.points.is_empty() && m.memory.points.is_empty())
    );
}

#[tokio::test]
async fn per_task_queries_fill_calls_of_500_and_unknown_tasks_come_back_empty() {
    let handle = sandbox_at(Scenario::Steady, 1).await;
    let clients = console_clients(&handle).await;
    let task = |i: usize, known: bool| berth::domain::metrics::TaskQuery {
        arn: format!("arn:aws:ecs:us-east-1:123456789012:task/prod/{i:032x}"),
        family: "checkout-api".into(),
        cpu_units: known.then_some(512),
        memory_mib: known.then_some(1024),
    };
    let now = now_secs(&handle);
    for (tasks, calls) in [
        ((0..250).map(|i| task(i, true)).collect::<Vec<_>>(), 1),
        ((0..251).map(|i| task(i, true)).collect(), 2),
        // four queries each without a reservation: 125 a call
        ((0..126).map(|i| task(i, false)).collect(), 2),
    ] {
        handle.reset_stats();
        let found = metrics::task_metrics(&clients.cloudwatch, "prod", &tasks, now)
            .await
            .unwrap();
        assert_eq!(
            handle.stats().count(GET_METRIC_DATA),
            calls,
            "{} tasks",
            tasks.len()
        );
        assert_eq!(found.len(), tasks.len());
        assert!(found.values().all(|m| m.cpu.points.is_empty()));
    }
}
