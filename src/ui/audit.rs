//! The audit log (`:audit`): every action berth made or refused, newest first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};

use super::table::{Column, TableSpec, cell, col};
use crate::app::State;
use crate::app::views::AuditView;
use crate::audit::Entry;
use crate::config::theme::{Slot, Theme};

const COLUMNS: &[Column] = &[
    col("TIME", Constraint::Length(19), 0),
    col("ACTION", Constraint::Length(20), 0),
    col("TARGET", Constraint::Length(32), 0),
    col("OUTCOME", Constraint::Length(8), 0),
    col("PROFILE", Constraint::Length(12), 120),
    col("CALLER", Constraint::Length(40), 160),
    col("ERROR", Constraint::Fill(1), 100),
];

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &AuditView, theme: &Theme) {
    let cells = |e: &Entry| {
        let outcome = match e.outcome.as_str() {
            "ok" => Slot::Success,
            "refused" => Slot::Warning,
            _ => Slot::Error,
        };
        vec![
            cell(
                e.time.get(..19).unwrap_or(&e.time).replace('T', " "),
                theme.style(Slot::Muted),
            ),
            cell(&e.action, theme.style(Slot::Text)),
            cell(&e.target, theme.style(Slot::Text)),
            cell(&e.outcome, theme.style(outcome)),
            cell(
                e.profile.as_deref().unwrap_or("-"),
                theme.style(Slot::Muted),
            ),
            cell(e.caller.as_deref().unwrap_or("-"), theme.style(Slot::Muted)),
            cell(e.error.as_deref().unwrap_or(""), theme.style(Slot::Error)),
        ]
    };
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
            columns: COLUMNS,
            rows: &view.entries,
            table: &view.table,
            cells: &cells,
            empty,
            stale_error: None,
            row_style: &|_| None,
        },
        theme,
    );
}
