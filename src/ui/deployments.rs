//! A service's deployments (PRIMARY/ACTIVE, rollout state and reason, counts) under its
//! deployment configuration, with the service events timeline below, newest first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::table::{TableSpec, empty_message, stale_error};
use crate::app::State;
use crate::app::columns::{age, rollout_slot};
use crate::app::views::ServiceView;
use crate::config::theme::{Slot, Theme};
use crate::domain::Service;
use crate::text::sanitize;

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &ServiceView, theme: &Theme) {
    let Some(service) = view.service() else {
        let empty = empty_message(state, &view.data, "the service", false);
        let (msg, slot) = empty.unwrap_or((String::new(), Slot::Muted));
        frame.render_widget(
            Paragraph::new(Line::styled(sanitize(&msg).into_owned(), theme.style(slot)))
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    let table_rows = (service.deployments.len() as u16 + 2).clamp(3, 8);
    let [config_area, table_area, reason_area, events_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(table_rows),
        Constraint::Length(2),
        Constraint::Min(0),
    ])
    .areas(area);

    frame.render_widget(Paragraph::new(config_lines(service, theme)), config_area);

    let now = state.now_unix;
    super::table::render(
        frame,
        table_area,
        TableSpec {
            title: super::plural(service.deployments.len(), "deployment"),
            hidden: &[],
            rows: &service.deployments,
            table: &view.table,
            now: state.now_unix,
            empty: Some(("No deployments.".into(), Slot::Muted)),
            stale_error: stale_error(state, &view.data),
            row_style: &|_| None,
        },
        theme,
    );
    // The selected deployment's reason in full: the table column is often too narrow.
    if let Some(d) = view
        .table
        .selected_row()
        .and_then(|i| service.deployments.get(i))
    {
        let rollout = d.rollout_state.as_deref();
        let line = Line::from(vec![
            Span::styled(" reason ", theme.style(Slot::Muted)),
            Span::styled(
                sanitize(d.rollout_state_reason.as_deref().unwrap_or("-")).into_owned(),
                theme.style(rollout_slot(rollout)),
            ),
        ]);
        frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), reason_area);
    }
    let events_area = super::task_sets::render(frame, events_area, service, now, theme);
    render_events(frame, events_area, service, now, theme);
}

fn config_lines(s: &Service, theme: &Theme) -> Vec<Line<'static>> {
    let muted = theme.style(Slot::Muted);
    let text = theme.style(Slot::Text);
    let c = &s.deployment_config;
    let pct = |v: Option<i32>| v.map(|v| format!("{v}%")).unwrap_or_else(|| "-".into());
    let breaker = match (c.circuit_breaker_enabled, c.circuit_breaker_rollback) {
        (true, true) => Span::styled("on, rollback", theme.style(Slot::Success)),
        (true, false) => Span::styled("on, no rollback", theme.style(Slot::Warning)),
        (false, _) => Span::styled("off", theme.style(Slot::Warning)),
    };
    let mut counts = format!("{}/{} running", s.running, s.desired);
    if s.pending > 0 {
        counts.push_str(&format!(", {} pending", s.pending));
    }
    vec![
        Line::from(vec![
            Span::styled(" tasks ", muted),
            Span::styled(counts, text),
            Span::styled("  task def ", muted),
            Span::styled(sanitize(&s.task_definition).into_owned(), text),
            Span::styled("  exec ", muted),
            Span::styled(if s.exec_enabled { "on" } else { "off" }, text),
        ]),
        Line::from(vec![
            Span::styled(" min ", muted),
            Span::styled(pct(c.minimum_healthy_percent), text),
            Span::styled("  max ", muted),
            Span::styled(pct(c.maximum_percent), text),
            Span::styled("  circuit breaker ", muted),
            breaker,
            Span::styled("  grace ", muted),
            Span::styled(
                s.health_check_grace_period
                    .map(|g| format!("{g}s"))
                    .unwrap_or_else(|| "-".into()),
                text,
            ),
        ]),
    ]
}

/// Service events, newest first, wrapped to the width.
fn render_events(frame: &mut Frame, area: Rect, s: &Service, now: i64, theme: &Theme) {
    let block = Block::default()
        .title(Span::styled(
            format!(" {} events, newest first ", s.events.len()),
            theme.style(Slot::Muted),
        ))
        .borders(Borders::TOP)
        .border_style(theme.style(Slot::Border));
    let lines: Vec<Line> = s
        .events
        .iter()
        .take(usize::from(area.height))
        .map(|e| {
            // one service's events: its name at the start of each line only costs width
            let message = crate::domain::problems::without_service_prefix(&e.message, &s.name);
            event_line(e.created_at, message, now, theme)
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// `  3m  (service x) has reached a steady state.` coloured by what it says.
pub fn event_line(at: Option<i64>, message: &str, now: i64, theme: &Theme) -> Line<'static> {
    let slot = super::severity_slot(crate::domain::severity::event_severity(message));
    Line::from(vec![
        Span::styled(format!("{:>4} ", age(now, at)), theme.style(Slot::Muted)),
        Span::styled(sanitize(message).into_owned(), theme.style(slot)),
    ])
}
