//! Standalone tasks: tasks no service started. A schedule in the `prod` cluster runs
//! `nightly-reconcile` every 15 virtual minutes the way an EventBridge rule does (RunTask with
//! `startedBy: events-rule/nightly-reconcile` and the default group `family:nightly-reconcile`);
//! each run works a minute or two and its essential container exits 0, except every fourth run
//! from the second, which exits 1. And someone ran a one-off `db-migrate` by hand (`startedBy: user/alice`) twenty
//! virtual minutes before the sandbox started serving; it failed with exit 1.
//!
//! ListTasks at cluster scope lists them; `serviceName=` never does (they are in no service's
//! index); `startedBy=` and `family=` filter them as they filter any task.

use super::fleet::{Kind, Profile};
use super::model::{EndCause, Ms, TaskStatus};
use super::sim::{Ev, Sim};

/// How often the scheduled job runs.
pub(crate) const JOB_EVERY_MS: Ms = 15 * 60_000;
/// The runs fall this long after the sandbox's start (and every [`JOB_EVERY_MS`] before and
/// after): half-way between two runs, so the first minutes after startup are quiet.
pub(crate) const JOB_PHASE_MS: Ms = JOB_EVERY_MS / 2;
/// When the one-off migration ran, before `t0`.
const MIGRATION_BEFORE_T0_MS: Ms = 20 * 60_000;

#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub cluster: usize,
    /// Task definition index.
    pub task_def: usize,
    pub started_by: &'static str,
    /// `None`: runs once.
    pub every: Option<Ms>,
    /// Runs so far.
    pub runs: u64,
    /// Which runs exit 1: every `n`th from the second (1: all of them).
    pub fails_every: u64,
}

const RECONCILE: Profile = Profile {
    name: "nightly-reconcile",
    kind: Kind::Batch,
    spot: 0,
    exec: false,
    sidecar: None,
};

const MIGRATE: Profile = Profile {
    name: "db-migrate",
    kind: Kind::Batch,
    spot: 0,
    exec: false,
    sidecar: None,
};

impl Sim {
    /// Register the jobs' task definitions and queue their first runs (in `prod`, if any).
    pub(crate) fn setup_jobs(&mut self) {
        self.with_jobs_rng(Sim::add_jobs);
    }

    fn add_jobs(&mut self) {
        let Some(&cluster) = self.cluster_by_name.get("prod") else {
            return;
        };
        let reconcile = self.register_initial("prod", RECONCILE.name, &RECONCILE);
        let migrate = self.register_initial("prod", MIGRATE.name, &MIGRATE);
        self.jobs.push(Job {
            cluster,
            task_def: reconcile,
            started_by: "events-rule/nightly-reconcile",
            every: Some(JOB_EVERY_MS),
            runs: 0,
            fails_every: 4,
        });
        self.jobs.push(Job {
            cluster,
            task_def: migrate,
            started_by: "user/alice",
            every: None,
            runs: 0,
            fails_every: 1,
        });
        // runs at t0 + JOB_PHASE_MS + n × JOB_EVERY_MS: relative to the sandbox's start, not
        // the wall clock's quarter hours, so what a test sees never depends on when it runs
        // (a run starting in a test's first seconds was PENDING on every quarter hour)
        let anchor = self.t0 + JOB_PHASE_MS;
        let first = self.now + (anchor - self.now).rem_euclid(JOB_EVERY_MS);
        self.schedule(first, Ev::Job(0));
        self.schedule(self.t0 - MIGRATION_BEFORE_T0_MS, Ev::Job(1));
    }

    /// A job's run: RunTask of its task definition, no service; the next run queued.
    pub(crate) fn run_job(&mut self, j: usize) {
        let Some(job) = self.jobs.get_mut(j) else {
            return;
        };
        job.runs += 1;
        let job = job.clone();
        if let Some(every) = job.every {
            self.schedule(self.now + every, Ev::Job(j));
        }
        let Some(slot) = self.launch_in(
            job.cluster,
            None,
            job.started_by,
            job.task_def,
            false,
            "FARGATE",
            job.runs,
        ) else {
            return;
        };
        let Some(serial) = self.task(slot).map(|t| t.serial) else {
            return;
        };
        let work = self.rng.range(60_000, 120_000);
        self.schedule(self.now + 30_000 + work, Ev::JobDone(slot, serial));
    }

    /// The job's work is done: its essential container exits (1 on a failing run).
    pub(crate) fn job_done(&mut self, slot: usize) {
        let Some(t) = self.task(slot) else { return };
        if !t.desired_running {
            return;
        }
        if t.last != TaskStatus::Running {
            // still starting: finish a little later
            let serial = t.serial;
            self.schedule(self.now + 10_000, Ev::JobDone(slot, serial));
            return;
        }
        let (td, started_by) = (t.task_def, t.started_by.clone());
        let failing = self
            .jobs
            .iter()
            .find(|j| j.task_def == td && j.started_by == started_by)
            .is_some_and(|j| (j.runs + 2) % j.fails_every.max(1) == 0);
        if failing {
            self.crash(slot, 1, None, EndCause::Crash);
        } else {
            self.crash(slot, 0, None, EndCause::User);
        }
    }
}

impl Sim {
    /// The job whose task definition logs to `group`.
    pub(crate) fn job_log_group(&self, group: &str) -> Option<usize> {
        self.jobs.iter().position(|j| {
            self.task_defs
                .get(j.task_def)
                .is_some_and(|d| d.log_group == group)
        })
    }

    /// The jobs' log groups with when they were created (their task definition's registration).
    pub(crate) fn job_log_groups(&self) -> Vec<(&str, Ms)> {
        self.jobs
            .iter()
            .filter_map(|j| self.task_defs.get(j.task_def))
            .map(|d| (d.log_group.as_str(), d.registered_at))
            .collect()
    }

    /// The streams of a job's log group: its standalone tasks' containers, sorted by name.
    pub(crate) fn job_streams(&self, j: usize) -> Vec<super::loggen::StreamInfo> {
        let mut out = Vec::new();
        let (Some(job), Some(family)) = (
            self.jobs.get(j),
            self.jobs
                .get(j)
                .and_then(|job| self.task_defs.get(job.task_def))
                .map(|d| d.family.clone()),
        ) else {
            return out;
        };
        let Some(cluster) = self.clusters.get(job.cluster) else {
            return out;
        };
        for &slot in cluster
            .tasks_live
            .values()
            .chain(cluster.tasks_stopped.values())
        {
            let ours = self.task(slot).is_some_and(|t| {
                t.service.is_none()
                    && self
                        .task_defs
                        .get(t.task_def)
                        .is_some_and(|d| d.family == family)
            });
            if ours {
                super::logs::task_streams(self, slot, Kind::Batch, &family, None, false, &mut out);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}
