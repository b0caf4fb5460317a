//! CloudWatch Logs operations (`Logs_20140328.<Op>`): one log group per service
//! (`/ecs/<cluster>/<service>`), one stream per started container
//! (`ecs/<container>/<task-id>`), events generated on demand by `loggen`.

use serde_json::{Value, json};

use super::loggen::{LogEvent, SLOT_MS, StreamInfo, slot_events};
use super::model::*;
use super::rng::hash_str;
use super::server::Shared;
use super::sim::Sim;
use super::wire::*;

/// Slot × stream evaluations per call before answering with a partial page and a token.
const SCAN_BUDGET: i64 = 60_000;

pub(crate) fn handle(shared: &Shared, op: &str, v: &Value) -> ApiResult {
    let sim = shared.sim();
    match op {
        "DescribeLogGroups" => describe_log_groups(&sim, v),
        "DescribeLogStreams" => describe_log_streams(&sim, v),
        "GetLogEvents" => get_log_events(&sim, v),
        "FilterLogEvents" => filter_log_events(&sim, v),
        _ => Err(ApiError::unknown_operation(op)),
    }
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(
        "ResourceNotFoundException",
        format!("The specified log {what} does not exist."),
    )
}

pub(crate) fn group_arn(sim: &Sim, name: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{}",
        sim.region, sim.account, name
    )
}

/// Whose tasks write to a log group: a service's, or a scheduled job's standalone tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Service(usize),
    Job(usize),
}

/// Resolve `logGroupName` or `logGroupIdentifier` (name or ARN) to its owner.
pub(crate) fn group_service(sim: &Sim, ident: &str) -> Option<(String, Owner)> {
    let name = match ident.strip_prefix("arn:") {
        Some(_) => ident.split(":log-group:").nth(1)?.trim_end_matches(":*"),
        None => ident,
    };
    if let Some(&s) = sim.log_groups.get(name) {
        return Some((name.to_string(), Owner::Service(s)));
    }
    sim.job_log_group(name)
        .map(|j| (name.to_string(), Owner::Job(j)))
}

fn group_arg(sim: &Sim, v: &Value) -> Result<(String, Owner), ApiError> {
    let ident = str_arg(v, "logGroupName")
        .or_else(|| str_arg(v, "logGroupIdentifier"))
        .ok_or_else(|| {
            ApiError::invalid("Either logGroupName or logGroupIdentifier must be specified.")
        })?;
    group_service(sim, ident).ok_or_else(|| not_found("group"))
}

/// All streams of a log group, sorted by name.
pub(crate) fn streams(sim: &Sim, owner: Owner) -> Vec<StreamInfo> {
    match owner {
        Owner::Service(s) => service_streams(sim, s),
        Owner::Job(j) => sim.job_streams(j),
    }
}

/// All streams of a service's log group, sorted by name.
fn service_streams(sim: &Sim, s: usize) -> Vec<StreamInfo> {
    let Some(svc) = sim.services.get(s) else {
        return Vec::new();
    };
    let kind = super::fleet::profile(&svc.name).kind;
    let cluster = sim
        .clusters
        .get(svc.cluster)
        .map(|c| c.name.as_str())
        .unwrap_or("");
    let incident = match sim.scenario.target() {
        Some((c, n)) if c == cluster && n == svc.name => Some((
            sim.t0 + super::INCIDENT_DELAY_MS,
            sim.error_rate(s, sim.now),
        )),
        Some(("prod", "checkout-api")) if cluster == "prod" && svc.name == "web-frontend" => {
            Some((sim.t0 + super::INCIDENT_DELAY_MS, 0.15))
        }
        _ => None,
    };
    let mut out = Vec::new();
    let hostile =
        sim.scenario == super::Scenario::Hostile && cluster == "prod" && svc.name == "checkout-api";
    for &slot in svc.tasks_live.values().chain(svc.tasks_stopped.values()) {
        task_streams(sim, slot, kind, &svc.name, incident, hostile, &mut out);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The streams of one started task (one per container), written as `owner`'s (a service or
/// a job) into `out`.
pub(crate) fn task_streams(
    sim: &Sim,
    slot: usize,
    kind: super::fleet::Kind,
    owner: &str,
    incident: Option<(Ms, f64)>,
    hostile: bool,
    out: &mut Vec<StreamInfo>,
) {
    let Some(t) = sim.task(slot) else { return };
    let Some(start) = t.started_at else { return };
    let Some(td) = sim.task_defs.get(t.task_def) else {
        return;
    };
    for def in &td.containers {
        let end = t
            .execution_stopped_at
            .unwrap_or(sim.now + 1)
            .min(sim.now + 1);
        let name = format!("{}/{}/{}", td.log_prefix, def.name, t.id);
        out.push(StreamInfo {
            key: hash_str(&name),
            name,
            start,
            end,
            cause: if t.execution_stopped_at.is_some() {
                t.end
            } else {
                None
            },
            app: def.app,
            container: def.name.clone(),
            kind,
            service: owner.to_string(),
            version: td.version.clone(),
            leak: td.fault == Fault::MemoryLeak,
            incident,
            hostile,
        });
    }
}

fn describe_log_groups(sim: &Sim, v: &Value) -> ApiResult {
    let limit = page_size(v, "limit", 50, 50)?;
    let prefix = str_arg(v, "logGroupNamePrefix").unwrap_or("");
    let pattern = str_arg(v, "logGroupNamePattern");
    if pattern.is_some() && !prefix.is_empty() {
        return Err(ApiError::invalid(
            "logGroupNamePrefix and logGroupNamePattern are mutually exclusive.",
        ));
    }
    let after = opt_token(v, "nextToken")?;
    let mut groups = Vec::new();
    let mut last = None;
    let mut more = false;
    let mut all: std::collections::BTreeMap<&str, Ms> = sim
        .log_groups
        .iter()
        .map(|(name, &s)| {
            let created = sim.services.get(s).map(|x| x.created_at).unwrap_or(0);
            (name.as_str(), created)
        })
        .collect();
    all.extend(sim.job_log_groups());
    for (name, &created) in all.range(prefix..) {
        if !name.starts_with(prefix) {
            break;
        }
        if after.as_deref().is_some_and(|a| *name <= a)
            || pattern.is_some_and(|p| !name.contains(p))
        {
            continue;
        }
        if groups.len() == limit {
            more = true;
            break;
        }
        let arn = group_arn(sim, name);
        groups.push(json!({
            "logGroupName": name,
            "creationTime": created,
            "retentionInDays": 30,
            "metricFilterCount": 0,
            "arn": format!("{arn}:*"),
            "logGroupArn": arn,
            "storedBytes": 0,
            "logGroupClass": "STANDARD",
        }));
        last = Some(name.to_string());
    }
    let mut out = json!({"logGroups": groups});
    if more && let Some(l) = last {
        out["nextToken"] = json!(encode_token(&l));
    }
    Ok(out)
}

fn describe_log_streams(sim: &Sim, v: &Value) -> ApiResult {
    let (group, s) = group_arg(sim, v)?;
    let limit = page_size(v, "limit", 50, 50)?;
    let prefix = str_arg(v, "logStreamNamePrefix").unwrap_or("");
    let by_time = str_arg(v, "orderBy") == Some("LastEventTime");
    if by_time && !prefix.is_empty() {
        return Err(ApiError::invalid(
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ));
    }
    let start: usize = match opt_token(v, "nextToken")? {
        Some(t) => t
            .parse()
            .map_err(|_| ApiError::invalid("Invalid nextToken."))?,
        None => 0,
    };
    let mut list: Vec<StreamInfo> = streams(sim, s)
        .into_iter()
        .filter(|x| x.name.starts_with(prefix))
        .collect();
    if by_time {
        list.sort_by_key(|x| (x.end, x.name.clone()));
    }
    if bool_arg(v, "descending").unwrap_or(false) {
        list.reverse();
    }
    let arn = group_arn(sim, &group);
    let page: Vec<Value> = list
        .iter()
        .skip(start)
        .take(limit)
        .map(|x| {
            let last = (x.end - 1).max(x.start);
            json!({
                "logStreamName": x.name,
                "creationTime": x.start,
                "firstEventTimestamp": x.start,
                "lastEventTimestamp": last,
                "lastIngestionTime": last + 600,
                "uploadSequenceToken": "49039859593386434432347861209536478953651123456789012345",
                "arn": format!("{arn}:log-stream:{}", x.name),
                "storedBytes": 0,
            })
        })
        .collect();
    let mut out = json!({"logStreams": page});
    if start + limit < list.len() {
        out["nextToken"] = json!(encode_token(&(start + limit).to_string()));
    }
    Ok(out)
}

fn time_arg(v: &Value, key: &str) -> Result<Option<Ms>, ApiError> {
    int_arg(v, key)
}

fn parse_pos(token: &str) -> Option<(bool, Ms, u32)> {
    let (dir, rest) = token.split_once('/')?;
    let (ts, seq) = rest.split_once('/')?;
    Some((dir == "f", ts.parse().ok()?, seq.parse().ok()?))
}

fn get_log_events(sim: &Sim, v: &Value) -> ApiResult {
    let (_, s) = group_arg(sim, v)?;
    let name = str_arg(v, "logStreamName")
        .ok_or_else(|| ApiError::invalid("logStreamName is required."))?;
    let stream = streams(sim, s)
        .into_iter()
        .find(|x| x.name == name)
        .ok_or_else(|| not_found("stream"))?;
    let limit = page_size(v, "limit", 10_000, 10_000)?;
    let lo = time_arg(v, "startTime")?
        .unwrap_or(stream.start)
        .max(stream.start);
    let hi = time_arg(v, "endTime")?.unwrap_or(Ms::MAX).min(stream.end);
    let token = str_arg(v, "nextToken");
    let pos = match token {
        Some(t) => Some(
            parse_pos(t).ok_or_else(|| ApiError::invalid("The specified nextToken is invalid."))?,
        ),
        None => None,
    };
    let forward = match pos {
        Some((f, _, _)) => f,
        None => bool_arg(v, "startFromHead").unwrap_or(false),
    };
    let visible = |e: &LogEvent| e.ts >= lo && e.ts < hi && e.ingestion <= sim.now;
    let mut events: Vec<LogEvent> = Vec::new();
    let mut buf = Vec::new();
    if lo < hi {
        let (first_slot, last_slot) = (lo.div_euclid(SLOT_MS), (hi - 1).div_euclid(SLOT_MS));
        let mut budget = SCAN_BUDGET;
        if forward {
            let mut slot = pos
                .map(|(_, ts, _)| ts.div_euclid(SLOT_MS))
                .unwrap_or(first_slot)
                .max(first_slot);
            while slot <= last_slot && events.len() < limit && budget > 0 {
                buf.clear();
                slot_events(sim.seed, &stream, slot, &mut buf);
                for e in buf.drain(..) {
                    if visible(&e)
                        && pos.is_none_or(|(_, ts, seq)| (e.ts, e.seq) > (ts, seq))
                        && events.len() < limit
                    {
                        events.push(e);
                    }
                }
                slot += 1;
                budget -= 1;
            }
        } else {
            let mut slot = pos
                .map(|(_, ts, _)| ts.div_euclid(SLOT_MS))
                .unwrap_or(last_slot)
                .min(last_slot);
            let mut rev = Vec::new();
            while slot >= first_slot && rev.len() < limit && budget > 0 {
                buf.clear();
                slot_events(sim.seed, &stream, slot, &mut buf);
                for e in buf.drain(..).rev() {
                    if visible(&e)
                        && pos.is_none_or(|(_, ts, seq)| (e.ts, e.seq) < (ts, seq))
                        && rev.len() < limit
                    {
                        rev.push(e);
                    }
                }
                slot -= 1;
                budget -= 1;
            }
            rev.reverse();
            events = rev;
        }
    }
    let fwd = events
        .last()
        .map(|e| format!("f/{}/{}", e.ts, e.seq))
        .or_else(|| token.map(|t| t.replacen("b/", "f/", 1)))
        .unwrap_or_else(|| format!("f/{}/0", hi.min(sim.now)));
    let back = events
        .first()
        .map(|e| format!("b/{}/{}", e.ts, e.seq))
        .or_else(|| token.map(|t| t.replacen("f/", "b/", 1)))
        .unwrap_or_else(|| format!("b/{lo}/0"));
    let items: Vec<Value> = events
        .iter()
        .map(|e| json!({"timestamp": e.ts, "message": e.message, "ingestionTime": e.ingestion}))
        .collect();
    Ok(json!({"events": items, "nextForwardToken": fwd, "nextBackwardToken": back}))
}

fn filter_log_events(sim: &Sim, v: &Value) -> ApiResult {
    let (_, s) = group_arg(sim, v)?;
    let names = str_list(v, "logStreamNames")?;
    let prefix = str_arg(v, "logStreamNamePrefix");
    if !names.is_empty() && prefix.is_some() {
        return Err(ApiError::invalid(
            "logStreamNames and logStreamNamePrefix are mutually exclusive.",
        ));
    }
    if names.len() > 100 {
        return Err(ApiError::invalid(
            "logStreamNames can have at most 100 items.",
        ));
    }
    let limit = page_size(v, "limit", 10_000, 10_000)?;
    let pattern = super::logs_filter::Pattern::parse(str_arg(v, "filterPattern").unwrap_or(""))?;
    let selected: Vec<StreamInfo> = streams(sim, s)
        .into_iter()
        .filter(|x| names.is_empty() || names.contains(&x.name))
        .filter(|x| prefix.is_none_or(|p| x.name.starts_with(p)))
        .collect();
    let earliest = selected.iter().map(|x| x.start).min().unwrap_or(sim.now);
    let lo = time_arg(v, "startTime")?.unwrap_or(earliest).max(earliest);
    let hi = time_arg(v, "endTime")?
        .map(|e| e + 1)
        .unwrap_or(Ms::MAX)
        .min(sim.now + 1);
    // cursor: (ts, stream name, seq) of the last event returned, or a slot boundary
    let cursor: Option<(Ms, String, u32)> = match opt_token(v, "nextToken")? {
        Some(t) => {
            let mut it = t.splitn(3, '|');
            match (
                it.next().and_then(|x| x.parse().ok()),
                it.next().and_then(|x| x.parse().ok()),
                it.next(),
            ) {
                (Some(ts), Some(seq), Some(name)) => Some((ts, name.to_string(), seq)),
                _ => return Err(ApiError::invalid("The specified nextToken is invalid.")),
            }
        }
        None => None,
    };
    let mut out: Vec<(Ms, String, u32, LogEvent)> = Vec::new();
    let mut next: Option<String> = None;
    if lo < hi {
        let first_slot = cursor
            .as_ref()
            .map(|c| c.0)
            .unwrap_or(lo)
            .max(lo)
            .div_euclid(SLOT_MS);
        let last_slot = (hi - 1).div_euclid(SLOT_MS);
        let mut budget = SCAN_BUDGET;
        let mut slot = first_slot;
        let mut buf = Vec::new();
        while slot <= last_slot {
            let (slot_lo, slot_hi) = (slot * SLOT_MS, slot * SLOT_MS + SLOT_MS);
            let mut batch: Vec<(Ms, String, u32, LogEvent)> = Vec::new();
            for st in selected
                .iter()
                .filter(|x| x.start < slot_hi && x.end > slot_lo)
            {
                buf.clear();
                slot_events(sim.seed, st, slot, &mut buf);
                budget -= 1;
                for e in buf.drain(..) {
                    if e.ts < lo || e.ts >= hi || e.ingestion > sim.now {
                        continue;
                    }
                    if cursor
                        .as_ref()
                        .is_some_and(|(ts, name, seq)| (e.ts, &st.name, e.seq) <= (*ts, name, *seq))
                    {
                        continue;
                    }
                    if pattern.matches(&e.message) {
                        batch.push((e.ts, st.name.clone(), e.seq, e));
                    }
                }
            }
            batch.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
            for item in batch {
                if out.len() == limit {
                    if let Some((ts, name, seq, _)) = out.last() {
                        next = Some(format!("{ts}|{seq}|{name}"));
                    }
                    break;
                }
                out.push(item);
            }
            if next.is_some() {
                break;
            }
            slot += 1;
            if budget <= 0 && slot <= last_slot {
                // partial page: resume at the next slot boundary
                next = Some(format!("{}|{}|~", slot * SLOT_MS - 1, u32::MAX));
                break;
            }
        }
    }
    let events: Vec<Value> = out
        .iter()
        .map(|(ts, name, seq, e)| {
            json!({
                "logStreamName": name,
                "timestamp": ts,
                "message": e.message,
                "ingestionTime": e.ingestion,
                "eventId": format!("{:020}{:020}{:016}", ts, hash_str(name), seq),
            })
        })
        .collect();
    let searched: Vec<Value> = selected
        .iter()
        .take(100)
        .map(|x| json!({"logStreamName": x.name, "searchedCompletely": next.is_none()}))
        .collect();
    let mut resp = json!({"events": events, "searchedLogStreams": searched});
    if let Some(n) = next {
        resp["nextToken"] = json!(encode_token(&n));
    }
    Ok(resp)
}
