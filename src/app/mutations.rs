//! Mutating actions: force a new deployment, stop a task, scale, roll back. A key opens a
//! confirmation dialog naming what will change and where (cluster, account, region, the
//! current deployments); confirming emits `Effect::Mutate`. In a protected account the name
//! of the service (or the task id) must be typed to confirm.
//!
//! Read-only mode refuses here (so the dialog never opens) and again in the effect runner,
//! where requests are made: no mutating request can leave the process.

use super::command::Command;
use super::effect::Effect;
use super::state::{IdentityState, State};
use super::update::set_status;
use super::views::View;
use crate::audit::Actor;
use crate::domain::mutation::Mutation;
use crate::domain::{Service, Task};

/// A text field of a dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    pub text: String,
    pub kind: FieldKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// A desired count (0..=MAX_DESIRED).
    Count,
    /// A stop reason (1..=255 characters, as StopTask allows).
    Reason,
    /// Must equal this exactly (protected accounts).
    Confirm(String),
}

/// Desired counts above this are refused as probable typos.
pub const MAX_DESIRED: i32 = 5_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    pub mutation: Mutation,
    /// Where and what: cluster, account, region, current deployments.
    pub lines: Vec<String>,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub error: Option<String>,
    /// The account is protected: shown in the danger colour.
    pub protected: bool,
}

impl Dialog {
    pub fn title(&self) -> String {
        let verb = match &self.mutation {
            Mutation::ForceNewDeployment { .. } => "Force new deployment",
            Mutation::StopTask { .. } => "Stop task",
            Mutation::Scale { .. } => "Scale service",
            Mutation::RollBack { .. } => "Roll back service",
        };
        verb.to_string()
    }

    /// The mutation with the fields applied, or what is wrong with them.
    pub fn resolve(&self) -> Result<Mutation, String> {
        let mut m = self.mutation.clone();
        for f in &self.fields {
            match (&f.kind, &mut m) {
                (FieldKind::Count, Mutation::Scale { to, .. }) => {
                    let n: i32 =
                        f.text.trim().parse().map_err(|_| {
                            format!("{}: a whole number, 0 to {MAX_DESIRED}", f.label)
                        })?;
                    if !(0..=MAX_DESIRED).contains(&n) {
                        return Err(format!("{}: 0 to {MAX_DESIRED}", f.label));
                    }
                    *to = n;
                }
                (FieldKind::Reason, Mutation::StopTask { reason, .. }) => {
                    let r = f.text.trim();
                    if r.is_empty() || r.chars().count() > 255 {
                        return Err("reason: 1 to 255 characters".into());
                    }
                    *reason = r.to_string();
                }
                (FieldKind::Confirm(expected), _) if f.text.trim() != expected => {
                    return Err(format!("type {expected} to confirm"));
                }
                _ => {}
            }
        }
        Ok(m)
    }
}

/// Who is acting, for the audit line.
pub fn actor(state: &State) -> Actor {
    let (account, caller) = match &state.session.identity {
        IdentityState::Known(id) => (Some(id.account.clone()), Some(id.arn.clone())),
        _ => (None, None),
    };
    Actor {
        profile: state.session.target.profile.clone(),
        region: state.session.region.clone(),
        account,
        caller,
    }
}

/// A mutating command was pressed: open its dialog (or say why not).
pub fn open(state: &mut State, cmd: Command) -> Vec<Effect> {
    if state.session.read_only {
        set_status(
            state,
            format!(
                "read-only: {} is disabled (started with --read-only)",
                cmd.name().replace('_', " ")
            ),
            true,
        );
        return Vec::new();
    }
    let built = match cmd {
        Command::ForceDeploy => service_in_view(state).map(|(cluster, s)| {
            (
                Mutation::ForceNewDeployment {
                    cluster,
                    service: s.name.clone(),
                },
                Vec::new(),
            )
        }),
        Command::Scale => service_in_view(state).map(|(cluster, s)| {
            (
                Mutation::Scale {
                    cluster,
                    service: s.name.clone(),
                    from: s.desired,
                    to: s.desired,
                },
                vec![Field {
                    label: "desired count".into(),
                    text: s.desired.to_string(),
                    kind: FieldKind::Count,
                }],
            )
        }),
        Command::RollBack => match service_in_view(state) {
            Ok((cluster, s)) => roll_back_target(&s).map(|(from, to)| {
                (
                    Mutation::RollBack {
                        cluster,
                        service: s.name.clone(),
                        from,
                        to,
                    },
                    Vec::new(),
                )
            }),
            Err(e) => Err(e),
        },
        Command::StopTask => task_in_view(state).map(|(cluster, t)| {
            let who = match &state.session.identity {
                IdentityState::Known(id) => id.short_name().to_string(),
                _ => "unknown caller".to_string(),
            };
            let reason = format!("stopped by {who} with berth");
            (
                Mutation::StopTask {
                    cluster,
                    task: t.arn.clone(),
                    reason: reason.clone(),
                },
                vec![Field {
                    label: "reason".into(),
                    text: reason,
                    kind: FieldKind::Reason,
                }],
            )
        }),
        _ => return Vec::new(),
    };
    let (mutation, mut fields) = match built {
        Ok(b) => b,
        Err(msg) => {
            set_status(state, msg, true);
            return Vec::new();
        }
    };
    let protected = state.session.protected;
    if protected {
        let expected = match &mutation {
            Mutation::StopTask { task, .. } => {
                let id = Task::id_from_arn(task);
                id.get(..8).unwrap_or(id).to_string()
            }
            other => other.service().unwrap_or_default().to_string(),
        };
        fields.push(Field {
            label: format!("type {expected} to confirm"),
            text: String::new(),
            kind: FieldKind::Confirm(expected),
        });
    }
    let lines = context_lines(state, &mutation);
    state.dialog = Some(Dialog {
        mutation,
        lines,
        fields,
        focus: 0,
        error: None,
        protected,
    });
    state.dirty = true;
    Vec::new()
}

fn context_lines(state: &State, m: &Mutation) -> Vec<String> {
    let mut lines = vec![m.describe()];
    let account = match &state.session.identity {
        IdentityState::Known(id) => format!("{} ({})", id.account, id.short_name()),
        _ => "unknown account".to_string(),
    };
    lines.push(format!(
        "cluster {} · account {account} · region {}{}",
        m.cluster(),
        state.session.region.as_deref().unwrap_or("?"),
        state
            .session
            .target
            .profile
            .as_deref()
            .map(|p| format!(" · profile {p}"))
            .unwrap_or_default()
    ));
    if let Some(service) = m.service().and_then(|name| find_service(state, name)) {
        for d in &service.deployments {
            lines.push(format!(
                "{} {} {} {}/{} running{}",
                d.status,
                d.task_definition,
                d.rollout_state.as_deref().unwrap_or(""),
                d.running,
                d.desired,
                if d.failed_tasks > 0 {
                    format!(", {} failed", d.failed_tasks)
                } else {
                    String::new()
                }
            ));
        }
    }
    lines
}

/// The service the current view is about (its own, or the selected row), with its data.
fn service_in_view(state: &State) -> Result<(String, Service), String> {
    match state.view() {
        View::Services(v) => v
            .table
            .selected_row()
            .and_then(|i| v.data.rows.get(i))
            .map(|r| (v.cluster.clone(), r.service.clone()))
            .ok_or_else(|| "select a service first".to_string()),
        View::Deployments(v) | View::Events(v) => v
            .service()
            .map(|s| (v.cluster.clone(), s.clone()))
            .ok_or_else(|| "the service has not loaded yet".to_string()),
        _ => Err("open a service first (services, deployments or events)".into()),
    }
}

fn find_service<'a>(state: &'a State, name: &str) -> Option<&'a Service> {
    state.views.iter().rev().find_map(|v| match v {
        View::Services(v) => v
            .data
            .rows
            .iter()
            .map(|r| &r.service)
            .find(|s| s.name == name),
        View::Deployments(v) | View::Events(v) => v.service().filter(|s| s.name == name),
        _ => None,
    })
}

fn task_in_view(state: &State) -> Result<(String, Task), String> {
    let found = match state.view() {
        View::Tasks(v) => v
            .table
            .selected_row()
            .and_then(|i| v.data.rows.get(i))
            .map(|t| (v.cluster.clone(), t.clone())),
        View::TaskDetail(v) => v.data.rows.first().map(|t| (v.cluster.clone(), t.clone())),
        _ => return Err("select a task first (tasks or task detail)".into()),
    };
    let (cluster, task) = found.ok_or_else(|| "select a task first".to_string())?;
    if task.last_status == "STOPPED" || task.desired_status == "STOPPED" {
        return Err(format!(
            "task {} is already {}",
            Task::id_from_arn(&task.arn),
            task.last_status.to_lowercase()
        ));
    }
    Ok((cluster, task))
}

/// `(from, to)` task definitions for a rollback: the PRIMARY's, and the newest other listed
/// deployment whose rollout COMPLETED.
pub fn roll_back_target(s: &Service) -> Result<(String, String), String> {
    let primary = s
        .deployments
        .iter()
        .find(|d| d.status == "PRIMARY")
        .ok_or("the service has no PRIMARY deployment")?;
    let previous = s
        .deployments
        .iter()
        .filter(|d| d.status != "PRIMARY")
        .filter(|d| d.rollout_state.as_deref() == Some("COMPLETED"))
        .filter(|d| d.task_definition != primary.task_definition)
        .max_by_key(|d| d.created_at)
        .ok_or(
            "no earlier COMPLETED deployment is listed (ECS lists only deployments that still run tasks)",
        )?;
    Ok((
        primary.task_definition.clone(),
        previous.task_definition.clone(),
    ))
}

/// Keys while a dialog is open. Returns the effects (a confirmed mutation).
pub fn dialog_key(state: &mut State, key: crossterm::event::KeyEvent) -> Vec<Effect> {
    use crossterm::event::{KeyCode, KeyModifiers};
    state.dirty = true;
    let actor = actor(state);
    let Some(dialog) = state.dialog.as_mut() else {
        return Vec::new();
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let has_fields = !dialog.fields.is_empty();
    match key.code {
        KeyCode::Esc => {
            state.dialog = None;
            set_status(state, "cancelled", false);
            return Vec::new();
        }
        KeyCode::Char('c') if ctrl => {
            state.dialog = None;
            set_status(state, "cancelled", false);
            return Vec::new();
        }
        KeyCode::Char('n') if !has_fields => {
            state.dialog = None;
            set_status(state, "cancelled", false);
            return Vec::new();
        }
        KeyCode::Tab | KeyCode::Down if has_fields => {
            dialog.focus = (dialog.focus + 1) % dialog.fields.len();
        }
        KeyCode::BackTab | KeyCode::Up if has_fields => {
            dialog.focus = (dialog.focus + dialog.fields.len() - 1) % dialog.fields.len();
        }
        KeyCode::Backspace if has_fields => {
            if let Some(f) = dialog.fields.get_mut(dialog.focus) {
                f.text.pop();
            }
            dialog.error = None;
        }
        KeyCode::Char('u') if ctrl && has_fields => {
            if let Some(f) = dialog.fields.get_mut(dialog.focus) {
                f.text.clear();
            }
        }
        KeyCode::Char(c) if has_fields && !ctrl => {
            if let Some(f) = dialog.fields.get_mut(dialog.focus)
                && f.text.chars().count() < 255
            {
                f.text.push(c);
            }
            dialog.error = None;
        }
        KeyCode::Enter | KeyCode::Char('y') => {
            // With fields, Enter on a field that is not the last moves on.
            if has_fields && key.code == KeyCode::Enter && dialog.focus + 1 < dialog.fields.len() {
                dialog.focus += 1;
                return Vec::new();
            }
            if has_fields && key.code != KeyCode::Enter {
                return Vec::new();
            }
            match dialog.resolve() {
                Ok(mutation) => {
                    if let Mutation::Scale { from, to, .. } = &mutation
                        && from == to
                    {
                        dialog.error = Some(format!("already {from}: nothing to change"));
                        return Vec::new();
                    }
                    state.dialog = None;
                    set_status(state, format!("{}: sending…", mutation.target()), false);
                    return vec![Effect::Mutate { mutation, actor }];
                }
                Err(e) => dialog.error = Some(e),
            }
        }
        _ => {}
    }
    Vec::new()
}

/// A mutation answered: say so, follow a new deployment, refresh what is on screen.
pub fn on_mutated(
    state: &mut State,
    mutation: Mutation,
    result: Result<String, String>,
) -> Vec<Effect> {
    match result {
        Err(e) => {
            set_status(state, format!("{} failed: {e}", mutation.verb()), true);
            Vec::new()
        }
        Ok(msg) => {
            set_status(state, msg, false);
            match &mutation {
                Mutation::ForceNewDeployment { cluster, service }
                | Mutation::RollBack {
                    cluster, service, ..
                } => {
                    state.watch = Some(RolloutWatch {
                        cluster: cluster.clone(),
                        service: service.clone(),
                        since: state.now_unix,
                    });
                    // Follow the rollout in the deployments pane.
                    let on_it =
                        matches!(state.view(), View::Deployments(v) if &v.service == service);
                    if on_it {
                        return super::data::refresh(state, true);
                    }
                    let view = View::Deployments(super::nav::service_view(cluster, service));
                    super::nav::push(state, view)
                }
                _ => super::data::refresh(state, true),
            }
        }
    }
}

/// A deployment berth started, followed until it completes or fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutWatch {
    pub cluster: String,
    pub service: String,
    /// Unix second the deployment was asked for: the new PRIMARY is created after it.
    pub since: i64,
}

/// After service data arrives: report the watched rollout's end in the status bar.
pub fn check_watch(state: &mut State) {
    let Some(watch) = state.watch.clone() else {
        return;
    };
    let Some(service) = find_service(state, &watch.service) else {
        return;
    };
    let Some(primary) = service
        .deployments
        .iter()
        .find(|d| d.status == "PRIMARY" && d.created_at.is_some_and(|c| c >= watch.since - 5))
    else {
        return;
    };
    let (text, error) = match primary.rollout_state.as_deref() {
        Some("COMPLETED") => (
            format!(
                "{}: new deployment COMPLETED ({} running)",
                watch.service, primary.running
            ),
            false,
        ),
        Some("FAILED") => (
            format!(
                "{}: new deployment FAILED{}",
                watch.service,
                primary
                    .rollout_state_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
            true,
        ),
        _ => return,
    };
    state.watch = None;
    set_status(state, text, error);
    if let Some(s) = state.status.as_mut() {
        // Long enough to be read after looking away.
        s.until_unix = state.now_unix + 30;
    }
}
