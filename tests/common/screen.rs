//! The screen as the tests read it: a frame drawn into a ratatui test buffer the way the
//! console draws it, and that buffer as text. One copy for the reducer tests (through
//! `reducer.rs`), the sandbox console (`console.rs`) and the screenshots example, so every
//! test reads the screen alike.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use berth::app::{Action, State, update};
use berth::config::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

/// A shipped theme by name (`default`, `mono`, `light`, ...).
pub fn theme(name: &str) -> Theme {
    Theme::load(Some(name), false, None).unwrap().0
}

/// `state` drawn in `theme` at `cols`x`rows`; the reducer is told the size first, as the
/// console tells it when the terminal is resized.
pub fn draw(state: &mut State, theme: &Theme, cols: u16, rows: u16) -> Buffer {
    // only a new size is news: the reducer's answer to one (a load of what became visible)
    // is dropped here, so a caller that runs effects resizes through them first
    if (state.cols, state.rows) != (cols, rows) {
        update(state, Action::Resize { cols, rows });
    }
    let mut terminal = Terminal::new(TestBackend::new(cols, rows)).unwrap();
    terminal
        .draw(|f| berth::ui::render(f, state, theme))
        .unwrap();
    terminal.backend().buffer().clone()
}

/// The text of `buffer`: one line per row, trailing spaces trimmed, each line ending in `\n`.
pub fn text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let line: String = (area.left()..area.right())
            .map(|x| buffer[(x, y)].symbol())
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
