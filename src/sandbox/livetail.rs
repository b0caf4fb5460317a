//! StartLiveTail (placeholder).
use super::server::Shared;
use super::wire::*;
use axum::response::Response;
use serde_json::Value;
pub(crate) fn start(_shared: &Shared, _v: &Value) -> Result<Response, ApiError> {
    Err(ApiError::unknown_operation("StartLiveTail"))
}
