//! Drives the real `berth` binary in a pseudo-terminal: keys in, screen text out.
//!
//! A reader thread feeds every byte the program writes into a `vt100` parser (the emulated
//! screen) and keeps the raw byte log, so tests can check both what the user sees and what went
//! over the wire (alternate screen left, cursor shown, an idle screen writing nothing).
//!
//! The environment is controlled: HOME and the XDG directories point into a temp dir so the
//! developer's own config never leaks in, and the AWS config files are empty.
//!
//! Waits are liveness bounds (generous, so a loaded CI machine never flakes), not timing
//! assertions.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

/// How long `wait_for_text` and `wait_exit` wait before giving up.
pub const WAIT_LIMIT: Duration = Duration::from_secs(30);
const POLL_EVERY: Duration = Duration::from_millis(50);

pub const DEFAULT_COLS: u16 = 80;
pub const DEFAULT_ROWS: u16 = 24;

type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

/// Answers the terminal queries a TUI library may send at startup (cursor position, device
/// attributes), as a real terminal would; without answers such a query stalls for its timeout.
struct Responder {
    writer: SharedWriter,
}

impl vt100::Callbacks for Responder {
    fn unhandled_csi(
        &mut self,
        screen: &mut vt100::Screen,
        i1: Option<u8>,
        _i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        let first = params.first().and_then(|p| p.first()).copied().unwrap_or(0);
        let reply = match (i1, c, first) {
            (None, 'n', 6) => {
                let (row, col) = screen.cursor_position();
                Some(format!("\x1b[{};{}R", row + 1, col + 1))
            }
            (None, 'n', 5) => Some("\x1b[0n".to_owned()),
            (None, 'c', 0) => Some("\x1b[?62;22c".to_owned()),
            _ => None,
        };
        if let Some(reply) = reply {
            let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            let _ = writer.write_all(reply.as_bytes());
            let _ = writer.flush();
        }
    }
}

struct Output {
    parser: vt100::Parser<Responder>,
    raw: Vec<u8>,
    eof: bool,
}

/// The `berth` binary running in a pseudo-terminal.
pub struct Pty {
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    writer: SharedWriter,
    output: Arc<Mutex<Output>>,
    reader: Option<JoinHandle<()>>,
    exit: Option<ExitStatus>,
    // Kept alive for the program's lifetime: HOME, XDG dirs and AWS config files live here.
    home: tempfile::TempDir,
}

impl Pty {
    /// Spawns `berth` with `args`; `env` is added to the controlled base environment.
    pub fn spawn(args: &[&str], env: &[(&str, &str)], cols: u16, rows: u16) -> Pty {
        Self::spawn_program(env!("CARGO_BIN_EXE_berth"), args, env, cols, rows)
    }

    /// Spawns any program in the controlled environment (the harness tests itself with this).
    pub fn spawn_program(
        program: &str,
        args: &[&str],
        env: &[(&str, &str)],
        cols: u16,
        rows: u16,
    ) -> Pty {
        let home = tempfile::Builder::new()
            .prefix("berth-pty-")
            .tempdir()
            .expect("pty harness: cannot create a temp HOME");
        let root = home.path();
        for dir in [".config", ".local/state", ".aws"] {
            std::fs::create_dir_all(root.join(dir))
                .unwrap_or_else(|e| panic!("pty harness: cannot create {dir}: {e}"));
        }
        let aws_config = root.join(".aws").join("config");
        let aws_credentials = root.join(".aws").join("credentials");
        for file in [&aws_config, &aws_credentials] {
            std::fs::write(file, "")
                .unwrap_or_else(|e| panic!("pty harness: cannot create {}: {e}", file.display()));
        }

        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.cwd(root);
        cmd.env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        cmd.env("HOME", root);
        cmd.env("XDG_CONFIG_HOME", root.join(".config"));
        cmd.env("XDG_STATE_HOME", root.join(".local").join("state"));
        cmd.env("TERM", "xterm-256color");
        cmd.env("LANG", "C.UTF-8");
        cmd.env("AWS_CONFIG_FILE", &aws_config);
        cmd.env("AWS_SHARED_CREDENTIALS_FILE", &aws_credentials);
        cmd.env("AWS_EC2_METADATA_DISABLED", "true");
        for (key, value) in env {
            cmd.env(key, value);
        }

        let pair = native_pty_system()
            .openpty(pty_size(cols, rows))
            .expect("pty harness: cannot open a pseudo-terminal");
        let child = pair
            .slave
            .spawn_command(cmd)
            .unwrap_or_else(|e| panic!("pty harness: cannot spawn {program}: {e}"));
        // Only the child may hold the slave side, so the reader sees EOF when it exits.
        drop(pair.slave);

        let writer: SharedWriter = Arc::new(Mutex::new(
            pair.master
                .take_writer()
                .expect("pty harness: cannot take the pty writer"),
        ));
        let mut reader = pair
            .master
            .try_clone_reader()
            .expect("pty harness: cannot clone the pty reader");
        let output = Arc::new(Mutex::new(Output {
            parser: vt100::Parser::new_with_callbacks(
                rows,
                cols,
                0,
                Responder {
                    writer: Arc::clone(&writer),
                },
            ),
            raw: Vec::new(),
            eof: false,
        }));
        let sink = Arc::clone(&output);
        let responder_writer = Arc::clone(&writer);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut out = sink.lock().unwrap_or_else(PoisonError::into_inner);
                        out.raw.extend_from_slice(&buf[..n]);
                        // vt100 can overflow on output meant for a size it was just resized
                        // away from (1-column screens in a resize storm). That is the test
                        // terminal's bug, not berth's: start a fresh emulator at the same size;
                        // berth repaints everything on its next resize.
                        let fed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            out.parser.process(&buf[..n])
                        }));
                        if fed.is_err() {
                            let (rows, cols) = out.parser.screen().size();
                            out.parser = vt100::Parser::new_with_callbacks(
                                rows,
                                cols,
                                0,
                                Responder {
                                    writer: Arc::clone(&responder_writer),
                                },
                            );
                        }
                    }
                }
            }
            sink.lock().unwrap_or_else(PoisonError::into_inner).eof = true;
        });

        Pty {
            child,
            master: pair.master,
            writer,
            output,
            reader: Some(reader),
            exit: None,
            home,
        }
    }

    fn output(&self) -> MutexGuard<'_, Output> {
        self.output.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The temp directory used as HOME (config lives in `.config/berth`, logs in
    /// `.local/state/berth`).
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The visible screen as text, one line per row.
    pub fn screen_text(&self) -> String {
        self.output().parser.screen().contents()
    }

    /// Runs `f` on the emulated screen (cell attributes, cursor, alternate-screen flag).
    pub fn with_screen<T>(&self, f: impl FnOnce(&vt100::Screen) -> T) -> T {
        f(self.output().parser.screen())
    }

    /// Waits until `needle` appears on screen; on timeout returns the screen dump.
    pub fn wait_for_text(&self, needle: &str) -> Result<(), String> {
        self.wait_until(&format!("text {needle:?}"), |screen| {
            screen.contains(needle)
        })
    }

    /// Waits until `needle` is no longer on screen; on timeout returns the screen dump.
    pub fn wait_for_text_gone(&self, needle: &str) -> Result<(), String> {
        self.wait_until(&format!("text {needle:?} to disappear"), |screen| {
            !screen.contains(needle)
        })
    }

    /// Waits until `pred` holds for the screen text.
    pub fn wait_until(&self, what: &str, pred: impl Fn(&str) -> bool) -> Result<(), String> {
        let deadline = Instant::now() + WAIT_LIMIT;
        loop {
            let (screen, eof) = {
                let out = self.output();
                (out.parser.screen().contents(), out.eof)
            };
            if pred(&screen) {
                return Ok(());
            }
            if eof || Instant::now() >= deadline {
                let why = if eof {
                    "the program closed the terminal"
                } else {
                    "timed out"
                };
                return Err(format!(
                    "waiting for {what}: {why} after {WAIT_LIMIT:?}; screen:\n{}",
                    frame(&screen)
                ));
            }
            std::thread::sleep(POLL_EVERY);
        }
    }

    /// Writes raw bytes to the program's terminal input.
    pub fn send(&self, bytes: &[u8]) {
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        writer
            .write_all(bytes)
            .and_then(|()| writer.flush())
            .expect("pty harness: cannot write to the pty");
    }

    /// Sends one named key (see [`key_bytes`]); panics on an unknown name.
    pub fn send_key(&self, name: &str) {
        let bytes =
            key_bytes(name).unwrap_or_else(|| panic!("pty harness: unknown key name {name:?}"));
        self.send(&bytes);
    }

    /// Resizes the terminal (the program gets SIGWINCH) and the emulated screen.
    pub fn resize(&self, cols: u16, rows: u16) {
        self.output().parser.screen_mut().set_size(rows, cols);
        self.master
            .resize(pty_size(cols, rows))
            .expect("pty harness: cannot resize the pty");
    }

    /// Waits for the program to exit and for its last output to be read.
    pub fn wait_exit(&mut self) -> Result<ExitStatus, String> {
        if let Some(status) = &self.exit {
            return Ok(status.clone());
        }
        let deadline = Instant::now() + WAIT_LIMIT;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL_EVERY),
                Ok(None) => {
                    return Err(format!(
                        "the program did not exit within {WAIT_LIMIT:?}; screen:\n{}",
                        frame(&self.screen_text())
                    ));
                }
                Err(e) => return Err(format!("cannot wait for the program: {e}")),
            }
        };
        // The reader ends at EOF once the child (the only slave holder) is gone.
        while !self.output().eof && Instant::now() < deadline {
            std::thread::sleep(POLL_EVERY);
        }
        if self.output().eof
            && let Some(reader) = self.reader.take()
        {
            let _ = reader.join();
        }
        self.exit = Some(status.clone());
        Ok(status)
    }

    /// Everything the program has written to the terminal so far.
    pub fn raw_output(&self) -> Vec<u8> {
        self.output().raw.clone()
    }

    /// Total bytes the program has written so far (an idle screen must not grow this).
    pub fn bytes_written(&self) -> usize {
        self.output().raw.len()
    }

    /// After exit: the alternate screen was left, the cursor is visible, and the raw log has
    /// the leave-alternate-screen sequence. Returns what is wrong, with the screen dump.
    pub fn check_terminal_restored(&self) -> Result<(), String> {
        let out = self.output();
        let screen = out.parser.screen();
        let mut problems = Vec::new();
        if screen.alternate_screen() {
            problems.push("still on the alternate screen");
        }
        if screen.hide_cursor() {
            problems.push("cursor still hidden");
        }
        if !contains(&out.raw, LEAVE_ALTERNATE_SCREEN) {
            problems.push("never wrote the leave-alternate-screen sequence ESC[?1049l");
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "terminal not restored: {}; screen:\n{}",
                problems.join(", "),
                frame(&screen.contents())
            ))
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.exit.is_none() && matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub const ENTER_ALTERNATE_SCREEN: &[u8] = b"\x1b[?1049h";
pub const LEAVE_ALTERNATE_SCREEN: &[u8] = b"\x1b[?1049l";

/// Whether `haystack` contains the byte sequence `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn pty_size(cols: u16, rows: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

/// The screen dump with a border, so trailing blanks and empty rows are visible in failures.
pub fn frame(screen: &str) -> String {
    let mut out = String::from("+--------\n");
    for line in screen.lines() {
        out.push('|');
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("+--------");
    out
}

/// The bytes an xterm sends for a key name: a single character stands for itself; otherwise
/// `enter`, `esc`, `tab`, `backtab`, `backspace`, `space`, arrows (`up`...), `home`, `end`,
/// `pageup`, `pagedown`, `insert`, `delete`, `f1`..`f12`, `ctrl-<letter>` and `alt-<char>`.
pub fn key_bytes(name: &str) -> Option<Vec<u8>> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(c.to_string().into_bytes());
    }
    let lower = name.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("ctrl-") {
        let mut chars = rest.chars();
        return match (chars.next(), chars.next()) {
            (Some(c @ 'a'..='z'), None) => Some(vec![c as u8 & 0x1f]),
            (Some(c @ ('[' | '\\' | ']' | '^' | '_')), None) => Some(vec![c as u8 & 0x1f]),
            (Some(' ' | '@'), None) => Some(vec![0]),
            _ if rest == "space" => Some(vec![0]),
            _ => None,
        };
    }
    if let Some(rest) = name.strip_prefix("alt-") {
        let inner = key_bytes(rest)?;
        return Some([b"\x1b".as_slice(), &inner].concat());
    }
    let seq: &[u8] = match lower.as_str() {
        "enter" | "return" => b"\r",
        "esc" | "escape" => b"\x1b",
        "tab" => b"\t",
        "backtab" | "shift-tab" => b"\x1b[Z",
        "backspace" => b"\x7f",
        "space" => b" ",
        "up" => b"\x1b[A",
        "down" => b"\x1b[B",
        "right" => b"\x1b[C",
        "left" => b"\x1b[D",
        "home" => b"\x1b[H",
        "end" => b"\x1b[F",
        "pageup" => b"\x1b[5~",
        "pagedown" => b"\x1b[6~",
        "insert" => b"\x1b[2~",
        "delete" => b"\x1b[3~",
        "f1" => b"\x1bOP",
        "f2" => b"\x1bOQ",
        "f3" => b"\x1bOR",
        "f4" => b"\x1bOS",
        "f5" => b"\x1b[15~",
        "f6" => b"\x1b[17~",
        "f7" => b"\x1b[18~",
        "f8" => b"\x1b[19~",
        "f9" => b"\x1b[20~",
        "f10" => b"\x1b[21~",
        "f11" => b"\x1b[23~",
        "f12" => b"\x1b[24~",
        _ => return None,
    };
    Some(seq.to_vec())
}
