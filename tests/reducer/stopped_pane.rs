//! The stopped-tasks-by-cause pane in the reducer: grouping, order (problems first, routine
//! causes last), the fix for the selected cause, enter listing only that cause's tasks, and
//! `l` on a stopped task reading the logs from before it stopped. Snapshot at 80x24.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth::app::{Action, Command, DataEvent, Effect, State, View, update};
use berth::domain::stop_cause::StopCause;
use berth::domain::{Container, Task};

use crate::reducer;

const NOW: i64 = 1_700_000_000;

fn stopped(
    id: &str,
    ago: i64,
    exit: i32,
    container_reason: &str,
    reason: &str,
    code: &str,
) -> Task {
    Task {
        arn: format!("arn:aws:ecs:eu-west-1:1:task/prod/{id}"),
        id: id.into(),
        group: Some("service:payments-worker".into()),
        last_status: "STOPPED".into(),
        desired_status: "STOPPED".into(),
        task_definition: "payments-worker:7".into(),
        stop_code: Some(code.into()),
        stopped_reason: Some(reason.into()),
        created_at: Some(NOW - ago - 600),
        started_at: Some(NOW - ago - 500),
        stopped_at: Some(NOW - ago),
        containers: vec![Container {
            name: "app".into(),
            exit_code: Some(exit),
            reason: (!container_reason.is_empty()).then(|| container_reason.to_string()),
            ..Container::default()
        }],
        ..Task::default()
    }
}

fn tasks() -> Vec<Task> {
    let essential = "Essential container in task exited";
    vec![
        stopped(
            "a1",
            60,
            137,
            "OutOfMemoryError: Container killed due to memory usage",
            essential,
            "EssentialContainerExited",
        ),
        stopped(
            "a2",
            400,
            137,
            "OutOfMemoryError: Container killed due to memory usage",
            essential,
            "EssentialContainerExited",
        ),
        stopped(
            "b1",
            30,
            143,
            "",
            "Scaling activity initiated by (deployment ecs-svc/1)",
            "ServiceSchedulerInitiated",
        ),
        stopped(
            "b2",
            35,
            143,
            "",
            "Scaling activity initiated by (deployment ecs-svc/1)",
            "ServiceSchedulerInitiated",
        ),
        stopped(
            "b3",
            36,
            143,
            "",
            "Scaling activity initiated by (deployment ecs-svc/1)",
            "ServiceSchedulerInitiated",
        ),
        stopped(
            "c1",
            900,
            0,
            "",
            "Your Spot Task was interrupted.",
            "SpotInterruption",
        ),
        Task {
            last_status: "RUNNING".into(),
            desired_status: "RUNNING".into(),
            stop_code: None,
            stopped_reason: None,
            stopped_at: None,
            ..stopped("r1", 0, 0, "", "", "")
        },
    ]
}

fn state() -> (State, u64) {
    let mut s = reducer::signed_in(NOW, None, false, false);
    s.views.push(berth::app::nav::services_view("prod"));
    s.views
        .push(View::Deployments(berth::app::nav::service_view(
            "prod",
            "payments-worker",
        )));
    let effects = update(&mut s, Action::Command(Command::ShowStopCauses));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadTasks {
                request,
                include_stopped: true,
                service,
                ..
            } if service.as_deref() == Some("payments-worker") => Some(*request),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{effects:?}"));
    (s, request)
}

#[test]
fn groups_by_cause_problems_first_with_the_fix() {
    let (mut s, request) = state();
    for event in [DataEvent::Tasks(tasks()), DataEvent::Done] {
        update(&mut s, Action::Data { request, event });
    }
    let View::Stopped(v) = s.view() else { panic!() };
    let order: Vec<(StopCause, usize)> = v
        .table
        .visible
        .iter()
        .map(|&i| (v.groups[i].cause, v.groups[i].count))
        .collect();
    assert_eq!(
        order,
        vec![
            (StopCause::OutOfMemory, 2),
            (StopCause::SpotInterruption, 1),
            (StopCause::ScalingOrDeployment, 3),
        ],
        "problems first by count, routine last; the running task is not counted"
    );
    let screen = render(&mut s);
    insta::assert_snapshot!("stopped_by_cause_80x24", screen);
    assert!(
        screen.contains("6 tasks stopped in service payments-worker"),
        "{screen}"
    );
    assert!(
        screen.contains("fix: killed for memory (exit 137)"),
        "{screen}"
    );

    // Enter: only the out-of-memory tasks, newest first.
    let effects = update(&mut s, Action::Command(Command::Select));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadTasks {
                request,
                include_stopped: true,
                ..
            } => Some(*request),
            _ => None,
        })
        .unwrap();
    for event in [DataEvent::Tasks(tasks()), DataEvent::Done] {
        update(&mut s, Action::Data { request, event });
    }
    let View::Tasks(t) = s.view() else { panic!() };
    let ids: Vec<&str> = t
        .table
        .visible
        .iter()
        .map(|&i| t.data.rows[i].id.as_str())
        .collect();
    assert_eq!(ids, vec!["a1", "a2"]);
    assert!(
        s.breadcrumbs()
            .join(" › ")
            .ends_with("stopped: out of memory")
    );

    // `l` on a stopped task: its logs from ten minutes before it stopped.
    let effects = update(&mut s, Action::Command(Command::ShowLogs));
    let since = effects
        .iter()
        .find_map(|e| match e {
            Effect::StartLogs {
                since_ms, scope, ..
            } => {
                assert_eq!(
                    scope.task.as_deref(),
                    Some("arn:aws:ecs:eu-west-1:1:task/prod/a1")
                );
                Some(*since_ms)
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("{effects:?}"));
    assert_eq!(since, (NOW - 60) * 1000 - 600_000);
}

fn render(s: &mut State) -> String {
    reducer::screen(s, "default", 80, 24)
}
