//! The fleet simulator: a virtual clock, an event queue, the task lifecycle and the
//! service scheduler (rolling deployments and the circuit breaker).
//!
//! Work happens only when time advances past a queued event, so an idle fleet of 20,000
//! tasks costs nothing per request; lists are kept in per-cluster and per-service indexes.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use super::Scenario;
use super::model::*;
use super::rng::Rng;
use super::ssm::Session;

/// How long STOPPED tasks stay listable.
pub(crate) const STOPPED_RETENTION_MS: Ms = 60 * 60 * 1000;
const MAX_EVENTS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Ev {
    /// Advance a task's lifecycle (slot, serial).
    Task(usize, u64),
    /// The task's fault strikes (crash, OOM, failed health checks).
    Fate(usize, u64),
    /// Remove a STOPPED task after the retention period.
    Purge(usize, u64),
    Reconcile(usize),
    /// A scripted step of the drill (see `scenario.rs`).
    Drill(u32),
    /// Background noise of a healthy fleet.
    Noise,
    /// The next blue/green lifecycle stage of (service, service deployment).
    Stage(usize, usize),
    /// A scheduled job's next run (index into `jobs`; see `jobs.rs`).
    Job(usize),
    /// A standalone task's work is done: its essential container exits (slot, serial).
    JobDone(usize, u64),
    /// An auto scaling target's policy looks at its metric again (index into `scaling`).
    Scale(usize),
}

pub(crate) struct Sim {
    pub seed: u64,
    pub region: String,
    pub account: String,
    pub scenario: Scenario,
    /// Virtual "now".
    pub now: Ms,
    /// Virtual time the sandbox started serving (the drills are timed from it).
    pub t0: Ms,
    pub rng: Rng,
    pub clusters: Vec<Cluster>,
    pub cluster_by_name: HashMap<String, usize>,
    pub services: Vec<Service>,
    pub task_defs: Vec<TaskDef>,
    pub td_by_arn: HashMap<String, usize>,
    /// family -> task definition indexes in revision order.
    pub families: BTreeMap<String, Vec<usize>>,
    pub tasks: Vec<Option<Task>>,
    free_slots: Vec<usize>,
    pub task_by_id: HashMap<String, usize>,
    queue: BinaryHeap<Reverse<(Ms, u64, Ev)>>,
    seq: u64,
    serial: u64,
    /// log group name -> service index.
    pub log_groups: BTreeMap<String, usize>,
    pub sessions: Vec<Session>,
    /// Scheduled jobs that run standalone tasks (see `jobs.rs`).
    pub jobs: Vec<super::jobs::Job>,
    /// The random stream of the jobs and their tasks, apart from the fleet's, so adding them
    /// leaves every seed's fleet and drills as they were.
    pub jobs_rng: Rng,
    /// Task sets of the services an EXTERNAL controller deploys, by service (`task_sets.rs`).
    pub task_sets: BTreeMap<usize, Vec<super::task_sets::SimTaskSet>>,
    /// Application Auto Scaling targets (`scaling.rs`).
    pub scaling: Vec<super::scaling::Scalable>,
}

impl Sim {
    pub(crate) fn empty(seed: u64, region: &str, account: &str, scenario: Scenario, t0: Ms) -> Sim {
        Sim {
            seed,
            region: region.to_string(),
            account: account.to_string(),
            scenario,
            now: t0,
            t0,
            rng: Rng::new(seed),
            clusters: Vec::new(),
            cluster_by_name: HashMap::new(),
            services: Vec::new(),
            task_defs: Vec::new(),
            td_by_arn: HashMap::new(),
            families: BTreeMap::new(),
            tasks: Vec::new(),
            free_slots: Vec::new(),
            task_by_id: HashMap::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            serial: 0,
            log_groups: BTreeMap::new(),
            sessions: Vec::new(),
            jobs: Vec::new(),
            jobs_rng: Rng::new(seed ^ 0x6a6f_6273),
            task_sets: BTreeMap::new(),
            scaling: Vec::new(),
        }
    }

    pub(crate) fn schedule(&mut self, at: Ms, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, ev)));
    }

    /// Run every queued event up to `target`, then set the clock to it.
    pub(crate) fn advance_to(&mut self, target: Ms) {
        while let Some(Reverse((at, _, ev))) = self.queue.peek().copied() {
            if at > target {
                break;
            }
            self.queue.pop();
            self.now = self.now.max(at);
            self.handle(ev);
        }
        self.now = self.now.max(target);
    }

    fn handle(&mut self, ev: Ev) {
        let standalone = match ev {
            Ev::Job(_) | Ev::JobDone(..) => true,
            Ev::Task(slot, _) | Ev::Fate(slot, _) | Ev::Purge(slot, _) => {
                self.task(slot).is_some_and(|t| t.service.is_none())
            }
            _ => false,
        };
        if standalone {
            self.with_jobs_rng(|sim| sim.dispatch(ev));
        } else {
            self.dispatch(ev);
        }
    }

    /// Run `f` drawing from the jobs' random stream.
    pub(crate) fn with_jobs_rng(&mut self, f: impl FnOnce(&mut Sim)) {
        std::mem::swap(&mut self.rng, &mut self.jobs_rng);
        f(self);
        std::mem::swap(&mut self.rng, &mut self.jobs_rng);
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::Task(slot, serial) => {
                if self.task_ok(slot, serial) {
                    self.step_task(slot);
                }
            }
            Ev::Fate(slot, serial) => {
                if self.task_ok(slot, serial) {
                    self.strike(slot);
                }
            }
            Ev::Purge(slot, serial) => {
                if self.task_ok(slot, serial) {
                    self.purge(slot);
                }
            }
            Ev::Reconcile(s) => {
                if let Some(svc) = self.services.get_mut(s) {
                    svc.reconcile_at = None;
                    self.reconcile(s);
                }
            }
            Ev::Drill(step) => self.drill_step(step),
            Ev::Noise => self.noise(),
            Ev::Stage(s, i) => self.advance_stage(s, i),
            Ev::Job(job) => self.run_job(job),
            Ev::Scale(i) => self.scaling_tick(i),
            Ev::JobDone(slot, serial) => {
                if self.task_ok(slot, serial) {
                    self.job_done(slot);
                }
            }
        }
    }

    fn task_ok(&self, slot: usize, serial: u64) -> bool {
        matches!(self.tasks.get(slot), Some(Some(t)) if t.serial == serial)
    }

    pub(crate) fn task(&self, slot: usize) -> Option<&Task> {
        self.tasks.get(slot).and_then(|t| t.as_ref())
    }

    fn task_mut(&mut self, slot: usize) -> Option<&mut Task> {
        self.tasks.get_mut(slot).and_then(|t| t.as_mut())
    }

    /// Queue a scheduler pass; passes are idempotent, and only exact duplicates are merged.
    pub(crate) fn schedule_reconcile(&mut self, s: usize, at: Ms) {
        let Some(svc) = self.services.get_mut(s) else {
            return;
        };
        if svc.reconcile_at == Some(at) {
            return;
        }
        svc.reconcile_at = Some(at);
        self.schedule(at, Ev::Reconcile(s));
    }

    pub(crate) fn event(&mut self, s: usize, message: String) {
        let id = self.rng.uuid();
        let now = self.now;
        if let Some(svc) = self.services.get_mut(s) {
            svc.events.push_front(ServiceEvent {
                id,
                at: now,
                message,
            });
            svc.events.truncate(MAX_EVENTS);
        }
    }

    // ----- tasks -------------------------------------------------------------------------

    fn alloc_ip(&mut self, cluster: usize, subnet: usize) -> u32 {
        let Some(sn) = self
            .clusters
            .get_mut(cluster)
            .and_then(|c| c.subnets.get_mut(subnet))
        else {
            return 0;
        };
        let size = 1u32 << (32 - u32::from(sn.prefix));
        if sn.next + 1 < size {
            let ip = sn.base + sn.next;
            sn.next += 1;
            ip
        } else {
            sn.free.pop_front().unwrap_or(sn.base + 4)
        }
    }

    /// Create a task for a service deployment; it starts in PROVISIONING.
    pub(crate) fn launch(&mut self, s: usize, deployment_id: &str, td: usize) -> Option<usize> {
        let svc = self.services.get_mut(s)?;
        let n = svc.launches;
        svc.launches += 1;
        let cluster = svc.cluster;
        let exec = svc.exec;
        let provider = pick_provider(&svc.capacity, n);
        let on_ec2 = self
            .clusters
            .get(cluster)
            .is_some_and(|c| !c.instances.is_empty());
        if !on_ec2 {
            return self.launch_in(cluster, Some(s), deployment_id, td, exec, provider, n);
        }
        match self.place(cluster, td) {
            Ok(i) => {
                let slot = self.launch_in(cluster, Some(s), deployment_id, td, exec, "", n)?;
                if let Some(Some(t)) = self.tasks.get_mut(slot) {
                    t.instance = Some(i);
                }
                Some(slot)
            }
            Err((closest, lack)) => {
                self.placement_failed(s, closest, lack);
                None
            }
        }
    }

    /// Create a task in `cluster` (of service `s`, or standalone: RunTask, a schedule); it
    /// starts in PROVISIONING. `n` spreads tasks over the subnets.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn launch_in(
        &mut self,
        cluster: usize,
        s: Option<usize>,
        started_by: &str,
        td: usize,
        exec: bool,
        provider: &'static str,
        n: u64,
    ) -> Option<usize> {
        let nsub = self.clusters.get(cluster)?.subnets.len().max(1);
        let subnet = (n as usize + self.rng.range(0, 2) as usize) % nsub;
        let ip = self.alloc_ip(cluster, subnet);
        let id = self.rng.hex(32);
        let cname = self.clusters.get(cluster)?.name.clone();
        let tdef = self.task_defs.get(td)?;
        let reports_health = tdef.containers.iter().any(|c| c.health_check);
        let cdefs: Vec<String> = tdef.containers.iter().map(|c| c.name.clone()).collect();
        let containers = cdefs
            .into_iter()
            .map(|name| ContainerState {
                name,
                id: String::new(),
                runtime_id: None,
                exit_code: None,
                reason: None,
                agent: if exec {
                    Some(AgentState::Pending)
                } else {
                    None
                },
                agent_started_at: None,
            })
            .collect::<Vec<_>>();
        self.serial += 1;
        let mut task = Task {
            arn: format!(
                "arn:aws:ecs:{}:{}:task/{}/{}",
                self.region, self.account, cname, id
            ),
            id: id.clone(),
            serial: self.serial,
            cluster,
            service: s,
            started_by: started_by.to_string(),
            task_def: td,
            last: TaskStatus::Provisioning,
            desired_running: true,
            created_at: self.now,
            connectivity_at: None,
            pull_started_at: None,
            pull_stopped_at: None,
            started_at: None,
            healthy_at: None,
            stopping_at: None,
            execution_stopped_at: None,
            stopped_at: None,
            stop_code: None,
            stopped_reason: None,
            end: None,
            containers,
            subnet,
            ip,
            eni: format!("eni-{}", self.rng.hex(17)),
            mac: String::new(),
            attachment_id: self.rng.uuid(),
            ipv6: String::new(),
            capacity_provider: provider,
            instance: None,
            exec,
            reports_health,
            version: 1,
            counted_failure: false,
        };
        let m = self.rng.hex(10);
        task.mac = format!(
            "0a:{}:{}:{}:{}:{}",
            &m[0..2],
            &m[2..4],
            &m[4..6],
            &m[6..8],
            &m[8..10]
        );
        let v6 = self.rng.hex(8);
        task.ipv6 = format!("2600:1f18:{}:{}::{}", &v6[0..4], &v6[4..8], ip & 0xFFFF);
        for c in task.containers.iter_mut() {
            c.id = self.rng.uuid();
        }
        let slot = if let Some(slot) = self.free_slots.pop() {
            if let Some(place) = self.tasks.get_mut(slot) {
                *place = Some(task);
            }
            slot
        } else {
            self.tasks.push(Some(task));
            self.tasks.len() - 1
        };
        self.task_by_id.insert(id.clone(), slot);
        if let Some(c) = self.clusters.get_mut(cluster) {
            c.tasks_live.insert(id.clone(), slot);
        }
        if let Some(svc) = s.and_then(|s| self.services.get_mut(s)) {
            svc.tasks_live.insert(id, slot);
        }
        let delay = self.rng.range(3_000, 9_000);
        let serial = self.serial;
        self.schedule(self.now + delay, Ev::Task(slot, serial));
        Some(slot)
    }

    /// Put a task straight into RUNNING as if it started at `started` (fleet construction).
    pub(crate) fn backdate_running(&mut self, slot: usize, started: Ms, exec_broken: bool) {
        let rid = self.rng.digits(10);
        let Some(t) = self.task_mut(slot) else { return };
        t.created_at = started - 40_000;
        t.connectivity_at = Some(started - 33_000);
        t.pull_started_at = Some(started - 31_000);
        t.pull_stopped_at = Some(started - 12_000);
        t.started_at = Some(started);
        t.healthy_at = Some(started + 30_000);
        t.last = TaskStatus::Running;
        t.version = 4;
        let id = t.id.clone();
        for (i, c) in t.containers.iter_mut().enumerate() {
            c.runtime_id = Some(format!("{id}-{}", rid_for(&rid, i)));
            if c.agent.is_some() {
                c.agent = Some(if exec_broken && i == 0 {
                    AgentState::Stopped
                } else {
                    AgentState::Running
                });
                c.agent_started_at = Some(started + 2_000);
            }
        }
    }

    fn step_task(&mut self, slot: usize) {
        let now = self.now;
        let Some(t) = self.task(slot) else { return };
        let (last, serial, td, service) = (t.last, t.serial, t.task_def, t.service);
        let fault = self
            .task_defs
            .get(td)
            .map(|d| d.fault)
            .unwrap_or(Fault::None);
        match last {
            TaskStatus::Provisioning => {
                let pull = now + 1_000;
                let (pull_stop, next) = match fault {
                    Fault::BadSecret => (None, now + self.rng.range(4_000, 9_000)),
                    Fault::BadImage => (None, pull + self.rng.range(20_000, 40_000)),
                    _ => {
                        let stop = pull + self.rng.range(4_000, 22_000);
                        (Some(stop), stop + self.rng.range(500, 2_000))
                    }
                };
                if let Some(t) = self.task_mut(slot) {
                    t.last = TaskStatus::Pending;
                    t.connectivity_at = Some(now);
                    if fault != Fault::BadSecret {
                        t.pull_started_at = Some(pull);
                    }
                    t.pull_stopped_at = pull_stop;
                    t.version += 1;
                }
                self.schedule(next, Ev::Task(slot, serial));
            }
            TaskStatus::Pending => match fault {
                Fault::BadSecret => {
                    let reason = self.secret_error(td);
                    self.fail_to_start(slot, reason);
                }
                Fault::BadImage => {
                    let reason = self.image_error(td);
                    self.fail_to_start(slot, reason);
                }
                _ => {
                    if let Some(t) = self.task_mut(slot) {
                        t.last = TaskStatus::Activating;
                        t.version += 1;
                    }
                    let next = now + self.rng.range(1_500, 4_000);
                    self.schedule(next, Ev::Task(slot, serial));
                }
            },
            TaskStatus::Activating => self.become_running(slot, fault),
            TaskStatus::Running => {}
            TaskStatus::Deactivating => {
                let next = now + self.rng.range(2_000, 12_000);
                if let Some(t) = self.task_mut(slot) {
                    t.last = TaskStatus::Stopping;
                    t.version += 1;
                }
                self.schedule(next, Ev::Task(slot, serial));
            }
            TaskStatus::Stopping => {
                let next = now + self.rng.range(5_000, 20_000);
                if let Some(t) = self.task_mut(slot) {
                    t.last = TaskStatus::Deprovisioning;
                    t.version += 1;
                    if t.execution_stopped_at.is_none() {
                        t.execution_stopped_at = Some(now);
                    }
                    let code = if t.end == Some(EndCause::Spot) {
                        143
                    } else {
                        0
                    };
                    for c in t.containers.iter_mut() {
                        if c.runtime_id.is_some() && c.exit_code.is_none() {
                            c.exit_code = Some(code);
                        }
                        if c.agent.is_some() {
                            c.agent = Some(AgentState::Stopped);
                        }
                    }
                }
                self.schedule(next, Ev::Task(slot, serial));
            }
            TaskStatus::Deprovisioning => {
                let mut release = None;
                if let Some(t) = self.task_mut(slot) {
                    t.last = TaskStatus::Stopped;
                    t.stopped_at = Some(now);
                    t.version += 1;
                    release = Some((t.cluster, t.subnet, t.ip));
                }
                if let Some((c, sn, ip)) = release
                    && let Some(subnet) =
                        self.clusters.get_mut(c).and_then(|c| c.subnets.get_mut(sn))
                {
                    subnet.free.push_back(ip);
                }
                self.schedule(now + STOPPED_RETENTION_MS, Ev::Purge(slot, serial));
                if let Some(s) = service {
                    self.schedule_reconcile(s, now + 1_000);
                }
            }
            TaskStatus::Stopped => {}
        }
    }

    fn become_running(&mut self, slot: usize, fault: Fault) {
        let now = self.now;
        let rid = self.rng.digits(10);
        let healthy = now + self.rng.range(15_000, 45_000);
        let broken = self.exec_agent_broken(slot);
        let Some(t) = self.task_mut(slot) else { return };
        let (serial, service) = (t.serial, t.service);
        t.last = TaskStatus::Running;
        t.started_at = Some(now);
        t.healthy_at = if fault == Fault::BadHealthPath {
            None
        } else {
            Some(healthy)
        };
        t.version += 1;
        let id = t.id.clone();
        for (i, c) in t.containers.iter_mut().enumerate() {
            c.runtime_id = Some(format!("{id}-{}", rid_for(&rid, i)));
            if c.agent.is_some() {
                c.agent = Some(if broken && i == 0 {
                    AgentState::Stopped
                } else {
                    AgentState::Running
                });
                c.agent_started_at = Some(now + 1_500);
            }
        }
        let fate_at = match fault {
            Fault::CrashOnBoot => Some(now + self.rng.range(3_000, 15_000)),
            Fault::MemoryLeak => Some(now + self.rng.range(6 * 60_000, 13 * 60_000)),
            Fault::BadHealthPath => {
                let grace = service
                    .and_then(|s| self.services.get(s))
                    .map(|s| i64::from(s.grace_s) * 1000)
                    .unwrap_or(0);
                Some(now + grace + self.rng.range(30_000, 50_000))
            }
            _ => None,
        };
        if let Some(at) = fate_at {
            self.schedule(at, Ev::Fate(slot, serial));
        }
        if let Some(s) = service {
            self.schedule_reconcile(s, now + 500);
            self.schedule_reconcile(s, healthy + 500);
        }
    }

    /// A task's fault strikes while it runs.
    fn strike(&mut self, slot: usize) {
        let Some(t) = self.task(slot) else { return };
        if t.last != TaskStatus::Running || !t.desired_running {
            return;
        }
        let fault = self
            .task_defs
            .get(t.task_def)
            .map(|d| d.fault)
            .unwrap_or(Fault::None);
        match fault {
            Fault::CrashOnBoot => self.crash(slot, 1, None, EndCause::Crash),
            Fault::MemoryLeak => self.crash(
                slot,
                137,
                Some("OutOfMemoryError: Container killed due to memory usage".to_string()),
                EndCause::Oom,
            ),
            Fault::BadHealthPath => {
                let svc = t.service;
                let tg = svc
                    .and_then(|s| self.services.get(s))
                    .and_then(|s| s.target_group.clone())
                    .unwrap_or_default();
                let reason = format!("Task failed ELB health checks in (target-group {tg})");
                let id = t.id.clone();
                self.stop_task(
                    slot,
                    "ServiceSchedulerInitiated",
                    reason,
                    EndCause::ElbHealth,
                );
                if let Some(s) = svc {
                    let name = self
                        .services
                        .get(s)
                        .map(|x| x.name.clone())
                        .unwrap_or_default();
                    self.event(s, format!("(service {name}) (task {id}) failed ELB health checks in (target-group {tg})."));
                    self.count_failure(slot);
                }
            }
            _ => {}
        }
    }

    fn move_to_stopped(&mut self, slot: usize) {
        let Some(t) = self.task_mut(slot) else { return };
        t.desired_running = false;
        let (id, c, s) = (t.id.clone(), t.cluster, t.service);
        if let Some(cl) = self.clusters.get_mut(c) {
            cl.tasks_live.remove(&id);
            cl.tasks_stopped.insert(id.clone(), slot);
        }
        if let Some(svc) = s.and_then(|s| self.services.get_mut(s)) {
            svc.tasks_live.remove(&id);
            svc.tasks_stopped.insert(id, slot);
            svc.steady = false;
        }
    }

    /// Graceful stop (user, scheduler, Spot, failed health checks).
    pub(crate) fn stop_task(
        &mut self,
        slot: usize,
        code: &'static str,
        reason: String,
        cause: EndCause,
    ) {
        let now = self.now;
        let Some(t) = self.task(slot) else { return };
        if !t.desired_running {
            return;
        }
        let serial = t.serial;
        let service = t.service;
        self.move_to_stopped(slot);
        let next = now + self.rng.range(1_000, 6_000);
        if let Some(t) = self.task_mut(slot) {
            t.stopping_at = Some(now);
            t.stop_code = Some(code);
            t.stopped_reason = Some(reason);
            t.end = Some(cause);
            t.last = TaskStatus::Deactivating;
            t.version += 1;
        }
        self.schedule(next, Ev::Task(slot, serial));
        if let Some(s) = service {
            let at = now + self.rng.range(5_000, 15_000);
            self.schedule_reconcile(s, at);
        }
    }

    /// The essential container exited on its own.
    pub(crate) fn crash(
        &mut self,
        slot: usize,
        exit: i32,
        reason: Option<String>,
        cause: EndCause,
    ) {
        let now = self.now;
        let Some(t) = self.task(slot) else { return };
        if !t.desired_running {
            return;
        }
        let td = t.task_def;
        let serial = t.serial;
        let app_idx = self
            .task_defs
            .get(td)
            .and_then(|d| d.containers.iter().position(|c| c.app))
            .unwrap_or(0);
        self.move_to_stopped(slot);
        if let Some(t) = self.task_mut(slot) {
            t.stopping_at = Some(now);
            t.execution_stopped_at = Some(now);
            t.stop_code = Some("EssentialContainerExited");
            t.stopped_reason = Some("Essential container in task exited".to_string());
            t.end = Some(cause);
            t.last = TaskStatus::Deactivating;
            t.version += 1;
            for (i, c) in t.containers.iter_mut().enumerate() {
                if i == app_idx {
                    c.exit_code = Some(exit);
                    c.reason = reason.clone();
                }
            }
        }
        let next = now + self.rng.range(500, 3_000);
        self.schedule(next, Ev::Task(slot, serial));
        self.count_failure(slot);
    }

    fn fail_to_start(&mut self, slot: usize, reason: String) {
        let now = self.now;
        let Some(t) = self.task(slot) else { return };
        let serial = t.serial;
        self.move_to_stopped(slot);
        if let Some(t) = self.task_mut(slot) {
            t.stopping_at = Some(now);
            t.execution_stopped_at = Some(now);
            t.stop_code = Some("TaskFailedToStart");
            t.stopped_reason = Some(reason.clone());
            t.end = Some(EndCause::FailedToStart);
            t.last = TaskStatus::Deprovisioning;
            t.version += 1;
            for c in t.containers.iter_mut() {
                c.reason = Some(reason.clone());
            }
        }
        let next = now + self.rng.range(5_000, 15_000);
        self.schedule(next, Ev::Task(slot, serial));
        self.count_failure(slot);
    }

    fn purge(&mut self, slot: usize) {
        let Some(Some(t)) = self.tasks.get_mut(slot).map(Option::take) else {
            return;
        };
        self.task_by_id.remove(&t.id);
        if let Some(c) = self.clusters.get_mut(t.cluster) {
            c.tasks_stopped.remove(&t.id);
            c.tasks_live.remove(&t.id);
        }
        if let Some(svc) = t.service.and_then(|s| self.services.get_mut(s)) {
            svc.tasks_stopped.remove(&t.id);
            svc.tasks_live.remove(&t.id);
        }
        self.free_slots.push(slot);
    }

    fn secret_error(&self, td: usize) -> String {
        let (name, arn) = self
            .task_defs
            .get(td)
            .and_then(|d| d.secrets.last().cloned())
            .unwrap_or_default();
        let _ = name;
        format!(
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret {arn} from secrets manager: operation error Secrets Manager: GetSecretValue, https response error StatusCode: 400, RequestID: 6f9a2a7e-5f1c-4d0e-9d7b-2f1c0e8b7a11, api error AccessDeniedException: User: arn:aws:sts::{}:assumed-role/ecsTaskExecutionRole/{} is not authorized to perform: secretsmanager:GetSecretValue on resource: {arn} because no identity-based policy allows the secretsmanager:GetSecretValue action",
            self.account, "b2c9f0e14d7a4e0f9b1c3d5e7f901234"
        )
    }

    fn image_error(&self, td: usize) -> String {
        let image = self
            .task_defs
            .get(td)
            .and_then(|d| d.containers.iter().find(|c| c.app).map(|c| c.image.clone()))
            .unwrap_or_default();
        format!(
            "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref {image}: {image}: not found"
        )
    }
}

/// Runtime ids differ per container of one task.
fn rid_for(digits: &str, i: usize) -> String {
    let mut s = digits.to_string();
    if i > 0 {
        s.push_str(&i.to_string());
        s.remove(0);
    }
    s
}

/// Spread launches over a capacity provider strategy: `base` first, then by weight.
fn pick_provider(strategy: &[CapacityItem], n: u64) -> &'static str {
    let Some(first) = strategy.first() else {
        return "FARGATE";
    };
    if n < first.base.max(0) as u64 {
        return first.provider;
    }
    let total: i64 = strategy.iter().map(|c| i64::from(c.weight.max(0))).sum();
    if total <= 0 {
        return first.provider;
    }
    let mut k = (n as i64) % total;
    for c in strategy {
        let w = i64::from(c.weight.max(0));
        if k < w {
            return c.provider;
        }
        k -= w;
    }
    first.provider
}
