//! Every account at once (`:fleet`, `berth --fleet NAME`): every service with a problem in
//! every (profile, region) pair of the fleet, problems first, the healthy collapsed per cluster,
//! and a row for each pair that could not be read with its fix. `enter` opens the service (or
//! the cluster) in its own account and region; `esc` comes back here, on the same row.
//!
//! Pairs arrive one by one as they are read (see `aws::fleet`): the table fills while slow
//! pairs load, and a failing pair never holds the others. Only this view refreshes while it
//! is on screen, every [`crate::app::fleet::refresh_secs`] (it grows with the fleet).

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::RequestId;
use crate::app::State;
use crate::app::command::{Command, Context};
use crate::app::fleet::FleetSetup;
use crate::app::pane::{Pane, PaneData, PaneLoad, Reply};
use crate::app::table::{Column, SortKey, TableView, Tabular, shown_columns};
use crate::config::theme::{Slot, Theme};
use crate::domain::fleet::{FleetPair, FleetRow, PairReport, RowKind};
use crate::domain::problems::Severity;
use crate::text::sanitize;
use crate::ui::table::TableSpec;

fn dash(s: Option<&str>) -> String {
    s.map_or_else(|| "-".to_string(), str::to_string)
}

fn problem_text(r: &FleetRow) -> String {
    match &r.kind {
        RowKind::Problem { problems, .. } => problems
            .iter()
            .map(|p| p.summary.clone())
            .collect::<Vec<_>>()
            .join(", "),
        RowKind::Failed(f) => format!("✗ {} — fix: {}", f.what, f.fix),
        RowKind::Loading => "loading…".into(),
        RowKind::Healthy { .. } => String::new(),
        RowKind::Empty => "no ECS services".into(),
    }
}

fn severity_slot(r: &FleetRow) -> Slot {
    match r.severity() {
        Some(Severity::Critical) => Slot::Error,
        Some(Severity::Warning) => Slot::Warning,
        _ => Slot::Muted,
    }
}

const FLEET: &[Column<FleetRow>] = &[
    Column::<FleetRow>::new("ACCOUNT", Length(16), 0, |r| r.account.clone()),
    Column::<FleetRow>::new("PROFILE", Length(14), 140, |r| r.pair.profile.clone())
        .slot(|_| Slot::Muted),
    Column::<FleetRow>::new("REGION", Length(12), 0, |r| r.pair.region.clone()),
    Column::<FleetRow>::new("CLUSTER", Length(10), 0, |r| dash(r.cluster())),
    Column::<FleetRow>::new("SERVICE", Length(16), 0, |r| match &r.kind {
        RowKind::Healthy { services, .. } => format!("{services} healthy"),
        _ => dash(r.service().map(|s| s.name.as_str())),
    })
    .slot(|r| match r.kind {
        RowKind::Healthy { .. } => Slot::Success,
        _ => Slot::Text,
    }),
    Column::<FleetRow>::new("TASKS", Length(7), 100, |r| {
        r.service()
            .map(|s| format!("{}/{}", s.running, s.desired))
            .unwrap_or_default()
    })
    .sort(|r| SortKey::Num(r.service().map_or(0.0, |s| f64::from(s.running)))),
    Column::<FleetRow>::new("ROLLOUT", Length(11), 120, |r| {
        r.service()
            .and_then(|s| s.primary())
            .and_then(|d| d.rollout_state.clone())
            .unwrap_or_default()
    }),
    Column::<FleetRow>::new("PROBLEM", Fill(1), 0, problem_text)
        .sort(|r| SortKey::Num(f64::from(6 - r.rank())))
        .slot(severity_slot),
];

impl Tabular for FleetRow {
    fn columns() -> &'static [Column<FleetRow>] {
        FLEET
    }
    fn key(&self) -> &str {
        &self.key
    }
}

/// Worst first; then by account, region, cluster, service.
fn order(a: &FleetRow, b: &FleetRow) -> std::cmp::Ordering {
    a.rank()
        .cmp(&b.rank())
        .then_with(|| a.account.cmp(&b.account))
        .then_with(|| a.pair.cmp(&b.pair))
        .then_with(|| a.cluster().cmp(&b.cluster()))
        .then_with(|| {
            a.service()
                .map(|s| s.name.as_str())
                .cmp(&b.service().map(|s| s.name.as_str()))
        })
}

#[derive(Debug, Clone)]
pub struct Fleet {
    pub setup: FleetSetup,
    /// The latest answer of each pair.
    pub reports: Vec<PairReport>,
    /// Pairs of the load in flight not answered yet.
    pending: Vec<FleetPair>,
    pub rows: Vec<FleetRow>,
    pub table: TableView,
    /// When the last complete read ended.
    pub loaded_at: Option<i64>,
    request: Option<RequestId>,
    spinner: bool,
    /// The row the pane selected itself (the top); the user has not moved since.
    auto_selected: Option<String>,
    /// The console's refresh interval (the fleet's grows from it).
    console_refresh: u64,
}

impl Fleet {
    pub fn new(setup: FleetSetup, console_refresh: u64) -> Fleet {
        Fleet {
            setup,
            reports: Vec::new(),
            pending: Vec::new(),
            rows: Vec::new(),
            table: TableView::default(),
            loaded_at: None,
            request: None,
            spinner: false,
            auto_selected: None,
            console_refresh,
        }
    }

    fn selected(&self) -> Option<&FleetRow> {
        self.table.selected_row().and_then(|i| self.rows.get(i))
    }

    /// The account id of `pair`, when read.
    pub fn account_id(&self, pair: &FleetPair) -> Option<&str> {
        self.reports
            .iter()
            .find(|r| r.pair == *pair)
            .and_then(|r| r.account.as_deref())
    }

    fn rebuild(&mut self, now: i64) {
        // until the user moves it, the selection follows the top (the worst row) as pairs
        // answer; one the user put on a row stays on that row
        let key = self
            .selected()
            .filter(|r| !matches!(r.kind, RowKind::Loading))
            .map(|r| r.key.clone())
            .filter(|k| self.auto_selected.as_ref() != Some(k));
        let aliases = &self.setup.aliases;
        // loading rows only until a pair has answered once
        let pending: Vec<FleetPair> = self
            .pending
            .iter()
            .filter(|p| self.reports.iter().all(|r| r.pair != **p))
            .cloned()
            .collect();
        self.rows = crate::domain::fleet::rows(
            &self.reports,
            &pending,
            &|s| crate::app::fleet::classify(s, now),
            &|id| aliases.get(id).cloned(),
        );
        self.table.recompute(&self.rows, key.as_deref(), order, now);
        if key.is_none() {
            self.table.selected = 0;
            self.auto_selected = self.selected().map(|r| r.key.clone());
        }
    }

    pub fn refresh_secs(&self) -> i64 {
        crate::app::fleet::refresh_secs(self.console_refresh, self.setup.targets.len())
    }

    fn counts(&self) -> (usize, usize, usize) {
        let problems = self
            .rows
            .iter()
            .filter(|r| matches!(r.kind, RowKind::Problem { .. }))
            .count();
        let failed = self
            .rows
            .iter()
            .filter(|r| matches!(r.kind, RowKind::Failed(_)))
            .count();
        let healthy = self
            .rows
            .iter()
            .map(|r| match r.kind {
                RowKind::Healthy { services, .. } => services,
                _ => 0,
            })
            .sum();
        (problems, failed, healthy)
    }
}

impl Pane for Fleet {
    fn context(&self) -> Context {
        Context::Fleet
    }

    fn crumb(&self) -> String {
        format!("fleet {}", self.setup.name)
    }

    fn table(&self) -> Option<&TableView> {
        Some(&self.table)
    }

    fn table_mut(&mut self) -> Option<&mut TableView> {
        Some(&mut self.table)
    }

    fn columns(&self, width: u16) -> Option<(Vec<&'static str>, Vec<usize>)> {
        Some((FleetRow::headers(), shown_columns::<FleetRow>(width, &[])))
    }

    fn recompute(&mut self, now: i64) {
        let key = self.selected().map(|r| r.key.clone());
        self.table.recompute(&self.rows, key.as_deref(), order, now);
    }

    fn refresh(&mut self, request: RequestId, shown: bool, now: i64) -> Option<PaneLoad> {
        let due = self
            .loaded_at
            .is_none_or(|t| now.saturating_sub(t) >= self.refresh_secs());
        if self.request.is_some() || (!shown && !due) {
            // one read of the fleet at a time, however often asked
            return None;
        }
        self.request = Some(request);
        self.spinner = shown || self.loaded_at.is_none();
        self.pending = self.setup.targets.iter().map(|t| t.pair.clone()).collect();
        if self.loaded_at.is_none() {
            self.rebuild(now);
        }
        // accounts already known need no STS call
        let targets = self
            .setup
            .targets
            .iter()
            .map(|t| {
                let mut t = t.clone();
                if t.account.is_none() {
                    t.account = self.account_id(&t.pair).map(str::to_string);
                }
                t
            })
            .collect();
        Some(PaneLoad::Fleet { targets })
    }

    fn loaded(
        &mut self,
        request: RequestId,
        result: &Result<PaneData, String>,
        now: i64,
    ) -> Option<bool> {
        if self.request != Some(request) {
            return None;
        }
        match result {
            Ok(PaneData::FleetPair(report)) => {
                self.pending.retain(|p| *p != report.pair);
                let before = self.rows.clone();
                match self.reports.iter_mut().find(|r| r.pair == report.pair) {
                    Some(old) => *old = report.clone(),
                    None => self.reports.push(report.clone()),
                }
                self.rebuild(now);
                Some(self.rows != before)
            }
            Ok(PaneData::FleetDone) => {
                self.request = None;
                self.spinner = false;
                self.pending.clear();
                self.loaded_at = Some(now);
                let before = self.rows.clone();
                self.rebuild(now);
                Some(self.rows != before)
            }
            Ok(_) => Some(false),
            Err(_) => {
                self.request = None;
                self.spinner = false;
                self.loaded_at = Some(now);
                Some(true)
            }
        }
    }

    fn is_loading(&self) -> bool {
        self.spinner
    }

    fn answered(&self) -> bool {
        !self.reports.is_empty() || self.loaded_at.is_some()
    }

    fn command(&mut self, cmd: Command, _page: usize) -> Option<Reply> {
        match cmd {
            Command::Select => {
                let Some(row) = self.selected() else {
                    return Some(Reply::status("select a row first", true));
                };
                let Some(target) = self
                    .setup
                    .targets
                    .iter()
                    .find(|t| t.pair == row.pair)
                    .map(|t| t.target.clone())
                else {
                    return Some(Reply::status("this pair is not in the fleet", true));
                };
                let then = match &row.kind {
                    RowKind::Problem {
                        cluster, service, ..
                    } => crate::app::View::Deployments(crate::app::nav::service_view(
                        cluster,
                        &service.name,
                    )),
                    RowKind::Healthy { cluster, .. } => crate::app::nav::services_view(cluster),
                    RowKind::Empty => crate::app::View::Clusters,
                    RowKind::Failed(f) => {
                        return Some(Reply::status(
                            format!("{}: {} — fix: {}", row.pair.key(), f.what, f.fix),
                            true,
                        ));
                    }
                    RowKind::Loading => {
                        return Some(Reply::status("still loading this pair", false));
                    }
                };
                Some(Reply {
                    switch: Some((target, then)),
                    ..Reply::default()
                })
            }
            _ => None,
        }
    }

    fn copy(&self, _cmd: Command) -> Option<(&'static str, String)> {
        let r = self.selected()?;
        match r.service() {
            Some(s) => Some(("service ARN", s.arn.clone())),
            None => Some(("profile/region", r.pair.key())),
        }
    }

    fn markdown(&self, title: &str) -> Result<(String, usize), String> {
        if !self.answered() {
            return Err("the fleet has not loaded yet".into());
        }
        let body = crate::app::export::markdown_table(&self.rows, &self.table.visible);
        Ok((
            format!("## {}\n\n{body}", crate::app::timeline::md_text(title)),
            self.table.visible.len(),
        ))
    }

    fn header_note(&self, state: &State) -> Option<String> {
        let row = self.selected()?;
        let id = self.account_id(&row.pair);
        let rule = state.safety.rule(Some(&row.pair.profile), id);
        (rule.protected || rule.read_only).then(|| {
            let what = match (rule.protected, rule.read_only) {
                (true, true) => "protected, read-only",
                (true, false) => "protected",
                _ => "read-only",
            };
            format!("{what} account: {}", row.account)
        })
    }

    fn render(&self, frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
        let pairs = self.setup.targets.len();
        let (problems, failed, healthy) = self.counts();
        let mut title = format!(
            "fleet {} · {pairs} pairs · {problems} problem{} · {failed} pair{} failed · {healthy} healthy",
            sanitize(&self.setup.name),
            if problems == 1 { "" } else { "s" },
            if failed == 1 { "" } else { "s" },
        );
        // progress only for a read the user asked for (or the first): a background reload
        // draws nothing unless a row changes, so an idle fleet writes nothing
        if self.request.is_some() && self.spinner {
            let done = pairs.saturating_sub(self.pending.len());
            title.push_str(&format!(" · reading {done}/{pairs}"));
        }
        // the selected row in full under the table: its problem or its fix
        let detail = self.selected().map(|r| match &r.kind {
            RowKind::Failed(f) => (
                format!("{} · {} — fix: {}", r.pair.key(), f.what, f.fix),
                Slot::Error,
            ),
            RowKind::Problem {
                problems, service, ..
            } => (
                format!(
                    "{} · {}: {}",
                    r.pair.key(),
                    service.name,
                    problems
                        .iter()
                        .map(|p| match &p.detail {
                            Some(d) => format!("{} ({d})", p.summary),
                            None => p.summary.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                severity_slot(r),
            ),
            _ => (String::new(), Slot::Muted),
        });
        let detail_height = u16::from(detail.as_ref().is_some_and(|d| !d.0.is_empty()));
        let unmatched_height = u16::from(!self.setup.unmatched.is_empty());
        let [table_area, detail_area, unmatched_area] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(detail_height),
            Constraint::Length(unmatched_height),
        ])
        .areas(area);
        if unmatched_height > 0 {
            let text = format!(
                "no profile on this machine matches {}",
                self.setup.unmatched.join(", ")
            );
            frame.render_widget(
                Paragraph::new(Line::styled(
                    sanitize(&text).into_owned(),
                    theme.style(Slot::Warning),
                )),
                unmatched_area,
            );
        }
        let empty = if self.rows.is_empty() {
            Some(("No pairs in this fleet.".to_string(), Slot::Muted))
        } else {
            None
        };
        crate::ui::table::render(
            frame,
            table_area,
            TableSpec {
                title,
                hidden: &[],
                rows: &self.rows,
                table: &self.table,
                now: state.now_unix,
                empty,
                stale_error: None,
                row_style: &|r: &FleetRow| {
                    matches!(r.kind, RowKind::Healthy { .. } | RowKind::Loading)
                        .then(|| theme.style(Slot::Muted))
                },
            },
            theme,
        );
        if let Some((text, slot)) = detail
            && detail_height > 0
        {
            frame.render_widget(
                Paragraph::new(Line::from(Span::styled(
                    sanitize(&text).into_owned(),
                    theme.style(slot),
                ))),
                detail_area,
            );
        }
    }

    fn clone_box(&self) -> Box<dyn Pane> {
        Box::new(self.clone())
    }
}
