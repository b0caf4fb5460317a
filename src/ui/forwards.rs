//! `:forwards`: the port forwards started in this session, newest first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};

use super::table::{Column, TableSpec, cell, col};
use crate::app::State;
use crate::app::exec::Forward;
use crate::app::views::ForwardsView;
use crate::config::theme::{Slot, Theme};

const COLUMNS: &[Column] = &[
    col("LOCAL", Constraint::Length(16), 0),
    col("REMOTE", Constraint::Length(22), 0),
    col("TASK", Constraint::Length(10), 0),
    col("CONTAINER", Constraint::Length(14), 0),
    col("STATUS", Constraint::Fill(1), 0),
    col("SESSION", Constraint::Length(30), 140),
];

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &ForwardsView, theme: &Theme) {
    let _ = state;
    let cells = |f: &Forward| {
        let (status, slot) = match &f.ended {
            None => ("active".to_string(), Slot::Success),
            Some(how) => (format!("ended ({how})"), Slot::Muted),
        };
        vec![
            cell(
                format!("localhost:{}", f.local_port),
                theme.style(Slot::Text),
            ),
            cell(&f.remote, theme.style(Slot::Text)),
            cell(
                f.task_id.get(..8).unwrap_or(&f.task_id),
                theme.style(Slot::Muted),
            ),
            cell(&f.container, theme.style(Slot::Muted)),
            cell(status, theme.style(slot)),
            cell(&f.session_id, theme.style(Slot::Muted)),
        ]
    };
    let active = view.rows.iter().filter(|f| f.ended.is_none()).count();
    super::table::render(
        frame,
        area,
        TableSpec {
            title: format!(
                "{} active of {} (K stops one; quitting stops all)",
                active,
                super::plural(view.rows.len(), "port forward")
            ),
            columns: COLUMNS,
            rows: &view.rows,
            table: &view.table,
            cells: &cells,
            empty: Some((
                "No port forwards. P on a task starts one.".to_string(),
                Slot::Muted,
            )),
            stale_error: None,
            row_style: &|_| None,
        },
        theme,
    );
}
