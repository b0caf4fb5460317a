//! The task sets of a service deployed by a CODE_DEPLOY or EXTERNAL controller, shown in the
//! deployments pane above the events: id, status, stability, scale, computed desired / running
//! / pending, task definition, external id, created and updated. A set STABILIZING for longer
//! than `problems::STUCK_TASK_SET_SECS` is marked.

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Constraint, Layout, Rect};

use super::table::TableSpec;
use crate::app::columns::age;
use crate::app::table::{Column, SortKey, TableView, Tabular};
use crate::app::views::utc;
use crate::config::theme::{Slot, Theme};
use crate::domain::Service;
use crate::domain::TaskSet;
use crate::domain::task_set::{Stability, TaskSetStatus};

const TASK_SET: &[Column<TaskSet>] = &[
    // `ecs-svc/4821…`: the number after the prefix, cut; EXTERNAL ID names it for people.
    Column::<TaskSet>::new("ID", Length(10), 0, |t| t.id.clone()).shown(|t, _| {
        let tail = t.id.rsplit('/').next().unwrap_or(&t.id);
        tail.chars().take(10).collect()
    }),
    Column::<TaskSet>::new("STATUS", Length(8), 0, |t| t.status.as_str().to_string()).slot(|t| {
        match t.status {
            TaskSetStatus::Primary => Slot::Accent,
            TaskSetStatus::Draining => Slot::Muted,
            _ => Slot::Text,
        }
    }),
    Column::<TaskSet>::new("STABILITY", Length(12), 0, |t| {
        t.stability.as_str().to_string()
    })
    .slot(|t| match t.stability {
        Stability::SteadyState => Slot::Success,
        _ => Slot::Warning,
    }),
    Column::<TaskSet>::new("SCALE", Length(6), 0, TaskSet::scale_text)
        .sort(|t| SortKey::Num(t.scale.as_ref().map(|s| s.0).unwrap_or(0.0))),
    // computed desired / running (+pending)
    Column::<TaskSet>::new("TASKS", Length(9), 0, |t| {
        let mut s = format!("{}/{}", t.running, t.computed_desired);
        if t.pending > 0 {
            s.push_str(&format!(" +{}", t.pending));
        }
        s
    }),
    Column::<TaskSet>::new("TASK DEF", Fill(2), 0, |t| t.task_definition.clone()),
    // at 80 columns the task definition needs the room more
    Column::<TaskSet>::new("EXTERNAL ID", Fill(1), 100, |t| {
        t.external_id.clone().unwrap_or_else(|| "-".into())
    }),
    Column::<TaskSet>::new("CREATED", Length(7), 100, |t| utc(t.created_at))
        .shown(|t, now| age(now, t.created_at))
        .slot(|_| Slot::Muted),
    Column::<TaskSet>::new("UPDATED", Length(7), 100, |t| utc(t.updated_at))
        .shown(|t, now| age(now, t.updated_at))
        .slot(|_| Slot::Muted),
];

impl Tabular for TaskSet {
    fn columns() -> &'static [Column<TaskSet>] {
        TASK_SET
    }
    fn key(&self) -> &str {
        &self.arn
    }
}

/// PRIMARY first, then ACTIVE, then DRAINING; newest first within each.
fn order(a: &TaskSet, b: &TaskSet) -> std::cmp::Ordering {
    let rank = |t: &TaskSet| match t.status {
        TaskSetStatus::Primary => 0,
        TaskSetStatus::Active => 1,
        TaskSetStatus::Draining => 2,
        TaskSetStatus::Other(_) => 3,
    };
    rank(a)
        .cmp(&rank(b))
        .then_with(|| b.created_at.cmp(&a.created_at))
}

/// Draw the service's task sets at the top of `area` and return what is left below them
/// (all of `area` when the service has none).
pub fn render(frame: &mut Frame, area: Rect, s: &Service, now: i64, theme: &Theme) -> Rect {
    if s.task_sets.is_empty() && !s.deployment_controller.runs_task_sets() {
        return area;
    }
    let height = (s.task_sets.len() as u16 + 2).clamp(3, 8);
    let [sets_area, rest] =
        Layout::vertical([Constraint::Length(height), Constraint::Min(0)]).areas(area);
    let mut table = TableView::default();
    table.recompute(&s.task_sets, None, order, now);
    let stuck = s
        .task_sets
        .iter()
        .filter(|t| {
            t.stability == Stability::Stabilizing
                && t.stability_at
                    .or(t.updated_at)
                    .is_some_and(|at| now - at > crate::domain::problems::STUCK_TASK_SET_SECS)
        })
        .count();
    let mut title = format!(
        "{} ({} controller)",
        super::plural(s.task_sets.len(), "task set"),
        s.deployment_controller.as_str()
    );
    if stuck > 0 {
        title.push_str(&format!(
            ", {stuck} STABILIZING over {} min",
            crate::domain::problems::STUCK_TASK_SET_SECS / 60
        ));
    }
    let stabilizing = theme.style(Slot::Warning);
    super::table::render(
        frame,
        sets_area,
        TableSpec {
            title,
            hidden: &[],
            rows: &s.task_sets,
            table: &table,
            now,
            empty: Some(("No task sets.".into(), Slot::Muted)),
            stale_error: None,
            row_style: &|t: &TaskSet| {
                (t.stability == Stability::Stabilizing
                    && t.stability_at
                        .is_some_and(|at| now - at > crate::domain::problems::STUCK_TASK_SET_SECS))
                .then_some(stabilizing)
            },
        },
        theme,
    );
    rest
}
