//! Terminal signals around a child session. While the plugin runs it owns the terminal and
//! turns Ctrl-C, Ctrl-\ and Ctrl-Z into bytes for the remote shell; the terminal still sends
//! SIGINT, SIGQUIT and SIGTSTP to our process group, so berth must neither die nor stop.
//!
//! Handlers are installed once (so the default actions never apply); while a
//! [`ChildGuard`] lives the signals are dropped, otherwise `outside` decides.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::signal::unix::{SignalKind, signal};

static CHILD_RUNNING: AtomicBool = AtomicBool::new(false);
static INSTALLED: OnceLock<()> = OnceLock::new();

/// Held while a child owns the terminal.
pub struct ChildGuard(());

impl Drop for ChildGuard {
    fn drop(&mut self) {
        CHILD_RUNNING.store(false, Ordering::SeqCst);
    }
}

pub fn child_running() -> ChildGuard {
    CHILD_RUNNING.store(true, Ordering::SeqCst);
    ChildGuard(())
}

pub fn is_child_running() -> bool {
    CHILD_RUNNING.load(Ordering::SeqCst)
}

/// Which terminal signal arrived while no child ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermSignal {
    Interrupt,
    Quit,
    Stop,
}

/// Install the handlers (once per process; later calls do nothing). Must run inside the
/// tokio runtime. `outside` is called for signals that arrive while no child runs.
pub fn install(outside: impl Fn(TermSignal) + Send + Sync + 'static) {
    if INSTALLED.set(()).is_err() {
        return;
    }
    let outside = std::sync::Arc::new(outside);
    for (kind, which) in [
        (SignalKind::interrupt(), TermSignal::Interrupt),
        (SignalKind::quit(), TermSignal::Quit),
        (SignalKind::from_raw(libc::SIGTSTP), TermSignal::Stop),
    ] {
        let Ok(mut stream) = signal(kind) else {
            tracing::warn!("cannot handle {which:?}");
            continue;
        };
        let outside = outside.clone();
        tokio::spawn(async move {
            while stream.recv().await.is_some() {
                if is_child_running() {
                    tracing::debug!("{which:?} while a session runs: ignored");
                } else {
                    outside(which);
                }
            }
        });
    }
}
