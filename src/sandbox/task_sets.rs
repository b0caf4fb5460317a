//! A service deployed by an EXTERNAL controller: `ledger-api` in `staging` runs task sets, not
//! ECS deployments. Its blue set (the revision in service) is PRIMARY at 100%; its green set
//! (the next revision, registered by the controller) is ACTIVE at 0%, waiting for traffic.
//! DescribeServices answers `deploymentController: EXTERNAL`, no `deployments` and the
//! `taskSets`; DescribeTaskSets answers them on their own.
//!
//! Inside the simulator the blue set's tasks are kept by the service's scheduler as any
//! service's are (the blue set id is the deployment id they are started by).

use serde_json::{Value, json};

use super::ecs::{cluster_idx, service_idx};
use super::model::{Ms, TaskStatus};
use super::sim::Sim;
use super::wire::{ApiError, ApiResult, secs, str_arg, str_list};

/// The EXTERNAL service of the demo fleet.
pub(crate) const SERVICE: (&str, &str) = ("staging", "ledger-api");

#[derive(Debug, Clone)]
pub(crate) struct SimTaskSet {
    pub id: String,
    pub external_id: String,
    pub primary: bool,
    /// Percent of the service's desired count.
    pub scale: f64,
    pub task_def: usize,
    pub created_at: Ms,
    pub updated_at: Ms,
    pub stability_at: Ms,
}

impl Sim {
    /// How many services `build_fleet` made: the EXTERNAL one is added after them, and the
    /// noise picks among these only, so every seed's noise stays what it was.
    pub(crate) fn fleet_services(&self) -> usize {
        self.services.len() - self.task_sets.len()
    }

    /// Add the EXTERNAL service and its blue and green task sets (if `staging` exists).
    pub(crate) fn setup_task_sets(&mut self) {
        self.with_jobs_rng(Sim::add_external_service);
    }

    fn add_external_service(&mut self) {
        let (cluster, name) = SERVICE;
        let Some(&c) = self.cluster_by_name.get(cluster) else {
            return;
        };
        self.add_service(c, name, 2);
        let Some(&s) = self.clusters.get(c).and_then(|cl| cl.services.get(name)) else {
            return;
        };
        let Some((blue_id, blue_td, created)) = self
            .services
            .get(s)
            .and_then(|svc| svc.deployments.first())
            .map(|d| (d.id.clone(), d.task_def, d.created_at))
        else {
            return;
        };
        // The controller registered the next revision for green twenty minutes ago.
        let green_at = self.t0 - 20 * 60_000;
        let Some(mut green) = self.task_defs.get(blue_td).cloned() else {
            return;
        };
        green.revision += 1;
        green.arn = format!(
            "arn:aws:ecs:{}:{}:task-definition/{}:{}",
            self.region, self.account, green.family, green.revision
        );
        green.registered_at = green_at - 60_000;
        green.version = format!("{}-green", green.version);
        let green_td = self.task_defs.len();
        self.td_by_arn.insert(green.arn.clone(), green_td);
        self.families
            .entry(green.family.clone())
            .or_default()
            .push(green_td);
        self.task_defs.push(green);
        let green_id = format!("ecs-svc/{}", self.rng.digits(19));
        self.task_sets.insert(
            s,
            vec![
                SimTaskSet {
                    id: blue_id,
                    external_id: "blue".into(),
                    primary: true,
                    scale: 100.0,
                    task_def: blue_td,
                    created_at: created,
                    updated_at: created + 240_000,
                    stability_at: created + 240_000,
                },
                SimTaskSet {
                    id: green_id,
                    external_id: "green".into(),
                    primary: false,
                    scale: 0.0,
                    task_def: green_td,
                    created_at: green_at,
                    updated_at: green_at,
                    stability_at: green_at,
                },
            ],
        );
    }
}

/// The service's `taskSets` as ECS sends them.
fn task_sets_json(sim: &Sim, s: usize) -> Vec<Value> {
    let (Some(svc), Some(sets)) = (sim.services.get(s), sim.task_sets.get(&s)) else {
        return Vec::new();
    };
    let cluster_arn = sim
        .clusters
        .get(svc.cluster)
        .map(|c| c.arn.clone())
        .unwrap_or_default();
    let cluster_name = sim
        .clusters
        .get(svc.cluster)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    sets.iter()
        .map(|t| {
            let (mut running, mut pending) = (0, 0);
            for &slot in svc.tasks_live.values() {
                if let Some(task) = sim.task(slot).filter(|task| task.started_by == t.id) {
                    if task.last == TaskStatus::Running {
                        running += 1;
                    } else if task.last < TaskStatus::Running {
                        pending += 1;
                    }
                }
            }
            let desired = (f64::from(svc.desired) * t.scale / 100.0).ceil() as i32;
            let steady = running == desired && pending == 0;
            json!({
                "id": t.id,
                "taskSetArn": format!(
                    "arn:aws:ecs:{}:{}:task-set/{}/{}/{}",
                    sim.region, sim.account, cluster_name, svc.name, t.id
                ),
                "serviceArn": svc.arn,
                "clusterArn": cluster_arn,
                "startedBy": "ledger-deployer",
                "externalId": t.external_id,
                "status": if t.primary { "PRIMARY" } else { "ACTIVE" },
                "taskDefinition": sim.task_defs.get(t.task_def).map(|d| d.arn.clone()),
                "computedDesiredCount": desired,
                "pendingCount": pending,
                "runningCount": running,
                "createdAt": secs(t.created_at),
                "updatedAt": secs(t.updated_at),
                "launchType": "FARGATE",
                "platformVersion": "1.4.0",
                "platformFamily": "Linux",
                "loadBalancers": [],
                "serviceRegistries": [],
                "scale": {"value": t.scale, "unit": "PERCENT"},
                "stabilityStatus": if steady { "STEADY_STATE" } else { "STABILIZING" },
                "stabilityStatusAt": secs(t.stability_at),
                "tags": [],
            })
        })
        .collect()
}

/// DescribeServices of a service with task sets: EXTERNAL, no deployments, its task sets.
pub(crate) fn decorate(sim: &Sim, s: usize, service: &mut Value) {
    if !sim.task_sets.contains_key(&s) {
        return;
    }
    service["deploymentController"] = json!({"type": "EXTERNAL"});
    service["deployments"] = json!([]);
    service["taskSets"] = Value::Array(task_sets_json(sim, s));
}

/// DescribeTaskSets: the service's task sets, all or those named (ids or ARNs).
pub(crate) fn describe_task_sets(sim: &Sim, v: &Value) -> ApiResult {
    let c = cluster_idx(sim, v)?;
    let name = str_arg(v, "service").ok_or_else(|| ApiError::invalid("service is required"))?;
    let s = service_idx(sim, c, name).ok_or_else(ApiError::service_not_found)?;
    let wanted = str_list(v, "taskSets")?;
    let sets = task_sets_json(sim, s);
    if !sim.task_sets.contains_key(&s) {
        return Err(ApiError::invalid(
            "The service's deployment controller is ECS: it has no task sets.",
        ));
    }
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for set in sets {
        let id = set["id"].as_str().unwrap_or_default();
        let arn = set["taskSetArn"].as_str().unwrap_or_default();
        if wanted.is_empty() || wanted.iter().any(|w| w == id || w == arn) {
            found.push(set);
        }
    }
    for w in &wanted {
        if !found
            .iter()
            .any(|f| f["id"].as_str() == Some(w) || f["taskSetArn"].as_str() == Some(w))
        {
            failures.push(json!({"arn": w, "reason": "MISSING"}));
        }
    }
    Ok(json!({"taskSets": found, "failures": failures}))
}
