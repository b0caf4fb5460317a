//! The incident timeline: one row per deployment step, event, stop (grouped by cause) or
//! burst of error lines, newest first. Colour follows severity; the KIND column says the
//! same in words, so it reads without colour.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::table::TableSpec;
use crate::app::timeline::{TimelineView, window_label};
use crate::app::{Command, Context, State};
use crate::config::theme::{Slot, Theme};

pub fn render(frame: &mut Frame, area: Rect, state: &State, v: &TimelineView, theme: &Theme) {
    let _ = state;
    let notes: Vec<&String> = v.data.iter().flat_map(|d| d.notes.iter()).collect();
    let [notes_area, table_area] = Layout::vertical([
        Constraint::Length(notes.len().min(2) as u16),
        Constraint::Min(1),
    ])
    .areas(area);
    if !notes.is_empty() {
        let lines: Vec<Line> = notes
            .iter()
            .take(2)
            .map(|n| {
                Line::styled(
                    crate::text::sanitize(n).into_owned(),
                    theme.style(Slot::Muted),
                )
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), notes_area);
    }
    let errors = v.data.as_ref().map_or(0, |d| d.error_lines);
    let empty = match (&v.error, v.data.is_some()) {
        (Some(e), _) => Some((e.clone(), Slot::Error)),
        (None, false) => Some((
            "Reading deployments, events, stopped tasks and error logs…".to_string(),
            Slot::Muted,
        )),
        (None, true) => Some(("Nothing happened in this window.".to_string(), Slot::Muted)),
    };
    super::table::render(
        frame,
        table_area,
        TableSpec {
            title: format!(
                "{} in the last {} · {} read{}",
                super::plural(v.entries.len(), "event"),
                window_label(v.window_secs),
                super::plural(errors, "error line"),
                [
                    (Command::CycleWindow, "window"),
                    (Command::Export, "export")
                ]
                .into_iter()
                .filter_map(|(cmd, what)| state
                    .keymap
                    .first_key(Context::Timeline, cmd)
                    .map(|k| format!(" · {k} {what}")))
                .collect::<String>()
            ),
            hidden: &[],
            rows: &v.entries,
            table: &v.table,
            now: state.now_unix,
            empty,
            stale_error: None,
            row_style: &|_| None,
        },
        theme,
    );
}
