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

/// Rows of a table.
pub trait Tabular {
    /// Column headers, upper case.
    fn columns() -> &'static [&'static str];
    /// The text of a cell, as filtered and (by default) shown.
    fn cell(&self, col: usize) -> String;
    /// How a column sorts; text by default.
    fn sort_key(&self, col: usize) -> SortKey {
        SortKey::Text(self.cell(col).to_lowercase())
    }
    /// A stable identity (an ARN), so the selection follows its row across refreshes.
    fn key(&self) -> &str;
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

    pub fn matches<R: Tabular>(&self, row: &R) -> bool {
        if self.needle.is_empty() {
            return true;
        }
        let columns = R::columns();
        let hit = match self.column_index(columns) {
            Some(i) => row.cell(i).to_lowercase().contains(&self.needle),
            None => (0..columns.len()).any(|i| row.cell(i).to_lowercase().contains(&self.needle)),
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
}

impl TableView {
    /// Recompute `visible` after rows, filter or sort changed, keeping the selected row
    /// (by key) selected when it is still there.
    pub fn recompute<R: Tabular>(
        &mut self,
        rows: &[R],
        selected_key: Option<&str>,
        default_order: impl Fn(&R, &R) -> Ordering,
    ) {
        let filter = Filter::parse(&self.filter, R::columns());
        let mut visible: Vec<usize> = (0..rows.len())
            .filter(|&i| filter.matches(&rows[i]))
            .collect();
        match self.sort {
            Some(Sort { column, descending }) => {
                visible.sort_by(|&a, &b| {
                    let o = rows[a].sort_key(column).cmp(&rows[b].sort_key(column));
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

    /// Cycle the sort: default order → column 0 ascending → column 1 ... → default.
    pub fn next_sort_column(&mut self, columns: usize) {
        self.sort = match self.sort {
            None => Some(Sort {
                column: 0,
                descending: false,
            }),
            Some(s) if s.column + 1 < columns => Some(Sort {
                column: s.column + 1,
                descending: s.descending,
            }),
            Some(_) => None,
        };
    }

    pub fn reverse_sort(&mut self) {
        self.sort = Some(match self.sort {
            None => Sort {
                column: 0,
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

    impl Tabular for Row {
        fn columns() -> &'static [&'static str] {
            &["NAME", "STATUS", "COUNT"]
        }
        fn cell(&self, col: usize) -> String {
            match col {
                0 => self.0.to_string(),
                1 => self.1.to_string(),
                _ => self.2.to_string(),
            }
        }
        fn sort_key(&self, col: usize) -> SortKey {
            match col {
                2 => SortKey::Num(self.2 as f64),
                _ => SortKey::Text(self.cell(col).to_lowercase()),
            }
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
        t.recompute(&rows, None, by_name);
        assert_eq!(names(&t, &rows), ["Search-API", "checkout-api"]);
        t.filter = "!api".into();
        t.recompute(&rows, None, by_name);
        assert_eq!(names(&t, &rows), ["payments"]);
        t.filter = "status:drain".into();
        t.recompute(&rows, None, by_name);
        assert_eq!(names(&t, &rows), ["payments"]);
        t.filter = "!stat:active".into();
        t.recompute(&rows, None, by_name);
        assert_eq!(names(&t, &rows), ["payments"]);
        // An unknown column name is just text.
        t.filter = "nope:x".into();
        t.recompute(&rows, None, by_name);
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
        t.recompute(&rows, None, |a, b| a.0.cmp(b.0));
        assert_eq!(names(&t, &rows), ["Search-API", "checkout-api", "payments"]);
        t.reverse_sort();
        t.recompute(&rows, None, |a, b| a.0.cmp(b.0));
        assert_eq!(names(&t, &rows), ["payments", "checkout-api", "Search-API"]);
    }

    #[test]
    fn selection_follows_its_row_and_clamps() {
        let rows = rows();
        let mut t = TableView::default();
        t.recompute(&rows, None, |a, b| a.0.cmp(b.0));
        t.move_by(1);
        assert_eq!(t.selected_row().map(|i| rows[i].0), Some("checkout-api"));
        t.filter = "checkout".into();
        t.recompute(&rows, Some("checkout-api"), |a, b| a.0.cmp(b.0));
        assert_eq!(t.selected_row().map(|i| rows[i].0), Some("checkout-api"));
        t.move_by(100);
        assert_eq!(t.selected, 0);
        t.filter = "zzz".into();
        t.recompute(&rows, None, |a, b| a.0.cmp(b.0));
        assert_eq!(t.selected_row(), None);
    }

    #[test]
    fn sort_cycles_through_columns_back_to_default() {
        let mut t = TableView::default();
        for expected in [Some(0), Some(1), Some(2), None] {
            t.next_sort_column(3);
            assert_eq!(t.sort.map(|s| s.column), expected);
        }
    }
}
