//! Load-balancer target health in the console: which target groups the visible view needs,
//! when to read them, and what an answer changes (the services' problems, the tasks' TARGET,
//! the deployments pane's block).
//!
//! Cost: one DescribeTargetHealth per target group at most once per refresh interval, and
//! only for groups the visible view shows: in the services list, the services of the rows on
//! screen (not the 2,000 of the cluster); in the tasks, task detail and deployments views,
//! the service's groups. Services without load balancers cost nothing. The deployments view
//! also reads the groups' health-check settings (DescribeTargetGroups).

use std::collections::BTreeMap;

use super::effect::Effect;
use super::state::State;
use super::views::View;
use crate::aws::targets::TargetHealthReport;
use crate::domain::Service;
use crate::domain::problems::Problem;
use crate::domain::targets::{GroupHealth, LoadBalancer, TargetGroup, task_targets};

/// What the console last read of target groups, by ARN.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    pub groups: BTreeMap<String, GroupHealth>,
    pub settings: BTreeMap<String, TargetGroup>,
    /// Why DescribeTargetGroups failed, when it did.
    pub settings_error: Option<String>,
    /// When each group was last asked for (unix seconds).
    requested_at: BTreeMap<String, i64>,
    /// Asked for and not answered yet. The runner keeps one read in flight (a newer one
    /// replaces it), so a newer read asks for these again.
    pending: std::collections::BTreeSet<String>,
}

impl Targets {
    /// No read asked for is still unanswered.
    pub fn settled(&self) -> bool {
        self.pending.is_empty()
    }
}

fn arns(lbs: &[LoadBalancer]) -> impl Iterator<Item = &String> {
    lbs.iter().filter_map(|lb| lb.target_group_arn.as_ref())
}

/// The load balancers of `service`, from whichever view on the stack knows the service.
pub fn load_balancers_of(state: &State, service: &str) -> Vec<LoadBalancer> {
    state
        .views
        .iter()
        .rev()
        .find_map(|v| match v {
            View::Services(v) => v
                .data
                .rows
                .iter()
                .find(|r| r.service.name == service)
                .map(|r| r.service.load_balancers.clone()),
            View::Deployments(v) | View::Events(v) => v
                .service()
                .filter(|s| s.name == service)
                .map(|s| s.load_balancers.clone()),
            View::Tasks(v) if v.service.as_deref() == Some(service) => {
                Some(v.load_balancers.clone())
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// The target groups the visible view shows, and whether it shows their settings.
fn wanted(state: &State) -> (Vec<String>, bool) {
    let mut out: Vec<String> = Vec::new();
    let settings = match state.view() {
        // Once the list is complete: the rows on screen while pages arrive are not the ones
        // that stay there.
        View::Services(v) if !v.data.loaded_once => false,
        View::Services(v) => {
            // The rows on screen: the table starts at its scroll offset and is never taller
            // than the terminal.
            let offset = v.table.offset.get();
            let on_screen = v
                .table
                .visible
                .iter()
                .skip(offset)
                .take(usize::from(state.rows));
            for &i in on_screen {
                if let Some(r) = v.data.rows.get(i) {
                    out.extend(arns(&r.service.load_balancers).cloned());
                }
            }
            false
        }
        View::Tasks(v) => {
            out.extend(arns(&v.load_balancers).cloned());
            false
        }
        View::TaskDetail(v) => {
            if let Some(service) = v.data.rows.first().and_then(|t| t.service_name()) {
                out.extend(arns(&load_balancers_of(state, service)).cloned());
            }
            false
        }
        View::Deployments(v) => {
            if let Some(s) = v.service() {
                out.extend(arns(&s.load_balancers).cloned());
            }
            true
        }
        _ => false,
    };
    out.sort();
    out.dedup();
    (out, settings)
}

/// The read the visible view needs now, if any: groups not asked for within the refresh
/// interval. Called after every action; cheap when nothing is due.
pub fn due(state: &mut State) -> Option<Effect> {
    if !state.session.connected {
        return None;
    }
    let (wanted, settings) = wanted(state);
    let now = state.now_unix;
    let every = i64::try_from(state.refresh_secs.max(1)).unwrap_or(i64::MAX);
    let arns: Vec<String> = wanted
        .into_iter()
        .filter(|a| {
            state
                .targets
                .requested_at
                .get(a)
                .is_none_or(|&t| now - t >= every)
        })
        .collect();
    if arns.is_empty() {
        return None;
    }
    for a in &arns {
        state.targets.requested_at.insert(a.clone(), now);
    }
    // Health-check settings are configuration: read once per group, not on every refresh.
    let settings = settings && arns.iter().any(|a| !state.targets.settings.contains_key(a));
    state.targets.pending.extend(arns.iter().cloned());
    let arns = state.targets.pending.iter().cloned().collect();
    Some(Effect::LoadTargetHealth { arns, settings })
}

/// A service row's problems: its own, its history's, and its target groups'.
pub fn row_problems(
    state_targets: &Targets,
    mut problems: Vec<Problem>,
    s: &Service,
) -> Vec<Problem> {
    let groups: Vec<&GroupHealth> = arns(&s.load_balancers)
        .filter_map(|a| state_targets.groups.get(a))
        .collect();
    if let Some(p) = crate::domain::problems::target_problem(&groups) {
        // Of equal severity, the targets' state says more than the count of stop and health
        // events it causes: it goes first (the sort is stable).
        problems.insert(0, p);
        problems.sort_by_key(|p| std::cmp::Reverse(p.severity));
    }
    problems
}

/// The runner answered.
pub fn on_loaded(state: &mut State, report: TargetHealthReport) {
    let mut changed = false;
    let answered: std::collections::BTreeSet<String> = report.groups.keys().cloned().collect();
    for arn in &answered {
        state.targets.pending.remove(arn);
    }
    for (arn, health) in report.groups {
        if state.targets.groups.get(&arn) != Some(&health) {
            state.targets.groups.insert(arn, health);
            changed = true;
        }
    }
    match report.settings {
        Some(Ok(groups)) => {
            for g in groups {
                if state.targets.settings.get(&g.arn) != Some(&g) {
                    state.targets.settings.insert(g.arn.clone(), g);
                    changed = true;
                }
            }
            changed |= state.targets.settings_error.take().is_some();
        }
        Some(Err(e)) => {
            changed |= state.targets.settings_error.as_ref() != Some(&e);
            state.targets.settings_error = Some(e);
        }
        None => {}
    }
    if !changed {
        return;
    }
    state.dirty = true;
    let now = state.now_unix;
    let detail_lbs: Vec<Vec<LoadBalancer>> = state
        .views
        .iter()
        .map(|v| match v {
            View::TaskDetail(d) => d
                .data
                .rows
                .first()
                .and_then(|t| t.service_name())
                .map(|s| load_balancers_of(state, s))
                .unwrap_or_default(),
            _ => Vec::new(),
        })
        .collect();
    let (targets, histories, scalings) = (&state.targets, &state.histories, &state.scalings);
    for (view, detail_lbs) in state.views.iter_mut().zip(detail_lbs) {
        match view {
            View::Services(v) => {
                let mut rows_changed = false;
                // Only the services of the groups answered (a few on screen, not the 2,000).
                let touched = v
                    .data
                    .rows
                    .iter_mut()
                    .filter(|r| arns(&r.service.load_balancers).any(|a| answered.contains(a)));
                for row in touched {
                    let problems =
                        super::data::row_problems(&row.service, histories, scalings, targets, now);
                    if problems != row.problems {
                        row.problems = problems;
                        rows_changed = true;
                    }
                }
                if rows_changed {
                    // Problems reorder the list: the selection stays on its service.
                    let selected = v
                        .table
                        .selected_row()
                        .and_then(|i| v.data.rows.get(i))
                        .map(|r| r.service.arn.clone());
                    let rows = v.data.rows.clone();
                    v.table
                        .recompute(&rows, selected.as_deref(), super::views::service_order, now);
                }
            }
            View::Tasks(v) => {
                for t in v.data.rows.iter_mut() {
                    t.targets = task_targets(t, &v.load_balancers, &targets.groups);
                }
            }
            View::TaskDetail(v) => {
                for t in v.data.rows.iter_mut() {
                    t.targets = task_targets(t, &detail_lbs, &targets.groups);
                }
            }
            _ => {}
        }
    }
}

/// Join freshly loaded tasks to what is known of their service's target groups.
pub fn annotate(tasks: &mut [crate::domain::Task], lbs: &[LoadBalancer], targets: &Targets) {
    if lbs.is_empty() {
        return;
    }
    for t in tasks {
        t.targets = task_targets(t, lbs, &targets.groups);
    }
}
