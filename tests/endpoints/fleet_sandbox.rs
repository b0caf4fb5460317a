//! The fleet loader through the real SDK against a sandbox serving many accounts and regions:
//! every pair reported once, failures on their own rows with their fix while the others load,
//! the incident's service listed once as a problem, the healthy collapsed per cluster.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use std::sync::{Arc, Mutex};

use berth::aws::fleet::{self, FleetTarget};
use berth::domain::fleet::{PairReport, RowKind, rows};
use berth::sandbox::{self, AccountBehaviour, SandboxOptions, Scenario};

use crate::sandbox_support as sb;

async fn load_all(targets: Vec<FleetTarget>) -> Vec<PairReport> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    fleet::load(targets, fleet::CONCURRENCY, move |r| {
        sink.lock().unwrap().push(r);
    })
    .await;
    seen.lock().unwrap().clone()
}

#[tokio::test]
async fn the_demo_organisation_shows_its_incident_and_each_broken_pair_with_its_fix() {
    let start = 1_800_000_000_000;
    let handle = sb::start(SandboxOptions {
        accounts: sandbox::demo_accounts(),
        speed: 600.0,
        start_time_ms: Some(start),
        ..SandboxOptions::default()
    })
    .await;
    let targets = sandbox::fleet_targets(&sandbox::demo_accounts(), &handle.endpoint_url());
    let n = targets.len();
    // read the whole fleet until the bad deploy in prod/us-east-1 is under way (bounded)
    let incident = |reports: &[PairReport], now: i64| {
        reports.iter().any(|r| {
            r.pair.key() == "prod/us-east-1"
                && r.outcome.as_ref().is_ok_and(|services| {
                    services.iter().any(|s| {
                        s.name == "checkout-api" && !berth::app::fleet::classify(s, now).is_empty()
                    })
                })
        })
    };
    let mut reports = Vec::new();
    for _ in 0..200 {
        reports = load_all(targets.clone()).await;
        if incident(&reports, handle.virtual_now_ms() / 1000) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        incident(&reports, handle.virtual_now_ms() / 1000),
        "no incident seen"
    );
    assert_eq!(reports.len(), n);
    let by = |key: &str| {
        reports
            .iter()
            .find(|r| r.pair.key() == key)
            .unwrap_or_else(|| panic!("{key} reported"))
    };
    let legacy = by("legacy/us-east-1").outcome.as_ref().unwrap_err();
    assert!(legacy.what.contains("expired"), "{legacy:?}");
    assert!(
        legacy.fix.contains("aws sso login --profile legacy"),
        "{legacy:?}"
    );
    let audit = by("audit/us-east-1");
    assert_eq!(
        audit.account.as_deref(),
        Some("710987654326"),
        "STS answers a denied role"
    );
    let denied = audit.outcome.as_ref().unwrap_err();
    assert!(
        denied.what.contains("access denied to ecs:ListClusters"),
        "{denied:?}"
    );
    let off = by("data/eu-west-1").outcome.as_ref().unwrap_err();
    assert!(off.what.contains("not enabled"), "{off:?}");
    assert!(by("data/us-east-1").outcome.is_ok());
    let prod = by("prod/us-east-1");
    assert_eq!(prod.account.as_deref(), Some("210987654321"));

    let now = handle.virtual_now_ms() / 1000;
    let table = rows(
        &reports,
        &[],
        &|s| berth::app::fleet::classify(s, now),
        &|id| (id == "210987654321").then(|| "prod-alias".to_string()),
    );
    let problems: Vec<_> = table
        .iter()
        .filter_map(|r| match &r.kind {
            RowKind::Problem { service, .. } => {
                Some((r.pair.key(), service.name.clone(), r.account.clone()))
            }
            _ => None,
        })
        .collect();
    let prod_services: Vec<String> = prod
        .outcome
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| format!("{} {:?}", s.arn, berth::app::fleet::classify(s, now)))
        .collect();
    assert!(
        problems.contains(&(
            "prod/us-east-1".into(),
            "checkout-api".into(),
            "prod-alias".into()
        )),
        "{problems:?} {prod_services:#?}"
    );
    let mut keys: Vec<&str> = table.iter().map(|r| r.key.as_str()).collect();
    let total = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), total, "every row once");
    let failed = table
        .iter()
        .filter(|r| matches!(r.kind, RowKind::Failed(_)))
        .count();
    assert_eq!(failed, 3, "legacy, audit, data/eu-west-1");
    assert!(
        table
            .iter()
            .any(|r| matches!(r.kind, RowKind::Healthy { .. }))
    );
}

#[tokio::test]
async fn twenty_accounts_in_three_regions_at_50ms_every_pair_once_failures_on_their_own() {
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    let mut accounts = sandbox::generated_accounts(20, &regions);
    accounts[0].behaviour = AccountBehaviour::ExpiredCredentials;
    accounts[1].behaviour = AccountBehaviour::Denied;
    accounts[2].scenario = Scenario::BadDeploy;
    let handle = sb::start(SandboxOptions {
        accounts: accounts.clone(),
        latency_ms: 50,
        speed: 600.0,
        ..SandboxOptions::default()
    })
    .await;
    let targets = sandbox::fleet_targets(&accounts, &handle.endpoint_url());
    assert_eq!(targets.len(), 60);
    let order = Arc::new(Mutex::new(Vec::new()));
    let sink = order.clone();
    fleet::load(targets, fleet::CONCURRENCY, move |r| {
        sink.lock().unwrap().push(r);
    })
    .await;
    let reports = order.lock().unwrap().clone();
    assert_eq!(reports.len(), 60);
    let mut keys: Vec<String> = reports.iter().map(|r| r.pair.key()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 60, "each pair reported once");
    // the refused pairs answer without the latency: they come before most of the rest, not
    // after them (nothing waits for a failed pair)
    let first_failure = reports.iter().position(|r| r.outcome.is_err()).unwrap();
    assert!(first_failure < 20, "a failure at {first_failure}");
    let failures: Vec<_> = reports.iter().filter(|r| r.outcome.is_err()).collect();
    assert_eq!(failures.len(), 6, "acct-01 and acct-02 in 3 regions each");
    assert!(
        failures
            .iter()
            .all(|r| r.pair.profile == "acct-01" || r.pair.profile == "acct-02")
    );
    // one request per pair at a time, and the calls a fleet read costs
    let stats = handle.stats();
    assert_eq!(stats.count("sts:GetCallerIdentity"), 60);
    assert_eq!(
        stats.count("ecs:ListClusters"),
        57,
        "not for the expired account's 3"
    );
}
