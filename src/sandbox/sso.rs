//! IAM Identity Center's portal, GetRoleCredentials only, as the SDK's SSO credentials
//! provider calls it (REST-JSON: `GET /federation/credentials?account_id=&role_name=` with the
//! cached access token in `x-amz-sso_bearer_token`, unsigned). Reached when a client sets
//! `AWS_ENDPOINT_URL_SSO` to the sandbox. The role credentials it hands out are the account's
//! own sandbox key, so what the client signs with them lands in that account's fleet.
//!
//! A token must start with [`TOKEN_PREFIX`] (anything else is `UnauthorizedException`, as
//! for an expired or revoked session); each call is counted as `sso:GetRoleCredentials`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::tenants::Endpoint;

/// Tokens the sandbox's portal accepts start with this.
pub const TOKEN_PREFIX: &str = "berth-sandbox-sso-";

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::HeaderName::from_static("x-amzn-errortype"), code),
        ],
        json!({ "message": message }).to_string(),
    )
        .into_response()
}

pub(crate) async fn get_role_credentials(
    State(endpoint): State<Endpoint>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    endpoint.default.update_stats(|s| {
        *s.requests
            .entry("sso:GetRoleCredentials".to_string())
            .or_default() += 1;
    });
    let token = headers
        .get("x-amz-sso_bearer_token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !token.starts_with(TOKEN_PREFIX) {
        return error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedException",
            "Session token not found or invalid",
        );
    }
    // account ids are digits: no percent-decoding needed
    let account_id = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("account_id="))
        .unwrap_or_default();
    let Some(account) = endpoint.tenants.account_by_id(account_id) else {
        return error(StatusCode::FORBIDDEN, "ForbiddenException", "No access");
    };
    let expiration_ms = endpoint.default.virtual_now() + 3_600_000;
    let body = json!({
        "roleCredentials": {
            "accessKeyId": account.access_key_id,
            "secretAccessKey": super::DEMO_SECRET_ACCESS_KEY,
            "sessionToken": format!("berth-sandbox-session-{account_id}"),
            "expiration": expiration_ms,
        }
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
