//! Secrets Manager, just enough to hold the fleet's secret values: every app container's
//! `DB_PASSWORD` secret has a value containing [`MARKER`], served by GetSecretValue as a real
//! account would. berth never calls it (a task definition names a secret by its ARN; its value
//! is for the container alone), and tests assert both that the sandbox counted no such call and
//! that the marker never reaches the screen, an export or the log.

use serde_json::{Value, json};

use super::server::Shared;
use super::wire::*;

/// In every secret value of the sandbox: what a test looks for and must never find.
pub const MARKER: &str = "s3cr3t-sandbox-value-never-shown";

/// The ARN of a service's database password.
pub(crate) fn arn(region: &str, account: &str, cluster: &str, service: &str) -> String {
    format!(
        "arn:aws:secretsmanager:{region}:{account}:secret:{cluster}/{service}/db-password-Xk29Qa"
    )
}

/// The value behind `arn`, when it names one of the fleet's secrets.
fn value(arn: &str) -> Option<String> {
    let rest = arn.split(":secret:").nth(1)?;
    rest.ends_with("/db-password-Xk29Qa")
        .then(|| format!("{MARKER}:{}", rest.len()))
}

pub(crate) fn handle(_shared: &Shared, op: &str, v: &Value) -> ApiResult {
    match op {
        "GetSecretValue" => {
            let id = v.get("SecretId").and_then(Value::as_str).ok_or_else(|| {
                ApiError::new("InvalidParameterException", "SecretId is required")
            })?;
            let secret = value(id).ok_or_else(|| {
                ApiError::new(
                    "ResourceNotFoundException",
                    "Secrets Manager can't find the specified secret.",
                )
            })?;
            Ok(json!({"ARN": id, "Name": id.rsplit(":secret:").next(), "SecretString": secret}))
        }
        _ => Err(ApiError::unknown_operation(op)),
    }
}
