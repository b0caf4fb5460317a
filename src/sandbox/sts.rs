//! STS GetCallerIdentity over the query protocol (form body in, XML out), as the AWS CLI
//! and the SDK send it; a JSON variant is answered too in case a client uses it.

use std::collections::BTreeMap;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::server::Shared;
use super::wire::{ApiError, ApiResult};

/// Decode an `application/x-www-form-urlencoded` body.
pub(crate) fn parse_form(body: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|kv| !kv.is_empty())
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            Some((url_decode(k)?, url_decode(v)?))
        })
        .collect()
}

fn url_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'+') => out.push(b' '),
            Some(b'%') => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            Some(&b) => out.push(b),
            None => break,
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn identity(shared: &Shared) -> (String, String, String) {
    let sim = shared.sim();
    let account = sim.account.clone();
    (
        format!("arn:aws:iam::{account}:user/berth-demo"),
        "AIDABERTHSANDBOXDEMO1".to_string(),
        account,
    )
}

pub(crate) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) fn handle(
    shared: &Shared,
    op: &str,
    form: &BTreeMap<String, String>,
    request_id: &str,
) -> Response {
    let _ = form;
    match op {
        "GetCallerIdentity" => {
            let (arn, user, account) = identity(shared);
            let body = format!(
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
                xml_escape(&arn),
                xml_escape(&user),
                xml_escape(&account),
                xml_escape(request_id)
            );
            ([(header::CONTENT_TYPE, "text/xml")], body).into_response()
        }
        _ => xml_error(
            &ApiError::new(
                "InvalidAction",
                format!("Could not find operation {op} for version 2011-06-15"),
            ),
            request_id,
        ),
    }
}

pub(crate) fn handle_json(shared: &Shared, op: &str) -> ApiResult {
    match op {
        "GetCallerIdentity" => {
            let (arn, user, account) = identity(shared);
            Ok(json!({"Arn": arn, "UserId": user, "Account": account}))
        }
        _ => Err(ApiError::unknown_operation(op)),
    }
}

pub(crate) fn xml_error(e: &ApiError, request_id: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
        xml_escape(&e.code),
        xml_escape(&e.message),
        xml_escape(request_id)
    );
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}
