//! berth's auto scaling reads against moto, an independent implementation of Application
//! Auto Scaling: a scalable target and a target-tracking policy registered through the SDK
//! come back through `aws::scaling::load` as berth's domain types; a service that is not
//! registered is "no auto scaling", not an error.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use berth::aws::AwsTarget;
use berth::domain::scaling::{PolicyKind, Scaling};

use crate::common::moto;

#[tokio::test]
async fn a_target_and_policy_registered_through_the_sdk_read_back_through_berth() {
    let server = moto::shared();
    let clients = berth::aws::connect(&AwsTarget {
        region: Some("us-east-1".into()),
        endpoint_url: Some(server.endpoint_url()),
        static_credentials: Some(("testing".into(), "testing".into())),
        ..AwsTarget::default()
    })
    .await
    .unwrap();
    let aas = aws_sdk_applicationautoscaling::Client::new(
        &moto::sdk_config(&server.endpoint_url()).await,
    );
    // A run id keeps this test's resources apart from whatever the shared server holds.
    let run = format!("scal{}", std::process::id());
    let resource = format!("service/{run}/web-frontend");
    // moto registers targets only for services it knows.
    let ecs = aws_sdk_ecs::Client::new(&moto::sdk_config(&server.endpoint_url()).await);
    ecs.create_cluster()
        .cluster_name(&run)
        .send()
        .await
        .unwrap();
    ecs.register_task_definition()
        .family("web-frontend")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("web")
                .image("nginx")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .unwrap();
    ecs.create_service()
        .cluster(&run)
        .service_name("web-frontend")
        .task_definition("web-frontend")
        .desired_count(2)
        .send()
        .await
        .unwrap();
    aas.register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(&resource)
        .min_capacity(2)
        .max_capacity(7)
        .send()
        .await
        .unwrap();
    aas.put_scaling_policy()
        .policy_name("cpu60")
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(&resource)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(
            TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(60.0)
                .predefined_metric_specification(
                    PredefinedMetricSpecification::builder()
                        .predefined_metric_type(MetricType::EcsServiceAverageCpuUtilization)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let (scaling, calls) = berth::aws::scaling::load(&clients.autoscaling, &run, "web-frontend")
        .await
        .unwrap();
    let target = scaling.target.as_ref().expect("registered");
    assert_eq!((target.min, target.max), (2, 7));
    assert_eq!(target.resource_id, resource);
    assert!(!target.suspended.any());
    assert_eq!(scaling.policies.len(), 1, "{:?}", scaling.policies);
    assert_eq!(scaling.policies[0].name, "cpu60");
    assert_eq!(
        scaling.policies[0].kind,
        PolicyKind::TargetTracking {
            target: 60.0,
            metric: "ECSServiceAverageCPUUtilization".into(),
            scale_in_disabled: false,
        }
    );
    assert_eq!((calls.targets, calls.policies, calls.activities), (1, 1, 1));
    // moto 5.2.5 does not serve DescribeScalingActivities (HTTP 500, HTML): the target and
    // policies still come back, the activities say why they are missing.
    assert!(scaling.activities.is_empty());
    assert!(
        scaling
            .activities_unavailable
            .as_deref()
            .is_some_and(|r| r.contains("DescribeScalingActivities")),
        "{:?}",
        scaling.activities_unavailable
    );

    // Not registered: one call, no target, not an error.
    let (none, calls) = berth::aws::scaling::load(&clients.autoscaling, &run, "orders-api")
        .await
        .unwrap();
    assert_eq!(none, Scaling::default());
    assert_eq!(calls.targets, 1);
}
