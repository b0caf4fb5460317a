//! The drills: what goes wrong, where and when, on the virtual clock.
//!
//! Every run starts an hour of virtual time before the sandbox begins serving, so there is
//! already history (a couple of completed deployments, a few stopped tasks, service events).
//! Unless noted, the incident begins [`INCIDENT_DELAY_MS`] (two virtual minutes) after
//! startup. The per-drill notes on [`Scenario`] say what the on-call engineer should find.

use super::Scenario;
use super::model::*;
use super::rng::{hash_str, mix};
use super::sim::{Ev, Sim};

/// Virtual delay between startup and the incident.
pub const INCIDENT_DELAY_MS: i64 = 2 * 60_000;
/// How much history is simulated before the sandbox starts serving.
pub(crate) const HISTORY_MS: i64 = 60 * 60_000;

const STEP_HISTORY: u32 = 0;
const STEP_INCIDENT: u32 = 1;
const STEP_SPOT: u32 = 2;

impl Scenario {
    /// The (cluster, service) at the centre of the drill, if any.
    pub fn target(self) -> Option<(&'static str, &'static str)> {
        match self {
            Scenario::BadDeploy => Some(("prod", "checkout-api")),
            Scenario::Oom => Some(("prod", "payments-worker")),
            Scenario::ImagePull => Some(("prod", "orders-api")),
            Scenario::Secrets => Some(("prod", "notifications-worker")),
            Scenario::ElbHealth => Some(("prod", "search-api")),
            Scenario::AtCapacity => Some(("prod", "web-frontend")),
            Scenario::NoCapacity => Some((super::instances::CLUSTER, super::instances::SERVICE)),
            Scenario::BlueGreen => Some(("prod", super::fleet::BLUE_GREEN_SERVICE)),
            Scenario::Steady
            | Scenario::Spot
            | Scenario::Throttle
            | Scenario::ExecBroken
            | Scenario::Hostile => None,
        }
    }

    /// The task definition fault the drill deploys, with the version it is tagged as.
    fn fault(self) -> Option<(Fault, &'static str)> {
        match self {
            Scenario::BadDeploy => Some((Fault::CrashOnBoot, "v2.0.0")),
            Scenario::Oom => Some((Fault::MemoryLeak, "v3.7.1")),
            Scenario::ImagePull => Some((Fault::BadImage, "v1.9.0-rc1")),
            Scenario::Secrets => Some((Fault::BadSecret, "v4.2.0")),
            Scenario::ElbHealth => Some((Fault::BadHealthPath, "v5.1.0")),
            // the revision is fine: its lifecycle hook is what fails
            Scenario::BlueGreen => Some((Fault::None, "v7.3.0")),
            _ => None,
        }
    }
}

impl Sim {
    pub(crate) fn find_service(&self, cluster: &str, name: &str) -> Option<usize> {
        let c = self.cluster_by_name.get(cluster)?;
        self.clusters.get(*c)?.services.get(name).copied()
    }

    /// Queue the drill's steps; called once at the start of the history window.
    pub(crate) fn setup_drills(&mut self) {
        let t0 = self.t0;
        self.setup_scaling();
        self.schedule(t0 - 45 * 60_000, Ev::Drill(STEP_HISTORY));
        let first_noise = t0 - HISTORY_MS + self.rng.range(5, 12) * 60_000;
        self.schedule(first_noise, Ev::Noise);
        self.schedule(t0 + INCIDENT_DELAY_MS, Ev::Drill(STEP_INCIDENT));
        if self.scenario == Scenario::Spot {
            self.schedule(t0 + 60_000, Ev::Drill(STEP_SPOT));
        }
    }

    pub(crate) fn drill_step(&mut self, step: u32) {
        match step {
            STEP_HISTORY => {
                // routine releases earlier in the hour: stopped tasks and events to look at
                for (cluster, name) in [("prod", "web-frontend"), ("staging", "checkout-api")] {
                    if let Some(s) = self.find_service(cluster, name) {
                        let version =
                            format!("v1.{}.{}", self.rng.range(10, 30), self.rng.range(0, 9));
                        if let Some(td) = self.current_td(s)
                            && let Some(new) = self.register_revision(td, Fault::None, &version)
                        {
                            self.update_service(s, None, Some(new), false);
                        }
                    }
                }
                if let Some(s) = self.find_service("batch", "report-generator") {
                    self.update_service(s, None, None, true);
                }
                if self.scenario == Scenario::Hostile {
                    self.hostile_history();
                }
            }
            STEP_INCIDENT if self.scenario == Scenario::NoCapacity => {
                // the nightly backlog: 8 tasks wanted, room for 6
                if let Some(s) =
                    self.find_service(super::instances::CLUSTER, super::instances::SERVICE)
                {
                    self.update_service(s, Some(8), None, false);
                }
            }
            STEP_INCIDENT if self.scenario == Scenario::AtCapacity => self.scale_out_to_max(),
            STEP_INCIDENT => {
                let Some(((cluster, name), (fault, version))) =
                    self.scenario.target().zip(self.scenario.fault())
                else {
                    return;
                };
                let Some(s) = self.find_service(cluster, name) else {
                    return;
                };
                if let Some(svc) = self.services.get_mut(s) {
                    match self.scenario {
                        Scenario::ImagePull => svc.rollback = false,
                        Scenario::Secrets | Scenario::ElbHealth => svc.breaker = false,
                        _ => {}
                    }
                }
                if let Some(td) = self.current_td(s)
                    && let Some(new) = self.register_revision(td, fault, version)
                {
                    self.update_service(s, None, Some(new), false);
                }
            }
            STEP_SPOT => {
                self.interrupt_spot_task();
                let next = self.now + self.rng.range(40_000, 100_000);
                self.schedule(next, Ev::Drill(STEP_SPOT));
            }
            _ => {}
        }
    }

    /// The hostile drill's event and stopped task on prod/checkout-api.
    fn hostile_history(&mut self) {
        let Some(s) = self.find_service("prod", "checkout-api") else {
            return;
        };
        self.event(s, super::loggen::HOSTILE[0].to_string());
        self.event(s, super::loggen::HOSTILE[1].to_string());
        let slot = self
            .services
            .get(s)
            .and_then(|svc| svc.tasks_live.values().next().copied());
        if let Some(slot) = slot {
            self.stop_task(
                slot,
                "UserInitiated",
                super::loggen::HOSTILE[0].to_string(),
                EndCause::User,
            );
        }
    }

    fn current_td(&self, s: usize) -> Option<usize> {
        self.services
            .get(s)?
            .deployments
            .first()
            .map(|d| d.task_def)
    }

    fn interrupt_spot_task(&mut self) {
        let Some(c) = self.cluster_by_name.get("prod").copied() else {
            return;
        };
        let Some(cl) = self.clusters.get(c) else {
            return;
        };
        let spot: Vec<usize> = cl
            .tasks_live
            .values()
            .copied()
            .filter(|&t| {
                self.task(t).is_some_and(|t| {
                    t.capacity_provider == "FARGATE_SPOT" && t.last == TaskStatus::Running
                })
            })
            .collect();
        if let Some(&slot) = self.rng.pick(&spot) {
            self.stop_task(
                slot,
                "SpotInterruption",
                "Your Spot Task was interrupted.".to_string(),
                EndCause::Spot,
            );
        }
    }

    /// Background noise: now and then a task crashes or a Spot task is reclaimed.
    pub(crate) fn noise(&mut self) {
        let n = self.fleet_services();
        if n > 0 {
            let s = (self.rng.next_u64() % n as u64) as usize;
            let running: Vec<usize> = self
                .services
                .get(s)
                .map(|svc| {
                    svc.tasks_live
                        .values()
                        .copied()
                        .filter(|&t| self.task(t).is_some_and(|t| t.last == TaskStatus::Running))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(&slot) = self.rng.pick(&running) {
                let spot = self
                    .task(slot)
                    .is_some_and(|t| t.capacity_provider == "FARGATE_SPOT");
                if spot {
                    self.stop_task(
                        slot,
                        "SpotInterruption",
                        "Your Spot Task was interrupted.".to_string(),
                        EndCause::Spot,
                    );
                } else {
                    self.crash(slot, 1, None, EndCause::Crash);
                }
            }
        }
        let next = self.now + self.rng.range(6, 15) * 60_000;
        self.schedule(next, Ev::Noise);
    }

    /// exec-broken: a third of the tasks of exec-enabled services lose their agent.
    pub(crate) fn exec_agent_broken(&self, slot: usize) -> bool {
        self.scenario == Scenario::ExecBroken
            && self
                .task(slot)
                .is_some_and(|t| t.exec && mix(&[self.seed, hash_str(&t.id)]).is_multiple_of(3))
    }

    /// Share of log lines that are errors for a service at a given time (error bursts).
    pub(crate) fn error_rate(&self, s: usize, at: Ms) -> f64 {
        let base = 0.02;
        let Some(svc) = self.services.get(s) else {
            return base;
        };
        let cluster = self
            .clusters
            .get(svc.cluster)
            .map(|c| c.name.as_str())
            .unwrap_or("");
        let incident = at >= self.t0 + INCIDENT_DELAY_MS;
        match self.scenario.target() {
            Some((c, n)) if incident && c == cluster && n == svc.name => 0.3,
            Some(("prod", "checkout-api"))
                if incident && cluster == "prod" && svc.name == "web-frontend" =>
            {
                0.15
            }
            _ => base,
        }
    }
}
