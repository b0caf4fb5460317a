//! The footer: a status message, or key hints generated from the active keymap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::app::{Command, Context, InputKind, State};
use crate::config::theme::{Slot, Theme};
use crate::text::sanitize;

/// Navigation needs no hint, and commands that would do nothing right now get none;
/// everything else bound in the context (then global) is offered.
fn hinted(state: &State, cmd: Command) -> bool {
    match cmd {
        Command::Up
        | Command::Down
        | Command::PageUp
        | Command::PageDown
        | Command::Top
        | Command::Bottom => false,
        Command::DismissBanner => state.banner.is_some(),
        Command::Back => state.views.len() > 1 || state.help.is_some(),
        Command::SearchNext | Command::SearchPrev => false,
        c if c.is_guarded() => !state.session.read_only,
        _ => true,
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if let Some(input) = &state.input {
        let prompt = match input.kind {
            InputKind::Filter => "/",
            InputKind::Command => ":",
            InputKind::LogQuery => "filter: ",
            InputKind::Search => "/",
        };
        let mut spans = vec![
            Span::styled(prompt, theme.style(Slot::Accent)),
            Span::styled(sanitize(&input.text).into_owned(), theme.style(Slot::Text)),
            Span::styled("█", theme.style(Slot::Muted)),
            Span::raw("  "),
        ];
        if let Some(err) = &input.error {
            spans.push(Span::styled(
                sanitize(err).into_owned(),
                theme.style(Slot::Error),
            ));
        } else if !input.completions.is_empty() {
            spans.push(Span::styled(
                sanitize(&input.completions.join("  ")).into_owned(),
                theme.style(Slot::Muted),
            ));
        } else if input.kind == InputKind::Filter {
            spans.push(Span::styled(
                "enter keep · esc cancel · !text invert · column:text",
                theme.style(Slot::Muted),
            ));
        } else if input.kind == InputKind::LogQuery {
            spans.push(Span::styled(
                "level>=warn status>=500 path~/api/ and or not · enter apply",
                theme.style(Slot::Muted),
            ));
        } else if input.kind == InputKind::Search {
            // Enter and esc are the input line's own keys; next and previous are the keymap's.
            let step = |cmd| state.keymap.first_key(Context::Logs, cmd);
            let steps = match (step(Command::SearchNext), step(Command::SearchPrev)) {
                (Some(next), Some(prev)) => format!(" · {next}/{prev} next/previous"),
                (Some(next), None) => format!(" · {next} next"),
                (None, Some(prev)) => format!(" · {prev} previous"),
                (None, None) => String::new(),
            };
            spans.push(Span::styled(
                format!("enter keep · esc cancel{steps}"),
                theme.style(Slot::Muted),
            ));
        } else {
            spans.push(Span::styled(
                "tab complete · enter run · esc cancel",
                theme.style(Slot::Muted),
            ));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    if let Some(status) = &state.status {
        let slot = if status.is_error {
            Slot::Error
        } else {
            Slot::Info
        };
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(" {}", sanitize(&status.text)),
                theme.style(slot),
            )),
            area,
        );
        return;
    }
    let spans = hints(state, theme, usize::from(area.width));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `key label` pairs that fit in `width` columns.
/// The footer's word for a command: its name, or a shorter one where the pane says more.
fn hint_label(ctx: Context, cmd: Command) -> String {
    if ctx == Context::Logs {
        let short = match cmd {
            Command::Select => Some("expand"),
            Command::ErrorsOnly => Some("errors"),
            Command::WarningsUp => Some("warn+"),
            Command::ToggleFollow => Some("pause"),
            Command::LoadOlder => Some("older"),
            Command::SaveLogs => Some("save"),
            Command::CycleContainer => Some("container"),
            Command::ToggleRaw => Some("raw"),
            Command::ToggleWrap => Some("wrap"),
            Command::ToggleTimestamps => Some("time"),
            Command::CopyId => Some("copy"),
            _ => None,
        };
        if let Some(s) = short {
            return s.to_string();
        }
    }
    cmd.name().replace('_', " ")
}

pub fn hints(state: &State, theme: &Theme, width: usize) -> Vec<Span<'static>> {
    let ctx = state.context();
    let mut seen = Vec::new();
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    let contexts: &[Context] = if ctx == Context::Global {
        &[Context::Global]
    } else {
        &[ctx, Context::Global]
    };
    for c in contexts {
        for binding in state.keymap.bindings(*c) {
            if !hinted(state, binding.command) || seen.contains(&binding.command) {
                continue;
            }
            // The first key that really triggers this command here (not shadowed).
            let Some(key) = state.keymap.first_key(ctx, binding.command) else {
                continue;
            };
            seen.push(binding.command);
            let key = key.to_string();
            let label = hint_label(ctx, binding.command);
            let cost = key.width() + 1 + label.width() + 2;
            if used + cost > width {
                return spans;
            }
            used += cost;
            spans.push(Span::styled(key, theme.style(Slot::KeyHint)));
            spans.push(Span::styled(
                format!(" {label}  "),
                theme.style(Slot::Muted),
            ));
        }
    }
    spans
}
