//! The changes berth can make to AWS resources. Each one is confirmed in the UI, refused in
//! read-only mode where effects run, and written to the audit log with its outcome.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Mutation {
    /// UpdateService forceNewDeployment: replace every task with a fresh one.
    ForceNewDeployment { cluster: String, service: String },
    /// StopTask with a reason.
    StopTask {
        cluster: String,
        task: String,
        reason: String,
    },
    /// UpdateService desiredCount.
    Scale {
        cluster: String,
        service: String,
        from: i32,
        to: i32,
    },
    /// UpdateService back to the task definition of the last COMPLETED deployment.
    RollBack {
        cluster: String,
        service: String,
        from: String,
        to: String,
    },
}

impl Mutation {
    /// The ECS operation name, as audit lines and the sandbox's counters call it.
    pub fn operation(&self) -> &'static str {
        match self {
            Mutation::StopTask { .. } => "ecs:StopTask",
            _ => "ecs:UpdateService",
        }
    }

    /// Short verb for messages: "force a new deployment of".
    pub fn verb(&self) -> &'static str {
        match self {
            Mutation::ForceNewDeployment { .. } => "force a new deployment of",
            Mutation::StopTask { .. } => "stop",
            Mutation::Scale { .. } => "scale",
            Mutation::RollBack { .. } => "roll back",
        }
    }

    pub fn cluster(&self) -> &str {
        match self {
            Mutation::ForceNewDeployment { cluster, .. }
            | Mutation::StopTask { cluster, .. }
            | Mutation::Scale { cluster, .. }
            | Mutation::RollBack { cluster, .. } => cluster,
        }
    }

    /// The service it changes (or the task's service is unknown here: `None`).
    pub fn service(&self) -> Option<&str> {
        match self {
            Mutation::ForceNewDeployment { service, .. }
            | Mutation::Scale { service, .. }
            | Mutation::RollBack { service, .. } => Some(service),
            Mutation::StopTask { .. } => None,
        }
    }

    /// What it acts on: `service prod/checkout-api`, `task prod/1a2b3c4d`.
    pub fn target(&self) -> String {
        match self {
            Mutation::StopTask { cluster, task, .. } => {
                format!("task {cluster}/{}", super::Task::id_from_arn(task))
            }
            other => format!(
                "service {}/{}",
                other.cluster(),
                other.service().unwrap_or_default()
            ),
        }
    }

    /// One sentence: what will happen.
    pub fn describe(&self) -> String {
        match self {
            Mutation::ForceNewDeployment { .. } => format!(
                "Force a new deployment of {}: every task is replaced by a new one of the same task definition.",
                self.target()
            ),
            Mutation::StopTask { reason, .. } => {
                format!("Stop {} with the reason \"{reason}\".", self.target())
            }
            Mutation::Scale { from, to, .. } if from == to => format!(
                "Change the desired count of {} (now {from}).",
                self.target()
            ),
            Mutation::Scale { from, to, .. } => {
                format!("Scale {} from {from} to {to} desired tasks.", self.target())
            }
            Mutation::RollBack { from, to, .. } => format!(
                "Roll back {} from {from} to {to} (the last COMPLETED deployment).",
                self.target()
            ),
        }
    }
}
