/// An ECS task with what the tasks, network and task detail panes show.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Task {
    pub arn: String,
    /// The last segment of the ARN (32 hex characters on current ARNs).
    pub id: String,
    pub cluster_arn: String,
    /// `service:<name>` for service tasks.
    pub group: Option<String>,
    pub last_status: String,
    pub desired_status: String,
    /// HEALTHY, UNHEALTHY, UNKNOWN.
    pub health: Option<String>,
    /// `family:revision`.
    pub task_definition: String,
    pub launch_type: Option<String>,
    pub capacity_provider: Option<String>,
    pub availability_zone: Option<String>,
    pub platform_version: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub exec_enabled: bool,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub started_by: Option<String>,
    /// The EC2 container instance it runs on (EC2 launch type), as an ARN.
    pub container_instance: Option<String>,
    /// Unix seconds (fractions dropped).
    pub created_at: Option<i64>,
    pub pull_started_at: Option<i64>,
    pub pull_stopped_at: Option<i64>,
    pub started_at: Option<i64>,
    pub stopping_at: Option<i64>,
    pub stopped_at: Option<i64>,
    pub containers: Vec<Container>,
    pub enis: Vec<Eni>,
    /// The EC2 instance of a task on EC2 capacity, when known (bridge/host targets are
    /// registered by instance id).
    pub ec2_instance_id: Option<String>,
    /// Host ports bound to container ports (bridge/host network modes).
    pub network_bindings: Vec<NetworkBinding>,
    /// What the service's target groups say of this task (joined by the console once target
    /// health is read; empty for services without load balancers).
    pub targets: Vec<super::targets::TaskTarget>,
    /// CPU and memory of the last hour (Container Insights with enhanced observability),
    /// joined by the console for running tasks on screen; `None` until read.
    pub usage: Option<Result<super::metrics::ServiceMetrics, super::metrics::MetricsUnavailable>>,
    /// The task as the API returned it, pretty-printed JSON, for the raw view.
    pub raw_json: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Container {
    pub name: String,
    pub image: Option<String>,
    pub last_status: Option<String>,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub health: Option<String>,
    pub runtime_id: Option<String>,
    /// ExecuteCommandAgent's lastStatus, when the agent is managed on this container.
    pub exec_agent_status: Option<String>,
}

/// A container port published on the host (bridge/host network modes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkBinding {
    pub container_name: String,
    pub container_port: i32,
    pub host_port: Option<i32>,
}

/// One elastic network interface attachment (awsvpc).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Eni {
    pub attachment_id: String,
    pub status: Option<String>,
    pub eni_id: Option<String>,
    pub private_ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub private_dns: Option<String>,
    pub subnet_id: Option<String>,
    pub mac: Option<String>,
}

impl Task {
    /// Task id from an ARN: `arn:aws:ecs:r:a:task/cluster/abc123` -> `abc123`.
    pub fn id_from_arn(arn: &str) -> &str {
        arn.rsplit('/').next().unwrap_or(arn)
    }

    /// First 8 characters of the id, as the ECS console shows them.
    pub fn short_id(&self) -> &str {
        let end = self
            .id
            .char_indices()
            .nth(8)
            .map(|(i, _)| i)
            .unwrap_or(self.id.len());
        &self.id[..end]
    }

    pub fn private_ip(&self) -> Option<&str> {
        self.enis.iter().find_map(|e| e.private_ipv4.as_deref())
    }

    /// The service name from `group` (`service:checkout-api`).
    pub fn service_name(&self) -> Option<&str> {
        self.group.as_deref()?.strip_prefix("service:")
    }
}
