//! The services pane. For now a placeholder that confirms the selected cluster; the services
//! table arrives with the triage panes.

use ratatui::Frame;
use ratatui::layout::{Margin, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::{Command, State};
use crate::config::theme::{Slot, Theme};
use crate::text::sanitize;

pub fn render(frame: &mut Frame, area: Rect, state: &State, cluster: &str, theme: &Theme) {
    let back = state
        .keymap
        .keys_for(state.context(), Command::Back)
        .first()
        .map(|k| k.to_string())
        .unwrap_or_else(|| "back".to_string());
    let summary = state
        .clusters
        .rows
        .iter()
        .find(|c| c.name == cluster)
        .map(|c| {
            format!(
                "{} active services, {} running and {} pending tasks.",
                c.active_services, c.running_tasks, c.pending_tasks
            )
        })
        .unwrap_or_default();
    let lines = vec![
        Line::styled(
            format!("Services of {}", sanitize(cluster)),
            theme.style(Slot::Accent),
        ),
        Line::styled(summary, theme.style(Slot::Text)),
        Line::default(),
        Line::styled(
            format!("The services table is not built yet. Press {back} to go back."),
            theme.style(Slot::Muted),
        ),
    ];
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }),
        area.inner(Margin::new(1, 1)),
    );
}
