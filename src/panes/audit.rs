//! The audit log (`:audit`): every action berth made or refused, and every exec or
//! port-forward session, newest first (the newest 500 lines of `audit.jsonl`). It re-reads the
//! file on every refresh: it is local and small.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::RequestId;
use crate::app::State;
use crate::app::command::{Command, Context};
use crate::app::pane::{InFlight, Pane, PaneData, PaneLoad};
use crate::app::table::TableView;
use crate::audit::Entry;
use crate::config::theme::{Slot, Theme};
use crate::ui::table::TableSpec;

/// How many of the newest lines the view reads.
pub const RECENT: usize = 500;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Audit {
    pub entries: Vec<Entry>,
    pub table: TableView,
    pub loaded: bool,
    pub error: Option<String>,
    load: InFlight,
}

impl Pane for Audit {
    fn context(&self) -> Context {
        Context::Audit
    }

    fn crumb(&self) -> String {
        "audit log".into()
    }

    fn table(&self) -> Option<&TableView> {
        Some(&self.table)
    }

    fn table_mut(&mut self) -> Option<&mut TableView> {
        Some(&mut self.table)
    }

    fn columns(&self, width: u16) -> Option<(Vec<&'static str>, Vec<usize>)> {
        use crate::app::table::{Tabular, shown_columns};
        Some((Entry::headers(), shown_columns::<Entry>(width, &[])))
    }

    fn recompute(&mut self, now: i64) {
        self.table
            .recompute(&self.entries, None, |_, _| std::cmp::Ordering::Equal, now);
    }

    fn refresh(&mut self, request: RequestId, _shown: bool, _now: i64) -> Option<PaneLoad> {
        self.load.start(request, false);
        Some(PaneLoad::Audit)
    }

    fn loaded(
        &mut self,
        request: RequestId,
        result: &Result<PaneData, String>,
        now: i64,
    ) -> Option<bool> {
        if !self.load.answer(request) {
            return None;
        }
        match result {
            Ok(PaneData::Audit(entries)) => {
                // identical lines: nothing to draw
                if self.loaded && self.error.is_none() && self.entries == *entries {
                    return Some(false);
                }
                self.entries = entries.clone();
                self.loaded = true;
                self.error = None;
                self.recompute(now);
            }
            Ok(_) => return Some(false),
            Err(e) => {
                self.loaded = true;
                self.error = Some(e.clone());
            }
        }
        Some(true)
    }

    fn is_loading(&self) -> bool {
        !self.loaded
    }

    fn answered(&self) -> bool {
        self.loaded
    }

    fn copy(&self, _cmd: Command) -> Option<(&'static str, String)> {
        self.table
            .selected_row()
            .and_then(|i| self.entries.get(i))
            .map(|e| ("target", e.target.clone()))
    }

    fn markdown(&self, title: &str) -> Result<(String, usize), String> {
        let body = crate::app::export::markdown_table(&self.entries, &self.table.visible);
        Ok((
            format!("## {}\n\n{body}", crate::app::timeline::md_text(title)),
            self.table.visible.len(),
        ))
    }

    fn render(&self, frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
        let path = crate::audit::default_path()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let empty = match (&self.error, self.loaded) {
            (Some(e), _) => Some((e.clone(), Slot::Error)),
            (None, false) => Some(("Reading the audit log…".to_string(), Slot::Muted)),
            (None, true) => Some(("No actions yet.".to_string(), Slot::Muted)),
        };
        crate::ui::table::render(
            frame,
            area,
            TableSpec {
                title: format!(
                    "{} in {path}, newest first",
                    crate::ui::plural(self.entries.len(), "action")
                ),
                hidden: &[],
                rows: &self.entries,
                table: &self.table,
                now: state.now_unix,
                empty,
                stale_error: None,
                row_style: &|_| None,
            },
            theme,
        );
    }

    fn clone_box(&self) -> Box<dyn Pane> {
        Box::new(self.clone())
    }
}
