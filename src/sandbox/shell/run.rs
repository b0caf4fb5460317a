//! The interpreter: the stack of frames (one per running shell), the scheduler that runs
//! them until they wait for input or the output backs up, and simple-command execution
//! (redirections, expansion, dispatch, starting nested shells).

use std::sync::Arc;

use super::commands::{BUILTINS, PROGRAMS, program_path};
use super::files::{Node, resolve};
use super::parse::{Cmd, Conn, Item, parse_script};
use super::pieces::{Emit, Piece};
use super::tty::Editor;
use super::words::{RedirOp, SyntaxError, is_name};
use super::{HIGH_WATER, MAX_DEPTH, MAX_SPAWNS, Shell};

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Var {
    pub(super) name: String,
    pub(super) value: String,
    pub(super) exported: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// What the agent runs: the ExecuteCommand words, once. Not a shell.
    Bootstrap,
    /// `sh -c SCRIPT`.
    Script,
    /// `sh` reading the terminal.
    Interactive,
}

/// One running shell (or the bootstrap command).
#[derive(Debug, Clone)]
pub(super) struct Frame {
    pub(super) kind: Kind,
    pub(super) pid: u32,
    /// `$0`
    pub(super) name: String,
    /// `$1`...
    pub(super) args: Vec<String>,
    pub(super) vars: Vec<Var>,
    pub(super) cwd: String,
    /// `$?`
    pub(super) status: i32,
    pub(super) items: Arc<[Item]>,
    pub(super) pc: usize,
    pub(super) done: bool,
    /// Set by `exec sh`: when the child ends, this shell ends with its status.
    pub(super) exit_after_child: bool,
    /// What `ps` shows.
    pub(super) cmdline: String,
    pub(super) editor: Editor,
}

impl Frame {
    pub(super) fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.value.as_str())
    }

    pub(super) fn set_var(&mut self, name: &str, value: String, export: bool) {
        match self.vars.iter_mut().find(|v| v.name == name) {
            Some(v) => {
                v.value = value;
                v.exported |= export;
            }
            None => self.vars.push(Var {
                name: name.to_string(),
                value,
                exported: export,
            }),
        }
    }

    fn exported(&self) -> Vec<Var> {
        self.vars.iter().filter(|v| v.exported).cloned().collect()
    }

    pub(super) fn home(&self) -> String {
        self.var("HOME").unwrap_or("/").to_string()
    }
}

/// What running a command did.
#[derive(Debug)]
enum Outcome {
    Status(i32),
    /// The shell itself ends (`exit`, or a command run by `exec`).
    Exit(i32),
    /// A shell was started; the frame runs on top until it ends. The flag: `exec`.
    Spawn(Box<Frame>, bool),
}

/// Where a file descriptor goes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sink {
    Tty,
    Null,
    Capture,
}

impl Shell {
    pub(super) fn alloc_pid(&mut self) -> u32 {
        let p = self.next_pid;
        self.next_pid = self.next_pid.saturating_add(1 + (p % 3));
        p
    }

    /// Run until the shell waits for input, the output backs up, or the session ends.
    pub(super) fn pump(&mut self) {
        while self.final_status.is_none() {
            let Some(top) = self.frames.last_mut() else {
                return;
            };
            let finished = top.pc >= top.items.len();
            if top.done || (finished && top.kind != Kind::Interactive) {
                self.pop_frame();
                continue;
            }
            if self.out.pending >= HIGH_WATER {
                return;
            }
            if !finished {
                self.step();
            } else if top.editor.need_prompt {
                top.editor.need_prompt = false;
                let prompt = format!("{} # ", top.cwd);
                self.tty_text(&prompt);
            } else if let Some(b) = self.input.pop_front() {
                self.edit(b);
            } else {
                return;
            }
        }
    }

    fn pop_frame(&mut self) {
        let Some(f) = self.frames.pop() else {
            return;
        };
        match self.frames.last_mut() {
            Some(parent) => {
                parent.status = f.status;
                if parent.exit_after_child {
                    parent.done = true;
                }
            }
            None => {
                self.final_status = Some(f.status);
                self.input.clear();
            }
        }
    }

    /// Run the top frame's next pipeline.
    fn step(&mut self) {
        let Some(mut f) = self.frames.pop() else {
            return;
        };
        let items = Arc::clone(&f.items);
        let Some(item) = items.get(f.pc) else {
            self.frames.push(f);
            return;
        };
        f.pc += 1;
        let run = match item.conn {
            Conn::Seq => true,
            Conn::And => f.status == 0,
            Conn::Or => f.status != 0,
        };
        if !run {
            self.frames.push(f);
            return;
        }
        let outcome = match item.pipeline.as_slice() {
            [one] => self.exec_cmd(&mut f, one, Vec::new(), false).0,
            many => Outcome::Status(self.exec_pipeline(&mut f, many)),
        };
        match outcome {
            Outcome::Status(n) => {
                f.status = n;
                self.frames.push(f);
            }
            Outcome::Exit(n) => {
                f.status = n;
                f.done = true;
                self.frames.push(f);
            }
            Outcome::Spawn(child, exec) => {
                f.exit_after_child = exec;
                self.frames.push(f);
                self.frames.push(*child);
            }
        }
    }

    fn exec_pipeline(&mut self, f: &mut Frame, cmds: &[Cmd]) -> i32 {
        let mut stdin = Vec::new();
        let mut status = 0;
        for (i, c) in cmds.iter().enumerate() {
            let last = i + 1 == cmds.len();
            let (outcome, captured) = self.exec_cmd(f, c, std::mem::take(&mut stdin), !last);
            status = match outcome {
                Outcome::Status(n) | Outcome::Exit(n) => n,
                Outcome::Spawn(..) => {
                    self.tty_text("sh: a shell inside a pipeline is not simulated\n");
                    2
                }
            };
            stdin = captured;
        }
        status
    }

    /// Run one simple command in frame `f`. With `capture`, its standard output is
    /// returned (for the next command of a pipeline) instead of going to the terminal.
    fn exec_cmd(
        &mut self,
        f: &mut Frame,
        cmd: &Cmd,
        mut stdin: Vec<Piece>,
        capture: bool,
    ) -> (Outcome, Vec<Piece>) {
        let mut sinks = [
            Sink::Tty,
            if capture { Sink::Capture } else { Sink::Tty },
            Sink::Tty,
        ];
        for r in &cmd.redirs {
            let target = self.expand_str(f, &r.target);
            let input = matches!(r.op, RedirOp::In | RedirOp::DupIn);
            let fd = r.fd.unwrap_or(if input { 0 } else { 1 }) as usize;
            let sink = match r.op {
                RedirOp::Out | RedirOp::Append => match target.as_str() {
                    "/dev/null" => Some(Sink::Null),
                    "/dev/stdout" | "/proc/self/fd/1" => Some(sinks[1]),
                    "/dev/stderr" | "/proc/self/fd/2" => Some(sinks[2]),
                    "/dev/tty" => Some(Sink::Tty),
                    _ => {
                        let msg = format!("sh: can't create {target}: Read-only file system\n");
                        self.route_err(sinks[2], &msg);
                        return (Outcome::Status(1), Vec::new());
                    }
                },
                RedirOp::DupOut => match target.as_str() {
                    "1" => Some(sinks[1]),
                    "2" => Some(sinks[2]),
                    "-" => Some(Sink::Null),
                    _ => {
                        let msg = format!("sh: {target}: bad file descriptor\n");
                        self.route_err(sinks[2], &msg);
                        return (Outcome::Status(1), Vec::new());
                    }
                },
                RedirOp::In => {
                    match self.node(&resolve(&f.cwd, &target)) {
                        Some(Node::File(p)) => {
                            if fd == 0 {
                                stdin = p;
                            }
                        }
                        Some(Node::Dir(_)) => {
                            let msg = format!("sh: can't open {target}: Is a directory\n");
                            self.route_err(sinks[2], &msg);
                            return (Outcome::Status(1), Vec::new());
                        }
                        None => {
                            let msg =
                                format!("sh: can't open {target}: No such file or directory\n");
                            self.route_err(sinks[2], &msg);
                            return (Outcome::Status(1), Vec::new());
                        }
                    }
                    None
                }
                RedirOp::DupIn => None,
            };
            if let (Some(sink), 1..=2) = (sink, fd) {
                sinks[fd] = sink;
            }
        }

        let argv: Vec<String> = cmd
            .words
            .iter()
            .flat_map(|w| self.expand_fields(f, w))
            .collect();
        let assigns: Vec<(String, String)> = cmd
            .assigns
            .iter()
            .map(|(n, w)| (n.clone(), self.expand_str(f, w)))
            .collect();
        if argv.is_empty() {
            for (n, v) in assigns {
                f.set_var(&n, v, false);
            }
            return (Outcome::Status(0), Vec::new());
        }
        let mut e = Emit::default();
        let outcome = self.dispatch(f, &argv, &assigns, stdin, &mut e);
        let mut captured = Vec::new();
        for (fd, piece) in e.parts {
            match sinks.get(fd).copied().unwrap_or(Sink::Null) {
                Sink::Tty => self.out.push(piece, self.tty.onlcr),
                Sink::Null => {}
                Sink::Capture => captured.push(piece),
            }
        }
        (outcome, captured)
    }

    fn route_err(&mut self, sink: Sink, msg: &str) {
        if sink == Sink::Tty {
            self.tty_text(msg);
        }
    }

    fn dispatch(
        &mut self,
        f: &mut Frame,
        argv: &[String],
        assigns: &[(String, String)],
        stdin: Vec<Piece>,
        e: &mut Emit,
    ) -> Outcome {
        let Some((first, args)) = argv.split_first() else {
            return Outcome::Status(0);
        };
        let name = match self.command_name(f, first) {
            Ok(n) => n,
            Err((msg, status)) => {
                e.err(&msg);
                return Outcome::Status(status);
            }
        };
        match name.as_str() {
            "sh" | "bash" | "ash" | "dash" => self.spawn_shell(f, argv, assigns, e),
            "exec" => {
                if args.is_empty() {
                    return Outcome::Status(0);
                }
                match self.dispatch(f, args, assigns, stdin, e) {
                    Outcome::Spawn(child, _) => Outcome::Spawn(child, true),
                    Outcome::Status(n) | Outcome::Exit(n) => Outcome::Exit(n),
                }
            }
            "exit" => match args.first() {
                None => Outcome::Exit(f.status),
                Some(a) => match a.parse::<i64>() {
                    Ok(n) => Outcome::Exit((n & 0xff) as i32),
                    Err(_) => {
                        e.err(&format!("sh: exit: Illegal number: {a}\n"));
                        if f.kind == Kind::Interactive {
                            Outcome::Status(2)
                        } else {
                            Outcome::Exit(2)
                        }
                    }
                },
            },
            "env" => {
                // `env [-i] [NAME=value...] [command...]`
                let mut extra: Vec<(String, String)> = assigns.to_vec();
                let mut rest = args;
                while let Some((a, more)) = rest.split_first() {
                    if a == "-i" || a == "-" {
                        rest = more;
                    } else if let Some((n, v)) = a.split_once('=').filter(|(n, _)| is_name(n)) {
                        extra.push((n.to_string(), v.to_string()));
                        rest = more;
                    } else {
                        break;
                    }
                }
                if rest.is_empty() {
                    for v in self.command_env(f, &extra) {
                        e.out(&format!("{}={}\n", v.name, v.value));
                    }
                    Outcome::Status(0)
                } else {
                    self.dispatch(f, rest, &extra, stdin, e)
                }
            }
            other => Outcome::Status(self.run(f, other, args, assigns, stdin, e)),
        }
    }

    /// The command a word names: a builtin or program by name, or by path in a `bin`
    /// directory; errors as `sh` words them.
    fn command_name(&self, f: &Frame, word: &str) -> Result<String, (String, i32)> {
        let not_found = |w: &str| {
            let msg = if f.kind == Kind::Bootstrap {
                format!(
                    "OCI runtime exec failed: exec failed: unable to start container process: \
                     exec: \"{w}\": executable file not found in $PATH: unknown\n"
                )
            } else {
                format!("sh: {w}: not found\n")
            };
            (msg, 127)
        };
        if !word.contains('/') {
            if BUILTINS.contains(&word) || PROGRAMS.contains(&word) {
                return Ok(word.to_string());
            }
            return Err(not_found(word));
        }
        let path = resolve(&f.cwd, word);
        let (dir, base) = path.rsplit_once('/').unwrap_or(("", &path));
        let bin_dir = matches!(
            dir,
            "/bin" | "/usr/bin" | "/sbin" | "/usr/sbin" | "/usr/local/bin"
        );
        if bin_dir && program_path(base).is_some() {
            return Ok(base.to_string());
        }
        match self.node(&path) {
            Some(_) => Err((format!("sh: {word}: Permission denied\n"), 126)),
            None => Err(not_found(word)),
        }
    }

    /// The environment a command sees: exported variables plus `NAME=value` prefixes.
    pub(super) fn command_env(&self, f: &Frame, assigns: &[(String, String)]) -> Vec<Var> {
        let mut vars = f.exported();
        for (n, v) in assigns {
            match vars.iter_mut().find(|x| &x.name == n) {
                Some(x) => x.value = v.clone(),
                None => vars.push(Var {
                    name: n.clone(),
                    value: v.clone(),
                    exported: true,
                }),
            }
        }
        vars
    }

    /// `sh [-i] [-l] [-c SCRIPT [arg0 [args...]]]`
    fn spawn_shell(
        &mut self,
        f: &Frame,
        argv: &[String],
        assigns: &[(String, String)],
        e: &mut Emit,
    ) -> Outcome {
        let mut script = None;
        let mut name = argv.first().cloned().unwrap_or_else(|| "sh".into());
        let mut args = Vec::new();
        let mut i = 1;
        while i < argv.len() {
            let a = &argv[i];
            if a == "--" {
                i += 1;
                break;
            }
            if a == "-" {
                i += 1;
                continue;
            }
            if a.starts_with('-') && a.len() > 1 && !a.starts_with("--") {
                if a.contains('c') {
                    let Some(s) = argv.get(i + 1) else {
                        e.err("sh: -c requires an argument\n");
                        return Outcome::Status(2);
                    };
                    script = Some(s.clone());
                    if let Some(n) = argv.get(i + 2) {
                        name = n.clone();
                    }
                    args = argv.iter().skip(i + 3).cloned().collect();
                    i = argv.len();
                    break;
                }
            } else if !a.starts_with("--") {
                break;
            }
            i += 1;
        }
        if script.is_none() && i < argv.len() {
            e.err(&format!(
                "sh: can't open '{}': No such file or directory\n",
                argv[i]
            ));
            return Outcome::Status(2);
        }
        if self.frames.len() + 2 > MAX_DEPTH || self.spawns >= MAX_SPAWNS {
            e.err("sh: can't fork: Resource temporarily unavailable\n");
            return Outcome::Status(2);
        }
        let (kind, items) = match &script {
            Some(s) => match parse_script(s) {
                Ok(items) => (Kind::Script, items),
                Err(err) => {
                    let msg = match err {
                        SyntaxError::Incomplete => "unexpected end of file".to_string(),
                        SyntaxError::Bad(m) => m,
                    };
                    e.err(&format!("{name}: syntax error: {msg}\n"));
                    return Outcome::Status(2);
                }
            },
            None => (Kind::Interactive, Vec::new()),
        };
        self.spawns += 1;
        let pid = self.alloc_pid();
        Outcome::Spawn(
            Box::new(Frame {
                kind,
                pid,
                name,
                args,
                vars: self.command_env(f, assigns),
                cwd: f.cwd.clone(),
                status: 0,
                items: Arc::from(items),
                pc: 0,
                done: false,
                exit_after_child: false,
                cmdline: argv.join(" "),
                editor: Editor {
                    need_prompt: true,
                    ..Editor::default()
                },
            }),
            false,
        )
    }
}
