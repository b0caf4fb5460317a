//! Deployment history in the model: loaded for the service the deployments view shows (never
//! for every row of the services list: a row shows history only once it has been loaded for
//! that service), kept per service, and read by the deployments pane, the services row's
//! problem marker and the timeline.
//!
//! Cost: one refresh of the deployments view adds ListServiceDeployments (one page of 100
//! covers a day of almost any service), DescribeServiceDeployments (one call per 20) and,
//! only for revisions not seen before, DescribeServiceRevisions (one call per 20). In the
//! background it reloads at most every [`HISTORY_REFRESH_SECS`].

use super::effect::Effect;
use super::state::State;
use crate::aws::AwsError;
use crate::domain::Cluster;
use crate::domain::history::{HISTORY_WINDOW_SECS, History, HistoryDeployment};
use crate::domain::problems::service_problems_with;

/// Background reloads of one service's history no more often than this.
pub const HISTORY_REFRESH_SECS: i64 = 30;

/// `prod/checkout-api`: the key of a service's history (cluster by name, ARN or name given).
pub fn key(cluster: &str, service: &str) -> String {
    let service = service.rsplit('/').next().unwrap_or(service);
    format!("{}/{service}", Cluster::name_from_arn(cluster))
}

/// The history load the deployments view of (`cluster`, `service`) needs now, if any.
pub fn due(state: &State, cluster: &str, service: &str, shown: bool) -> Option<Effect> {
    let fresh = state
        .histories
        .get(&key(cluster, service))
        .is_some_and(|h| state.now_unix - h.loaded_at < HISTORY_REFRESH_SECS);
    (shown || !fresh).then(|| Effect::LoadHistory {
        cluster: cluster.to_string(),
        service: service.to_string(),
        since: state.now_unix - HISTORY_WINDOW_SECS,
    })
}

/// The history of `service` as last loaded.
pub fn of<'a>(state: &'a State, cluster: &str, service: &str) -> Option<&'a History> {
    state.histories.get(&key(cluster, service))
}

/// The runner answered.
pub fn on_loaded(
    state: &mut State,
    cluster: &str,
    service: &str,
    result: Result<Vec<HistoryDeployment>, AwsError>,
) {
    let now = state.now_unix;
    let history = History {
        loaded_at: now,
        result: result.map_err(|e| crate::aws::history::unavailable_reason(&e)),
    };
    let k = key(cluster, service);
    if state.histories.get(&k).map(|h| &h.result) != Some(&history.result) {
        state.dirty = true;
    }
    state.histories.insert(k.clone(), history);
    // The services row of this service (if a services list is open under the view).
    super::data::refresh_row_problems(state, &k);
}

/// A history older than this says nothing about deployments still in progress (a stage
/// "stuck" in a snapshot from ten minutes ago may long have moved); finished ones stay true.
pub const IN_PROGRESS_TRUSTED_SECS: i64 = 300;

/// A service's problems, with its history when that was loaded and could be read.
pub fn problems(
    service: &crate::domain::Service,
    history: Option<&History>,
    now: i64,
) -> Vec<crate::domain::problems::Problem> {
    let Some((h, list)) = history.and_then(|h| Some((h, h.result.as_deref().ok()?))) else {
        return service_problems_with(service, None, now);
    };
    if now - h.loaded_at <= IN_PROGRESS_TRUSTED_SECS {
        return service_problems_with(service, Some(list), now);
    }
    let finished: Vec<HistoryDeployment> = list
        .iter()
        .filter(|d| d.status != crate::domain::history::DeploymentStatus::InProgress)
        .cloned()
        .collect();
    service_problems_with(service, Some(&finished), now)
}
