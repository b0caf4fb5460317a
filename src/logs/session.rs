//! A logs-pane session: resolve the scope, run the tail engine, and, while following a whole
//! service, notice tasks that start later (a deployment rolling) and add their streams.
//!
//! The engine reads a fixed set of streams, so picking up new tasks means starting a new
//! engine. The new one starts `overlap` before the newest event already delivered, and
//! events delivered before are recognised by content (stream, timestamp, message) and not
//! sent again, whether they came through live tail or polling: the pane sees one stream of
//! events with nothing lost and nothing twice.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::time::Duration;

use tokio::sync::mpsc;

use super::LogEvent;
use super::source::{self, Resolved, Scope};
use super::tail::{self, TailMessage, TailMode, TailSpec};
use crate::aws::{AwsError, AwsTarget, Clients};

/// What a session reports to the pane.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// The scope resolved (again): streams read, containers seen, notes about other drivers.
    Resolved {
        streams: usize,
        containers: Vec<String>,
        notes: Vec<String>,
        /// Every task read has stopped: no new lines are coming (only late ones).
        all_stopped: bool,
    },
    Tail(TailMessage),
    /// The scope could not be resolved (not found, no streams, an AWS error).
    Failed {
        message: String,
        error: Option<AwsError>,
    },
}

/// Asked of a running session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionControl {
    FetchOlder { span_ms: i64 },
}

#[derive(Debug, Clone)]
pub struct SessionSpec {
    pub scope: Scope,
    pub since_ms: i64,
    pub follow: bool,
    pub filter_pattern: Option<String>,
    pub mode: TailMode,
    /// How often a followed service scope is re-resolved for new tasks.
    pub rescan: Duration,
}

/// How far back a restarted engine re-reads.
const RESTART_OVERLAP_MS: i64 = 60_000;

/// Run a session until the receiver of `send` goes away, `control` closes, or the tail ends.
pub async fn run(
    clients: Clients,
    target: AwsTarget,
    spec: SessionSpec,
    send: impl Fn(SessionEvent) -> bool + Send,
    mut control: mpsc::Receiver<SessionControl>,
) {
    let resolved = match resolve(&clients, &spec.scope, spec.since_ms).await {
        Ok(r) => r,
        Err((message, error)) => {
            send(SessionEvent::Failed { message, error });
            return;
        }
    };
    let mut current: HashSet<String> = resolved.streams.iter().map(|s| s.stream.clone()).collect();
    if !send(resolved_event(&resolved)) {
        return;
    }
    let (mut handle, mut rx) = match start(&clients, &target, &spec, &resolved, spec.since_ms).await
    {
        Ok(started) => started,
        Err(e) => {
            send(SessionEvent::Failed {
                message: e.to_string(),
                error: Some(e),
            });
            return;
        }
    };
    let rescans = spec.follow && spec.scope.task.is_none();
    let mut rescan = tokio::time::interval_at(
        tokio::time::Instant::now() + spec.rescan,
        spec.rescan.max(Duration::from_secs(1)),
    );
    rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Content keys of delivered events, for de-duplication across engine restarts.
    let mut seen = Seen::default();
    loop {
        tokio::select! {
            msg = rx.recv() => {
                let Some(msg) = msg else { return };
                let msg = match msg {
                    TailMessage::Events(events) => {
                        let events = seen.filter(events, rescans);
                        if events.is_empty() {
                            continue;
                        }
                        TailMessage::Events(events)
                    }
                    other => other,
                };
                let end = matches!(msg, TailMessage::End(_));
                if !send(SessionEvent::Tail(msg)) || end {
                    return;
                }
            }
            ctl = control.recv() => match ctl {
                Some(SessionControl::FetchOlder { span_ms }) => {
                    handle.fetch_older(span_ms);
                }
                None => return,
            },
            _ = rescan.tick(), if rescans => {
                let Ok(again) = resolve(&clients, &spec.scope, spec.since_ms).await else {
                    continue;
                };
                let streams: HashSet<String> = again.streams.iter().map(|s| s.stream.clone()).collect();
                if streams.is_subset(&current) {
                    continue;
                }
                tracing::info!(
                    added = streams.difference(&current).count(),
                    "logs: new streams in scope; restarting the tail"
                );
                current.extend(streams);
                let mut all = again.clone();
                // Keep reading streams of tasks that stopped since (their last lines).
                for s in resolved.streams.iter() {
                    if !all.streams.contains(s) {
                        all.streams.push(s.clone());
                    }
                }
                if !send(resolved_event(&all)) {
                    return;
                }
                let from = seen.newest().map_or(spec.since_ms, |t| (t - RESTART_OVERLAP_MS).max(spec.since_ms));
                handle.stop();
                match start(&clients, &target, &spec, &all, from).await {
                    Ok((h, r)) => {
                        handle = h;
                        rx = r;
                    }
                    Err(e) => {
                        send(SessionEvent::Failed { message: e.to_string(), error: Some(e) });
                        return;
                    }
                }
            }
        }
    }
}

fn resolved_event(r: &Resolved) -> SessionEvent {
    let mut containers: Vec<String> = r
        .streams
        .iter()
        .map(|s| super::split_stream(&s.stream).0.to_string())
        .filter(|c| !c.is_empty())
        .collect();
    containers.sort();
    containers.dedup();
    SessionEvent::Resolved {
        streams: r.streams.len(),
        containers,
        notes: r.notes.clone(),
        all_stopped: r.all_stopped,
    }
}

async fn resolve(
    clients: &Clients,
    scope: &Scope,
    since_ms: i64,
) -> Result<Resolved, (String, Option<AwsError>)> {
    match source::resolve(clients, scope, since_ms).await {
        Ok(r) if r.streams.is_empty() => {
            let what = match (&scope.task, &scope.service) {
                (Some(t), _) => format!("task {}", crate::domain::Task::id_from_arn(t)),
                (None, Some(s)) => format!("service {s} (no started tasks?)"),
                _ => "this scope".into(),
            };
            let mut message = format!("no CloudWatch log streams to read for {what}");
            if !r.notes.is_empty() {
                message.push_str(": ");
                message.push_str(&r.notes.join("; "));
            }
            Err((message, None))
        }
        Ok(r) => Ok(r),
        Err(source::ResolveError::Aws(e)) => Err((e.to_string(), Some(e))),
        Err(source::ResolveError::NotFound(m)) => Err((m, None)),
    }
}

async fn start(
    clients: &Clients,
    target: &AwsTarget,
    spec: &SessionSpec,
    resolved: &Resolved,
    from_ms: i64,
) -> Result<(tail::TailHandle, mpsc::Receiver<TailMessage>), AwsError> {
    let targets = source::targets(resolved, clients, target).await?;
    let mut tail_spec = TailSpec::new(targets, from_ms);
    tail_spec.follow = spec.follow;
    tail_spec.mode = spec.mode;
    tail_spec.filter_pattern = spec.filter_pattern.clone();
    if resolved.all_stopped {
        // Nothing will interleave with a stopped task's lines: show its last ones (the crash)
        // with the history instead of holding them for the re-order window.
        tail_spec.reorder_ms = 0;
    }
    Ok(tail::spawn(tail_spec))
}

/// Content keys of recently delivered events (bounded by time).
#[derive(Default)]
struct Seen {
    keys: HashMap<u64, i64>,
    newest: Option<i64>,
}

impl Seen {
    fn newest(&self) -> Option<i64> {
        self.newest
    }

    /// Drop events already delivered; remember the rest (only when restarts can happen).
    fn filter(&mut self, events: Vec<LogEvent>, remember: bool) -> Vec<LogEvent> {
        if let Some(last) = events.iter().map(|e| e.timestamp_ms).max() {
            self.newest = Some(self.newest.map_or(last, |n| n.max(last)));
        }
        if !remember {
            return events;
        }
        let out: Vec<LogEvent> = events
            .into_iter()
            .filter(|e| {
                let key = content_key(e);
                self.keys.insert(key, e.timestamp_ms).is_none()
            })
            .collect();
        if let Some(newest) = self.newest {
            let horizon = newest - 3 * RESTART_OVERLAP_MS;
            if self.keys.len() > 1024 {
                self.keys.retain(|_, ts| *ts >= horizon);
            }
        }
        out
    }
}

fn content_key(e: &LogEvent) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    e.group.hash(&mut h);
    e.stream.hash(&mut h);
    e.timestamp_ms.hash(&mut h);
    e.raw.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Origin;

    fn ev(stream: &str, ts: i64, raw: &str, id: &str) -> LogEvent {
        LogEvent::new(
            &Origin::new("/g", stream),
            id.to_string(),
            ts,
            ts,
            raw.to_string(),
        )
    }

    #[test]
    fn seen_drops_repeats_by_content_whatever_the_event_id() {
        let mut seen = Seen::default();
        let first = seen.filter(
            vec![ev("p/app/a", 1, "one", "1"), ev("p/app/a", 2, "two", "2")],
            true,
        );
        assert_eq!(first.len(), 2);
        // The same lines again (a restarted engine, live ids), plus a new one.
        let again = seen.filter(
            vec![
                ev("p/app/a", 2, "two", "live-x"),
                ev("p/app/b", 2, "two", "3"),
                ev("p/app/a", 3, "three", "4"),
            ],
            true,
        );
        let raws: Vec<(&str, &str)> = again.iter().map(|e| (&*e.stream, e.raw.as_str())).collect();
        assert_eq!(raws, vec![("p/app/b", "two"), ("p/app/a", "three")]);
        assert_eq!(seen.newest(), Some(3));
        // Not remembering (no restarts possible): everything passes.
        let passed = seen.filter(vec![ev("p/app/a", 3, "three", "4")], false);
        assert_eq!(passed.len(), 1);
    }
}
