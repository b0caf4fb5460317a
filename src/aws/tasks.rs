//! ECS reads: tasks. ListTasks pages of 100, DescribeTasks up to 100 tasks per call. Each
//! described task also carries its own slice of the response body as pretty JSON (see
//! [`super::raw`]) for the task detail's raw view.

use aws_sdk_ecs::types::{self as sdk, DesiredStatus, ManagedAgentName};
use aws_smithy_types::DateTime;

use super::AwsError;
use super::raw::{CaptureBody, tasks_by_arn};
use crate::domain::{Container, Eni, Task, family_revision};

/// DescribeTasks accepts at most this many tasks per call.
pub const DESCRIBE_TASKS_BATCH: usize = 100;

/// ListTasks page size (the API maximum).
const LIST_TASKS_PAGE: i32 = 100;

/// Which tasks ListTasks returns: `desiredStatus` RUNNING (running and on their way there) or
/// STOPPED (stopped or stopping; ECS keeps them listable for about an hour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskListing {
    Running,
    Stopped,
}

impl TaskListing {
    fn desired_status(self) -> DesiredStatus {
        match self {
            TaskListing::Running => DesiredStatus::Running,
            TaskListing::Stopped => DesiredStatus::Stopped,
        }
    }
}

/// Every task ARN of `cluster` (or of one `service` in it) with the given desired status,
/// following `nextToken` to the end.
pub async fn list_task_arns(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: Option<&str>,
    listing: TaskListing,
) -> Result<Vec<String>, AwsError> {
    let mut arns = Vec::new();
    let mut pages = ecs
        .list_tasks()
        .cluster(cluster)
        .set_service_name(service.map(str::to_string))
        .desired_status(listing.desired_status())
        .max_results(LIST_TASKS_PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ecs:ListTasks", &e))?;
        arns.extend(page.task_arns().iter().cloned());
    }
    Ok(arns)
}

/// Describe `arns` (ARNs or ids) of `cluster`, [`DESCRIBE_TASKS_BATCH`] per call, in the order
/// the API returns them. Tasks that no longer exist are left out.
pub async fn describe_tasks(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    arns: &[String],
) -> Result<Vec<Task>, AwsError> {
    let mut tasks = Vec::with_capacity(arns.len());
    for batch in arns.chunks(DESCRIBE_TASKS_BATCH) {
        let capture = CaptureBody::new();
        let out = ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(batch.to_vec()))
            .customize()
            .interceptor(capture.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeTasks", &e))?;
        let mut raw = capture.take().map(|b| tasks_by_arn(&b)).unwrap_or_default();
        tasks.extend(out.tasks().iter().map(|t| {
            let mut task = task_from_sdk(t);
            task.raw_json = raw.remove(&task.arn).unwrap_or_default();
            task
        }));
    }
    Ok(tasks)
}

fn secs(t: Option<&DateTime>) -> Option<i64> {
    t.map(DateTime::secs)
}

pub(crate) fn task_from_sdk(t: &sdk::Task) -> Task {
    let arn = t.task_arn().unwrap_or_default().to_string();
    Task {
        id: Task::id_from_arn(&arn).to_string(),
        arn,
        cluster_arn: t.cluster_arn().unwrap_or_default().to_string(),
        group: t.group().map(str::to_string),
        last_status: t.last_status().unwrap_or_default().to_string(),
        desired_status: t.desired_status().unwrap_or_default().to_string(),
        health: t.health_status().map(|h| h.as_str().to_string()),
        task_definition: family_revision(t.task_definition_arn().unwrap_or_default()),
        launch_type: t.launch_type().map(|l| l.as_str().to_string()),
        capacity_provider: t.capacity_provider_name().map(str::to_string),
        availability_zone: t.availability_zone().map(str::to_string),
        platform_version: t.platform_version().map(str::to_string),
        cpu: t.cpu().map(str::to_string),
        memory: t.memory().map(str::to_string),
        exec_enabled: t.enable_execute_command(),
        stop_code: t.stop_code().map(|c| c.as_str().to_string()),
        stopped_reason: t.stopped_reason().map(str::to_string),
        started_by: t.started_by().map(str::to_string),
        created_at: secs(t.created_at()),
        pull_started_at: secs(t.pull_started_at()),
        pull_stopped_at: secs(t.pull_stopped_at()),
        started_at: secs(t.started_at()),
        stopping_at: secs(t.stopping_at()),
        stopped_at: secs(t.stopped_at()),
        containers: t.containers().iter().map(container_from_sdk).collect(),
        enis: t
            .attachments()
            .iter()
            .filter(|a| a.r#type() == Some("ElasticNetworkInterface"))
            .map(eni_from_sdk)
            .collect(),
        raw_json: String::new(),
    }
}

fn container_from_sdk(c: &sdk::Container) -> Container {
    let exec_agent_status = c
        .managed_agents()
        .iter()
        .find(|a| a.name() == Some(&ManagedAgentName::ExecuteCommandAgent))
        .and_then(|a| a.last_status().map(str::to_string));
    Container {
        name: c.name().unwrap_or_default().to_string(),
        image: c.image().map(str::to_string),
        last_status: c.last_status().map(str::to_string),
        exit_code: c.exit_code(),
        reason: c.reason().map(str::to_string),
        health: c.health_status().map(|h| h.as_str().to_string()),
        runtime_id: c.runtime_id().map(str::to_string),
        exec_agent_status,
    }
}

fn eni_from_sdk(a: &sdk::Attachment) -> Eni {
    let detail = |name: &str| {
        a.details()
            .iter()
            .find(|d| d.name() == Some(name))
            .and_then(|d| d.value().map(str::to_string))
    };
    Eni {
        attachment_id: a.id().unwrap_or_default().to_string(),
        status: a.status().map(str::to_string),
        eni_id: detail("networkInterfaceId"),
        private_ipv4: detail("privateIPv4Address"),
        ipv6: detail("ipv6Address"),
        private_dns: detail("privateDnsName"),
        subnet_id: detail("subnetId"),
        mac: detail("macAddress"),
    }
}
