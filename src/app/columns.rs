//! The one column table of every row type: header, width, the width from which it shows, its
//! value, what the screen shows, its colour and how it sorts. The filter, the highlight, `o`
//! sorting, the renderer and the Markdown export all read these, and nothing else lists
//! columns, so they cannot drift apart.
//!
//! Times are values in UTC (`2026-12-04 03:12:09`: filtered, sorted, exported) shown as an age
//! (`3m`).

use ratatui::layout::Constraint::{Fill, Length};

use super::exec::Forward;
use super::table::{Column, SortKey, Tabular};
use super::views::{CauseGroup, EniRow, ServiceRow, utc};
use crate::config::theme::Slot;
use crate::domain::metrics::{MetricsUnavailable, Series, ServiceMetrics};
use crate::domain::problems::Severity as ProblemSeverity;
use crate::domain::stop_cause::classify;
use crate::domain::{Cluster, Deployment, ServiceEvent, Task};

/// `5s`, `3m`, `2h`, `4d` since `ts`.
pub fn age(now: i64, ts: Option<i64>) -> String {
    let Some(ts) = ts else {
        return "-".into();
    };
    let secs = (now - ts).max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn num(n: impl Into<i64>) -> SortKey {
    SortKey::Num(n.into() as f64)
}

fn or_dash(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "-".into())
}

fn muted<R>(_: &R) -> Slot {
    Slot::Muted
}

/// The theme slot that shows a severity: the same colour for the same event on every screen.
pub fn severity_slot(s: crate::domain::severity::Severity) -> Slot {
    use crate::domain::severity::Severity;
    match s {
        Severity::Good => Slot::Success,
        Severity::Info => Slot::Text,
        Severity::Warn => Slot::Warning,
        Severity::Bad => Slot::Error,
    }
}

pub fn rollout_slot(state: Option<&str>) -> Slot {
    match state {
        Some("COMPLETED") => Slot::RolloutCompleted,
        Some("FAILED") => Slot::RolloutFailed,
        Some("IN_PROGRESS") => Slot::RolloutInProgress,
        _ => Slot::Muted,
    }
}

pub fn rollout_text(state: Option<&str>) -> String {
    match state {
        Some("COMPLETED") => "✓ COMPLETED".into(),
        Some("FAILED") => "✗ FAILED".into(),
        Some("IN_PROGRESS") => "↻ ROLLING".into(),
        Some(other) => other.to_string(),
        None => "-".into(),
    }
}

pub fn status_slot(last_status: &str) -> Slot {
    match last_status {
        "RUNNING" => Slot::TaskRunning,
        "PENDING" | "ACTIVATING" => Slot::TaskPending,
        "PROVISIONING" => Slot::TaskProvisioning,
        "DEACTIVATING" | "STOPPING" | "DEPROVISIONING" => Slot::TaskStopping,
        "STOPPED" => Slot::TaskStopped,
        _ => Slot::Muted,
    }
}

pub fn health_slot(health: Option<&str>) -> Slot {
    match health {
        Some("HEALTHY") => Slot::HealthHealthy,
        Some("UNHEALTHY") => Slot::HealthUnhealthy,
        _ => Slot::HealthUnknown,
    }
}

// --- clusters --------------------------------------------------------------------------------

const CLUSTER: &[Column<Cluster>] = &[
    Column::<Cluster>::new("NAME", Fill(1), 0, |c| c.name.clone()),
    Column::<Cluster>::new("STATUS", Length(10), 0, |c| c.status.clone())
        .shown(|c, _| {
            let glyph = match c.status.as_str() {
                "ACTIVE" => "●",
                "INACTIVE" => "○",
                "FAILED" => "✗",
                _ => "◌",
            };
            format!("{glyph} {}", c.status)
        })
        .slot(|c| match c.status.as_str() {
            "ACTIVE" => Slot::StateActive,
            "INACTIVE" => Slot::StateInactive,
            "FAILED" => Slot::Error,
            _ => Slot::StateDraining,
        }),
    Column::<Cluster>::new("SVCS", Length(5), 0, |c| c.active_services.to_string())
        .sort(|c| num(c.active_services)),
    Column::<Cluster>::new("RUN", Length(5), 0, |c| c.running_tasks.to_string())
        .sort(|c| num(c.running_tasks)),
    Column::<Cluster>::new("PEND", Length(5), 0, |c| c.pending_tasks.to_string())
        .sort(|c| num(c.pending_tasks))
        .slot(|c| {
            if c.pending_tasks > 0 {
                Slot::TaskPending
            } else {
                Slot::Text
            }
        }),
    Column::<Cluster>::new("CAPACITY PROVIDERS", Fill(1), 0, |c| {
        if c.capacity_providers.is_empty() {
            "-".into()
        } else {
            c.capacity_providers.join(",")
        }
    }),
    Column::<Cluster>::new("INSIGHTS", Length(8), 0, |c| or_dash(&c.container_insights)),
];

impl Tabular for Cluster {
    fn columns() -> &'static [Column<Cluster>] {
        CLUSTER
    }
    fn key(&self) -> &str {
        &self.arn
    }
}

// --- services --------------------------------------------------------------------------------

fn problem_marker(s: ProblemSeverity) -> &'static str {
    match s {
        ProblemSeverity::Critical => "✗",
        ProblemSeverity::Warning => "!",
        ProblemSeverity::Notice => "·",
    }
}

fn problem_text(p: &crate::domain::problems::Problem) -> String {
    let mut text = format!("{} {}", problem_marker(p.severity), p.summary);
    if let Some(d) = &p.detail {
        text.push_str(": ");
        text.push_str(d);
    }
    text
}

const SERVICE: &[Column<ServiceRow>] = &[
    Column::<ServiceRow>::new("NAME", Fill(2), 0, |r| r.service.name.clone()),
    Column::<ServiceRow>::new("TASKS", Length(9), 0, |r| {
        let s = &r.service;
        let mut tasks = format!("{}/{}", s.running, s.desired);
        if s.pending > 0 {
            tasks.push_str(&format!(" +{}", s.pending));
        }
        tasks
    })
    .sort(|r| num(r.service.running))
    .slot(|r| {
        if r.service.running < r.service.desired {
            Slot::Warning
        } else {
            Slot::Text
        }
    }),
    Column::<ServiceRow>::new("ROLLOUT", Length(11), 0, |r| {
        rollout_text(r.service.primary().and_then(|d| d.rollout_state.as_deref()))
    })
    .slot(|r| rollout_slot(r.service.primary().and_then(|d| d.rollout_state.as_deref()))),
    Column::<ServiceRow>::new("DEPL", Length(4), 100, |r| {
        r.service.deployments.len().to_string()
    })
    .sort(|r| num(r.service.deployments.len() as i64)),
    Column::<ServiceRow>::new("TASK DEF", Length(20), 90, |r| {
        r.service.task_definition.clone()
    }),
    Column::<ServiceRow>::new("CAPACITY", Length(22), 130, |r| {
        super::views::capacity(&r.service)
    }),
    Column::<ServiceRow>::new("EXEC", Length(4), 110, |r| {
        if r.service.exec_enabled { "yes" } else { "no" }.into()
    }),
    Column::<ServiceRow>::new("AGE", Length(4), 0, |r| {
        utc(r.service.primary().and_then(|d| d.created_at))
    })
    .shown(|r, now| age(now, r.service.primary().and_then(|d| d.created_at)))
    .sort(|r| num(r.service.primary().and_then(|d| d.created_at).unwrap_or(0)))
    .slot(muted),
    // The last hour from CloudWatch, read only for the rows on screen (see `app::metrics`).
    Column::<ServiceRow>::new("CPU", Length(15), 100, |r| {
        trend_text(&r.metrics, cpu, TREND_CELLS)
    })
    .sort(|r| trend_sort(&r.metrics, cpu))
    .slot(|r| trend_slot(&r.metrics, cpu)),
    Column::<ServiceRow>::new("MEM", Length(15), 140, |r| {
        trend_text(&r.metrics, memory, TREND_CELLS)
    })
    .sort(|r| trend_sort(&r.metrics, memory))
    .slot(|r| trend_slot(&r.metrics, memory)),
    // Every problem is filtered and exported; the screen shows the worst one.
    Column::<ServiceRow>::new("PROBLEM", Fill(2), 0, |r| {
        r.problems
            .iter()
            .map(problem_text)
            .collect::<Vec<_>>()
            .join(", ")
    })
    .shown(|r, _| r.problems.first().map(problem_text).unwrap_or_default())
    .sort(|r| num(r.severity().map(|v| v as i64 + 1).unwrap_or(0)))
    .slot(|r| match r.severity() {
        Some(ProblemSeverity::Critical) => Slot::Error,
        Some(ProblemSeverity::Warning) => Slot::Warning,
        Some(ProblemSeverity::Notice) => Slot::Muted,
        None => Slot::Text,
    }),
];

/// The services columns that show CPU and memory trends.
pub const METRICS_COLUMNS: &[&str] = &["CPU", "MEM"];

/// The services columns left out: the trends when metrics are off.
pub fn hidden_service_columns(metrics_off: bool) -> &'static [&'static str] {
    if metrics_off { METRICS_COLUMNS } else { &[] }
}

/// Minutes a trend cell draws (the newest ten of the hour).
pub const TREND_CELLS: usize = 10;
/// Minutes a task's trend cell draws (`▅▆▇█  97%`).
pub const TASK_TREND_CELLS: usize = 5;

type Trend = Option<Result<ServiceMetrics, MetricsUnavailable>>;

/// `▃▃▄▅▅▆▇▇██  95%`: the last `cells` minutes as blocks and the newest value; why not, in
/// place.
fn trend_text(trend: &Trend, pick: fn(&ServiceMetrics) -> &Series, cells: usize) -> String {
    match trend {
        None => String::new(),
        // the task cells are narrower
        Some(Err(MetricsUnavailable::AccessDenied)) if cells < TREND_CELLS => "✗ denied".into(),
        Some(Err(MetricsUnavailable::Failed(_))) if cells < TREND_CELLS => "✗ n/a".into(),
        Some(Err(MetricsUnavailable::AccessDenied)) => "✗ access denied".into(),
        Some(Err(MetricsUnavailable::Failed(_))) => "✗ unavailable".into(),
        Some(Ok(m)) => {
            let series = pick(m);
            match series.current() {
                None => "no data".into(),
                Some(v) => format!(
                    "{:<width$} {v:>3.0}%",
                    series.sparkline(cells),
                    width = cells
                ),
            }
        }
    }
}

fn trend_sort(trend: &Trend, pick: fn(&ServiceMetrics) -> &Series) -> SortKey {
    SortKey::Num(
        trend
            .as_ref()
            .and_then(|m| m.as_ref().ok())
            .and_then(|m| pick(m).current())
            .unwrap_or(-1.0),
    )
}

fn trend_slot(trend: &Trend, pick: fn(&ServiceMetrics) -> &Series) -> Slot {
    match trend {
        Some(Ok(m)) => match pick(m).current() {
            Some(v) if v >= 90.0 => Slot::Error,
            Some(v) if v >= 75.0 => Slot::Warning,
            Some(_) => Slot::Text,
            None => Slot::Muted,
        },
        Some(Err(_)) => Slot::Warning,
        None => Slot::Muted,
    }
}

fn cpu(m: &ServiceMetrics) -> &Series {
    &m.cpu
}

fn memory(m: &ServiceMetrics) -> &Series {
    &m.memory
}

impl Tabular for ServiceRow {
    fn columns() -> &'static [Column<ServiceRow>] {
        SERVICE
    }
    fn key(&self) -> &str {
        &self.service.arn
    }
}

// --- deployments -----------------------------------------------------------------------------

const DEPLOYMENT: &[Column<Deployment>] = &[
    Column::<Deployment>::new("ID", Length(26), 150, |d| d.id.clone()).slot(muted),
    Column::<Deployment>::new("STATUS", Length(7), 0, |d| d.status.clone()).slot(|d| {
        match d.status.as_str() {
            "PRIMARY" => Slot::Accent,
            "ACTIVE" => Slot::StateDraining,
            _ => Slot::Muted,
        }
    }),
    Column::<Deployment>::new("ROLLOUT", Length(11), 0, |d| {
        rollout_text(d.rollout_state.as_deref())
    })
    .slot(|d| rollout_slot(d.rollout_state.as_deref())),
    Column::<Deployment>::new("RUN/DES", Length(7), 0, |d| {
        format!("{}/{}", d.running, d.desired)
    })
    .sort(|d| num(d.running)),
    Column::<Deployment>::new("PEND", Length(4), 100, |d| d.pending.to_string())
        .sort(|d| num(d.pending)),
    Column::<Deployment>::new("FAIL", Length(4), 0, |d| d.failed_tasks.to_string())
        .sort(|d| num(d.failed_tasks))
        .slot(|d| {
            if d.failed_tasks > 0 {
                Slot::Error
            } else {
                Slot::Text
            }
        }),
    Column::<Deployment>::new("TASK DEF", Length(20), 90, |d| d.task_definition.clone()),
    Column::<Deployment>::new("CREATED", Length(7), 0, |d| utc(d.created_at))
        .shown(|d, now| age(now, d.created_at))
        .sort(|d| num(d.created_at.unwrap_or(0)))
        .slot(muted),
    Column::<Deployment>::new("UPDATED", Length(7), 110, |d| utc(d.updated_at))
        .shown(|d, now| age(now, d.updated_at))
        .sort(|d| num(d.updated_at.unwrap_or(0)))
        .slot(muted),
    Column::<Deployment>::new("REASON", Fill(1), 0, |d| {
        d.rollout_state_reason.clone().unwrap_or_default()
    })
    .slot(|d| rollout_slot(d.rollout_state.as_deref())),
];

impl Tabular for Deployment {
    fn columns() -> &'static [Column<Deployment>] {
        DEPLOYMENT
    }
    fn key(&self) -> &str {
        &self.id
    }
}

// --- events ----------------------------------------------------------------------------------

const EVENT: &[Column<ServiceEvent>] = &[
    Column::<ServiceEvent>::new("AGE", Length(4), 0, |e| utc(e.created_at))
        .shown(|e, now| age(now, e.created_at))
        .sort(|e| num(e.created_at.unwrap_or(0)))
        .slot(muted),
    // One service's events: its name at the start of each line only costs width.
    Column::<ServiceEvent>::new("MESSAGE", Fill(1), 0, |e| e.message.clone())
        .shown(|e, _| crate::domain::problems::without_leading_service(&e.message).to_string())
        .slot(|e| severity_slot(crate::domain::severity::event_severity(&e.message))),
];

impl Tabular for ServiceEvent {
    fn columns() -> &'static [Column<ServiceEvent>] {
        EVENT
    }
    fn key(&self) -> &str {
        &self.id
    }
}

pub fn target_slot(state: Option<crate::domain::targets::TargetState>) -> Slot {
    use crate::domain::targets::TargetState;
    match state {
        Some(TargetState::Healthy) => Slot::Success,
        Some(TargetState::Unhealthy) => Slot::Error,
        Some(TargetState::Initial | TargetState::Draining) => Slot::Warning,
        _ => Slot::Muted,
    }
}

// --- tasks -----------------------------------------------------------------------------------

/// When the AGE column counts from: the stop of a stopped task, else its start.
fn task_time(t: &Task) -> Option<i64> {
    if t.last_status == "STOPPED" {
        t.stopped_at.or(t.started_at).or(t.created_at)
    } else {
        t.started_at.or(t.created_at)
    }
}

const TASK: &[Column<Task>] = &[
    Column::<Task>::new("ID", Length(8), 0, |t| t.id.clone())
        .shown(|t, _| t.short_id().to_string()),
    Column::<Task>::new("STATUS", Length(12), 0, |t| {
        format!("{}/{}", t.last_status, t.desired_status)
    })
    // A task on its way down is marked; the colour carries the rest.
    .shown(|t, _| {
        if t.desired_status == "STOPPED" && t.last_status != "STOPPED" {
            format!("{}↓", t.last_status)
        } else {
            t.last_status.clone()
        }
    })
    .slot(|t| status_slot(&t.last_status)),
    Column::<Task>::new("HEALTH", Length(9), 0, |t| or_dash(&t.health))
        .slot(|t| health_slot(t.health.as_deref())),
    // What the load balancer says: the worst state over the service's target groups.
    Column::<Task>::new("TARGET", Length(9), 0, |t| {
        crate::domain::targets::target_label(&t.targets)
    })
    .slot(|t| target_slot(crate::domain::targets::worst_state(&t.targets))),
    Column::<Task>::new("REV", Length(4), 0, |t| {
        t.task_definition
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_string()
    }),
    Column::<Task>::new("CAPACITY", Length(12), 0, |t| {
        t.capacity_provider
            .clone()
            .or_else(|| t.launch_type.clone())
            .unwrap_or_default()
    }),
    Column::<Task>::new("AZ", Length(11), 0, |t| or_dash(&t.availability_zone)),
    Column::<Task>::new("IP", Length(15), 0, |t| {
        t.private_ip().unwrap_or("-").to_string()
    }),
    // Container Insights with enhanced observability: this task's last minutes.
    Column::<Task>::new("CPU", Length(10), 0, |t| {
        trend_text(&t.usage, cpu, TASK_TREND_CELLS)
    })
    .sort(|t| trend_sort(&t.usage, cpu))
    .slot(|t| trend_slot(&t.usage, cpu)),
    Column::<Task>::new("MEM", Length(10), 0, |t| {
        trend_text(&t.usage, memory, TASK_TREND_CELLS)
    })
    .sort(|t| trend_sort(&t.usage, memory))
    .slot(|t| trend_slot(&t.usage, memory)),
    Column::<Task>::new("AGE", Length(4), 0, |t| utc(task_time(t)))
        .shown(|t, now| age(now, task_time(t)))
        .sort(|t| num(task_time(t).unwrap_or(0)))
        .slot(muted),
    // Who started it: `service:NAME` for a service's tasks, `family:NAME` (or a group RunTask
    // named) for standalone ones (a schedule, a one-off RunTask, a batch job).
    Column::<Task>::new("GROUP", Length(24), 0, |t| or_dash(&t.group)).slot(|t| {
        if t.service_name().is_some() {
            Slot::Muted
        } else {
            Slot::Accent
        }
    }),
    Column::<Task>::new("STARTED BY", Length(20), 0, |t| or_dash(&t.started_by)).slot(muted),
    Column::<Task>::new("STOP CODE", Length(24), 0, |t| {
        t.stop_code.clone().unwrap_or_default()
    }),
    // Container names and codes are the value; the narrow column shows codes only.
    Column::<Task>::new("EXIT", Length(10), 0, super::views::exit_codes)
        .shown(|t, _| {
            t.containers
                .iter()
                .filter_map(|c| c.exit_code.map(|e| e.to_string()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .slot(|t| {
            if t.containers
                .iter()
                .any(|c| c.exit_code.is_some_and(|e| e != 0))
            {
                Slot::Error
            } else {
                Slot::Text
            }
        }),
    Column::<Task>::new("STOPPED REASON", Fill(1), 0, |t| {
        if t.last_status == "STOPPED" {
            format!(
                "[{}] {}",
                classify(t).title(),
                t.stopped_reason.as_deref().unwrap_or_default()
            )
        } else {
            String::new()
        }
    })
    .slot(|_| Slot::Warning),
];

impl Tabular for Task {
    fn columns() -> &'static [Column<Task>] {
        TASK
    }
    fn key(&self) -> &str {
        &self.arn
    }
}

/// The task columns a tasks table `width` wide leaves out: without stopped tasks the stop
/// columns; with them, the less urgent ones as the width shrinks. GROUP and STARTED BY only
/// at cluster scope (a service's tasks all share its group), where they show once there is
/// room beside the rest.
pub fn hidden_task_columns(
    include_stopped: bool,
    cluster_scope: bool,
    load_balanced: bool,
    usage_shown: bool,
    width: u16,
) -> Vec<&'static str> {
    let mut hidden = Vec::new();
    // per-task CPU and memory only where the cluster publishes them (see `app::metrics`)
    let (cpu_from, mem_from) = if include_stopped {
        let from = super::metrics::TASK_USAGE_WITH_STOPPED_FROM;
        (from, from + 10)
    } else {
        (super::metrics::TASK_CPU_FROM, super::metrics::TASK_MEM_FROM)
    };
    if !usage_shown || width < cpu_from {
        hidden.push("CPU");
    }
    if !usage_shown || width < mem_from {
        hidden.push("MEM");
    }
    // TARGET only for a service with load balancers; at 80 columns it takes CAPACITY's room
    // (the target state is what an on-call engineer looks for there), except among stopped
    // tasks, whose stop reason needs the room more (a stopped task has no target anyway).
    if !load_balanced || (include_stopped && width < 106) {
        hidden.push("TARGET");
    } else if width < 96 {
        hidden.push("CAPACITY");
    }
    let (group_from, started_by_from) = if include_stopped {
        (150, 180)
    } else {
        (110, 130)
    };
    if !cluster_scope || width < group_from {
        hidden.push("GROUP");
    }
    if !cluster_scope || width < started_by_from {
        hidden.push("STARTED BY");
    }
    if include_stopped {
        for (header, from) in [
            ("HEALTH", 96),
            ("CAPACITY", 106),
            ("AZ", 116),
            ("STOP CODE", 140),
        ] {
            if width < from {
                hidden.push(header);
            }
        }
    } else {
        hidden.extend(["STOP CODE", "EXIT", "STOPPED REASON"]);
        if width < 90 {
            hidden.push("AZ");
        }
    }
    hidden
}

// --- network ---------------------------------------------------------------------------------

const ENI: &[Column<EniRow>] = &[
    Column::<EniRow>::new("TASK", Length(8), 0, |e| e.task_id.clone())
        .shown(|e, _| e.task_id.chars().take(8).collect()),
    Column::<EniRow>::new("ENI", Length(21), 0, |e| or_dash(&e.eni.eni_id)),
    Column::<EniRow>::new("IPV4", Length(15), 0, |e| or_dash(&e.eni.private_ipv4))
        .slot(|_| Slot::Accent)
        .sort(|e| {
            let ip = e
                .eni
                .private_ipv4
                .as_deref()
                .and_then(|s| s.parse::<std::net::Ipv4Addr>().ok());
            num(ip.map(|ip| i64::from(u32::from(ip))).unwrap_or(0))
        }),
    Column::<EniRow>::new("IPV6", Length(26), 160, |e| or_dash(&e.eni.ipv6)),
    Column::<EniRow>::new("DNS", Fill(1), 120, |e| or_dash(&e.eni.private_dns)),
    Column::<EniRow>::new("SUBNET", Length(24), 0, |e| or_dash(&e.eni.subnet_id)),
    Column::<EniRow>::new("AZ", Length(11), 96, |e| or_dash(&e.availability_zone)),
    Column::<EniRow>::new("MAC", Length(17), 140, |e| or_dash(&e.eni.mac)),
];

impl Tabular for EniRow {
    fn columns() -> &'static [Column<EniRow>] {
        ENI
    }
    fn key(&self) -> &str {
        &self.eni.attachment_id
    }
}

// --- why tasks stopped -----------------------------------------------------------------------

const CAUSE: &[Column<CauseGroup>] = &[
    Column::<CauseGroup>::new("CAUSE", Length(30), 0, |g| g.cause.title().to_string()).slot(|g| {
        if g.cause.is_routine() {
            Slot::Muted
        } else {
            Slot::Error
        }
    }),
    Column::<CauseGroup>::new("TASKS", Length(5), 0, |g| g.count.to_string())
        .sort(|g| num(g.count as i64)),
    Column::<CauseGroup>::new("LAST", Length(5), 0, |g| utc(g.last_seen))
        .shown(|g, now| age(now, g.last_seen))
        .sort(|g| num(g.last_seen.unwrap_or(0)))
        .slot(muted),
    Column::<CauseGroup>::new("SERVICES", Length(20), 120, |g| g.services.join(" ")).slot(muted),
    Column::<CauseGroup>::new("EXAMPLE STOPPED REASON", Fill(1), 60, |g| g.example.clone()),
];

impl Tabular for CauseGroup {
    fn columns() -> &'static [Column<CauseGroup>] {
        CAUSE
    }
    fn key(&self) -> &str {
        self.cause.title()
    }
}

// --- audit log -------------------------------------------------------------------------------

const AUDIT: &[Column<crate::audit::Entry>] = &[
    Column::<crate::audit::Entry>::new("TIME", Length(19), 0, |e| {
        e.time.get(..19).unwrap_or(&e.time).replace('T', " ")
    })
    .slot(muted),
    Column::<crate::audit::Entry>::new("ACTION", Length(20), 0, |e| e.action.clone()),
    Column::<crate::audit::Entry>::new("TARGET", Length(32), 0, |e| e.target.clone()),
    Column::<crate::audit::Entry>::new("OUTCOME", Length(8), 0, |e| e.outcome.clone()).slot(|e| {
        match e.outcome.as_str() {
            "ok" => Slot::Success,
            "refused" => Slot::Warning,
            _ => Slot::Error,
        }
    }),
    Column::<crate::audit::Entry>::new("PROFILE", Length(12), 120, |e| or_dash(&e.profile))
        .slot(muted),
    Column::<crate::audit::Entry>::new("CALLER", Length(40), 160, |e| or_dash(&e.caller))
        .slot(muted),
    Column::<crate::audit::Entry>::new("ERROR", Fill(1), 100, |e| {
        e.error.clone().unwrap_or_default()
    })
    .slot(|_| Slot::Error),
];

impl Tabular for crate::audit::Entry {
    fn columns() -> &'static [Column<crate::audit::Entry>] {
        AUDIT
    }
    fn key(&self) -> &str {
        &self.time
    }
}

// --- port forwards ---------------------------------------------------------------------------

const FORWARD: &[Column<Forward>] = &[
    Column::<Forward>::new("LOCAL", Length(16), 0, |f| {
        format!("localhost:{}", f.local_port)
    }),
    Column::<Forward>::new("REMOTE", Length(22), 0, |f| f.remote.clone()),
    Column::<Forward>::new("TASK", Length(10), 0, |f| f.task_id.clone())
        .shown(|f, _| f.task_id.get(..8).unwrap_or(&f.task_id).to_string())
        .slot(muted),
    Column::<Forward>::new("CONTAINER", Length(14), 0, |f| f.container.clone()).slot(muted),
    Column::<Forward>::new("STATUS", Fill(1), 0, |f| {
        let mut text = match &f.ended {
            None => "active".to_string(),
            Some(how) => format!("ended ({how})"),
        };
        if f.connections > 0 {
            let s = if f.connections == 1 { "" } else { "s" };
            text.push_str(&format!(" · {} connection{s}", f.connections));
        }
        if let (None, Some(p)) = (&f.ended, &f.problem) {
            text.push_str(&format!(" · {p}"));
        }
        text
    })
    .slot(|f| match (&f.ended, &f.problem) {
        (None, None) => Slot::Success,
        (None, Some(_)) => Slot::Warning,
        _ => Slot::Muted,
    }),
    Column::<Forward>::new("SESSION", Length(30), 140, |f| f.session_id.clone()).slot(muted),
];

impl Tabular for Forward {
    fn columns() -> &'static [Column<Forward>] {
        FORWARD
    }
    fn key(&self) -> &str {
        &self.session_id
    }
}

// --- timeline --------------------------------------------------------------------------------

const TIMELINE: &[Column<crate::domain::timeline::Entry>] = &[
    Column::<crate::domain::timeline::Entry>::new("TIME", Length(19), 0, |e| utc(Some(e.at)))
        .sort(|e| num(e.at))
        .slot(muted),
    Column::<crate::domain::timeline::Entry>::new("KIND", Length(7), 0, |e| {
        e.kind.label().to_string()
    })
    .slot(muted),
    Column::<crate::domain::timeline::Entry>::new("WHAT", Fill(1), 0, |e| e.text.clone())
        .slot(|e| severity_slot(e.severity)),
];

impl Tabular for crate::domain::timeline::Entry {
    fn columns() -> &'static [Column<crate::domain::timeline::Entry>] {
        TIMELINE
    }
    fn key(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_compact() {
        assert_eq!(age(100, Some(95)), "5s");
        assert_eq!(age(1000, Some(800)), "3m");
        assert_eq!(age(10_000, Some(2_000)), "2h");
        assert_eq!(age(400_000, Some(0)), "4d");
        assert_eq!(age(0, Some(100)), "0s");
        assert_eq!(age(0, None), "-");
    }

    #[test]
    fn headers_are_unique_within_a_table() {
        fn unique<R: Tabular>() {
            let headers = R::headers();
            let mut sorted = headers.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), headers.len(), "{headers:?}");
        }
        unique::<Cluster>();
        unique::<ServiceRow>();
        unique::<Deployment>();
        unique::<ServiceEvent>();
        unique::<Task>();
        unique::<EniRow>();
        unique::<CauseGroup>();
        unique::<crate::audit::Entry>();
        unique::<Forward>();
        unique::<crate::domain::timeline::Entry>();
    }
}
