/// An ECS cluster as the clusters pane shows it (DescribeClusters with STATISTICS and SETTINGS).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cluster {
    pub arn: String,
    pub name: String,
    pub status: String,
    pub active_services: i32,
    pub running_tasks: i32,
    pub pending_tasks: i32,
    pub registered_instances: i32,
    pub capacity_providers: Vec<String>,
    /// The `containerInsights` setting (`enabled`, `enhanced`, `disabled`), when reported.
    pub container_insights: Option<String>,
}

impl Cluster {
    /// Last path segment of an ECS ARN (`arn:aws:ecs:r:a:cluster/prod` -> `prod`).
    pub fn name_from_arn(arn: &str) -> &str {
        arn.rsplit('/').next().unwrap_or(arn)
    }
}
