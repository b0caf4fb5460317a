//! Giving the terminal to `session-manager-plugin` until it exits, then taking it back.

use super::forwards::Auditor;
use super::runner::EffectRunner;
use crate::app::exec::{HandOver, SessionRequestKind};
use crate::tui::{InputReader, Tui};

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
        SessionRequestKind::Shell { command } => command.clone(),
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
    let status = crate::exec::run_foreground(&h.invocation).await;
    if let Err(e) = tui.resume() {
        tracing::error!("cannot take the terminal back: {e}");
    }
    crate::tui::flush_pending_input();
    input.resume();
    let (ended, ok) = match &status {
        Ok(s) => (crate::exec::plugin::describe_exit(s), s.success()),
        Err(e) => (
            format!("could not start {}: {e}", r.plugin.display()),
            false,
        ),
    };
    let outcome = if status.is_ok() { "ended" } else { "error" };
    let session = Some(h.invocation.session.session_id.as_str());
    Auditor::new(runner, r).line(outcome, session, None, Some(&ended));
    (format!("session ended ({ended})"), ok)
}
