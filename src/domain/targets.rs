//! Load-balancer target health: a service's target groups, what ELBv2 says of each target, and
//! the join of targets to the service's tasks.
//!
//! A target is matched to a task by (id, port): for awsvpc tasks the id is the ENI's private
//! IPv4 and the port the container port the service registers; for bridge/host tasks on EC2
//! the id is the EC2 instance id and the port the host port bound to that container port.

use std::collections::BTreeMap;

use crate::domain::Task;

/// One entry of a service's `loadBalancers`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoadBalancer {
    /// Absent for Classic Load Balancers (they name `loadBalancerName` instead).
    pub target_group_arn: Option<String>,
    pub container_name: Option<String>,
    pub container_port: Option<i32>,
}

/// ELBv2's target health state, parsed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetState {
    Healthy,
    Initial,
    Draining,
    Unused,
    Unavailable,
    Unhealthy,
    /// A state this build does not know.
    Other,
}

impl TargetState {
    pub fn parse(s: &str) -> TargetState {
        match s {
            "healthy" => TargetState::Healthy,
            "initial" => TargetState::Initial,
            "draining" => TargetState::Draining,
            "unused" => TargetState::Unused,
            "unavailable" => TargetState::Unavailable,
            "unhealthy" | "unhealthy.draining" => TargetState::Unhealthy,
            _ => TargetState::Other,
        }
    }

    /// The word shown in the tasks table and task detail.
    pub fn label(self) -> &'static str {
        match self {
            TargetState::Healthy => "healthy",
            TargetState::Initial => "initial",
            TargetState::Draining => "draining",
            TargetState::Unused => "unused",
            TargetState::Unavailable => "unavailable",
            TargetState::Unhealthy => "unhealthy",
            TargetState::Other => "unknown",
        }
    }
}

/// One target of a target group as DescribeTargetHealth reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetHealth {
    /// An IP address (target type `ip`), an instance id (`instance`) or a Lambda ARN.
    pub id: String,
    pub port: Option<i32>,
    pub state: TargetState,
    /// e.g. `Target.ResponseCodeMismatch`, `Elb.InitialHealthChecking` (sanitized).
    pub reason: Option<String>,
    /// e.g. `Health checks failed with these codes: [404]` (sanitized).
    pub description: Option<String>,
}

/// A target group's health-check settings (DescribeTargetGroups).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub protocol: Option<String>,
    pub port: Option<i32>,
    pub target_type: Option<String>,
    pub health_check_protocol: Option<String>,
    pub health_check_path: Option<String>,
    /// `traffic-port` or a number.
    pub health_check_port: Option<String>,
    pub interval_s: Option<i32>,
    pub timeout_s: Option<i32>,
    pub healthy_threshold: Option<i32>,
    pub unhealthy_threshold: Option<i32>,
    /// HTTP codes (`200-399`) or gRPC codes.
    pub matcher: Option<String>,
}

/// Where a task can be reached by its load balancer: the (target id, port) pairs under which
/// ELBv2 would list it for `lb`.
pub fn task_target_keys(task: &Task, lb: &LoadBalancer) -> Vec<(String, i32)> {
    let Some(port) = lb.container_port else {
        return Vec::new();
    };
    let mut keys: Vec<(String, i32)> = task
        .enis
        .iter()
        .filter_map(|e| e.private_ipv4.clone())
        .map(|ip| (ip, port))
        .collect();
    if let Some(instance) = &task.ec2_instance_id {
        for b in &task.network_bindings {
            let container_matches = match &lb.container_name {
                Some(name) => &b.container_name == name,
                None => true,
            };
            if container_matches
                && b.container_port == port
                && let Some(host) = b.host_port
            {
                keys.push((instance.clone(), host));
            }
        }
    }
    keys
}

/// The target of `task` in one target group, if the task is registered there.
pub fn target_of_task<'a>(
    task: &Task,
    lb: &LoadBalancer,
    targets: &'a [TargetHealth],
) -> Option<&'a TargetHealth> {
    let keys = task_target_keys(task, lb);
    targets.iter().find(|t| {
        keys.iter()
            .any(|(id, port)| &t.id == id && t.port == Some(*port))
    })
}

/// Targets registered in the group that belong to none of `tasks` (a drained task's IP, a
/// target registered by hand).
pub fn orphan_targets<'a>(
    tasks: &[Task],
    lb: &LoadBalancer,
    targets: &'a [TargetHealth],
) -> Vec<&'a TargetHealth> {
    targets
        .iter()
        .filter(|t| {
            !tasks
                .iter()
                .any(|task| target_of_task(task, lb, std::slice::from_ref(*t)).is_some())
        })
        .collect()
}

/// What one target group says of a service: its targets, or why they could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupHealth {
    Targets(Vec<TargetHealth>),
    /// The message shown in place, e.g. `target health unavailable: access denied`.
    Unavailable(String),
}

/// `healthy n/m` over the registered targets that take traffic or should: `unused` ones (of a
/// group no load balancer uses) and `draining` ones (on their way out, a stopped task's) do
/// not count.
pub fn healthy_counts(targets: &[TargetHealth]) -> (usize, usize) {
    let counted = targets
        .iter()
        .filter(|t| !matches!(t.state, TargetState::Unused | TargetState::Draining))
        .collect::<Vec<_>>();
    let healthy = counted
        .iter()
        .filter(|t| t.state == TargetState::Healthy)
        .count();
    (healthy, counted.len())
}

/// What one target group says of one task, as the console shows it (the join's result,
/// kept on the task row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTarget {
    /// The target group's name (from its ARN).
    pub group: String,
    /// The task's target; `Ok(None)` when the task is not registered in the group; `Err` why
    /// the group's targets could not be read.
    pub health: Result<Option<TargetHealth>, String>,
}

/// `arn:...:targetgroup/NAME/ID` -> `NAME`.
pub fn group_name(arn: &str) -> &str {
    arn.split('/').nth(1).unwrap_or(arn)
}

/// Join `task` to the target groups of its service's `lbs`, for the groups already read.
pub fn task_targets(
    task: &Task,
    lbs: &[LoadBalancer],
    groups: &BTreeMap<String, GroupHealth>,
) -> Vec<TaskTarget> {
    lbs.iter()
        .filter_map(|lb| {
            let arn = lb.target_group_arn.as_deref()?;
            let health = match groups.get(arn)? {
                GroupHealth::Targets(ts) => Ok(target_of_task(task, lb, ts).cloned()),
                GroupHealth::Unavailable(m) => Err(m.clone()),
            };
            Some(TaskTarget {
                group: group_name(arn).to_string(),
                health,
            })
        })
        .collect()
}

/// The worst state over a task's target groups (`None`: registered in none).
pub fn worst_state(targets: &[TaskTarget]) -> Option<TargetState> {
    targets
        .iter()
        .filter_map(|t| t.health.as_ref().ok()?.as_ref().map(|h| h.state))
        .max()
}

/// The compact TARGET cell: the worst state, `-` when the task is registered in no group,
/// `?` when no group could be read.
pub fn target_label(targets: &[TaskTarget]) -> String {
    match worst_state(targets) {
        Some(s) => s.label().to_string(),
        None if !targets.is_empty() && targets.iter().all(|t| t.health.is_err()) => "?".into(),
        None => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Eni, NetworkBinding};

    fn task(id: &str, ip: &str) -> Task {
        Task {
            id: id.into(),
            enis: vec![Eni {
                private_ipv4: Some(ip.into()),
                ..Eni::default()
            }],
            ..Task::default()
        }
    }

    fn target(id: &str, port: i32, state: TargetState) -> TargetHealth {
        TargetHealth {
            id: id.into(),
            port: Some(port),
            state,
            reason: None,
            description: None,
        }
    }

    fn lb() -> LoadBalancer {
        LoadBalancer {
            target_group_arn: Some("arn:tg/web".into()),
            container_name: Some("web".into()),
            container_port: Some(8080),
        }
    }

    #[test]
    fn targets_join_tasks_by_ip_and_port() {
        let tasks = vec![task("a", "10.0.1.5"), task("b", "10.0.1.6")];
        let targets = vec![
            target("10.0.1.5", 8080, TargetState::Healthy),
            // same IP, other port: not this task's target
            target("10.0.1.6", 9090, TargetState::Healthy),
            // a drained task's target: no task
            target("10.0.1.9", 8080, TargetState::Draining),
        ];
        let a = target_of_task(&tasks[0], &lb(), &targets).map(|t| t.state);
        assert_eq!(a, Some(TargetState::Healthy));
        assert_eq!(target_of_task(&tasks[1], &lb(), &targets), None);
        let orphans: Vec<&str> = orphan_targets(&tasks, &lb(), &targets)
            .iter()
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(orphans, vec!["10.0.1.6", "10.0.1.9"]);
    }

    #[test]
    fn bridge_tasks_join_by_instance_and_host_port() {
        let t = Task {
            id: "c".into(),
            ec2_instance_id: Some("i-0abc".into()),
            network_bindings: vec![NetworkBinding {
                container_name: "web".into(),
                container_port: 8080,
                host_port: Some(32768),
            }],
            ..Task::default()
        };
        let targets = vec![
            target("i-0abc", 8080, TargetState::Healthy),
            target("i-0abc", 32768, TargetState::Unhealthy),
        ];
        let found = target_of_task(&t, &lb(), &targets).map(|t| t.state);
        assert_eq!(found, Some(TargetState::Unhealthy));
    }

    #[test]
    fn label_is_the_worst_state_or_a_dash() {
        let t = task("a", "10.0.1.5");
        let task_target_label =
            |t: &Task, lbs: &[LoadBalancer], g: &BTreeMap<String, GroupHealth>| {
                target_label(&task_targets(t, lbs, g))
            };
        let one = |h: GroupHealth| BTreeMap::from([("arn:tg/web".to_string(), h)]);
        let groups = one(GroupHealth::Targets(vec![target(
            "10.0.1.5",
            8080,
            TargetState::Unhealthy,
        )]));
        let lbs = vec![lb()];
        assert_eq!(task_target_label(&t, &lbs, &groups), "unhealthy");
        let other = task("z", "10.0.9.9");
        assert_eq!(task_target_label(&other, &lbs, &groups), "-");
        let denied = one(GroupHealth::Unavailable("access denied".into()));
        assert_eq!(task_target_label(&t, &lbs, &denied), "?");
        assert_eq!(task_target_label(&t, &lbs, &BTreeMap::new()), "-");
    }

    #[test]
    fn counts_leave_unused_and_draining_targets_out() {
        let ts = vec![
            target("1", 1, TargetState::Healthy),
            target("2", 1, TargetState::Unhealthy),
            target("3", 1, TargetState::Unused),
            target("4", 1, TargetState::Draining),
        ];
        assert_eq!(healthy_counts(&ts), (1, 2));
    }
}
