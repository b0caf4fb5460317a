//! Why tasks stopped: stopped tasks grouped by cause (out of memory, crash on start, image
//! pull, ...) with how many, when last, which services, an example stoppedReason, and under the
//! table the usual fix for the selected cause. Routine causes (deployments, scaling, a user's
//! StopTask) sort last and are muted.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::table::{Column, TableSpec, age, cell, col, empty_message, stale_error};
use crate::app::State;
use crate::app::views::{CauseGroup, StoppedView};
use crate::config::theme::{Slot, Theme};
use crate::text::sanitize;

const COLUMNS: &[Column] = &[
    col("CAUSE", Constraint::Length(30), 0),
    col("TASKS", Constraint::Length(5), 0),
    col("LAST", Constraint::Length(5), 0),
    col("SERVICES", Constraint::Length(20), 120),
    col("EXAMPLE STOPPED REASON", Constraint::Fill(1), 60),
];

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &StoppedView, theme: &Theme) {
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(area);
    let now = state.now_unix;
    let cells = |g: &CauseGroup| {
        let slot = if g.cause.is_routine() {
            Slot::Muted
        } else {
            Slot::Error
        };
        vec![
            cell(g.cause.title(), theme.style(slot)),
            cell(g.count.to_string(), theme.style(Slot::Text)),
            cell(age(now, g.last_seen), theme.style(Slot::Muted)),
            cell(g.services.join(" "), theme.style(Slot::Muted)),
            cell(&g.example, theme.style(Slot::Text)),
        ]
    };
    let stopped: usize = view.groups.iter().map(|g| g.count).sum();
    let scope = match &view.service {
        Some(s) => format!("service {s}"),
        None => format!("cluster {}", view.cluster),
    };
    super::table::render(
        frame,
        table_area,
        TableSpec {
            title: format!(
                "{} stopped in {scope}, by cause (ECS keeps stopped tasks about an hour)",
                super::plural(stopped, "task")
            ),
            columns: COLUMNS,
            rows: &view.groups,
            table: &view.table,
            cells: &cells,
            empty: empty_message(state, &view.data, "stopped tasks", !view.groups.is_empty()),
            stale_error: stale_error(state, &view.data),
            row_style: &|_| None,
        },
        theme,
    );
    let Some(g) = view.table.selected_row().and_then(|i| view.groups.get(i)) else {
        return;
    };
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.style(Slot::Border))
        .title(Span::styled(
            format!(" {} · enter lists the tasks ", g.cause.title()),
            theme.style(Slot::Muted),
        ));
    let lines = vec![
        Line::from(vec![
            Span::styled("fix: ", theme.style(Slot::Accent)),
            Span::styled(g.cause.hint(), theme.style(Slot::Text)),
        ]),
        Line::from(vec![
            Span::styled("e.g. ", theme.style(Slot::Muted)),
            Span::styled(sanitize(&g.example).into_owned(), theme.style(Slot::Text)),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        detail_area,
    );
}
