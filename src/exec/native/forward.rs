//! Native port forwarding: a local TCP listener joined to a Session Manager port session.
//!
//! The caller starts the session (`AWS-StartPortForwardingSession` or
//! `...ToRemoteHost`), opens its [`Channel`], binds the listener (so it can show the port) and
//! hands all three to [`run`]. Once the handshake says the session is a port session, the
//! agent's version picks one of two ways of carrying the connections (protocol notes,
//! section 10):
//!
//! - **smux** ([`Mode::Mux`], agents newer than 3.0.196.0): the channel's Output bytes, in both
//!   directions, are one smux v1 byte stream in which berth is the client. Every accepted
//!   connection opens a stream; its bytes go as PSH frames, the end of its input as a FIN, and a
//!   FIN from the agent shuts the socket's write side. Up to [`MAX_CONNECTIONS`] at once; more are
//!   accepted and closed at once. Agents up to 3.1.1511.0 expect smux keep-alive: a NOP every
//!   [`MUX_KEEPALIVE_INTERVAL`], and the session is given up when nothing arrives for
//!   [`MUX_KEEPALIVE_TIMEOUT`].
//! - **basic** ([`Mode::Basic`], older agents): one connection at a time, raw bytes both ways;
//!   when the local client goes away the agent is told with the `DisconnectToPort` flag and the
//!   next connection is accepted (until then, further clients wait in the listen backlog). What
//!   arrives while no connection is open is dropped, as the plugin does.
//!
//! A `ConnectToPortError` flag from the agent is reported as [`ForwardNote::DestinationFailed`]
//! and closes the connection(s) waiting for the destination: in basic mode the current one; in
//! smux mode, as the flag names no stream, every stream the agent has not yet sent anything on
//! (one it has answered is connected).
//!
//! Each connection is one task that owns its socket, reading (at most [`READ_CHUNK`] at a time)
//! and writing concurrently. Bytes for the agent wait in one small outbox that is only refilled
//! once it has been handed to the channel, so a busy channel slows the local readers down (the
//! channel's own backpressure) and nothing else. Bytes from the agent for one connection wait in
//! that connection's queue, bounded by [`LOCAL_QUEUE_BYTES`]: smux v1 has no per-stream flow
//! control, so a local client that falls that far behind is disconnected rather than allowed to
//! stall the other connections or to grow a buffer without bound. (In basic mode there is no one
//! else to stall, so the session simply waits for the client.)
//!
//! Stopping (the `stop` signal, or the channel ending, failing or refusing the session): the
//! `TerminateSession` flag goes to the agent in smux mode and to basic agents newer than
//! 2.3.722.0, then the TerminateSession API is called, the listener closes and every local
//! connection with it.
//!
//! Notes for the console and the log come out as [`ForwardNote`]s; they are dropped, never
//! waited for, when the receiver does not keep up.

mod basic;
mod local;
mod mux;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::channel::{Channel, Command, Event};
use crate::aws::ssmmessages::ChannelAccess;
use crate::exec::channel::handshake::{AgentVersion, SessionKind};
use crate::exec::channel::message::Flag;
use local::{Local, Up};

/// Local connections open at once in smux mode; more are accepted and closed.
pub const MAX_CONNECTIONS: usize = 256;
/// The most read from a local socket at once.
pub const READ_CHUNK: usize = 32 * 1024;
/// The most bytes in one Output message to the agent (what the plugin sends).
pub const MESSAGE_BYTES: usize = 1024;
/// Bytes from the agent waiting for one local client at most (smux mode); a client further
/// behind is disconnected.
pub const LOCAL_QUEUE_BYTES: usize = 2 * 1024 * 1024;
/// Pieces (smux frames' data) waiting for one local client at most: enough that a burst of
/// tiny frames, decoded before the connection's task gets to run, is not taken for a slow
/// client; [`LOCAL_QUEUE_BYTES`] is the bound that matters.
const LOCAL_QUEUE_PIECES: usize = 4096;
/// smux keep-alive for agents up to 3.1.1511.0: a NOP this often...
pub const MUX_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// ...and the session is given up when nothing arrived for this long.
pub const MUX_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages from the connection tasks waiting for the session at most.
const UP_QUEUE: usize = 64;
/// Bytes for the agent that the agent's own traffic may queue (refusals, FINs) before the
/// session stops reading the channel until they are out. Local data never gets near it: it is
/// only taken in while the outbox is empty.
const OUTBOX_LIMIT: usize = 256 * 1024;
/// After an accept error (too many open files...), wait this long before accepting again.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
/// Stopping: how long the flag may wait to be queued, and the channel to close afterwards.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Stopping: how long the TerminateSession call may take.
const TERMINATE_TIMEOUT: Duration = Duration::from_secs(15);

/// How the connections are carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// smux streams, many connections at once.
    Mux,
    /// Raw bytes, one connection at a time.
    Basic,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Mux => f.write_str("multiplexed"),
            Mode::Basic => f.write_str("basic, one connection at a time"),
        }
    }
}

/// Something for the console or the log; `Display` gives the sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardNote {
    /// The session is up; connections are accepted from now on.
    Ready {
        mode: Mode,
        agent_version: String,
        /// The agent's greeting, if any (already free of control characters).
        customer_message: String,
    },
    /// A local client connected.
    Opened {
        peer: SocketAddr,
    },
    /// A local client's connection ended normally (either side closed it).
    Closed {
        peer: SocketAddr,
    },
    /// berth closed a connection: too slow a reader, the destination failed.
    Dropped {
        peer: SocketAddr,
        why: String,
    },
    /// A client was turned away on arrival.
    Refused {
        peer: SocketAddr,
        why: String,
    },
    /// The agent could not connect to the destination port.
    DestinationFailed,
    /// The listener could not accept a connection (retried shortly).
    AcceptFailed(String),
    /// The data channel dropped and is being resumed.
    Reconnecting(String),
    Reconnected,
    /// Stopping: the TerminateSession call failed.
    TerminateFailed(String),
}

impl fmt::Display for ForwardNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardNote::Ready {
                mode,
                agent_version,
                customer_message,
            } => {
                write!(f, "port forward ready ({mode}, agent {agent_version})")?;
                if !customer_message.is_empty() {
                    write!(f, ": {customer_message}")?;
                }
                Ok(())
            }
            ForwardNote::Opened { peer } => write!(f, "connection from {peer} opened"),
            ForwardNote::Closed { peer } => write!(f, "connection from {peer} closed"),
            ForwardNote::Dropped { peer, why } => {
                write!(f, "connection from {peer} closed: {why}")
            }
            ForwardNote::Refused { peer, why } => {
                write!(f, "connection from {peer} refused: {why}")
            }
            ForwardNote::DestinationFailed => {
                f.write_str("connection to the destination port failed")
            }
            ForwardNote::AcceptFailed(e) => write!(f, "cannot accept a connection: {e}"),
            ForwardNote::Reconnecting(why) => {
                write!(f, "connection to the session lost ({why}), reconnecting")
            }
            ForwardNote::Reconnected => f.write_str("reconnected to the session"),
            ForwardNote::TerminateFailed(e) => write!(f, "TerminateSession failed: {e}"),
        }
    }
}

/// Why the forward ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The caller stopped it.
    Stopped,
    /// The gateway closed the session (its text, free of control characters).
    Closed(String),
    /// It could not go on: the channel failed, the session was not a port session, the smux
    /// stream broke, the agent went silent.
    Failed(String),
}

/// How a forward ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ended: Ended,
    /// How the connections were carried, once the session was up.
    pub mode: Option<Mode>,
    /// Local connections accepted and forwarded.
    pub connections: u64,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        matches!(self.ended, Ended::Failed(_))
    }

    /// For the status line and the audit.
    pub fn how(&self) -> String {
        match &self.ended {
            Ended::Stopped => "stopped".to_string(),
            Ended::Closed(text) if text.trim().is_empty() => "the session was closed".to_string(),
            Ended::Closed(text) => format!("the session was closed: {}", text.trim()),
            Ended::Failed(e) => e.clone(),
        }
    }
}

/// Forward connections accepted on `listener` through the port session on `channel` until
/// `stop` fires (or its sender is dropped) or the session ends; then end the session (flag and
/// TerminateSession) and close the listener and every connection.
pub async fn run(
    mut channel: Channel,
    access: ChannelAccess,
    listener: TcpListener,
    mut stop: oneshot::Receiver<()>,
    report: mpsc::Sender<ForwardNote>,
) -> Outcome {
    let session_id = channel.session_id.clone();
    let link = Link {
        events: &mut channel.events,
        commands: &channel.commands,
    };
    let keepalive = (MUX_KEEPALIVE_INTERVAL, MUX_KEEPALIVE_TIMEOUT);
    forward(
        link,
        listener,
        &mut stop,
        &Notes(report),
        keepalive,
        || async move { access.terminate(&session_id).await.map_err(|e| e.plain()) },
    )
    .await
}

/// The session's side of the channel.
struct Link<'a> {
    events: &'a mut mpsc::Receiver<Event>,
    commands: &'a mpsc::Sender<Command>,
}

/// Where notes go: the log, and the caller if it keeps up.
struct Notes(mpsc::Sender<ForwardNote>);

impl Notes {
    fn say(&self, note: ForwardNote) {
        tracing::info!("port forward: {note}");
        if let Err(mpsc::error::TrySendError::Full(note)) = self.0.try_send(note) {
            tracing::debug!("port forward: note dropped, nobody is reading: {note}");
        }
    }
}

/// What serving the session came to.
struct Served {
    ended: Ended,
    mode: Option<Mode>,
    agent_version: String,
    connections: u64,
}

/// The whole forward, with the smux keep-alive's (interval, timeout) and the TerminateSession
/// call given (tests shorten the one and count the other).
async fn forward<F, Fut>(
    mut link: Link<'_>,
    listener: TcpListener,
    stop: &mut oneshot::Receiver<()>,
    notes: &Notes,
    keepalive: (Duration, Duration),
    terminate: F,
) -> Outcome
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let served = serve(&mut link, listener, stop, notes, keepalive).await;
    // The listener is closed and every connection task gone by now.
    end_session(&mut link, &served, notes, terminate).await;
    Outcome {
        ended: served.ended,
        mode: served.mode,
        connections: served.connections,
    }
}

async fn serve(
    link: &mut Link<'_>,
    listener: TcpListener,
    stop: &mut oneshot::Receiver<()>,
    notes: &Notes,
    keepalive: (Duration, Duration),
) -> Served {
    let mut served = Served {
        ended: Ended::Stopped,
        mode: None,
        agent_version: String::new(),
        connections: 0,
    };
    let ready = tokio::select! {
        r = wait_ready(link, notes) => r,
        _ = &mut *stop => return served,
    };
    let (kind, agent_version, customer_message) = match ready {
        Ok(r) => r,
        Err(ended) => {
            served.ended = ended;
            return served;
        }
    };
    served.agent_version = agent_version.clone();
    if !matches!(kind, Some(SessionKind::Port(_))) {
        served.ended = Ended::Failed(match kind {
            Some(SessionKind::Shell { .. }) => {
                "the session is a shell session, not port forwarding".to_string()
            }
            _ => "the agent did not say the session is port forwarding".to_string(),
        });
        return served;
    }
    let mode = mode_for(&agent_version);
    served.mode = Some(mode);
    notes.say(ForwardNote::Ready {
        mode,
        agent_version: agent_version.clone(),
        customer_message: crate::text::sanitize(customer_message.trim()).into_owned(),
    });
    served.ended = match mode {
        Mode::Mux => {
            let keepalive =
                (!AgentVersion::mux_keepalive_optional(&agent_version)).then_some(keepalive);
            mux::serve(
                link,
                &listener,
                stop,
                notes,
                keepalive,
                &mut served.connections,
            )
            .await
        }
        Mode::Basic => basic::serve(link, &listener, stop, notes, &mut served.connections).await,
    };
    served
}

/// smux for agents newer than 3.0.196.0, basic below.
pub fn mode_for(agent_version: &str) -> Mode {
    if AgentVersion::supports_mux(agent_version) {
        Mode::Mux
    } else {
        Mode::Basic
    }
}

/// Whether ending the session sends the TerminateSession flag (before the API call): always
/// with smux, with basic forwarding when the agent is newer than 2.3.722.0.
pub fn sends_terminate_flag(mode: Mode, agent_version: &str) -> bool {
    match mode {
        Mode::Mux => true,
        Mode::Basic => AgentVersion::supports_terminate_flag(agent_version),
    }
}

/// The session kind, agent version and customer message, or how the channel ended first.
async fn wait_ready(
    link: &mut Link<'_>,
    notes: &Notes,
) -> Result<(Option<SessionKind>, String, String), Ended> {
    loop {
        match link.events.recv().await {
            Some(Event::Ready {
                kind,
                agent_version,
                customer_message,
                ..
            }) => return Ok((kind, agent_version, customer_message)),
            Some(event) => {
                if let Some(ended) = common_event(event, notes) {
                    return Err(ended);
                }
            }
            None => return Err(channel_ended()),
        }
    }
}

/// The events both modes handle alike; `Some` ends the session.
fn common_event(event: Event, notes: &Notes) -> Option<Ended> {
    match event {
        Event::Closed(text) => Some(Ended::Closed(
            crate::text::sanitize(text.trim()).into_owned(),
        )),
        Event::Failed(e) => Some(Ended::Failed(crate::text::sanitize(&e).into_owned())),
        Event::Reconnecting(why) => {
            notes.say(ForwardNote::Reconnecting(
                crate::text::sanitize(&why).into_owned(),
            ));
            None
        }
        Event::Reconnected => {
            notes.say(ForwardNote::Reconnected);
            None
        }
        Event::StdErr(b) => {
            tracing::debug!(
                "port forward: {} bytes of stderr from the agent ignored",
                b.len()
            );
            None
        }
        Event::Flag(flag) => {
            tracing::debug!("port forward: flag {flag:?} from the agent ignored");
            None
        }
        Event::Output(_) | Event::ExitCode(_) | Event::Ready { .. } => None,
    }
}

fn channel_ended() -> Ended {
    Ended::Failed("the data channel ended".into())
}

/// The channel no longer takes commands: its own last word if it left one.
fn channel_gone(link: &mut Link<'_>) -> Ended {
    while let Ok(event) = link.events.try_recv() {
        match event {
            Event::Closed(text) => {
                return Ended::Closed(crate::text::sanitize(text.trim()).into_owned());
            }
            Event::Failed(e) => return Ended::Failed(crate::text::sanitize(&e).into_owned()),
            _ => {}
        }
    }
    channel_ended()
}

/// The flag (when the mode calls for it and the channel still runs), the TerminateSession call,
/// then a short wait for the channel to close so the flag is not cut off.
async fn end_session<F, Fut>(link: &mut Link<'_>, served: &Served, notes: &Notes, terminate: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let channel_running = !matches!(served.ended, Ended::Closed(_)) && !link.commands.is_closed();
    if channel_running
        && let Some(mode) = served.mode
        && sends_terminate_flag(mode, &served.agent_version)
    {
        let flag = link.commands.send(Command::Flag(Flag::TerminateSession));
        if !matches!(tokio::time::timeout(CLOSE_WAIT, flag).await, Ok(Ok(()))) {
            tracing::debug!("port forward: the TerminateSession flag could not be queued");
        }
    }
    match tokio::time::timeout(TERMINATE_TIMEOUT, terminate()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => notes.say(ForwardNote::TerminateFailed(e)),
        Err(_) => notes.say(ForwardNote::TerminateFailed(format!(
            "no answer within {} s",
            TERMINATE_TIMEOUT.as_secs()
        ))),
    }
    if channel_running {
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            while let Some(event) = link.events.recv().await {
                if matches!(event, Event::Closed(_) | Event::Failed(_)) {
                    return;
                }
            }
        })
        .await;
    }
}

/// Commands for the agent, in order, with data packed into messages of at most
/// [`MESSAGE_BYTES`].
#[derive(Debug, Default)]
struct Outbox {
    items: VecDeque<Command>,
    bytes: usize,
}

impl Outbox {
    fn push_data(&mut self, mut data: &[u8]) {
        self.bytes += data.len();
        if let Some(Command::Data(last)) = self.items.back_mut()
            && last.len() < MESSAGE_BYTES
        {
            let room = (MESSAGE_BYTES - last.len()).min(data.len());
            last.extend_from_slice(&data[..room]);
            data = &data[room..];
        }
        for piece in data.chunks(MESSAGE_BYTES) {
            self.items.push_back(Command::Data(piece.to_vec()));
        }
    }

    fn push_flag(&mut self, flag: Flag) {
        self.items.push_back(Command::Flag(flag));
    }

    fn pop(&mut self) -> Option<Command> {
        let item = self.items.pop_front()?;
        if let Command::Data(d) = &item {
            self.bytes -= d.len();
        }
        Some(item)
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Data bytes waiting.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether the agent's own traffic may still add to it.
    fn has_room(&self) -> bool {
        self.bytes < OUTBOX_LIMIT
    }
}

/// smux keep-alive for older agents, as a clock-driven state: [`KeepAlive::next`] says when to
/// look again, [`KeepAlive::check`] what is due then.
#[derive(Debug, Clone)]
struct KeepAlive {
    interval: Duration,
    timeout: Duration,
    last_heard: Instant,
    next_nop: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    Nothing,
    Nop,
    /// Nothing arrived for the timeout.
    Expired,
}

impl KeepAlive {
    /// A NOP every `interval`; expired after `timeout` without a byte from the agent.
    fn new(now: Instant, interval: Duration, timeout: Duration) -> KeepAlive {
        KeepAlive {
            interval,
            timeout,
            last_heard: now,
            next_nop: now + interval,
        }
    }

    /// Something arrived from the agent.
    fn heard(&mut self, now: Instant) {
        self.last_heard = now;
    }

    /// When [`KeepAlive::check`] next has something to do.
    fn next(&self) -> Instant {
        self.next_nop.min(self.last_heard + self.timeout)
    }

    fn check(&mut self, now: Instant) -> Due {
        if now >= self.last_heard + self.timeout {
            return Due::Expired;
        }
        if now >= self.next_nop {
            self.next_nop = now + self.interval;
            return Due::Nop;
        }
        Due::Nothing
    }
}

/// A reserve on `commands` when there is something to send, never otherwise.
async fn reserve_if(
    commands: &mpsc::Sender<Command>,
    wanted: bool,
) -> Result<mpsc::Permit<'_, Command>, mpsc::error::SendError<()>> {
    if wanted {
        commands.reserve().await
    } else {
        std::future::pending().await
    }
}

/// Sleep until `at`, or forever when there is nothing to wait for.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
