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

use crossterm::event::{self, Event, KeyEventKind};
use crossterm::terminal::{
    self, BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen,
    LeaveAlternateScreen,
};
use crossterm::{cursor, execute, queue};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
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
        tracing::error!(
            "panic: {info}\n{}",
            std::backtrace::Backtrace::force_capture()
        );
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

    /// Let go of a terminal that is gone: restore what can be restored, then skip ratatui's
    /// own clean-up, which reports a failure to show the cursor on stderr (and printing to a
    /// hung-up terminal panics).
    pub fn abandon(self) {
        restore();
        std::mem::forget(self);
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
    /// Disconnected when the thread has ended (its sender is dropped on return).
    done: std_mpsc::Receiver<()>,
    thread: Option<thread::JoinHandle<()>>,
}

impl InputReader {
    /// Start reading terminal events into `actions`. When the terminal goes away (hang-up,
    /// end of input, a read error) the thread sends [`Action::TerminalLost`] and ends.
    pub fn start(actions: UnboundedSender<Action>) -> InputReader {
        let (control, control_rx) = std_mpsc::channel();
        let (ack_tx, acks) = std_mpsc::channel();
        let (done_tx, done) = std_mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("berth-input".into())
            .spawn(move || {
                let _done = done_tx;
                input_loop(actions, control_rx, ack_tx)
            })
            .ok();
        InputReader {
            control,
            acks,
            done,
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
    /// Ask the thread to stop and wait for it briefly: it checks every [`INPUT_POLL`]. A thread
    /// stuck in a read is left behind rather than holding the process open.
    fn drop(&mut self) {
        let _ = self.control.send(InputControl::Stop);
        let finished = matches!(
            self.done.recv_timeout(INPUT_POLL * 4),
            Err(std_mpsc::RecvTimeoutError::Disconnected)
        );
        if let Some(t) = self.thread.take()
            && finished
        {
            let _ = t.join();
        }
    }
}

/// How long the input thread waits for input before looking at its control channel.
const INPUT_POLL: Duration = Duration::from_millis(50);

/// What the terminal device says when asked whether input is waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtyState {
    /// Bytes to read.
    Input,
    /// Nothing yet.
    Idle,
    /// Hung up, in error, or closed: nobody is at the other end any more.
    Gone,
}

/// The terminal berth reads keys from: stdin when it is a terminal, else `/dev/tty` (the same
/// choice crossterm makes).
enum TtyInput {
    Stdin(io::Stdin),
    DevTty(std::fs::File),
}

impl TtyInput {
    fn open() -> Option<TtyInput> {
        let stdin = io::stdin();
        if rustix::termios::isatty(&stdin) {
            return Some(TtyInput::Stdin(stdin));
        }
        std::fs::File::open("/dev/tty").ok().map(TtyInput::DevTty)
    }

    /// Wait up to `timeout` for input or a hang-up.
    fn wait(&self, timeout: Duration) -> TtyState {
        use std::os::fd::AsFd;
        let fd = match self {
            TtyInput::Stdin(s) => s.as_fd(),
            TtyInput::DevTty(f) => f.as_fd(),
        };
        tty_state(fd, timeout)
    }
}

/// Poll `fd` for input, reporting a hang-up (POLLHUP), an error or a closed descriptor as
/// [`TtyState::Gone`]. A terminal whose other side closed polls readable forever while every
/// read returns nothing, so "readable" alone cannot tell a key from a dead line.
pub fn tty_state(fd: std::os::fd::BorrowedFd<'_>, timeout: Duration) -> TtyState {
    use rustix::event::{PollFd, PollFlags, Timespec};
    let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::IN)];
    let timeout = Timespec {
        tv_sec: timeout.as_secs() as i64,
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    match rustix::event::poll(&mut fds, Some(&timeout)) {
        Ok(0) => TtyState::Idle,
        Ok(_) => {
            let got = fds[0].revents();
            if got.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL) {
                TtyState::Gone
            } else if got.contains(PollFlags::IN) {
                TtyState::Input
            } else {
                TtyState::Idle
            }
        }
        Err(rustix::io::Errno::INTR) => TtyState::Idle,
        Err(_) => TtyState::Gone,
    }
}

fn input_loop(
    actions: UnboundedSender<Action>,
    control: std_mpsc::Receiver<InputControl>,
    acks: std_mpsc::Sender<()>,
) {
    let tty = TtyInput::open();
    let lost = |why: String| {
        tracing::warn!("terminal gone: {why}");
        let _ = actions.send(Action::TerminalLost);
    };
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
        // Ask the device first: crossterm treats a read of nothing as "no key yet" and would
        // spin on a terminal that hung up.
        let waited = match &tty {
            Some(t) => t.wait(INPUT_POLL),
            None => TtyState::Input,
        };
        // Idle still asks crossterm: a resize reaches it by a signal, not on the terminal.
        if waited == TtyState::Gone {
            return lost("hang-up on the terminal".into());
        }
        let timeout = if tty.is_some() {
            Duration::ZERO
        } else {
            INPUT_POLL
        };
        match event::poll(timeout) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => return lost(format!("input failed: {e}")),
        }
        let action = match event::read() {
            Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => Action::Key(key),
            Ok(Event::Resize(cols, rows)) => Action::Resize { cols, rows },
            Ok(_) => continue,
            Err(e) => return lost(format!("input failed: {e}")),
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
