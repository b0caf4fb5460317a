//! ECS reads: tasks. ListTasks pages of 100, DescribeTasks up to 100 tasks per call. Each
//! described task also carries its own slice of the response body as pretty JSON (see
//! [`super::raw`]) for the task detail's raw view.

use aws_sdk_ecs::types::{self as sdk, DesiredStatus, ManagedAgentName};
use aws_smithy_types::DateTime;

use super::raw::{CaptureBody, tasks_by_arn};
use super::{AwsError, ErrorKind};
use crate::domain::{Container, Eni, NetworkBinding, Task, family_revision};

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

/// Whether `task` names a task completely (an ARN, or a whole id: 32 hex digits, or the
/// older 36-character UUID form) rather than the first characters of an id.
pub fn is_full_task_ref(task: &str) -> bool {
    task.starts_with("arn:") || task.len() >= 32
}

/// A task named by its ARN, its id, or the first characters of its id (berth shows 8). A
/// prefix is looked up among the cluster's running and recently stopped tasks (two
/// listings); none or more than one match is an error that says so.
pub async fn expand_task_ref(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    task: &str,
) -> Result<String, AwsError> {
    if is_full_task_ref(task) {
        return Ok(task.to_string());
    }
    let mut arns = list_task_arns(ecs, cluster, None, TaskListing::Running).await?;
    arns.extend(list_task_arns(ecs, cluster, None, TaskListing::Stopped).await?);
    arns.sort();
    arns.dedup();
    match_task_prefix(&arns, cluster, task)
}

/// The one ARN in `arns` whose id starts with `prefix` (any case).
pub fn match_task_prefix(arns: &[String], cluster: &str, prefix: &str) -> Result<String, AwsError> {
    let want = prefix.to_ascii_lowercase();
    let hits: Vec<&String> = arns
        .iter()
        .filter(|arn| {
            arn.rsplit('/')
                .next()
                .is_some_and(|id| !want.is_empty() && id.to_ascii_lowercase().starts_with(&want))
        })
        .collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(AwsError::new(
            ErrorKind::NotFound,
            "ecs:ListTasks",
            format!(
                "no running or recently stopped task in cluster {cluster} has an id starting with {prefix}"
            ),
        )),
        many => {
            let ids: Vec<&str> = many
                .iter()
                .take(5)
                .filter_map(|arn| arn.rsplit('/').next())
                .collect();
            Err(AwsError::new(
                ErrorKind::InvalidRequest,
                "ecs:ListTasks",
                format!(
                    "{} tasks in cluster {cluster} have ids starting with {prefix} ({}{}); type more of the id",
                    many.len(),
                    ids.join(", "),
                    if many.len() > 5 { ", ..." } else { "" }
                ),
            ))
        }
    }
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
        container_instance: t.container_instance_arn().map(str::to_string),
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
        // DescribeTasks names the container instance, not the EC2 instance: resolving it takes
        // DescribeContainerInstances, which nothing here calls yet.
        ec2_instance_id: None,
        network_bindings: t
            .containers()
            .iter()
            .flat_map(|c| {
                c.network_bindings().iter().filter_map(|b| {
                    Some(NetworkBinding {
                        container_name: c.name()?.to_string(),
                        container_port: b.container_port()?,
                        host_port: b.host_port(),
                    })
                })
            })
            .collect(),
        targets: Vec::new(),
        usage: None,
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

#[cfg(test)]
mod prefix_tests {
    use super::*;

    fn arns() -> Vec<String> {
        [
            "arn:aws:ecs:us-east-1:123456789012:task/prod/8579e95df349af17fa2d7b34bef16e0d",
            "arn:aws:ecs:us-east-1:123456789012:task/prod/8579aaaaf349af17fa2d7b34bef16e0d",
            "arn:aws:ecs:us-east-1:123456789012:task/prod/d5e218f2aaaaaaaaaaaaaaaaaaaaaaaa",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn a_unique_prefix_names_one_task_in_any_case() {
        let hit = match_task_prefix(&arns(), "prod", "D5E218").unwrap_or_else(|e| panic!("{e}"));
        assert!(hit.ends_with("/d5e218f2aaaaaaaaaaaaaaaaaaaaaaaa"));
        let hit = match_task_prefix(&arns(), "prod", "8579e9").unwrap_or_else(|e| panic!("{e}"));
        assert!(hit.ends_with("/8579e95df349af17fa2d7b34bef16e0d"));
    }

    #[test]
    fn ambiguous_and_unknown_prefixes_say_so() {
        let e = match_task_prefix(&arns(), "prod", "8579")
            .err()
            .unwrap_or_else(|| panic!("accepted an ambiguous prefix"));
        assert_eq!(e.kind, ErrorKind::InvalidRequest);
        assert!(e.message.contains("2 tasks"), "{}", e.message);
        assert!(e.message.contains("8579e95df349"), "{}", e.message);
        let e = match_task_prefix(&arns(), "prod", "ffff")
            .err()
            .unwrap_or_else(|| panic!("accepted an unknown prefix"));
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(match_task_prefix(&arns(), "prod", "").is_err());
    }

    #[test]
    fn whole_ids_and_arns_are_used_as_they_are() {
        assert!(is_full_task_ref("8579e95df349af17fa2d7b34bef16e0d"));
        assert!(is_full_task_ref("arn:aws:ecs:us-east-1:1:task/prod/x"));
        assert!(is_full_task_ref("0f5a3c4e-1d2b-4c3a-9e8f-7a6b5c4d3e2f"));
        assert!(!is_full_task_ref("8579e95d"));
    }
}
