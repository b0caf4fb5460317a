//! How busy each service is, on the virtual clock: the CPU and memory utilisation (percent of
//! what the service's tasks reserve) that CloudWatch's AWS/ECS metrics and Application Auto
//! Scaling read. Deterministic in (seed, service, minute): a per-service base, a slow wave and
//! a little noise; the drills bend it (the at-capacity drill pins the CPU near 95%, the oom
//! drill's leaking revision fills memory in a saw-tooth).

use super::Scenario;
use super::model::{Fault, Ms};
use super::rng::{hash_str, mix};
use super::scenario::INCIDENT_DELAY_MS;
use super::sim::Sim;

/// One minute, the metrics' resolution.
pub(crate) const MINUTE_MS: Ms = 60_000;

/// A number in [0, 1) from the hash `h`.
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

impl Sim {
    /// (CPU, memory) utilisation of service `s` in the minute holding `at`, in percent.
    pub(crate) fn utilisation(&self, s: usize, at: Ms) -> (f64, f64) {
        let Some(svc) = self.services.get(s) else {
            return (0.0, 0.0);
        };
        let minute = at.div_euclid(MINUTE_MS);
        let key = hash_str(&svc.name) ^ self.seed;
        let base_cpu = 12.0 + 30.0 * unit(mix(&[key, 1]));
        let base_mem = 30.0 + 30.0 * unit(mix(&[key, 2]));
        let phase = unit(mix(&[key, 3])) * std::f64::consts::TAU;
        let wave = ((minute as f64) / 20.0 * std::f64::consts::TAU + phase).sin();
        let noise = |n: u64| unit(mix(&[key, n, minute as u64])) - 0.5;
        let mut cpu = base_cpu + 8.0 * wave + 6.0 * noise(4);
        let mut mem = base_mem + 2.0 * wave + 2.0 * noise(5);
        let incident = self.t0 + INCIDENT_DELAY_MS;
        if self.scenario == Scenario::AtCapacity
            && at >= incident
            && self
                .scenario
                .target()
                .is_some_and(|(_, name)| name == svc.name)
        {
            cpu = 95.0 + 4.0 * noise(6);
        }
        let leaking = svc
            .deployments
            .first()
            .and_then(|d| self.task_defs.get(d.task_def))
            .is_some_and(|td| td.fault == Fault::MemoryLeak);
        if leaking {
            // tasks die every 6–13 minutes: a saw-tooth from 45% to the limit
            mem = 45.0 + 55.0 * ((minute.rem_euclid(9)) as f64 / 8.0);
        }
        (cpu.clamp(0.5, 100.0), mem.clamp(1.0, 100.0))
    }
}

impl Sim {
    /// (CPU, memory) utilisation of task `t` (an index into `tasks`) in the minute holding
    /// `at`, in percent of what the task reserves; `None` when it was not running then.
    /// Each task is its service's utilisation bent by a per-task factor (tasks behind one
    /// load balancer are never exactly alike); a leaking revision's task fills its memory
    /// from the minute it starts, so the task about to be killed is the fullest one.
    pub(crate) fn task_utilisation(&self, t: usize, at: Ms) -> Option<(f64, f64)> {
        let task = self.tasks.get(t)?.as_ref()?;
        let started = task.started_at?;
        if at < started.div_euclid(MINUTE_MS) * MINUTE_MS
            || task.stopped_at.is_some_and(|s| at >= s)
        {
            return None;
        }
        let minute = at.div_euclid(MINUTE_MS);
        let key = hash_str(&task.id) ^ self.seed;
        let (cpu, mem) = match task.service {
            Some(s) => self.utilisation(s, at),
            None => (20.0, 35.0),
        };
        let factor = 0.8 + 0.4 * unit(mix(&[key, 11]));
        let noise = |n: u64| unit(mix(&[key, n, minute as u64])) - 0.5;
        let cpu = cpu * factor + 4.0 * noise(12);
        let leaking = self
            .task_defs
            .get(task.task_def)
            .is_some_and(|td| td.fault == Fault::MemoryLeak);
        let mem = if leaking {
            let ran = (at - started).max(0) as f64 / (9 * MINUTE_MS) as f64;
            45.0 + 55.0 * ran.min(1.0)
        } else {
            mem * (0.9 + 0.2 * unit(mix(&[key, 13]))) + noise(14)
        };
        Some((cpu.clamp(0.5, 100.0), mem.clamp(1.0, 100.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utilisation_is_deterministic_bounded_and_pinned_by_the_at_capacity_drill() {
        let t0 = 1_800_000_000_000;
        let fleet = |scenario| {
            let mut sim = Sim::empty(7, "us-east-1", "123456789012", scenario, t0);
            sim.build_fleet(None, None);
            sim
        };
        let (steady, busy) = (fleet(Scenario::Steady), fleet(Scenario::AtCapacity));
        let s = busy
            .find_service("prod", "web-frontend")
            .expect("web-frontend in prod");
        let later = t0 + INCIDENT_DELAY_MS + 5 * MINUTE_MS;
        assert_eq!(steady.utilisation(s, later), steady.utilisation(s, later));
        let (cpu, mem) = steady.utilisation(s, later);
        assert!(
            (0.5..=60.0).contains(&cpu) && (1.0..=100.0).contains(&mem),
            "{cpu} {mem}"
        );
        let (hot, _) = busy.utilisation(s, later);
        assert!(hot >= 93.0, "{hot}");
        let (before, _) = busy.utilisation(s, t0);
        assert!(before < 60.0, "not before the incident: {before}");
    }

    #[test]
    fn a_task_has_utilisation_only_while_it_runs_and_differs_from_its_neighbours() {
        let t0 = 1_800_000_000_000;
        let mut sim = Sim::empty(7, "us-east-1", "123456789012", Scenario::Steady, t0);
        sim.now = t0 - 30 * MINUTE_MS;
        sim.build_fleet(None, None);
        sim.advance_to(t0);
        let s = sim
            .find_service("prod", "checkout-api")
            .expect("checkout-api");
        let running: Vec<usize> = (0..sim.tasks.len())
            .filter(|&i| {
                sim.tasks[i].as_ref().is_some_and(|t| {
                    t.service == Some(s) && t.stopped_at.is_none() && t.started_at.is_some()
                })
            })
            .collect();
        assert!(running.len() >= 2, "{running:?}");
        let at = t0 - MINUTE_MS;
        let a = sim.task_utilisation(running[0], at).expect("running");
        let b = sim.task_utilisation(running[1], at).expect("running");
        assert_ne!(a, b);
        assert!(
            (0.5..=100.0).contains(&a.0) && (1.0..=100.0).contains(&a.1),
            "{a:?}"
        );
        let started = sim.tasks[running[0]]
            .as_ref()
            .and_then(|t| t.started_at)
            .unwrap_or(t0);
        assert_eq!(
            sim.task_utilisation(running[0], started - 2 * MINUTE_MS),
            None
        );
    }
}
