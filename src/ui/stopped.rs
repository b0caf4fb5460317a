//! Why tasks stopped: stopped tasks grouped by cause (out of memory, crash on start, image
//! pull, ...) with how many, when last, which services, an example stoppedReason, and under the
//! table the usual fix for the selected cause. Routine causes (deployments, scaling, a user's
//! StopTask) sort last and are muted.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::table::{TableSpec, empty_message, stale_error};
use crate::app::views::StoppedView;
use crate::app::{Command, Context, State};
use crate::config::theme::{Slot, Theme};
use crate::text::sanitize;

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &StoppedView, theme: &Theme) {
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(area);
    let _now = state.now_unix;
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
            hidden: &[],
            rows: &view.groups,
            table: &view.table,
            now: state.now_unix,
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
            match state.keymap.first_key(Context::Stopped, Command::Select) {
                Some(key) => format!(" {} · {key} lists the tasks ", g.cause.title()),
                None => format!(" {} ", g.cause.title()),
            },
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
