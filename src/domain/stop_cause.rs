//! Why did this task stop? A classification of stopCode, stoppedReason and container exit
//! codes into the causes an on-call engineer acts on, each with the usual fix.

use super::task::Task;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StopCause {
    OutOfMemory,
    ImagePull,
    ResourceInitialization,
    ElbHealthCheck,
    ContainerHealthCheck,
    CrashOnStart,
    Segfault,
    AppExited,
    SpotInterruption,
    ScalingOrDeployment,
    UserStop,
    /// A standalone task (a scheduled job, a one-off RunTask) whose essential container exited
    /// 0: it finished its work.
    Completed,
    Other,
}

impl StopCause {
    pub fn title(self) -> &'static str {
        match self {
            StopCause::OutOfMemory => "out of memory",
            StopCause::ImagePull => "image pull failed",
            StopCause::ResourceInitialization => "resource initialization failed",
            StopCause::ElbHealthCheck => "failed ELB health checks",
            StopCause::ContainerHealthCheck => "failed container health checks",
            StopCause::CrashOnStart => "crashed on start",
            StopCause::Segfault => "segmentation fault",
            StopCause::AppExited => "essential container exited",
            StopCause::SpotInterruption => "Spot interruption",
            StopCause::ScalingOrDeployment => "replaced by deployment or scaling",
            StopCause::UserStop => "stopped by a user",
            StopCause::Completed => "standalone task completed (exit 0)",
            StopCause::Other => "other",
        }
    }

    /// The usual fix, in one line.
    pub fn hint(self) -> &'static str {
        match self {
            StopCause::OutOfMemory => {
                "killed for memory (exit 137): raise task/container memory or fix the leak"
            }
            StopCause::ImagePull => {
                "check the image URI and tag, the execution role's ECR permissions, and the route to ECR (NAT or VPC endpoints)"
            }
            StopCause::ResourceInitialization => {
                "Fargate could not prepare the task: check secrets (execution role, KMS), the log group, and routes/DNS to the AWS endpoints"
            }
            StopCause::ElbHealthCheck => {
                "the target health check fails: security group from the load balancer, health check path, grace period too short"
            }
            StopCause::ContainerHealthCheck => {
                "the container's healthCheck command fails: test it in the image"
            }
            StopCause::CrashOnStart => {
                "exited right after starting: configuration, a missing environment variable or secret; read the container's last log lines"
            }
            StopCause::Segfault => {
                "segmentation fault (exit 139): a native crash in the application"
            }
            StopCause::AppExited => {
                "the application exited: check its exit code and its last log lines"
            }
            StopCause::SpotInterruption => {
                "Fargate Spot reclaimed the capacity: handle SIGTERM and keep on-demand base capacity"
            }
            StopCause::ScalingOrDeployment => "normal replacement during a deployment or scale-in",
            StopCause::UserStop => "someone stopped it (StopTask); see the reason for who",
            StopCause::Completed => "a job ran to completion: nothing to fix",
            StopCause::Other => "read the stoppedReason and the containers' exit codes",
        }
    }

    /// Normal operations, not a problem.
    pub fn is_routine(self) -> bool {
        matches!(
            self,
            StopCause::ScalingOrDeployment | StopCause::UserStop | StopCause::Completed
        )
    }
}

/// Seconds between start and stop under which an exit counts as a crash on start.
pub const CRASH_ON_START_SECS: i64 = 60;

pub fn classify(task: &Task) -> StopCause {
    let reason = task.stopped_reason.as_deref().unwrap_or_default();
    let lower = reason.to_lowercase();
    let container_reasons: Vec<String> = task
        .containers
        .iter()
        .filter_map(|c| c.reason.as_deref().map(str::to_lowercase))
        .collect();
    let any_container = |needle: &str| container_reasons.iter().any(|r| r.contains(needle));
    let exit = |code: i32| task.containers.iter().any(|c| c.exit_code == Some(code));
    let stop_code = task.stop_code.as_deref().unwrap_or_default();

    if any_container("outofmemory")
        || lower.contains("outofmemory")
        || exit(137) && any_container("memory")
    {
        return StopCause::OutOfMemory;
    }
    if lower.contains("cannotpullcontainer") || any_container("cannotpullcontainer") {
        return StopCause::ImagePull;
    }
    if lower.contains("resourceinitializationerror") || any_container("resourceinitializationerror")
    {
        return StopCause::ResourceInitialization;
    }
    if lower.contains("elb health check") || lower.contains("failed elb") {
        return StopCause::ElbHealthCheck;
    }
    if lower.contains("container health check") {
        return StopCause::ContainerHealthCheck;
    }
    if stop_code == "SpotInterruption"
        || lower.contains("spot task was interrupted")
        || stop_code == "TerminationNotice"
    {
        return StopCause::SpotInterruption;
    }
    if stop_code == "UserInitiated" && !lower.contains("scaling activity") {
        return StopCause::UserStop;
    }
    if lower.contains("scaling activity initiated")
        || stop_code == "ServiceSchedulerInitiated" && !lower.contains("essential container")
    {
        return StopCause::ScalingOrDeployment;
    }
    if exit(137) {
        return StopCause::OutOfMemory;
    }
    if exit(139) {
        return StopCause::Segfault;
    }
    if lower.contains("essential container") || stop_code == "EssentialContainerExited" {
        let ran_for = match (task.started_at, task.stopped_at.or(task.stopping_at)) {
            (Some(start), Some(stop)) => Some(stop - start),
            _ => None,
        };
        let nonzero = task
            .containers
            .iter()
            .any(|c| c.exit_code.is_some_and(|e| e != 0));
        if nonzero && ran_for.is_none_or(|s| s < CRASH_ON_START_SECS) {
            return StopCause::CrashOnStart;
        }
        // A service's app should never exit; a job's exits 0 when its work is done.
        let exited_zero = task.containers.iter().any(|c| c.exit_code == Some(0));
        if !nonzero && exited_zero && task.service_name().is_none() {
            return StopCause::Completed;
        }
        return StopCause::AppExited;
    }
    if stop_code == "TaskFailedToStart" {
        return StopCause::CrashOnStart;
    }
    StopCause::Other
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Container;

    fn task(
        stop_code: &str,
        reason: &str,
        exit: Option<i32>,
        container_reason: Option<&str>,
    ) -> Task {
        Task {
            stop_code: Some(stop_code.into()),
            stopped_reason: Some(reason.into()),
            started_at: Some(1000),
            stopped_at: Some(1010),
            containers: vec![Container {
                name: "app".into(),
                exit_code: exit,
                reason: container_reason.map(str::to_string),
                ..Container::default()
            }],
            ..Task::default()
        }
    }

    #[test]
    fn a_standalone_task_exiting_zero_completed_a_service_task_did_not() {
        let exited = |group: &str, code: i32| Task {
            group: Some(group.into()),
            ..task(
                "EssentialContainerExited",
                "Essential container in task exited",
                Some(code),
                None,
            )
        };
        let job = exited("family:nightly-reconcile", 0);
        assert_eq!(classify(&job), StopCause::Completed);
        assert!(StopCause::Completed.is_routine());
        assert_ne!(
            classify(&exited("family:nightly-reconcile", 1)),
            StopCause::Completed
        );
        assert_eq!(
            classify(&exited("service:checkout-api", 0)),
            StopCause::AppExited
        );
    }

    #[test]
    fn classifies_the_domain_table() {
        let cases = [
            (
                task(
                    "EssentialContainerExited",
                    "Essential container in task exited",
                    Some(137),
                    Some("OutOfMemoryError: Container killed due to memory usage"),
                ),
                StopCause::OutOfMemory,
            ),
            (
                task(
                    "TaskFailedToStart",
                    "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
                    None,
                    None,
                ),
                StopCause::ImagePull,
            ),
            (
                task(
                    "TaskFailedToStart",
                    "ResourceInitializationError: unable to pull secrets or registry auth",
                    None,
                    None,
                ),
                StopCause::ResourceInitialization,
            ),
            (
                task(
                    "ServiceSchedulerInitiated",
                    "Task failed ELB health checks in (target-group arn:...)",
                    Some(143),
                    None,
                ),
                StopCause::ElbHealthCheck,
            ),
            (
                task(
                    "ServiceSchedulerInitiated",
                    "Task failed container health checks",
                    None,
                    None,
                ),
                StopCause::ContainerHealthCheck,
            ),
            (
                task(
                    "SpotInterruption",
                    "Your Spot Task was interrupted.",
                    Some(143),
                    None,
                ),
                StopCause::SpotInterruption,
            ),
            (
                task(
                    "ServiceSchedulerInitiated",
                    "Scaling activity initiated by (deployment ecs-svc/123)",
                    Some(0),
                    None,
                ),
                StopCause::ScalingOrDeployment,
            ),
            (
                task("UserInitiated", "stopped by berth (alice)", Some(0), None),
                StopCause::UserStop,
            ),
            (
                task(
                    "EssentialContainerExited",
                    "Essential container in task exited",
                    Some(1),
                    None,
                ),
                StopCause::CrashOnStart,
            ),
            (
                task(
                    "EssentialContainerExited",
                    "Essential container in task exited",
                    Some(139),
                    None,
                ),
                StopCause::Segfault,
            ),
        ];
        for (t, expected) in cases {
            assert_eq!(classify(&t), expected, "{:?}", t.stopped_reason);
        }
    }

    #[test]
    fn a_long_running_exit_is_not_a_crash_on_start() {
        let mut t = task(
            "EssentialContainerExited",
            "Essential container in task exited",
            Some(1),
            None,
        );
        t.stopped_at = Some(1000 + 3600);
        assert_eq!(classify(&t), StopCause::AppExited);
    }
}
