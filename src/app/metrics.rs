//! CPU and memory trends in the model, and the policy that keeps them cheap. GetMetricData is
//! billed per metric requested, so berth asks only for:
//!
//! - the services whose rows are on screen, and only when the table is wide enough to show
//!   the CPU column (100 columns; MEM from 140; see `columns.rs`), plus the one service of
//!   the deployments view when its chart shows ([`CHART_MIN_ROWS`]);
//! - each service at most once every [`METRICS_REFRESH_SECS`];
//! - in one GetMetricData call per 250 services (two queries each, 500 a call), with one call
//!   in flight at a time;
//! - never when `[console] metrics = false` or `--no-metrics`.
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
}

impl Metrics {
    pub fn trend(&self, cluster: &str, service: &str) -> Option<&Trend> {
        self.trends.get(&key(cluster, service)).map(|(_, t)| t)
    }
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
    let (cluster, names) = wanted(state)?;
    let services: Vec<String> = names
        .into_iter()
        .filter(|s| {
            m.trends
                .get(&key(&cluster, s))
                .is_none_or(|(at, _)| now - at >= METRICS_REFRESH_SECS)
        })
        .collect();
    if services.is_empty() {
        return None;
    }
    let call = state.metrics.next_call;
    state.metrics.next_call += 1;
    state.metrics.in_flight = Some((call, now));
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
    match result {
        Ok(mut found) => {
            m.backoff_secs = 0;
            for s in services {
                let trend = Ok(found.remove(s).unwrap_or_default());
                m.trends.insert(key(cluster, s), (now, trend));
            }
        }
        Err(e) if e.kind == ErrorKind::Throttled => {
            // keep what was read; ask again later, less often while it lasts
            m.backoff_secs = (m.backoff_secs * 2).clamp(THROTTLE_BACKOFF_SECS, 600);
            m.backoff_until = now + m.backoff_secs;
            return;
        }
        Err(e) => {
            let why = crate::aws::metrics::unavailable(&e);
            if why == MetricsUnavailable::AccessDenied {
                m.backoff_until = now + DENIED_BACKOFF_SECS;
            }
            for s in services {
                let k = key(cluster, s);
                // a failure other than access denied keeps the last trend read
                let keep = why != MetricsUnavailable::AccessDenied
                    && m.trends.get(&k).is_some_and(|(_, t)| t.is_ok());
                if keep {
                    if let Some(entry) = m.trends.get_mut(&k) {
                        entry.0 = now;
                    }
                } else {
                    m.trends.insert(k, (now, Err(why.clone())));
                }
            }
        }
    }
    fill_rows(state);
    state.dirty = true;
}

/// Services views show no CPU/MEM columns when metrics are off.
pub fn sync_views(state: &mut State) {
    let off = state.metrics.disabled;
    for view in state.views.iter_mut() {
        if let View::Services(v) = view
            && v.metrics_off != off
        {
            v.metrics_off = off;
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
