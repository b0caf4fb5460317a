//! The incident timeline view of a service (`T`, `:timeline`): deployments, service events,
//! task stops with their cause and bursts of error log lines on one time axis, newest first,
//! over a window (`]` cycles 15m, 1h, 3h, 6h, 24h; default one hour). `E` exports it as
//! Markdown. It loads when opened, on ctrl-r, when the window changes, and at most once a
//! minute in the background (a window of logs is not cheap to read).

use super::effect::{Effect, RequestId};
use super::state::State;
use super::table::TableView;
use super::views::View;
use crate::domain::timeline::{self, Entry};

pub const WINDOWS: &[i64] = &[900, 3600, 3 * 3600, 6 * 3600, 24 * 3600];
pub const DEFAULT_WINDOW: i64 = 3600;
/// Background reloads no more often than this.
pub const BACKGROUND_EVERY: i64 = 60;

pub use crate::domain::timeline::TimelineData;

#[derive(Debug, Clone, PartialEq)]
pub struct TimelineView {
    pub cluster: String,
    pub service: String,
    pub window_secs: i64,
    /// The window's end (unix seconds) at the last load.
    pub to: i64,
    pub data: Option<TimelineData>,
    pub entries: Vec<Entry>,
    pub table: TableView,
    pub request: Option<RequestId>,
    pub loading: bool,
    pub error: Option<String>,
    pub loaded_at: Option<i64>,
}

impl TimelineView {
    pub fn new(cluster: &str, service: &str) -> TimelineView {
        TimelineView {
            cluster: cluster.to_string(),
            service: service.to_string(),
            window_secs: DEFAULT_WINDOW,
            to: 0,
            data: None,
            entries: Vec::new(),
            table: TableView::default(),
            request: None,
            loading: false,
            error: None,
            loaded_at: None,
        }
    }

    fn rebuild(&mut self) {
        let from = self.to - self.window_secs;
        self.entries = match &self.data {
            Some(d) => timeline::build_full(d, from, self.to),
            None => Vec::new(),
        };
        self.table.recompute(
            &self.entries,
            None,
            |_, _| std::cmp::Ordering::Equal,
            self.to,
        );
    }
}

pub fn window_label(secs: i64) -> String {
    if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else {
        format!("{}m", secs / 60)
    }
}

/// The load the visible timeline needs now (`shown`: asked for, so always).
pub fn refresh(state: &mut State, request: RequestId, shown: bool) -> Option<Effect> {
    let now = state.now_unix;
    let View::Timeline(v) = state.view_mut() else {
        return None;
    };
    let due = v
        .loaded_at
        .is_none_or(|t| now.saturating_sub(t) >= BACKGROUND_EVERY);
    if !shown && (!due || v.request.is_some()) {
        return None;
    }
    v.request = Some(request);
    v.loading = shown || v.data.is_none();
    Some(Effect::LoadTimeline {
        request,
        cluster: v.cluster.clone(),
        service: v.service.clone(),
        from_ms: (now - v.window_secs).saturating_mul(1000),
        to_ms: now.saturating_mul(1000),
    })
}

/// The runner answered.
pub fn on_loaded(state: &mut State, request: RequestId, result: Result<Box<TimelineData>, String>) {
    let now = state.now_unix;
    // What the timeline read of the service's auto scaling serves its services row too.
    let scaling = state.views.iter().find_map(|view| match (view, &result) {
        (View::Timeline(v), Ok(data)) if v.request == Some(request) => data
            .scaling
            .clone()
            .map(|s| (v.cluster.clone(), v.service.clone(), s)),
        _ => None,
    });
    if let Some((cluster, service, s)) = scaling {
        super::scaling::on_loaded(state, &cluster, &service, Ok(s));
    }
    for view in state.views.iter_mut() {
        let View::Timeline(v) = view else { continue };
        if v.request != Some(request) {
            continue;
        }
        v.request = None;
        v.loading = false;
        match result {
            Ok(data) => {
                v.data = Some(*data);
                v.error = None;
                v.to = now;
                v.loaded_at = Some(now);
                v.rebuild();
            }
            Err(e) => v.error = Some(e),
        }
        state.dirty = true;
        return;
    }
}

/// `]`: the next window, reloaded.
pub fn cycle_window(state: &mut State) -> bool {
    let View::Timeline(v) = state.view_mut() else {
        return false;
    };
    let at = WINDOWS
        .iter()
        .position(|w| *w == v.window_secs)
        .unwrap_or(0);
    v.window_secs = WINDOWS[(at + 1) % WINDOWS.len()];
    v.request = None;
    true
}

/// The timeline as Markdown, for an incident channel or write-up.
pub fn markdown(v: &TimelineView) -> String {
    let mut out = format!(
        "## Timeline: {} ({})\n\nWindow: last {} to {} UTC, newest first.\n\n",
        md_text(&v.service),
        md_text(crate::domain::Cluster::name_from_arn(&v.cluster)),
        window_label(v.window_secs),
        super::views::utc(Some(v.to)),
    );
    if let Some(d) = &v.data {
        for n in &d.notes {
            out.push_str(&format!("> {}\n", md_text(n)));
        }
        if !d.notes.is_empty() {
            out.push('\n');
        }
    }
    let all: Vec<usize> = (0..v.entries.len()).collect();
    out.push_str(&super::export::markdown_table(&v.entries, &all));
    if v.entries.is_empty() {
        out.push_str("| | | nothing happened in this window |\n");
    }
    out
}

/// Untrusted text made safe for one Markdown table cell (and for the terminal).
pub fn md_cell(s: &str) -> String {
    md_text(s).replace('|', "\\|")
}

/// Untrusted text on one Markdown line: control characters made visible, no line breaks.
pub fn md_text(s: &str) -> String {
    crate::text::sanitize(s).replace(['\n', '\r'], " ")
}
