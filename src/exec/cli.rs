//! `berth exec-check` and `berth exec`: the console's preflight and session for scripts and
//! for people without the UI (an `aws ecs execute-command` that needs no AWS CLI).

use std::io::{BufRead, Write};
use std::process::ExitCode;

use clap::Args;

use super::plugin;
use super::preflight::Plugin;
use crate::audit::{self, Actor, Entry};
use crate::aws::{self, Clients};
use crate::config::safety::Safety;

#[derive(Debug, Clone, Args)]
pub struct ExecTarget {
    /// Cluster name or ARN
    #[arg(long, value_name = "NAME")]
    pub cluster: String,

    /// Task id or ARN
    #[arg(long, value_name = "ID")]
    pub task: String,

    /// Container (default: the only one, or the first whose exec agent runs)
    #[arg(long, value_name = "NAME")]
    pub container: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub target: ExecTarget,

    /// Command to run in the container
    #[arg(long, default_value = super::DEFAULT_COMMAND, value_name = "CMD")]
    pub command: String,
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("berth: {msg}");
    ExitCode::FAILURE
}

async fn connect(
    cli: &crate::cli::Cli,
) -> Result<
    (
        Clients,
        crate::aws::AwsTarget,
        Option<crate::sandbox::SandboxHandle>,
    ),
    String,
> {
    let (target, demo) = crate::cli::resolve_target(cli)
        .await
        .map_err(|e| format!("cannot start the sandbox: {e}"))?;
    let clients = aws::connect(&target).await.map_err(|e| e.to_string())?;
    Ok((clients, target, demo))
}

/// `berth exec-check`: print the preflight; exit 0 when every check passed, 1 otherwise.
pub async fn check(args: ExecTarget, cli: &crate::cli::Cli) -> ExitCode {
    let (clients, _, demo) = match connect(cli).await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let code = match super::gather(&clients, &args.cluster, &args.task, None).await {
        Ok(inputs) => {
            let report = inputs.check(args.container.as_deref());
            print!("{}", crate::text::sanitize_multiline(&report.to_text()));
            if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => fail(e),
    };
    if let Some(h) = demo {
        h.shutdown().await;
    }
    code
}

/// `berth exec`: preflight, confirmation in protected accounts, ExecuteCommand, then the
/// plugin on this terminal. Exits with the session's exit code.
pub async fn exec(args: ExecArgs, cli: &crate::cli::Cli, safety: Safety) -> ExitCode {
    let (clients, target, demo) = match connect(cli).await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let code = exec_connected(&args, cli, &safety, &clients, &target).await;
    if let Some(h) = demo {
        h.shutdown().await;
    }
    code
}

async fn exec_connected(
    args: &ExecArgs,
    cli: &crate::cli::Cli,
    safety: &Safety,
    clients: &Clients,
    target: &crate::aws::AwsTarget,
) -> ExitCode {
    let t = &args.target;
    let (report, task) = match super::gather(clients, &t.cluster, &t.task, None).await {
        Ok(inputs) => (inputs.check(t.container.as_deref()), inputs.task),
        Err(e) => return fail(e),
    };
    if !report.ok() {
        eprint!("{}", crate::text::sanitize_multiline(&report.to_text()));
        return ExitCode::FAILURE;
    }
    let (Some(ssm_target), Some(container), Plugin::Found { path, .. }) =
        (report.target(), report.container.clone(), &report.plugin)
    else {
        return fail("preflight passed without a target (this is a bug)");
    };

    let identity = aws::identity::caller_identity(&clients.sts).await;
    let (account, caller) = match &identity {
        Ok(id) => (Some(id.account.clone()), Some(id.arn.clone())),
        Err(e) => {
            tracing::warn!("caller identity: {e}");
            (None, None)
        }
    };
    let actor = Actor {
        profile: target.profile.clone(),
        region: Some(clients.region.clone()),
        account,
        caller,
    };
    let audit_path = audit::default_path();
    let now_ms = || crate::runtime::now_unix().saturating_mul(1000);
    let audit_target = format!("task {}/{} container {container}", report.cluster, task.id);
    let params = |session: Option<&str>| {
        super::exec_parameters(
            &report.cluster,
            &task.id,
            &container,
            &args.command,
            session,
        )
    };
    let log = |outcome: &str, parameters: serde_json::Value, error: Option<String>| {
        audit::record(
            audit_path.as_deref(),
            &Entry::session(
                now_ms(),
                &actor,
                "exec",
                audit_target.clone(),
                parameters,
                outcome,
                error,
            ),
        );
    };
    if let Some(reason) = audit::refusal(cli.read_only, safety, &actor, audit_path.as_deref()) {
        log("refused", params(None), Some(reason.clone()));
        return fail(reason);
    }
    let rule = safety.rule(actor.profile.as_deref(), actor.account.as_deref());
    if rule.protected {
        let expected = report
            .service
            .clone()
            .unwrap_or_else(|| task.short_id().to_string());
        eprint!(
            "berth: {} is a protected account. Type {expected} to open a shell in {container}: ",
            actor.account.as_deref().unwrap_or("this")
        );
        let _ = std::io::stderr().flush();
        let typed = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map(|_| line)
        })
        .await;
        let ok = matches!(&typed, Ok(Ok(line)) if line.trim() == expected);
        if !ok {
            log("refused", params(None), Some("not confirmed".into()));
            return fail("not confirmed; nothing was started");
        }
    }

    let grant = match aws::exec::execute_command(
        &clients.ecs,
        &t.cluster,
        &task.arn,
        &container,
        &args.command,
    )
    .await
    {
        Ok(g) => g,
        Err(e) => {
            log("error", params(None), Some(e.to_string()));
            return fail(e);
        }
    };
    let session_id = grant.session_id.clone();
    log("ok", params(Some(&session_id)), None);
    let inv = plugin::invocation(
        path.clone(),
        grant,
        &clients.region,
        target.profile.as_deref(),
        &serde_json::json!({ "Target": ssm_target }),
        target.endpoint_url.as_deref(),
    );
    super::signals::install(|s| {
        if s != super::signals::TermSignal::Stop {
            std::process::exit(130);
        }
    });
    eprintln!(
        "berth: {} in {container} of task {} ({}); exit the shell to come back",
        crate::text::sanitize(&args.command),
        task.short_id(),
        report.cluster
    );
    let status = super::run_foreground(&inv).await;
    let (ended, code) = match &status {
        Ok(s) => (plugin::describe_exit(s), s.code().unwrap_or(1)),
        Err(e) => (format!("could not start {}: {e}", path.display()), 1),
    };
    let mut p = params(Some(&session_id));
    p["ended"] = serde_json::json!(ended);
    log(if status.is_ok() { "ended" } else { "error" }, p, None);
    eprintln!("berth: session ended ({ended})");
    ExitCode::from(u8::try_from(code.clamp(0, 255)).unwrap_or(1))
}
