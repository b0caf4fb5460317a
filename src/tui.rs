//! The terminal: raw mode and the alternate screen while berth runs, restored on every way
//! out (normal exit, error, panic, signal), and handed over to a child process on demand.
//!
//! Input is read by a dedicated thread (crossterm's `poll` blocks, so it must not run on the
//! async runtime). The thread can be paused: it acknowledges, stops reading, and waits for
//! `resume`, so a child process (the ECS Exec plugin) owns stdin while it runs.

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::thread;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::crossterm::terminal::{
    self, BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen,
    LeaveAlternateScreen,
};
use ratatui::crossterm::{cursor, execute, queue};
use tokio::sync::mpsc::UnboundedSender;

use crate::app::Action;

pub type Backend = CrosstermBackend<Stdout>;

/// Whether we currently hold the terminal in raw mode + alternate screen.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Enter raw mode and the alternate screen.
fn enter() -> io::Result<()> {
    terminal::enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)?;
    Ok(())
}

/// Put the terminal back the way we found it. Safe to call more than once and from the panic
/// hook: it only acts while the terminal is ours.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = io::stdout();
        let _ = execute!(
            out,
            EndSynchronizedUpdate,
            LeaveAlternateScreen,
            cursor::Show
        );
        let _ = terminal::disable_raw_mode();
        let _ = out.flush();
    }
}

/// Install panic and error hooks that restore the terminal before color-eyre prints its report.
pub fn install_hooks() -> color_eyre::Result<()> {
    let (panic_hook, eyre_hook) = color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .into_hooks();
    eyre_hook.install()?;
    let panic_hook = panic_hook.into_panic_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        tracing::error!("panic: {info}");
        panic_hook(info);
    }));
    Ok(())
}

/// The terminal while berth owns it. Dropping it restores the terminal.
pub struct Tui {
    pub terminal: Terminal<Backend>,
}

impl Tui {
    pub fn new() -> io::Result<Tui> {
        enter()?;
        let terminal = match Terminal::new(CrosstermBackend::new(io::stdout())) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        Ok(Tui { terminal })
    }

    /// Draw one frame inside a synchronized update, so the terminal shows it at once.
    pub fn draw(&mut self, render: impl FnOnce(&mut ratatui::Frame)) -> io::Result<()> {
        queue!(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        let result = self.terminal.draw(render).map(|_| ());
        queue!(self.terminal.backend_mut(), EndSynchronizedUpdate)?;
        self.terminal.backend_mut().flush()?;
        result
    }

    /// Put `text` on the clipboard with OSC 52, which terminals honour over SSH too.
    pub fn copy_to_clipboard(&mut self, text: &str) -> io::Result<()> {
        let payload = crate::text::base64(text.as_bytes());
        let out = self.terminal.backend_mut();
        write!(out, "\x1b]52;c;{payload}\x07")?;
        out.flush()
    }

    /// Give the terminal back to the shell (for a child process that needs it).
    pub fn suspend(&mut self) -> io::Result<()> {
        restore();
        Ok(())
    }

    /// Take the terminal again after `suspend`, and force a full redraw of the next frame.
    pub fn resume(&mut self) -> io::Result<()> {
        enter()?;
        self.terminal.clear()?;
        Ok(())
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        restore();
    }
}

enum InputControl {
    Pause,
    Resume,
    Stop,
}

/// The input thread's handle.
pub struct InputReader {
    control: std_mpsc::Sender<InputControl>,
    acks: std_mpsc::Receiver<()>,
    thread: Option<thread::JoinHandle<()>>,
}

impl InputReader {
    /// Start reading terminal events into `actions`.
    pub fn start(actions: UnboundedSender<Action>) -> InputReader {
        let (control, control_rx) = std_mpsc::channel();
        let (ack_tx, acks) = std_mpsc::channel();
        let thread = thread::Builder::new()
            .name("berth-input".into())
            .spawn(move || input_loop(actions, control_rx, ack_tx))
            .ok();
        InputReader {
            control,
            acks,
            thread,
        }
    }

    /// Stop reading input; returns once the thread has acknowledged (or after a short bound if
    /// the thread is gone).
    pub fn pause(&self) {
        if self.control.send(InputControl::Pause).is_ok() {
            let _ = self.acks.recv_timeout(Duration::from_secs(2));
        }
    }

    pub fn resume(&self) {
        let _ = self.control.send(InputControl::Resume);
    }
}

impl Drop for InputReader {
    fn drop(&mut self) {
        let _ = self.control.send(InputControl::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn input_loop(
    actions: UnboundedSender<Action>,
    control: std_mpsc::Receiver<InputControl>,
    acks: std_mpsc::Sender<()>,
) {
    loop {
        match control.try_recv() {
            Ok(InputControl::Pause) => {
                let _ = acks.send(());
                // Wait, not reading the terminal, until resumed or stopped.
                loop {
                    match control.recv() {
                        Ok(InputControl::Resume) => break,
                        Ok(InputControl::Pause) => {
                            let _ = acks.send(());
                        }
                        Ok(InputControl::Stop) | Err(_) => return,
                    }
                }
            }
            Ok(InputControl::Stop) | Err(std_mpsc::TryRecvError::Disconnected) => return,
            Ok(InputControl::Resume) | Err(std_mpsc::TryRecvError::Empty) => {}
        }
        match event::poll(Duration::from_millis(50)) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::error!("terminal input failed: {e}");
                return;
            }
        }
        let action = match event::read() {
            Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => Action::Key(key),
            Ok(Event::Resize(cols, rows)) => Action::Resize { cols, rows },
            Ok(_) => continue,
            Err(e) => {
                tracing::error!("terminal input failed: {e}");
                return;
            }
        };
        if actions.send(action).is_err() {
            return;
        }
    }
}

/// The terminal's settings when berth started, re-applied exactly after a child session
/// (the plugin changes modes with `stty` and may exit without undoing them).
static ORIGINAL: std::sync::OnceLock<rustix::termios::Termios> = std::sync::OnceLock::new();

/// Remember the terminal's settings. Call once, before anything changes them.
pub fn save_original_terminal() {
    let stdin = io::stdin();
    if rustix::termios::isatty(&stdin)
        && let Ok(t) = rustix::termios::tcgetattr(&stdin)
    {
        let _ = ORIGINAL.set(t);
    }
}

/// Put the terminal's settings back to what [`save_original_terminal`] saw.
pub fn reapply_original_terminal() {
    if let Some(t) = ORIGINAL.get() {
        let stdin = io::stdin();
        if let Err(e) = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, t)
        {
            tracing::warn!("cannot restore the terminal settings: {e}");
        }
    }
}

/// Drop input typed but not yet read (keys pressed as a session ended).
pub fn flush_pending_input() {
    let stdin = io::stdin();
    if rustix::termios::isatty(&stdin) {
        let _ = rustix::termios::tcflush(&stdin, rustix::termios::QueueSelector::IFlush);
    }
}
