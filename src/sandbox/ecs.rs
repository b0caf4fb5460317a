//! ECS operations (AWS JSON 1.1, `AmazonEC2ContainerServiceV20141113.<Op>`).
//!
//! Page sizes and batch limits follow the API model: ListClusters/ListTasks/
//! ListTaskDefinitions default 100, ListServices default 10, all at most 100;
//! DescribeClusters 100, DescribeServices 10, DescribeTasks 100 per call.

use std::ops::Bound;

use serde_json::{Value, json};

use super::ecs_json::{cluster_json, service_json, task_def_json, task_json};
use super::model::*;
use super::server::Shared;
use super::sim::Sim;
use super::wire::*;

pub(crate) fn handle(shared: &Shared, op: &str, v: &Value) -> ApiResult {
    let mut sim = shared.sim();
    let sim = &mut *sim;
    match op {
        "ListClusters" => list_clusters(sim, v),
        "DescribeClusters" => describe_clusters(sim, v),
        "ListServices" => list_services(sim, v),
        "DescribeServices" => describe_services(sim, v),
        "DescribeTaskSets" => super::task_sets::describe_task_sets(sim, v),
        "ListContainerInstances" => super::instances::list_container_instances(sim, v),
        "DescribeContainerInstances" => super::instances::describe_container_instances(sim, v),
        "UpdateService" => update_service(sim, v),
        "ListTasks" => list_tasks(sim, v),
        "DescribeTasks" => describe_tasks(sim, v),
        "StopTask" => stop_task(sim, v),
        "ListTaskDefinitions" => list_task_definitions(sim, v),
        "DescribeTaskDefinition" => describe_task_definition(sim, v),
        "ListServiceDeployments" => super::history_json::list(sim, v),
        "DescribeServiceDeployments" => super::history_json::describe(sim, v),
        "DescribeServiceRevisions" => super::history_json::describe_revisions(sim, v),
        "StopServiceDeployment" => super::history_json::stop(sim, v),
        "ExecuteCommand" => super::ssm::execute_command(shared, sim, v),
        _ => Err(ApiError::unknown_operation(op)),
    }
}

/// Last path segment of an ARN, or the value itself.
fn short_name(s: &str) -> &str {
    if s.starts_with("arn:") {
        s.rsplit('/').next().unwrap_or(s)
    } else {
        s
    }
}

pub(crate) fn cluster_idx(sim: &Sim, v: &Value) -> Result<usize, ApiError> {
    let name = str_arg(v, "cluster").unwrap_or("default");
    let name = if name.starts_with("arn:") {
        name.split('/').nth(1).unwrap_or(name)
    } else {
        name
    };
    sim.cluster_by_name
        .get(name)
        .copied()
        .ok_or_else(ApiError::cluster_not_found)
}

pub(crate) fn service_idx(sim: &Sim, c: usize, name: &str) -> Option<usize> {
    if name.starts_with("arn:") {
        // long ARN: service/<cluster>/<name>; short (old) ARN: service/<name>
        let parts: Vec<&str> = name
            .split_once(":service/")
            .map(|x| x.1)
            .unwrap_or("")
            .split('/')
            .collect();
        let (cl, svc) = match parts.as_slice() {
            [cl, svc] => (Some(*cl), *svc),
            [svc] => (None, *svc),
            _ => return None,
        };
        if let Some(cl) = cl
            && sim.clusters.get(c).is_none_or(|x| x.name != cl)
        {
            return None;
        }
        sim.clusters.get(c)?.services.get(svc).copied()
    } else {
        sim.clusters.get(c)?.services.get(name).copied()
    }
}

fn include(v: &Value, what: &str) -> Result<bool, ApiError> {
    Ok(str_list(v, "include")?.iter().any(|i| i == what))
}

fn list_clusters(sim: &Sim, v: &Value) -> ApiResult {
    let max = page_size(v, "maxResults", 100, 100)?;
    let after = opt_token(v, "nextToken")?;
    let mut names: Vec<&String> = sim.cluster_by_name.keys().collect();
    names.sort();
    let start = after
        .map(|a| names.partition_point(|n| n.as_str() <= a.as_str()))
        .unwrap_or(0);
    let page: Vec<&String> = names.iter().skip(start).take(max).copied().collect();
    let arns: Vec<String> = page
        .iter()
        .filter_map(|n| {
            sim.cluster_by_name
                .get(*n)
                .and_then(|&c| sim.clusters.get(c))
                .map(|c| c.arn.clone())
        })
        .collect();
    let mut out = json!({"clusterArns": arns});
    if start + page.len() < names.len()
        && let Some(last) = page.last()
    {
        out["nextToken"] = json!(encode_token(last));
    }
    Ok(out)
}

fn describe_clusters(sim: &Sim, v: &Value) -> ApiResult {
    let mut wanted = str_list(v, "clusters")?;
    if wanted.is_empty() {
        wanted.push("default".to_string());
    }
    if wanted.len() > 100 {
        return Err(ApiError::invalid("clusters can have at most 100 items."));
    }
    let stats = include(v, "STATISTICS")?;
    let settings = include(v, "SETTINGS")?;
    let configurations = include(v, "CONFIGURATIONS")?;
    let mut clusters = Vec::new();
    let mut failures = Vec::new();
    for w in &wanted {
        let name = if w.starts_with("arn:") {
            w.split('/').nth(1).unwrap_or(w)
        } else {
            w.as_str()
        };
        match sim.cluster_by_name.get(name) {
            Some(&c) => {
                let mut cj = cluster_json(sim, c, stats, settings);
                if configurations {
                    cj["configuration"] = super::ecs_json::exec_configuration_json(sim, c);
                }
                clusters.push(cj)
            }
            None => {
                let arn = if w.starts_with("arn:") {
                    w.clone()
                } else {
                    format!("arn:aws:ecs:{}:{}:cluster/{}", sim.region, sim.account, w)
                };
                failures.push(json!({"arn": arn, "reason": "MISSING"}));
            }
        }
    }
    Ok(json!({"clusters": clusters, "failures": failures}))
}

fn list_services(sim: &Sim, v: &Value) -> ApiResult {
    let c = cluster_idx(sim, v)?;
    let max = page_size(v, "maxResults", 10, 100)?;
    let after = opt_token(v, "nextToken")?;
    let Some(cl) = sim.clusters.get(c) else {
        return Err(ApiError::cluster_not_found());
    };
    let lower = match &after {
        Some(a) => Bound::Excluded(a.clone()),
        None => Bound::Unbounded,
    };
    let mut it = cl.services.range((lower, Bound::Unbounded));
    let mut arns = Vec::new();
    let mut last = None;
    for (name, &s) in it.by_ref().take(max) {
        if let Some(svc) = sim.services.get(s) {
            arns.push(svc.arn.clone());
        }
        last = Some(name.clone());
    }
    let mut out = json!({"serviceArns": arns});
    if it.next().is_some()
        && let Some(last) = last
    {
        out["nextToken"] = json!(encode_token(&last));
    }
    Ok(out)
}

fn describe_services(sim: &Sim, v: &Value) -> ApiResult {
    let c = cluster_idx(sim, v)?;
    let wanted = str_list(v, "services")?;
    if wanted.is_empty() {
        return Err(ApiError::invalid("Services cannot be empty."));
    }
    if wanted.len() > 10 {
        return Err(ApiError::invalid("services can have at most 10 items."));
    }
    let cname = sim
        .clusters
        .get(c)
        .map(|x| x.name.clone())
        .unwrap_or_default();
    let mut services = Vec::new();
    let mut failures = Vec::new();
    for w in &wanted {
        match service_idx(sim, c, w) {
            Some(s) => services.push(service_json(sim, s)),
            None => {
                let arn = if w.starts_with("arn:") {
                    w.clone()
                } else {
                    format!(
                        "arn:aws:ecs:{}:{}:service/{}/{}",
                        sim.region, sim.account, cname, w
                    )
                };
                failures.push(json!({"arn": arn, "reason": "MISSING"}));
            }
        }
    }
    Ok(json!({"services": services, "failures": failures}))
}

pub(crate) fn find_task_def(sim: &Sim, name: &str) -> Option<usize> {
    if let Some(&i) = sim.td_by_arn.get(name) {
        return Some(i);
    }
    let short = if name.starts_with("arn:") {
        name.rsplit('/').next().unwrap_or(name)
    } else {
        name
    };
    match short.split_once(':') {
        Some((family, rev)) => {
            let rev: i32 = rev.parse().ok()?;
            sim.families
                .get(family)?
                .iter()
                .copied()
                .find(|&i| sim.task_defs.get(i).is_some_and(|d| d.revision == rev))
        }
        None => sim.families.get(short)?.last().copied(),
    }
}

fn update_service(sim: &mut Sim, v: &Value) -> ApiResult {
    let c = cluster_idx(sim, v)?;
    let name =
        str_arg(v, "service").ok_or_else(|| ApiError::invalid("Service cannot be empty."))?;
    let s = service_idx(sim, c, name).ok_or_else(ApiError::service_not_found)?;
    let desired = match int_arg(v, "desiredCount")? {
        Some(d) if !(0..=5000).contains(&d) => {
            return Err(ApiError::invalid(
                "desiredCount must be between 0 and 5000.",
            ));
        }
        d => d.map(|d| d as i32),
    };
    let td = match str_arg(v, "taskDefinition") {
        Some(t) => Some(
            find_task_def(sim, t).ok_or_else(|| ApiError::invalid("TaskDefinition not found."))?,
        ),
        None => None,
    };
    if let Some(svc) = sim.services.get_mut(s) {
        if let Some(dc) = v.get("deploymentConfiguration") {
            if let Ok(Some(m)) = int_arg(dc, "maximumPercent") {
                svc.max_pct = m.clamp(100, 200) as i32;
            }
            if let Ok(Some(m)) = int_arg(dc, "minimumHealthyPercent") {
                svc.min_pct = m.clamp(0, 100) as i32;
            }
            if let Some(cb) = dc.get("deploymentCircuitBreaker") {
                svc.breaker = bool_arg(cb, "enable").unwrap_or(svc.breaker);
                svc.rollback = bool_arg(cb, "rollback").unwrap_or(svc.rollback);
            }
        }
        if let Some(e) = bool_arg(v, "enableExecuteCommand") {
            svc.exec = e;
        }
        if let Ok(Some(g)) = int_arg(v, "healthCheckGracePeriodSeconds") {
            svc.grace_s = g.clamp(0, 2_147_483_647) as i32;
        }
    }
    let force = bool_arg(v, "forceNewDeployment").unwrap_or(false);
    sim.update_service(s, desired, td, force);
    Ok(json!({"service": service_json(sim, s)}))
}

fn list_tasks(sim: &Sim, v: &Value) -> ApiResult {
    let c = cluster_idx(sim, v)?;
    let max = page_size(v, "maxResults", 100, 100)?;
    let after = opt_token(v, "nextToken")?;
    let desired = str_arg(v, "desiredStatus").unwrap_or("RUNNING");
    if !matches!(desired, "RUNNING" | "PENDING" | "STOPPED") {
        return Err(ApiError::invalid(format!(
            "Invalid desiredStatus: {desired}"
        )));
    }
    let family = str_arg(v, "family");
    let started_by = str_arg(v, "startedBy");
    let Some(cl) = sim.clusters.get(c) else {
        return Err(ApiError::cluster_not_found());
    };
    let index = match str_arg(v, "serviceName") {
        Some(name) => {
            let s = service_idx(sim, c, name).ok_or_else(ApiError::service_not_found)?;
            let svc = sim
                .services
                .get(s)
                .ok_or_else(ApiError::service_not_found)?;
            if desired == "STOPPED" {
                &svc.tasks_stopped
            } else {
                &svc.tasks_live
            }
        }
        None if desired == "STOPPED" => &cl.tasks_stopped,
        None => &cl.tasks_live,
    };
    let lower = match &after {
        Some(a) => Bound::Excluded(a.clone()),
        None => Bound::Unbounded,
    };
    let mut arns = Vec::new();
    let mut last = None;
    let mut more = false;
    for (id, &slot) in index.range((lower, Bound::Unbounded)) {
        let Some(t) = sim.task(slot) else { continue };
        if desired == "PENDING" && t.last >= TaskStatus::Running {
            continue;
        }
        if let Some(f) = family
            && sim.task_defs.get(t.task_def).is_none_or(|d| d.family != f)
        {
            continue;
        }
        if started_by.is_some_and(|sb| sb != t.started_by) {
            continue;
        }
        if arns.len() == max {
            more = true;
            break;
        }
        arns.push(t.arn.clone());
        last = Some(id.clone());
    }
    let mut out = json!({"taskArns": arns});
    if more && let Some(last) = last {
        out["nextToken"] = json!(encode_token(&last));
    }
    Ok(out)
}

fn describe_tasks(sim: &Sim, v: &Value) -> ApiResult {
    let c = cluster_idx(sim, v)?;
    let wanted = str_list(v, "tasks")?;
    if wanted.is_empty() {
        return Err(ApiError::invalid("Tasks cannot be empty."));
    }
    if wanted.len() > 100 {
        return Err(ApiError::invalid("tasks can have at most 100 items."));
    }
    let mut tasks = Vec::new();
    let mut failures = Vec::new();
    for w in &wanted {
        let id = short_name(w);
        match sim
            .task_by_id
            .get(id)
            .copied()
            .filter(|&slot| sim.task(slot).is_some_and(|t| t.cluster == c))
        {
            Some(slot) => tasks.push(task_json(sim, slot)),
            None => {
                let cname = sim.clusters.get(c).map(|x| x.name.as_str()).unwrap_or("");
                let arn = if w.starts_with("arn:") {
                    w.clone()
                } else {
                    format!(
                        "arn:aws:ecs:{}:{}:task/{}/{}",
                        sim.region, sim.account, cname, w
                    )
                };
                failures.push(json!({"arn": arn, "reason": "MISSING"}));
            }
        }
    }
    Ok(json!({"tasks": tasks, "failures": failures}))
}

pub(crate) fn task_slot(sim: &Sim, c: usize, task: &str) -> Result<usize, ApiError> {
    let id = short_name(task);
    sim.task_by_id
        .get(id)
        .copied()
        .filter(|&slot| sim.task(slot).is_some_and(|t| t.cluster == c))
        .ok_or_else(|| ApiError::invalid("The referenced task was not found."))
}

fn stop_task(sim: &mut Sim, v: &Value) -> ApiResult {
    let c = cluster_idx(sim, v)?;
    let task = str_arg(v, "task").ok_or_else(|| ApiError::invalid("Task cannot be empty."))?;
    let slot = task_slot(sim, c, task)?;
    let reason = str_arg(v, "reason")
        .filter(|r| !r.is_empty())
        .unwrap_or("Task stopped by user");
    if reason.len() > 255 {
        return Err(ApiError::invalid("Reason must be at most 255 characters."));
    }
    sim.stop_task(slot, "UserInitiated", reason.to_string(), EndCause::User);
    Ok(json!({"task": task_json(sim, slot)}))
}

fn list_task_definitions(sim: &Sim, v: &Value) -> ApiResult {
    let max = page_size(v, "maxResults", 100, 100)?;
    let after = opt_token(v, "nextToken")?;
    let prefix = str_arg(v, "familyPrefix").unwrap_or("");
    let status = str_arg(v, "status").unwrap_or("ACTIVE");
    if status == "INACTIVE" || status == "DELETE_IN_PROGRESS" {
        return Ok(json!({"taskDefinitionArns": []}));
    }
    let desc = str_arg(v, "sort") == Some("DESC");
    let mut all: Vec<&String> = sim
        .families
        .range(prefix.to_string()..)
        .take_while(|(f, _)| f.starts_with(prefix))
        .flat_map(|(_, tds)| {
            tds.iter()
                .filter_map(|&i| sim.task_defs.get(i).map(|d| &d.arn))
        })
        .collect();
    if desc {
        all.reverse();
    }
    let start: usize = match after {
        Some(a) => a
            .parse()
            .map_err(|_| ApiError::invalid("Invalid nextToken."))?,
        None => 0,
    };
    let page: Vec<&String> = all.iter().skip(start).take(max).copied().collect();
    let mut out = json!({"taskDefinitionArns": page});
    if start + max < all.len() {
        out["nextToken"] = json!(encode_token(&(start + max).to_string()));
    }
    Ok(out)
}

fn describe_task_definition(sim: &Sim, v: &Value) -> ApiResult {
    let name = str_arg(v, "taskDefinition")
        .ok_or_else(|| ApiError::invalid("TaskDefinition cannot be empty."))?;
    let td = find_task_def(sim, name)
        .ok_or_else(|| ApiError::new("ClientException", "Unable to describe task definition."))?;
    Ok(json!({"taskDefinition": task_def_json(sim, td), "tags": []}))
}
