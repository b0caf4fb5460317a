//! Drills on an accelerated virtual clock. Each test polls until a condition holds, with
//! a bounded number of attempts; nothing asserts on wall-clock timing.

use std::time::Duration;

use aws_sdk_ecs::types::DesiredStatus;
use berth::sandbox::{SandboxOptions, Scenario};

use crate::sandbox_support::*;

const EVERY: Duration = Duration::from_millis(100);

fn fast(scenario: Scenario) -> SandboxOptions {
    SandboxOptions {
        scenario,
        speed: 300.0,
        ..SandboxOptions::default()
    }
}

#[tokio::test]
async fn bad_deploy_fails_and_rolls_back() {
    let sb = start(fast(Scenario::BadDeploy)).await;
    let c = clients(&sb.endpoint_url()).await;
    let before = describe_service(&c.ecs, "prod", "checkout-api")
        .await
        .and_then(|s| s.task_definition().map(str::to_string));
    let done = poll(600, EVERY, || {
        let ecs = c.ecs.clone();
        let before = before.clone();
        async move {
            let svc = describe_service(&ecs, "prod", "checkout-api").await?;
            let msgs: Vec<&str> = svc.events().iter().filter_map(|e| e.message()).collect();
            let failed = msgs
                .iter()
                .any(|m| m.contains("deployment failed: tasks failed to start"));
            let rolled = msgs
                .iter()
                .any(|m| m.contains("rolling back to deployment"));
            let primary = svc.deployments().first()?;
            let completed = primary.rollout_state().map(|r| r.as_str()) == Some("COMPLETED")
                && svc.deployments().len() == 1
                && primary.rollout_state_reason().is_some();
            (failed && rolled && completed && svc.task_definition().map(str::to_string) == before)
                .then_some(())
        }
    })
    .await;
    if done.is_none() {
        let svc = describe_service(&c.ecs, "prod", "checkout-api").await;
        eprintln!(
            "before={before:?}\n{:#?}",
            svc.map(|s| (
                s.task_definition().map(str::to_string),
                s.deployments().to_vec(),
                s.events()
                    .iter()
                    .take(12)
                    .filter_map(|e| e.message().map(str::to_string))
                    .collect::<Vec<_>>()
            ))
        );
    }
    assert!(
        done.is_some(),
        "no FAILED rollout followed by a completed rollback"
    );
    let stopped = all_task_arns(
        &c.ecs,
        "prod",
        Some("checkout-api"),
        Some(DesiredStatus::Stopped),
        100,
    )
    .await;
    let tasks = describe_tasks(&c.ecs, "prod", &stopped).await;
    assert!(
        tasks
            .iter()
            .any(|t| t.containers().iter().any(|c| c.exit_code() == Some(1))
                && t.stop_code().map(|c| c.as_str()) == Some("EssentialContainerExited"))
    );
}

#[tokio::test]
async fn oom_kills_with_exit_137() {
    let sb = start(SandboxOptions {
        speed: 600.0,
        ..fast(Scenario::Oom)
    })
    .await;
    let c = clients(&sb.endpoint_url()).await;
    let found = poll(600, EVERY, || {
        let ecs = c.ecs.clone();
        async move {
            let stopped = all_task_arns(
                &ecs,
                "prod",
                Some("payments-worker"),
                Some(DesiredStatus::Stopped),
                100,
            )
            .await;
            let tasks = describe_tasks(&ecs, "prod", &stopped).await;
            tasks.into_iter().find(|t| {
                t.containers().iter().any(|c| {
                    c.exit_code() == Some(137)
                        && c.reason().is_some_and(|r| r.contains("OutOfMemoryError"))
                })
            })
        }
    })
    .await;
    let task = found.unwrap_or_else(|| panic!("no OOM-killed task"));
    assert_eq!(
        task.stop_code().map(|c| c.as_str()),
        Some("EssentialContainerExited")
    );
}

#[tokio::test]
async fn force_new_deployment_completes() {
    let sb = start(fast(Scenario::Steady)).await;
    let c = clients(&sb.endpoint_url()).await;
    let before = describe_service(&c.ecs, "prod", "orders-api")
        .await
        .unwrap_or_else(|| panic!("no service"));
    let old_id = before.deployments()[0].id().unwrap_or_default().to_string();
    let resp = c
        .ecs
        .update_service()
        .cluster("prod")
        .service("orders-api")
        .force_new_deployment(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let svc = resp.service().unwrap_or_else(|| panic!("no service"));
    assert_eq!(svc.deployments().len(), 2);
    assert_eq!(
        svc.deployments()[0].rollout_state().map(|r| r.as_str()),
        Some("IN_PROGRESS")
    );
    let done = poll(600, EVERY, || {
        let ecs = c.ecs.clone();
        let old_id = old_id.clone();
        async move {
            let svc = describe_service(&ecs, "prod", "orders-api").await?;
            let p = svc.deployments().first()?;
            (svc.deployments().len() == 1
                && p.id() != Some(old_id.as_str())
                && p.rollout_state().map(|r| r.as_str()) == Some("COMPLETED")
                && p.running_count() == svc.desired_count())
            .then_some(())
        }
    })
    .await;
    assert!(done.is_some(), "forced deployment did not complete");
}

#[tokio::test]
async fn throttle_is_absorbed_by_sdk_retries() {
    let sb = start(SandboxOptions {
        scenario: Scenario::Throttle,
        ..SandboxOptions::default()
    })
    .await;
    let cfg = sdk_config(&sb.endpoint_url()).await;
    let conf = aws_sdk_ecs::config::Builder::from(&cfg)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(10))
        .build();
    let ecs = aws_sdk_ecs::Client::from_conf(conf);
    for _ in 0..20 {
        if let Err(e) = ecs.list_clusters().send().await {
            panic!("throttling leaked through the SDK retries: {e:?}");
        }
    }
    let stats = sb.stats();
    assert!(stats.throttled > 0, "{stats:?}");
    assert!(stats.count("ecs:ListClusters") > 20);
}

#[tokio::test]
async fn same_seed_same_fleet() {
    let opts = SandboxOptions {
        start_time_ms: Some(1_780_000_000_000),
        seed: 42,
        ..SandboxOptions::default()
    };
    let a = start(opts.clone()).await;
    let b = start(opts).await;
    let ca = clients(&a.endpoint_url()).await;
    let cb = clients(&b.endpoint_url()).await;
    for cluster in ["prod", "staging", "batch"] {
        let ta = all_task_arns(&ca.ecs, cluster, None, None, 100).await;
        let tb = all_task_arns(&cb.ecs, cluster, None, None, 100).await;
        assert_eq!(ta, tb);
        let ia: Vec<_> = describe_tasks(&ca.ecs, cluster, &ta)
            .await
            .iter()
            .map(|t| eni_detail(t, "privateIPv4Address"))
            .collect();
        let ib: Vec<_> = describe_tasks(&cb.ecs, cluster, &tb)
            .await
            .iter()
            .map(|t| eni_detail(t, "privateIPv4Address"))
            .collect();
        assert_eq!(ia, ib);
    }
    let other = start(SandboxOptions {
        seed: 43,
        ..SandboxOptions::default()
    })
    .await;
    let co = clients(&other.endpoint_url()).await;
    assert_ne!(
        all_task_arns(&ca.ecs, "prod", None, None, 100).await,
        all_task_arns(&co.ecs, "prod", None, None, 100).await
    );
}

#[tokio::test]
async fn scale_5000_services() {
    let sb = start(SandboxOptions {
        scale: Some(5000),
        ..SandboxOptions::default()
    })
    .await;
    let c = clients(&sb.endpoint_url()).await;
    let clusters = all_cluster_arns(&c.ecs, 100).await;
    assert!(clusters.len() >= 3);
    let mut services = 0;
    for arn in &clusters {
        services += all_service_arns(&c.ecs, arn, Some(100)).await.len();
    }
    assert_eq!(services, 5000);
    let prod = all_task_arns(&c.ecs, "prod", None, None, 100).await;
    assert!(prod.len() > 1000);
    let tasks = describe_tasks(&c.ecs, "prod", &prod[..100]).await;
    assert_eq!(tasks.len(), 100);
}
