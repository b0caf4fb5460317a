/// An ECS service with what the services and deployments panes show.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Service {
    pub arn: String,
    pub name: String,
    pub cluster_arn: String,
    pub status: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    /// `family:revision` of the service's task definition.
    pub task_definition: String,
    /// `FARGATE`, `EC2`, ... when the service uses a launch type.
    pub launch_type: Option<String>,
    /// Capacity provider strategy, e.g. `FARGATE:1 FARGATE_SPOT:3`.
    pub capacity_providers: Vec<CapacityProviderItem>,
    pub exec_enabled: bool,
    pub deployment_config: DeploymentConfig,
    /// Newest first, as ECS returns them (PRIMARY first).
    pub deployments: Vec<Deployment>,
    /// Newest first.
    pub events: Vec<ServiceEvent>,
    /// Unix seconds.
    pub created_at: Option<i64>,
    pub health_check_grace_period: Option<i32>,
    pub scheduling_strategy: Option<String>,
    pub platform_version: Option<String>,
    /// awsvpc subnets of the service's network configuration.
    pub subnets: Vec<String>,
    /// Who deploys it: ECS (`deployments`), or CODE_DEPLOY/EXTERNAL (`task_sets`).
    pub deployment_controller: super::DeploymentController,
    /// Task sets, under a CODE_DEPLOY or EXTERNAL controller.
    pub task_sets: Vec<super::TaskSet>,
    /// The service's `loadBalancers` (target groups and the container they reach).
    pub load_balancers: Vec<super::targets::LoadBalancer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CapacityProviderItem {
    pub provider: String,
    pub weight: i32,
    pub base: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeploymentConfig {
    pub minimum_healthy_percent: Option<i32>,
    pub maximum_percent: Option<i32>,
    pub circuit_breaker_enabled: bool,
    pub circuit_breaker_rollback: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Deployment {
    pub id: String,
    /// PRIMARY, ACTIVE, INACTIVE.
    pub status: String,
    /// IN_PROGRESS, COMPLETED, FAILED (absent for deployments made before rollout states).
    pub rollout_state: Option<String>,
    pub rollout_state_reason: Option<String>,
    pub desired: i32,
    pub pending: i32,
    pub running: i32,
    pub failed_tasks: i32,
    /// `family:revision`.
    pub task_definition: String,
    pub launch_type: Option<String>,
    /// Unix seconds.
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceEvent {
    pub id: String,
    /// Unix seconds.
    pub created_at: Option<i64>,
    pub message: String,
}

impl Service {
    pub fn primary(&self) -> Option<&Deployment> {
        self.deployments
            .iter()
            .find(|d| d.status == "PRIMARY")
            .or(self.deployments.first())
    }
}

/// `arn:aws:ecs:...:task-definition/checkout:42` -> `checkout:42`.
pub fn family_revision(task_definition_arn: &str) -> String {
    task_definition_arn
        .rsplit('/')
        .next()
        .unwrap_or(task_definition_arn)
        .to_string()
}
