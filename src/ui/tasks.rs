//! Tasks of a service or cluster: status, health, revision, capacity, AZ, IP, age; with stopped
//! tasks, their stop code, exit codes and reason.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::table::{TableSpec, empty_message, stale_error};
use crate::app::State;
use crate::app::views::TasksView;
use crate::config::theme::{Slot, Theme};
use crate::domain::Task;

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &TasksView, theme: &Theme) {
    let data = &view.data;
    let stopped = data
        .rows
        .iter()
        .filter(|t| t.last_status == "STOPPED")
        .count();
    let scope = view
        .service
        .as_deref()
        .map(|s| format!("of {s}"))
        .unwrap_or_else(|| "in the cluster".into());
    let title = if view.include_stopped {
        format!(
            "{} tasks {scope} ({} running, {stopped} stopped)",
            data.rows.len(),
            data.rows.len() - stopped
        )
    } else {
        format!("{} tasks {scope}", data.rows.len())
    };
    // A target group that could not be read says why, once, where the TARGET column is.
    let title = match data
        .rows
        .iter()
        .flat_map(|t| t.targets.iter())
        .find_map(|t| t.health.as_ref().err())
    {
        Some(why) => format!("{title} · {why}"),
        None => title,
    };
    let _now = state.now_unix;
    let row_style = |t: &Task| (t.last_status == "STOPPED").then(|| theme.style(Slot::TaskStopped));
    super::table::render(
        frame,
        area,
        TableSpec {
            title,
            hidden: &crate::app::columns::hidden_task_columns(
                view.include_stopped,
                view.service.is_none(),
                !view.load_balancers.is_empty(),
                view.usage_shown,
                area.width,
            ),
            rows: &data.rows,
            table: &view.table,
            now: state.now_unix,
            empty: empty_message(state, data, "tasks", !data.rows.is_empty()),
            stale_error: stale_error(state, data),
            row_style: &row_style,
        },
        theme,
    );
}
