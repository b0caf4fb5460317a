//! The banner: a problem that needs the operator (credentials, region, config warnings).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::app::{BannerLevel, Command, State};
use crate::config::theme::{Slot, Theme};
use crate::text::sanitize;
use unicode_width::UnicodeWidthStr;

/// Rows the banner needs at this width (0 when there is none): its wrapped text plus the two
/// rules, at most 8 so the table keeps room.
pub fn height(state: &State, width: u16) -> u16 {
    let Some(b) = &state.banner else {
        return 0;
    };
    let width = usize::from(width.max(1));
    let wrapped = |s: &str| s.width().div_ceil(width).max(1);
    let mut lines = wrapped(&b.detail);
    if let Some(fix) = &b.fix {
        lines += wrapped(&format!("fix: {fix}"));
    }
    (lines.min(6) + 2) as u16
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
