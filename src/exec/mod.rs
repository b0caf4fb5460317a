//! ECS Exec (break-glass shells) and port forwarding: the preflight, the
//! `session-manager-plugin` contract, and handing the terminal to it and back.
//!
//! - [`preflight`]: pure checks with a fix for each failure.
//! - [`plugin`]: finding the plugin and building its argv and environment.
//! - [`signals`]: SIGINT/SIGQUIT/SIGTSTP ignored while a session owns the terminal.
//! - [`cli`]: `berth exec-check` and `berth exec`.
//! - [`forward`]: port-forwarding sessions run in the background.

pub mod cli;
pub mod forward;
pub mod plugin;
pub mod preflight;
pub mod signals;

use crate::aws::{self, AwsError, Clients};
use crate::domain::Task;
use preflight::Report;

/// The shell offered first; `bash` and a custom command are the alternatives.
pub const DEFAULT_COMMAND: &str = "/bin/sh";

/// Gather everything the preflight needs (the task, its task definition, the cluster's exec
/// configuration, the local plugin) and check it. Only a task that cannot be read is an
/// error; the rest degrade to notes.
pub async fn gather(
    clients: &Clients,
    cluster: &str,
    task: &str,
    container: Option<&str>,
) -> Result<(Report, Task), AwsError> {
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
        plugin::probe(),
    );
    if let Err(e) = &td {
        tracing::warn!("exec preflight: {e}");
    }
    if let Err(e) = &logging {
        tracing::warn!("exec preflight: {e}");
    }
    let report = preflight::check(
        &cluster_name,
        &t,
        td.ok().as_ref(),
        logging.ok().flatten().as_ref(),
        &plugin,
        container,
    );
    Ok((report, t))
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
