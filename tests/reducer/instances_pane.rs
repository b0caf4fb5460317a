//! The container instances pane in the reducer: `:instances` asks for the cluster's instances,
//! full ones sort first and are marked, `enter` opens the instance's tasks (filtered to it),
//! an empty answer says the cluster is Fargate, and an error keeps the screen.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth::app::pane::{PaneData, PaneLoad};
use berth::app::{Action, DataEvent, Effect, State, View, update};
use berth::domain::{ContainerInstance, Task};
use crossterm::event::KeyCode;

use crate::reducer;

const NOW: i64 = 1_700_000_000;

fn instance(n: u32, memory_left: i64, running: i32) -> ContainerInstance {
    ContainerInstance {
        arn: format!("arn:aws:ecs:eu-west-1:210987654321:container-instance/batch/{n:032x}"),
        ec2_instance_id: format!("i-0{n:016x}"),
        instance_type: Some("m5.large".into()),
        availability_zone: Some("eu-west-1a".into()),
        agent_connected: n != 3,
        agent_version: Some("1.89.2".into()),
        status: "ACTIVE".into(),
        running_tasks: running,
        pending_tasks: 0,
        cpu_registered: 2048,
        cpu_remaining: 512,
        memory_registered: 7680,
        memory_remaining: memory_left,
        capacity_provider: None,
        registered_at: Some(NOW - 86_400),
    }
}

fn opened() -> (State, u64) {
    let mut s = reducer::signed_in(NOW, None, false, false);
    let effects = berth::app::nav::run_command_line(&mut s, "instances batch").unwrap();
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadPane {
                request,
                load: PaneLoad::ContainerInstances { cluster },
            } if cluster == "batch" => Some(*request),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{effects:?}"));
    (s, request)
}

#[test]
fn instances_full_first_with_what_is_left_and_enter_lists_the_tasks() {
    let (mut s, request) = opened();
    assert!(reducer::screen(&mut s, "default", 80, 24).contains("Reading the container instances"));
    update(
        &mut s,
        Action::PaneLoaded {
            request,
            result: Ok(PaneData::ContainerInstances(vec![
                instance(1, 3584, 2),
                instance(2, 512, 3),
                instance(3, 7680, 0),
            ])),
        },
    );
    let screen = reducer::screen(&mut s, "default", 80, 24);
    insta::assert_snapshot!("instances_80x24", screen);
    let rows: Vec<&str> = screen.lines().filter(|l| l.starts_with("i-0")).collect();
    assert_eq!(rows.len(), 3, "{screen}");
    assert!(rows[0].contains("0.5/7.5G"), "the full one first: {screen}");
    assert!(
        rows.iter().any(|r| r.contains("LOST")),
        "a disconnected agent shows"
    );
    assert!(screen.contains("1 full"), "{screen}");
    assert!(screen.contains("11.5 GiB left in all"), "{screen}");

    // enter: the tasks on the selected (first) instance only
    let effects = reducer::key(&mut s, KeyCode::Enter);
    let load = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadTasks {
                request,
                service: None,
                ..
            } => Some(*request),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{effects:?}"));
    let on = |n: u32, id: &str| Task {
        arn: format!("arn:aws:ecs:eu-west-1:210987654321:task/batch/{id}"),
        id: id.into(),
        last_status: "RUNNING".into(),
        container_instance: Some(instance(n, 0, 0).arn),
        launch_type: Some("EC2".into()),
        ..Task::default()
    };
    for event in [
        DataEvent::Tasks(vec![
            on(2, "aaaa1111"),
            on(1, "bbbb2222"),
            on(2, "cccc3333"),
        ]),
        DataEvent::Done,
    ] {
        update(
            &mut s,
            Action::Data {
                request: load,
                event,
            },
        );
    }
    let View::Tasks(v) = s.view() else { panic!() };
    let ids: Vec<&str> = v.data.rows.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["aaaa1111", "cccc3333"]);
    assert!(reducer::screen(&mut s, "default", 80, 24).contains("tasks on i-00000000000000002"));
}

#[test]
fn a_fargate_cluster_and_an_error_say_so() {
    let (mut s, request) = opened();
    update(
        &mut s,
        Action::PaneLoaded {
            request,
            result: Ok(PaneData::ContainerInstances(Vec::new())),
        },
    );
    assert!(reducer::screen(&mut s, "default", 80, 24).contains("this cluster runs on Fargate"));
    let (mut s, request) = opened();
    update(
        &mut s,
        Action::PaneLoaded {
            request,
            result: Err(berth::app::Failure::Local("access denied".into())),
        },
    );
    assert!(
        reducer::screen(&mut s, "default", 80, 24)
            .contains("cannot list the instances: access denied")
    );
}
