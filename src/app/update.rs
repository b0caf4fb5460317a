//! The reducer: `update(&mut State, Action) -> Vec<Effect>`. Pure: no I/O, no clocks (time
//! arrives in `Tick`), so every behaviour here is testable without a terminal or a network.

use super::action::{Action, ClustersEvent};
use super::command::Command;
use super::effect::Effect;
use super::state::{Banner, BannerLevel, IdentityState, Load, State, StatusLine, View};
use crate::aws::ErrorKind;

pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(key) => match state.keymap.lookup(state.context(), &key) {
            Some(cmd) => command(state, cmd),
            None => Vec::new(),
        },
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
        Action::AwsConnected { region } => {
            state.session.connected = true;
            state.session.region = Some(region);
            state.session.identity = IdentityState::Pending;
            if state.banner.as_ref().is_some_and(|b| b.clears_on_success) {
                state.banner = None;
            }
            state.dirty = true;
            let mut effects = vec![Effect::ResolveIdentity];
            effects.extend(refresh(state, true));
            effects
        }
        Action::AwsConnectFailed(err) => {
            state.session.connected = false;
            state.banner = Some(Banner::from_error(
                &err,
                state.session.target.profile.as_deref(),
            ));
            state.session.identity = IdentityState::Failed(err);
            state.dirty = true;
            Vec::new()
        }
        Action::IdentityResolved(result) => {
            match result {
                Ok(identity) => {
                    state.session.identity = IdentityState::Known(identity);
                    if state.banner.as_ref().is_some_and(|b| b.clears_on_success) {
                        state.banner = None;
                    }
                }
                Err(err) => {
                    state.banner = Some(Banner::from_error(
                        &err,
                        state.session.target.profile.as_deref(),
                    ));
                    state.session.identity = IdentityState::Failed(err);
                }
            }
            state.dirty = true;
            Vec::new()
        }
        Action::Clusters { request, event } => {
            clusters_event(state, request, event);
            Vec::new()
        }
    }
}

fn command(state: &mut State, cmd: Command) -> Vec<Effect> {
    state.dirty = true;
    if state.help.is_some() {
        return help_command(state, cmd);
    }
    match cmd {
        Command::Quit => {
            state.quitting = true;
            vec![Effect::Quit]
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
        Command::Back => {
            if state.views.len() > 1 {
                state.views.pop();
            }
            Vec::new()
        }
        Command::DismissBanner => {
            state.banner = None;
            Vec::new()
        }
        Command::Select => select(state),
        Command::Up => move_selection(state, -1),
        Command::Down => move_selection(state, 1),
        Command::PageUp => move_selection(state, -(state.page_rows() as i64)),
        Command::PageDown => move_selection(state, state.page_rows() as i64),
        Command::Top => move_selection(state, i64::MIN / 2),
        Command::Bottom => move_selection(state, i64::MAX / 2),
    }
}

/// While the help screen is open, keys scroll it; anything that closes it closes it.
fn help_command(state: &mut State, cmd: Command) -> Vec<Effect> {
    let scroll = state.help.unwrap_or(0);
    match cmd {
        Command::Quit => {
            state.quitting = true;
            return vec![Effect::Quit];
        }
        Command::Help | Command::Back => state.help = None,
        Command::Up => state.help = Some(scroll.saturating_sub(1)),
        Command::Down => state.help = Some(scroll.saturating_add(1)),
        Command::PageUp => state.help = Some(scroll.saturating_sub(10)),
        Command::PageDown => state.help = Some(scroll.saturating_add(10)),
        Command::Top => state.help = Some(0),
        _ => {}
    }
    Vec::new()
}

fn select(state: &mut State) -> Vec<Effect> {
    if let View::Clusters = state.view()
        && let Some(cluster) = state.clusters.selected_cluster()
    {
        let cluster = cluster.name.clone();
        state.views.push(View::Services { cluster });
    }
    Vec::new()
}

fn move_selection(state: &mut State, delta: i64) -> Vec<Effect> {
    if let View::Clusters = state.view() {
        let len = state.clusters.rows.len();
        state.clusters.selected = step(state.clusters.selected, delta, len);
    }
    Vec::new()
}

fn step(current: usize, delta: i64, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let max = (len - 1) as i64;
    (current as i64).saturating_add(delta).clamp(0, max) as usize
}

/// Load what the visible view needs. `forced` also starts a load while one is in flight (the
/// runner cancels the older one: latest wins).
fn refresh(state: &mut State, forced: bool) -> Vec<Effect> {
    if !state.session.connected {
        return Vec::new();
    }
    match state.view() {
        View::Clusters => {
            if state.clusters.load.is_loading() && !forced {
                return Vec::new();
            }
            let request = state.allocate_request();
            state.clusters.load = Load::Loading {
                request,
                total: None,
                received: 0,
            };
            state.clusters.incoming.clear();
            state.clusters.loading_shown = forced || !state.clusters.loaded_once;
            state.dirty |= state.clusters.loading_shown;
            vec![Effect::LoadClusters { request }]
        }
        View::Services { .. } => Vec::new(),
    }
}

fn clusters_event(state: &mut State, request: u64, event: ClustersEvent) {
    let view = &mut state.clusters;
    let Load::Loading {
        request: current,
        total,
        received,
    } = &mut view.load
    else {
        return;
    };
    if *current != request {
        return; // a superseded load
    }
    match event {
        ClustersEvent::Listed { total: n } => {
            *total = Some(n);
            if n == 0 {
                view.incoming.clear();
            }
        }
        ClustersEvent::Batch(batch) => {
            *received += batch.len();
            view.incoming.extend(batch);
            if !view.loaded_once {
                // First load: show rows as they arrive.
                let mut rows = view.incoming.clone();
                sort_clusters(&mut rows);
                view.rows = rows;
                state.dirty = true;
            }
        }
        ClustersEvent::Done => {
            let mut rows = std::mem::take(&mut view.incoming);
            sort_clusters(&mut rows);
            let selected_arn = view.rows.get(view.selected).map(|c| c.arn.clone());
            let changed = rows != view.rows || view.error.is_some() || !view.loaded_once;
            view.rows = rows;
            view.selected = selected_arn
                .and_then(|arn| view.rows.iter().position(|c| c.arn == arn))
                .unwrap_or(view.selected)
                .min(view.rows.len().saturating_sub(1));
            view.error = None;
            view.loaded_at = Some(state.now_unix);
            let was_shown = std::mem::take(&mut view.loading_shown);
            view.loaded_once = true;
            view.load = Load::Idle;
            if state.banner.as_ref().is_some_and(|b| b.clears_on_success) {
                state.banner = None;
                state.dirty = true;
            }
            // Identical results cause no redraw (unless the spinner has to go away).
            state.dirty |= changed || was_shown;
        }
        ClustersEvent::Failed(err) => {
            view.load = Load::Idle;
            view.loading_shown = false;
            view.incoming.clear();
            if matches!(
                err.kind,
                ErrorKind::ExpiredCredentials | ErrorKind::NoCredentials | ErrorKind::NoRegion
            ) {
                state.banner = Some(Banner::from_error(
                    &err,
                    state.session.target.profile.as_deref(),
                ));
            }
            view.error = Some(err);
            state.dirty = true;
        }
    }
}

fn sort_clusters(rows: &mut [crate::domain::Cluster]) {
    rows.sort_by(|a, b| a.name.cmp(&b.name));
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
    if state.clusters.error.is_some() && state.clusters.loaded_at.is_some() {
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
