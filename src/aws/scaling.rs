//! A service's Application Auto Scaling (JSON 1.1, `AnyScaleFrontendService`):
//! DescribeScalableTargets (up to 50 resource ids a call), then, only when the service is
//! registered, DescribeScalingPolicies (10 a page) and DescribeScalingActivities (the newest
//! [`ACTIVITIES_READ`], with the not-scaled ones that say "already at maximum capacity").
//!
//! Like the deployment history these are extras of the deployments view and the timeline: an
//! endpoint that does not serve them must not hold the view, so they are sent with at most
//! [`SCALING_MAX_ATTEMPTS`] attempts.

use aws_sdk_applicationautoscaling as aas;
use aws_sdk_applicationautoscaling::types as sdk;

use super::AwsError;
use crate::domain::scaling::{
    ACTIVITIES_READ, ActivityStatus, PolicyKind, ScalableTarget, Scaling, ScalingActivity,
    ScalingPolicy, Suspended, resource_id,
};

/// DescribeScalableTargets takes at most 50 resource ids.
pub const TARGETS_BATCH: usize = 50;
/// DescribeScalingPolicies' page size (the API maximum).
pub const POLICIES_PAGE: i32 = 10;
/// Most pages read (of targets per batch, of policies).
pub const MAX_PAGES: usize = 5;
/// Attempts per call (the first included).
pub const SCALING_MAX_ATTEMPTS: u32 = 2;

fn few_retries() -> aas::config::Builder {
    aas::config::Builder::default().retry_config(
        aws_smithy_types::retry::RetryConfig::standard()
            .with_max_attempts(SCALING_MAX_ATTEMPTS)
            .with_max_backoff(std::time::Duration::from_secs(1)),
    )
}

fn dimension() -> sdk::ScalableDimension {
    sdk::ScalableDimension::EcsServiceDesiredCount
}

/// What one load cost, for tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls {
    pub targets: usize,
    pub policies: usize,
    pub activities: usize,
}

/// The scalable targets of `resource_ids` (`service/<cluster>/<service>`), 50 a call,
/// every page.
pub async fn scalable_targets(
    client: &aas::Client,
    resource_ids: &[String],
    calls: &mut Calls,
) -> Result<Vec<ScalableTarget>, AwsError> {
    let mut out = Vec::new();
    for batch in resource_ids.chunks(TARGETS_BATCH) {
        let mut token = None;
        for _ in 0..MAX_PAGES {
            let page = client
                .describe_scalable_targets()
                .service_namespace(sdk::ServiceNamespace::Ecs)
                .scalable_dimension(dimension())
                .set_resource_ids(Some(batch.to_vec()))
                .set_next_token(token)
                .customize()
                .config_override(few_retries())
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk("application-autoscaling:DescribeScalableTargets", &e)
                })?;
            calls.targets += 1;
            out.extend(page.scalable_targets().iter().map(target_from_sdk));
            token = page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(out)
}

fn target_from_sdk(t: &sdk::ScalableTarget) -> ScalableTarget {
    let s = t.suspended_state();
    ScalableTarget {
        resource_id: t.resource_id().to_string(),
        min: t.min_capacity(),
        max: t.max_capacity(),
        suspended: Suspended {
            dynamic_in: s.and_then(|s| s.dynamic_scaling_in_suspended()) == Some(true),
            dynamic_out: s.and_then(|s| s.dynamic_scaling_out_suspended()) == Some(true),
            scheduled: s.and_then(|s| s.scheduled_scaling_suspended()) == Some(true),
        },
    }
}

fn policy_from_sdk(p: &sdk::ScalingPolicy) -> ScalingPolicy {
    let kind = if let Some(c) = p.target_tracking_scaling_policy_configuration() {
        let metric = match (
            c.predefined_metric_specification(),
            c.customized_metric_specification(),
        ) {
            (Some(m), _) => m.predefined_metric_type().as_str().to_string(),
            (None, Some(m)) => format!(
                "{}/{}",
                m.namespace().unwrap_or("?"),
                m.metric_name().unwrap_or("metric math")
            ),
            (None, None) => "?".to_string(),
        };
        PolicyKind::TargetTracking {
            target: c.target_value(),
            metric,
            scale_in_disabled: c.disable_scale_in() == Some(true),
        }
    } else if let Some(c) = p.step_scaling_policy_configuration() {
        PolicyKind::StepScaling {
            adjustment_type: c
                .adjustment_type()
                .map(|a| a.as_str().to_string())
                .unwrap_or_default(),
            steps: c
                .step_adjustments()
                .iter()
                .map(|s| {
                    (
                        s.metric_interval_lower_bound(),
                        s.metric_interval_upper_bound(),
                        s.scaling_adjustment(),
                    )
                })
                .collect(),
        }
    } else {
        PolicyKind::Other(p.policy_type().as_str().to_string())
    };
    ScalingPolicy {
        name: p.policy_name().to_string(),
        kind,
    }
}

fn activity_from_sdk(a: &sdk::ScalingActivity) -> ScalingActivity {
    ScalingActivity {
        id: a.activity_id().to_string(),
        description: a.description().to_string(),
        cause: a.cause().to_string(),
        status: ActivityStatus::parse(a.status_code().as_str()),
        status_message: a.status_message().map(str::to_string),
        start: Some(a.start_time().secs()).filter(|s| *s != 0),
        end: a.end_time().map(|t| t.secs()),
        not_scaled: a
            .not_scaled_reasons()
            .iter()
            .map(|r| r.code().to_string())
            .collect(),
    }
}

/// The auto scaling of one service: 1 call when it is not registered, 3 when it is (plus a
/// page per 10 policies past the first 10). Activities that cannot be read leave the target
/// and policies, with the reason in `activities_unavailable`.
pub async fn load(
    client: &aas::Client,
    cluster: &str,
    service: &str,
) -> Result<(Scaling, Calls), AwsError> {
    let mut calls = Calls::default();
    let id = resource_id(cluster, service);
    let target = scalable_targets(client, std::slice::from_ref(&id), &mut calls)
        .await?
        .into_iter()
        .find(|t| t.resource_id == id);
    let Some(target) = target else {
        return Ok((Scaling::default(), calls));
    };
    let mut policies = Vec::new();
    let mut token = None;
    for _ in 0..MAX_PAGES {
        let page = client
            .describe_scaling_policies()
            .service_namespace(sdk::ServiceNamespace::Ecs)
            .scalable_dimension(dimension())
            .resource_id(&id)
            .max_results(POLICIES_PAGE)
            .set_next_token(token)
            .customize()
            .config_override(few_retries())
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("application-autoscaling:DescribeScalingPolicies", &e)
            })?;
        calls.policies += 1;
        policies.extend(page.scaling_policies().iter().map(policy_from_sdk));
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let page = match client
        .describe_scaling_activities()
        .service_namespace(sdk::ServiceNamespace::Ecs)
        .scalable_dimension(dimension())
        .resource_id(&id)
        .max_results(ACTIVITIES_READ)
        .include_not_scaled_activities(true)
        .customize()
        .config_override(few_retries())
        .send()
        .await
    {
        Ok(page) => Ok(page),
        Err(e) => Err(AwsError::from_sdk(
            "application-autoscaling:DescribeScalingActivities",
            &e,
        )),
    };
    calls.activities += 1;
    // The target and its policies are worth showing without the activities.
    let (mut activities, activities_unavailable) = match page {
        Ok(page) => (
            page.scaling_activities()
                .iter()
                .map(activity_from_sdk)
                .collect::<Vec<ScalingActivity>>(),
            None,
        ),
        Err(e) => (Vec::new(), Some(unavailable_reason(&e))),
    };
    activities.sort_by_key(|a| std::cmp::Reverse(a.start));
    Ok((
        Scaling {
            target: Some(target),
            policies,
            activities,
            activities_unavailable,
        },
        calls,
    ))
}

/// Why auto scaling could not be read, in words for the pane ("auto scaling unavailable: …").
pub fn unavailable_reason(e: &AwsError) -> String {
    match e.kind {
        super::ErrorKind::AccessDenied => "access denied".to_string(),
        _ => super::history::unavailable_reason(e),
    }
}
