//! Navigation: drilling down, going back, jumping with `:` commands, switching views of the
//! same service, and the previous-view toggle.

use super::data::refresh;
use super::effect::Effect;
use super::state::State;
use super::table::TableView;
use super::views::{ServiceView, ServicesView, TaskDetailView, TasksView, View};
use crate::aws::AwsTarget;

/// Push a view and load it.
pub fn push(state: &mut State, view: View) -> Vec<Effect> {
    state.previous = Some(state.views.clone());
    state.views.push(view);
    state.dirty = true;
    refresh(state, true)
}

/// Replace the whole stack (a `:` jump) and load the new top.
pub fn replace(state: &mut State, views: Vec<View>) -> Vec<Effect> {
    state.previous = Some(std::mem::replace(&mut state.views, views));
    if state.views.is_empty() {
        state.views.push(View::Clusters);
    }
    state.dirty = true;
    refresh(state, true)
}

pub fn back(state: &mut State) -> Vec<Effect> {
    // Esc first clears an active filter, then leaves the view.
    if let Some(table) = super::update::current_table_mut(state)
        && !table.filter.is_empty()
    {
        table.filter.clear();
        super::update::recompute_visible(state);
        return Vec::new();
    }
    if state.views.len() > 1 {
        state.previous = Some(state.views.clone());
        state.views.pop();
        return refresh(state, false);
    }
    Vec::new()
}

/// `-`: swap with the stack before the last navigation.
pub fn previous(state: &mut State) -> Vec<Effect> {
    let Some(prev) = state.previous.take() else {
        return Vec::new();
    };
    state.previous = Some(std::mem::replace(&mut state.views, prev));
    refresh(state, true)
}

/// Enter: open what the selected row leads to.
pub fn select(state: &mut State) -> Vec<Effect> {
    let next = match state.view() {
        View::Clusters => state
            .clusters
            .table
            .selected_row()
            .and_then(|i| state.clusters.data.rows.get(i))
            .map(|c| services_view(&c.name)),
        View::Services(v) => v
            .table
            .selected_row()
            .and_then(|i| v.data.rows.get(i))
            .map(|r| View::Deployments(service_view(&v.cluster, &r.service.name))),
        View::Deployments(v) => Some(tasks_view(state, &v.cluster, Some(&v.service), false)),
        View::Tasks(v) => v
            .table
            .selected_row()
            .and_then(|i| v.data.rows.get(i))
            .map(|t| task_detail_view(&v.cluster, &t.arn)),
        View::Network(v) => v
            .table
            .selected_row()
            .and_then(|i| v.enis.get(i))
            .map(|e| task_detail_view(&v.cluster, &e.task_arn)),
        View::Stopped(v) => v
            .table
            .selected_row()
            .and_then(|i| v.groups.get(i))
            .map(|g| {
                let mut view = tasks_view(state, &v.cluster, v.service.as_deref(), true);
                if let View::Tasks(t) = &mut view {
                    t.cause = Some(g.cause);
                }
                view
            }),
        View::Timeline(v) => v
            .table
            .selected_row()
            .and_then(|i| v.entries.get(i))
            .and_then(|e| e.task_arn.as_deref())
            .map(|task| task_detail_view(&v.cluster, task)),
        View::Events(_)
        | View::TaskDetail(_)
        | View::Logs(_)
        | View::Forwards(_)
        | View::Pane(_) => None,
    };
    match next {
        Some(view) => push(state, view),
        None => Vec::new(),
    }
}

pub fn services_view(cluster: &str) -> View {
    View::Services(ServicesView {
        cluster: cluster.to_string(),
        ..ServicesView::default()
    })
}

pub fn service_view(cluster: &str, service: &str) -> ServiceView {
    ServiceView {
        cluster: cluster.to_string(),
        service: service.to_string(),
        ..ServiceView::default()
    }
}

pub fn task_detail_view(cluster: &str, task: &str) -> View {
    View::TaskDetail(TaskDetailView {
        cluster: cluster.to_string(),
        task: task.to_string(),
        ..TaskDetailView::default()
    })
}

/// A tasks view, knowing the service's desired count and maximumPercent when any view on the
/// stack has them (for the network view's rolling-deploy IP peak).
pub fn tasks_view(
    state: &State,
    cluster: &str,
    service: Option<&str>,
    include_stopped: bool,
) -> View {
    View::Tasks(TasksView {
        cluster: cluster.to_string(),
        service: service.map(str::to_string),
        include_stopped,
        deploy_shape: service.and_then(|s| deploy_shape(state, s)),
        load_balancers: service
            .map(|s| super::targets::load_balancers_of(state, s))
            .unwrap_or_default(),
        table: TableView::default(),
        ..TasksView::default()
    })
}

fn deploy_shape(state: &State, service: &str) -> Option<(i32, i32)> {
    state.views.iter().rev().find_map(|v| {
        let s = match v {
            View::Services(v) => v
                .data
                .rows
                .iter()
                .map(|r| &r.service)
                .find(|s| s.name == service)?,
            View::Deployments(v) | View::Events(v) => v.service()?,
            _ => return None,
        };
        Some((
            s.desired,
            s.deployment_config.maximum_percent.unwrap_or(200),
        ))
    })
}

/// The (cluster, service) the current view is about: its own, or the selected service row.
pub fn service_context(state: &State) -> Option<(String, Option<String>)> {
    let view = state.view();
    let cluster = view.cluster()?.to_string();
    if let Some(service) = view.service() {
        return Some((cluster, Some(service.to_string())));
    }
    match view {
        View::Services(v) => Some((
            cluster,
            v.table
                .selected_row()
                .and_then(|i| v.data.rows.get(i))
                .map(|r| r.service.name.clone()),
        )),
        View::TaskDetail(v) => Some((
            cluster,
            v.data
                .rows
                .first()
                .and_then(|t| t.service_name().map(str::to_string)),
        )),
        _ => Some((cluster, None)),
    }
}

/// Open the logs of what the current view is about: the selected service, the selected
/// task, the task on screen, or the service of a deployments/events view.
pub fn show_logs(state: &mut State) -> Result<Vec<Effect>, String> {
    use crate::logs::source::Scope;
    let scope = |cluster: &str, service: Option<&str>, task: Option<&str>| Scope {
        cluster: cluster.to_string(),
        service: service.map(str::to_string),
        task: task.map(str::to_string),
        container: None,
    };
    let scope = match state.view() {
        View::Clusters => return Err("select a service or a task first".into()),
        View::Services(v) => {
            let row = v
                .table
                .selected_row()
                .and_then(|i| v.data.rows.get(i))
                .ok_or("select a service first")?;
            scope(&v.cluster, Some(&row.service.name), None)
        }
        View::Deployments(v) | View::Events(v) => scope(&v.cluster, Some(&v.service), None),
        View::Timeline(v) => scope(&v.cluster, Some(&v.service), None),
        View::Tasks(v) => {
            let task = v
                .table
                .selected_row()
                .and_then(|i| v.data.rows.get(i))
                .ok_or("select a task first")?;
            scope(&v.cluster, task.service_name(), Some(&task.arn))
        }
        View::Network(v) => {
            let eni = v
                .table
                .selected_row()
                .and_then(|i| v.enis.get(i))
                .ok_or("select a task first")?;
            scope(&v.cluster, v.service.as_deref(), Some(&eni.task_arn))
        }
        View::TaskDetail(v) => scope(
            &v.cluster,
            v.data.rows.first().and_then(|t| t.service_name()),
            Some(&v.task),
        ),
        View::Logs(_) => return Ok(Vec::new()),
        View::Forwards(_) => return Err("no logs for the port forwards".into()),
        View::Pane(p) => match (p.cluster(), p.service()) {
            (Some(c), Some(s)) => scope(c, Some(s), None),
            _ => return Err("open a service or a task first".into()),
        },
        View::Stopped(v) => match &v.service {
            Some(s) => scope(&v.cluster, Some(s), None),
            None => return Err("open a service's stopped tasks, or a task, first".into()),
        },
    };
    // A stopped task: its last lines before it stopped.
    let stopped_at = match state.view() {
        View::TaskDetail(v) => v.data.rows.first().and_then(|t| t.stopped_at),
        View::Tasks(v) => v
            .table
            .selected_row()
            .and_then(|i| v.data.rows.get(i))
            .and_then(|t| t.stopped_at),
        _ => None,
    };
    let since =
        stopped_at.unwrap_or(state.now_unix).saturating_mul(1000) - super::logs::DEFAULT_SINCE_MS;
    let view = View::Logs(Box::new(super::logs::LogsView::new(
        scope,
        since,
        state.logs_capacity,
    )));
    Ok(push(state, view))
}

/// Stopped tasks grouped by cause: the current service's, or the cluster's.
pub fn show_stop_causes(state: &mut State) -> Result<Vec<Effect>, String> {
    let (cluster, service) = match state.view() {
        View::Clusters => {
            let c = state
                .clusters
                .table
                .selected_row()
                .and_then(|i| state.clusters.data.rows.get(i))
                .ok_or("select a cluster first")?;
            (c.name.clone(), None)
        }
        View::Stopped(_) | View::Forwards(_) | View::Pane(_) => return Ok(Vec::new()),
        _ => service_context(state).ok_or("select a cluster first")?,
    };
    let view = View::Stopped(super::views::StoppedView {
        cluster,
        service,
        ..Default::default()
    });
    Ok(push(state, view))
}

/// The incident timeline of the current service (`T`, `:timeline`).
pub fn show_timeline(state: &mut State) -> Result<Vec<Effect>, String> {
    match service_context(state) {
        Some((cluster, Some(service))) => {
            if let View::Timeline(_) = state.view() {
                return Ok(Vec::new());
            }
            Ok(push(
                state,
                View::Timeline(Box::new(super::timeline::TimelineView::new(
                    &cluster, &service,
                ))),
            ))
        }
        _ => Err("open or select a service first for its timeline".into()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    Deployments,
    Events,
    Tasks,
    Stopped,
    Network,
}

/// Switch to another view of the current service (or cluster, for tasks and network).
pub fn show(state: &mut State, what: Show) -> Result<Vec<Effect>, String> {
    if what == Show::Events {
        match state.view() {
            View::Clusters => return show_cluster_events(state),
            View::Pane(p) if p.context() == super::command::Context::ClusterEvents => {
                return Ok(Vec::new());
            }
            _ => {}
        }
    }
    let Some((cluster, service)) = service_context(state) else {
        return Err("select a cluster first".into());
    };
    let view = match (what, service) {
        (Show::Deployments, Some(s)) => View::Deployments(service_view(&cluster, &s)),
        (Show::Events, Some(s)) => View::Events(service_view(&cluster, &s)),
        (Show::Events, None) => cluster_events_view(&cluster),
        (Show::Deployments, None) => {
            return Err("select a service first".into());
        }
        (Show::Tasks, s) => tasks_view(state, &cluster, s.as_deref(), false),
        (Show::Stopped, s) => tasks_view(state, &cluster, s.as_deref(), true),
        (Show::Network, s) => match tasks_view(state, &cluster, s.as_deref(), false) {
            View::Tasks(t) => View::Network(t),
            other => other,
        },
    };
    // Views of the same thing replace each other instead of piling up.
    let same_level = matches!(
        (state.view(), &view),
        (
            View::Deployments(_) | View::Events(_) | View::Tasks(_) | View::Network(_),
            View::Deployments(_) | View::Events(_) | View::Tasks(_) | View::Network(_)
        )
    );
    if same_level {
        let mut views = state.views.clone();
        views.pop();
        views.push(view);
        return Ok(replace(state, views));
    }
    Ok(push(state, view))
}

/// The events of every service of a cluster, merged (`e` on a cluster, `:events all`).
pub fn cluster_events_view(cluster: &str) -> View {
    View::Pane(Box::new(crate::panes::cluster_events::ClusterEvents::new(
        cluster,
    )))
}

/// The cluster feed of the selected cluster (clusters view) or of the current view's cluster.
pub fn show_cluster_events(state: &mut State) -> Result<Vec<Effect>, String> {
    let cluster = match state.view() {
        View::Clusters => state
            .clusters
            .table
            .selected_row()
            .and_then(|i| state.clusters.data.rows.get(i))
            .map(|c| c.name.clone())
            .ok_or("select a cluster first")?,
        View::Pane(p) if p.context() == super::command::Context::ClusterEvents => {
            return Ok(Vec::new());
        }
        v => v.cluster().ok_or("select a cluster first")?.to_string(),
    };
    Ok(push(state, cluster_events_view(&cluster)))
}

/// What the `:` line can do. The dispatch below matches on every variant, so a command added
/// here without its handling does not compile (instead of falling through to quit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineCommand {
    Clusters,
    Services,
    Deployments,
    Events,
    Tasks,
    Stopped,
    Network,
    Logs,
    Why,
    Audit,
    Forwards,
    Timeline,
    Diff,
    Instances,
    Fleet,
    Region,
    Profile,
    Help,
    Quit,
}

impl LineCommand {
    /// Every command, in the order completion offers them.
    pub const ALL: &'static [LineCommand] = &[
        LineCommand::Clusters,
        LineCommand::Services,
        LineCommand::Deployments,
        LineCommand::Events,
        LineCommand::Tasks,
        LineCommand::Stopped,
        LineCommand::Network,
        LineCommand::Logs,
        LineCommand::Why,
        LineCommand::Audit,
        LineCommand::Forwards,
        LineCommand::Timeline,
        LineCommand::Diff,
        LineCommand::Instances,
        LineCommand::Fleet,
        LineCommand::Region,
        LineCommand::Profile,
        LineCommand::Help,
        LineCommand::Quit,
    ];

    /// The word typed after `:`.
    pub fn name(self) -> &'static str {
        match self {
            LineCommand::Clusters => "clusters",
            LineCommand::Services => "services",
            LineCommand::Deployments => "deployments",
            LineCommand::Events => "events",
            LineCommand::Tasks => "tasks",
            LineCommand::Stopped => "stopped",
            LineCommand::Network => "network",
            LineCommand::Logs => "logs",
            LineCommand::Why => "why",
            LineCommand::Audit => "audit",
            LineCommand::Forwards => "forwards",
            LineCommand::Timeline => "timeline",
            LineCommand::Diff => "diff",
            LineCommand::Instances => "instances",
            LineCommand::Fleet => "fleet",
            LineCommand::Region => "region",
            LineCommand::Profile => "profile",
            LineCommand::Help => "help",
            LineCommand::Quit => "quit",
        }
    }

    /// The command `word` names: the whole name, or a prefix only one name starts with.
    pub fn parse(word: &str) -> Result<LineCommand, String> {
        if let Some(exact) = Self::ALL.iter().find(|c| c.name() == word) {
            return Ok(*exact);
        }
        let matches: Vec<LineCommand> = Self::ALL
            .iter()
            .copied()
            .filter(|c| c.name().starts_with(word))
            .collect();
        match matches.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!("unknown command :{word} (try :help)")),
            many => Err(format!(
                ":{word} is ambiguous: {}",
                many.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

/// Run a `:` command line.
pub fn run_command_line(state: &mut State, line: &str) -> Result<Vec<Effect>, String> {
    let mut words = line.split_whitespace();
    let Some(word) = words.next() else {
        return Ok(Vec::new());
    };
    let arg = words.next();
    let command = LineCommand::parse(word)?;
    match command {
        LineCommand::Clusters => Ok(replace(state, vec![View::Clusters])),
        LineCommand::Services => {
            let cluster = match arg {
                Some(c) => c.to_string(),
                None => match state.view().cluster() {
                    Some(c) => c.to_string(),
                    None => state
                        .clusters
                        .table
                        .selected_row()
                        .and_then(|i| state.clusters.data.rows.get(i))
                        .map(|c| c.name.clone())
                        .ok_or("which cluster? :services NAME")?,
                },
            };
            Ok(replace(
                state,
                vec![View::Clusters, services_view(&cluster)],
            ))
        }
        LineCommand::Deployments => show(state, Show::Deployments),
        LineCommand::Events if arg == Some("all") => show_cluster_events(state),
        LineCommand::Events => show(state, Show::Events),
        LineCommand::Tasks => show(state, Show::Tasks),
        LineCommand::Stopped => show(state, Show::Stopped),
        LineCommand::Network => show(state, Show::Network),
        LineCommand::Logs => show_logs(state),
        LineCommand::Why => show_stop_causes(state),
        LineCommand::Audit => Ok(push(
            state,
            View::Pane(Box::new(crate::panes::audit::Audit::default())),
        )),
        LineCommand::Timeline => show_timeline(state),
        LineCommand::Fleet => show_fleet(state, arg),
        LineCommand::Instances => match arg {
            Some(cluster) => Ok(push(
                state,
                View::Pane(Box::new(crate::panes::instances::Instances::new(cluster))),
            )),
            None => show_instances(state),
        },
        LineCommand::Diff => {
            let args: Vec<&str> = std::iter::once(arg).flatten().chain(words).collect();
            show_diff(state, Some(&args))
        }
        LineCommand::Forwards => {
            let effects = push(state, View::Forwards(Default::default()));
            super::exec::sync_forwards(state);
            Ok(effects)
        }
        LineCommand::Region => {
            let region = arg.ok_or("which region? :region eu-west-1")?;
            Ok(switch_target(state, None, Some(region.to_string())))
        }
        LineCommand::Profile => {
            let profile = arg.ok_or("which profile? :profile NAME")?;
            Ok(switch_target(state, Some(profile.to_string()), None))
        }
        LineCommand::Help => {
            state.help = Some(0);
            Ok(Vec::new())
        }
        LineCommand::Quit => {
            state.quitting = true;
            Ok(vec![Effect::quit()])
        }
    }
}

/// Switch profile and/or region: forget everything loaded, reconnect, re-resolve identity.
pub fn switch_target(
    state: &mut State,
    profile: Option<String>,
    region: Option<String>,
) -> Vec<Effect> {
    let mut target: AwsTarget = state.session.target.clone();
    if let Some(p) = profile {
        target.profile = Some(p);
        // A profile brings its own region; `:region` afterwards overrides it.
        target.region = None;
    }
    if let Some(r) = region {
        target.region = Some(r);
    }
    switch_to(state, target)
}

/// Switch to a whole target (the fleet's pairs carry theirs: a profile, or on the demo
/// sandbox an account's keys) and reconnect, as [`switch_target`] does.
pub fn switch_to(state: &mut State, target: AwsTarget) -> Vec<Effect> {
    state.session.target = target.clone();
    state.session.connected = false;
    state.session.identity = super::state::IdentityState::Pending;
    state.apply_safety();
    state.session.region = target.region.clone();
    forget_account(state);
    state.views = vec![View::Clusters];
    state.previous = None;
    state.banner = None;
    state.dirty = true;
    vec![Effect::Connect(target)]
}

/// What was read through the old clients: clusters, and the history, auto scaling and target
/// health kept by `cluster/service` and group (names repeat across accounts and regions, so
/// another account's prod/checkout-api must not show this one's rollback). CPU and memory
/// trends go when the new clients connect (`metrics::on_connected`).
fn forget_account(state: &mut State) {
    state.clusters = Default::default();
    state.histories.clear();
    state.scalings.clear();
    state.targets = Default::default();
}

/// `:fleet`: the fleet the session was started with, else the only one in config.toml;
/// `:fleet NAME`: `[fleet.NAME]` of config.toml.
fn show_fleet(state: &mut State, name: Option<&str>) -> Result<Vec<Effect>, String> {
    let config = &state.fleet_config;
    let names = || config.specs.keys().cloned().collect::<Vec<_>>().join(", ");
    let wanted = match name {
        Some(n) => Some(n.to_string()),
        None if state.fleet.is_some() => None,
        None if config.specs.len() == 1 => config.specs.keys().next().cloned(),
        None if config.specs.is_empty() => {
            return Err(
                "no fleet: define [fleet.NAME] in config.toml, or start berth with --profiles and --regions"
                    .into(),
            );
        }
        None => return Err(format!("which fleet? :fleet {}", names())),
    };
    let setup = match wanted {
        None => state.fleet.clone().ok_or("no fleet")?,
        Some(n) if state.fleet.as_ref().is_some_and(|f| f.name == n) => {
            state.fleet.clone().ok_or("no fleet")?
        }
        Some(n) => {
            let Some(spec) = config.specs.get(&n) else {
                return Err(format!(
                    "no [fleet.{n}] in config.toml (there: {})",
                    names()
                ));
            };
            super::fleet::build(
                &n,
                &spec.profiles,
                &spec.regions,
                &state.known_profiles,
                &config.sessions,
                state.session.target.endpoint_url.as_deref(),
                config.aliases.clone(),
            )?
        }
    };
    // the same fleet already on the stack: go back to it rather than stack another
    if let Some(at) = state
        .views
        .iter()
        .position(|v| matches!(v, View::Pane(p) if p.context() == super::command::Context::Fleet && p.crumb() == format!("fleet {}", setup.name)))
    {
        state.views.truncate(at + 1);
        state.dirty = true;
        return Ok(refresh(state, false));
    }
    let refresh_secs = state.refresh_secs;
    Ok(push(
        state,
        View::Pane(Box::new(crate::panes::fleet::Fleet::new(
            setup,
            refresh_secs,
        ))),
    ))
}

/// Completions for a partly typed command line.
pub fn complete(state: &State, line: &str) -> Vec<String> {
    let ends_with_space = line.ends_with(' ');
    let words: Vec<&str> = line.split_whitespace().collect();
    match (words.as_slice(), ends_with_space) {
        ([], _) => LineCommand::ALL
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
        ([w], false) => LineCommand::ALL
            .iter()
            .map(|c| c.name())
            .filter(|c| c.starts_with(w))
            .map(str::to_string)
            .collect(),
        ([cmd], true) | ([cmd, _], false) => {
            let partial = if ends_with_space { "" } else { words[1] };
            let candidates: Vec<String> = if "services".starts_with(cmd) {
                state
                    .clusters
                    .data
                    .rows
                    .iter()
                    .map(|c| c.name.clone())
                    .collect()
            } else if "profile".starts_with(cmd) {
                state.known_profiles.clone()
            } else if "fleet".starts_with(cmd) && cmd.len() >= 2 {
                state.fleet_config.specs.keys().cloned().collect()
            } else if "region".starts_with(cmd) {
                REGIONS.iter().map(|r| r.to_string()).collect()
            } else {
                Vec::new()
            };
            candidates
                .into_iter()
                .filter(|c| c.starts_with(partial))
                .map(|c| format!("{cmd} {c}"))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Commercial regions with ECS, for `:region` completion (any name is accepted).
const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ca-central-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// The task-definition diff. With `args` (`:diff 42 43`, `:diff 43` for 42 → 43,
/// `:diff family:42 family:43`, or ARNs): those revisions, the family taken from the current
/// service when only numbers are given. Without (`D`): the selected deployment's revision
/// against the one it replaced (the deployment before it, else the previous revision), or the
/// selected service's current revision against the previous one.
pub fn show_diff(state: &mut State, args: Option<&[&str]>) -> Result<Vec<Effect>, String> {
    let cluster = state
        .view()
        .cluster()
        .map(str::to_string)
        .ok_or("open a cluster first (the diff compares a service's revisions)")?;
    let current = current_task_definition(state);
    let service = state
        .view()
        .service()
        .map(str::to_string)
        .or_else(|| current.as_ref().map(|(s, _)| s.clone()));
    let current = current.map(|(_, td)| td);
    let (old, new) = match args {
        Some(args) if !args.is_empty() => diff_args(args, current.as_deref())?,
        _ => match selected_deployment_pair(state) {
            Some(pair) => pair?,
            None => {
                let new =
                    current.ok_or("select a service or a deployment to diff (or :diff 42 43)")?;
                (previous_revision(&new)?, new)
            }
        },
    };
    let pane =
        crate::panes::taskdef_diff::TaskDefDiff::new(&cluster, service.as_deref(), &old, &new);
    Ok(push(state, View::Pane(Box::new(pane))))
}

/// (service name, its task definition) of the service the current view is about.
fn current_task_definition(state: &State) -> Option<(String, String)> {
    match state.view() {
        View::Services(v) => v
            .table
            .selected_row()
            .and_then(|i| v.data.rows.get(i))
            .map(|r| (r.service.name.clone(), r.service.task_definition.clone())),
        _ => state.views.iter().rev().find_map(|v| match v {
            View::Services(s) => {
                let name = state.view().service()?;
                s.data
                    .rows
                    .iter()
                    .find(|r| r.service.name == name)
                    .map(|r| (r.service.name.clone(), r.service.task_definition.clone()))
            }
            View::Deployments(s) | View::Events(s) => s
                .service()
                .map(|svc| (svc.name.clone(), svc.task_definition.clone())),
            View::Timeline(t) => t
                .data
                .as_ref()
                .and_then(|d| d.service.as_ref())
                .map(|svc| (svc.name.clone(), svc.task_definition.clone())),
            _ => None,
        }),
    }
}

/// The selected deployment's revision and the one it replaced (deployments view), or the
/// selected task's revision and the one before it (tasks, task detail).
fn selected_deployment_pair(state: &State) -> Option<Result<(String, String), String>> {
    let task_pair = |t: Option<&crate::domain::Task>| {
        Some(match t {
            Some(t) => {
                previous_revision(&t.task_definition).map(|old| (old, t.task_definition.clone()))
            }
            None => Err("select a task first".to_string()),
        })
    };
    let v = match state.view() {
        View::Deployments(v) => v,
        View::Tasks(v) => {
            return task_pair(v.table.selected_row().and_then(|i| v.data.rows.get(i)));
        }
        View::TaskDetail(v) => return task_pair(v.data.rows.first()),
        _ => return None,
    };
    if let Some(at) = v.history_selected {
        let entry =
            super::history::of(state, &v.cluster, &v.service).and_then(|h| h.deployments().get(at));
        return Some(match entry {
            Some(d) => history_pair(d),
            None => Err("select a history entry first".into()),
        });
    }
    let service = v.service()?;
    if service.deployments.is_empty() && !service.task_sets.is_empty() {
        return Some(task_set_pair(service));
    }
    let Some(d) = v
        .table
        .selected_row()
        .and_then(|i| service.deployments.get(i))
    else {
        return Some(Err("select a deployment first".into()));
    };
    let before = service
        .deployments
        .iter()
        .filter(|o| o.id != d.id && o.created_at < d.created_at)
        .max_by_key(|o| o.created_at)
        .map(|o| o.task_definition.clone());
    Some(match before {
        Some(old) => Ok((old, d.task_definition.clone())),
        None => previous_revision(&d.task_definition).map(|old| (old, d.task_definition.clone())),
    })
}

/// A task-set service (CODE_DEPLOY, EXTERNAL): the PRIMARY set's task definition against
/// the newest other set's (the one being rolled out).
fn task_set_pair(service: &crate::domain::Service) -> Result<(String, String), String> {
    use crate::domain::task_set::TaskSetStatus;
    let primary = service
        .task_sets
        .iter()
        .find(|t| t.status == TaskSetStatus::Primary)
        .ok_or("no PRIMARY task set to compare against")?;
    let other = service
        .task_sets
        .iter()
        .filter(|t| t.arn != primary.arn)
        .max_by_key(|t| t.created_at)
        .ok_or("one task set only: nothing to compare (:diff 41 42 names revisions)")?;
    Ok((
        primary.task_definition.clone(),
        other.task_definition.clone(),
    ))
}

/// A service deployment's source and target task definitions.
fn history_pair(d: &crate::domain::history::HistoryDeployment) -> Result<(String, String), String> {
    let unknown =
        "its revisions' task definitions are not known (DescribeServiceRevisions did not answer)";
    let new = d
        .target
        .as_ref()
        .and_then(|t| t.task_definition.clone())
        .ok_or(unknown)?;
    match d.source.first() {
        Some(s) if s.task_definition.is_some() => {
            Ok((s.task_definition.clone().unwrap_or_default(), new))
        }
        Some(_) => Err(unknown.to_string()),
        // the service's first deployment: against the revision before
        None => previous_revision(&new).map(|old| (old, new)),
    }
}

/// `family:42` for `family:43` or its ARN.
fn previous_revision(task_definition: &str) -> Result<String, String> {
    let name = crate::domain::family_revision(task_definition);
    match name.rsplit_once(':').map(|(f, r)| (f, r.parse::<u32>())) {
        Some((family, Ok(rev))) if rev > 1 => Ok(format!("{family}:{}", rev - 1)),
        Some((_, Ok(_))) => Err(format!(
            "{name} is the family's first revision: nothing before it"
        )),
        _ => Err(format!(
            "{name} names no revision (expected family:revision)"
        )),
    }
}

/// The revisions `:diff` names.
fn diff_args(args: &[&str], current: Option<&str>) -> Result<(String, String), String> {
    let family = current
        .map(crate::domain::family_revision)
        .and_then(|n| n.rsplit_once(':').map(|(f, _)| f.to_string()));
    let named = |a: &str| -> Result<String, String> {
        if a.contains(':') {
            return Ok(a.to_string());
        }
        if a.parse::<u32>().is_err() {
            return Err(format!(
                ":diff takes revisions (42, family:42 or an ARN), not {a}"
            ));
        }
        match &family {
            Some(f) => Ok(format!("{f}:{a}")),
            None => Err(format!(
                "which family? open a service first, or :diff family:{a} …"
            )),
        }
    };
    match args {
        [one] => {
            let new = named(one)?;
            Ok((previous_revision(&new)?, new))
        }
        [old, new] => Ok((named(old)?, named(new)?)),
        _ => Err(":diff takes one or two revisions: :diff 43, :diff 42 43".into()),
    }
}

/// The container instances of the current (or selected) cluster (`I`, `:instances`).
pub fn show_instances(state: &mut State) -> Result<Vec<Effect>, String> {
    let cluster = match state.view() {
        View::Clusters => state
            .clusters
            .table
            .selected_row()
            .and_then(|i| state.clusters.data.rows.get(i))
            .map(|c| c.name.clone()),
        v => v.cluster().map(str::to_string),
    }
    .ok_or("select a cluster first (or :instances CLUSTER)")?;
    let pane = crate::panes::instances::Instances::new(&cluster);
    Ok(push(state, View::Pane(Box::new(pane))))
}
