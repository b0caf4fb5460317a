//! Basic mode, for agents before smux: one local connection at a time, its bytes raw in both
//! directions; `DisconnectToPort` when it ends, then the next connection.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::{
    ACCEPT_PAUSE, Ended, ForwardNote, Link, Local, Notes, Outbox, UP_QUEUE, Up, channel_ended,
    channel_gone, common_event, reserve_if, sleep_until_some,
};
use crate::exec::channel::message::Flag;
use crate::exec::native::channel::Event;

/// Serve until stopped or the session ends.
pub(super) async fn serve(
    link: &mut Link<'_>,
    listener: &TcpListener,
    stop: &mut oneshot::Receiver<()>,
    notes: &Notes,
    connections: &mut u64,
) -> Ended {
    let (up_tx, mut up_rx) = mpsc::channel(UP_QUEUE);
    let mut session = Session {
        out: Outbox::default(),
        current: None,
        next_id: 0,
        for_client: None,
        notes,
    };
    let mut accept_pause: Option<Instant> = None;
    let commands = link.commands;
    loop {
        let idle = session.out.is_empty();
        let accepting = idle && session.current.is_none() && accept_pause.is_none();
        let reading = session.for_client.is_none() && session.out.has_room();
        let client = session.waiting_client();
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
            permit = reserve_client(client) => session.hand_to_client(permit),
            event = link.events.recv(), if reading => {
                let Some(event) = event else {
                    return channel_ended();
                };
                if let Some(ended) = session.on_event(event) {
                    return ended;
                }
            },
            Some(up) = up_rx.recv(), if idle => session.on_up(up),
            accepted = listener.accept(), if accepting => match accepted {
                Ok((stream, peer)) => {
                    session.accept(stream, peer, &up_tx);
                    *connections += 1;
                }
                Err(e) => {
                    notes.say(ForwardNote::AcceptFailed(e.to_string()));
                    accept_pause = Some(Instant::now() + ACCEPT_PAUSE);
                }
            },
            () = sleep_until_some(accept_pause) => accept_pause = None,
        }
    }
}

/// The connection being forwarded.
struct Current {
    /// Tells this connection's reports from those of connections already closed.
    id: u32,
    local: Local,
}

struct Session<'n> {
    out: Outbox,
    current: Option<Current>,
    next_id: u32,
    /// Bytes from the agent waiting for room in the client's queue; the channel is not read
    /// meanwhile (the one client sets the pace).
    for_client: Option<Vec<u8>>,
    notes: &'n Notes,
}

impl Session<'_> {
    fn accept(&mut self, socket: TcpStream, peer: SocketAddr, up: &mpsc::Sender<Up>) {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.current = Some(Current {
            id,
            local: Local::start(id, socket, peer, up.clone()),
        });
        self.notes.say(ForwardNote::Opened { peer });
    }

    /// The client's queue, when bytes wait for room in it.
    fn waiting_client(&self) -> Option<mpsc::Sender<Vec<u8>>> {
        match (&self.current, &self.for_client) {
            (Some(c), Some(_)) => c.local.to_client.clone(),
            _ => None,
        }
    }

    /// Room for the waiting bytes; without a permit the connection's writer is gone, and its
    /// end is on the way.
    fn hand_to_client(&mut self, permit: Option<mpsc::OwnedPermit<Vec<u8>>>) {
        if let (Some(permit), Some(bytes), Some(c)) =
            (permit, self.for_client.take(), &self.current)
        {
            c.local.queued.fetch_add(bytes.len(), Ordering::Relaxed);
            permit.send(bytes);
        }
    }

    /// An event from the channel; `Some` ends the session.
    fn on_event(&mut self, event: Event) -> Option<Ended> {
        match event {
            // The plugin writes whatever payload arrives to the connection.
            Event::Output(bytes) | Event::StdErr(bytes) => {
                if self.current.is_some() {
                    self.for_client = Some(bytes);
                } else {
                    tracing::debug!(
                        "port forward: {} bytes from the agent with no connection open, dropped",
                        bytes.len()
                    );
                }
                None
            }
            Event::Flag(Flag::ConnectToPortError) => {
                self.notes.say(ForwardNote::DestinationFailed);
                self.disconnect(Some("connection to the destination port failed"));
                None
            }
            other => common_event(other, self.notes),
        }
    }

    fn on_up(&mut self, up: Up) {
        let (id, data) = match up {
            Up::Data(id, bytes) => (id, Some(bytes)),
            Up::Failed(id, why) => {
                tracing::debug!("port forward: connection {id}: {why}");
                (id, None)
            }
            Up::Eof(id) | Up::Done(id) => (id, None),
        };
        if self.current.as_ref().is_none_or(|c| c.id != id) {
            return;
        }
        match data {
            Some(bytes) => self.out.push_data(&bytes),
            // The client went away (the plugin treats the end of its input so).
            None => self.disconnect(None),
        }
    }

    /// Close the current connection and tell the agent, after whatever the client sent
    /// before; `why` says berth closed it.
    fn disconnect(&mut self, why: Option<&str>) {
        let Some(current) = self.current.take() else {
            return;
        };
        self.for_client = None;
        let peer = current.local.peer;
        drop(current);
        self.out.push_flag(Flag::DisconnectToPort);
        self.notes.say(match why {
            None => ForwardNote::Closed { peer },
            Some(why) => ForwardNote::Dropped {
                peer,
                why: why.to_string(),
            },
        });
    }
}

/// Room in the client's queue, when there is a client to wait for; never otherwise. `None`
/// when its writer is gone.
async fn reserve_client(
    client: Option<mpsc::Sender<Vec<u8>>>,
) -> Option<mpsc::OwnedPermit<Vec<u8>>> {
    match client {
        Some(tx) => tx.reserve_owned().await.ok(),
        None => std::future::pending().await,
    }
}
