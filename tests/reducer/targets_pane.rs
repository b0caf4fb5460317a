//! Load-balancer target health in the console: which target groups are read (only those of
//! services with load balancers, once per refresh interval), the services' marker, the tasks'
//! TARGET column (80x24 snapshots), the task detail's full reason, and access denied kept in
//! place.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use berth::app::{Action, Command, DataEvent, Effect, State, View, update};
use berth::aws::targets::TargetHealthReport;
use berth::domain::problems::Severity;
use berth::domain::targets::{GroupHealth, LoadBalancer, TargetHealth, TargetState};
use berth::domain::{Cluster, Eni, Service, Task};

use crate::{reducer, screen};

const NOW: i64 = 1_700_000_000;
const TG: &str =
    "arn:aws:elasticloadbalancing:eu-west-1:210987654321:targetgroup/prod-web-api/0123456789abcdef";

fn web_api() -> Service {
    Service {
        arn: "arn:aws:ecs:eu-west-1:210987654321:service/prod/web-api".into(),
        name: "web-api".into(),
        cluster_arn: "arn:aws:ecs:eu-west-1:210987654321:cluster/prod".into(),
        status: "ACTIVE".into(),
        desired: 4,
        running: 4,
        task_definition: "web-api:12".into(),
        load_balancers: vec![LoadBalancer {
            target_group_arn: Some(TG.into()),
            container_name: Some("web".into()),
            container_port: Some(8080),
        }],
        deployment_config: berth::domain::DeploymentConfig {
            circuit_breaker_enabled: true,
            ..Default::default()
        },
        ..Service::default()
    }
}

fn worker() -> Service {
    Service {
        arn: "arn:aws:ecs:eu-west-1:210987654321:service/prod/billing-worker".into(),
        name: "billing-worker".into(),
        cluster_arn: "arn:aws:ecs:eu-west-1:210987654321:cluster/prod".into(),
        status: "ACTIVE".into(),
        desired: 2,
        running: 2,
        task_definition: "billing-worker:3".into(),
        deployment_config: berth::domain::DeploymentConfig {
            circuit_breaker_enabled: true,
            ..Default::default()
        },
        ..Service::default()
    }
}

fn task(id: &str, ip: &str, status: &str) -> Task {
    Task {
        arn: format!("arn:aws:ecs:eu-west-1:210987654321:task/prod/{id}"),
        id: id.into(),
        group: Some("service:web-api".into()),
        last_status: status.into(),
        desired_status: "RUNNING".into(),
        health: Some("HEALTHY".into()),
        task_definition: "web-api:12".into(),
        capacity_provider: Some("FARGATE".into()),
        started_at: Some(NOW - 600),
        enis: vec![Eni {
            private_ipv4: Some(ip.into()),
            ..Eni::default()
        }],
        ..Task::default()
    }
}

fn target(
    ip: &str,
    state: TargetState,
    reason: Option<&str>,
    description: Option<&str>,
) -> TargetHealth {
    TargetHealth {
        id: ip.into(),
        port: Some(8080),
        state,
        reason: reason.map(str::to_string),
        description: description.map(str::to_string),
    }
}

/// 3 of 4 healthy; one unhealthy with its reason; one drained target with no task.
fn report() -> TargetHealthReport {
    let mut r = TargetHealthReport::default();
    r.groups.insert(
        TG.into(),
        GroupHealth::Targets(vec![
            target("10.0.1.11", TargetState::Healthy, None, None),
            target("10.0.1.12", TargetState::Healthy, None, None),
            target("10.0.1.13", TargetState::Healthy, None, None),
            target(
                "10.0.1.14",
                TargetState::Unhealthy,
                Some("Target.ResponseCodeMismatch"),
                Some("Health checks failed with these codes: [404]"),
            ),
            target(
                "10.0.1.99",
                TargetState::Draining,
                Some("Target.DeregistrationInProgress"),
                Some("Target deregistration is in progress"),
            ),
        ]),
    );
    r
}

fn target_loads(effects: &[Effect]) -> Vec<(Vec<String>, bool)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::LoadTargetHealth { arns, settings } => Some((arns.clone(), *settings)),
            _ => None,
        })
        .collect()
}

/// prod's services loaded; the services view on top. Returns the effects of the last load.
fn services_loaded(services: Vec<Service>) -> (State, Vec<Effect>) {
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
            arn: "arn:aws:ecs:eu-west-1:210987654321:cluster/prod".into(),
            name: "prod".into(),
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
    let mut out = Vec::new();
    for event in [DataEvent::Services(services), DataEvent::Done] {
        out.extend(update(&mut s, Action::Data { request, event }));
    }
    (s, out)
}

#[test]
fn only_services_with_load_balancers_cost_a_read_once_per_refresh() {
    let (mut s, effects) = services_loaded(vec![web_api(), worker()]);
    assert_eq!(target_loads(&effects), vec![(vec![TG.to_string()], false)]);
    // Within the refresh interval: nothing more, whatever happens.
    let again = update(&mut s, Action::Tick { now_unix: NOW + 1 });
    assert_eq!(target_loads(&again), vec![]);
    let later = update(&mut s, Action::Tick { now_unix: NOW + 5 });
    assert_eq!(target_loads(&later), vec![(vec![TG.to_string()], false)]);

    // A fleet without load balancers reads none.
    let (_, effects) = services_loaded(vec![worker()]);
    assert_eq!(target_loads(&effects), vec![]);
}

#[test]
fn an_unhealthy_target_marks_the_service_80x24() {
    let (mut s, _) = services_loaded(vec![web_api(), worker()]);
    let selected = |s: &State| {
        let View::Services(v) = s.view() else {
            panic!()
        };
        let i = v.table.selected_row().unwrap();
        v.data.rows[i].service.name.clone()
    };
    let first = |s: &State| {
        let View::Services(v) = s.view() else {
            panic!()
        };
        v.data.rows[v.table.visible[0]].service.name.clone()
    };
    let before = selected(&s);
    assert_eq!(first(&s), "billing-worker");
    update(&mut s, Action::TargetHealthLoaded(report()));
    // The marked service moves up; the selection stays on its service.
    assert_eq!(first(&s), "web-api");
    assert_eq!(selected(&s), before);
    let View::Services(v) = s.view() else {
        panic!()
    };
    let row = v
        .data
        .rows
        .iter()
        .find(|r| r.service.name == "web-api")
        .unwrap();
    let p = row.problems.first().expect("a problem");
    assert_eq!(p.summary, "targets 3/4 healthy");
    assert_eq!(p.severity, Severity::Warning);
    assert!(
        p.detail
            .as_deref()
            .unwrap()
            .contains("Target.ResponseCodeMismatch")
    );
    let other = v
        .data
        .rows
        .iter()
        .find(|r| r.service.name == "billing-worker")
        .unwrap();
    assert!(other.problems.is_empty(), "{:?}", other.problems);

    // The service's deployment history arriving later keeps the marker.
    update(
        &mut s,
        Action::HistoryLoaded {
            cluster: web_api().cluster_arn,
            service: "web-api".into(),
            result: Ok(Vec::new()),
        },
    );
    let View::Services(v) = s.view() else {
        panic!()
    };
    let row = v
        .data
        .rows
        .iter()
        .find(|r| r.service.name == "web-api")
        .unwrap();
    assert_eq!(
        row.problems.first().map(|p| p.summary.as_str()),
        Some("targets 3/4 healthy")
    );
    let text = screen::text(&screen::draw(&mut s, &screen::theme("default"), 80, 24));
    assert!(text.contains("targets 3/4 healthy"), "{text}");
    insta::assert_snapshot!("targets_services_80x24", text);

    // All healthy again: no marker.
    let mut healthy = report();
    healthy.groups.insert(
        TG.into(),
        GroupHealth::Targets(vec![target("10.0.1.11", TargetState::Healthy, None, None)]),
    );
    update(&mut s, Action::TargetHealthLoaded(healthy));
    let View::Services(v) = s.view() else {
        panic!()
    };
    assert!(v.data.rows.iter().all(|r| r.problems.is_empty()));

    // Access denied: a notice in place, the rest of the row as before.
    let mut denied = TargetHealthReport::default();
    denied.groups.insert(
        TG.into(),
        GroupHealth::Unavailable("target health unavailable: access denied".into()),
    );
    update(&mut s, Action::TargetHealthLoaded(denied));
    let View::Services(v) = s.view() else {
        panic!()
    };
    let row = v
        .data
        .rows
        .iter()
        .find(|r| r.service.name == "web-api")
        .unwrap();
    let p = row.problems.first().unwrap();
    assert_eq!(p.severity, Severity::Notice);
    assert_eq!(
        p.detail.as_deref(),
        Some("target health unavailable: access denied")
    );
    let text = screen::text(&screen::draw(&mut s, &screen::theme("default"), 80, 24));
    assert!(text.contains("· targets: access denied"), "{text}");
    assert!(text.contains("4/4"), "{text}");
}

/// The tasks of web-api opened from the services view and loaded with `tasks`.
fn tasks_loaded(tasks: Vec<Task>) -> (State, Vec<Effect>) {
    let (mut s, _) = services_loaded(vec![web_api(), worker()]);
    // web-api is the selected row (sorted by name: billing-worker first)
    let View::Services(v) = s.view() else {
        panic!()
    };
    let pos = v
        .table
        .visible
        .iter()
        .position(|&i| v.data.rows[i].service.name == "web-api")
        .unwrap();
    if let View::Services(v) = s.view_mut() {
        v.table.selected = pos;
    }
    let effects = update(&mut s, Action::Command(Command::ShowTasks));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadTasks { request, .. } => Some(*request),
            _ => None,
        })
        .expect("tasks load");
    let mut out = effects.clone();
    for event in [DataEvent::Tasks(tasks), DataEvent::Done] {
        out.extend(update(&mut s, Action::Data { request, event }));
    }
    (s, out)
}

fn four_tasks() -> Vec<Task> {
    vec![
        task("aaaaaaaa1111", "10.0.1.11", "RUNNING"),
        task("bbbbbbbb2222", "10.0.1.12", "RUNNING"),
        task("cccccccc3333", "10.0.1.14", "RUNNING"),
        // not registered (yet): no target
        task("dddddddd4444", "10.0.1.15", "PENDING"),
    ]
}

#[test]
fn tasks_show_their_target_state_80x24() {
    let (mut s, effects) = tasks_loaded(four_tasks());
    // The tasks view reads its service's group (already read by the services view within the
    // refresh interval: nothing new).
    assert!(
        target_loads(&effects)
            .iter()
            .all(|(a, _)| a == &vec![TG.to_string()])
    );
    update(&mut s, Action::TargetHealthLoaded(report()));
    let View::Tasks(v) = s.view() else { panic!() };
    let label = |id: &str| {
        let t = v.data.rows.iter().find(|t| t.id == id).unwrap();
        berth::domain::targets::target_label(&t.targets)
    };
    assert_eq!(label("aaaaaaaa1111"), "healthy");
    assert_eq!(label("cccccccc3333"), "unhealthy");
    assert_eq!(label("dddddddd4444"), "-");
    let text = screen::text(&screen::draw(&mut s, &screen::theme("default"), 80, 24));
    assert!(text.contains("TARGET"), "{text}");
    let line = |id: &str| text.lines().find(|l| l.contains(id)).unwrap().to_string();
    assert!(line("cccccccc").contains("unhealthy"), "{text}");
    assert!(line("dddddddd").contains(" - "), "{text}");
    insta::assert_snapshot!("targets_tasks_80x24", text);

    // Tasks loaded after the health: joined on arrival.
    let (mut s, _) = tasks_loaded(Vec::new());
    update(&mut s, Action::TargetHealthLoaded(report()));
    let effects = update(&mut s, Action::Command(Command::Refresh));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadTasks { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap();
    for event in [DataEvent::Tasks(four_tasks()), DataEvent::Done] {
        update(&mut s, Action::Data { request, event });
    }
    let View::Tasks(v) = s.view() else { panic!() };
    let t = v.data.rows.iter().find(|t| t.id == "cccccccc3333").unwrap();
    assert_eq!(
        berth::domain::targets::target_label(&t.targets),
        "unhealthy"
    );
}

#[test]
fn task_detail_shows_the_full_reason_and_access_denied_in_place() {
    let (mut s, _) = tasks_loaded(four_tasks());
    update(&mut s, Action::TargetHealthLoaded(report()));
    let View::Tasks(v) = s.view() else { panic!() };
    let pos = v
        .table
        .visible
        .iter()
        .position(|&i| v.data.rows[i].id == "cccccccc3333")
        .unwrap();
    if let View::Tasks(v) = s.view_mut() {
        v.table.selected = pos;
    }
    let effects = update(&mut s, Action::Command(Command::Select));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadTask { request, .. } => Some(*request),
            _ => None,
        })
        .expect("task load");
    for event in [
        DataEvent::Tasks(vec![task("cccccccc3333", "10.0.1.14", "RUNNING")]),
        DataEvent::Done,
    ] {
        update(&mut s, Action::Data { request, event });
    }
    let text = screen::text(&screen::draw(&mut s, &screen::theme("default"), 120, 30));
    assert!(
        text.contains("prod-web-api: unhealthy  Target.ResponseCodeMismatch: Health checks failed with these codes: [404]"),
        "{text}"
    );

    let mut denied = TargetHealthReport::default();
    denied.groups.insert(
        TG.into(),
        GroupHealth::Unavailable("target health unavailable: access denied".into()),
    );
    update(&mut s, Action::TargetHealthLoaded(denied));
    // The tasks view below says it too, in place of the TARGET state.
    let View::Tasks(v) = &s.views[s.views.len() - 2] else {
        panic!()
    };
    let labels: Vec<String> = v
        .data
        .rows
        .iter()
        .map(|t| berth::domain::targets::target_label(&t.targets))
        .collect();
    assert!(labels.iter().all(|l| l == "?"), "{labels:?}");
    let text = screen::text(&screen::draw(&mut s, &screen::theme("default"), 100, 30));
    assert!(
        text.contains("prod-web-api: target health unavailable: access denied"),
        "{text}"
    );
    assert!(text.contains("RUNNING"), "the rest still shows:\n{text}");
    update(&mut s, Action::Command(Command::Back));
    let text = screen::text(&screen::draw(&mut s, &screen::theme("default"), 80, 24));
    assert!(
        text.contains("4 tasks of web-api · target health unavailable: access denied"),
        "{text}"
    );
    assert!(text.contains("10.0.1.14"), "the rest still shows:\n{text}");
}

#[test]
fn deployments_pane_lists_the_target_groups_with_their_checks_80x24() {
    let (mut s, _) = services_loaded(vec![web_api(), worker()]);
    let View::Services(v) = s.view() else {
        panic!()
    };
    let pos = v
        .table
        .visible
        .iter()
        .position(|&i| v.data.rows[i].service.name == "web-api")
        .unwrap();
    if let View::Services(v) = s.view_mut() {
        v.table.selected = pos;
    }
    let effects = update(&mut s, Action::Command(Command::Select));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadService { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap();
    let mut out = Vec::new();
    for event in [DataEvent::Services(vec![web_api()]), DataEvent::Done] {
        out.extend(update(&mut s, Action::Data { request, event }));
    }
    // The deployments view asks for the settings too (once the interval has passed).
    let later = update(&mut s, Action::Tick { now_unix: NOW + 5 });
    assert_eq!(target_loads(&later), vec![(vec![TG.to_string()], true)]);
    let mut r = report();
    r.settings = Some(Ok(vec![berth::domain::targets::TargetGroup {
        arn: TG.into(),
        name: "prod-web-api".into(),
        protocol: Some("HTTP".into()),
        port: Some(8080),
        target_type: Some("ip".into()),
        health_check_protocol: Some("HTTP".into()),
        health_check_path: Some("/healthz".into()),
        health_check_port: Some("traffic-port".into()),
        interval_s: Some(15),
        timeout_s: Some(5),
        healthy_threshold: Some(2),
        unhealthy_threshold: Some(3),
        matcher: Some("200-299".into()),
    }]));
    update(&mut s, Action::TargetHealthLoaded(r));
    let text = screen::text(&screen::draw(&mut s, &screen::theme("default"), 80, 24));
    assert!(text.contains("1 target group"), "{text}");
    assert!(text.contains("prod-web-api healthy 3/4"), "{text}");
    assert!(
        text.contains("HTTP /healthz every 15s timeout 5s healthy 2 unhealthy 3 codes 200-299"),
        "{text}"
    );
    insta::assert_snapshot!("targets_deployments_80x24", text);
}
