//! The help screen: every binding of the active keymap for this context and the global one.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::{Command, Context, State};
use crate::config::theme::{Slot, Theme};

pub fn render(frame: &mut Frame, area: Rect, state: &State, scroll: u16, theme: &Theme) {
    let lines = lines(state, theme);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Slot::Border))
        .title(Span::styled(
            format!(" keys · {} keymap ", state.keymap.name()),
            theme.style(Slot::Title),
        ))
        .title_bottom(Line::styled(close_hint(state), theme.style(Slot::Muted)).right_aligned());
    let max_scroll = (lines.len() as u16).saturating_sub(area.height.saturating_sub(2));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll.min(max_scroll), 0)),
        area,
    );
}

/// " esc/? close " from whatever the keymap binds to back and help.
fn close_hint(state: &State) -> String {
    let mut keys: Vec<String> = Vec::new();
    for cmd in [Command::Back, Command::Help] {
        if let Some(k) = state.keymap.keys_for(Context::Help, cmd).first() {
            keys.push(k.to_string());
        }
    }
    format!(" {} close ", keys.join("/"))
}

/// The help text: the focused view's section first, then global.
pub fn lines(state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let view_ctx = state.view().context();
    let mut out = Vec::new();
    for ctx in [view_ctx, Context::Global] {
        let bindings = state.keymap.bindings(ctx);
        if bindings.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(Line::default());
        }
        out.push(Line::styled(
            ctx.name().to_string(),
            theme.style(Slot::Header),
        ));
        for b in bindings {
            let keys = b
                .keys
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            out.push(Line::from(vec![
                Span::styled(format!("  {keys:<16} "), theme.style(Slot::KeyHint)),
                Span::styled(
                    format!("{:<15} ", b.command.name()),
                    theme.style(Slot::Accent),
                ),
                if b.command.is_guarded() && state.session.read_only {
                    Span::styled(
                        format!("disabled (read-only): {}", b.description),
                        theme.style(Slot::Muted),
                    )
                } else {
                    Span::styled(b.description.clone(), theme.style(Slot::Text))
                },
            ]));
        }
    }
    out
}
