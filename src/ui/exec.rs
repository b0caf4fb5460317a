//! The ECS Exec / port-forward dialog: the preflight checklist (✓ pass, ✗ fail with its fix,
//! • note; its last line, "client", says whether session-manager-plugin or berth's built-in
//! client will run the session, and why), then the container, the command or the ports, and
//! the keys. Symbols carry the meaning, so it reads the same without colour.

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
    let inner_w = usize::from(width.saturating_sub(2)).max(1);
    let rows_of = |lines: &[Line]| -> usize {
        lines
            .iter()
            .map(|l| {
                let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                wrapped_rows(&text, inner_w)
            })
            .sum()
    };
    let mut lines: Vec<Line> = Vec::new();
    let mut notes: Vec<usize> = Vec::new();
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
            "checking: task, task definition, cluster, exec client…",
            theme.style(Slot::Muted),
        )),
        (Some(r), _) => {
            for c in &r.checks {
                let (mark, slot) = match c.status {
                    Status::Pass => ("✓", Slot::Success),
                    Status::Fail => ("✗", Slot::Error),
                    Status::Note => ("•", Slot::Muted),
                };
                if c.status == Status::Note {
                    notes.push(lines.len());
                }
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
    // What must always show (fields, error, keys) goes below the checklist.
    let mut bottom: Vec<Line> = vec![Line::raw("")];
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
        bottom.push(choice(
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
                bottom.push(choice(
                    "command",
                    COMMANDS.get(d.command).copied().unwrap_or("?").to_string(),
                    Focus::Command,
                ));
                if d.command + 1 == COMMANDS.len() {
                    bottom.push(text("custom command", &d.custom, Focus::Custom));
                }
            }
            SessionKind::Forward => {
                bottom.push(text("remote port", &d.remote_port, Focus::RemotePort));
                bottom.push(text("local port", &d.local_port, Focus::LocalPort));
                bottom.push(text("remote host (empty: the task)", &d.host, Focus::Host));
            }
        }
        if let Some((expected, typed)) = &d.confirm {
            bottom.push(Line::styled(
                format!("protected account: type {} to confirm", sanitize(expected)),
                theme.style(Slot::Danger),
            ));
            bottom.push(text("confirm", typed, Focus::Confirm));
        }
    }
    if let (Some(e), true) = (&d.error, d.inputs.is_some()) {
        bottom.push(Line::styled(
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
    bottom.push(Line::styled(keys, theme.style(Slot::KeyHint)));

    // On a small screen: notes go first, then the checklist is cut (exec-check prints all).
    let room = usize::from(area.height.saturating_sub(2)).saturating_sub(rows_of(&bottom));
    if rows_of(&lines) > room {
        for i in notes.into_iter().rev() {
            lines.remove(i);
        }
    }
    if rows_of(&lines) > room {
        while !lines.is_empty() && rows_of(&lines) + 1 > room {
            lines.pop();
        }
        lines.push(Line::styled(
            "… (berth exec-check prints the whole report)",
            theme.style(Slot::Muted),
        ));
    }
    lines.extend(bottom);
    let rows = rows_of(&lines);
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

/// Rows a line takes when word-wrapped at `width` (greedy, long words broken), as the
/// paragraph will draw it.
fn wrapped_rows(text: &str, width: usize) -> usize {
    use unicode_width::UnicodeWidthStr;
    let mut rows = 1;
    let mut used = 0;
    for word in text.split(' ') {
        let w = word.width();
        let need = if used == 0 { w } else { used + 1 + w };
        if need <= width {
            used = need;
        } else if w <= width {
            rows += 1;
            used = w;
        } else {
            // broken across rows
            let rest = if used == 0 {
                w
            } else {
                rows += 1;
                w
            };
            rows += (rest - 1) / width;
            used = (rest - 1) % width + 1;
        }
    }
    rows
}
