//! berth's AWS layer for clusters against moto, through the real SDK.
//!
//! Expected values are derived from the seed data below, never copied from output.
//!
//! moto quirks that shape these tests (moto 5.2.x):
//! - ListClusters ignores `maxResults` and never returns a `nextToken`: all clusters come back
//!   in one page (checked by `moto_list_clusters_ignores_max_results`, so a future moto that
//!   paginates is noticed). berth's pagination loop is therefore exercised for termination and
//!   completeness here, not for page stitching.
//! - DescribeClusters does not enforce the 100-cluster limit, so batching is checked by the
//!   result (every cluster described exactly once), not by moto rejecting a big batch.
//! - `activeServicesCount` is never incremented, so it is not asserted; pending tasks come from
//!   CreateService (desired count), running tasks from RunTask on container instances.

#![allow(clippy::expect_used)] // tests: a failed expectation is the report

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{ClusterSetting, ClusterSettingName};
use berth::aws::ecs::{describe_clusters, list_cluster_arns};

use crate::common::moto;

/// More than one page of ListClusters (100) and one batch of DescribeClusters (100).
const CLUSTER_COUNT: usize = 105;

/// What the test creates in one cluster, and so what berth must report for it.
#[derive(Clone, Debug)]
struct SeedCluster {
    name: String,
    capacity_providers: Vec<String>,
    container_insights: Option<&'static str>,
    container_instances: i32,
    tasks_run: i32,
    service_desired: i32,
}

fn seed_plan() -> Vec<SeedCluster> {
    (0..CLUSTER_COUNT)
        .map(|i| SeedCluster {
            name: format!("pg-{i:03}"),
            capacity_providers: match i % 3 {
                0 => vec![],
                1 => vec!["FARGATE".to_owned()],
                _ => vec!["FARGATE".to_owned(), "FARGATE_SPOT".to_owned()],
            },
            container_insights: match i % 4 {
                0 => Some("enabled"),
                1 => Some("disabled"),
                2 => Some("enhanced"),
                // No setting given: moto (like ECS) reports the default.
                _ => None,
            },
            container_instances: 0,
            tasks_run: 0,
            service_desired: 0,
        })
        .chain(std::iter::once(SeedCluster {
            name: "busy".to_owned(),
            capacity_providers: vec![],
            container_insights: Some("enabled"),
            container_instances: 2,
            tasks_run: 3,
            service_desired: 4,
        }))
        .collect()
}

async fn client(server: &moto::MotoServer) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::new(&moto::sdk_config(&server.endpoint_url()).await)
}

async fn seed(server: &moto::MotoServer, client: &aws_sdk_ecs::Client, plan: &[SeedCluster]) {
    for cluster in plan {
        let mut create = client
            .create_cluster()
            .cluster_name(&cluster.name)
            .set_capacity_providers(
                (!cluster.capacity_providers.is_empty())
                    .then(|| cluster.capacity_providers.clone()),
            );
        if let Some(value) = cluster.container_insights {
            create = create.settings(
                ClusterSetting::builder()
                    .name(ClusterSettingName::ContainerInsights)
                    .value(value)
                    .build(),
            );
        }
        create.send().await.expect("create_cluster");

        let instances = match cluster.container_instances {
            0 => vec![],
            n => server.run_ec2_instances(n as usize),
        };
        for instance in instances {
            client
                .register_container_instance()
                .cluster(&cluster.name)
                .instance_identity_document(format!(r#"{{"instanceId":"{instance}"}}"#))
                .send()
                .await
                .expect("register_container_instance");
        }
        if cluster.tasks_run > 0 || cluster.service_desired > 0 {
            client
                .register_task_definition()
                .family("web")
                .container_definitions(
                    aws_sdk_ecs::types::ContainerDefinition::builder()
                        .name("web")
                        .image("nginx:1.27")
                        .cpu(64)
                        .memory(128)
                        .build(),
                )
                .send()
                .await
                .expect("register_task_definition");
        }
        if cluster.tasks_run > 0 {
            let run = client
                .run_task()
                .cluster(&cluster.name)
                .task_definition("web")
                .launch_type(aws_sdk_ecs::types::LaunchType::Ec2)
                .count(cluster.tasks_run)
                .send()
                .await
                .expect("run_task");
            assert_eq!(
                run.tasks().len(),
                cluster.tasks_run as usize,
                "moto placed fewer tasks than asked: {:?}",
                run.failures()
            );
        }
        if cluster.service_desired > 0 {
            client
                .create_service()
                .cluster(&cluster.name)
                .service_name("api")
                .task_definition("web")
                .desired_count(cluster.service_desired)
                .send()
                .await
                .expect("create_service");
        }
    }
}

fn name_from_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[tokio::test]
async fn lists_every_cluster_arn() {
    let server = moto::shared();
    server.seed(42);
    let client = client(&server).await;
    let plan = seed_plan();
    seed(&server, &client, &plan).await;

    let arns = list_cluster_arns(&client).await.expect("list_cluster_arns");

    let mut got: Vec<&str> = arns.iter().map(|arn| name_from_arn(arn)).collect();
    got.sort_unstable();
    let mut expected: Vec<&str> = plan.iter().map(|c| c.name.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(got, expected, "every seeded cluster listed exactly once");
    for arn in &arns {
        assert!(
            arn.starts_with("arn:aws:ecs:us-east-1:") && arn.contains(":cluster/"),
            "not a cluster ARN: {arn}"
        );
    }
}

#[tokio::test]
async fn describes_every_cluster_with_its_settings_and_counts() {
    let server = moto::shared();
    let client = client(&server).await;
    let plan = seed_plan();
    assert!(
        plan.len() > 100,
        "the plan must need two DescribeClusters batches"
    );
    seed(&server, &client, &plan).await;

    let arns = list_cluster_arns(&client).await.expect("list_cluster_arns");
    let clusters = describe_clusters(&client, &arns)
        .await
        .expect("describe_clusters");

    assert_eq!(
        clusters.len(),
        plan.len(),
        "one row per cluster, none lost or duplicated between batches"
    );
    let by_name: BTreeMap<&str, &berth::domain::Cluster> =
        clusters.iter().map(|c| (c.name.as_str(), c)).collect();
    assert_eq!(by_name.len(), plan.len(), "cluster names are unique");

    for seeded in &plan {
        let cluster = by_name
            .get(seeded.name.as_str())
            .unwrap_or_else(|| panic!("cluster {} missing from describe", seeded.name));
        assert_eq!(
            name_from_arn(&cluster.arn),
            seeded.name,
            "arn of {}",
            seeded.name
        );
        assert_eq!(cluster.status, "ACTIVE", "status of {}", seeded.name);
        assert_eq!(
            cluster.capacity_providers, seeded.capacity_providers,
            "capacity providers of {}",
            seeded.name
        );
        let expected_insights = seeded.container_insights.unwrap_or("disabled");
        assert_eq!(
            cluster.container_insights.as_deref(),
            Some(expected_insights),
            "Container Insights of {}",
            seeded.name
        );
        assert_eq!(
            cluster.registered_instances, seeded.container_instances,
            "registered instances of {}",
            seeded.name
        );
        assert_eq!(
            cluster.running_tasks, seeded.tasks_run,
            "running tasks of {}",
            seeded.name
        );
        assert_eq!(
            cluster.pending_tasks, seeded.service_desired,
            "pending tasks of {}",
            seeded.name
        );
    }
}

#[tokio::test]
async fn unknown_cluster_in_describe_is_skipped_not_an_error() {
    let server = moto::shared();
    let client = client(&server).await;
    let plan: Vec<SeedCluster> = seed_plan().into_iter().take(2).collect();
    seed(&server, &client, &plan).await;

    let mut requested: Vec<String> = plan.iter().map(|c| c.name.clone()).collect();
    requested.insert(1, "no-such-cluster".to_owned());
    let clusters = describe_clusters(&client, &requested)
        .await
        .expect("a MISSING failure is not an error");

    let mut got: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
    got.sort_unstable();
    let mut expected: Vec<&str> = plan.iter().map(|c| c.name.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn describe_of_nothing_is_nothing() {
    let server = moto::shared();
    let client = client(&server).await;
    // moto, like ECS, describes the `default` cluster when asked about none: berth must not ask.
    client
        .create_cluster()
        .cluster_name("default")
        .send()
        .await
        .expect("create_cluster");
    let clusters = describe_clusters(&client, &[])
        .await
        .expect("describe_clusters");
    assert!(clusters.is_empty(), "got {clusters:?}");
}

/// Records moto's ListClusters paging behaviour that the comment at the top relies on.
#[tokio::test]
async fn moto_list_clusters_ignores_max_results() {
    let server = moto::shared();
    let client = client(&server).await;
    let plan: Vec<SeedCluster> = seed_plan().into_iter().take(12).collect();
    seed(&server, &client, &plan).await;

    let page = client
        .list_clusters()
        .max_results(5)
        .send()
        .await
        .expect("list_clusters");
    assert_eq!(
        page.cluster_arns().len(),
        plan.len(),
        "moto now honours maxResults: update the comment at the top of this file"
    );
    assert_eq!(page.next_token(), None);
}

#[test]
fn moto_reset_clears_state() {
    let server = moto::shared();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let count = |runtime: &tokio::runtime::Runtime| {
        runtime.block_on(async {
            let client = client(&server).await;
            client
                .list_clusters()
                .send()
                .await
                .expect("list_clusters")
                .cluster_arns()
                .len()
        })
    };
    runtime.block_on(async {
        client(&server)
            .await
            .create_cluster()
            .cluster_name("ephemeral")
            .send()
            .await
            .expect("create_cluster");
    });
    assert_eq!(count(&runtime), 1);
    server.reset();
    assert_eq!(count(&runtime), 0);
}

#[test]
fn parses_http_responses() {
    let (status, body) =
        moto::parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").expect("parse");
    assert_eq!((status, body.as_str()), (200, "ok"));
    let (status, _) =
        moto::parse_response(b"HTTP/1.0 500 INTERNAL SERVER ERROR\r\n\r\n").expect("parse");
    assert_eq!(status, 500);
    assert!(moto::parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
    assert!(moto::parse_response(b"garbage\r\n\r\n").is_err());
}
