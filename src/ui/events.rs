//! The full events list of a service, filterable, with the selected event wrapped below.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::deployments::event_line;
use super::table::{TableSpec, empty_message, stale_error};
use crate::app::State;
use crate::app::views::ServiceView;
use crate::config::theme::{Slot, Theme};
use crate::domain::ServiceEvent;

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &ServiceView, theme: &Theme) {
    let events: &[ServiceEvent] = view.service().map(|s| s.events.as_slice()).unwrap_or(&[]);
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(area);
    let now = state.now_unix;
    let _service = view.service.as_str();
    super::table::render(
        frame,
        table_area,
        TableSpec {
            title: format!("{} events, newest first", events.len()),
            hidden: &[],
            rows: events,
            table: &view.table,
            now: state.now_unix,
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
