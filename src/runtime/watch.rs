//! What wakes the loop besides input and answers: the one-second tick, the refresh timer and
//! signals; and the watchdog that ends the process once quitting has begun.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use crate::app::{Action, Command, Quit};
use crate::clock::Clock;

/// Once the loop has ended, the process is gone within this long, whatever still runs.
pub const EXIT_DEADLINE: Duration = Duration::from_millis(1500);

pub(super) fn spawn_timers(tx: UnboundedSender<Action>, refresh_secs: u64, clock: Clock) {
    let ticks = tx.clone();
    tokio::spawn(async move {
        let mut every_second = tokio::time::interval(Duration::from_secs(1));
        every_second.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every_second.tick().await;
            if ticks.send(Action::Tick { now_unix: clock() }).is_err() {
                return;
            }
        }
    });
    tokio::spawn(async move {
        let period = Duration::from_secs(refresh_secs.max(1));
        let mut refresh = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            refresh.tick().await;
            if tx.send(Action::RefreshDue).is_err() {
                return;
            }
        }
    });
}

/// SIGTERM and SIGINT quit; SIGHUP (the SSH link dropped, the terminal closed) is the
/// terminal lost. The watch keeps listening for the whole run: a second signal while berth is
/// already quitting ends the process at once, so SIGTERM always works.
pub(super) fn spawn_signal_watch(tx: UnboundedSender<Action>) {
    use tokio::signal::unix::{SignalKind, signal};
    {
        // SIGINT/SIGQUIT from outside quit cleanly; while a session runs they are ignored.
        let tx = tx.clone();
        crate::exec::signals::install(move |s| {
            if s != crate::exec::signals::TermSignal::Stop {
                let _ = tx.send(Action::Command(Command::Quit));
            }
        });
    }
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            tracing::error!("cannot watch SIGTERM/SIGHUP");
            return;
        };
        let mut seen = 0;
        loop {
            let action = tokio::select! {
                _ = term.recv() => Action::Command(Command::Quit),
                _ = hup.recv() => {
                    // The loop may be busy (a shell session holds it): whatever it is doing,
                    // a hung-up berth is gone within the deadline.
                    exit_watchdog(Quit::TerminalLost);
                    Action::TerminalLost
                }
            };
            seen += 1;
            if seen > 1 || tx.send(action).is_err() {
                tracing::warn!("signalled again while quitting: exiting now");
                std::process::exit(exit_code(Quit::Asked));
            }
        }
    });
}

/// The process's exit status for a quit: 0 when asked, 129 (hang-up) when the terminal left.
pub fn exit_code(quit: Quit) -> i32 {
    match quit {
        Quit::Asked => 0,
        Quit::TerminalLost => 129,
    }
}

/// End the process after [`EXIT_DEADLINE`] if it has not ended by then: a request that will
/// not cancel or a child that will not die must not keep a berth alive after its terminal.
pub(super) fn exit_watchdog(quit: Quit) {
    let spawned = std::thread::Builder::new()
        .name("berth-exit".into())
        .spawn(move || {
            std::thread::sleep(EXIT_DEADLINE);
            tracing::warn!("still running {EXIT_DEADLINE:?} after quitting: exiting now");
            crate::tui::restore();
            std::process::exit(exit_code(quit));
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the exit watchdog: {e}");
    }
}
