//! berth's target-health reads against moto (an independent implementation of ELBv2), through
//! the real SDK: a target group created and targets registered by hand (one task's IP, and an
//! IP with no task), one task left unregistered; berth parses the service's `loadBalancers`,
//! DescribeTargetHealth and DescribeTargetGroups and joins the targets to the tasks.
//!
//! The VPC, subnet and security group are created through EC2's query protocol over plain HTTP
//! (as `aws_moto` does).

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use aws_sdk_ecs::types::{
    AwsVpcConfiguration, ContainerDefinition, LaunchType, LoadBalancer as SdkLoadBalancer,
    NetworkConfiguration, NetworkMode, PortMapping,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Matcher, ProtocolEnum, TargetDescription, TargetTypeEnum,
};
use berth::aws::services::describe_services;
use berth::aws::targets::{describe_target_groups, describe_target_health};
use berth::aws::tasks::describe_tasks;
use berth::domain::targets::{orphan_targets, target_of_task};

use crate::common::moto::{self, MotoServer};

const CLUSTER: &str = "moto-lb";

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
    let rest = xml.split_once(&format!("<{tag}>")).unwrap().1;
    rest.split_once(&format!("</{tag}>")).unwrap().0.to_string()
}

#[tokio::test]
async fn target_health_and_the_join_on_moto() {
    let server = moto::shared();
    let body =
        r#"{"model_name":"ecs::task","transition":{"progression":"manual","times":1000000}}"#;
    let frozen = moto::http_request(
        server.port(),
        "POST",
        "/moto-api/state-manager/set-transition",
        body,
    );
    assert!(matches!(frozen, Ok((200 | 201, _))), "{frozen:?}");
    let cfg = moto::sdk_config(&server.endpoint_url()).await;
    let ecs = aws_sdk_ecs::Client::new(&cfg);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&cfg);

    let vpc = xml_value(
        &ec2(&server, "Action=CreateVpc&CidrBlock=10.30.0.0%2F16"),
        "vpcId",
    );
    ec2(
        &server,
        &format!("Action=ModifyVpcAttribute&VpcId={vpc}&EnableDnsHostnames.Value=true"),
    );
    let subnet = xml_value(
        &ec2(
            &server,
            &format!(
                "Action=CreateSubnet&VpcId={vpc}&CidrBlock=10.30.1.0%2F24&AvailabilityZone=us-east-1a"
            ),
        ),
        "subnetId",
    );
    let sg = xml_value(
        &ec2(
            &server,
            &format!("Action=CreateSecurityGroup&GroupName=lb&GroupDescription=lb&VpcId={vpc}"),
        ),
        "groupId",
    );

    let tg = elb
        .create_target_group()
        .name("web-tg")
        .protocol(ProtocolEnum::Http)
        .port(8080)
        .vpc_id(&vpc)
        .target_type(TargetTypeEnum::Ip)
        .health_check_path("/healthz")
        .health_check_interval_seconds(15)
        .healthy_threshold_count(2)
        .unhealthy_threshold_count(3)
        .matcher(Matcher::builder().http_code("200-299").build())
        .send()
        .await
        .unwrap();
    let tg_arn = tg.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();

    ecs.create_cluster()
        .cluster_name(CLUSTER)
        .send()
        .await
        .unwrap();
    ecs.register_task_definition()
        .family("web")
        .network_mode(NetworkMode::Awsvpc)
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image("nginx:1.27")
                .memory(512)
                .port_mappings(PortMapping::builder().container_port(8080).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let net = NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .subnets(&subnet)
                .security_groups(&sg)
                .build()
                .unwrap(),
        )
        .build();
    ecs.create_service()
        .cluster(CLUSTER)
        .service_name("web")
        .task_definition("web")
        .desired_count(2)
        .launch_type(LaunchType::Fargate)
        .network_configuration(net.clone())
        .load_balancers(
            SdkLoadBalancer::builder()
                .target_group_arn(&tg_arn)
                .container_name("app")
                .container_port(8080)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let arns: Vec<String> = ecs
        .run_task()
        .cluster(CLUSTER)
        .task_definition("web")
        .count(2)
        .group("service:web")
        .launch_type(LaunchType::Fargate)
        .network_configuration(net)
        .send()
        .await
        .unwrap()
        .tasks()
        .iter()
        .filter_map(|t| t.task_arn().map(str::to_string))
        .collect();
    let tasks = describe_tasks(&ecs, CLUSTER, &arns).await.unwrap();
    assert_eq!(tasks.len(), 2);
    let ip = tasks[0].private_ip().expect("an ENI IP").to_string();

    // One task registered, one not; and an IP that is no task's (a drained task's, say).
    elb.register_targets()
        .target_group_arn(&tg_arn)
        .targets(TargetDescription::builder().id(&ip).port(8080).build())
        .targets(
            TargetDescription::builder()
                .id("10.30.1.250")
                .port(8080)
                .build(),
        )
        .send()
        .await
        .unwrap();

    // The service's loadBalancers, parsed.
    let (found, _) = describe_services(&ecs, CLUSTER, &["web".to_string()])
        .await
        .unwrap();
    let svc = found.first().unwrap();
    assert_eq!(svc.load_balancers.len(), 1, "{:?}", svc.load_balancers);
    let lb = &svc.load_balancers[0];
    assert_eq!(lb.target_group_arn.as_deref(), Some(tg_arn.as_str()));
    assert_eq!(lb.container_name.as_deref(), Some("app"));
    assert_eq!(lb.container_port, Some(8080));

    // Target health, parsed, and the join.
    let targets = describe_target_health(&elb, &tg_arn).await.unwrap();
    eprintln!("moto targets: {targets:?}");
    assert_eq!(targets.len(), 2, "{targets:?}");
    let joined = target_of_task(&tasks[0], lb, &targets).expect("the registered task's target");
    assert_eq!(joined.id, ip);
    assert_eq!(joined.port, Some(8080));
    assert_ne!(joined.state, berth::domain::targets::TargetState::Other);
    assert_eq!(
        target_of_task(&tasks[1], lb, &targets),
        None,
        "not registered"
    );
    let orphans: Vec<&str> = orphan_targets(&tasks, lb, &targets)
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(orphans, vec!["10.30.1.250"]);

    // The health-check settings.
    let groups = describe_target_groups(&elb, std::slice::from_ref(&tg_arn))
        .await
        .unwrap();
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(g.name, "web-tg");
    assert_eq!(g.health_check_path.as_deref(), Some("/healthz"));
    assert_eq!(g.interval_s, Some(15));
    assert_eq!(
        (g.healthy_threshold, g.unhealthy_threshold),
        (Some(2), Some(3))
    );
    assert_eq!(g.matcher.as_deref(), Some("200-299"));
    assert_eq!(g.target_type.as_deref(), Some("ip"));
}
