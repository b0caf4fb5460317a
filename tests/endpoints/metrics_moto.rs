//! What moto (5.2.5) makes of CloudWatch as this aws-sdk-cloudwatch (1.140) sends it: Smithy
//! RPC v2 CBOR, `POST /service/GraniteServiceVersion20100801/operation/<Op>`. moto has no such
//! route (it serves CloudWatch's query and JSON protocols only) and answers `404 Not Found`
//! with an HTML page, so PutMetricData and berth's GetMetricData both fail there: the metrics
//! code is tested against the sandbox (`metrics_sandbox.rs`), which speaks CBOR. When this
//! test fails because moto answered, test `aws::metrics` against moto too.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_smithy_types::DateTime;
use berth::domain::metrics::MetricsUnavailable;

use crate::common::moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_does_not_serve_cloudwatch_over_rpc_v2_cbor() {
    let server = moto::shared();
    let cfg = moto::sdk_config(&server.endpoint_url()).await;
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let put = cw
        .put_metric_data()
        .namespace("AWS/ECS")
        .metric_data(
            MetricDatum::builder()
                .metric_name("CPUUtilization")
                .dimensions(
                    Dimension::builder()
                        .name("ClusterName")
                        .value("prod")
                        .build(),
                )
                .dimensions(
                    Dimension::builder()
                        .name("ServiceName")
                        .value("web")
                        .build(),
                )
                .timestamp(DateTime::from_secs(now - 120))
                .value(42.0)
                .unit(StandardUnit::Percent)
                .build(),
        )
        .send()
        .await
        .expect_err("moto accepted PutMetricData over CBOR: test aws::metrics against it");
    let raw = put.raw_response().expect("an HTTP answer");
    assert_eq!(raw.status().as_u16(), 404, "{put:?}");
    let body = raw
        .body()
        .bytes()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    assert!(body.contains("Not Found"), "{body}");

    // berth's GetMetricData gets the same answer, and says so as a failure (not as "no data")
    let err = berth::aws::metrics::service_metrics(&cw, "prod", &["web".to_string()], now)
        .await
        .expect_err("moto answered GetMetricData over CBOR: test aws::metrics against it");
    assert!(matches!(
        berth::aws::metrics::unavailable(&err),
        MetricsUnavailable::Failed(_)
    ));
}
