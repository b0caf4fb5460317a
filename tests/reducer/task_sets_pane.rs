//! A service deployed by an EXTERNAL controller: its task sets in the deployments pane (80x24
//! snapshot), and a set STABILIZING past the threshold marked as the service's problem.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use berth::app::{Action, Command, DataEvent, Effect, State, View, update};
use berth::domain::problems::STUCK_TASK_SET_SECS;
use berth::domain::task_set::{Stability, TaskSetStatus};
use berth::domain::{Cluster, DeploymentController, Service, TaskSet};

use crate::{reducer, screen};

const NOW: i64 = 1_700_000_000;

fn ledger(green_stabilizing_for: i64) -> Service {
    let set = |id: &str, ext: &str, status: TaskSetStatus, scale: f64, td: &str| TaskSet {
        id: format!("ecs-svc/{id}"),
        arn: format!("arn:aws:ecs:eu-west-1:210987654321:task-set/staging/ledger-api/ecs-svc/{id}"),
        status,
        stability: Stability::SteadyState,
        stability_at: Some(NOW - 7200),
        scale: Some((scale, "PERCENT".into())),
        computed_desired: (4.0 * scale / 100.0) as i32,
        running: (4.0 * scale / 100.0) as i32,
        pending: 0,
        task_definition: td.into(),
        external_id: Some(ext.into()),
        launch_type: Some("FARGATE".into()),
        created_at: Some(NOW - 86_400),
        updated_at: Some(NOW - 7200),
    };
    let mut green = set(
        "2222222222",
        "green",
        TaskSetStatus::Active,
        50.0,
        "ledger-api:9",
    );
    green.stability = Stability::Stabilizing;
    green.stability_at = Some(NOW - green_stabilizing_for);
    green.running = 1;
    green.pending = 1;
    Service {
        arn: "arn:aws:ecs:eu-west-1:210987654321:service/staging/ledger-api".into(),
        name: "ledger-api".into(),
        status: "ACTIVE".into(),
        desired: 4,
        running: 5,
        pending: 1,
        task_definition: "ledger-api:8".into(),
        deployment_controller: DeploymentController::External,
        task_sets: vec![
            set(
                "1111111111",
                "blue",
                TaskSetStatus::Primary,
                100.0,
                "ledger-api:8",
            ),
            green,
        ],
        ..Service::default()
    }
}

/// The services of staging loaded with `ledger`; the services view on top.
fn services_loaded(ledger: Service) -> State {
    let mut s = reducer::unconnected(NOW, Some("prod"), false, false);
    let effects = reducer::connect(&mut s);
    reducer::sign_in(&mut s);
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadClusters { request } => Some(*request),
            _ => None,
        })
        .unwrap();
    for event in [
        DataEvent::Clusters(vec![Cluster {
            arn: "arn:aws:ecs:eu-west-1:210987654321:cluster/staging".into(),
            name: "staging".into(),
            status: "ACTIVE".into(),
            ..Cluster::default()
        }]),
        DataEvent::Done,
    ] {
        update(&mut s, Action::Data { request, event });
    }
    let effects = update(&mut s, Action::Command(Command::Select));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadServices { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap();
    for event in [DataEvent::Services(vec![ledger]), DataEvent::Done] {
        update(&mut s, Action::Data { request, event });
    }
    s
}

#[test]
fn a_task_set_stabilizing_too_long_is_the_services_problem() {
    let s = services_loaded(ledger(STUCK_TASK_SET_SECS + 300));
    let View::Services(v) = s.view() else {
        panic!()
    };
    let row = &v.data.rows[0];
    assert_eq!(
        row.problems.first().map(|p| p.summary.as_str()),
        Some("task set stabilizing")
    );
    let s = services_loaded(ledger(60));
    let View::Services(v) = s.view() else {
        panic!()
    };
    assert!(
        v.data.rows[0].problems.is_empty(),
        "{:?}",
        v.data.rows[0].problems
    );
}

#[test]
fn deployments_pane_shows_the_task_sets_80x24() {
    let mut s = services_loaded(ledger(STUCK_TASK_SET_SECS + 300));
    let effects = update(&mut s, Action::Command(Command::Select));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadService { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap();
    for event in [
        DataEvent::Services(vec![ledger(STUCK_TASK_SET_SECS + 300)]),
        DataEvent::Done,
    ] {
        update(&mut s, Action::Data { request, event });
    }
    let text = screen::text(&screen::draw(&mut s, &screen::theme("default"), 80, 24));
    assert!(
        text.contains("2 task sets (EXTERNAL controller), 1 STABILIZING over 15 min"),
        "{text}"
    );
    let row = |text: &str, status: &str| {
        text.lines()
            .find(|l| l.contains(status) && l.contains('%'))
            .unwrap_or_else(|| panic!("{status}:\n{text}"))
            .to_string()
    };
    // at 80 columns the task definition keeps its revision; the external id waits for 100
    assert!(row(&text, "PRIMARY").contains("ledger-api:8"));
    let green = row(&text, "ACTIVE");
    assert!(
        green.contains("STABILIZING") && green.contains("1/2 +1") && green.contains("ledger-api:9")
    );
    assert!(
        !text.contains("0 deployments"),
        "no empty deployments table for a task-set service:\n{text}"
    );
    insta::assert_snapshot!("task_sets_deployments_80x24", text);
    let wide = screen::text(&screen::draw(&mut s, &screen::theme("default"), 120, 30));
    assert!(row(&wide, "PRIMARY").contains("blue") && row(&wide, "ACTIVE").contains("green"));

    // D: the set being rolled out against the PRIMARY one
    let effects = reducer::key(&mut s, crossterm::event::KeyCode::Char('D'));
    let load = effects.iter().find_map(|e| match e {
        Effect::LoadPane {
            load: berth::app::pane::PaneLoad::TaskDefinitions { old, new },
            ..
        } => Some((old.clone(), new.clone())),
        _ => None,
    });
    assert_eq!(
        load,
        Some(("ledger-api:8".to_string(), "ledger-api:9".to_string()))
    );
}
