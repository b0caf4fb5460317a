//! Task sets of services deployed by an EXTERNAL controller, read through berth's aws layer
//! (DescribeServices' `taskSets`, DescribeTaskSets) from the sandbox and from moto, and shown
//! in the deployments pane.
//!
//! moto (5.2.x) implements CreateTaskSet and DescribeTaskSets; with a scale it runs the set's
//! tasks at once, which needs container instances unless `launchType` is FARGATE. It reports no
//! computed desired / running / pending counts (the SDK reads them as 0).

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use aws_sdk_ecs::types::{
    ContainerDefinition, DeploymentController as SdkController, DeploymentControllerType,
    LaunchType, Scale, ScaleUnit,
};
use berth::app::{Action, Command, View};
use berth::aws::services::{describe_services, describe_task_sets};
use berth::domain::DeploymentController;
use berth::domain::task_set::{Stability, TaskSetStatus};
use berth::sandbox::{SandboxOptions, Scenario};

use crate::common::console::{Console, loaded, on_service};
use crate::common::moto;
use crate::sandbox_support as sb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_services_task_sets_from_the_sandbox() {
    let handle = sb::start(SandboxOptions {
        scenario: Scenario::Steady,
        speed: 1e-6,
        ..SandboxOptions::default()
    })
    .await;
    let c = sb::clients(&handle.endpoint_url()).await;
    let (found, _) = describe_services(&c.ecs, "staging", &["ledger-api".to_string()])
        .await
        .unwrap();
    let svc = found.first().expect("ledger-api");
    assert_eq!(svc.deployment_controller, DeploymentController::External);
    assert!(svc.deployments.is_empty(), "{:?}", svc.deployments);
    assert_eq!(svc.task_sets.len(), 2, "{:?}", svc.task_sets);
    let blue = svc
        .task_sets
        .iter()
        .find(|t| t.external_id.as_deref() == Some("blue"))
        .unwrap();
    let green = svc
        .task_sets
        .iter()
        .find(|t| t.external_id.as_deref() == Some("green"))
        .unwrap();
    assert_eq!(blue.status, TaskSetStatus::Primary);
    assert_eq!(blue.scale, Some((100.0, "PERCENT".into())));
    assert_eq!(blue.computed_desired, svc.desired);
    assert_eq!(blue.running, svc.running);
    assert_eq!(blue.stability, Stability::SteadyState);
    assert_eq!(blue.task_definition, svc.task_definition);
    assert_eq!(green.status, TaskSetStatus::Active);
    assert_eq!(green.scale, Some((0.0, "PERCENT".into())));
    assert_eq!(green.computed_desired, 0);
    let rev = |td: &str| td.rsplit(':').next().unwrap().parse::<u32>().unwrap();
    assert_eq!(rev(&green.task_definition), rev(&blue.task_definition) + 1);

    // DescribeTaskSets says the same.
    let sets = describe_task_sets(&c.ecs, "staging", "ledger-api")
        .await
        .unwrap();
    assert_eq!(sets, svc.task_sets);

    // The deployments pane shows them.
    let mut console = Console::new(&handle);
    on_service(&mut console, "staging", "ledger-api").await;
    console.apply(Action::Command(Command::Select));
    console
        .until("deployments", |s| {
            matches!(s.view(), View::Deployments(_)) && loaded(s)
        })
        .await;
    let screen = console.screen();
    assert!(
        screen.contains("2 task sets (EXTERNAL controller)"),
        "{screen}"
    );
    let line = |word: &str| {
        screen
            .lines()
            .find(|l| l.contains(word) && l.contains('%'))
            .unwrap_or_else(|| panic!("no {word} row:\n{screen}"))
            .to_string()
    };
    let blue_line = line("blue");
    assert!(
        blue_line.contains("PRIMARY") && blue_line.contains("STEADY_STATE"),
        "{blue_line}"
    );
    assert!(blue_line.contains(&blue.task_definition), "{blue_line}");
    let green_line = line("green");
    assert!(green_line.contains("ACTIVE"), "{green_line}");
    assert!(green_line.contains(&green.task_definition), "{green_line}");
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_services_task_set_from_moto() {
    let server = moto::shared();
    let cfg = moto::sdk_config(&server.endpoint_url()).await;
    let ecs = aws_sdk_ecs::Client::new(&cfg);
    ecs.create_cluster()
        .cluster_name("moto-external")
        .send()
        .await
        .unwrap();
    ecs.register_task_definition()
        .family("ledger")
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image("ledger:1")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .unwrap();
    ecs.create_service()
        .cluster("moto-external")
        .service_name("ledger-api")
        .task_definition("ledger")
        .desired_count(2)
        .deployment_controller(
            SdkController::builder()
                .r#type(DeploymentControllerType::External)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    ecs.create_task_set()
        .cluster("moto-external")
        .service("ledger-api")
        .task_definition("ledger:1")
        .external_id("blue")
        .launch_type(LaunchType::Fargate)
        .scale(
            Scale::builder()
                .value(100.0)
                .unit(ScaleUnit::Percent)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let (found, missing) = describe_services(&ecs, "moto-external", &["ledger-api".to_string()])
        .await
        .unwrap();
    assert!(missing.is_empty());
    let svc = found.first().unwrap();
    assert_eq!(svc.deployment_controller, DeploymentController::External);
    assert_eq!(svc.task_sets.len(), 1, "{:?}", svc.task_sets);
    let set = &svc.task_sets[0];
    assert_eq!(set.external_id.as_deref(), Some("blue"));
    // moto gives a new task set ACTIVE (ECS makes the first one PRIMARY).
    assert_eq!(set.status, TaskSetStatus::Active);
    assert_eq!(set.task_definition, "ledger:1");
    assert_eq!(set.scale, Some((100.0, "PERCENT".into())));
    assert_eq!(set.stability, Stability::SteadyState);
    assert!(set.id.starts_with("ecs-svc/"), "{}", set.id);

    let sets = describe_task_sets(&ecs, "moto-external", "ledger-api")
        .await
        .unwrap();
    assert_eq!(sets, svc.task_sets);
}
