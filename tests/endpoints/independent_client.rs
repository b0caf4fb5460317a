//! The sandbox's Session Manager data channel driven by a client berth did not write:
//! `aws-ssm-bridge` (crates.io, MIT), an independent Rust implementation of the plugin's side
//! of the protocol. It shows the sandbox speaks the protocol, not a dialect tuned to
//! `berth::exec::channel`.
//!
//! * a shell: ECS ExecuteCommand through the real SDK, then `Session::attach` on the StreamUrl
//!   and token (the crate's entry point for a session started elsewhere), the agent's
//!   handshake, `hostname`, `exit 3`, the agent's channel_closed;
//! * a port forward: the crate's own `SessionManager` calls StartSession
//!   (`AWS-StartPortForwardingSession`) against the sandbox, signs the upgrade with SigV4, and
//!   its `PortForwarder` carries local TCP connections over smux to the container's port 8080;
//!   then `terminate` sends TerminateSession;
//! * `AWS-StartPortForwardingSessionToRemoteHost`: 100 kB echoed through one forwarded
//!   connection (many smux frames and protocol messages each way);
//! * a Standard_Stream shell the crate starts itself (no DocumentName), ended from the client
//!   side by its `terminate`.
//!
//! This client found one sandbox bug: its HandshakeResponse omits `ActionResult` for an action
//! without a result, which the agent's Go decoder takes as nil and the sandbox refused as a
//! missing field (fixed in `berth::exec::channel::handshake::ProcessedAction`).
//!
//! The crate refuses a `ws://` URL or a host outside `*.ssmmessages.*.amazonaws.com` unless
//! told `EndpointPolicy::AllowAny`, which is what it documents for a local gateway.
//!
//! Every wait is bounded by a generous deadline that only turns a hang into a failure.

use std::sync::Arc;
use std::time::Duration;

use aws_ssm_bridge::documents::PortForwardingToRemoteHost;
use aws_ssm_bridge::{
    CloseReason, EndpointPolicy, OutputStream, PortForwardConfig, PortForwarder, Session,
    SessionBuilder, SessionConfig, SessionManager, ShutdownSignal,
};
use berth::sandbox::SandboxOptions;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::sandbox_support::*;

const DEADLINE: Duration = Duration::from_secs(30);

/// A running prod/checkout-api task with ECS Exec on: (task id, task ARN, the session target
/// `ecs:<cluster>_<task id>_<container runtime id>`).
async fn exec_task(c: &Clients) -> (String, String, String) {
    let arns = all_task_arns(&c.ecs, "prod", Some("checkout-api"), None, 100).await;
    let tasks = describe_tasks(&c.ecs, "prod", &arns).await;
    let t = tasks
        .iter()
        .find(|t| t.last_status() == Some("RUNNING") && t.enable_execute_command())
        .unwrap_or_else(|| panic!("no running prod/checkout-api task with exec on"));
    let arn = t.task_arn().unwrap_or_default().to_string();
    let id = arn.rsplit('/').next().unwrap_or_default().to_string();
    let runtime = t
        .containers()
        .first()
        .and_then(|c| c.runtime_id())
        .unwrap_or_default();
    let target = format!("ecs:prod_{id}_{runtime}");
    (id, arn, target)
}

/// Read the session's output until it contains `needle`; everything read so far.
async fn read_until(output: &mut OutputStream, seen: &mut String, needle: &str) {
    let wait = async {
        while !seen.contains(needle) {
            match output.next().await {
                Some(chunk) => seen.push_str(&String::from_utf8_lossy(&chunk)),
                None => return false,
            }
        }
        true
    };
    match tokio::time::timeout(DEADLINE, wait).await {
        Ok(true) => {}
        Ok(false) => panic!("the output ended before {needle:?}; output so far: {seen:?}"),
        Err(_) => panic!("timed out waiting for {needle:?}; output so far: {seen:?}"),
    }
}

#[tokio::test]
async fn aws_ssm_bridge_runs_an_exec_shell_to_exit() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let (task_id, task_arn, target) = exec_task(&c).await;

    let r = c
        .ecs
        .execute_command()
        .cluster("prod")
        .task(&task_arn)
        .command("/bin/sh")
        .interactive(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ExecuteCommand: {e:?}"));
    let s = r.session().unwrap_or_else(|| panic!("no session"));
    let session_id = s.session_id().unwrap_or_default().to_string();
    let url = s.stream_url().unwrap_or_default().to_string();
    let token = s.token_value().unwrap_or_default().to_string();
    assert!(url.starts_with("ws://"), "{url}");

    // the crate's own guard: a ws:// URL outside AWS is refused unless allowed
    match Session::attach(&session_id, &url, &token, SessionConfig::new(&target)).await {
        Ok(_) => panic!("the default EndpointPolicy accepted {url}"),
        Err(e) => assert!(e.to_string().contains("wss://"), "{e}"),
    }
    assert_eq!(sb.stats().data_channel.connections, 0);

    let config = SessionConfig {
        endpoint_policy: EndpointPolicy::AllowAny,
        ready_timeout: DEADLINE,
        ..SessionConfig::new(&target)
    };
    let session = Session::attach(&session_id, &url, &token, config)
        .await
        .unwrap_or_else(|e| panic!("attach: {e}"));
    let mut output = session.output();
    session
        .wait_ready()
        .await
        .unwrap_or_else(|e| panic!("the session never became ready: {e}"));
    // ready after a handshake: the agent's request was answered and its completion arrived
    assert_eq!(session.agent_version(), Some("3.3.1000.0"));
    assert!(
        session
            .banner()
            .is_some_and(|b| b.contains("berth sandbox")),
        "{:?}",
        session.banner()
    );
    assert!(!session.is_encrypted(), "prod names no KMS key");

    session
        .send_terminal_size(120, 40)
        .await
        .unwrap_or_else(|e| panic!("size: {e}"));
    session
        .send(&b"hostname\r"[..])
        .await
        .unwrap_or_else(|e| panic!("send: {e}"));
    let mut seen = String::new();
    read_until(&mut output, &mut seen, &task_id).await;

    session
        .send(&b"exit 3\r"[..])
        .await
        .unwrap_or_else(|e| panic!("send: {e}"));
    tokio::time::timeout(DEADLINE, session.closed())
        .await
        .unwrap_or_else(|_| panic!("the channel stayed open after exit; output: {seen:?}"));
    match session.close_reason() {
        Some(CloseReason::AgentClosed { exit_code, detail }) => {
            assert_eq!(
                detail.as_deref(),
                Some(format!("Exiting session with sessionId: {session_id}.").as_str())
            );
            assert_eq!(
                exit_code, None,
                "an interactive session carries no exit code"
            );
        }
        other => panic!("the session ended otherwise: {other:?}"),
    }
    // the output stream ends with the session
    let rest = tokio::time::timeout(DEADLINE, async {
        while let Some(chunk) = output.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(rest.is_ok(), "the output stream outlived the session");

    let stats = sb.stats();
    assert_eq!(stats.count("ecs:ExecuteCommand"), 1);
    assert_eq!(stats.data_channel.connections, 1);
    assert_eq!(stats.data_channel.unsigned_upgrades, 1);
    assert_eq!(stats.data_channel.refused, 0);

    // and the control plane moved the session to its history
    let ended = poll(200, Duration::from_millis(25), || {
        let ssm = c.ssm.clone();
        let sid = session_id.clone();
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

#[tokio::test]
async fn aws_ssm_bridge_forwards_a_local_port_to_the_container_over_smux() {
    let sb = start(SandboxOptions::default()).await;
    let url = sb.endpoint_url();
    let c = clients(&url).await;
    let (task_id, _, target) = exec_task(&c).await;

    // the crate's SessionManager makes the StartSession call itself, with the SDK pointed at
    // the sandbox, and signs the WebSocket upgrade with the same credentials
    let manager = SessionManager::from_conf(&sdk_config(&url).await);
    let session = SessionBuilder::new(&target)
        .port_forward(8080)
        .reason("independent client check")
        .endpoint_policy(EndpointPolicy::AllowAny)
        .ready_timeout(DEADLINE)
        .start_with(&manager)
        .await
        .unwrap_or_else(|e| panic!("start a port session: {e}"));
    let session = Arc::new(session);
    let session_id = session.id().to_string();
    assert!(session_id.starts_with("berth-"), "{session_id}");

    let forwarder = PortForwarder::bind(PortForwardConfig::default())
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let local = forwarder.local_addr();
    let shutdown = ShutdownSignal::new();
    let forwarding = tokio::spawn(forwarder.forward(Arc::clone(&session), shutdown.clone()));
    session
        .wait_ready()
        .await
        .unwrap_or_else(|e| panic!("the port session never became ready: {e}"));
    assert_eq!(session.agent_version(), Some("3.3.1000.0"));

    // two connections at once: two smux streams in one data channel
    let health = |path: &'static str| async move {
        tokio::time::timeout(DEADLINE, http(local, "GET", path, &[], ""))
            .await
            .unwrap_or_else(|_| panic!("no response for {path} through the forward"))
    };
    let (a, b) = tokio::join!(health("/healthz"), health("/healthz"));
    for (status, body) in [a, b] {
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, format!("ok {task_id}\n"));
    }
    let (status, _) = health("/nope").await;
    assert_eq!(status, 404);

    // the session is still up; the crate ends it with TerminateSession
    assert!(!session.is_closed(), "{:?}", session.close_reason());
    shutdown.shutdown();
    let stopped = tokio::time::timeout(DEADLINE, forwarding)
        .await
        .unwrap_or_else(|_| panic!("the forwarder did not stop"));
    assert!(
        matches!(stopped, Ok(Ok(()))),
        "the forwarder ended with {stopped:?}"
    );
    session
        .terminate()
        .await
        .unwrap_or_else(|e| panic!("terminate: {e}"));
    assert_eq!(session.close_reason(), Some(CloseReason::Terminated));

    let stats = sb.stats();
    assert_eq!(stats.count("ssm:StartSession"), 1);
    assert_eq!(stats.count("ssm:TerminateSession"), 1);
    assert_eq!(stats.data_channel.connections, 1);
    assert_eq!(stats.data_channel.signed_upgrades, 1);
    assert_eq!(stats.data_channel.unsigned_upgrades, 0);

    let ended = poll(200, Duration::from_millis(25), || {
        let ssm = c.ssm.clone();
        let sid = session_id.clone();
        async move {
            let h = ssm
                .describe_sessions()
                .state(aws_sdk_ssm::types::SessionState::History)
                .send()
                .await
                .ok()?;
            h.sessions()
                .iter()
                .find(|s| s.session_id() == Some(sid.as_str()))
                .map(|s| {
                    (
                        s.document_name().unwrap_or_default().to_string(),
                        s.reason().unwrap_or_default().to_string(),
                    )
                })
        }
    })
    .await;
    assert_eq!(
        ended,
        Some((
            "AWS-StartPortForwardingSession".to_string(),
            "independent client check".to_string()
        ))
    );
}

#[tokio::test]
async fn aws_ssm_bridge_echoes_through_a_remote_host_forward() {
    let sb = start(SandboxOptions::default()).await;
    let url = sb.endpoint_url();
    let c = clients(&url).await;
    let (_, _, target) = exec_task(&c).await;
    let manager = SessionManager::from_conf(&sdk_config(&url).await);
    let session = SessionBuilder::new(&target)
        .document(PortForwardingToRemoteHost::new("db.internal", 5432))
        .endpoint_policy(EndpointPolicy::AllowAny)
        .ready_timeout(DEADLINE)
        .start_with(&manager)
        .await
        .unwrap_or_else(|e| panic!("start a remote host session: {e}"));
    let session = Arc::new(session);
    let forwarder = PortForwarder::bind(PortForwardConfig::default())
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let local = forwarder.local_addr();
    let shutdown = ShutdownSignal::new();
    let forwarding = tokio::spawn(forwarder.forward(Arc::clone(&session), shutdown.clone()));

    // more than one smux frame's worth and many protocol messages, in both directions
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let mut conn = tokio::net::TcpStream::connect(local)
        .await
        .unwrap_or_else(|e| panic!("connect to the forward: {e}"));
    let (mut rd, mut wr) = conn.split();
    let echoed = tokio::time::timeout(DEADLINE, async {
        let write = async {
            wr.write_all(&payload).await?;
            wr.flush().await
        };
        let mut echoed = vec![0u8; payload.len()];
        let (w, r) = tokio::join!(write, rd.read_exact(&mut echoed));
        w.and(r.map(|_| echoed))
    })
    .await
    .unwrap_or_else(|_| panic!("the echo did not come back"))
    .unwrap_or_else(|e| panic!("through the forward: {e}"));
    assert!(echoed == payload, "the echo differs from what was sent");

    shutdown.shutdown();
    let stopped = tokio::time::timeout(DEADLINE, forwarding).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
    session
        .terminate()
        .await
        .unwrap_or_else(|e| panic!("terminate: {e}"));
    let stats = sb.stats();
    assert_eq!(stats.count("ssm:StartSession"), 1);
    assert_eq!(stats.count("ssm:TerminateSession"), 1);
    assert_eq!(stats.data_channel.connections, 1);
}

#[tokio::test]
async fn aws_ssm_bridge_starts_a_shell_itself_and_terminates_it() {
    let sb = start(SandboxOptions::default()).await;
    let url = sb.endpoint_url();
    let c = clients(&url).await;
    let (task_id, _, target) = exec_task(&c).await;

    // no document: StartSession without a DocumentName, a Standard_Stream shell
    let manager = SessionManager::from_conf(&sdk_config(&url).await);
    let session = SessionBuilder::new(&target)
        .endpoint_policy(EndpointPolicy::AllowAny)
        .ready_timeout(DEADLINE)
        .start_with(&manager)
        .await
        .unwrap_or_else(|e| panic!("start a shell session: {e}"));
    let mut output = session.output();
    session
        .wait_ready()
        .await
        .unwrap_or_else(|e| panic!("the shell never became ready: {e}"));
    assert_eq!(session.agent_version(), Some("3.3.1000.0"));
    session
        .send(&b"hostname\r"[..])
        .await
        .unwrap_or_else(|e| panic!("send: {e}"));
    let mut seen = String::new();
    read_until(&mut output, &mut seen, &task_id).await;

    // the client ends it: the channel goes down and TerminateSession is called
    let session_id = session.id().to_string();
    session
        .terminate()
        .await
        .unwrap_or_else(|e| panic!("terminate: {e}"));
    assert_eq!(session.close_reason(), Some(CloseReason::Terminated));
    let stats = sb.stats();
    assert_eq!(stats.count("ssm:StartSession"), 1);
    assert_eq!(stats.count("ssm:TerminateSession"), 1);
    assert_eq!(stats.data_channel.signed_upgrades, 1);
    let history = c
        .ssm
        .describe_sessions()
        .state(aws_sdk_ssm::types::SessionState::History)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeSessions: {e:?}"));
    assert!(
        history
            .sessions()
            .iter()
            .any(|s| s.session_id() == Some(session_id.as_str())),
        "{history:?}"
    );
}
