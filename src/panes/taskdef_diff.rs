//! The task-definition diff (`D` on a deployment or a history entry, `:diff 42 43`): what
//! differs between the revision a deployment rolled out and the one it replaced. Changed lines
//! first, grouped by task and container; the unchanged ones collapsed to a count (`enter`
//! shows them). Side by side from 120 columns, unified below. `E` exports it as Markdown.
//!
//! Both revisions are read with DescribeTaskDefinition, as ECS sent them. Secrets are compared
//! by name and `valueFrom` ARN only: nothing here (or anywhere in berth) resolves a secret.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line as TextLine, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::RequestId;
use crate::app::State;
use crate::app::command::{Command, Context};
use crate::app::pane::{InFlight, Pane, PaneData, PaneLoad, Reply};
use crate::config::theme::{Slot, Theme};
use crate::domain::taskdef_diff::{self, Change, Diff, Line};
use crate::text::sanitize;

/// At this width and wider the two revisions are shown side by side.
pub const SIDE_BY_SIDE_FROM: u16 = 120;

#[derive(Debug, Clone, PartialEq)]
pub struct TaskDefDiff {
    pub cluster: String,
    pub service: Option<String>,
    /// As asked: `family:revision` or an ARN.
    pub old: String,
    pub new: String,
    /// `family:revision` as ECS named them once loaded.
    pub old_name: String,
    pub new_name: String,
    /// Who registered the new revision, and when (unix seconds).
    pub registered: Option<(Option<String>, Option<i64>)>,
    pub diff: Option<Diff>,
    load: InFlight,
    pub error: Option<String>,
    /// Show the unchanged lines too.
    pub expanded: bool,
    pub scroll: usize,
}

impl TaskDefDiff {
    pub fn new(cluster: &str, service: Option<&str>, old: &str, new: &str) -> TaskDefDiff {
        TaskDefDiff {
            cluster: cluster.to_string(),
            service: service.map(str::to_string),
            old: old.to_string(),
            new: new.to_string(),
            old_name: crate::domain::family_revision(old),
            new_name: crate::domain::family_revision(new),
            registered: None,
            diff: None,
            load: InFlight::default(),
            error: None,
            expanded: false,
            scroll: 0,
        }
    }

    /// The lines on screen: a heading per scope, then its changed lines; the unchanged ones as
    /// a count, or listed when expanded.
    pub fn rows(&self) -> Vec<Row> {
        let Some(diff) = &self.diff else {
            return Vec::new();
        };
        let mut rows = Vec::new();
        let mut scope: Option<&str> = None;
        for line in &diff.changed {
            if scope != Some(line.scope.as_str()) {
                scope = Some(line.scope.as_str());
                rows.push(Row::Scope(line.scope.clone()));
            }
            rows.push(Row::Line(line.clone()));
        }
        if diff.changed.is_empty() {
            rows.push(Row::Note(
                "no difference in the compared fields".to_string(),
            ));
        }
        if self.expanded && !diff.same.is_empty() {
            rows.push(Row::Note(format!("{} unchanged:", diff.same.len())));
            let mut scope: Option<&str> = None;
            for line in &diff.same {
                if scope != Some(line.scope.as_str()) {
                    scope = Some(line.scope.as_str());
                    rows.push(Row::Scope(line.scope.clone()));
                }
                rows.push(Row::Line(line.clone()));
            }
        } else if !diff.same.is_empty() {
            rows.push(Row::Note(format!(
                "… {} unchanged (enter shows them)",
                crate::ui::plural(diff.same.len(), "field")
            )));
        }
        rows
    }

    fn summary(&self) -> String {
        match &self.diff {
            Some(d) => format!(
                "{} → {} · {} changed, {} unchanged",
                self.old_name,
                self.new_name,
                d.changed.len(),
                d.same.len()
            ),
            None => format!("{} → {}", self.old_name, self.new_name),
        }
    }
}

/// One line of the pane.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    Scope(String),
    Line(Line),
    Note(String),
}

impl Pane for TaskDefDiff {
    fn context(&self) -> Context {
        Context::Diff
    }

    fn crumb(&self) -> String {
        let family = |n: &str| n.rsplit_once(':').map(|(f, _)| f.to_string());
        if family(&self.old_name).is_some() && family(&self.old_name) == family(&self.new_name) {
            format!(
                "diff {} → {}",
                revision(&self.old_name),
                revision(&self.new_name)
            )
        } else {
            format!("diff {} → {}", self.old_name, self.new_name)
        }
    }

    fn cluster(&self) -> Option<&str> {
        Some(&self.cluster)
    }

    fn service(&self) -> Option<&str> {
        self.service.as_deref()
    }

    fn refresh(&mut self, request: RequestId, shown: bool, _now: i64) -> Option<PaneLoad> {
        // Two revisions never change: load once, or again when asked.
        if !shown && (self.diff.is_some() || self.load.busy()) {
            return None;
        }
        self.load.start(request, true);
        Some(PaneLoad::TaskDefinitions {
            old: self.old.clone(),
            new: self.new.clone(),
        })
    }

    fn loaded(
        &mut self,
        request: RequestId,
        result: &Result<PaneData, String>,
        _now: i64,
    ) -> Option<bool> {
        if !self.load.answer(request) {
            return None;
        }
        match result {
            Ok(PaneData::TaskDefinitions { old, new }) => {
                let name = |v: &serde_json::Value, asked: &str| {
                    let td = v.get("taskDefinition").unwrap_or(v);
                    match (
                        td.get("family").and_then(|f| f.as_str()),
                        td.get("revision").and_then(|r| r.as_i64()),
                    ) {
                        (Some(f), Some(r)) => format!("{f}:{r}"),
                        _ => crate::domain::family_revision(asked),
                    }
                };
                self.old_name = name(old, &self.old);
                self.new_name = name(new, &self.new);
                let td = new.get("taskDefinition").unwrap_or(new);
                self.registered = Some((
                    td.get("registeredBy")
                        .and_then(|v| v.as_str())
                        .map(str::to_string),
                    td.get("registeredAt").and_then(seconds),
                ));
                self.diff = Some(taskdef_diff::diff(old, new));
                self.error = None;
            }
            // another pane's kind of answer: not for this one
            Ok(_) => return Some(false),
            Err(e) => self.error = Some(e.clone()),
        }
        Some(true)
    }

    fn is_loading(&self) -> bool {
        self.load.spinner()
    }

    fn answered(&self) -> bool {
        self.diff.is_some() || self.error.is_some()
    }

    fn command(&mut self, cmd: Command, page: usize) -> Option<Reply> {
        let last = self.rows().len().saturating_sub(1);
        let to = |at: usize| at.min(last);
        match cmd {
            Command::Up => self.scroll = self.scroll.saturating_sub(1),
            Command::Down => self.scroll = to(self.scroll + 1),
            Command::PageUp => self.scroll = self.scroll.saturating_sub(page),
            Command::PageDown => self.scroll = to(self.scroll + page),
            Command::Top => self.scroll = 0,
            Command::Bottom => self.scroll = last,
            Command::Select => {
                self.expanded = !self.expanded;
                self.scroll = to(self.scroll);
            }
            _ => return None,
        }
        Some(Reply::done())
    }

    fn copy(&self, cmd: Command) -> Option<(&'static str, String)> {
        match cmd {
            Command::CopyId => Some(("revisions", format!("{} {}", self.old_name, self.new_name))),
            Command::CopyArn => Some(("task definition", self.new.clone())),
            _ => None,
        }
    }

    fn markdown(&self, _title: &str) -> Result<(String, usize), String> {
        let Some(diff) = &self.diff else {
            return Err("the task definitions have not loaded yet".into());
        };
        Ok((markdown(self, diff), diff.changed.len()))
    }

    fn render(&self, frame: &mut Frame, area: Rect, _state: &State, theme: &Theme) {
        render(self, frame, area, theme);
    }

    fn clone_box(&self) -> Box<dyn Pane> {
        Box::new(self.clone())
    }
}

/// `registeredAt`: epoch seconds (a JSON number, possibly fractional).
fn seconds(v: &serde_json::Value) -> Option<i64> {
    v.as_f64().map(|f| f as i64)
}

/// `checkout-api:43` → `43`.
fn revision(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, rev)| rev)
}

/// `arn:aws:sts::1:assumed-role/deploy/ci` → `assumed-role/deploy/ci` (the account is the
/// header's).
fn principal(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

fn markdown(v: &TaskDefDiff, diff: &Diff) -> String {
    use crate::app::timeline::{md_cell, md_text};
    let mut out = format!(
        "## Task definition diff: {} → {}\n\n",
        md_text(&v.old_name),
        md_text(&v.new_name)
    );
    if let Some((by, at)) = &v.registered {
        let mut said = Vec::new();
        if let Some(at) = at {
            said.push(format!(
                "registered {} UTC",
                crate::app::views::utc(Some(*at))
            ));
        }
        if let Some(by) = by {
            said.push(format!("by {}", md_text(by)));
        }
        if !said.is_empty() {
            out.push_str(&format!("{} {}.\n\n", md_text(&v.new_name), said.join(" ")));
        }
    }
    out.push_str(&format!(
        "| scope | field | change | {} | {} |\n|---|---|---|---|---|\n",
        md_cell(&v.old_name),
        md_cell(&v.new_name)
    ));
    for l in &diff.changed {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            md_cell(&l.scope),
            md_cell(&l.field),
            change_word(l.change()),
            md_cell(l.before.as_deref().unwrap_or("")),
            md_cell(l.after.as_deref().unwrap_or(""))
        ));
    }
    if diff.changed.is_empty() {
        out.push_str("| | | | no difference in the compared fields | |\n");
    }
    out.push_str(&format!(
        "\n{} unchanged. Secrets are compared by name and ARN only; their values are never read.\n",
        crate::ui::plural(diff.same.len(), "field")
    ));
    out
}

fn change_word(c: Change) -> &'static str {
    match c {
        Change::Added => "added",
        Change::Removed => "removed",
        Change::Changed => "changed",
        Change::Same => "same",
    }
}

fn render(v: &TaskDefDiff, frame: &mut Frame, area: Rect, theme: &Theme) {
    let muted = theme.style(Slot::Muted);
    let title = match (&v.error, v.load.spinner() && v.diff.is_none()) {
        (Some(_), _) => format!(" {} ", v.summary()),
        (None, true) => format!(" loading {} … ", v.summary()),
        (None, false) => format!(" {} ", v.summary()),
    };
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.style(Slot::Border))
        .title(Span::styled(
            sanitize(&title).into_owned(),
            theme.style(Slot::Title),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines: Vec<TextLine> = Vec::new();
    if let Some(e) = &v.error {
        lines.push(TextLine::styled(
            format!(" could not load the task definitions: {}", sanitize(e)),
            theme.style(Slot::Error),
        ));
        lines.push(TextLine::styled(" ctrl-r tries again", muted));
    }
    if let Some((by, at)) = &v.registered {
        let mut said = format!(" {} registered", v.new_name);
        if let Some(at) = at {
            said.push_str(&format!(" {} UTC", crate::app::views::utc(Some(*at))));
        }
        if let Some(by) = by {
            said.push_str(&format!(" by {}", principal(by)));
        }
        lines.push(TextLine::styled(sanitize(&said).into_owned(), muted));
    }
    let width = usize::from(inner.width);
    let side_by_side = inner.width >= SIDE_BY_SIDE_FROM;
    let body: Vec<TextLine> = v
        .rows()
        .iter()
        .flat_map(|row| row_lines(row, width, side_by_side, &v.old_name, &v.new_name, theme))
        .collect();
    if side_by_side && v.diff.is_some() {
        let (field_w, value_w) = side_widths(width);
        let header = format!(
            "    {:<field_w$} {:<value_w$} {}",
            "field",
            fit(&v.old_name, value_w),
            fit(&v.new_name, value_w),
        );
        lines.push(TextLine::styled(
            header,
            theme.style(Slot::Header).add_modifier(Modifier::BOLD),
        ));
    }
    let skip = v.scroll.min(body.len().saturating_sub(1));
    lines.extend(body.into_iter().skip(skip));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Widths of the field column and of each value column, side by side.
fn side_widths(width: usize) -> (usize, usize) {
    let field = (width / 4).clamp(20, 40);
    let value = width.saturating_sub(field + 5) / 2;
    (field, value)
}

fn row_lines(
    row: &Row,
    width: usize,
    side_by_side: bool,
    _old: &str,
    _new: &str,
    theme: &Theme,
) -> Vec<TextLine<'static>> {
    let style_of = |c: Change| -> Style {
        match c {
            Change::Added => theme.style(Slot::Success),
            Change::Removed => theme.style(Slot::Error),
            Change::Changed => theme.style(Slot::Warning),
            Change::Same => theme.style(Slot::Muted),
        }
    };
    match row {
        Row::Scope(s) => vec![TextLine::styled(
            format!(" {}", fit(&sanitize(s), width.saturating_sub(1))),
            theme.style(Slot::Accent).add_modifier(Modifier::BOLD),
        )],
        Row::Note(n) => vec![TextLine::styled(
            format!("   {}", fit(n, width.saturating_sub(3))),
            theme.style(Slot::Muted),
        )],
        Row::Line(l) => {
            let change = l.change();
            let mark = match change {
                Change::Added => '+',
                Change::Removed => '-',
                Change::Changed => '~',
                Change::Same => ' ',
            };
            let before = l.before.as_deref().map(sanitize);
            let after = l.after.as_deref().map(sanitize);
            if side_by_side {
                let (field_w, value_w) = side_widths(width);
                let absent = "(absent)";
                return vec![TextLine::from(vec![
                    Span::styled(format!("  {mark} "), style_of(change)),
                    Span::styled(
                        format!("{:<field_w$}", fit(&l.field, field_w)),
                        theme.style(Slot::Text),
                    ),
                    Span::raw(" "),
                    Span::styled(
                        format!(
                            "{:<value_w$}",
                            fit(before.as_deref().unwrap_or(absent), value_w)
                        ),
                        if change == Change::Added || change == Change::Same {
                            theme.style(Slot::Muted)
                        } else {
                            style_of(Change::Removed)
                        },
                    ),
                    Span::raw(" "),
                    Span::styled(
                        fit(after.as_deref().unwrap_or(absent), value_w),
                        if change == Change::Removed || change == Change::Same {
                            theme.style(Slot::Muted)
                        } else {
                            style_of(Change::Added)
                        },
                    ),
                ])];
            }
            // Unified: a removed value on a `-` line, an added one on a `+` line.
            let field = sanitize(&l.field);
            let room = width.saturating_sub(field.chars().count() + 6);
            let mut out = Vec::new();
            if change == Change::Same {
                out.push(TextLine::styled(
                    format!(
                        "    {field}: {}",
                        fit(before.as_deref().unwrap_or(""), room)
                    ),
                    style_of(Change::Same),
                ));
                return out;
            }
            if let Some(b) = &before {
                out.push(TextLine::styled(
                    format!("  - {field}: {}", fit(b, room)),
                    style_of(Change::Removed),
                ));
            }
            if let Some(a) = &after {
                out.push(TextLine::styled(
                    format!("  + {field}: {}", fit(a, room)),
                    style_of(Change::Added),
                ));
            }
            out
        }
    }
}

/// `s` cut to `width` characters, with `…` where it was cut: in the middle for an ARN or an
/// image (their ends tell them apart), at the end for anything else.
fn fit(s: &str, width: usize) -> String {
    let len = s.chars().count();
    if len <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let identifier = !s.contains(' ') && (s.starts_with("arn:") || s.contains('/'));
    if identifier && width > 12 {
        let head = (width - 1) / 3;
        let tail = width - 1 - head;
        let mut out: String = s.chars().take(head).collect();
        out.push('…');
        out.extend(s.chars().skip(len - tail));
        return out;
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn loaded(old: serde_json::Value, new: serde_json::Value) -> TaskDefDiff {
        let mut v = TaskDefDiff::new("prod", Some("checkout"), "checkout:42", "checkout:43");
        let load = v.refresh(7, true, 0);
        assert!(matches!(load, Some(PaneLoad::TaskDefinitions { .. })));
        let changed = v.loaded(7, &Ok(PaneData::TaskDefinitions { old, new }), 0);
        assert_eq!(changed, Some(true));
        v
    }

    #[test]
    fn an_answer_for_another_request_is_not_this_panes() {
        let mut v = TaskDefDiff::new("prod", None, "a:1", "a:2");
        v.refresh(1, true, 0);
        assert_eq!(v.loaded(2, &Err("x".into()), 0), None);
        assert!(v.is_loading());
        // loaded once, a background refresh asks for nothing
        v.loaded(1, &Err("boom".into()), 0);
        assert_eq!(v.error.as_deref(), Some("boom"));
    }

    #[test]
    fn rows_group_changes_by_scope_and_collapse_the_rest() {
        let td = |rev: i64, mem: &str, tag: &str| {
            json!({"taskDefinition": {"family": "checkout", "revision": rev, "memory": mem, "cpu": "256",
                "containerDefinitions": [{"name": "app", "image": format!("repo/app:{tag}"), "essential": true}]}})
        };
        let mut v = loaded(td(42, "512", "v1"), td(43, "1024", "v2"));
        assert_eq!(v.old_name, "checkout:42");
        let rows = v.rows();
        assert_eq!(rows[0], Row::Scope("task".into()));
        assert!(matches!(&rows[1], Row::Line(l) if l.field == "memory"));
        assert_eq!(rows[2], Row::Scope("container app".into()));
        assert!(matches!(&rows[3], Row::Line(l) if l.field == "image tag"));
        assert!(matches!(rows.last(), Some(Row::Note(n)) if n.contains("unchanged (enter")));
        let collapsed = rows.len();
        v.command(Command::Select, 10);
        assert!(
            v.rows().len() > collapsed,
            "enter lists the unchanged lines"
        );
        let md = v.markdown("t").map(|(m, _)| m).unwrap_or_default();
        assert!(
            md.contains("| task | memory | changed | 512 | 1024 |"),
            "{md}"
        );
    }

    #[test]
    fn fit_cuts_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(
            fit(
                "arn:aws:secretsmanager:eu-west-1:1:secret:prod/db-password-Xk29Qa",
                30
            ),
            "arn:aws:s…d/db-password-Xk29Qa"
        );
    }
}
