//! CPU and memory utilisation of services from CloudWatch: AWS/ECS CPUUtilization and
//! MemoryUtilization by ClusterName and ServiceName, the Average of each minute of the last
//! hour, read with GetMetricData. Two queries a service, up to [`MAX_QUERIES_PER_CALL`] queries
//! a call (250 services), every page of NextToken read.
//!
//! GetMetricData is billed per metric requested, so the caller decides which services are
//! worth it (the rows on screen) and how often (see `app::metrics`).

use std::collections::HashMap;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_smithy_types::DateTime;

use super::{AwsError, ErrorKind};
use crate::domain::metrics::{
    METRICS_PERIOD_SECS, METRICS_WINDOW_SECS, MetricsUnavailable, Series, ServiceMetrics,
};

/// GetMetricData's limit on queries in one call.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// CPU and memory.
pub const METRICS_PER_SERVICE: usize = 2;
/// Pages read for one call at most (an hour of 500 one-minute series fits in one page; this
/// only bounds a misbehaving endpoint).
pub const MAX_PAGES: usize = 10;

const OPERATION: &str = "cloudwatch:GetMetricData";

fn query(id: String, cluster: &str, service: &str, metric: &str) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace("AWS/ECS")
        .metric_name(metric)
        .dimensions(
            Dimension::builder()
                .name("ClusterName")
                .value(cluster)
                .build(),
        )
        .dimensions(
            Dimension::builder()
                .name("ServiceName")
                .value(service)
                .build(),
        )
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
                [
                    query(format!("cpu{i}"), cluster, s, "CPUUtilization"),
                    query(format!("mem{i}"), cluster, s, "MemoryUtilization"),
                ]
            })
            .collect();
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
        for (i, s) in chunk.iter().enumerate() {
            let mut take = |id: String| {
                let mut points = series.remove(&id).unwrap_or_default();
                // whatever order the endpoint used, oldest first and one point a minute
                points.sort_by_key(|p| p.0);
                points.dedup_by_key(|p| p.0);
                Series { points }
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

/// What the screen says when metrics could not be read.
pub fn unavailable(e: &AwsError) -> MetricsUnavailable {
    match e.kind {
        ErrorKind::AccessDenied => MetricsUnavailable::AccessDenied,
        _ => MetricsUnavailable::Failed(e.plain()),
    }
}
