//! berth's service, task and task definition reads against moto (an independent implementation
//! of the ECS API), through the real SDK. The test seeds moto itself; every comparison is with
//! an independent SDK call (`aws_compare`), and the values expected from the seed are spelled
//! out below.
//!
//! Where moto 5.2.x deviates from ECS (asserted where this seed can show it, so a moto upgrade
//! that fixes one is noticed):
//! - ListServices / ListTasks ignore `maxResults` (one page, no `nextToken`).
//! - ListTasks ignores `serviceName` and returns every task of the cluster with the desired
//!   status; the console can narrow by `group == "service:<name>"`.
//! - Services: `deploymentConfiguration` and `enableExecuteCommand` are dropped, `events` is
//!   always empty, there is no `createdAt` on the service.
//! - DescribeTasks: only the first container of the task definition appears; no
//!   `availabilityZone`, `createdAt`/`startedAt`, `stopCode`, task-level cpu/memory, container
//!   `runtimeId` or `managedAgents`; the ENI has no `ipv6Address`.
//!
//! VPC, subnets and the security group are created through EC2's query protocol over plain
//! HTTP (as `common::moto` does for RunInstances): the EC2 SDK crate would cost minutes of
//! compile time for four calls. RunTask with awsvpc needs `EnableDnsHostnames` on the VPC and a
//! `memory` on every container definition.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{
    AwsVpcConfiguration, ContainerDefinition, DesiredStatus, LaunchType, LinuxParameters,
    LogConfiguration, LogDriver, NetworkConfiguration, NetworkMode,
};
use berth::aws::ErrorKind;
use berth::aws::services::{describe_services, list_service_arns, list_services_page};
use berth::aws::task_definitions::describe_task_definition;
use berth::aws::tasks::{TaskListing, describe_tasks, list_task_arns};

use crate::aws_compare::*;
use crate::common::moto::{self, MotoServer};

const CLUSTER: &str = "moto-prod";
const STOP_REASON: &str = "drill: stopped by the aws_moto test";

/// One EC2 query-protocol call; returns the XML body.
fn ec2(server: &MotoServer, params: &str) -> String {
    let body = format!("{params}&Version=2016-11-15");
    let auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, \
                SignedHeaders=host, Signature=0";
    let headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Authorization", auth),
    ];
    match moto::http_request_with(server.port(), "POST", "/", &headers, &body) {
        Ok((200, xml)) => xml,
        other => panic!("EC2 {params}: {other:?}"),
    }
}

fn xml_value(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let rest = xml
        .split_once(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        .1;
    rest.split_once(&format!("</{tag}>")).unwrap().0.to_string()
}

/// `MotoServer::freeze_tasks` with moto 5.2.5's answer accepted: set-transition replies
/// 201 Created, which the harness's `post` (200 only) rejects.
fn freeze_tasks(server: &MotoServer) {
    let body =
        r#"{"model_name":"ecs::task","transition":{"progression":"manual","times":1000000}}"#;
    match moto::http_request(
        server.port(),
        "POST",
        "/moto-api/state-manager/set-transition",
        body,
    ) {
        Ok((200 | 201, _)) => {}
        other => panic!("freezing moto's task transitions: {other:?}"),
    }
}

struct Network {
    subnets: Vec<String>,
    security_group: String,
}

fn seed_network(server: &MotoServer) -> Network {
    let vpc = xml_value(
        &ec2(server, "Action=CreateVpc&CidrBlock=10.20.0.0%2F16"),
        "vpcId",
    );
    ec2(
        server,
        &format!("Action=ModifyVpcAttribute&VpcId={vpc}&EnableDnsHostnames.Value=true"),
    );
    let subnets = [("10.20.1.0", "us-east-1a"), ("10.20.2.0", "us-east-1b")]
        .iter()
        .map(|(cidr, az)| {
            let xml = ec2(
                server,
                &format!(
                    "Action=CreateSubnet&VpcId={vpc}&CidrBlock={cidr}%2F24&AvailabilityZone={az}"
                ),
            );
            xml_value(&xml, "subnetId")
        })
        .collect();
    let sg = ec2(
        server,
        &format!("Action=CreateSecurityGroup&GroupName=web&GroupDescription=web&VpcId={vpc}"),
    );
    Network {
        subnets,
        security_group: xml_value(&sg, "groupId"),
    }
}

fn awsvpc(net: &Network, subnets: &[String]) -> NetworkConfiguration {
    NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .set_subnets(Some(subnets.to_vec()))
                .security_groups(&net.security_group)
                .build()
                .unwrap(),
        )
        .build()
}

fn log_options(stream_prefix: &str) -> LogConfiguration {
    LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", "/ecs/moto-prod/web")
        .options("awslogs-region", "eu-west-1")
        .options("awslogs-stream-prefix", stream_prefix)
        .build()
        .unwrap()
}

struct Seeded {
    net: Network,
    web_tasks: Vec<String>,
    worker_tasks: Vec<String>,
    stopped: String,
}

/// A cluster with two awsvpc services (`web`: two containers; `worker`: one), tasks run for
/// each service through RunTask with `group = "service:<name>"`, and one web task stopped.
async fn seed(server: &MotoServer, ecs: &aws_sdk_ecs::Client) -> Seeded {
    freeze_tasks(server);
    let net = seed_network(server);
    ecs.create_cluster()
        .cluster_name(CLUSTER)
        .send()
        .await
        .unwrap();
    ecs.register_task_definition()
        .family("web")
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .cpu("512")
        .memory("1024")
        .task_role_arn("arn:aws:iam::123456789012:role/web-task")
        .execution_role_arn("arn:aws:iam::123456789012:role/ecsTaskExecutionRole")
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image("public.ecr.aws/nginx/nginx:1.27")
                .memory(512)
                .essential(true)
                .linux_parameters(
                    LinuxParameters::builder()
                        .init_process_enabled(true)
                        .build(),
                )
                .log_configuration(log_options("web"))
                .build(),
        )
        .container_definitions(
            ContainerDefinition::builder()
                .name("envoy")
                .image("public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29")
                .memory(256)
                .essential(false)
                .readonly_root_filesystem(true)
                .log_configuration(log_options("envoy"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    ecs.register_task_definition()
        .family("worker")
        .network_mode(NetworkMode::Awsvpc)
        .container_definitions(
            ContainerDefinition::builder()
                .name("worker")
                .image("worker:3")
                .memory(256)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for (name, td, desired) in [("web", "web:1", 2), ("worker", "worker", 1)] {
        ecs.create_service()
            .cluster(CLUSTER)
            .service_name(name)
            .task_definition(td)
            .desired_count(desired)
            .launch_type(LaunchType::Fargate)
            .network_configuration(awsvpc(&net, &net.subnets))
            .enable_execute_command(true)
            .send()
            .await
            .unwrap();
    }
    let run = |family: &'static str, subnet: String, count: i32| {
        let ecs = ecs.clone();
        let conf = awsvpc(&net, &[subnet]);
        async move {
            ecs.run_task()
                .cluster(CLUSTER)
                .task_definition(family)
                .count(count)
                .group(format!("service:{family}"))
                .started_by("berth-test")
                .launch_type(LaunchType::Fargate)
                .network_configuration(conf)
                .send()
                .await
                .unwrap()
                .tasks()
                .iter()
                .filter_map(|t| t.task_arn().map(str::to_string))
                .collect::<Vec<_>>()
        }
    };
    let web_tasks = run("web", net.subnets[0].clone(), 3).await;
    let worker_tasks = run("worker", net.subnets[1].clone(), 1).await;
    assert_eq!((web_tasks.len(), worker_tasks.len()), (3, 1));
    let stopped = web_tasks[2].clone();
    ecs.stop_task()
        .cluster(CLUSTER)
        .task(&stopped)
        .reason(STOP_REASON)
        .send()
        .await
        .unwrap();
    Seeded {
        net,
        web_tasks: web_tasks[..2].to_vec(),
        worker_tasks,
        stopped,
    }
}

async fn api_tasks(
    ecs: &aws_sdk_ecs::Client,
    arns: &[String],
) -> BTreeMap<String, aws_sdk_ecs::types::Task> {
    let out = ecs
        .describe_tasks()
        .cluster(CLUSTER)
        .set_tasks(Some(arns.to_vec()))
        .send()
        .await
        .unwrap();
    out.tasks()
        .iter()
        .map(|t| (t.task_arn().unwrap().to_string(), t.clone()))
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn services_match_describe_services_on_moto() {
    let server = moto::shared();
    let ecs = aws_sdk_ecs::Client::new(&moto::sdk_config(&server.endpoint_url()).await);
    let seeded = seed(&server, &ecs).await;

    let arns = list_service_arns(&ecs, CLUSTER).await.unwrap();
    let (page, next) = list_services_page(&ecs, CLUSTER, None).await.unwrap();
    assert_eq!((page.clone(), next), (arns.clone(), None));
    assert_eq!(arns.len(), 2);

    let (services, missing) = describe_services(&ecs, CLUSTER, &arns).await.unwrap();
    assert!(missing.is_empty());
    let api = ecs
        .describe_services()
        .cluster(CLUSTER)
        .set_services(Some(arns.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(services.len(), api.services().len());
    for (mine, api) in services.iter().zip(api.services()) {
        assert_service_matches(mine, api);
    }

    let web = services.iter().find(|s| s.name == "web").unwrap();
    assert_eq!(web.desired, 2);
    assert_eq!(web.task_definition, "web:1");
    assert_eq!(web.launch_type.as_deref(), Some("FARGATE"));
    assert_eq!(web.subnets, seeded.net.subnets);
    assert_eq!(web.deployments.len(), 1);
    let primary = web.primary().unwrap();
    assert_eq!(primary.status, "PRIMARY");
    assert_eq!(primary.task_definition, "web:1");
    assert_eq!(primary.desired, 2);
    assert!(primary.created_at.is_some());
    // moto deviations (see the module doc).
    assert!(web.events.is_empty(), "moto now reports service events");
    assert!(!web.exec_enabled, "moto now keeps enableExecuteCommand");
    assert_eq!(web.created_at, None, "moto now reports createdAt");

    let asked = vec!["web".to_string(), "ghost".to_string()];
    let (found, missing) = describe_services(&ecs, CLUSTER, &asked).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(missing, vec!["ghost".to_string()]);
    let err = list_services_page(&ecs, "no-such-cluster", None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn tasks_match_describe_tasks_on_moto() {
    let server = moto::shared();
    let ecs = aws_sdk_ecs::Client::new(&moto::sdk_config(&server.endpoint_url()).await);
    let seeded = seed(&server, &ecs).await;
    let running: Vec<String> = seeded
        .web_tasks
        .iter()
        .chain(&seeded.worker_tasks)
        .cloned()
        .collect();

    let listed = list_task_arns(&ecs, CLUSTER, None, TaskListing::Running)
        .await
        .unwrap();
    assert_eq!(sorted(listed.clone()), sorted(running.clone()));
    // moto ignores serviceName: the whole cluster comes back.
    let for_web = list_task_arns(&ecs, CLUSTER, Some("web"), TaskListing::Running)
        .await
        .unwrap();
    assert_eq!(sorted(for_web), sorted(running.clone()));
    let stopped = list_task_arns(&ecs, CLUSTER, None, TaskListing::Stopped)
        .await
        .unwrap();
    assert_eq!(stopped, vec![seeded.stopped.clone()]);

    let mut all = listed.clone();
    all.extend(stopped);
    let tasks = describe_tasks(&ecs, CLUSTER, &all).await.unwrap();
    let api = api_tasks(&ecs, &all).await;
    assert_eq!(tasks.len(), all.len());
    for t in &tasks {
        assert_task_matches(t, &api[&t.arn]);
    }

    let web: Vec<_> = tasks
        .iter()
        .filter(|t| t.service_name() == Some("web") && t.desired_status == "RUNNING")
        .collect();
    assert_eq!(web.len(), 2, "narrowed by group");
    for t in &tasks {
        assert_eq!(t.started_by.as_deref(), Some("berth-test"));
        let eni = t.enis.first().expect("awsvpc task without an ENI");
        let subnet = if t.service_name() == Some("web") {
            &seeded.net.subnets[0]
        } else {
            &seeded.net.subnets[1]
        };
        assert_eq!(eni.subnet_id.as_ref(), Some(subnet));
        let ip: std::net::Ipv4Addr = eni.private_ipv4.as_deref().unwrap().parse().unwrap();
        assert!(ip.is_private(), "{ip}");
        assert!(eni.eni_id.as_deref().is_some_and(|e| e.starts_with("eni-")));
        assert!(eni.mac.is_some() && eni.private_dns.is_some(), "{eni:?}");
        // moto deviations (see the module doc).
        assert_eq!(eni.ipv6, None);
        assert_eq!(t.availability_zone, None);
        assert_eq!(t.containers.len(), 1, "moto now returns every container");
        assert_eq!(t.containers[0].runtime_id, None);
        assert_eq!(t.containers[0].exec_agent_status, None);
        let raw: serde_json::Value = serde_json::from_str(&t.raw_json).unwrap();
        assert_eq!(raw["taskArn"].as_str(), Some(t.arn.as_str()));
        assert!(raw["attachments"].is_array());
    }
    let ips: std::collections::BTreeSet<_> = tasks.iter().filter_map(|t| t.private_ip()).collect();
    assert_eq!(ips.len(), tasks.len(), "one IP per task");
    let stopped = tasks.iter().find(|t| t.arn == seeded.stopped).unwrap();
    assert_eq!(stopped.stopped_reason.as_deref(), Some(STOP_REASON));
    assert_eq!(stopped.last_status, "STOPPED");
    assert_eq!(stopped.stop_code, None, "moto now sets stopCode");
    assert!(
        stopped.containers[0].exit_code.is_some(),
        "moto reports an exit code"
    );
}

#[tokio::test]
async fn task_definition_matches_on_moto() {
    let server = moto::shared();
    let ecs = aws_sdk_ecs::Client::new(&moto::sdk_config(&server.endpoint_url()).await);
    seed(&server, &ecs).await;
    let api = ecs
        .describe_task_definition()
        .task_definition("web:1")
        .send()
        .await
        .unwrap();
    let api = api.task_definition().unwrap();
    let td = describe_task_definition(&ecs, "web:1").await.unwrap();
    assert_task_definition_matches(&td, api);
    assert_eq!(td.family_revision, "web:1");
    assert_eq!(td.network_mode.as_deref(), Some("awsvpc"));
    assert_eq!(
        td.execution_role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/ecsTaskExecutionRole")
    );
    let [app, envoy] = &td.containers[..] else {
        panic!("{:?}", td.containers)
    };
    assert!(app.essential && app.init_process_enabled && !app.readonly_root_filesystem);
    assert!(!envoy.essential && !envoy.init_process_enabled && envoy.readonly_root_filesystem);
    let log = app.log.as_ref().unwrap();
    assert_eq!(log.driver, "awslogs");
    assert_eq!(log.options["awslogs-group"], "/ecs/moto-prod/web");
    assert_eq!(log.options["awslogs-region"], "eu-west-1");
    assert_eq!(log.options["awslogs-stream-prefix"], "web");
    assert_eq!(
        envoy.log.as_ref().unwrap().options["awslogs-stream-prefix"],
        "envoy"
    );

    let worker = describe_task_definition(&ecs, "worker").await.unwrap();
    assert_eq!(worker.family_revision, "worker:1");
    assert!(worker.containers[0].essential, "essential defaults to true");
    assert_eq!(worker.containers[0].log, None);

    let err = describe_task_definition(&ecs, "nope:9").await.unwrap_err();
    assert_eq!(err.operation, "ecs:DescribeTaskDefinition");
}

/// ListTasks with desiredStatus STOPPED: berth's listing equals the raw call's.
#[tokio::test]
async fn stopped_listing_equals_the_raw_call_on_moto() {
    let server = moto::shared();
    let ecs = aws_sdk_ecs::Client::new(&moto::sdk_config(&server.endpoint_url()).await);
    let seeded = seed(&server, &ecs).await;
    let raw = ecs
        .list_tasks()
        .cluster(CLUSTER)
        .desired_status(DesiredStatus::Stopped)
        .send()
        .await
        .unwrap();
    let mine = list_task_arns(&ecs, CLUSTER, None, TaskListing::Stopped)
        .await
        .unwrap();
    assert_eq!(mine, raw.task_arns().to_vec());
    assert_eq!(mine, vec![seeded.stopped]);
}
