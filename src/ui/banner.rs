//! The banner: a problem that needs the operator (credentials, region, config warnings).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::app::{BannerLevel, Command, State};
use crate::config::theme::{Slot, Theme};
use crate::text::sanitize;

/// Rows the banner needs at this width (0 when there is none).
pub fn height(state: &State, _width: u16) -> u16 {
    match &state.banner {
        None => 0,
        Some(b) if b.fix.is_some() => 4,
        Some(_) => 3,
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(banner) = &state.banner else {
        return;
    };
    let slot = match banner.level {
        BannerLevel::Error => Slot::Error,
        BannerLevel::Warning => Slot::Warning,
    };
    let dismiss = state
        .keymap
        .keys_for(state.context(), Command::DismissBanner)
        .first()
        .map(|k| format!(" {k} to dismiss "))
        .unwrap_or_default();
    let mut lines = vec![Line::from(Span::styled(
        sanitize(&banner.detail).into_owned(),
        theme.style(Slot::Text),
    ))];
    if let Some(fix) = &banner.fix {
        lines.push(Line::from(vec![
            Span::styled("fix: ", theme.style(Slot::Accent)),
            Span::styled(sanitize(fix).into_owned(), theme.style(Slot::Text)),
        ]));
    }
    let block = Block::default()
        .borders(Borders::TOP | Borders::BOTTOM)
        .border_style(theme.style(slot))
        .title(Span::styled(
            format!(" {} ", sanitize(&banner.title)),
            theme.style(slot),
        ))
        .title_bottom(Line::styled(dismiss, theme.style(Slot::Muted)).right_aligned());
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        area,
    );
}
