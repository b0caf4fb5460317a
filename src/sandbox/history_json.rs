//! The wire side of the deployment history (`history.rs` keeps it): ListServiceDeployments,
//! DescribeServiceDeployments, DescribeServiceRevisions and StopServiceDeployment, in the
//! JSON shapes the SDK reads.

use serde_json::{Value, json};

use super::history::*;
use super::model::Ms;
use super::sim::Sim;
use super::wire::*;

/// StopServiceDeployment: ROLLBACK (the default) returns to the source revision; ABORT stops
/// where it is.
pub(crate) fn stop(sim: &mut Sim, v: &Value) -> ApiResult {
    let arn = str_arg(v, "serviceDeploymentArn")
        .ok_or_else(|| ApiError::invalid("serviceDeploymentArn cannot be empty."))?;
    let stop_type = str_arg(v, "stopType").unwrap_or("ROLLBACK");
    if !matches!(stop_type, "ROLLBACK" | "ABORT") {
        return Err(ApiError::invalid(format!("Invalid stopType: {stop_type}")));
    }
    let not_found = || {
        ApiError::new(
            "ServiceDeploymentNotFoundException",
            "The service deployment does not exist.",
        )
    };
    let (c, name, id) = parse_arn(arn, "service-deployment").ok_or_else(not_found)?;
    let s = service_of(sim, c, name).ok_or_else(not_found)?;
    let (failed, in_progress) = sim
        .services
        .get(s)
        .and_then(|x| x.history.iter().find(|r| r.id == id))
        .map(|r| {
            (
                r.deployments.first().cloned().unwrap_or_default(),
                r.status == Status::InProgress,
            )
        })
        .ok_or_else(not_found)?;
    if !in_progress {
        return Err(ApiError::new(
            "ConflictException",
            "The service deployment is not in progress.",
        ));
    }
    let reason = "Service deployment stopped by a user (StopServiceDeployment).";
    if stop_type == "ROLLBACK" {
        sim.roll_back(s, &failed, reason, "StopServiceDeployment");
    } else {
        let now = sim.now;
        if let Some(r) = sim
            .services
            .get_mut(s)
            .and_then(|x| x.history.iter_mut().find(|r| r.id == id))
        {
            r.status = Status::Stopped;
            r.stopped_at = Some(now);
            r.updated_at = now;
            r.reason = reason.into();
        }
    }
    Ok(json!({"serviceDeploymentArn": arn}))
}

fn summary(sim: &Sim, svc: &super::model::Service, rev: usize, r: &ServiceDeployment) -> Value {
    let Some(revision) = svc.revisions.get(rev) else {
        return Value::Null;
    };
    let (mut running, mut pending) = (0, 0);
    for &slot in svc.tasks_live.values() {
        if let Some(t) = sim.task(slot)
            && t.started_by == revision.deployment_id
        {
            if t.last == super::model::TaskStatus::Running {
                running += 1;
            } else {
                pending += 1;
            }
        }
    }
    let mut v = json!({
        "arn": revision.arn,
        "requestedTaskCount": svc.desired,
        "runningTaskCount": running,
        "pendingTaskCount": pending,
    });
    if rev == r.target {
        if let Some(w) = r.test_weight {
            v["requestedTestTrafficWeight"] = json!(w);
        }
        if let Some(w) = r.prod_weight {
            v["requestedProductionTrafficWeight"] = json!(w);
        }
    }
    v
}

fn record_json(sim: &Sim, s: usize, r: &ServiceDeployment, full: bool) -> Value {
    let Some(svc) = sim.services.get(s) else {
        return Value::Null;
    };
    let cluster_arn = sim
        .clusters
        .get(svc.cluster)
        .map(|c| c.arn.clone())
        .unwrap_or_default();
    let mut v = json!({
        "serviceDeploymentArn": r.arn,
        "serviceArn": svc.arn,
        "clusterArn": cluster_arn,
        "createdAt": secs(r.created_at),
        "startedAt": secs(r.created_at),
        "status": r.status.as_str(),
    });
    if !r.reason.is_empty() {
        v["statusReason"] = json!(r.reason);
    }
    if let Some(t) = r.finished_at {
        v["finishedAt"] = secs(t);
    }
    let target_arn = svc
        .revisions
        .get(r.target)
        .map(|x| x.arn.clone())
        .unwrap_or_default();
    if !full {
        v["targetServiceRevisionArn"] = json!(target_arn);
        return v;
    }
    if let Some(t) = r.stopped_at {
        v["stoppedAt"] = secs(t);
    }
    v["updatedAt"] = secs(r.updated_at);
    v["sourceServiceRevisions"] = r.source.iter().map(|&x| summary(sim, svc, x, r)).collect();
    v["targetServiceRevision"] = summary(sim, svc, r.target, r);
    let mut config = json!({
        "deploymentCircuitBreaker": {"enable": r.breaker, "rollback": svc.rollback},
        "maximumPercent": svc.max_pct,
        "minimumHealthyPercent": svc.min_pct,
        "strategy": if svc.blue_green.is_some() { "BLUE_GREEN" } else { "ROLLING" },
    });
    if let Some(b) = r.bake_min {
        config["bakeTimeInMinutes"] = json!(b);
    }
    v["deploymentConfiguration"] = config;
    let breaker_status = if !r.breaker {
        "DISABLED"
    } else if r.breaker_tripped {
        "TRIGGERED"
    } else if r.status == Status::InProgress {
        "MONITORING"
    } else {
        "MONITORING_COMPLETE"
    };
    v["deploymentCircuitBreaker"] = json!({
        "status": breaker_status,
        "failureCount": r.failure_count,
        "threshold": r.threshold,
    });
    v["alarms"] = json!({"status": "DISABLED"});
    if let Some((reason, at, rev)) = &r.rollback {
        v["rollback"] = json!({
            "reason": reason,
            "startedAt": secs(*at),
            "serviceRevisionArn": svc.revisions.get(*rev).map(|x| x.arn.clone()),
        });
    }
    if let Some(stage) = r.stage {
        v["lifecycleStage"] = json!(stage.as_str());
        v["lifecycleHookDetails"] = r
            .hooks
            .iter()
            .map(|h| {
                json!({
                    "hookId": h.id,
                    "targetType": "AWS_LAMBDA",
                    "targetArn": h.target_arn,
                    "status": h.status,
                    "expiresAt": secs(h.expires_at),
                    "timeoutAction": "ROLLBACK",
                })
            })
            .collect();
    }
    v
}

fn created_window(v: &Value) -> (Option<Ms>, Option<Ms>) {
    let at = |k: &str| {
        v.get("createdAt")
            .and_then(|c| c.get(k))
            .and_then(Value::as_f64)
            .map(|s| (s * 1000.0) as Ms)
    };
    (at("after"), at("before"))
}

pub(crate) fn list(sim: &Sim, v: &Value) -> ApiResult {
    let c = super::ecs::cluster_idx(sim, v)?;
    let name =
        str_arg(v, "service").ok_or_else(|| ApiError::invalid("Service cannot be empty."))?;
    let s = super::ecs::service_idx(sim, c, name).ok_or_else(ApiError::service_not_found)?;
    let max = page_size(v, "maxResults", 20, 100)?;
    let start: usize = match opt_token(v, "nextToken")? {
        Some(t) => t
            .parse()
            .map_err(|_| ApiError::invalid("Invalid nextToken."))?,
        None => 0,
    };
    let statuses = str_list(v, "status")?;
    let (after, before) = created_window(v);
    let Some(svc) = sim.services.get(s) else {
        return Err(ApiError::service_not_found());
    };
    let matching: Vec<&ServiceDeployment> = svc
        .history
        .iter()
        .rev()
        .filter(|r| statuses.is_empty() || statuses.iter().any(|x| x == r.status.as_str()))
        .filter(|r| after.is_none_or(|a| r.created_at >= a))
        .filter(|r| before.is_none_or(|b| r.created_at <= b))
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(max)
        .map(|r| record_json(sim, s, r, false))
        .collect();
    let mut out = json!({"serviceDeployments": page});
    if start + max < matching.len() {
        out["nextToken"] = json!(encode_token(&(start + max).to_string()));
    }
    Ok(out)
}

/// `(cluster, service, id)` of a `service-deployment/` or `service-revision/` ARN.
fn parse_arn<'a>(arn: &'a str, kind: &str) -> Option<(&'a str, &'a str, &'a str)> {
    let rest = arn.split_once(&format!(":{kind}/"))?.1;
    let mut parts = rest.splitn(3, '/');
    Some((parts.next()?, parts.next()?, parts.next()?))
}

fn service_of(sim: &Sim, cluster: &str, service: &str) -> Option<usize> {
    let c = *sim.cluster_by_name.get(cluster)?;
    sim.clusters.get(c)?.services.get(service).copied()
}

pub(crate) fn describe(sim: &Sim, v: &Value) -> ApiResult {
    let wanted = str_list(v, "serviceDeploymentArns")?;
    if wanted.is_empty() {
        return Err(ApiError::invalid("serviceDeploymentArns cannot be empty."));
    }
    if wanted.len() > 20 {
        return Err(ApiError::invalid(
            "serviceDeploymentArns can have at most 20 items.",
        ));
    }
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for arn in &wanted {
        let hit = parse_arn(arn, "service-deployment").and_then(|(c, name, id)| {
            let s = service_of(sim, c, name)?;
            let r = sim.services.get(s)?.history.iter().find(|r| r.id == id)?;
            Some(record_json(sim, s, r, true))
        });
        match hit {
            Some(j) => found.push(j),
            None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
        }
    }
    Ok(json!({"serviceDeployments": found, "failures": failures}))
}

pub(crate) fn describe_revisions(sim: &Sim, v: &Value) -> ApiResult {
    let wanted = str_list(v, "serviceRevisionArns")?;
    if wanted.is_empty() {
        return Err(ApiError::invalid("serviceRevisionArns cannot be empty."));
    }
    if wanted.len() > 20 {
        return Err(ApiError::invalid(
            "serviceRevisionArns can have at most 20 items.",
        ));
    }
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for arn in &wanted {
        let hit = parse_arn(arn, "service-revision").and_then(|(c, name, _)| {
            let s = service_of(sim, c, name)?;
            let svc = sim.services.get(s)?;
            let rev = svc.revisions.iter().find(|r| &r.arn == arn)?;
            let td = sim.task_defs.get(rev.task_def)?;
            let cluster_arn = sim.clusters.get(svc.cluster)?.arn.clone();
            Some(json!({
                "serviceRevisionArn": rev.arn,
                "serviceArn": svc.arn,
                "clusterArn": cluster_arn,
                "taskDefinition": td.arn,
                "createdAt": secs(rev.created_at),
                "platformVersion": "1.4.0",
                "platformFamily": "Linux",
            }))
        });
        match hit {
            Some(j) => found.push(j),
            None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
        }
    }
    Ok(json!({"serviceRevisions": found, "failures": failures}))
}
