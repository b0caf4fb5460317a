//! ECS reads: services. ListServices is read one page (100 ARNs) at a time so the effect runner
//! can show rows as pages arrive; DescribeServices takes at most 10 services per call, so a
//! page of 100 costs ten describes. The caller bounds how many of those run at once.

use aws_sdk_ecs::types as sdk;
use aws_smithy_types::DateTime;

use super::AwsError;
use crate::domain::targets::LoadBalancer;
use crate::domain::task_set::{Stability, TaskSetStatus};
use crate::domain::{
    CapacityProviderItem, Deployment, DeploymentConfig, DeploymentController, Service,
    ServiceEvent, TaskSet, family_revision,
};

/// DescribeServices accepts at most this many services per call.
pub const DESCRIBE_SERVICES_BATCH: usize = 10;

/// ListServices page size (the API maximum).
const LIST_SERVICES_PAGE: i32 = 100;

/// Attempts per call (the first try included) under [`read_retry_config`].
pub const READ_MAX_ATTEMPTS: u32 = 8;

/// The retry policy for the console's polling reads: the SDK's standard mode (jittered
/// exponential back-off; ECS throttling codes are classified as throttling errors and cost
/// the client-side retry quota little), with more attempts than the default 3 so a burst of
/// DescribeServices against a small per-account token bucket is absorbed instead of surfacing
/// as an error, and back-off capped at 5 s so a view never stalls for long. Install it on the
/// ECS client's config (`aws_sdk_ecs::config::Builder::retry_config`).
pub fn read_retry_config() -> aws_smithy_types::retry::RetryConfig {
    aws_smithy_types::retry::RetryConfig::standard()
        .with_max_attempts(READ_MAX_ATTEMPTS)
        .with_max_backoff(std::time::Duration::from_secs(5))
}

/// One ListServices page of `cluster`. Returns the service ARNs and the token of the next page
/// (`None` on the last page).
pub async fn list_services_page(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    next_token: Option<String>,
) -> Result<(Vec<String>, Option<String>), AwsError> {
    let out = ecs
        .list_services()
        .cluster(cluster)
        .max_results(LIST_SERVICES_PAGE)
        .set_next_token(next_token)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:ListServices", &e))?;
    // An empty token would make a naive caller loop forever on page one.
    let next = out
        .next_token()
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    Ok((out.service_arns().to_vec(), next))
}

/// Every service ARN of `cluster`, following `nextToken` to the end.
pub async fn list_service_arns(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
) -> Result<Vec<String>, AwsError> {
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let (page, next) = list_services_page(ecs, cluster, token).await?;
        arns.extend(page);
        match next {
            Some(t) => token = Some(t),
            None => return Ok(arns),
        }
    }
}

/// Describe `services` (ARNs or names) of `cluster`. Meant for one batch of at most
/// [`DESCRIBE_SERVICES_BATCH`]; a longer slice is split into several calls rather than sent
/// and rejected. Services the API reports under `failures` (deleted meanwhile, or a name that
/// never existed) come back as names in the second element.
pub async fn describe_services(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    services: &[String],
) -> Result<(Vec<Service>, Vec<String>), AwsError> {
    let mut found = Vec::with_capacity(services.len());
    let mut missing = Vec::new();
    for batch in services.chunks(DESCRIBE_SERVICES_BATCH) {
        let out = ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeServices", &e))?;
        found.extend(out.services().iter().map(service_from_sdk));
        missing.extend(
            out.failures()
                .iter()
                .filter_map(|f| f.arn())
                .map(|arn| last_segment(arn).to_string()),
        );
    }
    Ok((found, missing))
}

fn last_segment(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

pub(crate) fn service_from_sdk(s: &sdk::Service) -> Service {
    let arn = s.service_arn().unwrap_or_default().to_string();
    let name = match s.service_name() {
        Some(n) => n.to_string(),
        None => last_segment(&arn).to_string(),
    };
    let subnets = s
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .map(|v| v.subnets().to_vec())
        .unwrap_or_default();
    Service {
        name,
        arn,
        cluster_arn: s.cluster_arn().unwrap_or_default().to_string(),
        status: s.status().unwrap_or_default().to_string(),
        desired: s.desired_count(),
        running: s.running_count(),
        pending: s.pending_count(),
        task_definition: family_revision(s.task_definition().unwrap_or_default()),
        launch_type: s.launch_type().map(|l| l.as_str().to_string()),
        capacity_providers: capacity_from_sdk(s.capacity_provider_strategy()),
        exec_enabled: s.enable_execute_command(),
        deployment_config: deployment_config_from_sdk(s.deployment_configuration()),
        deployments: s.deployments().iter().map(deployment_from_sdk).collect(),
        events: s.events().iter().map(event_from_sdk).collect(),
        created_at: s.created_at().map(DateTime::secs),
        health_check_grace_period: s.health_check_grace_period_seconds(),
        scheduling_strategy: s.scheduling_strategy().map(|x| x.as_str().to_string()),
        platform_version: s.platform_version().map(str::to_string),
        subnets,
        deployment_controller: s
            .deployment_controller()
            .map(|c| DeploymentController::parse(c.r#type().as_str()))
            .unwrap_or_default(),
        task_sets: s.task_sets().iter().map(task_set_from_sdk).collect(),
        load_balancers: s
            .load_balancers()
            .iter()
            .map(|lb| LoadBalancer {
                target_group_arn: lb.target_group_arn().map(str::to_string),
                container_name: lb.container_name().map(str::to_string),
                container_port: lb.container_port(),
            })
            .collect(),
    }
}

pub(crate) fn task_set_from_sdk(t: &sdk::TaskSet) -> TaskSet {
    TaskSet {
        id: t.id().unwrap_or_default().to_string(),
        arn: t.task_set_arn().unwrap_or_default().to_string(),
        status: TaskSetStatus::parse(t.status().unwrap_or_default()),
        stability: t
            .stability_status()
            .map(|s| Stability::parse(s.as_str()))
            .unwrap_or_default(),
        stability_at: t.stability_status_at().map(DateTime::secs),
        scale: t.scale().map(|s| {
            (
                s.value(),
                s.unit().map(|u| u.as_str().to_string()).unwrap_or_default(),
            )
        }),
        computed_desired: t.computed_desired_count(),
        running: t.running_count(),
        pending: t.pending_count(),
        task_definition: family_revision(t.task_definition().unwrap_or_default()),
        external_id: t.external_id().map(str::to_string),
        launch_type: t.launch_type().map(|l| l.as_str().to_string()),
        created_at: t.created_at().map(DateTime::secs),
        updated_at: t.updated_at().map(DateTime::secs),
    }
}

/// DescribeTaskSets of a service (all its task sets): what a CODE_DEPLOY or EXTERNAL
/// controller runs. DescribeServices already carries them; this reads them on their own.
pub async fn describe_task_sets(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
) -> Result<Vec<TaskSet>, AwsError> {
    let out = ecs
        .describe_task_sets()
        .cluster(cluster)
        .service(service)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:DescribeTaskSets", &e))?;
    Ok(out.task_sets().iter().map(task_set_from_sdk).collect())
}

fn capacity_from_sdk(items: &[sdk::CapacityProviderStrategyItem]) -> Vec<CapacityProviderItem> {
    items
        .iter()
        .map(|c| CapacityProviderItem {
            provider: c.capacity_provider().to_string(),
            weight: c.weight(),
            base: c.base(),
        })
        .collect()
}

fn deployment_config_from_sdk(c: Option<&sdk::DeploymentConfiguration>) -> DeploymentConfig {
    let Some(c) = c else {
        return DeploymentConfig::default();
    };
    let breaker = c.deployment_circuit_breaker();
    DeploymentConfig {
        minimum_healthy_percent: c.minimum_healthy_percent(),
        maximum_percent: c.maximum_percent(),
        circuit_breaker_enabled: breaker.is_some_and(|b| b.enable()),
        circuit_breaker_rollback: breaker.is_some_and(|b| b.rollback()),
    }
}

fn deployment_from_sdk(d: &sdk::Deployment) -> Deployment {
    Deployment {
        id: d.id().unwrap_or_default().to_string(),
        status: d.status().unwrap_or_default().to_string(),
        rollout_state: d.rollout_state().map(|r| r.as_str().to_string()),
        rollout_state_reason: d.rollout_state_reason().map(str::to_string),
        desired: d.desired_count(),
        pending: d.pending_count(),
        running: d.running_count(),
        failed_tasks: d.failed_tasks(),
        task_definition: family_revision(d.task_definition().unwrap_or_default()),
        launch_type: d.launch_type().map(|l| l.as_str().to_string()),
        created_at: d.created_at().map(DateTime::secs),
        updated_at: d.updated_at().map(DateTime::secs),
    }
}

fn event_from_sdk(e: &sdk::ServiceEvent) -> ServiceEvent {
    ServiceEvent {
        id: e.id().unwrap_or_default().to_string(),
        created_at: e.created_at().map(DateTime::secs),
        message: e.message().unwrap_or_default().to_string(),
    }
}
