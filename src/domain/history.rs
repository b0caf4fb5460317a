//! A service's deployment history (ListServiceDeployments + DescribeServiceDeployments): every
//! service deployment in a window, including the FAILED ones that DescribeServices drops once
//! their rollback completes. Words parsed once in `aws/`; unknown values are kept as `Other`.

/// How far back the console reads history: a day covers a late page and an overnight
/// release without reading 90 days of a busy service.
pub const HISTORY_WINDOW_SECS: i64 = 24 * 3600;

/// A rollback marks the service's row for this long after it started.
pub const ROLLED_BACK_MARK_SECS: i64 = 3600;

/// A blue/green stage that has not changed for this long is stuck (BAKE_TIME gets its bake
/// time on top). ECS's own hook timeout is an hour; most stages take seconds to minutes.
pub const STUCK_STAGE_SECS: i64 = 15 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentStatus {
    Pending,
    InProgress,
    Successful,
    Stopped,
    StopRequested,
    RollbackRequested,
    RollbackInProgress,
    RollbackSuccessful,
    RollbackFailed,
    Other(String),
}

impl DeploymentStatus {
    pub fn parse(s: &str) -> DeploymentStatus {
        match s {
            "PENDING" => DeploymentStatus::Pending,
            "IN_PROGRESS" => DeploymentStatus::InProgress,
            "SUCCESSFUL" => DeploymentStatus::Successful,
            "STOPPED" => DeploymentStatus::Stopped,
            "STOP_REQUESTED" => DeploymentStatus::StopRequested,
            "ROLLBACK_REQUESTED" => DeploymentStatus::RollbackRequested,
            "ROLLBACK_IN_PROGRESS" => DeploymentStatus::RollbackInProgress,
            "ROLLBACK_SUCCESSFUL" => DeploymentStatus::RollbackSuccessful,
            "ROLLBACK_FAILED" => DeploymentStatus::RollbackFailed,
            other => DeploymentStatus::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            DeploymentStatus::Pending => "PENDING",
            DeploymentStatus::InProgress => "IN_PROGRESS",
            DeploymentStatus::Successful => "SUCCESSFUL",
            DeploymentStatus::Stopped => "STOPPED",
            DeploymentStatus::StopRequested => "STOP_REQUESTED",
            DeploymentStatus::RollbackRequested => "ROLLBACK_REQUESTED",
            DeploymentStatus::RollbackInProgress => "ROLLBACK_IN_PROGRESS",
            DeploymentStatus::RollbackSuccessful => "ROLLBACK_SUCCESSFUL",
            DeploymentStatus::RollbackFailed => "ROLLBACK_FAILED",
            DeploymentStatus::Other(s) => s,
        }
    }

    /// Rolled back (or rolling back, or asked to): the target revision failed.
    pub fn is_rollback(&self) -> bool {
        matches!(
            self,
            DeploymentStatus::RollbackRequested
                | DeploymentStatus::RollbackInProgress
                | DeploymentStatus::RollbackSuccessful
                | DeploymentStatus::RollbackFailed
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifecycleStage {
    ReconcileService,
    PreScaleUp,
    ScaleUp,
    PostScaleUp,
    TestTrafficShift,
    PostTestTrafficShift,
    ProductionTrafficShift,
    PostProductionTrafficShift,
    BakeTime,
    CleanUp,
    Other(String),
}

impl LifecycleStage {
    pub fn parse(s: &str) -> LifecycleStage {
        match s {
            "RECONCILE_SERVICE" => LifecycleStage::ReconcileService,
            "PRE_SCALE_UP" => LifecycleStage::PreScaleUp,
            "SCALE_UP" => LifecycleStage::ScaleUp,
            "POST_SCALE_UP" => LifecycleStage::PostScaleUp,
            "TEST_TRAFFIC_SHIFT" => LifecycleStage::TestTrafficShift,
            "POST_TEST_TRAFFIC_SHIFT" => LifecycleStage::PostTestTrafficShift,
            "PRODUCTION_TRAFFIC_SHIFT" => LifecycleStage::ProductionTrafficShift,
            "POST_PRODUCTION_TRAFFIC_SHIFT" => LifecycleStage::PostProductionTrafficShift,
            "BAKE_TIME" => LifecycleStage::BakeTime,
            "CLEAN_UP" => LifecycleStage::CleanUp,
            other => LifecycleStage::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            LifecycleStage::ReconcileService => "RECONCILE_SERVICE",
            LifecycleStage::PreScaleUp => "PRE_SCALE_UP",
            LifecycleStage::ScaleUp => "SCALE_UP",
            LifecycleStage::PostScaleUp => "POST_SCALE_UP",
            LifecycleStage::TestTrafficShift => "TEST_TRAFFIC_SHIFT",
            LifecycleStage::PostTestTrafficShift => "POST_TEST_TRAFFIC_SHIFT",
            LifecycleStage::ProductionTrafficShift => "PRODUCTION_TRAFFIC_SHIFT",
            LifecycleStage::PostProductionTrafficShift => "POST_PRODUCTION_TRAFFIC_SHIFT",
            LifecycleStage::BakeTime => "BAKE_TIME",
            LifecycleStage::CleanUp => "CLEAN_UP",
            LifecycleStage::Other(s) => s,
        }
    }
}

/// One service revision a deployment moves from or to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RevisionRef {
    pub arn: String,
    /// `family:revision`, when DescribeServiceRevisions answered for it.
    pub task_definition: Option<String>,
    pub requested: i32,
    pub running: i32,
    pub pending: i32,
    pub test_traffic_weight: Option<f64>,
    pub production_traffic_weight: Option<f64>,
}

impl RevisionRef {
    /// `checkout-api:43`, or the revision id when the task definition is unknown.
    pub fn label(&self) -> String {
        match &self.task_definition {
            Some(td) => td.clone(),
            None => format!(
                "revision {}",
                self.arn.rsplit('/').next().unwrap_or(&self.arn)
            ),
        }
    }

    /// `43` of `checkout-api:43`.
    pub fn revision_number(&self) -> Option<&str> {
        self.task_definition.as_deref()?.rsplit(':').next()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HookDetail {
    pub id: String,
    pub target_arn: String,
    /// IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT, AWAITING_ACTION.
    pub status: String,
    pub expires_at: Option<i64>,
}

impl HookDetail {
    /// `ledger-api-smoke-test` of a Lambda ARN.
    pub fn name(&self) -> &str {
        self.target_arn
            .rsplit(':')
            .next()
            .unwrap_or(&self.target_arn)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CircuitBreakerState {
    /// DISABLED, MONITORING, MONITORING_COMPLETE, TRIGGERED.
    pub status: String,
    pub failures: i32,
    pub threshold: i32,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RollbackInfo {
    pub reason: Option<String>,
    pub started_at: Option<i64>,
    /// The revision it went back to.
    pub to: Option<RevisionRef>,
}

/// One service deployment. Times are unix seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryDeployment {
    pub arn: String,
    pub status: DeploymentStatus,
    pub status_reason: Option<String>,
    pub created_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub stopped_at: Option<i64>,
    pub updated_at: Option<i64>,
    pub source: Vec<RevisionRef>,
    pub target: Option<RevisionRef>,
    pub circuit_breaker: Option<CircuitBreakerState>,
    pub triggered_alarms: Vec<String>,
    pub rollback: Option<RollbackInfo>,
    /// ROLLING, BLUE_GREEN, ... (from the deployment's configuration).
    pub strategy: Option<String>,
    pub bake_time_minutes: Option<i32>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub hooks: Vec<HookDetail>,
}

impl HistoryDeployment {
    /// The id at the end of the ARN.
    pub fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }

    pub fn start(&self) -> Option<i64> {
        self.started_at.or(self.created_at)
    }

    /// `checkout-api:42→43` (one family), `api:7 → web:3` (two), or the target alone.
    pub fn revisions(&self) -> String {
        let target = self
            .target
            .as_ref()
            .map(RevisionRef::label)
            .unwrap_or_else(|| "?".into());
        let Some(source) = self
            .source
            .first()
            .filter(|s| Some(s.arn.as_str()) != self.target.as_ref().map(|t| t.arn.as_str()))
        else {
            return target;
        };
        let from = source.label();
        match (from.rsplit_once(':'), target.rsplit_once(':')) {
            (Some((fa, a)), Some((fb, b))) if fa == fb && source.task_definition.is_some() => {
                format!("{fa}:{a}→{b}")
            }
            _ => format!("{from} → {target}"),
        }
    }

    /// What stopped or rolled it back, in words: the circuit breaker with its count, alarms
    /// in ALARM, a failed lifecycle hook, or a user's StopServiceDeployment.
    pub fn cause(&self) -> Option<String> {
        if let Some(h) = self
            .hooks
            .iter()
            .find(|h| h.status == "FAILED" || h.status == "TIMED_OUT")
        {
            let at = self
                .lifecycle_stage
                .as_ref()
                .map(|s| format!(" at {}", s.as_str()))
                .unwrap_or_default();
            return Some(format!(
                "lifecycle hook {} {}{at}",
                h.name(),
                h.status.to_lowercase().replace('_', " ")
            ));
        }
        if let Some(cb) = &self.circuit_breaker
            && cb.status == "TRIGGERED"
        {
            return Some(format!(
                "circuit breaker: {}/{} tasks failed",
                cb.failures, cb.threshold
            ));
        }
        if !self.triggered_alarms.is_empty() {
            return Some(format!(
                "alarms in ALARM: {}",
                self.triggered_alarms.join(", ")
            ));
        }
        let reason = self
            .rollback
            .as_ref()
            .and_then(|r| r.reason.clone())
            .or_else(|| self.status_reason.clone());
        match self.status {
            DeploymentStatus::StopRequested | DeploymentStatus::RollbackRequested
                if reason.is_none() =>
            {
                Some("stopped by a user (StopServiceDeployment)".into())
            }
            DeploymentStatus::Stopped
            | DeploymentStatus::StopRequested
            | DeploymentStatus::RollbackRequested
            | DeploymentStatus::RollbackInProgress
            | DeploymentStatus::RollbackSuccessful
            | DeploymentStatus::RollbackFailed => reason,
            _ => None,
        }
    }

    /// When the stage last changed, as far as the API tells: `updatedAt`.
    pub fn stage_since(&self) -> Option<i64> {
        self.updated_at.or(self.start())
    }

    /// Blue/green stage not advancing: `(stage, seconds in it)` when stuck at `now`.
    pub fn stuck_stage(&self, now: i64) -> Option<(&LifecycleStage, i64)> {
        if self.status != DeploymentStatus::InProgress {
            return None;
        }
        let stage = self.lifecycle_stage.as_ref()?;
        let since = now - self.stage_since()?;
        let allowed = match stage {
            LifecycleStage::BakeTime => {
                STUCK_STAGE_SECS + i64::from(self.bake_time_minutes.unwrap_or(0)) * 60
            }
            _ => STUCK_STAGE_SECS,
        };
        (since > allowed).then_some((stage, since))
    }

    /// Bake time left at `now` (in BAKE_TIME only).
    pub fn bake_left(&self, now: i64) -> Option<i64> {
        if self.lifecycle_stage != Some(LifecycleStage::BakeTime) {
            return None;
        }
        let total = i64::from(self.bake_time_minutes?) * 60;
        Some((total - (now - self.stage_since()?)).max(0))
    }
}

/// The history of one service as last loaded, or why it could not be.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Unix seconds of the answer.
    pub loaded_at: i64,
    /// Newest first; `Err` is the reason in words.
    pub result: Result<Vec<HistoryDeployment>, String>,
}

impl History {
    pub fn deployments(&self) -> &[HistoryDeployment] {
        self.result.as_deref().unwrap_or(&[])
    }
}

/// `8m`, `2h`, `30s` (the services row is narrow at 80 columns).
pub fn ago(secs: i64) -> String {
    let secs = secs.max(0);
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m", secs / 60)
    } else {
        format!("{}h", secs / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rolled_back() -> HistoryDeployment {
        HistoryDeployment {
            arn: "arn:aws:ecs:r:1:service-deployment/prod/api/abc".into(),
            status: DeploymentStatus::parse("ROLLBACK_SUCCESSFUL"),
            status_reason: None,
            created_at: Some(100),
            started_at: Some(100),
            finished_at: Some(400),
            stopped_at: None,
            updated_at: Some(400),
            source: vec![RevisionRef {
                arn: "s1".into(),
                task_definition: Some("api:42".into()),
                ..RevisionRef::default()
            }],
            target: Some(RevisionRef {
                arn: "s2".into(),
                task_definition: Some("api:43".into()),
                ..RevisionRef::default()
            }),
            circuit_breaker: Some(CircuitBreakerState {
                status: "TRIGGERED".into(),
                failures: 3,
                threshold: 3,
            }),
            triggered_alarms: Vec::new(),
            rollback: None,
            strategy: None,
            bake_time_minutes: None,
            lifecycle_stage: None,
            hooks: Vec::new(),
        }
    }

    #[test]
    fn unknown_words_are_kept() {
        assert_eq!(
            DeploymentStatus::parse("PAUSED"),
            DeploymentStatus::Other("PAUSED".into())
        );
        assert_eq!(DeploymentStatus::parse("PAUSED").as_str(), "PAUSED");
        assert_eq!(
            LifecycleStage::parse("NEW_STAGE").as_str(),
            "NEW_STAGE",
            "an unknown stage is shown as ECS words it"
        );
    }

    #[test]
    fn the_cause_names_the_circuit_breaker_with_its_count() {
        let d = rolled_back();
        assert!(d.status.is_rollback());
        assert_eq!(d.revisions(), "api:42→43");
        assert_eq!(
            d.cause().as_deref(),
            Some("circuit breaker: 3/3 tasks failed")
        );
        assert_eq!(d.id(), "abc");
    }

    #[test]
    fn a_stage_is_stuck_after_the_threshold_but_bake_time_gets_its_bake_time() {
        let mut d = rolled_back();
        d.status = DeploymentStatus::InProgress;
        d.lifecycle_stage = Some(LifecycleStage::PostTestTrafficShift);
        d.updated_at = Some(1000);
        assert!(d.stuck_stage(1000 + STUCK_STAGE_SECS).is_none());
        assert!(d.stuck_stage(1001 + STUCK_STAGE_SECS).is_some());
        d.lifecycle_stage = Some(LifecycleStage::BakeTime);
        d.bake_time_minutes = Some(30);
        assert!(d.stuck_stage(1000 + 40 * 60).is_none(), "still baking");
        assert_eq!(d.bake_left(1000 + 10 * 60), Some(20 * 60));
        assert!(d.stuck_stage(1000 + 46 * 60).is_some());
    }
}
