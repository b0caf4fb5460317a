//! An SDK interceptor for custom endpoints (sandbox, moto, proxies): aws-sdk-cloudwatchlogs sends StartLiveTail to
//! the host with a `stream-` prefix, so against `http://127.0.0.1:PORT` it would resolve
//! `stream-127.0.0.1`. Install this on the Logs client only when a custom endpoint is set.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Removes a leading `stream-` from the request host before signing.
#[derive(Debug, Clone, Copy, Default)]
pub struct StripStreamHostPrefix;

impl Intercept for StripStreamHostPrefix {
    fn name(&self) -> &'static str {
        "StripStreamHostPrefix"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri().to_string();
        if let Some(fixed) = strip(&uri) {
            context.request_mut().set_uri(fixed)?;
        }
        Ok(())
    }
}

fn strip(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let rest = rest.strip_prefix("stream-")?;
    Some(format!("{scheme}://{rest}"))
}

/// For `aws_sdk_cloudwatchlogs::config::Builder::interceptor(...)`.
pub fn strip_stream_host_prefix_interceptor() -> StripStreamHostPrefix {
    StripStreamHostPrefix
}

#[cfg(test)]
mod tests {
    #[test]
    fn strips_only_the_prefix() {
        assert_eq!(
            super::strip("http://stream-127.0.0.1:4566/").as_deref(),
            Some("http://127.0.0.1:4566/")
        );
        assert_eq!(super::strip("http://127.0.0.1:4566/"), None);
    }
}
