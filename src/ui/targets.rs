//! The target groups of a load-balanced service in the deployments pane: per group its
//! health (`healthy n/m`, the first unhealthy target's reason) and health-check settings.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::State;
use crate::config::theme::{Slot, Theme};
use crate::domain::Service;
use crate::domain::targets::{GroupHealth, TargetGroup, TargetState, group_name, healthy_counts};
use crate::text::sanitize;

/// `HTTP /health every 10s timeout 5s healthy 2 unhealthy 3 codes 200` (thresholds: checks in
/// a row to turn healthy / unhealthy; the port when it is not the traffic port).
pub fn check_text(g: &TargetGroup) -> String {
    let num = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
    let mut s = g.health_check_protocol.clone().unwrap_or_default();
    if let Some(path) = &g.health_check_path {
        s.push(' ');
        s.push_str(path);
    }
    // the traffic port is the default: only another port is worth the room
    if let Some(port) = g
        .health_check_port
        .as_deref()
        .filter(|p| *p != "traffic-port")
    {
        s.push_str(&format!(" port {port}"));
    }
    s.push_str(&format!(
        " every {}s timeout {}s healthy {} unhealthy {}",
        num(g.interval_s),
        num(g.timeout_s),
        num(g.healthy_threshold),
        num(g.unhealthy_threshold),
    ));
    if let Some(m) = &g.matcher {
        s.push_str(&format!(" codes {m}"));
    }
    s
}

/// Draw the service's target groups at the top of `area` and return what is left below
/// (all of `area` for a service without load balancers).
pub fn render(frame: &mut Frame, area: Rect, state: &State, s: &Service, theme: &Theme) -> Rect {
    let arns: Vec<&String> = s
        .load_balancers
        .iter()
        .filter_map(|lb| lb.target_group_arn.as_ref())
        .collect();
    if arns.is_empty() {
        return area;
    }
    let muted = theme.style(Slot::Muted);
    let mut lines = Vec::new();
    for arn in &arns {
        let name = sanitize(group_name(arn)).into_owned();
        let mut first = vec![Span::styled(format!(" {name} "), theme.style(Slot::Accent))];
        match state.targets.groups.get(*arn) {
            None => first.push(Span::styled("loading…", muted)),
            Some(GroupHealth::Unavailable(m)) => {
                first.push(Span::styled(m.clone(), theme.style(Slot::Warning)));
            }
            Some(GroupHealth::Targets(ts)) => {
                let (healthy, total) = healthy_counts(ts);
                let slot = if healthy == total {
                    Slot::Success
                } else {
                    Slot::Warning
                };
                first.push(Span::styled(
                    format!("healthy {healthy}/{total}"),
                    theme.style(slot),
                ));
                if let Some(t) = ts.iter().find(|t| t.state == TargetState::Unhealthy) {
                    first.push(Span::styled(
                        format!(
                            "  {}: {}",
                            t.reason.as_deref().unwrap_or("unhealthy"),
                            t.description.as_deref().unwrap_or_default()
                        ),
                        theme.style(Slot::Error),
                    ));
                }
            }
        }
        lines.push(Line::from(first));
        let check = match (
            state.targets.settings.get(*arn),
            &state.targets.settings_error,
        ) {
            (Some(g), _) => format!("   {}", check_text(g)),
            (None, Some(e)) => format!("   {e}"),
            (None, None) => String::new(),
        };
        if !check.is_empty() {
            lines.push(Line::styled(check, muted));
        }
    }
    let height = (lines.len() as u16 + 1).min(7);
    let [block_area, rest] =
        Layout::vertical([Constraint::Length(height), Constraint::Min(0)]).areas(area);
    let block = Block::default()
        .title(Span::styled(
            format!(" {} ", super::plural(arns.len(), "target group")),
            muted,
        ))
        .borders(Borders::TOP)
        .border_style(theme.style(Slot::Border));
    frame.render_widget(Paragraph::new(lines).block(block), block_area);
    rest
}
