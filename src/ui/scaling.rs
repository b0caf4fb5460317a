//! A service's auto scaling in the deployments pane, above the events: the scalable target's
//! range against the desired count (marked when held at the maximum), its policies, and the
//! newest activities with their cause. One line when the service has none ("no auto
//! scaling") or it could not be read ("auto scaling unavailable: access denied"); nothing
//! before the first answer.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::State;
use crate::app::views::ServiceView;
use crate::config::theme::{Slot, Theme};
use crate::domain::history::ago;
use crate::domain::scaling::{AT_MAX_MARK_SECS, ActivityStatus, Scaling};
use crate::text::sanitize;

/// Rows the events below keep at least.
const EVENTS_KEEP: u16 = 3;

fn status_slot(a: &crate::domain::scaling::ScalingActivity) -> Slot {
    match a.status {
        _ if a.blocked_at_max() => Slot::Error,
        ActivityStatus::Successful => Slot::Success,
        ActivityStatus::Failed | ActivityStatus::Unfulfilled => Slot::Error,
        ActivityStatus::InProgress | ActivityStatus::Pending => Slot::Accent,
        _ => Slot::Warning,
    }
}

fn body(s: &Scaling, room: usize, now: i64, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for p in s.policies.iter().take(2) {
        lines.push(Line::from(vec![
            Span::styled(" policy ", theme.style(Slot::Muted)),
            Span::raw(sanitize(&p.name).into_owned()),
            Span::styled(
                format!("  {}", sanitize(&p.summary())),
                theme.style(Slot::Muted),
            ),
        ]));
    }
    if s.policies.is_empty() {
        lines.push(Line::styled(
            " no scaling policies",
            theme.style(Slot::Muted),
        ));
    }
    if let Some(reason) = &s.activities_unavailable {
        lines.push(Line::styled(
            format!(" scaling activities unavailable: {}", sanitize(reason)),
            theme.style(Slot::Warning),
        ));
    }
    for (i, a) in s.activities.iter().enumerate() {
        if lines.len() >= room {
            break;
        }
        let status = if a.blocked_at_max() {
            "at max".to_string()
        } else {
            a.status.as_str().to_string()
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!(" {:>3} ", a.start.map(|t| ago(now - t)).unwrap_or_default()),
                theme.style(Slot::Muted),
            ),
            Span::styled(format!("{status:<10} "), theme.style(status_slot(a))),
            Span::raw(sanitize(a.description.trim_end_matches('.')).into_owned()),
            Span::styled(
                format!(" — {}", sanitize(&a.short_cause())),
                theme.style(Slot::Muted),
            ),
        ]));
        // the newest one's status message says why it failed
        if i == 0
            && a.status != ActivityStatus::Successful
            && let Some(m) = &a.status_message
            && lines.len() < room
        {
            lines.push(Line::styled(
                format!("      {}", sanitize(m)),
                theme.style(status_slot(a)),
            ));
        }
    }
    lines
}

/// Draw the auto scaling block at the top of `area` and return what is left below it.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    view: &ServiceView,
    theme: &Theme,
) -> Rect {
    let now = state.now_unix;
    let desired = view.service().map(|s| s.desired).unwrap_or(0);
    let loaded = crate::app::scaling::of(state, &view.cluster, &view.service);
    let room = usize::from(area.height.saturating_sub(EVENTS_KEEP + 1)).min(6);
    // Until the first answer the events keep the room (it comes with the service's).
    let Some(loaded) = loaded else {
        return area;
    };
    let (title, lines) = match &loaded.result {
        Err(reason) => (
            Span::styled(" auto scaling ", theme.style(Slot::Muted)),
            vec![Line::styled(
                format!(" auto scaling unavailable: {}", sanitize(reason)),
                theme.style(Slot::Warning),
            )],
        ),
        Ok(s) => match &s.target {
            None => (
                Span::styled(" auto scaling ", theme.style(Slot::Muted)),
                vec![Line::styled(" no auto scaling", theme.style(Slot::Muted))],
            ),
            Some(t) => {
                let mut title = format!(
                    " auto scaling: min {} max {}, desired {desired}",
                    t.min, t.max
                );
                let mut slot = Slot::Muted;
                if let Some(since) = s.at_max_since(desired) {
                    title.push_str(&format!(" · at maximum for {}", ago(now - since)));
                    if now - since > AT_MAX_MARK_SECS {
                        slot = Slot::Warning;
                    }
                }
                if t.suspended.any() {
                    title.push_str(&format!(" · suspended: {}", t.suspended.words()));
                    slot = Slot::Warning;
                }
                title.push(' ');
                (
                    Span::styled(title, theme.style(slot)),
                    body(s, room.max(1), now, theme),
                )
            }
        },
    };
    let height = (lines.len() as u16 + 1).min(area.height.saturating_sub(EVENTS_KEEP));
    if height < 2 {
        return area;
    }
    let [block_area, rest] =
        Layout::vertical([Constraint::Length(height), Constraint::Min(0)]).areas(area);
    let block = Block::default()
        .title(title)
        .borders(Borders::TOP)
        .border_style(theme.style(Slot::Border));
    frame.render_widget(Paragraph::new(lines).block(block), block_area);
    rest
}
