//! The reducer: `update(&mut State, Action) -> Vec<Effect>`. Pure: no I/O, no clocks (time
//! arrives in `Tick`), so every behaviour here is testable without a terminal or a network.

use super::action::Action;
use super::command::Command;
use super::data::{on_data, refresh, view_error};
use super::effect::Effect;
use super::nav::{self, Show};
use super::state::{Banner, BannerLevel, IdentityState, Input, InputKind, State, StatusLine};
use super::views::{
    View, cluster_order, deployment_order, eni_order, event_order, service_order, task_order,
};
use crate::domain::Task;

pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    // what can change the rows on screen (data, keys, a resize, a refresh) may need metrics
    // an answer of one metrics call frees the slot for the next (the tasks a view opened
    // while the services' call was out wait for it, not for the next refresh)
    let rows_may_change = !matches!(action, Action::Tick { .. });
    let mut effects = reduce(state, action);
    super::metrics::sync_views(state);
    if rows_may_change && let Some(load) = super::metrics::due(state) {
        effects.push(load);
    }
    super::logs::stop_if_hidden(state, &mut effects);
    effects.extend(super::targets::due(state));
    effects
}

fn reduce(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(key) => {
            if state.exec.is_some() {
                return super::exec::key(state, key);
            }
            if state.dialog.is_some() {
                return super::mutations::dialog_key(state, key);
            }
            if state.input.is_some() {
                return super::input::input_key(state, key);
            }
            match state.keymap.lookup(state.context(), &key) {
                Some(cmd) => command(state, cmd),
                None => Vec::new(),
            }
        }
        Action::Command(cmd) => command(state, cmd),
        Action::Resize { cols, rows } => {
            state.cols = cols;
            state.rows = rows;
            state.dirty = true;
            Vec::new()
        }
        Action::Tick { now_unix } => {
            tick(state, now_unix);
            Vec::new()
        }
        Action::RefreshDue => refresh(state, false),
        Action::AwsConnected { region } => on_connected(state, region),
        Action::AwsConnectFailed(err) => on_connect_failed(state, err),
        Action::IdentityResolved(result) => on_identity(state, result),
        Action::Data { request, event } => {
            on_data(state, request, event);
            super::mutations::check_watch(state);
            Vec::new()
        }
        Action::Logs { tail, event } => {
            super::logs::on_session(state, tail, event);
            Vec::new()
        }
        Action::TerminalLost => {
            state.quitting = true;
            vec![Effect::Terminal(super::TerminalEffect::Quit(
                super::Quit::TerminalLost,
            ))]
        }
        Action::Mutated { mutation, result } => {
            let result = noticed(state, result);
            super::mutations::on_mutated(state, mutation, result)
        }
        Action::ExecPreflight { task, result } => {
            let result = noticed(state, result);
            super::exec::on_preflight(state, task, result);
            Vec::new()
        }
        Action::SessionReady(result) => {
            let result = noticed(state, result);
            super::exec::on_session_ready(state, result)
        }
        Action::SessionEnded { message, ok } => {
            super::exec::on_session_ended(state, message, ok);
            Vec::new()
        }
        Action::ForwardStarted(result) => {
            let result = noticed(state, result);
            super::exec::on_forward_started(state, result);
            super::exec::sync_forwards(state);
            Vec::new()
        }
        Action::ForwardEnded { id, how } => {
            super::exec::on_forward_ended(state, id, how);
            super::exec::sync_forwards(state);
            Vec::new()
        }
        Action::ForwardNote {
            id,
            connection,
            problem,
        } => {
            super::exec::on_forward_note(state, id, connection, problem);
            super::exec::sync_forwards(state);
            Vec::new()
        }
        Action::TargetHealthLoaded(report) => {
            super::targets::on_loaded(state, report);
            Vec::new()
        }
        Action::MetricsLoaded {
            call,
            cluster,
            services,
            result,
        } => {
            super::metrics::on_loaded(state, call, &cluster, &services, result);
            Vec::new()
        }
        Action::TaskMetricsLoaded {
            call,
            cluster,
            insights,
            tasks,
            result,
        } => {
            super::metrics::on_tasks_loaded(state, call, &cluster, insights, &tasks, result);
            Vec::new()
        }
        Action::HistoryLoaded {
            cluster,
            service,
            result,
        } => {
            super::history::on_loaded(state, &cluster, &service, result);
            Vec::new()
        }
        Action::ScalingLoaded {
            cluster,
            service,
            result,
        } => {
            super::scaling::on_loaded(state, &cluster, &service, result);
            Vec::new()
        }
        Action::TimelineLoaded { request, result } => {
            let result = noticed(state, result);
            super::timeline::on_loaded(state, request, result);
            Vec::new()
        }
        Action::PaneLoaded { request, result } => {
            let result = noticed(state, result);
            super::pane::on_loaded(state, request, result);
            Vec::new()
        }
        Action::Saved(result) => {
            match result {
                Ok(msg) => set_status(state, msg, false),
                Err(msg) => set_status(state, msg, true),
            }
            Vec::new()
        }
    }
}

fn on_connected(state: &mut State, region: String) -> Vec<Effect> {
    state.session.connected = true;
    state.session.region = Some(region);
    state.session.identity = IdentityState::Pending;
    super::metrics::on_connected(state);
    if state.banner.as_ref().is_some_and(|b| b.clears_on_success) {
        state.banner = None;
    }
    state.dirty = true;
    let mut effects = vec![Effect::ResolveIdentity];
    effects.extend(refresh(state, true));
    effects
}

/// The fleet is on screen: it reads every pair with clients of its own, so the session's
/// credentials are not what the user is looking at (each pair's row says its own).
fn fleet_on_top(state: &State) -> bool {
    matches!(state.view(), super::View::Pane(p) if p.context() == super::command::Context::Fleet)
}

fn on_connect_failed(state: &mut State, err: crate::aws::AwsError) -> Vec<Effect> {
    state.session.connected = false;
    let profile = state.session.target.profile.as_deref();
    if !fleet_on_top(state) {
        state.banner = Some(Banner::from_error(&err, profile));
    }
    state.session.identity = IdentityState::Failed(err);
    state.dirty = true;
    Vec::new()
}

fn on_identity(
    state: &mut State,
    result: Result<crate::domain::Identity, crate::aws::AwsError>,
) -> Vec<Effect> {
    match result {
        Ok(identity) => {
            state.session.identity = IdentityState::Known(identity);
            state.apply_safety();
            if state.banner.as_ref().is_some_and(|b| b.clears_on_success) {
                state.banner = None;
            }
        }
        Err(err) => {
            let profile = state.session.target.profile.as_deref();
            if !fleet_on_top(state) {
                state.banner = Some(Banner::from_error(&err, profile));
            }
            state.session.identity = IdentityState::Failed(err);
        }
    }
    state.dirty = true;
    Vec::new()
}

/// An action's failure, noticed: an expired token or missing credentials raise the banner with
/// its fix whichever action met them; what remains is the text the action's pane shows.
fn noticed<T>(state: &mut State, result: Result<T, super::Failure>) -> Result<T, String> {
    result.map_err(|failure| {
        if let Some(e) = failure.aws() {
            super::data::credential_banner(state, e);
        }
        failure.to_string()
    })
}

fn command(state: &mut State, cmd: Command) -> Vec<Effect> {
    state.dirty = true;
    if state.help.is_some() {
        return help_command(state, cmd);
    }
    if cmd.is_mutating() {
        return super::mutations::open(state, cmd);
    }
    if let Some(effects) = super::exec::command(state, cmd) {
        return effects;
    }
    if let Some(effects) = super::logs::command(state, cmd) {
        return effects;
    }
    if let Some(effects) = super::pane::command(state, cmd) {
        return effects;
    }
    match cmd {
        Command::Quit => {
            state.quitting = true;
            vec![Effect::quit()]
        }
        Command::Help => {
            state.help = Some(0);
            Vec::new()
        }
        Command::Refresh => {
            let effects = refresh(state, true);
            if effects.is_empty() && !state.session.connected {
                // Not connected yet (or connecting failed): try connecting again.
                return vec![Effect::Connect(state.session.target.clone())];
            }
            effects
        }
        Command::Back => nav::back(state),
        Command::PreviousView => nav::previous(state),
        Command::DismissBanner => {
            state.banner = None;
            Vec::new()
        }
        Command::Select => nav::select(state),
        Command::Up => move_selection(state, -1),
        Command::Down => move_selection(state, 1),
        Command::PageUp => move_selection(state, -(state.page_rows() as i64)),
        Command::PageDown => move_selection(state, state.page_rows() as i64),
        Command::Top => move_selection(state, i64::MIN / 2),
        Command::Bottom => move_selection(state, i64::MAX / 2),
        Command::Filter => open_filter(state),
        Command::CommandMode => open_command_line(state),
        Command::SortNext | Command::SortReverse => sort(state, cmd),
        Command::CopyId | Command::CopyArn | Command::CopyIp => copy(state, cmd),
        Command::ShowDeployments => show(state, Show::Deployments),
        Command::ShowEvents => show(state, Show::Events),
        Command::ShowTasks => show(state, Show::Tasks),
        Command::ShowNetwork => show(state, Show::Network),
        Command::ToggleStopped => {
            if let View::Tasks(v) = state.view_mut() {
                v.include_stopped = !v.include_stopped;
                return refresh(state, true);
            }
            show(state, Show::Stopped)
        }
        Command::ToggleRaw => {
            if let View::TaskDetail(v) = state.view_mut() {
                v.raw = !v.raw;
                v.scroll = 0;
            }
            Vec::new()
        }
        Command::ShowStopCauses => or_status(state, nav::show_stop_causes),
        Command::ShowLogs => or_status(state, nav::show_logs),
        // Logs-pane commands mean nothing elsewhere.
        Command::Search
        | Command::SearchNext
        | Command::SearchPrev
        | Command::ErrorsOnly
        | Command::WarningsUp
        | Command::Pivot
        | Command::ToggleFollow
        | Command::ToggleWrap
        | Command::ToggleTimestamps
        | Command::LoadOlder
        | Command::CycleContainer
        | Command::SaveLogs => Vec::new(),
        // Handled above.
        Command::ForceDeploy | Command::Scale | Command::RollBack | Command::StopTask => Vec::new(),
        // Handled by exec::command; StopForward outside :forwards does nothing.
        Command::Exec | Command::PortForward | Command::StopForward => Vec::new(),
        Command::ShowTimeline => or_status(state, nav::show_timeline),
        Command::CycleWindow => {
            if super::timeline::cycle_window(state) {
                refresh(state, true)
            } else {
                Vec::new()
            }
        }
        Command::Export => super::export::export(state),
        Command::ShowDiff => or_status(state, |s| super::nav::show_diff(s, None)),
        Command::ShowInstances => or_status(state, super::nav::show_instances),
        Command::FocusHistory => {
            focus_history(state);
            Vec::new()
        }
    }
}

/// Run a navigation; what it refuses goes to the status line.
fn or_status(state: &mut State, go: fn(&mut State) -> Result<Vec<Effect>, String>) -> Vec<Effect> {
    match go(state) {
        Ok(effects) => effects,
        Err(msg) => {
            set_status(state, msg, true);
            Vec::new()
        }
    }
}

fn open_filter(state: &mut State) -> Vec<Effect> {
    let original = current_table(state).map(|t| t.filter.clone());
    match original {
        Some(original) => {
            state.input = Some(Input {
                kind: InputKind::Filter,
                text: original.clone(),
                original,
                completions: Vec::new(),
                error: None,
            });
        }
        None => set_status(state, "nothing to filter here", true),
    }
    Vec::new()
}

fn open_command_line(state: &mut State) -> Vec<Effect> {
    state.input = Some(Input {
        kind: InputKind::Command,
        text: String::new(),
        original: String::new(),
        completions: Vec::new(),
        error: None,
    });
    Vec::new()
}

/// `o` / `O`: cycle or reverse the sort, over the columns on screen only (sorting by one that
/// is not shown reads as no order), and say what it is now.
fn sort(state: &mut State, cmd: Command) -> Vec<Effect> {
    let (columns, shown) = state.view().columns(state.cols).unwrap_or_default();
    let Some(table) = current_table_mut(state) else {
        return Vec::new();
    };
    if cmd == Command::SortNext {
        table.next_sort_column(&shown);
    } else {
        table.reverse_sort(&shown);
    }
    let label = match table.sort {
        Some(s) => format!(
            "sorted by {} {}",
            columns.get(s.column).copied().unwrap_or("?").to_lowercase(),
            if s.descending {
                "descending"
            } else {
                "ascending"
            }
        ),
        None => "default order".to_string(),
    };
    recompute_visible(state);
    set_status(state, label, false);
    Vec::new()
}

fn show(state: &mut State, what: Show) -> Vec<Effect> {
    match nav::show(state, what) {
        Ok(effects) => effects,
        Err(msg) => {
            set_status(state, msg, true);
            Vec::new()
        }
    }
}

/// While the help screen is open, keys scroll it; anything that closes it closes it.
/// The offset stays within the text, so scrolling stops at the end.
fn help_command(state: &mut State, cmd: Command) -> Vec<Effect> {
    let scroll = state.help.unwrap_or(0);
    let max = crate::ui::help::max_scroll(state, state.cols, state.rows);
    let page = crate::ui::help::page_rows(state.cols, state.rows);
    match cmd {
        Command::Quit => {
            state.quitting = true;
            return vec![Effect::quit()];
        }
        Command::Help | Command::Back => state.help = None,
        Command::Up => state.help = Some(scroll.min(max).saturating_sub(1)),
        Command::Down => state.help = Some(scroll.saturating_add(1).min(max)),
        Command::PageUp => state.help = Some(scroll.min(max).saturating_sub(page)),
        Command::PageDown => state.help = Some(scroll.saturating_add(page).min(max)),
        Command::Top => state.help = Some(0),
        Command::Bottom => state.help = Some(max),
        _ => {}
    }
    Vec::new()
}

pub(super) fn set_filter(state: &mut State, filter: String) {
    if let Some(table) = current_table_mut(state) {
        table.filter = filter;
        table.selected = 0;
    }
    recompute_visible(state);
}

fn current_table(state: &State) -> Option<&super::table::TableView> {
    match state.view() {
        View::Clusters => Some(&state.clusters.table),
        v => v.table(),
    }
}

pub(crate) fn current_table_mut(state: &mut State) -> Option<&mut super::table::TableView> {
    if matches!(state.view(), View::Clusters) {
        return Some(&mut state.clusters.table);
    }
    state.view_mut().table_mut()
}

/// Recompute the visible rows of the current view after its filter or sort changed.
pub fn recompute_visible(state: &mut State) {
    state.dirty = true;
    let now = state.now_unix;
    match state.views.last_mut() {
        None | Some(View::Clusters) => {
            let rows = &state.clusters.data.rows;
            let key = state
                .clusters
                .table
                .selected_row()
                .and_then(|i| rows.get(i))
                .map(|c| c.arn.clone());
            state
                .clusters
                .table
                .recompute(rows, key.as_deref(), cluster_order, now);
        }
        Some(View::Services(v)) => v.table.recompute(&v.data.rows, None, service_order, now),
        Some(View::Deployments(v)) => {
            let rows = v
                .service()
                .map(|s| s.deployments.clone())
                .unwrap_or_default();
            v.table.recompute(&rows, None, deployment_order, now);
        }
        Some(View::Events(v)) => {
            let rows = v.service().map(|s| s.events.clone()).unwrap_or_default();
            v.table.recompute(&rows, None, event_order, now);
        }
        Some(View::Tasks(v)) => v.table.recompute(&v.data.rows, None, task_order, now),
        Some(View::Network(v)) => v.table.recompute(&v.enis, None, eni_order, now),
        Some(View::TaskDetail(_) | View::Logs(_)) => {}
        Some(View::Forwards(v)) => {
            v.table
                .recompute(&v.rows, None, |_, _| std::cmp::Ordering::Equal, now)
        }
        Some(View::Timeline(v)) => {
            v.table
                .recompute(&v.entries, None, |_, _| std::cmp::Ordering::Equal, now)
        }
        Some(View::Stopped(v)) => {
            v.table
                .recompute(&v.groups, None, super::views::cause_order, now)
        }
        Some(View::Pane(p)) => p.recompute(now),
    }
}

/// `tab` in the deployments view: the selection moves between the live deployments and the
/// history (where `D` diffs an entry's source and target revisions).
fn focus_history(state: &mut State) {
    let entries = history_len(state);
    let View::Deployments(v) = state.view_mut() else {
        return;
    };
    v.history_selected = match (v.history_selected, entries) {
        (Some(_), _) => None,
        (None, 0) => {
            return set_status(state, "no deployment history to select", true);
        }
        (None, _) => Some(0),
    };
}

/// Entries of the deployments view's history, as loaded.
fn history_len(state: &State) -> usize {
    match state.view() {
        View::Deployments(v) => {
            super::history::of(state, &v.cluster, &v.service).map_or(0, |h| h.deployments().len())
        }
        _ => 0,
    }
}

fn move_selection(state: &mut State, delta: i64) -> Vec<Effect> {
    let entries = history_len(state);
    if let View::Deployments(v) = state.view_mut()
        && let Some(at) = v.history_selected
    {
        let last = entries.saturating_sub(1) as i64;
        v.history_selected = Some((at as i64).saturating_add(delta).clamp(0, last) as usize);
        return Vec::new();
    }
    if let View::TaskDetail(v) = state.view_mut() {
        let scroll = i64::from(v.scroll)
            .saturating_add(delta)
            .clamp(0, i64::from(u16::MAX));
        v.scroll = scroll as u16;
        return Vec::new();
    }
    if let Some(table) = current_table_mut(state) {
        table.move_by(delta);
    }
    Vec::new()
}

/// What `copy_id` / `copy_arn` / `copy_ip` take from the selected row.
fn copy(state: &mut State, cmd: Command) -> Vec<Effect> {
    let picked: Option<(&str, String)> = match (state.view(), cmd) {
        (View::Clusters, _) => state
            .clusters
            .table
            .selected_row()
            .and_then(|i| state.clusters.data.rows.get(i))
            .and_then(|c| match cmd {
                Command::CopyArn => Some(("cluster ARN", c.arn.clone())),
                Command::CopyId => Some(("cluster name", c.name.clone())),
                _ => None,
            }),
        (View::Services(v), _) => v
            .table
            .selected_row()
            .and_then(|i| v.data.rows.get(i))
            .and_then(|r| match cmd {
                Command::CopyArn => Some(("service ARN", r.service.arn.clone())),
                Command::CopyId => Some(("service name", r.service.name.clone())),
                _ => None,
            }),
        (View::Deployments(v) | View::Events(v), _) => v.service().and_then(|s| match cmd {
            Command::CopyArn => Some(("service ARN", s.arn.clone())),
            Command::CopyId => Some(("service name", s.name.clone())),
            _ => None,
        }),
        (View::Tasks(v), _) => v
            .table
            .selected_row()
            .and_then(|i| v.data.rows.get(i))
            .and_then(|t| task_field(t, cmd)),
        (View::Network(v), _) => v
            .table
            .selected_row()
            .and_then(|i| v.enis.get(i))
            .and_then(|e| match cmd {
                Command::CopyArn => Some(("task ARN", e.task_arn.clone())),
                Command::CopyId => Some(("ENI id", e.eni.eni_id.clone().unwrap_or_default())),
                _ => e.eni.private_ipv4.clone().map(|ip| ("IP", ip)),
            }),
        (View::TaskDetail(v), _) => v.data.rows.first().and_then(|t| task_field(t, cmd)),
        (View::Logs(_) | View::Stopped(_), _) => None,
        (View::Forwards(v), _) => v
            .table
            .selected_row()
            .and_then(|i| v.rows.get(i))
            .map(|f| ("local address", format!("localhost:{}", f.local_port))),
        (View::Timeline(v), _) => v
            .table
            .selected_row()
            .and_then(|i| v.entries.get(i))
            .map(|e| ("entry", e.text.clone())),
        (View::Pane(p), _) => p.copy(cmd),
    };
    match picked {
        Some((what, text)) if !text.is_empty() => {
            set_status(state, format!("copied {what} {text} (OSC 52)"), false);
            vec![Effect::Terminal(crate::app::TerminalEffect::Copy(text))]
        }
        _ => {
            set_status(state, "nothing to copy here", true);
            Vec::new()
        }
    }
}

fn task_field(t: &Task, cmd: Command) -> Option<(&'static str, String)> {
    match cmd {
        Command::CopyArn => Some(("task ARN", t.arn.clone())),
        Command::CopyId => Some(("task id", t.id.clone())),
        _ => t.private_ip().map(|ip| ("IP", ip.to_string())),
    }
}

fn tick(state: &mut State, now_unix: i64) {
    state.now_unix = now_unix;
    if state.is_loading() {
        state.spinner = state.spinner.wrapping_add(1);
        state.dirty = true;
    }
    if let Some(status) = &state.status
        && status.until_unix <= now_unix
    {
        state.status = None;
        state.dirty = true;
    }
    // The "data is N s old" notice only shows (and so only changes) while loads are failing.
    let failing = match state.view() {
        View::Clusters => state.clusters.data.error.is_some() && state.clusters.data.loaded_once,
        v => view_error(v).is_some(),
    };
    if failing {
        state.dirty = true;
    }
}

/// Show a short message in the footer for a few seconds.
pub fn set_status(state: &mut State, text: impl Into<String>, is_error: bool) {
    state.status = Some(StatusLine {
        text: text.into(),
        is_error,
        until_unix: state.now_unix + 5,
    });
    state.dirty = true;
}

/// Show config warnings found at startup (they never stop the program).
pub fn config_warnings(state: &mut State, warnings: &[String]) {
    if warnings.is_empty() {
        return;
    }
    state.banner = Some(Banner {
        level: BannerLevel::Warning,
        title: format!("{} configuration warning(s)", warnings.len()),
        detail: warnings.join("; "),
        fix: Some("edit the file named above to silence this".to_string()),
        clears_on_success: false,
    });
    state.dirty = true;
}
