//! The logs pane's model and reducer: a tail session's events into the bounded buffer, the
//! cursor that follows the bottom (or stays put and counts new lines), the query filter,
//! search, pivot on a correlation id, and the toggles.
//!
//! The buffer sits behind an `Arc` so that the navigation stack (which clones views for
//! "previous view") never copies 50,000 lines; it is only written while its view is on top.

use std::cell::Cell;
use std::sync::Arc;

use super::command::{Command, Context};
use super::effect::{Effect, RequestId};
use super::state::{Input, InputKind, State};
use super::update::set_status;
use super::views::View;
use crate::logs::LogEvent;
use crate::logs::buffer::LogBuffer;
use crate::logs::query::{self, Query};
use crate::logs::session::SessionEvent;
use crate::logs::source::Scope;
use crate::logs::tail::{TailMessage, TailStatus};

/// Identifies one tail session (ids come from the request counter).
pub type TailId = RequestId;

/// How far back the pane starts, and how much one "older" step reads.
pub const DEFAULT_SINCE_MS: i64 = 10 * 60_000;
pub const OLDER_STEP_MS: i64 = 10 * 60_000;

#[derive(Debug, Clone, PartialEq)]
pub enum TailState {
    /// Finding the streams (task definitions, tasks).
    Resolving,
    /// Reading the history window.
    Reading,
    Live {
        sampled: bool,
    },
    Polling {
        reason: Option<String>,
    },
    Throttled,
    Retrying(String),
    /// The session ended without error (only when not following).
    Ended,
    Failed(String),
}

/// An active `/` search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub text: String,
    pub case_sensitive: bool,
}

impl Search {
    pub fn new(text: &str) -> Search {
        Search {
            text: text.to_string(),
            case_sensitive: text.chars().any(char::is_uppercase),
        }
    }

    pub fn matches(&self, ev: &LogEvent) -> bool {
        query::contains(&ev.raw, &self.text, self.case_sensitive)
    }
}

#[derive(Debug, Clone)]
pub struct LogsView {
    pub scope: Scope,
    /// The session feeding this view; only the running one (`State::logs_tail`) is live.
    pub tail: TailId,
    /// Start of the history read (epoch ms).
    pub since_ms: i64,
    pub state: TailState,
    pub history_loaded: bool,
    pub loading_older: bool,
    pub streams: usize,
    /// Containers whose streams are read (from the resolution), for `c` and the tag column.
    pub containers: Vec<String>,
    /// Containers whose logs are not in CloudWatch, and where they go instead.
    pub notes: Vec<String>,
    /// Every task read has stopped: the title says so instead of "live".
    pub all_stopped: bool,
    pub buffer: Arc<LogBuffer>,
    pub capacity: usize,
    /// Cursor, an index into the filtered view.
    pub selected: usize,
    /// At the bottom: new lines scroll in and the cursor stays on the newest.
    pub follow: bool,
    /// Lines that arrived (and pass the filter) while not following.
    pub new_lines: usize,
    pub raw: bool,
    pub wrap: bool,
    pub timestamps: bool,
    /// The selected line is shown pretty-printed below the list.
    pub expanded: bool,
    pub search: Option<Search>,
    /// First visible line, kept by the renderer so the cursor stays in view.
    pub offset: Cell<usize>,
}

impl LogsView {
    pub fn new(scope: Scope, since_ms: i64, capacity: usize) -> LogsView {
        LogsView {
            scope,
            tail: 0,
            since_ms,
            state: TailState::Resolving,
            history_loaded: false,
            loading_older: false,
            streams: 0,
            containers: Vec::new(),
            notes: Vec::new(),
            all_stopped: false,
            buffer: Arc::new(LogBuffer::new(capacity)),
            capacity,
            selected: 0,
            follow: true,
            new_lines: 0,
            raw: false,
            wrap: false,
            timestamps: true,
            expanded: false,
            search: None,
            offset: Cell::new(0),
        }
    }

    /// `service checkout-api`, `task 1a2b3c4d`, `task 1a2b3c4d · app`.
    pub fn title(&self) -> String {
        let mut t = match (&self.scope.task, &self.scope.service) {
            (Some(task), _) => {
                let id = crate::domain::Task::id_from_arn(task);
                format!("task {}", id.get(..8).unwrap_or(id))
            }
            (None, Some(service)) => format!("service {service}"),
            (None, None) => "logs".to_string(),
        };
        if let Some(c) = &self.scope.container {
            t.push_str(" · ");
            t.push_str(c);
        }
        t
    }

    /// The selected event.
    pub fn selected_event(&self) -> Option<&LogEvent> {
        self.buffer.view_get(self.selected)
    }

    /// Show the task column: more than one task's streams are merged.
    pub fn shows_task(&self) -> bool {
        self.scope.task.is_none()
    }

    /// Show the container column: more than one container is read.
    pub fn shows_container(&self) -> bool {
        self.scope.container.is_none() && self.containers.len() > 1
    }

    fn clamp(&mut self) {
        let len = self.buffer.view_len();
        if self.follow || len == 0 {
            self.selected = len.saturating_sub(1);
        } else {
            self.selected = self.selected.min(len - 1);
        }
    }

    /// Forget what was read (a restart re-reads the window); keep the reader's settings.
    fn reset_for_restart(&mut self) {
        let filter = self.buffer.filter().clone();
        let mut buffer = LogBuffer::new(self.capacity);
        buffer.set_filter(filter);
        self.buffer = Arc::new(buffer);
        self.state = TailState::Resolving;
        self.history_loaded = false;
        self.loading_older = false;
        self.selected = 0;
        self.follow = true;
        self.new_lines = 0;
        self.offset.set(0);
    }
}

/// The tail of the logs view on top, if that view's session is the running one.
fn top_logs(state: &mut State) -> Option<&mut LogsView> {
    let running = state.logs_tail;
    match state.view_mut() {
        View::Logs(v) if running == Some(v.tail) => Some(v),
        _ => None,
    }
}

/// Start (or restart) the session of the logs view on top.
pub fn start(state: &mut State) -> Vec<Effect> {
    let id = state.allocate_request();
    let View::Logs(v) = state.view_mut() else {
        return Vec::new();
    };
    if v.tail != 0 {
        v.reset_for_restart();
    }
    v.tail = id;
    let effect = Effect::StartLogs {
        tail: id,
        scope: v.scope.clone(),
        since_ms: v.since_ms,
    };
    state.logs_tail = Some(id);
    state.dirty = true;
    vec![effect]
}

/// Called after every action: stop the session when its view is no longer on top.
pub fn stop_if_hidden(state: &mut State, effects: &mut Vec<Effect>) {
    let Some(running) = state.logs_tail else {
        return;
    };
    let on_top = matches!(state.view(), View::Logs(v) if v.tail == running);
    if !on_top {
        state.logs_tail = None;
        effects.insert(0, Effect::StopLogs { tail: running });
    }
}

/// A session reported something.
pub fn on_session(state: &mut State, tail: TailId, event: SessionEvent) {
    let Some(v) = top_logs(state) else {
        return;
    };
    if v.tail != tail {
        return;
    }
    match event {
        SessionEvent::Resolved {
            streams,
            containers,
            notes,
            all_stopped,
        } => {
            v.streams = streams;
            v.containers = containers;
            v.notes = notes;
            v.all_stopped = all_stopped;
            if v.state == TailState::Resolving {
                v.state = TailState::Reading;
            }
        }
        SessionEvent::Failed { message, .. } => v.state = TailState::Failed(message),
        SessionEvent::Tail(msg) => on_tail(v, msg),
    }
    state.dirty = true;
}

fn on_tail(v: &mut LogsView, msg: TailMessage) {
    match msg {
        TailMessage::Events(events) => append(v, events),
        TailMessage::Older {
            events, from_ms, ..
        } => {
            let key = v.selected_event().map(EventKey::of);
            let before = v.buffer.view_len();
            Arc::make_mut(&mut v.buffer).prepend(events);
            v.since_ms = v.since_ms.min(from_ms);
            v.loading_older = false;
            if !v.follow {
                let added = v.buffer.view_len().saturating_sub(before);
                v.selected = key
                    .and_then(|k| k.find(&v.buffer))
                    .unwrap_or(v.selected + added);
            }
            v.clamp();
        }
        TailMessage::Status(s) => {
            v.state = match s {
                TailStatus::Live { sampled } => TailState::Live { sampled },
                TailStatus::Polling { reason, .. } => TailState::Polling { reason },
                TailStatus::Throttled { .. } => TailState::Throttled,
                TailStatus::Retrying { error, .. } => TailState::Retrying(error.to_string()),
            }
        }
        TailMessage::HistoryLoaded { .. } => {
            v.history_loaded = true;
            if matches!(v.state, TailState::Reading | TailState::Resolving) {
                v.state = TailState::Polling { reason: None };
            }
        }
        TailMessage::End(None) => v.state = TailState::Ended,
        TailMessage::End(Some(e)) => v.state = TailState::Failed(e.to_string()),
    }
}

fn append(v: &mut LogsView, events: Vec<LogEvent>) {
    if v.follow {
        Arc::make_mut(&mut v.buffer).extend(events);
        v.clamp();
        return;
    }
    let filter = v.buffer.filter();
    let passing = events.iter().filter(|e| filter.matches(e)).count();
    let key = v.selected_event().map(EventKey::of);
    Arc::make_mut(&mut v.buffer).extend(events);
    v.new_lines += passing;
    if let Some(i) = key.and_then(|k| k.find(&v.buffer)) {
        v.selected = i;
    }
    v.clamp();
}

/// Identifies a line across buffer changes (eviction, late inserts, prepends).
#[derive(Debug, Clone)]
struct EventKey {
    timestamp_ms: i64,
    event_id: String,
}

impl EventKey {
    fn of(ev: &LogEvent) -> EventKey {
        EventKey {
            timestamp_ms: ev.timestamp_ms,
            event_id: ev.event_id.clone(),
        }
    }

    /// Its index in the filtered view: binary search by time, then a short scan.
    fn find(&self, buffer: &LogBuffer) -> Option<usize> {
        let (mut lo, mut hi) = (0, buffer.view_len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match buffer.view_get(mid) {
                Some(e) if e.timestamp_ms < self.timestamp_ms => lo = mid + 1,
                _ => hi = mid,
            }
        }
        (lo..buffer.view_len())
            .take_while(|&i| {
                buffer
                    .view_get(i)
                    .is_some_and(|e| e.timestamp_ms == self.timestamp_ms)
            })
            .find(|&i| {
                buffer
                    .view_get(i)
                    .is_some_and(|e| e.event_id == self.event_id)
            })
    }
}

/// Commands while the logs pane is on top. `None`: not a logs command (the caller handles it).
pub fn command(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    if !matches!(state.view(), View::Logs(_)) {
        return None;
    }
    let page = state.page_rows() as i64;
    let effects = match cmd {
        Command::Up => move_cursor(state, -1),
        Command::Down => move_cursor(state, 1),
        Command::PageUp => move_cursor(state, -page),
        Command::PageDown => move_cursor(state, page),
        Command::Top => move_cursor(state, i64::MIN / 2),
        Command::Bottom | Command::ToggleFollow => {
            if let View::Logs(v) = state.view_mut() {
                if cmd == Command::ToggleFollow && v.follow {
                    v.follow = false;
                } else {
                    v.follow = true;
                    v.new_lines = 0;
                    v.clamp();
                }
            }
            Vec::new()
        }
        Command::Refresh => start(state),
        Command::Select => toggle(state, |v| v.expanded = !v.expanded),
        Command::ToggleRaw => toggle(state, |v| v.raw = !v.raw),
        Command::ToggleWrap => toggle(state, |v| v.wrap = !v.wrap),
        Command::ToggleTimestamps => toggle(state, |v| v.timestamps = !v.timestamps),
        Command::Filter => {
            let current = match state.view() {
                View::Logs(v) => v.buffer.filter().source.clone(),
                _ => String::new(),
            };
            state.input = Some(Input::new(InputKind::LogQuery, current));
            Vec::new()
        }
        Command::Search => {
            let current = match state.view() {
                View::Logs(v) => v
                    .search
                    .as_ref()
                    .map(|s| s.text.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            state.input = Some(Input::new(InputKind::Search, current));
            Vec::new()
        }
        Command::SearchNext => search_step(state, true),
        Command::SearchPrev => search_step(state, false),
        Command::ErrorsOnly => level_filter(state, "level>=error"),
        Command::WarningsUp => level_filter(state, "level>=warn"),
        Command::Pivot => pivot(state),
        Command::LoadOlder => load_older(state),
        Command::CycleContainer => cycle_container(state),
        Command::SaveLogs => save(state),
        Command::CopyId | Command::CopyArn | Command::CopyIp => copy_line(state),
        Command::Back => {
            // Esc: close the expanded line, then clear the search, then the filter, then leave.
            if let View::Logs(v) = state.view_mut() {
                if v.expanded {
                    v.expanded = false;
                    return Some(Vec::new());
                }
                if v.search.is_some() {
                    v.search = None;
                    return Some(Vec::new());
                }
                if !v.buffer.filter().is_empty() {
                    apply_filter(state, Query::default());
                    return Some(Vec::new());
                }
            }
            return None;
        }
        _ => return None,
    };
    state.dirty = true;
    Some(effects)
}

fn toggle(state: &mut State, f: impl FnOnce(&mut LogsView)) -> Vec<Effect> {
    if let View::Logs(v) = state.view_mut() {
        f(v);
    }
    Vec::new()
}

fn move_cursor(state: &mut State, delta: i64) -> Vec<Effect> {
    if let View::Logs(v) = state.view_mut() {
        let len = v.buffer.view_len() as i64;
        if len == 0 {
            return Vec::new();
        }
        let target = (v.selected as i64).saturating_add(delta).clamp(0, len - 1);
        v.selected = target as usize;
        let at_bottom = v.selected + 1 == len as usize;
        if delta < 0 && !at_bottom {
            v.follow = false;
        } else if at_bottom && delta > 0 {
            // Scrolling down onto the newest line resumes following.
            v.follow = true;
            v.new_lines = 0;
        }
    }
    Vec::new()
}

/// Replace the filter (the view is recomputed once), keeping the cursor on the same line
/// when it still passes.
pub fn apply_filter(state: &mut State, query: Query) {
    if let View::Logs(v) = state.view_mut() {
        let key = v.selected_event().map(EventKey::of);
        Arc::make_mut(&mut v.buffer).set_filter(query);
        v.new_lines = 0;
        match key.and_then(|k| k.find(&v.buffer)) {
            Some(i) if !v.follow => v.selected = i,
            _ => v.clamp(),
        }
        v.clamp();
    }
    state.dirty = true;
}

/// `e` / `w`: show only errors (or warnings and up); the same key again shows everything.
fn level_filter(state: &mut State, text: &str) -> Vec<Effect> {
    let current = match state.view() {
        View::Logs(v) => v.buffer.filter().source.clone(),
        _ => return Vec::new(),
    };
    let next = if current == text { "" } else { text };
    match Query::parse(next) {
        Ok(q) => apply_filter(state, q),
        Err(e) => set_status(state, format!("bad filter: {e}"), true),
    }
    Vec::new()
}

/// `p`: filter to the selected line's request or trace id, across every task of the scope.
fn pivot(state: &mut State) -> Vec<Effect> {
    let View::Logs(v) = state.view() else {
        return Vec::new();
    };
    let Some(ev) = v.selected_event() else {
        set_status(state, "no line selected", true);
        return Vec::new();
    };
    let Some((key, value)) = ev.parsed.correlation_ids().next() else {
        set_status(
            state,
            "this line has no request, trace or correlation id",
            true,
        );
        return Vec::new();
    };
    let text = format!("{key}={}", quote(value));
    if v.buffer.filter().source == text {
        apply_filter(state, Query::default());
        set_status(state, "pivot cleared", false);
        return Vec::new();
    }
    let shown = crate::text::sanitize(&text).into_owned();
    match Query::parse(&text) {
        Ok(q) => {
            apply_filter(state, q);
            set_status(state, format!("pivot: {shown}"), false);
        }
        Err(e) => set_status(state, format!("cannot pivot on {shown}: {e}"), true),
    }
    Vec::new()
}

/// A query value: bare when it is one plain word, else quoted (quotes inside are dropped:
/// the language has no escapes, and an id with quotes in it is not worth a parse error).
fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"'));
    if plain {
        value.to_string()
    } else {
        format!("\"{}\"", value.replace('"', ""))
    }
}

fn search_step(state: &mut State, forward: bool) -> Vec<Effect> {
    let View::Logs(v) = state.view_mut() else {
        return Vec::new();
    };
    let Some(search) = v.search.clone() else {
        let msg = match state.keymap.first_key(Context::Logs, Command::Search) {
            Some(k) => format!("no search: press {k} first"),
            None => "no search yet".to_string(),
        };
        set_status(state, msg, true);
        return Vec::new();
    };
    match find_match(v, &search, v.selected, forward, false) {
        Some(i) => {
            v.selected = i;
            v.follow = i + 1 == v.buffer.view_len() && v.follow;
        }
        None => {
            let msg = format!("no line matches {}", crate::text::sanitize(&search.text));
            set_status(state, msg, true);
        }
    }
    Vec::new()
}

/// The next (or previous) matching line from `from`, wrapping around; `inclusive` checks
/// `from` itself first (a new search starts on the current line).
pub fn find_match(
    v: &LogsView,
    search: &Search,
    from: usize,
    forward: bool,
    inclusive: bool,
) -> Option<usize> {
    let len = v.buffer.view_len();
    if len == 0 || search.text.is_empty() {
        return None;
    }
    let start = if inclusive { 0 } else { 1 };
    (start..=len).find_map(|step| {
        let i = if forward {
            (from + step) % len
        } else {
            (from + len * 2 - step) % len
        };
        v.buffer
            .view_get(i)
            .filter(|e| search.matches(e))
            .map(|_| i)
    })
}

/// A search typed on the input line: jump to the first match at or after the cursor.
pub fn set_search(state: &mut State, text: &str) {
    let View::Logs(v) = state.view_mut() else {
        return;
    };
    if text.is_empty() {
        v.search = None;
        return;
    }
    let search = Search::new(text);
    if let Some(i) = find_match(v, &search, v.selected, true, true) {
        v.selected = i;
        if i + 1 < v.buffer.view_len() {
            v.follow = false;
        }
    }
    v.search = Some(search);
    state.dirty = true;
}

fn load_older(state: &mut State) -> Vec<Effect> {
    let running = state.logs_tail;
    let View::Logs(v) = state.view_mut() else {
        return Vec::new();
    };
    if running != Some(v.tail) || matches!(v.state, TailState::Failed(_)) {
        let msg = match state.keymap.first_key(Context::Logs, Command::Refresh) {
            Some(k) => format!("the tail is not running: {k} restarts it"),
            None => "the tail is not running".to_string(),
        };
        set_status(state, msg, true);
        return Vec::new();
    }
    if v.loading_older {
        return Vec::new();
    }
    v.loading_older = true;
    let tail = v.tail;
    set_status(state, "reading 10 more minutes of history", false);
    vec![Effect::FetchOlderLogs {
        tail,
        span_ms: OLDER_STEP_MS,
    }]
}

/// `c`: all containers → the first → the next … → all again (restarts the tail).
fn cycle_container(state: &mut State) -> Vec<Effect> {
    let View::Logs(v) = state.view_mut() else {
        return Vec::new();
    };
    if v.containers.len() < 2 && v.scope.container.is_none() {
        set_status(state, "only one container here", true);
        return Vec::new();
    }
    let next = match &v.scope.container {
        None => v.containers.first().cloned(),
        Some(c) => {
            let i = v.containers.iter().position(|x| x == c);
            i.and_then(|i| v.containers.get(i + 1)).cloned()
        }
    };
    v.scope.container = next;
    start(state)
}

fn copy_line(state: &mut State) -> Vec<Effect> {
    let picked = match state.view() {
        View::Logs(v) => v
            .selected_event()
            .map(|e| crate::text::sanitize(&e.raw).into_owned()),
        _ => None,
    };
    match picked {
        Some(text) if !text.is_empty() => {
            set_status(state, "copied the line (OSC 52)", false);
            vec![Effect::Terminal(crate::app::TerminalEffect::Copy(text))]
        }
        _ => {
            set_status(state, "nothing to copy here", true);
            Vec::new()
        }
    }
}

/// `s`: write the filtered lines, as `berth logs --output text` would, to a new file.
fn save(state: &mut State) -> Vec<Effect> {
    let now_ms = state.now_unix * 1000;
    let View::Logs(v) = state.view() else {
        return Vec::new();
    };
    if v.buffer.view_len() == 0 {
        set_status(state, "no lines to save", true);
        return Vec::new();
    }
    let mut contents = Vec::with_capacity(v.buffer.view_len() * 128);
    for ev in v.buffer.view_iter() {
        // Writing to a Vec cannot fail.
        let _ = crate::logs::output::write_text(&mut contents, ev);
    }
    let name: String = v
        .title()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stamp: String = crate::logs::time::format_rfc3339(now_ms)
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect();
    let path = format!("berth-{}-{stamp}.log", name.trim_matches('-'));
    let lines = v.buffer.view_len();
    vec![Effect::SaveLogs {
        path: path.into(),
        contents,
        lines,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pivot_values_are_quoted_when_needed() {
        assert_eq!(quote("abc-123"), "abc-123");
        assert_eq!(quote("a b"), "\"a b\"");
        assert_eq!(quote("x\"y z"), "\"xy z\"");
        assert!(Query::parse(&format!("request_id={}", quote("(odd) id"))).is_ok());
    }
}
