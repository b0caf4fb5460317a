//! `:forwards`: the port forwards started in this session, newest first.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::table::TableSpec;
use crate::app::views::ForwardsView;
use crate::app::{Command, Context, State};
use crate::config::theme::{Slot, Theme};

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &ForwardsView, theme: &Theme) {
    let _ = state;
    let active = view.rows.iter().filter(|f| f.ended.is_none()).count();
    super::table::render(
        frame,
        area,
        TableSpec {
            title: format!(
                "{} active of {} ({}quitting stops all)",
                active,
                super::plural(view.rows.len(), "port forward"),
                state
                    .keymap
                    .first_key(Context::Forwards, Command::StopForward)
                    .map(|k| format!("{k} stops one; "))
                    .unwrap_or_default()
            ),
            hidden: &[],
            rows: &view.rows,
            table: &view.table,
            now: state.now_unix,
            empty: Some((
                match state.keymap.first_key(Context::Tasks, Command::PortForward) {
                    Some(k) => format!("No port forwards. {k} on a task starts one."),
                    None => "No port forwards.".to_string(),
                },
                Slot::Muted,
            )),
            stale_error: None,
            row_style: &|_| None,
        },
        theme,
    );
}
