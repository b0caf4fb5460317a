//! The clusters pane: one row per cluster with its counts and settings.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::table::{TableSpec, empty_message, stale_error};
use crate::app::State;
use crate::config::theme::{Slot, Theme};

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
    super::table::render(
        frame,
        area,
        TableSpec {
            title,
            hidden: &[],
            rows: &data.rows,
            table: &view.table,
            now: state.now_unix,
            empty,
            stale_error: stale_error(state, data),
            row_style: &|_| None,
        },
        theme,
    );
}
