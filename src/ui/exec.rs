//! The ECS Exec / port-forward dialog: the preflight checklist (✓ pass, ✗ fail with its fix,
//! • note), then the container, the command or the ports, and the keys. Symbols carry the
//! meaning, so it reads the same without colour.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::State;
use crate::app::exec::{COMMANDS, ExecDialog, Focus, SessionKind};
use crate::config::theme::{Slot, Theme};
use crate::exec::preflight::Status;
use crate::text::sanitize;

pub fn render(frame: &mut Frame, area: Rect, state: &State, d: &ExecDialog, theme: &Theme) {
    let width = area.width.clamp(30, 90);
    let mut lines: Vec<Line> = Vec::new();
    let cluster = crate::domain::Cluster::name_from_arn(&d.cluster);
    lines.push(Line::styled(
        format!(
            "task {} · cluster {} · region {}",
            sanitize(d.task_id()),
            sanitize(cluster),
            state.session.region.as_deref().unwrap_or("?")
        ),
        theme.style(Slot::Muted),
    ));
    let report = d.report();
    match (&report, &d.error) {
        (None, Some(e)) if d.inputs.is_none() => {
            lines.push(Line::styled(
                format!("preflight failed: {}", sanitize(e)),
                theme.style(Slot::Error),
            ));
        }
        (None, _) => lines.push(Line::styled(
            "checking: task, task definition, cluster, session-manager-plugin…",
            theme.style(Slot::Muted),
        )),
        (Some(r), _) => {
            for c in &r.checks {
                let (mark, slot) = match c.status {
                    Status::Pass => ("✓", Slot::Success),
                    Status::Fail => ("✗", Slot::Error),
                    Status::Note => ("•", Slot::Muted),
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("{mark} "), theme.style(slot)),
                    Span::styled(sanitize(&c.label).into_owned(), theme.style(Slot::Text)),
                    Span::styled(
                        format!(": {}", sanitize(&c.detail)),
                        theme.style(Slot::Muted),
                    ),
                ]));
                if c.status == Status::Fail
                    && let Some(fix) = &c.fix
                {
                    lines.push(Line::styled(
                        format!("  fix: {}", sanitize(fix)),
                        theme.style(Slot::Warning),
                    ));
                }
            }
        }
    }
    lines.push(Line::raw(""));
    if d.inputs.is_some() {
        let choice = |label: &str, value: String, focus: Focus| {
            let focused = d.focus == focus;
            Line::from(vec![
                Span::styled(format!("{label}: "), theme.style(Slot::Muted)),
                Span::styled(
                    if focused {
                        format!("◀ {value} ▶")
                    } else {
                        value
                    },
                    theme.style(if focused { Slot::Accent } else { Slot::Text }),
                ),
            ])
        };
        let text = |label: &str, value: &str, focus: Focus| {
            let mut spans = vec![
                Span::styled(format!("{label}: "), theme.style(Slot::Muted)),
                Span::styled(sanitize(value).into_owned(), theme.style(Slot::Text)),
            ];
            if d.focus == focus {
                spans.push(Span::styled("█", theme.style(Slot::Accent)));
            }
            Line::from(spans)
        };
        let containers = d.inputs.as_ref().map_or(0, |i| i.task.containers.len());
        lines.push(choice(
            "container",
            format!(
                "{}{}",
                sanitize(d.container_name().unwrap_or("-")),
                if containers > 1 {
                    format!(" ({} of {containers})", d.container + 1)
                } else {
                    String::new()
                }
            ),
            Focus::Container,
        ));
        match d.kind {
            SessionKind::Shell => {
                lines.push(choice(
                    "command",
                    COMMANDS.get(d.command).copied().unwrap_or("?").to_string(),
                    Focus::Command,
                ));
                if d.command + 1 == COMMANDS.len() {
                    lines.push(text("custom command", &d.custom, Focus::Custom));
                }
            }
            SessionKind::Forward => {
                lines.push(text("remote port", &d.remote_port, Focus::RemotePort));
                lines.push(text("local port", &d.local_port, Focus::LocalPort));
                lines.push(text("remote host (empty: the task)", &d.host, Focus::Host));
            }
        }
        if let Some((expected, typed)) = &d.confirm {
            lines.push(Line::styled(
                format!("protected account: type {} to confirm", sanitize(expected)),
                theme.style(Slot::Danger),
            ));
            lines.push(text("confirm", typed, Focus::Confirm));
        }
    }
    if let (Some(e), true) = (&d.error, d.inputs.is_some()) {
        lines.push(Line::styled(
            sanitize(e).into_owned(),
            theme.style(Slot::Error),
        ));
    }
    let keys = if d.starting {
        "starting the session…"
    } else if report.as_ref().is_some_and(|r| r.ok()) {
        "enter: start · tab: next field · ←/→: choose · esc: cancel"
    } else {
        "esc: close"
    };
    lines.push(Line::styled(keys, theme.style(Slot::KeyHint)));

    let inner_w = usize::from(width.saturating_sub(2)).max(1);
    let rows: usize = lines
        .iter()
        .map(|l| l.width().div_ceil(inner_w).max(1))
        .sum();
    let height = (rows as u16 + 2).min(area.height);
    let rect = super::centered(area, width, height);
    let border = if d.confirm.is_some() {
        Slot::Danger
    } else {
        Slot::Warning
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(border))
        .title(Span::styled(
            format!(" {} ", d.title()),
            theme.style(border),
        ));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}
