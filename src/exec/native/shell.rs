//! A shell or command over the native channel, in two forms:
//!
//! - [`interactive`]: the terminal is the session's (raw mode, so Ctrl-C, Ctrl-\ and Ctrl-Z go
//!   to the remote as bytes), keystrokes out, output in (operating-system commands such as
//!   title and clipboard removed), the size sent at the start and on every SIGWINCH, and
//!   "reconnecting…" shown while a dropped socket is resumed.
//! - [`scripted`]: stdin is not a terminal; its bytes go out (end of input as Ctrl-D), the
//!   output goes to stdout as it arrives, nothing else is written there.
//!
//! Both remove berth's exit-status line and report the status.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;

use super::channel::{Channel, Command, Event};
use super::exit_status::ExitFilter;
use super::osc::OscFilter;
use crate::exec::channel::handshake::Size;

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The command's exit status, when it is known.
    pub status: Option<i32>,
    /// For the status line and the audit: `exit 3`, `exit status unknown`, or what failed.
    pub how: String,
    /// The channel failed (rather than the gateway closing it).
    pub failed: bool,
}

impl Outcome {
    /// The session never ran.
    pub fn failed(why: String) -> Outcome {
        Outcome::new(None, Some(why))
    }

    fn new(status: Option<i32>, failure: Option<String>) -> Outcome {
        let how = match (&failure, status) {
            (Some(e), _) => e.clone(),
            (None, Some(n)) => format!("exit {n}"),
            (None, None) => "exit status unknown".to_string(),
        };
        Outcome {
            status,
            how,
            failed: failure.is_some(),
        }
    }
}

/// Wait for the handshake. `Err` when the channel ended or failed first.
async fn ready(channel: &mut Channel) -> Result<String, String> {
    loop {
        match channel.events.recv().await {
            Some(Event::Ready {
                customer_message, ..
            }) => return Ok(customer_message),
            Some(Event::Closed(text)) => {
                return Err(format!(
                    "the session closed before it started: {}",
                    crate::text::sanitize(&text)
                ));
            }
            Some(Event::Failed(e)) => return Err(e),
            Some(_) => {}
            None => return Err("the data channel ended".into()),
        }
    }
}

/// The terminal's size (80x24 when it cannot be read).
fn terminal_size() -> Size {
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    Size {
        cols: u32::from(cols),
        rows: u32::from(rows),
    }
}

/// Raw mode for the session's lifetime, restored however it ends.
struct RawMode;

impl RawMode {
    fn enter() -> RawMode {
        if let Err(e) = crossterm::terminal::enable_raw_mode() {
            tracing::warn!("cannot put the terminal in raw mode: {e}");
        }
        RawMode
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// Reads the terminal on a thread that checks `stop` every 100 ms, so that it never keeps
/// reading (and stealing keys) after the session.
fn read_terminal(stop: Arc<AtomicBool>, tx: mpsc::Sender<Vec<u8>>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        use rustix::event::{PollFd, PollFlags, poll};
        let stdin = std::io::stdin();
        let mut buf = [0u8; 1024];
        while !stop.load(Ordering::Relaxed) {
            let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
            let timeout = rustix::event::Timespec {
                tv_sec: 0,
                tv_nsec: 100_000_000,
            };
            match poll(&mut fds, Some(&timeout)) {
                Ok(0) => continue,
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => return,
            }
            let revents = fds[0].revents();
            if revents.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL)
                && !revents.contains(PollFlags::IN)
            {
                return;
            }
            match rustix::io::read(&stdin, &mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
                Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
                Err(_) => return,
            }
        }
    })
}

fn write_out(out: &mut impl Write, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    // A terminal that is gone cannot be told; the session ends on its own.
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// The session owns the terminal until the remote side ends.
pub async fn interactive(mut channel: Channel, marker: Option<&str>) -> Outcome {
    let mut stdout = std::io::stdout();
    let message = match ready(&mut channel).await {
        Ok(m) => m,
        Err(e) => return Outcome::new(None, Some(e)),
    };
    if !message.trim().is_empty() {
        write_out(
            &mut stdout,
            format!("{}\r\n", crate::text::sanitize(message.trim())).as_bytes(),
        );
    }
    let _raw = RawMode::enter();
    let _ = channel.commands.send(Command::Size(terminal_size())).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (key_tx, mut keys) = mpsc::channel(16);
    let reader = read_terminal(stop.clone(), key_tx);
    let mut winch =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change()).ok();
    let mut exit = marker.map(ExitFilter::new);
    let mut osc = OscFilter::new();
    let mut agent_status = None;
    let mut show = |bytes: &[u8], exit: &mut Option<ExitFilter>, out: &mut std::io::Stdout| {
        let visible = match exit {
            Some(f) => f.feed(bytes),
            None => bytes.to_vec(),
        };
        write_out(out, &osc.feed(&visible));
    };
    let failure = loop {
        tokio::select! {
            event = channel.events.recv() => match event {
                Some(Event::Output(b) | Event::StdErr(b)) => show(&b, &mut exit, &mut stdout),
                Some(Event::ExitCode(n)) => agent_status = Some(n),
                Some(Event::Reconnecting(_)) => {
                    write_out(&mut stdout, "\r\n[berth: connection lost, reconnecting…]\r\n".as_bytes());
                }
                Some(Event::Reconnected) => write_out(&mut stdout, b"[berth: reconnected]\r\n"),
                Some(Event::Closed(_)) | None => break None,
                Some(Event::Failed(e)) => break Some(e),
                Some(Event::Ready { .. } | Event::Flag(_)) => {}
            },
            k = keys.recv() => match k {
                Some(bytes) => {
                    if channel.commands.send(Command::Data(bytes)).await.is_err() {
                        break Some("the data channel ended".into());
                    }
                }
                // The terminal is gone.
                None => break Some("the terminal closed".into()),
            },
            Some(()) = async { match winch.as_mut() { Some(w) => w.recv().await, None => std::future::pending().await } } => {
                let _ = channel.commands.send(Command::Size(terminal_size())).await;
            }
        }
    };
    if let Some(f) = exit.as_mut() {
        let rest = f.finish();
        write_out(&mut stdout, &osc.feed(&rest));
    }
    stop.store(true, Ordering::Relaxed);
    drop(keys);
    let _ = tokio::task::spawn_blocking(move || reader.join()).await;
    let status = exit.as_ref().and_then(ExitFilter::status).or(agent_status);
    Outcome::new(status, failure)
}

/// stdin is not a terminal: its bytes go to the command, the output to `out`.
pub async fn scripted<W: Write>(
    mut channel: Channel,
    marker: Option<&str>,
    out: &mut W,
) -> Outcome {
    if let Err(e) = ready(&mut channel).await {
        return Outcome::new(None, Some(e));
    }
    let _ = channel
        .commands
        .send(Command::Size(Size {
            cols: 200,
            rows: 50,
        }))
        .await;
    let (tx, mut input) = mpsc::channel::<Option<Vec<u8>>>(8);
    let reader = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut stdin = tokio::io::stdin();
        let mut buf = vec![0u8; 1024];
        loop {
            match stdin.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = tx.send(None).await;
                    return;
                }
                Ok(n) => {
                    if tx.send(Some(buf[..n].to_vec())).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    let mut exit = marker.map(ExitFilter::new);
    let mut agent_status = None;
    let mut input_open = true;
    let failure = loop {
        tokio::select! {
            event = channel.events.recv() => match event {
                Some(Event::Output(b)) => {
                    let visible = match exit.as_mut() { Some(f) => f.feed(&b), None => b };
                    if out.write_all(&visible).and_then(|()| out.flush()).is_err() {
                        // The reader went away (a closed pipe): nothing more to say.
                        break None;
                    }
                }
                Some(Event::StdErr(b)) => {
                    let _ = std::io::stderr().write_all(&OscFilter::new().feed(&b));
                }
                Some(Event::ExitCode(n)) => agent_status = Some(n),
                Some(Event::Reconnecting(why)) => {
                    tracing::info!("reconnecting: {why}");
                }
                Some(Event::Closed(_)) | None => break None,
                Some(Event::Failed(e)) => break Some(e),
                Some(Event::Ready { .. } | Event::Reconnected | Event::Flag(_)) => {}
            },
            chunk = input.recv(), if input_open => match chunk {
                Some(Some(bytes)) => {
                    let _ = channel.commands.send(Command::Data(bytes)).await;
                }
                Some(None) | None => {
                    input_open = false;
                    // End of input reaches the remote terminal as Ctrl-D.
                    let _ = channel.commands.send(Command::Data(vec![0x04])).await;
                }
            },
        }
    };
    reader.abort();
    if let Some(f) = exit.as_mut() {
        let rest = f.finish();
        let _ = out.write_all(&rest);
        let _ = out.flush();
    }
    let status = exit.as_ref().and_then(ExitFilter::status).or(agent_status);
    Outcome::new(status, failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outcome_says_the_status_or_that_it_is_unknown() {
        assert_eq!(Outcome::new(Some(3), None).how, "exit 3");
        assert_eq!(Outcome::new(None, None).how, "exit status unknown");
        let failed = Outcome::new(None, Some("could not resume the session: refused".into()));
        assert!(failed.failed);
        assert_eq!(failed.how, "could not resume the session: refused");
    }
}
