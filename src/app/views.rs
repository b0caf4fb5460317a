//! The views on the navigation stack and the rows they show.

use std::cmp::Ordering;

use super::command::Context;
use super::rows::Rows;
use super::table::TableView;
use crate::domain::problems::{Problem, Severity};
use crate::domain::stop_cause::{StopCause, classify};
use crate::domain::{Cluster, Deployment, Eni, Service, ServiceEvent, Task};

#[derive(Debug, Clone)]
pub enum View {
    Clusters,
    Services(ServicesView),
    /// Deployments and events of one service.
    Deployments(ServiceView),
    /// The full events list of one service.
    Events(ServiceView),
    Tasks(TasksView),
    /// ENIs and IPs of the same tasks.
    Network(TasksView),
    TaskDetail(TaskDetailView),
    /// Tailed logs of a service, a task, or one container.
    Logs(Box<super::logs::LogsView>),
    /// Stopped tasks grouped by cause.
    Stopped(StoppedView),
    /// Port forwards started in this session.
    Forwards(ForwardsView),
    /// The incident timeline of a service.
    Timeline(Box<super::timeline::TimelineView>),
    /// A view built as one unit (see `app::pane`).
    Pane(Box<dyn super::pane::Pane>),
}

impl View {
    pub fn context(&self) -> Context {
        match self {
            View::Clusters => Context::Clusters,
            View::Services(_) => Context::Services,
            View::Deployments(_) => Context::Deployments,
            View::Events(_) => Context::Events,
            View::Tasks(_) => Context::Tasks,
            View::Network(_) => Context::Network,
            View::TaskDetail(_) => Context::TaskDetail,
            View::Logs(_) => Context::Logs,
            View::Stopped(_) => Context::Stopped,
            View::Forwards(_) => Context::Forwards,
            View::Timeline(_) => Context::Timeline,
            View::Pane(p) => p.context(),
        }
    }

    /// The cluster this view is about.
    pub fn cluster(&self) -> Option<&str> {
        match self {
            View::Clusters => None,
            View::Services(v) => Some(&v.cluster),
            View::Deployments(v) | View::Events(v) => Some(&v.cluster),
            View::Tasks(v) | View::Network(v) => Some(&v.cluster),
            View::TaskDetail(v) => Some(&v.cluster),
            View::Logs(v) => Some(&v.scope.cluster),
            View::Stopped(v) => Some(&v.cluster),
            View::Forwards(_) => None,
            View::Timeline(v) => Some(&v.cluster),
            View::Pane(p) => p.cluster(),
        }
    }

    /// The service this view is about.
    pub fn service(&self) -> Option<&str> {
        match self {
            View::Deployments(v) | View::Events(v) => Some(&v.service),
            View::Tasks(v) | View::Network(v) => v.service.as_deref(),
            View::TaskDetail(v) => v.data.rows.first().and_then(|t| t.service_name()),
            View::Logs(v) => v.scope.service.as_deref(),
            View::Stopped(v) => v.service.as_deref(),
            View::Timeline(v) => Some(&v.service),
            View::Pane(p) => p.service(),
            _ => None,
        }
    }

    /// The breadcrumb segments this view adds after its parent's.
    pub fn crumb(&self) -> String {
        match self {
            View::Clusters => "clusters".into(),
            View::Services(_) => "services".into(),
            View::Deployments(_) => "deployments".into(),
            View::Events(_) => "events".into(),
            View::Tasks(v) if v.cause.is_some() => format!(
                "stopped: {}",
                v.cause.map(StopCause::title).unwrap_or_default()
            ),
            View::Tasks(v) if v.instance.is_some() => format!(
                "tasks on {}",
                v.instance
                    .as_ref()
                    .map(|(_, id)| id.as_str())
                    .unwrap_or_default()
            ),
            View::Tasks(v) if v.include_stopped => "tasks (incl. stopped)".into(),
            View::Tasks(_) => "tasks".into(),
            View::Network(_) => "network".into(),
            View::TaskDetail(v) => crate::domain::Task::id_from_arn(&v.task).to_string(),
            View::Logs(v) => match &v.scope.task {
                Some(t) => {
                    let id = crate::domain::Task::id_from_arn(t);
                    format!("{} › logs", id.get(..8).unwrap_or(id))
                }
                None => "logs".into(),
            },
            View::Stopped(_) => "why tasks stopped".into(),
            View::Forwards(_) => "port forwards".into(),
            View::Timeline(v) => {
                format!("timeline {}", super::timeline::window_label(v.window_secs))
            }
            View::Pane(p) => p.crumb(),
        }
    }

    /// The headers of this view's table, and which of them a table `width` wide shows (the
    /// same choice the renderer makes). `None` for views without a table.
    pub fn columns(&self, width: u16) -> Option<(Vec<&'static str>, Vec<usize>)> {
        use super::table::{Tabular, shown_columns};
        fn of<R: Tabular>(width: u16, hidden: &[&str]) -> (Vec<&'static str>, Vec<usize>) {
            (R::headers(), shown_columns::<R>(width, hidden))
        }
        Some(match self {
            View::Clusters => of::<Cluster>(width, &[]),
            View::Services(v) => {
                of::<ServiceRow>(width, super::columns::hidden_service_columns(v.metrics_off))
            }
            View::Deployments(_) => of::<Deployment>(width, &[]),
            View::Events(_) => of::<ServiceEvent>(width, &[]),
            View::Tasks(v) => of::<Task>(
                width,
                &super::columns::hidden_task_columns(
                    v.include_stopped,
                    v.service.is_none(),
                    !v.load_balancers.is_empty(),
                    v.usage_shown,
                    width,
                ),
            ),
            View::Network(_) => of::<EniRow>(width, &[]),
            View::Stopped(_) => of::<CauseGroup>(width, &[]),
            View::Forwards(_) => of::<super::exec::Forward>(width, &[]),
            View::Timeline(_) => of::<crate::domain::timeline::Entry>(width, &[]),
            View::TaskDetail(_) | View::Logs(_) => return None,
            View::Pane(p) => return p.columns(width),
        })
    }

    pub fn table(&self) -> Option<&TableView> {
        match self {
            View::Clusters | View::TaskDetail(_) | View::Logs(_) => None,
            View::Services(v) => Some(&v.table),
            View::Deployments(v) | View::Events(v) => Some(&v.table),
            View::Tasks(v) | View::Network(v) => Some(&v.table),
            View::Stopped(v) => Some(&v.table),
            View::Forwards(v) => Some(&v.table),
            View::Timeline(v) => Some(&v.table),
            View::Pane(p) => p.table(),
        }
    }

    pub fn table_mut(&mut self) -> Option<&mut TableView> {
        match self {
            View::Clusters | View::TaskDetail(_) | View::Logs(_) => None,
            View::Services(v) => Some(&mut v.table),
            View::Deployments(v) | View::Events(v) => Some(&mut v.table),
            View::Tasks(v) | View::Network(v) => Some(&mut v.table),
            View::Stopped(v) => Some(&mut v.table),
            View::Forwards(v) => Some(&mut v.table),
            View::Timeline(v) => Some(&mut v.table),
            View::Pane(p) => p.table_mut(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ClustersView {
    pub data: Rows<Cluster>,
    pub table: TableView,
}

/// A service with its problems, computed when it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRow {
    pub service: Service,
    pub problems: Vec<Problem>,
    /// CPU and memory of the last hour, once read (only rows that were on screen).
    pub metrics: Option<super::metrics::Trend>,
}

impl ServiceRow {
    pub fn severity(&self) -> Option<Severity> {
        self.problems.first().map(|p| p.severity)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ServicesView {
    pub cluster: String,
    pub data: Rows<ServiceRow>,
    pub table: TableView,
    /// Metrics are switched off (`[console] metrics = false`): no CPU/MEM columns.
    pub metrics_off: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ServiceView {
    pub cluster: String,
    pub service: String,
    /// Zero or one service (DescribeServices of one).
    pub data: Rows<Service>,
    /// Over deployments (Deployments view) or events (Events view).
    pub table: TableView,
    /// The selected history entry when the selection is in the history (`tab`), newest 0.
    pub history_selected: Option<usize>,
}

impl ServiceView {
    pub fn service(&self) -> Option<&Service> {
        self.data.rows.first()
    }
}

#[derive(Debug, Clone, Default)]
pub struct TasksView {
    pub cluster: String,
    pub service: Option<String>,
    pub include_stopped: bool,
    pub data: Rows<Task>,
    /// ENI rows derived from `data` (Network view).
    pub enis: Vec<EniRow>,
    /// Over tasks (Tasks view) or `enis` (Network view).
    pub table: TableView,
    /// desired count and maximumPercent of the service, for the rolling-deploy IP peak.
    pub deploy_shape: Option<(i32, i32)>,
    /// Only stopped tasks of this cause (opened from the stopped-tasks view).
    pub cause: Option<StopCause>,
    /// Only the tasks on this container instance: (ARN, EC2 instance id), from `:instances`.
    pub instance: Option<(String, String)>,
    /// The service's load balancers, when a view on the stack knew them (TARGET column).
    pub load_balancers: Vec<crate::domain::targets::LoadBalancer>,
    /// The cluster publishes per-task CPU and memory and metrics are on (CPU/MEM columns).
    pub usage_shown: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EniRow {
    pub task_arn: String,
    pub task_id: String,
    pub availability_zone: Option<String>,
    pub eni: Eni,
}

impl EniRow {
    pub fn from_tasks(tasks: &[Task]) -> Vec<EniRow> {
        tasks
            .iter()
            .flat_map(|t| {
                t.enis.iter().map(|e| EniRow {
                    task_arn: t.arn.clone(),
                    task_id: t.id.clone(),
                    availability_zone: t.availability_zone.clone(),
                    eni: e.clone(),
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Default)]
pub struct TaskDetailView {
    pub cluster: String,
    /// Task ARN (or id).
    pub task: String,
    pub data: Rows<Task>,
    /// Show the raw JSON instead of the summary.
    pub raw: bool,
    pub scroll: u16,
}

/// Format unix seconds as `YYYY-MM-DD HH:MM:SS` UTC (for filtering and exports).
pub fn utc(ts: Option<i64>) -> String {
    let Some(ts) = ts else {
        return String::new();
    };
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

pub fn cluster_order(a: &Cluster, b: &Cluster) -> Ordering {
    a.name.cmp(&b.name)
}

/// `FARGATE` or `FARGATE:1 FARGATE_SPOT:3`.
pub fn capacity(s: &Service) -> String {
    if !s.capacity_providers.is_empty() {
        return s
            .capacity_providers
            .iter()
            .map(|c| format!("{}:{}", c.provider, c.weight))
            .collect::<Vec<_>>()
            .join(" ");
    }
    s.launch_type.clone().unwrap_or_default()
}

/// Problem services first (most severe first), then by name.
pub fn service_order(a: &ServiceRow, b: &ServiceRow) -> Ordering {
    b.severity()
        .cmp(&a.severity())
        .then_with(|| a.service.name.cmp(&b.service.name))
}

/// Newest first.
pub fn deployment_order(a: &Deployment, b: &Deployment) -> Ordering {
    b.created_at
        .cmp(&a.created_at)
        .then_with(|| a.id.cmp(&b.id))
}

/// Newest first; events of the same second keep the API's order (the sort is stable).
pub fn event_order(a: &ServiceEvent, b: &ServiceEvent) -> Ordering {
    b.created_at.cmp(&a.created_at)
}

/// `app=137 sidecar=0` (only containers that exited).
pub fn exit_codes(t: &Task) -> String {
    t.containers
        .iter()
        .filter_map(|c| c.exit_code.map(|code| format!("{}={code}", c.name)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Running before stopped; newest first within each.
pub fn task_order(a: &Task, b: &Task) -> Ordering {
    let stopped = |t: &Task| t.last_status == "STOPPED";
    stopped(a)
        .cmp(&stopped(b))
        .then_with(|| {
            b.started_at
                .or(b.created_at)
                .cmp(&a.started_at.or(a.created_at))
        })
        .then_with(|| a.id.cmp(&b.id))
}

/// By subnet, then by address (numerically: 10.0.1.9 before 10.0.1.21).
pub fn eni_order(a: &EniRow, b: &EniRow) -> Ordering {
    let ip = |e: &EniRow| {
        e.eni
            .private_ipv4
            .as_deref()
            .and_then(|s| s.parse::<std::net::Ipv4Addr>().ok())
    };
    a.eni
        .subnet_id
        .cmp(&b.eni.subnet_id)
        .then_with(|| ip(a).cmp(&ip(b)))
        .then_with(|| a.eni.private_ipv4.cmp(&b.eni.private_ipv4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(Some(0)), "1970-01-01 00:00:00");
        assert_eq!(utc(Some(1_700_000_000)), "2023-11-14 22:13:20");
        assert_eq!(utc(Some(951_782_400)), "2000-02-29 00:00:00");
        assert_eq!(utc(None), "");
    }
}

/// Stopped tasks grouped by why they stopped (a service's, or a whole cluster's).
#[derive(Debug, Clone, Default)]
pub struct StoppedView {
    pub cluster: String,
    pub service: Option<String>,
    /// Running and stopped tasks as listed; only the stopped ones are grouped.
    pub data: Rows<Task>,
    pub groups: Vec<CauseGroup>,
    pub table: TableView,
}

/// The stopped tasks of one cause.
#[derive(Debug, Clone, PartialEq)]
pub struct CauseGroup {
    pub cause: StopCause,
    pub count: usize,
    /// Newest stoppedAt (unix seconds).
    pub last_seen: Option<i64>,
    /// The newest task's stoppedReason.
    pub example: String,
    /// Services the tasks belonged to (cluster-wide view).
    pub services: Vec<String>,
}

impl CauseGroup {
    /// Group the stopped tasks of `tasks`: problems first (by count), routine causes last.
    pub fn from_tasks(tasks: &[Task]) -> Vec<CauseGroup> {
        let mut groups: Vec<CauseGroup> = Vec::new();
        let mut stopped: Vec<&Task> = tasks
            .iter()
            .filter(|t| t.last_status == "STOPPED")
            .collect();
        stopped.sort_by_key(|t| std::cmp::Reverse(t.stopped_at.or(t.created_at)));
        for t in stopped {
            let cause = classify(t);
            let service = owner_label(t);
            match groups.iter_mut().find(|g| g.cause == cause) {
                Some(g) => {
                    g.count += 1;
                    if !service.is_empty() && !g.services.contains(&service) {
                        g.services.push(service);
                    }
                }
                None => groups.push(CauseGroup {
                    cause,
                    count: 1,
                    last_seen: t.stopped_at,
                    example: example_reason(t),
                    services: if service.is_empty() {
                        Vec::new()
                    } else {
                        vec![service]
                    },
                }),
            }
        }
        groups
    }
}

/// Who a stopped task belonged to, as the why-stopped view lists it: its service, or
/// `standalone:FAMILY` for a task no service started (a schedule, a RunTask, a batch job).
pub fn owner_label(t: &Task) -> String {
    if let Some(service) = t.service_name() {
        return service.to_string();
    }
    match t.group.as_deref() {
        Some(g) => format!("standalone:{}", g.strip_prefix("family:").unwrap_or(g)),
        None => "standalone".to_string(),
    }
}

/// The stoppedReason, with the first container reason (often the real story: exit 137's
/// `OutOfMemoryError`) after it.
fn example_reason(t: &Task) -> String {
    let mut out = t.stopped_reason.clone().unwrap_or_default();
    if let Some(c) = t.containers.iter().find(|c| c.reason.is_some()) {
        if !out.is_empty() {
            out.push_str(" · ");
        }
        out.push_str(&format!(
            "{}: {}",
            c.name,
            c.reason.as_deref().unwrap_or_default()
        ));
    }
    out
}

/// Problems before routine causes; then the most tasks; then the most recent.
pub fn cause_order(a: &CauseGroup, b: &CauseGroup) -> Ordering {
    a.cause
        .is_routine()
        .cmp(&b.cause.is_routine())
        .then_with(|| b.count.cmp(&a.count))
        .then_with(|| b.last_seen.cmp(&a.last_seen))
}

/// `:forwards`: the port forwards of this session, newest first (a copy of
/// `State::forwards`, refreshed when they change).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ForwardsView {
    pub rows: Vec<super::exec::Forward>,
    pub table: TableView,
}
