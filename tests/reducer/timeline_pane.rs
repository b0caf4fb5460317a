//! The timeline view and Markdown export in the reducer: a snapshot of a rollout that failed
//! and rolled back at 80x24, the window cycling, and hostile text made safe in the exported
//! Markdown (no escape sequences, `|` escaped, one line per row).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth::app::timeline::TimelineData;
use berth::app::{Action, Command, Effect, State, View, update};
use berth::domain::timeline::ErrorMinute;
use berth::domain::{Container, Deployment, Service, ServiceEvent, Task};

use crate::{reducer, screen};

const NOW: i64 = 1_700_000_000;

fn service() -> Service {
    Service {
        name: "checkout-api".into(),
        deployments: vec![Deployment {
            id: "ecs-svc/222".into(),
            status: "PRIMARY".into(),
            rollout_state: Some("FAILED".into()),
            rollout_state_reason: Some("tasks failed to start".into()),
            task_definition: "checkout-api:44".into(),
            desired: 4,
            created_at: Some(NOW - 1500),
            updated_at: Some(NOW - 600),
            ..Deployment::default()
        }],
        events: vec![
            ServiceEvent {
                id: "2".into(),
                created_at: Some(NOW - 590),
                message: "(service checkout-api) rolling back to deployment ecs-svc/111.".into(),
            },
            ServiceEvent {
                id: "1".into(),
                created_at: Some(NOW - 120),
                message: "(service checkout-api) has reached a steady state.".into(),
            },
        ],
        ..Service::default()
    }
}

fn crashed(id: &str, at: i64) -> Task {
    Task {
        arn: format!("arn:aws:ecs:eu-west-1:1:task/prod/{id}"),
        id: id.into(),
        last_status: "STOPPED".into(),
        stop_code: Some("EssentialContainerExited".into()),
        stopped_reason: Some("Essential container in task exited".into()),
        started_at: Some(at - 5),
        stopped_at: Some(at),
        containers: vec![Container {
            name: "app".into(),
            exit_code: Some(1),
            ..Container::default()
        }],
        ..Task::default()
    }
}

fn state() -> State {
    let mut s = reducer::connected(NOW, None, false, false);
    s.views
        .push(View::Deployments(berth::app::nav::service_view(
            "prod",
            "checkout-api",
        )));
    s
}

fn load(s: &mut State, data: TimelineData) {
    let effects = update(s, Action::Command(Command::Refresh));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadTimeline { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{effects:?}"));
    update(
        s,
        Action::TimelineLoaded {
            request,
            result: Ok(Box::new(data)),
        },
    );
}

#[test]
fn a_failed_rollout_on_one_axis() {
    let mut s = state();
    let effects = update(&mut s, Action::Command(Command::ShowTimeline));
    let [
        Effect::LoadTimeline {
            from_ms,
            to_ms,
            service: name,
            ..
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(name, "checkout-api");
    assert_eq!(to_ms - from_ms, 3_600_000, "one hour by default");
    assert!(render(&mut s).contains("Reading deployments, events, stopped tasks"));
    load(
        &mut s,
        TimelineData {
            service: Some(service()),
            stopped: vec![
                crashed("aaaaaaaa11", NOW - 900),
                crashed("bbbbbbbb22", NOW - 880),
            ],
            errors: vec![ErrorMinute {
                minute: NOW - 960,
                count: 31,
                example: "missing required configuration PAYMENTS_BASE_URL".into(),
            }],
            history: Vec::new(),
            scaling: None,
            error_lines: 31,
            notes: Vec::new(),
        },
    );
    let screen = render(&mut s);
    insta::assert_snapshot!("timeline_80x24", screen);
    let View::Timeline(v) = s.view() else {
        unreachable!()
    };
    let kinds: Vec<&str> = v.entries.iter().map(|e| e.kind.label()).collect();
    assert_eq!(
        kinds,
        vec!["event", "event", "deploy", "stop", "errors", "deploy"],
        "{:?}",
        v.entries
    );
    // ] widens the window and reloads
    let effects = update(&mut s, Action::Command(Command::CycleWindow));
    assert!(
        matches!(effects.as_slice(), [Effect::LoadTimeline { from_ms, to_ms, .. }] if to_ms - from_ms == 3 * 3_600_000)
    );
    assert!(render(&mut s).contains("timeline 3h"));
}

#[test]
fn exported_markdown_is_safe_to_paste() {
    let mut s = state();
    update(&mut s, Action::Command(Command::ShowTimeline));
    let mut svc = service();
    svc.events.push(ServiceEvent {
        id: "3".into(),
        created_at: Some(NOW - 60),
        message: "evil | \u{1b}]52;c;aGk=\u{7}\u{1b}[2J\nsecond line".into(),
    });
    load(
        &mut s,
        TimelineData {
            service: Some(svc),
            ..TimelineData::default()
        },
    );
    let effects = update(&mut s, Action::Command(Command::Export));
    let [Effect::WriteFile { contents, path, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert!(path.to_string_lossy().ends_with(".md"));
    let md = String::from_utf8(contents.clone()).unwrap();
    assert!(!md.contains('\u{1b}'), "escape in the export: {md:?}");
    assert!(!md.contains('\u{7}'));
    let evil = md.lines().find(|l| l.contains("evil")).unwrap();
    assert!(evil.contains("evil \\| "), "{evil}");
    assert!(evil.contains("second line"), "one row, one line: {evil}");
    assert!(evil.ends_with(" |"), "{evil}");

    // Any table exports too: the deployments view, as filtered on screen.
    update(&mut s, Action::Command(Command::Back));
    let effects = update(&mut s, Action::Command(Command::Export));
    let [Effect::WriteFile { contents, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    let md = String::from_utf8(contents.clone()).unwrap();
    assert!(
        md.starts_with("## prod › checkout-api › deployments\n"),
        "{md}"
    );
    assert!(md.contains("| ID | STATUS | ROLLOUT |"), "{md}");
}

fn render(s: &mut State) -> String {
    reducer::screen(s, "mono", 80, 24)
}

/// The foreground colour of the first cell of `needle` on the 120x30 screen, default theme.
fn colour_of(s: &mut State, needle: &str) -> ratatui::style::Color {
    let buffer = screen::draw(s, &screen::theme("default"), 120, 30);
    for y in 0..30 {
        let row: String = (0..120).map(|x| buffer[(x, y)].symbol()).collect();
        if let Some(at) = row.find(needle) {
            let x = row[..at].chars().count() as u16;
            return buffer[(x, y)].fg;
        }
    }
    panic!("{needle:?} not on screen")
}

#[test]
fn an_event_has_one_colour_on_every_screen() {
    // How ECS words a target that times out: no "fail" in it.
    let unhealthy = "(port 8080) is unhealthy in target-group tg due to (reason Request timed out)";
    let mut svc = service();
    svc.events = vec![
        // The newest row is the selected one on the timeline: not the one compared.
        ServiceEvent {
            id: "10".into(),
            created_at: Some(NOW - 10),
            message: "(service checkout-api) has started 1 tasks: (task 1a2b).".into(),
        },
        ServiceEvent {
            id: "9".into(),
            created_at: Some(NOW - 30),
            message: format!("(service checkout-api) {unhealthy}."),
        },
    ];
    let mut s = state();
    let effects = update(&mut s, Action::Command(Command::Refresh));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadService { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{effects:?}"));
    for event in [
        berth::app::DataEvent::Services(vec![svc.clone()]),
        berth::app::DataEvent::Done,
    ] {
        update(&mut s, Action::Data { request, event });
    }
    let on_deployments = colour_of(&mut s, "is unhealthy");
    update(&mut s, Action::Command(Command::ShowTimeline));
    load(
        &mut s,
        TimelineData {
            service: Some(svc),
            ..TimelineData::default()
        },
    );
    let on_timeline = colour_of(&mut s, "is unhealthy");
    assert_eq!(on_deployments, on_timeline);
    let error = screen::theme("default")
        .style(berth::config::theme::Slot::Error)
        .fg;
    assert_eq!(Some(on_timeline), error, "an unhealthy target is an error");
}
