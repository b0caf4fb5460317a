//! The event loop: the one owner of the state.
//!
//! Actions arrive on one channel from the input thread, the timers, the signal watch and the
//! effect runner's tasks. The loop applies every queued action, then draws once, and only if
//! the state says something visible changed: an idle screen writes nothing to the terminal.
//!
//! - [`runner`]: executes effects (AWS loads, mutations, logs, files) off the UI task.
//! - [`forwards`]: exec and port-forward sessions, refused and audited where they run.
//! - [`handover`]: giving the terminal to the plugin and taking it back.
//! - [`watch`]: ticks, refresh timer, signals, and the exit watchdog.
//!
//! berth dies with its terminal: a hang-up, end of input, a failed write or SIGHUP ends the
//! loop, every poller, tail, forward and session is stopped, and the process exits within
//! [`watch::EXIT_DEADLINE`] whatever is still running.

mod forwards;
mod handover;
mod runner;
mod watch;

use color_eyre::eyre::Result;
use tokio::sync::mpsc::unbounded_channel;

use crate::app::{Action, Effect, Quit, State, TerminalEffect, update};
use crate::config::theme::Theme;
use crate::tui::{InputReader, Tui};
use crate::ui;

pub use crate::clock::{Clock, now_unix, wall_clock};
pub use runner::{DEFAULT_CONCURRENCY, EffectRunner, write_private};

/// How long quitting may spend terminating port-forward sessions in AWS.
const CLOSE_BUDGET: std::time::Duration = std::time::Duration::from_secs(1);

/// Run the console until the user quits or the terminal goes away.
pub async fn run(
    tui: &mut Tui,
    mut state: State,
    safety: crate::config::safety::Safety,
    theme: Theme,
    effects: Vec<Effect>,
    clock: Clock,
) -> Result<Quit> {
    let (tx, mut rx) = unbounded_channel();
    let input = InputReader::start(tx.clone());
    let mut runner = EffectRunner::new(tx.clone());
    runner.read_only = state.cli_read_only;
    runner.safety = safety;
    runner.audit_path = crate::audit::default_path();
    runner.clock = clock.clone();
    state.now_unix = clock();
    watch::spawn_timers(tx.clone(), state.refresh_secs, clock);
    watch::spawn_signal_watch(tx.clone());

    if let Ok(size) = tui.terminal.size() {
        let (cols, rows) = (size.width, size.height);
        update(&mut state, Action::Resize { cols, rows });
    }
    // First frame before any network answer.
    let mut quit = draw(tui, &mut state, &theme);
    for effect in effects {
        runner.run(effect);
    }

    while quit.is_none() {
        let Some(action) = rx.recv().await else {
            break;
        };
        let mut out = Vec::new();
        apply(&mut state, &mut runner, action, &mut out);
        // Drain everything already queued before drawing once (resize storms, batches).
        while let Ok(action) = rx.try_recv() {
            apply(&mut state, &mut runner, action, &mut out);
        }
        quit = terminal_effects(tui, &input, &mut state, &mut runner, out).await;
        if quit.is_none() && state.dirty {
            quit = draw(tui, &mut state, &theme);
        }
    }
    let quit = quit.unwrap_or(Quit::Asked);
    // Whatever follows (a stuck request, a plugin that will not die), the process ends.
    watch::exit_watchdog(quit);
    drop(input);
    runner.shutdown(CLOSE_BUDGET).await;
    Ok(quit)
}

/// Draw a frame; a failed write means the terminal is gone.
fn draw(tui: &mut Tui, state: &mut State, theme: &Theme) -> Option<Quit> {
    state.dirty = false;
    match tui.draw(|f| ui::render(f, state, theme)) {
        Ok(()) => None,
        Err(e) => {
            tracing::warn!("terminal gone: cannot draw: {e}");
            Some(Quit::TerminalLost)
        }
    }
}

/// Apply one action; run its effects, keeping those that need the terminal in `out`.
fn apply(
    state: &mut State,
    runner: &mut EffectRunner,
    action: Action,
    out: &mut Vec<TerminalEffect>,
) {
    for effect in update(state, action) {
        match effect {
            Effect::Terminal(t) => out.push(t),
            other => runner.run(other),
        }
    }
}

/// Run the effects only the loop can run; the first quit wins.
async fn terminal_effects(
    tui: &mut Tui,
    input: &InputReader,
    state: &mut State,
    runner: &mut EffectRunner,
    effects: Vec<TerminalEffect>,
) -> Option<Quit> {
    for effect in effects {
        match effect {
            TerminalEffect::Quit(why) => return Some(why),
            TerminalEffect::Copy(text) => {
                if let Err(e) = tui.copy_to_clipboard(&text) {
                    tracing::warn!("terminal gone: cannot copy: {e}");
                    return Some(Quit::TerminalLost);
                }
            }
            TerminalEffect::HandOver(h) => {
                let (message, ok) = handover::hand_over(tui, input, runner, &h).await;
                let mut more = Vec::new();
                apply(
                    state,
                    runner,
                    Action::SessionEnded { message, ok },
                    &mut more,
                );
                state.dirty = true;
                if more.iter().any(|e| matches!(e, TerminalEffect::Quit(_))) {
                    return Some(Quit::Asked);
                }
            }
        }
    }
    None
}
