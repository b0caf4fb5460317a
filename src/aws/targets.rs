//! ELBv2 reads: target health (DescribeTargetHealth, one call per target group) and the
//! groups' health-check settings (DescribeTargetGroups). The API documents no limit on
//! `TargetGroupArns` (only `PageSize` up to 400); berth sends at most
//! [`DESCRIBE_TARGET_GROUPS_BATCH`] ARNs per call and follows `NextMarker`.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_elasticloadbalancingv2::types as sdk;
use tokio::sync::Semaphore;

use super::{AwsError, ErrorKind};
use crate::domain::Service;
use crate::domain::targets::{GroupHealth, TargetGroup, TargetHealth, TargetState};
use crate::text::sanitize;

/// ARNs per DescribeTargetGroups call.
pub const DESCRIBE_TARGET_GROUPS_BATCH: usize = 20;

fn clean(s: Option<&str>) -> Option<String> {
    s.map(|s| sanitize(s).into_owned())
}

pub(crate) fn target_health_from_sdk(d: &sdk::TargetHealthDescription) -> TargetHealth {
    let target = d.target();
    let health = d.target_health();
    TargetHealth {
        id: clean(target.and_then(|t| t.id())).unwrap_or_default(),
        port: target.and_then(|t| t.port()),
        state: health
            .and_then(|h| h.state())
            .map(|s| TargetState::parse(s.as_str()))
            .unwrap_or(TargetState::Other),
        reason: health.and_then(|h| clean(h.reason().map(|r| r.as_str()))),
        description: health.and_then(|h| clean(h.description())),
    }
}

pub(crate) fn target_group_from_sdk(g: &sdk::TargetGroup) -> TargetGroup {
    let matcher = g
        .matcher()
        .and_then(|m| m.http_code().or(m.grpc_code()))
        .map(|m| sanitize(m).into_owned());
    TargetGroup {
        arn: g.target_group_arn().unwrap_or_default().to_string(),
        name: clean(g.target_group_name()).unwrap_or_default(),
        protocol: g.protocol().map(|p| p.as_str().to_string()),
        port: g.port(),
        target_type: g.target_type().map(|t| t.as_str().to_string()),
        health_check_protocol: g.health_check_protocol().map(|p| p.as_str().to_string()),
        health_check_path: clean(g.health_check_path()),
        health_check_port: clean(g.health_check_port()),
        interval_s: g.health_check_interval_seconds(),
        timeout_s: g.health_check_timeout_seconds(),
        healthy_threshold: g.healthy_threshold_count(),
        unhealthy_threshold: g.unhealthy_threshold_count(),
        matcher,
    }
}

/// Every target of one target group with its health.
pub async fn describe_target_health(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    target_group_arn: &str,
) -> Result<Vec<TargetHealth>, AwsError> {
    let out = elb
        .describe_target_health()
        .target_group_arn(target_group_arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("elbv2:DescribeTargetHealth", &e))?;
    Ok(out
        .target_health_descriptions()
        .iter()
        .map(target_health_from_sdk)
        .collect())
}

/// The health-check settings of `arns`, [`DESCRIBE_TARGET_GROUPS_BATCH`] per call.
pub async fn describe_target_groups(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    arns: &[String],
) -> Result<Vec<TargetGroup>, AwsError> {
    let mut groups = Vec::new();
    for batch in arns.chunks(DESCRIBE_TARGET_GROUPS_BATCH) {
        let mut marker = None;
        loop {
            let out = elb
                .describe_target_groups()
                .set_target_group_arns(Some(batch.to_vec()))
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("elbv2:DescribeTargetGroups", &e))?;
            groups.extend(out.target_groups().iter().map(target_group_from_sdk));
            match out.next_marker().filter(|m| !m.is_empty()) {
                Some(m) => marker = Some(m.to_string()),
                None => break,
            }
        }
    }
    Ok(groups)
}

/// What one refresh knows of some services' target groups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetHealthReport {
    /// By target group ARN.
    pub groups: BTreeMap<String, GroupHealth>,
    /// Health-check settings, when asked for; an error reading them is kept in place.
    pub settings: Option<Result<Vec<TargetGroup>, String>>,
}

/// The message shown in place of targets that could not be read.
pub fn unavailable_message(e: &AwsError) -> String {
    match e.kind {
        ErrorKind::AccessDenied => "target health unavailable: access denied".to_string(),
        _ => format!("target health unavailable: {}", sanitize(&e.message)),
    }
}

/// DescribeTargetHealth once per distinct target group of `services` (services without load
/// balancers cost nothing), bounded by `permits`; with `settings`, DescribeTargetGroups for
/// the same groups. A failure of one group (access denied included) is kept in that group's
/// place and the others still load.
pub async fn target_health(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    permits: &Arc<Semaphore>,
    services: &[Service],
    settings: bool,
) -> TargetHealthReport {
    let arns: Vec<String> = services
        .iter()
        .flat_map(|s| s.load_balancers.iter())
        .filter_map(|lb| lb.target_group_arn.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    target_health_of(elb, permits, &arns, settings).await
}

/// [`target_health`] of target group ARNs (distinct).
pub async fn target_health_of(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    permits: &Arc<Semaphore>,
    arns: &[String],
    settings: bool,
) -> TargetHealthReport {
    let mut report = TargetHealthReport::default();
    if arns.is_empty() {
        return report;
    }
    let mut calls = tokio::task::JoinSet::new();
    for arn in arns.iter().cloned() {
        let (elb, permits) = (elb.clone(), permits.clone());
        calls.spawn(async move {
            let _permit = permits.acquire().await;
            let health = match describe_target_health(&elb, &arn).await {
                Ok(targets) => GroupHealth::Targets(targets),
                Err(e) => GroupHealth::Unavailable(unavailable_message(&e)),
            };
            (arn, health)
        });
    }
    if settings {
        let _permit = permits.acquire().await;
        report.settings = Some(
            describe_target_groups(elb, arns)
                .await
                .map_err(|e| unavailable_message(&e).replace("target health", "target groups")),
        );
    }
    while let Some(joined) = calls.join_next().await {
        if let Ok((arn, health)) = joined {
            report.groups.insert(arn, health);
        }
    }
    report
}
