//! The help screen: every binding of the active keymap for this context and the global one.
//!
//! Each binding is its keys and its description, the description wrapped at word boundaries
//! under its own column, so nothing is cut at 80 columns. The action's internal name (what a
//! keymap file writes) needs room and is for people editing keymaps: it is shown only in
//! terminals at least [`WIDE_COLS`] wide. The overlay scrolls; [`max_scroll`] is where it stops.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::app::{Command, Context, State};
use crate::config::Binding;
use crate::config::theme::{Slot, Theme};

/// From this many terminal columns the overlay is wider and shows action names.
pub const WIDE_COLS: u16 = 120;
/// The overlay's width below [`WIDE_COLS`], and from it.
const NARROW_WIDTH: u16 = 72;
const WIDE_WIDTH: u16 = 110;
/// A key column wider than this would squeeze the descriptions: longer key lists get a line
/// of their own, with the description starting on the next.
const MAX_KEYS_WIDTH: usize = 20;
const INDENT: usize = 2;
const GAP: usize = 2;

/// Where the overlay goes in a terminal of `terminal`.
pub fn area(terminal: Rect) -> Rect {
    let width = if terminal.width >= WIDE_COLS {
        WIDE_WIDTH
    } else {
        NARROW_WIDTH
    };
    super::centered(terminal, width, terminal.height.saturating_sub(2))
}

/// The largest useful scroll offset in a `cols` x `rows` terminal: the last line of help at
/// the bottom of the overlay. The reducer keeps the offset within it, so scrolling stops at
/// the end and the first key back moves the text.
pub fn max_scroll(state: &State, cols: u16, rows: u16) -> u16 {
    let terminal = Rect::new(0, 0, cols, rows);
    let inner = inner(area(terminal));
    let rows = layout(state, inner.width, cols >= WIDE_COLS);
    u16::try_from(rows.len())
        .unwrap_or(u16::MAX)
        .saturating_sub(inner.height)
}

/// The lines one page-up or page-down moves in a `cols` x `rows` terminal: what the overlay
/// shows at once.
pub fn page_rows(cols: u16, rows: u16) -> u16 {
    inner(area(Rect::new(0, 0, cols, rows))).height.max(1)
}

fn inner(overlay: Rect) -> Rect {
    Block::default().borders(Borders::ALL).inner(overlay)
}

/// Draw the overlay in `terminal` (the whole frame), scrolled by `scroll` lines.
pub fn render(frame: &mut Frame, terminal: Rect, state: &State, scroll: u16, theme: &Theme) {
    let area = area(terminal);
    let lines: Vec<Line> = layout(state, inner(area).width, terminal.width >= WIDE_COLS)
        .into_iter()
        .map(|row| {
            Line::from(
                row.into_iter()
                    .map(|(text, slot)| Span::styled(text, theme.style(slot)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let max_scroll = max_scroll(state, terminal.width, terminal.height);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Slot::Border))
        .title(Span::styled(
            format!(" keys · {} keymap ", state.keymap.name()),
            theme.style(Slot::Title),
        ))
        .title_bottom(Line::styled(close_hint(state), theme.style(Slot::Muted)).right_aligned());
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

fn keys_text(b: &Binding) -> String {
    b.keys
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One screen line of help: its pieces of text and how each is shown.
type Row = Vec<(String, Slot)>;

/// The help text for an overlay `width` columns wide inside its border: the focused view's
/// section first, then global. `wide` adds the action names.
fn layout(state: &State, width: u16, wide: bool) -> Vec<Row> {
    let view_ctx = state.view().context();
    let sections: Vec<(Context, Vec<&Binding>)> = [view_ctx, Context::Global]
        .into_iter()
        .map(|ctx| (ctx, state.keymap.bindings(ctx)))
        .filter(|(_, bindings)| !bindings.is_empty())
        .collect();
    let all = || sections.iter().flat_map(|(_, bindings)| bindings.iter());
    let keys_width = all()
        .map(|b| keys_text(b).width())
        .filter(|w| *w <= MAX_KEYS_WIDTH)
        .max()
        .unwrap_or(0);
    let action_width = if wide {
        all().map(|b| b.command.name().width()).max().unwrap_or(0) + GAP
    } else {
        0
    };
    let description_column = INDENT + keys_width + GAP + action_width;
    // Never narrower than a word or two, even if that overflows a tiny overlay.
    let description_width = usize::from(width)
        .saturating_sub(description_column)
        .max(12);

    let mut out: Vec<Row> = Vec::new();
    for (ctx, bindings) in &sections {
        if !out.is_empty() {
            out.push(Vec::new());
        }
        out.push(vec![(ctx.name().to_string(), Slot::Header)]);
        for b in bindings {
            let (text, slot) = if b.command.is_guarded() && state.session.read_only {
                (
                    format!("disabled (read-only): {}", b.description),
                    Slot::Muted,
                )
            } else {
                (b.description.clone(), Slot::Text)
            };
            let keys = keys_text(b);
            let mut lead: Row = vec![(
                format!("{:INDENT$}{keys:<keys_width$}{:GAP$}", "", ""),
                Slot::KeyHint,
            )];
            if keys.width() > keys_width {
                // A long key list has the line to itself.
                out.push(lead);
                lead = vec![(" ".repeat(INDENT + keys_width + GAP), Slot::Text)];
            }
            if wide {
                lead.push((format!("{:<action_width$}", b.command.name()), Slot::Accent));
            }
            for (i, text) in wrap(&text, description_width).into_iter().enumerate() {
                let mut row = if i == 0 {
                    std::mem::take(&mut lead)
                } else {
                    vec![(" ".repeat(description_column), Slot::Text)]
                };
                row.push((text, slot));
                out.push(row);
            }
        }
    }
    out
}

/// `text` in lines of at most `width` columns, broken between words; a word longer than a
/// whole line is broken inside.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::new();
    for word in text.split_whitespace() {
        let needed = if row.is_empty() {
            word.width()
        } else {
            row.width() + 1 + word.width()
        };
        if needed <= width {
            if !row.is_empty() {
                row.push(' ');
            }
            row.push_str(word);
            continue;
        }
        if !row.is_empty() {
            rows.push(std::mem::take(&mut row));
        }
        for c in word.chars() {
            if row.width() + c.width().unwrap_or(0) > width {
                rows.push(std::mem::take(&mut row));
            }
            row.push(c);
        }
    }
    if !row.is_empty() || rows.is_empty() {
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_between_words_and_inside_only_overlong_ones() {
        assert_eq!(
            wrap("Deployments and events of the service", 16),
            ["Deployments and", "events of the", "service"]
        );
        assert_eq!(wrap("abcdefghij xy", 4), ["abcd", "efgh", "ij", "xy"]);
        assert_eq!(wrap("", 10), [""]);
    }
}
