//! AWS failures as values the UI can show: what went wrong, and what to do about it.

use std::fmt;

use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No credentials anywhere in the chain.
    NoCredentials,
    /// SSO token or session credentials expired.
    ExpiredCredentials,
    /// The caller lacks permission.
    AccessDenied,
    /// Rate limited; retried with back-off.
    Throttled,
    /// No region could be resolved.
    NoRegion,
    /// The resource does not exist (cluster, service, ...).
    NotFound,
    /// Could not reach the endpoint, or it timed out.
    Network,
    /// The request was invalid (a bug, or a bad name typed by the user).
    InvalidRequest,
    /// Anything else, including 5xx from AWS.
    Other,
}

/// An error from an AWS call, already classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub kind: ErrorKind,
    /// The operation that failed, e.g. `ecs:ListClusters`.
    pub operation: String,
    /// The AWS error code when the service answered, e.g. `AccessDeniedException`.
    pub code: Option<String>,
    /// A one-line message (never contains credentials: built from error codes and messages).
    pub message: String,
}

impl AwsError {
    pub fn new(kind: ErrorKind, operation: &str, message: impl Into<String>) -> Self {
        AwsError {
            kind,
            operation: operation.to_string(),
            code: None,
            message: message.into(),
        }
    }

    /// Classify any SDK error.
    pub fn from_sdk<E, R>(operation: &str, err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        let code = err.code().map(str::to_string);
        let detail = one_line(&DisplayErrorContext(err).to_string());
        let message = match (err.message(), &code) {
            (Some(m), _) if !m.is_empty() => one_line(m),
            _ => detail.clone(),
        };
        let kind = match code.as_deref() {
            Some(c) => classify_code(c),
            None => classify_transport(err, &detail),
        };
        AwsError {
            kind,
            operation: operation.to_string(),
            code,
            message,
        }
    }

    /// No SDK clients: the connection to AWS failed or is still being made.
    pub fn not_connected() -> Self {
        AwsError::new(ErrorKind::Network, "berth", "not connected to AWS yet")
    }

    /// The AWS service an operation belongs to (`ecs` of `ecs:ListClusters`).
    pub fn service(&self) -> &str {
        self.operation.split(':').next().unwrap_or("")
    }

    /// What a person should read: what happened, in words, without SDK internals.
    pub fn plain(&self) -> String {
        self.plain_at(None)
    }

    /// [`AwsError::plain`], naming the endpoint that could not be reached when known
    /// (`https://ecs.eu-west-1.amazonaws.com`).
    pub fn plain_at(&self, endpoint: Option<&str>) -> String {
        let what = match endpoint {
            Some(e) => e.to_string(),
            None if self.operation == "berth" => "AWS".to_string(),
            None => format!("AWS {}", self.service().to_uppercase()),
        };
        match self.kind {
            ErrorKind::Network if self.operation == "berth" => self.message.clone(),
            ErrorKind::Network => format!("cannot reach {what}: {}", network_reason(&self.message)),
            ErrorKind::Throttled => format!("AWS is throttling {}; backing off", self.operation),
            ErrorKind::ExpiredCredentials => "AWS credentials expired".to_string(),
            ErrorKind::NoCredentials => "no usable AWS credentials".to_string(),
            // AWS's own text names the identity and the action: worth every character.
            ErrorKind::AccessDenied if !self.message.is_empty() => {
                format!("access denied to {}: {}", self.operation, self.message)
            }
            ErrorKind::AccessDenied => format!("access denied to {}", self.operation),
            ErrorKind::NoRegion => "no AWS region configured".to_string(),
            ErrorKind::NotFound | ErrorKind::InvalidRequest => self.message.clone(),
            ErrorKind::Other => match &self.code {
                Some(code) => format!("{} failed: {code}: {}", self.operation, self.message),
                None => format!("{} failed: {}", self.operation, self.message),
            },
        }
    }

    /// Should the caller retry on its own after a pause?
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, ErrorKind::Throttled | ErrorKind::Network)
    }

    /// A short title for a banner.
    pub fn title(&self) -> &'static str {
        match self.kind {
            ErrorKind::NoCredentials => "No AWS credentials found",
            ErrorKind::ExpiredCredentials => "AWS credentials expired",
            ErrorKind::AccessDenied => "Access denied",
            ErrorKind::Throttled => "AWS is throttling requests",
            ErrorKind::NoRegion => "No AWS region configured",
            ErrorKind::NotFound => "Not found",
            ErrorKind::Network => "Cannot reach AWS",
            ErrorKind::InvalidRequest => "Request rejected",
            ErrorKind::Other => "AWS error",
        }
    }

    /// What the operator should do, when we know.
    pub fn fix(&self, profile: Option<&str>) -> Option<String> {
        let profile_flag = profile
            .map(|p| format!(" --profile {p}"))
            .unwrap_or_default();
        match self.kind {
            ErrorKind::ExpiredCredentials => Some(format!(
                "run `aws sso login{profile_flag}` (or refresh your session credentials), then press refresh"
            )),
            ErrorKind::NoCredentials => Some(format!(
                "run `aws sso login{profile_flag}`, `aws configure{profile_flag}`, or pick a profile with --profile; on a bastion check its instance role"
            )),
            ErrorKind::AccessDenied => Some(format!(
                "the identity needs IAM permission for {}; check the role's policy",
                self.operation
            )),
            ErrorKind::NoRegion => Some(
                "pass --region, export AWS_REGION, or set `region` in the profile in ~/.aws/config"
                    .to_string(),
            ),
            ErrorKind::Throttled => Some("retrying with back-off".to_string()),
            ErrorKind::Network => Some(
                "check the network, proxy and --endpoint-url; retrying automatically".to_string(),
            ),
            _ => None,
        }
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{}: {code}: {}", self.operation, self.message),
            None => write!(f, "{}: {}", self.operation, self.message),
        }
    }
}

impl std::error::Error for AwsError {}

/// A transport failure in a few words, from the SDK's error text.
fn network_reason(detail: &str) -> &'static str {
    let d = detail.to_ascii_lowercase();
    if d.contains("connection refused") {
        "connection refused"
    } else if d.contains("dns")
        || d.contains("lookup address")
        || d.contains("name or service not known")
        || d.contains("nodename nor servname")
    {
        "the name does not resolve (DNS)"
    } else if d.contains("connection reset") || d.contains("broken pipe") {
        "connection reset"
    } else if d.contains("connection closed") || d.contains("incomplete message") {
        "the connection closed before an answer"
    } else if d.contains("timed out") || d.contains("timeout") {
        "no answer (timed out)"
    } else if d.contains("certificate") || d.contains("tls") || d.contains("handshake") {
        "TLS handshake failed"
    } else if d.contains("unreachable") {
        "network unreachable"
    } else {
        "the connection failed"
    }
}

/// The HTTPS endpoint of `service` in `region`, or the custom endpoint every client uses.
pub fn endpoint_for(service: &str, region: Option<&str>, custom: Option<&str>) -> Option<String> {
    if let Some(url) = custom {
        return Some(url.trim_end_matches('/').to_string());
    }
    let region = region?;
    if service.is_empty() || service == "berth" {
        return None;
    }
    Some(format!("https://{service}.{region}.amazonaws.com"))
}

/// Longest message kept; SDK error chains can run to kilobytes.
const MAX_MESSAGE: usize = 300;

/// One readable line: whitespace folded, the SDK's trailing `(DispatchFailure(...))` debug dump
/// dropped, control characters neutralised, and the length capped.
fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let readable = match debug_dump_start(&flat) {
        Some(i) => flat[..i].trim_end(),
        None => flat.as_str(),
    };
    let mut out = crate::text::sanitize(readable).into_owned();
    if out.chars().count() > MAX_MESSAGE {
        out = out.chars().take(MAX_MESSAGE).collect::<String>() + "…";
    }
    out
}

/// Where ` (SomeType(` or ` (SomeType {` starts: Rust debug output, not for people.
fn debug_dump_start(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(rel) = s[from..].find(" (") {
        let start = from + rel;
        let ident_start = start + 2;
        let mut end = ident_start;
        while end < bytes.len() && bytes[end].is_ascii_alphanumeric() {
            end += 1;
        }
        let is_type = bytes.get(ident_start).is_some_and(u8::is_ascii_uppercase);
        if is_type && matches!(bytes.get(end), Some(b'(') | Some(b' ')) {
            return Some(start);
        }
        from = start + 2;
    }
    None
}

/// Error codes across ECS, CloudWatch Logs, SSM and STS. ECS has no typed throttling error, so
/// codes are matched as strings.
pub fn classify_code(code: &str) -> ErrorKind {
    match code {
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "RequestThrottled"
        | "RequestThrottledException"
        | "SlowDown" => ErrorKind::Throttled,
        "ExpiredTokenException" | "ExpiredToken" | "RequestExpired" | "TokenRefreshRequired" => {
            ErrorKind::ExpiredCredentials
        }
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "MissingAuthenticationToken"
        | "IncompleteSignature" => ErrorKind::NoCredentials,
        "AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation" => {
            ErrorKind::AccessDenied
        }
        "ClusterNotFoundException"
        | "ServiceNotFoundException"
        | "ResourceNotFoundException"
        | "TargetNotConnected" => ErrorKind::NotFound,
        "InvalidParameterException" | "ValidationException" | "SerializationException" => {
            ErrorKind::InvalidRequest
        }
        _ => ErrorKind::Other,
    }
}

fn classify_transport<E, R>(err: &SdkError<E, R>, detail: &str) -> ErrorKind {
    let lower = detail.to_ascii_lowercase();
    if lower.contains("expired") && (lower.contains("token") || lower.contains("sso")) {
        return ErrorKind::ExpiredCredentials;
    }
    if lower.contains("loading credentials")
        || lower.contains("no credentials")
        || lower.contains("credentials provider")
        || lower.contains("no matching auth scheme")
    {
        return ErrorKind::NoCredentials;
    }
    if lower.contains("region") && lower.contains("not") && lower.contains("set") {
        return ErrorKind::NoRegion;
    }
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => ErrorKind::Network,
        SdkError::ResponseError(_) => ErrorKind::Network,
        _ => ErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_codes_are_recognised() {
        for code in [
            "ThrottlingException",
            "Throttling",
            "TooManyRequestsException",
        ] {
            assert_eq!(classify_code(code), ErrorKind::Throttled, "{code}");
        }
        assert_eq!(
            classify_code("ClusterNotFoundException"),
            ErrorKind::NotFound
        );
        assert_eq!(classify_code("SomethingNew"), ErrorKind::Other);
    }

    #[test]
    fn sdk_debug_dumps_are_dropped_from_messages() {
        let raw = "dispatch failure: other: an error occurred while loading credentials: \
                   failed (DispatchFailure(DispatchFailure { source: ConnectorError { kind: Other } }))";
        assert_eq!(
            one_line(raw),
            "dispatch failure: other: an error occurred while loading credentials: failed"
        );
        assert_eq!(one_line("no (parenthesis) here"), "no (parenthesis) here");
        assert!(one_line(&"x".repeat(5000)).chars().count() <= MAX_MESSAGE + 1);
    }

    #[test]
    fn network_failures_read_like_a_person_wrote_them() {
        let raw = "dispatch failure: io error: client error (Connect): tcp connect error: \
                   Connection refused (os error 111)";
        let e = AwsError::new(ErrorKind::Network, "ecs:ListClusters", one_line(raw));
        let url = endpoint_for("ecs", Some("eu-west-1"), None);
        assert_eq!(
            e.plain_at(url.as_deref()),
            "cannot reach https://ecs.eu-west-1.amazonaws.com: connection refused"
        );
        assert_eq!(e.plain(), "cannot reach AWS ECS: connection refused");
        let custom = endpoint_for("ecs", Some("eu-west-1"), Some("http://127.0.0.1:4566/"));
        assert_eq!(custom.as_deref(), Some("http://127.0.0.1:4566"));
        let t = AwsError::new(
            ErrorKind::Network,
            "logs:FilterLogEvents",
            "timeout: timed out",
        );
        assert_eq!(t.plain(), "cannot reach AWS LOGS: no answer (timed out)");
        assert!(!e.plain().contains("dispatch"));
    }

    #[test]
    fn expired_credentials_name_the_sso_fix() {
        let e = AwsError::new(ErrorKind::ExpiredCredentials, "sts:GetCallerIdentity", "x");
        let fix = e.fix(Some("prod")).unwrap_or_default();
        assert!(fix.contains("aws sso login --profile prod"), "{fix}");
    }
}
