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

use crate::app::{Action, DataEvent, Effect, State, update};
use crate::aws::{self, Clients};
use crate::config::theme::Theme;
use crate::tui::{InputReader, Tui};
use crate::ui;

/// Where "now" comes from: the wall clock, or the sandbox's virtual clock in the demo.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn wall_clock() -> Clock {
    Arc::new(now_unix)
}

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
    safety: crate::config::safety::Safety,
    theme: Theme,
    effects: Vec<Effect>,
    clock: Clock,
) -> Result<()> {
    let (tx, mut rx) = unbounded_channel();
    let input = InputReader::start(tx.clone());
    let mut runner = EffectRunner::new(tx.clone());
    runner.read_only = state.cli_read_only;
    runner.safety = safety;
    runner.audit_path = crate::audit::default_path();
    runner.clock = clock.clone();
    state.now_unix = clock();
    spawn_timers(tx.clone(), state.refresh_secs, clock);
    spawn_signal_watch(tx.clone());
    {
        // SIGINT/SIGQUIT from outside quit cleanly; while a session runs they are ignored.
        let tx = tx.clone();
        crate::exec::signals::install(move |s| {
            if s != crate::exec::signals::TermSignal::Stop {
                let _ = tx.send(Action::Command(crate::app::Command::Quit));
            }
        });
    }

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
        let mut out = Outside::default();
        apply(&mut state, &mut runner, action, &mut out);
        // Drain everything already queued before drawing once (resize storms, batches).
        while let Ok(action) = rx.try_recv() {
            apply(&mut state, &mut runner, action, &mut out);
        }
        for text in out.copies {
            tui.copy_to_clipboard(&text)?;
        }
        for h in out.handovers {
            let (message, ok) = hand_over(tui, &input, &runner, &h).await;
            apply(
                &mut state,
                &mut runner,
                Action::SessionEnded { message, ok },
                &mut Outside::default(),
            );
            state.dirty = true;
        }
        if state.quitting {
            break;
        }
        if state.dirty {
            tui.draw(|f| ui::render(f, &state, &theme))?;
            state.dirty = false;
        }
    }
    runner.close_forwards().await;
    runner.shutdown();
    Ok(())
}

/// Effects that need the terminal, which is the loop's.
#[derive(Default)]
struct Outside {
    copies: Vec<String>,
    handovers: Vec<crate::app::exec::HandOver>,
}

/// Apply one action; run its effects, keeping those that need the terminal in `out`.
fn apply(state: &mut State, runner: &mut EffectRunner, action: Action, out: &mut Outside) {
    for effect in update(state, action) {
        match effect {
            Effect::Copy(text) => out.copies.push(text),
            Effect::HandOver(h) => out.handovers.push(*h),
            other => runner.run(other),
        }
    }
}

/// Give the terminal to `session-manager-plugin` until it exits, then take it back: input
/// reading paused, raw mode and the alternate screen left, the original terminal settings
/// applied (before and after), terminal signals ignored meanwhile, stray input flushed, and
/// the next frame drawn in full. Returns the status-line message.
async fn hand_over(
    tui: &mut Tui,
    input: &InputReader,
    runner: &EffectRunner,
    h: &crate::app::exec::HandOver,
) -> (String, bool) {
    let r = &h.request;
    input.pause();
    if let Err(e) = tui.suspend() {
        tracing::warn!("cannot release the terminal: {e}");
    }
    let what = match &r.kind {
        crate::app::exec::SessionRequestKind::Shell { command } => command.clone(),
        crate::app::exec::SessionRequestKind::Forward { .. } => "port forward".into(),
    };
    println!(
        "berth: {} in {} of task {}: exit the shell to come back to berth\r",
        crate::text::sanitize(&what),
        crate::text::sanitize(&r.container),
        r.task_id.get(..8).unwrap_or(&r.task_id),
    );
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
    let mut params = r.parameters(Some(&h.invocation.session.session_id));
    params["ended"] = serde_json::json!(ended);
    crate::audit::record(
        runner.audit_path.as_deref(),
        &crate::audit::Entry::session(
            (runner.clock)().saturating_mul(1000),
            &r.actor,
            r.action(),
            r.audit_target(),
            params,
            if status.is_ok() { "ended" } else { "error" },
            None,
        ),
    );
    (format!("session ended ({ended})"), ok)
}

fn spawn_timers(tx: UnboundedSender<Action>, refresh_secs: u64, clock: Clock) {
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
    /// The target the clients were built for (a logs group in another region needs it).
    target: Option<aws::AwsTarget>,
    /// The running logs session: its id, control channel and task.
    logs: Option<LogsSession>,
    /// Refuse every mutating effect (--read-only). Checked here, where requests are made.
    pub read_only: bool,
    /// Profiles and accounts configured read-only, checked again here against the actor.
    pub safety: crate::config::safety::Safety,
    /// Where audit lines go (`None`: no state directory; mutations are refused then, since
    /// they could not be audited).
    pub audit_path: Option<std::path::PathBuf>,
    /// Wall clock for audit lines (the demo's virtual clock in the demo).
    pub clock: Clock,
    /// Use this plugin instead of searching PATH (tests, `BERTH_SESSION_MANAGER_PLUGIN`).
    pub plugin_override: Option<std::path::PathBuf>,
    /// Running port forwards, by id.
    forwards: Arc<Mutex<HashMap<u64, ForwardProc>>>,
    next_forward: u64,
    in_flight: HashMap<&'static str, AbortHandle>,
    permits: Arc<Semaphore>,
}

/// A port forward's plugin process (owned by its watcher task) and how to stop it.
struct ForwardProc {
    /// `true`: the watcher also terminates the SSM session; `false`: the caller does.
    kill: tokio::sync::oneshot::Sender<bool>,
    session_id: String,
}

struct LogsSession {
    tail: crate::app::logs::TailId,
    control: tokio::sync::mpsc::Sender<crate::logs::session::SessionControl>,
    task: AbortHandle,
}

/// How often a followed service's logs look for tasks that started since.
const LOGS_RESCAN: Duration = Duration::from_secs(30);

/// Concurrent AWS requests allowed at once.
pub const DEFAULT_CONCURRENCY: usize = 4;

impl EffectRunner {
    pub fn new(tx: UnboundedSender<Action>) -> EffectRunner {
        EffectRunner {
            tx,
            clients: Arc::new(Mutex::new(None)),
            target: None,
            logs: None,
            read_only: true,
            safety: Default::default(),
            audit_path: None,
            clock: Arc::new(now_unix),
            plugin_override: None,
            forwards: Arc::new(Mutex::new(HashMap::new())),
            next_forward: 0,
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
                self.target = Some(target.clone());
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
            Effect::Copy(_) | Effect::HandOver(_) => {}
            Effect::ExecPreflight { cluster, task } => {
                let Some(clients) = self.clients() else {
                    let _ = tx.send(Action::ExecPreflight {
                        task,
                        result: Err("not connected".into()),
                    });
                    return;
                };
                let permits = self.permits.clone();
                let plugin = self.plugin_override.clone();
                self.spawn_keyed("exec-preflight", async move {
                    let _permit = permits.acquire().await;
                    let result = crate::exec::gather(&clients, &cluster, &task, plugin)
                        .await
                        .map(Box::new)
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Action::ExecPreflight { task, result });
                });
            }
            Effect::StartSession(request) => self.start_session(*request),
            Effect::WriteFile {
                path,
                contents,
                message,
            } => {
                tokio::task::spawn_blocking(move || {
                    let shown = path.display().to_string();
                    let result = write_private(&path, &contents)
                        .map(|()| message)
                        .map_err(|e| format!("cannot write {shown}: {e}"));
                    let _ = tx.send(Action::Saved(result));
                });
            }
            Effect::LoadTimeline {
                request,
                cluster,
                service,
                from_ms,
                to_ms,
            } => {
                let (Some(clients), Some(target)) = (self.clients(), self.target.clone()) else {
                    return;
                };
                let permits = self.permits.clone();
                self.spawn_keyed("timeline", async move {
                    let data = load_timeline(
                        &clients, &target, &permits, &cluster, &service, from_ms, to_ms,
                    )
                    .await;
                    let _ = tx.send(Action::TimelineLoaded {
                        request,
                        result: data.map(Box::new),
                    });
                });
            }
            Effect::StopForward { id } => self.stop_forward(id, "stopped"),
            Effect::LoadAudit => {
                let path = self.audit_path.clone();
                tokio::task::spawn_blocking(move || {
                    let result = match &path {
                        Some(p) => crate::audit::recent(p, 500)
                            .map_err(|e| format!("cannot read {}: {e}", p.display())),
                        None => Err("no state directory, so no audit log".to_string()),
                    };
                    let _ = tx.send(Action::AuditLoaded(result));
                });
            }
            Effect::Mutate { mutation, actor } => {
                let now_ms = (self.clock)().saturating_mul(1000);
                let audit_path = self.audit_path.clone();
                let refuse = crate::audit::refusal(
                    self.read_only,
                    &self.safety,
                    &actor,
                    audit_path.as_deref(),
                );
                if let Some(reason) = refuse {
                    crate::audit::record(
                        audit_path.as_deref(),
                        &crate::audit::Entry::new(
                            now_ms,
                            &actor,
                            &mutation,
                            "refused",
                            Some(reason.clone()),
                        ),
                    );
                    tracing::warn!("refused {}: {reason}", mutation.target());
                    let _ = tx.send(Action::Mutated {
                        mutation,
                        result: Err(reason),
                    });
                    return;
                }
                let Some(clients) = self.clients() else {
                    let _ = tx.send(Action::Mutated {
                        mutation,
                        result: Err("not connected".into()),
                    });
                    return;
                };
                let permits = self.permits.clone();
                // Not keyed: a mutation is never cancelled by a later one.
                tokio::spawn(async move {
                    let _permit = permits.acquire().await;
                    let result = mutate(&clients, &mutation).await;
                    let (outcome, error) = match &result {
                        Ok(_) => ("ok", None),
                        Err(e) => ("error", Some(e.clone())),
                    };
                    crate::audit::record(
                        audit_path.as_deref(),
                        &crate::audit::Entry::new(now_ms, &actor, &mutation, outcome, error),
                    );
                    let _ = tx.send(Action::Mutated { mutation, result });
                });
            }
            Effect::StartLogs {
                tail,
                scope,
                since_ms,
            } => {
                self.stop_logs();
                let (Some(clients), Some(target)) = (self.clients(), self.target.clone()) else {
                    return;
                };
                let (control, control_rx) = tokio::sync::mpsc::channel(8);
                let spec = crate::logs::session::SessionSpec {
                    scope,
                    since_ms,
                    follow: true,
                    filter_pattern: None,
                    mode: crate::logs::tail::TailMode::Auto,
                    rescan: LOGS_RESCAN,
                };
                let send = move |event| tx.send(Action::Logs { tail, event }).is_ok();
                let task = tokio::spawn(crate::logs::session::run(
                    clients, target, spec, send, control_rx,
                ));
                self.logs = Some(LogsSession {
                    tail,
                    control,
                    task: task.abort_handle(),
                });
            }
            Effect::StopLogs { tail } => {
                if self.logs.as_ref().is_some_and(|s| s.tail == tail) {
                    self.stop_logs();
                }
            }
            Effect::FetchOlderLogs { tail, span_ms } => {
                if let Some(s) = self.logs.as_ref().filter(|s| s.tail == tail) {
                    let _ = s
                        .control
                        .try_send(crate::logs::session::SessionControl::FetchOlder { span_ms });
                }
            }
            Effect::SaveLogs {
                path,
                contents,
                lines,
            } => {
                tokio::task::spawn_blocking(move || {
                    let shown = path.display().to_string();
                    let result = write_private(&path, &contents)
                        .map(|()| format!("saved {} to {shown}", crate::ui::plural(lines, "line")))
                        .map_err(|e| format!("cannot save to {shown}: {e}"));
                    let _ = tx.send(Action::Saved(result));
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
            Effect::LoadServices { request, cluster } => {
                let Some(clients) = self.clients() else {
                    return;
                };
                let permits = self.permits.clone();
                self.spawn_keyed("services", async move {
                    let send = sender(tx, request);
                    match load_services(&clients, &permits, &cluster, &send).await {
                        Ok(()) => send(DataEvent::Done),
                        Err(e) => {
                            tracing::warn!("{e}");
                            send(DataEvent::Failed(e))
                        }
                    }
                });
            }
            Effect::LoadService {
                request,
                cluster,
                service,
            } => {
                let Some(clients) = self.clients() else {
                    return;
                };
                let permits = self.permits.clone();
                self.spawn_keyed("service", async move {
                    let send = sender(tx, request);
                    let _permit = permits.acquire().await;
                    match aws::services::describe_services(
                        &clients.ecs,
                        &cluster,
                        std::slice::from_ref(&service),
                    )
                    .await
                    {
                        Ok((services, missing)) if services.is_empty() && !missing.is_empty() => {
                            send(DataEvent::Failed(aws::AwsError::new(
                                aws::ErrorKind::NotFound,
                                "ecs:DescribeServices",
                                format!("service {service} not found in cluster {cluster}"),
                            )))
                        }
                        Ok((services, _)) => {
                            send(DataEvent::Services(services));
                            send(DataEvent::Done);
                        }
                        Err(e) => send(DataEvent::Failed(e)),
                    }
                });
            }
            Effect::LoadTasks {
                request,
                cluster,
                service,
                include_stopped,
            } => {
                let Some(clients) = self.clients() else {
                    return;
                };
                let permits = self.permits.clone();
                self.spawn_keyed("tasks", async move {
                    let send = sender(tx, request);
                    match load_tasks(
                        &clients,
                        &permits,
                        &cluster,
                        service.as_deref(),
                        include_stopped,
                        &send,
                    )
                    .await
                    {
                        Ok(()) => send(DataEvent::Done),
                        Err(e) => {
                            tracing::warn!("{e}");
                            send(DataEvent::Failed(e))
                        }
                    }
                });
            }
            Effect::LoadTask {
                request,
                cluster,
                task,
            } => {
                let Some(clients) = self.clients() else {
                    return;
                };
                let permits = self.permits.clone();
                self.spawn_keyed("task", async move {
                    let send = sender(tx, request);
                    let _permit = permits.acquire().await;
                    match aws::tasks::describe_tasks(&clients.ecs, &cluster, std::slice::from_ref(&task)).await {
                        Ok(tasks) if tasks.is_empty() => send(DataEvent::Failed(aws::AwsError::new(
                            aws::ErrorKind::NotFound,
                            "ecs:DescribeTasks",
                            format!("task {task} not found (stopped tasks disappear after about an hour)"),
                        ))),
                        Ok(tasks) => {
                            send(DataEvent::Tasks(tasks));
                            send(DataEvent::Done);
                        }
                        Err(e) => send(DataEvent::Failed(e)),
                    }
                });
            }
        }
    }

    /// Open a shell (answers `SessionReady`) or a port forward (answers `ForwardStarted`),
    /// refused and audited like a mutation.
    fn start_session(&mut self, request: crate::app::exec::SessionRequest) {
        use crate::app::exec::SessionRequestKind;
        let tx = self.tx.clone();
        let now_ms = (self.clock)().saturating_mul(1000);
        let audit_path = self.audit_path.clone();
        let reply_err = {
            let tx = tx.clone();
            let shell = matches!(request.kind, SessionRequestKind::Shell { .. });
            move |e: String| {
                let _ = tx.send(if shell {
                    Action::SessionReady(Err(e))
                } else {
                    Action::ForwardStarted(Err(e))
                });
            }
        };
        let audit = {
            let audit_path = audit_path.clone();
            let request = request.clone();
            move |outcome: &str, session: Option<&str>, error: Option<String>| {
                crate::audit::record(
                    audit_path.as_deref(),
                    &crate::audit::Entry::session(
                        now_ms,
                        &request.actor,
                        request.action(),
                        request.audit_target(),
                        request.parameters(session),
                        outcome,
                        error,
                    ),
                );
            }
        };
        if let Some(reason) = crate::audit::refusal(
            self.read_only,
            &self.safety,
            &request.actor,
            audit_path.as_deref(),
        ) {
            audit("refused", None, Some(reason.clone()));
            tracing::warn!("refused {}: {reason}", request.audit_target());
            return reply_err(reason);
        }
        let (Some(clients), Some(target)) = (self.clients(), self.target.clone()) else {
            return reply_err("not connected".into());
        };
        let permits = self.permits.clone();
        match request.kind.clone() {
            SessionRequestKind::Shell { command } => {
                tokio::spawn(async move {
                    let granted = {
                        let _permit = permits.acquire().await;
                        aws::exec::execute_command(
                            &clients.ecs,
                            &request.cluster,
                            &request.task_arn,
                            &request.container,
                            &command,
                        )
                        .await
                    };
                    match granted {
                        Ok(grant) => {
                            audit("ok", Some(&grant.session_id), None);
                            let invocation = crate::exec::plugin::invocation(
                                request.plugin.clone(),
                                grant,
                                &clients.region,
                                target.profile.as_deref(),
                                &serde_json::json!({ "Target": request.target }),
                                target.endpoint_url.as_deref(),
                            );
                            let _ = tx.send(Action::SessionReady(Ok(Box::new(
                                crate::app::exec::HandOver {
                                    invocation,
                                    request,
                                },
                            ))));
                        }
                        Err(e) => {
                            audit("error", None, Some(e.to_string()));
                            reply_err(e.to_string());
                        }
                    }
                });
            }
            SessionRequestKind::Forward {
                remote_port,
                local_port,
                host,
            } => {
                self.next_forward += 1;
                let id = self.next_forward;
                let forwards = self.forwards.clone();
                let clock = self.clock.clone();
                tokio::spawn(async move {
                    let (document, mut parameters) = match &host {
                        Some(h) => (
                            "AWS-StartPortForwardingSessionToRemoteHost",
                            vec![("host".to_string(), h.clone())],
                        ),
                        None => ("AWS-StartPortForwardingSession", Vec::new()),
                    };
                    parameters.push(("portNumber".into(), remote_port.to_string()));
                    parameters.push(("localPortNumber".into(), local_port.to_string()));
                    let reason = format!(
                        "berth port forward by {}",
                        request.actor.caller.as_deref().unwrap_or("unknown caller")
                    );
                    let granted = {
                        let _permit = permits.acquire().await;
                        aws::exec::start_port_forward(
                            &clients.ssm,
                            &request.target,
                            document,
                            &parameters,
                            &reason,
                        )
                        .await
                    };
                    let grant = match granted {
                        Ok(g) => g,
                        Err(e) => {
                            audit("error", None, Some(e.to_string()));
                            return reply_err(e.to_string());
                        }
                    };
                    let session_id = grant.session_id.clone();
                    let params: serde_json::Map<String, serde_json::Value> = parameters
                        .iter()
                        .map(|(k, v)| (k.clone(), serde_json::json!([v])))
                        .collect();
                    let invocation = crate::exec::plugin::invocation(
                        request.plugin.clone(),
                        grant,
                        &clients.region,
                        target.profile.as_deref(),
                        &serde_json::json!({
                            "Target": request.target,
                            "DocumentName": document,
                            "Parameters": params,
                        }),
                        target.endpoint_url.as_deref(),
                    );
                    let child = invocation
                        .command()
                        .stdin(std::process::Stdio::null())
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped())
                        .spawn();
                    let mut child = match child {
                        Ok(c) => c,
                        Err(e) => {
                            let msg = format!("cannot start {}: {e}", request.plugin.display());
                            audit("error", Some(&session_id), Some(msg.clone()));
                            // The session exists on the SSM side: close it.
                            let _ = aws::exec::terminate_session(&clients.ssm, &session_id).await;
                            return reply_err(msg);
                        }
                    };
                    drain_output(child.stdout.take(), id);
                    drain_output(child.stderr.take(), id);
                    let (kill, killed) = tokio::sync::oneshot::channel();
                    if let Ok(mut map) = forwards.lock() {
                        map.insert(
                            id,
                            ForwardProc {
                                kill,
                                session_id: session_id.clone(),
                            },
                        );
                    }
                    audit("ok", Some(&session_id), None);
                    let remote = match &host {
                        Some(h) => format!("{h}:{remote_port}"),
                        None => remote_port.to_string(),
                    };
                    let _ = tx.send(Action::ForwardStarted(Ok(crate::app::exec::Forward {
                        id,
                        local_port,
                        remote,
                        cluster: crate::domain::Cluster::name_from_arn(&request.cluster)
                            .to_string(),
                        task_id: request.task_id.clone(),
                        container: request.container.clone(),
                        session_id: session_id.clone(),
                        started_at: clock(),
                        ended: None,
                    })));
                    let how = tokio::select! {
                        status = child.wait() => match status {
                            Ok(s) => crate::exec::plugin::describe_exit(&s),
                            Err(e) => format!("wait failed: {e}"),
                        },
                        terminate = killed => {
                            let _ = child.kill().await;
                            if terminate.unwrap_or(true)
                                && let Err(e) =
                                    aws::exec::terminate_session(&clients.ssm, &session_id).await
                            {
                                tracing::warn!("port forward {id}: {e}");
                            }
                            "stopped".to_string()
                        }
                    };
                    if let Ok(mut map) = forwards.lock() {
                        map.remove(&id);
                    }
                    let mut ended = request.parameters(Some(&session_id));
                    ended["ended"] = serde_json::json!(how);
                    crate::audit::record(
                        audit_path.as_deref(),
                        &crate::audit::Entry::session(
                            clock().saturating_mul(1000),
                            &request.actor,
                            request.action(),
                            request.audit_target(),
                            ended,
                            "ended",
                            None,
                        ),
                    );
                    let _ = tx.send(Action::ForwardEnded { id, how });
                });
            }
        }
    }

    /// Stop a port forward: its watcher kills the plugin and terminates the session.
    fn stop_forward(&mut self, id: u64, _why: &str) {
        let proc = self.forwards.lock().ok().and_then(|mut m| m.remove(&id));
        if let Some(p) = proc {
            tracing::info!("stopping port forward {id} ({})", p.session_id);
            let _ = p.kill.send(true);
        }
    }

    /// Stop every port forward and terminate their sessions (on quit), bounded in time.
    pub async fn close_forwards(&mut self) {
        let all: Vec<ForwardProc> = match self.forwards.lock() {
            Ok(mut m) => m.drain().map(|(_, p)| p).collect(),
            Err(_) => Vec::new(),
        };
        if all.is_empty() {
            return;
        }
        let clients = self.clients();
        for p in all {
            // The watcher kills the plugin; the session is terminated here, awaited, since
            // the runtime ends right after.
            let _ = p.kill.send(false);
            if let Some(c) = &clients {
                let done = tokio::time::timeout(
                    Duration::from_secs(3),
                    aws::exec::terminate_session(&c.ssm, &p.session_id),
                )
                .await;
                if !matches!(done, Ok(Ok(()))) {
                    tracing::warn!("could not terminate session {} on quit", p.session_id);
                }
            }
        }
    }

    /// How many port forwards run.
    pub fn forward_count(&self) -> usize {
        self.forwards.lock().map(|m| m.len()).unwrap_or(0)
    }

    fn stop_logs(&mut self) {
        if let Some(s) = self.logs.take() {
            s.task.abort();
        }
    }

    pub fn shutdown(&mut self) {
        self.stop_logs();
        for (_, handle) in self.in_flight.drain() {
            handle.abort();
        }
    }
}

/// Make one change; the message says what happened.
async fn mutate(
    clients: &Clients,
    m: &crate::domain::mutation::Mutation,
) -> Result<String, String> {
    use crate::domain::mutation::Mutation;
    let ecs = &clients.ecs;
    let result = match m {
        Mutation::ForceNewDeployment { cluster, service } => {
            aws::actions::force_new_deployment(ecs, cluster, service)
                .await
                .map(|_| format!("{service}: new deployment started; following it"))
        }
        Mutation::Scale {
            cluster,
            service,
            to,
            ..
        } => aws::actions::scale(ecs, cluster, service, *to)
            .await
            .map(|s| format!("{service}: desired count now {}", s.desired)),
        Mutation::RollBack {
            cluster,
            service,
            to,
            ..
        } => aws::actions::roll_back(ecs, cluster, service, to)
            .await
            .map(|_| format!("{service}: rolling back to {to}; following it")),
        Mutation::StopTask {
            cluster,
            task,
            reason,
        } => aws::actions::stop_task(ecs, cluster, task, reason)
            .await
            .map(|t| {
                format!(
                    "task {} stopping ({})",
                    crate::domain::Task::id_from_arn(&t.arn),
                    t.desired_status
                )
            }),
    };
    result.map_err(|e| e.to_string())
}

/// Create `path` (never overwriting) readable by the owner only, and write `contents`.
fn write_private(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn sender(tx: UnboundedSender<Action>, request: u64) -> impl Fn(DataEvent) + Clone {
    move |event| {
        let _ = tx.send(Action::Data { request, event });
    }
}

async fn load_clusters(
    clients: Clients,
    permits: Arc<Semaphore>,
    tx: UnboundedSender<Action>,
    request: u64,
) {
    let send = sender(tx, request);
    let arns = {
        let _permit = permits.acquire().await;
        aws::ecs::list_cluster_arns(&clients.ecs).await
    };
    let arns = match arns {
        Ok(arns) => arns,
        Err(e) => {
            tracing::warn!("{e}");
            return send(DataEvent::Failed(e));
        }
    };
    send(DataEvent::Listed(arns.len()));
    for batch in arns.chunks(aws::ecs::DESCRIBE_CLUSTERS_BATCH) {
        let described = {
            let _permit = permits.acquire().await;
            aws::ecs::describe_clusters(&clients.ecs, batch).await
        };
        match described {
            Ok(clusters) => send(DataEvent::Clusters(clusters)),
            Err(e) => {
                tracing::warn!("{e}");
                return send(DataEvent::Failed(e));
            }
        }
    }
    send(DataEvent::Done);
}

/// ListServices page by page; each page's DescribeServices batches (10 each) run while the next
/// page is listed, bounded by the shared semaphore. Rows reach the UI batch by batch.
async fn load_services(
    clients: &Clients,
    permits: &Arc<Semaphore>,
    cluster: &str,
    send: &(impl Fn(DataEvent) + Clone + Send + 'static),
) -> Result<(), aws::AwsError> {
    let mut describes = tokio::task::JoinSet::new();
    let mut token = None;
    let mut total = 0;
    loop {
        let (arns, next) = {
            let _permit = permits.acquire().await;
            aws::services::list_services_page(&clients.ecs, cluster, token).await?
        };
        total += arns.len();
        for batch in arns.chunks(aws::services::DESCRIBE_SERVICES_BATCH) {
            let batch = batch.to_vec();
            let ecs = clients.ecs.clone();
            let permits = permits.clone();
            let cluster = cluster.to_string();
            let send = send.clone();
            describes.spawn(async move {
                let _permit = permits.acquire().await;
                let (services, _missing) =
                    aws::services::describe_services(&ecs, &cluster, &batch).await?;
                send(DataEvent::Services(services));
                Ok::<(), aws::AwsError>(())
            });
        }
        // Surface a failed describe early instead of listing on.
        while let Some(done) = describes.try_join_next() {
            flatten(done)?;
        }
        match next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    send(DataEvent::Listed(total));
    while let Some(done) = describes.join_next().await {
        flatten(done)?;
    }
    Ok(())
}

fn flatten(
    joined: Result<Result<(), aws::AwsError>, tokio::task::JoinError>,
) -> Result<(), aws::AwsError> {
    match joined {
        Ok(result) => result,
        Err(e) => Err(aws::AwsError::new(
            aws::ErrorKind::Other,
            "berth",
            format!("a request task failed: {e}"),
        )),
    }
}

/// ListTasks (running, plus stopped when asked) then DescribeTasks in batches of 100.
async fn load_tasks(
    clients: &Clients,
    permits: &Arc<Semaphore>,
    cluster: &str,
    service: Option<&str>,
    include_stopped: bool,
    send: &(impl Fn(DataEvent) + Clone + Send + 'static),
) -> Result<(), aws::AwsError> {
    use aws::tasks::TaskListing;
    let mut arns = {
        let _permit = permits.acquire().await;
        aws::tasks::list_task_arns(&clients.ecs, cluster, service, TaskListing::Running).await?
    };
    if include_stopped {
        let _permit = permits.acquire().await;
        arns.extend(
            aws::tasks::list_task_arns(&clients.ecs, cluster, service, TaskListing::Stopped)
                .await?,
        );
    }
    send(DataEvent::Listed(arns.len()));
    for batch in arns.chunks(aws::tasks::DESCRIBE_TASKS_BATCH) {
        let _permit = permits.acquire().await;
        let tasks = aws::tasks::describe_tasks(&clients.ecs, cluster, batch).await?;
        send(DataEvent::Tasks(tasks));
    }
    Ok(())
}

/// Read a background plugin's output so it never blocks on a full pipe; lines go to the log.
fn drain_output<R>(pipe: Option<R>, id: u64)
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    use tokio::io::AsyncBufReadExt;
    let Some(pipe) = pipe else {
        return;
    };
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(pipe).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::debug!("port forward {id}: {}", crate::text::sanitize(&line));
        }
    });
}

/// Most error lines a timeline reads (a storm is still a storm at this count).
const TIMELINE_MAX_ERROR_LINES: usize = 20_000;

/// A CloudWatch filter pattern that keeps every line that could be error-level (a superset;
/// the level is checked on the parsed line).
const ERROR_PATTERN: &str =
    "?ERROR ?Error ?error ?FATAL ?Fatal ?fatal ?CRITICAL ?critical ?panic ?Exception";

/// The timeline's data: the service (deployments, events), its stopped tasks, and its error
/// lines counted per minute, read concurrently. A part that fails becomes a note; only the
/// service failing fails the whole.
async fn load_timeline(
    clients: &Clients,
    target: &aws::AwsTarget,
    permits: &Arc<Semaphore>,
    cluster: &str,
    service: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<crate::app::timeline::TimelineData, String> {
    use crate::app::timeline::TimelineData;
    let described = async {
        let _permit = permits.acquire().await;
        aws::services::describe_services(&clients.ecs, cluster, &[service.to_string()]).await
    };
    let stopped = async {
        let arns = {
            let _permit = permits.acquire().await;
            aws::tasks::list_task_arns(
                &clients.ecs,
                cluster,
                Some(service),
                aws::tasks::TaskListing::Stopped,
            )
            .await?
        };
        let mut tasks = Vec::new();
        for batch in arns.chunks(aws::tasks::DESCRIBE_TASKS_BATCH) {
            let _permit = permits.acquire().await;
            tasks.extend(aws::tasks::describe_tasks(&clients.ecs, cluster, batch).await?);
        }
        Ok::<_, aws::AwsError>(tasks)
    };
    let errors = async {
        let lines: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
        let failure: Arc<Mutex<Option<String>>> = Arc::default();
        let spec = crate::logs::session::SessionSpec {
            scope: crate::logs::source::Scope {
                cluster: cluster.to_string(),
                service: Some(service.to_string()),
                task: None,
                container: None,
            },
            since_ms: from_ms,
            follow: false,
            filter_pattern: Some(ERROR_PATTERN.to_string()),
            mode: crate::logs::tail::TailMode::Poll,
            rescan: LOGS_RESCAN,
        };
        let (_control, control_rx) = tokio::sync::mpsc::channel(1);
        let sink = lines.clone();
        let failed = failure.clone();
        let send = move |event: crate::logs::session::SessionEvent| {
            use crate::logs::session::SessionEvent;
            use crate::logs::tail::TailMessage;
            match event {
                SessionEvent::Tail(TailMessage::Events(events)) => {
                    let Ok(mut sink) = sink.lock() else {
                        return false;
                    };
                    for e in events {
                        if e.timestamp_ms <= to_ms
                            && e.parsed.level >= Some(crate::logs::Level::Error)
                        {
                            sink.push((e.timestamp_ms, e.parsed.message(&e.raw).to_string()));
                        }
                    }
                    sink.len() < TIMELINE_MAX_ERROR_LINES
                }
                SessionEvent::Failed { message, .. } => {
                    if let Ok(mut f) = failed.lock() {
                        *f = Some(message);
                    }
                    false
                }
                SessionEvent::Tail(TailMessage::End(Some(e))) => {
                    if let Ok(mut f) = failed.lock() {
                        *f = Some(e.to_string());
                    }
                    false
                }
                _ => true,
            }
        };
        crate::logs::session::run(clients.clone(), target.clone(), spec, send, control_rx).await;
        let lines = lines.lock().map(|l| l.clone()).unwrap_or_default();
        let failure = failure.lock().ok().and_then(|f| f.clone());
        (lines, failure)
    };
    let (described, stopped, (lines, log_failure)) = tokio::join!(described, stopped, errors);
    let service = match described {
        Ok((mut found, _)) => found.pop(),
        Err(e) => return Err(e.to_string()),
    };
    let mut notes = Vec::new();
    let stopped = match stopped {
        Ok(t) => t,
        Err(e) => {
            notes.push(format!("stopped tasks not read: {e}"));
            Vec::new()
        }
    };
    if to_ms - from_ms > 3_600_000 {
        notes.push(
            "ECS keeps stopped tasks about an hour: older stops come from service events only"
                .into(),
        );
    }
    if let Some(f) = log_failure {
        notes.push(format!("error logs not read: {f}"));
    }
    if lines.len() >= TIMELINE_MAX_ERROR_LINES {
        notes.push(format!("error lines capped at {TIMELINE_MAX_ERROR_LINES}"));
    }
    let errors =
        crate::domain::timeline::error_minutes(lines.iter().map(|(t, m)| (*t, m.as_str())));
    Ok(TimelineData {
        service,
        stopped,
        errors,
        error_lines: lines.len(),
        notes,
    })
}
