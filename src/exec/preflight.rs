//! ECS Exec preflight: every precondition of a session checked before anything touches the
//! terminal, each failure with how to fix it. Pure: the caller gathers the task, its task
//! definition, the cluster's exec configuration and the local plugin, then asks [`check`]
//! with the client the user prefers (see [`super::client`]).

use super::client::{self, Choice, ExecClient};
use crate::domain::{Task, TaskDefinition};

/// The cluster's `executeCommandConfiguration`, shown for audit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecLogging {
    /// `NONE`, `DEFAULT`, `OVERRIDE` (absent means DEFAULT).
    pub logging: Option<String>,
    pub cloudwatch_group: Option<String>,
    pub s3_bucket: Option<String>,
    pub kms_key: Option<String>,
}

impl ExecLogging {
    pub fn describe(&self) -> String {
        let mode = self.logging.as_deref().unwrap_or("DEFAULT");
        let mut out = match mode {
            "NONE" => "NONE: session output is not logged".to_string(),
            "OVERRIDE" => {
                let mut parts = Vec::new();
                if let Some(g) = &self.cloudwatch_group {
                    parts.push(format!("CloudWatch group {g}"));
                }
                if let Some(b) = &self.s3_bucket {
                    parts.push(format!("S3 bucket {b}"));
                }
                if parts.is_empty() {
                    "OVERRIDE (no destination set)".to_string()
                } else {
                    format!("OVERRIDE: {}", parts.join(", "))
                }
            }
            "DEFAULT" => "DEFAULT: the task definition's awslogs destination".to_string(),
            other => other.to_string(),
        };
        if self.kms_key.is_some() {
            out.push_str(" (KMS-encrypted)");
        }
        out
    }
}

/// What was found of `session-manager-plugin` on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plugin {
    Found {
        path: std::path::PathBuf,
        /// `--version` output, when it answered.
        version: Option<String>,
    },
    Missing,
}

/// Fargate platform versions before this cannot run ECS Exec.
pub const MIN_PLATFORM: [u32; 3] = [1, 4, 0];

pub const INSTALL_HINT: &str = "install session-manager-plugin: https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html (Debian/Ubuntu: download session-manager-plugin.deb and `sudo dpkg -i` it), or set BERTH_SESSION_MANAGER_PLUGIN to its path";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// Not a blocker, worth knowing (init process off, logging configuration).
    Note,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub label: String,
    pub status: Status,
    pub detail: String,
    /// How to fix a failed check.
    pub fix: Option<String>,
}

/// The whole preflight for one task and container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub cluster: String,
    pub task_id: String,
    pub service: Option<String>,
    /// Every container of the task, in task order.
    pub containers: Vec<String>,
    /// The container the checks are about.
    pub container: Option<String>,
    /// Its runtime id (part of the SSM target).
    pub runtime_id: Option<String>,
    pub checks: Vec<Check>,
    /// The client a session will use (`runner` is `None` when the "client" check failed).
    pub choice: Choice,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Fail)
    }

    pub fn failures(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .count()
    }

    /// `ecs:<cluster>_<task-id>_<runtime-id>`, when the runtime id is known.
    pub fn target(&self) -> Option<String> {
        self.runtime_id
            .as_ref()
            .map(|r| ssm_target(&self.cluster, &self.task_id, r))
    }

    /// The plain-text report `berth exec-check` prints.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "ECS Exec preflight: task {} in {}{}\n",
            self.task_id,
            self.cluster,
            self.container
                .as_deref()
                .map(|c| format!(", container {c}"))
                .unwrap_or_default()
        );
        for c in &self.checks {
            let mark = match c.status {
                Status::Pass => "ok  ",
                Status::Fail => "FAIL",
                Status::Note => "note",
            };
            out.push_str(&format!("  [{mark}] {}: {}\n", c.label, c.detail));
            if let Some(fix) = &c.fix {
                out.push_str(&format!("         fix: {fix}\n"));
            }
        }
        out.push_str(&if self.ok() {
            "ready: every check passed\n".to_string()
        } else {
            format!("not ready: {} check(s) failed\n", self.failures())
        });
        out
    }
}

pub fn ssm_target(cluster: &str, task_id: &str, runtime_id: &str) -> String {
    format!("ecs:{cluster}_{task_id}_{runtime_id}")
}

/// Dotted version numbers (`1.2.707.0`, `1.4.0`); anything non-numeric ends the parse.
pub fn parse_version(text: &str) -> Option<Vec<u32>> {
    let token = text
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    let parts: Vec<u32> = token.split('.').map_while(|p| p.parse().ok()).collect();
    if parts.is_empty() { None } else { Some(parts) }
}

pub(crate) fn version_at_least(v: &[u32], min: &[u32]) -> bool {
    let len = v.len().max(min.len());
    let pad = |x: &[u32], i: usize| x.get(i).copied().unwrap_or(0);
    for i in 0..len {
        match pad(v, i).cmp(&pad(min, i)) {
            std::cmp::Ordering::Greater => return true,
            std::cmp::Ordering::Less => return false,
            std::cmp::Ordering::Equal => {}
        }
    }
    true
}

/// Which container to use: the one asked for, the only one, or the first whose agent runs
/// (essential containers first).
pub fn choose_container(task: &Task, wanted: Option<&str>) -> Option<String> {
    if let Some(w) = wanted {
        return Some(w.to_string());
    }
    if task.containers.len() == 1 {
        return task.containers.first().map(|c| c.name.clone());
    }
    task.containers
        .iter()
        .find(|c| c.exec_agent_status.as_deref() == Some("RUNNING"))
        .or(task.containers.first())
        .map(|c| c.name.clone())
}

/// Run every check. `task_definition` is `None` when it could not be read (a note, not a
/// failure: the API will say if the filesystem is read-only). `client` is the preferred
/// client: the last check says which one will run and why (a failure only when the plugin is
/// asked for and is missing or too old).
pub fn check(
    cluster: &str,
    task: &Task,
    task_definition: Option<&TaskDefinition>,
    logging: Option<&ExecLogging>,
    plugin: &Plugin,
    client: ExecClient,
    container: Option<&str>,
) -> Report {
    let mut checks = Vec::new();
    let pass = |label: &str, detail: String| Check {
        label: label.to_string(),
        status: Status::Pass,
        detail,
        fix: None,
    };
    let fail = |label: &str, detail: String, fix: String| Check {
        label: label.to_string(),
        status: Status::Fail,
        detail,
        fix: Some(fix),
    };
    let note = |label: &str, detail: String, fix: Option<String>| Check {
        label: label.to_string(),
        status: Status::Note,
        detail,
        fix,
    };
    let service = task.service_name().map(str::to_string);
    let update_hint = match &service {
        Some(s) => format!(
            "aws ecs update-service --cluster {cluster} --service {s} --enable-execute-command --force-new-deployment (exec cannot be turned on for a running task; the new tasks will have it)"
        ),
        None => "run a new task with --enable-execute-command (it cannot be turned on for a running task)".to_string(),
    };

    // 1. The task runs.
    if task.last_status == "RUNNING" && task.desired_status != "STOPPED" {
        checks.push(pass("task RUNNING", "RUNNING".into()));
    } else {
        checks.push(fail(
            "task RUNNING",
            format!("{} (desired {})", task.last_status, task.desired_status),
            "exec needs a running task: pick a RUNNING task of the service".into(),
        ));
    }

    // 2. Exec was enabled when the task started.
    if task.exec_enabled {
        checks.push(pass("enableExecuteCommand", "on".into()));
    } else {
        checks.push(fail(
            "enableExecuteCommand",
            "off for this task".into(),
            update_hint,
        ));
    }

    // 3. The container and its agent.
    let chosen = choose_container(task, container);
    let found = chosen
        .as_deref()
        .and_then(|name| task.containers.iter().find(|c| c.name == name));
    let runtime_id = found.and_then(|c| c.runtime_id.clone());
    match (&chosen, found) {
        (Some(name), None) => checks.push(fail(
            "container",
            format!("no container {name} in this task"),
            format!(
                "choose one of: {}",
                task.containers
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        (None, _) => checks.push(fail(
            "container",
            "the task reports no containers".into(),
            "wait for the task to start its containers".into(),
        )),
        (Some(name), Some(c)) => {
            let label = format!("ExecuteCommandAgent RUNNING in {name}");
            match c.exec_agent_status.as_deref() {
                Some("RUNNING") => checks.push(pass(&label, "RUNNING".into())),
                Some(other) => checks.push(fail(
                    &label,
                    other.to_string(),
                    "if it stays stopped: the task role needs ssmmessages:CreateControlChannel, CreateDataChannel, OpenControlChannel and OpenDataChannel, and the task needs a route to ssmmessages (NAT or a VPC endpoint); then start a new task".into(),
                )),
                None => checks.push(fail(
                    &label,
                    "no managed agent on this container".into(),
                    if task.exec_enabled {
                        "the agent has not started yet: wait a few seconds and refresh".into()
                    } else {
                        "enable exec on the service and start new tasks".into()
                    },
                )),
            }
            if runtime_id.is_none() {
                checks.push(fail(
                    "container runtime id",
                    "not reported yet".into(),
                    "wait for the container to start".into(),
                ));
            }
        }
    }

    // 4. Platform version (Fargate only).
    match task.platform_version.as_deref() {
        None => checks.push(pass(
            "platform version",
            match task.launch_type.as_deref() {
                Some(l) => format!("{l} (no platform version)"),
                None => "not Fargate (no platform version)".into(),
            },
        )),
        Some("LATEST") => checks.push(pass("platform version", "LATEST".into())),
        Some(v) => match parse_version(v) {
            Some(parts) if version_at_least(&parts, &MIN_PLATFORM) => {
                checks.push(pass("platform version ≥ 1.4.0", v.to_string()))
            }
            Some(_) => checks.push(fail(
                "platform version ≥ 1.4.0",
                v.to_string(),
                "run the service on platform version 1.4.0 or LATEST".into(),
            )),
            None => checks.push(note(
                "platform version",
                format!("{v} (not a version number)"),
                None,
            )),
        },
    }

    // 5. Root filesystem, init process (from the task definition).
    match (
        task_definition,
        chosen
            .as_deref()
            .and_then(|n| task_definition?.containers.iter().find(|c| c.name == n)),
    ) {
        (Some(_), Some(def)) => {
            if def.readonly_root_filesystem {
                checks.push(fail(
                    "readonlyRootFilesystem off",
                    "on: the SSM agent cannot write its files".into(),
                    "set readonlyRootFilesystem to false for this container in a new task definition revision".into(),
                ));
            } else {
                checks.push(pass("readonlyRootFilesystem off", "off".into()));
            }
            if def.init_process_enabled {
                checks.push(pass("initProcessEnabled", "on".into()));
            } else {
                checks.push(note(
                    "initProcessEnabled",
                    "off: processes left by a session are not reaped".into(),
                    Some("advised: linuxParameters.initProcessEnabled = true".into()),
                ));
            }
        }
        (Some(td), None) => checks.push(note(
            "task definition",
            format!("{} has no container of that name", td.family_revision),
            None,
        )),
        (None, _) => checks.push(note(
            "task definition",
            format!(
                "{} could not be read: readonlyRootFilesystem not checked",
                task.task_definition
            ),
            None,
        )),
    }

    // 6. Exec logging (for audit).
    checks.push(note(
        "cluster exec logging",
        match logging {
            Some(l) => l.describe(),
            None => "not configured (DEFAULT)".into(),
        },
        None,
    ));

    // 7. The client: the plugin or berth's own.
    let choice = client::choose(client, plugin);
    if choice.runner.is_some() {
        checks.push(pass("client", choice.why.clone()));
    } else {
        let (what, fix) = choice
            .problem
            .clone()
            .unwrap_or_else(|| (choice.why.clone(), INSTALL_HINT.to_string()));
        checks.push(fail("client", what, fix));
    }

    Report {
        cluster: cluster.to_string(),
        task_id: task.id.clone(),
        service,
        containers: task.containers.iter().map(|c| c.name.clone()).collect(),
        container: chosen,
        runtime_id,
        checks,
        choice,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Container, ContainerDefinition};
    use crate::exec::client::Runner;

    fn task() -> Task {
        Task {
            id: "0123456789abcdef0123456789abcdef".into(),
            last_status: "RUNNING".into(),
            desired_status: "RUNNING".into(),
            group: Some("service:api".into()),
            launch_type: Some("FARGATE".into()),
            platform_version: Some("1.4.0".into()),
            task_definition: "api:3".into(),
            exec_enabled: true,
            containers: vec![Container {
                name: "app".into(),
                runtime_id: Some("0123-rt".into()),
                exec_agent_status: Some("RUNNING".into()),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn td(readonly: bool) -> TaskDefinition {
        TaskDefinition {
            family_revision: "api:3".into(),
            containers: vec![ContainerDefinition {
                name: "app".into(),
                readonly_root_filesystem: readonly,
                init_process_enabled: true,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn plugin(v: &str) -> Plugin {
        Plugin::Found {
            path: "/usr/local/bin/session-manager-plugin".into(),
            version: Some(v.into()),
        }
    }

    fn failed(r: &Report) -> Vec<&str> {
        r.checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| c.label.as_str())
            .collect()
    }

    #[test]
    fn a_healthy_task_passes_and_names_its_target() {
        let r = check(
            "prod",
            &task(),
            Some(&td(false)),
            None,
            &plugin("1.2.764.0\n"),
            ExecClient::Auto,
            None,
        );
        assert!(r.ok(), "{}", r.to_text());
        assert_eq!(
            r.target().as_deref(),
            Some("ecs:prod_0123456789abcdef0123456789abcdef_0123-rt")
        );
        assert!(r.to_text().contains("ready: every check passed"));
    }

    #[test]
    fn each_precondition_fails_on_its_own_with_a_fix() {
        let mut t = task();
        t.exec_enabled = false;
        let r = check(
            "prod",
            &t,
            Some(&td(false)),
            None,
            &plugin("1.2.764.0"),
            ExecClient::Auto,
            None,
        );
        assert_eq!(failed(&r), vec!["enableExecuteCommand"]);
        let fix = r.checks[1].fix.as_deref().unwrap_or_default();
        assert!(
            fix.contains("--service api --enable-execute-command"),
            "{fix}"
        );

        let mut t = task();
        t.last_status = "STOPPED".into();
        t.desired_status = "STOPPED".into();
        let r = check(
            "prod",
            &t,
            Some(&td(false)),
            None,
            &plugin("1.2.764.0"),
            ExecClient::Auto,
            None,
        );
        assert_eq!(failed(&r), vec!["task RUNNING"]);

        let mut t = task();
        t.containers[0].exec_agent_status = Some("STOPPED".into());
        let r = check(
            "prod",
            &t,
            Some(&td(false)),
            None,
            &plugin("1.2.764.0"),
            ExecClient::Auto,
            None,
        );
        assert_eq!(failed(&r), vec!["ExecuteCommandAgent RUNNING in app"]);
        assert!(r.to_text().contains("ssmmessages"));

        let mut t = task();
        t.platform_version = Some("1.3.0".into());
        let r = check(
            "prod",
            &t,
            Some(&td(false)),
            None,
            &plugin("1.2.764.0"),
            ExecClient::Auto,
            None,
        );
        assert_eq!(failed(&r), vec!["platform version ≥ 1.4.0"]);

        let r = check(
            "prod",
            &task(),
            Some(&td(true)),
            None,
            &plugin("1.2.764.0"),
            ExecClient::Auto,
            None,
        );
        assert_eq!(failed(&r), vec!["readonlyRootFilesystem off"]);

        // The client fails only when the plugin is asked for (see the client tests below).
        let r = check(
            "prod",
            &task(),
            Some(&td(false)),
            None,
            &Plugin::Missing,
            ExecClient::Plugin,
            None,
        );
        assert_eq!(failed(&r), vec!["client"]);
        assert!(!r.ok());
    }

    /// The "client" line of one preflight that passes everything else.
    fn client_line(plugin: &Plugin, client: ExecClient) -> (Report, Check) {
        let r = check(
            "prod",
            &task(),
            Some(&td(false)),
            None,
            plugin,
            client,
            None,
        );
        let line = r
            .checks
            .iter()
            .find(|c| c.label == "client")
            .cloned()
            .unwrap_or_else(|| panic!("no client line:\n{}", r.to_text()));
        assert_eq!(r.checks.last(), Some(&line), "the client line comes last");
        (r, line)
    }

    #[test]
    fn auto_without_a_plugin_runs_the_built_in_client() {
        let (r, line) = client_line(&Plugin::Missing, ExecClient::Auto);
        assert!(r.ok(), "{}", r.to_text());
        assert_eq!(line.status, Status::Pass);
        assert_eq!(r.choice.runner, Some(Runner::Native));
        assert_eq!(
            line.detail,
            "session-manager-plugin not found: using berth's built-in client"
        );
        assert!(
            r.to_text().contains(
                "[ok  ] client: session-manager-plugin not found: using berth's built-in client"
            ),
            "{}",
            r.to_text()
        );
    }

    #[test]
    fn auto_with_an_old_plugin_runs_the_built_in_client_and_says_why() {
        let (r, line) = client_line(&plugin("1.2.650.0"), ExecClient::Auto);
        assert!(r.ok(), "{}", r.to_text());
        assert_eq!(line.status, Status::Pass);
        assert_eq!(r.choice.runner, Some(Runner::Native));
        assert_eq!(
            line.detail,
            "session-manager-plugin 1.2.650.0 is older than 1.2.764.0: using berth's built-in client"
        );
        // the release before the minimum is old; the minimum itself runs
        let (_, line) = client_line(&plugin("1.2.707.0"), ExecClient::Auto);
        assert!(
            line.detail.contains("older than 1.2.764.0"),
            "{}",
            line.detail
        );
        let (r, line) = client_line(&plugin("1.2.764.0"), ExecClient::Auto);
        assert_eq!(
            r.choice.runner,
            Some(Runner::Plugin(
                "/usr/local/bin/session-manager-plugin".into()
            ))
        );
        assert_eq!(
            line.detail,
            "session-manager-plugin 1.2.764.0 at /usr/local/bin/session-manager-plugin"
        );
    }

    #[test]
    fn plugin_asked_for_and_old_fails_with_the_upgrade() {
        let (r, line) = client_line(&plugin("1.2.650.0"), ExecClient::Plugin);
        assert!(!r.ok());
        assert_eq!(r.failures(), 1);
        assert_eq!(line.status, Status::Fail);
        assert_eq!(r.choice.runner, None);
        assert!(line.detail.contains("1.2.650.0"), "{}", line.detail);
        assert!(
            line.detail.contains("older than 1.2.764.0"),
            "{}",
            line.detail
        );
        let fix = line.fix.unwrap_or_default();
        assert!(fix.starts_with("upgrade to 1.2.764.0 or later"), "{fix}");
        assert!(fix.contains(INSTALL_HINT), "{fix}");
        assert!(r.to_text().contains("not ready: 1 check(s) failed"));
    }

    #[test]
    fn plugin_asked_for_and_missing_fails_with_the_install() {
        let (r, line) = client_line(&Plugin::Missing, ExecClient::Plugin);
        assert!(!r.ok());
        assert_eq!(line.status, Status::Fail);
        assert_eq!(r.choice.runner, None);
        assert!(line.detail.contains("not found"), "{}", line.detail);
        let fix = line.fix.unwrap_or_default();
        assert!(fix.starts_with(INSTALL_HINT), "{fix}");
        assert!(r.to_text().contains("fix: install session-manager-plugin"));
        // a plugin that does not say its version
        let silent = Plugin::Found {
            path: "/opt/smp".into(),
            version: None,
        };
        let (r, line) = client_line(&silent, ExecClient::Plugin);
        assert!(!r.ok());
        assert!(
            line.fix
                .unwrap_or_default()
                .contains("`/opt/smp --version`")
        );
        // ... is passed over by auto
        let (r, line) = client_line(&silent, ExecClient::Auto);
        assert!(r.ok());
        assert_eq!(r.choice.runner, Some(Runner::Native));
        assert!(line.detail.contains("did not report its version"));
    }

    #[test]
    fn native_runs_the_built_in_client_even_with_a_good_plugin() {
        for p in [plugin("1.2.779.0"), plugin("1.2.650.0"), Plugin::Missing] {
            let (r, line) = client_line(&p, ExecClient::Native);
            assert!(r.ok(), "{}", r.to_text());
            assert_eq!(r.choice.runner, Some(Runner::Native), "{p:?}");
            assert_eq!(line.status, Status::Pass);
            assert_eq!(line.detail, "berth's built-in client (exec client: native)");
        }
    }

    #[test]
    fn ec2_tasks_have_no_platform_version_to_check() {
        let mut t = task();
        t.platform_version = None;
        t.launch_type = Some("EC2".into());
        let r = check(
            "prod",
            &t,
            Some(&td(false)),
            None,
            &plugin("1.2.764.0"),
            ExecClient::Auto,
            None,
        );
        assert!(r.ok());
        assert!(r.to_text().contains("EC2 (no platform version)"));
    }

    #[test]
    fn a_missing_container_is_named_with_the_choices() {
        let r = check(
            "prod",
            &task(),
            None,
            None,
            &plugin("1.2.764.0"),
            ExecClient::Auto,
            Some("sidecar"),
        );
        assert_eq!(failed(&r), vec!["container"]);
        assert!(r.to_text().contains("choose one of: app"));
        assert_eq!(r.target(), None);
    }

    #[test]
    fn logging_is_shown_for_audit() {
        let l = ExecLogging {
            logging: Some("OVERRIDE".into()),
            cloudwatch_group: Some("/ecs/exec".into()),
            s3_bucket: None,
            kms_key: Some("k".into()),
        };
        let r = check(
            "prod",
            &task(),
            Some(&td(false)),
            Some(&l),
            &plugin("1.2.764.0"),
            ExecClient::Auto,
            None,
        );
        assert!(r.to_text().contains(
            "cluster exec logging: OVERRIDE: CloudWatch group /ecs/exec (KMS-encrypted)"
        ));
        assert!(r.ok());
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(parse_version("1.2.707.0\n"), Some(vec![1, 2, 707, 0]));
        assert_eq!(parse_version("v"), None);
        assert!(version_at_least(&[1, 2, 764, 0], &client::PLUGIN_MIN));
        assert!(version_at_least(&[1, 2, 764, 1], &client::PLUGIN_MIN));
        assert!(version_at_least(&[1, 3], &client::PLUGIN_MIN));
        assert!(!version_at_least(&[1, 2, 763, 99], &client::PLUGIN_MIN));
        assert!(!version_at_least(&[1, 1, 900], &client::PLUGIN_MIN));
        assert!(version_at_least(&[1, 4], &MIN_PLATFORM));
        assert!(!version_at_least(&[1, 3, 9], &MIN_PLATFORM));
    }

    #[test]
    fn the_container_with_a_running_agent_is_chosen_by_default() {
        let mut t = task();
        t.containers.insert(
            0,
            Container {
                name: "envoy".into(),
                exec_agent_status: Some("STOPPED".into()),
                ..Default::default()
            },
        );
        assert_eq!(choose_container(&t, None).as_deref(), Some("app"));
        assert_eq!(
            choose_container(&t, Some("envoy")).as_deref(),
            Some("envoy")
        );
    }
}
