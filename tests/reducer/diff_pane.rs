//! The task-definition diff pane in the reducer: `D` on a deployment asks for its revision and
//! the one it replaced; two task definitions built here (an image tag and an environment
//! variable changed, a secret kept) come back as the diff, changed lines first; snapshots at
//! 80x24 (unified) and 200x50 (side by side); `:diff` names revisions; `E` exports Markdown.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth::app::pane::{PaneData, PaneLoad};
use berth::app::{Action, Command, DataEvent, Effect, State, View, update};
use berth::domain::{Deployment, Service};
use crossterm::event::KeyCode;
use serde_json::{Value, json};

use crate::{reducer, screen};

const NOW: i64 = 1_700_000_000;
const ARN: &str = "arn:aws:ecs:eu-west-1:210987654321:task-definition/checkout-api";

fn service() -> Service {
    let d = |id: &str, status: &str, rev: u32, age: i64| Deployment {
        id: id.into(),
        status: status.into(),
        rollout_state: Some("IN_PROGRESS".into()),
        task_definition: format!("{ARN}:{rev}"),
        desired: 4,
        created_at: Some(NOW - age),
        updated_at: Some(NOW - age),
        ..Deployment::default()
    };
    Service {
        name: "checkout-api".into(),
        arn: "arn:aws:ecs:eu-west-1:210987654321:service/prod/checkout-api".into(),
        task_definition: format!("{ARN}:43"),
        deployments: vec![
            d("ecs-svc/43", "PRIMARY", 43, 300),
            d("ecs-svc/42", "ACTIVE", 42, 86_400),
        ],
        ..Service::default()
    }
}

/// A DescribeTaskDefinition answer as ECS sends it.
fn task_definition(rev: u32, tag: &str, env: Value) -> Value {
    json!({"taskDefinition": {
        "taskDefinitionArn": format!("{ARN}:{rev}"),
        "family": "checkout-api", "revision": rev, "cpu": "512", "memory": "1024",
        "networkMode": "awsvpc",
        "registeredAt": 1_699_990_000.123,
        "registeredBy": "arn:aws:sts::210987654321:assumed-role/deploy/ci-4711",
        "containerDefinitions": [{
            "name": "app",
            "image": format!("210987654321.dkr.ecr.eu-west-1.amazonaws.com/checkout-api:{tag}"),
            "essential": true,
            "environment": env,
            "secrets": [{"name": "DB_PASSWORD",
                         "valueFrom": "arn:aws:secretsmanager:eu-west-1:210987654321:secret:prod/db-AbC"}],
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]
        }]
    }})
}

fn old_and_new() -> (Value, Value) {
    (
        task_definition(
            42,
            "v42",
            json!([{"name": "PAYMENTS_BASE_URL", "value": "https://payments.internal"},
                   {"name": "LOG_LEVEL", "value": "info"}]),
        ),
        task_definition(43, "v43", json!([{"name": "LOG_LEVEL", "value": "info"}])),
    )
}

/// Connected, on the deployments of prod/checkout-api, loaded.
fn on_deployments() -> State {
    let mut s = reducer::signed_in(NOW, None, false, false);
    s.views
        .push(View::Deployments(berth::app::nav::service_view(
            "prod",
            "checkout-api",
        )));
    let effects = update(&mut s, Action::Command(Command::Refresh));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadService { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{effects:?}"));
    for event in [DataEvent::Services(vec![service()]), DataEvent::Done] {
        update(&mut s, Action::Data { request, event });
    }
    s
}

/// The pane's load: (request, old, new).
fn load_of(effects: &[Effect]) -> (u64, String, String) {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadPane {
                request,
                load: PaneLoad::TaskDefinitions { old, new },
            } => Some((*request, old.clone(), new.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no task definition load in {effects:?}"))
}

fn answer(s: &mut State, request: u64, old: Value, new: Value) {
    update(
        s,
        Action::PaneLoaded {
            request,
            result: Ok(PaneData::TaskDefinitions { old, new }),
        },
    );
}

#[test]
fn d_on_a_deployment_diffs_it_against_the_one_it_replaced() {
    let mut s = on_deployments();
    // the newest deployment is selected first
    let effects = reducer::key(&mut s, KeyCode::Char('D'));
    let (request, old, new) = load_of(&effects);
    assert_eq!(old, format!("{ARN}:42"));
    assert_eq!(new, format!("{ARN}:43"));
    assert!(s.is_loading(), "the spinner runs while both load");
    let (a, b) = old_and_new();
    answer(&mut s, request, a, b);

    let screen = reducer::screen(&mut s, "default", 80, 24);
    insta::assert_snapshot!("diff_80x24", screen);
    assert!(screen.contains("prod › checkout-api › diff 42 → 43"));
    // changed lines first: the tag, then the variable that went away
    let tag = screen.find("- image tag: v42").expect("old tag");
    let tag_new = screen.find("+ image tag: v43").expect("new tag");
    let removed = screen
        .find("- environment PAYMENTS_BASE_URL: https://payments.internal")
        .expect("the removed variable");
    assert!(tag < tag_new && tag_new < removed, "{screen}");
    assert!(
        !screen.contains("LOG_LEVEL") && !screen.contains("DB_PASSWORD"),
        "unchanged lines are collapsed: {screen}"
    );
    assert!(screen.contains("unchanged (enter shows them)"));

    let wide = reducer::screen(&mut s, "default", 200, 50);
    insta::assert_snapshot!("diff_200x50", wide);
    let row = wide
        .lines()
        .find(|l| l.contains("environment PAYMENTS_BASE_URL"))
        .unwrap();
    assert!(
        row.contains("https://payments.internal") && row.contains("(absent)"),
        "side by side: before and after on one row: {row}"
    );

    // enter: the unchanged lines too, the secret by name and ARN
    reducer::key(&mut s, KeyCode::Enter);
    let expanded = reducer::screen(&mut s, "default", 200, 50);
    assert!(expanded.contains("secret DB_PASSWORD"), "{expanded}");
    assert!(expanded.contains("secret:prod/db-AbC"));
    assert!(expanded.contains("environment LOG_LEVEL"));
}

#[test]
fn the_export_is_markdown_with_the_changes_and_no_escape_sequences() {
    let mut s = on_deployments();
    let (request, ..) = load_of(&reducer::key(&mut s, KeyCode::Char('D')));
    let (a, mut b) = old_and_new();
    // a hostile value: an escape sequence and a pipe
    b["taskDefinition"]["containerDefinitions"][0]["environment"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "BANNER", "value": "hi\u{1b}]0;pwned\u{7}|x"}));
    answer(&mut s, request, a, b);
    let effects = reducer::key(&mut s, KeyCode::Char('E'));
    let Some(Effect::WriteFile { contents, path, .. }) = effects.first() else {
        panic!("{effects:?}");
    };
    let md = String::from_utf8(contents.clone()).unwrap();
    assert!(path.to_string_lossy().contains("diff-42-43"), "{path:?}");
    assert!(md.starts_with("## Task definition diff: checkout-api:42 → checkout-api:43"));
    assert!(md.contains(
        "| container app | environment PAYMENTS_BASE_URL | removed | https://payments.internal |  |"
    ));
    assert!(
        md.contains("| container app | image tag | changed | v42 | v43 |"),
        "{md}"
    );
    assert!(md.contains("by assumed-role/deploy/ci-4711") || md.contains("by arn:aws:sts"));
    assert!(!md.contains('\u{1b}') && !md.contains('\u{7}'), "{md:?}");
    assert!(md.contains("\\|x"), "a pipe in a value is escaped: {md}");
}

#[test]
fn the_command_line_names_revisions() {
    let mut s = on_deployments();
    let run = |s: &mut State, line: &str| {
        update(s, Action::Command(Command::CommandMode));
        reducer::typed(s, line);
        reducer::key(s, KeyCode::Enter)
    };
    // one revision: against the one before it, in the service's family
    let (_, old, new) = load_of(&run(&mut s, "diff 43"));
    assert_eq!(
        (old.as_str(), new.as_str()),
        ("checkout-api:42", "checkout-api:43")
    );
    reducer::key(&mut s, KeyCode::Esc);
    let (_, old, new) = load_of(&run(&mut s, "diff 40 43"));
    assert_eq!(
        (old.as_str(), new.as_str()),
        ("checkout-api:40", "checkout-api:43")
    );
    reducer::key(&mut s, KeyCode::Esc);
    let (_, old, new) = load_of(&run(&mut s, "diff other:3 other:9"));
    assert_eq!((old.as_str(), new.as_str()), ("other:3", "other:9"));
    reducer::key(&mut s, KeyCode::Esc);
    // refused, with the reason, and nothing loaded
    let effects = run(&mut s, "diff 1");
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::LoadPane { .. })),
        "{effects:?}"
    );
    let said = s
        .input
        .as_ref()
        .and_then(|i| i.error.clone())
        .unwrap_or_else(|| reducer::status(&s));
    assert!(said.contains("first revision"), "{said}");
}

#[test]
fn a_failed_load_says_so_and_ctrl_r_tries_again() {
    let mut s = on_deployments();
    let (request, ..) = load_of(&reducer::key(&mut s, KeyCode::Char('D')));
    update(
        &mut s,
        Action::PaneLoaded {
            request,
            result: Err(berth::app::Failure::Local(
                "ClientException: Unable to describe task definition.".into(),
            )),
        },
    );
    let screen = reducer::screen(&mut s, "default", 80, 24);
    assert!(
        screen.contains("could not load the task definitions: ClientException"),
        "{screen}"
    );
    let (again, ..) = load_of(&update(&mut s, Action::Command(Command::Refresh)));
    assert_ne!(again, request);
    // an answer to the old request changes nothing now
    let (a, b) = old_and_new();
    answer(&mut s, request, a, b);
    assert!(s.is_loading());
    let _ = screen::text;
}

/// The foreground colour of the first cell of `needle` at 80x24 in `theme`.
fn colour_of(s: &mut State, theme: &str, needle: &str) -> ratatui::style::Color {
    let buffer = screen::draw(s, &screen::theme(theme), 80, 24);
    for y in 0..24 {
        let row: String = (0..80).map(|x| buffer[(x, y)].symbol()).collect();
        if let Some(at) = row.find(needle) {
            let x = row[..at].chars().count() as u16;
            return buffer[(x, y)].fg;
        }
    }
    panic!("{needle:?} not on screen")
}

#[test]
fn removed_lines_read_as_errors_added_as_success_and_mono_keeps_the_marks() {
    use berth::config::theme::Slot;
    let mut s = on_deployments();
    let (request, ..) = load_of(&reducer::key(&mut s, KeyCode::Char('D')));
    let (a, b) = old_and_new();
    answer(&mut s, request, a, b);
    let theme = screen::theme("default");
    assert_eq!(
        Some(colour_of(
            &mut s,
            "default",
            "- environment PAYMENTS_BASE_URL"
        )),
        theme.style(Slot::Error).fg
    );
    assert_eq!(
        Some(colour_of(&mut s, "default", "+ image tag")),
        theme.style(Slot::Success).fg
    );
    // without colour the marks carry it
    let mono = reducer::screen(&mut s, "mono", 80, 24);
    assert!(mono.contains("  - environment PAYMENTS_BASE_URL"), "{mono}");
    assert!(mono.contains("  + image tag: v43"));
}
