//! The simulator's state types: clusters, services, deployments, task definitions, tasks.
//!
//! These are internal; the wire shapes are built from them in `ecs_json.rs`.

use std::collections::{BTreeMap, VecDeque};

/// Milliseconds since the Unix epoch on the virtual clock.
pub(crate) type Ms = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TaskStatus {
    Provisioning,
    Pending,
    Activating,
    Running,
    Deactivating,
    Stopping,
    Deprovisioning,
    Stopped,
}

impl TaskStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Provisioning => "PROVISIONING",
            TaskStatus::Pending => "PENDING",
            TaskStatus::Activating => "ACTIVATING",
            TaskStatus::Running => "RUNNING",
            TaskStatus::Deactivating => "DEACTIVATING",
            TaskStatus::Stopping => "STOPPING",
            TaskStatus::Deprovisioning => "DEPROVISIONING",
            TaskStatus::Stopped => "STOPPED",
        }
    }
}

/// What is wrong with a task definition revision (hidden from the API; drives the drills).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    /// The app exits 1 a few seconds after boot.
    CrashOnBoot,
    /// Memory grows until the container is killed (exit 137).
    MemoryLeak,
    /// The image tag does not exist.
    BadImage,
    /// The execution role cannot read a referenced secret.
    BadSecret,
    /// The health check path returns 404, so ELB marks targets unhealthy.
    BadHealthPath,
}

/// How a task ended, remembered so the log generator can write its last lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndCause {
    Crash,
    Oom,
    Spot,
    ElbHealth,
    Scheduler,
    User,
    FailedToStart,
}

#[derive(Debug, Clone)]
pub(crate) struct Subnet {
    pub id: String,
    pub az: String,
    /// Network address of the subnet as a u32.
    pub base: u32,
    pub prefix: u8,
    pub next: u32,
    pub free: VecDeque<u32>,
}

#[derive(Debug)]
pub(crate) struct Cluster {
    pub name: String,
    pub arn: String,
    pub subnets: Vec<Subnet>,
    pub security_group: String,
    /// The `containerInsights` setting: `enhanced` (task-level metrics), `enabled` or
    /// `disabled`.
    pub insights: &'static str,
    pub services: BTreeMap<String, usize>,
    /// Tasks whose desired status is RUNNING, by task id.
    pub tasks_live: BTreeMap<String, usize>,
    /// Tasks whose desired status is STOPPED (kept one virtual hour after STOPPED).
    pub tasks_stopped: BTreeMap<String, usize>,
    /// EC2 container instances (empty: a Fargate-only cluster).
    pub instances: Vec<Instance>,
}

/// An EC2 container instance registered to a cluster.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    /// The container instance id (32 hex characters).
    pub id: String,
    pub ec2_id: String,
    pub instance_type: &'static str,
    pub az: String,
    /// Registered CPU units and MiB.
    pub cpu: i64,
    pub memory: i64,
    pub registered_at: Ms,
}

#[derive(Debug, Clone)]
pub(crate) struct ContainerDef {
    pub name: String,
    pub image: String,
    pub cpu: i32,
    pub memory: i32,
    pub essential: bool,
    pub port: Option<u16>,
    pub health_check: bool,
    /// Main application container (writes the interesting logs).
    pub app: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct TaskDef {
    pub family: String,
    pub revision: i32,
    pub arn: String,
    pub containers: Vec<ContainerDef>,
    pub cpu: i32,
    pub memory: i32,
    pub log_group: String,
    pub log_prefix: String,
    pub log_region: String,
    pub registered_at: Ms,
    pub execution_role: String,
    pub task_role: String,
    pub fault: Fault,
    pub version: String,
    /// Environment of the app container (besides APP_VERSION and AWS_REGION).
    pub environment: Vec<(String, String)>,
    /// (name, valueFrom ARN) of the app container's secrets.
    pub secrets: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rollout {
    InProgress,
    Completed,
    Failed,
}

impl Rollout {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Rollout::InProgress => "IN_PROGRESS",
            Rollout::Completed => "COMPLETED",
            Rollout::Failed => "FAILED",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    pub id: String,
    pub task_def: usize,
    pub desired: i32,
    pub created_at: Ms,
    pub updated_at: Ms,
    pub rollout: Rollout,
    pub reason: String,
    pub failed_tasks: i32,
}

#[derive(Debug, Clone)]
pub(crate) struct ServiceEvent {
    pub id: String,
    pub at: Ms,
    pub message: String,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct CapacityItem {
    pub provider: &'static str,
    pub weight: i32,
    pub base: i32,
}

#[derive(Debug)]
pub(crate) struct Service {
    pub name: String,
    pub arn: String,
    pub cluster: usize,
    pub desired: i32,
    /// Newest (PRIMARY) first; drained deployments are removed (INACTIVE).
    pub deployments: Vec<Deployment>,
    pub min_pct: i32,
    pub max_pct: i32,
    pub breaker: bool,
    pub rollback: bool,
    pub grace_s: i32,
    pub exec: bool,
    pub capacity: Vec<CapacityItem>,
    pub target_group: Option<String>,
    pub created_at: Ms,
    pub events: VecDeque<ServiceEvent>,
    pub tasks_live: BTreeMap<String, usize>,
    pub tasks_stopped: BTreeMap<String, usize>,
    /// Last deployment that reached COMPLETED: (id, task definition), the rollback target.
    pub last_completed: Option<(String, usize)>,
    pub steady: bool,
    /// Tasks started so far, used to spread tasks over capacity providers.
    pub launches: u64,
    pub reconcile_at: Option<Ms>,
    /// Service revisions, oldest first (one per deployment).
    pub revisions: Vec<super::history::Revision>,
    /// Service deployments (ListServiceDeployments), oldest first; they outlive the
    /// `deployments` above, which ECS trims to PRIMARY and ACTIVE.
    pub history: Vec<super::history::ServiceDeployment>,
    /// ECS-native blue/green (deployment strategy BLUE_GREEN), when the service uses it.
    pub blue_green: Option<super::history::BlueGreen>,
    /// When the scheduler last said it could not place a task (one event per few minutes).
    pub placement_failed_at: Option<Ms>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AgentState {
    Pending,
    Running,
    Stopped,
}

#[derive(Debug, Clone)]
pub(crate) struct ContainerState {
    pub name: String,
    pub id: String,
    pub runtime_id: Option<String>,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub agent: Option<AgentState>,
    pub agent_started_at: Option<Ms>,
}

#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub id: String,
    pub arn: String,
    pub serial: u64,
    pub cluster: usize,
    pub service: Option<usize>,
    pub started_by: String,
    pub task_def: usize,
    pub last: TaskStatus,
    pub desired_running: bool,
    pub created_at: Ms,
    pub connectivity_at: Option<Ms>,
    pub pull_started_at: Option<Ms>,
    pub pull_stopped_at: Option<Ms>,
    pub started_at: Option<Ms>,
    pub healthy_at: Option<Ms>,
    pub stopping_at: Option<Ms>,
    pub execution_stopped_at: Option<Ms>,
    pub stopped_at: Option<Ms>,
    pub stop_code: Option<&'static str>,
    pub stopped_reason: Option<String>,
    pub end: Option<EndCause>,
    pub containers: Vec<ContainerState>,
    pub subnet: usize,
    pub ip: u32,
    pub eni: String,
    pub mac: String,
    pub attachment_id: String,
    pub ipv6: String,
    pub capacity_provider: &'static str,
    /// The container instance it runs on (index into its cluster's `instances`), on EC2.
    pub instance: Option<usize>,
    pub exec: bool,
    /// The task definition has a container health check, so healthStatus is reported.
    pub reports_health: bool,
    pub version: i64,
    /// Whether a failure of this task already counted against its deployment.
    pub counted_failure: bool,
}

impl Task {
    pub(crate) fn health_str(&self, now: Ms) -> &'static str {
        match (self.last, self.healthy_at) {
            _ if !self.reports_health => "UNKNOWN",
            (TaskStatus::Running, Some(h)) if now >= h => "HEALTHY",
            (TaskStatus::Stopped, Some(h)) if self.execution_stopped_at.is_some_and(|e| e >= h) => {
                "UNHEALTHY"
            }
            _ => "UNKNOWN",
        }
    }
}

pub(crate) fn ip_string(ip: u32) -> String {
    format!(
        "{}.{}.{}.{}",
        ip >> 24,
        (ip >> 16) & 0xFF,
        (ip >> 8) & 0xFF,
        ip & 0xFF
    )
}
