//! Rendering: a pure function of `&State` and the theme. One file per pane or dialog.

mod banner;
mod clusters;
mod deployments;
mod dialog;
mod events;
mod exec;
mod footer;
mod forwards;
mod header;
pub mod help;
pub mod logs;
mod metrics;
mod network;
mod scaling;
mod services;
mod stopped;
pub mod table;
mod targets;
mod task_detail;
mod task_sets;
mod tasks;
mod timeline;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::app::{State, View};
use crate::config::theme::{Slot, Theme};

/// The smallest size at which the full layout is drawn; below it, a notice.
pub const MIN_COLS: u16 = 30;
pub const MIN_ROWS: u16 = 8;

pub fn render(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    if area.width < MIN_COLS || area.height < MIN_ROWS {
        let msg = format!("too small ({}x{})", area.width, area.height);
        frame.render_widget(
            Paragraph::new(Line::styled(msg, theme.style(Slot::Warning))),
            area,
        );
        return;
    }
    let banner_height = banner::height(state, area.width);
    let [header_area, banner_area, body_area, footer_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(banner_height),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);

    header::render(frame, header_area, state, theme);
    if banner_height > 0 {
        banner::render(frame, banner_area, state, theme);
    }
    match state.view() {
        View::Clusters => clusters::render(frame, body_area, state, theme),
        View::Services(v) => services::render(frame, body_area, state, v, theme),
        View::Deployments(v) => deployments::render(frame, body_area, state, v, theme),
        View::Events(v) => events::render(frame, body_area, state, v, theme),
        View::Tasks(v) => tasks::render(frame, body_area, state, v, theme),
        View::Network(v) => network::render(frame, body_area, state, v, theme),
        View::TaskDetail(v) => task_detail::render(frame, body_area, state, v, theme),
        View::Logs(v) => logs::render(frame, body_area, state, v, theme),
        View::Stopped(v) => stopped::render(frame, body_area, state, v, theme),
        View::Forwards(v) => forwards::render(frame, body_area, state, v, theme),
        View::Timeline(v) => timeline::render(frame, body_area, state, v, theme),
        View::Pane(p) => p.render(frame, body_area, state, theme),
    }
    footer::render(frame, footer_area, state, theme);
    if let Some(scroll) = state.help {
        help::render(frame, area, state, scroll, theme);
    }
    if let Some(d) = &state.dialog {
        dialog::render(frame, area, state, d, theme);
    }
    if let Some(d) = &state.exec {
        exec::render(frame, area, state, d, theme);
    }
}

/// A rectangle of at most `width` x `height`, centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// `1 deployment`, `3 deployments`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Braille spinner frames; one step per tick while something loads.
pub fn spinner(state: &State) -> &'static str {
    const FRAMES: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];
    FRAMES[state.spinner % FRAMES.len()]
}

pub use crate::app::columns::severity_slot;
pub use deployments::event_line;
