//! One local connection: a task that owns the socket, reads it and writes to it at once, and
//! reports to the session.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::{LOCAL_QUEUE_BYTES, LOCAL_QUEUE_PIECES, READ_CHUNK};

/// From a connection task to the session.
#[derive(Debug)]
pub(super) enum Up {
    /// Bytes the local client sent.
    Data(u32, Vec<u8>),
    /// The local client will send no more.
    Eof(u32),
    /// The socket failed (reset, ...).
    Failed(u32, String),
    /// Both directions finished normally.
    Done(u32),
}

/// A task aborted when dropped: a connection closes with its entry.
struct Task(tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The session's handle on one local connection.
pub(super) struct Local {
    pub(super) peer: SocketAddr,
    /// Bytes for the client; dropped to shut the socket's write side once they are written.
    pub(super) to_client: Option<mpsc::Sender<Vec<u8>>>,
    /// Bytes in `to_client` not yet written.
    pub(super) queued: Arc<AtomicUsize>,
    _task: Task,
}

impl Local {
    /// Start the task for connection `id`.
    pub(super) fn start(
        id: u32,
        stream: TcpStream,
        peer: SocketAddr,
        up: mpsc::Sender<Up>,
    ) -> Local {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("port forward: TCP_NODELAY on {peer}: {e}");
        }
        let (to_client, from_session) = mpsc::channel(LOCAL_QUEUE_PIECES);
        let queued = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(connection(id, stream, from_session, queued.clone(), up));
        Local {
            peer,
            to_client: Some(to_client),
            queued,
            _task: Task(task),
        }
    }

    /// Queue `bytes` for the client without waiting; `false` when its queue is full (or the
    /// write side is already shut).
    pub(super) fn offer(&self, bytes: Vec<u8>) -> bool {
        let Some(tx) = &self.to_client else {
            return false;
        };
        let n = bytes.len();
        if self.queued.load(Ordering::Relaxed) + n > LOCAL_QUEUE_BYTES {
            return false;
        }
        self.queued.fetch_add(n, Ordering::Relaxed);
        if tx.try_send(bytes).is_err() {
            self.queued.fetch_sub(n, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// No more bytes for the client: its write side shuts once the queue is written.
    pub(super) fn finish_output(&mut self) {
        self.to_client = None;
    }
}

/// One local connection: reads go up to the session, the session's bytes are written, both at
/// once. Reports the end of input, a failure, or that both directions finished.
async fn connection(
    id: u32,
    stream: TcpStream,
    mut from_session: mpsc::Receiver<Vec<u8>>,
    queued: Arc<AtomicUsize>,
    up: mpsc::Sender<Up>,
) {
    let (mut rd, mut wr) = stream.into_split();
    let reading = async {
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) => return up.send(Up::Eof(id)).await.is_ok(),
                Ok(n) => {
                    if up.send(Up::Data(id, buf[..n].to_vec())).await.is_err() {
                        return false;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = up.send(Up::Failed(id, e.to_string())).await;
                    return false;
                }
            }
        }
    };
    let writing = async {
        while let Some(bytes) = from_session.recv().await {
            let written = wr.write_all(&bytes).await;
            queued.fetch_sub(bytes.len(), Ordering::Relaxed);
            if let Err(e) = written {
                let _ = up.send(Up::Failed(id, e.to_string())).await;
                return false;
            }
        }
        // The agent finished: the client sees the end of the data.
        let _ = wr.shutdown().await;
        true
    };
    let (read_ok, write_ok) = tokio::join!(reading, writing);
    if read_ok && write_ok {
        let _ = up.send(Up::Done(id)).await;
    }
}
