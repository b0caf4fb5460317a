//! Wire helpers shared by the JSON 1.1 services: AWS-style errors, argument readers,
//! timestamps and opaque pagination tokens.

use serde_json::Value;

use super::model::Ms;

/// An AWS error answer: `{"__type": code, "message": ...}` with an HTTP status.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            code: code.to_string(),
            message: message.into(),
        }
    }
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterException", message)
    }
    pub(crate) fn cluster_not_found() -> Self {
        Self::new("ClusterNotFoundException", "Cluster not found.")
    }
    pub(crate) fn service_not_found() -> Self {
        Self::new("ServiceNotFoundException", "Service not found.")
    }
    pub(crate) fn unknown_operation(op: &str) -> Self {
        Self::new(
            "UnknownOperationException",
            format!("Operation {op} is not supported by this endpoint."),
        )
    }
}

pub(crate) type ApiResult = Result<Value, ApiError>;

/// Epoch seconds with millisecond precision, as the ECS and SSM JSON protocols send them.
pub(crate) fn secs(ms: Ms) -> Value {
    Value::from(ms as f64 / 1000.0)
}

pub(crate) fn opt_secs(ms: Option<Ms>) -> Value {
    ms.map(secs).unwrap_or(Value::Null)
}

pub(crate) fn str_arg<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub(crate) fn bool_arg(v: &Value, key: &str) -> Option<bool> {
    v.get(key).and_then(Value::as_bool)
}

pub(crate) fn int_arg(v: &Value, key: &str) -> Result<Option<i64>, ApiError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_i64()
            .or_else(|| x.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| {
                ApiError::new("SerializationException", format!("{key} must be a number"))
            }),
    }
}

/// A list of strings; a missing key is an empty list, other types are a serialization error.
pub(crate) fn str_list(v: &Value, key: &str) -> Result<Vec<String>, ApiError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str().map(str::to_string).ok_or_else(|| {
                    ApiError::new(
                        "SerializationException",
                        format!("{key} must be a list of strings"),
                    )
                })
            })
            .collect(),
        Some(_) => Err(ApiError::new(
            "SerializationException",
            format!("{key} must be a list"),
        )),
    }
}

/// Page size: `default` when absent, InvalidParameterException outside `1..=max`.
pub(crate) fn page_size(
    v: &Value,
    key: &str,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match int_arg(v, key)? {
        None => Ok(default),
        Some(n) if n >= 1 && n as usize <= max => Ok(n as usize),
        Some(n) => Err(ApiError::invalid(format!(
            "{key} must be between 1 and {max}; received {n}."
        ))),
    }
}

/// Opaque pagination tokens: hex of an internal cursor, prefixed so stray values fail.
pub(crate) fn encode_token(cursor: &str) -> String {
    let mut s = String::from("bt1");
    for b in cursor.bytes() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

pub(crate) fn decode_token(token: &str) -> Result<String, ApiError> {
    let bad = || ApiError::invalid("Invalid nextToken.");
    let hex = token.strip_prefix("bt1").ok_or_else(bad)?;
    if hex.len() % 2 != 0 {
        return Err(bad());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)?;
    String::from_utf8(bytes).map_err(|_| bad())
}

pub(crate) fn opt_token(v: &Value, key: &str) -> Result<Option<String>, ApiError> {
    match str_arg(v, key) {
        None | Some("") => Ok(None),
        Some(t) => decode_token(t).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let t = encode_token("abc|12");
        assert_eq!(decode_token(&t).ok().as_deref(), Some("abc|12"));
        assert!(decode_token("zzz").is_err());
        assert!(decode_token("bt1zz").is_err());
    }
}
