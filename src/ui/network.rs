//! Network: every task's ENI and IPs, the IPs in use per subnet, and the peak a rolling
//! deployment will need (desired × maximumPercent / 100).

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::table::{TableSpec, empty_message, stale_error};
use crate::app::State;
use crate::app::views::TasksView;
use crate::config::theme::{Slot, Theme};

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &TasksView, theme: &Theme) {
    let summary = summary_lines(view, theme);
    let [summary_area, table_area] =
        Layout::vertical([Constraint::Length(summary.len() as u16), Constraint::Min(3)])
            .areas(area);
    frame.render_widget(Paragraph::new(summary), summary_area);
    super::table::render(
        frame,
        table_area,
        TableSpec {
            title: format!("{} ENIs", view.enis.len()),
            hidden: &[],
            rows: &view.enis,
            table: &view.table,
            now: state.now_unix,
            empty: empty_message(
                state,
                &view.data,
                "network interfaces",
                !view.enis.is_empty(),
            ),
            stale_error: stale_error(state, &view.data),
            row_style: &|_| None,
        },
        theme,
    );
}

/// IPs in use per subnet, and the rolling-deploy peak.
pub fn summary_lines(view: &TasksView, theme: &Theme) -> Vec<Line<'static>> {
    let muted = theme.style(Slot::Muted);
    let text = theme.style(Slot::Text);
    let mut per_subnet: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for e in &view.enis {
        let subnet = e.eni.subnet_id.clone().unwrap_or_else(|| "?".into());
        let entry = per_subnet
            .entry(subnet)
            .or_insert((0, e.availability_zone.clone().unwrap_or_default()));
        entry.0 += 1;
    }
    let mut in_use = vec![Span::styled(" IPs in use: ", muted)];
    if per_subnet.is_empty() {
        in_use.push(Span::styled("none", text));
    }
    for (i, (subnet, (n, az))) in per_subnet.iter().enumerate() {
        if i > 0 {
            in_use.push(Span::styled(", ", muted));
        }
        in_use.push(Span::styled(format!("{subnet} ({az}) {n}"), text));
    }
    let mut lines = vec![Line::from(in_use)];
    if let Some((desired, max_percent)) = view.deploy_shape {
        let peak = i64::from(desired) * i64::from(max_percent) / 100;
        lines.push(Line::from(vec![
            Span::styled(" rolling deploy peak: ", muted),
            Span::styled(
                format!("{desired} desired × {max_percent}% = {peak} IPs"),
                theme.style(Slot::Accent),
            ),
        ]));
    }
    lines
}
