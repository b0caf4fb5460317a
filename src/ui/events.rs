//! The full events list of a service, filterable, with the selected event wrapped below.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::deployments::event_line;
use super::table::{Column, TableSpec, age, cell, col, empty_message, stale_error};
use crate::app::State;
use crate::app::views::ServiceView;
use crate::config::theme::{Slot, Theme};
use crate::domain::ServiceEvent;

const COLUMNS: &[Column] = &[
    col("AGE", Constraint::Length(4), 0),
    col("MESSAGE", Constraint::Fill(1), 0),
];

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &ServiceView, theme: &Theme) {
    let events: &[ServiceEvent] = view.service().map(|s| s.events.as_slice()).unwrap_or(&[]);
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(area);
    let now = state.now_unix;
    let service = view.service.as_str();
    let cells = |e: &ServiceEvent| {
        let line = event_line(e.created_at, &e.message, now, theme);
        let style = line.spans.get(1).map(|s| s.style).unwrap_or_default();
        vec![
            cell(age(now, e.created_at), theme.style(Slot::Muted)),
            cell(
                crate::domain::problems::without_service_prefix(&e.message, service),
                style,
            ),
        ]
    };
    super::table::render(
        frame,
        table_area,
        TableSpec {
            title: format!("{} events, newest first", events.len()),
            columns: COLUMNS,
            rows: events,
            table: &view.table,
            cells: &cells,
            empty: empty_message(state, &view.data, "events", !events.is_empty()),
            stale_error: stale_error(state, &view.data),
            row_style: &|_| None,
        },
        theme,
    );
    if let Some(e) = view.table.selected_row().and_then(|i| events.get(i)) {
        let block = Block::default()
            .borders(Borders::TOP)
            .border_style(theme.style(Slot::Border))
            .title(Span::styled(" selected event ", theme.style(Slot::Muted)));
        frame.render_widget(
            Paragraph::new(event_line(e.created_at, &e.message, now, theme))
                .block(block)
                .wrap(Wrap { trim: true }),
            detail_area,
        );
    }
}
