//! The event loop (the one owner of the state) and the effect runner.
//!
//! Actions arrive on one channel from the input thread, the timers and the effect runner's
//! tasks. The loop applies every queued action, then draws once, and only if the state says
//! something visible changed: an idle screen writes nothing to the terminal.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use color_eyre::eyre::Result;
use tokio::sync::Semaphore;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::AbortHandle;

use crate::app::{Action, ClustersEvent, Effect, State, update};
use crate::aws::{self, Clients};
use crate::config::theme::Theme;
use crate::tui::{InputReader, Tui};
use crate::ui;

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Run the console until the user quits.
pub async fn run(
    tui: &mut Tui,
    mut state: State,
    theme: Theme,
    effects: Vec<Effect>,
) -> Result<()> {
    let (tx, mut rx) = unbounded_channel();
    let _input = InputReader::start(tx.clone());
    let mut runner = EffectRunner::new(tx.clone());
    spawn_timers(tx.clone(), state.refresh_secs);
    spawn_signal_watch(tx.clone());

    if let Ok(size) = tui.terminal.size() {
        update(
            &mut state,
            Action::Resize {
                cols: size.width,
                rows: size.height,
            },
        );
    }
    // First frame before any network answer.
    tui.draw(|f| ui::render(f, &state, &theme))?;
    state.dirty = false;
    for effect in effects {
        runner.run(effect);
    }

    while let Some(action) = rx.recv().await {
        apply(&mut state, &mut runner, action);
        // Drain everything already queued before drawing once (resize storms, batches).
        while let Ok(action) = rx.try_recv() {
            apply(&mut state, &mut runner, action);
        }
        if state.quitting {
            break;
        }
        if state.dirty {
            tui.draw(|f| ui::render(f, &state, &theme))?;
            state.dirty = false;
        }
    }
    runner.shutdown();
    Ok(())
}

fn apply(state: &mut State, runner: &mut EffectRunner, action: Action) {
    for effect in update(state, action) {
        runner.run(effect);
    }
}

fn spawn_timers(tx: UnboundedSender<Action>, refresh_secs: u64) {
    let ticks = tx.clone();
    tokio::spawn(async move {
        let mut every_second = tokio::time::interval(Duration::from_secs(1));
        every_second.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every_second.tick().await;
            if ticks
                .send(Action::Tick {
                    now_unix: now_unix(),
                })
                .is_err()
            {
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

/// SIGTERM and SIGHUP (the SSH link dropped) quit cleanly, restoring the terminal.
fn spawn_signal_watch(tx: UnboundedSender<Action>) {
    use tokio::signal::unix::{SignalKind, signal};
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        let _ = tx.send(Action::Command(crate::app::Command::Quit));
    });
}

/// Executes effects off the UI task. Holds the SDK clients (never part of the model), keeps one
/// request in flight per key (latest wins) and bounds concurrent AWS calls.
pub struct EffectRunner {
    tx: UnboundedSender<Action>,
    clients: Arc<Mutex<Option<Clients>>>,
    in_flight: HashMap<&'static str, AbortHandle>,
    permits: Arc<Semaphore>,
}

/// Concurrent AWS requests allowed at once.
pub const DEFAULT_CONCURRENCY: usize = 4;

impl EffectRunner {
    pub fn new(tx: UnboundedSender<Action>) -> EffectRunner {
        EffectRunner {
            tx,
            clients: Arc::new(Mutex::new(None)),
            in_flight: HashMap::new(),
            permits: Arc::new(Semaphore::new(DEFAULT_CONCURRENCY)),
        }
    }

    fn clients(&self) -> Option<Clients> {
        self.clients.lock().ok().and_then(|c| c.clone())
    }

    /// Start `fut` under `key`, cancelling the previous request with the same key.
    fn spawn_keyed<F>(&mut self, key: &'static str, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        if let Some(previous) = self.in_flight.remove(key) {
            previous.abort();
        }
        let handle = tokio::spawn(fut);
        self.in_flight.insert(key, handle.abort_handle());
    }

    pub fn run(&mut self, effect: Effect) {
        let tx = self.tx.clone();
        match effect {
            Effect::Quit => {}
            Effect::Connect(target) => {
                let slot = self.clients.clone();
                self.spawn_keyed("connect", async move {
                    match aws::connect(&target).await {
                        Ok(clients) => {
                            let region = clients.region.clone();
                            if let Ok(mut guard) = slot.lock() {
                                *guard = Some(clients);
                            }
                            let _ = tx.send(Action::AwsConnected { region });
                        }
                        Err(e) => {
                            let _ = tx.send(Action::AwsConnectFailed(e));
                        }
                    }
                });
            }
            Effect::ResolveIdentity => {
                let Some(clients) = self.clients() else {
                    return;
                };
                let permits = self.permits.clone();
                self.spawn_keyed("identity", async move {
                    let _permit = permits.acquire().await;
                    let result = aws::identity::caller_identity(&clients.sts).await;
                    if let Err(e) = &result {
                        tracing::warn!("caller identity: {e}");
                    }
                    let _ = tx.send(Action::IdentityResolved(result));
                });
            }
            Effect::LoadClusters { request } => {
                let Some(clients) = self.clients() else {
                    return;
                };
                let permits = self.permits.clone();
                self.spawn_keyed("clusters", async move {
                    load_clusters(clients, permits, tx, request).await;
                });
            }
        }
    }

    pub fn shutdown(&mut self) {
        for (_, handle) in self.in_flight.drain() {
            handle.abort();
        }
    }
}

async fn load_clusters(
    clients: Clients,
    permits: Arc<Semaphore>,
    tx: UnboundedSender<Action>,
    request: u64,
) {
    let send = |event| {
        let _ = tx.send(Action::Clusters { request, event });
    };
    let arns = {
        let _permit = permits.acquire().await;
        aws::ecs::list_cluster_arns(&clients.ecs).await
    };
    let arns = match arns {
        Ok(arns) => arns,
        Err(e) => {
            tracing::warn!("{e}");
            return send(ClustersEvent::Failed(e));
        }
    };
    send(ClustersEvent::Listed { total: arns.len() });
    for batch in arns.chunks(aws::ecs::DESCRIBE_CLUSTERS_BATCH) {
        let described = {
            let _permit = permits.acquire().await;
            aws::ecs::describe_clusters(&clients.ecs, batch).await
        };
        match described {
            Ok(clusters) => send(ClustersEvent::Batch(clusters)),
            Err(e) => {
                tracing::warn!("{e}");
                return send(ClustersEvent::Failed(e));
            }
        }
    }
    send(ClustersEvent::Done);
}
