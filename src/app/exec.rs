//! ECS Exec and port forwarding in the console. `X` (exec) or `P` (port forward) on a task
//! opens a dialog that first runs the preflight (shown as a checklist, each failure with its
//! fix), then offers the container and the command (or the ports). Enter starts it:
//! - a shell: the runner calls ExecuteCommand, then the loop hands the terminal to the client
//!   (`session-manager-plugin` or berth's built-in one, as the preflight's "client" line says)
//!   and takes it back ("session ended (exit N)");
//! - a port forward: the runner starts the SSM session and its client in the background;
//!   `:forwards` lists them, `K` there stops one, quitting stops them all.
//!
//! Both are refused in read-only mode here and again in the runner, and audited there.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::command::Command;
use super::effect::Effect;
use super::state::State;
use super::update::set_status;
use super::views::View;
use crate::domain::Task;
use crate::exec::Inputs;
use crate::exec::client::Runner;
use crate::exec::preflight::Report;
use crate::exec::session::Granted;

/// Commands offered for a shell; from [`CUSTOM`] on, "type your own" (the last one runs it as
/// given, not under `sh -c`: for a container without `sh`, at the price of its exit status).
pub const COMMANDS: &[&str] = &["/bin/sh", "bash", "custom…", "custom, as given…"];
/// The first "type your own" entry of [`COMMANDS`].
pub const CUSTOM: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Shell,
    Forward,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Container,
    Command,
    Custom,
    RemotePort,
    LocalPort,
    Host,
    Confirm,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExecDialog {
    pub kind: SessionKind,
    /// The cluster as the view names it (for the API).
    pub cluster: String,
    pub task_arn: String,
    /// What the preflight read; `None` while it runs.
    pub inputs: Option<Box<Inputs>>,
    pub error: Option<String>,
    /// Index into the task's containers.
    pub container: usize,
    /// Index into [`COMMANDS`].
    pub command: usize,
    pub custom: String,
    pub remote_port: String,
    pub local_port: String,
    /// A host reachable from the task (empty: the task itself).
    pub host: String,
    /// Protected accounts: what must be typed, and what was.
    pub confirm: Option<(String, String)>,
    pub focus: Focus,
    /// The session was requested; waiting for the answer.
    pub starting: bool,
}

impl ExecDialog {
    pub fn task_id(&self) -> &str {
        Task::id_from_arn(&self.task_arn)
    }

    pub fn title(&self) -> String {
        let id = self.task_id();
        let short = id.get(..8).unwrap_or(id);
        match self.kind {
            SessionKind::Shell => format!("ECS Exec · task {short}"),
            SessionKind::Forward => format!("Port forward · task {short}"),
        }
    }

    pub fn container_name(&self) -> Option<&str> {
        self.inputs
            .as_ref()?
            .task
            .containers
            .get(self.container)
            .map(|c| c.name.as_str())
    }

    /// The preflight for the chosen container (None while it runs).
    pub fn report(&self) -> Option<Report> {
        let inputs = self.inputs.as_ref()?;
        Some(inputs.check(self.container_name()))
    }

    pub fn command_text(&self) -> String {
        match COMMANDS.get(self.command) {
            Some(c) if self.command < CUSTOM => (*c).to_string(),
            _ => self.custom.trim().to_string(),
        }
    }

    /// The command runs as given (berth's built-in client then cannot learn its exit status).
    pub fn raw(&self) -> bool {
        self.command + 1 == COMMANDS.len()
    }

    /// The fields shown, in tab order.
    pub fn fields(&self) -> Vec<Focus> {
        let mut f = vec![Focus::Container];
        match self.kind {
            SessionKind::Shell => {
                f.push(Focus::Command);
                if self.command >= CUSTOM {
                    f.push(Focus::Custom);
                }
            }
            SessionKind::Forward => f.extend([Focus::RemotePort, Focus::LocalPort, Focus::Host]),
        }
        if self.confirm.is_some() {
            f.push(Focus::Confirm);
        }
        f
    }

    fn text_mut(&mut self) -> Option<&mut String> {
        match self.focus {
            Focus::Custom => Some(&mut self.custom),
            Focus::RemotePort => Some(&mut self.remote_port),
            Focus::LocalPort => Some(&mut self.local_port),
            Focus::Host => Some(&mut self.host),
            Focus::Confirm => self.confirm.as_mut().map(|(_, typed)| typed),
            Focus::Container | Focus::Command => None,
        }
    }

    /// Fill in the defaults that depend on the preflight (the container's port).
    fn defaults(&mut self) {
        if self.kind == SessionKind::Forward && self.remote_port.is_empty() {
            let port = self
                .container_name()
                .and_then(|c| self.inputs.as_ref()?.ports(c).first().copied());
            if let Some(p) = port {
                self.remote_port = p.to_string();
                self.local_port = default_local_port(p).to_string();
            }
        }
    }
}

/// Ports below 1024 need root locally: offer 10000 + the port instead.
pub fn default_local_port(remote: u16) -> u16 {
    if remote < 1024 {
        10_000 + remote
    } else {
        remote
    }
}

fn parse_port(label: &str, text: &str) -> Result<u16, String> {
    match text.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("{label}: a port number, 1 to 65535")),
    }
}

/// Open the dialog for the task in view and start the preflight.
pub fn open(state: &mut State, kind: SessionKind) -> Vec<Effect> {
    let verb = match kind {
        SessionKind::Shell => "exec",
        SessionKind::Forward => "port forwarding",
    };
    if state.session.read_only {
        set_status(
            state,
            format!("read-only: {verb} is disabled (read-only mode)"),
            true,
        );
        return Vec::new();
    }
    let found = match state.view() {
        View::Tasks(v) | View::Network(v) => v
            .table
            .selected_row()
            .and_then(|i| v.data.rows.get(i))
            .map(|t| (v.cluster.clone(), t.clone())),
        View::TaskDetail(v) => v.data.rows.first().map(|t| (v.cluster.clone(), t.clone())),
        _ => None,
    };
    let Some((cluster, task)) = found else {
        set_status(state, format!("select a task first for {verb}"), true);
        return Vec::new();
    };
    let confirm = state.session.protected.then(|| {
        let expected = task
            .service_name()
            .map(str::to_string)
            .unwrap_or_else(|| task.short_id().to_string());
        (expected, String::new())
    });
    state.exec = Some(ExecDialog {
        kind,
        cluster: cluster.clone(),
        task_arn: task.arn.clone(),
        inputs: None,
        error: None,
        container: 0,
        command: 0,
        custom: String::new(),
        remote_port: String::new(),
        local_port: String::new(),
        host: String::new(),
        confirm,
        focus: Focus::Container,
        starting: false,
    });
    state.dirty = true;
    vec![Effect::ExecPreflight {
        cluster,
        task: task.arn,
        client: state.exec_client,
    }]
}

/// The preflight answered.
pub fn on_preflight(state: &mut State, task: String, result: Result<Box<Inputs>, String>) {
    let Some(d) = state.exec.as_mut().filter(|d| d.task_arn == task) else {
        return;
    };
    match result {
        Ok(inputs) => {
            let chosen = crate::exec::preflight::choose_container(&inputs.task, None);
            d.container = inputs
                .task
                .containers
                .iter()
                .position(|c| Some(&c.name) == chosen.as_ref())
                .unwrap_or(0);
            d.inputs = Some(inputs);
            d.error = None;
            d.defaults();
        }
        Err(e) => d.error = Some(e),
    }
    state.dirty = true;
}

/// Keys while the dialog is open.
pub fn key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(d) = state.exec.as_mut() else {
        return Vec::new();
    };
    state.dirty = true;
    if key.code == KeyCode::Esc
        || (key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL))
    {
        state.exec = None;
        return Vec::new();
    }
    if d.starting {
        return Vec::new();
    }
    let fields = d.fields();
    let at = fields.iter().position(|f| *f == d.focus).unwrap_or(0);
    match key.code {
        KeyCode::Tab | KeyCode::Down => {
            d.focus = fields[(at + 1) % fields.len()];
        }
        KeyCode::BackTab | KeyCode::Up => {
            d.focus = fields[(at + fields.len() - 1) % fields.len()];
        }
        KeyCode::Left | KeyCode::Right => {
            let step = |i: usize, n: usize| {
                if n == 0 {
                    0
                } else if key.code == KeyCode::Right {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                }
            };
            match d.focus {
                Focus::Container => {
                    let n = d.inputs.as_ref().map_or(0, |i| i.task.containers.len());
                    d.container = step(d.container, n);
                    d.remote_port.clear();
                    d.local_port.clear();
                    d.defaults();
                }
                Focus::Command => d.command = step(d.command, COMMANDS.len()),
                _ => {}
            }
        }
        KeyCode::Backspace => {
            if let Some(t) = d.text_mut() {
                t.pop();
            }
        }
        KeyCode::Enter => return start(state),
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            let digits_only = matches!(d.focus, Focus::RemotePort | Focus::LocalPort);
            if let Some(t) = d.text_mut()
                && (!digits_only || c.is_ascii_digit())
                && t.chars().count() < 200
            {
                t.push(c);
            }
        }
        _ => {}
    }
    Vec::new()
}

/// What the runner needs to open a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRequest {
    pub kind: SessionRequestKind,
    /// As the view names it (ExecuteCommand's `cluster`).
    pub cluster: String,
    pub task_arn: String,
    pub task_id: String,
    pub container: String,
    /// `ecs:<cluster>_<task>_<runtime>`.
    pub target: String,
    /// What runs the session, as the preflight chose it.
    pub runner: Runner,
    pub actor: crate::audit::Actor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionRequestKind {
    Shell {
        command: String,
        /// As given, not under `sh -c` (see [`ExecDialog::raw`]).
        raw: bool,
    },
    Forward {
        remote_port: u16,
        local_port: u16,
        host: Option<String>,
    },
}

impl SessionRequest {
    pub fn action(&self) -> &'static str {
        match self.kind {
            SessionRequestKind::Shell { .. } => "exec",
            SessionRequestKind::Forward { .. } => "port_forward",
        }
    }

    pub fn audit_target(&self) -> String {
        let cluster = crate::domain::Cluster::name_from_arn(&self.cluster);
        format!(
            "task {cluster}/{} container {}",
            self.task_id, self.container
        )
    }

    /// Audit parameters: never the token or the stream URL.
    pub fn parameters(&self, session_id: Option<&str>) -> serde_json::Value {
        let mut p = match &self.kind {
            SessionRequestKind::Shell { command, .. } => crate::exec::exec_parameters(
                &self.cluster,
                &self.task_id,
                &self.container,
                command,
                None,
            ),
            SessionRequestKind::Forward {
                remote_port,
                local_port,
                host,
            } => serde_json::json!({
                "cluster": self.cluster,
                "task": self.task_id,
                "container": self.container,
                "remote_port": remote_port,
                "local_port": local_port,
                "host": host,
            }),
        };
        if let Some(id) = session_id {
            p["session_id"] = serde_json::json!(id);
        }
        p
    }
}

fn start(state: &mut State) -> Vec<Effect> {
    let actor = super::mutations::actor(state);
    let Some(d) = state.exec.as_mut() else {
        return Vec::new();
    };
    let Some(report) = d.report() else {
        d.error = Some("the preflight is still running".into());
        return Vec::new();
    };
    if !report.ok() {
        d.error = Some(format!(
            "{} check(s) failed: fix them first (see above)",
            report.failures()
        ));
        return Vec::new();
    }
    let (Some(target), Some(container)) = (report.target(), report.container.clone()) else {
        d.error = Some("no session target (container runtime id unknown)".into());
        return Vec::new();
    };
    let Some(runner) = report.choice.runner.clone() else {
        d.error = Some(report.choice.why.clone());
        return Vec::new();
    };
    if let Some((expected, typed)) = &d.confirm
        && typed.trim() != expected
    {
        d.error = Some(format!("type {expected} to confirm"));
        d.focus = Focus::Confirm;
        return Vec::new();
    }
    let kind = match d.kind {
        SessionKind::Shell => {
            let command = d.command_text();
            if command.is_empty() {
                d.error = Some("type a command".into());
                d.focus = Focus::Custom;
                return Vec::new();
            }
            SessionRequestKind::Shell {
                command,
                raw: d.raw(),
            }
        }
        SessionKind::Forward => {
            let ports = parse_port("remote port", &d.remote_port)
                .and_then(|r| parse_port("local port", &d.local_port).map(|l| (r, l)));
            match ports {
                Ok((remote_port, local_port)) => SessionRequestKind::Forward {
                    remote_port,
                    local_port,
                    host: Some(d.host.trim().to_string()).filter(|h| !h.is_empty()),
                },
                Err(e) => {
                    d.error = Some(e);
                    return Vec::new();
                }
            }
        }
    };
    d.starting = true;
    d.error = None;
    let request = SessionRequest {
        kind,
        cluster: d.cluster.clone(),
        task_arn: d.task_arn.clone(),
        task_id: d.task_id().to_string(),
        container,
        target,
        runner,
        actor,
    };
    vec![Effect::StartSession(Box::new(request))]
}

/// A shell session is ready: hand the terminal over (the loop does it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandOver {
    /// The session and what runs it (the plugin's invocation, or berth's built-in client).
    pub granted: Granted,
    pub request: SessionRequest,
}

/// The runner answered a shell request: hand over, or show why not.
pub fn on_session_ready(state: &mut State, result: Result<Box<HandOver>, String>) -> Vec<Effect> {
    state.dirty = true;
    match result {
        Ok(h) => {
            state.exec = None;
            vec![Effect::Terminal(crate::app::TerminalEffect::HandOver(h))]
        }
        Err(e) => {
            match state.exec.as_mut() {
                Some(d) => {
                    d.starting = false;
                    d.error = Some(e);
                }
                None => set_status(state, e, true),
            }
            Vec::new()
        }
    }
}

/// The session's client exited and the terminal is ours again.
pub fn on_session_ended(state: &mut State, message: String, ok: bool) {
    state.exec = None;
    set_status(state, message, !ok);
    state.dirty = true;
}

/// A running (or ended) port forward, as `:forwards` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub id: u64,
    pub local_port: u16,
    /// `8080` or `db.internal:5432`.
    pub remote: String,
    pub cluster: String,
    pub task_id: String,
    pub container: String,
    pub session_id: String,
    pub started_at: i64,
    /// `None` while active; how it ended otherwise.
    pub ended: Option<String>,
    /// Local connections carried so far (berth's built-in client reports them).
    pub connections: u64,
    /// The last problem the client reported (a destination that refused, a dropped client,
    /// a reconnect), cleared when a connection goes through again.
    pub problem: Option<String>,
}

pub fn on_forward_started(state: &mut State, result: Result<Forward, String>) {
    state.dirty = true;
    match result {
        Ok(f) => {
            set_status(
                state,
                format!(
                    "forwarding localhost:{} → {} (task {}); :forwards lists them",
                    f.local_port,
                    f.remote,
                    f.task_id.get(..8).unwrap_or(&f.task_id)
                ),
                false,
            );
            state.exec = None;
            state.forwards.push(f);
        }
        Err(e) => match state.exec.as_mut() {
            Some(d) => {
                d.starting = false;
                d.error = Some(e);
            }
            None => set_status(state, e, true),
        },
    }
}

pub fn on_forward_ended(state: &mut State, id: u64, how: String) {
    let Some(f) = state
        .forwards
        .iter_mut()
        .find(|f| f.id == id && f.ended.is_none())
    else {
        return;
    };
    let message = format!("port forward localhost:{} ended ({how})", f.local_port);
    f.ended = Some(how);
    set_status(state, message, false);
    state.dirty = true;
}

/// berth's built-in client reported on forward `id`: a connection opened (`connection`), or a
/// problem (`Some`), or the problem is over (`None` with `connection`).
pub fn on_forward_note(state: &mut State, id: u64, connection: bool, problem: Option<String>) {
    let Some(f) = state
        .forwards
        .iter_mut()
        .find(|f| f.id == id && f.ended.is_none())
    else {
        return;
    };
    if connection {
        f.connections = f.connections.saturating_add(1);
        f.problem = None;
    }
    let said = problem.map(|p| {
        let p = crate::text::sanitize(&p).into_owned();
        f.problem = Some(p.clone());
        format!("port forward localhost:{}: {p}", f.local_port)
    });
    // The row may be too narrow for it at 80 columns: the status line says it too.
    if let Some(message) = said {
        set_status(state, message, true);
    }
    state.dirty = true;
}

/// Active forwards (for the header).
pub fn active_forwards(state: &State) -> usize {
    state.forwards.iter().filter(|f| f.ended.is_none()).count()
}

/// Commands handled here: exec, port forward, stopping a forward.
pub fn command(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    match cmd {
        Command::Exec => Some(open(state, SessionKind::Shell)),
        Command::PortForward => Some(open(state, SessionKind::Forward)),
        Command::StopForward => {
            let View::Forwards(v) = state.view() else {
                return None;
            };
            let Some(f) = v.table.selected_row().and_then(|i| v.rows.get(i)) else {
                set_status(state, "no port forward selected", true);
                return Some(Vec::new());
            };
            if f.ended.is_some() {
                set_status(state, "that port forward has already ended", true);
                return Some(Vec::new());
            }
            let id = f.id;
            Some(vec![Effect::StopForward { id }])
        }
        _ => None,
    }
}

/// Copy the forwards (newest first) into a `:forwards` view on the stack.
pub fn sync_forwards(state: &mut State) {
    let rows: Vec<Forward> = state.forwards.iter().rev().cloned().collect();
    let now = state.now_unix;
    for v in state.views.iter_mut() {
        if let View::Forwards(f) = v
            && f.rows != rows
        {
            f.rows = rows.clone();
            f.table
                .recompute(&f.rows, None, |_, _| std::cmp::Ordering::Equal, now);
            state.dirty = true;
        }
    }
}
