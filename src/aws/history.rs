//! A service's deployment history: ListServiceDeployments (all pages of a window, 100 a page),
//! DescribeServiceDeployments (20 ARNs a call), then DescribeServiceRevisions (20 ARNs a call)
//! for the task definitions of the revisions named, since a service deployment names its
//! revisions only by ARN. Revisions are immutable, so the caller's cache means a refresh only
//! describes revisions it has not seen.
//!
//! These calls are optional extras of the deployments view: an endpoint that does not serve
//! them (moto answers HTTP 500 with an HTML page, which the SDK would retry as transient up to
//! [`super::services::READ_MAX_ATTEMPTS`] times with back-off) must not hold the view for
//! half a minute, so they are sent with at most [`HISTORY_MAX_ATTEMPTS`] attempts.

use std::collections::HashMap;

use aws_sdk_ecs::types as sdk;
use aws_smithy_types::DateTime;

use super::AwsError;
use crate::domain::family_revision;
use crate::domain::history::{
    CircuitBreakerState, DeploymentStatus, HistoryDeployment, HookDetail, LifecycleStage,
    RevisionRef, RollbackInfo,
};

/// DescribeServiceDeployments and DescribeServiceRevisions take at most 20 ARNs.
pub const DESCRIBE_BATCH: usize = 20;
/// ListServiceDeployments page size (the API maximum; the default is 20).
pub const LIST_PAGE: i32 = 100;
/// Most pages read for one window (a service deploying every few minutes all day).
pub const MAX_PAGES: usize = 5;
/// Attempts per history call (the first included).
pub const HISTORY_MAX_ATTEMPTS: u32 = 2;

fn few_retries() -> aws_sdk_ecs::config::Builder {
    aws_sdk_ecs::config::Builder::default().retry_config(
        aws_smithy_types::retry::RetryConfig::standard()
            .with_max_attempts(HISTORY_MAX_ATTEMPTS)
            .with_max_backoff(std::time::Duration::from_secs(1)),
    )
}

/// What one history load cost, for tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls {
    pub list_pages: usize,
    pub describes: usize,
    pub revision_describes: usize,
}

/// Every service deployment of `service` created since `since` (unix seconds), newest
/// first, with task definitions filled in from `known` (revision ARN → `family:revision`) or
/// described. Returns the revisions it learned so the caller can remember them.
pub async fn load(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    since: i64,
    known: &HashMap<String, String>,
) -> Result<(Vec<HistoryDeployment>, HashMap<String, String>, Calls), AwsError> {
    let mut calls = Calls::default();
    let mut arns = Vec::new();
    let mut token = None;
    let window = sdk::CreatedAt::builder()
        .after(DateTime::from_secs(since))
        .build();
    loop {
        let out = ecs
            .list_service_deployments()
            .cluster(cluster)
            .service(service)
            .created_at(window.clone())
            .max_results(LIST_PAGE)
            .set_next_token(token)
            .customize()
            .config_override(few_retries())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:ListServiceDeployments", &e))?;
        calls.list_pages += 1;
        arns.extend(
            out.service_deployments()
                .iter()
                .filter_map(|b| b.service_deployment_arn().map(str::to_string)),
        );
        token = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() || calls.list_pages >= MAX_PAGES {
            break;
        }
    }
    let mut found = Vec::with_capacity(arns.len());
    for batch in arns.chunks(DESCRIBE_BATCH) {
        let out = ecs
            .describe_service_deployments()
            .set_service_deployment_arns(Some(batch.to_vec()))
            .customize()
            .config_override(few_retries())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeServiceDeployments", &e))?;
        calls.describes += 1;
        found.extend(out.service_deployments().iter().map(deployment_from_sdk));
    }
    // Task definitions of the revisions, described once each.
    let mut learned = HashMap::new();
    let mut unknown: Vec<String> = Vec::new();
    for d in &found {
        for r in revisions(d) {
            if !known.contains_key(&r.arn) && !unknown.contains(&r.arn) && !r.arn.is_empty() {
                unknown.push(r.arn.clone());
            }
        }
    }
    for batch in unknown.chunks(DESCRIBE_BATCH) {
        let described = ecs
            .describe_service_revisions()
            .set_service_revision_arns(Some(batch.to_vec()))
            .customize()
            .config_override(few_retries())
            .send()
            .await;
        calls.revision_describes += 1;
        // Without revisions the history is still worth showing (by revision id).
        let Ok(out) = described else { break };
        for r in out.service_revisions() {
            if let (Some(arn), Some(td)) = (r.service_revision_arn(), r.task_definition()) {
                learned.insert(arn.to_string(), family_revision(td));
            }
        }
    }
    let lookup = |arn: &str| known.get(arn).or_else(|| learned.get(arn)).cloned();
    for d in &mut found {
        for r in d.source.iter_mut().chain(d.target.as_mut()) {
            r.task_definition = lookup(&r.arn);
        }
        if let Some(to) = d.rollback.as_mut().and_then(|r| r.to.as_mut()) {
            to.task_definition = lookup(&to.arn);
        }
    }
    // newest first; the same second keeps the API's order (newest first too)
    found.sort_by_key(|d| std::cmp::Reverse(d.start()));
    Ok((found, learned, calls))
}

fn revisions(d: &HistoryDeployment) -> impl Iterator<Item = &RevisionRef> {
    d.source
        .iter()
        .chain(d.target.as_ref())
        .chain(d.rollback.as_ref().and_then(|r| r.to.as_ref()))
}

fn secs(t: Option<&DateTime>) -> Option<i64> {
    t.map(DateTime::secs)
}

fn revision_from_sdk(r: &sdk::ServiceRevisionSummary) -> RevisionRef {
    RevisionRef {
        arn: r.arn().unwrap_or_default().to_string(),
        task_definition: None,
        requested: r.requested_task_count(),
        running: r.running_task_count(),
        pending: r.pending_task_count(),
        test_traffic_weight: r.requested_test_traffic_weight(),
        production_traffic_weight: r.requested_production_traffic_weight(),
    }
}

fn deployment_from_sdk(d: &sdk::ServiceDeployment) -> HistoryDeployment {
    let config = d.deployment_configuration();
    HistoryDeployment {
        arn: d.service_deployment_arn().unwrap_or_default().to_string(),
        status: DeploymentStatus::parse(d.status().map(|s| s.as_str()).unwrap_or("")),
        status_reason: d.status_reason().map(str::to_string),
        created_at: secs(d.created_at()),
        started_at: secs(d.started_at()),
        finished_at: secs(d.finished_at()),
        stopped_at: secs(d.stopped_at()),
        updated_at: secs(d.updated_at()),
        source: d
            .source_service_revisions()
            .iter()
            .map(revision_from_sdk)
            .collect(),
        target: d.target_service_revision().map(revision_from_sdk),
        circuit_breaker: d.deployment_circuit_breaker().map(|c| CircuitBreakerState {
            status: c
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            failures: c.failure_count(),
            threshold: c.threshold(),
        }),
        triggered_alarms: d
            .alarms()
            .map(|a| a.triggered_alarm_names().to_vec())
            .unwrap_or_default(),
        rollback: d.rollback().map(|r| RollbackInfo {
            reason: r.reason().map(str::to_string),
            started_at: secs(r.started_at()),
            to: r.service_revision_arn().map(|arn| RevisionRef {
                arn: arn.to_string(),
                ..RevisionRef::default()
            }),
        }),
        strategy: config
            .and_then(|c| c.strategy())
            .map(|s| s.as_str().to_string()),
        bake_time_minutes: config.and_then(|c| c.bake_time_in_minutes()),
        lifecycle_stage: d
            .lifecycle_stage()
            .map(|s| LifecycleStage::parse(s.as_str())),
        hooks: d
            .lifecycle_hook_details()
            .iter()
            .map(|h| HookDetail {
                id: h.hook_id().unwrap_or_default().to_string(),
                target_arn: h.target_arn().unwrap_or_default().to_string(),
                status: h
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                expires_at: secs(h.expires_at()),
            })
            .collect(),
    }
}

/// [`load`] under one permit, with the revisions learned remembered in `cache`.
pub async fn load_cached(
    ecs: &aws_sdk_ecs::Client,
    permits: &tokio::sync::Semaphore,
    cache: &std::sync::Mutex<HashMap<String, String>>,
    cluster: &str,
    service: &str,
    since: i64,
) -> Result<Vec<HistoryDeployment>, AwsError> {
    let _permit = permits.acquire().await;
    let known = cache.lock().map(|c| c.clone()).unwrap_or_default();
    let (found, learned, calls) = load(ecs, cluster, service, since, &known).await?;
    tracing::debug!("deployment history of {service}: {calls:?}");
    if let Ok(mut c) = cache.lock() {
        c.extend(learned);
    }
    Ok(found)
}

/// Why the history could not be read, in words for the pane ("deployment history
/// unavailable: …").
pub fn unavailable_reason(e: &AwsError) -> String {
    match e.kind {
        super::ErrorKind::AccessDenied => format!("access denied to {}", e.operation),
        _ if e.code.as_deref() == Some("UnknownOperationException") => {
            format!("{} is not served by this endpoint", e.operation)
        }
        // An HTML error page (moto, a proxy) rather than an AWS error: the endpoint most
        // likely does not implement the operation.
        _ if e.code.is_none() && e.message.contains("response error") => format!(
            "{} answered with something that is not an AWS response (not implemented by this endpoint?)",
            e.operation
        ),
        _ => e.plain(),
    }
}
