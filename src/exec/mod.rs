//! ECS Exec (break-glass shells) and port forwarding: the preflight, the choice of client
//! (`session-manager-plugin` or berth's built-in one), the plugin's contract, and handing the
//! terminal to it and back.
//!
//! - [`preflight`]: pure checks with a fix for each failure.
//! - [`client`]: `--exec-client auto|native|plugin` and which client runs a session.
//! - [`plugin`]: finding the plugin and building its argv and environment.
//! - [`session`]: a shell's refusal, ExecuteCommand and audit lines, shared by the console
//!   and `berth exec`.
//! - [`signals`]: SIGINT/SIGQUIT/SIGTSTP ignored while a session owns the terminal.
//! - [`cli`]: `berth exec-check` and `berth exec`.

pub mod channel;
pub mod cli;
pub mod client;
pub mod native;
pub mod plugin;
pub mod preflight;
pub mod session;
pub mod signals;

use crate::aws::{self, AwsError, Clients};
use crate::domain::Task;
use preflight::Report;

/// The shell offered first; `bash` and a custom command are the alternatives.
pub const DEFAULT_COMMAND: &str = "/bin/sh";

/// What the preflight is computed from: read once, checked again for each container.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// The cluster's name (part of the SSM target).
    pub cluster: String,
    pub task: Task,
    /// `None` when it could not be read (the check degrades to a note).
    pub task_definition: Option<crate::domain::TaskDefinition>,
    pub logging: Option<preflight::ExecLogging>,
    pub plugin: preflight::Plugin,
    /// The client asked for (`--exec-client`, `[console] exec_client`).
    pub client: client::ExecClient,
}

impl Inputs {
    pub fn check(&self, container: Option<&str>) -> Report {
        preflight::check(
            &self.cluster,
            &self.task,
            self.task_definition.as_ref(),
            self.logging.as_ref(),
            &self.plugin,
            self.client,
            container,
        )
    }

    /// The container's mapped ports (for a port forward's default).
    pub fn ports(&self, container: &str) -> Vec<u16> {
        self.task_definition
            .as_ref()
            .and_then(|td| td.containers.iter().find(|c| c.name == container))
            .map(|c| c.ports.clone())
            .unwrap_or_default()
    }
}

/// Gather everything the preflight needs (the task, its task definition, the cluster's exec
/// configuration, the local plugin), for a session by `client`. Only a task that cannot be
/// read is an error; the rest degrade to notes.
pub async fn gather(
    clients: &Clients,
    cluster: &str,
    task: &str,
    plugin_at: Option<std::path::PathBuf>,
    client: client::ExecClient,
) -> Result<Inputs, AwsError> {
    let task = &aws::tasks::expand_task_ref(&clients.ecs, cluster, task).await?;
    let tasks = aws::tasks::describe_tasks(&clients.ecs, cluster, &[task.to_string()]).await?;
    let Some(t) = tasks.into_iter().next() else {
        return Err(AwsError::new(
            aws::ErrorKind::NotFound,
            "ecs:DescribeTasks",
            format!("task {task} not found in cluster {cluster}"),
        ));
    };
    let cluster_name = crate::domain::Cluster::name_from_arn(if t.cluster_arn.is_empty() {
        cluster
    } else {
        &t.cluster_arn
    })
    .to_string();
    let (td, logging, plugin) = tokio::join!(
        aws::task_definitions::describe_task_definition(&clients.ecs, &t.task_definition),
        aws::exec::cluster_exec_logging(&clients.ecs, cluster),
        plugin::probe(plugin_at),
    );
    if let Err(e) = &td {
        tracing::warn!("exec preflight: {e}");
    }
    if let Err(e) = &logging {
        tracing::warn!("exec preflight: {e}");
    }
    Ok(Inputs {
        cluster: cluster_name,
        task: t,
        task_definition: td.ok(),
        logging: logging.ok().flatten(),
        plugin,
        client,
    })
}

/// Run the plugin in the foreground on the inherited terminal: the original terminal
/// settings are applied before and after, our terminal signals are ignored meanwhile, and
/// input typed as it ended is flushed.
pub async fn run_foreground(inv: &plugin::Invocation) -> std::io::Result<std::process::ExitStatus> {
    let _ignoring = signals::child_running();
    crate::tui::reapply_original_terminal();
    let status = inv
        .command()
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .status()
        .await;
    crate::tui::reapply_original_terminal();
    crate::tui::flush_pending_input();
    status
}

/// The audit parameters of an exec session (no token, no stream URL).
pub fn exec_parameters(
    cluster: &str,
    task: &str,
    container: &str,
    command: &str,
    session_id: Option<&str>,
) -> serde_json::Value {
    let mut p = serde_json::json!({
        "cluster": cluster,
        "task": task,
        "container": container,
        "command": command,
    });
    if let Some(id) = session_id {
        p["session_id"] = serde_json::json!(id);
    }
    p
}
