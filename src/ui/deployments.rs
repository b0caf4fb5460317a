//! A service's deployments (PRIMARY/ACTIVE, rollout state and reason, counts) under its
//! deployment configuration; then its deployment history (the last day of service
//! deployments, including the failed ones DescribeServices no longer lists, and the
//! blue/green stage of one in progress); then the service events, newest first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::table::{TableSpec, empty_message, stale_error};
use crate::app::State;
use crate::app::columns::{age, rollout_slot};
use crate::app::views::ServiceView;
use crate::config::theme::{Slot, Theme};
use crate::domain::Service;
use crate::domain::history::{DeploymentStatus, History, HistoryDeployment};
use crate::text::sanitize;

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &ServiceView, theme: &Theme) {
    let Some(service) = view.service() else {
        let empty = empty_message(state, &view.data, "the service", false);
        let (msg, slot) = empty.unwrap_or((String::new(), Slot::Muted));
        frame.render_widget(
            Paragraph::new(Line::styled(sanitize(&msg).into_owned(), theme.style(slot)))
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    let now = state.now_unix;
    let history = crate::app::history::of(state, &view.cluster, &view.service);
    let stage = history.and_then(|h| stage_line(h.deployments(), now, theme));
    let rows = history_rows(area.height);
    let history_lines = history_lines(history, rows, view.history_selected, now, theme);
    // A task-set service (CODE_DEPLOY, EXTERNAL) has no deployments to list: its task sets
    // below take the room.
    let task_sets_only =
        service.deployments.is_empty() && service.deployment_controller.runs_task_sets();
    let table_rows = if task_sets_only {
        0
    } else {
        (service.deployments.len() as u16 + 2).clamp(3, 8)
    };
    let [
        config_area,
        table_area,
        reason_area,
        history_area,
        events_area,
    ] = Layout::vertical([
        Constraint::Length(2 + u16::from(stage.is_some())),
        Constraint::Length(table_rows),
        Constraint::Length(if task_sets_only { 0 } else { 2 }),
        Constraint::Length(history_height(history, &history_lines, area.width)),
        Constraint::Min(3),
    ])
    .areas(area);

    let mut config = config_lines(service, theme);
    config.extend(stage);
    frame.render_widget(Paragraph::new(config), config_area);

    super::table::render(
        frame,
        table_area,
        TableSpec {
            title: super::plural(service.deployments.len(), "deployment"),
            hidden: &[],
            rows: &service.deployments,
            table: &view.table,
            now: state.now_unix,
            empty: Some(("No deployments.".into(), Slot::Muted)),
            stale_error: stale_error(state, &view.data),
            row_style: &|_| None,
        },
        theme,
    );
    // The selected deployment's reason in full: the table column is often too narrow.
    if let Some(d) = view
        .table
        .selected_row()
        .and_then(|i| service.deployments.get(i))
    {
        let rollout = d.rollout_state.as_deref();
        let line = Line::from(vec![
            Span::styled(" reason ", theme.style(Slot::Muted)),
            Span::styled(
                sanitize(d.rollout_state_reason.as_deref().unwrap_or("-")).into_owned(),
                theme.style(rollout_slot(rollout)),
            ),
        ]);
        frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), reason_area);
    }
    render_history(frame, history_area, history, history_lines, theme);
    let events_area = super::task_sets::render(frame, events_area, service, now, theme);
    let events_area = super::targets::render(frame, events_area, state, service, theme);
    let events_area = super::scaling::render(frame, events_area, state, view, theme);
    let events_area = super::metrics::render(frame, events_area, state, view, theme);
    render_events(frame, events_area, service, now, theme);
}

/// History rows shown at most (newest first), so that a 24-row terminal keeps room for the
/// live deployments and some events; the rest are counted in the title.
fn history_rows(height: u16) -> usize {
    if height < 30 { 3 } else { 6 }
}

fn history_status_slot(status: &DeploymentStatus) -> Slot {
    match status {
        DeploymentStatus::Successful => Slot::Success,
        DeploymentStatus::RollbackSuccessful | DeploymentStatus::Stopped => Slot::Warning,
        DeploymentStatus::RollbackFailed
        | DeploymentStatus::RollbackInProgress
        | DeploymentStatus::RollbackRequested => Slot::Error,
        DeploymentStatus::InProgress | DeploymentStatus::Pending => Slot::Accent,
        _ => Slot::Text,
    }
}

/// One line per service deployment: age, status, revisions, and what stopped it.
fn history_lines(
    history: Option<&History>,
    rows: usize,
    selected: Option<usize>,
    now: i64,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let Some(h) = history else {
        return vec![Line::styled(
            " reading deployment history…",
            theme.style(Slot::Muted),
        )];
    };
    let list = match &h.result {
        Ok(list) => list,
        Err(reason) => {
            return vec![Line::styled(
                format!(
                    " deployment history unavailable: {}; showing live deployments only",
                    sanitize(reason)
                ),
                theme.style(Slot::Warning),
            )];
        }
    };
    if list.is_empty() {
        return vec![Line::styled(
            " no service deployments in the last 24h",
            theme.style(Slot::Muted),
        )];
    }
    // the window of `rows` entries that holds the selected one
    let first = selected.map_or(0, |at| (at + 1).saturating_sub(rows));
    list.iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(at, d)| {
            let what = d
                .cause()
                .or_else(|| {
                    let in_progress = d.status == DeploymentStatus::InProgress;
                    let stage = d.lifecycle_stage.as_ref().filter(|_| in_progress);
                    stage.map(|s| s.as_str().to_string())
                })
                .or_else(|| d.status_reason.clone())
                .map(|c| format!("  {c}"))
                .unwrap_or_default();
            let line = Line::from(vec![
                Span::styled(
                    format!("{:>4} ", age(now, d.start())),
                    theme.style(Slot::Muted),
                ),
                Span::styled(
                    format!("{:<20} ", d.status.as_str()),
                    theme.style(history_status_slot(&d.status)),
                ),
                Span::styled(
                    sanitize(&d.revisions()).into_owned(),
                    theme.style(Slot::Text),
                ),
                Span::styled(sanitize(&what).into_owned(), theme.style(Slot::Muted)),
            ]);
            if selected == Some(at) {
                line.style(theme.style(Slot::Selection))
            } else {
                line
            }
        })
        .collect()
}

fn render_history(
    frame: &mut Frame,
    area: Rect,
    history: Option<&History>,
    lines: Vec<Line<'static>>,
    theme: &Theme,
) {
    let title = match history.map(|h| &h.result) {
        Some(Ok(list)) if list.len() > lines.len() => Span::styled(
            format!(
                " history, last 24h: {} service deployments, newest {} shown ",
                list.len(),
                lines.len()
            ),
            theme.style(Slot::Muted),
        ),
        Some(Ok(list)) => Span::styled(
            format!(
                " history, last 24h: {} ",
                super::plural(list.len(), "service deployment")
            ),
            theme.style(Slot::Muted),
        ),
        _ => Span::styled(" history, last 24h ", theme.style(Slot::Muted)),
    };
    let block = Block::default()
        .title(title)
        .borders(Borders::TOP)
        .border_style(theme.style(Slot::Border));
    let body = Paragraph::new(lines).block(block);
    // the unavailable message is one long line: wrapped; history rows are cut at the edge
    let body = match history.map(|h| &h.result) {
        Some(Err(_)) => body.wrap(Wrap { trim: true }),
        _ => body,
    };
    frame.render_widget(body, area);
}

/// Rows the history section takes: its title and its lines (the unavailable message wrapped
/// to `width`, at most three rows).
fn history_height(history: Option<&History>, lines: &[Line], width: u16) -> u16 {
    let body = match history.map(|h| &h.result) {
        Some(Err(_)) => {
            let chars = lines.first().map(Line::width).unwrap_or(0);
            chars.div_ceil(usize::from(width.max(1))).clamp(1, 3) as u16
        }
        _ => lines.len() as u16,
    };
    body + 1
}

/// `blue/green POST_TEST_TRAFFIC_SHIFT 16m · test 100% prod 0% · hook x IN_PROGRESS · bake 10m`
/// for the newest service deployment when it runs a lifecycle (blue/green).
fn stage_line(history: &[HistoryDeployment], now: i64, theme: &Theme) -> Option<Line<'static>> {
    let d = history.first()?;
    let stage = d.lifecycle_stage.as_ref()?;
    let muted = theme.style(Slot::Muted);
    let stuck = d.stuck_stage(now).is_some();
    let mut spans = vec![
        Span::styled(" blue/green ", muted),
        Span::styled(
            stage.as_str().to_string(),
            theme.style(if stuck { Slot::Warning } else { Slot::Accent }),
        ),
    ];
    if d.status == DeploymentStatus::InProgress {
        spans.push(Span::styled(
            format!(
                " {}{}",
                age(now, d.stage_since()),
                if stuck { " STUCK" } else { "" }
            ),
            theme.style(if stuck { Slot::Warning } else { Slot::Muted }),
        ));
    } else {
        spans.push(Span::styled(
            format!(" ({})", d.status.as_str()),
            theme.style(history_status_slot(&d.status)),
        ));
    }
    if let Some(t) = &d.target {
        let pct = |w: Option<f64>| format!("{:.0}%", w.unwrap_or(0.0));
        spans.push(Span::styled(
            format!(
                " · test {} prod {}",
                pct(t.test_traffic_weight),
                pct(t.production_traffic_weight)
            ),
            muted,
        ));
    }
    if let Some(h) = d.hooks.last() {
        spans.push(Span::styled(
            format!(" · hook {} {}", sanitize(h.name()), h.status),
            theme.style(if h.status == "FAILED" || h.status == "TIMED_OUT" {
                Slot::Error
            } else {
                Slot::Muted
            }),
        ));
    }
    match (d.bake_left(now), d.bake_time_minutes) {
        (Some(left), _) => spans.push(Span::styled(
            format!(" · bake {}m left", (left + 59) / 60),
            muted,
        )),
        (None, Some(b)) => spans.push(Span::styled(format!(" · bake {b}m"), muted)),
        _ => {}
    }
    Some(Line::from(spans))
}

fn config_lines(s: &Service, theme: &Theme) -> Vec<Line<'static>> {
    let muted = theme.style(Slot::Muted);
    let text = theme.style(Slot::Text);
    let c = &s.deployment_config;
    let pct = |v: Option<i32>| v.map(|v| format!("{v}%")).unwrap_or_else(|| "-".into());
    let breaker = match (c.circuit_breaker_enabled, c.circuit_breaker_rollback) {
        (true, true) => Span::styled("on, rollback", theme.style(Slot::Success)),
        (true, false) => Span::styled("on, no rollback", theme.style(Slot::Warning)),
        (false, _) => Span::styled("off", theme.style(Slot::Warning)),
    };
    let mut counts = format!("{}/{} running", s.running, s.desired);
    if s.pending > 0 {
        counts.push_str(&format!(", {} pending", s.pending));
    }
    vec![
        Line::from(vec![
            Span::styled(" tasks ", muted),
            Span::styled(counts, text),
            Span::styled("  task def ", muted),
            Span::styled(sanitize(&s.task_definition).into_owned(), text),
            Span::styled("  exec ", muted),
            Span::styled(if s.exec_enabled { "on" } else { "off" }, text),
        ]),
        Line::from(vec![
            Span::styled(" min ", muted),
            Span::styled(pct(c.minimum_healthy_percent), text),
            Span::styled("  max ", muted),
            Span::styled(pct(c.maximum_percent), text),
            Span::styled("  circuit breaker ", muted),
            breaker,
            Span::styled("  grace ", muted),
            Span::styled(
                s.health_check_grace_period
                    .map(|g| format!("{g}s"))
                    .unwrap_or_else(|| "-".into()),
                text,
            ),
        ]),
    ]
}

/// Service events, newest first, wrapped to the width.
fn render_events(frame: &mut Frame, area: Rect, s: &Service, now: i64, theme: &Theme) {
    let block = Block::default()
        .title(Span::styled(
            format!(" {} events, newest first ", s.events.len()),
            theme.style(Slot::Muted),
        ))
        .borders(Borders::TOP)
        .border_style(theme.style(Slot::Border));
    let lines: Vec<Line> = s
        .events
        .iter()
        .take(usize::from(area.height))
        .map(|e| {
            // one service's events: its name at the start of each line only costs width
            let message = crate::domain::problems::without_service_prefix(&e.message, &s.name);
            event_line(e.created_at, message, now, theme)
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// `  3m  (service x) has reached a steady state.` coloured by what it says.
pub fn event_line(at: Option<i64>, message: &str, now: i64, theme: &Theme) -> Line<'static> {
    let slot = super::severity_slot(crate::domain::severity::event_severity(message));
    Line::from(vec![
        Span::styled(format!("{:>4} ", age(now, at)), theme.style(Slot::Muted)),
        Span::styled(sanitize(message).into_owned(), theme.style(slot)),
    ])
}
