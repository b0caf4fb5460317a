//! Deployment history in the reducer and the deployments pane: the view asks for it with the
//! service, the pane lists it at 80x24 under the live deployments, the services row says a
//! rollback happened (for an hour), a blue/green stage that does not move is marked, and an
//! unavailable history leaves the live deployments in place.

use berth::app::views::{ServiceRow, ServiceView, ServicesView};
use berth::app::{Action, Command, DataEvent, Effect, State, View, update};
use berth::aws::{AwsError, ErrorKind};
use berth::domain::history::{
    CircuitBreakerState, DeploymentStatus, HistoryDeployment, HookDetail, LifecycleStage,
    RevisionRef, RollbackInfo,
};
use berth::domain::{Deployment, DeploymentConfig, Service, ServiceEvent};

use crate::reducer::signed_in;
use crate::screen;

const NOW: i64 = 1_800_000_000;
const CLUSTER: &str = "arn:aws:ecs:eu-west-1:210987654321:cluster/prod";

fn revision(td: &str) -> RevisionRef {
    RevisionRef {
        arn: format!("arn:aws:ecs:eu-west-1:210987654321:service-revision/prod/checkout-api/{td}"),
        task_definition: Some(td.into()),
        requested: 4,
        ..RevisionRef::default()
    }
}

/// After the drill: the rollback completed, DescribeServices lists only it.
fn service() -> Service {
    Service {
        arn: "arn:aws:ecs:eu-west-1:210987654321:service/prod/checkout-api".into(),
        name: "checkout-api".into(),
        cluster_arn: CLUSTER.into(),
        status: "ACTIVE".into(),
        desired: 4,
        running: 4,
        task_definition: "checkout-api:42".into(),
        deployment_config: DeploymentConfig {
            minimum_healthy_percent: Some(100),
            maximum_percent: Some(200),
            circuit_breaker_enabled: true,
            circuit_breaker_rollback: true,
        },
        deployments: vec![Deployment {
            id: "ecs-svc/5550001".into(),
            status: "PRIMARY".into(),
            rollout_state: Some("COMPLETED".into()),
            rollout_state_reason: Some("ECS deployment ecs-svc/5550001 completed.".into()),
            desired: 4,
            running: 4,
            task_definition: "checkout-api:42".into(),
            created_at: Some(NOW - 560),
            updated_at: Some(NOW - 420),
            ..Deployment::default()
        }],
        events: vec![ServiceEvent {
            id: "e1".into(),
            created_at: Some(NOW - 420),
            message: "(service checkout-api) has reached a steady state.".into(),
        }],
        ..Service::default()
    }
}

fn rolled_back() -> HistoryDeployment {
    HistoryDeployment {
        arn: "arn:aws:ecs:eu-west-1:210987654321:service-deployment/prod/checkout-api/9f2c41d07a11"
            .into(),
        status: DeploymentStatus::RollbackSuccessful,
        status_reason: Some(
            "Service deployment rolled back because the circuit breaker threshold was exceeded."
                .into(),
        ),
        created_at: Some(NOW - 900),
        started_at: Some(NOW - 900),
        finished_at: Some(NOW - 420),
        stopped_at: None,
        updated_at: Some(NOW - 420),
        source: vec![revision("checkout-api:42")],
        target: Some(revision("checkout-api:43")),
        circuit_breaker: Some(CircuitBreakerState {
            status: "TRIGGERED".into(),
            failures: 3,
            threshold: 3,
        }),
        triggered_alarms: Vec::new(),
        rollback: Some(RollbackInfo {
            reason: Some("circuit breaker".into()),
            started_at: Some(NOW - 560),
            to: Some(revision("checkout-api:42")),
        }),
        strategy: Some("ROLLING".into()),
        bake_time_minutes: None,
        lifecycle_stage: None,
        hooks: Vec::new(),
    }
}

fn earlier() -> HistoryDeployment {
    HistoryDeployment {
        arn: "arn:aws:ecs:eu-west-1:210987654321:service-deployment/prod/checkout-api/1b7d".into(),
        status: DeploymentStatus::Successful,
        status_reason: Some("Service deployment completed successfully.".into()),
        created_at: Some(NOW - 30_000),
        started_at: Some(NOW - 30_000),
        finished_at: Some(NOW - 29_700),
        updated_at: Some(NOW - 29_700),
        source: vec![revision("checkout-api:41")],
        target: Some(revision("checkout-api:42")),
        circuit_breaker: None,
        rollback: None,
        ..rolled_back()
    }
}

/// The deployments view of checkout-api, its DescribeServices answered.
fn deployments_view() -> State {
    let mut s = signed_in(NOW, None, false, false);
    let mut view = ServiceView {
        cluster: CLUSTER.into(),
        service: "checkout-api".into(),
        ..ServiceView::default()
    };
    view.data.begin(77, true);
    s.views.push(View::Deployments(view));
    for event in [DataEvent::Services(vec![service()]), DataEvent::Done] {
        update(&mut s, Action::Data { request: 77, event });
    }
    s
}

fn history(s: &mut State, result: Result<Vec<HistoryDeployment>, AwsError>) {
    update(
        s,
        Action::HistoryLoaded {
            cluster: CLUSTER.into(),
            service: "checkout-api".into(),
            result,
        },
    );
}

fn render(s: &mut State, cols: u16, rows: u16) -> String {
    screen::text(&screen::draw(s, &screen::theme("default"), cols, rows))
}

#[test]
fn the_deployments_view_asks_for_history_with_the_service_and_not_on_every_tick() {
    let mut s = deployments_view();
    let effects = update(&mut s, Action::Command(Command::Refresh));
    let since = effects.iter().find_map(|e| match e {
        Effect::LoadHistory { service, since, .. } if service == "checkout-api" => Some(*since),
        _ => None,
    });
    assert_eq!(since, Some(NOW - 24 * 3600), "{effects:?}");
    history(&mut s, Ok(vec![rolled_back()]));
    // a background refresh soon after does not read it again
    update(&mut s, Action::Tick { now_unix: NOW + 10 });
    let background = update(&mut s, Action::RefreshDue);
    assert!(
        !background
            .iter()
            .any(|e| matches!(e, Effect::LoadHistory { .. })),
        "{background:?}"
    );
}

#[test]
fn the_failed_revision_stays_in_the_pane_after_its_rollback() {
    let mut s = deployments_view();
    history(&mut s, Ok(vec![rolled_back(), earlier()]));
    let screen = render(&mut s, 80, 24);
    insta::assert_snapshot!("history_rolled_back_80x24", screen);
    assert!(screen.contains("ROLLBACK_SUCCESSFUL"), "{screen}");
    assert!(screen.contains("checkout-api:42→43"), "{screen}");
    assert!(
        screen.contains("circuit breaker: 3/3 tasks failed"),
        "{screen}"
    );
    assert!(
        screen.contains("has reached a steady state"),
        "events still show:\n{screen}"
    );
}

#[test]
fn an_unavailable_history_keeps_the_live_deployments() {
    let mut s = deployments_view();
    history(
        &mut s,
        Err(AwsError {
            kind: ErrorKind::AccessDenied,
            operation: "ecs:ListServiceDeployments".into(),
            code: Some("AccessDeniedException".into()),
            message: "not authorized".into(),
        }),
    );
    let screen = render(&mut s, 80, 24);
    insta::assert_snapshot!("history_unavailable_80x24", screen);
    assert!(screen.contains("deployment history unavailable: access denied to"));
    assert!(screen.contains("showing live deployments only"), "{screen}");
    assert!(screen.contains("PRIMARY"), "{screen}");
}

#[test]
fn the_services_row_says_it_rolled_back_for_an_hour() {
    let mut s = signed_in(NOW, None, false, false);
    let mut view = ServicesView {
        cluster: CLUSTER.into(),
        ..ServicesView::default()
    };
    view.data.begin(5, true);
    s.views.push(View::Services(view));
    for event in [DataEvent::Services(vec![service()]), DataEvent::Done] {
        update(&mut s, Action::Data { request: 5, event });
    }
    let row = |s: &State| match s.view() {
        View::Services(v) => v.data.rows.first().cloned(),
        _ => None,
    };
    assert!(
        row(&s).unwrap().problems.is_empty(),
        "healthy by DescribeServices alone"
    );
    // the deployments view loaded the history; the row below it uses it
    history(&mut s, Ok(vec![rolled_back()]));
    let ServiceRow { problems, .. } = row(&s).unwrap();
    assert_eq!(problems[0].summary, "rev 43 rolled back 9m ago");
    assert_eq!(
        problems[0].detail.as_deref(),
        Some("circuit breaker: 3/3 tasks failed")
    );
    let screen = render(&mut s, 80, 24);
    // at 80 columns the row shows the first 24 characters: the revision, what, when
    assert!(screen.contains("rev 43 rolled back 9m"), "{screen}");
    // an hour after the rollback started, the row is quiet again
    update(
        &mut s,
        Action::Tick {
            now_unix: NOW + 3100,
        },
    );
    history(&mut s, Ok(vec![rolled_back()]));
    assert!(row(&s).unwrap().problems.is_empty(), "{:?}", row(&s));
}

#[test]
fn a_blue_green_stage_that_does_not_move_is_marked() {
    let mut s = deployments_view();
    let green = HistoryDeployment {
        status: DeploymentStatus::InProgress,
        status_reason: None,
        finished_at: None,
        updated_at: Some(NOW - 16 * 60),
        circuit_breaker: None,
        rollback: None,
        strategy: Some("BLUE_GREEN".into()),
        bake_time_minutes: Some(10),
        lifecycle_stage: Some(LifecycleStage::PostTestTrafficShift),
        target: Some(RevisionRef {
            test_traffic_weight: Some(100.0),
            ..revision("checkout-api:43")
        }),
        hooks: vec![HookDetail {
            id: "h1".into(),
            target_arn: "arn:aws:lambda:eu-west-1:210987654321:function:smoke-test".into(),
            status: "IN_PROGRESS".into(),
            expires_at: Some(NOW + 3600),
        }],
        ..rolled_back()
    };
    history(&mut s, Ok(vec![green.clone()]));
    let screen = render(&mut s, 80, 24);
    insta::assert_snapshot!("history_blue_green_stuck_80x24", screen);
    assert!(
        screen.contains("blue/green POST_TEST_TRAFFIC_SHIFT 16m STUCK"),
        "{screen}"
    );
    let problems = berth::domain::problems::history_problems(std::slice::from_ref(&green), NOW);
    assert_eq!(problems[0].summary, "POST_TEST_TRAFFIC_SHIFT for 16m");
    // BAKE_TIME within its bake time is not stuck, and says how long is left
    let baking = HistoryDeployment {
        lifecycle_stage: Some(LifecycleStage::BakeTime),
        updated_at: Some(NOW - 4 * 60),
        hooks: Vec::new(),
        ..green
    };
    assert!(
        berth::domain::problems::history_problems(std::slice::from_ref(&baking), NOW).is_empty()
    );
    history(&mut s, Ok(vec![baking]));
    let screen = render(&mut s, 80, 24);
    assert!(screen.contains("BAKE_TIME 4m"), "{screen}");
    assert!(screen.contains("bake 6m left"), "{screen}");
}

#[test]
fn a_stale_history_does_not_call_a_stage_stuck() {
    let mut s = signed_in(NOW, None, false, false);
    let load = |s: &mut State, request: u64| {
        if let View::Services(v) = s.view_mut() {
            v.data.begin(request, true);
        }
        for event in [DataEvent::Services(vec![service()]), DataEvent::Done] {
            update(s, Action::Data { request, event });
        }
    };
    let view = ServicesView {
        cluster: CLUSTER.into(),
        ..ServicesView::default()
    };
    s.views.push(View::Services(view));
    load(&mut s, 5);
    let green = HistoryDeployment {
        status: DeploymentStatus::InProgress,
        updated_at: Some(NOW - 16 * 60),
        lifecycle_stage: Some(LifecycleStage::ScaleUp),
        rollback: None,
        ..rolled_back()
    };
    history(&mut s, Ok(vec![green]));
    let summary = |s: &State| match s.view() {
        View::Services(v) => v.data.rows[0].problems.first().map(|p| p.summary.clone()),
        _ => None,
    };
    assert_eq!(summary(&s).as_deref(), Some("SCALE_UP for 16m"));
    // ten minutes later, nobody reloaded the history: the row no longer trusts it
    update(
        &mut s,
        Action::Tick {
            now_unix: NOW + 600,
        },
    );
    load(&mut s, 6);
    assert_eq!(summary(&s), None);
}

#[test]
fn a_busy_history_leaves_room_for_the_events_at_80x24() {
    let mut s = deployments_view();
    let many: Vec<HistoryDeployment> = (0..9)
        .map(|i| HistoryDeployment {
            arn: format!(
                "arn:aws:ecs:eu-west-1:210987654321:service-deployment/prod/checkout-api/{i}"
            ),
            created_at: Some(NOW - 3000 * (i + 1)),
            started_at: Some(NOW - 3000 * (i + 1)),
            ..earlier()
        })
        .collect();
    history(&mut s, Ok(many));
    let screen = render(&mut s, 80, 24);
    assert!(
        screen.contains("history, last 24h: 9 service deployments, newest 3 shown"),
        "{screen}"
    );
    assert_eq!(screen.matches("SUCCESSFUL ").count(), 3, "{screen}");
    assert!(screen.contains("has reached a steady state"), "{screen}");
}

/// The task-definition load an effect list holds: (old, new).
fn diff_load(effects: &[Effect]) -> Option<(String, String)> {
    effects.iter().find_map(|e| match e {
        Effect::LoadPane {
            load: berth::app::pane::PaneLoad::TaskDefinitions { old, new },
            ..
        } => Some((old.clone(), new.clone())),
        _ => None,
    })
}

#[test]
fn tab_selects_a_history_entry_and_d_diffs_what_it_rolled_out() {
    use crossterm::event::KeyCode;
    let mut s = deployments_view();
    history(&mut s, Ok(vec![rolled_back(), earlier()]));
    // before tab, D diffs the live deployment (42, the only one left) against 41
    let live = diff_load(&crate::reducer::key(&mut s, KeyCode::Char('D')));
    assert_eq!(
        live,
        Some(("checkout-api:41".into(), "checkout-api:42".into()))
    );
    crate::reducer::key(&mut s, KeyCode::Esc);

    crate::reducer::key(&mut s, KeyCode::Tab);
    let screen = render(&mut s, 80, 24);
    let buffer = screen::draw(&mut s, &screen::theme("default"), 80, 24);
    let y = screen
        .lines()
        .position(|l| l.contains("ROLLBACK_SUCCESSFUL"))
        .unwrap() as u16;
    let selection = screen::theme("default").style(berth::config::theme::Slot::Selection);
    assert_eq!(
        buffer[(2, y)].bg,
        selection.bg.unwrap(),
        "the entry is selected"
    );
    // the rolled-back deployment: 42 → 43, the bad revision
    assert_eq!(
        diff_load(&crate::reducer::key(&mut s, KeyCode::Char('D'))),
        Some(("checkout-api:42".into(), "checkout-api:43".into()))
    );
    crate::reducer::key(&mut s, KeyCode::Esc);
    // down: the one before it
    crate::reducer::key(&mut s, KeyCode::Down);
    crate::reducer::key(&mut s, KeyCode::Down);
    assert_eq!(
        diff_load(&crate::reducer::key(&mut s, KeyCode::Char('D'))),
        Some(("checkout-api:41".into(), "checkout-api:42".into())),
        "the selection stops at the last entry"
    );
    crate::reducer::key(&mut s, KeyCode::Esc);
    // tab again: back to the live deployments
    crate::reducer::key(&mut s, KeyCode::Tab);
    assert_eq!(
        diff_load(&crate::reducer::key(&mut s, KeyCode::Char('D'))),
        live
    );
}

/// A history that arrives and puts its service's row first keeps the selection on the service
/// it was on (it used to stay on the row number and so jump to another service).
#[test]
fn a_history_that_reorders_the_services_keeps_the_selection() {
    let mut s = signed_in(NOW, None, false, false);
    let mut view = ServicesView {
        cluster: CLUSTER.into(),
        ..ServicesView::default()
    };
    view.data.begin(5, true);
    s.views.push(View::Services(view));
    let mut alpha = service();
    alpha.name = "alpha-api".into();
    alpha.arn = "arn:aws:ecs:eu-west-1:210987654321:service/prod/alpha-api".into();
    for event in [DataEvent::Services(vec![alpha, service()]), DataEvent::Done] {
        update(&mut s, Action::Data { request: 5, event });
    }
    let selected = |s: &State| match s.view() {
        View::Services(v) => v
            .table
            .selected_row()
            .and_then(|i| v.data.rows.get(i))
            .map(|r| r.service.name.clone()),
        _ => None,
    };
    assert_eq!(
        selected(&s).as_deref(),
        Some("alpha-api"),
        "alphabetical first"
    );
    // checkout-api's history: it rolled back, so it sorts first now
    history(&mut s, Ok(vec![rolled_back()]));
    let first = match s.view() {
        View::Services(v) => v
            .table
            .visible
            .first()
            .and_then(|&i| v.data.rows.get(i))
            .map(|r| r.service.name.clone()),
        _ => None,
    };
    assert_eq!(first.as_deref(), Some("checkout-api"));
    assert_eq!(selected(&s).as_deref(), Some("alpha-api"));
}
