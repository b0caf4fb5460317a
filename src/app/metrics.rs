//! CPU and memory trends in the model, and the policy that keeps them cheap. GetMetricData is
//! billed per metric requested, so berth asks only for:
//!
//! - the services whose rows are on screen, and only when the table is wide enough to show
//!   the CPU column (100 columns; MEM from 140; see `columns.rs`), plus the one service of
//!   the deployments view when its chart shows ([`CHART_MIN_ROWS`]);
//! - each service at most once every [`METRICS_REFRESH_SECS`];
//! - in one GetMetricData call per 250 services (two queries each, 500 a call), with one call
//!   in flight at a time;
//! - never when `[console] metrics = false` or `--no-metrics`;
//! - per task (Container Insights with enhanced observability, two metrics a running task)
//!   only for the running tasks on screen in a tasks table at least [`TASK_CPU_FROM`] wide,
//!   or the one task of a task detail, and only once the cluster's `containerInsights`
//!   setting is known to be `enhanced` (from the clusters list, or one DescribeClusters the
//!   first time); a cluster without it costs no GetMetricData at all.
//!
//! Throttling backs off [`THROTTLE_BACKOFF_SECS`] (doubling, up to ten minutes); access denied
//! shows "metrics unavailable: access denied" where the trend would be and asks again only
//! after [`DENIED_BACKOFF_SECS`].

use std::collections::HashMap;

use super::effect::Effect;
use super::history::key;
use super::state::State;
use super::table::Tabular;
use super::views::{ServiceRow, View};
use crate::aws::{AwsError, ErrorKind};
use crate::domain::metrics::{MetricsUnavailable, ServiceMetrics};

/// The deployments pane draws its CPU/memory chart (and so asks for it) only on a terminal
/// at least this tall: at 24 rows the events need the room more.
pub const CHART_MIN_ROWS: u16 = 30;
/// A service's metrics are read again no sooner than this.
pub const METRICS_REFRESH_SECS: i64 = 60;
/// First wait after a throttled call (doubles while throttling goes on).
pub const THROTTLE_BACKOFF_SECS: i64 = 60;
/// The wait after access denied.
pub const DENIED_BACKOFF_SECS: i64 = 600;
/// A call unanswered this long no longer holds the next one back.
const IN_FLIGHT_STALE_SECS: i64 = 120;

/// A service's trend as last read, or why it could not be.
pub type Trend = Result<ServiceMetrics, MetricsUnavailable>;

/// The metrics side of the model.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// `[console] metrics = false` / `--no-metrics`: never ask CloudWatch.
    pub disabled: bool,
    /// By `cluster/service`: when it was read (unix seconds) and what came back.
    pub trends: HashMap<String, (i64, Trend)>,
    /// The call in flight: its number and when it was sent.
    pub in_flight: Option<(u64, i64)>,
    /// The number of the next call (answers of other calls are dropped).
    pub next_call: u64,
    /// No call before this (throttling, access denied).
    pub backoff_until: i64,
    /// The current throttling back-off, doubled while throttling goes on.
    pub backoff_secs: i64,
    /// Per-task trends (Container Insights, enhanced observability), by task ARN.
    pub task_trends: HashMap<String, (i64, Trend)>,
    /// Clusters' `containerInsights` setting as read by a task-metrics call, by cluster name
    /// (`None` inside: the cluster reported none).
    pub insights: HashMap<String, Option<String>>,
}

/// Which trends an answer is about.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Services,
    Tasks,
}

impl Metrics {
    fn map(&mut self, kind: Kind) -> &mut HashMap<String, (i64, Trend)> {
        match kind {
            Kind::Services => &mut self.trends,
            Kind::Tasks => &mut self.task_trends,
        }
    }

    /// Keep an answer for `keys` ((name in the answer, key in the map)); `false` when it was
    /// throttled (nothing kept; the back-off doubles while throttling lasts).
    fn record(
        &mut self,
        kind: Kind,
        keys: &[(String, String)],
        result: Result<HashMap<String, ServiceMetrics>, AwsError>,
        now: i64,
    ) -> bool {
        match result {
            Ok(mut found) => {
                self.backoff_secs = 0;
                let map = self.map(kind);
                for (name, k) in keys {
                    let trend = Ok(found.remove(name).unwrap_or_default());
                    map.insert(k.clone(), (now, trend));
                }
            }
            Err(e) if e.kind == ErrorKind::Throttled => {
                // keep what was read; ask again later, less often while it lasts
                self.backoff_secs = (self.backoff_secs * 2).clamp(THROTTLE_BACKOFF_SECS, 600);
                self.backoff_until = now + self.backoff_secs;
                return false;
            }
            Err(e) => {
                let why = crate::aws::metrics::unavailable(&e);
                if why == MetricsUnavailable::AccessDenied {
                    self.backoff_until = now + DENIED_BACKOFF_SECS;
                }
                let map = self.map(kind);
                for (_, k) in keys {
                    // a failure other than access denied keeps the last trend read
                    let keep = why != MetricsUnavailable::AccessDenied
                        && map.get(k).is_some_and(|(_, t)| t.is_ok());
                    match map.get_mut(k) {
                        Some(entry) if keep => entry.0 = now,
                        _ => {
                            map.insert(k.clone(), (now, Err(why.clone())));
                        }
                    }
                }
            }
        }
        true
    }

    /// `k` of `map` is due again: never read, or read a minute ago or more.
    fn stale(&self, map: &HashMap<String, (i64, Trend)>, k: &str, now: i64) -> bool {
        map.get(k)
            .is_none_or(|(at, _)| now - at >= METRICS_REFRESH_SECS)
    }

    /// The next call's number, now in flight.
    fn start_call(&mut self, now: i64) -> u64 {
        let call = self.next_call;
        self.next_call += 1;
        self.in_flight = Some((call, now));
        call
    }

    pub fn trend(&self, cluster: &str, service: &str) -> Option<&Trend> {
        self.trends.get(&key(cluster, service)).map(|(_, t)| t)
    }

    pub fn task_trend(&self, task_arn: &str) -> Option<&Trend> {
        self.task_trends.get(task_arn).map(|(_, t)| t)
    }
}

/// The tasks table shows per-task CPU from this width (MEM from [`TASK_MEM_FROM`]), when
/// the cluster publishes per-task metrics; with stopped tasks listed, from
/// [`TASK_USAGE_WITH_STOPPED_FROM`] (the stop reason needs the room more).
pub const TASK_CPU_FROM: u16 = 104;
pub const TASK_MEM_FROM: u16 = 116;
pub const TASK_USAGE_WITH_STOPPED_FROM: u16 = 170;

/// The cluster's `containerInsights` setting, when known: read by a task-metrics call, or
/// from the clusters list (which asks DescribeClusters for settings anyway). `None`: unknown.
pub fn insights_level(state: &State, cluster: &str) -> Option<Option<String>> {
    let name = crate::domain::Cluster::name_from_arn(cluster);
    if let Some(level) = state.metrics.insights.get(name) {
        return Some(level.clone());
    }
    state
        .clusters
        .data
        .rows
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.container_insights.clone())
}

/// Whether `cluster` is known to publish per-task metrics (and metrics are on).
pub fn per_task(state: &State, cluster: &str) -> bool {
    !state.metrics.disabled
        && insights_level(state, cluster)
            .is_some_and(|l| l.as_deref() == Some(crate::domain::metrics::PER_TASK_INSIGHTS))
}

/// What the tasks table needs to read of `t`: a running task with its family and task-level
/// reservation.
fn task_query(t: &crate::domain::Task) -> Option<crate::domain::metrics::TaskQuery> {
    if t.last_status != "RUNNING" {
        return None;
    }
    let family = t.task_definition.rsplit('/').next()?.split(':').next()?;
    let number = |v: &Option<String>| v.as_deref().and_then(|v| v.trim().parse::<u32>().ok());
    Some(crate::domain::metrics::TaskQuery {
        arn: t.arn.clone(),
        family: family.to_string(),
        cpu_units: number(&t.cpu),
        memory_mib: number(&t.memory),
    })
}

/// The running tasks (cluster, queries) the screen shows a trend for now.
fn wanted_tasks(state: &State) -> Option<(String, Vec<crate::domain::metrics::TaskQuery>)> {
    match state.view() {
        View::Tasks(v) if v.data.loaded_once => {
            let from = if v.include_stopped {
                TASK_USAGE_WITH_STOPPED_FROM
            } else {
                TASK_CPU_FROM
            };
            if state.cols < from {
                return None;
            }
            let offset = v.table.offset.get();
            let height = match v.table.height.get() {
                0 => usize::from(state.rows.saturating_sub(5)).max(1),
                h => h,
            };
            let tasks = v
                .table
                .visible
                .iter()
                .skip(offset)
                .take(height)
                .filter_map(|&i| v.data.rows.get(i))
                .filter_map(task_query)
                .collect();
            Some((v.cluster.clone(), tasks))
        }
        View::TaskDetail(v) => {
            let t = v.data.rows.first()?;
            Some((v.cluster.clone(), vec![task_query(t)?]))
        }
        _ => None,
    }
}

/// The per-task GetMetricData load the screen needs now, if any (the caller has checked
/// the switch, the connection, the back-off and the call in flight).
fn due_tasks(state: &mut State) -> Option<Effect> {
    let now = state.now_unix;
    let (cluster, tasks) = wanted_tasks(state)?;
    let check_insights = match insights_level(state, &cluster) {
        Some(level) if level.as_deref() == Some(crate::domain::metrics::PER_TASK_INSIGHTS) => false,
        Some(_) => return None,
        None => true,
    };
    let tasks: Vec<_> = tasks
        .into_iter()
        .filter(|t| state.metrics.stale(&state.metrics.task_trends, &t.arn, now))
        .collect();
    if tasks.is_empty() {
        return None;
    }
    let call = state.metrics.start_call(now);
    Some(Effect::LoadTaskMetrics {
        call,
        cluster,
        tasks,
        check_insights,
        now,
    })
}

/// The width from which the services table shows CPU (the column's own definition).
pub fn services_shown_from() -> u16 {
    ServiceRow::columns()
        .iter()
        .find(|c| c.header == "CPU")
        .map_or(u16::MAX, |c| c.min_width)
}

/// The services (cluster, names) the screen shows a trend for now.
fn wanted(state: &State) -> Option<(String, Vec<String>)> {
    match state.view() {
        // once the list is complete: the rows on screen stand still, and one call covers them
        View::Services(v) if state.cols >= services_shown_from() && v.data.loaded_once => {
            let offset = v.table.offset.get();
            // before the first frame: the table's height without a banner (the terminal
            // less the header's two rows, the title, the column headers and the footer)
            let height = match v.table.height.get() {
                0 => usize::from(state.rows.saturating_sub(5)).max(1),
                h => h,
            };
            let names: Vec<String> = v
                .table
                .visible
                .iter()
                .skip(offset)
                .take(height)
                .filter_map(|&i| v.data.rows.get(i))
                .map(|r| r.service.name.clone())
                .collect();
            Some((v.cluster.clone(), names))
        }
        View::Deployments(v) if state.rows >= CHART_MIN_ROWS => {
            Some((v.cluster.clone(), vec![v.service.clone()]))
        }
        _ => None,
    }
}

/// The GetMetricData load the screen needs now, if any.
pub fn due(state: &mut State) -> Option<Effect> {
    let now = state.now_unix;
    let m = &state.metrics;
    if m.disabled || !state.session.connected || now < m.backoff_until {
        return None;
    }
    if m.in_flight
        .is_some_and(|(_, since)| now - since < IN_FLIGHT_STALE_SECS)
    {
        return None;
    }
    let Some((cluster, names)) = wanted(state) else {
        return due_tasks(state);
    };
    let services: Vec<String> = names
        .into_iter()
        .filter(|s| m.stale(&m.trends, &key(&cluster, s), now))
        .collect();
    if services.is_empty() {
        return None;
    }
    let call = state.metrics.start_call(now);
    Some(Effect::LoadMetrics {
        call,
        cluster,
        services,
        now,
    })
}

/// New clients (another profile, region or endpoint): trends read for the old one are not
/// this one's services, and an answer still on its way from it is dropped.
pub fn on_connected(state: &mut State) {
    state.metrics = Metrics {
        disabled: state.metrics.disabled,
        next_call: state.metrics.next_call,
        ..Metrics::default()
    };
    fill_rows(state);
}

/// The runner answered.
pub fn on_loaded(
    state: &mut State,
    call: u64,
    cluster: &str,
    services: &[String],
    result: Result<HashMap<String, ServiceMetrics>, AwsError>,
) {
    let now = state.now_unix;
    let m = &mut state.metrics;
    if m.in_flight.is_none_or(|(waiting, _)| waiting != call) {
        // asked of clients since replaced, or given up on
        return;
    }
    m.in_flight = None;
    // answers by service name, kept by `cluster/service`
    let keys: Vec<(String, String)> = services
        .iter()
        .map(|s| (s.clone(), key(cluster, s)))
        .collect();
    if !m.record(Kind::Services, &keys, result, now) {
        return;
    }
    fill_rows(state);
    state.dirty = true;
}

/// The runner answered a per-task call.
pub fn on_tasks_loaded(
    state: &mut State,
    call: u64,
    cluster: &str,
    insights: Option<Option<String>>,
    tasks: &[String],
    result: Result<HashMap<String, ServiceMetrics>, AwsError>,
) {
    let now = state.now_unix;
    let m = &mut state.metrics;
    if m.in_flight.is_none_or(|(waiting, _)| waiting != call) {
        return;
    }
    m.in_flight = None;
    let name = crate::domain::Cluster::name_from_arn(cluster).to_string();
    let per_task = insights
        .as_ref()
        .is_none_or(|level| level.as_deref() == Some(crate::domain::metrics::PER_TASK_INSIGHTS));
    if let Some(level) = insights {
        m.insights.insert(name, level);
    }
    if !per_task {
        // the cluster was not enhanced after all: nothing was asked for
        state.dirty = true;
        return;
    }
    let keys: Vec<(String, String)> = tasks.iter().map(|t| (t.clone(), t.clone())).collect();
    if !m.record(Kind::Tasks, &keys, result, now) {
        return;
    }
    fill_tasks(state);
    state.dirty = true;
}

/// Put the per-task trends on tasks as they arrive (the columns and the detail read them
/// there).
pub fn annotate_tasks(tasks: &mut [crate::domain::Task], metrics: &Metrics) {
    for t in tasks.iter_mut() {
        t.usage = metrics.task_trend(&t.arn).cloned();
    }
}

fn fill_tasks(state: &mut State) {
    let metrics = &state.metrics;
    for view in state.views.iter_mut() {
        match view {
            View::Tasks(v) => annotate_tasks(&mut v.data.rows, metrics),
            View::TaskDetail(v) => annotate_tasks(&mut v.data.rows, metrics),
            _ => {}
        }
    }
}

/// Services views show no CPU/MEM columns when metrics are off.
pub fn sync_views(state: &mut State) {
    let off = state.metrics.disabled;
    let mut usage: Vec<bool> = Vec::with_capacity(state.views.len());
    for view in state.views.iter() {
        usage.push(match view {
            View::Tasks(v) => per_task(state, &v.cluster),
            _ => false,
        });
    }
    for (view, usage) in state.views.iter_mut().zip(usage) {
        match view {
            View::Services(v) if v.metrics_off != off => v.metrics_off = off,
            View::Tasks(v) if v.usage_shown != usage => v.usage_shown = usage,
            _ => {}
        }
    }
}

/// Put the trends on the services rows (the column reads them there).
pub fn fill_rows(state: &mut State) {
    let now = state.now_unix;
    let trends = &state.metrics.trends;
    for view in state.views.iter_mut() {
        let View::Services(v) = view else { continue };
        let mut changed = false;
        for row in v.data.rows.iter_mut() {
            let trend = trends
                .get(&key(&row.service.cluster_arn, &row.service.name))
                .map(|(_, t)| t.clone());
            if row.metrics != trend {
                row.metrics = trend;
                changed = true;
            }
        }
        if changed && v.table.sort.is_some() {
            let selected = v
                .table
                .selected_row()
                .and_then(|i| v.data.rows.get(i))
                .map(|r| r.service.arn.clone());
            v.table.recompute(
                &v.data.rows,
                selected.as_deref(),
                super::views::service_order,
                now,
            );
        }
    }
}
