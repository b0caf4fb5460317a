//! The console's shell: opened off the UI task through [`crate::exec::session`] (the steps and
//! audit lines `berth exec` shares), then the terminal given to the session's client
//! (`session-manager-plugin` or berth's built-in one) until it exits, and taken back.

use super::runner::EffectRunner;
use crate::app::Action;
use crate::app::exec::{HandOver, SessionRequest, SessionRequestKind};
use crate::aws::{AwsTarget, Clients};
use crate::exec::session::{self, Audit, Granted, Shell};
use crate::tui::{InputReader, Tui};

/// The shell a console request asks for.
pub(super) fn shell(r: &SessionRequest, command: &str, raw: bool) -> Shell {
    Shell {
        cluster: r.cluster.clone(),
        task_arn: r.task_arn.clone(),
        task_id: r.task_id.clone(),
        container: r.container.clone(),
        command: command.to_string(),
        target: r.target.clone(),
        runner: r.runner.clone(),
        mode: if raw {
            crate::exec::session::ShellMode::Raw
        } else {
            crate::exec::session::ShellMode::Terminal
        },
    }
}

impl EffectRunner {
    /// ExecuteCommand for `request`'s `shell` (within the AWS concurrency bound) and the `ok`
    /// line, answered with the hand-over as `SessionReady`. Refusal was checked by the caller.
    pub(super) fn open_shell(
        &self,
        clients: Clients,
        target: AwsTarget,
        shell: Shell,
        request: SessionRequest,
        audit: Audit,
    ) {
        let (tx, permits) = (self.tx(), self.permits.clone());
        tokio::spawn(async move {
            let opened = {
                let _permit = permits.acquire().await;
                session::open(&clients, &target, &shell, &audit).await
            };
            let ready = opened.map(|granted| Box::new(HandOver { granted, request }));
            let _ = tx.send(Action::SessionReady(ready.map_err(Into::into)));
        });
    }
}

/// Input reading paused, raw mode and the alternate screen left, the original terminal
/// settings applied (before and after), terminal signals ignored meanwhile, stray input
/// flushed, and the next frame drawn in full. Returns the status-line message and whether the
/// session ended well.
pub(super) async fn hand_over(
    tui: &mut Tui,
    input: &InputReader,
    runner: &EffectRunner,
    h: &HandOver,
) -> (String, bool) {
    let r = &h.request;
    input.pause();
    if let Err(e) = tui.suspend() {
        tracing::warn!("cannot release the terminal: {e}");
    }
    let what = match &r.kind {
        SessionRequestKind::Shell { command, .. } => command.clone(),
        SessionRequestKind::Forward { .. } => "port forward".into(),
    };
    {
        use std::io::Write;
        // A terminal that is already gone cannot be told; the session then fails on its own.
        let _ = write!(
            std::io::stdout(),
            "berth: {} in {} of task {}: exit the shell to come back to berth\r\n",
            crate::text::sanitize(&what),
            crate::text::sanitize(&r.container),
            r.task_id.get(..8).unwrap_or(&r.task_id),
        );
    }
    // How it ended (`Ok`), or why it never ran (`Err`).
    let (how, ok) = match &h.granted {
        Granted::Plugin(inv) => {
            let status = crate::exec::run_foreground(inv).await;
            let ok = status.as_ref().is_ok_and(|s| s.success());
            (session::plugin_outcome(inv, &status), ok)
        }
        Granted::Native { grant, marker } => match runner.clients() {
            Some(clients) => {
                let access = crate::aws::ssmmessages::ChannelAccess::new(&clients);
                let grant = crate::exec::native::Grant::from_session(grant.clone(), &r.target);
                let outcome =
                    crate::exec::native::run_interactive(access, grant, marker.as_deref()).await;
                let ok = outcome.status == Some(0);
                if outcome.failed {
                    (Err(outcome.how), false)
                } else {
                    (Ok(outcome.how), ok)
                }
            }
            None => (Err("not connected".to_string()), false),
        },
    };
    if let Err(e) = tui.resume() {
        tracing::error!("cannot take the terminal back: {e}");
    }
    crate::tui::flush_pending_input();
    input.resume();
    let ended = session::closed(&runner.session_audit(r), h.granted.session_id(), how);
    (format!("session ended ({ended})"), ok)
}
