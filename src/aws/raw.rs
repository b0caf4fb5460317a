//! The response body as the API sent it, for the task detail's raw JSON view.
//!
//! SDK types do not implement `Serialize`, and rebuilding JSON from them would show our reading
//! of the model rather than what ECS said (unknown new fields vanish, defaults appear). So a
//! per-operation interceptor keeps a copy of the HTTP response body. It runs after
//! deserialization, when the orchestrator has already buffered a non-streaming body in memory,
//! so reading it costs one copy and never consumes the stream the SDK needs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;

/// Keeps the body of the last successfully deserialized response of the operation it is
/// installed on (`.customize().interceptor(capture.clone())`). Retried attempts overwrite it,
/// so after `send()` succeeds it holds the body the output was built from.
#[derive(Debug, Clone, Default)]
pub struct CaptureBody {
    body: Arc<Mutex<Option<Vec<u8>>>>,
}

impl CaptureBody {
    pub fn new() -> Self {
        Self::default()
    }

    /// The captured body, if a response was deserialized successfully.
    pub fn take(&self) -> Option<Vec<u8>> {
        self.body
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl Intercept for CaptureBody {
    fn name(&self) -> &'static str {
        "CaptureBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if context.output_or_error().is_err() {
            return Ok(());
        }
        if let Some(bytes) = context.response().body().bytes() {
            *self.body.lock().unwrap_or_else(PoisonError::into_inner) = Some(bytes.to_vec());
        }
        Ok(())
    }
}

/// Split a DescribeTasks response body into one pretty-printed JSON object per task, keyed by
/// `taskArn`. A body that is not the expected JSON yields an empty map, never an error: the raw
/// view is a convenience and must not cost the task list.
pub fn tasks_by_arn(body: &[u8]) -> HashMap<String, String> {
    let Ok(Value::Object(mut top)) = serde_json::from_slice::<Value>(body) else {
        return HashMap::new();
    };
    let Some(Value::Array(tasks)) = top.remove("tasks") else {
        return HashMap::new();
    };
    tasks
        .into_iter()
        .filter_map(|task| {
            let arn = task.get("taskArn")?.as_str()?.to_string();
            let pretty = serde_json::to_string_pretty(&task).ok()?;
            Some((arn, pretty))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_tasks_and_keeps_unknown_fields() {
        let body = br#"{"tasks":[{"taskArn":"arn:a/1","newField":{"x":1}},{"taskArn":"arn:a/2"},{"noArn":true}],"failures":[]}"#;
        let map = tasks_by_arn(body);
        assert_eq!(map.len(), 2);
        assert!(map["arn:a/1"].contains("\"newField\""));
        assert!(map["arn:a/2"].contains("arn:a/2"));
    }

    #[test]
    fn odd_bodies_give_nothing() {
        for body in [
            &b""[..],
            b"null",
            b"[]",
            b"{\"tasks\":{}}",
            b"\xff\xfe",
            b"{\"tasks\":[1,2]}",
        ] {
            assert!(tasks_by_arn(body).is_empty());
        }
    }
}
