//! Basic mode, for agents before smux: one local connection at a time, its bytes raw in both
//! directions; `DisconnectToPort` when it ends, then the next connection.

use std::sync::atomic::Ordering;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::{
    ACCEPT_PAUSE, Ended, ForwardNote, Link, Local, Notes, Outbox, UP_QUEUE, Up, channel_ended,
    channel_gone, common_event, reserve_if, sleep_until_some,
};
use crate::exec::channel::message::Flag;
use crate::exec::native::channel::Event;

/// The connection being forwarded.
struct Current {
    /// Tells this connection's reports from those of connections already closed.
    id: u32,
    local: Local,
}

/// Serve until stopped or the session ends.
pub(super) async fn serve(
    link: &mut Link<'_>,
    listener: &TcpListener,
    stop: &mut oneshot::Receiver<()>,
    notes: &Notes,
    connections: &mut u64,
) -> Ended {
    let (up_tx, mut up_rx) = mpsc::channel(UP_QUEUE);
    let mut out = Outbox::default();
    let mut current: Option<Current> = None;
    let mut next_id: u32 = 0;
    // Bytes from the agent waiting for room in the client's queue; the channel is not read
    // meanwhile (the one client sets the pace).
    let mut for_client: Option<Vec<u8>> = None;
    let mut accept_pause: Option<Instant> = None;
    let commands = link.commands;
    loop {
        let idle = out.is_empty();
        let client = match (&current, &for_client) {
            (Some(c), Some(_)) => c.local.to_client.clone(),
            _ => None,
        };
        tokio::select! {
            _ = &mut *stop => return Ended::Stopped,
            permit = reserve_if(commands, !idle) => match permit {
                Ok(permit) => {
                    if let Some(command) = out.pop() {
                        permit.send(command);
                    }
                }
                Err(_) => return channel_gone(link),
            },
            permit = reserve_client(client) => match (permit, for_client.take(), &current) {
                (Some(permit), Some(bytes), Some(c)) => {
                    c.local.queued.fetch_add(bytes.len(), Ordering::Relaxed);
                    permit.send(bytes);
                }
                // The connection's writer is gone; its end is on the way.
                _ => {}
            },
            event = link.events.recv(), if for_client.is_none() && out.has_room() => {
                let Some(event) = event else {
                    return channel_ended();
                };
                match event {
                    // The plugin writes whatever payload arrives to the connection.
                    Event::Output(bytes) | Event::StdErr(bytes) => {
                        if current.is_some() {
                            for_client = Some(bytes);
                        } else {
                            tracing::debug!(
                                "port forward: {} bytes from the agent with no connection open, dropped",
                                bytes.len()
                            );
                        }
                    }
                    Event::Flag(Flag::ConnectToPortError) => {
                        notes.say(ForwardNote::DestinationFailed);
                        if let Some(c) = current.take() {
                            for_client = None;
                            disconnect(c, &mut out, notes, Some("connection to the destination port failed"));
                        }
                    }
                    other => {
                        if let Some(ended) = common_event(other, notes) {
                            return ended;
                        }
                    }
                }
            },
            Some(up) = up_rx.recv(), if idle => {
                let (id, data) = match up {
                    Up::Data(id, bytes) => (id, Some(bytes)),
                    Up::Failed(id, why) => {
                        tracing::debug!("port forward: connection {id}: {why}");
                        (id, None)
                    }
                    Up::Eof(id) | Up::Done(id) => (id, None),
                };
                if current.as_ref().is_some_and(|c| c.id == id) {
                    match data {
                        Some(bytes) => out.push_data(&bytes),
                        // The client went away (the plugin treats the end of its input so).
                        None => {
                            if let Some(c) = current.take() {
                                for_client = None;
                                disconnect(c, &mut out, notes, None);
                            }
                        }
                    }
                }
            },
            accepted = listener.accept(), if idle && current.is_none() && accept_pause.is_none() => match accepted {
                Ok((stream, peer)) => {
                    let id = next_id;
                    next_id = next_id.wrapping_add(1);
                    current = Some(Current {
                        id,
                        local: Local::start(id, stream, peer, up_tx.clone()),
                    });
                    *connections += 1;
                    notes.say(ForwardNote::Opened { peer });
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

/// Close the connection and tell the agent, after whatever the client sent before.
fn disconnect(current: Current, out: &mut Outbox, notes: &Notes, why: Option<&str>) {
    let peer = current.local.peer;
    drop(current);
    out.push_flag(Flag::DisconnectToPort);
    notes.say(match why {
        None => ForwardNote::Closed { peer },
        Some(why) => ForwardNote::Dropped {
            peer,
            why: why.to_string(),
        },
    });
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
