//! One ECS Exec shell, the same steps for the console and for `berth exec`: refuse (read-only,
//! unknown account, nowhere to audit) → ExecuteCommand → the `ok` line and what runs the
//! session (the plugin's invocation, or the grant for berth's built-in client) → (the caller
//! hands the terminal over) → the closing line with how it ended.
//!
//! Only the hand-over differs: the console's loop owns the terminal and gives it away between
//! frames, `berth exec` runs the client in the foreground. What is sent to AWS and what is
//! written to the audit log is decided here, once, so the two cannot drift apart. Port
//! forwards use [`Audit`] for their lines too.

use std::path::PathBuf;

use super::client::Runner;
use super::plugin::{self, Invocation, SessionGrant};
use crate::audit::{self, Actor, Entry};
use crate::aws::{self, AwsError, AwsTarget, Clients};
use crate::clock::Clock;
use crate::config::safety::Safety;

/// The audit lines of one session: every line names the same actor, action, target and
/// parameters; the lines differ in outcome, error, session id and (the last) how it ended.
#[derive(Clone)]
pub struct Audit {
    /// `None`: no state directory (the session is refused, since it could not be audited).
    pub path: Option<PathBuf>,
    /// Unix seconds (the demo's virtual clock in the demo).
    pub clock: Clock,
    pub actor: Actor,
    /// `exec` or `port_forward`.
    pub action: &'static str,
    /// `task <cluster>/<task id> container <name>` (see [`audit_target`]).
    pub target: String,
    /// The request's parameters: never the session token or the stream URL.
    pub parameters: serde_json::Value,
}

impl Audit {
    /// One line: the outcome, the SSM session id once there is one, the error, and for the
    /// closing line how the session ended.
    pub fn line(
        &self,
        outcome: &str,
        session: Option<&str>,
        error: Option<String>,
        ended: Option<&str>,
    ) {
        let mut parameters = self.parameters.clone();
        if let Some(id) = session {
            parameters["session_id"] = serde_json::json!(id);
        }
        if let Some(how) = ended {
            parameters["ended"] = serde_json::json!(how);
        }
        audit::record(
            self.path.as_deref(),
            &Entry::session(
                (self.clock)().saturating_mul(1000),
                &self.actor,
                self.action,
                self.target.clone(),
                parameters,
                outcome,
                error,
            ),
        );
    }

    /// Why the session must not start (see [`audit::refusal`]), written as a `refused` line;
    /// `None` when it may.
    pub fn refuse(&self, read_only: bool, safety: &Safety) -> Option<String> {
        let reason = audit::refusal(read_only, safety, &self.actor, self.path.as_deref())?;
        self.line("refused", None, Some(reason.clone()), None);
        tracing::warn!("refused {}: {reason}", self.target);
        Some(reason)
    }
}

/// What a session acts on, as the audit log names it.
pub fn audit_target(cluster: &str, task_id: &str, container: &str) -> String {
    let cluster = crate::domain::Cluster::name_from_arn(cluster);
    format!("task {cluster}/{task_id} container {container}")
}

/// A shell to open: what ExecuteCommand is sent and what runs the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shell {
    /// As ExecuteCommand is given it (the console: as the view names it).
    pub cluster: String,
    pub task_arn: String,
    pub task_id: String,
    pub container: String,
    pub command: String,
    /// The SSM target, `ecs:<cluster>_<task id>_<runtime id>`.
    pub target: String,
    /// The plugin (at its path) or berth's built-in client.
    pub runner: Runner,
    /// How berth's built-in client runs the command (the plugin always runs it as given).
    pub mode: ShellMode,
}

/// How the built-in client runs a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShellMode {
    /// On the terminal, wrapped to report its exit status.
    #[default]
    Terminal,
    /// stdin and stdout are not a terminal: wrapped, with the remote echo and newline
    /// translation off.
    Scripted,
    /// As given (a container without `sh`, or the user asked): the exit status is unknown.
    Raw,
}

impl Shell {
    /// The session's audit lines, by `actor`, to `path`.
    pub fn audit(&self, actor: &Actor, path: Option<PathBuf>, clock: Clock) -> Audit {
        Audit {
            path,
            clock,
            actor: actor.clone(),
            action: "exec",
            target: audit_target(&self.cluster, &self.task_id, &self.container),
            parameters: super::exec_parameters(
                &self.cluster,
                &self.task_id,
                &self.container,
                &self.command,
                None,
            ),
        }
    }
}

/// A granted session and what will run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Granted {
    /// `session-manager-plugin`, started with this invocation (it holds the grant).
    Plugin(Invocation),
    /// berth's built-in client, for this session; `marker` is the exit-status line to look for
    /// (`None` when the command runs as given).
    Native {
        grant: SessionGrant,
        marker: Option<String>,
    },
}

impl Granted {
    pub fn session_id(&self) -> &str {
        match self {
            Granted::Plugin(inv) => &inv.session.session_id,
            Granted::Native { grant, .. } => &grant.session_id,
        }
    }
}

/// ExecuteCommand, audited (`ok` with the session id, or `error`), and what runs the session
/// it granted: the plugin's invocation, or the grant for berth's built-in client. Refusal is
/// checked before, by [`Audit::refuse`].
pub async fn open(
    clients: &Clients,
    target: &AwsTarget,
    shell: &Shell,
    audit: &Audit,
) -> Result<Granted, AwsError> {
    // The built-in client wraps the command to learn its exit status; the audit keeps the
    // command as the user gave it.
    let wrapped = match (&shell.runner, shell.mode) {
        (Runner::Plugin(_), _) => super::native::exit_status::wrap(&shell.command, false, true),
        (Runner::Native, mode) => super::native::exit_status::wrap(
            &shell.command,
            mode == ShellMode::Scripted,
            mode == ShellMode::Raw,
        ),
    };
    let granted = aws::exec::execute_command(
        &clients.ecs,
        &shell.cluster,
        &shell.task_arn,
        &shell.container,
        &wrapped.command,
    )
    .await;
    let grant = granted.inspect_err(|e| audit.line("error", None, Some(e.to_string()), None))?;
    audit.line("ok", Some(&grant.session_id), None, None);
    Ok(match &shell.runner {
        Runner::Plugin(path) => Granted::Plugin(plugin::invocation(
            path.clone(),
            grant,
            &clients.region,
            target.profile.as_deref(),
            &serde_json::json!({ "Target": shell.target }),
            target.endpoint_url.as_deref(),
        )),
        Runner::Native => Granted::Native {
            grant,
            marker: wrapped.marker,
        },
    })
}

/// The plugin returned (or could not start): the closing line (`ended`, or `error` when it
/// never ran) with how, which is returned for the caller to show.
pub fn ended(
    audit: &Audit,
    invocation: &Invocation,
    status: &std::io::Result<std::process::ExitStatus>,
) -> String {
    closed(
        audit,
        &invocation.session.session_id,
        plugin_outcome(invocation, status),
    )
}

/// How the plugin ended (`exit N`, `signal N`), or why it never ran.
pub fn plugin_outcome(
    invocation: &Invocation,
    status: &std::io::Result<std::process::ExitStatus>,
) -> Result<String, String> {
    match status {
        Ok(s) => Ok(plugin::describe_exit(s)),
        Err(e) => Err(format!(
            "could not start {}: {e}",
            invocation.program.display()
        )),
    }
}

/// Session `session_id` is over: the closing line, `ended` with how (`Ok`), or `error` when it
/// never ran (`Err`, why). Returns the how or why, for the caller to show.
pub fn closed(audit: &Audit, session_id: &str, how: Result<String, String>) -> String {
    let (outcome, how) = match how {
        Ok(how) => ("ended", how),
        Err(why) => ("error", why),
    };
    audit.line(outcome, Some(session_id), None, Some(&how));
    how
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    fn shell() -> Shell {
        Shell {
            cluster: "prod".into(),
            task_arn: "arn:aws:ecs:eu-west-1:210987654321:task/prod/0123456789abcdef".into(),
            task_id: "0123456789abcdef".into(),
            container: "app".into(),
            command: "/bin/sh".into(),
            target: "ecs:prod_0123456789abcdef_0123456789abcdef-1".into(),
            runner: Runner::Plugin(PathBuf::from("/opt/session-manager-plugin")),
            mode: ShellMode::Terminal,
        }
    }

    fn invocation() -> Invocation {
        plugin::invocation(
            PathBuf::from("/opt/session-manager-plugin"),
            plugin::SessionGrant {
                session_id: "ecs-execute-command-1".into(),
                stream_url: "wss://ssm/stream".into(),
                token: "SECRET-TOKEN".to_string().into(),
            },
            "eu-west-1",
            None,
            &serde_json::json!({ "Target": shell().target }),
            None,
        )
    }

    fn read(path: &std::path::Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{e}"))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    #[test]
    fn the_closing_line_says_how_the_session_ended_and_never_holds_the_token() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("audit.jsonl");
        let actor = Actor {
            profile: Some("prod".into()),
            ..Actor::default()
        };
        let audit = shell().audit(&actor, Some(path.clone()), crate::clock::wall_clock());
        let inv = invocation();
        let exited = ended(
            &audit,
            &inv,
            &Ok(std::process::ExitStatus::from_raw(7 << 8)),
        );
        assert_eq!(exited, "exit 7");
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        let failed = ended(&audit, &inv, &Err(missing));
        assert!(failed.starts_with("could not start /opt/session-manager-plugin"));

        let lines = read(&path);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["action"], "exec");
        assert_eq!(
            lines[0]["target"],
            "task prod/0123456789abcdef container app"
        );
        assert_eq!(lines[0]["outcome"], "ended");
        assert_eq!(lines[0]["parameters"]["ended"], "exit 7");
        assert_eq!(
            lines[0]["parameters"]["session_id"],
            "ecs-execute-command-1"
        );
        assert_eq!(lines[0]["parameters"]["command"], "/bin/sh");
        assert_eq!(lines[1]["outcome"], "error");
        assert_eq!(lines[1]["parameters"]["ended"], failed.as_str());
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!text.contains("SECRET-TOKEN") && !text.contains("wss://"));
    }

    #[test]
    fn a_session_its_client_never_ran_closes_with_an_error_line() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("audit.jsonl");
        let mut native = shell();
        native.runner = Runner::Native;
        let audit = native.audit(
            &Actor::default(),
            Some(path.clone()),
            crate::clock::wall_clock(),
        );
        let granted = Granted::Native {
            grant: invocation().session,
            marker: None,
        };
        assert_eq!(granted.session_id(), "ecs-execute-command-1");
        let why = "cannot open the data channel: connection refused".to_string();
        let how = closed(&audit, granted.session_id(), Err(why.clone()));
        assert_eq!(how, why);
        let lines = read(&path);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["outcome"], "error");
        assert_eq!(lines[0]["parameters"]["ended"], why.as_str());
        assert_eq!(
            lines[0]["parameters"]["session_id"],
            "ecs-execute-command-1"
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!text.contains("SECRET-TOKEN"));
    }

    #[test]
    fn a_refusal_is_written_before_anything_is_sent() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("audit.jsonl");
        let audit = shell().audit(
            &Actor::default(),
            Some(path.clone()),
            crate::clock::wall_clock(),
        );
        assert_eq!(audit.refuse(false, &Safety::default()), None);
        assert!(!path.exists(), "no line for a session that may start");
        let reason = audit.refuse(true, &Safety::default());
        assert!(reason.as_deref().is_some_and(|r| r.contains("read-only")));
        let lines = read(&path);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["outcome"], "refused");
        assert_eq!(lines[0]["error"], reason.unwrap_or_default().as_str());
        assert!(lines[0]["parameters"].get("session_id").is_none());
    }
}
