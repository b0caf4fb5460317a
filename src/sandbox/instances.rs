//! EC2 container instances, for the no-capacity drill: the `batch-ec2` cluster runs its
//! service on two instances; tasks are placed first-fit by memory and CPU, and a task that
//! fits nowhere is not started: the service gets ECS's "was unable to place a task" event (at
//! most one per [`PLACEMENT_EVENT_EVERY_MS`]) and its running count stays below desired.
//! Serves ListContainerInstances and DescribeContainerInstances.

use serde_json::{Value, json};

use super::model::{Instance, Ms, TaskStatus};
use super::sim::Sim;
use super::wire::*;

/// The drill's cluster and service.
pub(crate) const CLUSTER: &str = "batch-ec2";
pub(crate) const SERVICE: &str = "report-generator";

/// How often the scheduler repeats that it cannot place a task.
const PLACEMENT_EVENT_EVERY_MS: Ms = 3 * 60_000;

/// The ECS agent the instances report.
const AGENT_VERSION: &str = "1.89.2";

impl Sim {
    /// `batch-ec2` with two m5.large instances and `report-generator` (5 tasks of 2 GiB) on
    /// them; the drill later asks for 8, and 2 do not fit.
    pub(crate) fn add_ec2_cluster(&mut self) {
        self.add_cluster(CLUSTER);
        let Some(&c) = self.cluster_by_name.get(CLUSTER) else {
            return;
        };
        let azs: Vec<String> = self
            .clusters
            .get(c)
            .map(|cl| cl.subnets.iter().map(|s| s.az.clone()).collect())
            .unwrap_or_default();
        for n in 0..2 {
            let instance = Instance {
                id: self.rng.hex(32),
                ec2_id: format!("i-0{}", self.rng.hex(16)),
                instance_type: "m5.large",
                az: azs.get(n % azs.len().max(1)).cloned().unwrap_or_default(),
                cpu: 2048,
                memory: 7680,
                registered_at: self.now - self.rng.range(2, 20) * 86_400_000,
            };
            if let Some(cl) = self.clusters.get_mut(c) {
                cl.instances.push(instance);
            }
        }
        self.add_service(c, SERVICE, 5);
        let Some(s) = self.find_service(CLUSTER, SERVICE) else {
            return;
        };
        if let Some(svc) = self.services.get_mut(s) {
            svc.capacity.clear();
        }
        let td = self
            .services
            .get(s)
            .and_then(|svc| svc.deployments.first())
            .map(|d| d.task_def);
        if let Some(d) = td.and_then(|td| self.task_defs.get_mut(td)) {
            d.memory = 2048;
            d.cpu = 512;
        }
        // the first tasks started before the revision's size was set: place them again
        let live: Vec<usize> = self
            .services
            .get(s)
            .map(|svc| svc.tasks_live.values().copied().collect())
            .unwrap_or_default();
        for &slot in &live {
            if let Some(Some(t)) = self.tasks.get_mut(slot) {
                t.instance = None;
            }
        }
        for slot in live {
            let Some(t) = self.task(slot) else { continue };
            let placed = self.place(c, t.task_def).ok();
            if let Some(Some(t)) = self.tasks.get_mut(slot) {
                t.instance = placed;
            }
        }
    }

    /// (CPU units, MiB) in use on instance `i` of cluster `c`, and its running and pending
    /// tasks.
    pub(crate) fn instance_usage(&self, c: usize, i: usize) -> (i64, i64, i32, i32) {
        let Some(cl) = self.clusters.get(c) else {
            return (0, 0, 0, 0);
        };
        let (mut cpu, mut mem, mut running, mut pending) = (0, 0, 0, 0);
        for &slot in cl.tasks_live.values() {
            let Some(t) = self.task(slot) else { continue };
            if t.instance != Some(i) || t.last == TaskStatus::Stopped {
                continue;
            }
            if let Some(d) = self.task_defs.get(t.task_def) {
                cpu += i64::from(d.cpu);
                mem += i64::from(d.memory);
            }
            if t.last == TaskStatus::Running {
                running += 1;
            } else {
                pending += 1;
            }
        }
        (cpu, mem, running, pending)
    }

    /// The instance a task of `td` fits on in cluster `c` (first fit), or the closest one and
    /// what it lacks.
    pub(crate) fn place(&self, c: usize, td: usize) -> Result<usize, (usize, &'static str)> {
        let (cpu, mem) = self
            .task_defs
            .get(td)
            .map(|d| (i64::from(d.cpu), i64::from(d.memory)))
            .unwrap_or((0, 0));
        let count = self.clusters.get(c).map_or(0, |cl| cl.instances.len());
        let mut closest = (0, "insufficient memory", i64::MIN);
        for i in 0..count {
            let Some(inst) = self.clusters.get(c).and_then(|cl| cl.instances.get(i)) else {
                continue;
            };
            let (used_cpu, used_mem, _, _) = self.instance_usage(c, i);
            let (free_cpu, free_mem) = (inst.cpu - used_cpu, inst.memory - used_mem);
            if free_cpu >= cpu && free_mem >= mem {
                return Ok(i);
            }
            if free_mem > closest.2 {
                let lack = if free_mem < mem {
                    "insufficient memory"
                } else {
                    "insufficient CPU units"
                };
                closest = (i, lack, free_mem);
            }
        }
        Err((closest.0, closest.1))
    }

    /// A task of service `s` could not be placed: say so, as ECS does, now and then.
    pub(crate) fn placement_failed(&mut self, s: usize, closest: usize, lack: &str) {
        let now = self.now;
        let Some(svc) = self.services.get(s) else {
            return;
        };
        if svc
            .placement_failed_at
            .is_some_and(|t| now - t < PLACEMENT_EVENT_EVERY_MS)
        {
            return;
        }
        let name = svc.name.clone();
        let id = self
            .clusters
            .get(svc.cluster)
            .and_then(|cl| cl.instances.get(closest))
            .map(|i| i.id.clone())
            .unwrap_or_default();
        if let Some(svc) = self.services.get_mut(s) {
            svc.placement_failed_at = Some(now);
        }
        // the scheduler keeps trying (and saying so) while tasks are missing
        self.schedule_reconcile(s, now + PLACEMENT_EVENT_EVERY_MS);
        self.event(
            s,
            format!(
                "(service {name}) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance {id}) has {lack} available. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
            ),
        );
    }
}

fn instance_arn(sim: &Sim, cluster: &str, inst: &Instance) -> String {
    format!(
        "arn:aws:ecs:{}:{}:container-instance/{cluster}/{}",
        sim.region, sim.account, inst.id
    )
}

fn instance_json(sim: &Sim, c: usize, i: usize) -> Value {
    let Some(cl) = sim.clusters.get(c) else {
        return Value::Null;
    };
    let Some(inst) = cl.instances.get(i) else {
        return Value::Null;
    };
    let (cpu, mem, running, pending) = sim.instance_usage(c, i);
    let resources = |cpu: i64, mem: i64| {
        json!([
            {"name": "CPU", "type": "INTEGER", "integerValue": cpu, "doubleValue": 0.0, "longValue": 0},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": mem, "doubleValue": 0.0, "longValue": 0},
            {"name": "PORTS", "type": "STRINGSET", "stringSetValue": ["22", "2375", "2376", "51678", "51679"], "integerValue": 0, "doubleValue": 0.0, "longValue": 0},
        ])
    };
    json!({
        "containerInstanceArn": instance_arn(sim, &cl.name, inst),
        "ec2InstanceId": inst.ec2_id,
        "version": 4,
        "versionInfo": {"agentVersion": AGENT_VERSION, "agentHash": "a1b2c3d4", "dockerVersion": "DockerVersion: 25.0.8"},
        "remainingResources": resources(inst.cpu - cpu, inst.memory - mem),
        "registeredResources": resources(inst.cpu, inst.memory),
        "status": "ACTIVE",
        "agentConnected": true,
        "runningTasksCount": running,
        "pendingTasksCount": pending,
        "attributes": [
            {"name": "ecs.instance-type", "value": inst.instance_type},
            {"name": "ecs.availability-zone", "value": inst.az},
            {"name": "ecs.os-type", "value": "linux"},
            {"name": "ecs.cpu-architecture", "value": "x86_64"},
        ],
        "registeredAt": secs(inst.registered_at),
        "attachments": [],
        "tags": [],
    })
}

/// The ARN of instance `i` of cluster `c` (for a task's `containerInstanceArn`).
pub(crate) fn arn_of(sim: &Sim, c: usize, i: usize) -> Option<String> {
    let cl = sim.clusters.get(c)?;
    Some(instance_arn(sim, &cl.name, cl.instances.get(i)?))
}

pub(crate) fn list_container_instances(sim: &Sim, v: &Value) -> ApiResult {
    let c = super::ecs::cluster_idx(sim, v)?;
    let max = page_size(v, "maxResults", 100, 100)?;
    let after: usize = opt_token(v, "nextToken")?
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let count = sim.clusters.get(c).map_or(0, |cl| cl.instances.len());
    let end = (after + max).min(count);
    let arns: Vec<String> = (after..end).filter_map(|i| arn_of(sim, c, i)).collect();
    let mut out = json!({"containerInstanceArns": arns});
    if end < count {
        out["nextToken"] = json!(encode_token(&end.to_string()));
    }
    Ok(out)
}

pub(crate) fn describe_container_instances(sim: &Sim, v: &Value) -> ApiResult {
    let c = super::ecs::cluster_idx(sim, v)?;
    let wanted = str_list(v, "containerInstances")?;
    if wanted.is_empty() {
        return Err(ApiError::invalid("containerInstances cannot be empty."));
    }
    if wanted.len() > 100 {
        return Err(ApiError::invalid(
            "containerInstances can have at most 100 items.",
        ));
    }
    let count = sim.clusters.get(c).map_or(0, |cl| cl.instances.len());
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for w in wanted {
        let id = w.rsplit('/').next().unwrap_or(&w);
        let hit = (0..count).find(|&i| {
            sim.clusters
                .get(c)
                .and_then(|cl| cl.instances.get(i))
                .is_some_and(|inst| inst.id == id)
        });
        match hit {
            Some(i) => found.push(instance_json(sim, c, i)),
            None => failures.push(json!({"arn": w, "reason": "MISSING"})),
        }
    }
    Ok(json!({"containerInstances": found, "failures": failures}))
}
