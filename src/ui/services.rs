//! The services pane: every service of a cluster with its counts, rollout and problems.
//! Problem services sort first by default.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::table::{TableSpec, empty_message, stale_error};
use crate::app::State;
use crate::app::views::{ServiceRow, ServicesView};
use crate::config::theme::{Slot, Theme};
use crate::domain::problems::Severity;

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
    let _now = state.now_unix;
    let row_style = |r: &ServiceRow| match r.severity() {
        Some(Severity::Critical) => Some(theme.style(Slot::Error)),
        _ => None,
    };
    super::table::render(
        frame,
        area,
        TableSpec {
            title,
            hidden: crate::app::columns::hidden_service_columns(view.metrics_off),
            rows: &data.rows,
            table: &view.table,
            now: state.now_unix,
            empty: empty_message(state, data, "services", !data.rows.is_empty()),
            stale_error: stale_error(state, data),
            row_style: &row_style,
        },
        theme,
    );
}
