//! The timeline's reads: the service (deployments, events), its stopped tasks, and its
//! error-level log lines counted per minute, read concurrently. A part that fails becomes a
//! note; only the service failing fails the whole.

use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use super::{AwsError, AwsTarget, Clients, loaders};
use crate::domain::timeline::{TimelineData, error_minutes};

/// Most error lines a timeline reads (a storm is still a storm at this count).
pub const MAX_ERROR_LINES: usize = 20_000;

/// A CloudWatch filter pattern that keeps every line that could be error-level (a superset;
/// the level is checked on the parsed line).
pub const ERROR_PATTERN: &str =
    "?ERROR ?Error ?error ?FATAL ?Fatal ?fatal ?CRITICAL ?critical ?panic ?Exception";

/// Read `service`'s timeline over `(from_ms, to_ms)`; `revisions` are the service revisions
/// already known (ARN → `family:revision`), extended with those this load describes.
pub async fn load(
    clients: &Clients,
    target: &AwsTarget,
    permits: &Arc<Semaphore>,
    revisions: &Mutex<std::collections::HashMap<String, String>>,
    cluster: &str,
    service: &str,
    (from_ms, to_ms): (i64, i64),
) -> Result<TimelineData, AwsError> {
    let described = loaders::service(clients, permits, cluster, service);
    let stopped = loaders::stopped_tasks(clients, permits, cluster, Some(service));
    let errors = error_lines(clients, target, cluster, service, from_ms, to_ms);
    let history = super::history::load_cached(
        &clients.ecs,
        permits,
        revisions,
        cluster,
        service,
        to_ms.div_euclid(1000) - crate::domain::history::HISTORY_WINDOW_SECS,
    );
    let scaling = async {
        let _permit = permits.acquire().await;
        super::scaling::load(&clients.autoscaling, cluster, service).await
    };
    let (described, stopped, (lines, log_failure), history, scaling) =
        tokio::join!(described, stopped, errors, history, scaling);
    let service = described?;
    let mut notes = Vec::new();
    let history = history.unwrap_or_else(|e| {
        notes.push(format!(
            "deployment history unavailable: {}; showing live deployments only",
            super::history::unavailable_reason(&e)
        ));
        Vec::new()
    });
    let scaling = match scaling {
        Ok((s, _)) => {
            if let Some(reason) = &s.activities_unavailable {
                notes.push(format!("auto scaling activities unavailable: {reason}"));
            }
            Some(s)
        }
        Err(e) => {
            notes.push(format!(
                "auto scaling unavailable: {}",
                super::scaling::unavailable_reason(&e)
            ));
            None
        }
    };
    let stopped = stopped.unwrap_or_else(|e| {
        notes.push(format!("stopped tasks not read: {}", e.plain()));
        Vec::new()
    });
    if to_ms - from_ms > 3_600_000 {
        notes.push(
            "ECS keeps stopped tasks about an hour: older stops come from service events only"
                .into(),
        );
    }
    if let Some(f) = log_failure {
        notes.push(format!("error logs not read: {f}"));
    }
    if lines.len() >= MAX_ERROR_LINES {
        notes.push(format!("error lines capped at {MAX_ERROR_LINES}"));
    }
    let errors = error_minutes(lines.iter().map(|(t, m)| (*t, m.as_str())));
    Ok(TimelineData {
        service: Some(service),
        stopped,
        errors,
        error_lines: lines.len(),
        history,
        scaling,
        notes,
    })
}

/// Error-level lines of the service's logs in the window (capped), and why reading stopped
/// early if it did.
async fn error_lines(
    clients: &Clients,
    target: &AwsTarget,
    cluster: &str,
    service: &str,
    from_ms: i64,
    to_ms: i64,
) -> (Vec<(i64, String)>, Option<String>) {
    use crate::logs::session::{SessionEvent, SessionSpec};
    use crate::logs::tail::TailMessage;
    let lines: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let failure: Arc<Mutex<Option<String>>> = Arc::default();
    let spec = SessionSpec {
        scope: crate::logs::source::Scope {
            cluster: cluster.to_string(),
            service: Some(service.to_string()),
            task: None,
            container: None,
        },
        since_ms: from_ms,
        follow: false,
        filter_pattern: Some(ERROR_PATTERN.to_string()),
        mode: crate::logs::tail::TailMode::Poll,
        rescan: std::time::Duration::from_secs(30),
    };
    let (_control, control_rx) = tokio::sync::mpsc::channel(1);
    let sink = lines.clone();
    let failed = failure.clone();
    let fail = move |message: String| {
        if let Ok(mut f) = failed.lock() {
            *f = Some(message);
        }
        false
    };
    let send = move |event: SessionEvent| match event {
        SessionEvent::Tail(TailMessage::Events(events)) => {
            let Ok(mut sink) = sink.lock() else {
                return false;
            };
            for e in events {
                if e.timestamp_ms <= to_ms && e.parsed.level >= Some(crate::logs::Level::Error) {
                    sink.push((e.timestamp_ms, e.parsed.message(&e.raw).to_string()));
                }
            }
            sink.len() < MAX_ERROR_LINES
        }
        SessionEvent::Failed { message, .. } => fail(message),
        SessionEvent::Tail(TailMessage::End(Some(e))) => fail(e.to_string()),
        _ => true,
    };
    crate::logs::session::run(clients.clone(), target.clone(), spec, send, control_rx).await;
    let lines = lines.lock().map(|l| l.clone()).unwrap_or_default();
    let failure = failure.lock().ok().and_then(|f| f.clone());
    (lines, failure)
}
