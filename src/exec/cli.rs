//! `berth exec-check` and `berth exec`: the console's preflight and session for scripts and
//! for people without the UI (an `aws ecs execute-command` that needs no AWS CLI).

use std::io::{BufRead, Write};
use std::process::ExitCode;

use clap::Args;

use super::session::{self, Granted, Shell, ShellMode};
use crate::audit::{self, Actor};
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

    /// Run the command as given, not under `sh -c` (for a container without `sh`); berth's
    /// built-in client then cannot report its exit status
    #[arg(long)]
    pub raw: bool,
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
    let client = cli.exec_client.unwrap_or_default();
    let code = match super::gather(&clients, &args.cluster, &args.task, None, client).await {
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
/// client (`--exec-client`) on this terminal. Exits with the session's exit code.
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
    let client = cli.exec_client.unwrap_or_default();
    let (report, task) = match super::gather(clients, &t.cluster, &t.task, None, client).await {
        Ok(inputs) => (inputs.check(t.container.as_deref()), inputs.task),
        Err(e) => return fail(e),
    };
    if !report.ok() {
        eprint!("{}", crate::text::sanitize_multiline(&report.to_text()));
        return ExitCode::FAILURE;
    }
    let (Some(ssm_target), Some(container), Some(runner)) = (
        report.target(),
        report.container.clone(),
        report.choice.runner.clone(),
    ) else {
        return fail("preflight passed without a target (this is a bug)");
    };
    // The cluster as the task names it: ExecuteCommand and the audit line get its name.
    let shell = Shell {
        cluster: report.cluster.clone(),
        task_arn: task.arn.clone(),
        task_id: task.id.clone(),
        container,
        command: args.command.clone(),
        target: ssm_target,
        mode: shell_mode(args.raw),
        runner,
    };
    let actor = actor(clients, target).await;
    let audit = shell.audit(&actor, audit::default_path(), crate::clock::wall_clock());
    if let Some(reason) = audit.refuse(cli.read_only, safety) {
        return fail(reason);
    }
    if safety
        .rule(actor.profile.as_deref(), actor.account.as_deref())
        .protected
    {
        let expected = report
            .service
            .clone()
            .unwrap_or_else(|| task.short_id().to_string());
        if !confirmed(&expected, &shell.container, actor.account.as_deref()).await {
            audit.line("refused", None, Some("not confirmed".into()), None);
            return fail("not confirmed; nothing was started");
        }
    }
    let granted = match session::open(clients, target, &shell, &audit).await {
        Ok(g) => g,
        Err(e) => return fail(e),
    };
    super::signals::install(|s| {
        if s != super::signals::TermSignal::Stop {
            std::process::exit(130);
        }
    });
    if shell.mode != ShellMode::Scripted {
        eprintln!(
            "berth: {} in {} of task {} ({}); exit the shell to come back",
            crate::text::sanitize(&shell.command),
            crate::text::sanitize(&shell.container),
            task.short_id(),
            report.cluster
        );
    }
    let code = match &granted {
        Granted::Plugin(inv) => {
            let status = super::run_foreground(inv).await;
            let ended = session::ended(&audit, inv, &status);
            eprintln!("berth: session ended ({ended})");
            status.map_or(1, |s| s.code().unwrap_or(1))
        }
        Granted::Native { grant, marker } => {
            let access = crate::aws::ssmmessages::ChannelAccess::new(clients);
            let grant = super::native::Grant::from_session(grant.clone(), &shell.target);
            let outcome = match on_terminal() {
                false => match super::native::channel::open(access, grant).await {
                    Ok(ch) => {
                        let mut stdout = std::io::stdout();
                        super::native::shell::scripted(ch, marker.as_deref(), &mut stdout).await
                    }
                    Err(e) => super::native::Outcome::failed(e),
                },
                true => super::native::run_interactive(access, grant, marker.as_deref()).await,
            };
            let how = if outcome.failed {
                Err(outcome.how.clone())
            } else {
                Ok(outcome.how.clone())
            };
            let ended = session::closed(&audit, granted.session_id(), how);
            if shell.mode != ShellMode::Scripted || outcome.status != Some(0) {
                eprintln!("berth: session ended ({ended})");
            }
            match (outcome.failed, outcome.status) {
                (true, _) => 1,
                (false, Some(n)) => n,
                (false, None) => 0,
            }
        }
    };
    ExitCode::from(u8::try_from(code.clamp(0, 255)).unwrap_or(1))
}

/// How the built-in client runs the command: as given with `--raw`, on the terminal when
/// stdin and stdout are one, scripted otherwise.
fn shell_mode(raw: bool) -> ShellMode {
    if raw {
        ShellMode::Raw
    } else if on_terminal() {
        ShellMode::Terminal
    } else {
        ShellMode::Scripted
    }
}

fn on_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Who is asking: the profile and region in use, the account and caller from STS (unknown
/// when STS cannot answer; a configured account rule then refuses).
async fn actor(clients: &Clients, target: &crate::aws::AwsTarget) -> Actor {
    let (account, caller) = match aws::identity::caller_identity(&clients.sts).await {
        Ok(id) => (Some(id.account), Some(id.arn)),
        Err(e) => {
            tracing::warn!("caller identity: {e}");
            (None, None)
        }
    };
    Actor {
        profile: target.profile.clone(),
        region: Some(clients.region.clone()),
        account,
        caller,
    }
}

/// A protected account: the person types `expected` (the service, or the task's short id).
async fn confirmed(expected: &str, container: &str, account: Option<&str>) -> bool {
    eprint!(
        "berth: {} is a protected account. Type {expected} to open a shell in {container}: ",
        account.unwrap_or("this")
    );
    let _ = std::io::stderr().flush();
    let typed = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await;
    matches!(&typed, Ok(Ok(line)) if line.trim() == expected)
}
