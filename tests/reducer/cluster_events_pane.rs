//! The cluster's event feed: `e` on a cluster loads every service of it and merges their
//! events newest first; `:events all` on a freshly loaded services view reuses its events
//! instead of loading; `/` narrows it; `enter` opens the event's service; a snapshot at 80x24.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use berth::app::pane::{PaneData, PaneLoad};
use berth::app::{Action, Command, DataEvent, Effect, State, View, update};
use berth::domain::{Cluster, Service, ServiceEvent};

use crate::{reducer, screen};

const NOW: i64 = 1_700_000_000;

fn event(service: &str, n: usize, age: i64, message: &str) -> ServiceEvent {
    ServiceEvent {
        id: format!("{service}-{n}"),
        created_at: Some(NOW - age),
        message: format!("(service {service}) {message}"),
    }
}

fn service(name: &str, events: Vec<ServiceEvent>) -> Service {
    Service {
        arn: format!("arn:aws:ecs:eu-west-1:210987654321:service/prod/{name}"),
        name: name.into(),
        status: "ACTIVE".into(),
        desired: 2,
        running: 2,
        task_definition: format!("{name}:3"),
        events,
        ..Service::default()
    }
}

/// Two services whose events interleave in time.
fn services() -> Vec<Service> {
    vec![
        service(
            "checkout-api",
            vec![
                event("checkout-api", 0, 60, "has reached a steady state."),
                event(
                    "checkout-api",
                    1,
                    600,
                    "(port 8080) is unhealthy in target-group tg due to (reason Health checks failed).",
                ),
                event("checkout-api", 2, 3000, "has started 2 tasks: (task 1a2b)."),
            ],
        ),
        service(
            "payments",
            vec![
                event(
                    "payments",
                    0,
                    120,
                    "was unable to place a task because no container instance met all of its requirements.",
                ),
                event(
                    "payments",
                    1,
                    1200,
                    "has stopped 1 running tasks: (task 9f8e).",
                ),
            ],
        ),
    ]
}

fn with_clusters() -> State {
    let mut s = reducer::unconnected(NOW, Some("prod"), false, false);
    let effects = reducer::connect(&mut s);
    reducer::sign_in(&mut s);
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadClusters { request } => Some(*request),
            _ => None,
        })
        .expect("clusters load");
    for event in [
        DataEvent::Clusters(vec![Cluster {
            arn: "arn:aws:ecs:eu-west-1:210987654321:cluster/prod".into(),
            name: "prod".into(),
            status: "ACTIVE".into(),
            active_services: 2,
            ..Cluster::default()
        }]),
        DataEvent::Done,
    ] {
        update(&mut s, Action::Data { request, event });
    }
    s
}

fn pane_load(effects: &[Effect]) -> Option<(u64, PaneLoad)> {
    effects.iter().find_map(|e| match e {
        Effect::LoadPane { request, load } => Some((*request, load.clone())),
        _ => None,
    })
}

/// `e` on the prod cluster, answered with `services()`.
fn feed_loaded() -> State {
    let mut s = with_clusters();
    let effects = update(&mut s, Action::Command(Command::ShowEvents));
    let (request, load) = pane_load(&effects).expect("the feed loads the cluster's services");
    assert_eq!(
        load,
        PaneLoad::ClusterServices {
            cluster: "prod".into()
        }
    );
    update(
        &mut s,
        Action::PaneLoaded {
            request,
            result: Ok(PaneData::Services(services())),
        },
    );
    s
}

/// The feed's rows as exported: (service, message) in order.
fn rows(s: &State) -> Vec<(String, String)> {
    let (_, doc, _) = berth::app::export::markdown(s).expect("export");
    doc.lines()
        .filter(|l| l.starts_with("| 20"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[2].to_string(), cells[3].to_string())
        })
        .collect()
}

#[test]
fn cluster_feed_merges_every_services_events_newest_first() {
    let s = feed_loaded();
    let got: Vec<String> = rows(&s)
        .into_iter()
        .map(|(svc, msg)| format!("{svc}: {}", &msg[msg.find(") ").unwrap() + 2..]))
        .collect();
    assert_eq!(
        got,
        [
            "checkout-api: has reached a steady state.",
            "payments: was unable to place a task because no container instance met all of its requirements.",
            "checkout-api: (port 8080) is unhealthy in target-group tg due to (reason Health checks failed).",
            "payments: has stopped 1 running tasks: (task 9f8e).",
            "checkout-api: has started 2 tasks: (task 1a2b).",
        ]
    );
    let (_, doc, n) = berth::app::export::markdown(&s).unwrap();
    assert_eq!(n, 5);
    assert!(doc.contains("5 events of 2 services"), "{doc}");
}

#[test]
fn cluster_feed_filter_narrows_and_enter_opens_the_service() {
    let mut s = feed_loaded();
    update(&mut s, Action::Command(Command::Filter));
    reducer::typed(&mut s, "payments");
    update(&mut s, Action::Key(crossterm::event::KeyCode::Enter.into()));
    let got = rows(&s);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|(svc, _)| svc == "payments"));

    let effects = update(&mut s, Action::Command(Command::Select));
    match s.view() {
        View::Deployments(v) => assert_eq!(
            (v.cluster.as_str(), v.service.as_str()),
            ("prod", "payments")
        ),
        other => panic!("enter opened {other:?}"),
    }
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadService { service, .. } if service == "payments"))
    );
}

#[test]
fn cluster_feed_reuses_a_fresh_services_view_and_refreshes_itself_later() {
    let mut s = with_clusters();
    let effects = update(&mut s, Action::Command(Command::Select));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadServices { request, .. } => Some(*request),
            _ => None,
        })
        .expect("services load");
    for event in [DataEvent::Services(services()), DataEvent::Done] {
        update(&mut s, Action::Data { request, event });
    }
    let effects = berth::app::nav::run_command_line(&mut s, "events all").unwrap();
    assert!(
        pane_load(&effects).is_none(),
        "the services view's events are fresh: no load ({effects:?})"
    );
    assert_eq!(rows(&s).len(), 5);

    // A refresh interval later the feed loads the services itself.
    update(&mut s, Action::Tick { now_unix: NOW + 60 });
    let effects = update(&mut s, Action::RefreshDue);
    assert!(matches!(
        pane_load(&effects),
        Some((_, PaneLoad::ClusterServices { .. }))
    ));
}

#[test]
fn cluster_feed_80x24() {
    let mut s = feed_loaded();
    let theme = screen::theme("default");
    let buffer = screen::draw(&mut s, &theme, 80, 24);
    // The problem events are coloured by the one severity rule; the routine ones are not.
    let colour = |row: u16| buffer[(30, row)].fg;
    let error = theme.style(berth::config::theme::Slot::Error).fg.unwrap();
    assert_eq!(colour(5), error, "unable to place (payments)");
    assert_eq!(colour(6), error, "unhealthy (checkout-api)");
    assert_ne!(colour(8), error, "started tasks");
    insta::assert_snapshot!("cluster_events_80x24", screen::text(&buffer));
}

/// Control sequences a hostile event message, service name, group or startedBy could carry.
const HOSTILE: &str = "\u{1b}]52;c;cHduZWQ=\u{7}\u{1b}[2J\u{9b}31m\u{202e}";

fn no_controls(text: &str) -> bool {
    !text.chars().any(|c| {
        let u = c as u32;
        u == 0x1b || u == 0x07 || (0x80..=0x9f).contains(&u) || c == '\u{202e}'
    })
}

#[test]
fn cluster_feed_sanitises_event_messages_and_service_names() {
    let mut s = with_clusters();
    let effects = update(&mut s, Action::Command(Command::ShowEvents));
    let (request, _) = pane_load(&effects).unwrap();
    let evil = service(
        &format!("evil{HOSTILE}"),
        vec![event("evil", 0, 30, &format!("pwned {HOSTILE} done"))],
    );
    update(
        &mut s,
        Action::PaneLoaded {
            request,
            result: Ok(PaneData::Services(vec![evil])),
        },
    );
    for (cols, rows) in [(80, 24), (200, 50)] {
        let text = screen::text(&screen::draw(&mut s, &screen::theme("default"), cols, rows));
        assert!(text.contains("pwned"), "{text}");
        assert!(no_controls(&text), "{text:?}");
    }
    let (_, doc, _) = berth::app::export::markdown(&s).unwrap();
    assert!(doc.contains("pwned") && no_controls(&doc), "{doc:?}");
}

#[test]
fn cluster_tasks_show_group_and_started_by_sanitised_when_wide_enough() {
    use berth::domain::Task;
    let mut s = with_clusters();
    let effects = update(&mut s, Action::Command(Command::ShowEvents));
    let (request, _) = pane_load(&effects).unwrap();
    update(
        &mut s,
        Action::PaneLoaded {
            request,
            result: Ok(PaneData::Services(services())),
        },
    );
    // `t` in the feed: the cluster's tasks.
    let effects = update(&mut s, Action::Command(Command::ShowTasks));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadTasks {
                request,
                service: None,
                ..
            } => Some(*request),
            _ => None,
        })
        .expect("the cluster's tasks load");
    let task = |id: &str, group: &str, started_by: &str| Task {
        arn: format!("arn:aws:ecs:eu-west-1:210987654321:task/prod/{id}"),
        id: id.into(),
        group: Some(group.into()),
        started_by: Some(started_by.into()),
        last_status: "RUNNING".into(),
        desired_status: "RUNNING".into(),
        task_definition: "x:1".into(),
        started_at: Some(NOW - 60),
        ..Task::default()
    };
    let tasks = vec![
        task("aaaa1111", "service:checkout-api", "ecs-svc/123"),
        task(
            "bbbb2222",
            "family:nightly-reconcile",
            &format!("events-rule/x{HOSTILE}"),
        ),
    ];
    for event in [DataEvent::Tasks(tasks), DataEvent::Done] {
        update(&mut s, Action::Data { request, event });
    }
    let wide = screen::text(&screen::draw(&mut s, &screen::theme("default"), 200, 50));
    assert!(
        wide.contains("GROUP") && wide.contains("STARTED BY"),
        "{wide}"
    );
    assert!(wide.contains("family:nightly-reconcile"), "{wide}");
    assert!(wide.contains("events-rule/x"), "{wide}");
    assert!(no_controls(&wide), "{wide:?}");
    let narrow = screen::text(&screen::draw(&mut s, &screen::theme("default"), 80, 24));
    assert!(!narrow.contains("GROUP"), "{narrow}");
    assert!(no_controls(&narrow));
}

/// A background refresh of the feed is quiet: no spinner while it runs, no frame when it
/// brings the same events (an idle screen writes nothing). Seen in tmux: the title said
/// `⠹ loading` for good, redrawn every tick, after the first background reload.
#[test]
fn cluster_feed_background_refresh_shows_no_spinner_and_draws_nothing_when_unchanged() {
    let mut s = feed_loaded();
    update(&mut s, Action::Tick { now_unix: NOW + 60 });
    let effects = update(&mut s, Action::RefreshDue);
    let (request, _) = pane_load(&effects).expect("a background reload");
    assert!(!s.is_loading(), "no spinner for a background reload");
    s.dirty = false;
    update(&mut s, Action::Tick { now_unix: NOW + 61 });
    assert!(!s.dirty, "a tick during a quiet reload draws nothing");
    update(
        &mut s,
        Action::PaneLoaded {
            request,
            result: Ok(PaneData::Services(services())),
        },
    );
    assert!(!s.is_loading());
    assert!(!s.dirty, "the same events: nothing to draw");
    // asked for (ctrl-r): the spinner shows, and goes with the answer
    let effects = update(&mut s, Action::Command(Command::Refresh));
    let (request, _) = pane_load(&effects).expect("a reload");
    assert!(s.is_loading());
    s.dirty = false;
    update(
        &mut s,
        Action::PaneLoaded {
            request,
            result: Ok(PaneData::Services(services())),
        },
    );
    assert!(!s.is_loading());
    assert!(s.dirty, "the spinner on screen must go: a frame");
}
