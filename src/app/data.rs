//! Loading: which effect the visible view needs, and applying what comes back.

use super::action::DataEvent;
use super::effect::{Effect, RequestId};
use super::rows::Rows;
use super::state::{Banner, State};
use super::views::{
    CauseGroup, EniRow, ServiceRow, View, cause_order, cluster_order, deployment_order, eni_order,
    event_order, service_order, task_order,
};
use crate::aws::{AwsError, ErrorKind};

/// Load what the visible view shows. `shown`: the user asked (or the view just opened), so show
/// the spinner and ignore any throttling back-off; otherwise a quiet background refresh.
pub fn refresh(state: &mut State, shown: bool) -> Vec<Effect> {
    if !state.session.connected {
        return Vec::new();
    }
    // A logs view needs its session running; a running one refreshes itself.
    if let View::Logs(v) = state.view() {
        if state.logs_tail != Some(v.tail) {
            return super::logs::start(state);
        }
        return Vec::new();
    }
    let now = state.now_unix;
    let request = state.next_request;
    let effect = match state.view_mut() {
        View::Clusters => None,
        View::Services(v) => {
            begin(&mut v.data, request, shown, now).then(|| Effect::LoadServices {
                request,
                cluster: v.cluster.clone(),
            })
        }
        View::Deployments(v) | View::Events(v) => {
            begin(&mut v.data, request, shown, now).then(|| Effect::LoadService {
                request,
                cluster: v.cluster.clone(),
                service: v.service.clone(),
            })
        }
        View::Tasks(v) | View::Network(v) => {
            begin(&mut v.data, request, shown, now).then(|| Effect::LoadTasks {
                request,
                cluster: v.cluster.clone(),
                service: v.service.clone(),
                include_stopped: v.include_stopped,
            })
        }
        View::TaskDetail(v) => begin(&mut v.data, request, shown, now).then(|| Effect::LoadTask {
            request,
            cluster: v.cluster.clone(),
            task: v.task.clone(),
        }),
        View::Stopped(v) => begin(&mut v.data, request, shown, now).then(|| Effect::LoadTasks {
            request,
            cluster: v.cluster.clone(),
            service: v.service.clone(),
            include_stopped: true,
        }),
        View::Forwards(_) => None,
        View::Timeline(_) => super::timeline::refresh(state, request, shown),
        View::Pane(_) => super::pane::refresh(state, request, shown),
        // Handled above.
        View::Logs(_) => None,
    };
    let effect = match (effect, matches!(state.view(), View::Clusters)) {
        (Some(e), _) => Some(e),
        (None, true) => begin(&mut state.clusters.data, request, shown, now)
            .then_some(Effect::LoadClusters { request }),
        (None, false) => None,
    };
    // The deployments view also reads the service's history, alongside DescribeServices.
    let (history, scaling) = match (&effect, state.view()) {
        (Some(Effect::LoadService { .. }), View::Deployments(v)) => (
            super::history::due(state, &v.cluster, &v.service, shown),
            super::scaling::due(state, &v.cluster, &v.service, shown),
        ),
        _ => (None, None),
    };
    match effect {
        Some(e) => {
            state.next_request += 1;
            if state.is_loading() {
                state.dirty = true;
            }
            let mut out = vec![e];
            out.extend(history);
            out.extend(scaling);
            out
        }
        None => Vec::new(),
    }
}

/// Start a load on `rows` unless a background refresh should wait.
fn begin<T: PartialEq + Clone>(
    rows: &mut Rows<T>,
    request: RequestId,
    shown: bool,
    now: i64,
) -> bool {
    if !shown && !rows.refresh_allowed(now) {
        return false;
    }
    rows.begin(request, shown);
    true
}

/// Apply a load's progress to whichever view asked for it (if it still exists).
pub fn on_data(state: &mut State, request: RequestId, event: DataEvent) {
    let now = state.now_unix;
    let refresh_secs = state.refresh_secs;
    if let DataEvent::Failed(err) = &event {
        credential_banner(state, err);
    }
    if state.clusters.data.is_current(request) {
        let selected = selected_key(&state.clusters.table, &state.clusters.data.rows, |c| {
            c.arn.clone()
        });
        let changed = match event {
            DataEvent::Clusters(batch) => apply_batch(&mut state.clusters.data, batch),
            other => apply_common(&mut state.clusters.data, other, now, refresh_secs),
        };
        if changed {
            state.clusters.table.recompute(
                &state.clusters.data.rows,
                selected.as_deref(),
                cluster_order,
                now,
            );
            state.dirty = true;
        }
        clear_banner_on_success(state, request);
        return;
    }
    let mut dirty = false;
    // The load balancers of any service a view on the stack knows (a task detail's TARGET).
    let detail_open = state.views.iter().any(|v| matches!(v, View::TaskDetail(_)));
    let known: Vec<(String, Vec<crate::domain::targets::LoadBalancer>)> = state
        .views
        .iter()
        .filter(|_| detail_open)
        .flat_map(|v| match v {
            View::Services(v) => v
                .data
                .rows
                .iter()
                .map(|r| (r.service.name.clone(), r.service.load_balancers.clone()))
                .collect(),
            View::Deployments(v) | View::Events(v) => v
                .service()
                .map(|s| vec![(s.name.clone(), s.load_balancers.clone())])
                .unwrap_or_default(),
            View::Tasks(v) => v
                .service
                .clone()
                .map(|s| vec![(s, v.load_balancers.clone())])
                .unwrap_or_default(),
            _ => Vec::new(),
        })
        .filter(|(_, lbs)| !lbs.is_empty())
        .collect();
    let lbs_of = |service: &str| {
        known
            .iter()
            .find(|(s, _)| s == service)
            .map(|(_, lbs)| lbs.clone())
            .unwrap_or_default()
    };
    for (depth, view) in state.views.iter_mut().enumerate().rev() {
        let changed = match view {
            View::Clusters => continue,
            View::Services(v) if v.data.is_current(request) => {
                let selected = selected_key(&v.table, &v.data.rows, |r| r.service.arn.clone());
                let changed = match event {
                    DataEvent::Services(batch) => {
                        let rows = batch
                            .into_iter()
                            .map(|service| ServiceRow {
                                problems: row_problems(
                                    &service,
                                    &state.histories,
                                    &state.scalings,
                                    &state.targets,
                                    now,
                                ),
                                metrics: state
                                    .metrics
                                    .trend(&service.cluster_arn, &service.name)
                                    .cloned(),
                                service,
                            })
                            .collect();
                        apply_batch(&mut v.data, rows)
                    }
                    other => apply_common(&mut v.data, other, now, refresh_secs),
                };
                if changed {
                    v.table
                        .recompute(&v.data.rows, selected.as_deref(), service_order, now);
                }
                changed
            }
            View::Deployments(v) if v.data.is_current(request) => {
                let changed = match event {
                    DataEvent::Services(batch) => apply_batch(&mut v.data, batch),
                    other => apply_common(&mut v.data, other, now, refresh_secs),
                };
                if changed {
                    let deployments = v
                        .service()
                        .map(|s| s.deployments.clone())
                        .unwrap_or_default();
                    let selected = selected_key(&v.table, &deployments, |d| d.id.clone());
                    v.table
                        .recompute(&deployments, selected.as_deref(), deployment_order, now);
                }
                changed
            }
            View::Events(v) if v.data.is_current(request) => {
                let changed = match event {
                    DataEvent::Services(batch) => apply_batch(&mut v.data, batch),
                    other => apply_common(&mut v.data, other, now, refresh_secs),
                };
                if changed {
                    let events = v.service().map(|s| s.events.clone()).unwrap_or_default();
                    let selected = selected_key(&v.table, &events, |e| e.id.clone());
                    v.table
                        .recompute(&events, selected.as_deref(), event_order, now);
                }
                changed
            }
            View::Stopped(v) if v.data.is_current(request) => {
                let selected = selected_key(&v.table, &v.groups, |g| g.cause.title().to_string());
                let changed = match event {
                    DataEvent::Tasks(batch) => apply_batch(&mut v.data, batch),
                    other => apply_common(&mut v.data, other, now, refresh_secs),
                };
                if changed {
                    v.groups = CauseGroup::from_tasks(&v.data.rows);
                    v.table
                        .recompute(&v.groups, selected.as_deref(), cause_order, now);
                }
                changed
            }
            View::Tasks(v) if v.data.is_current(request) => {
                let selected = selected_key(&v.table, &v.data.rows, |t| t.arn.clone());
                let cause = v.cause;
                let instance = v.instance.as_ref().map(|(arn, _)| arn.clone());
                let changed = match event {
                    DataEvent::Tasks(mut batch) => {
                        if let Some(arn) = &instance {
                            batch.retain(|t| t.container_instance.as_deref() == Some(arn));
                        }
                        if let Some(cause) = cause {
                            batch.retain(|t| {
                                t.last_status == "STOPPED"
                                    && crate::domain::stop_cause::classify(t) == cause
                            });
                        }
                        super::targets::annotate(&mut batch, &v.load_balancers, &state.targets);
                        super::metrics::annotate_tasks(&mut batch, &state.metrics);
                        apply_batch(&mut v.data, batch)
                    }
                    other => apply_common(&mut v.data, other, now, refresh_secs),
                };
                if changed {
                    v.table
                        .recompute(&v.data.rows, selected.as_deref(), task_order, now);
                }
                changed
            }
            View::Network(v) if v.data.is_current(request) => {
                let changed = match event {
                    DataEvent::Tasks(batch) => apply_batch(&mut v.data, batch),
                    other => apply_common(&mut v.data, other, now, refresh_secs),
                };
                if changed {
                    let selected = selected_key(&v.table, &v.enis, |e| e.eni.attachment_id.clone());
                    v.enis = EniRow::from_tasks(&v.data.rows);
                    v.table
                        .recompute(&v.enis, selected.as_deref(), eni_order, now);
                }
                changed
            }
            View::TaskDetail(v) if v.data.is_current(request) => match event {
                DataEvent::Tasks(mut batch) => {
                    let lbs = batch
                        .first()
                        .and_then(|t| t.service_name())
                        .map(&lbs_of)
                        .unwrap_or_default();
                    super::targets::annotate(&mut batch, &lbs, &state.targets);
                    super::metrics::annotate_tasks(&mut batch, &state.metrics);
                    apply_batch(&mut v.data, batch)
                }
                other => apply_common(&mut v.data, other, now, refresh_secs),
            },
            _ => continue,
        };
        // Only the visible view's changes need a frame.
        dirty = changed && depth + 1 == state.views.len();
        break;
    }
    state.dirty |= dirty;
    clear_banner_on_success(state, request);
}

fn selected_key<T>(
    table: &super::table::TableView,
    rows: &[T],
    key: impl Fn(&T) -> String,
) -> Option<String> {
    table.selected_row().and_then(|i| rows.get(i)).map(key)
}

fn apply_batch<T: PartialEq + Clone>(rows: &mut Rows<T>, batch: Vec<T>) -> bool {
    rows.batch(batch)
}

fn apply_common<T: PartialEq + Clone>(
    rows: &mut Rows<T>,
    event: DataEvent,
    now: i64,
    refresh_secs: u64,
) -> bool {
    match event {
        DataEvent::Listed(n) => {
            rows.listed(n);
            !rows.loaded_once
        }
        DataEvent::Done => rows.done(now),
        DataEvent::Failed(err) => {
            let was_shown = rows.loading_shown;
            let first = rows.error.is_none();
            rows.failed(err, now, refresh_secs);
            was_shown || first || !rows.loaded_once
        }
        // A batch of the wrong kind for this view: ignore.
        DataEvent::Clusters(_) | DataEvent::Services(_) | DataEvent::Tasks(_) => false,
    }
}

/// Raise the credentials banner (with its fix) when `err` is about credentials or the region.
pub fn credential_banner(state: &mut State, err: &AwsError) {
    if matches!(
        err.kind,
        ErrorKind::ExpiredCredentials | ErrorKind::NoCredentials | ErrorKind::NoRegion
    ) {
        state.banner = Some(Banner::from_error(
            err,
            state.session.target.profile.as_deref(),
        ));
        state.dirty = true;
    }
}

/// A successful answer proves the credentials work again.
fn clear_banner_on_success(state: &mut State, _request: RequestId) {
    let any_error = state
        .clusters
        .data
        .error
        .as_ref()
        .is_some_and(is_credential)
        || state
            .views
            .iter()
            .any(|v| view_error(v).is_some_and(is_credential));
    if !any_error && state.banner.as_ref().is_some_and(|b| b.clears_on_success) {
        let identity_failed = matches!(
            &state.session.identity,
            super::state::IdentityState::Failed(e) if is_credential(e)
        );
        if !identity_failed {
            state.banner = None;
            state.dirty = true;
        }
    }
}

fn is_credential(e: &AwsError) -> bool {
    matches!(
        e.kind,
        ErrorKind::ExpiredCredentials | ErrorKind::NoCredentials | ErrorKind::NoRegion
    )
}

pub fn view_error(v: &View) -> Option<&AwsError> {
    match v {
        View::Clusters => None,
        View::Services(v) => v.data.error.as_ref(),
        View::Deployments(v) | View::Events(v) => v.data.error.as_ref(),
        View::Tasks(v) | View::Network(v) => v.data.error.as_ref(),
        View::TaskDetail(v) => v.data.error.as_ref(),
        View::Logs(_) => None,
        View::Stopped(v) => v.data.error.as_ref(),
        View::Forwards(_) => None,
        View::Timeline(_) | View::Pane(_) => None,
    }
}

/// A services row's problems: the service's own, with what the deployment history, the auto
/// scaling and the target health loaded for it add. The one place that combines them, so a
/// load of one never drops what another found.
pub fn row_problems(
    service: &crate::domain::Service,
    histories: &std::collections::HashMap<String, crate::domain::history::History>,
    scalings: &std::collections::HashMap<String, crate::domain::scaling::ScalingState>,
    targets: &super::targets::Targets,
    now: i64,
) -> Vec<crate::domain::problems::Problem> {
    let k = super::history::key(&service.cluster_arn, &service.name);
    super::targets::row_problems(
        targets,
        super::scaling::row_problems(service, histories.get(&k), scalings.get(&k), now),
        service,
    )
}

/// After something loaded for `k` (`cluster/service`: a history, an auto scaling read), the
/// problems of that service's rows on any services list; a list that changes is re-sorted
/// with its selection kept on the service it was on.
pub fn refresh_row_problems(state: &mut State, k: &str) {
    let now = state.now_unix;
    let (histories, scalings, targets) = (&state.histories, &state.scalings, &state.targets);
    let mut dirty = false;
    for view in state.views.iter_mut() {
        let View::Services(v) = view else { continue };
        let mut changed = false;
        for row in v.data.rows.iter_mut() {
            if super::history::key(&row.service.cluster_arn, &row.service.name) == k {
                let problems = row_problems(&row.service, histories, scalings, targets, now);
                if problems != row.problems {
                    row.problems = problems;
                    changed = true;
                }
            }
        }
        if changed {
            let selected = selected_key(&v.table, &v.data.rows, |r| r.service.arn.clone());
            let rows = v.data.rows.clone();
            v.table
                .recompute(&rows, selected.as_deref(), service_order, now);
            dirty = true;
        }
    }
    state.dirty |= dirty;
}
