//! The table every pane uses: columns that drop out on narrow terminals, only the rows on
//! screen built per frame, filter matches highlighted, a title with counts, filter and sort,
//! and the load state (loading, empty, error) in place.

use ratatui::Frame;
use ratatui::layout::{Constraint, Margin, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::app::State;
use crate::app::rows::Rows;
use crate::app::table::{Filter, TableView, Tabular, shown_columns};
use crate::config::theme::{Slot, Theme};
use crate::text::sanitize;

/// What the table says when it has no rows to show.
pub fn empty_message<T: PartialEq + Clone>(
    state: &State,
    data: &Rows<T>,
    what: &str,
    filtered_out: bool,
) -> Option<(String, Slot)> {
    if let Some(err) = &data.error {
        let fix = err
            .fix(state.session.target.profile.as_deref())
            .map(|f| format!("\nfix: {f}"))
            .unwrap_or_default();
        let said = said(state, err);
        return Some((format!("Could not load {what}: {said}{fix}"), Slot::Error));
    }
    if !data.loaded_once {
        return Some((format!("Loading {what}…"), Slot::Muted));
    }
    if filtered_out {
        return Some((format!("No {what} match the filter."), Slot::Muted));
    }
    Some((format!("No {what}."), Slot::Muted))
}

/// What a pane gives the table besides its rows; the columns come from the rows' type.
pub struct TableSpec<'a, R> {
    pub title: String,
    pub rows: &'a [R],
    pub table: &'a TableView,
    /// Headers of columns this view leaves out (beyond those too wide for the terminal).
    pub hidden: &'a [&'a str],
    /// Now, for the columns that show an age.
    pub now: i64,
    /// Shown instead of the table when there are no visible rows.
    pub empty: Option<(String, Slot)>,
    /// A refresh error while old rows are still shown.
    pub stale_error: Option<String>,
    /// Style for a whole row (problem rows, stopped tasks).
    pub row_style: &'a dyn Fn(&R) -> Option<Style>,
}

pub fn render<R: Tabular>(frame: &mut Frame, area: Rect, spec: TableSpec<'_, R>, theme: &Theme) {
    let table = spec.table;
    let mut title = spec.title.clone();
    if !table.filter.is_empty() {
        title.push_str(&format!("  filter: {}", sanitize(&table.filter)));
    }
    if let Some(sort) = table.sort {
        let name = R::columns().get(sort.column).map_or("?", |c| c.header);
        title.push_str(&format!(
            "  sort: {} {}",
            name.to_lowercase(),
            if sort.descending { "↓" } else { "↑" }
        ));
    }
    let mut block = Block::default()
        .title(Span::styled(format!(" {title} "), theme.style(Slot::Muted)))
        .borders(Borders::TOP)
        .border_style(theme.style(Slot::Border));
    if let Some(err) = &spec.stale_error {
        block = block.title_bottom(Line::styled(
            format!(" {} ", sanitize(err)),
            theme.style(Slot::Error),
        ));
    }

    if table.visible.is_empty() {
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if let Some((msg, slot)) = &spec.empty {
            let lines: Vec<Line> = msg
                .lines()
                .map(|l| Line::styled(sanitize(l).into_owned(), theme.style(*slot)))
                .collect();
            frame.render_widget(
                Paragraph::new(lines).wrap(Wrap { trim: true }),
                inner.inner(Margin::new(1, 1)),
            );
        }
        return;
    }

    // Columns that fit, the same choice `o` sorting makes.
    let columns = R::columns();
    let shown = shown_columns::<R>(area.width, spec.hidden);
    let widths: Vec<Constraint> = shown.iter().map(|&i| columns[i].width).collect();
    let header = Row::new(
        shown
            .iter()
            .map(|&i| Cell::from(columns[i].header))
            .collect::<Vec<_>>(),
    )
    .style(theme.style(Slot::Header));

    // Only the rows on screen are built: 5,000 services cost what 20 do.
    let height = usize::from(area.height.saturating_sub(2)).max(1);
    let selected = table.selected.min(table.visible.len() - 1);
    let mut offset = table.offset.get();
    if selected < offset {
        offset = selected;
    } else if selected >= offset + height {
        offset = selected + 1 - height;
    }
    offset = offset.min(table.visible.len().saturating_sub(height));
    table.offset.set(offset);
    table.height.set(height);

    let headers = R::headers();
    let filter = Filter::parse(&table.filter, &headers);
    let highlight = (!filter.negate && !filter.needle.is_empty()).then_some(&filter);
    let match_style = theme.style(Slot::MatchHighlight);
    let rows = table.visible[offset..]
        .iter()
        .take(height)
        .filter_map(|&i| spec.rows.get(i))
        .map(|r| {
            let filter_col = highlight.and_then(|f| f.column_index(&headers));
            let row = Row::new(
                shown
                    .iter()
                    .map(|&i| {
                        let c = &columns[i];
                        let span = cell(c.display(r, spec.now), theme.style((c.slot)(r)));
                        match highlight {
                            Some(f) if filter_col.is_none_or(|c| c == i) => {
                                Cell::from(highlight_line(span, &f.needle, match_style))
                            }
                            _ => Cell::from(span),
                        }
                    })
                    .collect::<Vec<_>>(),
            );
            match (spec.row_style)(r) {
                Some(style) => row.style(style),
                None => row,
            }
        });
    let widget = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.style(Slot::Selection))
        .block(block);
    let mut state = TableState::default().with_selected(Some(selected - offset));
    frame.render_stateful_widget(widget, area, &mut state);
}

/// Split a cell so every case-insensitive occurrence of `needle` is styled as a match.
fn highlight_line(span: Span<'static>, needle: &str, style: Style) -> Line<'static> {
    let text = span.content.to_string();
    let lower = text.to_lowercase();
    // Lower-casing can change byte lengths outside ASCII; only highlight when it did not.
    if needle.is_empty() || lower.len() != text.len() {
        return Line::from(span);
    }
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find(needle) {
        let start = at + found;
        let end = start + needle.len();
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            break;
        }
        if start > at {
            spans.push(Span::styled(text[at..start].to_string(), span.style));
        }
        spans.push(Span::styled(
            text[start..end].to_string(),
            span.style.patch(style),
        ));
        at = end;
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), span.style));
    }
    Line::from(spans)
}

/// A sanitised cell.
pub fn cell(text: impl AsRef<str>, style: Style) -> Span<'static> {
    Span::styled(sanitize(text.as_ref()).into_owned(), style)
}

pub use crate::app::columns::age;

/// An AWS error as a person would say it, naming the endpoint berth could not reach.
pub fn said(state: &State, err: &crate::aws::AwsError) -> String {
    let endpoint = crate::aws::endpoint_for(
        err.service(),
        state.session.region.as_deref(),
        state.session.target.endpoint_url.as_deref(),
    );
    err.plain_at(endpoint.as_deref())
}

/// The refresh error line shown under a table that still shows older rows:
/// `cannot reach https://ecs.eu-west-1.amazonaws.com: connection refused — retrying; data
/// from 25s ago`.
pub fn stale_error<T: PartialEq + Clone>(state: &State, data: &Rows<T>) -> Option<String> {
    let err = data.error.as_ref()?;
    if !data.loaded_once || data.rows.is_empty() {
        return None;
    }
    let retrying = if err.is_transient() {
        " — retrying;"
    } else {
        ";"
    };
    Some(format!(
        "{}{retrying} data from {} ago",
        said(state, err),
        age(state.now_unix, data.loaded_at)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_splits_case_insensitively() {
        let line = highlight_line(
            Span::raw("Checkout-API-api"),
            "api",
            Style::default().bold(),
        );
        let parts: Vec<String> = line.spans.iter().map(|s| s.content.to_string()).collect();
        assert_eq!(parts, ["Checkout-", "API", "-", "api"]);
    }
}
