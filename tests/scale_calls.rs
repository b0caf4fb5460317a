//! API calls per operation for loading one cluster of a 2,000-service fleet, counted by the
//! sandbox. Loading is done the way the console's effect runner does it: ListServices one page
//! (100) at a time, each page split into DescribeServices batches of 10 that run with bounded
//! concurrency while the next page is listed. No wall-clock assertions: only counts.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

mod sandbox_support;

use std::collections::BTreeSet;
use std::sync::Arc;

use berth::aws::AwsError;
use berth::aws::services::{
    DESCRIBE_SERVICES_BATCH, describe_services, list_services_page, read_retry_config,
};
use berth::aws::tasks::{DESCRIBE_TASKS_BATCH, TaskListing, describe_tasks, list_task_arns};
use berth::domain::Service;
use berth::sandbox::{SandboxHandle, SandboxOptions};
use sandbox_support as sb;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const SCALE: usize = 2000;
/// DescribeServices calls in flight at once.
const CONCURRENCY: usize = 4;

struct Loaded {
    listed: Vec<String>,
    services: Vec<Service>,
    missing: Vec<String>,
}

/// List every page of `cluster` and describe each page in batches of 10, at most
/// [`CONCURRENCY`] describes at a time.
async fn load_services(ecs: &aws_sdk_ecs::Client, cluster: &str) -> Result<Loaded, AwsError> {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut describes = JoinSet::new();
    let mut listed = Vec::new();
    let mut token = None;
    loop {
        let (page, next) = list_services_page(ecs, cluster, token).await?;
        for batch in page.chunks(DESCRIBE_SERVICES_BATCH) {
            let permit = permits.clone().acquire_owned().await.unwrap();
            let (ecs, cluster, batch) = (ecs.clone(), cluster.to_string(), batch.to_vec());
            describes.spawn(async move {
                let out = describe_services(&ecs, &cluster, &batch).await;
                drop(permit);
                out
            });
        }
        listed.extend(page);
        match next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let mut services = Vec::new();
    let mut missing = Vec::new();
    while let Some(joined) = describes.join_next().await {
        let (found, gone) = joined.unwrap()?;
        services.extend(found);
        missing.extend(gone);
    }
    Ok(Loaded {
        listed,
        services,
        missing,
    })
}

/// The ECS client as the console builds it: the SDK's standard retries with berth's policy.
async fn console_ecs(sandbox: &SandboxHandle) -> aws_sdk_ecs::Client {
    let cfg = sb::sdk_config(&sandbox.endpoint_url()).await;
    let conf = aws_sdk_ecs::config::Builder::from(&cfg)
        .retry_config(read_retry_config())
        .build();
    aws_sdk_ecs::Client::from_conf(conf)
}

/// The first cluster with more services than one ListServices page holds.
async fn big_cluster(ecs: &aws_sdk_ecs::Client) -> String {
    for arn in sb::all_cluster_arns(ecs, 100).await {
        let name = arn.rsplit('/').next().unwrap().to_string();
        if sb::all_service_arns(ecs, &name, Some(100)).await.len() > 100 {
            return name;
        }
    }
    panic!("no cluster with more than 100 services at scale {SCALE}");
}

fn assert_complete(loaded: &Loaded) {
    assert!(loaded.missing.is_empty(), "{:?}", loaded.missing);
    assert_eq!(loaded.services.len(), loaded.listed.len());
    let described: BTreeSet<&str> = loaded.services.iter().map(|s| s.arn.as_str()).collect();
    let listed: BTreeSet<&str> = loaded.listed.iter().map(String::as_str).collect();
    assert_eq!(described, listed, "every listed service described once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loading_one_cluster_costs_the_minimum_calls() {
    let sandbox = sb::start(SandboxOptions {
        scale: Some(SCALE),
        ..SandboxOptions::default()
    })
    .await;
    let ecs = console_ecs(&sandbox).await;
    let cluster = big_cluster(&ecs).await;

    sandbox.reset_stats();
    let loaded = load_services(&ecs, &cluster).await.unwrap();
    let stats = sandbox.stats();
    assert_complete(&loaded);
    let n = loaded.listed.len();
    eprintln!("cluster {cluster}: {n} services, {:?}", stats.requests);
    assert_eq!(stats.count("ecs:ListServices"), n.div_ceil(100) as u64);
    assert_eq!(
        stats.count("ecs:DescribeServices"),
        n.div_ceil(DESCRIBE_SERVICES_BATCH) as u64
    );
    assert_eq!(stats.total(), (n.div_ceil(100) + n.div_ceil(10)) as u64);
    assert_eq!(stats.throttled, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_at_a_low_rate_is_absorbed_by_sdk_retries() {
    let sandbox = sb::start(SandboxOptions {
        scale: Some(SCALE),
        rate: Some(20.0),
        burst: 10,
        ..SandboxOptions::default()
    })
    .await;
    let ecs = console_ecs(&sandbox).await;
    let cluster = big_cluster(&ecs).await;

    sandbox.reset_stats();
    let loaded = load_services(&ecs, &cluster).await.unwrap();
    let stats = sandbox.stats();
    assert_complete(&loaded);
    let n = loaded.listed.len();
    eprintln!(
        "cluster {cluster}: {n} services, {:?}, throttled {}",
        stats.requests, stats.throttled
    );
    assert!(stats.throttled > 0, "the token bucket never throttled");
    // Every request beyond the minimum was a throttled attempt that the SDK retried.
    assert_eq!(
        stats.total(),
        (n.div_ceil(100) + n.div_ceil(10)) as u64 + stats.throttled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_of_a_big_cluster_are_listed_and_described_by_the_hundred() {
    let sandbox = sb::start(SandboxOptions {
        scale: Some(SCALE),
        // A still virtual clock: the task set must not change between listing and describing.
        speed: 1e-6,
        ..SandboxOptions::default()
    })
    .await;
    let ecs = console_ecs(&sandbox).await;
    let cluster = big_cluster(&ecs).await;

    sandbox.reset_stats();
    let arns = list_task_arns(&ecs, &cluster, None, TaskListing::Running)
        .await
        .unwrap();
    let n = arns.len();
    assert!(n > DESCRIBE_TASKS_BATCH, "only {n} tasks");
    let tasks = describe_tasks(&ecs, &cluster, &arns).await.unwrap();
    let stats = sandbox.stats();
    assert_eq!(tasks.len(), n);
    assert!(tasks.iter().all(|t| !t.raw_json.is_empty()));
    assert_eq!(stats.count("ecs:ListTasks"), n.div_ceil(100) as u64);
    assert_eq!(
        stats.count("ecs:DescribeTasks"),
        n.div_ceil(DESCRIBE_TASKS_BATCH) as u64
    );
}
