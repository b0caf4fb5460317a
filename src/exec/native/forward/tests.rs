//! The forwarder against fake agents that sit on the far side of the channel's queues: the
//! smux server (echoing, refusing, flooding, silent) and the basic agent.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use super::*;
use crate::exec::channel::handshake::PortProperties;
use crate::exec::channel::smux::{self, Cmd, Decoder, Mux};

/// A bound on every wait, so a broken forwarder fails the test instead of hanging it.
const LIMIT: Duration = Duration::from_secs(30);
/// Keep-alive timers that never matter within a test.
const NO_HURRY: (Duration, Duration) = (Duration::from_secs(600), Duration::from_secs(1200));
const NEW_AGENT: &str = "3.3.1000.0";

async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(LIMIT, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: nothing within {} s", LIMIT.as_secs()),
    }
}

fn port_ready(version: &str) -> Event {
    Event::Ready {
        kind: Some(SessionKind::Port(PortProperties {
            port_number: "80".into(),
            kind: "LocalPortForwarding".into(),
            ..PortProperties::default()
        })),
        agent_version: version.into(),
        customer_message: String::new(),
        encrypted: false,
    }
}

/// What a fake agent saw.
#[derive(Debug, Default)]
struct Seen {
    flags: Vec<Flag>,
    nops: usize,
    /// Streams the forwarder opened.
    opened: usize,
}

type Shared = Arc<Mutex<Seen>>;

/// The forwarder running against a fake agent.
struct Harness {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    notes: mpsc::Receiver<ForwardNote>,
    seen_notes: Vec<ForwardNote>,
    terminated: Arc<AtomicUsize>,
    outcome: Option<tokio::task::JoinHandle<Outcome>>,
}

impl Harness {
    async fn start<A, Fut>(keepalive: (Duration, Duration), agent: A) -> Harness
    where
        A: FnOnce(mpsc::Sender<Event>, mpsc::Receiver<Command>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (event_tx, mut events) = mpsc::channel(256);
        let (commands, command_rx) = mpsc::channel(64);
        tokio::spawn(agent(event_tx, command_rx));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, mut stop_rx) = oneshot::channel();
        let (note_tx, notes) = mpsc::channel(8192);
        let terminated = Arc::new(AtomicUsize::new(0));
        let counter = terminated.clone();
        let outcome = tokio::spawn(async move {
            let link = Link {
                events: &mut events,
                commands: &commands,
            };
            forward(
                link,
                listener,
                &mut stop_rx,
                &Notes(note_tx),
                keepalive,
                || async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                },
            )
            .await
        });
        Harness {
            addr,
            stop: Some(stop),
            notes,
            seen_notes: Vec::new(),
            terminated,
            outcome: Some(outcome),
        }
    }

    /// Wait for a note that matches.
    async fn note(&mut self, what: &str, wanted: impl Fn(&ForwardNote) -> bool) -> ForwardNote {
        if let Some(n) = self.seen_notes.iter().find(|n| wanted(n)) {
            return n.clone();
        }
        bounded(what, async {
            loop {
                let n = self.notes.recv().await.unwrap();
                self.seen_notes.push(n.clone());
                if wanted(&n) {
                    return n;
                }
            }
        })
        .await
    }

    /// Wait until `n` notes match.
    async fn notes_until(&mut self, what: &str, wanted: impl Fn(&ForwardNote) -> bool, n: usize) {
        bounded(what, async {
            while count(&self.seen_notes, &wanted) < n {
                let note = self.notes.recv().await.unwrap();
                self.seen_notes.push(note);
            }
        })
        .await;
    }

    /// The forward's outcome (stopping it first when `stop`), the TerminateSession calls and
    /// every note.
    async fn finish(mut self, stop: bool) -> (Outcome, usize, Vec<ForwardNote>) {
        if stop && let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let task = self.outcome.take().unwrap();
        let outcome = bounded("the forward to end", task).await.unwrap();
        while let Ok(n) = self.notes.try_recv() {
            self.seen_notes.push(n);
        }
        (
            outcome,
            self.terminated.load(Ordering::SeqCst),
            self.seen_notes,
        )
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Agent {
    /// Echo every stream, FIN answered by FIN.
    Echo,
    /// On every SYN: the ConnectToPortError flag, nothing else.
    DestinationDown,
    /// Stream 3 gets data without end (until its FIN); the others echo.
    FloodFirst,
}

/// A fake smux agent; after TerminateSession it closes the channel.
async fn mux_agent(
    behaviour: Agent,
    version: &'static str,
    seen: Shared,
    events: mpsc::Sender<Event>,
    mut commands: mpsc::Receiver<Command>,
) {
    if events.send(port_ready(version)).await.is_err() {
        return;
    }
    let mut mux = Mux::server();
    let mut flooding = false;
    let mut flood = Vec::new();
    loop {
        if flooding && flood.is_empty() {
            flood = mux.write(3, &[b'z'; 32 * 1024]);
        }
        let send_flood = async {
            if flooding {
                events.send(Event::Output(flood.clone())).await
            } else {
                std::future::pending().await
            }
        };
        tokio::select! {
            sent = send_flood => {
                if sent.is_err() {
                    return;
                }
            }
            command = commands.recv() => {
                let Some(command) = command else { return };
                match command {
                    Command::Data(bytes) => {
                        let mut out = Vec::new();
                        for event in mux.receive(&bytes).unwrap() {
                            match event {
                                smux::Event::Opened(id) => {
                                    seen.lock().unwrap().opened += 1;
                                    if behaviour == Agent::DestinationDown {
                                        let flag = Event::Flag(Flag::ConnectToPortError);
                                        let _ = events.send(flag).await;
                                    }
                                    if behaviour == Agent::FloodFirst && id == 3 {
                                        flooding = true;
                                    }
                                }
                                smux::Event::Data(id, d) => out.extend(mux.write(id, &d)),
                                smux::Event::Closed(id) => {
                                    if id == 3 {
                                        flooding = false;
                                        flood.clear();
                                    }
                                    out.extend(mux.close(id));
                                }
                            }
                        }
                        out.extend(mux.take_output());
                        // Frames cut anywhere, as the data channel may.
                        for piece in out.chunks(700) {
                            if events.send(Event::Output(piece.to_vec())).await.is_err() {
                                return;
                            }
                        }
                    }
                    Command::Flag(flag) => {
                        seen.lock().unwrap().flags.push(flag);
                        if flag == Flag::TerminateSession {
                            let _ = events.send(Event::Closed("terminated".into())).await;
                            return;
                        }
                    }
                    Command::Size(_) => {}
                }
            }
        }
    }
}

/// A fake agent that says nothing after the handshake and counts the NOPs it receives.
async fn silent_agent(
    version: &'static str,
    seen: Shared,
    events: mpsc::Sender<Event>,
    mut commands: mpsc::Receiver<Command>,
) {
    if events.send(port_ready(version)).await.is_err() {
        return;
    }
    let mut decoder = Decoder::new();
    while let Some(command) = commands.recv().await {
        match command {
            Command::Data(bytes) => {
                decoder.push(&bytes);
                while let Some(frame) = decoder.next_frame().unwrap() {
                    if frame.cmd == Cmd::Nop {
                        seen.lock().unwrap().nops += 1;
                    }
                }
            }
            Command::Flag(flag) => seen.lock().unwrap().flags.push(flag),
            Command::Size(_) => {}
        }
    }
}

/// A fake basic agent: echoes raw bytes, records flags, closes the channel on TerminateSession.
async fn basic_agent(
    version: &'static str,
    seen: Shared,
    events: mpsc::Sender<Event>,
    mut commands: mpsc::Receiver<Command>,
) {
    if events.send(port_ready(version)).await.is_err() {
        return;
    }
    while let Some(command) = commands.recv().await {
        match command {
            Command::Data(bytes) => {
                if events.send(Event::Output(bytes)).await.is_err() {
                    return;
                }
            }
            Command::Flag(flag) => {
                seen.lock().unwrap().flags.push(flag);
                if flag == Flag::TerminateSession {
                    let _ = events.send(Event::Closed("terminated".into())).await;
                    return;
                }
            }
            Command::Size(_) => {}
        }
    }
}

/// Send `payload`, end the input, read everything back.
async fn round_trip(addr: SocketAddr, payload: Vec<u8>) -> Vec<u8> {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = socket.split();
    let writing = async {
        wr.write_all(&payload).await.unwrap();
        wr.shutdown().await.unwrap();
    };
    let mut back = Vec::new();
    let reading = rd.read_to_end(&mut back);
    let ((), read) = tokio::join!(writing, reading);
    read.unwrap();
    back
}

fn payload(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| (i * 31 + j * 7) as u8).collect()
}

fn count(notes: &[ForwardNote], wanted: impl Fn(&ForwardNote) -> bool) -> usize {
    notes.iter().filter(|n| wanted(n)).count()
}

// ----- pure pieces ------------------------------------------------------------------------

#[test]
fn the_outbox_packs_data_into_messages_and_keeps_flags_in_order() {
    let mut out = Outbox::default();
    out.push_data(&[1; 8]);
    out.push_data(&[2; 1500]);
    out.push_flag(Flag::DisconnectToPort);
    out.push_data(&[3; 10]);
    out.push_data(&[]);
    assert_eq!(out.bytes(), 1518);
    let mut got = Vec::new();
    while let Some(c) = out.pop() {
        got.push(c);
    }
    assert!(out.is_empty());
    assert_eq!(out.bytes(), 0);
    let mut first = vec![1u8; 8];
    first.extend([2u8; MESSAGE_BYTES - 8]);
    assert_eq!(got.len(), 4);
    assert!(matches!(&got[0], Command::Data(d) if *d == first));
    assert!(matches!(&got[1], Command::Data(d) if *d == vec![2u8; 1500 - (MESSAGE_BYTES - 8)]));
    assert!(matches!(&got[2], Command::Flag(Flag::DisconnectToPort)));
    assert!(matches!(&got[3], Command::Data(d) if *d == vec![3u8; 10]));
}

#[test]
fn the_outbox_stops_taking_the_agents_traffic_when_full() {
    let mut out = Outbox::default();
    assert!(out.has_room());
    out.push_data(&vec![0; OUTBOX_LIMIT]);
    assert!(!out.has_room());
    assert!(out.pop().is_some());
    assert!(out.has_room());
}

#[test]
fn keepalive_sends_nops_and_expires_after_silence() {
    let t0 = Instant::now();
    let s = Duration::from_secs;
    let mut k = KeepAlive::new(t0, s(10), s(30));
    assert_eq!(k.next(), t0 + s(10));
    assert_eq!(k.check(t0 + s(5)), Due::Nothing);
    assert_eq!(k.check(t0 + s(10)), Due::Nop);
    assert_eq!(k.next(), t0 + s(20));
    k.heard(t0 + s(15));
    assert_eq!(k.check(t0 + s(20)), Due::Nop);
    assert_eq!(k.check(t0 + s(30)), Due::Nop);
    assert_eq!(k.check(t0 + s(40)), Due::Nop);
    assert_eq!(k.next(), t0 + s(45));
    assert_eq!(k.check(t0 + s(45)), Due::Expired);
}

#[test]
fn the_agent_version_picks_the_mode_and_the_terminate_flag() {
    assert_eq!(mode_for("3.3.1000.0"), Mode::Mux);
    assert_eq!(mode_for("3.0.197.0"), Mode::Mux);
    assert_eq!(mode_for("3.0.196.0"), Mode::Basic);
    assert_eq!(mode_for(""), Mode::Basic);
    assert!(sends_terminate_flag(Mode::Mux, "3.3.1000.0"));
    assert!(sends_terminate_flag(Mode::Basic, "2.3.723.0"));
    assert!(!sends_terminate_flag(Mode::Basic, "2.3.722.0"));
}

#[test]
fn notes_and_outcomes_read_as_sentences() {
    assert_eq!(
        ForwardNote::DestinationFailed.to_string(),
        "connection to the destination port failed"
    );
    let peer: SocketAddr = ([127, 0, 0, 1], 5000).into();
    assert_eq!(
        ForwardNote::Opened { peer }.to_string(),
        "connection from 127.0.0.1:5000 opened"
    );
    assert_eq!(
        ForwardNote::Ready {
            mode: Mode::Mux,
            agent_version: "3.3.1000.0".into(),
            customer_message: String::new()
        }
        .to_string(),
        "port forward ready (multiplexed, agent 3.3.1000.0)"
    );
    let closed = Outcome {
        ended: Ended::Closed(String::new()),
        mode: Some(Mode::Basic),
        connections: 0,
    };
    assert_eq!(closed.how(), "the session was closed");
    assert!(!closed.failed());
    let failed = Outcome {
        ended: Ended::Failed("the data channel ended".into()),
        mode: None,
        connections: 0,
    };
    assert!(failed.failed());
    assert_eq!(failed.how(), "the data channel ended");
}

// ----- smux ---------------------------------------------------------------------------------

#[tokio::test]
async fn mux_forwards_twenty_concurrent_connections_through_one_session() {
    let seen = Shared::default();
    let agent_seen = seen.clone();
    let mut h = Harness::start(NO_HURRY, move |e, c| {
        mux_agent(Agent::Echo, NEW_AGENT, agent_seen, e, c)
    })
    .await;
    let ready = h
        .note("ready", |n| matches!(n, ForwardNote::Ready { .. }))
        .await;
    assert!(matches!(
        ready,
        ForwardNote::Ready {
            mode: Mode::Mux,
            ..
        }
    ));
    let clients: Vec<_> = (0..20)
        .map(|i| {
            // One large payload: many PSH frames, many messages, reads of 32 KiB.
            let len = if i == 7 { 300 * 1024 } else { 100 + i * 97 };
            let addr = h.addr;
            tokio::spawn(async move {
                let sent = payload(i, len);
                let back = round_trip(addr, sent.clone()).await;
                assert_eq!(back.len(), sent.len(), "client {i}");
                assert!(back == sent, "client {i} got other bytes");
            })
        })
        .collect();
    for c in clients {
        bounded("a client", c).await.unwrap();
    }
    // Every connection ends (both FINs) before the forward is stopped.
    h.notes_until(
        "every connection closed",
        |n| matches!(n, ForwardNote::Closed { .. }),
        20,
    )
    .await;
    let (outcome, terminated, notes) = h.finish(true).await;
    assert_eq!(outcome.ended, Ended::Stopped);
    assert_eq!(outcome.mode, Some(Mode::Mux));
    assert_eq!(outcome.connections, 20);
    assert_eq!(terminated, 1);
    assert_eq!(
        count(&notes, |n| matches!(n, ForwardNote::Opened { .. })),
        20
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.opened, 20);
    assert_eq!(seen.flags, vec![Flag::TerminateSession]);
}

#[tokio::test]
async fn mux_destination_failure_closes_the_waiting_connection() {
    let seen = Shared::default();
    let agent_seen = seen.clone();
    let mut h = Harness::start(NO_HURRY, move |e, c| {
        mux_agent(Agent::DestinationDown, NEW_AGENT, agent_seen, e, c)
    })
    .await;
    let mut socket = TcpStream::connect(h.addr).await.unwrap();
    socket.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
    let mut buf = Vec::new();
    // The agent never answers nor FINs: the flag alone closes the connection.
    let read = bounded("the connection to close", socket.read_to_end(&mut buf)).await;
    assert!(read.is_err() || buf.is_empty(), "{read:?} {buf:?}");
    h.note("destination failed", |n| {
        *n == ForwardNote::DestinationFailed
    })
    .await;
    let dropped = h
        .note("dropped", |n| matches!(n, ForwardNote::Dropped { .. }))
        .await;
    assert!(
        dropped
            .to_string()
            .ends_with("connection to the destination port failed")
    );
    let (outcome, terminated, _) = h.finish(true).await;
    assert_eq!(outcome.ended, Ended::Stopped);
    assert_eq!(terminated, 1);
}

#[tokio::test]
async fn mux_a_client_that_does_not_read_is_dropped_and_the_others_go_on() {
    let seen = Shared::default();
    let agent_seen = seen.clone();
    let mut h = Harness::start(NO_HURRY, move |e, c| {
        mux_agent(Agent::FloodFirst, NEW_AGENT, agent_seen, e, c)
    })
    .await;
    // Stream 3: never read from.
    let mut sleeper = TcpStream::connect(h.addr).await.unwrap();
    sleeper.write_all(b"flood me").await.unwrap();
    h.note("the first connection", |n| {
        matches!(n, ForwardNote::Opened { .. })
    })
    .await;
    // Meanwhile another connection is served.
    let back = bounded(
        "the second client",
        round_trip(h.addr, b"still here".to_vec()),
    )
    .await;
    assert_eq!(back, b"still here");
    let dropped = h
        .note("the sleeper dropped", |n| {
            matches!(n, ForwardNote::Dropped { .. })
        })
        .await;
    let ForwardNote::Dropped { peer, why } = dropped else {
        unreachable!()
    };
    assert_eq!(peer, sleeper.local_addr().unwrap());
    assert!(why.contains("behind"), "{why}");
    let (outcome, terminated, _) = h.finish(true).await;
    assert_eq!(outcome.ended, Ended::Stopped);
    assert_eq!(terminated, 1);
}

#[tokio::test]
async fn mux_old_agents_get_keepalive_nops_and_silence_ends_the_session() {
    let seen = Shared::default();
    let agent_seen = seen.clone();
    let timers = (Duration::from_millis(20), Duration::from_millis(300));
    let h = Harness::start(timers, move |e, c| {
        silent_agent("3.1.1511.0", agent_seen, e, c)
    })
    .await;
    // Not stopped: the agent's silence ends it.
    let (outcome, terminated, _) = h.finish(false).await;
    assert_eq!(outcome.mode, Some(Mode::Mux));
    assert!(
        matches!(&outcome.ended, Ended::Failed(e) if e.contains("sent nothing")),
        "{outcome:?}"
    );
    assert_eq!(terminated, 1);
    let seen = seen.lock().unwrap();
    assert!(seen.nops >= 1, "{seen:?}");
    assert_eq!(seen.flags, vec![Flag::TerminateSession]);
}

#[tokio::test]
async fn mux_newer_agents_get_no_keepalive() {
    let seen = Shared::default();
    let agent_seen = seen.clone();
    let timers = (Duration::from_millis(20), Duration::from_millis(100));
    let mut h = Harness::start(timers, move |e, c| {
        silent_agent(NEW_AGENT, agent_seen, e, c)
    })
    .await;
    h.note("ready", |n| matches!(n, ForwardNote::Ready { .. }))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (outcome, _, _) = h.finish(true).await;
    assert_eq!(outcome.ended, Ended::Stopped);
    assert_eq!(seen.lock().unwrap().nops, 0);
}

#[tokio::test]
async fn mux_broken_smux_from_the_agent_ends_the_session() {
    let h = Harness::start(NO_HURRY, |events, commands| async move {
        let _held = &commands;
        let _ = events.send(port_ready(NEW_AGENT)).await;
        let _ = events
            .send(Event::Output(vec![2, 0, 0, 0, 3, 0, 0, 0]))
            .await;
        std::future::pending::<()>().await;
    })
    .await;
    let (outcome, terminated, _) = h.finish(false).await;
    assert!(
        matches!(&outcome.ended, Ended::Failed(e) if e.contains("smux")),
        "{outcome:?}"
    );
    assert_eq!(terminated, 1);
}

// ----- basic --------------------------------------------------------------------------------

/// Write `text`, read as many bytes back.
async fn exchange(socket: &mut TcpStream, text: &[u8]) -> Vec<u8> {
    socket.write_all(text).await.unwrap();
    let mut back = vec![0u8; text.len()];
    socket.read_exact(&mut back).await.unwrap();
    back
}

#[tokio::test]
async fn basic_forwards_one_connection_after_another() {
    let seen = Shared::default();
    let agent_seen = seen.clone();
    let mut h = Harness::start(NO_HURRY, move |e, c| {
        basic_agent("3.0.196.0", agent_seen, e, c)
    })
    .await;
    let ready = h
        .note("ready", |n| matches!(n, ForwardNote::Ready { .. }))
        .await;
    assert!(matches!(
        ready,
        ForwardNote::Ready {
            mode: Mode::Basic,
            ..
        }
    ));
    let mut first = TcpStream::connect(h.addr).await.unwrap();
    assert_eq!(bounded("first", exchange(&mut first, b"one")).await, b"one");
    // The second waits in the backlog until the first is gone.
    let mut second = TcpStream::connect(h.addr).await.unwrap();
    second.write_all(b"two").await.unwrap();
    drop(first);
    let mut back = [0u8; 3];
    bounded("second", second.read_exact(&mut back))
        .await
        .unwrap();
    assert_eq!(&back, b"two");
    drop(second);
    h.notes_until(
        "both closed",
        |n| matches!(n, ForwardNote::Closed { .. }),
        2,
    )
    .await;
    let (outcome, terminated, _) = h.finish(true).await;
    assert_eq!(outcome.ended, Ended::Stopped);
    assert_eq!(outcome.mode, Some(Mode::Basic));
    assert_eq!(outcome.connections, 2);
    assert_eq!(terminated, 1);
    assert_eq!(
        seen.lock().unwrap().flags,
        vec![
            Flag::DisconnectToPort,
            Flag::DisconnectToPort,
            Flag::TerminateSession
        ]
    );
}

#[tokio::test]
async fn basic_destination_failure_closes_the_connection_and_tells_the_agent() {
    let seen = Shared::default();
    let agent_seen = seen.clone();
    let mut h = Harness::start(NO_HURRY, move |events, mut commands| async move {
        let _ = events.send(port_ready("3.0.196.0")).await;
        while let Some(command) = commands.recv().await {
            match command {
                Command::Data(_) => {
                    let _ = events.send(Event::Flag(Flag::ConnectToPortError)).await;
                }
                Command::Flag(f) => agent_seen.lock().unwrap().flags.push(f),
                Command::Size(_) => {}
            }
        }
    })
    .await;
    let mut socket = TcpStream::connect(h.addr).await.unwrap();
    socket.write_all(b"hello").await.unwrap();
    let mut buf = Vec::new();
    let read = bounded("the connection to close", socket.read_to_end(&mut buf)).await;
    assert!(read.is_err() || buf.is_empty(), "{read:?} {buf:?}");
    h.note("destination failed", |n| {
        *n == ForwardNote::DestinationFailed
    })
    .await;
    let (_, terminated, _) = h.finish(true).await;
    assert_eq!(terminated, 1);
    let flags = seen.lock().unwrap().flags.clone();
    assert_eq!(flags.first(), Some(&Flag::DisconnectToPort), "{flags:?}");
}

#[tokio::test]
async fn basic_agents_up_to_2_3_722_are_ended_by_the_api_alone() {
    let seen = Shared::default();
    let agent_seen = seen.clone();
    let mut h = Harness::start(NO_HURRY, move |e, c| {
        basic_agent("2.3.722.0", agent_seen, e, c)
    })
    .await;
    h.note("ready", |n| matches!(n, ForwardNote::Ready { .. }))
        .await;
    let (outcome, terminated, _) = h.finish(true).await;
    assert_eq!(outcome.ended, Ended::Stopped);
    assert_eq!(terminated, 1);
    assert!(seen.lock().unwrap().flags.is_empty());
}

// ----- how sessions end -------------------------------------------------------------------

#[tokio::test]
async fn a_shell_session_is_not_forwarded() {
    let h = Harness::start(NO_HURRY, |events, commands| async move {
        let _held = &commands;
        let _ = events
            .send(Event::Ready {
                kind: Some(SessionKind::Shell {
                    non_interactive: false,
                }),
                agent_version: NEW_AGENT.into(),
                customer_message: String::new(),
                encrypted: false,
            })
            .await;
        std::future::pending::<()>().await;
    })
    .await;
    let (outcome, terminated, _) = h.finish(false).await;
    assert!(
        matches!(&outcome.ended, Ended::Failed(e) if e.contains("shell")),
        "{outcome:?}"
    );
    assert_eq!(outcome.mode, None);
    assert_eq!(terminated, 1);
}

#[tokio::test]
async fn the_gateway_closing_the_session_ends_the_forward() {
    let mut h = Harness::start(NO_HURRY, |events, commands| async move {
        let _held = &commands;
        let _ = events.send(port_ready(NEW_AGENT)).await;
        let _ = events
            .send(Event::Reconnecting("socket dropped".into()))
            .await;
        let _ = events.send(Event::Reconnected).await;
        let _ = events.send(Event::Closed("bye\u{1b}[2J".into())).await;
        std::future::pending::<()>().await;
    })
    .await;
    h.note("reconnecting", |n| {
        matches!(n, ForwardNote::Reconnecting(_))
    })
    .await;
    let (outcome, _, notes) = h.finish(false).await;
    assert!(notes.contains(&ForwardNote::Reconnected));
    let Ended::Closed(text) = &outcome.ended else {
        panic!("{outcome:?}")
    };
    assert!(
        text.starts_with("bye") && !text.contains('\u{1b}'),
        "{text:?}"
    );
}

#[tokio::test]
async fn stopping_before_the_handshake_still_terminates_the_session() {
    let h = Harness::start(NO_HURRY, |events, commands| async move {
        let _held = (events, commands);
        std::future::pending::<()>().await;
    })
    .await;
    let (outcome, terminated, _) = h.finish(true).await;
    assert_eq!(outcome.ended, Ended::Stopped);
    assert_eq!(outcome.mode, None);
    assert_eq!(terminated, 1);
}
