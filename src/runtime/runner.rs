//! The effect runner: executes what `update` asks for, off the UI task, and answers with
//! actions. It holds the SDK clients (never part of the model), keeps one request in flight
//! per key (latest wins) and bounds concurrent AWS calls. Each effect is one method; the
//! loads themselves live in [`crate::aws::loaders`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;

use super::forwards::Forwards;
use crate::app::{Action, DataEvent, Effect, Failure, RequestId};
use crate::aws::loaders::{self, Progress};
use crate::aws::{self, AwsError, Clients};
use crate::clock::{Clock, now_unix};

/// Concurrent AWS requests allowed at once.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// How often a followed service's logs look for tasks that started since.
const LOGS_RESCAN: Duration = Duration::from_secs(30);

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
    pub(super) forwards: Forwards,
    in_flight: HashMap<&'static str, AbortHandle>,
    pub(super) permits: Arc<Semaphore>,
    /// Service revision ARN -> `family:revision` (revisions never change).
    revisions: Arc<Mutex<HashMap<String, String>>>,
}

struct LogsSession {
    tail: crate::app::logs::TailId,
    control: tokio::sync::mpsc::Sender<crate::logs::session::SessionControl>,
    task: AbortHandle,
}

/// A load's answers, as `Data` actions of its request.
fn sender(tx: UnboundedSender<Action>, request: RequestId) -> impl Fn(DataEvent) + Clone {
    move |event| {
        let _ = tx.send(Action::Data { request, event });
    }
}

/// A load's end: `Done`, or `Failed` with the error (logged).
fn finish(send: &impl Fn(DataEvent), result: Result<(), AwsError>) {
    match result {
        Ok(()) => send(DataEvent::Done),
        Err(e) => {
            tracing::warn!("{e}");
            send(DataEvent::Failed(e))
        }
    }
}

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
            forwards: Forwards::default(),
            in_flight: HashMap::new(),
            permits: Arc::new(Semaphore::new(DEFAULT_CONCURRENCY)),
            revisions: Arc::default(),
        }
    }

    pub(super) fn tx(&self) -> UnboundedSender<Action> {
        self.tx.clone()
    }

    pub(super) fn clients(&self) -> Option<Clients> {
        self.clients.lock().ok().and_then(|c| c.clone())
    }

    pub(super) fn target(&self) -> Option<aws::AwsTarget> {
        self.target.clone()
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
        match effect {
            Effect::Connect(target) => self.connect(target),
            Effect::ResolveIdentity => self.resolve_identity(),
            Effect::LoadClusters { request } => self.load_clusters(request),
            Effect::LoadServices { request, cluster } => self.load_services(request, cluster),
            Effect::LoadService {
                request,
                cluster,
                service,
            } => self.load_service(request, cluster, service),
            Effect::LoadTasks {
                request,
                cluster,
                service,
                include_stopped,
            } => self.load_tasks(request, cluster, service, include_stopped),
            Effect::LoadTask {
                request,
                cluster,
                task,
            } => self.load_task(request, cluster, task),
            Effect::StartLogs {
                tail,
                scope,
                since_ms,
            } => self.start_logs(tail, scope, since_ms),
            Effect::StopLogs { tail } => self.stop_logs_of(tail),
            Effect::FetchOlderLogs { tail, span_ms } => self.fetch_older_logs(tail, span_ms),
            Effect::SaveLogs {
                path,
                contents,
                lines,
            } => {
                let message = format!("saved {} to {}", lines_of(lines), path.display());
                self.write_file(path, contents, message)
            }
            Effect::WriteFile {
                path,
                contents,
                message,
            } => self.write_file(path, contents, message),
            Effect::Mutate { mutation, actor } => self.mutate(mutation, actor),
            Effect::ExecPreflight {
                cluster,
                task,
                client,
            } => self.exec_preflight(cluster, task, client),
            Effect::StartSession(request) => self.start_session(*request),
            Effect::StopForward { id } => self.stop_forward(id),
            Effect::LoadTimeline {
                request,
                cluster,
                service,
                from_ms,
                to_ms,
            } => self.load_timeline(request, cluster, service, from_ms, to_ms),
            Effect::LoadPane { request, load } => self.load_pane(request, load),
            Effect::LoadHistory {
                cluster,
                service,
                since,
            } => self.load_history(cluster, service, since),
            Effect::LoadTargetHealth { arns, settings } => self.load_target_health(arns, settings),
            Effect::LoadScaling { cluster, service } => self.load_scaling(cluster, service),
            Effect::LoadMetrics {
                call,
                cluster,
                services,
                now,
            } => self.load_metrics(call, cluster, services, now),
            Effect::LoadTaskMetrics {
                call,
                cluster,
                tasks,
                check_insights,
                now,
            } => self.load_task_metrics(call, cluster, tasks, check_insights, now),
            Effect::Terminal(t) => tracing::error!("bug: the loop runs {t:?}, not the runner"),
        }
    }

    fn connect(&mut self, target: aws::AwsTarget) {
        self.target = Some(target.clone());
        let slot = self.clients.clone();
        let tx = self.tx();
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

    fn resolve_identity(&mut self) {
        let tx = self.tx();
        let Some(clients) = self.clients() else {
            let _ = tx.send(Action::IdentityResolved(Err(AwsError::not_connected())));
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

    /// The clients for a load of `request`, or its `Failed` answer when there are none: no
    /// view is left spinning.
    fn clients_for(&self, request: RequestId) -> Option<Clients> {
        let clients = self.clients();
        if clients.is_none() {
            sender(self.tx(), request)(DataEvent::Failed(AwsError::not_connected()));
        }
        clients
    }

    fn load_clusters(&mut self, request: RequestId) {
        let Some(clients) = self.clients_for(request) else {
            return;
        };
        let (permits, send) = (self.permits.clone(), sender(self.tx(), request));
        self.spawn_keyed("clusters", async move {
            let progress = |p| send(data_of(p, DataEvent::Clusters));
            finish(
                &send,
                loaders::clusters(&clients, &permits, &progress).await,
            );
        });
    }

    fn load_services(&mut self, request: RequestId, cluster: String) {
        let Some(clients) = self.clients_for(request) else {
            return;
        };
        let (permits, send) = (self.permits.clone(), sender(self.tx(), request));
        self.spawn_keyed("services", async move {
            let batch = send.clone();
            let progress = move |p| batch(data_of(p, DataEvent::Services));
            let result = loaders::services(&clients, &permits, &cluster, &progress).await;
            finish(&send, result);
        });
    }

    fn load_service(&mut self, request: RequestId, cluster: String, service: String) {
        let Some(clients) = self.clients_for(request) else {
            return;
        };
        let (permits, send) = (self.permits.clone(), sender(self.tx(), request));
        self.spawn_keyed("service", async move {
            let result = loaders::service(&clients, &permits, &cluster, &service).await;
            finish(&send, result.map(|s| send(DataEvent::Services(vec![s]))));
        });
    }

    fn load_tasks(
        &mut self,
        request: RequestId,
        cluster: String,
        service: Option<String>,
        include_stopped: bool,
    ) {
        let Some(clients) = self.clients_for(request) else {
            return;
        };
        let (permits, send) = (self.permits.clone(), sender(self.tx(), request));
        self.spawn_keyed("tasks", async move {
            let progress = |p| send(data_of(p, DataEvent::Tasks));
            let service = service.as_deref();
            let result = loaders::tasks(
                &clients,
                &permits,
                &cluster,
                service,
                include_stopped,
                &progress,
            )
            .await;
            finish(&send, result);
        });
    }

    fn load_task(&mut self, request: RequestId, cluster: String, task: String) {
        let Some(clients) = self.clients_for(request) else {
            return;
        };
        let (permits, send) = (self.permits.clone(), sender(self.tx(), request));
        self.spawn_keyed("task", async move {
            let result = loaders::task(&clients, &permits, &cluster, &task).await;
            finish(&send, result.map(|t| send(DataEvent::Tasks(vec![t]))));
        });
    }

    /// A pane's load (`app::pane`): one in flight per pane kind, the newest wins.
    fn load_pane(&mut self, request: RequestId, load: crate::app::pane::PaneLoad) {
        use crate::app::pane::{PaneData, PaneLoad};
        let tx = self.tx();
        if load == PaneLoad::Audit {
            return self.load_audit(request);
        }
        if let PaneLoad::Fleet { targets } = load {
            // each pair with its own clients: the session's are not involved
            let done = tx.clone();
            self.spawn_keyed("pane:fleet", async move {
                let each = tx.clone();
                aws::fleet::load(targets, aws::fleet::CONCURRENCY, move |report| {
                    let result = Ok(PaneData::FleetPair(report));
                    let _ = each.send(Action::PaneLoaded { request, result });
                })
                .await;
                let result = Ok(PaneData::FleetDone);
                let _ = done.send(Action::PaneLoaded { request, result });
            });
            return;
        }
        let Some(clients) = self.clients() else {
            let result = Err(Failure::not_connected());
            let _ = tx.send(Action::PaneLoaded { request, result });
            return;
        };
        let permits = self.permits.clone();
        let key = match &load {
            PaneLoad::TaskDefinitions { .. } => "pane:task-definitions",
            PaneLoad::Audit => "pane:audit",
            PaneLoad::ClusterServices { .. } => "pane:cluster-services",
            PaneLoad::ContainerInstances { .. } => "pane:container-instances",
            PaneLoad::Fleet { .. } => "pane:fleet",
        };
        self.spawn_keyed(key, async move {
            let result = match load {
                // The services loader takes its own permits, one per call.
                PaneLoad::ClusterServices { cluster } => {
                    let found = Arc::new(Mutex::new(Vec::new()));
                    let sink = found.clone();
                    let progress = move |p| {
                        if let (Progress::Batch(batch), Ok(mut all)) = (p, sink.lock()) {
                            all.extend(batch);
                        }
                    };
                    loaders::services(&clients, &permits, &cluster, &progress)
                        .await
                        .map(|()| {
                            let services = found.lock().map(|mut s| std::mem::take(&mut *s));
                            PaneData::Services(services.unwrap_or_default())
                        })
                }
                PaneLoad::ContainerInstances { cluster } => {
                    let _permit = permits.acquire().await;
                    aws::container_instances::container_instances(&clients.ecs, &cluster)
                        .await
                        .map(PaneData::ContainerInstances)
                }
                PaneLoad::TaskDefinitions { old, new } => {
                    let _permit = permits.acquire().await;
                    aws::task_definitions::describe_pair(&clients.ecs, &old, &new)
                        .await
                        .map(|(old, new)| PaneData::TaskDefinitions { old, new })
                }
                // read above, without the network; the fleet above, with its own clients
                PaneLoad::Audit | PaneLoad::Fleet { .. } => return,
            }
            .map_err(Failure::from);
            let _ = tx.send(Action::PaneLoaded { request, result });
        });
    }

    fn load_timeline(
        &mut self,
        request: RequestId,
        cluster: String,
        service: String,
        from_ms: i64,
        to_ms: i64,
    ) {
        let tx = self.tx();
        let (Some(clients), Some(target)) = (self.clients(), self.target()) else {
            let result = Err(Failure::not_connected());
            let _ = tx.send(Action::TimelineLoaded { request, result });
            return;
        };
        let permits = self.permits.clone();
        let revisions = self.revisions.clone();
        self.spawn_keyed("timeline", async move {
            let result = aws::timeline::load(
                &clients,
                &target,
                &permits,
                &revisions,
                &cluster,
                &service,
                (from_ms, to_ms),
            )
            .await
            .map(Box::new)
            .map_err(Failure::from);
            let _ = tx.send(Action::TimelineLoaded { request, result });
        });
    }

    fn load_target_health(&mut self, arns: Vec<String>, settings: bool) {
        let tx = self.tx();
        let Some(clients) = self.clients() else {
            return;
        };
        let permits = self.permits.clone();
        self.spawn_keyed("targets", async move {
            let report =
                aws::targets::target_health_of(&clients.elb, &permits, &arns, settings).await;
            let _ = tx.send(Action::TargetHealthLoaded(report));
        });
    }

    fn load_metrics(&mut self, call: u64, cluster: String, services: Vec<String>, now: i64) {
        let tx = self.tx();
        let Some(clients) = self.clients() else {
            let result = Err(AwsError::not_connected());
            let _ = tx.send(Action::MetricsLoaded {
                call,
                cluster,
                services,
                result,
            });
            return;
        };
        let permits = self.permits.clone();
        self.spawn_keyed("metrics", async move {
            let _permit = permits.acquire().await;
            let result =
                aws::metrics::service_metrics(&clients.cloudwatch, &cluster, &services, now).await;
            if let Err(e) = &result {
                tracing::info!("metrics of {} services of {cluster}: {e}", services.len());
            }
            let _ = tx.send(Action::MetricsLoaded {
                call,
                cluster,
                services,
                result,
            });
        });
    }

    fn load_task_metrics(
        &mut self,
        call: u64,
        cluster: String,
        tasks: Vec<crate::domain::metrics::TaskQuery>,
        check_insights: bool,
        now: i64,
    ) {
        let tx = self.tx();
        let arns: Vec<String> = tasks.iter().map(|t| t.arn.clone()).collect();
        let Some(clients) = self.clients() else {
            let _ = tx.send(Action::TaskMetricsLoaded {
                call,
                cluster,
                insights: None,
                tasks: arns,
                result: Err(AwsError::not_connected()),
            });
            return;
        };
        let permits = self.permits.clone();
        self.spawn_keyed("task-metrics", async move {
            let _permit = permits.acquire().await;
            let mut insights = None;
            let mut result = Ok(std::collections::HashMap::new());
            if check_insights {
                match aws::ecs::describe_clusters(&clients.ecs, std::slice::from_ref(&cluster))
                    .await
                {
                    Ok(found) => {
                        insights =
                            Some(found.into_iter().next().and_then(|c| c.container_insights));
                    }
                    Err(e) => result = Err(e),
                }
            }
            let per_task = insights.as_ref().is_none_or(|level| {
                level.as_deref() == Some(crate::domain::metrics::PER_TASK_INSIGHTS)
            });
            if result.is_ok() && per_task {
                result =
                    aws::metrics::task_metrics(&clients.cloudwatch, &cluster, &tasks, now).await;
            }
            if let Err(e) = &result {
                tracing::info!("metrics of {} tasks of {cluster}: {e}", tasks.len());
            }
            let _ = tx.send(Action::TaskMetricsLoaded {
                call,
                cluster,
                insights,
                tasks: arns,
                result,
            });
        });
    }

    fn load_history(&mut self, cluster: String, service: String, since: i64) {
        let tx = self.tx();
        let Some(clients) = self.clients() else {
            let result = Err(AwsError::not_connected());
            let _ = tx.send(Action::HistoryLoaded {
                cluster,
                service,
                result,
            });
            return;
        };
        let (permits, cache) = (self.permits.clone(), self.revisions.clone());
        self.spawn_keyed("history", async move {
            let result = aws::history::load_cached(
                &clients.ecs,
                &permits,
                &cache,
                &cluster,
                &service,
                since,
            )
            .await;
            if let Err(e) = &result {
                tracing::info!("deployment history of {service}: {e}");
            }
            let _ = tx.send(Action::HistoryLoaded {
                cluster,
                service,
                result,
            });
        });
    }

    fn load_scaling(&mut self, cluster: String, service: String) {
        let tx = self.tx();
        let Some(clients) = self.clients() else {
            let result = Err(AwsError::not_connected());
            let _ = tx.send(Action::ScalingLoaded {
                cluster,
                service,
                result,
            });
            return;
        };
        let permits = self.permits.clone();
        self.spawn_keyed("scaling", async move {
            let result = {
                let _permit = permits.acquire().await;
                aws::scaling::load(&clients.autoscaling, &cluster, &service).await
            };
            let result = match result {
                Ok((scaling, calls)) => {
                    tracing::debug!("auto scaling of {service}: {calls:?}");
                    Ok(scaling)
                }
                Err(e) => {
                    tracing::info!("auto scaling of {service}: {e}");
                    Err(e)
                }
            };
            let _ = tx.send(Action::ScalingLoaded {
                cluster,
                service,
                result,
            });
        });
    }

    fn start_logs(
        &mut self,
        tail: crate::app::logs::TailId,
        scope: crate::logs::source::Scope,
        since_ms: i64,
    ) {
        use crate::logs::session::{SessionEvent, SessionSpec, run};
        self.stop_logs();
        let tx = self.tx();
        let (Some(clients), Some(target)) = (self.clients(), self.target()) else {
            let event = SessionEvent::Failed {
                message: AwsError::not_connected().plain(),
                error: Some(AwsError::not_connected()),
            };
            let _ = tx.send(Action::Logs { tail, event });
            return;
        };
        let (control, control_rx) = tokio::sync::mpsc::channel(8);
        let spec = SessionSpec {
            scope,
            since_ms,
            follow: true,
            filter_pattern: None,
            mode: crate::logs::tail::TailMode::Auto,
            rescan: LOGS_RESCAN,
        };
        let send = move |event| tx.send(Action::Logs { tail, event }).is_ok();
        let task = tokio::spawn(run(clients, target, spec, send, control_rx));
        self.logs = Some(LogsSession {
            tail,
            control,
            task: task.abort_handle(),
        });
    }

    fn stop_logs_of(&mut self, tail: crate::app::logs::TailId) {
        if self.logs.as_ref().is_some_and(|s| s.tail == tail) {
            self.stop_logs();
        }
    }

    fn fetch_older_logs(&mut self, tail: crate::app::logs::TailId, span_ms: i64) {
        use crate::logs::session::SessionControl;
        if let Some(s) = self.logs.as_ref().filter(|s| s.tail == tail) {
            let _ = s.control.try_send(SessionControl::FetchOlder { span_ms });
        }
    }

    /// Create `path` (0600, never overwriting) with `contents`; answers `Saved`.
    fn write_file(&mut self, path: std::path::PathBuf, contents: Vec<u8>, message: String) {
        let tx = self.tx();
        tokio::task::spawn_blocking(move || {
            let shown = path.display().to_string();
            let result = write_private(&path, &contents)
                .map(|()| message)
                .map_err(|e| format!("cannot write {shown}: {e}"));
            let _ = tx.send(Action::Saved(result));
        });
    }

    /// The newest audit lines, for the audit pane.
    fn load_audit(&mut self, request: RequestId) {
        use crate::app::pane::PaneData;
        let (tx, path) = (self.tx(), self.audit_path.clone());
        tokio::task::spawn_blocking(move || {
            let result = match &path {
                Some(p) => crate::audit::recent(p, crate::panes::audit::RECENT)
                    .map(PaneData::Audit)
                    .map_err(|e| Failure::Local(format!("cannot read {}: {e}", p.display()))),
                None => Err(Failure::Local(
                    "no state directory, so no audit log".to_string(),
                )),
            };
            let _ = tx.send(Action::PaneLoaded { request, result });
        });
    }

    /// A confirmed change: refused (and audited) in read-only mode, else made and audited.
    fn mutate(&mut self, mutation: crate::domain::mutation::Mutation, actor: crate::audit::Actor) {
        use crate::audit::{Entry, record};
        let tx = self.tx();
        let now_ms = (self.clock)().saturating_mul(1000);
        let audit_path = self.audit_path.clone();
        if let Some(reason) = self.refusal(&actor) {
            let entry = Entry::new(now_ms, &actor, &mutation, "refused", Some(reason.clone()));
            record(audit_path.as_deref(), &entry);
            tracing::warn!("refused {}: {reason}", mutation.target());
            let result = Err(Failure::Refused(reason));
            let _ = tx.send(Action::Mutated { mutation, result });
            return;
        }
        let Some(clients) = self.clients() else {
            let result = Err(Failure::not_connected());
            let _ = tx.send(Action::Mutated { mutation, result });
            return;
        };
        let permits = self.permits.clone();
        // Not keyed: a mutation is never cancelled by a later one.
        tokio::spawn(async move {
            let result = {
                let _permit = permits.acquire().await;
                aws::mutations::apply(&clients.ecs, &mutation).await
            };
            let (outcome, error) = match &result {
                Ok(_) => ("ok", None),
                Err(e) => ("error", Some(e.to_string())),
            };
            record(
                audit_path.as_deref(),
                &Entry::new(now_ms, &actor, &mutation, outcome, error),
            );
            let result = result.map_err(Failure::from);
            let _ = tx.send(Action::Mutated { mutation, result });
        });
    }

    /// Why `actor` may not change anything here (read-only, a protected account, no audit
    /// log), if it may not. Checked where effects run, whatever the reducer decided.
    pub(super) fn refusal(&self, actor: &crate::audit::Actor) -> Option<String> {
        crate::audit::refusal(
            self.read_only,
            &self.safety,
            actor,
            self.audit_path.as_deref(),
        )
    }

    fn exec_preflight(
        &mut self,
        cluster: String,
        task: String,
        client: crate::exec::client::ExecClient,
    ) {
        let tx = self.tx();
        let Some(clients) = self.clients() else {
            let result = Err(Failure::not_connected());
            let _ = tx.send(Action::ExecPreflight { task, result });
            return;
        };
        let permits = self.permits.clone();
        let plugin = self.plugin_override.clone();
        self.spawn_keyed("exec-preflight", async move {
            let _permit = permits.acquire().await;
            let result = crate::exec::gather(&clients, &cluster, &task, plugin, client)
                .await
                .map(Box::new)
                .map_err(Failure::from);
            let _ = tx.send(Action::ExecPreflight { task, result });
        });
    }

    fn stop_logs(&mut self) {
        if let Some(s) = self.logs.take() {
            s.task.abort();
        }
    }

    /// Stop every load, the log tail and the port forwards' plugins; the forwards' SSM
    /// sessions are terminated within `budget` (they would otherwise live on in AWS).
    pub async fn shutdown(&mut self, budget: Duration) {
        self.stop_logs();
        for (_, handle) in self.in_flight.drain() {
            handle.abort();
        }
        let clients = self.clients();
        self.forwards.close_all(clients.as_ref(), budget).await;
    }
}

/// A load's progress as the view's data event.
fn data_of<T>(p: Progress<T>, batch: fn(Vec<T>) -> DataEvent) -> DataEvent {
    match p {
        Progress::Listed(n) => DataEvent::Listed(n),
        Progress::Batch(rows) => batch(rows),
    }
}

fn lines_of(n: usize) -> String {
    crate::ui::plural(n, "line")
}

/// Create `path` (never overwriting) readable by the owner only, and write `contents`.
pub fn write_private(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
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
