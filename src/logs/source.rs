//! Where a task's logs are. For the `awslogs` driver the task definition says it all:
//! `awslogs-group`, `awslogs-region` (which may differ from the cluster's) and
//! `awslogs-stream-prefix`, giving streams named `<prefix>/<container>/<task-id>`. Other
//! drivers send logs elsewhere; the operator gets a sentence saying where.

use std::collections::{BTreeMap, HashMap};

use super::tail::{LogTarget, StreamSelector};
use crate::aws::logs::LogsClient;
use crate::aws::tasks::TaskListing;
use crate::aws::{AwsError, AwsTarget, Clients, ErrorKind};
use crate::domain::{ContainerDefinition, Task, TaskDefinition};

/// Where one container's logs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerLogs {
    /// CloudWatch Logs through the awslogs driver.
    Awslogs {
        group: String,
        /// `None`: the task's own region.
        region: Option<String>,
        /// `None`: streams are named after the Docker container id (EC2 only).
        prefix: Option<String>,
    },
    /// Somewhere berth cannot read: the sentence says where.
    Elsewhere(String),
}

/// Where `c`'s logs go, from its `logConfiguration`.
pub fn container_logs(c: &ContainerDefinition) -> ContainerLogs {
    let Some(log) = &c.log else {
        return ContainerLogs::Elsewhere(format!(
            "container {} has no logConfiguration: its output is not collected by ECS",
            c.name
        ));
    };
    let opt = |k: &str| log.options.get(k).filter(|v| !v.is_empty()).cloned();
    match log.driver.as_str() {
        "awslogs" => match opt("awslogs-group") {
            Some(group) => ContainerLogs::Awslogs {
                group,
                region: opt("awslogs-region"),
                prefix: opt("awslogs-stream-prefix"),
            },
            None => ContainerLogs::Elsewhere(format!(
                "container {} uses awslogs without awslogs-group",
                c.name
            )),
        },
        "awsfirelens" => {
            let dest = opt("Name").unwrap_or_else(|| "its configured output".into());
            let detail = [
                "log_group_name",
                "delivery_stream",
                "region",
                "Host",
                "bucket",
            ]
            .iter()
            .filter_map(|k| opt(k).map(|v| format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join(", ");
            ContainerLogs::Elsewhere(format!(
                "container {} logs through FireLens (the task's log router) to {dest}{}",
                c.name,
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({detail})")
                }
            ))
        }
        "splunk" => ContainerLogs::Elsewhere(format!(
            "container {} logs to Splunk{}",
            c.name,
            opt("splunk-url")
                .map(|u| format!(" at {u}"))
                .unwrap_or_default()
        )),
        "none" => ContainerLogs::Elsewhere(format!(
            "container {} has logging disabled (logDriver none)",
            c.name
        )),
        driver => {
            let addr = ["fluentd-address", "gelf-address", "syslog-address"]
                .iter()
                .find_map(|k| opt(k));
            ContainerLogs::Elsewhere(format!(
                "container {} logs through the {driver} driver{}; read them there",
                c.name,
                addr.map(|a| format!(" to {a}")).unwrap_or_default()
            ))
        }
    }
}

/// `<prefix>/<container>/<task-id>`.
pub fn stream_name(prefix: &str, container: &str, task_id: &str) -> String {
    format!("{prefix}/{container}/{task_id}")
}

/// What to tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub cluster: String,
    /// Whole service (when `task` is `None`).
    pub service: Option<String>,
    /// One task (id or ARN).
    pub task: Option<String>,
    /// One container of the task(s).
    pub container: Option<String>,
}

/// One log stream to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamLocation {
    pub region: Option<String>,
    pub group: String,
    pub stream: String,
}

/// The streams of a scope, plus sentences about containers whose logs are elsewhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    pub streams: Vec<StreamLocation>,
    pub notes: Vec<String>,
    /// Every task read has stopped: its streams are complete (only late ingestion can add
    /// to them), so there is nothing live to wait for.
    pub all_stopped: bool,
}

/// Streams of `task` per its task definition (all containers, or only `container`).
pub fn task_streams(task: &Task, td: &TaskDefinition, container: Option<&str>, out: &mut Resolved) {
    for c in &td.containers {
        if container.is_some_and(|want| want != c.name) {
            continue;
        }
        match container_logs(c) {
            ContainerLogs::Awslogs {
                group,
                region,
                prefix: Some(prefix),
            } => out.streams.push(StreamLocation {
                region,
                group,
                stream: stream_name(&prefix, &c.name, &task.id),
            }),
            ContainerLogs::Awslogs { prefix: None, .. } => {
                let note = format!(
                    "container {} uses awslogs without awslogs-stream-prefix: its streams are named by Docker container id and cannot be found from the task",
                    c.name
                );
                if !out.notes.contains(&note) {
                    out.notes.push(note);
                }
            }
            ContainerLogs::Elsewhere(note) => {
                if !out.notes.contains(&note) {
                    out.notes.push(note);
                }
            }
        }
    }
}

/// Why a scope could not be resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolveError {
    Aws(AwsError),
    /// A name that does not exist, a container not in the task definition, ...
    NotFound(String),
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::Aws(e) => write!(f, "{e}"),
            ResolveError::NotFound(m) => f.write_str(m),
        }
    }
}

impl From<AwsError> for ResolveError {
    fn from(e: AwsError) -> Self {
        ResolveError::Aws(e)
    }
}

/// Find the streams of a scope: the service's running tasks and those stopped since
/// `since_ms` (ECS lists stopped tasks for about an hour), or one task.
pub async fn resolve(
    clients: &Clients,
    scope: &Scope,
    since_ms: i64,
) -> Result<Resolved, ResolveError> {
    let ecs = &clients.ecs;
    let tasks: Vec<Task> = match (&scope.task, &scope.service) {
        (Some(task), _) => {
            let task = match crate::aws::tasks::expand_task_ref(ecs, &scope.cluster, task).await {
                Ok(t) => t,
                Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::InvalidRequest) => {
                    return Err(ResolveError::NotFound(e.message));
                }
                Err(e) => return Err(e.into()),
            };
            let found =
                crate::aws::tasks::describe_tasks(ecs, &scope.cluster, std::slice::from_ref(&task))
                    .await?;
            if found.is_empty() {
                return Err(ResolveError::NotFound(format!(
                    "task {task} not found in cluster {}",
                    scope.cluster
                )));
            }
            found
        }
        (None, Some(service)) => {
            let (found, _) = crate::aws::services::describe_services(
                ecs,
                &scope.cluster,
                std::slice::from_ref(service),
            )
            .await?;
            if found.iter().all(|s| s.status == "INACTIVE") {
                return Err(ResolveError::NotFound(format!(
                    "service {service} not found in cluster {}",
                    scope.cluster
                )));
            }
            let mut arns = crate::aws::tasks::list_task_arns(
                ecs,
                &scope.cluster,
                Some(service),
                TaskListing::Running,
            )
            .await?;
            arns.extend(
                crate::aws::tasks::list_task_arns(
                    ecs,
                    &scope.cluster,
                    Some(service),
                    TaskListing::Stopped,
                )
                .await?,
            );
            arns.sort();
            arns.dedup();
            crate::aws::tasks::describe_tasks(ecs, &scope.cluster, &arns).await?
        }
        (None, None) => {
            return Err(ResolveError::NotFound(
                "name a service (--service) or a task (--task)".into(),
            ));
        }
    };
    let mut defs: HashMap<String, TaskDefinition> = HashMap::new();
    let mut out = Resolved::default();
    for task in &tasks {
        // a task that never started has no streams
        let started = task.started_at.is_some() || task.last_status == "RUNNING";
        let too_old = task
            .stopped_at
            .is_some_and(|s| s.saturating_mul(1000) < since_ms.saturating_sub(60_000));
        if scope.task.is_none() && (!started || too_old) {
            continue;
        }
        if !defs.contains_key(&task.task_definition) {
            let td =
                crate::aws::task_definitions::describe_task_definition(ecs, &task.task_definition)
                    .await?;
            defs.insert(task.task_definition.clone(), td);
        }
        if let Some(td) = defs.get(&task.task_definition) {
            if let Some(want) = &scope.container
                && !td.containers.iter().any(|c| &c.name == want)
            {
                let names: Vec<&str> = td.containers.iter().map(|c| c.name.as_str()).collect();
                if scope.task.is_some() {
                    return Err(ResolveError::NotFound(format!(
                        "container {want} is not in task definition {} (containers: {})",
                        td.family_revision,
                        names.join(", ")
                    )));
                }
                continue;
            }
            task_streams(task, td, scope.container.as_deref(), &mut out);
        }
    }
    out.streams
        .sort_by(|a, b| (&a.region, &a.group, &a.stream).cmp(&(&b.region, &b.group, &b.stream)));
    out.streams.dedup();
    out.all_stopped = !tasks.is_empty() && tasks.iter().all(|t| t.last_status == "STOPPED");
    Ok(out)
}

/// Group streams into tail targets, one per (region, group), with a Logs client for each
/// region (connecting to another region when awslogs-region says so).
pub async fn targets(
    resolved: &Resolved,
    clients: &Clients,
    target: &AwsTarget,
) -> Result<Vec<LogTarget>, AwsError> {
    let mut by_group: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for s in &resolved.streams {
        let region = s.region.clone().unwrap_or_else(|| clients.region.clone());
        by_group
            .entry((region, s.group.clone()))
            .or_default()
            .push(s.stream.clone());
    }
    let mut regional: HashMap<String, LogsClient> = HashMap::new();
    let mut out = Vec::new();
    for ((region, group), streams) in by_group {
        let client = match regional.get(&region) {
            Some(c) => c.clone(),
            None => {
                let c = if region == clients.region {
                    LogsClient::new(clients.logs.clone(), region.clone())
                } else {
                    let other = crate::aws::connect(&AwsTarget {
                        region: Some(region.clone()),
                        ..target.clone()
                    })
                    .await?;
                    LogsClient::new(other.logs, region.clone())
                };
                regional.insert(region.clone(), c.clone());
                c
            }
        };
        out.push(LogTarget {
            client,
            group,
            streams: StreamSelector::Names(streams),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::LogConfiguration;

    fn container(name: &str, driver: &str, opts: &[(&str, &str)]) -> ContainerDefinition {
        ContainerDefinition {
            name: name.into(),
            log: Some(LogConfiguration {
                driver: driver.into(),
                options: opts
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            }),
            ..ContainerDefinition::default()
        }
    }

    #[test]
    fn awslogs_streams_and_other_drivers() {
        let td = TaskDefinition {
            family_revision: "api:3".into(),
            containers: vec![
                container(
                    "app",
                    "awslogs",
                    &[
                        ("awslogs-group", "/ecs/api"),
                        ("awslogs-region", "eu-west-1"),
                        ("awslogs-stream-prefix", "ecs"),
                    ],
                ),
                container("router", "awsfirelens", &[("Name", "datadog")]),
                container("legacy", "splunk", &[("splunk-url", "https://splunk:8088")]),
                container("noprefix", "awslogs", &[("awslogs-group", "/ecs/api")]),
                ContainerDefinition {
                    name: "quiet".into(),
                    ..ContainerDefinition::default()
                },
            ],
            ..TaskDefinition::default()
        };
        let task = Task {
            id: "abc123".into(),
            ..Task::default()
        };
        let mut r = Resolved::default();
        task_streams(&task, &td, None, &mut r);
        assert_eq!(
            r.streams,
            vec![StreamLocation {
                region: Some("eu-west-1".into()),
                group: "/ecs/api".into(),
                stream: "ecs/app/abc123".into(),
            }]
        );
        let notes = r.notes.join("\n");
        assert!(
            notes.contains("FireLens") && notes.contains("datadog"),
            "{notes}"
        );
        assert!(notes.contains("Splunk at https://splunk:8088"), "{notes}");
        assert!(notes.contains("without awslogs-stream-prefix"), "{notes}");
        assert!(notes.contains("quiet has no logConfiguration"), "{notes}");
        let mut one = Resolved::default();
        task_streams(&task, &td, Some("router"), &mut one);
        assert!(one.streams.is_empty() && one.notes.len() == 1);
    }
}
