//! The fleet loader against moto, an independent implementation of ECS and STS: two regions of
//! moto's account read as two pairs, each with its own clusters and services, the account id
//! from STS, and the healthy collapsed per cluster.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use std::sync::{Arc, Mutex};

use berth::aws::AwsTarget;
use berth::aws::fleet::{self, FleetTarget};
use berth::domain::fleet::{FleetPair, RowKind, rows};

use crate::common::moto;

async fn seed(endpoint: &str, region: &str, cluster: &str, services: &[&str]) {
    let config = moto::sdk_config(endpoint).await;
    let ecs = aws_sdk_ecs::Client::from_conf(
        aws_sdk_ecs::config::Builder::from(&config)
            .region(aws_sdk_ecs::config::Region::new(region.to_string()))
            .build(),
    );
    ecs.create_cluster()
        .cluster_name(cluster)
        .send()
        .await
        .expect("create_cluster");
    ecs.register_task_definition()
        .family("web")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("web")
                .image("nginx:1.27")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .expect("register_task_definition");
    for s in services {
        ecs.create_service()
            .cluster(cluster)
            .service_name(*s)
            .task_definition("web")
            .desired_count(0)
            .send()
            .await
            .expect("create_service");
    }
}

#[tokio::test]
async fn two_regions_of_moto_are_two_pairs_with_their_own_services() {
    let server = moto::shared();
    let endpoint = server.endpoint_url();
    seed(&endpoint, "us-east-1", "alpha", &["api", "worker"]).await;
    seed(&endpoint, "eu-west-1", "beta", &["web"]).await;
    let target = |region: &str| FleetTarget {
        pair: FleetPair::new("moto", region),
        target: AwsTarget {
            profile: None,
            region: Some(region.into()),
            endpoint_url: Some(endpoint.clone()),
            static_credentials: Some(("testing".into(), "testing".into())),
            attempt_timeout: None,
        },
        sso_session: None,
        account: None,
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    fleet::load(
        vec![target("us-east-1"), target("eu-west-1")],
        fleet::CONCURRENCY,
        move |r| sink.lock().unwrap().push(r),
    )
    .await;
    let reports = seen.lock().unwrap().clone();
    assert_eq!(reports.len(), 2);
    for r in &reports {
        assert_eq!(r.account.as_deref(), Some("123456789012"), "{r:?}");
        let services = r.outcome.as_ref().unwrap_or_else(|e| panic!("{e:?}"));
        let mut names: Vec<String> = services
            .iter()
            .map(|s| {
                format!(
                    "{}/{}",
                    berth::domain::Cluster::name_from_arn(&s.cluster_arn),
                    s.name
                )
            })
            .collect();
        names.sort();
        let expected: &[&str] = if r.pair.region == "us-east-1" {
            &["alpha/api", "alpha/worker"]
        } else {
            &["beta/web"]
        };
        assert_eq!(names, expected, "{}", r.pair.key());
    }
    let table = rows(
        &reports,
        &[],
        &|s| berth::app::fleet::classify(s, 0),
        &|_| None,
    );
    let healthy: Vec<(String, usize)> = table
        .iter()
        .filter_map(|r| match &r.kind {
            RowKind::Healthy { cluster, services } => {
                Some((format!("{}/{cluster}", r.pair.region), *services))
            }
            _ => None,
        })
        .collect();
    assert!(
        healthy.contains(&("us-east-1/alpha".into(), 2)),
        "{healthy:?}"
    );
    assert!(
        healthy.contains(&("eu-west-1/beta".into(), 1)),
        "{healthy:?}"
    );
}
