//! CloudWatch's GetMetricData, as aws-sdk-cloudwatch sends it: Smithy RPC v2 CBOR
//! (`POST /service/GraniteServiceVersion20100801/operation/GetMetricData`). The request is
//! decoded into a JSON value (timestamps, CBOR tag 1, become epoch seconds); the answer is
//! encoded straight to CBOR with its timestamps as tag 1. Values come from
//! [`Sim::utilisation`]: AWS/ECS CPUUtilization and MemoryUtilization by ClusterName and
//! ServiceName, one datapoint per minute up to the virtual now; and, for clusters with
//! Container Insights' enhanced observability, ECS/ContainerInsights CpuUtilized,
//! CpuReserved, MemoryUtilized and MemoryReserved of one task (CPU units and MiB, from
//! [`Sim::task_utilisation`]), by ClusterName, TaskDefinitionFamily and TaskId.
//! Dimensions naming no sandbox service or task, other namespaces and other metrics get a
//! result with no datapoints, as CloudWatch answers for a metric that does not exist.

use minicbor::data::{IanaTag, Tag, Type};
use serde_json::{Map, Number, Value};

use super::load::MINUTE_MS;
use super::model::Ms;
use super::server::Shared;
use super::wire::ApiError;

/// The Smithy service shape name in the RPC v2 CBOR route.
pub(crate) const SERVICE_SHAPE: &str = "GraniteServiceVersion20100801";

/// The operation named by an RPC v2 CBOR path, if the path is CloudWatch's.
pub(crate) fn operation(path: &str) -> Option<&str> {
    path.strip_prefix("/service/")?
        .strip_prefix(SERVICE_SHAPE)?
        .strip_prefix("/operation/")
}

/// Answer `op` with a CBOR body.
pub(crate) fn handle(shared: &Shared, op: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let input = if body.is_empty() {
        Value::Object(Map::new())
    } else {
        decode(body).map_err(|e| {
            ApiError::new("SerializationException", format!("invalid CBOR body: {e}"))
        })?
    };
    match op {
        "GetMetricData" => get_metric_data(shared, &input),
        _ => Err(ApiError::unknown_operation(op)),
    }
}

struct Query {
    id: String,
    label: Option<String>,
    namespace: String,
    metric: String,
    cluster: Option<String>,
    service: Option<String>,
    family: Option<String>,
    task: Option<String>,
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn queries(input: &Value) -> Result<Vec<Query>, ApiError> {
    let list = input
        .get("MetricDataQueries")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::new("ValidationError", "MetricDataQueries is required"))?;
    if list.is_empty() || list.len() > 500 {
        return Err(ApiError::new(
            "ValidationError",
            format!(
                "1 validation error detected: Value at 'metricDataQueries' failed to satisfy constraint: Member must have length between 1 and 500 (got {})",
                list.len()
            ),
        ));
    }
    list.iter()
        .map(|q| {
            let id = str_at(q, "Id")
                .ok_or_else(|| ApiError::new("ValidationError", "Id is required"))?
                .to_string();
            let metric = q.get("MetricStat").and_then(|m| m.get("Metric"));
            let dim = |name: &str| {
                metric
                    .and_then(|m| m.get("Dimensions"))
                    .and_then(Value::as_array)
                    .and_then(|ds| ds.iter().find(|d| str_at(d, "Name") == Some(name)))
                    .and_then(|d| str_at(d, "Value"))
                    .map(str::to_string)
            };
            Ok(Query {
                label: str_at(q, "Label").map(str::to_string),
                namespace: metric
                    .and_then(|m| str_at(m, "Namespace"))
                    .unwrap_or_default()
                    .to_string(),
                metric: metric
                    .and_then(|m| str_at(m, "MetricName"))
                    .unwrap_or_default()
                    .to_string(),
                cluster: dim("ClusterName"),
                service: dim("ServiceName"),
                family: dim("TaskDefinitionFamily"),
                task: dim("TaskId"),
                id,
            })
        })
        .collect()
}

fn get_metric_data(shared: &Shared, input: &Value) -> Result<Vec<u8>, ApiError> {
    let queries = queries(input)?;
    let secs = |key: &str| {
        input
            .get(key)
            .and_then(Value::as_f64)
            .map(|s| (s * 1000.0) as Ms)
            .ok_or_else(|| ApiError::new("ValidationError", format!("{key} is required")))
    };
    let (start, end) = (secs("StartTime")?, secs("EndTime")?);
    let ascending = str_at(input, "ScanBy") == Some("TimestampAscending");
    let sim = shared.sim();
    let last = end.min(sim.now);
    let first_minute = start.div_euclid(MINUTE_MS) + i64::from(start.rem_euclid(MINUTE_MS) != 0);
    let mut results = Vec::with_capacity(queries.len());
    for q in &queries {
        let mut points: Vec<(Ms, f64)> = Vec::new();
        let mut minutes = (first_minute..)
            .map(|m| m * MINUTE_MS)
            .take_while(|at| *at < last);
        match q.namespace.as_str() {
            "AWS/ECS" => {
                let service = match (&q.cluster, &q.service) {
                    (Some(c), Some(s)) => sim.find_service(c, s),
                    _ => None,
                };
                if let Some(s) = service {
                    for at in minutes.by_ref() {
                        let (cpu, mem) = sim.utilisation(s, at);
                        match q.metric.as_str() {
                            "CPUUtilization" => points.push((at, cpu)),
                            "MemoryUtilization" => points.push((at, mem)),
                            _ => break,
                        }
                    }
                }
            }
            "ECS/ContainerInsights" => {
                if let Some((t, cpu_units, memory_mib)) = insights_task(&sim, q) {
                    for at in minutes.by_ref() {
                        let Some((cpu, mem)) = sim.task_utilisation(t, at) else {
                            continue;
                        };
                        let value = match q.metric.as_str() {
                            "CpuUtilized" => cpu / 100.0 * cpu_units,
                            "CpuReserved" => cpu_units,
                            "MemoryUtilized" => mem / 100.0 * memory_mib,
                            "MemoryReserved" => memory_mib,
                            _ => break,
                        };
                        points.push((at, value));
                    }
                }
            }
            _ => {}
        }
        if !ascending {
            points.reverse();
        }
        results.push((q, points));
    }
    drop(sim);
    // MaxDatapoints pages the answer: this page holds datapoints [from, from + max) of all
    // results in order; NextToken says where the next one starts
    let from = match str_at(input, "NextToken") {
        None => 0,
        Some(t) => t
            .strip_prefix("dp-")
            .and_then(|t| t.parse::<usize>().ok())
            .ok_or_else(|| {
                ApiError::new(
                    "InvalidNextToken",
                    "The service couldn't process the NextToken.",
                )
            })?,
    };
    let max = input
        .get("MaxDatapoints")
        .and_then(Value::as_u64)
        .filter(|&m| m > 0)
        .map_or(usize::MAX, |m| m as usize);
    let total: usize = results.iter().map(|(_, p)| p.len()).sum();
    let end = from.saturating_add(max).min(total);
    let mut seen = 0;
    for (_, points) in results.iter_mut() {
        let (start, len) = (seen, points.len());
        seen += len;
        let keep_from = from.clamp(start, start + len) - start;
        let keep_to = end.clamp(start, start + len) - start;
        *points = points[keep_from..keep_to].to_vec();
    }
    let next = (end < total).then(|| format!("dp-{end}"));
    encode_output(&results, next.as_deref()).map_err(|e| ApiError {
        status: 500,
        code: "InternalFailure".into(),
        message: format!("encoding the answer: {e}"),
    })
}

/// The task a Container Insights query names, with its reserved CPU units and MiB: task-level
/// metrics exist only with enhanced observability, by ClusterName, TaskDefinitionFamily (or
/// ServiceName) and TaskId.
fn insights_task(sim: &super::sim::Sim, q: &Query) -> Option<(usize, f64, f64)> {
    let cluster = sim
        .clusters
        .get(*sim.cluster_by_name.get(q.cluster.as_deref()?)?)?;
    if cluster.insights != "enhanced" {
        return None;
    }
    let id = q.task.as_deref()?;
    let t = *cluster
        .tasks_live
        .get(id)
        .or_else(|| cluster.tasks_stopped.get(id))?;
    let task = sim.tasks.get(t)?.as_ref()?;
    let td = sim.task_defs.get(task.task_def)?;
    let named = match (&q.family, &q.service) {
        (Some(f), _) => *f == td.family,
        (None, Some(s)) => task
            .service
            .and_then(|i| sim.services.get(i))
            .is_some_and(|svc| svc.name == *s),
        (None, None) => false,
    };
    named.then_some((t, f64::from(td.cpu), f64::from(td.memory)))
}

type Enc = minicbor::Encoder<Vec<u8>>;
type EncError = minicbor::encode::Error<std::convert::Infallible>;

fn encode_output(
    results: &[(&Query, Vec<(Ms, f64)>)],
    next_token: Option<&str>,
) -> Result<Vec<u8>, EncError> {
    let mut e: Enc = minicbor::Encoder::new(Vec::new());
    e.map(2 + u64::from(next_token.is_some()))?;
    if let Some(token) = next_token {
        e.str("NextToken")?.str(token)?;
    }
    e.str("MetricDataResults")?.array(results.len() as u64)?;
    for (q, points) in results {
        e.map(5)?;
        e.str("Id")?.str(&q.id)?;
        e.str("Label")?
            .str(q.label.as_deref().unwrap_or(q.metric.as_str()))?;
        e.str("Timestamps")?.array(points.len() as u64)?;
        for (at, _) in points {
            e.tag(Tag::from(IanaTag::Timestamp))?.i64(at / 1000)?;
        }
        e.str("Values")?.array(points.len() as u64)?;
        for (_, v) in points {
            e.f64(*v)?;
        }
        e.str("StatusCode")?.str(if next_token.is_some() {
            "PartialData"
        } else {
            "Complete"
        })?;
    }
    e.str("Messages")?.array(0)?;
    Ok(e.into_writer())
}

/// The CBOR error envelope RPC v2 CBOR clients read: `{"__type": code, "message": ...}`.
pub(crate) fn error_body(code: &str, message: &str) -> Vec<u8> {
    let mut e: Enc = minicbor::Encoder::new(Vec::new());
    let written = e
        .map(2)
        .and_then(|e| e.str("__type"))
        .and_then(|e| e.str(code))
        .and_then(|e| e.str("message"))
        .and_then(|e| e.str(message))
        .is_ok();
    if written { e.into_writer() } else { Vec::new() }
}

/// A CBOR document as a JSON value: maps with text keys, arrays, text, numbers, booleans,
/// null; a timestamp (tag 1) becomes its epoch seconds. Nesting is bounded.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value, String> {
    let mut d = minicbor::Decoder::new(bytes);
    let v = item(&mut d, 0)?;
    if d.position() != bytes.len() {
        return Err(format!("trailing bytes at {}", d.position()));
    }
    Ok(v)
}

fn item(d: &mut minicbor::Decoder<'_>, depth: u32) -> Result<Value, String> {
    if depth > 32 {
        return Err("nested too deeply".into());
    }
    let err = |e: minicbor::decode::Error| e.to_string();
    let ty = d.datatype().map_err(err)?;
    Ok(match ty {
        Type::Map | Type::MapIndef => {
            let len = d.map().map_err(err)?;
            let mut map = Map::new();
            let mut n = 0u64;
            loop {
                if let Some(len) = len {
                    if n == len {
                        break;
                    }
                } else if d.datatype().map_err(err)? == Type::Break {
                    d.skip().map_err(err)?;
                    break;
                }
                let key = match item(d, depth + 1)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                map.insert(key, item(d, depth + 1)?);
                n += 1;
            }
            Value::Object(map)
        }
        Type::Array | Type::ArrayIndef => {
            let len = d.array().map_err(err)?;
            let mut list = Vec::new();
            loop {
                if let Some(len) = len {
                    if list.len() as u64 == len {
                        break;
                    }
                } else if d.datatype().map_err(err)? == Type::Break {
                    d.skip().map_err(err)?;
                    break;
                }
                list.push(item(d, depth + 1)?);
            }
            Value::Array(list)
        }
        Type::String => Value::String(d.str().map_err(err)?.to_string()),
        Type::StringIndef => {
            let mut s = String::new();
            for part in d.str_iter().map_err(err)? {
                s.push_str(part.map_err(err)?);
            }
            Value::String(s)
        }
        Type::Bool => Value::Bool(d.bool().map_err(err)?),
        Type::Null | Type::Undefined => {
            d.skip().map_err(err)?;
            Value::Null
        }
        Type::F16 | Type::F32 | Type::F64 => {
            Number::from_f64(d.f64().map_err(err)?).map_or(Value::Null, Value::Number)
        }
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::from(d.u64().map_err(err)?),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
            Value::from(d.i64().map_err(err)?)
        }
        Type::Tag => {
            d.tag().map_err(err)?;
            // tag 1 (epoch seconds) is the only one CloudWatch's requests carry; any other
            // tag's content is taken as it is
            item(d, depth + 1)?
        }
        other => return Err(format!("unsupported CBOR type {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_indefinite_maps_and_timestamps() {
        let mut e: Enc = minicbor::Encoder::new(Vec::new());
        e.begin_map().unwrap();
        e.str("StartTime").unwrap();
        e.tag(Tag::from(IanaTag::Timestamp))
            .unwrap()
            .f64(1.5e9)
            .unwrap();
        e.str("Q").unwrap().begin_array().unwrap().str("a").unwrap();
        e.end().unwrap().end().unwrap();
        let v = decode(&e.into_writer()).unwrap();
        assert_eq!(v["StartTime"].as_f64(), Some(1.5e9));
        assert_eq!(v["Q"][0], "a");
    }

    #[test]
    fn the_route_names_the_operation() {
        assert_eq!(
            operation("/service/GraniteServiceVersion20100801/operation/GetMetricData"),
            Some("GetMetricData")
        );
        assert_eq!(operation("/"), None);
    }
}
