//! The clusters pane: one row per cluster with its counts and settings.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::app::{Load, State};
use crate::config::theme::{Slot, Theme};
use crate::domain::Cluster;
use crate::text::sanitize;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let view = &state.clusters;
    let region = state.session.region.as_deref().unwrap_or("this region");

    if view.rows.is_empty() {
        let banner_explains = state.banner.as_ref().is_some_and(|b| b.clears_on_success);
        let (msg, slot) = if banner_explains && (view.error.is_some() || !state.session.connected) {
            (
                "Not connected to AWS: see the message above.".to_string(),
                Slot::Muted,
            )
        } else if let Some(err) = &view.error {
            let fix = err
                .fix(state.session.target.profile.as_deref())
                .map(|f| format!("\nfix: {f}"))
                .unwrap_or_default();
            (format!("Could not load clusters: {err}{fix}"), Slot::Error)
        } else if !view.loaded_once || view.load.is_loading() || !state.session.connected {
            ("Loading clusters…".to_string(), Slot::Muted)
        } else {
            (
                format!("No ECS clusters in {region}. Try another region with --region."),
                Slot::Muted,
            )
        };
        frame.render_widget(
            Paragraph::new(
                msg.lines()
                    .map(|l| Line::styled(sanitize(l).into_owned(), theme.style(slot)))
                    .collect::<Vec<_>>(),
            )
            .wrap(Wrap { trim: true }),
            area.inner(ratatui::layout::Margin::new(1, 1)),
        );
        return;
    }

    let header = Row::new(
        [
            "NAME",
            "STATUS",
            "SVCS",
            "RUN",
            "PEND",
            "CAPACITY PROVIDERS",
            "INSIGHTS",
        ]
        .map(Cell::from),
    )
    .style(theme.style(Slot::Header));

    let rows = view.rows.iter().map(|c| row(c, theme));
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(10),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Fill(1),
        Constraint::Length(8),
    ];
    let mut title = format!(" {} clusters ", view.rows.len());
    if let Load::Loading {
        total: Some(total),
        received,
        ..
    } = view.load
        && !view.loaded_once
    {
        title = format!(" {received}/{total} clusters ");
    }
    let footer_line = match &view.error {
        Some(err) => Line::styled(
            format!(
                " refresh failed: {} (data from {}s ago) ",
                sanitize(&err.to_string()),
                view.loaded_at
                    .map(|t| state.now_unix.saturating_sub(t))
                    .unwrap_or(0)
            ),
            theme.style(Slot::Error),
        ),
        None => Line::default(),
    };
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.style(Slot::Selection))
        .block(
            ratatui::widgets::Block::default()
                .title(Span::styled(title, theme.style(Slot::Muted)))
                .title_bottom(footer_line)
                .borders(ratatui::widgets::Borders::TOP)
                .border_style(theme.style(Slot::Border)),
        );
    let mut table_state = TableState::default().with_selected(Some(view.selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}

fn row<'a>(c: &'a Cluster, theme: &Theme) -> Row<'a> {
    let (glyph, slot) = match c.status.as_str() {
        "ACTIVE" => ("●", Slot::StateActive),
        "INACTIVE" => ("○", Slot::StateInactive),
        "FAILED" => ("✗", Slot::Error),
        _ => ("◌", Slot::StateDraining),
    };
    let pending_style = if c.pending_tasks > 0 {
        theme.style(Slot::TaskPending)
    } else {
        theme.style(Slot::Text)
    };
    let providers = if c.capacity_providers.is_empty() {
        "-".to_string()
    } else {
        c.capacity_providers.join(",")
    };
    Row::new(vec![
        Cell::from(sanitize(&c.name).into_owned()),
        Cell::from(Span::styled(
            format!("{glyph} {}", sanitize(&c.status)),
            theme.style(slot),
        )),
        Cell::from(c.active_services.to_string()),
        Cell::from(c.running_tasks.to_string()),
        Cell::from(Span::styled(c.pending_tasks.to_string(), pending_style)),
        Cell::from(sanitize(&providers).into_owned()),
        Cell::from(sanitize(c.container_insights.as_deref().unwrap_or("-")).into_owned()),
    ])
    .style(Style::default())
}
