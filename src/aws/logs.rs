//! CloudWatch Logs calls for the tail engine: FilterLogEvents pages, StartLiveTail sessions,
//! log group ARNs. SDK types stop here; the engine sees [`RawEvent`] and [`LiveUpdate`].

use aws_sdk_cloudwatchlogs::primitives::event_stream::EventReceiver;
use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream;
use aws_sdk_cloudwatchlogs::types::error::StartLiveTailResponseStreamError;

use super::{AwsError, ErrorKind};

/// FilterLogEvents accepts at most this many `logStreamNames`.
pub const FILTER_MAX_STREAMS: usize = 100;
/// StartLiveTail: at most this many log groups per session.
pub const LIVE_TAIL_MAX_GROUPS: usize = 10;
/// StartLiveTail: at most this many stream names or prefixes (one group only).
pub const LIVE_TAIL_MAX_STREAMS: usize = 100;

/// A Logs client for one region (awslogs-region may differ from the cluster's).
#[derive(Clone, Debug)]
pub struct LogsClient {
    inner: aws_sdk_cloudwatchlogs::Client,
    pub region: String,
}

/// One event as the API returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    /// Log group name, when the API says (live tail); FilterLogEvents events belong to the
    /// group that was asked.
    pub group: Option<String>,
    pub stream: String,
    pub timestamp_ms: i64,
    pub ingestion_ms: i64,
    /// FilterLogEvents' eventId; StartLiveTail events carry none.
    pub event_id: Option<String>,
    pub message: String,
}

/// One FilterLogEvents request.
#[derive(Debug, Clone, Default)]
pub struct FilterRequest {
    pub group: String,
    /// At most [`FILTER_MAX_STREAMS`]; empty means no name filter.
    pub stream_names: Vec<String>,
    pub stream_prefix: Option<String>,
    /// Inclusive.
    pub start_ms: i64,
    /// Inclusive, as the API defines it.
    pub end_ms: Option<i64>,
    pub filter_pattern: Option<String>,
    pub next_token: Option<String>,
    pub limit: Option<i32>,
}

#[derive(Debug, Clone, Default)]
pub struct FilterPage {
    pub events: Vec<RawEvent>,
    pub next_token: Option<String>,
}

/// One StartLiveTail request.
#[derive(Debug, Clone, Default)]
pub struct LiveTailRequest {
    /// Log group ARNs (1 to [`LIVE_TAIL_MAX_GROUPS`]).
    pub group_arns: Vec<String>,
    /// Only with a single group.
    pub stream_names: Vec<String>,
    pub stream_prefixes: Vec<String>,
    pub filter_pattern: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveUpdate {
    Started {
        session_id: String,
    },
    Events {
        events: Vec<RawEvent>,
        sampled: bool,
    },
}

/// An open StartLiveTail session.
pub struct LiveTail {
    stream: EventReceiver<StartLiveTailResponseStream, StartLiveTailResponseStreamError>,
}

impl std::fmt::Debug for LiveTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveTail")
    }
}

/// `arn:aws:logs:r:a:log-group:/ecs/x:*` -> `/ecs/x`; names pass through.
pub fn group_name_from_arn(ident: &str) -> &str {
    match ident.split_once(":log-group:") {
        Some((_, rest)) => rest.strip_suffix(":*").unwrap_or(rest),
        None => ident,
    }
}

impl LiveTail {
    /// The next update; `Ok(None)` when the session ended (3-hour limit, server closed).
    pub async fn next(&mut self) -> Result<Option<LiveUpdate>, AwsError> {
        loop {
            let msg = self
                .stream
                .recv()
                .await
                .map_err(|e| AwsError::from_sdk("logs:StartLiveTail", &e))?;
            match msg {
                None => return Ok(None),
                Some(StartLiveTailResponseStream::SessionStart(s)) => {
                    return Ok(Some(LiveUpdate::Started {
                        session_id: s.session_id().unwrap_or_default().to_string(),
                    }));
                }
                Some(StartLiveTailResponseStream::SessionUpdate(u)) => {
                    let sampled = u.session_metadata().is_some_and(|m| m.sampled());
                    let events = u
                        .session_results()
                        .iter()
                        .map(|e| RawEvent {
                            group: e
                                .log_group_identifier()
                                .map(|g| group_name_from_arn(g).to_string()),
                            stream: e.log_stream_name().unwrap_or_default().to_string(),
                            timestamp_ms: e.timestamp().unwrap_or(0),
                            ingestion_ms: e.ingestion_time().unwrap_or(0),
                            event_id: None,
                            message: e.message().unwrap_or_default().to_string(),
                        })
                        .collect();
                    return Ok(Some(LiveUpdate::Events { events, sampled }));
                }
                // unknown event kinds from a newer service version: skip
                Some(_) => continue,
            }
        }
    }
}

impl LogsClient {
    pub fn new(inner: aws_sdk_cloudwatchlogs::Client, region: impl Into<String>) -> Self {
        LogsClient {
            inner,
            region: region.into(),
        }
    }

    /// One page of FilterLogEvents.
    pub async fn filter_page(&self, req: &FilterRequest) -> Result<FilterPage, AwsError> {
        let mut call = self
            .inner
            .filter_log_events()
            .log_group_name(&req.group)
            .start_time(req.start_ms)
            .set_end_time(req.end_ms)
            .set_filter_pattern(req.filter_pattern.clone())
            .set_next_token(req.next_token.clone())
            .set_limit(req.limit)
            .set_log_stream_name_prefix(req.stream_prefix.clone());
        if !req.stream_names.is_empty() {
            call = call.set_log_stream_names(Some(req.stream_names.clone()));
        }
        // A live tail stays open for as long as it is followed: no attempt timeout on it.
        let out = call
            .customize()
            .config_override(
                aws_sdk_cloudwatchlogs::config::Builder::default().timeout_config(
                    aws_smithy_types::timeout::TimeoutConfig::builder()
                        .connect_timeout(super::CONNECT_TIMEOUT)
                        .disable_operation_attempt_timeout()
                        .disable_operation_timeout()
                        .build(),
                ),
            )
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:FilterLogEvents", &e))?;
        let events = out
            .events()
            .iter()
            .map(|e| RawEvent {
                group: None,
                stream: e.log_stream_name().unwrap_or_default().to_string(),
                timestamp_ms: e.timestamp().unwrap_or(0),
                ingestion_ms: e.ingestion_time().unwrap_or(0),
                event_id: e.event_id().map(str::to_string),
                message: e.message().unwrap_or_default().to_string(),
            })
            .collect();
        Ok(FilterPage {
            events,
            // an empty token would loop forever on some implementations
            next_token: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        })
    }

    /// The ARN of a log group (StartLiveTail wants ARNs), without the trailing `:*`.
    pub async fn log_group_arn(&self, group: &str) -> Result<String, AwsError> {
        let mut token = None;
        loop {
            let out = self
                .inner
                .describe_log_groups()
                .log_group_name_prefix(group)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", &e))?;
            for g in out.log_groups() {
                if g.log_group_name() == Some(group) {
                    let arn = g
                        .log_group_arn()
                        .or(g.arn())
                        .map(|a| a.strip_suffix(":*").unwrap_or(a).to_string());
                    return arn.ok_or_else(|| {
                        AwsError::new(
                            ErrorKind::Other,
                            "logs:DescribeLogGroups",
                            format!("log group {group} has no ARN"),
                        )
                    });
                }
            }
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Err(AwsError::new(
                    ErrorKind::NotFound,
                    "logs:DescribeLogGroups",
                    format!("log group {group} does not exist"),
                ));
            }
        }
    }

    /// Open a StartLiveTail session.
    pub async fn start_live_tail(&self, req: &LiveTailRequest) -> Result<LiveTail, AwsError> {
        let mut call = self
            .inner
            .start_live_tail()
            .set_log_group_identifiers(Some(req.group_arns.clone()))
            .set_log_event_filter_pattern(req.filter_pattern.clone());
        if !req.stream_names.is_empty() {
            call = call.set_log_stream_names(Some(req.stream_names.clone()));
        }
        if !req.stream_prefixes.is_empty() {
            call = call.set_log_stream_name_prefixes(Some(req.stream_prefixes.clone()));
        }
        let out = call
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:StartLiveTail", &e))?;
        Ok(LiveTail {
            stream: out.response_stream,
        })
    }
}
