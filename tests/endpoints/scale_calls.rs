//! API calls per operation for loading one cluster of a 2,000-service fleet, counted by the
//! sandbox, through the loaders the console's effect runner calls (`berth::aws::loaders`) and
//! the clients it builds (`berth::aws::connect`: its retry policy and timeouts). ListServices
//! one page (100) at a time, each page split into DescribeServices batches of 10 that run with
//! bounded concurrency while the next page is listed. No wall-clock assertions: only counts.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use berth::aws::loaders::{self, Progress};
use berth::aws::services::DESCRIBE_SERVICES_BATCH;
use berth::aws::tasks::DESCRIBE_TASKS_BATCH;
use berth::aws::{AwsError, AwsTarget, Clients};
use berth::domain::{Service, Task};
use berth::runtime::DEFAULT_CONCURRENCY;
use berth::sandbox::{self, SandboxHandle, SandboxOptions};
use tokio::sync::Semaphore;

use crate::sandbox_support as sb;

const SCALE: usize = 2000;

struct Loaded {
    /// What ListServices counted (the loader's `Listed`).
    listed: usize,
    services: Vec<Service>,
}

/// Load `cluster`'s services exactly as the console does.
async fn load_services(clients: &Clients, cluster: &str) -> Result<Loaded, AwsError> {
    let permits = Arc::new(Semaphore::new(DEFAULT_CONCURRENCY));
    let seen: Arc<Mutex<(usize, Vec<Service>)>> = Arc::default();
    let sink = seen.clone();
    let progress = move |p: Progress<Service>| {
        let mut seen = sink.lock().unwrap();
        match p {
            Progress::Listed(n) => seen.0 = n,
            Progress::Batch(batch) => seen.1.extend(batch),
        }
    };
    loaders::services(clients, &permits, cluster, &progress).await?;
    let (listed, services) = std::mem::take(&mut *seen.lock().unwrap());
    Ok(Loaded { listed, services })
}

/// The clients as the console builds them.
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

/// Every service of the cluster (as listed independently, before counting) described once.
fn assert_complete(loaded: &Loaded, all: &[String]) {
    assert_eq!(loaded.listed, all.len());
    assert_eq!(
        loaded.services.len(),
        all.len(),
        "described more than once?"
    );
    let described: BTreeSet<&str> = loaded.services.iter().map(|s| s.arn.as_str()).collect();
    let listed: BTreeSet<&str> = all.iter().map(String::as_str).collect();
    assert_eq!(described, listed, "every listed service described once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loading_one_cluster_costs_the_minimum_calls() {
    let sandbox = sb::start(SandboxOptions {
        scale: Some(SCALE),
        ..SandboxOptions::default()
    })
    .await;
    let clients = console_clients(&sandbox).await;
    let cluster = big_cluster(&clients.ecs).await;
    let all = sb::all_service_arns(&clients.ecs, &cluster, Some(100)).await;

    sandbox.reset_stats();
    let loaded = load_services(&clients, &cluster).await.unwrap();
    let stats = sandbox.stats();
    assert_complete(&loaded, &all);
    let n = loaded.listed;
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
    let clients = console_clients(&sandbox).await;
    let cluster = big_cluster(&clients.ecs).await;
    let all = sb::all_service_arns(&clients.ecs, &cluster, Some(100)).await;

    sandbox.reset_stats();
    let loaded = load_services(&clients, &cluster).await.unwrap();
    let stats = sandbox.stats();
    assert_complete(&loaded, &all);
    let n = loaded.listed;
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
    let clients = console_clients(&sandbox).await;
    let cluster = big_cluster(&clients.ecs).await;

    sandbox.reset_stats();
    let permits = Semaphore::new(DEFAULT_CONCURRENCY);
    let seen: Mutex<(usize, Vec<Task>)> = Mutex::default();
    let progress = |p: Progress<Task>| {
        let mut seen = seen.lock().unwrap();
        match p {
            Progress::Listed(n) => seen.0 = n,
            Progress::Batch(batch) => seen.1.extend(batch),
        }
    };
    loaders::tasks(&clients, &permits, &cluster, None, false, &progress)
        .await
        .unwrap();
    let (n, tasks) = seen.into_inner().unwrap();
    assert!(n > DESCRIBE_TASKS_BATCH, "only {n} tasks");
    let stats = sandbox.stats();
    assert_eq!(tasks.len(), n);
    assert!(tasks.iter().all(|t| !t.raw_json.is_empty()));
    assert_eq!(stats.count("ecs:ListTasks"), n.div_ceil(100) as u64);
    assert_eq!(
        stats.count("ecs:DescribeTasks"),
        n.div_ceil(DESCRIBE_TASKS_BATCH) as u64
    );
}
