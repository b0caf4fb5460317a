//! Auto scaling in the model: loaded for the service the deployments view shows (never for
//! every row of the services list: a row shows "at max capacity" only once it has been
//! loaded for that service), kept per service like the deployment history, and read by the
//! deployments pane and the services row's problem marker. The timeline reads its own copy.
//!
//! Cost: one refresh of the deployments view adds DescribeScalableTargets (one call), and
//! for a registered service DescribeScalingPolicies (one page of 10) and
//! DescribeScalingActivities (one page): 1 call for a service without auto scaling, 3 with.
//! In the background it reloads at most every [`SCALING_REFRESH_SECS`].

use super::effect::Effect;
use super::history::key;
use super::state::State;
use crate::aws::AwsError;
use crate::domain::Service;
use crate::domain::history::History;
use crate::domain::problems::Problem;
use crate::domain::scaling::{Scaling, ScalingState};

/// Background reloads of one service's auto scaling no more often than this.
pub const SCALING_REFRESH_SECS: i64 = 30;

/// The auto scaling load the deployments view of (`cluster`, `service`) needs now, if any.
pub fn due(state: &State, cluster: &str, service: &str, shown: bool) -> Option<Effect> {
    let fresh = state
        .scalings
        .get(&key(cluster, service))
        .is_some_and(|s| state.now_unix - s.loaded_at < SCALING_REFRESH_SECS);
    (shown || !fresh).then(|| Effect::LoadScaling {
        cluster: cluster.to_string(),
        service: service.to_string(),
    })
}

/// The auto scaling of `service` as last loaded.
pub fn of<'a>(state: &'a State, cluster: &str, service: &str) -> Option<&'a ScalingState> {
    state.scalings.get(&key(cluster, service))
}

/// A services row's problems: those of the service and its history, then auto scaling's.
pub fn row_problems(
    service: &Service,
    history: Option<&History>,
    scaling: Option<&ScalingState>,
    now: i64,
) -> Vec<Problem> {
    let mut out = super::history::problems(service, history, now);
    if let Some(Ok(s)) = scaling.map(|s| &s.result) {
        out.extend(s.problems(service.desired, now));
        out.sort_by_key(|p| std::cmp::Reverse(p.severity));
    }
    out
}

/// The runner answered.
pub fn on_loaded(
    state: &mut State,
    cluster: &str,
    service: &str,
    result: Result<Scaling, AwsError>,
) {
    let now = state.now_unix;
    let scaling = ScalingState {
        loaded_at: now,
        result: result.map_err(|e| crate::aws::scaling::unavailable_reason(&e)),
    };
    let k = key(cluster, service);
    if state.scalings.get(&k).map(|s| &s.result) != Some(&scaling.result) {
        state.dirty = true;
    }
    state.scalings.insert(k.clone(), scaling);
    super::data::refresh_row_problems(state, &k);
}
