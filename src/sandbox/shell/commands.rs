//! The command table and the small commands; `run` dispatches to the rest.

use super::Shell;
use super::builtins::{echo, export, printf, test_status};
use super::files::{AGENT_DIR, Flavor, KERNEL_RELEASE, KERNEL_VERSION, Node, resolve};
use super::pieces::{Emit, Piece};
use super::run::{Frame, Kind};
use super::words::shell_quote;
use crate::sandbox::rng::hash_str;

/// Commands found in `/bin` (and curl in `/usr/bin`).
pub(super) const PROGRAMS: &[&str] = &[
    "ash",
    "bash",
    "cat",
    "clear",
    "curl",
    "date",
    "env",
    "grep",
    "head",
    "hostname",
    "id",
    "ls",
    "nproc",
    "printenv",
    "ps",
    "sh",
    "sha256sum",
    "sleep",
    "sort",
    "stty",
    "tail",
    "uname",
    "uptime",
    "wc",
    "wget",
    "which",
    "whoami",
];

/// Commands the shell itself implements.
pub(super) const BUILTINS: &[&str] = &[
    ":", "[", "cd", "command", "echo", "exec", "exit", "export", "false", "help", "printf", "pwd",
    "set", "test", "true", "type", "unset",
];

pub(super) fn program_path(name: &str) -> Option<String> {
    if name == "curl" {
        Some("/usr/bin/curl".into())
    } else if PROGRAMS.contains(&name) {
        Some(format!("/bin/{name}"))
    } else {
        None
    }
}

const HELP: &str = "berth sandbox shell: a simulated container, nothing here runs for real.
Commands: cat cd clear curl date echo env exit export grep head help hostname id ls
  nproc printenv printf ps pwd sh sha256sum sleep sort stty tail test true false
  type uname unset uptime wc wget which whoami
Files to try: /etc/os-release /var/lib/berth/data-1m /var/lib/berth/data-10m
Operators: ; && || | and redirections to /dev/null; ^C interrupts, ^D ends the shell.
";

impl Shell {
    /// Run a builtin or program (not shells, `exec`, `exit`, `env`: see `dispatch`).
    pub(super) fn run(
        &mut self,
        f: &mut Frame,
        name: &str,
        args: &[String],
        assigns: &[(String, String)],
        stdin: Vec<Piece>,
        e: &mut Emit,
    ) -> i32 {
        match name {
            "true" | ":" => 0,
            "false" => 1,
            "echo" => echo(args, e),
            "printf" => printf(args, e),
            "pwd" => {
                e.out(&format!("{}\n", f.cwd));
                0
            }
            "cd" => self.cd(f, args, e),
            "export" => export(f, args, e),
            "unset" => {
                f.vars.retain(|v| !args.contains(&v.name));
                0
            }
            "set" => {
                if let Some(pos) = args.iter().position(|a| a == "--") {
                    f.args = args[pos + 1..].to_vec();
                } else if args.is_empty() {
                    for v in &f.vars {
                        e.out(&format!("{}={}\n", v.name, shell_quote(&v.value)));
                    }
                }
                0
            }
            "printenv" => {
                let env = self.command_env(f, assigns);
                if args.is_empty() {
                    for v in env {
                        e.out(&format!("{}={}\n", v.name, v.value));
                    }
                    return 0;
                }
                let mut status = 0;
                for a in args {
                    match env.iter().find(|v| &v.name == a) {
                        Some(v) => e.out(&format!("{}\n", v.value)),
                        None => status = 1,
                    }
                }
                status
            }
            "help" => {
                e.out(HELP);
                0
            }
            "type" | "command" | "which" => self.locate(name, args, e),
            "test" => test_status(self, f, args, e),
            "[" => match args.split_last() {
                Some((last, inner)) if last == "]" => test_status(self, f, inner, e),
                _ => {
                    e.err("sh: [: missing ]\n");
                    2
                }
            },
            "hostname" => {
                if args.iter().any(|a| a == "-i" || a == "-I") {
                    e.out(&format!("{}\n", self.ip()));
                } else {
                    e.out(&format!("{}\n", self.ctx.task_id));
                }
                0
            }
            "whoami" => {
                e.out("root\n");
                0
            }
            "id" => {
                let flags: String = args
                    .iter()
                    .filter_map(|a| a.strip_prefix('-'))
                    .collect::<Vec<_>>()
                    .concat();
                let named = flags.contains('n');
                let line = if flags.contains('u') || flags.contains('g') {
                    if named { "root" } else { "0" }
                } else {
                    "uid=0(root) gid=0(root) groups=0(root)"
                };
                e.out(&format!("{line}\n"));
                0
            }
            "uname" => self.uname(args, e),
            "nproc" => {
                e.out("2\n");
                0
            }
            "uptime" => {
                let (_, _, _, h, m, s, _) = self.now_parts();
                e.out(&format!(
                    " {h:02}:{m:02}:{s:02} up 30 min,  0 users,  load average: 0.08, 0.03, 0.01\n"
                ));
                0
            }
            "date" => {
                let fmt = args
                    .iter()
                    .find_map(|a| a.strip_prefix('+'))
                    .unwrap_or("%a %b %e %H:%M:%S UTC %Y");
                let s = self.format_date(fmt);
                e.out(&format!("{s}\n"));
                0
            }
            "sleep" => {
                if args.is_empty() {
                    e.err("sleep: missing operand\n");
                    return 1;
                }
                for a in args {
                    let n = a.trim_end_matches(['s', 'm', 'h', 'd']);
                    if !n.parse::<f64>().is_ok_and(|v| v >= 0.0) {
                        e.err(&format!("sleep: invalid number '{a}'\n"));
                        return 1;
                    }
                }
                // Simulated: time does not pass.
                0
            }
            "clear" => {
                e.out("\x1b[H\x1b[2J\x1b[3J");
                0
            }
            "stty" => self.stty(args, e),
            "ps" => self.ps(f, e),
            "ls" => self.ls(f, args, e),
            "cat" => self.cat(f, args, &stdin, e),
            "head" | "tail" => self.head_tail(f, name, args, &stdin, e),
            "wc" => self.wc(f, args, &stdin, e),
            "sha256sum" => self.sha256sum(f, args, &stdin, e),
            "grep" => self.grep(f, args, &stdin, e),
            "sort" => self.sort(f, args, &stdin, e),
            "curl" => self.curl(args, e),
            "wget" => self.wget(args, e),
            _ => {
                e.err(&format!("sh: {name}: not found\n"));
                127
            }
        }
    }

    fn cd(&self, f: &mut Frame, args: &[String], e: &mut Emit) -> i32 {
        let target = match args.first() {
            None => f.home(),
            Some(a) if a == "-" => f.var("OLDPWD").unwrap_or("/").to_string(),
            Some(a) => a.clone(),
        };
        let path = resolve(&f.cwd, &target);
        match self.node(&path) {
            Some(Node::Dir(_)) => {
                let old = std::mem::replace(&mut f.cwd, path);
                f.set_var("OLDPWD", old, false);
                0
            }
            Some(Node::File(_)) => {
                e.err(&format!("sh: cd: can't cd to {target}: Not a directory\n"));
                2
            }
            None => {
                e.err(&format!(
                    "sh: cd: can't cd to {target}: No such file or directory\n"
                ));
                2
            }
        }
    }

    fn locate(&self, how: &str, args: &[String], e: &mut Emit) -> i32 {
        let mut status = 0;
        let args: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        for a in args {
            let builtin = BUILTINS.contains(&a.as_str());
            let path = program_path(a);
            match (how, builtin, path) {
                ("type", true, _) => e.out(&format!("{a} is a shell builtin\n")),
                ("type", false, Some(p)) => e.out(&format!("{a} is {p}\n")),
                ("type", _, None) => {
                    e.err(&format!("{a}: not found\n"));
                    status = 1;
                }
                ("command", true, _) => e.out(&format!("{a}\n")),
                (_, _, Some(p)) => e.out(&format!("{p}\n")),
                _ => status = 1,
            }
        }
        status
    }

    fn uname(&self, args: &[String], e: &mut Emit) -> i32 {
        let mut flags = String::new();
        for a in args {
            match a.strip_prefix('-') {
                Some(f) if f.chars().all(|c| "asnrvmo".contains(c)) => flags.push_str(f),
                _ => {
                    e.err(&format!("uname: invalid option -- '{a}'\n"));
                    return 1;
                }
            }
        }
        if flags.contains('a') {
            flags = "snrvmo".into();
        }
        if flags.is_empty() {
            flags = "s".into();
        }
        let mut parts = Vec::new();
        for (c, v) in [
            ('s', "Linux"),
            ('n', self.ctx.task_id.as_str()),
            ('r', KERNEL_RELEASE),
            ('v', KERNEL_VERSION),
            ('m', "x86_64"),
            (
                'o',
                if self.flavor == Flavor::Alpine {
                    "Linux"
                } else {
                    "GNU/Linux"
                },
            ),
        ] {
            if flags.contains(c) {
                parts.push(v);
            }
        }
        e.out(&format!("{}\n", parts.join(" ")));
        0
    }

    fn ps(&mut self, f: &Frame, e: &mut Emit) -> i32 {
        let width = usize::from(self.tty.cols.max(20));
        let row = |pid: &str, time: &str, cmd: &str| {
            let line = format!("{pid:>5} root     {time:>5} {cmd}");
            let cut: String = line.chars().take(width).collect();
            format!("{cut}\n")
        };
        let session = format!(
            "ecs-execute-command-{:012x}",
            hash_str(&self.ctx.task_id) & 0xffff_ffff_ffff
        );
        e.out(&format!("{:>5} USER     {:>5} COMMAND\n", "PID", "TIME"));
        e.out(&row("1", "0:03", &format!("/app/{}", self.app_name())));
        e.out(&row("7", "0:00", &format!("{AGENT_DIR}/amazon-ssm-agent")));
        e.out(&row("21", "0:00", &format!("{AGENT_DIR}/ssm-agent-worker")));
        e.out(&row(
            "43",
            "0:00",
            &format!("{AGENT_DIR}/ssm-session-worker {session}"),
        ));
        let mut shells: Vec<(u32, String)> = self
            .frames
            .iter()
            .chain(std::iter::once(f))
            .filter(|fr| fr.kind != Kind::Bootstrap)
            .map(|fr| (fr.pid, fr.cmdline.clone()))
            .collect();
        shells.sort();
        for (pid, cmd) in shells {
            e.out(&row(&pid.to_string(), "0:00", &cmd));
        }
        let me = self.alloc_pid();
        e.out(&row(&me.to_string(), "0:00", "ps"));
        0
    }
}
