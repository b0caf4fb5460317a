//! CPU and memory utilisation of services from CloudWatch: AWS/ECS CPUUtilization and
//! MemoryUtilization by ClusterName and ServiceName, the Average of each minute of the last
//! hour, read with GetMetricData. Two queries a service, up to [`MAX_QUERIES_PER_CALL`] queries
//! a call (250 services), every page of NextToken read.
//!
//! Per task, when the cluster has Container Insights with enhanced observability:
//! ECS/ContainerInsights CpuUtilized and MemoryUtilized by ClusterName, TaskDefinitionFamily
//! and TaskId, as a percentage of the task's own CPU units and MiB ([`task_metrics`]).
//!
//! GetMetricData is billed per metric requested, so the caller decides which services and
//! tasks are worth it (the rows on screen) and how often (see `app::metrics`).

use std::collections::HashMap;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_smithy_types::DateTime;

use super::{AwsError, ErrorKind};
use crate::domain::metrics::{
    METRICS_PERIOD_SECS, METRICS_WINDOW_SECS, MetricsUnavailable, Series, ServiceMetrics, TaskQuery,
};

/// GetMetricData's limit on queries in one call.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// CPU and memory.
pub const METRICS_PER_SERVICE: usize = 2;
/// Pages read for one call at most (an hour of 500 one-minute series fits in one page; this
/// only bounds a misbehaving endpoint).
pub const MAX_PAGES: usize = 10;

const OPERATION: &str = "cloudwatch:GetMetricData";

fn query(id: String, namespace: &str, metric: &str, dims: &[(&str, &str)]) -> MetricDataQuery {
    let dimensions = dims
        .iter()
        .map(|(name, value)| Dimension::builder().name(*name).value(*value).build())
        .collect();
    let metric = Metric::builder()
        .namespace(namespace)
        .metric_name(metric)
        .set_dimensions(Some(dimensions))
        .build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(METRICS_PERIOD_SECS)
                .stat("Average")
                .build(),
        )
        .return_data(true)
        .build()
}

/// Every page of one GetMetricData call of `queries` (at most 500) over the last hour to
/// `now`: each query's datapoints by its id, oldest first, one a minute.
async fn fetch(
    cw: &aws_sdk_cloudwatch::Client,
    queries: Vec<MetricDataQuery>,
    now: i64,
    max_datapoints: Option<i32>,
) -> Result<HashMap<String, Vec<(i64, f64)>>, AwsError> {
    let mut series: HashMap<String, Vec<(i64, f64)>> = HashMap::new();
    let mut next_token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let out = cw
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(DateTime::from_secs(now - METRICS_WINDOW_SECS))
            .end_time(DateTime::from_secs(now))
            .scan_by(ScanBy::TimestampAscending)
            .set_max_datapoints(max_datapoints)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OPERATION, &e))?;
        for r in out.metric_data_results() {
            let Some(id) = r.id() else { continue };
            let points = series.entry(id.to_string()).or_default();
            points.extend(
                r.timestamps()
                    .iter()
                    .map(|t| t.secs())
                    .zip(r.values().iter().copied()),
            );
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => next_token = Some(t.to_string()),
            _ => break,
        }
    }
    for points in series.values_mut() {
        // whatever order the endpoint used, oldest first and one point a minute
        points.sort_by_key(|p| p.0);
        points.dedup_by_key(|p| p.0);
    }
    Ok(series)
}

/// The last hour (to `now`, unix seconds) of `services` of `cluster` (names), in
/// `ceil(2 × services / 500)` calls (more only when CloudWatch pages). A service CloudWatch
/// has no datapoints for gets empty series.
pub async fn service_metrics(
    cw: &aws_sdk_cloudwatch::Client,
    cluster: &str,
    services: &[String],
    now: i64,
) -> Result<HashMap<String, ServiceMetrics>, AwsError> {
    service_metrics_paged(cw, cluster, services, now, None).await
}

/// [`service_metrics`] with pages of at most `max_datapoints` (tests: CloudWatch pages only
/// past 100,800 datapoints, which 500 one-minute series of an hour never reach).
pub async fn service_metrics_paged(
    cw: &aws_sdk_cloudwatch::Client,
    cluster: &str,
    services: &[String],
    now: i64,
    max_datapoints: Option<i32>,
) -> Result<HashMap<String, ServiceMetrics>, AwsError> {
    let cluster = crate::domain::Cluster::name_from_arn(cluster);
    let mut found: HashMap<String, ServiceMetrics> = HashMap::new();
    for chunk in services.chunks(MAX_QUERIES_PER_CALL / METRICS_PER_SERVICE) {
        let queries: Vec<MetricDataQuery> = chunk
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                let s = s.rsplit('/').next().unwrap_or(s);
                let dims = [("ClusterName", cluster), ("ServiceName", s)];
                [
                    query(format!("cpu{i}"), "AWS/ECS", "CPUUtilization", &dims),
                    query(format!("mem{i}"), "AWS/ECS", "MemoryUtilization", &dims),
                ]
            })
            .collect();
        let mut series = fetch(cw, queries, now, max_datapoints).await?;
        for (i, s) in chunk.iter().enumerate() {
            let mut take = |id: String| Series {
                points: series.remove(&id).unwrap_or_default(),
            };
            let metrics = ServiceMetrics {
                cpu: take(format!("cpu{i}")),
                memory: take(format!("mem{i}")),
            };
            found.insert(s.clone(), metrics);
        }
    }
    Ok(found)
}

/// Per-task CPU and memory of the last hour (percent of what each task reserves), by task
/// ARN, from ECS/ContainerInsights CpuUtilized and MemoryUtilized; as many calls as 500
/// queries need. A task CloudWatch has no datapoints for gets empty series.
pub async fn task_metrics(
    cw: &aws_sdk_cloudwatch::Client,
    cluster: &str,
    tasks: &[TaskQuery],
    now: i64,
) -> Result<HashMap<String, ServiceMetrics>, AwsError> {
    let cluster = crate::domain::Cluster::name_from_arn(cluster);
    let mut found = HashMap::new();
    let mut chunk: Vec<&TaskQuery> = Vec::new();
    let mut size = 0;
    for (n, t) in tasks.iter().enumerate() {
        chunk.push(t);
        size += t.metrics();
        let next = tasks.get(n + 1).map_or(usize::MAX, TaskQuery::metrics);
        if size.saturating_add(next) > MAX_QUERIES_PER_CALL {
            task_chunk(cw, cluster, &chunk, now, &mut found).await?;
            chunk.clear();
            size = 0;
        }
    }
    if !chunk.is_empty() {
        task_chunk(cw, cluster, &chunk, now, &mut found).await?;
    }
    Ok(found)
}

async fn task_chunk(
    cw: &aws_sdk_cloudwatch::Client,
    cluster: &str,
    chunk: &[&TaskQuery],
    now: i64,
    found: &mut HashMap<String, ServiceMetrics>,
) -> Result<(), AwsError> {
    const NS: &str = "ECS/ContainerInsights";
    let mut queries = Vec::new();
    for (i, t) in chunk.iter().enumerate() {
        let id = crate::domain::Task::id_from_arn(&t.arn);
        let dims = [
            ("ClusterName", cluster),
            ("TaskDefinitionFamily", t.family.as_str()),
            ("TaskId", id),
        ];
        queries.push(query(format!("cpu{i}"), NS, "CpuUtilized", &dims));
        queries.push(query(format!("mem{i}"), NS, "MemoryUtilized", &dims));
        if t.cpu_units.is_none() {
            queries.push(query(format!("cpur{i}"), NS, "CpuReserved", &dims));
        }
        if t.memory_mib.is_none() {
            queries.push(query(format!("memr{i}"), NS, "MemoryReserved", &dims));
        }
    }
    let mut series = fetch(cw, queries, now, None).await?;
    for (i, t) in chunk.iter().enumerate() {
        let mut percent = |used: String, reserved: Option<f64>, reserved_id: String| {
            let used = series.remove(&used).unwrap_or_default();
            let reserved_series = series.remove(&reserved_id).unwrap_or_default();
            let points = used
                .into_iter()
                .filter_map(|(at, v)| {
                    let r = reserved
                        .or_else(|| reserved_series.iter().find(|p| p.0 == at).map(|p| p.1))?;
                    (r > 0.0).then(|| (at, 100.0 * v / r))
                })
                .collect();
            Series { points }
        };
        let metrics = ServiceMetrics {
            cpu: percent(
                format!("cpu{i}"),
                t.cpu_units.map(f64::from),
                format!("cpur{i}"),
            ),
            memory: percent(
                format!("mem{i}"),
                t.memory_mib.map(f64::from),
                format!("memr{i}"),
            ),
        };
        found.insert(t.arn.clone(), metrics);
    }
    Ok(())
}

/// What the screen says when metrics could not be read.
pub fn unavailable(e: &AwsError) -> MetricsUnavailable {
    match e.kind {
        ErrorKind::AccessDenied => MetricsUnavailable::AccessDenied,
        _ => MetricsUnavailable::Failed(e.plain()),
    }
}
