//! Sessions: a shell (ExecuteCommand, then the loop hands the terminal over: see
//! [`super::handover`]) or a port forward (StartSession, then its client runs in the background
//! until stopped: `session-manager-plugin`, or berth's built-in client). Both are refused in read-only mode where they run, and audited, through
//! [`crate::exec::session`] as `berth exec` is.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::runner::EffectRunner;
use crate::app::exec::{Forward, SessionRequest, SessionRequestKind};
use crate::app::{Action, Failure};
use crate::aws::{self, Clients};
use crate::exec::client::Runner;
use crate::exec::session::Audit;

/// Running port forwards, by id.
#[derive(Default)]
pub(super) struct Forwards {
    running: Arc<Mutex<HashMap<u64, ForwardProc>>>,
    next: u64,
}

/// A port forward's plugin process (owned by its watcher task) and how to stop it.
struct ForwardProc {
    /// `true`: the watcher also terminates the SSM session; `false`: the caller does.
    kill: tokio::sync::oneshot::Sender<bool>,
    session_id: String,
}

impl Forwards {
    fn next_id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    pub fn count(&self) -> usize {
        self.running.lock().map(|m| m.len()).unwrap_or(0)
    }

    fn insert(&self, id: u64, p: ForwardProc) {
        if let Ok(mut map) = self.running.lock() {
            map.insert(id, p);
        }
    }

    fn remove(&self, id: u64) -> Option<ForwardProc> {
        self.running.lock().ok().and_then(|mut m| m.remove(&id))
    }

    /// Kill every plugin and terminate their SSM sessions concurrently, all within `budget`.
    pub async fn close_all(&mut self, clients: Option<&Clients>, budget: Duration) {
        let all: Vec<ForwardProc> = match self.running.lock() {
            Ok(mut m) => m.drain().map(|(_, p)| p).collect(),
            Err(_) => Vec::new(),
        };
        let mut terminating = tokio::task::JoinSet::new();
        for p in all {
            // The watcher kills the plugin; the session is terminated here, awaited, since
            // the runtime ends right after.
            let _ = p.kill.send(false);
            if let Some(c) = clients {
                let ssm = c.ssm.clone();
                terminating.spawn(async move {
                    let done = aws::exec::terminate_session(&ssm, &p.session_id).await;
                    if done.is_err() {
                        tracing::warn!("could not terminate session {} on quit", p.session_id);
                    }
                });
            }
        }
        let all_done = async { while terminating.join_next().await.is_some() {} };
        if tokio::time::timeout(budget, all_done).await.is_err() {
            tracing::warn!("port forward sessions still terminating after {budget:?}");
        }
    }
}

impl EffectRunner {
    /// Open a shell (answers `SessionReady`) or a port forward (answers `ForwardStarted`),
    /// refused and audited like a mutation.
    pub(super) fn start_session(&mut self, request: SessionRequest) {
        let tx = self.tx();
        let shell = matches!(request.kind, SessionRequestKind::Shell { .. });
        let reply_err = move |e: Failure| {
            let _ = tx.send(if shell {
                Action::SessionReady(Err(e))
            } else {
                Action::ForwardStarted(Err(e))
            });
        };
        let audit = self.session_audit(&request);
        if let Some(reason) = audit.refuse(self.read_only, &self.safety) {
            return reply_err(Failure::Refused(reason));
        }
        let (Some(clients), Some(target)) = (self.clients(), self.target()) else {
            return reply_err(Failure::not_connected());
        };
        match request.kind.clone() {
            SessionRequestKind::Shell { command, raw } => {
                let shell = super::handover::shell(&request, &command, raw);
                self.open_shell(clients, target, shell, request, audit);
            }
            SessionRequestKind::Forward {
                remote_port,
                local_port,
                host,
            } => {
                let id = self.forwards.next_id();
                let spec = ForwardSpec {
                    id,
                    remote_port,
                    local_port,
                    host,
                };
                let running = Forwards {
                    running: self.forwards.running.clone(),
                    next: 0,
                };
                let (tx, permits, clock) = (self.tx(), self.permits.clone(), self.clock.clone());
                tokio::spawn(async move {
                    let ctx = ForwardCtx {
                        tx,
                        clients,
                        target,
                        request,
                        running,
                        clock,
                    };
                    if let Err(e) = run_forward(ctx, spec, permits, &audit).await {
                        reply_err(e);
                    }
                });
            }
        }
    }

    /// The audit lines of a session: a shell's are [`Shell::audit`]'s, as `berth exec` writes
    /// them.
    ///
    /// [`Shell::audit`]: crate::exec::session::Shell::audit
    pub(super) fn session_audit(&self, request: &SessionRequest) -> Audit {
        let (path, clock) = (self.audit_path.clone(), self.clock.clone());
        match &request.kind {
            SessionRequestKind::Shell { command, raw } => {
                super::handover::shell(request, command, *raw).audit(&request.actor, path, clock)
            }
            SessionRequestKind::Forward { .. } => Audit {
                path,
                clock,
                actor: request.actor.clone(),
                action: request.action(),
                target: request.audit_target(),
                parameters: request.parameters(None),
            },
        }
    }

    /// Stop a port forward: its watcher kills the plugin and terminates the session.
    pub(super) fn stop_forward(&mut self, id: u64) {
        if let Some(p) = self.forwards.remove(id) {
            tracing::info!("stopping port forward {id} ({})", p.session_id);
            let _ = p.kill.send(true);
        }
    }

    /// How many port forwards run.
    pub fn forward_count(&self) -> usize {
        self.forwards.count()
    }
}

struct ForwardSpec {
    id: u64,
    remote_port: u16,
    local_port: u16,
    host: Option<String>,
}

struct ForwardCtx {
    tx: tokio::sync::mpsc::UnboundedSender<Action>,
    clients: Clients,
    target: aws::AwsTarget,
    request: SessionRequest,
    running: Forwards,
    clock: crate::clock::Clock,
}

/// StartSession with the port-forwarding document, the plugin in the background, and a
/// watcher until it exits or is stopped. Errors before the forward runs are returned.
async fn run_forward(
    ctx: ForwardCtx,
    spec: ForwardSpec,
    permits: Arc<tokio::sync::Semaphore>,
    audit: &Audit,
) -> Result<(), Failure> {
    let ForwardCtx {
        tx,
        clients,
        target,
        request,
        running,
        clock,
    } = ctx;
    let id = spec.id;
    let (document, mut parameters) = match &spec.host {
        Some(h) => (
            "AWS-StartPortForwardingSessionToRemoteHost",
            vec![("host".to_string(), h.clone())],
        ),
        None => ("AWS-StartPortForwardingSession", Vec::new()),
    };
    parameters.push(("portNumber".into(), spec.remote_port.to_string()));
    parameters.push(("localPortNumber".into(), spec.local_port.to_string()));
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
    let grant = granted.inspect_err(|e| audit.line("error", None, Some(e.to_string()), None))?;
    let session_id = grant.session_id.clone();
    let plugin = match &request.runner {
        Runner::Plugin(path) => path.clone(),
        Runner::Native => {
            let ctx = ForwardCtx {
                tx,
                clients,
                target,
                request,
                running,
                clock,
            };
            return run_native_forward(ctx, spec, grant, audit).await;
        }
    };
    let params: serde_json::Map<String, serde_json::Value> = parameters
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::json!([v])))
        .collect();
    let invocation = crate::exec::plugin::invocation(
        plugin.clone(),
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
        // A berth that dies must not leave a forward behind.
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            let msg = format!("cannot start {}: {e}", plugin.display());
            audit.line("error", Some(&session_id), Some(msg.clone()), None);
            // The session exists on the SSM side: close it.
            let _ = aws::exec::terminate_session(&clients.ssm, &session_id).await;
            return Err(Failure::Local(msg));
        }
    };
    drain_output(child.stdout.take(), id);
    drain_output(child.stderr.take(), id);
    let killed = announce(
        Started {
            tx: &tx,
            running: &running,
            request: &request,
            spec: &spec,
            clock: &clock,
        },
        spec.local_port,
        &session_id,
        audit,
    );
    let how = tokio::select! {
        status = child.wait() => match status {
            Ok(s) => crate::exec::plugin::describe_exit(&s),
            Err(e) => format!("wait failed: {e}"),
        },
        terminate = killed => {
            let _ = child.kill().await;
            if terminate.unwrap_or(true)
                && let Err(e) = aws::exec::terminate_session(&clients.ssm, &session_id).await
            {
                tracing::warn!("port forward {id}: {e}");
            }
            "stopped".to_string()
        }
    };
    running.remove(id);
    audit.line("ended", Some(&session_id), None, Some(&how));
    let _ = tx.send(Action::ForwardEnded { id, how });
    Ok(())
}

/// What a started forward is announced with.
struct Started<'a> {
    tx: &'a tokio::sync::mpsc::UnboundedSender<Action>,
    running: &'a Forwards,
    request: &'a SessionRequest,
    spec: &'a ForwardSpec,
    clock: &'a crate::clock::Clock,
}

/// A forward runs (whichever client carries it): kept among the running ones, the `ok` audit
/// line, and `ForwardStarted` for the console. The receiver fires when it is to stop.
fn announce(
    s: Started<'_>,
    local_port: u16,
    session_id: &str,
    audit: &Audit,
) -> tokio::sync::oneshot::Receiver<bool> {
    let (kill, killed) = tokio::sync::oneshot::channel();
    let id = s.spec.id;
    s.running.insert(
        id,
        ForwardProc {
            kill,
            session_id: session_id.to_string(),
        },
    );
    audit.line("ok", Some(session_id), None, None);
    let remote = match &s.spec.host {
        Some(h) => format!("{h}:{}", s.spec.remote_port),
        None => s.spec.remote_port.to_string(),
    };
    let _ = s.tx.send(Action::ForwardStarted(Ok(Forward {
        id,
        local_port,
        remote,
        cluster: crate::domain::Cluster::name_from_arn(&s.request.cluster).to_string(),
        task_id: s.request.task_id.clone(),
        container: s.request.container.clone(),
        session_id: session_id.to_string(),
        started_at: (s.clock)(),
        ended: None,
        connections: 0,
        problem: None,
    })));
    killed
}

/// The forward through berth's built-in client: the local port bound first (a port in use is
/// said before anything runs), the channel opened, then the forwarder until it is stopped or
/// the session ends. `K` (or quitting) stops it: the forwarder sends the TerminateSession flag
/// and calls `ssm:TerminateSession`.
async fn run_native_forward(
    ctx: ForwardCtx,
    spec: ForwardSpec,
    grant: crate::exec::plugin::SessionGrant,
    audit: &Audit,
) -> Result<(), Failure> {
    use crate::exec::native::{self, forward};
    let ForwardCtx {
        tx,
        clients,
        request,
        running,
        clock,
        ..
    } = ctx;
    let id = spec.id;
    let session_id = grant.session_id.clone();
    let fail = |msg: String| {
        audit.line("error", Some(&session_id), Some(msg.clone()), None);
        Failure::Local(msg)
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", spec.local_port)).await {
        Ok(l) => l,
        Err(e) => {
            let _ = aws::exec::terminate_session(&clients.ssm, &session_id).await;
            return Err(fail(format!(
                "cannot listen on 127.0.0.1:{}: {e}",
                spec.local_port
            )));
        }
    };
    let local_port = listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or(spec.local_port);
    let access = aws::ssmmessages::ChannelAccess::new(&clients);
    let channel = match native::channel::open(
        access.clone(),
        native::Grant::from_session(grant, &request.target),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            let _ = aws::exec::terminate_session(&clients.ssm, &session_id).await;
            return Err(fail(e));
        }
    };
    let killed = announce(
        Started {
            tx: &tx,
            running: &running,
            request: &request,
            spec: &spec,
            clock: &clock,
        },
        local_port,
        &session_id,
        audit,
    );
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (notes_tx, mut notes) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        // Whichever way the watcher is told (stop or quit), the forwarder ends the session.
        let _ = killed.await;
        let _ = stop.send(());
    });
    let notes_tx_ui = tx.clone();
    tokio::spawn(async move {
        while let Some(note) = notes.recv().await {
            tracing::info!("port forward {id}: {note}");
            let (connection, problem) = match &note {
                forward::ForwardNote::Opened { .. } => (true, None),
                forward::ForwardNote::Dropped { .. }
                | forward::ForwardNote::Refused { .. }
                | forward::ForwardNote::DestinationFailed
                | forward::ForwardNote::AcceptFailed(_)
                | forward::ForwardNote::Reconnecting(_)
                | forward::ForwardNote::TerminateFailed(_) => (false, Some(note.to_string())),
                forward::ForwardNote::Reconnected => (false, Some("reconnected".to_string())),
                forward::ForwardNote::Ready { .. } | forward::ForwardNote::Closed { .. } => {
                    continue;
                }
            };
            let _ = notes_tx_ui.send(Action::ForwardNote {
                id,
                connection,
                problem,
            });
        }
    });
    let outcome = forward::run(channel, access, listener, stopped, notes_tx).await;
    running.remove(id);
    let how = outcome.how();
    audit.line("ended", Some(&session_id), None, Some(&how));
    let _ = tx.send(Action::ForwardEnded { id, how });
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
