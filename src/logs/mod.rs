//! The log tail engine, shared by the logs pane and `berth logs`.
//!
//! - [`source`]: where a task's logs are (awslogs group, region, stream prefix), from its task
//!   definition; other drivers get a message saying where their logs go.
//! - [`tail`]: the engine. StartLiveTail when it can, FilterLogEvents polling otherwise; an
//!   overlap window with `eventId` de-duplication so late-ingested events are neither lost nor
//!   repeated; a bounded re-order window so lines come out in timestamp order. Output is a
//!   channel of [`tail::TailMessage`].
//! - [`parse`]: JSON and logfmt lines split into fields; level, message, error, correlation ids.
//! - [`query`]: the filter language (`level>=warn and path~/api/`) and its translation to a
//!   server-side CloudWatch filter pattern.
//! - [`buffer`]: the bounded line buffer with a dropped counter and a filtered view.
//! - [`output`]: text (sanitised) and jsonl writers; [`cli`]: the `berth logs` command.

pub mod buffer;
pub mod cli;
pub mod output;
pub mod parse;
pub mod query;
pub mod session;
pub mod source;
pub mod tail;
pub mod time;

pub use parse::{Format, Level, Parsed};

use std::sync::Arc;

/// One log event, parsed, with the task and container it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    /// The event's CloudWatch timestamp (epoch ms).
    pub timestamp_ms: i64,
    /// When CloudWatch ingested it (epoch ms).
    pub ingestion_ms: i64,
    /// FilterLogEvents' `eventId`; live-tail events (which have none) get `live-<hash>`.
    pub event_id: String,
    /// Group, stream, task id and container are shared by every event of a stream.
    pub group: Arc<str>,
    pub stream: Arc<str>,
    /// Task id from the stream name (`<prefix>/<container>/<task-id>`), or empty.
    pub task_id: Arc<str>,
    /// Container name from the stream name, or empty.
    pub container: Arc<str>,
    /// The message exactly as CloudWatch returned it (untrusted: sanitise before display).
    pub raw: String,
    pub parsed: Parsed,
    /// Arrived after later events were already delivered (older than the re-order window):
    /// the pane inserts it at its place in time rather than at the bottom.
    pub late: bool,
}

impl LogEvent {
    /// Build an event, parsing `raw`.
    pub fn new(
        origin: &Origin,
        event_id: String,
        timestamp_ms: i64,
        ingestion_ms: i64,
        raw: String,
    ) -> LogEvent {
        LogEvent {
            timestamp_ms,
            ingestion_ms,
            event_id,
            group: origin.group.clone(),
            stream: origin.stream.clone(),
            task_id: origin.task_id.clone(),
            container: origin.container.clone(),
            parsed: parse::parse(&raw),
            raw,
            late: false,
        }
    }

    /// First 8 characters of the task id, as the ECS console shows them.
    pub fn short_task_id(&self) -> &str {
        let end = self
            .task_id
            .char_indices()
            .nth(8)
            .map_or(self.task_id.len(), |(i, _)| i);
        &self.task_id[..end]
    }

    /// Approximate heap plus inline bytes of this event.
    pub fn approx_bytes(&self) -> usize {
        std::mem::size_of::<LogEvent>()
            + self.event_id.capacity()
            + self.raw.capacity()
            + self.parsed.fields.heap_bytes()
    }
}

/// Where an event came from; built once per stream and shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub group: Arc<str>,
    pub stream: Arc<str>,
    pub task_id: Arc<str>,
    pub container: Arc<str>,
}

impl Origin {
    pub fn new(group: &str, stream: &str) -> Origin {
        let (container, task_id) = split_stream(stream);
        Origin {
            group: Arc::from(group),
            stream: Arc::from(stream),
            task_id: Arc::from(task_id),
            container: Arc::from(container),
        }
    }
}

/// `(container, task id)` from an awslogs stream name `<prefix>/<container>/<task-id>`.
pub fn split_stream(stream: &str) -> (&str, &str) {
    let mut parts = stream.rsplitn(3, '/');
    match (parts.next(), parts.next()) {
        (Some(task), Some(container)) => (container, task),
        _ => ("", ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_split() {
        assert_eq!(split_stream("ecs/app/abc123"), ("app", "abc123"));
        assert_eq!(split_stream("a/b/app/abc"), ("app", "abc"));
        assert_eq!(split_stream("solo"), ("", ""));
    }
}
