//! CPU and memory trends through the real aws-sdk-cloudwatch (Smithy RPC v2 CBOR) against the
//! sandbox: the at-capacity drill's CPU, queries batched 500 a call, unknown services empty,
//! access denied as a value.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use berth::aws::metrics::{self, MAX_QUERIES_PER_CALL, METRICS_PER_SERVICE};
use berth::aws::{AwsTarget, Clients};
use berth::domain::metrics::MetricsUnavailable;
use berth::sandbox::{self, Faults, SandboxHandle, SandboxOptions, Scenario};

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
