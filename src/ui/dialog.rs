//! The confirmation dialog of a mutating action: what will change, where (cluster, account,
//! region, profile), the service's current deployments, the fields (desired count, stop
//! reason, the name to type in a protected account), and the keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::State;
use crate::app::mutations::Dialog;
use crate::config::theme::{Slot, Theme};
use crate::text::sanitize;

pub fn render(frame: &mut Frame, area: Rect, state: &State, dialog: &Dialog, theme: &Theme) {
    let _ = state;
    let width = area.width.clamp(30, 76);
    let mut lines: Vec<Line> = Vec::new();
    for (i, l) in dialog.lines.iter().enumerate() {
        let slot = if i == 0 { Slot::Text } else { Slot::Muted };
        lines.push(Line::styled(sanitize(l).into_owned(), theme.style(slot)));
    }
    if dialog.protected {
        lines.push(Line::styled(
            "protected account: type the name to confirm",
            theme.style(Slot::Danger),
        ));
    }
    lines.push(Line::raw(""));
    for (i, f) in dialog.fields.iter().enumerate() {
        let focused = i == dialog.focus;
        let mut spans = vec![Span::styled(
            format!("{}: ", sanitize(&f.label)),
            theme.style(Slot::Muted),
        )];
        spans.push(Span::styled(
            sanitize(&f.text).into_owned(),
            theme.style(Slot::Text),
        ));
        if focused {
            spans.push(Span::styled("█", theme.style(Slot::Accent)));
        }
        lines.push(Line::from(spans));
    }
    if let Some(e) = &dialog.error {
        lines.push(Line::styled(
            sanitize(e).into_owned(),
            theme.style(Slot::Error),
        ));
    }
    let keys = if dialog.fields.is_empty() {
        "y or enter: do it · n or esc: cancel"
    } else {
        "enter: do it · tab: next field · esc: cancel"
    };
    lines.push(Line::styled(keys, theme.style(Slot::KeyHint)));

    // Height: wrapped lines plus borders, within the screen.
    let inner_w = usize::from(width.saturating_sub(2)).max(1);
    let rows: usize = lines
        .iter()
        .map(|l| l.width().div_ceil(inner_w).max(1))
        .sum();
    let height = (rows as u16 + 2).min(area.height);
    let rect = super::centered(area, width, height);
    let border = if dialog.protected {
        Slot::Danger
    } else {
        Slot::Warning
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(border))
        .title(Span::styled(
            format!(" {} ", dialog.title()),
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
