//! StartLiveTail: an `application/vnd.amazon.eventstream` response with a `sessionStart`
//! event, then one `sessionUpdate` per wall-clock second carrying the events ingested
//! since the previous update (at most 500, `sampled` above that). The session ends after
//! three hours, when the client goes away, or when the sandbox shuts down.
//! aws-sdk-cloudwatchlogs consumes it against loopback when the Logs client has
//! [`super::strip_stream_host_prefix_interceptor`] installed.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::loggen::{SLOT_MS, StreamInfo, slot_events};
use super::logs::{group_arn, group_service, streams};
use super::logs_filter::Pattern;
use super::server::Shared;
use super::wire::*;

const MAX_EVENTS_PER_UPDATE: usize = 500;
const SESSION_LIMIT: Duration = Duration::from_secs(3 * 3600);

/// Encode one event-stream message with string headers.
pub(crate) fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut hdr = Vec::new();
    for (name, value) in headers {
        hdr.push(name.len() as u8);
        hdr.extend_from_slice(name.as_bytes());
        hdr.push(7);
        hdr.extend_from_slice(&(value.len() as u16).to_be_bytes());
        hdr.extend_from_slice(value.as_bytes());
    }
    let total = 12 + hdr.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(hdr.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&hdr);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

fn event(kind: &str, payload: &Value) -> Bytes {
    let body = serde_json::to_vec(payload).unwrap_or_default();
    Bytes::from(frame(
        &[
            (":message-type", "event"),
            (":event-type", kind),
            (":content-type", "application/json"),
        ],
        &body,
    ))
}

struct Group {
    arn: String,
    service: super::logs::Owner,
}

pub(crate) fn start(shared: &Arc<Shared>, v: &Value) -> Result<Response, ApiError> {
    let idents = str_list(v, "logGroupIdentifiers")?;
    if idents.is_empty() || idents.len() > 10 {
        return Err(ApiError::invalid(
            "logGroupIdentifiers must contain between 1 and 10 items.",
        ));
    }
    let names = str_list(v, "logStreamNames")?;
    let prefixes = str_list(v, "logStreamNamePrefixes")?;
    if idents.len() > 1 && (!names.is_empty() || !prefixes.is_empty()) {
        return Err(ApiError::invalid(
            "logStreamNames and logStreamNamePrefixes can only be used with a single log group.",
        ));
    }
    let pattern_text = str_arg(v, "logEventFilterPattern")
        .unwrap_or("")
        .to_string();
    let pattern = Pattern::parse(&pattern_text)?;
    let (groups, session_id, request_id, start_now) = {
        let mut sim = shared.sim();
        let mut groups = Vec::new();
        for ident in &idents {
            let (name, service) = group_service(&sim, ident).ok_or_else(|| {
                ApiError::new(
                    "ResourceNotFoundException",
                    "The specified log group does not exist.",
                )
            })?;
            groups.push(Group {
                arn: group_arn(&sim, &name),
                service,
            });
        }
        (groups, sim.rng.uuid(), sim.rng.uuid(), sim.now)
    };
    let start_payload = json!({
        "requestId": request_id,
        "sessionId": session_id,
        "logGroupIdentifiers": idents,
        "logStreamNames": names,
        "logStreamNamePrefixes": prefixes,
        "logEventFilterPattern": pattern_text,
    });
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let shared = shared.clone();
    tokio::spawn(async move {
        if tx
            .send(event("sessionStart", &start_payload))
            .await
            .is_err()
        {
            return;
        }
        let mut closing = shared.closing.clone();
        let began = tokio::time::Instant::now();
        let mut last = start_now;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        while began.elapsed() < SESSION_LIMIT {
            tokio::select! {
                _ = tick.tick() => {}
                _ = closing.changed() => break,
            }
            let update = {
                let sim = shared.sim();
                let now = sim.now;
                let mut results = Vec::new();
                let mut total = 0usize;
                for g in &groups {
                    let selected: Vec<StreamInfo> = streams(&sim, g.service)
                        .into_iter()
                        .filter(|s| names.is_empty() || names.contains(&s.name))
                        .filter(|s| {
                            prefixes.is_empty()
                                || prefixes.iter().any(|p| s.name.starts_with(p.as_str()))
                        })
                        .collect();
                    // late events can arrive up to ~45 s after their timestamp
                    let from_slot = (last - 45_000).div_euclid(SLOT_MS);
                    let to_slot = now.div_euclid(SLOT_MS);
                    let mut buf = Vec::new();
                    for st in &selected {
                        for slot in from_slot..=to_slot {
                            buf.clear();
                            slot_events(sim.seed, st, slot, &mut buf);
                            for e in buf.drain(..) {
                                if e.ingestion > last
                                    && e.ingestion <= now
                                    && pattern.matches(&e.message)
                                {
                                    total += 1;
                                    results.push(json!({
                                        "logStreamName": st.name,
                                        "logGroupIdentifier": g.arn,
                                        "message": e.message,
                                        "timestamp": e.ts,
                                        "ingestionTime": e.ingestion,
                                    }));
                                }
                            }
                        }
                    }
                }
                last = now;
                results.sort_by_key(|r| r["timestamp"].as_i64().unwrap_or(0));
                let sampled = total > MAX_EVENTS_PER_UPDATE;
                if sampled {
                    let step = total.div_ceil(MAX_EVENTS_PER_UPDATE);
                    results = results.into_iter().step_by(step).collect();
                }
                json!({"sessionMetadata": {"sampled": sampled}, "sessionResults": results})
            };
            if tx.send(event("sessionUpdate", &update)).await.is_err() {
                break;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<Bytes, std::io::Error>(b), rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/vnd.amazon.eventstream")],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn frame_layout() {
        let f = super::frame(&[(":event-type", "x")], b"{}");
        assert_eq!(
            u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as usize,
            f.len()
        );
    }
}
