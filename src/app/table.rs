//! Table mechanics shared by every pane: filter, sort, selection that follows its row.
//!
//! A pane's rows implement [`Tabular`]; its view keeps a [`TableView`] whose `visible` list (row
//! indices after filter and sort) is recomputed only when the rows, the filter or the sort
//! change, never per frame.

use std::cmp::Ordering;

/// How a column sorts.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum SortKey {
    Num(f64),
    Text(String),
}

impl SortKey {
    fn cmp(&self, other: &SortKey) -> Ordering {
        match (self, other) {
            (SortKey::Num(a), SortKey::Num(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
            (SortKey::Num(_), SortKey::Text(_)) => Ordering::Less,
            (SortKey::Text(_), SortKey::Num(_)) => Ordering::Greater,
        }
    }
}

/// One column of a table, defined once: the header, how wide it is and from which terminal
/// width it shows, its text, colour and sort order. Filter, highlight, sort, rendering and
/// export all read this one definition, so they always agree on which column is which.
pub struct Column<R> {
    /// Upper case; `/col:text` filters name it (or a prefix of it).
    pub header: &'static str,
    pub width: ratatui::layout::Constraint,
    /// Shown only when the table is at least this wide (0: always).
    pub min_width: u16,
    /// The value: filtered, sorted (unless `sort` says otherwise) and exported.
    pub text: fn(&R) -> String,
    /// What the screen shows when it differs from the value (an age for a time). Filters
    /// match either.
    pub shown: Option<fn(&R, i64) -> String>,
    /// The theme slot the cell is drawn in.
    pub slot: fn(&R) -> crate::config::theme::Slot,
    /// Sort order other than the value's text (numbers, times).
    pub sort: Option<fn(&R) -> SortKey>,
}

fn text_slot<R>(_: &R) -> crate::config::theme::Slot {
    crate::config::theme::Slot::Text
}

impl<R> Column<R> {
    pub const fn new(
        header: &'static str,
        width: ratatui::layout::Constraint,
        min_width: u16,
        text: fn(&R) -> String,
    ) -> Column<R> {
        Column {
            header,
            width,
            min_width,
            text,
            shown: None,
            slot: text_slot::<R>,
            sort: None,
        }
    }

    pub const fn shown(mut self, shown: fn(&R, i64) -> String) -> Column<R> {
        self.shown = Some(shown);
        self
    }

    pub const fn slot(mut self, slot: fn(&R) -> crate::config::theme::Slot) -> Column<R> {
        self.slot = slot;
        self
    }

    pub const fn sort(mut self, sort: fn(&R) -> SortKey) -> Column<R> {
        self.sort = Some(sort);
        self
    }

    /// What the cell shows at `now`.
    pub fn display(&self, row: &R, now: i64) -> String {
        match self.shown {
            Some(shown) => shown(row, now),
            None => (self.text)(row),
        }
    }

    pub fn sort_key(&self, row: &R) -> SortKey {
        match self.sort {
            Some(sort) => sort(row),
            None => SortKey::Text((self.text)(row).to_lowercase()),
        }
    }
}

/// Rows of a table.
pub trait Tabular: Sized + 'static {
    /// The columns, in order.
    fn columns() -> &'static [Column<Self>];
    /// A stable identity (an ARN), so the selection follows its row across refreshes.
    fn key(&self) -> &str;

    /// The headers, in order.
    fn headers() -> Vec<&'static str> {
        Self::columns().iter().map(|c| c.header).collect()
    }
}

/// The columns shown in a table `width` wide, leaving out `hidden` ones (by header).
pub fn shown_columns<R: Tabular>(width: u16, hidden: &[&str]) -> Vec<usize> {
    R::columns()
        .iter()
        .enumerate()
        .filter(|(_, c)| c.min_width <= width && !hidden.contains(&c.header))
        .map(|(i, _)| i)
        .collect()
}

/// A parsed `/` filter: `text` (substring, case-insensitive), `!text` (rows without it),
/// `col:text` (only that column; `!col:text` inverts).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    pub negate: bool,
    pub column: Option<String>,
    /// Lower-case needle; empty matches everything.
    pub needle: String,
}

impl Filter {
    pub fn parse(input: &str, columns: &[&str]) -> Filter {
        let mut text = input.trim();
        let negate = text.starts_with('!');
        if negate {
            text = &text[1..];
        }
        let mut column = None;
        if let Some((col, rest)) = text.split_once(':') {
            let col = col.trim().to_lowercase();
            if !col.is_empty()
                && columns
                    .iter()
                    .any(|c| c.to_lowercase() == col || c.to_lowercase().starts_with(&col))
            {
                column = Some(col);
                text = rest;
            }
        }
        Filter {
            negate,
            column,
            needle: text.trim().to_lowercase(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.needle.is_empty() && !self.negate
    }

    /// Index of the column this filter names, if any (exact header first, then prefix).
    pub fn column_index(&self, columns: &[&str]) -> Option<usize> {
        let want = self.column.as_deref()?;
        columns
            .iter()
            .position(|c| c.to_lowercase() == want)
            .or_else(|| {
                columns
                    .iter()
                    .position(|c| c.to_lowercase().starts_with(want))
            })
    }

    /// Whether `row` passes: the needle in a column's value or in what it shows at `now`.
    pub fn matches<R: Tabular>(&self, row: &R, now: i64) -> bool {
        if self.needle.is_empty() {
            return true;
        }
        let columns = R::columns();
        let hit_in = |c: &Column<R>| {
            (c.text)(row).to_lowercase().contains(&self.needle)
                || c.shown
                    .is_some_and(|shown| shown(row, now).to_lowercase().contains(&self.needle))
        };
        let hit = match self.column_index(&R::headers()) {
            Some(i) => columns.get(i).is_some_and(hit_in),
            None => columns.iter().any(hit_in),
        };
        hit != self.negate
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: usize,
    pub descending: bool,
}

/// Selection, filter and sort of one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableView {
    /// Index into `visible`.
    pub selected: usize,
    /// The filter as typed.
    pub filter: String,
    /// `None`: the pane's default order.
    pub sort: Option<Sort>,
    /// Row indices after filter and sort.
    pub visible: Vec<usize>,
    /// First visible row on screen, kept by the renderer between frames so scrolling is
    /// stable (not part of the model's meaning, hence a `Cell`).
    pub offset: std::cell::Cell<usize>,
    /// Rows the last frame had room for (0 before the first frame), kept like `offset`:
    /// what is on screen is `visible[offset..offset + height]`.
    pub height: std::cell::Cell<usize>,
}

impl TableView {
    /// Recompute `visible` after rows, filter or sort changed, keeping the selected row
    /// (by key) selected when it is still there.
    pub fn recompute<R: Tabular>(
        &mut self,
        rows: &[R],
        selected_key: Option<&str>,
        default_order: impl Fn(&R, &R) -> Ordering,
        now: i64,
    ) {
        let filter = Filter::parse(&self.filter, &R::headers());
        let mut visible: Vec<usize> = (0..rows.len())
            .filter(|&i| filter.matches(&rows[i], now))
            .collect();
        match self
            .sort
            .and_then(|s| R::columns().get(s.column).map(|c| (s, c)))
        {
            Some((Sort { descending, .. }, column)) => {
                visible.sort_by(|&a, &b| {
                    let o = column.sort_key(&rows[a]).cmp(&column.sort_key(&rows[b]));
                    let o = if descending { o.reverse() } else { o };
                    o.then_with(|| default_order(&rows[a], &rows[b]))
                });
            }
            None => visible.sort_by(|&a, &b| default_order(&rows[a], &rows[b])),
        }
        self.visible = visible;
        if let Some(key) = selected_key
            && let Some(pos) = self.visible.iter().position(|&i| rows[i].key() == key)
        {
            self.selected = pos;
        }
        self.clamp();
    }

    fn clamp(&mut self) {
        self.selected = self.selected.min(self.visible.len().saturating_sub(1));
    }

    /// The selected row's index into the rows.
    pub fn selected_row(&self) -> Option<usize> {
        self.visible.get(self.selected).copied()
    }

    pub fn move_by(&mut self, delta: i64) {
        if self.visible.is_empty() {
            self.selected = 0;
            return;
        }
        let max = (self.visible.len() - 1) as i64;
        self.selected = (self.selected as i64).saturating_add(delta).clamp(0, max) as usize;
    }

    /// Cycle the sort through the columns on screen (`shown`, in order): default order →
    /// the first ascending → the next ... → default.
    pub fn next_sort_column(&mut self, shown: &[usize]) {
        let next = match self.sort {
            None => shown.first(),
            Some(s) => shown.iter().find(|&&c| c > s.column),
        };
        self.sort = next.map(|&column| Sort {
            column,
            descending: self.sort.is_some_and(|s| s.descending),
        });
    }

    pub fn reverse_sort(&mut self, shown: &[usize]) {
        self.sort = Some(match self.sort {
            None => Sort {
                column: shown.first().copied().unwrap_or(0),
                descending: true,
            },
            Some(s) => Sort {
                column: s.column,
                descending: !s.descending,
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Row(&'static str, &'static str, i64);

    const COLUMNS: &[Column<Row>] = &[
        Column::new("NAME", ratatui::layout::Constraint::Fill(1), 0, |r| {
            r.0.to_string()
        }),
        Column::new("STATUS", ratatui::layout::Constraint::Length(8), 0, |r| {
            r.1.to_string()
        }),
        Column::<Row>::new("COUNT", ratatui::layout::Constraint::Length(5), 100, |r| {
            r.2.to_string()
        })
        .sort(|r| SortKey::Num(r.2 as f64)),
    ];

    impl Tabular for Row {
        fn columns() -> &'static [Column<Row>] {
            COLUMNS
        }
        fn key(&self) -> &str {
            self.0
        }
    }

    fn rows() -> Vec<Row> {
        vec![
            Row("checkout-api", "ACTIVE", 10),
            Row("payments", "DRAINING", 2),
            Row("Search-API", "ACTIVE", 30),
        ]
    }

    fn names(t: &TableView, rows: &[Row]) -> Vec<&'static str> {
        t.visible.iter().map(|&i| rows[i].0).collect()
    }

    #[test]
    fn filters_substring_inverted_and_by_column() {
        let rows = rows();
        let by_name = |a: &Row, b: &Row| a.0.cmp(b.0);
        let mut t = TableView {
            filter: "api".into(),
            ..TableView::default()
        };
        t.recompute(&rows, None, by_name, 0);
        assert_eq!(names(&t, &rows), ["Search-API", "checkout-api"]);
        t.filter = "!api".into();
        t.recompute(&rows, None, by_name, 0);
        assert_eq!(names(&t, &rows), ["payments"]);
        t.filter = "status:drain".into();
        t.recompute(&rows, None, by_name, 0);
        assert_eq!(names(&t, &rows), ["payments"]);
        t.filter = "!stat:active".into();
        t.recompute(&rows, None, by_name, 0);
        assert_eq!(names(&t, &rows), ["payments"]);
        // An unknown column name is just text.
        t.filter = "nope:x".into();
        t.recompute(&rows, None, by_name, 0);
        assert!(t.visible.is_empty());
    }

    #[test]
    fn sorts_numerically_and_reverses() {
        let rows = rows();
        let mut t = TableView {
            sort: Some(Sort {
                column: 2,
                descending: true,
            }),
            ..TableView::default()
        };
        t.recompute(&rows, None, |a, b| a.0.cmp(b.0), 0);
        assert_eq!(names(&t, &rows), ["Search-API", "checkout-api", "payments"]);
        t.reverse_sort(&[0, 1, 2]);
        t.recompute(&rows, None, |a, b| a.0.cmp(b.0), 0);
        assert_eq!(names(&t, &rows), ["payments", "checkout-api", "Search-API"]);
    }

    #[test]
    fn selection_follows_its_row_and_clamps() {
        let rows = rows();
        let mut t = TableView::default();
        t.recompute(&rows, None, |a, b| a.0.cmp(b.0), 0);
        t.move_by(1);
        assert_eq!(t.selected_row().map(|i| rows[i].0), Some("checkout-api"));
        t.filter = "checkout".into();
        t.recompute(&rows, Some("checkout-api"), |a, b| a.0.cmp(b.0), 0);
        assert_eq!(t.selected_row().map(|i| rows[i].0), Some("checkout-api"));
        t.move_by(100);
        assert_eq!(t.selected, 0);
        t.filter = "zzz".into();
        t.recompute(&rows, None, |a, b| a.0.cmp(b.0), 0);
        assert_eq!(t.selected_row(), None);
    }

    #[test]
    fn sort_cycles_through_the_columns_on_screen_back_to_default() {
        let mut t = TableView::default();
        // 80 columns wide: COUNT (from 100) is not on screen, so it is not offered.
        let shown = shown_columns::<Row>(80, &[]);
        assert_eq!(shown, [0, 1]);
        for expected in [Some(0), Some(1), None] {
            t.next_sort_column(&shown);
            assert_eq!(t.sort.map(|s| s.column), expected);
        }
        let wide = shown_columns::<Row>(120, &["STATUS"]);
        assert_eq!(wide, [0, 2]);
        for expected in [Some(0), Some(2), None] {
            t.next_sort_column(&wide);
            assert_eq!(t.sort.map(|s| s.column), expected);
        }
    }
}
