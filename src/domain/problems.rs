//! "What is wrong with this service?" — the problem marker of the services pane, derived from
//! what DescribeServices returns (deployments, counts, events), so it costs no extra calls;
//! and, for a service whose deployment history was loaded (its deployments view was opened),
//! from that history too: a rollback in the last hour and a blue/green stage that does not
//! advance.

use super::history::{DeploymentStatus, HistoryDeployment, ROLLED_BACK_MARK_SECS, ago};
use super::service::Service;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing, not an incident (circuit breaker off).
    Notice,
    Warning,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// Short, for the table: `rollout FAILED`, `2/4 running`, ...
    pub summary: String,
    /// The reason as ECS words it, when there is one.
    pub detail: Option<String>,
}

/// How far back events count as "recent".
pub const RECENT_SECS: i64 = 15 * 60;
/// Running below desired for longer than this is a problem (a rollout starting is not).
pub const BELOW_DESIRED_GRACE_SECS: i64 = 3 * 60;
/// An IN_PROGRESS rollout older than this is stuck.
pub const STUCK_ROLLOUT_SECS: i64 = 30 * 60;
/// A task set STABILIZING for longer than this is stuck (CODE_DEPLOY and EXTERNAL
/// controllers). A healthy one settles within a few health-check rounds; a quarter of an hour
/// is well past a deployment's usual wait and short of the hour a CodeDeploy one may run.
pub const STUCK_TASK_SET_SECS: i64 = 15 * 60;

/// An event's text without its `(service NAME) ` opening: the row already names the service,
/// and at 80 columns those characters are the ones the reason needs.
pub fn without_service_prefix<'a>(message: &'a str, service: &str) -> &'a str {
    let Some(rest) = message.strip_prefix("(service ") else {
        return message;
    };
    let Some(rest) = rest.strip_prefix(service) else {
        return message;
    };
    match rest.find(") ") {
        Some(end) if rest.starts_with(')') || rest.starts_with(',') => rest[end + 2..].trim_start(),
        _ => message,
    }
}

/// `message` without the `(service NAME) ` ECS opens a service's events with, whatever the
/// name (for a view of one service's events).
pub fn without_leading_service(message: &str) -> &str {
    let Some(rest) = message.strip_prefix("(service ") else {
        return message;
    };
    match rest.find(") ") {
        Some(end) if !rest[..end].contains('(') => rest[end + 2..].trim_start(),
        _ => message,
    }
}

/// Problems, most severe first.
pub fn service_problems(s: &Service, now: i64) -> Vec<Problem> {
    service_problems_with(s, None, now)
}

/// When a rolled-back deployment's rollback started (or, lacking that, when it last changed).
fn rollback_at(d: &HistoryDeployment) -> Option<i64> {
    d.rollback
        .as_ref()
        .and_then(|r| r.started_at)
        .or(d.finished_at)
        .or(d.updated_at)
}

/// The newest rollback that started within [`ROLLED_BACK_MARK_SECS`] of `now`.
fn recent_rollback(history: &[HistoryDeployment], now: i64) -> Option<&HistoryDeployment> {
    history.iter().find(|d| {
        d.status.is_rollback() && rollback_at(d).is_some_and(|t| now - t <= ROLLED_BACK_MARK_SECS)
    })
}

/// Problems from the history alone: a rollback within [`ROLLED_BACK_MARK_SECS`] ("rev 43
/// rolled back 8m ago", the cause as detail; the revision first because at 80 columns the
/// row has about 24 characters for it), and a blue/green stage stuck past
/// [`super::history::STUCK_STAGE_SECS`].
pub fn history_problems(history: &[HistoryDeployment], now: i64) -> Vec<Problem> {
    let mut out = Vec::new();
    if let Some(d) = recent_rollback(history, now) {
        let at = rollback_at(d).unwrap_or(now);
        let revision = d
            .target
            .as_ref()
            .map(|t| match t.revision_number() {
                Some(n) => format!("rev {n}"),
                None => t.label(),
            })
            .unwrap_or_else(|| "new revision".into());
        let verb = match d.status {
            DeploymentStatus::RollbackSuccessful => "rolled back",
            DeploymentStatus::RollbackFailed => "rollback FAILED",
            _ => "rolling back",
        };
        out.push(Problem {
            severity: if d.status == DeploymentStatus::RollbackSuccessful {
                Severity::Warning
            } else {
                Severity::Critical
            },
            summary: format!("{revision} {verb} {} ago", ago(now - at)),
            detail: d.cause(),
        });
    }
    if let Some(d) = history.first()
        && let Some((stage, secs)) = d.stuck_stage(now)
    {
        out.push(Problem {
            severity: Severity::Warning,
            summary: format!("{} for {}", stage.as_str(), ago(secs)),
            detail: Some(format!(
                "blue/green stage not advancing{}",
                d.hooks
                    .iter()
                    .find(|h| h.status == "IN_PROGRESS")
                    .map(|h| format!(": hook {} in progress", h.name()))
                    .unwrap_or_default()
            )),
        });
    }
    out
}

/// Problems, most severe first, with the service's deployment history when it was loaded.
pub fn service_problems_with(
    s: &Service,
    history: Option<&[HistoryDeployment]>,
    now: i64,
) -> Vec<Problem> {
    let mut out = Vec::new();
    let from_history = history
        .map(|h| history_problems(h, now))
        .unwrap_or_default();
    let history_rollback = history.is_some_and(|h| recent_rollback(h, now).is_some());
    let recent = |t: Option<i64>| t.is_some_and(|t| now - t <= RECENT_SECS);

    for d in &s.deployments {
        if d.rollout_state.as_deref() == Some("FAILED") {
            out.push(Problem {
                severity: Severity::Critical,
                summary: "rollout FAILED".into(),
                // "ECS deployment circuit breaker: tasks failed to start." loses its first
                // words: at 80 columns the rest is what fits.
                detail: d
                    .rollout_state_reason
                    .as_deref()
                    .map(|r| r.strip_prefix("ECS deployment ").unwrap_or(r).to_string()),
            });
            break;
        }
    }
    let failed_events = s.events.iter().filter(|e| recent(e.created_at)).find(|e| {
        let m = e.message.to_lowercase();
        m.contains("deployment failed") || m.contains("rolling back") || m.contains("rolled back")
    });
    // The history says it better than an event line (and names the revision).
    if out.is_empty()
        && !history_rollback
        && let Some(e) = failed_events
    {
        out.push(Problem {
            severity: Severity::Critical,
            summary: "rolled back".into(),
            detail: Some(without_service_prefix(&e.message, &s.name).to_string()),
        });
    }

    if s.running < s.desired {
        let since = s.primary().and_then(|d| d.created_at);
        let long_enough = since.is_none_or(|t| now - t > BELOW_DESIRED_GRACE_SECS);
        if long_enough {
            out.push(Problem {
                severity: if s.running == 0 {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                summary: format!("{}/{} running", s.running, s.desired),
                detail: None,
            });
        }
    }

    let placement = placement_problem(s, now);
    let stop_events: Vec<&str> = s
        .events
        .iter()
        .filter(|e| recent(e.created_at))
        .map(|e| e.message.as_str())
        .filter(|m| {
            let m = m.to_lowercase();
            m.contains("has stopped")
                || m.contains("failed elb health checks")
                || m.contains("failed container health checks")
                || (m.contains("unable to place") && placement.is_none())
                || m.contains("is unhealthy")
        })
        .collect();
    out.extend(placement);
    if !stop_events.is_empty() {
        out.push(Problem {
            severity: Severity::Warning,
            summary: format!("{} stop/health events", stop_events.len()),
            detail: stop_events.first().map(|m| m.to_string()),
        });
    }

    if let Some(d) = s.primary() {
        let stuck = d.rollout_state.as_deref() == Some("IN_PROGRESS")
            && d.created_at.is_some_and(|t| now - t > STUCK_ROLLOUT_SECS);
        if stuck {
            out.push(Problem {
                severity: Severity::Warning,
                summary: "rollout stuck".into(),
                detail: Some(format!(
                    "IN_PROGRESS for {} min",
                    d.created_at.map(|t| (now - t) / 60).unwrap_or(0)
                )),
            });
        }
    }

    if let Some(problem) = stuck_task_set(s, now) {
        out.push(problem);
    }

    // The circuit breaker is the ECS controller's; task sets have their controller's own.
    if !s.deployment_config.circuit_breaker_enabled
        && s.scheduling_strategy.as_deref() != Some("DAEMON")
        && !s.deployment_controller.runs_task_sets()
    {
        out.push(Problem {
            severity: Severity::Notice,
            summary: "circuit breaker off".into(),
            detail: Some("a bad deployment will replace tasks forever".into()),
        });
    }
    // History first: of equal severity, "rev 43 rolled back 8m ago" is the story and the stop
    // events it caused are its detail (the sort is stable).
    out.splice(0..0, from_history);
    out.sort_by_key(|p| std::cmp::Reverse(p.severity));
    out
}

/// The scheduler could not place tasks (EC2 capacity): the newest recent "was unable to place
/// a task" event, in words, with what usually fixes it.
pub fn placement_problem(s: &Service, now: i64) -> Option<Problem> {
    let recent =
        |e: &&crate::domain::ServiceEvent| e.created_at.is_some_and(|t| now - t <= RECENT_SECS);
    let e = s
        .events
        .iter()
        .filter(recent)
        .filter(|e| e.message.contains("unable to place a task"))
        .max_by_key(|e| e.created_at)?;
    // placed since: the service reached a steady state after it
    let steady_since =
        s.events.iter().filter(recent).any(|x| {
            x.created_at > e.created_at && x.message.contains("has reached a steady state")
        });
    if steady_since {
        return None;
    }
    let m = e.message.to_lowercase();
    let (why, fix) = if m.contains("insufficient memory") {
        (
            "no instance has the memory",
            "add container instances (or let a capacity provider scale out), or lower the task's memory",
        )
    } else if m.contains("insufficient cpu") {
        (
            "no instance has the CPU",
            "add container instances (or let a capacity provider scale out), or lower the task's CPU",
        )
    } else if m.contains("port") {
        (
            "the host port is taken on every instance",
            "use dynamic host ports (hostPort 0) or awsvpc networking",
        )
    } else if m.contains("attribute") || m.contains("constraint") {
        (
            "no instance matches the placement constraints",
            "check the constraints against the instances' attributes",
        )
    } else {
        (
            "no container instance met the task's requirements",
            "check :instances for capacity and agents",
        )
    };
    Some(Problem {
        severity: if s.running < s.desired {
            Severity::Critical
        } else {
            Severity::Warning
        },
        summary: "cannot place tasks".into(),
        detail: Some(format!("{why}: {fix}")),
    })
}

/// `targets 3/4 healthy` when any target of the service's groups is unhealthy: critical when
/// none is healthy, a warning otherwise. A group that could not be read (access denied) is a
/// notice that says so, in place of the count.
pub fn target_problem(groups: &[&super::targets::GroupHealth]) -> Option<Problem> {
    use super::targets::{GroupHealth, TargetState, healthy_counts};
    let targets: Vec<super::targets::TargetHealth> = groups
        .iter()
        .filter_map(|g| match g {
            GroupHealth::Targets(t) => Some(t.clone()),
            GroupHealth::Unavailable(_) => None,
        })
        .flatten()
        .collect();
    let unhealthy: Vec<&super::targets::TargetHealth> = targets
        .iter()
        .filter(|t| t.state == TargetState::Unhealthy)
        .collect();
    let Some(first) = unhealthy.first() else {
        return groups.iter().find_map(|g| match g {
            GroupHealth::Unavailable(why) => Some(Problem {
                severity: Severity::Notice,
                // short: at 80 columns the row has about 24 characters for it
                summary: if why.ends_with("access denied") {
                    "targets: access denied".into()
                } else {
                    "targets unavailable".into()
                },
                detail: Some(why.clone()),
            }),
            GroupHealth::Targets(_) => None,
        });
    };
    let (healthy, total) = healthy_counts(&targets);
    Some(Problem {
        severity: if healthy == 0 {
            Severity::Critical
        } else {
            Severity::Warning
        },
        summary: format!("targets {healthy}/{total} healthy"),
        // The reason first: at 80 columns it is what fits after the summary.
        detail: Some(format!(
            "{}{} ({} unhealthy)",
            first.reason.as_deref().unwrap_or("no reason given"),
            first
                .description
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default(),
            unhealthy.len(),
        )),
    })
}

/// The longest-STABILIZING task set, when it has been so for over [`STUCK_TASK_SET_SECS`].
fn stuck_task_set(s: &Service, now: i64) -> Option<Problem> {
    use super::task_set::Stability;
    let (set, since) = s
        .task_sets
        .iter()
        .filter(|t| t.stability == Stability::Stabilizing)
        .filter_map(|t| Some((t, t.stability_at.or(t.updated_at).or(t.created_at)?)))
        .filter(|(_, since)| now - since > STUCK_TASK_SET_SECS)
        .min_by_key(|(_, since)| *since)?;
    Some(Problem {
        severity: Severity::Warning,
        summary: "task set stabilizing".into(),
        detail: Some(format!(
            "task set {} ({}, {}) STABILIZING for {} min: {}/{} running",
            set.id,
            set.status.as_str(),
            set.task_definition,
            (now - since) / 60,
            set.running,
            set.computed_desired
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_prefix_of_an_event_is_dropped_only_for_that_service() {
        let m = "(service checkout-api) rolling back to deployment ecs-svc/1.";
        assert_eq!(
            without_service_prefix(m, "checkout-api"),
            "rolling back to deployment ecs-svc/1."
        );
        let m = "(service checkout-api, taskSet ecs-svc/2) has begun draining connections.";
        assert_eq!(
            without_service_prefix(m, "checkout-api"),
            "has begun draining connections."
        );
        // another service's name, a longer name with the same start, or no prefix: unchanged
        for (m, s) in [
            ("(service orders) rolling back", "checkout-api"),
            ("(service checkout-api-v2) rolling back", "checkout-api"),
            ("deployment failed", "checkout-api"),
        ] {
            assert_eq!(without_service_prefix(m, s), m);
        }
    }
    use crate::domain::{Deployment, DeploymentConfig, ServiceEvent};

    const NOW: i64 = 1_700_000_000;

    fn healthy() -> Service {
        Service {
            name: "checkout-api".into(),
            desired: 4,
            running: 4,
            deployment_config: DeploymentConfig {
                circuit_breaker_enabled: true,
                circuit_breaker_rollback: true,
                ..DeploymentConfig::default()
            },
            deployments: vec![Deployment {
                status: "PRIMARY".into(),
                rollout_state: Some("COMPLETED".into()),
                created_at: Some(NOW - 3600),
                ..Deployment::default()
            }],
            ..Service::default()
        }
    }

    #[test]
    fn a_task_set_stabilizing_past_the_threshold_is_a_problem() {
        use crate::domain::task_set::{Stability, TaskSetStatus};
        use crate::domain::{DeploymentController, TaskSet};
        let mut s = healthy();
        s.deployments.clear();
        s.deployment_config.circuit_breaker_enabled = false;
        s.deployment_controller = DeploymentController::External;
        let set = |id: &str, stability: Stability, since: i64| TaskSet {
            id: id.into(),
            status: TaskSetStatus::Active,
            stability,
            stability_at: Some(NOW - since),
            task_definition: "ledger-api:8".into(),
            computed_desired: 4,
            running: 1,
            ..TaskSet::default()
        };
        s.task_sets = vec![
            set("blue", Stability::SteadyState, 3 * 3600),
            set("green", Stability::Stabilizing, STUCK_TASK_SET_SECS - 60),
        ];
        assert!(
            service_problems(&s, NOW).is_empty(),
            "young STABILIZING, and no breaker notice for EXTERNAL"
        );
        s.task_sets[1].stability_at = Some(NOW - STUCK_TASK_SET_SECS - 60);
        let p = service_problems(&s, NOW);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].summary, "task set stabilizing");
        assert!(p[0].detail.as_deref().is_some_and(|d| d.contains("green")));
    }

    #[test]
    fn a_healthy_service_has_no_problem() {
        assert!(service_problems(&healthy(), NOW).is_empty());
    }

    #[test]
    fn failed_rollout_is_critical_with_its_reason() {
        let mut s = healthy();
        s.deployments.push(Deployment {
            status: "ACTIVE".into(),
            rollout_state: Some("FAILED".into()),
            rollout_state_reason: Some(
                "ECS deployment circuit breaker: tasks failed to start.".into(),
            ),
            ..Deployment::default()
        });
        let p = service_problems(&s, NOW);
        assert_eq!(p[0].severity, Severity::Critical);
        assert_eq!(p[0].summary, "rollout FAILED");
        assert!(
            p[0].detail
                .as_deref()
                .unwrap_or("")
                .contains("circuit breaker")
        );
    }

    #[test]
    fn below_desired_counts_only_after_the_grace_period() {
        let mut s = healthy();
        s.running = 2;
        s.deployments[0].created_at = Some(NOW - 30);
        assert!(
            service_problems(&s, NOW).is_empty(),
            "a rollout just started"
        );
        s.deployments[0].created_at = Some(NOW - 600);
        let p = service_problems(&s, NOW);
        assert_eq!(p[0].summary, "2/4 running");
        assert_eq!(p[0].severity, Severity::Warning);
        s.running = 0;
        assert_eq!(service_problems(&s, NOW)[0].severity, Severity::Critical);
    }

    #[test]
    fn recent_stop_events_count_old_ones_do_not() {
        let mut s = healthy();
        s.events = vec![
            ServiceEvent {
                id: "1".into(),
                created_at: Some(NOW - 60),
                message: "(service checkout-api) has stopped 1 running tasks: (task abc).".into(),
            },
            ServiceEvent {
                id: "2".into(),
                created_at: Some(NOW - 7200),
                message: "(service checkout-api) has stopped 1 running tasks: (task def).".into(),
            },
        ];
        let p = service_problems(&s, NOW);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].summary, "1 stop/health events");
    }

    #[test]
    fn circuit_breaker_off_is_only_a_notice() {
        let mut s = healthy();
        s.deployment_config.circuit_breaker_enabled = false;
        let p = service_problems(&s, NOW);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].severity, Severity::Notice);
    }

    #[test]
    fn a_task_that_cannot_be_placed_is_a_problem_with_its_fix() {
        use crate::domain::{Service, ServiceEvent};
        let now = 1_800_000_000;
        let event = |age: i64, message: &str| ServiceEvent {
            id: age.to_string(),
            created_at: Some(now - age),
            message: message.into(),
        };
        let mut s = Service {
            name: "report-worker".into(),
            desired: 8,
            running: 6,
            events: vec![event(
                60,
                "(service report-worker) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance 5a1b) has insufficient memory available. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
            )],
            ..Service::default()
        };
        let p = placement_problem(&s, now).expect("a placement problem");
        assert_eq!(p.summary, "cannot place tasks");
        assert_eq!(p.severity, Severity::Critical);
        assert!(
            p.detail
                .as_deref()
                .is_some_and(|d| d.contains("memory") && d.contains("add container instances"))
        );
        let all = service_problems_with(&s, None, now);
        assert_eq!(
            all.first().map(|p| p.summary.as_str()),
            Some("cannot place tasks")
        );
        assert!(
            !all.iter().any(|p| p.summary.contains("stop/health events")),
            "not counted twice: {all:?}"
        );
        // placed since (a newer event), or long ago: no problem
        s.events.insert(
            0,
            event(10, "(service report-worker) has reached a steady state."),
        );
        assert!(placement_problem(&s, now).is_none());
        s.events.remove(0);
        assert!(placement_problem(&s, now + RECENT_SECS + 120).is_none());
    }
}
