//! The fleet view's cost and speed: 20 accounts × 3 regions (60 pairs) served by the sandbox
//! in this process with 50 ms on every request; account 1's credentials expired, account 2
//! denied ECS, account 3 playing the bad-deploy drill in us-east-1. Each load is
//! `aws::fleet::load` with `CONCURRENCY` pairs at once, through the real SDK.
//!
//! Measured: wall time to the first pair that shows a service with a problem, to the first
//! failed pair, and to the complete table (min and median of 5 loads); the requests one load
//! makes; and the idle cost of the fleet view left on screen: requests per load ×
//! (60 / `refresh_secs(5, 60)`) per minute.
//!
//! Run: `cargo bench --profile dev --bench fleet` (about half a minute; prints a Markdown
//! table).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark: a failure is the report

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth::app::fleet::{classify, refresh_secs};
use berth::aws::fleet::{CONCURRENCY, load};
use berth::domain::fleet::{PairReport, RowKind, rows};
use berth::sandbox::{self, AccountBehaviour, SandboxOptions, Scenario};

const LOADS: usize = 5;
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const LATENCY_MS: u64 = 50;

/// When, after the load started, each kind of row first appeared, and when it ended.
#[derive(Default, Clone, Copy)]
struct Timing {
    first_problem: Option<Duration>,
    first_failure: Option<Duration>,
    complete: Duration,
}

fn has_problem(report: &PairReport, now: i64) -> bool {
    rows(
        std::slice::from_ref(report),
        &[],
        &|s| classify(s, now),
        &|_| None,
    )
    .iter()
    .any(|r| matches!(r.kind, RowKind::Problem { .. }))
}

async fn one_load(
    targets: Vec<berth::aws::fleet::FleetTarget>,
    clock: berth::clock::Clock,
) -> (Timing, Vec<PairReport>) {
    let timing = Arc::new(Mutex::new(Timing::default()));
    let reports = Arc::new(Mutex::new(Vec::new()));
    let (t, r) = (timing.clone(), reports.clone());
    let t0 = Instant::now();
    load(targets, CONCURRENCY, move |report| {
        let at = t0.elapsed();
        let mut t = t.lock().unwrap();
        if t.first_problem.is_none() && has_problem(&report, clock()) {
            t.first_problem = Some(at);
        }
        if t.first_failure.is_none() && report.outcome.is_err() {
            t.first_failure = Some(at);
        }
        r.lock().unwrap().push(report);
    })
    .await;
    let mut timing = *timing.lock().unwrap();
    timing.complete = t0.elapsed();
    let reports = reports.lock().unwrap().clone();
    (timing, reports)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `min / median` of the samples, in ms; `-` when a load never saw the row.
fn min_median(samples: &[Option<Duration>]) -> String {
    let mut seen: Vec<f64> = samples.iter().flatten().map(|d| ms(*d)).collect();
    if seen.len() < samples.len() {
        return format!("- (seen in {}/{} loads)", seen.len(), samples.len());
    }
    seen.sort_by(f64::total_cmp);
    format!("{:.0} / {:.0}", seen[0], seen[seen.len() / 2])
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench());
}

async fn bench() {
    let mut accounts = sandbox::generated_accounts(20, &REGIONS);
    accounts[0].behaviour = AccountBehaviour::ExpiredCredentials;
    accounts[1].behaviour = AccountBehaviour::Denied;
    accounts[2].scenario = Scenario::BadDeploy;
    let handle = sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            accounts: accounts.clone(),
            latency_ms: LATENCY_MS,
            // the drill's bad deploy is under way a few simulated minutes in
            speed: 600.0,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let targets = sandbox::fleet_targets(&accounts, &handle.endpoint_url());
    let pairs = targets.len();
    let clock = handle.clock();

    // wait (bounded) until the incident shows in acct-03/us-east-1, so every measured load
    // has a problem to find
    let incident: Vec<_> = targets
        .iter()
        .filter(|t| t.pair.key() == "acct-03/us-east-1")
        .cloned()
        .collect();
    let mut warm = 0;
    for _ in 0..200 {
        warm += 1;
        let (t, _) = one_load(incident.clone(), clock.clone()).await;
        if t.first_problem.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("fleet bench: incident visible after {warm} probe loads");

    let mut timings = Vec::new();
    let mut requests = Vec::new();
    let mut last_stats = None;
    let mut problem_rows = 0;
    let mut known = Vec::new();
    for _ in 0..LOADS {
        handle.reset_stats();
        let (t, reports) = one_load(targets.clone(), clock.clone()).await;
        assert_eq!(reports.len(), pairs, "every pair reported");
        let now = clock();
        problem_rows = rows(&reports, &[], &|s| classify(s, now), &|_| None)
            .iter()
            .filter(|r| matches!(r.kind, RowKind::Problem { .. }))
            .count();
        known = reports;
        let stats = handle.stats();
        requests.push(stats.total());
        last_stats = Some(stats);
        timings.push(t);
    }
    // the view's refreshes pass each pair's account id back in: no STS call then
    let refresh_targets: Vec<_> = targets
        .iter()
        .cloned()
        .map(|mut t| {
            t.account = known
                .iter()
                .find(|r| r.pair == t.pair)
                .and_then(|r| r.account.clone());
            t
        })
        .collect();
    handle.reset_stats();
    let (refresh_timing, _) = one_load(refresh_targets, clock.clone()).await;
    let refresh_requests = handle.stats().total();
    let refresh = refresh_secs(berth::cli::DEFAULT_REFRESH, pairs);
    let per_load = requests.iter().sum::<u64>() as f64 / requests.len() as f64;
    let per_minute = per_load * 60.0 / refresh as f64;
    let refresh_per_minute = refresh_requests as f64 * 60.0 / refresh as f64;

    println!(
        "20 accounts × 3 regions = {pairs} pairs, {LATENCY_MS} ms a request, {CONCURRENCY} pairs at once, {LOADS} loads (debug build)\n"
    );
    println!("| measure | min / median |");
    println!("|---|---:|");
    println!(
        "| first pair with a problem row (ms) | {} |",
        min_median(&timings.iter().map(|t| t.first_problem).collect::<Vec<_>>())
    );
    println!(
        "| first failed pair (ms) | {} |",
        min_median(&timings.iter().map(|t| t.first_failure).collect::<Vec<_>>())
    );
    println!(
        "| complete table (ms) | {} |",
        min_median(&timings.iter().map(|t| Some(t.complete)).collect::<Vec<_>>())
    );
    println!("\n| cost | value |");
    println!("|---|---:|");
    println!("| requests per load | {per_load:.0} (each load: {requests:?}) |");
    println!(
        "| requests per refresh (account ids known) | {refresh_requests} ({:.0} ms) |",
        ms(refresh_timing.complete)
    );
    println!("| problem rows in the last load | {problem_rows} |");
    println!("| refresh interval (`refresh_secs(5, {pairs})`) | {refresh} s |");
    println!(
        "| idle cost of the fleet view on screen | {per_minute:.0} requests/min (first-load cost); {refresh_per_minute:.0} requests/min (refreshes) |"
    );
    if let Some(stats) = last_stats {
        let mut ops: Vec<_> = stats.requests.iter().collect();
        ops.sort();
        let ops: Vec<String> = ops.iter().map(|(op, n)| format!("{op} {n}")).collect();
        println!("| by operation (last load) | {} |", ops.join(", "));
    }
    handle.shutdown().await;
}
