//! What the native Session Manager client needs from AWS: the WebSocket upgrade signed with
//! SigV4 (service `ssmmessages`) from berth's own credential chain, `ssm:ResumeSession` after a
//! dropped socket, `ssm:TerminateSession`, and KMS data keys for encrypted sessions. The
//! session token itself travels in the OpenDataChannel frame, never in a header or the URL.

use std::time::SystemTime;

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use zeroize::Zeroizing;

use super::{AwsError, Clients, ErrorKind};

/// The signing name of the data channel's endpoint.
pub const SIGNING_NAME: &str = "ssmmessages";

/// AWS access for one data channel.
#[derive(Clone)]
pub struct ChannelAccess {
    clients: Clients,
}

impl std::fmt::Debug for ChannelAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelAccess")
            .field("region", &self.clients.region)
            .finish()
    }
}

impl ChannelAccess {
    pub fn new(clients: &Clients) -> ChannelAccess {
        ChannelAccess {
            clients: clients.clone(),
        }
    }

    pub fn region(&self) -> &str {
        &self.clients.region
    }

    /// The upgrade request for `url`, with `Host`, `X-Amz-Date`, `Authorization` (and
    /// `X-Amz-Security-Token` for temporary credentials) from the SigV4 signature. A URL that
    /// is already presigned (`X-Amz-Signature` in its query) is sent as it is.
    pub async fn upgrade_request(&self, url: &str) -> Result<http::Request<()>, AwsError> {
        let uri: http::Uri = url.parse().map_err(|e| {
            AwsError::new(
                ErrorKind::InvalidRequest,
                "ssmmessages:OpenDataChannel",
                format!("the stream URL is not a URL: {e}"),
            )
        })?;
        let host = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        let mut request = http::Request::builder()
            .method("GET")
            .uri(uri.clone())
            .header("host", host.as_str())
            .body(())
            .map_err(|e| {
                AwsError::new(
                    ErrorKind::InvalidRequest,
                    "ssmmessages:OpenDataChannel",
                    e.to_string(),
                )
            })?;
        if uri.query().is_some_and(|q| q.contains("X-Amz-Signature")) {
            return Ok(request);
        }
        let Some(provider) = self.clients.credentials.as_ref() else {
            return Err(AwsError::new(
                ErrorKind::NoCredentials,
                "ssmmessages:OpenDataChannel",
                "no credentials to sign the data channel with",
            ));
        };
        let credentials = provider.provide_credentials().await.map_err(|e| {
            AwsError::new(
                ErrorKind::NoCredentials,
                "ssmmessages:OpenDataChannel",
                format!(
                    "cannot load credentials: {}",
                    aws_sdk_ecs::error::DisplayErrorContext(&e)
                ),
            )
        })?;
        let identity = credentials.into();
        let signing_failed = |e: String| {
            AwsError::new(
                ErrorKind::Other,
                "ssmmessages:OpenDataChannel",
                format!("cannot sign the request: {e}"),
            )
        };
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.clients.region)
            .name(SIGNING_NAME)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| signing_failed(e.to_string()))?
            .into();
        let signable = SignableRequest::new(
            "GET",
            url,
            std::iter::once(("host", host.as_str())),
            SignableBody::Bytes(&[]),
        )
        .map_err(|e| signing_failed(e.to_string()))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| signing_failed(e.to_string()))?
            .into_parts();
        instructions.apply_to_request_http1x(&mut request);
        Ok(request)
    }

    /// `ssm:ResumeSession`: a new token for the same session, or `None` when the session is
    /// over (timed out or terminated).
    pub async fn resume(&self, session_id: &str) -> Result<Option<Zeroizing<String>>, AwsError> {
        let out = self
            .clients
            .ssm
            .resume_session()
            .session_id(session_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ssm:ResumeSession", &e))?;
        Ok(out
            .token_value()
            .filter(|t| !t.is_empty())
            .map(|t| Zeroizing::new(t.to_string())))
    }

    /// A KMS data key for an encrypted session (its context names the session and target).
    pub async fn data_key(
        &self,
        key_id: &str,
        session_id: &str,
        target: &str,
    ) -> Result<super::kms::DataKey, AwsError> {
        super::kms::generate_data_key(&self.clients.kms, key_id, session_id, target).await
    }

    /// `ssm:TerminateSession`.
    pub async fn terminate(&self, session_id: &str) -> Result<(), AwsError> {
        super::exec::terminate_session(&self.clients.ssm, session_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::AwsTarget;

    async fn access() -> ChannelAccess {
        let target = AwsTarget {
            region: Some("eu-west-1".into()),
            endpoint_url: Some("http://127.0.0.1:9".into()),
            static_credentials: Some(("AKIDEXAMPLE".into(), "secret-example".into())),
            ..AwsTarget::default()
        };
        let clients = crate::aws::connect(&target)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        ChannelAccess::new(&clients)
    }

    #[tokio::test]
    async fn the_upgrade_is_signed_for_ssmmessages_and_carries_no_token() {
        let a = access().await;
        let url =
            "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/s-1?role=publish_subscribe";
        let req = a
            .upgrade_request(url)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let auth = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{auth}"
        );
        assert!(
            auth.contains("/eu-west-1/ssmmessages/aws4_request"),
            "{auth}"
        );
        assert!(auth.contains("SignedHeaders=host;x-amz-date"), "{auth}");
        assert!(req.headers().contains_key("x-amz-date"));
        assert_eq!(
            req.headers().get("host").and_then(|v| v.to_str().ok()),
            Some("ssmmessages.eu-west-1.amazonaws.com")
        );
        assert_eq!(req.uri().to_string(), url);
        assert!(!format!("{a:?}").contains("secret-example"));
    }

    #[tokio::test]
    async fn a_presigned_url_is_left_alone() {
        let a = access().await;
        let url = "wss://h/v1/data-channel/s?X-Amz-Signature=abc";
        let req = a
            .upgrade_request(url)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!req.headers().contains_key("authorization"));
    }
}
