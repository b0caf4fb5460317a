//! Task sets: what CODE_DEPLOY and EXTERNAL deployment controllers run instead of ECS
//! deployments. A service under one of them has `taskSets` (PRIMARY, ACTIVE, DRAINING), each a
//! share of the service's desired count (`scale`), and its own stability.

/// Who deploys a service (`deploymentController.type`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DeploymentController {
    /// Rolling updates and ECS-native blue/green: `deployments`.
    #[default]
    Ecs,
    /// CodeDeploy blue/green: task sets.
    CodeDeploy,
    /// A third-party controller through the task-set API.
    External,
    Other(String),
}

impl DeploymentController {
    pub fn parse(s: &str) -> DeploymentController {
        match s {
            "ECS" => DeploymentController::Ecs,
            "CODE_DEPLOY" => DeploymentController::CodeDeploy,
            "EXTERNAL" => DeploymentController::External,
            other => DeploymentController::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            DeploymentController::Ecs => "ECS",
            DeploymentController::CodeDeploy => "CODE_DEPLOY",
            DeploymentController::External => "EXTERNAL",
            DeploymentController::Other(s) => s,
        }
    }

    /// Deploys with task sets rather than ECS deployments.
    pub fn runs_task_sets(&self) -> bool {
        matches!(
            self,
            DeploymentController::CodeDeploy | DeploymentController::External
        )
    }
}

/// PRIMARY (serving production traffic), ACTIVE (not serving it, e.g. the green set under
/// test), DRAINING (being removed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TaskSetStatus {
    Primary,
    #[default]
    Active,
    Draining,
    Other(String),
}

impl TaskSetStatus {
    pub fn parse(s: &str) -> TaskSetStatus {
        match s {
            "PRIMARY" => TaskSetStatus::Primary,
            "ACTIVE" => TaskSetStatus::Active,
            "DRAINING" => TaskSetStatus::Draining,
            other => TaskSetStatus::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            TaskSetStatus::Primary => "PRIMARY",
            TaskSetStatus::Active => "ACTIVE",
            TaskSetStatus::Draining => "DRAINING",
            TaskSetStatus::Other(s) => s,
        }
    }
}

/// STEADY_STATE: its running count matches its computed desired count and its tasks are
/// healthy; STABILIZING otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Stability {
    #[default]
    SteadyState,
    Stabilizing,
    Other(String),
}

impl Stability {
    pub fn parse(s: &str) -> Stability {
        match s {
            "STEADY_STATE" => Stability::SteadyState,
            "STABILIZING" => Stability::Stabilizing,
            other => Stability::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Stability::SteadyState => "STEADY_STATE",
            Stability::Stabilizing => "STABILIZING",
            Stability::Other(s) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskSet {
    pub id: String,
    pub arn: String,
    pub status: TaskSetStatus,
    pub stability: Stability,
    /// Since when (unix seconds).
    pub stability_at: Option<i64>,
    /// Share of the service's desired count: (value, unit), e.g. (100.0, "PERCENT").
    pub scale: Option<(f64, String)>,
    pub computed_desired: i32,
    pub running: i32,
    pub pending: i32,
    /// `family:revision`.
    pub task_definition: String,
    /// Set by the external controller (CodeDeploy's deployment id, or the tool's own id).
    pub external_id: Option<String>,
    pub launch_type: Option<String>,
    /// Unix seconds.
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
}

impl TaskSet {
    /// `100%` or `3 PERCENT`-like units as ECS names them.
    pub fn scale_text(&self) -> String {
        match &self.scale {
            Some((v, unit)) if unit == "PERCENT" => format!("{v}%"),
            Some((v, unit)) => format!("{v} {unit}"),
            None => "-".into(),
        }
    }
}
