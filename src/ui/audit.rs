//! The audit log (`:audit`): every action berth made or refused, newest first.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::table::TableSpec;
use crate::app::State;
use crate::app::views::AuditView;
use crate::config::theme::{Slot, Theme};

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &AuditView, theme: &Theme) {
    let path = crate::audit::default_path()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let _ = state;
    let empty = match (&view.error, view.loaded) {
        (Some(e), _) => Some((e.clone(), Slot::Error)),
        (None, false) => Some(("Reading the audit log…".to_string(), Slot::Muted)),
        (None, true) => Some(("No actions yet.".to_string(), Slot::Muted)),
    };
    super::table::render(
        frame,
        area,
        TableSpec {
            title: format!(
                "{} in {path}, newest first",
                super::plural(view.entries.len(), "action")
            ),
            hidden: &[],
            rows: &view.entries,
            table: &view.table,
            now: state.now_unix,
            empty,
            stale_error: None,
            row_style: &|_| None,
        },
        theme,
    );
}
