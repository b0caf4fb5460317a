//! The simulated container shell behind the sandbox's Session Manager data channel.
//!
//! The sandbox plays the SSM gateway and agent; this module plays what the agent would run
//! inside the container: a pty-backed `sh`. Nothing here runs a real process or reads a real
//! file: the filesystem, the processes and the network are a small, deterministic fiction
//! built from the task's [`ShellContext`].
//!
//! The model, in the order the bytes flow:
//! - [`Shell::start`] splits the ExecuteCommand string into words as the agent does (quotes,
//!   `$VAR`) and runs it once. `sh`/`bash` without arguments is an interactive shell;
//!   `sh -c SCRIPT [arg0 args...]` runs SCRIPT; any other word is a command run once.
//! - A script is a list of simple commands joined by `;`, `&&`, `||`, newlines and `|`, with
//!   quoting, parameter expansion (`$1`, `$?`, `${VAR:-x}`, ...), field splitting and the
//!   redirections a wrapper needs (`2>/dev/null`, `>/dev/null`, `2>&1`, `< FILE`). Shells
//!   nest: a script statement that is `sh` starts an interactive sub-shell reading the
//!   client's keystrokes; when it exits, the script goes on with `$?` set.
//! - The terminal is a canonical-mode line discipline: echo (unless `stty -echo`), erase,
//!   `^U`/`^W`, CR or LF ends a line, `^C` interrupts (it is handled when it arrives, as the
//!   kernel does, so it can stop a long `cat`), `^D` on an empty line is end of input, and
//!   output `\n` becomes `\r\n` while `onlcr` is on.
//! - Output is queued as pieces: bytes, or ranges of the generated data files, which are
//!   produced a block at a time as the client reads. The shell stops working ahead once
//!   64 KiB are pending, like a process blocked on a full pty, so memory stays bounded
//!   whatever is typed, and a command's own output is capped.
//!
//! Not simulated, on purpose: writing files (every path is read-only), command
//! substitution, here-documents, globbing, loops, job control. A command's standard input
//! is its pipeline predecessor or a `< FILE`, else empty: `cat` alone prints nothing rather
//! than reading the terminal. `curl -s` hides its error message as curl does (`-sS` shows
//! it). `date` follows [`Shell::set_clock`] when the server sets it.
//!
//! The data files `/var/lib/berth/data-1m` and `/var/lib/berth/data-10m` are prefixes of
//! one endless sequence of 64-byte printable lines (see [`files::data_line`]), so tests can
//! check transfers of 1 and 10 MiB end to end by checksum.
//!
//! Where things are: [`words`] lexes and expands, [`parse`] builds the command lists, [`run`]
//! schedules the frames (one per shell) and executes commands, [`tty`] is the line discipline
//! and the output queue, [`pieces`] is output as bytes or lazy data ranges, [`files`] is the
//! read-only filesystem and the data files, and the commands live in [`commands`] (the
//! dispatcher and small ones), [`builtins`] (`echo`, `printf`, `test`, `export`),
//! [`coreutils`] (`ls`, `cat`, `head`/`tail`, `wc`, `sha256sum`, `grep`, `sort`), [`clock`]
//! (`date`) and [`net`] (`curl`, `wget`).

mod builtins;
mod clock;
mod commands;
mod coreutils;
mod files;
mod net;
mod parse;
mod pieces;
mod run;
mod tty;
mod words;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::Arc;

use files::Flavor;
use parse::{Cmd, Conn, Item};
use run::{Frame, Kind, Var};
use tty::{Editor, OutQueue, Tty};
use words::{SyntaxError, Tok, lex};

/// Path of the 1 MiB data file.
pub(crate) const DATA_1M: &str = "/var/lib/berth/data-1m";
/// Path of the 10 MiB data file.
pub(crate) const DATA_10M: &str = "/var/lib/berth/data-10m";
/// Size of [`DATA_1M`].
pub(crate) const DATA_1M_SIZE: u64 = 1 << 20;
/// Size of [`DATA_10M`].
pub(crate) const DATA_10M_SIZE: u64 = 10 << 20;

/// Longest line the line discipline keeps (like Linux's `N_TTY_BUF_SIZE` less the newline).
const LINE_MAX: usize = 4095;
/// Keystrokes waiting to be read by the shell; more are dropped.
const INPUT_CAP: usize = 64 * 1024;
/// The shell stops producing output while this much is waiting to be read.
const HIGH_WATER: u64 = 64 * 1024;
/// Bytes one command may produce (data-file ranges are not counted: they are lazy).
const CMD_OUTPUT_CAP: usize = 256 * 1024;
/// Longest ExecuteCommand string and longest multi-line interactive input.
const SCRIPT_CAP: usize = 64 * 1024;
/// Nested shells at once, and shells started in one session.
const MAX_DEPTH: usize = 32;
const MAX_SPAWNS: u32 = 1000;
/// Data files are generated this many bytes at a time.
const BLOCK: usize = 4096;
/// Scans (checksums, counts) read the data files this many bytes at a time.
const SCAN_BLOCK: usize = 64 * 1024;

/// What the shell knows about the container it pretends to run in.
#[derive(Debug, Clone, Default)]
pub(crate) struct ShellContext {
    pub task_id: String,
    pub container: String,
    pub image: String,
    pub env: Vec<(String, String)>,
    /// Names of variables ECS fills from Secrets Manager or Parameter Store; their values
    /// are never known to the sandbox, so they show as empty.
    pub secret_names: Vec<String>,
    /// Container ports the application listens on (for `curl localhost:<port>`).
    pub ports: Vec<u16>,
    // Filled in by the SSM endpoint; nothing in the simulated container shows it yet.
    #[allow(dead_code)]
    pub cluster: String,
}

/// The simulated shell session of one ExecuteCommand call.
#[derive(Debug)]
pub(crate) struct Shell {
    ctx: ShellContext,
    flavor: Flavor,
    tty: Tty,
    out: OutQueue,
    input: VecDeque<u8>,
    frames: Vec<Frame>,
    final_status: Option<i32>,
    next_pid: u32,
    spawns: u32,
    /// Milliseconds since the epoch for `date`; the system clock when unset.
    clock_ms: Option<u64>,
}

impl Shell {
    /// Start the session. `command` is the ExecuteCommand command string exactly as the
    /// client sent it.
    pub(crate) fn start(ctx: ShellContext, command: &str) -> Shell {
        let image = ctx.image.to_ascii_lowercase();
        let flavor = if !image.contains("alpine")
            && ["debian", "ubuntu", "bookworm", "bullseye", "trixie", "slim"]
                .iter()
                .any(|k| image.contains(k))
        {
            Flavor::Debian
        } else {
            Flavor::Alpine
        };
        let mut vars = Vec::new();
        let mut put = |name: &str, value: &str| {
            vars.retain(|v: &Var| v.name != name);
            vars.push(Var {
                name: name.to_string(),
                value: value.to_string(),
                exported: true,
            });
        };
        put(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        );
        put("HOSTNAME", &ctx.task_id);
        for (k, v) in &ctx.env {
            put(k, v);
        }
        // Secret values never reach the sandbox: the names show, empty.
        for k in &ctx.secret_names {
            put(k, "");
        }
        put("HOME", "/root");
        let mut command = command;
        if command.len() > SCRIPT_CAP {
            let mut end = SCRIPT_CAP;
            while !command.is_char_boundary(end) {
                end -= 1;
            }
            command = &command[..end];
        }
        let mut sh = Shell {
            ctx,
            flavor,
            tty: Tty {
                echo: true,
                onlcr: true,
                rows: 24,
                cols: 80,
            },
            out: OutQueue::default(),
            input: VecDeque::new(),
            frames: Vec::new(),
            final_status: None,
            next_pid: 60,
            spawns: 0,
            clock_ms: None,
        };
        match lex(command, false) {
            Ok(toks) => {
                let words = toks
                    .into_iter()
                    .filter_map(|t| match t {
                        Tok::Word(w) => Some(w),
                        _ => None,
                    })
                    .collect();
                let item = Item {
                    conn: Conn::Seq,
                    pipeline: vec![Cmd {
                        words,
                        ..Cmd::default()
                    }],
                };
                let pid = sh.alloc_pid();
                sh.frames.push(Frame {
                    kind: Kind::Bootstrap,
                    pid,
                    name: String::new(),
                    args: Vec::new(),
                    vars,
                    cwd: "/".into(),
                    status: 0,
                    items: Arc::from(vec![item]),
                    pc: 0,
                    done: false,
                    exit_after_child: false,
                    cmdline: command.to_string(),
                    editor: Editor::default(),
                });
            }
            Err(e) => {
                let msg = match e {
                    SyntaxError::Incomplete => "unterminated quoted string".to_string(),
                    SyntaxError::Bad(m) => m,
                };
                sh.tty_text(&format!("sh: syntax error: {msg}\n"));
                sh.final_status = Some(2);
            }
        }
        sh.pump();
        sh
    }

    /// Keystrokes from the client. `^C` takes effect at once (it interrupts a command
    /// whose output is still being read); everything else is read by the shell in order.
    pub(crate) fn input(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.final_status.is_some() {
                return;
            }
            if b == 0x03 {
                self.pump();
                self.interrupt();
            } else if self.input.len() < INPUT_CAP {
                self.input.push_back(b);
            }
        }
        self.pump();
    }

    /// The client's terminal size (what `stty size` reports).
    pub(crate) fn resize(&mut self, cols: u16, rows: u16) {
        self.tty.cols = cols;
        self.tty.rows = rows;
    }

    /// Up to `max` bytes of pending output; empty when there is none.
    pub(crate) fn read_output(&mut self, max: usize) -> Vec<u8> {
        self.pump();
        let out = self.out.read(max);
        self.pump();
        out
    }

    /// The exit status, once the command has ended and all its output was read.
    pub(crate) fn exited(&self) -> Option<i32> {
        if self.out.is_empty() {
            self.final_status
        } else {
            None
        }
    }

    /// Milliseconds since the epoch that `date` shows (the sandbox's virtual clock);
    /// without it the system clock is used.
    pub(crate) fn set_clock(&mut self, epoch_ms: u64) {
        self.clock_ms = Some(epoch_ms);
    }
}
