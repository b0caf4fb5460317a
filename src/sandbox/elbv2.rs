//! ELBv2 DescribeTargetHealth and DescribeTargetGroups over the query protocol (form body
//! in, XML out, API version 2015-12-01), following the fleet simulation.
//!
//! The tasks of a service with a target group are its targets, by private IP and the app
//! container's port. A task is registered once RUNNING: `initial` (Elb.InitialHealthChecking)
//! for the service's health-check grace period (at least [`MIN_INITIAL_MS`]), then `healthy`,
//! or `unhealthy` (Target.ResponseCodeMismatch) when its revision's health-check path answers
//! 404 (the elb-health drill). A stopping task's target is `draining` for [`DRAIN_MS`] after
//! the stop began, then gone. Tasks not yet RUNNING are not registered.

use std::collections::BTreeMap;

use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::model::{Fault, Ms, Task, TaskStatus, ip_string};
use super::server::Shared;
use super::sim::Sim;
use super::sts::{xml_error, xml_escape};
use super::wire::ApiError;

/// The API version ELBv2 clients send in the `Version` form parameter.
pub(crate) const VERSION: &str = "2015-12-01";
const XMLNS: &str = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";
/// Deregistration delay of the simulated target groups.
pub(crate) const DRAIN_MS: Ms = 30_000;
/// Shortest `initial` period (two checks at the 10 s interval).
pub(crate) const MIN_INITIAL_MS: Ms = 20_000;
const DEFAULT_PORT: i32 = 8080;

/// Whether a query-protocol request is for ELBv2 (rather than STS).
pub(crate) fn is_elbv2(form: &BTreeMap<String, String>) -> bool {
    form.get("Version").map(String::as_str) == Some(VERSION)
        || matches!(
            form.get("Action").map(String::as_str),
            Some("DescribeTargetHealth" | "DescribeTargetGroups")
        )
}

pub(crate) fn handle(
    shared: &Shared,
    op: &str,
    form: &BTreeMap<String, String>,
    request_id: &str,
) -> Response {
    let result = match op {
        "DescribeTargetHealth" => describe_target_health(&shared.sim(), form),
        "DescribeTargetGroups" => describe_target_groups(&shared.sim(), form),
        _ => Err(ApiError::new(
            "InvalidAction",
            format!("Could not find operation {op} for version {VERSION}"),
        )),
    };
    match result {
        Ok(result) => {
            let body = format!(
                "<{op}Response xmlns=\"{XMLNS}\">\n  <{op}Result>\n{result}  </{op}Result>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</{op}Response>\n",
                xml_escape(request_id)
            );
            ([(header::CONTENT_TYPE, "text/xml")], body).into_response()
        }
        Err(e) => xml_error(&e, request_id),
    }
}

fn not_found() -> ApiError {
    ApiError::new("TargetGroupNotFound", "One or more target groups not found")
}

/// The port the service registers for a task: its app container's port.
fn task_port(sim: &Sim, t: &Task) -> i32 {
    sim.task_defs
        .get(t.task_def)
        .and_then(|d| d.containers.iter().find_map(|c| c.port))
        .map(i32::from)
        .unwrap_or(DEFAULT_PORT)
}

/// A task's target as ELB reports it now: (state, reason, description), or `None` when the
/// task is not registered.
pub(crate) fn target_state(
    sim: &Sim,
    t: &Task,
    grace_ms: Ms,
) -> Option<(&'static str, Option<&'static str>, Option<&'static str>)> {
    let now = sim.now;
    if !t.desired_running || t.last != TaskStatus::Running {
        let stop = t.stopping_at.or(t.stopped_at)?;
        // registered only if it ever ran
        t.started_at?;
        return (now < stop + DRAIN_MS).then_some((
            "draining",
            Some("Target.DeregistrationInProgress"),
            Some("Target deregistration is in progress"),
        ));
    }
    let started = t.started_at?;
    if now < started + grace_ms.max(MIN_INITIAL_MS) {
        return Some((
            "initial",
            Some("Elb.InitialHealthChecking"),
            Some("Initial health checks in progress"),
        ));
    }
    let fault = sim.task_defs.get(t.task_def).map(|d| d.fault);
    if fault == Some(Fault::BadHealthPath) {
        return Some((
            "unhealthy",
            Some("Target.ResponseCodeMismatch"),
            Some("Health checks failed with these codes: [404]"),
        ));
    }
    Some(("healthy", None, None))
}

fn describe_target_health(sim: &Sim, form: &BTreeMap<String, String>) -> Result<String, ApiError> {
    let arn = form
        .get("TargetGroupArn")
        .ok_or_else(|| ApiError::new("ValidationError", "TargetGroupArn is required"))?;
    let svc = sim
        .services
        .iter()
        .find(|s| s.target_group.as_deref() == Some(arn.as_str()))
        .ok_or_else(not_found)?;
    let grace = i64::from(svc.grace_s) * 1000;
    let mut members = String::new();
    for &slot in svc.tasks_live.values().chain(svc.tasks_stopped.values()) {
        let Some(t) = sim.task(slot) else { continue };
        let Some((state, reason, description)) = target_state(sim, t, grace) else {
            continue;
        };
        let az = sim
            .clusters
            .get(t.cluster)
            .and_then(|c| c.subnets.get(t.subnet))
            .map(|s| s.az.clone())
            .unwrap_or_default();
        let port = task_port(sim, t);
        let mut health = format!("          <State>{state}</State>\n");
        if let Some(r) = reason {
            health.push_str(&format!("          <Reason>{r}</Reason>\n"));
        }
        if let Some(d) = description {
            health.push_str(&format!(
                "          <Description>{}</Description>\n",
                xml_escape(d)
            ));
        }
        members.push_str(&format!(
            "      <member>\n        <Target>\n          <Id>{}</Id>\n          <Port>{port}</Port>\n          <AvailabilityZone>{}</AvailabilityZone>\n        </Target>\n        <HealthCheckPort>{port}</HealthCheckPort>\n        <TargetHealth>\n{health}        </TargetHealth>\n      </member>\n",
            ip_string(t.ip),
            xml_escape(&az),
        ));
    }
    Ok(format!(
        "    <TargetHealthDescriptions>\n{members}    </TargetHealthDescriptions>\n"
    ))
}

/// `Prefix.member.1`, `Prefix.member.2`, ... in order.
fn members<'a>(form: &'a BTreeMap<String, String>, prefix: &str) -> Vec<&'a str> {
    let mut out: Vec<(usize, &str)> = form
        .iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix(prefix)?.strip_prefix(".member.")?;
            Some((n.parse().ok()?, v.as_str()))
        })
        .collect();
    out.sort_by_key(|(n, _)| *n);
    out.into_iter().map(|(_, v)| v).collect()
}

fn describe_target_groups(sim: &Sim, form: &BTreeMap<String, String>) -> Result<String, ApiError> {
    let arns = members(form, "TargetGroupArns");
    let services: Vec<_> = if arns.is_empty() {
        sim.services
            .iter()
            .filter(|s| s.target_group.is_some())
            .collect()
    } else {
        arns.iter()
            .map(|arn| {
                sim.services
                    .iter()
                    .find(|s| s.target_group.as_deref() == Some(*arn))
                    .ok_or_else(not_found)
            })
            .collect::<Result<_, _>>()?
    };
    let mut groups = String::new();
    for svc in services {
        let Some(arn) = &svc.target_group else {
            continue;
        };
        let name = arn.split('/').nth(1).unwrap_or_default();
        let port = svc
            .deployments
            .first()
            .and_then(|d| sim.task_defs.get(d.task_def))
            .and_then(|d| d.containers.iter().find_map(|c| c.port))
            .map(i32::from)
            .unwrap_or(DEFAULT_PORT);
        groups.push_str(&format!(
            "      <member>\n        <TargetGroupArn>{}</TargetGroupArn>\n        <TargetGroupName>{}</TargetGroupName>\n        <Protocol>HTTP</Protocol>\n        <Port>{port}</Port>\n        <VpcId>vpc-0sandbox</VpcId>\n        <HealthCheckProtocol>HTTP</HealthCheckProtocol>\n        <HealthCheckPort>traffic-port</HealthCheckPort>\n        <HealthCheckEnabled>true</HealthCheckEnabled>\n        <HealthCheckIntervalSeconds>10</HealthCheckIntervalSeconds>\n        <HealthCheckTimeoutSeconds>5</HealthCheckTimeoutSeconds>\n        <HealthyThresholdCount>2</HealthyThresholdCount>\n        <UnhealthyThresholdCount>3</UnhealthyThresholdCount>\n        <HealthCheckPath>/health</HealthCheckPath>\n        <Matcher>\n          <HttpCode>200</HttpCode>\n        </Matcher>\n        <LoadBalancerArns>\n          <member>arn:aws:elasticloadbalancing:{}:{}:loadbalancer/app/sandbox/0123456789abcdef</member>\n        </LoadBalancerArns>\n        <TargetType>ip</TargetType>\n        <ProtocolVersion>HTTP1</ProtocolVersion>\n        <IpAddressType>ipv4</IpAddressType>\n      </member>\n",
            xml_escape(arn),
            xml_escape(name),
            xml_escape(&sim.region),
            xml_escape(&sim.account),
        ));
    }
    Ok(format!("    <TargetGroups>\n{groups}    </TargetGroups>\n"))
}
