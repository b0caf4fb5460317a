//! The CPU and memory chart of one service, in the deployments pane above the events: the
//! last hour as a sparkline per metric (the same blocks as the services list: the height is
//! the percentage, 0–100%), with the newest, average and highest value. Drawn only when
//! metrics are on and the terminal is at least `CHART_MIN_ROWS` tall; access denied and other
//! failures are said in place.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

use crate::app::State;
use crate::app::views::ServiceView;
use crate::config::theme::{Slot, Theme};
use crate::domain::metrics::{METRICS_WINDOW_SECS, Series};

/// Rows the chart takes: its title, CPU, memory.
pub const HEIGHT: u16 = 3;
/// The pane keeps at least this many rows for the events below.
const EVENTS_MIN: u16 = 6;
/// `CPU  now  95%  avg  61%  max  99% `
const LABEL_WIDTH: u16 = 36;

/// Draw the chart at the top of `area`; what is left of `area` below it.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    view: &ServiceView,
    theme: &Theme,
) -> Rect {
    if state.metrics.disabled
        || state.rows < crate::app::metrics::CHART_MIN_ROWS
        || area.height < HEIGHT + EVENTS_MIN
    {
        return area;
    }
    let [chart, rest] =
        Layout::vertical([Constraint::Length(HEIGHT), Constraint::Min(0)]).areas(area);
    let trend = state.metrics.trend(&view.cluster, &view.service);
    render_chart(frame, chart, " CPU and memory", trend, theme);
    rest
}

/// The chart of one trend in `area` (three rows): a title line, then CPU and memory.
pub fn render_chart(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    trend: Option<&crate::app::metrics::Trend>,
    theme: &Theme,
) {
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.style(Slot::Border))
        .title(Span::styled(
            format!("{title}, last {} minutes ", METRICS_WINDOW_SECS / 60),
            theme.style(Slot::Title),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let message = |text: String, slot: Slot| Paragraph::new(Line::styled(text, theme.style(slot)));
    match trend {
        None => frame.render_widget(message("loading…".into(), Slot::Muted), inner),
        Some(Err(why)) => frame.render_widget(message(why.to_string(), Slot::Warning), inner),
        Some(Ok(m)) => {
            let rows: [Rect; 2] = Layout::vertical([Constraint::Length(1); 2]).areas(inner);
            for (row, (name, series)) in rows.into_iter().zip([("CPU", &m.cpu), ("MEM", &m.memory)])
            {
                metric_row(frame, row, name, series, theme);
            }
        }
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "   -".into(), |v| format!("{v:>3.0}%"))
}

fn metric_row(frame: &mut Frame, area: Rect, name: &str, series: &Series, theme: &Theme) {
    let [label, spark] =
        Layout::horizontal([Constraint::Length(LABEL_WIDTH), Constraint::Fill(1)]).areas(area);
    let now = series.current();
    let slot = match now {
        Some(v) if v >= 90.0 => Slot::Error,
        Some(v) if v >= 75.0 => Slot::Warning,
        _ => Slot::Text,
    };
    let muted = theme.style(Slot::Muted);
    let text = Line::from(vec![
        Span::styled(format!(" {name}  "), theme.style(Slot::Title)),
        Span::styled("now ", muted),
        Span::styled(pct(now), theme.style(slot)),
        Span::styled("  avg ", muted),
        Span::styled(pct(series.average()), theme.style(Slot::Text)),
        Span::styled("  max ", muted),
        Span::styled(pct(series.max()), theme.style(Slot::Text)),
    ]);
    frame.render_widget(Paragraph::new(text), label);
    if series.points.is_empty() {
        frame.render_widget(Paragraph::new(Span::styled("no data", muted)), spark);
        return;
    }
    // eighths of 100% (at least one), so each bar is the block the services list shows
    let skip = series.points.len().saturating_sub(usize::from(spark.width));
    let bars: Vec<u64> = series.points[skip..]
        .iter()
        .map(|p| (p.1.clamp(0.0, 100.0) / 12.5).ceil().max(1.0) as u64)
        .collect();
    frame.render_widget(
        Sparkline::default()
            .data(&bars)
            .max(8)
            .style(theme.style(slot)),
        spark,
    );
}
