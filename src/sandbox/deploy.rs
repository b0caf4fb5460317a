//! The service scheduler: rolling deployments bounded by minimumHealthyPercent and
//! maximumPercent, replacement of stopped tasks, and the deployment circuit breaker.

use super::model::*;
use super::sim::Sim;

impl Sim {
    fn is_healthy(&self, slot: usize) -> bool {
        self.task(slot).is_some_and(|t| {
            t.desired_running
                && t.last == TaskStatus::Running
                && t.healthy_at.is_some_and(|h| self.now >= h)
        })
    }

    /// Bring a service one step toward its desired state.
    pub(crate) fn reconcile(&mut self, s: usize) {
        let Some(svc) = self.services.get(s) else {
            return;
        };
        let Some(primary) = svc.deployments.first().cloned() else {
            return;
        };
        let name = svc.name.clone();
        let desired = svc.desired.max(0);
        let max_total =
            (i64::from(desired) * i64::from(svc.max_pct) / 100).max(i64::from(desired.min(1)));
        let min_healthy = (i64::from(desired) * i64::from(svc.min_pct) + 99) / 100;
        let live: Vec<usize> = svc.tasks_live.values().copied().collect();

        let mut healthy_total = live.iter().filter(|&&t| self.is_healthy(t)).count() as i64;
        let frozen = primary.rollout == Rollout::Failed;

        // 1. Stop tasks of older deployments, keeping at least min_healthy healthy tasks.
        let mut stopped = Vec::new();
        if !frozen {
            let mut old: Vec<usize> = live
                .iter()
                .copied()
                .filter(|&t| self.task(t).is_some_and(|t| t.started_by != primary.id))
                .collect();
            // not-yet-healthy first: they do not count toward the floor
            old.sort_by_key(|&t| self.is_healthy(t));
            let primary_healthy = live
                .iter()
                .filter(|&&t| {
                    self.is_healthy(t) && self.task(t).is_some_and(|x| x.started_by == primary.id)
                })
                .count() as i64;
            for t in old {
                let healthy = self.is_healthy(t);
                if healthy {
                    // with no spare capacity (maximumPercent 100) old tasks go first; otherwise
                    // only once the new deployment has healthy tasks to take over
                    let spare = max_total > i64::from(desired);
                    if healthy_total - 1 < min_healthy
                        || (spare && primary_healthy == 0 && healthy_total <= i64::from(desired))
                    {
                        continue;
                    }
                    healthy_total -= 1;
                }
                let dep = self
                    .task(t)
                    .map(|x| x.started_by.clone())
                    .unwrap_or_default();
                let id = self.task(t).map(|x| x.id.clone()).unwrap_or_default();
                self.stop_task(
                    t,
                    "ServiceSchedulerInitiated",
                    format!("Scaling activity initiated by (deployment {dep})"),
                    EndCause::Scheduler,
                );
                stopped.push(id);
            }
        }

        // 2. Scale the primary deployment up (bounded by maximumPercent) or down.
        let Some(svc) = self.services.get(s) else {
            return;
        };
        let live: Vec<usize> = svc.tasks_live.values().copied().collect();
        let primary_live: Vec<usize> = live
            .iter()
            .copied()
            .filter(|&t| self.task(t).is_some_and(|x| x.started_by == primary.id))
            .collect();
        let mut started = Vec::new();
        let count = primary_live.len() as i64;
        if !frozen && count < i64::from(desired) {
            let room = max_total - live.len() as i64;
            let n = (i64::from(desired) - count).min(room).max(0);
            for _ in 0..n {
                if let Some(slot) = self.launch(s, &primary.id, primary.task_def)
                    && let Some(t) = self.task(slot)
                {
                    started.push(t.id.clone());
                }
            }
        } else if count > i64::from(desired) {
            let mut extra = primary_live.clone();
            extra.sort_by_key(|&t| self.is_healthy(t));
            for t in extra
                .into_iter()
                .take((count - i64::from(desired)) as usize)
            {
                let id = self.task(t).map(|x| x.id.clone()).unwrap_or_default();
                self.stop_task(
                    t,
                    "ServiceSchedulerInitiated",
                    format!("Scaling activity initiated by (deployment {})", primary.id),
                    EndCause::Scheduler,
                );
                stopped.push(id);
            }
        }
        if !stopped.is_empty() {
            let list: String = stopped
                .iter()
                .map(|id| format!("(task {id})"))
                .collect::<Vec<_>>()
                .join(" ");
            self.event(
                s,
                format!(
                    "(service {name}) has stopped {} running tasks: {list}.",
                    stopped.len()
                ),
            );
        }
        if !started.is_empty() {
            let list: String = started
                .iter()
                .map(|id| format!("(task {id})"))
                .collect::<Vec<_>>()
                .join(" ");
            self.event(
                s,
                format!(
                    "(service {name}) has started {} tasks: {list}.",
                    started.len()
                ),
            );
        }

        // 3. Drop drained deployments, then check for completion and steady state.
        let Some(svc) = self.services.get(s) else {
            return;
        };
        let mut live_by_dep: std::collections::HashMap<String, i32> =
            std::collections::HashMap::new();
        for &t in svc.tasks_live.values() {
            if let Some(task) = self.task(t) {
                *live_by_dep.entry(task.started_by.clone()).or_default() += 1;
            }
        }
        let keep: Vec<bool> = svc
            .deployments
            .iter()
            .enumerate()
            .map(|(i, d)| {
                // Like ECS, a FAILED deployment stays listed (ACTIVE, rolloutState FAILED)
                // while the deployment that replaced it is still in progress.
                let failed_and_replacing = d.rollout == Rollout::Failed
                    && svc
                        .deployments
                        .first()
                        .is_some_and(|p| p.rollout == Rollout::InProgress);
                i == 0
                    || failed_and_replacing
                    || live_by_dep.get(d.id.as_str()).copied().unwrap_or(0) > 0
            })
            .collect();
        let healthy_primary = svc
            .tasks_live
            .values()
            .filter(|&&t| {
                self.is_healthy(t) && self.task(t).is_some_and(|x| x.started_by == primary.id)
            })
            .count() as i32;
        let all_live = svc.tasks_live.len() as i32;
        let now = self.now;
        let mut completed = false;
        let mut reached_steady = false;
        if let Some(svc) = self.services.get_mut(s) {
            let mut i = 0;
            svc.deployments.retain(|_| {
                let k = keep.get(i).copied().unwrap_or(true);
                i += 1;
                k
            });
            // Older deployments with no live tasks left (a FAILED one kept for display).
            let others_idle = svc
                .deployments
                .iter()
                .skip(1)
                .all(|d| live_by_dep.get(d.id.as_str()).copied().unwrap_or(0) == 0);
            if let Some(p) = svc.deployments.first_mut() {
                p.updated_at = now;
                if others_idle && healthy_primary == desired && all_live == desired {
                    if p.rollout == Rollout::InProgress {
                        p.rollout = Rollout::Completed;
                        p.reason = "ECS deployment ecs-svc completed.".replace("ecs-svc", &p.id);
                        svc.last_completed = Some((p.id.clone(), p.task_def));
                        completed = true;
                    }
                    if !svc.steady {
                        svc.steady = true;
                        reached_steady = true;
                    }
                }
            }
            if completed {
                // The deployments it replaced are INACTIVE now: ECS drops them from the list.
                svc.deployments.truncate(1);
            }
        }
        if completed {
            let id = primary.id.clone();
            self.record_completed(s, &id);
            self.event(
                s,
                format!("(service {name}) deployment {id} deployment completed."),
            );
        }
        if reached_steady {
            self.event(s, format!("(service {name}) has reached a steady state."));
        }
    }

    /// A task of the primary deployment failed: count it and maybe trip the circuit breaker.
    pub(crate) fn count_failure(&mut self, slot: usize) {
        let now = self.now;
        let Some(t) = self.task(slot) else { return };
        if t.counted_failure {
            return;
        }
        let Some(s) = t.service else { return };
        let dep = t.started_by.clone();
        if let Some(t) = self.tasks.get_mut(slot).and_then(|t| t.as_mut()) {
            t.counted_failure = true;
        }
        let Some(svc) = self.services.get_mut(s) else {
            return;
        };
        svc.steady = false;
        let name = svc.name.clone();
        let threshold = ((svc.desired + 1) / 2).clamp(3, 200);
        let (breaker, rollback) = (svc.breaker, svc.rollback);
        let target = svc.last_completed.clone();
        let Some(p) = svc.deployments.first_mut() else {
            return;
        };
        if p.id != dep || p.rollout != Rollout::InProgress {
            let at = now + self.rng.range(10_000, 30_000);
            self.schedule_reconcile(s, at);
            return;
        }
        p.failed_tasks += 1;
        p.updated_at = now;
        let failed = p.failed_tasks;
        self.record_failure(s, &dep, failed);
        let Some(p) = self
            .services
            .get_mut(s)
            .and_then(|x| x.deployments.first_mut())
        else {
            return;
        };
        if breaker && p.failed_tasks >= threshold {
            p.rollout = Rollout::Failed;
            p.reason = "ECS deployment circuit breaker: tasks failed to start.".to_string();
            let failed_id = p.id.clone();
            self.event(s, format!("(service {name}) deployment {failed_id} deployment failed: tasks failed to start."));
            if rollback && let Some((good_id, good_td)) = target {
                let id = self.start_deployment(s, good_td);
                if let Some(d) = self
                    .services
                    .get_mut(s)
                    .and_then(|x| x.deployments.first_mut())
                {
                    d.reason = format!(
                        "ECS deployment circuit breaker: rolling back to deploymentId {good_id}."
                    );
                }
                self.event(
                    s,
                    format!("(service {name}) rolling back to deployment {good_id}."),
                );
                self.record_rollback(
                    s,
                    &failed_id,
                    &id,
                    "Service deployment rolled back because the circuit breaker threshold was exceeded.",
                );
            }
        }
        let at = now + self.rng.range(10_000, 30_000);
        self.schedule_reconcile(s, at);
    }

    /// Start a new PRIMARY deployment of `td`, a new service deployment in the history.
    pub(crate) fn new_deployment(&mut self, s: usize, td: usize) -> String {
        let id = format!("ecs-svc/{}", self.rng.digits(19));
        self.record_deployment(s, &id, td);
        self.push_deployment(s, td, id)
    }

    /// Start a new PRIMARY deployment of `td` that belongs to an existing service deployment
    /// (a rollback); the previous ones drain.
    pub(crate) fn start_deployment(&mut self, s: usize, td: usize) -> String {
        let id = format!("ecs-svc/{}", self.rng.digits(19));
        self.push_deployment(s, td, id)
    }

    fn push_deployment(&mut self, s: usize, td: usize, id: String) -> String {
        let now = self.now;
        if let Some(svc) = self.services.get_mut(s) {
            let dep = Deployment {
                id: id.clone(),
                task_def: td,
                desired: svc.desired,
                created_at: now,
                updated_at: now,
                rollout: Rollout::InProgress,
                reason: "ECS deployment ecs-svc in progress.".replace("ecs-svc", &id),
                failed_tasks: 0,
            };
            svc.deployments.insert(0, dep);
            svc.steady = false;
        }
        self.schedule_reconcile(s, now + 1_000);
        id
    }

    /// UpdateService: desired count, task definition, force new deployment.
    pub(crate) fn update_service(
        &mut self,
        s: usize,
        desired: Option<i32>,
        td: Option<usize>,
        force: bool,
    ) {
        let now = self.now;
        let Some(svc) = self.services.get_mut(s) else {
            return;
        };
        if let Some(d) = desired {
            svc.desired = d;
            if let Some(p) = svc.deployments.first_mut() {
                p.desired = d;
                p.updated_at = now;
            }
            svc.steady = false;
        }
        let current = svc.deployments.first().map(|d| d.task_def);
        let changed = td.is_some_and(|t| Some(t) != current);
        if changed || force {
            let target = td.or(current).unwrap_or(0);
            self.new_deployment(s, target);
        }
        self.schedule_reconcile(s, now + 1_000);
    }

    /// Register a new revision of a family, copied from `from` with changes.
    pub(crate) fn register_revision(
        &mut self,
        from: usize,
        fault: Fault,
        version: &str,
    ) -> Option<usize> {
        let mut td = self.task_defs.get(from)?.clone();
        let family = td.family.clone();
        let revision = self
            .families
            .get(&family)
            .and_then(|v| v.last())
            .and_then(|&i| self.task_defs.get(i))
            .map(|d| d.revision + 1)
            .unwrap_or(1);
        td.revision = revision;
        td.arn = format!(
            "arn:aws:ecs:{}:{}:task-definition/{}:{}",
            self.region, self.account, family, revision
        );
        td.fault = fault;
        td.registered_at = self.now;
        td.version = version.to_string();
        for c in td.containers.iter_mut().filter(|c| c.app) {
            if let Some((repo, _)) = c.image.rsplit_once(':') {
                c.image = format!("{repo}:{version}");
            }
        }
        if fault == Fault::CrashOnBoot {
            // the bad deploy: a configuration value lost in the new revision
            td.environment.retain(|(n, _)| n != "PAYMENTS_BASE_URL");
        }
        if fault == Fault::BadSecret {
            let arn = format!(
                "arn:aws:secretsmanager:{}:{}:secret:{}/stripe-api-key-Qm3xZ9",
                self.region, self.account, family
            );
            td.secrets.push(("STRIPE_API_KEY".to_string(), arn));
        }
        let idx = self.task_defs.len();
        self.td_by_arn.insert(td.arn.clone(), idx);
        self.families.entry(family).or_default().push(idx);
        self.task_defs.push(td);
        Some(idx)
    }
}
