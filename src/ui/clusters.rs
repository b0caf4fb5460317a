//! The clusters pane: one row per cluster with its counts and settings.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;

use super::table::{Column, TableSpec, cell, col, empty_message, stale_error};
use crate::app::State;
use crate::config::theme::{Slot, Theme};
use crate::domain::Cluster;

const COLUMNS: &[Column] = &[
    col("NAME", Constraint::Fill(1), 0),
    col("STATUS", Constraint::Length(10), 0),
    col("SVCS", Constraint::Length(5), 0),
    col("RUN", Constraint::Length(5), 0),
    col("PEND", Constraint::Length(5), 0),
    col("CAPACITY PROVIDERS", Constraint::Fill(1), 0),
    col("INSIGHTS", Constraint::Length(8), 0),
];

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let view = &state.clusters;
    let data = &view.data;
    let banner_explains = state.banner.as_ref().is_some_and(|b| b.clears_on_success);
    let empty = if banner_explains && (data.error.is_some() || !state.session.connected) {
        Some((
            "Not connected to AWS: see the message above.".to_string(),
            Slot::Muted,
        ))
    } else if data.loaded_once && data.rows.is_empty() && data.error.is_none() {
        let region = state.session.region.as_deref().unwrap_or("this region");
        Some((
            format!("No ECS clusters in {region}. Try another region with :region NAME."),
            Slot::Muted,
        ))
    } else {
        empty_message(state, data, "clusters", !data.rows.is_empty())
    };
    let title = match data.load {
        crate::app::Load::Loading {
            total: Some(total),
            received,
            ..
        } if !data.loaded_once => format!("{received}/{total} clusters"),
        _ => format!("{} clusters", data.rows.len()),
    };
    let cells = |c: &Cluster| cells(c, theme);
    super::table::render(
        frame,
        area,
        TableSpec {
            title,
            columns: COLUMNS,
            rows: &data.rows,
            table: &view.table,
            cells: &cells,
            empty,
            stale_error: stale_error(state, data),
            row_style: &|_| None,
        },
        theme,
    );
}

fn cells(c: &Cluster, theme: &Theme) -> Vec<Span<'static>> {
    let (glyph, slot) = match c.status.as_str() {
        "ACTIVE" => ("●", Slot::StateActive),
        "INACTIVE" => ("○", Slot::StateInactive),
        "FAILED" => ("✗", Slot::Error),
        _ => ("◌", Slot::StateDraining),
    };
    let text = theme.style(Slot::Text);
    let pending = if c.pending_tasks > 0 {
        theme.style(Slot::TaskPending)
    } else {
        text
    };
    let providers = if c.capacity_providers.is_empty() {
        "-".to_string()
    } else {
        c.capacity_providers.join(",")
    };
    vec![
        cell(&c.name, text),
        cell(format!("{glyph} {}", c.status), theme.style(slot)),
        cell(c.active_services.to_string(), text),
        cell(c.running_tasks.to_string(), text),
        cell(c.pending_tasks.to_string(), pending),
        cell(providers, text),
        cell(c.container_insights.as_deref().unwrap_or("-"), text),
    ]
}
