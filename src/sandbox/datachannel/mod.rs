//! The Session Manager data channel, served by the sandbox playing both the message gateway
//! and the SSM agent in the task, so berth's native client and the official
//! session-manager-plugin open real sessions against it (facts from the protocol notes in the
//! shared docs; no code carried over).
//!
//! StartSession, ResumeSession and ECS ExecuteCommand (`ssm.rs`) hand out
//! `ws://<listen address>/v1/data-channel/<session-id>?role=publish_subscribe` and a token,
//! and record what the session runs ([`ChannelSpec`]). A client upgrades that URL (SigV4
//! headers or not: only whether `Authorization` was present is counted), sends the
//! OpenDataChannel JSON as its first, text, frame, and from then on exchanges binary
//! AgentMessages with one [`agent::Agent`] per session. The agent outlives its connections:
//! its sequence numbers, unacknowledged output and delivery state carry over to the next
//! connection, which is what ResumeSession is for.
//!
//! - [`agent`]: the handshake (session type, optional KMS encryption and its challenge),
//!   acks, ordered delivery, retransmission, flow control, the `dc_*` faults, and the end of
//!   the session (`channel_closed`).
//! - [`port`]: port forwarding: smux streams (or, for old agent versions, one raw connection)
//!   to in-process destinations: the container's HTTP service or an echo "remote host".
//!
//! Nothing real runs: the shell is simulated and no socket other than the WebSocket is
//! opened.

mod agent;
mod port;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use tokio::sync::{Notify, mpsc};

use super::server::Shared;
pub(crate) use super::shell::ShellContext;
use crate::exec::channel::message::{MAX_FRAME, OpenDataChannelRequest};

/// How long a new connection may take to send its OpenDataChannel frame.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames queued from a connection to its agent (the reader waits when it is full).
const CONTROL_QUEUE: usize = 64;
/// Frames queued from the agent to a connection; beyond that they are dropped and the
/// retransmission (or the client's) makes up for them.
const OUTBOUND_QUEUE: usize = 1024;
/// How long a closed channel's socket waits for the client to close its side.
const CLOSE_LINGER: std::time::Duration = std::time::Duration::from_secs(2);
/// Largest OpenDataChannel frame read.
const MAX_OPEN_FRAME: usize = 16 * 1024;
/// Registry entries before finished sessions are forgotten.
const MAX_ENTRIES: usize = 4096;

/// What a session runs once its data channel is open, decided when the session is created.
#[derive(Debug, Clone)]
pub(crate) struct ChannelSpec {
    pub run: Run,
    /// The container the session runs in, as its shell sees it.
    pub container: ShellContext,
    /// The KMS key the cluster's exec configuration names: the handshake asks the client to
    /// encrypt the session with a data key of it.
    pub kms_key: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum Run {
    /// A shell (or a command) in the container; `session_type` is what the handshake says:
    /// `InteractiveCommands` for ECS Exec and AWS-StartInteractiveCommand, `Standard_Stream`
    /// for a plain StartSession.
    Shell {
        session_type: &'static str,
        command: String,
    },
    /// Port forwarding to the container's `port` or, with `host`, to a remote host.
    Port {
        port: String,
        local_port: Option<String>,
        host: Option<String>,
    },
}

/// What a connection tells its session's agent.
#[derive(Debug)]
pub(super) enum Control {
    Attach {
        conn: u64,
        tx: mpsc::Sender<Outbound>,
    },
    Frame {
        conn: u64,
        bytes: Vec<u8>,
    },
    Detach {
        conn: u64,
    },
}

/// What the agent asks a connection to write.
#[derive(Debug)]
pub(super) enum Outbound {
    Frame(Vec<u8>),
    /// A close frame, then the end of the connection.
    Close,
    /// The end of the connection without a close frame (a dropped link).
    Abort,
}

struct AgentHandle {
    tx: mpsc::Sender<Control>,
    terminate: Arc<Notify>,
}

enum Entry {
    Live(AgentHandle),
    Ended,
}

/// The live agents by session id (and the sessions whose agent has finished).
#[derive(Default)]
pub(crate) struct Registry {
    agents: Mutex<HashMap<String, Entry>>,
    next_conn: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Registry {
    /// TerminateSession: a connected session's agent sends `channel_closed` and stops.
    pub(crate) fn terminate(&self, session_id: &str) {
        if let Some(Entry::Live(h)) = lock(&self.agents).get(session_id) {
            h.terminate.notify_one();
        }
    }

    /// The agent of `session_id`, started if it has none yet; `None` once it has finished.
    /// The flag says whether the agent already existed (a reconnect).
    fn join(
        &self,
        shared: &Arc<Shared>,
        session_id: &str,
        target: &str,
        spec: ChannelSpec,
    ) -> Option<(mpsc::Sender<Control>, bool)> {
        let mut agents = lock(&self.agents);
        match agents.get(session_id) {
            Some(Entry::Ended) => return None,
            Some(Entry::Live(h)) if !h.tx.is_closed() => return Some((h.tx.clone(), true)),
            Some(Entry::Live(_)) => return None,
            None => {}
        }
        let (tx, rx) = mpsc::channel(CONTROL_QUEUE);
        let terminate = Arc::new(Notify::new());
        let agent = agent::Agent::new(shared.clone(), session_id, target, spec);
        tokio::spawn(agent.run(rx, terminate.clone()));
        agents.insert(
            session_id.to_string(),
            Entry::Live(AgentHandle {
                tx: tx.clone(),
                terminate,
            }),
        );
        Some((tx, false))
    }

    fn ended(&self, session_id: &str) {
        let mut agents = lock(&self.agents);
        agents.insert(session_id.to_string(), Entry::Ended);
        // the tombstones only guard against a connection racing the end; keep them bounded
        if agents.len() > MAX_ENTRIES {
            agents.retain(|id, e| matches!(e, Entry::Live(_)) || id == session_id);
        }
    }
}

/// `GET /v1/data-channel/{id}`: the WebSocket upgrade.
pub(crate) async fn route(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let signed = headers.contains_key(header::AUTHORIZATION);
    shared.update_stats(|s| {
        if signed {
            s.data_channel.signed_upgrades += 1;
        } else {
            s.data_channel.unsigned_upgrades += 1;
        }
    });
    ws.max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| connection(shared, id, socket))
}

/// The session's channel spec and target when `token` opens it.
fn admit(shared: &Shared, session_id: &str, token: &str) -> Option<(ChannelSpec, String)> {
    let sim = shared.sim();
    sim.sessions
        .iter()
        .rev()
        .find(|s| s.id == session_id)
        .filter(|s| s.accepts(token))
        .map(|s| (s.channel.clone(), s.target.clone()))
}

async fn refuse(shared: &Shared, session_id: &str, mut socket: WebSocket, why: &str) {
    tracing::debug!("data channel {session_id}: refused: {why}");
    shared.update_stats(|s| s.data_channel.refused += 1);
    let close = CloseFrame {
        code: 1008,
        reason: why.into(),
    };
    let _ = socket.send(Message::Close(Some(close))).await;
}

async fn connection(shared: Arc<Shared>, session_id: String, mut socket: WebSocket) {
    let token = match tokio::time::timeout(OPEN_TIMEOUT, socket.recv()).await {
        Ok(Some(Ok(Message::Text(text)))) if text.len() <= MAX_OPEN_FRAME => {
            serde_json::from_str::<OpenDataChannelRequest>(text.as_str())
                .map(|r| r.token)
                .unwrap_or_default()
        }
        _ => String::new(),
    };
    let Some((spec, target)) = admit(&shared, &session_id, &token) else {
        return refuse(&shared, &session_id, socket, "invalid token").await;
    };
    let Some((agent, resumed)) = shared.channels.join(&shared, &session_id, &target, spec) else {
        return refuse(&shared, &session_id, socket, "session ended").await;
    };
    shared.update_stats(|s| {
        s.data_channel.connections += 1;
        if resumed {
            s.data_channel.resumes += 1;
        }
    });
    let conn = shared.channels.next_conn.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::channel(OUTBOUND_QUEUE);
    if agent.send(Control::Attach { conn, tx }).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Binary(bytes))) => {
                    let frame = Control::Frame { conn, bytes: bytes.to_vec() };
                    if agent.send(frame).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Text(_))) => {
                    tracing::debug!("data channel {session_id}: text frame after the open ignored");
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            },
            outgoing = rx.recv() => match outgoing {
                Some(Outbound::Frame(bytes)) => {
                    if socket.send(Message::Binary(bytes.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close) => {
                    let _ = socket.send(Message::Close(None)).await;
                    // Read until the client goes too (bounded), as a gateway does: dropping the
                    // socket with the client's last acks unread resets the connection, and the
                    // reset can discard `channel_closed` before the client has read it.
                    let _ = tokio::time::timeout(CLOSE_LINGER, async {
                        while let Some(Ok(m)) = socket.recv().await {
                            if matches!(m, Message::Close(_)) {
                                break;
                            }
                        }
                    })
                    .await;
                    break;
                }
                // dropping the socket ends the TCP connection without a close frame
                Some(Outbound::Abort) | None => break,
            },
        }
    }
    drop(socket);
    let _ = agent.send(Control::Detach { conn }).await;
}
