//! Which simulated (account, region) a request is for, and the fleets of each.
//!
//! AWS decides the account from the access key id and the region from the endpoint; the
//! sandbox has one endpoint, so it reads both from the SigV4 credential scope every SDK
//! sends (`Credential=AKID/date/region/service/aws4_request`), the same for JSON 1.1, query
//! and RPC v2 CBOR. The default demo key, and any request when no accounts are configured,
//! goes to the default fleet exactly as before tenants existed.
//!
//! Tenants are built on their first request, so a fleet of 60 accounts × regions costs
//! nothing until someone looks. Each shares the default's clock, faults and shutdown signal
//! and has its own token bucket, as AWS throttles per account and region.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::FromRef;
use axum::http::HeaderMap;
use tokio::sync::OnceCell;

use super::accounts::{AccountBehaviour, SandboxAccount, TENANT_CLUSTERS, TENANT_SCALE};
use super::server::Shared;
use super::wire::ApiError;
use super::{DEMO_ACCESS_KEY_ID, SandboxOptions, Scenario, Stats};

/// The access key id and region a request was signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SigningScope {
    pub access_key_id: String,
    pub region: String,
}

/// Read the credential scope of a SigV4 `Authorization` header; `None` for anything that
/// is not one (unsigned, SigV4a, malformed).
pub(crate) fn signing_scope(authorization: &str) -> Option<SigningScope> {
    let params = authorization.trim().strip_prefix("AWS4-HMAC-SHA256")?;
    // the SDKs separate parameters with ", "; some signers use "," alone
    let credential = params
        .split(',')
        .find_map(|p| p.trim().strip_prefix("Credential="))?;
    let mut parts = credential.split('/');
    let (key, _date, region, _service, terminator) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let well_formed = parts.next().is_none()
        && terminator == "aws4_request"
        && !key.is_empty()
        && !region.is_empty();
    well_formed.then(|| SigningScope {
        access_key_id: key.to_string(),
        region: region.to_string(),
    })
}

type TenantKey = (String, String);

/// The axum state of the whole endpoint: the default fleet and the tenants.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) default: Arc<Shared>,
    pub(crate) tenants: Arc<Tenants>,
}

// The data channel and the faults routes work on the default fleet (faults are one set
// shared by all tenants; the data channel cannot tell tenants apart, see `server::serve`).
impl FromRef<Endpoint> for Arc<Shared> {
    fn from_ref(endpoint: &Endpoint) -> Arc<Shared> {
        endpoint.default.clone()
    }
}

/// Where a request goes.
pub(crate) enum Tenant {
    Default,
    Account(Arc<Shared>),
    /// Refused before reaching a fleet (already counted in the tenant's stats).
    Rejected(ApiError),
}

pub(crate) struct Tenants {
    accounts: HashMap<String, SandboxAccount>,
    /// Options every tenant inherits (latency, rate limit, speed).
    base: SandboxOptions,
    /// One cell per tenant, so two racing first requests wait for one build.
    built: Mutex<HashMap<TenantKey, Arc<OnceCell<Arc<Shared>>>>>,
    /// Counters of refused requests, which never reach (or build) a fleet.
    rejected: Mutex<HashMap<TenantKey, Stats>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn unrecognized() -> ApiError {
    ApiError::new(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
}

/// Mix the region into the account's seed so each region has a fleet of its own.
fn region_seed(seed: u64, region: &str) -> u64 {
    let h = region.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    // splitmix64 finaliser: nearby seeds give unrelated fleets
    let mut z = seed ^ h;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Tenants {
    pub(crate) fn new(opts: &SandboxOptions) -> Tenants {
        Tenants {
            accounts: opts
                .accounts
                .iter()
                .map(|a| (a.access_key_id.clone(), a.clone()))
                .collect(),
            base: SandboxOptions {
                accounts: Vec::new(),
                ..opts.clone()
            },
            built: Mutex::new(HashMap::new()),
            rejected: Mutex::new(HashMap::new()),
        }
    }

    /// The account whose id is `id` (the SSO portal hands out its key).
    pub(crate) fn account_by_id(&self, id: &str) -> Option<&SandboxAccount> {
        self.accounts.values().find(|a| a.account_id == id)
    }

    /// Options of one tenant's fleet.
    fn options(&self, account: &SandboxAccount, region: &str) -> SandboxOptions {
        let first = account.regions.first().is_some_and(|r| r == region);
        let seed = region_seed(account.seed, region);
        // unless told, sizes vary by seed so two tenants' service lists differ
        let scale = TENANT_SCALE.start() + (seed % 7) as usize;
        let clusters = TENANT_CLUSTERS.start() + ((seed >> 8) % 2) as usize;
        SandboxOptions {
            scenario: if first {
                account.scenario
            } else {
                Scenario::Steady
            },
            scale: Some(account.scale.unwrap_or(scale)),
            clusters: Some(account.clusters.unwrap_or(clusters)),
            seed,
            region: region.to_string(),
            account_id: account.account_id.clone(),
            ..self.base.clone()
        }
    }

    fn reject(&self, scope: &SigningScope, operation: &str, e: ApiError) -> Tenant {
        let key = (scope.access_key_id.clone(), scope.region.clone());
        let mut rejected = lock(&self.rejected);
        *rejected
            .entry(key)
            .or_default()
            .requests
            .entry(operation.to_string())
            .or_default() += 1;
        Tenant::Rejected(e)
    }

    /// Decide where a request for `operation` ("ecs:ListClusters") goes, building the
    /// tenant's fleet if this is its first request.
    pub(crate) async fn resolve(
        &self,
        default: &Arc<Shared>,
        headers: &HeaderMap,
        operation: &str,
    ) -> Tenant {
        if self.accounts.is_empty() {
            return Tenant::Default;
        }
        // Unsigned requests (curl, the raw HTTP tests) keep reaching the default fleet.
        let Some(scope) = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(signing_scope)
        else {
            return Tenant::Default;
        };
        if scope.access_key_id == DEMO_ACCESS_KEY_ID {
            return Tenant::Default;
        }
        let Some(account) = self.accounts.get(&scope.access_key_id) else {
            return self.reject(&scope, operation, unrecognized());
        };
        // The order AWS checks in: the token, then the region, then the policy.
        if account.behaviour == AccountBehaviour::ExpiredCredentials {
            let e = ApiError::new(
                "ExpiredTokenException",
                "The security token included in the request is expired",
            );
            return self.reject(&scope, operation, e);
        }
        if !account.serves_region(&scope.region) {
            return self.reject(&scope, operation, unrecognized());
        }
        if account.behaviour == AccountBehaviour::Denied && operation.starts_with("ecs:") {
            let e = ApiError::new(
                "AccessDeniedException",
                format!(
                    "User: arn:aws:sts::{id}:assumed-role/berth-sandbox/console is not authorized to perform: {operation} because no identity-based policy allows the {operation} action",
                    id = account.account_id
                ),
            );
            return self.reject(&scope, operation, e);
        }
        let cell = lock(&self.built)
            .entry((scope.access_key_id.clone(), scope.region.clone()))
            .or_default()
            .clone();
        let opts = self.options(account, &scope.region);
        let default = default.clone();
        let built = cell
            .get_or_try_init(|| async move {
                // building a fleet is CPU work: keep it off the runtime's workers
                tokio::task::spawn_blocking(move || Arc::new(default.tenant(&opts))).await
            })
            .await;
        match built {
            Ok(shared) => Tenant::Account(shared.clone()),
            Err(e) => {
                tracing::warn!("sandbox tenant build failed: {e}");
                Tenant::Rejected(ApiError {
                    status: 500,
                    code: "InternalFailure".into(),
                    message: "The sandbox could not build this account's fleet.".into(),
                })
            }
        }
    }

    fn built(&self) -> Vec<(TenantKey, Arc<Shared>)> {
        lock(&self.built)
            .iter()
            .filter_map(|(k, cell)| cell.get().map(|s| (k.clone(), s.clone())))
            .collect()
    }

    /// Counters over the default fleet and every tenant, refused requests included.
    pub(crate) fn total_stats(&self, default: &Shared) -> Stats {
        let mut total = default.stats();
        for (_, shared) in self.built() {
            total.absorb(&shared.stats());
        }
        for stats in lock(&self.rejected).values() {
            total.absorb(stats);
        }
        total
    }

    /// Counters of one (access key id, region); the demo key's are the default fleet's.
    pub(crate) fn stats_for(&self, default: &Shared, access_key_id: &str, region: &str) -> Stats {
        if access_key_id == DEMO_ACCESS_KEY_ID || self.accounts.is_empty() {
            return default.stats();
        }
        let key = (access_key_id.to_string(), region.to_string());
        let mut stats = Stats::default();
        if let Some((_, shared)) = self.built().into_iter().find(|(k, _)| *k == key) {
            stats.absorb(&shared.stats());
        }
        if let Some(rejected) = lock(&self.rejected).get(&key) {
            stats.absorb(rejected);
        }
        stats
    }

    pub(crate) fn reset_stats(&self, default: &Shared) {
        default.reset_stats();
        for (_, shared) in self.built() {
            shared.reset_stats();
        }
        lock(&self.rejected).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_credential_scope() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIABERTHPROD0000001/20261204/eu-west-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc123";
        assert_eq!(
            signing_scope(h),
            Some(SigningScope {
                access_key_id: "AKIABERTHPROD0000001".into(),
                region: "eu-west-1".into()
            })
        );
        // no space after the commas, credential not first
        let h = "AWS4-HMAC-SHA256 SignedHeaders=host,Credential=AKID/20261204/us-east-1/monitoring/aws4_request,Signature=x";
        assert_eq!(
            signing_scope(h).map(|s| (s.access_key_id, s.region)),
            Some(("AKID".into(), "us-east-1".into()))
        );
    }

    #[test]
    fn malformed_headers_name_no_tenant() {
        for h in [
            "",
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 ",
            "Basic dXNlcjpwYXNz",
            "AWS4-ECDSA-P256-SHA256 Credential=AKID/20261204/ecs/aws4_request",
            "AWS4-HMAC-SHA256 Credential=",
            "AWS4-HMAC-SHA256 Credential=AKID",
            "AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/ecs",
            "AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/ecs/other",
            "AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/ecs/aws4_request/extra",
            "AWS4-HMAC-SHA256 Credential=/20261204/us-east-1/ecs/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AKID/20261204//ecs/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AKID/\u{e9}/us-east-1/ecs/aws4_request/\u{0}",
            ",,,,",
        ] {
            assert_eq!(signing_scope(h), None, "{h:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn racing_first_requests_share_one_build() {
        let opts = SandboxOptions {
            accounts: crate::sandbox::generated_accounts(1, &["us-east-1"]),
            ..SandboxOptions::default()
        };
        let default = Arc::new(Shared::new(&opts, ([127, 0, 0, 1], 0).into()));
        let tenants = Arc::new(Tenants::new(&opts));
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            axum::http::HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKIABERTHGEN00000001/20261204/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=0",
            ),
        );
        let mut racing = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (default, tenants, headers) = (default.clone(), tenants.clone(), headers.clone());
            racing.spawn(async move {
                match tenants
                    .resolve(&default, &headers, "ecs:ListClusters")
                    .await
                {
                    Tenant::Account(shared) => Some(shared),
                    _ => None,
                }
            });
        }
        let mut seen: Vec<Arc<Shared>> = Vec::new();
        while let Some(Ok(got)) = racing.join_next().await {
            match got {
                Some(shared) => seen.push(shared),
                None => panic!("the account's key did not reach its fleet"),
            }
        }
        assert_eq!(seen.len(), 8);
        assert!(seen.iter().all(|s| Arc::ptr_eq(s, &seen[0])));
        assert_eq!(tenants.built().len(), 1);
    }

    #[test]
    fn regions_of_one_account_get_different_seeds() {
        assert_ne!(region_seed(7, "us-east-1"), region_seed(7, "eu-west-1"));
        assert_ne!(region_seed(7, "us-east-1"), region_seed(8, "us-east-1"));
        assert_eq!(region_seed(7, "us-east-1"), region_seed(7, "us-east-1"));
    }
}
