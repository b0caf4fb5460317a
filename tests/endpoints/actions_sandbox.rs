//! Mutating actions end to end through the console's reducer and effect runner against the
//! sandbox: force a new deployment (and follow it to COMPLETED), stop a task with a reason,
//! roll back a failed rollout, and read-only mode sending zero mutating requests (counted by
//! the sandbox) while every action is tried. Each writes (or refuses into) the audit log.
//! Loops are bounded by message counts and refreshes; time is never asserted.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use berth::app::{Action, Command, Effect, State, View, update};
use berth::domain::mutation::Mutation;
use berth::sandbox::{self, SandboxHandle, SandboxOptions, Scenario};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::common::console::{Console, key, loaded, on_service, refresh_until, type_text};

async fn start(scenario: Scenario) -> SandboxHandle {
    sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            scenario,
            speed: 60.0,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap()
}

fn status(state: &State) -> String {
    state
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

fn audit_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn ecs(handle: &SandboxHandle) -> aws_sdk_ecs::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(handle.endpoint_url())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ecs::config::Credentials::new(
            sandbox::DEMO_ACCESS_KEY_ID,
            sandbox::DEMO_SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .load()
        .await;
    aws_sdk_ecs::Client::new(&config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_new_deployment_completes_followed_and_audited() {
    let handle = start(Scenario::Steady).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("state/audit.jsonl");
    let mut console = Console::with(&handle, false, Some(audit.clone()));
    on_service(&mut console, "prod", "checkout-api").await;
    console
        .until("identity", |s| {
            matches!(s.session.identity, berth::app::IdentityState::Known(_))
        })
        .await;
    console.apply(Action::Command(Command::ForceDeploy));
    let dialog = console.state.dialog.clone().expect("a confirmation dialog");
    assert_eq!(
        dialog.mutation,
        Mutation::ForceNewDeployment {
            cluster: "prod".into(),
            service: "checkout-api".into()
        }
    );
    let text = dialog.lines.join("\n");
    assert!(text.contains("account 123456789012"), "{text}");
    assert!(
        text.contains("PRIMARY"),
        "the current deployments are named: {text}"
    );
    let screen = console.screen();
    assert!(screen.contains("Force new deployment"), "{screen}");
    handle.reset_stats();
    console.apply(key(KeyCode::Char('y')));
    console
        .until("the answer", |s| {
            status(s).contains("new deployment started")
        })
        .await;
    assert!(
        matches!(console.state.view(), View::Deployments(v) if v.service == "checkout-api"),
        "follows the rollout in the deployments pane"
    );
    refresh_until(&mut console, "rollout COMPLETED in the status bar", |s| {
        status(s).contains("new deployment COMPLETED")
    })
    .await;
    assert_eq!(handle.stats().count("ecs:UpdateService"), 1);

    // The API agrees: a new PRIMARY deployment, COMPLETED.
    let api = ecs(&handle).await;
    let out = api
        .describe_services()
        .cluster("prod")
        .services("checkout-api")
        .send()
        .await
        .unwrap();
    let svc = &out.services()[0];
    let primary = svc
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .unwrap();
    assert_eq!(
        primary.rollout_state().map(|r| r.as_str()),
        Some("COMPLETED")
    );

    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["action"], "force_new_deployment");
    assert_eq!(lines[0]["outcome"], "ok");
    assert_eq!(lines[0]["target"], "service prod/checkout-api");
    assert_eq!(lines[0]["account"], "123456789012");
    assert!(lines[0]["caller"].as_str().unwrap().starts_with("arn:aws:"));
    let mode = std::fs::metadata(&audit).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let raw = std::fs::read_to_string(&audit).unwrap();
    assert!(
        !raw.contains(sandbox::DEMO_SECRET_ACCESS_KEY) && !raw.to_lowercase().contains("token"),
        "{raw}"
    );
    // `:audit` lists it.
    console.apply(Action::Command(Command::CommandMode));
    type_text(&mut console, "audit");
    console.apply(key(KeyCode::Enter));
    console.until("audit loaded", loaded).await;
    let screen = console.screen();
    assert!(screen.contains("audit log"), "{screen}");
    assert!(
        screen.contains("force_new_deployment") && screen.contains("service prod/checkout-api"),
        "{screen}"
    );
    assert!(screen.contains("1 action in"), "{screen}");
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_task_stores_the_typed_reason() {
    let handle = start(Scenario::Steady).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut console = Console::with(&handle, false, Some(audit.clone()));
    on_service(&mut console, "prod", "checkout-api").await;
    console.apply(Action::Command(Command::ShowTasks));
    console.until("tasks loaded", loaded).await;
    console.apply(Action::Command(Command::StopTask));
    let dialog = console.state.dialog.clone().expect("a dialog");
    let Mutation::StopTask { task, reason, .. } = &dialog.mutation else {
        panic!("{dialog:?}");
    };
    assert!(
        reason.contains("berth"),
        "default reason names berth: {reason}"
    );
    let task = task.clone();
    // Replace the reason, confirm.
    console.apply(Action::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    type_text(&mut console, "drained by on-call during INC-42");
    console.apply(key(KeyCode::Enter));
    console
        .until("stopping", |s| status(s).contains("stopping"))
        .await;
    let api = ecs(&handle).await;
    let out = api
        .describe_tasks()
        .cluster("prod")
        .tasks(&task)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.tasks()[0].stopped_reason(),
        Some("drained by on-call during INC-42")
    );
    let lines = audit_lines(&audit);
    assert_eq!(lines[0]["action"], "stop_task");
    assert_eq!(
        lines[0]["parameters"]["reason"],
        "drained by on-call during INC-42"
    );
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roll_back_restores_the_last_completed_task_definition() {
    // image-pull: orders-api's new revision never starts; the old deployment keeps serving.
    let handle = start(Scenario::ImagePull).await;
    let mut console = Console::with(&handle, false, None);
    let dir = tempfile::tempdir().unwrap();
    console.runner.audit_path = Some(dir.path().join("audit.jsonl"));
    on_service(&mut console, "prod", "orders-api").await;
    console.apply(Action::Command(Command::Select));
    refresh_until(
        &mut console,
        "a FAILED rollout next to a COMPLETED one",
        |s| {
            matches!(s.view(), View::Deployments(v) if v.service().is_some_and(|svc| {
                berth::app::mutations::roll_back_target(svc).is_ok()
            }))
        },
    )
    .await;
    console.apply(Action::Command(Command::RollBack));
    let dialog = console.state.dialog.clone().expect("a dialog");
    let Mutation::RollBack { from, to, .. } = dialog.mutation.clone() else {
        panic!("{dialog:?}");
    };
    assert_ne!(from, to);
    console.apply(key(KeyCode::Enter));
    refresh_until(&mut console, "the rollback COMPLETED", |s| {
        status(s).contains("new deployment COMPLETED")
    })
    .await;
    let api = ecs(&handle).await;
    let out = api
        .describe_services()
        .cluster("prod")
        .services("orders-api")
        .send()
        .await
        .unwrap();
    let td = out.services()[0].task_definition().unwrap_or_default();
    assert!(td.ends_with(&format!("/{to}")), "{td} should be {to}");
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_sends_no_mutating_request_whatever_is_pressed() {
    let handle = start(Scenario::Steady).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut console = Console::with(&handle, true, Some(audit.clone()));
    on_service(&mut console, "prod", "checkout-api").await;
    let mutating: Vec<Command> = Command::ALL
        .iter()
        .copied()
        .filter(|c| c.is_mutating())
        .collect();
    assert_eq!(mutating.len(), 4);
    // Every action in every pane that offers one, by key as the keymap binds them.
    let keymap = console.state.keymap.clone();
    for pane in [
        Command::Back,
        Command::Select,
        Command::ShowTasks,
        Command::Select,
    ] {
        if pane != Command::Back {
            console.apply(Action::Command(pane));
            console.until("pane loaded", loaded).await;
        }
        let ctx = console.state.context();
        for cmd in &mutating {
            for k in keymap.keys_for(ctx, *cmd) {
                console.apply(Action::Key(KeyEvent::new(k.code(), k.modifiers())));
                assert!(console.state.dialog.is_none(), "{cmd:?} opened a dialog");
                assert!(status(&console.state).contains("read-only"), "{cmd:?}");
                // y / Enter after it must not do anything either.
                console.apply(key(KeyCode::Char('y')));
            }
        }
    }
    // Even a mutation that reached the runner (a reducer bug) is refused there.
    let actor = berth::app::mutations::actor(&console.state);
    console.runner.run(Effect::Mutate {
        mutation: Mutation::ForceNewDeployment {
            cluster: "prod".into(),
            service: "checkout-api".into(),
        },
        actor,
    });
    let answer = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match console.rx.recv().await {
                Some(Action::Mutated { result, .. }) => return result,
                Some(other) => {
                    update(&mut console.state, other);
                }
                None => panic!("channel closed"),
            }
        }
    })
    .await
    .unwrap();
    assert!(matches!(answer, Err(berth::app::Failure::Refused(why)) if why.contains("read-only")));
    let stats = handle.stats();
    assert_eq!(stats.count("ecs:UpdateService"), 0);
    assert_eq!(stats.count("ecs:StopTask"), 0);
    assert!(
        stats.requests.keys().all(|op| {
            [
                "List",
                "Describe",
                "Get",
                "FilterLogEvents",
                "StartLiveTail",
            ]
            .iter()
            .any(|p| op.split(':').nth(1).unwrap_or("").starts_with(p))
        }),
        "only reads: {:?}",
        stats.requests
    );
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["outcome"], "refused");
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_profile_in_the_config_is_enforced_by_the_runner_too() {
    let handle = start(Scenario::Steady).await;
    let dir = tempfile::tempdir().unwrap();
    let mut console = Console::with(&handle, false, Some(dir.path().join("audit.jsonl")));
    console.runner.safety = berth::config::safety::Safety::from_toml_str(
        "[profiles.default]\nread_only = true\n",
        "config.toml",
    )
    .unwrap();
    console.until("connected", |s| s.session.connected).await;
    // The reducer was not told (as if its state were stale): the runner still refuses.
    let actor = berth::app::mutations::actor(&console.state);
    console.runner.run(Effect::Mutate {
        mutation: Mutation::StopTask {
            cluster: "prod".into(),
            task: "arn:aws:ecs:us-east-1:123456789012:task/prod/x".into(),
            reason: "test".into(),
        },
        actor,
    });
    let answer = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Some(Action::Mutated { result, .. }) = console.rx.recv().await {
                return result;
            }
        }
    })
    .await
    .unwrap();
    assert!(matches!(answer, Err(berth::app::Failure::Refused(why)) if why.contains("read-only")));
    assert_eq!(handle.stats().count("ecs:StopTask"), 0);
    handle.shutdown().await;
}
