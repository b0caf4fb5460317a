//! Service deployments and service revisions: what ListServiceDeployments,
//! DescribeServiceDeployments and DescribeServiceRevisions serve.
//!
//! Every deployment the scheduler starts (CreateService, a forced deployment, a new task
//! definition) is one service deployment with its own revision; a circuit-breaker rollback
//! (and a failed blue/green lifecycle hook) does not start a new one: the failing service
//! deployment goes ROLLBACK_IN_PROGRESS, names the revision it returns to, and ends
//! ROLLBACK_SUCCESSFUL when the rollback's ECS deployment completes. Unlike the service's
//! `deployments`, which drop a FAILED deployment once its replacement completes, these stay.
//!
//! ECS-native blue/green is simulated as a stage machine on the virtual clock
//! (RECONCILE_SERVICE … CLEAN_UP, with the bake time and one Lambda lifecycle hook); tasks
//! themselves are still replaced by the rolling scheduler in `deploy.rs`, which is enough for
//! what the console reads (stages, weights, hooks, history).
//!
//! Ids are derived from the ECS deployment id by hashing, never drawn from the fleet's
//! [`super::rng::Rng`]: drawing would shift every id and timing after it for the same seed.

use super::model::Ms;
use super::rng::{hash_str, mix};
use super::sim::{Ev, Sim};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    InProgress,
    Successful,
    Stopped,
    RollbackInProgress,
    RollbackSuccessful,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "IN_PROGRESS",
            Status::Successful => "SUCCESSFUL",
            Status::Stopped => "STOPPED",
            Status::RollbackInProgress => "ROLLBACK_IN_PROGRESS",
            Status::RollbackSuccessful => "ROLLBACK_SUCCESSFUL",
        }
    }
}

/// Blue/green lifecycle stages in the order ECS runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    ReconcileService,
    PreScaleUp,
    ScaleUp,
    PostScaleUp,
    TestTrafficShift,
    PostTestTrafficShift,
    ProductionTrafficShift,
    PostProductionTrafficShift,
    BakeTime,
    CleanUp,
}

impl Stage {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Stage::ReconcileService => "RECONCILE_SERVICE",
            Stage::PreScaleUp => "PRE_SCALE_UP",
            Stage::ScaleUp => "SCALE_UP",
            Stage::PostScaleUp => "POST_SCALE_UP",
            Stage::TestTrafficShift => "TEST_TRAFFIC_SHIFT",
            Stage::PostTestTrafficShift => "POST_TEST_TRAFFIC_SHIFT",
            Stage::ProductionTrafficShift => "PRODUCTION_TRAFFIC_SHIFT",
            Stage::PostProductionTrafficShift => "POST_PRODUCTION_TRAFFIC_SHIFT",
            Stage::BakeTime => "BAKE_TIME",
            Stage::CleanUp => "CLEAN_UP",
        }
    }

    fn next(self) -> Option<Stage> {
        Some(match self {
            Stage::ReconcileService => Stage::PreScaleUp,
            Stage::PreScaleUp => Stage::ScaleUp,
            Stage::ScaleUp => Stage::PostScaleUp,
            Stage::PostScaleUp => Stage::TestTrafficShift,
            Stage::TestTrafficShift => Stage::PostTestTrafficShift,
            Stage::PostTestTrafficShift => Stage::ProductionTrafficShift,
            Stage::ProductionTrafficShift => Stage::PostProductionTrafficShift,
            Stage::PostProductionTrafficShift => Stage::BakeTime,
            Stage::BakeTime => Stage::CleanUp,
            Stage::CleanUp => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Revision {
    pub arn: String,
    pub task_def: usize,
    pub created_at: Ms,
    /// The ECS deployment (`ecs-svc/...`) that runs this revision.
    pub deployment_id: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Hook {
    pub id: String,
    pub target_arn: String,
    pub status: &'static str,
    pub expires_at: Ms,
}

/// A service's blue/green configuration and how its lifecycle hook behaves in the drill.
#[derive(Debug, Clone)]
pub(crate) struct BlueGreen {
    pub bake_min: i32,
    pub hook_arn: String,
    pub hook_stage: Stage,
    /// How long the hook runs before it answers.
    pub hook_ms: Ms,
    pub hook_fails: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct ServiceDeployment {
    pub id: String,
    pub arn: String,
    pub created_at: Ms,
    pub finished_at: Option<Ms>,
    pub stopped_at: Option<Ms>,
    pub updated_at: Ms,
    /// Revision indexes (into the service's `revisions`).
    pub source: Vec<usize>,
    pub target: usize,
    pub status: Status,
    pub reason: String,
    /// The ECS deployments it drove: its own, then its rollback's.
    pub deployments: Vec<String>,
    pub failure_count: i32,
    pub threshold: i32,
    pub breaker: bool,
    pub breaker_tripped: bool,
    /// Why, when, and to which revision it rolled back.
    pub rollback: Option<(String, Ms, usize)>,
    pub stage: Option<Stage>,
    pub hooks: Vec<Hook>,
    pub bake_min: Option<i32>,
    pub test_weight: Option<f64>,
    pub prod_weight: Option<f64>,
}

/// Stages without a hook take this long (SCALE_UP three times as long).
const STAGE_MS: Ms = 30_000;
/// A lifecycle hook's timeout (after which ECS applies the timeout action).
const HOOK_TIMEOUT_MS: Ms = 60 * 60_000;

fn digits_of(h: u64, len: usize) -> String {
    let mut s = format!("{:020}", h);
    s.truncate(len);
    s
}

impl Sim {
    fn revision_arn(&self, s: usize, id: &str) -> String {
        let (cluster, service) = self.names(s);
        format!(
            "arn:aws:ecs:{}:{}:service-revision/{cluster}/{service}/{id}",
            self.region, self.account
        )
    }

    fn names(&self, s: usize) -> (String, String) {
        let Some(svc) = self.services.get(s) else {
            return Default::default();
        };
        let cluster = self
            .clusters
            .get(svc.cluster)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        (cluster, svc.name.clone())
    }

    fn new_revision(&mut self, s: usize, deployment_id: &str, td: usize, at: Ms) -> usize {
        let h = mix(&[self.seed, hash_str(deployment_id), 1]);
        let arn = self.revision_arn(s, &digits_of(h, 19));
        let Some(svc) = self.services.get_mut(s) else {
            return 0;
        };
        svc.revisions.push(Revision {
            arn,
            task_def: td,
            created_at: at,
            deployment_id: deployment_id.to_string(),
        });
        svc.revisions.len() - 1
    }

    fn new_record(&mut self, s: usize, deployment_id: &str, td: usize, at: Ms) -> usize {
        let target = self.new_revision(s, deployment_id, td, at);
        let h = mix(&[self.seed, hash_str(deployment_id), 2]);
        let id = format!("{:016x}", h).chars().take(21).collect::<String>();
        let (cluster, service) = self.names(s);
        let arn = format!(
            "arn:aws:ecs:{}:{}:service-deployment/{cluster}/{service}/{id}",
            self.region, self.account
        );
        let Some(svc) = self.services.get_mut(s) else {
            return 0;
        };
        // The revisions running now: those of the deployments still listed.
        let source: Vec<usize> = svc
            .deployments
            .iter()
            .filter_map(|d| svc.revisions.iter().position(|r| r.deployment_id == d.id))
            .collect();
        let threshold = ((svc.desired + 1) / 2).clamp(3, 200);
        svc.history.push(ServiceDeployment {
            id,
            arn,
            created_at: at,
            finished_at: None,
            stopped_at: None,
            updated_at: at,
            source,
            target,
            status: Status::InProgress,
            reason: String::new(),
            deployments: vec![deployment_id.to_string()],
            failure_count: 0,
            threshold,
            breaker: svc.breaker,
            breaker_tripped: false,
            rollback: None,
            stage: None,
            hooks: Vec::new(),
            bake_min: svc.blue_green.as_ref().map(|b| b.bake_min),
            test_weight: None,
            prod_weight: None,
        });
        svc.history.len() - 1
    }

    /// The fleet's initial deployment: one SUCCESSFUL service deployment.
    pub(crate) fn record_initial_deployment(
        &mut self,
        s: usize,
        deployment_id: &str,
        td: usize,
        at: Ms,
    ) {
        let i = self.new_record(s, deployment_id, td, at);
        if let Some(r) = self.services.get_mut(s).and_then(|x| x.history.get_mut(i)) {
            r.status = Status::Successful;
            r.finished_at = Some(at + 240_000);
            r.updated_at = at + 240_000;
            r.reason = "Service deployment completed successfully.".into();
        }
    }

    /// A new deployment is about to start (call before it becomes PRIMARY): record it, and stop
    /// the one it supersedes if that was still running.
    pub(crate) fn record_deployment(&mut self, s: usize, deployment_id: &str, td: usize) {
        let now = self.now;
        if let Some(svc) = self.services.get_mut(s) {
            for r in svc
                .history
                .iter_mut()
                .filter(|r| r.status == Status::InProgress)
            {
                r.status = Status::Stopped;
                r.stopped_at = Some(now);
                r.updated_at = now;
                r.reason = "Service deployment stopped: a newer service deployment started.".into();
            }
        }
        let i = self.new_record(s, deployment_id, td, now);
        let blue_green = self.services.get(s).is_some_and(|x| x.blue_green.is_some());
        if blue_green {
            if let Some(r) = self.services.get_mut(s).and_then(|x| x.history.get_mut(i)) {
                r.stage = Some(Stage::ReconcileService);
            }
            self.schedule(now + STAGE_MS, Ev::Stage(s, i));
        }
    }

    fn record_of(&mut self, s: usize, deployment_id: &str) -> Option<&mut ServiceDeployment> {
        self.services
            .get_mut(s)?
            .history
            .iter_mut()
            .rev()
            .find(|r| r.deployments.iter().any(|d| d == deployment_id))
    }

    /// A task of `deployment_id` counted against the circuit breaker.
    pub(crate) fn record_failure(&mut self, s: usize, deployment_id: &str, failed: i32) {
        let now = self.now;
        if let Some(r) = self.record_of(s, deployment_id) {
            r.failure_count = failed;
            r.updated_at = now;
            if r.breaker && failed >= r.threshold {
                r.breaker_tripped = true;
            }
        }
    }

    /// The service deployment of `failed_id` rolls back; `rollback_id` is the ECS deployment
    /// that does it (already started).
    pub(crate) fn record_rollback(
        &mut self,
        s: usize,
        failed_id: &str,
        rollback_id: &str,
        reason: &str,
    ) {
        let now = self.now;
        let Some(r) = self.record_of(s, failed_id) else {
            return;
        };
        r.status = Status::RollbackInProgress;
        r.updated_at = now;
        r.reason = reason.to_string();
        r.deployments.push(rollback_id.to_string());
        let back_to = r.source.first().copied().unwrap_or(r.target);
        r.rollback = Some((reason.to_string(), now, back_to));
        for h in r.hooks.iter_mut().filter(|h| h.status == "IN_PROGRESS") {
            h.status = "FAILED";
        }
        // The rollback's ECS deployment runs the revision it returns to.
        if let Some(svc) = self.services.get_mut(s)
            && let Some(rev) = svc.revisions.get_mut(back_to)
        {
            rev.deployment_id = rollback_id.to_string();
        }
    }

    /// The scheduler saw `deployment_id` complete.
    pub(crate) fn record_completed(&mut self, s: usize, deployment_id: &str) {
        let now = self.now;
        let Some(r) = self.record_of(s, deployment_id) else {
            return;
        };
        match r.status {
            Status::RollbackInProgress => {
                r.status = Status::RollbackSuccessful;
                r.finished_at = Some(now);
                r.updated_at = now;
            }
            // blue/green finishes through its stages
            Status::InProgress if r.stage.is_none() => {
                r.status = Status::Successful;
                r.finished_at = Some(now);
                r.updated_at = now;
                r.reason = "Service deployment completed successfully.".into();
            }
            _ => {}
        }
    }

    /// The blue/green stage machine of service deployment `i` of service `s`.
    pub(crate) fn advance_stage(&mut self, s: usize, i: usize) {
        let now = self.now;
        let Some(bg) = self.services.get(s).and_then(|x| x.blue_green.clone()) else {
            return;
        };
        let Some(r) = self.services.get_mut(s).and_then(|x| x.history.get_mut(i)) else {
            return;
        };
        if r.status != Status::InProgress {
            return;
        }
        let Some(stage) = r.stage else { return };
        if let Some(h) = r.hooks.iter_mut().find(|h| h.status == "IN_PROGRESS") {
            if bg.hook_fails {
                h.status = "FAILED";
                let reason = format!(
                    "Service deployment rolled back because the lifecycle hook {} failed at {}.",
                    h.target_arn,
                    stage.as_str()
                );
                let failed = r.deployments.first().cloned().unwrap_or_default();
                self.roll_back(s, &failed, &reason, "lifecycle hook");
                return;
            }
            h.status = "SUCCEEDED";
        }
        let Some(next) = stage.next() else {
            r.status = Status::Successful;
            r.finished_at = Some(now);
            r.updated_at = now;
            r.reason = "Service deployment completed successfully.".into();
            return;
        };
        r.stage = Some(next);
        r.updated_at = now;
        match next {
            Stage::TestTrafficShift => r.test_weight = Some(100.0),
            Stage::ProductionTrafficShift => r.prod_weight = Some(100.0),
            _ => {}
        }
        let wait = if next == bg.hook_stage {
            let h = mix(&[self.seed, hash_str(&r.id), 3]);
            r.hooks.push(Hook {
                id: format!("{:016x}", h),
                target_arn: bg.hook_arn.clone(),
                status: "IN_PROGRESS",
                expires_at: now + HOOK_TIMEOUT_MS,
            });
            bg.hook_ms
        } else if next == Stage::BakeTime {
            i64::from(bg.bake_min) * 60_000
        } else if next == Stage::ScaleUp {
            3 * STAGE_MS
        } else {
            STAGE_MS
        };
        self.schedule(now + wait, Ev::Stage(s, i));
    }

    /// A failed hook or a user's StopServiceDeployment(ROLLBACK): the deployment fails and
    /// ECS returns to the revision it replaced (`by` names who, in the new deployment's
    /// reason).
    pub(crate) fn roll_back(&mut self, s: usize, failed_id: &str, reason: &str, by: &str) {
        let now = self.now;
        // Back to the blue revision: the one this service deployment replaced.
        let good = self.services.get(s).and_then(|x| {
            let r = x
                .history
                .iter()
                .rev()
                .find(|r| r.deployments.first().is_some_and(|d| d == failed_id))?;
            let rev = x.revisions.get(*r.source.first()?)?;
            Some((rev.deployment_id.clone(), rev.task_def))
        });
        let Some((good_id, good_td)) = good else {
            return;
        };
        let name = self.names(s).1;
        if let Some(p) = self
            .services
            .get_mut(s)
            .and_then(|x| x.deployments.first_mut())
            .filter(|p| p.id == failed_id)
        {
            p.rollout = super::model::Rollout::Failed;
            p.reason = reason.to_string();
            p.updated_at = now;
        }
        self.event(
            s,
            format!("(service {name}) deployment {failed_id} deployment failed: {reason}"),
        );
        let id = self.start_deployment(s, good_td);
        if let Some(d) = self
            .services
            .get_mut(s)
            .and_then(|x| x.deployments.first_mut())
        {
            d.reason = format!("ECS deployment {by}: rolling back to deploymentId {good_id}.");
        }
        self.event(
            s,
            format!("(service {name}) rolling back to deployment {good_id}."),
        );
        self.record_rollback(s, failed_id, &id, reason);
    }
}
