//! Reading a fleet: every (profile, region) pair's ECS services, concurrently, each pair failing
//! on its own.
//!
//! - At most [`CONCURRENCY`] pairs are read at once. ECS throttles per account and region, so
//!   pairs do not share a rate limit; the bound is for this machine and the shared identity
//!   services: every pair in flight holds a connection, and the first call of a profile
//!   resolves its credentials (an SSO GetRoleCredentials, an AssumeRole). Ten keeps a 60-pair
//!   fleet at six rounds while a bastion opens ten connections, not sixty.
//! - Within a pair the calls run one after another (ListClusters, ListServices by 100,
//!   DescribeServices by 10): one account-region is never hit by more than one berth call at a
//!   time, so the fleet view cannot throttle the console someone else is using there.
//! - One SDK configuration per profile, shared by its regions: its credentials are resolved
//!   and cached once. Profiles that share an SSO session (`sso_session` in ~/.aws/config) take
//!   their first credentials one at a time, so one token is read (or refreshed) and the rest
//!   find it in the SSO cache.
//! - The account id (STS GetCallerIdentity) is read once per pair and then passed back in.

use std::collections::HashMap;
use std::sync::Arc;

use aws_config::Region;
use tokio::sync::{Mutex, OnceCell, Semaphore};

use super::{AwsError, AwsTarget, ErrorKind, FailFastWhenUnreachable};
use crate::domain::Service;
use crate::domain::fleet::{FleetPair, PairFailure, PairReport};

/// Pairs read at once.
pub const CONCURRENCY: usize = 10;

/// One pair to read and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetTarget {
    pub pair: FleetPair,
    /// The profile (or, on the sandbox, static keys) and the pair's region.
    pub target: AwsTarget,
    /// The profile's `sso_session`, when it has one.
    pub sso_session: Option<String>,
    /// The account id a previous read found (no STS call then).
    pub account: Option<String>,
}

/// Which configuration a target shares: its profile, or its static key.
fn profile_key(t: &AwsTarget) -> String {
    match (&t.static_credentials, &t.profile) {
        (Some((id, _)), _) => format!("key:{id}"),
        (None, Some(p)) => format!("profile:{p}"),
        (None, None) => "default".into(),
    }
}

/// Read every target, calling `report` as each pair finishes (in the order they finish).
pub async fn load<F>(targets: Vec<FleetTarget>, concurrency: usize, report: F)
where
    F: Fn(PairReport) + Send + Sync + 'static,
{
    let report = Arc::new(report);
    let mut configs: HashMap<String, Arc<OnceCell<aws_types::SdkConfig>>> = HashMap::new();
    let mut sessions: HashMap<String, Arc<Mutex<()>>> = HashMap::new();
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for t in targets {
        let config = configs.entry(profile_key(&t.target)).or_default().clone();
        let session = t
            .sso_session
            .as_ref()
            .map(|s| sessions.entry(s.clone()).or_default().clone());
        let (permits, report) = (permits.clone(), report.clone());
        tasks.spawn(async move {
            let Ok(_permit) = permits.acquire_owned().await else {
                return;
            };
            report(load_pair(&t, &config, session.as_deref()).await);
        });
    }
    while tasks.join_next().await.is_some() {}
}

async fn load_pair(
    t: &FleetTarget,
    config: &OnceCell<aws_types::SdkConfig>,
    session: Option<&Mutex<()>>,
) -> PairReport {
    let config = config.get_or_init(|| super::sdk_config(&t.target)).await;
    let region = Region::new(t.pair.region.clone());
    let mut account = t.account.clone();
    if account.is_none() {
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(config)
                .region(region.clone())
                .retry_classifier(FailFastWhenUnreachable)
                .build(),
        );
        // the first credentials of an SSO session one profile at a time
        let _turn = match session {
            Some(m) => Some(m.lock().await),
            None => None,
        };
        match super::identity::caller_identity(&sts).await {
            Ok(id) => account = Some(id.account),
            Err(e) => {
                return PairReport {
                    pair: t.pair.clone(),
                    account: None,
                    outcome: Err(failure(&e, &t.pair, false)),
                };
            }
        }
    }
    let ecs = aws_sdk_ecs::Client::from_conf(
        aws_sdk_ecs::config::Builder::from(config)
            .region(region)
            .retry_classifier(FailFastWhenUnreachable)
            .build(),
    );
    let outcome = services(&ecs)
        .await
        .map_err(|e| failure(&e, &t.pair, account.is_some()));
    PairReport {
        pair: t.pair.clone(),
        account,
        outcome,
    }
}

/// Every service of every cluster of one account and region.
async fn services(ecs: &aws_sdk_ecs::Client) -> Result<Vec<Service>, AwsError> {
    let mut out = Vec::new();
    for cluster in super::ecs::list_cluster_arns(ecs).await? {
        let arns = super::services::list_service_arns(ecs, &cluster).await?;
        for batch in arns.chunks(super::services::DESCRIBE_SERVICES_BATCH) {
            let (found, _gone) = super::services::describe_services(ecs, &cluster, batch).await?;
            out.extend(found);
        }
    }
    Ok(out)
}

/// What a pair's failure means and what fixes it. `identified`: STS knew the credentials, so
/// a "token invalid" from ECS is about the region, not the keys.
pub fn failure(e: &AwsError, pair: &FleetPair, identified: bool) -> PairFailure {
    let profile = &pair.profile;
    match e.kind {
        ErrorKind::ExpiredCredentials => PairFailure {
            what: "credentials expired (SSO session or session keys)".into(),
            fix: format!("aws sso login --profile {profile}, then ctrl-r"),
        },
        ErrorKind::NoCredentials
            if identified || e.code.as_deref() == Some("UnrecognizedClientException") =>
        {
            PairFailure {
                what: format!(
                    "{} refused the credentials in {}: the region is probably not enabled for this account",
                    e.service().to_uppercase(),
                    pair.region
                ),
                fix: format!(
                    "enable {} in the account (opt-in regions), or drop it from the fleet's regions",
                    pair.region
                ),
            }
        }
        ErrorKind::NoCredentials => PairFailure {
            what: format!("no usable credentials for profile {profile}"),
            fix: format!(
                "aws sso login --profile {profile}, or check the profile in ~/.aws/config"
            ),
        },
        ErrorKind::AccessDenied => PairFailure {
            what: format!("access denied to {}", e.operation),
            fix: "the role needs ecs:ListClusters, ecs:ListServices and ecs:DescribeServices"
                .into(),
        },
        ErrorKind::NoRegion => PairFailure {
            what: "no region".into(),
            fix: "name regions in the fleet".into(),
        },
        ErrorKind::Throttled => PairFailure {
            what: format!("{} is throttling", e.operation),
            fix: "read again at the next refresh, which backs off".into(),
        },
        ErrorKind::Network => PairFailure {
            what: e.plain(),
            fix: "check the network or --endpoint-url; read again at the next refresh".into(),
        },
        _ => PairFailure {
            what: e.plain(),
            fix: "read again with ctrl-r".into(),
        },
    }
}
