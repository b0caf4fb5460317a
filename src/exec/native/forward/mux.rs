//! smux mode: every local connection is one stream of an smux client session carried in the
//! channel's Output bytes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::{
    ACCEPT_PAUSE, Due, Ended, ForwardNote, KeepAlive, LOCAL_QUEUE_BYTES, Link, Local,
    MAX_CONNECTIONS, Notes, Outbox, UP_QUEUE, Up, channel_ended, channel_gone, common_event,
    reserve_if, sleep_until_some,
};
use crate::exec::channel::message::Flag;
use crate::exec::channel::smux::{self, Frame, Mux};
use crate::exec::native::channel::Event;

/// Serve until stopped or the session ends. `keepalive` is the smux keep-alive's (interval,
/// timeout) when the agent needs it.
pub(super) async fn serve(
    link: &mut Link<'_>,
    listener: &TcpListener,
    stop: &mut oneshot::Receiver<()>,
    notes: &Notes,
    keepalive: Option<(Duration, Duration)>,
    connections: &mut u64,
) -> Ended {
    let mut session = Session {
        mux: Mux::client().with_max_streams(MAX_CONNECTIONS),
        streams: HashMap::new(),
        out: Outbox::default(),
        notes,
    };
    let (up_tx, mut up_rx) = mpsc::channel(UP_QUEUE);
    let mut keepalive =
        keepalive.map(|(interval, timeout)| KeepAlive::new(Instant::now(), interval, timeout));
    let mut accept_pause: Option<Instant> = None;
    let commands = link.commands;
    loop {
        // New local work (bytes, connections) is taken only once the last is handed over.
        let idle = session.out.is_empty();
        tokio::select! {
            _ = &mut *stop => return Ended::Stopped,
            permit = reserve_if(commands, !idle) => match permit {
                Ok(permit) => {
                    if let Some(command) = session.out.pop() {
                        permit.send(command);
                    }
                }
                Err(_) => return channel_gone(link),
            },
            event = link.events.recv(), if session.out.has_room() => {
                let Some(event) = event else {
                    return channel_ended();
                };
                if let Event::Output(_) = &event
                    && let Some(k) = keepalive.as_mut()
                {
                    k.heard(Instant::now());
                }
                if let Some(ended) = session.on_event(event) {
                    return ended;
                }
            },
            Some(up) = up_rx.recv(), if idle => session.on_up(up),
            accepted = listener.accept(), if idle && accept_pause.is_none() => match accepted {
                Ok((stream, peer)) => {
                    if session.accept(stream, peer, &up_tx) {
                        *connections += 1;
                    }
                }
                Err(e) => {
                    notes.say(ForwardNote::AcceptFailed(e.to_string()));
                    accept_pause = Some(Instant::now() + ACCEPT_PAUSE);
                }
            },
            () = sleep_until_some(accept_pause) => accept_pause = None,
            () = sleep_until_some(keepalive.as_ref().map(KeepAlive::next)) => {
                if let Some(k) = keepalive.as_mut() {
                    match k.check(Instant::now()) {
                        Due::Expired => {
                            return Ended::Failed(format!(
                                "the agent sent nothing for {} s (smux keep-alive)",
                                k.timeout.as_secs_f32()
                            ));
                        }
                        Due::Nop => session.nop(),
                        Due::Nothing => {}
                    }
                }
            }
        }
    }
}

/// One local connection's stream.
struct Stream {
    local: Local,
    /// The local client sent all it will (our FIN went).
    local_eof: bool,
    /// The agent sent FIN.
    remote_fin: bool,
    /// The agent has sent something on it (so it reached the destination).
    heard: bool,
}

struct Session<'n> {
    mux: Mux,
    streams: HashMap<u32, Stream>,
    out: Outbox,
    notes: &'n Notes,
}

impl Session<'_> {
    /// Frames the mux queued on its own (a SYN, refusals) go out first.
    fn flush_mux(&mut self) {
        let queued = self.mux.take_output();
        self.out.push_data(&queued);
    }

    /// A new local connection: a stream for it, or a refusal. `true` when it is forwarded.
    fn accept(&mut self, socket: TcpStream, peer: SocketAddr, up: &mpsc::Sender<Up>) -> bool {
        if self.streams.len() >= MAX_CONNECTIONS {
            self.notes.say(ForwardNote::Refused {
                peer,
                why: format!("{MAX_CONNECTIONS} connections are open already"),
            });
            return false;
        }
        match self.mux.open() {
            Ok(id) => {
                self.flush_mux();
                self.streams.insert(
                    id,
                    Stream {
                        local: Local::start(id, socket, peer, up.clone()),
                        local_eof: false,
                        remote_fin: false,
                        heard: false,
                    },
                );
                self.notes.say(ForwardNote::Opened { peer });
                true
            }
            Err(e) => {
                self.notes.say(ForwardNote::Refused {
                    peer,
                    why: e.to_string(),
                });
                false
            }
        }
    }

    fn on_up(&mut self, up: Up) {
        match up {
            Up::Data(id, bytes) => {
                if self.streams.get(&id).is_some_and(|s| !s.local_eof) {
                    let frames = self.mux.write(id, &bytes);
                    self.out.push_data(&frames);
                }
            }
            Up::Eof(id) => {
                if let Some(stream) = self.streams.get_mut(&id)
                    && !stream.local_eof
                {
                    stream.local_eof = true;
                    // Half a close: the stream stays open for what the agent still sends.
                    let mut fin = self.mux.take_output();
                    Frame::fin(id).encode(&mut fin);
                    self.out.push_data(&fin);
                }
            }
            Up::Failed(id, why) => {
                tracing::debug!("port forward: stream {id}: {why}");
                self.end_stream(id, None);
            }
            Up::Done(id) => self.end_stream(id, None),
        }
    }

    /// Forget stream `id` and close its connection (the task ends with it). Its FIN goes unless
    /// it went already; `why` says berth closed it.
    fn end_stream(&mut self, id: u32, why: Option<String>) {
        let Some(stream) = self.streams.remove(&id) else {
            return;
        };
        self.flush_mux();
        let fin = self.mux.close(id);
        if !stream.local_eof {
            self.out.push_data(&fin);
        }
        let peer = stream.local.peer;
        self.notes.say(match why {
            None => ForwardNote::Closed { peer },
            Some(why) => ForwardNote::Dropped { peer, why },
        });
    }

    fn nop(&mut self) {
        let mut bytes = self.mux.take_output();
        Frame::nop().encode(&mut bytes);
        self.out.push_data(&bytes);
    }

    /// An event from the channel; `Some` ends the session.
    fn on_event(&mut self, event: Event) -> Option<Ended> {
        match event {
            Event::Output(bytes) => {
                let events = match self.mux.receive(&bytes) {
                    Ok(events) => events,
                    Err(e) => {
                        return Some(Ended::Failed(format!(
                            "the smux stream from the agent is broken: {e}"
                        )));
                    }
                };
                self.flush_mux();
                for event in events {
                    self.on_mux(event);
                }
                None
            }
            Event::Flag(Flag::ConnectToPortError) => {
                self.notes.say(ForwardNote::DestinationFailed);
                // The flag names no stream: close those still waiting for the destination.
                let waiting: Vec<u32> = self
                    .streams
                    .iter()
                    .filter(|(_, s)| !s.heard)
                    .map(|(id, _)| *id)
                    .collect();
                for id in waiting {
                    self.end_stream(id, Some("connection to the destination port failed".into()));
                }
                None
            }
            other => common_event(other, self.notes),
        }
    }

    fn on_mux(&mut self, event: smux::Event) {
        match event {
            smux::Event::Opened(id) => {
                // Nothing listens for streams the agent opens.
                tracing::debug!("port forward: the agent opened stream {id}; closing it");
                let fin = self.mux.close(id);
                self.out.push_data(&fin);
            }
            smux::Event::Data(id, bytes) => {
                let Some(stream) = self.streams.get_mut(&id) else {
                    return;
                };
                stream.heard = true;
                if !stream.local.offer(bytes) {
                    self.end_stream(
                        id,
                        Some(format!(
                            "the local client fell {} KiB behind",
                            LOCAL_QUEUE_BYTES / 1024
                        )),
                    );
                }
            }
            smux::Event::Closed(id) => {
                if let Some(stream) = self.streams.get_mut(&id) {
                    stream.remote_fin = true;
                    stream.heard = true;
                    stream.local.finish_output();
                }
            }
        }
    }
}
