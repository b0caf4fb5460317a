//! Deployment history (ListServiceDeployments, DescribeServiceDeployments,
//! DescribeServiceRevisions) on the sandbox through the real SDK and the console: the
//! bad-deploy drill's failed revision survives its rollback in the history, on the services
//! row and on the timeline; a denied history falls back to the live deployments; pages
//! follow nextToken; the blue/green drill shows its stage, a stuck stage, and a hook failure
//! rolled back.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_ecs::types::ServiceDeploymentStatus;
use berth::app::{Action, Command, State, View};
use berth::domain::history::{DeploymentStatus, HistoryDeployment, LifecycleStage};
use berth::domain::timeline::Kind;
use berth::sandbox::{Faults, SandboxHandle, SandboxOptions, Scenario};

use crate::common::console::{Console, loaded, on_service};
use crate::sandbox_support::{clients, start};

const DAY: i64 = 86_400;

async fn history(handle: &SandboxHandle, service: &str) -> Vec<HistoryDeployment> {
    let c = clients(&handle.endpoint_url()).await;
    let now = handle.virtual_now_ms() / 1000;
    let (found, _, _) =
        berth::aws::history::load(&c.ecs, "prod", service, now - DAY, &HashMap::new())
            .await
            .unwrap();
    found
}

/// Wait (on the sandbox's virtual clock) until `service`'s history has a deployment with
/// `status`.
async fn until_status(
    handle: &SandboxHandle,
    service: &str,
    status: DeploymentStatus,
) -> Vec<HistoryDeployment> {
    for _ in 0..400 {
        let h = history(handle, service).await;
        if h.iter().any(|d| d.status == status) {
            return h;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    panic!(
        "{service} never had a {status:?} deployment: {:#?}",
        history(handle, service).await
    );
}

/// Refresh the visible view with the console's clock on the sandbox's, until `done`.
async fn refresh_until(
    console: &mut Console,
    handle: &SandboxHandle,
    what: &str,
    done: impl Fn(&State) -> bool,
) {
    for _ in 0..300 {
        if done(&console.state) {
            return;
        }
        console.apply(Action::Tick {
            now_unix: handle.virtual_now_ms() / 1000,
        });
        console.apply(Action::Command(Command::Refresh));
        let deadline = tokio::time::sleep(Duration::from_millis(250));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                Some(a) = console.rx.recv() => console.apply(a),
                _ = &mut deadline => break,
            }
        }
    }
    panic!("never reached: {what}\n{}", console.screen());
}

fn history_of<'a>(state: &'a State, service: &str) -> Option<&'a berth::domain::history::History> {
    berth::app::history::of(state, "prod", service)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_failed_deploy_survives_its_rollback_in_history() {
    let handle = start(SandboxOptions {
        scenario: Scenario::BadDeploy,
        speed: 60.0,
        ..SandboxOptions::default()
    })
    .await;
    let found = until_status(
        &handle,
        "checkout-api",
        DeploymentStatus::RollbackSuccessful,
    )
    .await;
    let c = clients(&handle.endpoint_url()).await;

    // DescribeServices no longer lists the failed deployment...
    let svc = c
        .ecs
        .describe_services()
        .cluster("prod")
        .services("checkout-api")
        .send()
        .await
        .unwrap();
    let deployments = svc.services()[0].deployments();
    assert!(
        deployments
            .iter()
            .all(|d| d.rollout_state().map(|r| r.as_str()) != Some("FAILED")),
        "{deployments:?}"
    );
    // ...but the history does: the drill's revision (newer than the one the service runs
    // again), its reason and the circuit breaker's count, and the revision it went back to.
    let current = berth::domain::family_revision(svc.services()[0].task_definition().unwrap());
    let rev = |td: &str| td.rsplit(':').next().unwrap().parse::<u32>().unwrap();
    let rolled = found
        .iter()
        .find(|d| d.status == DeploymentStatus::RollbackSuccessful)
        .unwrap();
    let bad = rolled
        .target
        .as_ref()
        .and_then(|t| t.task_definition.clone())
        .unwrap();
    assert!(
        bad.starts_with("checkout-api:") && rev(&bad) > rev(&current),
        "{bad} {current}"
    );
    let cb = rolled.circuit_breaker.as_ref().unwrap();
    assert_eq!(cb.status, "TRIGGERED");
    assert!(cb.failures >= cb.threshold && cb.threshold > 0, "{cb:?}");
    assert!(rolled.cause().unwrap().starts_with("circuit breaker: "));
    assert!(
        rolled
            .status_reason
            .as_deref()
            .unwrap_or("")
            .contains("circuit breaker"),
        "{rolled:#?}"
    );
    let back_to = rolled
        .rollback
        .as_ref()
        .and_then(|r| r.to.as_ref())
        .unwrap();
    assert_eq!(back_to.task_definition.as_deref(), Some(current.as_str()));
    // The status filter agrees with the wire.
    let only = c
        .ecs
        .list_service_deployments()
        .cluster("prod")
        .service("checkout-api")
        .status(ServiceDeploymentStatus::RollbackSuccessful)
        .send()
        .await
        .unwrap();
    assert_eq!(only.service_deployments().len(), 1);

    // The console: the deployments pane at 80x24 lists it, the services row says so, the
    // timeline shows it.
    let mut console = Console::new(&handle);
    on_service(&mut console, "prod", "checkout-api").await;
    console.apply(Action::Command(Command::ShowDeployments));
    refresh_until(&mut console, &handle, "history loaded", |s| {
        loaded(s) && history_of(s, "checkout-api").is_some()
    })
    .await;
    let theme = crate::common::screen::theme("default");
    let small = crate::common::screen::text(&crate::common::screen::draw(
        &mut console.state,
        &theme,
        80,
        24,
    ));
    assert!(small.contains("ROLLBACK_SUCCESSFUL"), "{small}");
    assert!(
        small.contains(&format!("{current}→{}", rev(&bad))),
        "{small}"
    );
    assert!(small.contains("history, last 24h"), "{small}");

    console.apply(Action::Command(Command::Back));
    refresh_until(&mut console, &handle, "services row marked", |s| {
        match s.view() {
            View::Services(v) => v.data.rows.iter().any(|r| {
                r.service.name == "checkout-api"
                    && r.problems.first().is_some_and(|p| {
                        p.summary
                            .starts_with(&format!("rev {} rolled back ", rev(&bad)))
                            && p.summary.ends_with(" ago")
                    })
            }),
            _ => false,
        }
    })
    .await;

    console.apply(Action::Command(Command::ShowTimeline));
    refresh_until(&mut console, &handle, "timeline shows the failure", |s| {
        matches!(s.view(), View::Timeline(v) if v.entries.iter().any(|e| {
            e.kind == Kind::Deployment && e.text.contains("failed") && e.text.contains(&bad)
        }))
    })
    .await;
    let View::Timeline(v) = console.state.view() else {
        unreachable!()
    };
    let failures = v
        .entries
        .iter()
        .filter(|e| {
            e.kind == Kind::Deployment && e.text.contains("failed") && e.text.contains(&bad)
        })
        .count();
    assert_eq!(
        failures, 1,
        "one failure entry, not one per source: {:#?}",
        v.entries
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_history_falls_back_to_the_live_deployments() {
    let handle = start(SandboxOptions::default()).await;
    handle.set_faults(Faults {
        denied_operations: vec!["ecs:ListServiceDeployments".into()],
        ..Faults::default()
    });
    let mut console = Console::new(&handle);
    on_service(&mut console, "prod", "web-frontend").await;
    console.apply(Action::Command(Command::ShowDeployments));
    refresh_until(&mut console, &handle, "history answered", |s| {
        loaded(s) && history_of(s, "web-frontend").is_some()
    })
    .await;
    let h = history_of(&console.state, "web-frontend").unwrap();
    assert!(h.result.is_err(), "{h:?}");
    let screen = console.screen();
    assert!(
        screen.contains(
            "deployment history unavailable: access denied to ecs:ListServiceDeployments; showing live deployments only"
        ),
        "{screen}"
    );
    assert!(
        screen.contains("PRIMARY"),
        "the live deployments still show:\n{screen}"
    );
    let stats = handle.stats();
    assert_eq!(
        stats.count("ecs:ListServiceDeployments"),
        1,
        "an access denial is not retried: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_service_deployments_pages_with_next_token() {
    let handle = start(SandboxOptions::default()).await;
    let c = clients(&handle.endpoint_url()).await;
    for _ in 0..7 {
        c.ecs
            .update_service()
            .cluster("prod")
            .service("orders-api")
            .force_new_deployment(true)
            .send()
            .await
            .unwrap();
    }
    let mut pages = 0;
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .ecs
            .list_service_deployments()
            .cluster("prod")
            .service("orders-api")
            .max_results(3)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(out.service_deployments().len() <= 3);
        arns.extend(
            out.service_deployments()
                .iter()
                .map(|d| d.service_deployment_arn().unwrap().to_string()),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    // the fleet's initial deployment and seven forced ones, each once
    assert_eq!(arns.len(), 8, "{arns:?}");
    assert_eq!(pages, 3);
    let mut unique = arns.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 8);
    assert!(
        arns.iter()
            .all(|a| a.contains(":service-deployment/prod/orders-api/"))
    );
    // berth reads them all (one page of 100, one describe of 20 at most per call); the
    // fleet's initial deployment may be older than the day berth asks for
    let found = history(&handle, "orders-api").await;
    assert!((7..=8).contains(&found.len()), "{found:#?}");
    // superseded forced deployments are STOPPED, the newest runs
    assert_eq!(found[0].status, DeploymentStatus::InProgress);
    assert!(
        found
            .iter()
            .filter(|d| d.status == DeploymentStatus::Stopped)
            .count()
            >= 6
    );
    // DescribeServiceDeployments takes at most 20
    let err = c
        .ecs
        .describe_service_deployments()
        .set_service_deployment_arns(Some(vec![arns[0].clone(); 21]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        crate::sandbox_support::code(&err),
        "InvalidParameterException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blue_green_hook_that_hangs_is_stuck_then_rolled_back() {
    let handle = start(SandboxOptions {
        scenario: Scenario::BlueGreen,
        speed: 60.0,
        ..SandboxOptions::default()
    })
    .await;
    let service = "ledger-api";
    // The stage the hook holds.
    let found = loop {
        let h = history(&handle, service).await;
        if h.first()
            .is_some_and(|d| d.lifecycle_stage == Some(LifecycleStage::PostTestTrafficShift))
        {
            break h;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    };
    let d = &found[0];
    assert_eq!(d.status, DeploymentStatus::InProgress);
    assert_eq!(d.strategy.as_deref(), Some("BLUE_GREEN"));
    assert_eq!(d.bake_time_minutes, Some(10));
    assert_eq!(d.hooks.len(), 1);
    assert_eq!(d.hooks[0].status, "IN_PROGRESS");
    assert_eq!(
        d.target.as_ref().and_then(|t| t.test_traffic_weight),
        Some(100.0)
    );

    // The console shows the stage, and marks it stuck once it has not moved for 15 minutes.
    let mut console = Console::new(&handle);
    on_service(&mut console, "prod", service).await;
    console.apply(Action::Command(Command::ShowDeployments));
    refresh_until(&mut console, &handle, "stage shown", |s| {
        history_of(s, service).is_some_and(|h| {
            h.deployments()
                .first()
                .is_some_and(|d| d.lifecycle_stage.is_some())
        })
    })
    .await;
    assert!(
        console
            .screen()
            .contains("blue/green POST_TEST_TRAFFIC_SHIFT"),
        "{}",
        console.screen()
    );
    refresh_until(&mut console, &handle, "stage marked stuck", |s| {
        let now = s.now_unix;
        history_of(s, service).is_some_and(|h| {
            berth::domain::problems::history_problems(h.deployments(), now)
                .iter()
                .any(|p| p.summary.starts_with("POST_TEST_TRAFFIC_SHIFT for "))
        })
    })
    .await;
    assert!(console.screen().contains("STUCK"), "{}", console.screen());

    // The hook fails: ECS rolls back, and the history says why.
    let found = until_status(&handle, service, DeploymentStatus::RollbackSuccessful).await;
    let d = found
        .iter()
        .find(|d| d.status == DeploymentStatus::RollbackSuccessful)
        .unwrap();
    let cause = d.cause().unwrap();
    assert!(
        cause.contains("lifecycle hook ledger-api-smoke-test failed at POST_TEST_TRAFFIC_SHIFT"),
        "{cause}"
    );
    assert!(
        d.status_reason
            .as_deref()
            .unwrap_or("")
            .contains("lifecycle hook"),
        "{d:#?}"
    );
    refresh_until(&mut console, &handle, "rollback in the pane", |s| {
        history_of(s, service).is_some_and(|h| {
            h.deployments()
                .iter()
                .any(|d| d.status == DeploymentStatus::RollbackSuccessful)
        })
    })
    .await;
    let screen = console.screen();
    assert!(screen.contains("ROLLBACK_SUCCESSFUL"), "{screen}");
    assert!(
        screen.contains("lifecycle hook ledger-api-smoke-test failed"),
        "{screen}"
    );
}

/// Wait until the visible deployments view's service and history loads both answered.
async fn settle(console: &mut Console, service: &str, after: i64) {
    console.apply(Action::Command(Command::Refresh));
    console
        .until("history answered", |s| {
            loaded(s) && history_of(s, service).is_some_and(|h| h.loaded_at >= after)
        })
        .await;
    // the DescribeServices of the same refresh
    tokio::time::sleep(Duration::from_millis(200)).await;
    while let Ok(a) = console.rx.try_recv() {
        console.apply(a);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployments_refresh_costs_three_history_calls_then_two() {
    let handle = start(SandboxOptions::default()).await;
    let mut console = Console::new(&handle);
    on_service(&mut console, "prod", "web-frontend").await;
    console.apply(Action::Command(Command::ShowDeployments));
    let now = handle.virtual_now_ms() / 1000;
    console.apply(Action::Tick { now_unix: now });
    settle(&mut console, "web-frontend", now).await;
    let first = handle.stats();
    // a later refresh asked for by the user: revisions already known are not described again
    handle.reset_stats();
    let later = now + 1;
    console.apply(Action::Tick { now_unix: later });
    settle(&mut console, "web-frontend", later).await;
    let second = handle.stats();
    for (stats, revisions) in [(&first, 1), (&second, 0)] {
        assert_eq!(stats.count("ecs:ListServiceDeployments"), 1, "{stats:?}");
        assert_eq!(
            stats.count("ecs:DescribeServiceDeployments"),
            1,
            "{stats:?}"
        );
        assert_eq!(
            stats.count("ecs:DescribeServiceRevisions"),
            revisions,
            "{stats:?}"
        );
    }
    assert!(second.count("ecs:DescribeServices") >= 1, "{second:?}");
    // a background refresh within 30 s reads the service, not the history
    handle.reset_stats();
    console.apply(Action::Tick {
        now_unix: later + 5,
    });
    console.apply(Action::RefreshDue);
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok(a) = console.rx.try_recv() {
        console.apply(a);
    }
    let background = handle.stats();
    assert_eq!(
        background.count("ecs:ListServiceDeployments"),
        0,
        "{background:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_stop_rolls_back_and_the_history_says_who() {
    let handle = start(SandboxOptions {
        speed: 60.0,
        ..SandboxOptions::default()
    })
    .await;
    let c = clients(&handle.endpoint_url()).await;
    c.ecs
        .update_service()
        .cluster("prod")
        .service("orders-api")
        .force_new_deployment(true)
        .send()
        .await
        .unwrap();
    let newest = history(&handle, "orders-api").await.remove(0);
    assert_eq!(newest.status, DeploymentStatus::InProgress);
    c.ecs
        .stop_service_deployment()
        .service_deployment_arn(&newest.arn)
        .stop_type(aws_sdk_ecs::types::StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .unwrap();
    let found = until_status(&handle, "orders-api", DeploymentStatus::RollbackSuccessful).await;
    let d = found.iter().find(|d| d.arn == newest.arn).unwrap();
    assert_eq!(d.status, DeploymentStatus::RollbackSuccessful);
    assert!(
        d.cause()
            .unwrap()
            .contains("stopped by a user (StopServiceDeployment)"),
        "{d:#?}"
    );
    // a finished deployment cannot be stopped again
    let err = c
        .ecs
        .stop_service_deployment()
        .service_deployment_arn(&newest.arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(crate::sandbox_support::code(&err), "ConflictException");
}
