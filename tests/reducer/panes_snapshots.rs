//! Snapshots of every triage pane at 80x24 and 200x50, in the loaded (with problems), loading,
//! empty and error states; plus reducer checks of the navigation between them.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use berth::app::{Action, Command, DataEvent, Effect, State, View, update};
use berth::aws::{AwsError, ErrorKind};
use berth::domain::{
    CapacityProviderItem, Cluster, Container, Deployment, DeploymentConfig, Eni, Service,
    ServiceEvent, Task,
};

use crate::{reducer, screen};

const NOW: i64 = 1_700_000_000;

fn request_of(effects: &[Effect]) -> u64 {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadClusters { request }
            | Effect::LoadServices { request, .. }
            | Effect::LoadService { request, .. }
            | Effect::LoadTasks { request, .. }
            | Effect::LoadTask { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no load in {effects:?}"))
}

fn feed(s: &mut State, request: u64, events: Vec<DataEvent>) {
    for event in events {
        update(s, Action::Data { request, event });
    }
}

fn connected() -> (State, u64) {
    let mut s = reducer::unconnected(NOW, Some("prod"), false, false);
    let effects = reducer::connect(&mut s);
    reducer::sign_in(&mut s);
    (s, request_of(&effects))
}

fn with_clusters() -> State {
    let (mut s, request) = connected();
    feed(
        &mut s,
        request,
        vec![
            DataEvent::Clusters(vec![Cluster {
                arn: "arn:aws:ecs:eu-west-1:210987654321:cluster/prod".into(),
                name: "prod".into(),
                status: "ACTIVE".into(),
                active_services: 4,
                running_tasks: 9,
                ..Cluster::default()
            }]),
            DataEvent::Done,
        ],
    );
    s
}

fn deployment(
    id: &str,
    status: &str,
    rollout: &str,
    reason: &str,
    td: &str,
    counts: (i32, i32, i32),
    age: i64,
) -> Deployment {
    Deployment {
        id: id.into(),
        status: status.into(),
        rollout_state: Some(rollout.into()),
        rollout_state_reason: Some(reason.into()),
        desired: counts.0,
        running: counts.1,
        failed_tasks: counts.2,
        task_definition: td.into(),
        launch_type: None,
        pending: 0,
        created_at: Some(NOW - age),
        updated_at: Some(NOW - age / 2),
    }
}

fn event(id: &str, age: i64, message: &str) -> ServiceEvent {
    ServiceEvent {
        id: id.into(),
        created_at: Some(NOW - age),
        message: message.into(),
    }
}

fn checkout() -> Service {
    Service {
        arn: "arn:aws:ecs:eu-west-1:210987654321:service/prod/checkout-api".into(),
        name: "checkout-api".into(),
        status: "ACTIVE".into(),
        desired: 4,
        running: 2,
        pending: 2,
        task_definition: "checkout-api:42".into(),
        capacity_providers: vec![
            CapacityProviderItem {
                provider: "FARGATE".into(),
                weight: 1,
                base: 1,
            },
            CapacityProviderItem {
                provider: "FARGATE_SPOT".into(),
                weight: 3,
                base: 0,
            },
        ],
        exec_enabled: true,
        deployment_config: DeploymentConfig {
            minimum_healthy_percent: Some(100),
            maximum_percent: Some(200),
            circuit_breaker_enabled: true,
            circuit_breaker_rollback: true,
        },
        deployments: vec![
            deployment(
                "ecs-svc/3333",
                "PRIMARY",
                "IN_PROGRESS",
                "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1111.",
                "checkout-api:42",
                (4, 2, 0),
                60,
            ),
            deployment(
                "ecs-svc/2222",
                "ACTIVE",
                "FAILED",
                "ECS deployment circuit breaker: tasks failed to start.",
                "checkout-api:43",
                (0, 0, 3),
                600,
            ),
            deployment(
                "ecs-svc/1111",
                "ACTIVE",
                "COMPLETED",
                "ECS deployment ecs-svc/1111 completed.",
                "checkout-api:42",
                (0, 2, 0),
                86_400,
            ),
        ],
        events: vec![
            event(
                "e5",
                50,
                "(service checkout-api) has started 2 tasks: (task aaaa1111) (task bbbb2222).",
            ),
            event(
                "e4",
                70,
                "(service checkout-api) rolling back to deployment ecs-svc/1111.",
            ),
            event(
                "e3",
                80,
                "(service checkout-api) deployment ecs-svc/2222 deployment failed: tasks failed to start.",
            ),
            event(
                "e2",
                300,
                "(service checkout-api) has stopped 1 running tasks: (task cccc3333).",
            ),
            event(
                "e1",
                7200,
                "(service checkout-api) has reached a steady state.",
            ),
        ],
        created_at: Some(NOW - 90 * 86_400),
        health_check_grace_period: Some(60),
        ..Service::default()
    }
}

fn services() -> Vec<Service> {
    let healthy = |name: &str, n: i32| Service {
        arn: format!("arn:aws:ecs:eu-west-1:210987654321:service/prod/{name}"),
        name: name.into(),
        status: "ACTIVE".into(),
        desired: n,
        running: n,
        task_definition: format!("{name}:7"),
        launch_type: Some("FARGATE".into()),
        deployment_config: DeploymentConfig {
            circuit_breaker_enabled: true,
            circuit_breaker_rollback: true,
            minimum_healthy_percent: Some(100),
            maximum_percent: Some(200),
        },
        deployments: vec![deployment(
            "ecs-svc/9",
            "PRIMARY",
            "COMPLETED",
            "done",
            &format!("{name}:7"),
            (n, n, 0),
            3 * 86_400,
        )],
        ..Service::default()
    };
    let mut payments = healthy("payments-worker", 3);
    payments.running = 2;
    let mut cron = healthy("legacy-cron", 1);
    cron.deployment_config.circuit_breaker_enabled = false;
    vec![healthy("search-api", 2), payments, checkout(), cron]
}

fn eni(ip: &str, subnet: &str, n: u8) -> Eni {
    Eni {
        attachment_id: format!("att-{n}"),
        status: Some("ATTACHED".into()),
        eni_id: Some(format!("eni-0{n}a1b2c3d4e5f6a7b")),
        private_ipv4: Some(ip.into()),
        ipv6: None,
        private_dns: Some(format!(
            "ip-{}.eu-west-1.compute.internal",
            ip.replace('.', "-")
        )),
        subnet_id: Some(subnet.into()),
        mac: Some(format!("0a:1b:2c:3d:4e:{n:02x}")),
    }
}

fn task(id: &str, status: &str, ip: &str, subnet: &str, n: u8) -> Task {
    Task {
        arn: format!("arn:aws:ecs:eu-west-1:210987654321:task/prod/{id}"),
        id: id.into(),
        group: Some("service:checkout-api".into()),
        last_status: status.into(),
        desired_status: if status == "STOPPED" {
            "STOPPED".into()
        } else {
            "RUNNING".into()
        },
        health: Some(
            if status == "RUNNING" {
                "HEALTHY"
            } else {
                "UNKNOWN"
            }
            .into(),
        ),
        task_definition: "checkout-api:42".into(),
        capacity_provider: Some(
            if n.is_multiple_of(2) {
                "FARGATE"
            } else {
                "FARGATE_SPOT"
            }
            .into(),
        ),
        availability_zone: Some(
            if subnet.ends_with('a') {
                "eu-west-1a"
            } else {
                "eu-west-1b"
            }
            .into(),
        ),
        platform_version: Some("1.4.0".into()),
        cpu: Some("512".into()),
        memory: Some("1024".into()),
        exec_enabled: true,
        created_at: Some(NOW - 900 - i64::from(n) * 60),
        started_at: Some(NOW - 840 - i64::from(n) * 60),
        containers: vec![Container {
            name: "app".into(),
            image: Some("210987654321.dkr.ecr.eu-west-1.amazonaws.com/checkout:42".into()),
            last_status: Some(status.into()),
            runtime_id: Some(format!("{id}-1234567890")),
            exec_agent_status: Some("RUNNING".into()),
            health: Some("HEALTHY".into()),
            ..Container::default()
        }],
        enis: vec![eni(ip, subnet, n)],
        raw_json: format!(
            "{{\n  \"taskArn\": \"arn:aws:ecs:eu-west-1:210987654321:task/prod/{id}\",\n  \"lastStatus\": \"{status}\"\n}}"
        ),
        ..Task::default()
    }
}

fn tasks() -> Vec<Task> {
    let mut oom = task(
        "dead0137aaaabbbbccccddddeeeeffff",
        "STOPPED",
        "10.0.1.9",
        "subnet-0aaa",
        5,
    );
    oom.stop_code = Some("EssentialContainerExited".into());
    oom.stopped_reason = Some("Essential container in task exited".into());
    oom.stopping_at = Some(NOW - 200);
    oom.stopped_at = Some(NOW - 180);
    oom.containers[0].exit_code = Some(137);
    oom.containers[0].reason =
        Some("OutOfMemoryError: Container killed due to memory usage".into());
    oom.containers[0].last_status = Some("STOPPED".into());
    oom.containers.push(Container {
        name: "log-router".into(),
        last_status: Some("STOPPED".into()),
        exit_code: Some(0),
        ..Container::default()
    });
    let mut crash = task(
        "dead0001aaaabbbbccccddddeeeeffff",
        "STOPPED",
        "10.0.2.7",
        "subnet-0bbb",
        6,
    );
    crash.stop_code = Some("EssentialContainerExited".into());
    crash.stopped_reason = Some("Essential container in task exited".into());
    crash.stopped_at = Some(NOW - 100);
    crash.started_at = Some(NOW - 110);
    crash.containers[0].exit_code = Some(1);
    vec![
        task(
            "aaaa1111bbbb2222cccc3333dddd4444",
            "RUNNING",
            "10.0.1.21",
            "subnet-0aaa",
            1,
        ),
        task(
            "bbbb2222cccc3333dddd4444eeee5555",
            "RUNNING",
            "10.0.2.14",
            "subnet-0bbb",
            2,
        ),
        task(
            "cccc3333dddd4444eeee5555ffff6666",
            "PENDING",
            "10.0.1.30",
            "subnet-0aaa",
            3,
        ),
        oom,
        crash,
    ]
}

/// Drill into the services of prod, then further with `keys`; returns the state and the
/// request of the last load.
fn at(keys: &[Command]) -> (State, u64) {
    let mut s = with_clusters();
    let mut request = request_of(&update(&mut s, Action::Command(Command::Select)));
    for k in keys {
        let effects = update(&mut s, Action::Command(*k));
        if let Some(r) = effects.iter().find_map(|e| match e {
            Effect::LoadServices { request, .. }
            | Effect::LoadService { request, .. }
            | Effect::LoadTasks { request, .. }
            | Effect::LoadTask { request, .. } => Some(*request),
            _ => None,
        }) {
            request = r;
        }
    }
    (s, request)
}

fn loaded_services() -> State {
    let (mut s, request) = at(&[]);
    feed(
        &mut s,
        request,
        vec![DataEvent::Services(services()), DataEvent::Done],
    );
    s
}

/// Each pane: how to reach it from the services pane, and what its load returns.
fn panes() -> Vec<(&'static str, Vec<Command>, Vec<DataEvent>)> {
    let service = || DataEvent::Services(vec![checkout()]);
    vec![
        ("deployments", vec![], vec![service(), DataEvent::Done]),
        (
            "events",
            vec![Command::ShowEvents],
            vec![service(), DataEvent::Done],
        ),
        (
            "tasks",
            vec![Command::ToggleStopped],
            vec![DataEvent::Tasks(tasks()), DataEvent::Done],
        ),
        (
            "network",
            vec![Command::ShowNetwork],
            vec![DataEvent::Tasks(tasks()), DataEvent::Done],
        ),
    ]
}

/// The services pane loaded, checkout-api selected, then `keys`.
fn pane_state(keys: &[Command]) -> (State, u64) {
    let mut s = loaded_services();
    // Problem services sort first: checkout-api (critical) is on top and selected.
    let mut request = request_of(&update(&mut s, Action::Command(Command::Select)));
    for k in keys {
        let effects = update(&mut s, Action::Command(*k));
        request = request_of(&effects);
    }
    (s, request)
}

fn render(s: &mut State, cols: u16, rows: u16) -> String {
    screen::text(&screen::draw(s, &screen::theme("default"), cols, rows))
}

#[test]
fn services_pane_sizes_and_states() {
    let mut s = loaded_services();
    insta::assert_snapshot!("services_80x24", render(&mut s, 80, 24));
    insta::assert_snapshot!("services_200x50", render(&mut s, 200, 50));

    let (mut loading, _) = at(&[]);
    insta::assert_snapshot!("services_loading", render(&mut loading, 80, 24));

    let (mut empty, request) = at(&[]);
    feed(&mut empty, request, vec![DataEvent::Done]);
    insta::assert_snapshot!("services_empty", render(&mut empty, 80, 24));

    let (mut failed, request) = at(&[]);
    feed(
        &mut failed,
        request,
        vec![DataEvent::Failed(AwsError::new(
            ErrorKind::AccessDenied,
            "ecs:ListServices",
            "User: arn:aws:sts::210987654321:assumed-role/ReadOnly/bob is not authorized to perform: ecs:ListServices",
        ))],
    );
    insta::assert_snapshot!("services_error", render(&mut failed, 80, 24));
}

#[test]
fn services_with_problems_sort_first_with_their_reason() {
    let mut s = loaded_services();
    let screen = render(&mut s, 80, 24);
    let order: Vec<usize> = [
        "checkout-api",
        "payments-worker",
        "legacy-cron",
        "search-api",
    ]
    .iter()
    .map(|n| {
        screen
            .find(n)
            .unwrap_or_else(|| panic!("{n} missing:\n{screen}"))
    })
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "order by severity:\n{screen}"
    );
    let line = screen.lines().find(|l| l.contains("checkout-api")).unwrap();
    assert!(line.contains("rollout FAILED"), "{line}");
    let line = screen
        .lines()
        .find(|l| l.contains("payments-worker"))
        .unwrap();
    assert!(line.contains("2/3"), "{line}");
}

#[test]
fn every_pane_at_both_sizes_and_in_every_state() {
    for (name, keys, events) in panes() {
        let (mut s, request) = pane_state(&keys);
        feed(&mut s, request, events);
        insta::assert_snapshot!(format!("{name}_80x24"), render(&mut s, 80, 24));
        insta::assert_snapshot!(format!("{name}_200x50"), render(&mut s, 200, 50));

        let (mut loading, _) = pane_state(&keys);
        let screen = render(&mut loading, 80, 24);
        assert!(
            screen.contains("Loading") || screen.contains("loading"),
            "{name} loading:\n{screen}"
        );

        let (mut failed, request) = pane_state(&keys);
        feed(
            &mut failed,
            request,
            vec![DataEvent::Failed(AwsError::new(
                ErrorKind::Throttled,
                "ecs:DescribeServices",
                "Rate exceeded",
            ))],
        );
        let screen = render(&mut failed, 80, 24);
        assert!(
            screen.contains("AWS is throttling ecs:DescribeServices"),
            "{name} error:\n{screen}"
        );
        insta::assert_snapshot!(format!("{name}_error"), screen);
    }
}

#[test]
fn task_detail_shows_why_it_stopped_and_the_raw_json() {
    let (mut s, request) = pane_state(&[Command::ToggleStopped]);
    feed(
        &mut s,
        request,
        vec![DataEvent::Tasks(tasks()), DataEvent::Done],
    );
    // Stopped tasks sort after running ones; the OOM task is the first stopped one.
    for _ in 0..3 {
        update(&mut s, Action::Command(Command::Down));
    }
    let effects = update(&mut s, Action::Command(Command::Select));
    let request = request_of(&effects);
    let oom = tasks()
        .into_iter()
        .find(|t| t.id.starts_with("dead0137"))
        .unwrap();
    feed(
        &mut s,
        request,
        vec![DataEvent::Tasks(vec![oom]), DataEvent::Done],
    );
    let screen = render(&mut s, 80, 24);
    assert!(screen.contains("out of memory"), "{screen}");
    assert!(screen.contains("137"), "{screen}");
    insta::assert_snapshot!("task_detail_80x24", screen);
    insta::assert_snapshot!("task_detail_200x50", render(&mut s, 200, 50));
    update(&mut s, Action::Command(Command::ToggleRaw));
    let raw = render(&mut s, 80, 24);
    assert!(raw.contains("\"taskArn\""), "{raw}");
}

#[test]
fn network_pane_sums_ips_per_subnet_and_the_rolling_peak() {
    let (mut s, request) = pane_state(&[Command::ShowNetwork]);
    feed(
        &mut s,
        request,
        vec![DataEvent::Tasks(tasks()), DataEvent::Done],
    );
    let screen = render(&mut s, 80, 24);
    // 5 tasks: three in subnet-0aaa, two in subnet-0bbb.
    assert!(screen.contains("subnet-0aaa (eu-west-1a) 3"), "{screen}");
    assert!(screen.contains("subnet-0bbb (eu-west-1b) 2"), "{screen}");
    // checkout-api: desired 4 × maximumPercent 200.
    assert!(screen.contains("4 desired × 200% = 8 IPs"), "{screen}");
    for t in tasks() {
        assert!(screen.contains(t.private_ip().unwrap()), "{} missing", t.id);
    }
}

#[test]
fn filter_command_line_and_previous_view() {
    let mut s = loaded_services();
    update(&mut s, Action::Command(Command::Filter));
    for c in "pay".chars() {
        update(
            &mut s,
            Action::Key(crossterm::event::KeyEvent::from(
                crossterm::event::KeyCode::Char(c),
            )),
        );
    }
    let screen = render(&mut s, 80, 24);
    assert!(
        screen.contains("payments-worker") && !screen.contains("search-api"),
        "{screen}"
    );
    assert!(
        screen.contains("/pay"),
        "the input line shows the filter:\n{screen}"
    );
    update(&mut s, Action::Key(crossterm::event::KeyCode::Enter.into()));
    update(&mut s, Action::Command(Command::Filter));
    // Editing starts from the current filter; ctrl-u clears it.
    assert_eq!(s.input.as_ref().map(|i| i.text.as_str()), Some("pay"));
    update(
        &mut s,
        Action::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('u'),
            crossterm::event::KeyModifiers::CONTROL,
        )),
    );
    for c in "!pay".chars() {
        update(
            &mut s,
            Action::Key(crossterm::event::KeyCode::Char(c).into()),
        );
    }
    let screen = render(&mut s, 80, 24);
    assert!(
        !screen.contains("payments-worker") && screen.contains("search-api"),
        "{screen}"
    );
    // Esc restores the filter as it was before editing.
    update(&mut s, Action::Key(crossterm::event::KeyCode::Esc.into()));
    let screen = render(&mut s, 80, 24);
    assert!(
        screen.contains("payments-worker") && !screen.contains("search-api"),
        "{screen}"
    );

    // `:tasks` jumps to the tasks of the selected service; `-` comes back.
    update(&mut s, Action::Command(Command::CommandMode));
    for c in "ta".chars() {
        update(
            &mut s,
            Action::Key(crossterm::event::KeyCode::Char(c).into()),
        );
    }
    update(&mut s, Action::Key(crossterm::event::KeyCode::Tab.into()));
    assert_eq!(s.input.as_ref().map(|i| i.text.as_str()), Some("tasks "));
    let effects = update(&mut s, Action::Key(crossterm::event::KeyCode::Enter.into()));
    assert!(
        matches!(effects.as_slice(), [Effect::LoadTasks { service: Some(svc), .. }] if svc == "payments-worker"),
        "{effects:?}"
    );
    assert!(matches!(s.view(), View::Tasks(_)));
    update(&mut s, Action::Command(Command::PreviousView));
    assert!(matches!(s.view(), View::Services(_)));
    // An unknown command says so and stays open.
    update(&mut s, Action::Command(Command::CommandMode));
    for c in "bogus".chars() {
        update(
            &mut s,
            Action::Key(crossterm::event::KeyCode::Char(c).into()),
        );
    }
    update(&mut s, Action::Key(crossterm::event::KeyCode::Enter.into()));
    let error = s
        .input
        .as_ref()
        .and_then(|i| i.error.clone())
        .unwrap_or_default();
    assert!(error.contains("unknown command"), "{error}");
}

#[test]
fn copy_puts_the_selected_ip_on_the_clipboard() {
    let (mut s, request) = pane_state(&[Command::ShowTasks]);
    feed(
        &mut s,
        request,
        vec![DataEvent::Tasks(tasks()), DataEvent::Done],
    );
    let effects = update(&mut s, Action::Command(Command::CopyIp));
    // Running tasks newest first: task 1 started last.
    assert_eq!(
        effects,
        vec![Effect::Terminal(berth::app::TerminalEffect::Copy(
            "10.0.1.21".into()
        ))]
    );
    assert!(s.status.as_ref().unwrap().text.contains("10.0.1.21"));
    let effects = update(&mut s, Action::Command(Command::CopyArn));
    assert_eq!(
        effects,
        vec![Effect::Terminal(berth::app::TerminalEffect::Copy(
            "arn:aws:ecs:eu-west-1:210987654321:task/prod/aaaa1111bbbb2222cccc3333dddd4444".into()
        ))]
    );
}

#[test]
fn sorting_cycles_columns_and_reverses() {
    let mut s = loaded_services();
    update(&mut s, Action::Command(Command::SortNext)); // by name
    let screen = render(&mut s, 80, 24);
    let names: Vec<usize> = [
        "checkout-api",
        "legacy-cron",
        "payments-worker",
        "search-api",
    ]
    .iter()
    .map(|n| screen.find(n).unwrap())
    .collect();
    assert!(names.windows(2).all(|w| w[0] < w[1]), "{screen}");
    update(&mut s, Action::Command(Command::SortReverse));
    let screen = render(&mut s, 80, 24);
    assert!(
        screen.find("search-api").unwrap() < screen.find("checkout-api").unwrap(),
        "{screen}"
    );
    assert!(screen.contains("sort: name ↓"), "{screen}");
}

/// The cells drawn with the match highlight, as (x, y), and the header row's text, at
/// `cols`x`rows`.
fn highlighted(s: &mut State, cols: u16, rows: u16) -> (Vec<(u16, u16)>, Vec<String>) {
    let theme = screen::theme("default");
    let buffer = screen::draw(s, &theme, cols, rows);
    let mark = theme.style(berth::config::theme::Slot::MatchHighlight);
    let mut cells = Vec::new();
    let mut lines = Vec::new();
    for y in 0..rows {
        lines.push(
            (0..cols)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>(),
        );
        for x in 0..cols {
            let c = &buffer[(x, y)];
            if mark.bg.is_some_and(|bg| c.bg == bg)
                || (!mark.add_modifier.is_empty() && c.modifier.contains(mark.add_modifier))
            {
                cells.push((x, y));
            }
        }
    }
    (cells, lines)
}

fn type_filter(s: &mut State, text: &str) {
    update(s, Action::Command(Command::Filter));
    for c in text.chars() {
        update(s, Action::Key(crossterm::event::KeyCode::Char(c).into()));
    }
    update(s, Action::Key(crossterm::event::KeyCode::Enter.into()));
}

#[test]
fn a_column_filter_filters_and_highlights_the_same_column() {
    let (mut s, request) = pane_state(&[]);
    feed(
        &mut s,
        request,
        vec![DataEvent::Services(vec![checkout()]), DataEvent::Done],
    );
    // Two deployments failed no task: the second row is not selected, so its highlight shows.
    type_filter(&mut s, "fail:0");
    let (marks, lines) = highlighted(&mut s, 120, 30);
    let screen = lines.join("\n");
    assert!(screen.contains("filter: fail:0"), "{screen}");
    assert!(!screen.contains("checkout-api:43"), "filtered:\n{screen}");
    let (header_y, header) = lines
        .iter()
        .enumerate()
        .find(|(_, l)| l.contains(" FAIL "))
        .unwrap_or_else(|| panic!("no FAIL header:\n{screen}"));
    let start = header.find(" FAIL ").unwrap() + 1;
    let fail_x = header[..start].chars().count() as u16;
    let in_table: Vec<_> = marks.iter().filter(|(_, y)| *y > header_y as u16).collect();
    assert!(!in_table.is_empty(), "nothing highlighted:\n{screen}");
    for (x, y) in in_table {
        assert!(
            (fail_x..fail_x + 4).contains(x),
            "highlight at column {x} row {y}, outside FAIL ({fail_x}):\n{screen}"
        );
    }
}

/// `o` offers only columns on screen, and the title names them as the header does.
#[test]
fn sorting_offers_only_the_columns_on_screen() {
    for (name, keys, events) in panes() {
        for cols in [80u16, 200] {
            let (mut s, request) = pane_state(&keys);
            feed(&mut s, request, events.clone());
            let mut seen = 0;
            for _ in 0..20 {
                update(&mut s, Action::Command(Command::SortNext));
                let screen = render(&mut s, cols, 30);
                let Some(at) = screen.find("sort: ") else {
                    break;
                };
                let sorted_by: String = screen[at + 6..]
                    .chars()
                    .take_while(|c| *c != '↑' && *c != '↓')
                    .collect::<String>()
                    .trim()
                    .to_uppercase();
                // The header row is the line under the table's title.
                let lines: Vec<&str> = screen.lines().collect();
                let title = lines.iter().position(|l| l.contains("sort: ")).unwrap();
                let header = lines.get(title + 1).copied().unwrap_or_default();
                assert!(
                    header.contains(&sorted_by),
                    "{name} at {cols}: sorted by {sorted_by:?}, not a header on screen:\n{screen}"
                );
                seen += 1;
            }
            assert!(seen >= 2, "{name} at {cols}: {seen} sort columns");
        }
    }
}

/// A column is filtered by the header the screen shows, by what it shows (an age) or by its
/// value (the UTC time).
#[test]
fn headers_on_screen_name_the_columns_filters_use() {
    for (name, keys, events, filter, kept, gone) in [
        (
            "tasks",
            vec![Command::ToggleStopped],
            vec![DataEvent::Tasks(tasks()), DataEvent::Done],
            "age:15m",
            "10.0.1.21",
            "10.0.2.7",
        ),
        (
            "events",
            vec![Command::ShowEvents],
            vec![DataEvent::Services(vec![checkout()]), DataEvent::Done],
            "age:50s",
            "has started 2 tasks",
            "deployment failed",
        ),
    ] {
        let (mut s, request) = pane_state(&keys);
        feed(&mut s, request, events);
        let before = render(&mut s, 200, 40);
        assert!(
            before.contains(kept) && before.contains(gone),
            "{name}:\n{before}"
        );
        type_filter(&mut s, filter);
        let after = render(&mut s, 200, 40);
        assert!(
            after.contains(kept),
            "{name} {filter} lost {kept}:\n{after}"
        );
        assert!(
            !after.contains(gone),
            "{name} {filter} kept {gone}:\n{after}"
        );
    }
}
