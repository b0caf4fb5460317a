//! A cluster's EC2 container instances (`:instances`): instance id, type, AZ, the agent
//! (connected, version), status, running and pending tasks, CPU and memory registered against
//! remaining. An instance with less than a tenth of its memory or CPU left is marked: that is
//! where tasks stop being placed. `enter` lists the instance's tasks.
//!
//! Cost: ⌈N/100⌉ ListContainerInstances + ⌈N/100⌉ DescribeContainerInstances per refresh, only
//! while on screen, at most every [`REFRESH_SECS`] in the background.

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::Rect;

use crate::app::RequestId;
use crate::app::State;
use crate::app::columns::age;
use crate::app::command::{Command, Context};
use crate::app::pane::{InFlight, Pane, PaneData, PaneLoad, Reply};
use crate::app::table::{Column, SortKey, TableView, Tabular, shown_columns};
use crate::config::theme::{Slot, Theme};
use crate::domain::ContainerInstance;
use crate::ui::table::TableSpec;

/// Background reloads no more often than this.
pub const REFRESH_SECS: i64 = 15;

/// Less than this share (percent) left of memory or CPU: the instance is full.
pub const FULL_PCT: i64 = 90;

fn full(c: &ContainerInstance) -> bool {
    c.memory_used_pct() >= FULL_PCT || c.cpu_used_pct() >= FULL_PCT
}

/// `5632/7680` MiB left of registered, as `1.5/7.5G`.
fn memory(c: &ContainerInstance) -> String {
    let g = |mib: i64| format!("{:.1}", mib as f64 / 1024.0);
    format!("{}/{}G", g(c.memory_remaining), g(c.memory_registered))
}

const INSTANCE: &[Column<ContainerInstance>] = &[
    Column::<ContainerInstance>::new("INSTANCE", Length(19), 0, |c| c.ec2_instance_id.clone()),
    Column::<ContainerInstance>::new("STATUS", Length(8), 0, |c| c.status.clone()).slot(
        |c| match c.status.as_str() {
            "ACTIVE" => Slot::Text,
            "DRAINING" => Slot::Warning,
            _ => Slot::Muted,
        },
    ),
    Column::<ContainerInstance>::new("AGENT", Length(5), 0, |c| {
        if c.agent_connected { "ok" } else { "LOST" }.to_string()
    })
    .slot(|c| {
        if c.agent_connected {
            Slot::Success
        } else {
            Slot::Error
        }
    }),
    Column::<ContainerInstance>::new("TASKS", Length(6), 0, |c| {
        if c.pending_tasks > 0 {
            format!("{}+{}", c.running_tasks, c.pending_tasks)
        } else {
            c.running_tasks.to_string()
        }
    })
    .sort(|c| SortKey::Num(f64::from(c.running_tasks + c.pending_tasks))),
    // remaining / registered: what placement looks at
    Column::<ContainerInstance>::new("CPU LEFT", Length(10), 0, |c| {
        format!("{}/{}", c.cpu_remaining, c.cpu_registered)
    })
    .slot(|c| {
        if c.cpu_used_pct() >= FULL_PCT {
            Slot::Error
        } else {
            Slot::Text
        }
    })
    .sort(|c| SortKey::Num(c.cpu_remaining as f64)),
    Column::<ContainerInstance>::new("MEM LEFT", Length(10), 0, memory)
        .slot(|c| {
            if c.memory_used_pct() >= FULL_PCT {
                Slot::Error
            } else {
                Slot::Text
            }
        })
        .sort(|c| SortKey::Num(c.memory_remaining as f64)),
    Column::<ContainerInstance>::new("TYPE", Fill(1), 0, |c| {
        c.instance_type.clone().unwrap_or_else(|| "-".into())
    }),
    Column::<ContainerInstance>::new("AZ", Length(11), 100, |c| {
        c.availability_zone.clone().unwrap_or_default()
    }),
    Column::<ContainerInstance>::new("AGENT VERSION", Length(13), 120, |c| {
        c.agent_version.clone().unwrap_or_default()
    }),
    Column::<ContainerInstance>::new("REGISTERED", Length(10), 140, |c| {
        crate::app::views::utc(c.registered_at)
    })
    .shown(|c, now| age(now, c.registered_at))
    .slot(|_| Slot::Muted),
];

impl Tabular for ContainerInstance {
    fn columns() -> &'static [Column<ContainerInstance>] {
        INSTANCE
    }
    fn key(&self) -> &str {
        &self.arn
    }
}

/// Full instances first (where placement fails), then by instance id.
fn order(a: &ContainerInstance, b: &ContainerInstance) -> std::cmp::Ordering {
    full(b)
        .cmp(&full(a))
        .then_with(|| a.ec2_instance_id.cmp(&b.ec2_instance_id))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instances {
    pub cluster: String,
    pub rows: Vec<ContainerInstance>,
    pub table: TableView,
    pub loaded_at: Option<i64>,
    pub error: Option<String>,
    load: InFlight,
}

impl Instances {
    pub fn new(cluster: &str) -> Instances {
        Instances {
            cluster: cluster.to_string(),
            rows: Vec::new(),
            table: TableView::default(),
            loaded_at: None,
            error: None,
            load: InFlight::default(),
        }
    }

    fn selected(&self) -> Option<&ContainerInstance> {
        self.table.selected_row().and_then(|i| self.rows.get(i))
    }
}

impl Pane for Instances {
    fn context(&self) -> Context {
        Context::Instances
    }

    fn crumb(&self) -> String {
        "instances".into()
    }

    fn cluster(&self) -> Option<&str> {
        Some(&self.cluster)
    }

    fn table(&self) -> Option<&TableView> {
        Some(&self.table)
    }

    fn table_mut(&mut self) -> Option<&mut TableView> {
        Some(&mut self.table)
    }

    fn columns(&self, width: u16) -> Option<(Vec<&'static str>, Vec<usize>)> {
        Some((
            ContainerInstance::headers(),
            shown_columns::<ContainerInstance>(width, &[]),
        ))
    }

    fn recompute(&mut self, now: i64) {
        let key = self.selected().map(|c| c.arn.clone());
        self.table.recompute(&self.rows, key.as_deref(), order, now);
    }

    fn refresh(&mut self, request: RequestId, shown: bool, now: i64) -> Option<PaneLoad> {
        let due = self
            .loaded_at
            .is_none_or(|t| now.saturating_sub(t) >= REFRESH_SECS);
        if !shown && (self.load.busy() || !due) {
            return None;
        }
        self.load.start(request, shown || self.loaded_at.is_none());
        Some(PaneLoad::ContainerInstances {
            cluster: self.cluster.clone(),
        })
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
            Ok(PaneData::ContainerInstances(rows)) => {
                self.loaded_at = Some(now);
                let had_error = self.error.take().is_some();
                if *rows == self.rows && !had_error && self.loaded_at.is_some() {
                    return Some(false);
                }
                self.rows = rows.clone();
                self.recompute(now);
                Some(true)
            }
            Ok(_) => Some(false),
            Err(e) => {
                let first = self.error.is_none();
                self.error = Some(e.clone());
                // a retry waits for the next background refresh
                self.loaded_at = Some(now);
                Some(first || self.rows.is_empty())
            }
        }
    }

    fn is_loading(&self) -> bool {
        self.load.spinner()
    }

    fn answered(&self) -> bool {
        self.loaded_at.is_some()
    }

    fn command(&mut self, cmd: Command, _page: usize) -> Option<Reply> {
        match cmd {
            Command::Select => {
                let Some(c) = self.selected() else {
                    return Some(Reply::status("select an instance first", true));
                };
                let mut view = crate::app::views::TasksView {
                    cluster: self.cluster.clone(),
                    ..Default::default()
                };
                view.instance = Some((c.arn.clone(), c.ec2_instance_id.clone()));
                Some(Reply {
                    push: Some(crate::app::View::Tasks(view)),
                    ..Reply::default()
                })
            }
            _ => None,
        }
    }

    fn copy(&self, cmd: Command) -> Option<(&'static str, String)> {
        let c = self.selected()?;
        match cmd {
            Command::CopyArn => Some(("container instance ARN", c.arn.clone())),
            _ => Some(("instance id", c.ec2_instance_id.clone())),
        }
    }

    fn markdown(&self, title: &str) -> Result<(String, usize), String> {
        if self.loaded_at.is_none() {
            return Err("the instances have not loaded yet".into());
        }
        let body = crate::app::export::markdown_table(&self.rows, &self.table.visible);
        Ok((
            format!("## {}\n\n{body}", crate::app::timeline::md_text(title)),
            self.table.visible.len(),
        ))
    }

    fn render(&self, frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
        let full_count = self.rows.iter().filter(|c| full(c)).count();
        let mut title = crate::ui::plural(self.rows.len(), "container instance");
        if !self.rows.is_empty() {
            let cpu: i64 = self.rows.iter().map(|c| c.cpu_remaining.max(0)).sum();
            let mem: i64 = self.rows.iter().map(|c| c.memory_remaining.max(0)).sum();
            title.push_str(&format!(
                " · {cpu} CPU units and {:.1} GiB left in all",
                mem as f64 / 1024.0
            ));
        }
        if full_count > 0 {
            title.push_str(&format!(
                ", {full_count} full (≥{FULL_PCT}% of CPU or memory used)"
            ));
        }
        let empty = match (&self.error, self.loaded_at) {
            (Some(e), _) => Some((format!("cannot list the instances: {e}"), Slot::Error)),
            (None, None) => Some(("Reading the container instances…".to_string(), Slot::Muted)),
            (None, Some(_)) => Some((
                "No EC2 container instances: this cluster runs on Fargate.".to_string(),
                Slot::Muted,
            )),
        };
        let stale_error = self
            .error
            .as_ref()
            .filter(|_| !self.rows.is_empty())
            .cloned();
        crate::ui::table::render(
            frame,
            area,
            TableSpec {
                title,
                hidden: &[],
                rows: &self.rows,
                table: &self.table,
                now: state.now_unix,
                empty,
                stale_error,
                row_style: &|c: &ContainerInstance| full(c).then(|| theme.style(Slot::Warning)),
            },
            theme,
        );
    }

    fn clone_box(&self) -> Box<dyn Pane> {
        Box::new(self.clone())
    }
}
