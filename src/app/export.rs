//! `E`: the current view as Markdown in a new file (0600) in the working directory, ready to
//! paste in an incident channel: the timeline, any table (the rows as filtered and sorted on
//! screen), or a task's stop details. Untrusted text is sanitised and `|` escaped.

use super::command::{Command, Context};
use super::effect::Effect;
use super::state::State;
use super::table::{TableView, Tabular};
use super::timeline::{md_cell, md_text};
use super::update::set_status;
use super::views::View;
use crate::domain::Task;

/// `rows` (those at `order`, in that order) as a Markdown table of their columns' values.
pub fn markdown_table<R: Tabular>(rows: &[R], order: &[usize]) -> String {
    let columns = R::columns();
    let mut out = format!(
        "| {} |\n|{}\n",
        R::headers().join(" | "),
        "---|".repeat(columns.len())
    );
    for r in order.iter().filter_map(|&i| rows.get(i)) {
        let cells: Vec<String> = columns.iter().map(|c| md_cell(&(c.text)(r))).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

fn table<R: Tabular>(rows: &[R], table: &TableView) -> (String, usize) {
    (markdown_table(rows, &table.visible), table.visible.len())
}

fn task_md(t: &Task) -> String {
    let mut out = format!(
        "| Field | Value |\n|---|---|\n| task | {} |\n| status | {} (desired {}) |\n| task definition | {} |\n",
        md_cell(&t.arn),
        md_cell(&t.last_status),
        md_cell(&t.desired_status),
        md_cell(&t.task_definition)
    );
    for (k, v) in [
        ("stop code", &t.stop_code),
        ("stopped reason", &t.stopped_reason),
        ("private IP", &t.private_ip().map(str::to_string)),
    ] {
        if let Some(v) = v {
            out.push_str(&format!("| {k} | {} |\n", md_cell(v)));
        }
    }
    if let Some(at) = t.stopped_at {
        out.push_str(&format!(
            "| stopped at | {} |\n",
            crate::logs::time::format_rfc3339(at.saturating_mul(1000))
        ));
    }
    out.push_str("\n| Container | Status | Exit | Reason |\n|---|---|---|---|\n");
    for c in &t.containers {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            md_cell(&c.name),
            md_cell(c.last_status.as_deref().unwrap_or("")),
            c.exit_code.map(|e| e.to_string()).unwrap_or_default(),
            md_cell(c.reason.as_deref().unwrap_or(""))
        ));
    }
    out
}

/// Markdown of the visible view: (file-name part, contents, rows), or why not.
pub fn markdown(state: &State) -> Result<(String, String, usize), String> {
    let view = state.view();
    let title = state.breadcrumbs().join(" › ");
    let (body, rows) = match view {
        View::Timeline(v) => (super::timeline::markdown(v), v.entries.len()),
        View::Pane(p) => return p.markdown(&title).map(|(doc, rows)| (title, doc, rows)),
        View::Clusters => table(&state.clusters.data.rows, &state.clusters.table),
        View::Services(v) => table(&v.data.rows, &v.table),
        View::Deployments(v) => {
            let rows = v
                .service()
                .map(|s| s.deployments.clone())
                .unwrap_or_default();
            table(&rows, &v.table)
        }
        View::Events(v) => {
            let rows = v.service().map(|s| s.events.clone()).unwrap_or_default();
            table(&rows, &v.table)
        }
        View::Tasks(v) => table(&v.data.rows, &v.table),
        View::Network(v) => table(&v.enis, &v.table),
        View::Stopped(v) => table(&v.groups, &v.table),
        View::Forwards(v) => table(&v.rows, &v.table),
        View::TaskDetail(v) => match v.data.rows.first() {
            Some(t) => (task_md(t), 1),
            None => return Err("the task has not loaded yet".into()),
        },
        View::Logs(_) => {
            return Err(
                match state.keymap.first_key(Context::Logs, Command::SaveLogs) {
                    Some(k) => format!("in the logs pane, {k} saves the lines"),
                    None => "in the logs pane, save_logs (unbound) saves the lines".to_string(),
                },
            );
        }
    };
    let doc = if matches!(view, View::Timeline(_)) {
        body
    } else {
        format!("## {}\n\n{body}", md_text(&title))
    };
    Ok((title, doc, rows))
}

/// `E` pressed: write the Markdown file.
pub fn export(state: &mut State) -> Vec<Effect> {
    match markdown(state) {
        Ok((title, contents, rows)) => {
            let name: String = title
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>()
                .split('-')
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("-");
            let stamp: String =
                crate::logs::time::format_rfc3339(state.now_unix.saturating_mul(1000))
                    .chars()
                    .filter(char::is_ascii_digit)
                    .take(14)
                    .collect();
            let path = std::path::PathBuf::from(format!("berth-{name}-{stamp}.md"));
            let message = format!(
                "exported {} as Markdown to {}",
                crate::ui::plural(rows, "row"),
                path.display()
            );
            vec![Effect::WriteFile {
                path,
                contents: contents.into_bytes(),
                message,
            }]
        }
        Err(e) => {
            set_status(state, e, true);
            Vec::new()
        }
    }
}
