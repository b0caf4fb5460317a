//! ECS reads: clusters. Batch sizes follow the API limits (ListClusters pages of 100,
//! DescribeClusters up to 100 names per call).

use aws_sdk_ecs::types::{ClusterField, ClusterSettingName};

use super::AwsError;
use crate::domain::Cluster;

/// DescribeClusters accepts at most this many clusters per call.
pub const DESCRIBE_CLUSTERS_BATCH: usize = 100;

/// Every cluster ARN in the account and region, following `nextToken` to the end.
pub async fn list_cluster_arns(client: &aws_sdk_ecs::Client) -> Result<Vec<String>, AwsError> {
    let mut arns = Vec::new();
    let mut pages = client
        .list_clusters()
        .max_results(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ecs:ListClusters", &e))?;
        arns.extend(page.cluster_arns().iter().cloned());
    }
    Ok(arns)
}

/// Describe up to [`DESCRIBE_CLUSTERS_BATCH`] clusters per call, with statistics and settings.
/// Clusters reported in `failures` (for example a name that does not exist) are left out.
pub async fn describe_clusters(
    client: &aws_sdk_ecs::Client,
    arns: &[String],
) -> Result<Vec<Cluster>, AwsError> {
    let mut clusters = Vec::with_capacity(arns.len());
    for batch in arns.chunks(DESCRIBE_CLUSTERS_BATCH) {
        let out = client
            .describe_clusters()
            .set_clusters(Some(batch.to_vec()))
            .include(ClusterField::Statistics)
            .include(ClusterField::Settings)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeClusters", &e))?;
        clusters.extend(out.clusters().iter().map(cluster_from_sdk));
    }
    Ok(clusters)
}

fn cluster_from_sdk(c: &aws_sdk_ecs::types::Cluster) -> Cluster {
    let arn = c.cluster_arn().unwrap_or_default().to_string();
    let name = match c.cluster_name() {
        Some(n) => n.to_string(),
        None => Cluster::name_from_arn(&arn).to_string(),
    };
    let container_insights = c
        .settings()
        .iter()
        .find(|s| s.name() == Some(&ClusterSettingName::ContainerInsights))
        .and_then(|s| s.value().map(str::to_string));
    Cluster {
        arn,
        name,
        status: c.status().unwrap_or_default().to_string(),
        active_services: c.active_services_count(),
        running_tasks: c.running_tasks_count(),
        pending_tasks: c.pending_tasks_count(),
        registered_instances: c.registered_container_instances_count(),
        capacity_providers: c.capacity_providers().to_vec(),
        container_insights,
    }
}
