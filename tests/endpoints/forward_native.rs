//! berth's native port forwarder (`berth::exec::native::forward`) against the sandbox's data
//! channel: StartSession through the clients `berth::aws::connect` builds, the channel
//! `exec::native::channel::open` opens, a listener on 127.0.0.1, and plain TCP clients on it.
//! The container's HTTP service answers `GET /healthz` with `ok <task-id>`; a remote-host
//! session echoes.
//!
//! Every wait is bounded (30 s) only to turn a hang into a failure; nothing asserts timing.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use berth::aws::AwsTarget;
use berth::aws::ssmmessages::ChannelAccess;
use berth::exec::native::forward::{self, Ended, ForwardNote, Mode, Outcome};
use berth::exec::native::{Grant, channel};
use berth::sandbox::{
    DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY, Faults, SandboxHandle, SandboxOptions,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::sandbox_support as sb;

const LIMIT: Duration = Duration::from_secs(30);

async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(LIMIT, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: nothing within {} s", LIMIT.as_secs()),
    }
}

/// A running prod/checkout-api task: (task id, StartSession target).
async fn checkout_task(url: &str) -> (String, String) {
    let c = sb::clients(url).await;
    let arns = sb::all_task_arns(&c.ecs, "prod", Some("checkout-api"), None, 100).await;
    let tasks = sb::describe_tasks(&c.ecs, "prod", &arns[..1]).await;
    let t = &tasks[0];
    let arn = t.task_arn().unwrap_or_default().to_string();
    let id = arn.rsplit('/').next().unwrap_or_default().to_string();
    let target = format!(
        "ecs:prod_{}_{}",
        id,
        t.containers()[0].runtime_id().unwrap_or_default()
    );
    (id, target)
}

/// A forward running in the background.
struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    notes: mpsc::Receiver<ForwardNote>,
    task: tokio::task::JoinHandle<Outcome>,
}

impl Running {
    /// The first note that matches (earlier ones are passed over).
    async fn note(&mut self, what: &str, wanted: impl Fn(&ForwardNote) -> bool) -> ForwardNote {
        bounded(what, async {
            loop {
                match self.notes.recv().await {
                    Some(n) if wanted(&n) => return n,
                    Some(_) => {}
                    None => panic!("{what}: the forward ended"),
                }
            }
        })
        .await
    }

    async fn stop(self) -> Outcome {
        let _ = self.stop.send(());
        bounded("the forward to stop", self.task)
            .await
            .unwrap_or_else(|e| panic!("the forward task: {e}"))
    }
}

/// StartSession with `document` and `parameters` for the checkout task, the channel, and the
/// forwarder on a fresh listener.
async fn start_forward(
    sandbox: &SandboxHandle,
    document: &str,
    parameters: &[(&str, &str)],
) -> (Running, String) {
    let url = sandbox.endpoint_url();
    let (task_id, target) = checkout_task(&url).await;
    let clients = berth::aws::connect(&AwsTarget {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(url),
        static_credentials: Some((DEMO_ACCESS_KEY_ID.into(), DEMO_SECRET_ACCESS_KEY.into())),
        attempt_timeout: None,
    })
    .await
    .unwrap_or_else(|e| panic!("connect: {e}"));
    let parameters: Vec<(String, String)> = parameters
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let session = berth::aws::exec::start_port_forward(
        &clients.ssm,
        &target,
        document,
        &parameters,
        "berth test: native port forward",
    )
    .await
    .unwrap_or_else(|e| panic!("StartSession: {e}"));
    let access = ChannelAccess::new(&clients);
    let ch = channel::open(access.clone(), Grant::from_session(session, &target))
        .await
        .unwrap_or_else(|e| panic!("open the channel: {e}"));
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("local address: {e}"));
    let (stop, stop_rx) = oneshot::channel();
    let (note_tx, notes) = mpsc::channel(1024);
    let task = tokio::spawn(forward::run(ch, access, listener, stop_rx, note_tx));
    (
        Running {
            addr,
            stop,
            notes,
            task,
        },
        task_id,
    )
}

/// `GET /healthz` on a fresh connection: (status, body). The response is read up to its
/// Content-Length (a basic forward cannot pass on the service closing its end) or the end.
async fn get_healthz(addr: SocketAddr) -> (u16, String) {
    let mut socket = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_string();
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(usize::MAX);
            if got.len() - (end + 4) >= length {
                break;
            }
        }
        match socket.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read: {e} after {}", String::from_utf8_lossy(&got)),
        }
    }
    let text = String::from_utf8_lossy(&got).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// TerminateSession calls the sandbox counted, from `GET /_sandbox/stats`.
async fn terminate_calls(sandbox: &SandboxHandle) -> u64 {
    let (status, body) = sb::http(sandbox.addr(), "GET", "/_sandbox/stats", &[], "").await;
    assert_eq!(status, 200, "{body}");
    let stats: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("stats: {e}: {body}"));
    stats["requests"]["ssm:TerminateSession"]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test]
async fn twenty_concurrent_gets_through_one_smux_session_then_stop_terminates_once() {
    let sandbox = sb::start(SandboxOptions::default()).await;
    let (mut fwd, task_id) = start_forward(
        &sandbox,
        "AWS-StartPortForwardingSession",
        &[("portNumber", "8080"), ("localPortNumber", "0")],
    )
    .await;
    let ready = fwd
        .note("ready", |n| matches!(n, ForwardNote::Ready { .. }))
        .await;
    let ForwardNote::Ready {
        mode,
        agent_version,
        ..
    } = &ready
    else {
        panic!("{ready:?}")
    };
    assert_eq!((*mode, agent_version.as_str()), (Mode::Mux, "3.3.1000.0"));
    let addr = fwd.addr;
    let gets: Vec<_> = (0..20).map(|_| tokio::spawn(get_healthz(addr))).collect();
    for get in gets {
        let (status, body) = bounded("a GET", get)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, format!("ok {task_id}\n"));
    }
    assert_eq!(terminate_calls(&sandbox).await, 0);
    let outcome = fwd.stop().await;
    assert_eq!(outcome.ended, Ended::Stopped, "{}", outcome.how());
    assert_eq!(outcome.mode, Some(Mode::Mux));
    assert_eq!(outcome.connections, 20);
    assert_eq!(terminate_calls(&sandbox).await, 1);
}

#[tokio::test]
async fn basic_mode_for_an_old_agent_serves_one_request_after_another() {
    let sandbox = sb::start(SandboxOptions::default()).await;
    sandbox.set_faults(Faults {
        agent_version: Some("3.0.196.0".into()),
        ..Faults::default()
    });
    let (mut fwd, task_id) = start_forward(
        &sandbox,
        "AWS-StartPortForwardingSession",
        &[("portNumber", "8080"), ("localPortNumber", "0")],
    )
    .await;
    let ready = fwd
        .note("ready", |n| matches!(n, ForwardNote::Ready { .. }))
        .await;
    assert!(
        matches!(
            &ready,
            ForwardNote::Ready {
                mode: Mode::Basic,
                ..
            }
        ),
        "{ready:?}"
    );
    for _ in 0..3 {
        let (status, body) = bounded("a GET", get_healthz(fwd.addr)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, format!("ok {task_id}\n"));
    }
    let outcome = fwd.stop().await;
    assert_eq!(outcome.ended, Ended::Stopped, "{}", outcome.how());
    assert_eq!(outcome.mode, Some(Mode::Basic));
    assert_eq!(outcome.connections, 3);
    assert_eq!(terminate_calls(&sandbox).await, 1);
}

#[tokio::test]
async fn a_remote_host_session_echoes_through_the_forward() {
    let sandbox = sb::start(SandboxOptions::default()).await;
    let (fwd, _) = start_forward(
        &sandbox,
        "AWS-StartPortForwardingSessionToRemoteHost",
        &[
            ("host", "db.internal"),
            ("portNumber", "5432"),
            ("localPortNumber", "0"),
        ],
    )
    .await;
    let addr = fwd.addr;
    let echoes: Vec<_> = (0..3usize)
        .map(|i| {
            tokio::spawn(async move {
                let payload: Vec<u8> = (0..100_000 + i * 1000).map(|j| (j % 251) as u8).collect();
                let mut socket = TcpStream::connect(addr)
                    .await
                    .unwrap_or_else(|e| panic!("connect: {e}"));
                let (mut rd, mut wr) = socket.split();
                let writing = async {
                    wr.write_all(&payload)
                        .await
                        .unwrap_or_else(|e| panic!("write: {e}"));
                    // The end of the input reaches the echo as a FIN; its FIN comes back.
                    wr.shutdown()
                        .await
                        .unwrap_or_else(|e| panic!("shutdown: {e}"));
                };
                let mut back = Vec::new();
                let (_, read) = tokio::join!(writing, rd.read_to_end(&mut back));
                read.unwrap_or_else(|e| panic!("read: {e}"));
                assert!(back == payload, "echo {i}: {} bytes back", back.len());
            })
        })
        .collect();
    for echo in echoes {
        bounded("an echo", echo)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let outcome = fwd.stop().await;
    assert_eq!(outcome.ended, Ended::Stopped, "{}", outcome.how());
    assert_eq!(outcome.connections, 3);
    assert_eq!(terminate_calls(&sandbox).await, 1);
}

#[tokio::test]
async fn a_port_nothing_listens_on_is_reported_and_the_connection_closed() {
    let sandbox = sb::start(SandboxOptions::default()).await;
    let (mut fwd, _) = start_forward(
        &sandbox,
        "AWS-StartPortForwardingSession",
        &[("portNumber", "9999"), ("localPortNumber", "0")],
    )
    .await;
    let mut socket = TcpStream::connect(fwd.addr)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\n\r\n")
        .await
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut back = Vec::new();
    let read = bounded("the connection to close", socket.read_to_end(&mut back)).await;
    assert!(read.is_err() || back.is_empty(), "{read:?} {back:?}");
    fwd.note("destination failed", |n| {
        *n == ForwardNote::DestinationFailed
    })
    .await;
    let outcome = fwd.stop().await;
    assert_eq!(outcome.ended, Ended::Stopped, "{}", outcome.how());
}
