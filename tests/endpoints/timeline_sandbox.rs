//! The incident timeline on the sandbox's bad-deploy drill, through the console's reducer and
//! effect runner: the failed rollout, the rollback, the crashing tasks (grouped by cause) and
//! the error lines land on one axis, newest first; `]` widens the window; `E` exports the
//! same entries as Markdown.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use berth::app::{Action, Command, Effect, View, update};
use berth::domain::timeline::Kind;
use berth::sandbox::{self, SandboxOptions, Scenario};

use crate::common::console::{Console, on_service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_deploy_reads_as_one_timeline() {
    let handle = sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            scenario: Scenario::BadDeploy,
            speed: 60.0,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let mut console = Console::new(&handle);
    on_service(&mut console, "prod", "checkout-api").await;
    console.apply(Action::Command(Command::ShowTimeline));
    assert!(matches!(console.state.view(), View::Timeline(_)));

    let has = |console: &Console, kind: Kind, text: &str| match console.state.view() {
        View::Timeline(v) => v
            .entries
            .iter()
            .any(|e| e.kind == kind && e.text.contains(text)),
        _ => false,
    };
    let mut done = false;
    for _ in 0..300 {
        console.apply(Action::Tick {
            now_unix: handle.virtual_now_ms() / 1000,
        });
        console.apply(Action::Command(Command::Refresh));
        // until this load answers
        loop {
            let a = tokio::time::timeout(Duration::from_secs(60), console.rx.recv())
                .await
                .unwrap()
                .unwrap();
            let last = matches!(a, Action::TimelineLoaded { .. });
            console.apply(a);
            if last {
                break;
            }
        }
        if has(&console, Kind::Deployment, "failed")
            && has(&console, Kind::Stop, "stopped")
            && has(&console, Kind::Event, "rolling back")
        {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let screen = console.screen();
    assert!(done, "the drill never showed on the timeline:\n{screen}");
    let View::Timeline(v) = console.state.view() else {
        unreachable!()
    };
    assert!(
        v.entries.windows(2).all(|w| w[0].at >= w[1].at),
        "newest first"
    );
    let from = v.to - v.window_secs;
    assert!(v.entries.iter().all(|e| e.at >= from && e.at <= v.to));
    let data = v.data.as_ref().unwrap();
    assert!(
        data.error_lines > 0,
        "the crashing revision logs errors: {:?}",
        data.notes
    );
    assert!(screen.contains("timeline 1h"), "{screen}");
    assert!(screen.contains("deploy"), "{screen}");

    // E: the same entries, as Markdown (checked without writing into the repository).
    let effects = update(&mut console.state, Action::Command(Command::Export));
    let [
        Effect::WriteFile {
            path,
            contents,
            message,
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    let md = String::from_utf8(contents.clone()).unwrap();
    assert!(
        path.to_string_lossy()
            .starts_with("berth-prod-checkout-api-timeline-1h-"),
        "{path:?}"
    );
    assert!(path.to_string_lossy().ends_with(".md"));
    assert!(md.starts_with("## Timeline: checkout-api (prod)"), "{md}");
    let rows = md.lines().filter(|l| l.starts_with("| 2")).count();
    let View::Timeline(v) = console.state.view() else {
        unreachable!()
    };
    assert_eq!(rows, v.entries.len(), "{md}");
    assert!(
        message.contains(&format!("{} rows", v.entries.len())),
        "{message}"
    );

    // ]: a wider window, reloaded.
    let effects = update(&mut console.state, Action::Command(Command::CycleWindow));
    assert!(
        effects.iter().any(|e| matches!(e, Effect::LoadTimeline { from_ms, to_ms, .. } if to_ms - from_ms == 3 * 3_600_000)),
        "{effects:?}"
    );
    handle.shutdown().await;
}
