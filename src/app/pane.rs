//! A pane is one unit: its state, what it loads, what its keys do, what `y`/`Y` copy, what
//! `E` exports and how it draws, all in one file under `src/panes/`. The app only routes:
//! [`View::Pane`](super::View) holds one, and every place that used to match on a view asks the
//! pane instead. Adding a view is adding its file, naming it in [`PaneLoad`]/[`PaneData`] when
//! it loads something, and binding its keys in the keymap.
//!
//! The older views (services, tasks, ...) still live as `View` variants; they move here as they
//! are next touched.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::command::{Command, Context};
use super::effect::{Effect, RequestId};
use super::state::State;
use super::table::TableView;
use crate::config::theme::Theme;

/// What a pane asks the runner to load for it. The runner turns each into AWS calls (through
/// `aws/`) and answers with [`PaneData`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaneLoad {
    /// Two task definitions (`family:revision` or ARNs), as DescribeTaskDefinition's JSON.
    TaskDefinitions { old: String, new: String },
    /// The newest lines of the audit log (a local file).
    Audit,
    /// Every service of a cluster, described (the services loader).
    ClusterServices { cluster: String },
    /// A cluster's EC2 container instances.
    ContainerInstances { cluster: String },
    /// Every pair of a fleet: answered with one [`PaneData::FleetPair`] per pair as it
    /// finishes, then [`PaneData::FleetDone`].
    Fleet {
        targets: Vec<crate::aws::fleet::FleetTarget>,
    },
}

/// What came back for a [`PaneLoad`].
#[derive(Debug, Clone, PartialEq)]
pub enum PaneData {
    TaskDefinitions {
        old: serde_json::Value,
        new: serde_json::Value,
    },
    Audit(Vec<crate::audit::Entry>),
    Services(Vec<crate::domain::Service>),
    ContainerInstances(Vec<crate::domain::ContainerInstance>),
    FleetPair(crate::domain::fleet::PairReport),
    FleetDone,
}

/// A pane's load in flight: which request it waits for, and whether the spinner shows (for
/// what the user asked for; a background reload is quiet).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InFlight {
    request: Option<RequestId>,
    spinner: bool,
}

impl InFlight {
    /// A load is out.
    pub fn busy(&self) -> bool {
        self.request.is_some()
    }

    /// The spinner shows.
    pub fn spinner(&self) -> bool {
        self.spinner
    }

    /// `request` starts; `spinner`: the user should see it.
    pub fn start(&mut self, request: RequestId, spinner: bool) {
        self.request = Some(request);
        self.spinner = spinner;
    }

    /// Whether `request` is the one out; if it is, it is over.
    pub fn answer(&mut self, request: RequestId) -> bool {
        if self.request != Some(request) {
            return false;
        }
        *self = InFlight::default();
        true
    }
}

/// What a pane did with a key.
#[derive(Debug, Default)]
pub struct Reply {
    pub effects: Vec<Effect>,
    /// A message for the status line (`true`: an error).
    pub status: Option<(String, bool)>,
    /// Reload now (the pane changed what it shows).
    pub reload: bool,
    /// Open this view on top.
    pub push: Option<super::View>,
    /// Switch the session to this target (another account or region) and open this view on
    /// top of the pane (the fleet's `enter`); `esc` comes back to the pane.
    pub switch: Option<(crate::aws::AwsTarget, super::View)>,
}

impl Reply {
    pub fn done() -> Reply {
        Reply::default()
    }

    pub fn status(text: impl Into<String>, is_error: bool) -> Reply {
        Reply {
            status: Some((text.into(), is_error)),
            ..Reply::default()
        }
    }
}

pub trait Pane: std::fmt::Debug + Send {
    /// The keymap section its keys come from.
    fn context(&self) -> Context;
    /// The breadcrumb segment it adds.
    fn crumb(&self) -> String;
    /// The cluster it is about.
    fn cluster(&self) -> Option<&str> {
        None
    }
    /// The service it is about.
    fn service(&self) -> Option<&str> {
        None
    }
    /// Its table, for filter, sort and selection (`None`: a scrolled text pane).
    fn table(&self) -> Option<&TableView> {
        None
    }
    fn table_mut(&mut self) -> Option<&mut TableView> {
        None
    }
    /// The headers of its table and which of them a `width` wide table shows.
    fn columns(&self, _width: u16) -> Option<(Vec<&'static str>, Vec<usize>)> {
        None
    }
    /// Re-apply the filter and sort after they changed.
    fn recompute(&mut self, _now: i64) {}
    /// Take what a view under it already holds, loaded less than `max_age` seconds ago, instead
    /// of loading it again. Returns whether it took something (then no load is made).
    fn reuse(&mut self, _below: &[super::View], _now: i64, _max_age: i64) -> bool {
        false
    }
    /// The load it needs now. `shown`: the user asked (opened, ctrl-r), so load whatever the
    /// age; otherwise a background refresh the pane may decline.
    fn refresh(&mut self, _request: RequestId, _shown: bool, _now: i64) -> Option<PaneLoad> {
        None
    }
    /// An answer: `None` when `request` is not this pane's, else whether what it shows changed.
    fn loaded(
        &mut self,
        _request: RequestId,
        _result: &Result<PaneData, String>,
        _now: i64,
    ) -> Option<bool> {
        None
    }
    /// A load the user should see in flight.
    fn is_loading(&self) -> bool {
        false
    }
    /// It has had an answer (data or an error) since it opened.
    fn answered(&self) -> bool {
        true
    }
    /// A key's command, before the app's own handling; `None`: not this pane's.
    fn command(&mut self, _cmd: Command, _page: usize) -> Option<Reply> {
        None
    }
    /// What `copy_id` / `copy_arn` take: (what it is, the text).
    fn copy(&self, _cmd: Command) -> Option<(&'static str, String)> {
        None
    }
    /// `E`: (Markdown, rows), or why not.
    fn markdown(&self, _title: &str) -> Result<(String, usize), String> {
        Err("nothing to export here".into())
    }
    /// A warning for the header about what is selected (the fleet: a protected account).
    fn header_note(&self, _state: &State) -> Option<String> {
        None
    }
    fn render(&self, frame: &mut Frame, area: Rect, state: &State, theme: &Theme);
    fn clone_box(&self) -> Box<dyn Pane>;
}

impl Clone for Box<dyn Pane> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Route a load's answer to the pane that asked (if it is still open).
pub fn on_loaded(state: &mut State, request: RequestId, result: Result<PaneData, String>) {
    let now = state.now_unix;
    let top = state.views.len();
    for (depth, view) in state.views.iter_mut().enumerate().rev() {
        let super::View::Pane(pane) = view else {
            continue;
        };
        let was_loading = pane.is_loading();
        if let Some(changed) = pane.loaded(request, &result, now) {
            // a spinner that was on screen must go, even when nothing else changed
            let spinner_gone = was_loading && !pane.is_loading();
            state.dirty |= (changed || spinner_gone) && depth + 1 == top;
            return;
        }
    }
}

/// The visible pane's load, if it needs one.
pub fn refresh(state: &mut State, request: RequestId, shown: bool) -> Option<Effect> {
    let now = state.now_unix;
    let max_age = i64::try_from(state.refresh_secs).unwrap_or(i64::MAX);
    let (top, below) = state.views.split_last_mut()?;
    let super::View::Pane(pane) = top else {
        return None;
    };
    if pane.reuse(below, now, max_age) {
        state.dirty = true;
        return None;
    }
    pane.refresh(request, shown, now)
        .map(|load| Effect::LoadPane { request, load })
}

/// Give the visible pane first go at a command.
pub fn command(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    let page = state.page_rows();
    let super::View::Pane(pane) = state.view_mut() else {
        return None;
    };
    let reply = pane.command(cmd, page)?;
    let mut effects = reply.effects;
    if let Some((text, is_error)) = reply.status {
        super::update::set_status(state, text, is_error);
    }
    if let Some((target, then)) = reply.switch {
        // the pane stays under the view it opened; the new view loads once the new
        // clients are connected (loading now would use the old account's)
        let pane = state.views.last().cloned();
        effects.extend(super::nav::switch_to(state, target));
        state.views.extend(pane);
        state.views.push(then);
    } else if let Some(view) = reply.push {
        effects.extend(super::nav::push(state, view));
    } else if reply.reload {
        effects.extend(super::data::refresh(state, true));
    }
    state.dirty = true;
    Some(effects)
}
