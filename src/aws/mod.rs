//! The only code that touches `aws-sdk-*`. Everything leaving this module is a [`crate::domain`]
//! type or an [`AwsError`].
//!
//! One [`aws_types::SdkConfig`] (the default credential chain: environment, profiles, SSO token
//! cache, web identity, container and instance roles) is shared by every client.

pub mod container_instances;
pub mod ecs;
mod error;
pub mod exec;
pub mod fleet;
pub mod history;
pub mod identity;
pub mod kms;
pub mod loaders;
pub mod logs;
pub mod metrics;
pub mod mutations;
pub mod profiles;
pub mod raw;
pub mod scaling;
pub mod services;
pub mod ssmmessages;
pub mod stream_prefix;
pub mod targets;
pub mod task_definitions;
pub mod tasks;
pub mod timeline;

pub use error::{AwsError, ErrorKind, classify_code, endpoint_for};

use aws_config::{BehaviorVersion, Region};

/// How to reach AWS: what the command line and the in-app switchers decide.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsTarget {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// `--endpoint-url` / `AWS_ENDPOINT_URL`: a sandbox, moto, or a VPC endpoint.
    pub endpoint_url: Option<String>,
    /// Fixed dummy credentials (the embedded sandbox); `None` uses the default chain.
    pub static_credentials: Option<(String, String)>,
    /// Longest a single request attempt may take before it is abandoned and retried; `None`
    /// is [`DEFAULT_ATTEMPT_TIMEOUT`]. Tests use short ones, per target so that a test cannot
    /// change another's clients.
    pub attempt_timeout: Option<std::time::Duration>,
}

/// The SDK clients, built once per target and shared by every effect.
#[derive(Clone, Debug)]
pub struct Clients {
    pub region: String,
    pub ecs: aws_sdk_ecs::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub sts: aws_sdk_sts::Client,
    /// Data keys of KMS-encrypted exec sessions.
    pub kms: aws_sdk_kms::Client,
    /// Load-balancer target health.
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    /// Application Auto Scaling (the services' scalable targets, policies, activities).
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    /// GetMetricData (CPU and memory trends).
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// The credential chain the clients sign with (the native Session Manager client signs
    /// its WebSocket upgrade with the same one).
    pub credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
}

/// Longest a single request attempt may take before it is abandoned and retried (a hung
/// endpoint, a half-open connection), unless the target says otherwise. The SDK has none by
/// default.
pub const DEFAULT_ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The SDK configuration of `target`: its profile (or static keys), region, endpoint,
/// the read retry policy and the timeouts. One per target; its credentials are cached.
pub(crate) async fn sdk_config(target: &AwsTarget) -> aws_types::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &target.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &target.region {
        loader = loader.region(Region::new(region.clone()));
    }
    // Polling reads absorb throttling bursts with more attempts than the SDK default.
    loader = loader.retry_config(services::read_retry_config());
    loader = loader.timeout_config(timeouts(target));
    if let Some(url) = &target.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some((id, secret)) = &target.static_credentials {
        loader = loader.credentials_provider(aws_sdk_ecs::config::Credentials::new(
            id.clone(),
            secret.clone(),
            None,
            None,
            "berth-static",
        ));
    }
    loader.load().await
}

/// Connect and per-attempt timeouts for the clients of `target`.
pub fn timeouts(target: &AwsTarget) -> aws_smithy_types::timeout::TimeoutConfig {
    aws_smithy_types::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(target.attempt_timeout.unwrap_or(DEFAULT_ATTEMPT_TIMEOUT))
        .build()
}

/// Resolve configuration for `target`. Credentials are resolved lazily by the SDK on the first
/// call; only the region is required here.
pub async fn connect(target: &AwsTarget) -> Result<Clients, AwsError> {
    let config = sdk_config(target).await;
    let region = match config.region() {
        Some(r) if !r.as_ref().is_empty() => r.to_string(),
        _ => {
            return Err(AwsError::new(
                ErrorKind::NoRegion,
                "config",
                match &target.profile {
                    Some(p) => format!("no region for profile {p}"),
                    None => "no region in --region, AWS_REGION or the default profile".to_string(),
                },
            ));
        }
    };
    Ok(Clients {
        region,
        credentials: config.credentials_provider(),
        ecs: aws_sdk_ecs::Client::from_conf(
            aws_sdk_ecs::config::Builder::from(&config)
                .retry_classifier(FailFastWhenUnreachable)
                .build(),
        ),
        logs: logs_client(&config, target.endpoint_url.is_some()),
        ssm: aws_sdk_ssm::Client::from_conf(
            aws_sdk_ssm::config::Builder::from(&config)
                .retry_classifier(FailFastWhenUnreachable)
                .build(),
        ),
        sts: aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&config)
                .retry_classifier(FailFastWhenUnreachable)
                .build(),
        ),
        kms: aws_sdk_kms::Client::from_conf(
            aws_sdk_kms::config::Builder::from(&config)
                .retry_classifier(FailFastWhenUnreachable)
                .build(),
        ),
        elb: aws_sdk_elasticloadbalancingv2::Client::from_conf(
            aws_sdk_elasticloadbalancingv2::config::Builder::from(&config)
                .retry_classifier(FailFastWhenUnreachable)
                .build(),
        ),
        autoscaling: aws_sdk_applicationautoscaling::Client::from_conf(
            aws_sdk_applicationautoscaling::config::Builder::from(&config)
                .retry_classifier(FailFastWhenUnreachable)
                .build(),
        ),
        cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
            aws_sdk_cloudwatch::config::Builder::from(&config)
                .retry_classifier(FailFastWhenUnreachable)
                .build(),
        ),
    })
}

/// Forbids the SDK's retries when the endpoint cannot be reached at all (connection refused,
/// a name that does not resolve, a connect timeout). Eight attempts with back-off would
/// otherwise hide an outage for half a minute, and hold the view's next refresh back as long
/// after the endpoint returns. The view's own refresh is the retry: it comes every
/// `--refresh` seconds and at once on ctrl-r. Throttling and errors after the request was
/// sent keep the SDK's retries.
#[derive(Debug, Clone, Copy)]
pub struct FailFastWhenUnreachable;

impl aws_smithy_runtime_api::client::retries::classifiers::ClassifyRetry
    for FailFastWhenUnreachable
{
    fn classify_retry(
        &self,
        ctx: &aws_smithy_runtime_api::client::interceptors::context::InterceptorContext,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryAction {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryAction;
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        match err.as_connector_error() {
            Some(c) if c.is_timeout() || never_connected(c) => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "berth: fail fast when the endpoint is unreachable"
    }
}

/// Whether a connector error happened before a connection existed (so nothing was sent).
fn never_connected(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        let text = err.to_string().to_ascii_lowercase();
        if text.contains("connection refused")
            || text.contains("(connect)")
            || text.contains("dns error")
            || text.contains("failed to lookup address")
        {
            return true;
        }
        next = err.source();
    }
    false
}

/// The Logs client. With a custom endpoint, StartLiveTail's `stream-` host prefix is removed
/// (the SDK would otherwise resolve `stream-127.0.0.1`).
fn logs_client(
    config: &aws_types::SdkConfig,
    custom_endpoint: bool,
) -> aws_sdk_cloudwatchlogs::Client {
    let mut builder = aws_sdk_cloudwatchlogs::config::Builder::from(config)
        .retry_classifier(FailFastWhenUnreachable);
    if custom_endpoint {
        builder = builder.interceptor(stream_prefix::StripStreamHostPrefix);
    }
    aws_sdk_cloudwatchlogs::Client::from_conf(builder.build())
}

#[cfg(test)]
mod tests {
    use super::FailFastWhenUnreachable;
    use aws_smithy_runtime_api::client::interceptors::context::{Error, Input, InterceptorContext};
    use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};

    fn classify(err: OrchestratorError<Error>) -> RetryAction {
        let mut ctx = InterceptorContext::new(Input::erase("request"));
        ctx.set_output_or_error(Err(err));
        FailFastWhenUnreachable.classify_retry(&ctx)
    }

    fn io(kind: std::io::ErrorKind) -> OrchestratorError<Error> {
        OrchestratorError::connector(ConnectorError::io(Box::new(std::io::Error::from(kind))))
    }

    #[test]
    fn an_unreachable_endpoint_is_not_retried_by_the_sdk() {
        let refused = classify(io(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(refused, RetryAction::RetryForbidden);
        let connect_timeout =
            OrchestratorError::connector(ConnectorError::timeout("connect timed out".into()));
        assert_eq!(classify(connect_timeout), RetryAction::RetryForbidden);
        // A connection lost after the request went out keeps the SDK's retries.
        let reset = classify(io(std::io::ErrorKind::ConnectionReset));
        assert_eq!(reset, RetryAction::NoActionIndicated);
    }
}
