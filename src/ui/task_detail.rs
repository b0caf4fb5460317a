//! One task: status and timestamps, why it stopped (with the likely cause and fix), its
//! containers (exit codes, reasons, health, runtime id, exec agent), and the raw JSON.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

use super::table::age;
use crate::app::State;
use crate::app::columns::{health_slot, status_slot};
use crate::app::views::{TaskDetailView, utc};
use crate::config::theme::{Slot, Theme};
use crate::domain::Task;
use crate::domain::stop_cause::classify;
use crate::text::sanitize;

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &TaskDetailView, theme: &Theme) {
    let Some(task) = view.data.rows.first() else {
        let msg = super::table::empty_message(state, &view.data, "the task", false)
            .unwrap_or((String::new(), Slot::Muted));
        frame.render_widget(
            Paragraph::new(Line::styled(
                sanitize(&msg.0).into_owned(),
                theme.style(msg.1),
            ))
            .wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    if view.raw {
        let lines: Vec<Line> = task
            .raw_json
            .lines()
            .map(|l| Line::styled(sanitize(l).into_owned(), theme.style(Slot::Text)))
            .collect();
        let block = Block::default()
            .borders(Borders::TOP)
            .border_style(theme.style(Slot::Border))
            .title(Span::styled(
                " raw JSON (DescribeTasks) ",
                theme.style(Slot::Muted),
            ));
        frame.render_widget(
            Paragraph::new(lines).block(block).scroll((view.scroll, 0)),
            area,
        );
        return;
    }
    let mut summary = summary_lines(task, state.now_unix, theme);
    let containers = task.containers.len() as u16 + 2;
    // per-task CPU and memory, where the cluster publishes them (Container Insights with
    // enhanced observability); where it is known not to, say what would
    let running = task.last_status == "RUNNING";
    let chart = running && crate::app::metrics::per_task(state, &view.cluster);
    if running
        && !state.metrics.disabled
        && !chart
        && let Some(level) = crate::app::metrics::insights_level(state, &view.cluster)
    {
        summary.push(Line::styled(
            format!(
                "CPU/memory per task: needs Container Insights with enhanced observability (this cluster: {})",
                sanitize(level.as_deref().unwrap_or("disabled"))
            ),
            theme.style(Slot::Muted),
        ));
    }
    let chart_height = if chart && area.height >= 14 {
        super::metrics::HEIGHT
    } else {
        0
    };
    let [summary_area, chart_area, containers_area] = Layout::vertical([
        Constraint::Min(4),
        Constraint::Length(chart_height),
        Constraint::Length(containers.min(area.height / 2)),
    ])
    .areas(area);
    if chart_height > 0 {
        super::metrics::render_chart(
            frame,
            chart_area,
            " CPU and memory of this task",
            task.usage.as_ref(),
            theme,
        );
    }
    frame.render_widget(
        Paragraph::new(summary)
            .wrap(Wrap { trim: false })
            .scroll((view.scroll, 0)),
        summary_area,
    );
    render_containers(frame, containers_area, task, theme);
}

fn summary_lines(t: &Task, now: i64, theme: &Theme) -> Vec<Line<'static>> {
    let muted = theme.style(Slot::Muted);
    let text = theme.style(Slot::Text);
    let field = |name: &str, value: String, style| {
        Line::from(vec![
            Span::styled(format!(" {name:<14}"), muted),
            Span::styled(sanitize(&value).into_owned(), style),
        ])
    };
    let mut lines = vec![
        field(
            "status",
            format!("{} (desired {})", t.last_status, t.desired_status),
            theme.style(status_slot(&t.last_status)),
        ),
        field(
            "health",
            t.health.clone().unwrap_or_else(|| "-".into()),
            theme.style(health_slot(t.health.as_deref())),
        ),
    ];
    for (i, target) in t.targets.iter().enumerate() {
        let (value, slot) = match &target.health {
            Ok(Some(h)) => {
                let mut v = format!("{}: {}", target.group, h.state.label());
                if let Some(r) = &h.reason {
                    v.push_str(&format!("  {r}"));
                }
                if let Some(d) = &h.description {
                    v.push_str(&format!(": {d}"));
                }
                (v, crate::app::columns::target_slot(Some(h.state)))
            }
            Ok(None) => (format!("{}: not registered", target.group), Slot::Muted),
            Err(m) => (format!("{}: {m}", target.group), Slot::Warning),
        };
        lines.push(field(
            if i == 0 { "target" } else { "" },
            value,
            theme.style(slot),
        ));
    }
    lines.extend([
        field(
            "task def",
            format!(
                "{}  {}  cpu {} mem {}",
                t.task_definition,
                t.capacity_provider
                    .clone()
                    .or_else(|| t.launch_type.clone())
                    .unwrap_or_default(),
                t.cpu.clone().unwrap_or_default(),
                t.memory.clone().unwrap_or_default()
            ),
            text,
        ),
        field(
            "placement",
            format!(
                "{}  ip {}  platform {}",
                t.availability_zone.clone().unwrap_or_default(),
                t.private_ip().unwrap_or("-"),
                t.platform_version.clone().unwrap_or_default()
            ),
            text,
        ),
    ]);
    // EC2 launch type: the container instance it runs on (`:instances` has its capacity)
    if let Some(ci) = &t.container_instance {
        lines.push(field(
            "instance",
            format!("container instance {}", ci.rsplit('/').next().unwrap_or(ci)),
            text,
        ));
    }
    if t.last_status == "STOPPED" || t.stopped_reason.is_some() {
        let cause = classify(t);
        let slot = if cause.is_routine() {
            Slot::Info
        } else {
            Slot::Error
        };
        lines.push(field(
            "stopped",
            format!(
                "{}  {}",
                t.stop_code.clone().unwrap_or_default(),
                t.stopped_reason.clone().unwrap_or_default()
            ),
            theme.style(slot),
        ));
        lines.push(field(
            "likely cause",
            format!("{}: {}", cause.title(), cause.hint()),
            theme.style(Slot::Warning),
        ));
    }
    let times = [
        ("created", t.created_at),
        ("pull started", t.pull_started_at),
        ("pull stopped", t.pull_stopped_at),
        ("started", t.started_at),
        ("stopping", t.stopping_at),
        ("stopped", t.stopped_at),
    ];
    let mut timeline = Vec::new();
    for (name, ts) in times {
        if ts.is_some() {
            timeline.push(format!("{name} {} ({} ago)", utc(ts), age(now, ts)));
        }
    }
    for (i, entry) in timeline.into_iter().enumerate() {
        lines.push(field(if i == 0 { "timeline" } else { "" }, entry, muted));
    }
    lines
}

fn render_containers(frame: &mut Frame, area: Rect, t: &Task, theme: &Theme) {
    let text = theme.style(Slot::Text);
    let header = Row::new([
        "CONTAINER",
        "STATUS",
        "EXIT",
        "HEALTH",
        "EXEC AGENT",
        "RUNTIME ID",
        "IMAGE / REASON",
    ])
    .style(theme.style(Slot::Header));
    let rows = t.containers.iter().map(|c| {
        let exit_style = if c.exit_code.is_some_and(|e| e != 0) {
            theme.style(Slot::Error)
        } else {
            text
        };
        let last = c.last_status.clone().unwrap_or_default();
        let detail = match &c.reason {
            Some(r) => r.clone(),
            None => c.image.clone().unwrap_or_default(),
        };
        Row::new(vec![
            Cell::from(sanitize(&c.name).into_owned()),
            Cell::from(Span::styled(
                sanitize(&last).into_owned(),
                theme.style(status_slot(&last)),
            )),
            Cell::from(Span::styled(
                c.exit_code
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "-".into()),
                exit_style,
            )),
            Cell::from(Span::styled(
                c.health.clone().unwrap_or_else(|| "-".into()),
                theme.style(health_slot(c.health.as_deref())),
            )),
            Cell::from(sanitize(c.exec_agent_status.as_deref().unwrap_or("-")).into_owned()),
            Cell::from(sanitize(c.runtime_id.as_deref().unwrap_or("-")).into_owned()),
            Cell::from(sanitize(&detail).into_owned()),
        ])
    });
    let widths = [
        Constraint::Length(16),
        Constraint::Length(8),
        Constraint::Length(4),
        Constraint::Length(9),
        Constraint::Length(10),
        Constraint::Length(14),
        Constraint::Fill(1),
    ];
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.style(Slot::Border))
        .title(Span::styled(
            format!(" {} ", super::plural(t.containers.len(), "container")),
            theme.style(Slot::Muted),
        ));
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .block(block),
        area,
    );
}
