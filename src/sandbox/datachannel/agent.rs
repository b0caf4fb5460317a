//! One session's SSM agent: lives from the first connection to the end of the session, across
//! reconnects.
//!
//! It sends the HandshakeRequest as its output message 0 (the session type, and KMS encryption
//! when the cluster names a key), waits for the client's HandshakeResponse, for KMS decrypts
//! the client's data key and checks the encrypted challenge, then sends HandshakeComplete and
//! starts the shell or the port forward. From then on client Output goes to the program, Size
//! resizes the shell, the TerminateSession flag ends the session, and the program's output goes
//! out in Output messages of at most [`CHUNK`] bytes, at most [`WINDOW`] of them unacked (the
//! program is not read while the window is full, and client data is left unacked, to be sent
//! again, while the program cannot take it).
//!
//! Every client message that is accepted is acked, duplicates included, and delivered in order.
//! Unacked output is resent on a short tick when its timeout passes, and all of it when a
//! client reconnects. The official plugin never acks a duplicate, and an ack in flight is lost
//! with its connection, so a message resent at a reconnect is taken as delivered before the
//! link dropped when the client acks a later one instead, or leaves it unanswered through
//! [`PRESUME_AFTER`] resends. As an interactive agent does, it sends no ExitCode: when the shell has exited
//! and its output is acked, `channel_closed` ends the session.
//!
//! The `dc_*` faults act here, on the first transmission of each output message (a corrupted,
//! duplicated or reordered message is always followed by clean retransmissions), except the
//! delay, which holds every frame written.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

use super::port::Forward;
use super::{ChannelSpec, Control, Outbound, Run};
use crate::exec::channel::crypto::SessionKeys;
use crate::exec::channel::handshake::{
    ACTION_KMS_ENCRYPTION, ACTION_SESSION_TYPE, ActionStatus, AgentVersion, EncryptionChallenge,
    HandshakeComplete, HandshakeRequest, HandshakeResponse, KmsEncryptionResult, RequestedAction,
    Size,
};
use crate::exec::channel::message::{
    AcknowledgeContent, AgentMessage, Flag, MessageType, PAYLOAD_OFFSET, PayloadType, fill_random,
};
use crate::exec::channel::sequence::{Incoming, Outgoing};
use crate::sandbox::Faults;
use crate::sandbox::server::Shared;
use crate::sandbox::shell::Shell;

/// Output messages in flight before the program is no longer read.
pub(super) const WINDOW: usize = 64;
/// Largest output payload.
pub(super) const CHUNK: usize = 4096;
/// Retransmission, output and fault-delay granularity.
const TICK: Duration = Duration::from_millis(20);
/// A session nobody is connected to ends after this long (Session Manager's idle timeout).
const IDLE_LIMIT: Duration = Duration::from_secs(20 * 60);
/// Client messages buffered ahead of a gap.
const INCOMING_BUFFER: usize = 64;
/// Client input kept while the handshake is still running.
const EARLY_LIMIT: usize = 64 * 1024;
/// Frames held by the delay fault.
const DELAYED_LIMIT: usize = 4096;
/// Random bytes in the encryption challenge.
const CHALLENGE_LEN: usize = 64;
/// Retransmissions on a new connection after which a message resent at its start is taken
/// as one the client had already delivered (and, like the plugin, will never ack).
const PRESUME_AFTER: u32 = 4;

pub(super) const DEFAULT_AGENT_VERSION: &str = "3.3.1000.0";
const CUSTOMER_MESSAGE: &str =
    "berth sandbox: simulated container shell, nothing runs on this machine";
const PORT_CUSTOMER_MESSAGE: &str =
    "berth sandbox: simulated port forward, served inside the sandbox";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// HandshakeRequest sent, waiting for the client's answer.
    AwaitResponse,
    /// KMS: the challenge was sent; these are the bytes the client must return.
    AwaitChallenge(Vec<u8>),
    Running,
}

enum Program {
    Shell { shell: Shell, drained: bool },
    Port(Forward),
}

impl Program {
    fn input(&mut self, data: &[u8], now_ms: i64) {
        match self {
            Program::Shell { shell, .. } => {
                // `date` shows the sandbox's virtual clock
                shell.set_clock(u64::try_from(now_ms).unwrap_or(0));
                shell.input(data);
            }
            Program::Port(f) => f.input(data),
        }
    }

    fn ready(&self) -> bool {
        match self {
            Program::Shell { .. } => true,
            Program::Port(f) => f.ready(),
        }
    }

    fn next(&mut self, max: usize) -> Option<(PayloadType, Vec<u8>)> {
        match self {
            Program::Shell { shell, drained } => {
                let exited = shell.exited().is_some();
                let data = shell.read_output(max);
                if data.is_empty() {
                    *drained = exited;
                    None
                } else {
                    Some((PayloadType::OUTPUT, data))
                }
            }
            Program::Port(f) => f.next(max),
        }
    }

    /// Why the session is over, once nothing more will come.
    fn ended(&self) -> Option<String> {
        match self {
            Program::Shell { drained: true, .. } => Some(String::new()),
            Program::Shell { .. } => None,
            Program::Port(f) => f.broken().map(str::to_string),
        }
    }
}

struct Conn {
    id: u64,
    tx: mpsc::Sender<Outbound>,
}

pub(super) struct Agent {
    shared: Arc<Shared>,
    id: String,
    target: String,
    spec: ChannelSpec,
    agent_version: String,
    out: Outgoing,
    inc: Incoming,
    phase: Phase,
    /// The session's keys once the client's KMS data key was decrypted.
    keys: Option<SessionKeys>,
    program: Option<Program>,
    /// Client Output and Size that arrived before the handshake finished.
    early: Vec<AgentMessage>,
    early_bytes: usize,
    conn: Option<Conn>,
    /// Resent when the current connection started, with how often they were resent since: a
    /// later ack passing over one, or [`PRESUME_AFTER`] unanswered resends, settle it.
    presumable: BTreeMap<i64, u32>,
    started: Instant,
    handshake_sent: Option<Instant>,
    idle_since: Instant,
    faults: Faults,
    /// Output messages written once (the `dc_drop_after` count).
    written: u64,
    dropped: bool,
    held: Option<Vec<u8>>,
    delayed: VecDeque<(Instant, Outbound)>,
    finished: bool,
}

impl Agent {
    pub(super) fn new(shared: Arc<Shared>, id: &str, target: &str, spec: ChannelSpec) -> Agent {
        let faults = shared.faults();
        let agent_version = faults
            .agent_version
            .clone()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_AGENT_VERSION.to_string());
        let now = Instant::now();
        Agent {
            shared,
            id: id.to_string(),
            target: target.to_string(),
            spec,
            agent_version,
            out: Outgoing::new(MessageType::OutputStreamData, WINDOW),
            inc: Incoming::new(INCOMING_BUFFER),
            phase: Phase::AwaitResponse,
            keys: None,
            program: None,
            early: Vec::new(),
            early_bytes: 0,
            conn: None,
            presumable: BTreeMap::new(),
            started: now,
            handshake_sent: None,
            idle_since: now,
            faults,
            written: 0,
            dropped: false,
            held: None,
            delayed: VecDeque::new(),
            finished: false,
        }
    }

    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<Control>, terminate: Arc<Notify>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut closing = self.shared.closing.clone();
        while !self.finished {
            tokio::select! {
                c = rx.recv() => match c {
                    Some(c) => self.control(c),
                    None => break,
                },
                _ = tick.tick() => self.tick(),
                _ = terminate.notified() => self.close_channel(&self.exiting()),
                r = closing.changed() => {
                    if r.is_err() || *closing.borrow() {
                        self.close_channel("The berth sandbox is shutting down.");
                    }
                }
            }
        }
        self.shared.channels.ended(&self.id);
        let mut sim = self.shared.sim();
        let now = sim.now;
        if let Some(s) = sim.sessions.iter_mut().find(|s| s.id == self.id)
            && s.ended.is_none()
        {
            s.ended = Some(now);
        }
    }

    fn exiting(&self) -> String {
        format!("Exiting session with sessionId: {}.", self.id)
    }

    fn control(&mut self, c: Control) {
        match c {
            Control::Attach { conn, tx } => self.attach(conn, tx),
            Control::Frame { conn, bytes } => {
                if self.conn.as_ref().is_some_and(|c| c.id == conn) {
                    self.on_frame(&bytes);
                    self.pump();
                }
            }
            Control::Detach { conn } => {
                if self.conn.as_ref().is_some_and(|c| c.id == conn) {
                    self.detach();
                }
            }
        }
    }

    fn attach(&mut self, conn: u64, tx: mpsc::Sender<Outbound>) {
        if let Some(old) = self.conn.take() {
            // a newer connection replaces the old one
            let _ = old.tx.try_send(Outbound::Abort);
        }
        self.conn = Some(Conn { id: conn, tx });
        self.delayed.clear();
        self.held = None;
        self.faults = self.shared.faults();
        if self.out.next_sequence() == 0 {
            self.send_handshake_request();
            return;
        }
        let frames = self.out.all_unacked(Instant::now());
        self.presumable = frames
            .iter()
            .filter_map(|f| sequence_of(f))
            .map(|s| (s, 0))
            .collect();
        for f in frames {
            self.emit(Outbound::Frame(f));
        }
        self.pump();
    }

    fn detach(&mut self) {
        self.conn = None;
        self.delayed.clear();
        self.held = None;
        self.presumable.clear();
        self.idle_since = Instant::now();
    }

    // ----- the handshake -------------------------------------------------------------

    fn send_handshake_request(&mut self) {
        let (session_type, properties) = match &self.spec.run {
            Run::Shell { session_type, .. } => (*session_type, Value::Null),
            Run::Port {
                port,
                local_port,
                host,
            } => {
                let mut p = json!({"portNumber": port, "type": "LocalPortForwarding"});
                if let Some(l) = local_port {
                    p["localPortNumber"] = json!(l);
                }
                if let Some(h) = host {
                    p["host"] = json!(h);
                }
                ("Port", p)
            }
        };
        let mut actions = Vec::new();
        if let Some(key) = &self.spec.kms_key {
            actions.push(RequestedAction {
                action_type: ACTION_KMS_ENCRYPTION.to_string(),
                parameters: json!({"KMSKeyId": key}),
            });
        }
        actions.push(RequestedAction {
            action_type: ACTION_SESSION_TYPE.to_string(),
            parameters: json!({"SessionType": session_type, "Properties": properties}),
        });
        let request = HandshakeRequest {
            agent_version: self.agent_version.clone(),
            actions,
        };
        self.handshake_sent = Some(Instant::now());
        self.send_output(
            PayloadType::HANDSHAKE_REQUEST,
            serde_json::to_vec(&request).unwrap_or_default(),
        );
    }

    fn on_handshake_response(&mut self, payload: &[u8]) {
        if self.phase != Phase::AwaitResponse {
            tracing::debug!("data channel {}: extra HandshakeResponse ignored", self.id);
            return;
        }
        let response: HandshakeResponse = match serde_json::from_slice(payload) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!("data channel {}: bad HandshakeResponse: {e}", self.id);
                return self.close_channel(&format!("Invalid handshake response: {e}"));
            }
        };
        if let Some(a) = response
            .actions
            .iter()
            .find(|a| a.action_type == ACTION_SESSION_TYPE)
            && a.status != ActionStatus::Success as i32
        {
            let why = if a.error.is_empty() {
                "the client does not support this session type".to_string()
            } else {
                a.error.clone()
            };
            return self.close_channel(&format!("Session handshake failed: {why}"));
        }
        if self.spec.kms_key.is_none() {
            return self.complete_handshake();
        }
        let keys = match self.session_keys(&response) {
            Ok(k) => k,
            Err(why) => return self.close_channel(&why),
        };
        // random bytes only the holder of the data key can return
        let mut challenge = vec![0u8; CHALLENGE_LEN];
        fill_random(&mut challenge);
        let sealed = match keys.seal(&challenge) {
            Ok(s) => s,
            Err(e) => return self.close_channel(&format!("Encryption challenge failed: {e}")),
        };
        self.keys = Some(keys);
        self.phase = Phase::AwaitChallenge(challenge);
        let request = EncryptionChallenge {
            challenge: BASE64.encode(sealed),
        };
        self.send_output(
            PayloadType::ENC_CHALLENGE_REQUEST,
            serde_json::to_vec(&request).unwrap_or_default(),
        );
    }

    /// The KMS action's answer: the data key's ciphertext, decrypted as the agent does (KMS
    /// Decrypt under the session's encryption context).
    fn session_keys(&self, response: &HandshakeResponse) -> Result<SessionKeys, String> {
        let action = response
            .actions
            .iter()
            .find(|a| a.action_type == ACTION_KMS_ENCRYPTION)
            .ok_or("KMS encryption failed: the client did not answer the KMSEncryption action")?;
        if action.status != ActionStatus::Success as i32 {
            let why = if action.error.is_empty() {
                "the client could not encrypt the session".to_string()
            } else {
                action.error.clone()
            };
            return Err(format!("KMS encryption failed: {why}"));
        }
        let result: KmsEncryptionResult = serde_json::from_value(action.result.clone())
            .map_err(|e| format!("KMS decrypt failed: no KMSCipherTextKey: {e}"))?;
        let blob = BASE64
            .decode(result.ciphertext_key.as_bytes())
            .map_err(|e| format!("KMS decrypt failed: KMSCipherTextKey is not base64: {e}"))?;
        let context = BTreeMap::from([
            ("aws:ssm:SessionId".to_string(), self.id.clone()),
            ("aws:ssm:TargetId".to_string(), self.target.clone()),
        ]);
        let plaintext = crate::sandbox::kms::decrypt_for_agent(&self.shared, &blob, &context)
            .map_err(|e| format!("KMS decrypt failed: {}: {}", e.code, e.message))?;
        SessionKeys::agent(&plaintext).map_err(|e| format!("KMS decrypt failed: {e}"))
    }

    fn on_challenge_response(&mut self, payload: &[u8]) {
        let Phase::AwaitChallenge(expected) = &self.phase else {
            tracing::debug!("data channel {}: unexpected EncChallengeResponse", self.id);
            return;
        };
        let answer = serde_json::from_slice::<EncryptionChallenge>(payload)
            .map_err(|e| e.to_string())
            .and_then(|c| {
                BASE64
                    .decode(c.challenge.as_bytes())
                    .map_err(|e| e.to_string())
            })
            .and_then(|sealed| match &self.keys {
                Some(k) => k.open(&sealed).map_err(|e| e.to_string()),
                None => Err("no session keys".to_string()),
            });
        match answer {
            Ok(clear) if clear == *expected => self.complete_handshake(),
            Ok(_) => self.close_channel("Encryption challenge failed: the answer does not match"),
            Err(e) => self.close_channel(&format!("Encryption challenge failed: {e}")),
        }
    }

    fn complete_handshake(&mut self) {
        let elapsed = self.handshake_sent.map(|t| t.elapsed()).unwrap_or_default();
        let (program, message) = match &self.spec.run {
            Run::Shell { command, .. } => {
                let mut shell = Shell::start(self.spec.container.clone(), command);
                shell.set_clock(u64::try_from(self.shared.virtual_now()).unwrap_or(0));
                (
                    Program::Shell {
                        shell,
                        drained: false,
                    },
                    CUSTOMER_MESSAGE,
                )
            }
            Run::Port { port, host, .. } => (
                Program::Port(Forward::new(
                    &self.spec.container,
                    port,
                    host.as_deref(),
                    AgentVersion::supports_mux(&self.agent_version),
                )),
                PORT_CUSTOMER_MESSAGE,
            ),
        };
        let complete = HandshakeComplete {
            time_to_complete_ns: i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX),
            customer_message: message.to_string(),
        };
        self.send_output(
            PayloadType::HANDSHAKE_COMPLETE,
            serde_json::to_vec(&complete).unwrap_or_default(),
        );
        self.phase = Phase::Running;
        self.program = Some(program);
        for m in std::mem::take(&mut self.early) {
            self.run_input(m);
        }
        self.early_bytes = 0;
    }

    // ----- what the client sends -----------------------------------------------------

    fn on_frame(&mut self, bytes: &[u8]) {
        let msg = match AgentMessage::decode(bytes) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!("data channel {}: frame dropped: {e}", self.id);
                return;
            }
        };
        match msg.message_type {
            MessageType::Acknowledge => self.on_ack(&msg),
            MessageType::InputStreamData => self.on_input(msg),
            ref other => {
                tracing::debug!(
                    "data channel {}: {} message ignored",
                    self.id,
                    other.as_str()
                )
            }
        }
    }

    fn on_ack(&mut self, msg: &AgentMessage) {
        let content: AcknowledgeContent = match serde_json::from_slice(&msg.payload) {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!("data channel {}: bad acknowledge: {e}", self.id);
                return;
            }
        };
        let now = Instant::now();
        let acked = content.sequence_number;
        self.out.ack(acked, now);
        // Resent at this connection's start and passed over for a later one: the client had
        // delivered it before the link dropped (it never acks a duplicate).
        let skipped: Vec<i64> = self.presumable.range(..=acked).map(|(s, _)| *s).collect();
        for s in skipped {
            self.presumable.remove(&s);
            self.out.ack(s, now);
        }
    }

    fn on_input(&mut self, msg: AgentMessage) {
        if msg.sequence == self.inc.expected()
            && msg.payload_type == PayloadType::OUTPUT
            && !self.ready_for_input()
        {
            // like a busy agent: no ack, the client sends it again
            return;
        }
        let ack = AgentMessage::ack_for(&msg);
        match self.inc.accept(msg) {
            crate::exec::channel::sequence::Receipt::Deliver(msgs) => {
                self.send_ack(&ack);
                for m in msgs {
                    if self.finished {
                        break;
                    }
                    self.deliver(m);
                }
            }
            crate::exec::channel::sequence::Receipt::Buffered
            | crate::exec::channel::sequence::Receipt::Duplicate => self.send_ack(&ack),
            crate::exec::channel::sequence::Receipt::Dropped => {}
        }
    }

    fn ready_for_input(&self) -> bool {
        match (&self.phase, &self.program) {
            (Phase::Running, Some(p)) => p.ready() && self.out.has_room(),
            _ => self.early_bytes < EARLY_LIMIT,
        }
    }

    fn deliver(&mut self, m: AgentMessage) {
        match m.payload_type {
            PayloadType::HANDSHAKE_RESPONSE => self.on_handshake_response(&m.payload),
            PayloadType::ENC_CHALLENGE_RESPONSE => self.on_challenge_response(&m.payload),
            PayloadType::FLAG => match Flag::from_payload(&m.payload) {
                Some(Flag::TerminateSession) => self.close_channel(&self.exiting()),
                Some(flag) => {
                    if let Some(Program::Port(f)) = self.program.as_mut() {
                        f.flag(flag);
                    }
                }
                None => tracing::debug!("data channel {}: unknown flag ignored", self.id),
            },
            PayloadType::OUTPUT | PayloadType::SIZE => {
                if self.phase == Phase::Running {
                    self.run_input(m);
                } else if self.early_bytes + m.payload.len() <= EARLY_LIMIT {
                    self.early_bytes += m.payload.len();
                    self.early.push(m);
                } else {
                    tracing::debug!("data channel {}: early input over the limit", self.id);
                }
            }
            other => tracing::debug!("data channel {}: payload type {} ignored", self.id, other.0),
        }
    }

    fn run_input(&mut self, m: AgentMessage) {
        let Some(program) = self.program.as_mut() else {
            return;
        };
        match m.payload_type {
            PayloadType::OUTPUT => match &self.keys {
                None => program.input(&m.payload, self.shared.virtual_now()),
                Some(keys) => match keys.open(&m.payload) {
                    Ok(clear) => program.input(&clear, self.shared.virtual_now()),
                    Err(e) => tracing::debug!("data channel {}: input dropped: {e}", self.id),
                },
            },
            PayloadType::SIZE => match serde_json::from_slice::<Size>(&m.payload) {
                Ok(size) => {
                    if let Program::Shell { shell, .. } = program {
                        shell.resize(clamp(size.cols), clamp(size.rows));
                    }
                }
                Err(e) => tracing::debug!("data channel {}: bad size: {e}", self.id),
            },
            _ => {}
        }
    }

    // ----- what the agent sends ------------------------------------------------------

    fn send_ack(&mut self, ack: &AgentMessage) {
        let withhold = Duration::from_millis(self.faults.dc_withhold_acks_ms);
        if self.started.elapsed() < withhold {
            return;
        }
        self.emit(Outbound::Frame(ack.encode()));
    }

    /// Read the program while the window has room; end the session when it is over.
    fn pump(&mut self) {
        if self.finished || self.phase != Phase::Running {
            return;
        }
        let mut batch = Vec::new();
        if let Some(program) = self.program.as_mut() {
            while self.out.unacked() + batch.len() < WINDOW {
                match program.next(CHUNK) {
                    Some(item) => batch.push(item),
                    None => break,
                }
            }
        }
        for (payload_type, payload) in batch {
            let payload = match (&self.keys, payload_type) {
                (Some(keys), PayloadType::OUTPUT) => match keys.seal(&payload) {
                    Ok(sealed) => sealed,
                    Err(e) => return self.close_channel(&format!("Encryption failed: {e}")),
                },
                _ => payload,
            };
            self.send_output(payload_type, payload);
        }
        let ended = self.program.as_ref().and_then(Program::ended);
        if let Some(reason) = ended
            && self.out.unacked() == 0
            && self.conn.is_some()
        {
            let output = if reason.is_empty() {
                self.exiting()
            } else {
                reason
            };
            self.close_channel(&output);
        }
    }

    fn send_output(&mut self, payload_type: PayloadType, payload: Vec<u8>) {
        let frame = self.out.send(payload_type, payload, Instant::now());
        if self.conn.is_some() {
            self.transmit_first(frame);
        }
    }

    /// The first transmission of an output message, where the faults strike.
    fn transmit_first(&mut self, mut frame: Vec<u8>) {
        let mut injected = 0;
        if frame.len() > PAYLOAD_OFFSET && self.shared.fault_chance(self.faults.dc_corrupt_pct) {
            let at = PAYLOAD_OFFSET + (frame.len() - PAYLOAD_OFFSET) / 2;
            if let Some(b) = frame.get_mut(at) {
                *b ^= 0x55;
                injected += 1;
            }
        }
        let duplicate = self.shared.fault_chance(self.faults.dc_duplicate_pct);
        if self.held.is_none() && self.shared.fault_chance(self.faults.dc_reorder_pct) {
            self.held = Some(frame);
            injected += 1;
        } else {
            if duplicate {
                self.emit(Outbound::Frame(frame.clone()));
                injected += 1;
            }
            self.emit(Outbound::Frame(frame));
            if let Some(h) = self.held.take() {
                self.emit(Outbound::Frame(h));
            }
        }
        self.written += 1;
        if let Some(n) = self.faults.dc_drop_after
            && !self.dropped
            && self.written >= n
        {
            self.dropped = true;
            self.held = None;
            self.emit(Outbound::Abort);
            injected += 1;
        }
        if injected > 0 {
            self.shared
                .update_stats(|s| s.data_channel.injected += injected);
        }
    }

    /// Write a frame now, or after the delay fault.
    fn emit(&mut self, item: Outbound) {
        let delay = Duration::from_millis(self.faults.dc_delay_ms);
        if delay.is_zero() && self.delayed.is_empty() {
            self.write_now(item);
        } else if self.delayed.len() < DELAYED_LIMIT {
            self.delayed.push_back((Instant::now() + delay, item));
        }
    }

    fn write_now(&mut self, item: Outbound) {
        let Some(conn) = &self.conn else {
            return;
        };
        let ends = matches!(item, Outbound::Close | Outbound::Abort);
        match conn.tx.try_send(item) {
            Ok(()) if ends => self.detach(),
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::debug!("data channel {}: connection backlog full", self.id);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => self.detach(),
        }
    }

    fn tick(&mut self) {
        self.faults = self.shared.faults();
        let now = Instant::now();
        while self.delayed.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, item)) = self.delayed.pop_front() {
                self.write_now(item);
            }
        }
        if let Some(h) = self.held.take() {
            self.emit(Outbound::Frame(h));
        }
        if self.conn.is_some() {
            match self.out.due(now, WINDOW) {
                Ok(frames) => {
                    if !frames.is_empty() {
                        let n = frames.len() as u64;
                        self.shared
                            .update_stats(|s| s.data_channel.retransmits += n);
                    }
                    let mut settled = Vec::new();
                    for f in frames {
                        if let Some(seq) = sequence_of(&f)
                            && let Some(n) = self.presumable.get_mut(&seq)
                        {
                            *n += 1;
                            if *n >= PRESUME_AFTER {
                                settled.push(seq);
                            }
                        }
                        self.emit(Outbound::Frame(f));
                    }
                    // still unanswered: delivered before the link dropped, never to be acked
                    for seq in settled {
                        self.presumable.remove(&seq);
                        self.out.ack(seq, now);
                    }
                }
                Err(_) => {
                    return self.close_channel(&format!(
                        "Session {} ended: the client acknowledged nothing for 5 minutes.",
                        self.id
                    ));
                }
            }
        } else if self.idle_since.elapsed() > IDLE_LIMIT {
            self.finished = true;
            return;
        }
        self.pump();
    }

    /// Send `channel_closed` (after anything the delay fault still holds) and stop.
    fn close_channel(&mut self, output: &str) {
        if self.finished {
            return;
        }
        self.finished = true;
        for (_, item) in std::mem::take(&mut self.delayed) {
            self.write_now(item);
        }
        if let Some(h) = self.held.take() {
            self.write_now(Outbound::Frame(h));
        }
        let closed = AgentMessage::channel_closed(&self.id, output);
        self.write_now(Outbound::Frame(closed.encode()));
        self.write_now(Outbound::Close);
        tracing::debug!("data channel {} ({}): closed", self.id, self.target);
    }
}

fn clamp(n: u32) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// The sequence number of an encoded frame.
fn sequence_of(frame: &[u8]) -> Option<i64> {
    frame
        .get(48..56)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(i64::from_be_bytes)
}
