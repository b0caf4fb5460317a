//! The services pane: every service of a cluster with its counts, rollout and problems.
//! Problem services sort first by default.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;

use super::table::{Column, TableSpec, age, cell, col, empty_message, stale_error};
use crate::app::State;
use crate::app::views::{ServiceRow, ServicesView, capacity};
use crate::config::theme::{Slot, Theme};
use crate::domain::problems::Severity;

const COLUMNS: &[Column] = &[
    col("NAME", Constraint::Fill(2), 0),
    col("TASKS", Constraint::Length(9), 0),
    col("ROLLOUT", Constraint::Length(11), 0),
    col("DEPL", Constraint::Length(4), 100),
    col("TASK DEF", Constraint::Length(20), 90),
    col("CAPACITY", Constraint::Length(22), 130),
    col("EXEC", Constraint::Length(4), 110),
    col("AGE", Constraint::Length(4), 0),
    col("PROBLEM", Constraint::Fill(2), 0),
];

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &ServicesView, theme: &Theme) {
    let data = &view.data;
    let problems = data
        .rows
        .iter()
        .filter(|r| r.severity().is_some_and(|s| s > Severity::Notice))
        .count();
    let title = match data.load {
        crate::app::Load::Loading {
            total: Some(total),
            received,
            ..
        } if !data.loaded_once => format!("{received}/{total} services"),
        crate::app::Load::Loading { received, .. } if !data.loaded_once => {
            format!("{received} services…")
        }
        _ if problems > 0 => format!("{} services, {problems} with problems", data.rows.len()),
        _ => format!("{} services", data.rows.len()),
    };
    let now = state.now_unix;
    let cells = |r: &ServiceRow| cells(r, now, theme);
    let row_style = |r: &ServiceRow| match r.severity() {
        Some(Severity::Critical) => Some(theme.style(Slot::Error)),
        _ => None,
    };
    super::table::render(
        frame,
        area,
        TableSpec {
            title,
            columns: COLUMNS,
            rows: &data.rows,
            table: &view.table,
            cells: &cells,
            empty: empty_message(state, data, "services", !data.rows.is_empty()),
            stale_error: stale_error(state, data),
            row_style: &row_style,
        },
        theme,
    );
}

pub fn rollout_slot(state: Option<&str>) -> Slot {
    match state {
        Some("COMPLETED") => Slot::RolloutCompleted,
        Some("FAILED") => Slot::RolloutFailed,
        Some("IN_PROGRESS") => Slot::RolloutInProgress,
        _ => Slot::Muted,
    }
}

pub fn rollout_text(state: Option<&str>) -> String {
    match state {
        Some("COMPLETED") => "✓ COMPLETED".into(),
        Some("FAILED") => "✗ FAILED".into(),
        Some("IN_PROGRESS") => "↻ ROLLING".into(),
        Some(other) => other.to_string(),
        None => "-".into(),
    }
}

fn cells(r: &ServiceRow, now: i64, theme: &Theme) -> Vec<Span<'static>> {
    let s = &r.service;
    let text = theme.style(Slot::Text);
    let tasks_slot = if s.running < s.desired {
        Slot::Warning
    } else {
        Slot::Text
    };
    let mut tasks = format!("{}/{}", s.running, s.desired);
    if s.pending > 0 {
        tasks.push_str(&format!(" +{}", s.pending));
    }
    let primary = s.primary();
    let rollout = primary.and_then(|d| d.rollout_state.as_deref());
    let problem = match r.problems.first() {
        Some(p) => {
            let slot = match p.severity {
                Severity::Critical => Slot::Error,
                Severity::Warning => Slot::Warning,
                Severity::Notice => Slot::Muted,
            };
            let marker = match p.severity {
                Severity::Critical => "✗",
                Severity::Warning => "!",
                Severity::Notice => "·",
            };
            let mut text = format!("{marker} {}", p.summary);
            if let Some(d) = &p.detail {
                text.push_str(": ");
                text.push_str(d);
            }
            cell(text, theme.style(slot))
        }
        None => cell("", text),
    };
    vec![
        cell(&s.name, text),
        cell(tasks, theme.style(tasks_slot)),
        cell(rollout_text(rollout), theme.style(rollout_slot(rollout))),
        cell(s.deployments.len().to_string(), text),
        cell(&s.task_definition, text),
        cell(capacity(s), text),
        cell(if s.exec_enabled { "yes" } else { "no" }, text),
        cell(
            age(now, primary.and_then(|d| d.created_at)),
            theme.style(Slot::Muted),
        ),
        problem,
    ]
}
