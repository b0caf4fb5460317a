//! ECS reads: a cluster's EC2 container instances (ListContainerInstances, 100 a page, then
//! DescribeContainerInstances, 100 a call).

use aws_sdk_ecs::types as sdk;

use super::AwsError;
use crate::domain::ContainerInstance;

/// DescribeContainerInstances accepts at most this many per call.
pub const DESCRIBE_BATCH: usize = 100;

/// Every container instance of `cluster` (all statuses), described.
pub async fn container_instances(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
) -> Result<Vec<ContainerInstance>, AwsError> {
    let mut arns = Vec::new();
    let mut pages = ecs
        .list_container_instances()
        .cluster(cluster)
        .max_results(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ecs:ListContainerInstances", &e))?;
        arns.extend(page.container_instance_arns().iter().cloned());
    }
    let mut out = Vec::with_capacity(arns.len());
    for batch in arns.chunks(DESCRIBE_BATCH) {
        let page = ecs
            .describe_container_instances()
            .cluster(cluster)
            .set_container_instances(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeContainerInstances", &e))?;
        out.extend(page.container_instances().iter().map(from_sdk));
    }
    Ok(out)
}

fn resource(list: &[sdk::Resource], name: &str) -> i64 {
    list.iter()
        .find(|r| r.name() == Some(name))
        .map(|r| {
            if r.integer_value() != 0 {
                i64::from(r.integer_value())
            } else {
                r.long_value()
            }
        })
        .unwrap_or(0)
}

fn from_sdk(c: &sdk::ContainerInstance) -> ContainerInstance {
    let attribute = |name: &str| {
        c.attributes()
            .iter()
            .find(|a| a.name() == name)
            .and_then(|a| a.value().map(str::to_string))
    };
    ContainerInstance {
        arn: c.container_instance_arn().unwrap_or_default().to_string(),
        ec2_instance_id: c.ec2_instance_id().unwrap_or_default().to_string(),
        instance_type: attribute("ecs.instance-type"),
        availability_zone: attribute("ecs.availability-zone"),
        agent_connected: c.agent_connected(),
        agent_version: c
            .version_info()
            .and_then(|v| v.agent_version().map(str::to_string)),
        status: c.status().unwrap_or_default().to_string(),
        running_tasks: c.running_tasks_count(),
        pending_tasks: c.pending_tasks_count(),
        cpu_registered: resource(c.registered_resources(), "CPU"),
        cpu_remaining: resource(c.remaining_resources(), "CPU"),
        memory_registered: resource(c.registered_resources(), "MEMORY"),
        memory_remaining: resource(c.remaining_resources(), "MEMORY"),
        capacity_provider: c.capacity_provider_name().map(str::to_string),
        registered_at: c.registered_at().map(|t| t.secs()),
    }
}
