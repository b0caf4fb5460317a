//! ECS reads: task definitions, for where a container logs and whether ECS Exec can work.

use aws_sdk_ecs::types as sdk;

use super::AwsError;
use crate::domain::{ContainerDefinition, LogConfiguration, TaskDefinition, family_revision};

/// Describe one task definition (`family:revision`, a full ARN, or a family for its latest
/// ACTIVE revision).
pub async fn describe_task_definition(
    ecs: &aws_sdk_ecs::Client,
    task_definition: &str,
) -> Result<TaskDefinition, AwsError> {
    let out = ecs
        .describe_task_definition()
        .task_definition(task_definition)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:DescribeTaskDefinition", &e))?;
    match out.task_definition() {
        Some(td) => Ok(task_definition_from_sdk(td)),
        None => Err(AwsError::new(
            super::ErrorKind::NotFound,
            "ecs:DescribeTaskDefinition",
            format!("no task definition in the response for {task_definition}"),
        )),
    }
}

fn task_definition_from_sdk(td: &sdk::TaskDefinition) -> TaskDefinition {
    let arn = td.task_definition_arn().unwrap_or_default().to_string();
    let family_revision = match td.family() {
        Some(family) if td.revision() > 0 => format!("{family}:{}", td.revision()),
        _ => family_revision(&arn),
    };
    TaskDefinition {
        family_revision,
        arn,
        network_mode: td.network_mode().map(|m| m.as_str().to_string()),
        cpu: td.cpu().map(str::to_string),
        memory: td.memory().map(str::to_string),
        task_role_arn: td.task_role_arn().map(str::to_string),
        execution_role_arn: td.execution_role_arn().map(str::to_string),
        containers: td
            .container_definitions()
            .iter()
            .map(container_from_sdk)
            .collect(),
    }
}

fn container_from_sdk(c: &sdk::ContainerDefinition) -> ContainerDefinition {
    ContainerDefinition {
        name: c.name().unwrap_or_default().to_string(),
        image: c.image().unwrap_or_default().to_string(),
        // ECS treats a container without `essential` as essential.
        essential: c.essential().unwrap_or(true),
        readonly_root_filesystem: c.readonly_root_filesystem().unwrap_or(false),
        init_process_enabled: c
            .linux_parameters()
            .and_then(|p| p.init_process_enabled())
            .unwrap_or(false),
        ports: c
            .port_mappings()
            .iter()
            .filter_map(|m| m.container_port().and_then(|p| u16::try_from(p).ok()))
            .collect(),
        log: c.log_configuration().map(|l| LogConfiguration {
            driver: l.log_driver().as_str().to_string(),
            options: l
                .options()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        }),
    }
}

/// DescribeTaskDefinition's answer as ECS sent it (the `taskDefinition` object and its
/// siblings), for comparing two revisions field by field without our model in between.
pub async fn describe_task_definition_json(
    ecs: &aws_sdk_ecs::Client,
    task_definition: &str,
) -> Result<serde_json::Value, AwsError> {
    let op = "ecs:DescribeTaskDefinition";
    let capture = super::raw::CaptureBody::new();
    ecs.describe_task_definition()
        .task_definition(task_definition)
        .customize()
        .interceptor(capture.clone())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(op, &e))?;
    let body = capture.take().ok_or_else(|| {
        AwsError::new(
            super::ErrorKind::Other,
            op,
            format!("no response body kept for {task_definition}"),
        )
    })?;
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        AwsError::new(
            super::ErrorKind::Other,
            op,
            format!("the answer for {task_definition} is not JSON: {e}"),
        )
    })?;
    if value.get("taskDefinition").is_none() {
        return Err(AwsError::new(
            super::ErrorKind::NotFound,
            op,
            format!("no task definition in the response for {task_definition}"),
        ));
    }
    Ok(value)
}

/// Both revisions of a diff, read at the same time.
pub async fn describe_pair(
    ecs: &aws_sdk_ecs::Client,
    old: &str,
    new: &str,
) -> Result<(serde_json::Value, serde_json::Value), AwsError> {
    tokio::try_join!(
        describe_task_definition_json(ecs, old),
        describe_task_definition_json(ecs, new)
    )
}
