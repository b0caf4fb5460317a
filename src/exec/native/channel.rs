//! One data channel: the WebSocket, the handshake, acks and ordering, retransmission, KMS
//! encryption, keep-alive and resuming after a dropped socket. It runs as one task; the
//! session (a shell, a port forward, a scripted command) talks to it through [`Command`]s in
//! and [`Event`]s out.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use zeroize::Zeroizing;

use crate::aws::ssmmessages::ChannelAccess;
use crate::exec::channel::crypto::SessionKeys;
use crate::exec::channel::handshake::{
    ACTION_KMS_ENCRYPTION, ACTION_SESSION_TYPE, ActionStatus, EncryptionChallenge,
    HandshakeComplete, HandshakeRequest, HandshakeResponse, KmsEncryptionParameters,
    KmsEncryptionResult, ProcessedAction, SessionKind, SessionTypeParameters, Size,
};
use crate::exec::channel::message::{
    AcknowledgeContent, AgentMessage, ChannelClosed, Flag, MessageType, OpenDataChannel,
    PayloadType, random_uuid,
};
use crate::exec::channel::sequence::{Incoming, Outgoing, Receipt};

/// Our unacked messages at most (then input waits for acks).
pub const SEND_WINDOW: usize = 256;
/// The peer's messages buffered ahead of a gap at most.
pub const RECEIVE_WINDOW: usize = 1024;
/// A WebSocket ping this often keeps NATs and proxies from dropping an idle session.
pub const KEEPALIVE: Duration = Duration::from_secs(60);
/// How often due retransmissions are looked for.
const TICK: Duration = Duration::from_millis(50);
/// Reconnect attempts after a dropped socket, with exponential back-off from 200 ms.
const RECONNECT_ATTEMPTS: u32 = 6;
/// Events waiting for the session at most; the channel stops reading the socket beyond.
const EVENT_QUEUE: usize = 256;

pub const CLIENT_VERSION: &str = concat!("berth/", env!("CARGO_PKG_VERSION"));

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What ExecuteCommand or StartSession granted.
pub struct Grant {
    pub session_id: String,
    pub stream_url: String,
    pub token: Zeroizing<String>,
    /// The SSM target (`ecs:<cluster>_<task>_<runtime id>`): part of the KMS context.
    pub target: String,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("session_id", &self.session_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// From the session to the channel.
#[derive(Debug)]
pub enum Command {
    /// Bytes for the remote (keystrokes, forwarded TCP bytes, smux frames).
    Data(Vec<u8>),
    Size(Size),
    Flag(Flag),
}

/// From the channel to the session.
#[derive(Debug, PartialEq)]
pub enum Event {
    /// The handshake completed: the session may start.
    Ready {
        kind: Option<SessionKind>,
        agent_version: String,
        customer_message: String,
        encrypted: bool,
    },
    Output(Vec<u8>),
    StdErr(Vec<u8>),
    ExitCode(i32),
    Flag(Flag),
    /// The socket dropped; resuming.
    Reconnecting(String),
    Reconnected,
    /// The gateway closed the channel; its text.
    Closed(String),
    /// The channel cannot go on.
    Failed(String),
}

/// A running channel. Dropping it ends the task (the socket closes).
pub struct Channel {
    pub events: mpsc::Receiver<Event>,
    pub commands: mpsc::Sender<Command>,
    pub session_id: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Connect and start the channel; errors before the socket is open come back here.
pub async fn open(access: ChannelAccess, grant: Grant) -> Result<Channel, String> {
    let client_id = random_uuid();
    let socket = connect(&access, &grant, &client_id).await?;
    let (event_tx, events) = mpsc::channel(EVENT_QUEUE);
    let (commands, command_rx) = mpsc::channel(64);
    let session_id = grant.session_id.clone();
    let engine = Engine {
        access,
        grant,
        client_id,
        out: Outgoing::new(MessageType::InputStreamData, SEND_WINDOW),
        inc: Incoming::new(RECEIVE_WINDOW),
        keys: None,
        ready: false,
        kind: None,
        agent_version: String::new(),
        events: event_tx,
    };
    let task = tokio::spawn(engine.run(socket, command_rx));
    Ok(Channel {
        events,
        commands,
        session_id,
        task,
    })
}

async fn connect(access: &ChannelAccess, grant: &Grant, client_id: &str) -> Result<Socket, String> {
    let signed = access
        .upgrade_request(&grant.stream_url)
        .await
        .map_err(|e| e.plain())?;
    let mut request = grant
        .stream_url
        .as_str()
        .into_client_request()
        .map_err(|e| format!("the stream URL is not usable: {e}"))?;
    for (name, value) in signed.headers() {
        if name != http::header::HOST {
            request.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let (mut socket, _response) = tokio::time::timeout(
        Duration::from_secs(30),
        tokio_tungstenite::connect_async(request),
    )
    .await
    .map_err(|_| "the data channel did not answer within 30 s".to_string())?
    .map_err(|e| format!("cannot open the data channel: {e}"))?;
    let open = OpenDataChannel {
        schema_version: "1.0",
        request_id: random_uuid(),
        token: grant.token.as_str(),
        client_id,
        client_version: CLIENT_VERSION,
    };
    let text = Zeroizing::new(serde_json::to_string(&open).unwrap_or_default());
    socket
        .send(Message::text(text.as_str()))
        .await
        .map_err(|e| format!("cannot open the data channel: {e}"))?;
    Ok(socket)
}

struct Engine {
    access: ChannelAccess,
    grant: Grant,
    client_id: String,
    out: Outgoing,
    inc: Incoming,
    keys: Option<SessionKeys>,
    ready: bool,
    kind: Option<SessionKind>,
    agent_version: String,
    events: mpsc::Sender<Event>,
}

/// Why the socket loop stopped.
enum Stop {
    /// Closed by the gateway, failed for good, or the session went away.
    Done,
    /// The socket dropped: resume.
    Dropped(String),
}

impl Engine {
    async fn run(mut self, mut socket: Socket, mut commands: mpsc::Receiver<Command>) {
        loop {
            match self.serve(&mut socket, &mut commands).await {
                Stop::Done => return,
                Stop::Dropped(why) => {
                    tracing::info!("data channel {} dropped: {why}", self.grant.session_id);
                    let _ = self.events.send(Event::Reconnecting(why)).await;
                    match self.reconnect().await {
                        Ok(s) => {
                            socket = s;
                            let _ = self.events.send(Event::Reconnected).await;
                        }
                        Err(e) => {
                            let _ = self.events.send(Event::Failed(e)).await;
                            return;
                        }
                    }
                }
            }
        }
    }

    async fn serve(&mut self, socket: &mut Socket, commands: &mut mpsc::Receiver<Command>) -> Stop {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut keepalive =
            tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
        // After a reconnect, everything unacked goes again at once.
        for frame in self.out.all_unacked(Instant::now()) {
            if let Err(e) = socket.send(Message::binary(frame)).await {
                return Stop::Dropped(e.to_string());
            }
        }
        loop {
            let can_send = self.ready && self.out.has_room();
            tokio::select! {
                frame = socket.next() => match frame {
                    Some(Ok(Message::Binary(bytes))) => {
                        if let Some(stop) = self.on_frame(socket, &bytes).await {
                            return stop;
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => {
                        return Stop::Dropped("the data channel closed".into());
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Stop::Dropped(e.to_string()),
                },
                cmd = commands.recv(), if can_send => match cmd {
                    Some(cmd) => {
                        if let Err(e) = self.send_command(socket, cmd).await {
                            return Stop::Dropped(e);
                        }
                    }
                    // The session is over: nothing more to say.
                    None => return Stop::Done,
                },
                _ = tick.tick() => match self.out.due(Instant::now(), 32) {
                    Ok(frames) => {
                        for frame in frames {
                            if let Err(e) = socket.send(Message::binary(frame)).await {
                                return Stop::Dropped(e.to_string());
                            }
                        }
                    }
                    Err(_) => {
                        let _ = self.events.send(Event::Failed(
                            "the remote end acknowledged nothing for 5 minutes".into(),
                        )).await;
                        let _ = self.access.terminate(&self.grant.session_id).await;
                        return Stop::Done;
                    }
                },
                _ = keepalive.tick() => {
                    if let Err(e) = socket.send(Message::Ping(b"keepalive".to_vec().into())).await {
                        return Stop::Dropped(e.to_string());
                    }
                }
            }
        }
    }

    async fn send_command(&mut self, socket: &mut Socket, cmd: Command) -> Result<(), String> {
        let (payload_type, payload) = match cmd {
            Command::Data(bytes) => {
                let bytes = match &self.keys {
                    Some(k) => k.seal(&bytes).map_err(|e| e.to_string())?,
                    None => bytes,
                };
                (PayloadType::OUTPUT, bytes)
            }
            Command::Size(size) => (
                PayloadType::SIZE,
                serde_json::to_vec(&size).unwrap_or_default(),
            ),
            Command::Flag(flag) => (PayloadType::FLAG, flag.to_payload()),
        };
        let frame = self.out.send(payload_type, payload, Instant::now());
        socket
            .send(Message::binary(frame))
            .await
            .map_err(|e| e.to_string())
    }

    async fn send_stream(
        &mut self,
        socket: &mut Socket,
        payload_type: PayloadType,
        payload: Vec<u8>,
    ) -> Result<(), String> {
        let frame = self.out.send(payload_type, payload, Instant::now());
        socket
            .send(Message::binary(frame))
            .await
            .map_err(|e| e.to_string())
    }

    /// One binary frame from the gateway. `Some` ends the loop.
    async fn on_frame(&mut self, socket: &mut Socket, bytes: &[u8]) -> Option<Stop> {
        let msg = match AgentMessage::decode(bytes) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!("data channel: dropped a frame: {e}");
                return None;
            }
        };
        match msg.message_type {
            MessageType::Acknowledge => {
                match serde_json::from_slice::<AcknowledgeContent>(&msg.payload) {
                    Ok(ack) => {
                        self.out.ack(ack.sequence_number, Instant::now());
                    }
                    Err(e) => tracing::debug!("data channel: unreadable ack: {e}"),
                }
                None
            }
            MessageType::ChannelClosed => {
                let closed: ChannelClosed =
                    serde_json::from_slice(&msg.payload).unwrap_or_default();
                let _ = self.events.send(Event::Closed(closed.output)).await;
                Some(Stop::Done)
            }
            MessageType::OutputStreamData => {
                let ack = AgentMessage::ack_for(&msg);
                let delivered = match self.inc.accept(msg) {
                    Receipt::Deliver(v) => v,
                    Receipt::Buffered | Receipt::Duplicate => Vec::new(),
                    Receipt::Dropped => return None,
                };
                // Accepted messages are handed over even when the socket fails under the ack:
                // the sequence state already counts them as received.
                let mut stop = None;
                for m in delivered {
                    if let Err(s) = self.deliver(socket, m).await
                        && stop.is_none()
                    {
                        stop = Some(s);
                    }
                }
                // An ack that cannot be sent is not the end: the peer resends what it misses,
                // and whether the socket is gone is for the read side to say (frames already
                // received, `channel_closed` among them, are still read).
                if stop.is_none()
                    && let Err(e) = socket.send(Message::binary(ack.encode())).await
                {
                    tracing::debug!("data channel: an ack was not sent: {e}");
                }
                stop
            }
            MessageType::StartPublication | MessageType::PausePublication => None,
            other => {
                tracing::debug!("data channel: ignored a {} message", other.as_str());
                None
            }
        }
    }

    /// One in-order message from the agent.
    async fn deliver(&mut self, socket: &mut Socket, m: AgentMessage) -> Result<(), Stop> {
        let failed = |e: String| Stop::Dropped(e);
        match m.payload_type {
            PayloadType::HANDSHAKE_REQUEST => {
                let request: HandshakeRequest = match serde_json::from_slice(&m.payload) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::debug!("data channel: unreadable handshake request: {e}");
                        return Ok(());
                    }
                };
                let response = self.handshake(request).await;
                let payload = serde_json::to_vec(&response).unwrap_or_default();
                self.send_stream(socket, PayloadType::HANDSHAKE_RESPONSE, payload)
                    .await
                    .map_err(failed)
            }
            PayloadType::ENC_CHALLENGE_REQUEST => {
                let answer = serde_json::from_slice::<EncryptionChallenge>(&m.payload)
                    .ok()
                    .and_then(|c| base64_decode(&c.challenge))
                    .and_then(|c| self.keys.as_ref()?.answer_challenge(&c).ok());
                let Some(answer) = answer else {
                    let _ = self
                        .events
                        .send(Event::Failed(
                            "the encryption challenge could not be answered".into(),
                        ))
                        .await;
                    return Err(Stop::Done);
                };
                let payload = serde_json::to_vec(&EncryptionChallenge {
                    challenge: base64_encode(&answer),
                })
                .unwrap_or_default();
                self.send_stream(socket, PayloadType::ENC_CHALLENGE_RESPONSE, payload)
                    .await
                    .map_err(failed)
            }
            PayloadType::HANDSHAKE_COMPLETE => {
                let done: HandshakeComplete =
                    serde_json::from_slice(&m.payload).unwrap_or_default();
                self.ready = true;
                self.emit(Event::Ready {
                    kind: self.kind.clone(),
                    agent_version: self.agent_version.clone(),
                    customer_message: done.customer_message,
                    encrypted: self.keys.is_some(),
                })
                .await
            }
            PayloadType::OUTPUT | PayloadType::STDERR | PayloadType::EXIT_CODE => {
                let bytes = match &self.keys {
                    Some(k) => match k.open(&m.payload) {
                        Ok(b) => b,
                        Err(e) => {
                            tracing::debug!("data channel: cannot decrypt a message: {e}");
                            return Ok(());
                        }
                    },
                    None => m.payload,
                };
                // An agent without a handshake starts a shell with its first output.
                if !self.ready {
                    self.ready = true;
                    self.emit(Event::Ready {
                        kind: Some(SessionKind::Shell {
                            non_interactive: false,
                        }),
                        agent_version: String::new(),
                        customer_message: String::new(),
                        encrypted: false,
                    })
                    .await?;
                }
                let event = match m.payload_type {
                    PayloadType::OUTPUT => Event::Output(bytes),
                    PayloadType::STDERR => Event::StdErr(bytes),
                    _ => match parse_exit_code(&bytes) {
                        Some(code) => Event::ExitCode(code),
                        None => return Ok(()),
                    },
                };
                self.emit(event).await
            }
            PayloadType::FLAG => match Flag::from_payload(&m.payload) {
                Some(flag) => self.emit(Event::Flag(flag)).await,
                None => Ok(()),
            },
            other => {
                tracing::debug!("data channel: ignored payload type {}", other.0);
                Ok(())
            }
        }
    }

    async fn emit(&self, event: Event) -> Result<(), Stop> {
        self.events.send(event).await.map_err(|_| Stop::Done)
    }

    /// Answer each requested action.
    async fn handshake(&mut self, request: HandshakeRequest) -> HandshakeResponse {
        self.agent_version = crate::text::sanitize(&request.agent_version).into_owned();
        let mut actions = Vec::new();
        for action in request.actions {
            let processed = match action.action_type.as_str() {
                ACTION_SESSION_TYPE => {
                    match serde_json::from_value::<SessionTypeParameters>(action.parameters)
                        .ok()
                        .and_then(|p| p.kind())
                    {
                        Some(kind) => {
                            self.kind = Some(kind);
                            ProcessedAction::new(
                                ACTION_SESSION_TYPE,
                                ActionStatus::Success,
                                serde_json::Value::Null,
                                "",
                            )
                        }
                        None => ProcessedAction::new(
                            ACTION_SESSION_TYPE,
                            ActionStatus::Failed,
                            serde_json::Value::Null,
                            "unknown session type",
                        ),
                    }
                }
                ACTION_KMS_ENCRYPTION => self.kms(action.parameters).await,
                other => ProcessedAction::new(
                    other,
                    ActionStatus::Unsupported,
                    serde_json::Value::Null,
                    &format!("{CLIENT_VERSION} does not support {other}"),
                ),
            };
            actions.push(processed);
        }
        HandshakeResponse {
            client_version: CLIENT_VERSION.to_string(),
            actions,
            errors: None,
        }
    }

    async fn kms(&mut self, parameters: serde_json::Value) -> ProcessedAction {
        let fail = |e: String| {
            ProcessedAction::new(
                ACTION_KMS_ENCRYPTION,
                ActionStatus::Failed,
                serde_json::Value::Null,
                &e,
            )
        };
        let Ok(p) = serde_json::from_value::<KmsEncryptionParameters>(parameters) else {
            return fail("no KMS key id".into());
        };
        let key = self
            .access
            .data_key(&p.key_id, &self.grant.session_id, &self.grant.target)
            .await;
        let key = match key {
            Ok(k) => k,
            Err(e) => {
                let text = format!(
                    "KMS GenerateDataKey with {} failed: {}",
                    p.key_id,
                    e.plain()
                );
                let _ = self.events.send(Event::Failed(text.clone())).await;
                return fail(text);
            }
        };
        match SessionKeys::client(&key.plaintext) {
            Ok(keys) => {
                self.keys = Some(keys);
                ProcessedAction::new(
                    ACTION_KMS_ENCRYPTION,
                    ActionStatus::Success,
                    serde_json::to_value(KmsEncryptionResult {
                        ciphertext_key: base64_encode(&key.ciphertext),
                        ciphertext_hash: None,
                    })
                    .unwrap_or_default(),
                    "",
                )
            }
            Err(e) => fail(e.to_string()),
        }
    }

    /// ResumeSession, then the same stream URL with the new token, with back-off.
    async fn reconnect(&mut self) -> Result<Socket, String> {
        let mut delay = Duration::from_millis(200);
        let mut last = String::new();
        for _ in 0..RECONNECT_ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
            match self.access.resume(&self.grant.session_id).await {
                Ok(Some(token)) => self.grant.token = token,
                Ok(None) => return Err(format!("session {} timed out", self.grant.session_id)),
                Err(e) => {
                    last = e.plain();
                    continue;
                }
            }
            match connect(&self.access, &self.grant, &self.client_id).await {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(format!("could not resume the session: {last}"))
    }
}

/// `EXIT_CODE: <n>` (or just the number).
pub fn parse_exit_code(bytes: &[u8]) -> Option<i32> {
    let text = String::from_utf8_lossy(bytes);
    let t = text.trim();
    let n = t.strip_prefix("EXIT_CODE:").unwrap_or(t).trim();
    n.parse().ok()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_read_from_the_agents_text() {
        assert_eq!(parse_exit_code(b"EXIT_CODE: 3"), Some(3));
        assert_eq!(parse_exit_code(b"EXIT_CODE: 0\n"), Some(0));
        assert_eq!(parse_exit_code(b"127"), Some(127));
        assert_eq!(parse_exit_code(b"EXIT_CODE: x"), None);
    }
}
