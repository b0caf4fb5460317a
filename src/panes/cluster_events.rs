//! The cluster's event feed (`e` on a cluster, `:events` at cluster scope, `:events all`): the
//! events of every service of the cluster merged, newest first, each with its service, coloured
//! by the one severity rule (`domain::severity::event_severity`). `/` filters, `enter` opens the
//! event's service (its deployments), `E` exports the feed as Markdown.
//!
//! What it costs: nothing when the services view under it holds the cluster's services loaded
//! less than a refresh interval ago (DescribeServices already returned their events); otherwise
//! the services loader (ListServices 100 a page, DescribeServices 10 a call, bounded
//! concurrency): for N services ⌈N/100⌉ + ⌈N/10⌉ calls, 2,000 services → 20 + 200. It refreshes
//! only while on screen, one load at a time, and backs off after an error.
//!
//! ECS keeps the last 100 events of each service, so the feed covers at most 100 per service;
//! the merged list keeps the [`CAP`] newest (the title says when older ones were dropped), so
//! 2,000 chatty services hold 5,000 events, not 200,000.

use std::cmp::Ordering;

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::app::RequestId;
use crate::app::State;
use crate::app::columns::{age, severity_slot};
use crate::app::command::{Command, Context};
use crate::app::pane::{InFlight, Pane, PaneData, PaneLoad, Reply};
use crate::app::table::{Column, SortKey, TableView, Tabular, shown_columns};
use crate::app::views::{View, utc};
use crate::config::theme::{Slot, Theme};
use crate::domain::problems::without_service_prefix;
use crate::domain::severity::{Severity, event_severity};
use crate::domain::{Service, ServiceEvent};
use crate::text::sanitize;

/// The most events the feed keeps (the newest).
pub const CAP: usize = 5_000;

/// What ECS keeps per service (DescribeServices returns at most this many events).
pub const EVENTS_PER_SERVICE: usize = 100;

/// Longest wait before the next background refresh after failures.
const MAX_BACKOFF_SECS: i64 = 60;

/// One event of the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    pub service: String,
    pub service_arn: String,
    pub event: ServiceEvent,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterEvents {
    pub cluster: String,
    /// Newest first, at most [`CAP`].
    pub rows: Vec<FeedEvent>,
    pub table: TableView,
    /// Services the feed was built from.
    pub services: usize,
    /// Events left out by the cap.
    pub dropped: usize,
    /// When the services it was built from were described (unix seconds).
    pub loaded_at: Option<i64>,
    /// Taken from the services view instead of loaded.
    pub reused: bool,
    load: InFlight,
    pub error: Option<String>,
    /// Consecutive failures; each doubles the wait before the next background refresh.
    pub failures: u32,
    pub not_before: i64,
}

impl ClusterEvents {
    pub fn new(cluster: &str) -> ClusterEvents {
        ClusterEvents {
            cluster: cluster.to_string(),
            rows: Vec::new(),
            table: TableView::default(),
            services: 0,
            dropped: 0,
            loaded_at: None,
            reused: false,
            load: InFlight::default(),
            error: None,
            failures: 0,
            not_before: 0,
        }
    }

    /// Replace the feed with the events of `services`. Returns whether what it shows changed.
    pub fn set_services<'a>(
        &mut self,
        services: impl IntoIterator<Item = &'a Service>,
        now: i64,
    ) -> bool {
        let (rows, count, dropped) = merge(services, CAP);
        let changed = rows != self.rows || count != self.services || dropped != self.dropped;
        let selected = self
            .table
            .selected_row()
            .and_then(|i| self.rows.get(i))
            .map(|r| r.event.id.clone());
        self.rows = rows;
        self.services = count;
        self.dropped = dropped;
        self.loaded_at = Some(now);
        self.error = None;
        self.failures = 0;
        self.not_before = 0;
        self.table
            .recompute(&self.rows, selected.as_deref(), feed_order, now);
        changed
    }

    /// `events of 37 services (ECS keeps the last 100 each), newest 2m ago`.
    pub fn coverage(&self, now: i64) -> String {
        let mut out = format!(
            "{} of {} (ECS keeps the last {EVENTS_PER_SERVICE} each)",
            crate::ui::plural(self.rows.len(), "event"),
            crate::ui::plural(self.services, "service"),
        );
        if let Some(newest) = self.rows.first().and_then(|r| r.event.created_at) {
            out.push_str(&format!(", newest {} ago", age(now, Some(newest))));
        }
        if self.dropped > 0 {
            out.push_str(&format!(
                ", capped at the {CAP} newest ({} older not kept)",
                self.dropped
            ));
        }
        out
    }

    fn selected(&self) -> Option<&FeedEvent> {
        self.table.selected_row().and_then(|i| self.rows.get(i))
    }
}

/// The events of `services` merged newest first (events of the same second: by service, then in
/// the API's order), the `cap` newest kept. Returns (events, services, events dropped).
pub fn merge<'a>(
    services: impl IntoIterator<Item = &'a Service>,
    cap: usize,
) -> (Vec<FeedEvent>, usize, usize) {
    let mut count = 0;
    let mut rows = Vec::new();
    for s in services {
        count += 1;
        rows.extend(s.events.iter().map(|e| FeedEvent {
            service: s.name.clone(),
            service_arn: s.arn.clone(),
            severity: event_severity(&e.message),
            event: e.clone(),
        }));
    }
    rows.sort_by(feed_order);
    let dropped = rows.len().saturating_sub(cap);
    rows.truncate(cap);
    (rows, count, dropped)
}

/// Newest first; the same second by service name; then the API's order (the sort is stable).
pub fn feed_order(a: &FeedEvent, b: &FeedEvent) -> Ordering {
    b.event
        .created_at
        .cmp(&a.event.created_at)
        .then_with(|| a.service.cmp(&b.service))
}

const FEED: &[Column<FeedEvent>] = &[
    Column::<FeedEvent>::new("AGE", Length(4), 0, |e| utc(e.event.created_at))
        .shown(|e, now| age(now, e.event.created_at))
        .sort(|e| SortKey::Num(e.event.created_at.unwrap_or(0) as f64))
        .slot(|_| Slot::Muted),
    Column::<FeedEvent>::new("SERVICE", Length(18), 0, |e| e.service.clone())
        .slot(|_| Slot::Accent),
    // The SERVICE column names it: the `(service NAME)` opening only costs width.
    Column::<FeedEvent>::new("MESSAGE", Fill(1), 0, |e| e.event.message.clone())
        .shown(|e, _| without_service_prefix(&e.event.message, &e.service).to_string())
        .slot(|e| severity_slot(e.severity)),
];

impl Tabular for FeedEvent {
    fn columns() -> &'static [Column<FeedEvent>] {
        FEED
    }
    fn key(&self) -> &str {
        &self.event.id
    }
}

impl Pane for ClusterEvents {
    fn context(&self) -> Context {
        Context::ClusterEvents
    }

    fn crumb(&self) -> String {
        "events (all services)".into()
    }

    fn cluster(&self) -> Option<&str> {
        Some(&self.cluster)
    }

    fn table(&self) -> Option<&TableView> {
        Some(&self.table)
    }

    fn table_mut(&mut self) -> Option<&mut TableView> {
        Some(&mut self.table)
    }

    fn columns(&self, width: u16) -> Option<(Vec<&'static str>, Vec<usize>)> {
        Some((FeedEvent::headers(), shown_columns::<FeedEvent>(width, &[])))
    }

    fn recompute(&mut self, now: i64) {
        let selected = self.selected().map(|r| r.event.id.clone());
        self.table
            .recompute(&self.rows, selected.as_deref(), feed_order, now);
    }

    fn reuse(&mut self, below: &[View], now: i64, max_age: i64) -> bool {
        let fresh = below.iter().rev().find_map(|v| match v {
            View::Services(s)
                if s.cluster == self.cluster
                    && s.data.loaded_once
                    && !s.data.is_loading()
                    && s.data.error.is_none() =>
            {
                s.data
                    .loaded_at
                    .filter(|&at| now - at < max_age && Some(at) > self.loaded_at)
                    .map(|at| (s, at))
            }
            _ => None,
        });
        let Some((services, at)) = fresh else {
            return false;
        };
        self.set_services(services.data.rows.iter().map(|r| &r.service), now);
        self.loaded_at = Some(at);
        self.reused = true;
        true
    }

    fn refresh(&mut self, request: RequestId, shown: bool, now: i64) -> Option<PaneLoad> {
        if self.load.busy() && !shown {
            return None;
        }
        if !shown && now < self.not_before {
            return None;
        }
        self.load.start(request, shown || self.loaded_at.is_none());
        Some(PaneLoad::ClusterServices {
            cluster: self.cluster.clone(),
        })
    }

    fn loaded(
        &mut self,
        request: RequestId,
        result: &Result<PaneData, String>,
        now: i64,
    ) -> Option<bool> {
        if !self.load.answer(request) {
            return None;
        }
        match result {
            Ok(PaneData::Services(services)) => {
                self.reused = false;
                let changed = self.set_services(services, now);
                Some(changed)
            }
            Ok(_) => Some(false),
            Err(e) => {
                self.failures = self.failures.saturating_add(1);
                self.not_before = now + (5_i64 << self.failures.min(4)).min(MAX_BACKOFF_SECS);
                let first = self.error.is_none();
                self.error = Some(e.clone());
                Some(first || self.rows.is_empty())
            }
        }
    }

    fn is_loading(&self) -> bool {
        self.load.spinner()
    }

    fn answered(&self) -> bool {
        self.loaded_at.is_some() || self.error.is_some()
    }

    fn command(&mut self, cmd: Command, _page: usize) -> Option<Reply> {
        match cmd {
            Command::Select => {
                let e = self.selected()?;
                Some(Reply {
                    push: Some(View::Deployments(crate::app::nav::service_view(
                        &self.cluster,
                        &e.service,
                    ))),
                    ..Reply::default()
                })
            }
            _ => None,
        }
    }

    fn copy(&self, cmd: Command) -> Option<(&'static str, String)> {
        let e = self.selected()?;
        match cmd {
            Command::CopyId => Some(("event", e.event.message.clone())),
            Command::CopyArn => Some(("service ARN", e.service_arn.clone())),
            _ => None,
        }
    }

    fn markdown(&self, title: &str) -> Result<(String, usize), String> {
        use crate::app::timeline::md_text;
        if self.loaded_at.is_none() {
            return Err("the events have not loaded yet".into());
        }
        let now = self.loaded_at.unwrap_or_default();
        let mut out = format!("## {}\n\n{}.", md_text(title), md_text(&self.coverage(now)));
        if !self.table.filter.is_empty() {
            out.push_str(&format!(" Filter: `{}`.", md_text(&self.table.filter)));
        }
        out.push_str("\n\n");
        out.push_str(&crate::app::export::markdown_table(
            &self.rows,
            &self.table.visible,
        ));
        Ok((out, self.table.visible.len()))
    }

    fn render(&self, frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
        render(self, frame, area, state, theme);
    }

    fn clone_box(&self) -> Box<dyn Pane> {
        Box::new(self.clone())
    }
}

fn render(v: &ClusterEvents, frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let now = state.now_unix;
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(area);
    let empty = if let Some(e) = &v.error
        && v.rows.is_empty()
    {
        Some((
            format!("Could not load the services' events: {e}\nctrl-r tries again"),
            Slot::Error,
        ))
    } else if v.loaded_at.is_none() {
        Some(("Loading the services' events…".to_string(), Slot::Muted))
    } else if !v.rows.is_empty() {
        Some(("No events match the filter.".to_string(), Slot::Muted))
    } else {
        Some(("No events.".to_string(), Slot::Muted))
    };
    let title = match v.loaded_at {
        Some(_) => v.coverage(now),
        None => "events of the cluster's services".to_string(),
    };
    crate::ui::table::render(
        frame,
        table_area,
        crate::ui::table::TableSpec {
            title,
            hidden: &[],
            rows: &v.rows,
            table: &v.table,
            now,
            empty,
            stale_error: v
                .error
                .as_ref()
                .filter(|_| !v.rows.is_empty())
                .map(|e| format!("{e}; showing the events from {} ago", age(now, v.loaded_at))),
            row_style: &|_| None,
        },
        theme,
    );
    if let Some(e) = v.selected() {
        let block = Block::default()
            .borders(Borders::TOP)
            .border_style(theme.style(Slot::Border))
            .title(Span::styled(
                format!(" {} ", sanitize(&e.service)),
                theme.style(Slot::Muted),
            ));
        frame.render_widget(
            Paragraph::new(crate::ui::event_line(
                e.event.created_at,
                &e.event.message,
                now,
                theme,
            ))
            .block(block)
            .wrap(Wrap { trim: true }),
            detail_area,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, events: &[(i64, &str)]) -> Service {
        Service {
            name: name.into(),
            arn: format!("arn:aws:ecs:eu-west-1:1:service/prod/{name}"),
            events: events
                .iter()
                .enumerate()
                .map(|(i, (at, m))| ServiceEvent {
                    id: format!("{name}-{i}"),
                    created_at: Some(*at),
                    message: m.to_string(),
                })
                .collect(),
            ..Service::default()
        }
    }

    #[test]
    fn merge_interleaves_newest_first_and_caps() {
        let a = service("a", &[(30, "a3"), (10, "a1")]);
        let b = service("b", &[(20, "b2"), (5, "b0")]);
        let (rows, n, dropped) = merge([&a, &b], 3);
        let ids: Vec<&str> = rows.iter().map(|r| r.event.message.as_str()).collect();
        assert_eq!(ids, ["a3", "b2", "a1"]);
        assert_eq!((n, dropped), (2, 1));
    }

    #[test]
    fn the_feed_keeps_the_cap_newest_and_says_so() {
        let services: Vec<Service> = (0..60)
            .map(|i| {
                let events: Vec<(i64, &str)> = (0..EVENTS_PER_SERVICE as i64)
                    .map(|k| (1_000_000 - k * 60 - i, "has reached a steady state."))
                    .collect();
                service(&format!("svc-{i:02}"), &events)
            })
            .collect();
        let mut v = ClusterEvents::new("prod");
        assert!(v.set_services(&services, 1_000_000));
        assert_eq!(v.rows.len(), CAP);
        assert_eq!(v.dropped, 60 * EVENTS_PER_SERVICE - CAP);
        let oldest_kept = v.rows.last().and_then(|r| r.event.created_at).unwrap();
        assert!(
            services
                .iter()
                .flat_map(|s| &s.events)
                .filter(|e| e.created_at.unwrap() > oldest_kept)
                .count()
                < CAP,
            "the newest are kept"
        );
        let said = v.coverage(1_000_000);
        assert!(said.starts_with("5000 events of 60 services"), "{said}");
        assert!(
            said.contains("capped at the 5000 newest (1000 older not kept)"),
            "{said}"
        );
    }

    #[test]
    fn headers_are_unique() {
        let h = FeedEvent::headers();
        let mut d = h.clone();
        d.sort();
        d.dedup();
        assert_eq!(h.len(), d.len());
    }
}
