//! ECS writes: the only mutating calls berth makes. Each is one request; the effect runner
//! refuses them in read-only mode before they get here, and writes the audit line.
//!
//! Force new deployment sends only `forceNewDeployment` (never a task definition, which would
//! need `iam:PassRole` for the task roles); a rollback names the task definition of the last
//! COMPLETED deployment, which the service already ran.

use super::AwsError;
use crate::domain::{Service, Task};

/// UpdateService with `forceNewDeployment`: new tasks of the same task definition.
pub async fn force_new_deployment(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
) -> Result<Service, AwsError> {
    let out = ecs
        .update_service()
        .cluster(cluster)
        .service(service)
        .force_new_deployment(true)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:UpdateService", &e))?;
    updated(out.service(), "ecs:UpdateService")
}

/// UpdateService with a new desired count.
pub async fn scale(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    desired: i32,
) -> Result<Service, AwsError> {
    let out = ecs
        .update_service()
        .cluster(cluster)
        .service(service)
        .desired_count(desired)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:UpdateService", &e))?;
    updated(out.service(), "ecs:UpdateService")
}

/// UpdateService back to a task definition the service ran before.
pub async fn roll_back(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    task_definition: &str,
) -> Result<Service, AwsError> {
    let out = ecs
        .update_service()
        .cluster(cluster)
        .service(service)
        .task_definition(task_definition)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:UpdateService", &e))?;
    updated(out.service(), "ecs:UpdateService")
}

/// StopTask with a reason (ECS keeps it as the task's stoppedReason).
pub async fn stop_task(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    task: &str,
    reason: &str,
) -> Result<Task, AwsError> {
    let out = ecs
        .stop_task()
        .cluster(cluster)
        .task(task)
        .reason(reason)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:StopTask", &e))?;
    out.task()
        .map(super::tasks::task_from_sdk)
        .ok_or_else(|| empty("ecs:StopTask"))
}

fn updated(s: Option<&aws_sdk_ecs::types::Service>, op: &str) -> Result<Service, AwsError> {
    s.map(super::services::service_from_sdk)
        .ok_or_else(|| empty(op))
}

fn empty(op: &str) -> AwsError {
    AwsError::new(
        super::ErrorKind::Other,
        op,
        "the response did not include the resource",
    )
}

/// Make one change; the message says what happened.
pub async fn apply(
    ecs: &aws_sdk_ecs::Client,
    m: &crate::domain::mutation::Mutation,
) -> Result<String, AwsError> {
    use crate::domain::mutation::Mutation;
    match m {
        Mutation::ForceNewDeployment { cluster, service } => {
            force_new_deployment(ecs, cluster, service)
                .await
                .map(|_| format!("{service}: new deployment started; following it"))
        }
        Mutation::Scale {
            cluster,
            service,
            to,
            ..
        } => scale(ecs, cluster, service, *to)
            .await
            .map(|s| format!("{service}: desired count now {}", s.desired)),
        Mutation::RollBack {
            cluster,
            service,
            to,
            ..
        } => roll_back(ecs, cluster, service, to)
            .await
            .map(|_| format!("{service}: rolling back to {to}; following it")),
        Mutation::StopTask {
            cluster,
            task,
            reason,
        } => stop_task(ecs, cluster, task, reason).await.map(|t| {
            format!(
                "task {} stopping ({})",
                Task::id_from_arn(&t.arn),
                t.desired_status
            )
        }),
    }
}
