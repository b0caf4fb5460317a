//! Container instances through the real SDK: the no-capacity drill on the sandbox (two
//! instances filled by report-generator, the service unable to place two more tasks, `:instances`
//! and the tasks on one instance through the console), and the same aws-layer code against
//! moto's container instances.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use berth::app::{Action, Command, View};
use berth::aws::container_instances::container_instances;
use berth::sandbox::{self, SandboxOptions, Scenario};
use crossterm::event::KeyCode;

use crate::common::console::{Console, key, loaded, on_service, type_text};
use crate::common::moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_capacity_drill_shows_full_instances_and_tasks_that_cannot_be_placed() {
    let handle = sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            scenario: Scenario::NoCapacity,
            speed: 60.0,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let ecs = crate::sandbox_support::clients(&handle.endpoint_url())
        .await
        .ecs;
    let list = container_instances(&ecs, "batch-ec2").await.unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    for ci in &list {
        assert_eq!(ci.instance_type.as_deref(), Some("m5.large"));
        assert!(ci.agent_connected && ci.status == "ACTIVE");
        assert_eq!((ci.cpu_registered, ci.memory_registered), (2048, 7680));
        assert!(ci.ec2_instance_id.starts_with("i-0"));
        assert!(
            ci.availability_zone
                .as_deref()
                .is_some_and(|az| az.starts_with("us-east-1"))
        );
    }

    // the drill asks for 8 two virtual minutes in; 6 fit
    let settled = crate::sandbox_support::poll(300, Duration::from_millis(100), || async {
        let d =
            crate::sandbox_support::describe_service(&ecs, "batch-ec2", "report-generator").await?;
        (d.desired_count() == 8 && d.running_count() == 6).then_some(())
    })
    .await;
    assert!(
        settled.is_some(),
        "the drill never scaled out to 8 with 6 placed"
    );
    let mut console = Console::new(&handle);
    on_service(&mut console, "batch-ec2", "report-generator").await;
    let screen = console.screen();
    let row = screen
        .lines()
        .find(|l| l.starts_with("report-generator"))
        .unwrap_or_default()
        .to_string();
    assert!(row.contains("6/8"), "{row}");
    assert!(
        row.contains("cannot place tasks: no instance has the memory"),
        "{row}"
    );

    // every byte of memory the drill's tasks reserve is accounted on the instances
    let list = container_instances(&ecs, "batch-ec2").await.unwrap();
    let used: i64 = list
        .iter()
        .map(|c| c.memory_registered - c.memory_remaining)
        .sum();
    let running: i32 = list.iter().map(|c| c.running_tasks + c.pending_tasks).sum();
    assert_eq!(running, 6);
    assert_eq!(used, 6 * 2048);
    assert!(list.iter().all(|c| c.memory_remaining < 2048), "{list:?}");

    // :instances, then the tasks on the first instance
    console.apply(Action::Command(Command::CommandMode));
    type_text(&mut console, "instances");
    console.apply(key(KeyCode::Enter));
    console.until("instances", loaded).await;
    let screen = console.screen();
    assert!(screen.contains("batch-ec2 › instances"), "{screen}");
    assert!(screen.contains("2 container instances"), "{screen}");
    assert!(screen.contains("1.5/7.5G"), "{screen}");
    console.apply(key(KeyCode::Enter));
    console.until("tasks on the instance", loaded).await;
    let View::Tasks(v) = console.state.view() else {
        panic!("{}", console.screen());
    };
    let (arn, _) = v.instance.clone().unwrap();
    assert_eq!(v.data.rows.len(), 3, "{:?}", v.data.rows);
    assert!(
        v.data
            .rows
            .iter()
            .all(|t| t.container_instance.as_deref() == Some(arn.as_str())
                && t.launch_type.as_deref() == Some("EC2"))
    );
    // a task's detail names its container instance
    console.apply(key(KeyCode::Enter));
    console.until("the task", loaded).await;
    let detail = console.screen();
    let id = arn.rsplit('/').next().unwrap();
    assert!(
        detail.contains(&format!("container instance {id}")),
        "{detail}"
    );
    assert!(handle.stats().count("ecs:DescribeContainerInstances") >= 1);
}

#[tokio::test]
async fn container_instances_registered_in_moto_read_back() {
    let server = moto::shared();
    let ecs = aws_sdk_ecs::Client::new(&moto::sdk_config(&server.endpoint_url()).await);
    ecs.create_cluster()
        .cluster_name("ec2-pool")
        .send()
        .await
        .unwrap();
    let ids = server.run_ec2_instances(3);
    for id in &ids {
        ecs.register_container_instance()
            .cluster("ec2-pool")
            .instance_identity_document(format!(r#"{{"instanceId":"{id}"}}"#))
            .send()
            .await
            .unwrap();
    }
    let list = container_instances(&ecs, "ec2-pool").await.unwrap();
    let mut seen: Vec<&str> = list.iter().map(|c| c.ec2_instance_id.as_str()).collect();
    seen.sort_unstable();
    let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(seen, expected);
    for ci in &list {
        assert!(ci.arn.contains(":container-instance/"), "{ci:?}");
        assert_eq!(ci.status, "ACTIVE");
        assert!(ci.cpu_registered > 0 && ci.memory_registered > 0, "{ci:?}");
        assert!(ci.cpu_remaining <= ci.cpu_registered);
    }
    let empty = container_instances(&ecs, "ec2-pool-none").await;
    assert!(empty.is_err() || empty.is_ok_and(|l| l.is_empty()));
}
