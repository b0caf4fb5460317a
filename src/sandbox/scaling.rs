//! Application Auto Scaling (`AnyScaleFrontendService.<Op>`, JSON 1.1): the scalable targets
//! of a few prod services with their target-tracking policies and a history of activities,
//! and the at-capacity drill: from the incident `prod/web-frontend` scales out to its
//! maximum, and every [`BLOCKED_EVERY_MS`] after that an activity says it cannot go higher.
//! Read-only: berth never registers targets or policies.

use serde_json::{Value, json};

use super::Scenario;
use super::model::Ms;
use super::rng::{hash_str, mix};
use super::server::Shared;
use super::sim::{Ev, Sim};
use super::wire::*;

/// A blocked scale-out is reported this often while the CPU stays above the target.
pub(crate) const BLOCKED_EVERY_MS: Ms = 5 * 60_000;
const DIMENSION: &str = "ecs:service:DesiredCount";
const CPU_METRIC: &str = "ECSServiceAverageCPUUtilization";

#[derive(Debug, Clone)]
pub(crate) struct Activity {
    pub id: String,
    pub description: String,
    pub cause: String,
    pub status: &'static str,
    pub message: String,
    pub start: Ms,
    pub end: Option<Ms>,
    /// (code, current, min, max) when not scaled.
    pub not_scaled: Option<(&'static str, i32, i32, i32)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Scalable {
    pub service: usize,
    pub cluster: String,
    pub name: String,
    pub min: i32,
    pub max: i32,
    pub created_at: Ms,
    /// Target-tracking policy: (name, CPU target percent).
    pub policy: (String, f64),
    /// Oldest first.
    pub activities: Vec<Activity>,
}

impl Scalable {
    fn resource_id(&self) -> String {
        format!("service/{}/{}", self.cluster, self.name)
    }
}

/// (cluster, service, min, max, policy, CPU target).
const DEMO: &[(&str, &str, i32, i32, &str, f64)] = &[
    ("prod", "web-frontend", 2, 6, "cpu60-target-tracking", 60.0),
    ("prod", "checkout-api", 4, 12, "cpu70-target-tracking", 70.0),
];

impl Sim {
    /// A uuid-shaped id derived from `parts` (the fleet's random stream stays untouched).
    fn scaling_id(&self, parts: &[u64]) -> String {
        let mut all = vec![self.seed, 0x5ca1e];
        all.extend_from_slice(parts);
        let a = mix(&all);
        let b = mix(&[a, 1]);
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }

    fn alarm(&self, t: &Scalable, high: bool) -> String {
        format!(
            "TargetTracking-{}-Alarm{}-{}",
            t.resource_id(),
            if high { "High" } else { "Low" },
            self.scaling_id(&[hash_str(&t.name), u64::from(high)])
        )
    }

    /// Register the demo services' targets, with an activity from earlier in the hour.
    pub(crate) fn setup_scaling(&mut self) {
        for &(cluster, name, min, max, policy, target) in DEMO {
            let Some(s) = self.find_service(cluster, name) else {
                continue;
            };
            let desired = self.services.get(s).map(|svc| svc.desired).unwrap_or(min);
            let mut t = Scalable {
                service: s,
                cluster: cluster.to_string(),
                name: name.to_string(),
                min,
                max,
                created_at: self.now - 30 * 24 * 3600 * 1000,
                policy: (policy.to_string(), target),
                activities: Vec::new(),
            };
            // the morning's scale-in back to today's count
            let at = self.t0 - 50 * 60_000;
            let cause = format!(
                "monitor alarm {} in state ALARM triggered policy {policy}",
                self.alarm(&t, false)
            );
            t.activities.push(Activity {
                id: self.scaling_id(&[hash_str(name), at as u64]),
                description: format!("Setting desired count to {desired}."),
                cause,
                status: "Successful",
                message: format!(
                    "Successfully set desired count to {desired}. Change successfully fulfilled by ecs."
                ),
                start: at,
                end: Some(at + 31_000),
                not_scaled: None,
            });
            self.scaling.push(t);
        }
    }

    /// The at-capacity drill's scale-out to the maximum (the incident).
    pub(crate) fn scale_out_to_max(&mut self) {
        let Some((cluster, name)) = self.scenario.target() else {
            return;
        };
        let Some(i) = self
            .scaling
            .iter()
            .position(|t| t.cluster == cluster && t.name == name)
        else {
            return;
        };
        let (s, max, now) = (self.scaling[i].service, self.scaling[i].max, self.now);
        let cause = format!(
            "monitor alarm {} in state ALARM triggered policy {}",
            self.alarm(&self.scaling[i], true),
            self.scaling[i].policy.0
        );
        let id = self.scaling_id(&[hash_str(name), now as u64]);
        self.scaling[i].activities.push(Activity {
            id,
            description: format!("Setting desired count to {max}."),
            cause,
            status: "Successful",
            message: format!(
                "Successfully set desired count to {max}. Change successfully fulfilled by ecs."
            ),
            start: now,
            end: Some(now),
            not_scaled: None,
        });
        self.update_service(s, Some(max), None, false);
        self.schedule(now + BLOCKED_EVERY_MS, Ev::Scale(i));
    }

    /// The policy asks for one more task than the maximum while the CPU is above target.
    pub(crate) fn scaling_tick(&mut self, i: usize) {
        let Some(t) = self.scaling.get(i) else {
            return;
        };
        let now = self.now;
        let (cpu, _) = self.utilisation(t.service, now);
        let desired = self.services.get(t.service).map(|s| s.desired).unwrap_or(0);
        if self.scenario == Scenario::AtCapacity && desired >= t.max && cpu > t.policy.1 {
            let want = t.max + 1;
            let activity = Activity {
                id: self.scaling_id(&[hash_str(&t.name), now as u64]),
                description: format!("Setting desired count to {want}."),
                cause: format!(
                    "monitor alarm {} in state ALARM triggered policy {}",
                    self.alarm(t, true),
                    t.policy.0
                ),
                status: "Failed",
                message: format!(
                    "Failed to set desired count to {want}. Reason: maximum capacity reached ({}); {CPU_METRIC} {cpu:.1} against a target of {}",
                    t.max, t.policy.1
                ),
                start: now,
                end: Some(now),
                not_scaled: Some(("AlreadyAtMaxCapacity", desired, t.min, t.max)),
            };
            if let Some(t) = self.scaling.get_mut(i) {
                t.activities.push(activity);
            }
        }
        self.schedule(now + BLOCKED_EVERY_MS, Ev::Scale(i));
    }
}

pub(crate) fn handle(shared: &Shared, op: &str, v: &Value) -> ApiResult {
    let sim = shared.sim();
    match op {
        "DescribeScalableTargets" => describe_scalable_targets(&sim, v),
        "DescribeScalingPolicies" => describe_scaling_policies(&sim, v),
        "DescribeScalingActivities" => describe_scaling_activities(&sim, v),
        _ => Err(ApiError::unknown_operation(op)),
    }
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", message)
}

/// The targets a request selects: namespace `ecs` (others have none here), the dimension if
/// given, and the resource ids if given.
fn selected<'a>(sim: &'a Sim, v: &Value, ids: &[String]) -> Result<Vec<&'a Scalable>, ApiError> {
    let namespace = str_arg(v, "ServiceNamespace")
        .ok_or_else(|| validation("1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null"))?;
    if let Some(d) = str_arg(v, "ScalableDimension")
        && !d.contains(':')
    {
        return Err(validation(format!("Invalid scalable dimension: {d}")));
    }
    let dimension = str_arg(v, "ScalableDimension");
    if namespace != "ecs" || dimension.is_some_and(|d| d != DIMENSION) {
        return Ok(Vec::new());
    }
    Ok(sim
        .scaling
        .iter()
        .filter(|t| ids.is_empty() || ids.contains(&t.resource_id()))
        .collect())
}

/// (start index, page size) of a paged request.
fn page(v: &Value, default: i64, max: i64) -> Result<(usize, usize), ApiError> {
    let size = int_arg(v, "MaxResults")?.unwrap_or(default);
    if !(1..=max).contains(&size) {
        return Err(validation(format!(
            "1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and {max}"
        )));
    }
    let start = match str_arg(v, "NextToken") {
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| ApiError::new("InvalidNextTokenException", "Invalid token"))?,
        None => 0,
    };
    Ok((start, size as usize))
}

fn paged(items: Vec<Value>, key: &str, (start, size): (usize, usize)) -> Value {
    let end = (start + size).min(items.len());
    let mut out = json!({ key: items.get(start.min(end)..end).unwrap_or(&[]) });
    if end < items.len() {
        out["NextToken"] = json!(end.to_string());
    }
    out
}

fn describe_scalable_targets(sim: &Sim, v: &Value) -> ApiResult {
    let ids = str_list(v, "ResourceIds")?;
    if ids.len() > 50 {
        return Err(validation(
            "1 validation error detected: Value at 'resourceIds' failed to satisfy constraint: Member must have length less than or equal to 50",
        ));
    }
    let range = page(v, 50, 50)?;
    let items = selected(sim, v, &ids)?
        .into_iter()
        .map(|t| {
            json!({
                "ServiceNamespace": "ecs",
                "ResourceId": t.resource_id(),
                "ScalableDimension": DIMENSION,
                "MinCapacity": t.min,
                "MaxCapacity": t.max,
                "RoleARN": format!("arn:aws:iam::{}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService", sim.account),
                "CreationTime": secs(t.created_at),
                "SuspendedState": {
                    "DynamicScalingInSuspended": false,
                    "DynamicScalingOutSuspended": false,
                    "ScheduledScalingSuspended": false,
                },
                "ScalableTargetARN": format!(
                    "arn:aws:application-autoscaling:{}:{}:scalable-target/{}",
                    sim.region,
                    sim.account,
                    &sim.scaling_id(&[hash_str(&t.resource_id())])[..8]
                ),
            })
        })
        .collect();
    Ok(paged(items, "ScalableTargets", range))
}

fn one_resource(sim: &Sim, v: &Value) -> Result<Vec<Scalable>, ApiError> {
    let ids: Vec<String> = str_arg(v, "ResourceId")
        .map(str::to_string)
        .into_iter()
        .collect();
    Ok(selected(sim, v, &ids)?.into_iter().cloned().collect())
}

fn describe_scaling_policies(sim: &Sim, v: &Value) -> ApiResult {
    let names = str_list(v, "PolicyNames")?;
    let range = page(v, 10, 10)?;
    let items = one_resource(sim, v)?
        .iter()
        .filter(|t| names.is_empty() || names.contains(&t.policy.0))
        .map(|t| {
            let id = sim.scaling_id(&[hash_str(&t.policy.0), hash_str(&t.name)]);
            let high = sim.alarm(t, true);
            let low = sim.alarm(t, false);
            let alarm_arn = |name: &str| {
                format!(
                    "arn:aws:cloudwatch:{}:{}:alarm:{name}",
                    sim.region, sim.account
                )
            };
            json!({
                "PolicyARN": format!(
                    "arn:aws:autoscaling:{}:{}:scalingPolicy:{id}:resource/ecs/{}:policyName/{}",
                    sim.region, sim.account, t.resource_id(), t.policy.0
                ),
                "PolicyName": t.policy.0,
                "ServiceNamespace": "ecs",
                "ResourceId": t.resource_id(),
                "ScalableDimension": DIMENSION,
                "PolicyType": "TargetTrackingScaling",
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": t.policy.1,
                    "PredefinedMetricSpecification": { "PredefinedMetricType": CPU_METRIC },
                    "ScaleOutCooldown": 60,
                    "ScaleInCooldown": 300,
                    "DisableScaleIn": false,
                },
                "Alarms": [
                    { "AlarmName": high, "AlarmARN": alarm_arn(&high) },
                    { "AlarmName": low, "AlarmARN": alarm_arn(&low) },
                ],
                "CreationTime": secs(t.created_at),
            })
        })
        .collect();
    Ok(paged(items, "ScalingPolicies", range))
}

fn describe_scaling_activities(sim: &Sim, v: &Value) -> ApiResult {
    let range = page(v, 50, 50)?;
    let include_not_scaled = bool_arg(v, "IncludeNotScaledActivities").unwrap_or(false);
    let mut all: Vec<(Ms, Value)> = Vec::new();
    for t in one_resource(sim, v)? {
        for a in t.activities.iter().filter(|a| a.start <= sim.now) {
            if a.not_scaled.is_some() && !include_not_scaled {
                continue;
            }
            let mut item = json!({
                "ActivityId": a.id,
                "ServiceNamespace": "ecs",
                "ResourceId": t.resource_id(),
                "ScalableDimension": DIMENSION,
                "Description": a.description,
                "Cause": a.cause,
                "StartTime": secs(a.start),
                "StatusCode": a.status,
                "StatusMessage": a.message,
            });
            if let Some(end) = a.end {
                item["EndTime"] = secs(end);
            }
            if let Some((code, current, min, max)) = a.not_scaled {
                item["NotScaledReasons"] = json!([{
                    "Code": code,
                    "CurrentCapacity": current,
                    "MinCapacity": min,
                    "MaxCapacity": max,
                }]);
            }
            all.push((a.start, item));
        }
    }
    // newest first
    all.sort_by_key(|(start, _)| std::cmp::Reverse(*start));
    Ok(paged(
        all.into_iter().map(|(_, v)| v).collect(),
        "ScalingActivities",
        range,
    ))
}
