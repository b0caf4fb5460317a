//! Per-task CPU and memory (Container Insights with enhanced observability) in the reducer
//! and on screen: asked for only for the running tasks on screen of a tasks table wide enough
//! to show them, only once the cluster is known to be `enhanced` (one settings check the first
//! time, none again), never with metrics off; the CPU/MEM columns at 80 (hidden), 120 and 200
//! columns, and the task detail's chart.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use std::collections::HashMap;

use berth::app::views::{TaskDetailView, TasksView};
use berth::app::{Action, DataEvent, Effect, State, View, update};
use berth::aws::{AwsError, ErrorKind};
use berth::domain::metrics::{Series, ServiceMetrics, TaskQuery};
use berth::domain::{Eni, Task};

use crate::reducer::signed_in;
use crate::screen;

const NOW: i64 = 1_800_000_000;
const CLUSTER: &str = "arn:aws:ecs:eu-west-1:210987654321:cluster/prod";

fn task(i: usize, status: &str) -> Task {
    let id = format!("{i:02}aaaaaa{i:024}");
    Task {
        arn: format!("arn:aws:ecs:eu-west-1:210987654321:task/prod/{id}"),
        id,
        group: Some("service:web-api".into()),
        last_status: status.into(),
        desired_status: "RUNNING".into(),
        health: Some("HEALTHY".into()),
        task_definition: "arn:aws:ecs:eu-west-1:210987654321:task-definition/web-api:12".into(),
        capacity_provider: Some("FARGATE".into()),
        cpu: Some("512".into()),
        memory: Some("1024".into()),
        started_at: Some(NOW - 600),
        enis: vec![Eni {
            private_ipv4: Some(format!("10.0.1.{}", 10 + i)),
            ..Eni::default()
        }],
        ..Task::default()
    }
}

/// The tasks of web-api (three running, one pending) on a `cols`x`rows` terminal; the
/// effects the load's end asked for.
fn tasks_view(cols: u16, rows: u16, off: bool) -> (State, Vec<Effect>) {
    let mut s = signed_in(NOW, None, false, false);
    s.metrics.disabled = off;
    update(&mut s, Action::Resize { cols, rows });
    let mut view = TasksView {
        cluster: CLUSTER.into(),
        service: Some("web-api".into()),
        ..TasksView::default()
    };
    view.data.begin(7, true);
    s.views.push(View::Tasks(view));
    let batch = vec![
        task(1, "RUNNING"),
        task(2, "RUNNING"),
        task(3, "RUNNING"),
        task(4, "PENDING"),
    ];
    let mut effects = Vec::new();
    for event in [DataEvent::Tasks(batch), DataEvent::Done] {
        effects.extend(update(&mut s, Action::Data { request: 7, event }));
    }
    (s, effects)
}

fn task_loads(effects: &[Effect]) -> Vec<(u64, Vec<TaskQuery>, bool)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::LoadTaskMetrics {
                call,
                tasks,
                check_insights,
                ..
            } => Some((*call, tasks.clone(), *check_insights)),
            _ => None,
        })
        .collect()
}

fn hour(last: f64) -> Series {
    Series {
        points: (0..60)
            .map(|m| (NOW - 3600 + m * 60, 20.0 + (last - 20.0) * m as f64 / 59.0))
            .collect(),
    }
}

fn answer(
    s: &mut State,
    call: u64,
    insights: Option<&str>,
    tasks: &[TaskQuery],
    result: Result<Vec<(f64, f64)>, AwsError>,
) -> Vec<Effect> {
    let result = result.map(|values| {
        tasks
            .iter()
            .zip(values)
            .map(|(t, (cpu, mem))| {
                (
                    t.arn.clone(),
                    ServiceMetrics {
                        cpu: hour(cpu),
                        memory: hour(mem),
                    },
                )
            })
            .collect::<HashMap<_, _>>()
    });
    update(
        s,
        Action::TaskMetricsLoaded {
            call,
            cluster: CLUSTER.into(),
            insights: Some(insights.map(str::to_string)),
            tasks: tasks.iter().map(|t| t.arn.clone()).collect(),
            result,
        },
    )
}

/// Open `task`'s detail on top; the per-task loads the detail's load asked for.
fn open_detail(s: &mut State, task: Task) -> Vec<(u64, Vec<TaskQuery>, bool)> {
    let mut detail = TaskDetailView {
        cluster: CLUSTER.into(),
        task: task.arn.clone(),
        ..TaskDetailView::default()
    };
    detail.data.begin(9, true);
    s.views.push(View::TaskDetail(detail));
    let mut loads = Vec::new();
    for event in [DataEvent::Tasks(vec![task]), DataEvent::Done] {
        loads.extend(task_loads(&update(s, Action::Data { request: 9, event })));
    }
    loads
}

fn render(s: &mut State, theme: &str, cols: u16, rows: u16) -> String {
    screen::text(&screen::draw(s, &screen::theme(theme), cols, rows))
}

/// The tasks view at `cols`x`rows` with an enhanced cluster's answer in.
fn with_usage(cols: u16, rows: u16) -> State {
    let (mut s, effects) = tasks_view(120, rows, false);
    let (call, tasks, _) = task_loads(&effects).pop().expect("asked at 120 columns");
    answer(
        &mut s,
        call,
        Some("enhanced"),
        &tasks,
        Ok(vec![(35.0, 40.0), (97.0, 55.0), (60.0, 92.0)]),
    );
    update(&mut s, Action::Resize { cols, rows });
    s
}

#[test]
fn only_running_tasks_on_screen_are_asked_for_after_one_settings_check() {
    let (mut s, effects) = tasks_view(120, 30, false);
    let loads = task_loads(&effects);
    assert_eq!(loads.len(), 1, "{effects:?}");
    let (call, tasks, check) = loads[0].clone();
    assert!(check, "the cluster's level is not known yet: read it first");
    let ids: Vec<&str> = tasks
        .iter()
        .map(|t| t.arn.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "the pending task is not running: {ids:?}");
    assert_eq!(tasks[0].family, "web-api");
    assert_eq!(
        (tasks[0].cpu_units, tasks[0].memory_mib),
        (Some(512), Some(1024))
    );
    let more = answer(
        &mut s,
        call,
        Some("enhanced"),
        &tasks,
        Ok(vec![(10.0, 20.0); 3]),
    );
    assert!(task_loads(&more).is_empty(), "fresh: {more:?}");

    // the next refresh inside the minute asks nothing; a minute later the running tasks
    // again, without the settings check
    let reload = |s: &mut State, at: i64| {
        s.now_unix = at;
        if let View::Tasks(v) = s.view_mut() {
            v.data.begin(8, false);
        }
        let mut out = Vec::new();
        for event in [
            DataEvent::Tasks(vec![
                task(1, "RUNNING"),
                task(2, "RUNNING"),
                task(3, "RUNNING"),
                task(4, "PENDING"),
            ]),
            DataEvent::Done,
        ] {
            out.extend(update(s, Action::Data { request: 8, event }));
        }
        task_loads(&out)
    };
    assert!(reload(&mut s, NOW + 30).is_empty());
    let later = reload(&mut s, NOW + 61);
    assert_eq!(later.len(), 1);
    assert!(!later[0].2, "the level is known: no second settings check");
}

#[test]
fn a_cluster_without_enhanced_observability_costs_one_check_and_shows_no_columns() {
    let (mut s, effects) = tasks_view(200, 40, false);
    let (call, tasks, _) = task_loads(&effects).pop().unwrap();
    let more = answer(&mut s, call, Some("enabled"), &tasks, Ok(vec![]));
    assert!(task_loads(&more).is_empty());
    let View::Tasks(v) = s.view() else { panic!() };
    assert!(!v.usage_shown);
    assert!(v.data.rows.iter().all(|t| t.usage.is_none()));
    let task = v.data.rows[0].clone();
    let screen = render(&mut s, "default", 200, 40);
    assert!(!screen.contains(" CPU "), "{screen}");
    // the detail says what would give it per-task numbers
    let loads = open_detail(&mut s, task);
    assert!(loads.is_empty(), "{loads:?}");
    let screen = render(&mut s, "default", 120, 30);
    assert!(
        screen.contains(
            "needs Container Insights with enhanced observability (this cluster: enabled)"
        ),
        "{screen}"
    );
}

#[test]
fn narrow_screens_and_metrics_off_ask_nothing() {
    let (_, effects) = tasks_view(80, 24, false);
    assert!(task_loads(&effects).is_empty(), "{effects:?}");
    let (_, effects) = tasks_view(200, 40, true);
    assert!(task_loads(&effects).is_empty(), "{effects:?}");
}

#[test]
fn access_denied_is_said_in_the_cell() {
    let (mut s, effects) = tasks_view(120, 30, false);
    let (call, tasks, _) = task_loads(&effects).pop().unwrap();
    let denied = AwsError::new(
        ErrorKind::AccessDenied,
        "cloudwatch:GetMetricData",
        "not authorized",
    );
    answer(&mut s, call, Some("enhanced"), &tasks, Err(denied));
    let screen = render(&mut s, "default", 120, 30);
    assert_eq!(
        screen.matches("✗ denied").count(),
        6,
        "CPU and MEM of 3 tasks:\n{screen}"
    );
}

#[test]
fn tasks_usage_80x24_hidden() {
    let mut s = with_usage(80, 24);
    let screen = render(&mut s, "default", 80, 24);
    assert!(!screen.contains("CPU"), "{screen}");
    insta::assert_snapshot!("tasks_usage_80x24", screen);
}

#[test]
fn tasks_usage_120x30_cpu_and_memory() {
    let mut s = with_usage(120, 30);
    let screen = render(&mut s, "default", 120, 30);
    assert!(screen.contains("CPU") && screen.contains("MEM"), "{screen}");
    assert!(
        screen.contains(" 97%") && screen.contains(" 92%"),
        "{screen}"
    );
    insta::assert_snapshot!("tasks_usage_120x30", screen);
}

#[test]
fn tasks_usage_200x50_mono() {
    let mut s = with_usage(200, 50);
    let screen = render(&mut s, "mono", 200, 50);
    assert!(screen.contains("CPU") && screen.contains("MEM"), "{screen}");
    insta::assert_snapshot!("tasks_usage_200x50_mono", screen);
}

#[test]
fn task_detail_chart_120x40() {
    let mut s = with_usage(120, 40);
    let View::Tasks(v) = s.view() else { panic!() };
    let task = v
        .data
        .rows
        .iter()
        .find(|t| t.id.starts_with("02"))
        .unwrap()
        .clone();
    let loads = open_detail(&mut s, task);
    assert!(loads.is_empty(), "read a moment ago: {loads:?}");
    let screen = render(&mut s, "default", 120, 40);
    assert!(
        screen.contains("CPU and memory of this task, last 60 minutes"),
        "{screen}"
    );
    assert!(screen.contains("CPU  now  97%"), "{screen}");
    insta::assert_snapshot!("task_detail_chart_120x40", screen);
}
