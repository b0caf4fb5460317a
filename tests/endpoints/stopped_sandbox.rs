//! The stopped-tasks view on the sandbox's drills, through the console's reducer and effect
//! runner: each drill's failing service shows its cause as the top problem group, and enter
//! lists exactly the tasks of that cause.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth::app::{Action, Command, View};
use berth::domain::stop_cause::{StopCause, classify};
use berth::sandbox::{self, SandboxOptions, Scenario};

use crate::common::console::{Console, loaded, on_service, refresh_until};

async fn drill(scenario: Scenario, service: &str, cause: StopCause) {
    let handle = sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            scenario,
            speed: 60.0,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let mut console = Console::new(&handle);
    on_service(&mut console, "prod", service).await;
    console.apply(Action::Command(Command::ShowStopCauses));
    refresh_until(
        &mut console,
        &format!("{service}: {}", cause.title()),
        |s| {
            matches!(s.view(), View::Stopped(v) if v.table.visible.first()
            .and_then(|&i| v.groups.get(i))
            .is_some_and(|g| g.cause == cause))
        },
    )
    .await;
    // The selection follows its row across refreshes: go to the top group.
    console.apply(Action::Command(Command::Top));
    let screen = console.screen();
    assert!(screen.contains("why tasks stopped"), "{screen}");
    assert!(screen.contains(cause.hint()), "the fix is shown:\n{screen}");
    // Enter: exactly the stopped tasks of that cause.
    console.apply(Action::Command(Command::Select));
    console.until("tasks of the cause", loaded).await;
    let View::Tasks(v) = console.state.view() else {
        panic!("{}", console.screen());
    };
    assert_eq!(v.cause, Some(cause));
    assert!(!v.data.rows.is_empty());
    for t in &v.data.rows {
        assert_eq!(t.last_status, "STOPPED");
        assert_eq!(classify(t), cause, "{t:?}");
    }
    assert!(
        console
            .screen()
            .contains(&format!("stopped: {}", cause.title()))
    );
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oom_drill() {
    drill(Scenario::Oom, "payments-worker", StopCause::OutOfMemory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_pull_drill() {
    drill(Scenario::ImagePull, "orders-api", StopCause::ImagePull).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_drill() {
    drill(
        Scenario::Secrets,
        "notifications-worker",
        StopCause::ResourceInitialization,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elb_health_drill() {
    drill(Scenario::ElbHealth, "search-api", StopCause::ElbHealthCheck).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_deploy_drill() {
    drill(Scenario::BadDeploy, "checkout-api", StopCause::CrashOnStart).await;
}
