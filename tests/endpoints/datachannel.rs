//! The sandbox's Session Manager data channel, driven by a small client written here from the
//! protocol pieces in `berth::exec::channel`: sessions from the real SDK's ExecuteCommand,
//! StartSession and ResumeSession, a WebSocket to the StreamUrl, the handshake, a shell, port
//! forwards over smux and in basic mode, reconnects, and the `dc_*` faults.
//!
//! Every wait is bounded by a generous deadline that only turns a hang into a failure; no
//! assertion depends on timing.

use std::time::{Duration, Instant};

use aws_sdk_kms::primitives::Blob;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use berth::exec::channel::crypto::SessionKeys;
use berth::exec::channel::handshake::{
    ActionStatus, EncryptionChallenge, HandshakeComplete, HandshakeRequest, HandshakeResponse,
    KmsEncryptionParameters, ProcessedAction, SessionKind, SessionTypeParameters, Size,
};
use berth::exec::channel::message::{
    AcknowledgeContent, AgentMessage, ChannelClosed, Flag, MessageType, OpenDataChannel,
    PayloadType, random_uuid,
};
use berth::exec::channel::sequence::{Incoming, Outgoing, Receipt};
use berth::exec::channel::smux::{Event, Mux};
use berth::sandbox::{Faults, SandboxHandle, SandboxOptions};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::sandbox_support::*;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const DEADLINE: Duration = Duration::from_secs(30);

/// A session as the control plane handed it out.
#[derive(Debug, Clone)]
struct Grant {
    session_id: String,
    url: String,
    token: String,
}

/// How the client answers a KMSEncryption action.
enum KmsAnswer {
    /// GenerateDataKey on this client with the session's context, as the plugin does.
    DataKey {
        kms: aws_sdk_kms::Client,
        session_id: String,
        target: String,
    },
    /// A ciphertext the agent cannot decrypt.
    Garbage,
}

/// A minimal data-channel client: acks everything it accepts (duplicates included),
/// delivers in order, retransmits its own messages.
struct Client {
    ws: Option<Ws>,
    out: Outgoing,
    inc: Incoming,
    /// Output messages delivered, in order.
    delivered: Vec<AgentMessage>,
    /// Sequence numbers of every output frame that arrived on the current connection.
    arrived: Vec<i64>,
    /// Frames the decoder refused (a corrupted digest, say).
    refused: usize,
    closed: Option<ChannelClosed>,
    keys: Option<SessionKeys>,
    /// Like the official plugin: a duplicate is dropped without an ack.
    plugin_like: bool,
}

async fn open(url: &str, token: &str, signed: bool) -> Ws {
    let mut req = url
        .into_client_request()
        .unwrap_or_else(|e| panic!("request for {url}: {e}"));
    if signed {
        req.headers_mut().insert(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIA/20250101/us-east-1/ssmmessages/aws4_request, SignedHeaders=host, Signature=00"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    let open = OpenDataChannel {
        schema_version: "1.0",
        request_id: random_uuid(),
        token,
        client_id: "test-client",
        client_version: "1.2.0.0",
    };
    let text = serde_json::to_string(&open).unwrap_or_default();
    ws.send(Message::text(text))
        .await
        .unwrap_or_else(|e| panic!("send open: {e}"));
    ws
}

impl Client {
    async fn connect(grant: &Grant) -> Client {
        Client::connect_signed(grant, false).await
    }

    async fn connect_signed(grant: &Grant, signed: bool) -> Client {
        Client {
            ws: Some(open(&grant.url, &grant.token, signed).await),
            out: Outgoing::new(MessageType::InputStreamData, 1000),
            inc: Incoming::new(1000),
            delivered: Vec::new(),
            arrived: Vec::new(),
            refused: 0,
            closed: None,
            keys: None,
            plugin_like: false,
        }
    }

    /// A new connection for the same session (ResumeSession's token), everything unacked
    /// sent again.
    async fn reconnect(&mut self, url: &str, token: &str) {
        self.ws = Some(open(url, token, false).await);
        self.arrived.clear();
        for f in self.out.all_unacked(Instant::now()) {
            self.write(f).await;
        }
    }

    async fn write(&mut self, frame: Vec<u8>) {
        if let Some(ws) = self.ws.as_mut()
            && ws.send(Message::binary(frame)).await.is_err()
        {
            self.ws = None;
        }
    }

    async fn send(&mut self, payload_type: PayloadType, payload: Vec<u8>) {
        let frame = self.out.send(payload_type, payload, Instant::now());
        self.write(frame).await;
    }

    async fn type_text(&mut self, text: &str) {
        let mut payload = text.as_bytes().to_vec();
        if let Some(keys) = &self.keys {
            payload = keys.seal(&payload).unwrap_or_else(|e| panic!("seal: {e}"));
        }
        self.send(PayloadType::OUTPUT, payload).await;
    }

    /// Read for up to `wait`; false once the connection is gone.
    async fn pump(&mut self, wait: Duration) -> bool {
        let Some(ws) = self.ws.as_mut() else {
            return false;
        };
        let next = tokio::time::timeout(wait, ws.next()).await;
        let alive = match next {
            Err(_) => true,
            Ok(Some(Ok(Message::Binary(b)))) => {
                self.on_frame(&b).await;
                true
            }
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => false,
            Ok(Some(Ok(_))) => true,
        };
        if !alive {
            self.ws = None;
            return false;
        }
        if let Ok(frames) = self.out.due(Instant::now(), 10) {
            for f in frames {
                self.write(f).await;
            }
        }
        self.ws.is_some()
    }

    async fn on_frame(&mut self, bytes: &[u8]) {
        let msg = match AgentMessage::decode(bytes) {
            Ok(m) => m,
            Err(_) => {
                self.refused += 1;
                return;
            }
        };
        match msg.message_type {
            MessageType::Acknowledge => {
                let c: AcknowledgeContent =
                    serde_json::from_slice(&msg.payload).unwrap_or_else(|e| panic!("bad ack: {e}"));
                self.out.ack(c.sequence_number, Instant::now());
            }
            MessageType::ChannelClosed => {
                self.closed = Some(
                    serde_json::from_slice(&msg.payload)
                        .unwrap_or_else(|e| panic!("bad channel_closed: {e}")),
                );
            }
            MessageType::OutputStreamData => {
                self.arrived.push(msg.sequence);
                let ack = AgentMessage::ack_for(&msg);
                match self.inc.accept(msg) {
                    Receipt::Deliver(msgs) => {
                        self.write(ack.encode()).await;
                        self.delivered.extend(msgs);
                    }
                    Receipt::Duplicate if self.plugin_like => {}
                    Receipt::Buffered | Receipt::Duplicate => self.write(ack.encode()).await,
                    Receipt::Dropped => {}
                }
            }
            other => panic!("unexpected {}", other.as_str()),
        }
    }

    /// Pump until `cond` holds; panics after the deadline or if the connection ends first.
    async fn until(&mut self, what: &str, cond: impl Fn(&Client) -> bool) {
        let end = Instant::now() + DEADLINE;
        while !cond(self) {
            assert!(Instant::now() < end, "timed out waiting for {what}");
            if !self.pump(Duration::from_millis(20)).await && !cond(self) {
                panic!(
                    "connection ended while waiting for {what}; output so far: {:?}",
                    self.text()
                );
            }
        }
    }

    /// Pump until the connection is gone.
    async fn until_disconnected(&mut self) {
        let end = Instant::now() + DEADLINE;
        while self.pump(Duration::from_millis(20)).await {
            assert!(Instant::now() < end, "the connection stayed up");
        }
    }

    fn of_type(&self, t: PayloadType) -> Vec<&AgentMessage> {
        self.delivered
            .iter()
            .filter(|m| m.payload_type == t)
            .collect()
    }

    fn bytes(&self) -> Vec<u8> {
        self.of_type(PayloadType::OUTPUT)
            .iter()
            .flat_map(|m| match &self.keys {
                Some(keys) => keys
                    .open(&m.payload)
                    .unwrap_or_else(|e| panic!("open: {e}")),
                None => m.payload.clone(),
            })
            .collect()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).to_string()
    }

    /// Wait for the HandshakeRequest, answer it, wait for HandshakeComplete.
    async fn handshake(&mut self) -> HandshakeRequest {
        self.handshake_kms(None).await
    }

    /// The handshake, answering a KMSEncryption action as told.
    async fn handshake_kms(&mut self, kms: Option<&KmsAnswer>) -> HandshakeRequest {
        self.until("the handshake request", |c| {
            !c.of_type(PayloadType::HANDSHAKE_REQUEST).is_empty()
        })
        .await;
        let first = &self.delivered[0];
        assert_eq!(first.sequence, 0, "the handshake request is message 0");
        assert_eq!(first.payload_type, PayloadType::HANDSHAKE_REQUEST);
        let req: HandshakeRequest = serde_json::from_slice(&first.payload)
            .unwrap_or_else(|e| panic!("bad handshake request: {e}"));
        let mut actions = Vec::new();
        for a in &req.actions {
            let result = if a.action_type == "KMSEncryption" {
                let p: KmsEncryptionParameters =
                    serde_json::from_value(a.parameters.clone()).unwrap_or_else(|e| panic!("{e}"));
                let blob = match kms {
                    Some(KmsAnswer::DataKey {
                        kms,
                        session_id,
                        target,
                    }) => {
                        let out = kms
                            .generate_data_key()
                            .key_id(&p.key_id)
                            .number_of_bytes(64)
                            .encryption_context("aws:ssm:SessionId", session_id)
                            .encryption_context("aws:ssm:TargetId", target)
                            .send()
                            .await
                            .unwrap_or_else(|e| panic!("GenerateDataKey: {e:?}"));
                        let plain = out.plaintext().map(|b| b.as_ref().to_vec());
                        self.keys = Some(
                            SessionKeys::client(&plain.unwrap_or_default())
                                .unwrap_or_else(|e| panic!("{e}")),
                        );
                        out.ciphertext_blob()
                            .map(|b: &Blob| b.as_ref().to_vec())
                            .unwrap_or_default()
                    }
                    Some(KmsAnswer::Garbage) => b"bkms-not-a-blob".to_vec(),
                    None => panic!("unexpected KMS action: {req:?}"),
                };
                serde_json::json!({"KMSCipherTextKey": BASE64.encode(blob), "KMSCipherTextHash": null})
            } else {
                Value::Null
            };
            actions.push(ProcessedAction::new(
                &a.action_type,
                ActionStatus::Success,
                result,
                "",
            ));
        }
        let resp = HandshakeResponse {
            client_version: "1.2.0.0".into(),
            actions,
            errors: None,
        };
        self.send(
            PayloadType::HANDSHAKE_RESPONSE,
            serde_json::to_vec(&resp).unwrap_or_default(),
        )
        .await;
        if matches!(kms, Some(KmsAnswer::Garbage)) {
            return req;
        }
        if self.keys.is_some() {
            self.until("the encryption challenge", |c| {
                !c.of_type(PayloadType::ENC_CHALLENGE_REQUEST).is_empty()
            })
            .await;
            let ch: EncryptionChallenge = serde_json::from_slice(
                &self.of_type(PayloadType::ENC_CHALLENGE_REQUEST)[0].payload,
            )
            .unwrap_or_else(|e| panic!("{e}"));
            let sealed = BASE64
                .decode(ch.challenge.as_bytes())
                .unwrap_or_else(|e| panic!("{e}"));
            let answer = self
                .keys
                .as_ref()
                .map(|k| k.answer_challenge(&sealed))
                .unwrap_or_else(|| panic!("no keys"))
                .unwrap_or_else(|e| panic!("challenge: {e}"));
            let resp = EncryptionChallenge {
                challenge: BASE64.encode(answer),
            };
            self.send(
                PayloadType::ENC_CHALLENGE_RESPONSE,
                serde_json::to_vec(&resp).unwrap_or_default(),
            )
            .await;
        }
        self.until("handshake complete", |c| {
            !c.of_type(PayloadType::HANDSHAKE_COMPLETE).is_empty()
        })
        .await;
        let done: HandshakeComplete =
            serde_json::from_slice(&self.of_type(PayloadType::HANDSHAKE_COMPLETE)[0].payload)
                .unwrap_or_else(|e| panic!("bad handshake complete: {e}"));
        assert!(done.customer_message.contains("berth sandbox"), "{done:?}");
        req
    }
}

fn session_type(req: &HandshakeRequest) -> SessionTypeParameters {
    let a = req
        .actions
        .iter()
        .find(|a| a.action_type == "SessionType")
        .unwrap_or_else(|| panic!("no SessionType action: {req:?}"));
    serde_json::from_value(a.parameters.clone()).unwrap_or_else(|e| panic!("{e}"))
}

/// A running prod/checkout-api task (one container, port 8080, exec on): (task id, arn,
/// StartSession target).
async fn checkout_task(c: &Clients) -> (String, String, String) {
    let arns = all_task_arns(&c.ecs, "prod", Some("checkout-api"), None, 100).await;
    let tasks = describe_tasks(&c.ecs, "prod", &arns[..1]).await;
    let t = &tasks[0];
    let arn = t.task_arn().unwrap_or_default().to_string();
    let id = arn.rsplit('/').next().unwrap_or_default().to_string();
    let target = format!(
        "ecs:prod_{}_{}",
        id,
        t.containers()[0].runtime_id().unwrap_or_default()
    );
    (id, arn, target)
}

async fn exec(c: &Clients, task_arn: &str, command: &str) -> Grant {
    exec_in(c, "prod", task_arn, command).await
}

async fn exec_in(c: &Clients, cluster: &str, task_arn: &str, command: &str) -> Grant {
    let r = c
        .ecs
        .execute_command()
        .cluster(cluster)
        .task(task_arn)
        .command(command)
        .interactive(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ExecuteCommand: {e:?}"));
    let s = r.session().unwrap_or_else(|| panic!("no session"));
    Grant {
        session_id: s.session_id().unwrap_or_default().to_string(),
        url: s.stream_url().unwrap_or_default().to_string(),
        token: s.token_value().unwrap_or_default().to_string(),
    }
}

async fn port_session(c: &Clients, target: &str, port: &str, host: Option<&str>) -> Grant {
    let mut req = c
        .ssm
        .start_session()
        .target(target)
        .parameters("portNumber", vec![port.to_string()])
        .parameters("localPortNumber", vec!["0".to_string()]);
    req = match host {
        Some(h) => req
            .document_name("AWS-StartPortForwardingSessionToRemoteHost")
            .parameters("host", vec![h.to_string()]),
        None => req.document_name("AWS-StartPortForwardingSession"),
    };
    let s = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("StartSession: {e:?}"));
    Grant {
        session_id: s.session_id().unwrap_or_default().to_string(),
        url: s.stream_url().unwrap_or_default().to_string(),
        token: s.token_value().unwrap_or_default().to_string(),
    }
}

fn set_faults(sb: &SandboxHandle, f: Faults) {
    sb.set_faults(f);
}

#[tokio::test]
async fn an_exec_shell_runs_to_exit_and_closes_without_an_exit_code() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (task_id, task_arn, _) = checkout_task(&c).await;
    let g = exec(&c, &task_arn, "/bin/sh").await;
    assert!(g.session_id.starts_with("ecs-execute-command-"));
    assert_eq!(
        g.url,
        format!(
            "ws://{}/v1/data-channel/{}?role=publish_subscribe",
            sb.addr(),
            g.session_id
        )
    );
    let mut cl = Client::connect(&g).await;
    let req = cl.handshake().await;
    assert_eq!(req.agent_version, "3.3.1000.0");
    assert!(
        req.actions.iter().all(|a| a.action_type != "KMSEncryption"),
        "prod names no KMS key: {req:?}"
    );
    let st = session_type(&req);
    assert_eq!(st.session_type, "InteractiveCommands");
    assert!(matches!(st.kind(), Some(SessionKind::Shell { .. })));

    let size = serde_json::to_vec(&Size {
        cols: 120,
        rows: 40,
    })
    .unwrap_or_default();
    cl.send(PayloadType::SIZE, size).await;
    cl.type_text("hostname\r").await;
    cl.until("the task id", |c| c.text().contains(&task_id))
        .await;
    cl.type_text("stty size\r").await;
    cl.until("the terminal size", |c| c.text().contains("40 120"))
        .await;
    cl.type_text("exit 3\r").await;
    cl.until("channel_closed", |c| c.closed.is_some()).await;
    let closed = cl.closed.clone().unwrap_or_default();
    assert_eq!(closed.session_id, g.session_id);
    assert_eq!(
        closed.output,
        format!("Exiting session with sessionId: {}.", g.session_id)
    );
    assert!(
        cl.of_type(PayloadType::EXIT_CODE).is_empty(),
        "an interactive session carries no exit code"
    );
    // the sequence numbers were 0, 1, 2, ... with nothing skipped
    for (i, m) in cl.delivered.iter().enumerate() {
        assert_eq!(m.sequence, i as i64);
    }
    cl.until_disconnected().await;

    let stats = sb.stats();
    assert_eq!(stats.count("ecs:ExecuteCommand"), 1);
    assert_eq!(stats.data_channel.connections, 1);
    assert_eq!(stats.data_channel.unsigned_upgrades, 1);
    assert_eq!(stats.data_channel.signed_upgrades, 0);
    assert_eq!(stats.data_channel.resumes, 0);
    // the session is over for the control plane too
    let sid = g.session_id.clone();
    let ended = poll(200, Duration::from_millis(25), || {
        let ssm = c.ssm.clone();
        let sid = sid.clone();
        async move {
            let h = ssm
                .describe_sessions()
                .state(aws_sdk_ssm::types::SessionState::History)
                .send()
                .await
                .ok()?;
            h.sessions()
                .iter()
                .any(|s| s.session_id() == Some(sid.as_str()))
                .then_some(())
        }
    })
    .await;
    assert!(ended.is_some(), "the session never ended");
}

/// A client that has no result for an action omits `ActionResult` (and `Error`) rather than
/// sending null, as aws-ssm-bridge does; the agent decodes into Go structs, where an absent field
/// is its zero value, so the session goes on.
#[tokio::test]
async fn a_handshake_response_without_action_result_completes_the_handshake() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (task_id, task_arn, _) = checkout_task(&c).await;
    let g = exec(&c, &task_arn, "sh").await;
    let mut cl = Client::connect(&g).await;
    cl.until("the handshake request", |c| {
        !c.of_type(PayloadType::HANDSHAKE_REQUEST).is_empty()
    })
    .await;
    cl.send(
        PayloadType::HANDSHAKE_RESPONSE,
        br#"{"ClientVersion":"1.2.764.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1}],"Errors":[]}"#.to_vec(),
    )
    .await;
    cl.until("handshake complete", |c| {
        !c.of_type(PayloadType::HANDSHAKE_COMPLETE).is_empty() || c.closed.is_some()
    })
    .await;
    assert_eq!(cl.closed, None, "the agent refused the response");
    cl.type_text("hostname\r").await;
    cl.until("the task id", |c| c.text().contains(&task_id))
        .await;
}

#[tokio::test]
async fn a_wrong_token_or_a_missing_open_is_refused() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (_, task_arn, _) = checkout_task(&c).await;
    let g = exec(&c, &task_arn, "sh").await;

    let wrong = Grant {
        token: "AAEAAnot-the-token".into(),
        ..g.clone()
    };
    let mut cl = Client::connect(&wrong).await;
    cl.until_disconnected().await;
    assert!(cl.delivered.is_empty() && cl.arrived.is_empty());

    // a binary frame first is no OpenDataChannel either
    let (mut ws, _) = tokio_tungstenite::connect_async(g.url.as_str())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = ws.send(Message::binary(vec![0u8; 200])).await;
    let mut binary = 0;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(DEADLINE, ws.next()).await {
        if m.is_binary() {
            binary += 1;
        }
        if m.is_close() {
            break;
        }
    }
    assert_eq!(binary, 0);

    // another session's token does not open this one
    let other = exec(&c, &task_arn, "sh").await;
    let mut cl = Client::connect(&Grant {
        token: other.token.clone(),
        ..g.clone()
    })
    .await;
    cl.until_disconnected().await;
    assert!(cl.arrived.is_empty());
    assert_eq!(sb.stats().data_channel.refused, 3);
    assert_eq!(sb.stats().data_channel.connections, 0);

    // the right one still works, and a signed upgrade is counted as such
    let mut cl = Client::connect_signed(&g, true).await;
    cl.handshake().await;
    assert_eq!(sb.stats().data_channel.signed_upgrades, 1);
    assert_eq!(sb.stats().data_channel.connections, 1);
}

#[tokio::test]
async fn resume_session_reconnects_with_the_numbering_continued() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (task_id, task_arn, _) = checkout_task(&c).await;
    set_faults(
        &sb,
        Faults {
            dc_drop_after: Some(3),
            ..Faults::default()
        },
    );
    let g = exec(&c, &task_arn, "sh").await;
    let mut cl = Client::connect(&g).await;
    cl.handshake().await;
    // message 2 (the prompt) is the third: the link drops right after it
    cl.until_disconnected().await;
    let before = cl.inc.expected();
    assert!(before >= 2, "{before}");

    let r = c
        .ssm
        .resume_session()
        .session_id(&g.session_id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ResumeSession: {e:?}"));
    assert_eq!(r.session_id(), Some(g.session_id.as_str()));
    assert_eq!(r.stream_url(), Some(g.url.as_str()));
    let token = r.token_value().unwrap_or_default().to_string();
    assert!(!token.is_empty() && token != g.token);
    cl.reconnect(&g.url, &token).await;
    cl.type_text("hostname\r").await;
    cl.until("the task id after the reconnect", |c| {
        c.text().contains(&task_id)
    })
    .await;
    // what was unacked came again, then new messages; the handshake did not start over
    assert!(
        !cl.arrived.contains(&0) && cl.arrived.iter().any(|s| *s > 2),
        "{:?}",
        cl.arrived
    );
    assert_eq!(cl.of_type(PayloadType::HANDSHAKE_REQUEST).len(), 1);
    for (i, m) in cl.delivered.iter().enumerate() {
        assert_eq!(m.sequence, i as i64);
    }
    cl.type_text("exit\r").await;
    cl.until("channel_closed", |c| c.closed.is_some()).await;

    let stats = sb.stats();
    assert_eq!(stats.count("ssm:ResumeSession"), 1);
    assert_eq!(stats.data_channel.connections, 2);
    assert_eq!(stats.data_channel.resumes, 1);
    assert!(stats.data_channel.injected >= 1);

    // once the session is over, ResumeSession answers without a token
    cl.until_disconnected().await;
    let sid = g.session_id.clone();
    let no_token = poll(200, Duration::from_millis(25), || {
        let ssm = c.ssm.clone();
        let sid = sid.clone();
        async move {
            let r = ssm.resume_session().session_id(sid).send().await.ok()?;
            r.token_value().is_none().then_some(())
        }
    })
    .await;
    assert!(no_token.is_some());
    match c.ssm.resume_session().session_id("nope").send().await {
        Ok(_) => panic!("resumed a session that does not exist"),
        Err(e) => assert_eq!(code(&e), "DoesNotExistException"),
    }
}

#[tokio::test]
async fn a_corrupted_digest_is_dropped_and_the_retransmission_recovers() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (task_id, task_arn, _) = checkout_task(&c).await;
    set_faults(
        &sb,
        Faults {
            dc_corrupt_pct: 100.0,
            ..Faults::default()
        },
    );
    let g = exec(&c, &task_arn, "sh").await;
    let mut cl = Client::connect(&g).await;
    cl.handshake().await;
    cl.type_text("hostname\r").await;
    cl.until("the task id", |c| c.text().contains(&task_id))
        .await;
    assert!(cl.refused >= 3, "{} frames refused", cl.refused);
    let stats = sb.stats();
    assert!(stats.data_channel.retransmits >= 3, "{stats:?}");
    assert!(stats.data_channel.injected >= 3, "{stats:?}");
}

#[tokio::test]
async fn duplicated_reordered_delayed_frames_and_withheld_acks_still_make_a_session() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (task_id, task_arn, _) = checkout_task(&c).await;
    set_faults(
        &sb,
        Faults {
            dc_duplicate_pct: 50.0,
            dc_reorder_pct: 50.0,
            dc_delay_ms: 30,
            dc_withhold_acks_ms: 400,
            ..Faults::default()
        },
    );
    let g = exec(&c, &task_arn, "sh").await;
    let mut cl = Client::connect(&g).await;
    cl.handshake().await;
    for _ in 0..5 {
        cl.type_text("hostname\r").await;
    }
    cl.until("five task ids", |c| c.text().matches(&task_id).count() >= 5)
        .await;
    cl.until("every message acked", |c| c.out.unacked() == 0)
        .await;
    for (i, m) in cl.delivered.iter().enumerate() {
        assert_eq!(m.sequence, i as i64);
    }
    assert!(sb.stats().data_channel.injected > 0);
}

#[tokio::test]
async fn malformed_frames_are_dropped_and_the_session_goes_on() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (task_id, task_arn, _) = checkout_task(&c).await;
    let g = exec(&c, &task_arn, "sh").await;
    let mut cl = Client::connect(&g).await;
    cl.handshake().await;
    // garbage, a truncated frame, a bad digest, an unknown type, a text frame
    cl.write(vec![1, 2, 3]).await;
    let m = AgentMessage::stream(
        MessageType::InputStreamData,
        50,
        PayloadType::OUTPUT,
        b"x".to_vec(),
    );
    let mut bad = m.encode();
    cl.write(bad[..100].to_vec()).await;
    if let Some(b) = bad.last_mut() {
        *b ^= 1;
    }
    cl.write(bad).await;
    let mut odd = m.clone();
    odd.message_type = MessageType::Other("agent_job".into());
    cl.write(odd.encode()).await;
    if let Some(ws) = cl.ws.as_mut() {
        let _ = ws.send(Message::text("{}")).await;
    }
    cl.type_text("hostname\r").await;
    cl.until("the task id", |c| c.text().contains(&task_id))
        .await;
}

#[tokio::test]
async fn terminate_session_closes_a_connected_channel() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (_, task_arn, _) = checkout_task(&c).await;
    let g = exec(&c, &task_arn, "sh").await;
    let mut cl = Client::connect(&g).await;
    cl.handshake().await;
    c.ssm
        .terminate_session()
        .session_id(&g.session_id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    cl.until("channel_closed", |c| c.closed.is_some()).await;
    cl.until_disconnected().await;
    assert_eq!(sb.stats().count("ssm:TerminateSession"), 1);
    // the token no longer opens anything
    let mut again = Client::connect(&g).await;
    again.until_disconnected().await;
    assert!(again.arrived.is_empty());
}

/// Everything the smux client received so far, as events.
fn mux_events(cl: &Client, mux: &mut Mux, fed: &mut usize) -> Vec<Event> {
    let bytes = cl.bytes();
    let new = bytes.get(*fed..).unwrap_or_default().to_vec();
    *fed = bytes.len();
    mux.receive(&new).unwrap_or_else(|e| panic!("smux: {e}"))
}

#[tokio::test]
async fn a_port_session_carries_two_smux_streams_to_the_containers_http_service() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (task_id, _, target) = checkout_task(&c).await;
    let g = port_session(&c, &target, "8080", None).await;
    let mut cl = Client::connect(&g).await;
    let req = cl.handshake().await;
    let st = session_type(&req);
    assert_eq!(st.session_type, "Port");
    let Some(SessionKind::Port(p)) = st.kind() else {
        panic!("{st:?}")
    };
    assert_eq!(p.port_number, "8080");
    assert!(p.is_local_port_forwarding());
    assert!(p.host.is_empty());

    let mut mux = Mux::client();
    let a = mux.open().unwrap_or_else(|e| panic!("{e}"));
    let b = mux.open().unwrap_or_else(|e| panic!("{e}"));
    let mut wire = mux.take_output();
    wire.extend(mux.write(a, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    wire.extend(mux.write(b, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    // cut the smux stream across messages as the plugin may
    for piece in wire.chunks(13) {
        cl.send(PayloadType::OUTPUT, piece.to_vec()).await;
    }
    let mut fed = 0;
    let mut got: std::collections::BTreeMap<u32, Vec<u8>> = Default::default();
    let mut closed = Vec::new();
    let end = Instant::now() + DEADLINE;
    while closed.len() < 2 {
        assert!(Instant::now() < end, "responses: {got:?}");
        assert!(cl.pump(Duration::from_millis(20)).await, "connection lost");
        for e in mux_events(&cl, &mut mux, &mut fed) {
            match e {
                Event::Data(id, d) => got.entry(id).or_default().extend(d),
                Event::Closed(id) => closed.push(id),
                Event::Opened(id) => panic!("the agent opened stream {id}"),
            }
        }
    }
    for id in [a, b] {
        let text = String::from_utf8_lossy(got.get(&id).map(Vec::as_slice).unwrap_or_default())
            .to_string();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.ends_with(&format!("\r\n\r\nok {task_id}\n")), "{text}");
    }

    // a path the service does not have
    let d = mux.open().unwrap_or_else(|e| panic!("{e}"));
    let mut wire = mux.take_output();
    wire.extend(mux.write(d, b"GET /nope HTTP/1.1\r\n\r\n"));
    cl.send(PayloadType::OUTPUT, wire).await;
    let mut text = Vec::new();
    let end = Instant::now() + DEADLINE;
    while !closed.contains(&d) {
        assert!(Instant::now() < end);
        assert!(cl.pump(Duration::from_millis(20)).await);
        for e in mux_events(&cl, &mut mux, &mut fed) {
            match e {
                Event::Data(id, x) if id == d => text.extend(x),
                Event::Closed(id) => closed.push(id),
                _ => {}
            }
        }
    }
    assert!(String::from_utf8_lossy(&text).starts_with("HTTP/1.1 404 Not Found"));

    // the client's TerminateSession flag ends the session
    cl.send(PayloadType::FLAG, Flag::TerminateSession.to_payload())
        .await;
    cl.until("channel_closed", |c| c.closed.is_some()).await;
}

#[tokio::test]
async fn a_port_the_task_does_not_listen_on_gets_connect_to_port_error() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (_, _, target) = checkout_task(&c).await;
    let g = port_session(&c, &target, "9999", None).await;
    let mut cl = Client::connect(&g).await;
    cl.handshake().await;
    let mut mux = Mux::client();
    let a = mux.open().unwrap_or_else(|e| panic!("{e}"));
    let mut wire = mux.take_output();
    wire.extend(mux.write(a, b"GET /healthz HTTP/1.1\r\n\r\n"));
    cl.send(PayloadType::OUTPUT, wire).await;
    cl.until("the ConnectToPortError flag", |c| {
        c.of_type(PayloadType::FLAG)
            .iter()
            .any(|m| Flag::from_payload(&m.payload) == Some(Flag::ConnectToPortError))
    })
    .await;
    let mut fed = 0;
    cl.until("the stream's FIN", |c| !c.bytes().is_empty())
        .await;
    let events = mux_events(&cl, &mut mux, &mut fed);
    assert_eq!(events, vec![Event::Closed(a)]);
}

#[tokio::test]
async fn a_remote_host_session_echoes() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (_, _, target) = checkout_task(&c).await;
    let g = port_session(&c, &target, "5432", Some("db.internal")).await;
    let mut cl = Client::connect(&g).await;
    let req = cl.handshake().await;
    let Some(SessionKind::Port(p)) = session_type(&req).kind() else {
        panic!("{req:?}")
    };
    assert_eq!(
        (p.host.as_str(), p.port_number.as_str()),
        ("db.internal", "5432")
    );
    let mut mux = Mux::client();
    let a = mux.open().unwrap_or_else(|e| panic!("{e}"));
    let payload: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let mut wire = mux.take_output();
    wire.extend(mux.write(a, &payload));
    for piece in wire.chunks(1024) {
        cl.send(PayloadType::OUTPUT, piece.to_vec()).await;
    }
    let mut fed = 0;
    let mut echoed = Vec::new();
    let end = Instant::now() + DEADLINE;
    while echoed.len() < payload.len() {
        assert!(Instant::now() < end, "echoed {} bytes", echoed.len());
        assert!(cl.pump(Duration::from_millis(20)).await);
        for e in mux_events(&cl, &mut mux, &mut fed) {
            match e {
                Event::Data(_, d) => echoed.extend(d),
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(echoed, payload);
}

#[tokio::test]
async fn basic_port_forwarding_for_an_old_agent_version() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (task_id, _, target) = checkout_task(&c).await;
    set_faults(
        &sb,
        Faults {
            agent_version: Some("3.0.196.0".into()),
            ..Faults::default()
        },
    );
    let g = port_session(&c, &target, "8080", None).await;
    let mut cl = Client::connect(&g).await;
    let req = cl.handshake().await;
    assert_eq!(req.agent_version, "3.0.196.0");
    cl.type_text("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let want = format!("ok {task_id}\n");
    cl.until("the response", |c| c.text().ends_with(&want))
        .await;
    assert!(cl.text().starts_with("HTTP/1.1 200 OK\r\n"));
    // the local connection closed; the next one gets its own response
    cl.send(PayloadType::FLAG, Flag::DisconnectToPort.to_payload())
        .await;
    cl.type_text("GET /missing HTTP/1.1\r\n\r\n").await;
    cl.until("the second response", |c| {
        c.text().contains("404 Not Found")
    })
    .await;
}

/// staging/checkout-api: (task id, arn, the ExecuteCommand session's target).
async fn staging_task(c: &Clients) -> (String, String, String) {
    let arns = all_task_arns(&c.ecs, "staging", Some("checkout-api"), None, 100).await;
    let tasks = describe_tasks(&c.ecs, "staging", &arns[..1]).await;
    let t = &tasks[0];
    let arn = t.task_arn().unwrap_or_default().to_string();
    let id = arn.rsplit('/').next().unwrap_or_default().to_string();
    let target = format!(
        "ecs:staging_{}_{}",
        id,
        t.containers()[0].runtime_id().unwrap_or_default()
    );
    (id, arn, target)
}

#[tokio::test]
async fn a_kms_encrypted_session_checks_the_challenge_and_encrypts_both_ways() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (task_id, task_arn, target) = staging_task(&c).await;
    let g = exec_in(&c, "staging", &task_arn, "sh").await;
    let kms = aws_sdk_kms::Client::new(&sdk_config(&sb.endpoint_url()).await);
    let mut cl = Client::connect(&g).await;
    let answer = KmsAnswer::DataKey {
        kms,
        session_id: g.session_id.clone(),
        target,
    };
    let req = cl.handshake_kms(Some(&answer)).await;
    let kms_action = req
        .actions
        .iter()
        .find(|a| a.action_type == "KMSEncryption")
        .unwrap_or_else(|| panic!("staging names a key: {req:?}"));
    assert!(
        kms_action.parameters["KMSKeyId"]
            .as_str()
            .is_some_and(|k| k.starts_with("arn:aws:kms:us-east-1:123456789012:key/")),
        "{req:?}"
    );
    cl.type_text("hostname\r").await;
    cl.until("the task id", |c| c.text().contains(&task_id))
        .await;
    // on the wire, the output is sealed
    let raw: Vec<u8> = cl
        .of_type(PayloadType::OUTPUT)
        .iter()
        .flat_map(|m| m.payload.clone())
        .collect();
    assert!(!String::from_utf8_lossy(&raw).contains(&task_id));
    cl.type_text("exit\r").await;
    cl.until("channel_closed", |c| c.closed.is_some()).await;
    assert_eq!(sb.stats().count("kms:GenerateDataKey"), 1);
}

#[tokio::test]
async fn a_data_key_the_agent_cannot_decrypt_closes_the_channel_with_the_reason() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (_, task_arn, _) = staging_task(&c).await;
    let g = exec_in(&c, "staging", &task_arn, "sh").await;
    let mut cl = Client::connect(&g).await;
    cl.handshake_kms(Some(&KmsAnswer::Garbage)).await;
    cl.until("channel_closed", |c| c.closed.is_some()).await;
    let closed = cl.closed.clone().unwrap_or_default();
    assert!(
        closed.output.starts_with("KMS decrypt failed: "),
        "{closed:?}"
    );
    assert!(cl.of_type(PayloadType::HANDSHAKE_COMPLETE).is_empty());
}

/// Run `command` through ExecuteCommand to its end; the decoded output.
async fn run_to_end(c: &Clients, task_arn: &str, command: &str) -> Vec<u8> {
    let g = exec(c, task_arn, command).await;
    let mut cl = Client::connect(&g).await;
    cl.handshake().await;
    cl.until("channel_closed", |c| c.closed.is_some()).await;
    assert!(cl.of_type(PayloadType::EXIT_CODE).is_empty());
    cl.bytes()
}

#[tokio::test]
async fn a_mebibyte_arrives_intact_through_the_window() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (_, task_arn, _) = checkout_task(&c).await;
    let data = run_to_end(&c, &task_arn, "cat /var/lib/berth/data-1m").await;
    // the pty turned each \n into \r\n
    let mut plain = Vec::with_capacity(data.len());
    for (i, b) in data.iter().enumerate() {
        if !(*b == b'\r' && data.get(i + 1) == Some(&b'\n')) {
            plain.push(*b);
        }
    }
    assert_eq!(plain.len(), 1 << 20);
    let sum = ring::digest::digest(&ring::digest::SHA256, &plain);
    let hex: String = sum.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let listed = run_to_end(&c, &task_arn, "sha256sum /var/lib/berth/data-1m").await;
    let listed = String::from_utf8_lossy(&listed).to_string();
    assert!(listed.starts_with(&hex), "{listed} vs {hex}");
    let stats = sb.stats();
    assert_eq!(stats.data_channel.connections, 2);
}

#[tokio::test]
async fn a_wrapped_command_reports_its_status_in_the_output() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (_, task_arn, _) = checkout_task(&c).await;
    let out = run_to_end(
        &c,
        &task_arn,
        r#"sh -c 'ls /nonexistent; printf "\n__status__ %s\n" "$?"'"#,
    )
    .await;
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("__status__ "), "{text}");
    assert!(!text.contains("__status__ 0"), "{text}");
}

async fn resume(c: &Clients, g: &Grant) -> String {
    c.ssm
        .resume_session()
        .session_id(&g.session_id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ResumeSession: {e:?}"))
        .token_value()
        .unwrap_or_default()
        .to_string()
}

/// The official plugin never acks a duplicate, and the ack of the last message before a
/// drop is lost with the link: the agent must not wait for it forever.
#[tokio::test]
async fn a_client_that_never_acks_duplicates_still_gets_its_session_closed() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (task_id, task_arn, _) = checkout_task(&c).await;
    set_faults(
        &sb,
        Faults {
            dc_drop_after: Some(3),
            ..Faults::default()
        },
    );

    // a later ack passes over the resent message
    let g = exec(&c, &task_arn, "sh").await;
    let mut cl = Client::connect(&g).await;
    cl.plugin_like = true;
    cl.handshake().await;
    cl.until_disconnected().await;
    let token = resume(&c, &g).await;
    cl.reconnect(&g.url, &token).await;
    cl.type_text("hostname\r").await;
    cl.until("the task id", |c| c.text().contains(&task_id))
        .await;
    cl.type_text("exit\r").await;
    cl.until("channel_closed", |c| c.closed.is_some()).await;

    // nothing comes after it: the unanswered resends settle it
    let g = exec(&c, &task_arn, "hostname").await;
    let mut cl = Client::connect(&g).await;
    cl.plugin_like = true;
    cl.handshake().await;
    cl.until_disconnected().await;
    let token = resume(&c, &g).await;
    cl.reconnect(&g.url, &token).await;
    cl.until("channel_closed", |c| c.closed.is_some()).await;
    assert!(cl.text().contains(&task_id));
}

#[tokio::test]
async fn shutting_the_sandbox_down_closes_connected_channels() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (_, task_arn, _) = checkout_task(&c).await;
    let g = exec(&c, &task_arn, "sh").await;
    let mut cl = Client::connect(&g).await;
    cl.handshake().await;
    let stopping = tokio::spawn(sb.shutdown());
    cl.until("channel_closed", |c| c.closed.is_some()).await;
    let closed = cl.closed.clone().unwrap_or_default();
    assert!(closed.output.contains("shutting down"), "{closed:?}");
    let _ = tokio::time::timeout(DEADLINE, stopping)
        .await
        .unwrap_or_else(|_| panic!("the sandbox did not stop"));
}
