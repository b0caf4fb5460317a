//! The incident timeline of a service: deployments (created, completed, failed, rolled back),
//! service events, task stops with their cause, and bursts of error-level log lines, merged
//! on one time axis, newest first. Pure: built from what the loaders read.

use super::history::{DeploymentStatus, HistoryDeployment};
use super::scaling::{ActivityStatus, ScalingActivity};
use super::stop_cause::{self, StopCause};
use super::{Service, Task};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Deployment,
    Event,
    Stop,
    Errors,
    /// An Application Auto Scaling activity.
    Scaling,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Deployment => "deploy",
            Kind::Event => "event",
            Kind::Stop => "stop",
            Kind::Errors => "errors",
            Kind::Scaling => "scale",
        }
    }
}

pub use super::severity::{Severity, event_severity};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Unix seconds.
    pub at: i64,
    pub kind: Kind,
    pub severity: Severity,
    pub text: String,
    /// A task this entry is about (stops), to open it.
    pub task_arn: Option<String>,
}

/// Error-level log lines counted per minute (`minute` is the minute's first unix second).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorMinute {
    pub minute: i64,
    pub count: usize,
    /// One message of that minute (the first seen), for the entry's text.
    pub example: String,
}

/// What the runner read for a timeline. Parts that could not be read are notes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimelineData {
    pub service: Option<crate::domain::Service>,
    pub stopped: Vec<crate::domain::Task>,
    pub errors: Vec<ErrorMinute>,
    /// Error lines read (all minutes), for the title.
    pub error_lines: usize,
    /// The service's deployment history (empty when it could not be read: see `notes`).
    pub history: Vec<HistoryDeployment>,
    /// The service's auto scaling (no target when it has none; its activities newest first),
    /// `None` when it could not be read: see `notes`.
    pub scaling: Option<super::scaling::Scaling>,
    pub notes: Vec<String>,
}

/// A minute with at least this many error lines is part of a burst.
pub const BURST_MIN_PER_MINUTE: usize = 5;

/// Stops of the same cause within this many seconds are one entry.
const STOP_GROUP_SECS: i64 = 60;

fn short_deployment(id: &str) -> &str {
    id.strip_prefix("ecs-svc/").unwrap_or(id)
}

/// Build the timeline for `[from, to]` (unix seconds), newest first.
pub fn build(
    service: Option<&Service>,
    stopped: &[Task],
    errors: &[ErrorMinute],
    from: i64,
    to: i64,
) -> Vec<Entry> {
    build_with_history(service, &[], stopped, errors, from, to)
}

/// Live deployments and history entries closer than this are the same moment.
const SAME_DEPLOYMENT_SECS: i64 = 120;

/// The history's entries: a service deployment's start, and its failure or rollback, unless
/// DescribeServices' deployments already gave the same (same task definition, about the same
/// time). Once a rollback completes the FAILED deployment is gone from DescribeServices, and
/// these are what is left of it.
fn history_entries(
    service: Option<&Service>,
    history: &[HistoryDeployment],
    inside: &dyn Fn(Option<i64>) -> Option<i64>,
) -> Vec<Entry> {
    let live = service.map(|s| s.deployments.as_slice()).unwrap_or(&[]);
    let near = |a: Option<i64>, b: i64| a.is_some_and(|a| (a - b).abs() <= SAME_DEPLOYMENT_SECS);
    let mut out = Vec::new();
    for d in history {
        let target = d.target.as_ref().and_then(|t| t.task_definition.clone());
        let same_td = |td: &str| target.as_deref().is_none_or(|t| t == td);
        let id = d.id().chars().take(8).collect::<String>();
        if let Some(at) = inside(d.start())
            && !live
                .iter()
                .any(|l| same_td(&l.task_definition) && near(l.created_at, at))
        {
            out.push(Entry {
                at,
                kind: Kind::Deployment,
                severity: Severity::Info,
                text: format!("service deployment {id} started: {}", d.revisions()),
                task_arn: None,
            });
        }
        let cause = d.cause().map(|c| format!(" ({c})")).unwrap_or_default();
        let target_label = d
            .target
            .as_ref()
            .map(|t| t.label())
            .unwrap_or_else(|| "?".into());
        if d.status.is_rollback() {
            let back_to = d
                .rollback
                .as_ref()
                .and_then(|r| r.to.as_ref())
                .or(d.source.first())
                .map(|r| format!(" to {}", r.label()))
                .unwrap_or_default();
            let started = d.rollback.as_ref().and_then(|r| r.started_at);
            let failed_live = live.iter().any(|l| {
                l.rollout_state.as_deref() == Some("FAILED")
                    && same_td(&l.task_definition)
                    && started.is_some_and(|s| near(l.updated_at, s))
            });
            if let Some(at) = inside(started.or(d.updated_at))
                && !failed_live
            {
                out.push(Entry {
                    at,
                    kind: Kind::Deployment,
                    severity: Severity::Bad,
                    text: format!(
                        "service deployment {id} failed: {target_label}{cause}, rolling back{back_to}"
                    ),
                    task_arn: None,
                });
            }
            if let Some(at) = inside(d.finished_at) {
                let (severity, what) = match d.status {
                    DeploymentStatus::RollbackSuccessful => (Severity::Good, "rolled back"),
                    _ => (Severity::Bad, "rollback failed"),
                };
                out.push(Entry {
                    at,
                    kind: Kind::Deployment,
                    severity,
                    text: format!("service deployment {id} {what}{back_to}"),
                    task_arn: None,
                });
            }
        } else if matches!(
            d.status,
            DeploymentStatus::Stopped | DeploymentStatus::StopRequested
        ) && let Some(at) = inside(d.stopped_at.or(d.updated_at))
        {
            out.push(Entry {
                at,
                kind: Kind::Deployment,
                severity: Severity::Info,
                text: format!("service deployment {id} stopped: {target_label}{cause}"),
                task_arn: None,
            });
        }
    }
    out
}

/// One entry per auto scaling activity: what it set, how it ended, and its cause.
pub fn scaling_entries(activities: &[ScalingActivity], from: i64, to: i64) -> Vec<Entry> {
    activities
        .iter()
        .filter_map(|a| {
            let at = a.start.filter(|t| (from..=to).contains(t))?;
            let severity = match a.status {
                ActivityStatus::Successful => Severity::Info,
                ActivityStatus::Failed | ActivityStatus::Unfulfilled => Severity::Bad,
                _ if a.blocked_at_max() => Severity::Bad,
                _ => Severity::Warn,
            };
            let outcome = match (&a.status, a.blocked_at_max()) {
                (_, true) => "blocked at maximum capacity".to_string(),
                (status, false) => status.as_str().to_string(),
            };
            Some(Entry {
                at,
                kind: Kind::Scaling,
                severity,
                text: format!(
                    "{} {outcome} — {}",
                    a.description.trim_end_matches('.'),
                    a.short_cause()
                ),
                task_arn: None,
            })
        })
        .collect()
}

/// [`build_with_history`] with the auto scaling activities.
pub fn build_full(data: &TimelineData, from: i64, to: i64) -> Vec<Entry> {
    let mut out = build_with_history(
        data.service.as_ref(),
        &data.history,
        &data.stopped,
        &data.errors,
        from,
        to,
    );
    if let Some(s) = &data.scaling {
        out.extend(scaling_entries(&s.activities, from, to));
    }
    out.sort_by(|a, b| b.at.cmp(&a.at).then(a.kind.cmp(&b.kind)));
    out
}

/// [`build`] with the service's deployment history.
pub fn build_with_history(
    service: Option<&Service>,
    history: &[HistoryDeployment],
    stopped: &[Task],
    errors: &[ErrorMinute],
    from: i64,
    to: i64,
) -> Vec<Entry> {
    let inside = |t: Option<i64>| t.filter(|t| (from..=to).contains(t));
    let mut out = history_entries(service, history, &inside);
    if let Some(s) = service {
        for d in &s.deployments {
            let id = short_deployment(&d.id);
            if let Some(at) = inside(d.created_at) {
                out.push(Entry {
                    at,
                    kind: Kind::Deployment,
                    severity: Severity::Info,
                    text: format!(
                        "deployment {id} started: {} ({} desired)",
                        d.task_definition, d.desired
                    ),
                    task_arn: None,
                });
            }
            let ended = match d.rollout_state.as_deref() {
                Some("COMPLETED") => Some((
                    Severity::Good,
                    format!("deployment {id} completed: {}", d.task_definition),
                )),
                Some("FAILED") => Some((
                    Severity::Bad,
                    format!(
                        "deployment {id} failed: {}{}",
                        d.task_definition,
                        d.rollout_state_reason
                            .as_deref()
                            .map(|r| format!(
                                " ({})",
                                r.strip_prefix("ECS deployment ").unwrap_or(r)
                            ))
                            .unwrap_or_default()
                    ),
                )),
                _ => None,
            };
            if let (Some((severity, text)), Some(at)) = (ended, inside(d.updated_at))
                && d.updated_at != d.created_at
            {
                out.push(Entry {
                    at,
                    kind: Kind::Deployment,
                    severity,
                    text,
                    task_arn: None,
                });
            }
        }
        for e in &s.events {
            if let Some(at) = inside(e.created_at) {
                out.push(Entry {
                    at,
                    kind: Kind::Event,
                    severity: event_severity(&e.message),
                    // the timeline is one service's: its name on every line is noise
                    text: super::problems::without_service_prefix(&e.message, &s.name).to_string(),
                    task_arn: None,
                });
            }
        }
    }

    // Stops: grouped by cause within a minute.
    let mut stops: Vec<(i64, StopCause, &Task)> = stopped
        .iter()
        .filter_map(|t| {
            let at = inside(t.stopped_at.or(t.stopping_at))?;
            Some((at, stop_cause::classify(t), t))
        })
        .collect();
    stops.sort_by_key(|(at, cause, _)| (*cause, *at));
    let mut i = 0;
    while i < stops.len() {
        let (start, cause, first) = stops[i];
        let mut j = i + 1;
        while j < stops.len() && stops[j].1 == cause && stops[j].0 - start <= STOP_GROUP_SECS {
            j += 1;
        }
        let n = j - i;
        let last = stops[j - 1].0;
        let exit = first
            .containers
            .iter()
            .find_map(|c| c.exit_code.filter(|code| *code != 0))
            .map(|c| format!(", exit {c}"))
            .unwrap_or_default();
        let text = if n == 1 {
            format!(
                "task {} stopped: {}{exit} — {}",
                first.short_id(),
                cause.title(),
                first.stopped_reason.as_deref().unwrap_or("")
            )
        } else {
            format!(
                "{n} tasks stopped: {} — e.g. {}",
                cause.title(),
                first.stopped_reason.as_deref().unwrap_or("")
            )
        };
        out.push(Entry {
            at: last,
            kind: Kind::Stop,
            severity: if cause.is_routine() {
                Severity::Info
            } else {
                Severity::Bad
            },
            text: text.trim_end_matches([' ', '—']).to_string(),
            task_arn: (n == 1).then(|| first.arn.clone()),
        });
        i = j;
    }

    // Error bursts: consecutive minutes over the threshold.
    let mut minutes: Vec<&ErrorMinute> = errors
        .iter()
        .filter(|m| m.count >= BURST_MIN_PER_MINUTE && inside(Some(m.minute)).is_some())
        .collect();
    minutes.sort_by_key(|m| m.minute);
    let mut k = 0;
    while k < minutes.len() {
        let mut end = k + 1;
        while end < minutes.len() && minutes[end].minute - minutes[end - 1].minute <= 60 {
            end += 1;
        }
        let run = &minutes[k..end];
        let total: usize = run.iter().map(|m| m.count).sum();
        let span = run.len();
        out.push(Entry {
            at: run[0].minute,
            kind: Kind::Errors,
            severity: Severity::Bad,
            text: format!(
                "{total} error lines in {span} min — e.g. {}",
                run[0].example
            ),
            task_arn: None,
        });
        k = end;
    }

    out.sort_by(|a, b| b.at.cmp(&a.at).then(a.kind.cmp(&b.kind)));
    out
}

/// Count error lines per minute (`(timestamp_ms, message)` of error-level lines).
pub fn error_minutes<'a>(lines: impl IntoIterator<Item = (i64, &'a str)>) -> Vec<ErrorMinute> {
    let mut by: std::collections::BTreeMap<i64, ErrorMinute> = Default::default();
    for (ms, message) in lines {
        let minute = ms.div_euclid(60_000) * 60;
        by.entry(minute)
            .or_insert_with(|| ErrorMinute {
                minute,
                count: 0,
                example: message.chars().take(200).collect(),
            })
            .count += 1;
    }
    by.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Container, Deployment, ServiceEvent};

    const T: i64 = 1_700_000_000;

    fn service() -> Service {
        Service {
            name: "api".into(),
            deployments: vec![
                Deployment {
                    id: "ecs-svc/222".into(),
                    status: "PRIMARY".into(),
                    rollout_state: Some("FAILED".into()),
                    rollout_state_reason: Some("circuit breaker".into()),
                    task_definition: "api:8".into(),
                    desired: 3,
                    created_at: Some(T - 600),
                    updated_at: Some(T - 300),
                    ..Deployment::default()
                },
                Deployment {
                    id: "ecs-svc/111".into(),
                    status: "ACTIVE".into(),
                    rollout_state: Some("COMPLETED".into()),
                    task_definition: "api:7".into(),
                    created_at: Some(T - 90_000),
                    updated_at: Some(T - 89_000),
                    ..Deployment::default()
                },
            ],
            events: vec![
                ServiceEvent {
                    id: "e2".into(),
                    created_at: Some(T - 290),
                    message: "(service api) rolling back to deployment ecs-svc/111.".into(),
                },
                ServiceEvent {
                    id: "e1".into(),
                    created_at: Some(T - 100),
                    message: "(service api) has reached a steady state.".into(),
                },
            ],
            ..Service::default()
        }
    }

    fn oom(id: &str, at: i64) -> Task {
        Task {
            arn: format!("arn:aws:ecs:r:1:task/c/{id}"),
            id: id.into(),
            last_status: "STOPPED".into(),
            stop_code: Some("EssentialContainerExited".into()),
            stopped_reason: Some("Essential container in task exited".into()),
            stopped_at: Some(at),
            containers: vec![Container {
                name: "app".into(),
                exit_code: Some(137),
                reason: Some("OutOfMemoryError: Container killed due to memory usage".into()),
                ..Container::default()
            }],
            ..Task::default()
        }
    }

    #[test]
    fn entries_merge_newest_first_within_the_window() {
        let stops = vec![oom("aaaaaaaa1111", T - 400), oom("bbbbbbbb2222", T - 380)];
        let errors = error_minutes((0..12).map(|i| ((T - 420) * 1000 + i * 1000, "db timeout")));
        let entries = build(Some(&service()), &stops, &errors, T - 3600, T);
        let kinds: Vec<(i64, Kind)> = entries.iter().map(|e| (T - e.at, e.kind)).collect();
        assert!(
            entries.windows(2).all(|w| w[0].at >= w[1].at),
            "newest first: {kinds:?}"
        );
        // the old deployment is outside the hour
        assert!(
            !entries
                .iter()
                .any(|e| e.text.contains("ecs-svc/111") && e.kind == Kind::Deployment)
        );
        let texts: Vec<&str> = entries.iter().map(|e| e.text.as_str()).collect();
        assert!(
            texts.contains(&"deployment 222 started: api:8 (3 desired)"),
            "{texts:?}"
        );
        assert!(
            texts.contains(&"deployment 222 failed: api:8 (circuit breaker)"),
            "{texts:?}"
        );
        let stop = entries.iter().find(|e| e.kind == Kind::Stop).unwrap();
        assert!(stop.text.starts_with("2 tasks stopped: "), "{}", stop.text);
        assert_eq!(stop.severity, Severity::Bad);
        let burst = entries.iter().find(|e| e.kind == Kind::Errors).unwrap();
        assert_eq!(burst.text, "12 error lines in 1 min — e.g. db timeout");
        let rollback = entries
            .iter()
            .find(|e| e.text.contains("rolling back"))
            .unwrap();
        assert_eq!(rollback.severity, Severity::Bad);
        assert_eq!(
            rollback.text, "rolling back to deployment ecs-svc/111.",
            "the service's own name is dropped from its timeline"
        );
        let steady = entries.iter().find(|e| e.text.contains("steady")).unwrap();
        assert_eq!(steady.severity, Severity::Good);
    }

    #[test]
    fn quiet_minutes_are_not_bursts_and_adjacent_ones_merge() {
        let mut lines: Vec<(i64, &str)> = (0..3).map(|i| (T * 1000 + i, "x")).collect();
        lines.extend((0..6).map(|i| ((T + 600) * 1000 + i, "boom")));
        lines.extend((0..7).map(|i| ((T + 660) * 1000 + i, "boom again")));
        let minutes = error_minutes(lines.iter().map(|(t, m)| (*t, *m)));
        assert_eq!(minutes.len(), 3);
        let entries = build(None, &[], &minutes, T - 60, T + 3600);
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0].text, "13 error lines in 2 min — e.g. boom");
    }

    #[test]
    fn one_stop_names_its_task_and_exit_code() {
        let entries = build(None, &[oom("cccccccc3333", T)], &[], T - 60, T);
        assert_eq!(entries.len(), 1);
        assert!(
            entries[0].text.starts_with("task cccccccc stopped: "),
            "{}",
            entries[0].text
        );
        assert!(entries[0].text.contains("exit 137"), "{}", entries[0].text);
        assert!(entries[0].task_arn.is_some());
    }

    fn history_rollback(at: i64) -> HistoryDeployment {
        use crate::domain::history::{CircuitBreakerState, RevisionRef, RollbackInfo};
        let rev = |td: &str| RevisionRef {
            arn: format!("rev/{td}"),
            task_definition: Some(td.into()),
            ..RevisionRef::default()
        };
        HistoryDeployment {
            arn: "arn:aws:ecs:r:1:service-deployment/c/api/abcdef123456".into(),
            status: DeploymentStatus::RollbackSuccessful,
            status_reason: None,
            created_at: Some(at - 300),
            started_at: Some(at - 300),
            finished_at: Some(at + 120),
            stopped_at: None,
            updated_at: Some(at + 120),
            source: vec![rev("api:7")],
            target: Some(rev("api:8")),
            circuit_breaker: Some(CircuitBreakerState {
                status: "TRIGGERED".into(),
                failures: 3,
                threshold: 3,
            }),
            triggered_alarms: Vec::new(),
            rollback: Some(RollbackInfo {
                reason: None,
                started_at: Some(at),
                to: Some(rev("api:7")),
            }),
            strategy: None,
            bake_time_minutes: None,
            lifecycle_stage: None,
            hooks: Vec::new(),
        }
    }

    #[test]
    fn history_fills_in_what_describe_services_dropped_and_nothing_twice() {
        // DescribeServices still lists the FAILED deployment: history adds only the rollback's end.
        let live = service();
        let h = [history_rollback(T - 300)];
        let entries = build_with_history(Some(&live), &h, &[], &[], T - 3600, T);
        let failed: Vec<&str> = entries
            .iter()
            .filter(|e| e.text.contains("failed") && e.text.contains("api:8"))
            .map(|e| e.text.as_str())
            .collect();
        assert_eq!(failed.len(), 1, "{entries:#?}");
        assert!(
            !entries
                .iter()
                .any(|e| e.text.starts_with("service deployment abcdef12 started")),
            "the live deployment's start is not repeated: {entries:#?}"
        );
        assert!(
            entries
                .iter()
                .any(|e| e.text == "service deployment abcdef12 rolled back to api:7")
        );

        // After the rollback completed, DescribeServices no longer lists it: history tells it.
        let mut gone = service();
        gone.deployments
            .retain(|d| d.rollout_state.as_deref() != Some("FAILED"));
        let entries = build_with_history(Some(&gone), &h, &[], &[], T - 3600, T);
        let texts: Vec<&str> = entries.iter().map(|e| e.text.as_str()).collect();
        assert!(
            texts.contains(&"service deployment abcdef12 started: api:7→8"),
            "{texts:?}"
        );
        let failure = entries
            .iter()
            .find(|e| e.text.starts_with("service deployment abcdef12 failed"))
            .unwrap();
        assert_eq!(
            failure.text,
            "service deployment abcdef12 failed: api:8 (circuit breaker: 3/3 tasks failed), rolling back to api:7"
        );
        assert_eq!(failure.severity, Severity::Bad);
    }
}
