//! CloudWatch Logs operations (placeholder).
use super::server::Shared;
use super::wire::*;
use serde_json::Value;
pub(crate) fn handle(_shared: &Shared, op: &str, _v: &Value) -> ApiResult {
    Err(ApiError::unknown_operation(op))
}
