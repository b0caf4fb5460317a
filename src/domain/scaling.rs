//! A service's Application Auto Scaling: its scalable target (min/max, suspended state), its
//! scaling policies (target tracking, step scaling) and its last scaling activities, with the
//! cause as Application Auto Scaling words it. Words parsed once in `aws/`; unknown values are
//! kept as `Other`.

use super::history::ago;
use super::problems::{Problem, Severity};

/// ECS's scalable dimension: a service's desired count.
pub const ECS_DESIRED_COUNT: &str = "ecs:service:DesiredCount";

/// Desired count held at the maximum for longer than this marks the service: a scale-out
/// that lands at the maximum is routine, ten minutes of wanting more than it may have is a
/// capacity problem (the target-tracking alarm needs three minutes of data to fire, so this
/// is about three rounds of "cannot go higher").
pub const AT_MAX_MARK_SECS: i64 = 10 * 60;

/// Activities read per load (the pane shows the newest few, the timeline all of them).
pub const ACTIVITIES_READ: i32 = 10;

/// `service/prod/web-frontend`: the resource id of an ECS service.
pub fn resource_id(cluster: &str, service: &str) -> String {
    let cluster = super::Cluster::name_from_arn(cluster);
    let service = service.rsplit('/').next().unwrap_or(service);
    format!("service/{cluster}/{service}")
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Suspended {
    pub dynamic_in: bool,
    pub dynamic_out: bool,
    pub scheduled: bool,
}

impl Suspended {
    pub fn any(&self) -> bool {
        self.dynamic_in || self.dynamic_out || self.scheduled
    }

    /// `scale-out, scheduled` for the pane.
    pub fn words(&self) -> String {
        let mut out = Vec::new();
        if self.dynamic_out {
            out.push("scale-out");
        }
        if self.dynamic_in {
            out.push("scale-in");
        }
        if self.scheduled {
            out.push("scheduled");
        }
        out.join(", ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalableTarget {
    pub resource_id: String,
    pub min: i32,
    pub max: i32,
    pub suspended: Suspended,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PolicyKind {
    /// Keep `metric` near `target` (percent for the ECS predefined metrics).
    TargetTracking {
        target: f64,
        /// `ECSServiceAverageCPUUtilization`, or `Namespace/MetricName` when customized.
        metric: String,
        scale_in_disabled: bool,
    },
    /// Step adjustments on an alarm: (lower bound, upper bound, adjustment).
    StepScaling {
        adjustment_type: String,
        steps: Vec<(Option<f64>, Option<f64>, i32)>,
    },
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScalingPolicy {
    pub name: String,
    pub kind: PolicyKind,
}

impl ScalingPolicy {
    /// `target tracking ECSServiceAverageCPUUtilization 60`, `step scaling +2 / -1`.
    pub fn summary(&self) -> String {
        match &self.kind {
            PolicyKind::TargetTracking {
                target,
                metric,
                scale_in_disabled,
            } => format!(
                "target tracking {metric} at {target}{}",
                if *scale_in_disabled {
                    " (no scale-in)"
                } else {
                    ""
                }
            ),
            PolicyKind::StepScaling {
                adjustment_type,
                steps,
            } => {
                let steps: Vec<String> = steps.iter().map(|(_, _, a)| format!("{a:+}")).collect();
                format!("step scaling {} ({adjustment_type})", steps.join(" "))
            }
            PolicyKind::Other(t) => t.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityStatus {
    Pending,
    InProgress,
    Successful,
    Overridden,
    Unfulfilled,
    Failed,
    Other(String),
}

impl ActivityStatus {
    pub fn parse(s: &str) -> ActivityStatus {
        match s {
            "Pending" => ActivityStatus::Pending,
            "InProgress" => ActivityStatus::InProgress,
            "Successful" => ActivityStatus::Successful,
            "Overridden" => ActivityStatus::Overridden,
            "Unfulfilled" => ActivityStatus::Unfulfilled,
            "Failed" => ActivityStatus::Failed,
            other => ActivityStatus::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ActivityStatus::Pending => "Pending",
            ActivityStatus::InProgress => "InProgress",
            ActivityStatus::Successful => "Successful",
            ActivityStatus::Overridden => "Overridden",
            ActivityStatus::Unfulfilled => "Unfulfilled",
            ActivityStatus::Failed => "Failed",
            ActivityStatus::Other(s) => s,
        }
    }
}

/// One scaling activity. Times are unix seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingActivity {
    pub id: String,
    /// `Setting desired count to 4.`
    pub description: String,
    /// `monitor alarm TargetTracking-service/prod/web-frontend-AlarmHigh-… in state ALARM
    /// triggered policy cpu60`.
    pub cause: String,
    pub status: ActivityStatus,
    pub status_message: Option<String>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    /// NotScaledReasons codes (`AlreadyAtMaxCapacity`, ...).
    pub not_scaled: Vec<String>,
}

impl ScalingActivity {
    /// The count it set or tried to set (`Setting desired count to 4.` → 4).
    pub fn count(&self) -> Option<i32> {
        let text = self.description.trim_end_matches('.');
        text.rsplit(' ').next()?.parse().ok()
    }

    /// It could not go higher: a not-scaled reason or a status message that says so.
    pub fn blocked_at_max(&self) -> bool {
        self.not_scaled.iter().any(|c| c == "AlreadyAtMaxCapacity")
            || self
                .status_message
                .as_deref()
                .is_some_and(|m| m.to_lowercase().contains("maximum capacity"))
    }

    pub fn at(&self) -> Option<i64> {
        self.end.or(self.start)
    }

    /// The cause in a few words: `AlarmHigh → cpu60` for a target-tracking alarm (whose
    /// name is `TargetTracking-<resource id>-AlarmHigh-<uuid>`), `<alarm> → <policy>` for
    /// another alarm, the text as given otherwise.
    pub fn short_cause(&self) -> String {
        let Some(rest) = self.cause.strip_prefix("monitor alarm ") else {
            return self.cause.clone();
        };
        let Some((alarm, policy)) = rest.split_once(" in state ALARM triggered policy ") else {
            return rest.to_string();
        };
        let alarm = match alarm.strip_prefix("TargetTracking-") {
            Some(tt) if tt.contains("-AlarmHigh-") => "AlarmHigh",
            Some(tt) if tt.contains("-AlarmLow-") => "AlarmLow",
            _ => alarm,
        };
        format!("{alarm} → {policy}")
    }
}

/// What Application Auto Scaling says about one service.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scaling {
    /// `None`: the service is not registered (no auto scaling; not an error).
    pub target: Option<ScalableTarget>,
    pub policies: Vec<ScalingPolicy>,
    /// Newest first.
    pub activities: Vec<ScalingActivity>,
    /// Why the activities could not be read while the target and policies could (moto
    /// 5.2.5 does not serve DescribeScalingActivities).
    pub activities_unavailable: Option<String>,
}

impl Scaling {
    /// Since when (unix seconds) a service at `desired` has been held at its maximum, when it
    /// is at it and the activities tell: the newest successful scale-out that reached the
    /// maximum, or else the oldest of the newest run of "cannot go higher" activities.
    pub fn at_max_since(&self, desired: i32) -> Option<i64> {
        let target = self.target.as_ref()?;
        if desired < target.max {
            return None;
        }
        if let Some(a) = self.activities.iter().find(|a| {
            a.status == ActivityStatus::Successful && a.count().is_some_and(|n| n >= target.max)
        }) {
            return a.at();
        }
        self.activities
            .iter()
            .take_while(|a| a.blocked_at_max())
            .filter_map(|a| a.start)
            .min()
    }

    /// "at max capacity for 14m" once held there past [`AT_MAX_MARK_SECS`], with the newest
    /// activity's cause as detail.
    pub fn problems(&self, desired: i32, now: i64) -> Vec<Problem> {
        let Some(since) = self.at_max_since(desired) else {
            return Vec::new();
        };
        if now - since <= AT_MAX_MARK_SECS {
            return Vec::new();
        }
        let max = self.target.as_ref().map(|t| t.max).unwrap_or(desired);
        vec![Problem {
            severity: Severity::Warning,
            summary: format!("at max capacity for {}", ago(now - since)),
            detail: Some(format!(
                "desired {desired} = maximum {max}{}",
                self.activities
                    .first()
                    .map(|a| format!(": {}", a.short_cause()))
                    .unwrap_or_default()
            )),
        }]
    }
}

/// A service's auto scaling as last loaded, or why it could not be.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingState {
    /// Unix seconds of the answer.
    pub loaded_at: i64,
    /// `Err` is the reason in words (`access denied`).
    pub result: Result<Scaling, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity(start: i64, status: &str, description: &str, message: &str) -> ScalingActivity {
        ScalingActivity {
            id: format!("a{start}"),
            description: description.into(),
            cause: "monitor alarm TargetTracking-service/prod/web-AlarmHigh-1 in state ALARM triggered policy cpu60".into(),
            status: ActivityStatus::parse(status),
            status_message: Some(message.into()),
            start: Some(start),
            end: Some(start + 30),
            not_scaled: Vec::new(),
        }
    }

    fn scaling(activities: Vec<ScalingActivity>) -> Scaling {
        Scaling {
            target: Some(ScalableTarget {
                resource_id: "service/prod/web".into(),
                min: 2,
                max: 4,
                suspended: Suspended::default(),
            }),
            policies: Vec::new(),
            activities,
            activities_unavailable: None,
        }
    }

    #[test]
    fn at_max_is_marked_only_past_the_threshold_and_only_at_max() {
        let s = scaling(vec![
            activity(
                1300,
                "Failed",
                "Setting desired count to 5.",
                "Failed to set desired count to 5. Reason: maximum capacity reached",
            ),
            activity(1000, "Successful", "Setting desired count to 4.", "ok"),
        ]);
        assert_eq!(s.at_max_since(4), Some(1030));
        assert!(s.problems(4, 1030 + AT_MAX_MARK_SECS).is_empty());
        let p = s.problems(4, 1031 + AT_MAX_MARK_SECS);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].summary, "at max capacity for 10m");
        assert!(p[0].detail.as_deref().unwrap_or("").contains("→ cpu60"));
        assert!(s.problems(3, 5000).is_empty(), "below max");
        assert!(Scaling::default().problems(4, 5000).is_empty(), "no target");
    }

    #[test]
    fn without_the_scale_out_the_blocked_run_tells_since_when() {
        let mut blocked = activity(2000, "Failed", "Setting desired count to 5.", "x");
        blocked.not_scaled = vec!["AlreadyAtMaxCapacity".into()];
        let mut older = blocked.clone();
        older.start = Some(1500);
        let s = scaling(vec![blocked, older]);
        assert_eq!(s.at_max_since(4), Some(1500));
        assert_eq!(s.activities[0].short_cause(), "AlarmHigh → cpu60");
        assert_eq!(
            resource_id("arn:aws:ecs:r:1:cluster/prod", "web"),
            "service/prod/web"
        );
    }

    #[test]
    fn policies_and_suspended_scaling_in_words() {
        let step = ScalingPolicy {
            name: "queue-depth".into(),
            kind: PolicyKind::StepScaling {
                adjustment_type: "ChangeInCapacity".into(),
                steps: vec![(Some(0.0), Some(100.0), 1), (Some(100.0), None, 3)],
            },
        };
        assert_eq!(step.summary(), "step scaling +1 +3 (ChangeInCapacity)");
        let suspended = Suspended {
            dynamic_in: true,
            dynamic_out: true,
            scheduled: false,
        };
        assert!(suspended.any());
        assert_eq!(suspended.words(), "scale-out, scale-in");
        let other = ScalingActivity {
            cause: "user request update of capacity.".into(),
            ..activity(1, "Successful", "Setting desired count to 3.", "ok")
        };
        assert_eq!(other.short_cause(), "user request update of capacity.");
        assert_eq!(other.count(), Some(3));
    }
}
