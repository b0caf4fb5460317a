//! Tasks of a service or cluster: status, health, revision, capacity, AZ, IP, age; with stopped
//! tasks, their stop code, exit codes and reason.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;

use super::table::{Column, TableSpec, age, cell, col, empty_message, stale_error};
use crate::app::State;
use crate::app::views::TasksView;
use crate::config::theme::{Slot, Theme};
use crate::domain::Task;
use crate::domain::stop_cause::classify;

/// Same order as `Task::columns()` so filters and sorts name the same columns.
const COLUMNS: &[Column] = &[
    col("ID", Constraint::Length(8), 0),
    col("STATUS", Constraint::Length(12), 0),
    col("HEALTH", Constraint::Length(9), 96),
    col("REV", Constraint::Length(4), 0),
    col("CAPACITY", Constraint::Length(12), 106),
    col("AZ", Constraint::Length(11), 116),
    col("IP", Constraint::Length(15), 0),
    col("AGE", Constraint::Length(4), 0),
    col("STOP CODE", Constraint::Length(24), 140),
    col("EXIT", Constraint::Length(10), 0),
    col("STOPPED REASON", Constraint::Fill(1), 0),
];

const RUNNING_COLUMNS: &[Column] = &[
    col("ID", Constraint::Length(8), 0),
    col("STATUS", Constraint::Length(18), 0),
    col("HEALTH", Constraint::Length(9), 0),
    col("REV", Constraint::Length(4), 0),
    col("CAPACITY", Constraint::Length(12), 0),
    col("AZ", Constraint::Length(11), 90),
    col("IP", Constraint::Length(15), 0),
    col("AGE", Constraint::Fill(1), 0),
    col("STOP CODE", Constraint::Length(0), u16::MAX),
    col("EXIT", Constraint::Length(0), u16::MAX),
    col("STOPPED REASON", Constraint::Length(0), u16::MAX),
];

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &TasksView, theme: &Theme) {
    let data = &view.data;
    let stopped = data
        .rows
        .iter()
        .filter(|t| t.last_status == "STOPPED")
        .count();
    let scope = view
        .service
        .as_deref()
        .map(|s| format!("of {s}"))
        .unwrap_or_else(|| "in the cluster".into());
    let title = if view.include_stopped {
        format!(
            "{} tasks {scope} ({} running, {stopped} stopped)",
            data.rows.len(),
            data.rows.len() - stopped
        )
    } else {
        format!("{} tasks {scope}", data.rows.len())
    };
    let now = state.now_unix;
    let cells = |t: &Task| cells(t, now, theme);
    let row_style = |t: &Task| (t.last_status == "STOPPED").then(|| theme.style(Slot::TaskStopped));
    super::table::render(
        frame,
        area,
        TableSpec {
            title,
            columns: if view.include_stopped {
                COLUMNS
            } else {
                RUNNING_COLUMNS
            },
            rows: &data.rows,
            table: &view.table,
            cells: &cells,
            empty: empty_message(state, data, "tasks", !data.rows.is_empty()),
            stale_error: stale_error(state, data),
            row_style: &row_style,
        },
        theme,
    );
}

pub fn status_slot(last_status: &str) -> Slot {
    match last_status {
        "RUNNING" => Slot::TaskRunning,
        "PENDING" | "ACTIVATING" => Slot::TaskPending,
        "PROVISIONING" => Slot::TaskProvisioning,
        "DEACTIVATING" | "STOPPING" | "DEPROVISIONING" => Slot::TaskStopping,
        "STOPPED" => Slot::TaskStopped,
        _ => Slot::Muted,
    }
}

pub fn health_slot(health: Option<&str>) -> Slot {
    match health {
        Some("HEALTHY") => Slot::HealthHealthy,
        Some("UNHEALTHY") => Slot::HealthUnhealthy,
        _ => Slot::HealthUnknown,
    }
}

fn cells(t: &Task, now: i64, theme: &Theme) -> Vec<Span<'static>> {
    let text = theme.style(Slot::Text);
    // A task on its way down is marked; the colour carries the rest.
    let status = if t.desired_status == "STOPPED" && t.last_status != "STOPPED" {
        format!("{}↓", t.last_status)
    } else {
        t.last_status.clone()
    };
    let rev = t.task_definition.rsplit(':').next().unwrap_or_default();
    let capacity = t
        .capacity_provider
        .clone()
        .or_else(|| t.launch_type.clone())
        .unwrap_or_default();
    let stopped = t.last_status == "STOPPED";
    let reason = if stopped {
        let cause = classify(t);
        format!(
            "[{}] {}",
            cause.title(),
            t.stopped_reason.as_deref().unwrap_or_default()
        )
    } else {
        String::new()
    };
    // Codes only (the column is narrow); the filter also matches container names.
    let exits = t
        .containers
        .iter()
        .filter_map(|c| c.exit_code.map(|e| e.to_string()))
        .collect::<Vec<_>>()
        .join(",");
    let exit_style = if t
        .containers
        .iter()
        .any(|c| c.exit_code.is_some_and(|e| e != 0))
    {
        theme.style(Slot::Error)
    } else {
        text
    };
    vec![
        cell(t.short_id(), text),
        cell(status, theme.style(status_slot(&t.last_status))),
        cell(
            t.health.as_deref().unwrap_or("-"),
            theme.style(health_slot(t.health.as_deref())),
        ),
        cell(rev, text),
        cell(capacity, text),
        cell(t.availability_zone.as_deref().unwrap_or("-"), text),
        cell(t.private_ip().unwrap_or("-"), text),
        cell(
            age(
                now,
                if stopped {
                    t.stopped_at
                } else {
                    t.started_at.or(t.created_at)
                },
            ),
            theme.style(Slot::Muted),
        ),
        cell(t.stop_code.as_deref().unwrap_or(""), text),
        cell(exits, exit_style),
        cell(reason, theme.style(Slot::Warning)),
    ]
}
