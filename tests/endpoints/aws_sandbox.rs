//! berth's service, task and task definition reads against the embedded sandbox, through the
//! real SDK on loopback. Each check compares what berth returns with an independent SDK call
//! to the same endpoint, field by field (see `aws_compare`).
//!
//! Most tests run the sandbox's virtual clock at a millionth of real time, so the fleet holds
//! still between berth's call and the reference call and equality is exact. The drill tests
//! need time to pass; they compare a moving service inside a window where two reference reads
//! agree.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_ecs::types::DesiredStatus;
use berth::aws::ErrorKind;
use berth::aws::services::{
    DESCRIBE_SERVICES_BATCH, describe_services, list_service_arns, list_services_page,
};
use berth::aws::task_definitions::describe_task_definition;
use berth::aws::tasks::{TaskListing, describe_tasks, list_task_arns};
use berth::domain::{Service, Task};
use berth::sandbox::{SandboxOptions, Scenario};

use crate::aws_compare::*;
use crate::sandbox_support as sb;

/// A virtual clock that effectively stands still.
fn frozen(scenario: Scenario) -> SandboxOptions {
    SandboxOptions {
        scenario,
        speed: 1e-6,
        ..SandboxOptions::default()
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn api_tasks(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    arns: &[String],
) -> BTreeMap<String, aws_sdk_ecs::types::Task> {
    sb::describe_tasks(ecs, cluster, arns)
        .await
        .into_iter()
        .map(|t| (t.task_arn().unwrap_or_default().to_string(), t))
        .collect()
}

#[tokio::test]
async fn services_of_a_cluster_equal_describe_services() {
    let sandbox = sb::start(frozen(Scenario::Steady)).await;
    let c = sb::clients(&sandbox.endpoint_url()).await;

    let expected = sb::all_service_arns(&c.ecs, "prod", Some(100)).await;
    assert_eq!(expected.len(), 6, "the demo prod cluster has six services");
    let (page, next) = list_services_page(&c.ecs, "prod", None).await.unwrap();
    assert_eq!(page, expected);
    assert_eq!(next, None, "one page holds six services");
    assert_eq!(list_service_arns(&c.ecs, "prod").await.unwrap(), expected);

    let (services, missing) = describe_services(&c.ecs, "prod", &expected).await.unwrap();
    assert!(missing.is_empty(), "{missing:?}");
    assert_eq!(services.len(), expected.len());
    for svc in &services {
        let api = sb::describe_service(&c.ecs, "prod", &svc.name)
            .await
            .expect("reference DescribeServices");
        assert_service_matches(svc, &api);
        // The demo fleet is a real-looking one: these are not defaults passing as data.
        assert!(
            svc.desired > 0 && !svc.deployments.is_empty(),
            "{}",
            svc.name
        );
        assert!(!svc.events.is_empty(), "{}: no events", svc.name);
        assert!(svc.task_definition.contains(':'), "{}", svc.task_definition);
        assert!(!svc.subnets.is_empty() && svc.created_at.is_some());
        assert!(svc.deployment_config.maximum_percent.is_some());
    }
    // Exec and the circuit breaker differ between services, so both values are checked.
    let exec: BTreeSet<bool> = services.iter().map(|s| s.exec_enabled).collect();
    assert_eq!(exec.len(), 2, "exec enabled on some services only");
}

#[tokio::test]
async fn describe_services_reports_missing_names_and_splits_long_lists() {
    let sandbox = sb::start(frozen(Scenario::Steady)).await;
    let c = sb::clients(&sandbox.endpoint_url()).await;
    let arns = list_service_arns(&c.ecs, "prod").await.unwrap();

    let asked = vec!["checkout-api".to_string(), "ghost".to_string()];
    let (found, missing) = describe_services(&c.ecs, "prod", &asked).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "checkout-api");
    assert_eq!(missing, vec!["ghost".to_string()]);

    // 6 real + 6 unknown = 12 > 10: two calls, never one rejected call.
    let mut many = arns.clone();
    many.extend((0..6).map(|i| format!("gone-{i}")));
    assert!(many.len() > DESCRIBE_SERVICES_BATCH);
    sandbox.reset_stats();
    let (found, missing) = describe_services(&c.ecs, "prod", &many).await.unwrap();
    assert_eq!(sandbox.stats().count("ecs:DescribeServices"), 2);
    assert_eq!(found.len(), 6);
    assert_eq!(
        sorted(missing),
        (0..6).map(|i| format!("gone-{i}")).collect::<Vec<_>>()
    );

    let err = describe_services(&c.ecs, "no-such-cluster", &asked)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
    assert_eq!(err.operation, "ecs:DescribeServices");
    let err = list_services_page(&c.ecs, "no-such-cluster", None)
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("ClusterNotFoundException"));
}

#[tokio::test]
async fn running_tasks_equal_describe_tasks() {
    let sandbox = sb::start(frozen(Scenario::Steady)).await;
    let c = sb::clients(&sandbox.endpoint_url()).await;

    let expected = sb::all_task_arns(&c.ecs, "prod", None, None, 100).await;
    let listed = list_task_arns(&c.ecs, "prod", None, TaskListing::Running)
        .await
        .unwrap();
    assert_eq!(sorted(listed.clone()), sorted(expected));
    let checkout = list_task_arns(&c.ecs, "prod", Some("checkout-api"), TaskListing::Running)
        .await
        .unwrap();
    assert_eq!(checkout.len(), 4, "checkout-api runs four tasks");

    let tasks = describe_tasks(&c.ecs, "prod", &listed).await.unwrap();
    assert_eq!(tasks.len(), listed.len());
    let api = api_tasks(&c.ecs, "prod", &listed).await;
    for t in &tasks {
        assert_task_matches(t, &api[&t.arn]);
        assert_eq!(t.last_status, "RUNNING");
        assert!(t.private_ip().is_some_and(|ip| ip.starts_with("10.")));
        let eni = &t.enis[0];
        assert!(eni.eni_id.is_some() && eni.mac.is_some() && eni.private_dns.is_some());
        assert!(eni.subnet_id.is_some() && eni.ipv6.is_some());
        assert!(t.availability_zone.is_some() && t.capacity_provider.is_some());
        assert!(t.started_at.is_some() && t.containers.iter().all(|c| c.runtime_id.is_some()));
        let raw: serde_json::Value = serde_json::from_str(&t.raw_json).unwrap();
        assert!(raw["attachments"].is_array(), "raw JSON keeps attachments");
    }
    let on_checkout: BTreeSet<&str> = tasks
        .iter()
        .filter(|t| t.service_name() == Some("checkout-api"))
        .map(|t| t.arn.as_str())
        .collect();
    assert_eq!(on_checkout, checkout.iter().map(String::as_str).collect());

    let multi = tasks
        .iter()
        .find(|t| t.containers.len() > 1)
        .expect("a task with a sidecar");
    assert!(multi.containers.iter().all(|c| !c.name.is_empty()));
    assert!(
        tasks
            .iter()
            .any(|t| t.exec_enabled
                && t.containers[0].exec_agent_status.as_deref() == Some("RUNNING")),
        "an exec-enabled task reports its ExecuteCommandAgent"
    );
}

#[tokio::test]
async fn stopped_tasks_keep_stop_code_reason_and_exit_codes() {
    let sandbox = sb::start(frozen(Scenario::Steady)).await;
    let c = sb::clients(&sandbox.endpoint_url()).await;

    // Stop one task ourselves so at least one reason is known in advance.
    let victim = list_task_arns(&c.ecs, "prod", Some("web-frontend"), TaskListing::Running)
        .await
        .unwrap()
        .remove(0);
    c.ecs
        .stop_task()
        .cluster("prod")
        .task(&victim)
        .reason("drill: stopped by the aws_sandbox test")
        .send()
        .await
        .unwrap();

    let expected = sb::all_task_arns(&c.ecs, "prod", None, Some(DesiredStatus::Stopped), 100).await;
    let listed = list_task_arns(&c.ecs, "prod", None, TaskListing::Stopped)
        .await
        .unwrap();
    assert_eq!(sorted(listed.clone()), sorted(expected));
    assert!(listed.contains(&victim));

    let tasks = describe_tasks(&c.ecs, "prod", &listed).await.unwrap();
    let api = api_tasks(&c.ecs, "prod", &listed).await;
    assert_eq!(tasks.len(), api.len());
    for t in &tasks {
        assert_task_matches(t, &api[&t.arn]);
        assert_eq!(t.desired_status, "STOPPED");
    }
    let ours = tasks.iter().find(|t| t.arn == victim).unwrap();
    assert_eq!(
        ours.stopped_reason.as_deref(),
        Some("drill: stopped by the aws_sandbox test")
    );
    assert_eq!(ours.stop_code.as_deref(), Some("UserInitiated"));
    // The fleet's history (an earlier deployment) left stopped tasks with exit codes.
    assert!(
        tasks
            .iter()
            .any(|t| t.stopped_reason.is_some()
                && t.containers.iter().any(|c| c.exit_code.is_some())),
        "no stopped task with a reason and an exit code"
    );
}

#[tokio::test]
async fn exec_agent_status_follows_managed_agents() {
    let sandbox = sb::start(frozen(Scenario::ExecBroken)).await;
    let c = sb::clients(&sandbox.endpoint_url()).await;
    let arns = list_task_arns(&c.ecs, "prod", None, TaskListing::Running)
        .await
        .unwrap();
    let tasks = describe_tasks(&c.ecs, "prod", &arns).await.unwrap();
    let api = api_tasks(&c.ecs, "prod", &arns).await;
    let mut seen = BTreeSet::new();
    for t in &tasks {
        assert_task_matches(t, &api[&t.arn]);
        for c in &t.containers {
            seen.insert(c.exec_agent_status.clone());
        }
    }
    // Broken agents, healthy agents, and containers without a managed agent.
    assert!(seen.contains(&Some("STOPPED".to_string())), "{seen:?}");
    assert!(seen.contains(&Some("RUNNING".to_string())), "{seen:?}");
    assert!(seen.contains(&None), "{seen:?}");
}

#[tokio::test]
async fn task_definition_has_log_configuration_and_exec_preconditions() {
    let sandbox = sb::start(frozen(Scenario::Steady)).await;
    let c = sb::clients(&sandbox.endpoint_url()).await;
    let svc = sb::describe_service(&c.ecs, "prod", "web-frontend")
        .await
        .unwrap();
    let arn = svc.task_definition().unwrap().to_string();
    let api = c
        .ecs
        .describe_task_definition()
        .task_definition(&arn)
        .send()
        .await
        .unwrap();
    let api = api.task_definition().unwrap();

    for name in [
        arn.clone(),
        format!("{}:{}", api.family().unwrap(), api.revision()),
    ] {
        let td = describe_task_definition(&c.ecs, &name).await.unwrap();
        assert_task_definition_matches(&td, api);
        assert!(td.containers.len() > 1, "web-frontend has an envoy sidecar");
        let log = td.containers[0].log.as_ref().expect("awslogs configured");
        assert_eq!(log.driver, "awslogs");
        assert!(log.options.contains_key("awslogs-group"));
        assert!(log.options.contains_key("awslogs-stream-prefix"));
        assert!(td.containers[0].init_process_enabled);
        assert!(!td.containers[0].readonly_root_filesystem);
    }
    let err = describe_task_definition(&c.ecs, "no-such-family:1")
        .await
        .unwrap_err();
    assert_eq!(err.operation, "ecs:DescribeTaskDefinition");
}

/// Compare berth's view of one service with the API while the fleet moves: only inside a
/// window where two reference reads agree is equality required.
async fn compare_service_when_still(ecs: &aws_sdk_ecs::Client, cluster: &str, name: &str) {
    for _ in 0..50 {
        let before = sb::describe_service(ecs, cluster, name).await;
        let (mine, _) = describe_services(ecs, cluster, &[name.to_string()])
            .await
            .unwrap();
        let after = sb::describe_service(ecs, cluster, name).await;
        if let (Some(before), Some(after), Some(mine)) = (before, after, mine.first())
            && before == after
        {
            assert_service_matches(mine, &after);
            return;
        }
    }
    panic!("{name} never held still for three calls");
}

/// Poll berth's DescribeServices of one service until `check` holds.
async fn poll_service<F>(ecs: &aws_sdk_ecs::Client, name: &str, check: F) -> Option<Service>
where
    F: Fn(&Service) -> bool,
{
    for _ in 0..3000 {
        if let Ok((svcs, _)) = describe_services(ecs, "prod", &[name.to_string()]).await
            && let Some(svc) = svcs.into_iter().next()
            && check(&svc)
        {
            return Some(svc);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// Stopped tasks of a service, described by berth and checked against the API. Stopped tasks
/// no longer change, so equality is exact.
async fn stopped_tasks_checked(ecs: &aws_sdk_ecs::Client, service: &str) -> Vec<Task> {
    let stopped = list_task_arns(ecs, "prod", Some(service), TaskListing::Stopped)
        .await
        .unwrap();
    let tasks = describe_tasks(ecs, "prod", &stopped).await.unwrap();
    let api = api_tasks(ecs, "prod", &stopped).await;
    for t in &tasks {
        // STOPPED is final: once both reads saw it, they must agree on everything. (A task
        // still DEPROVISIONING in the first read may be STOPPED by the second.)
        if let Some(a) = api.get(&t.arn)
            && a.last_status() == Some("STOPPED")
            && t.last_status == "STOPPED"
        {
            assert_task_matches(t, a);
        }
    }
    tasks
}

fn fast(scenario: Scenario) -> SandboxOptions {
    SandboxOptions {
        scenario,
        speed: 300.0,
        ..SandboxOptions::default()
    }
}

/// bad-deploy: the circuit breaker fails the rollout and rolls back. In the sandbox the FAILED
/// deployment leaves `deployments` as soon as the rollback deployment starts, so the failure
/// is read from the events and the rollback deployment's reason (the image-pull drill keeps a
/// FAILED deployment in place).
#[tokio::test]
async fn bad_deploy_rollback_events_and_exit_codes_match_the_api() {
    let sandbox = sb::start(fast(Scenario::BadDeploy)).await;
    let c = sb::clients(&sandbox.endpoint_url()).await;
    let svc = poll_service(&c.ecs, "checkout-api", |s| {
        s.events
            .iter()
            .any(|e| e.message.contains("deployment failed"))
            && s.events.iter().any(|e| e.message.contains("rolling back"))
    })
    .await
    .expect("checkout-api never failed and rolled back");
    assert!(svc.deployment_config.circuit_breaker_enabled);
    assert!(svc.deployment_config.circuit_breaker_rollback);
    assert!(
        svc.deployments.iter().any(|d| d
            .rollout_state_reason
            .as_deref()
            .is_some_and(|r| r.contains("rolling back"))),
        "{:?}",
        svc.deployments
    );
    compare_service_when_still(&c.ecs, "prod", "checkout-api").await;

    let tasks = stopped_tasks_checked(&c.ecs, "checkout-api").await;
    assert!(
        tasks.iter().any(|t| {
            t.stopped_reason
                .as_deref()
                .is_some_and(|r| r.contains("Essential container"))
                && t.containers.iter().any(|c| c.exit_code == Some(1))
        }),
        "no stopped task with exit code 1"
    );
}

/// image-pull: the rollout is marked FAILED (no rollback) and stays PRIMARY.
#[tokio::test]
async fn image_pull_failed_rollout_and_stop_codes_match_the_api() {
    let sandbox = sb::start(fast(Scenario::ImagePull)).await;
    let c = sb::clients(&sandbox.endpoint_url()).await;
    let svc = poll_service(&c.ecs, "orders-api", |s| {
        s.deployments
            .iter()
            .any(|d| d.rollout_state.as_deref() == Some("FAILED"))
    })
    .await
    .expect("orders-api rollout never FAILED");
    let failed = svc
        .deployments
        .iter()
        .find(|d| d.rollout_state.as_deref() == Some("FAILED"))
        .unwrap();
    assert!(failed.failed_tasks > 0, "{failed:?}");
    assert!(failed.rollout_state_reason.is_some(), "{failed:?}");
    assert!(
        svc.deployments.iter().any(|d| d.running > 0),
        "the old deployment keeps serving: {:?}",
        svc.deployments
    );
    compare_service_when_still(&c.ecs, "prod", "orders-api").await;

    let tasks = stopped_tasks_checked(&c.ecs, "orders-api").await;
    assert!(
        tasks.iter().any(|t| {
            t.stop_code.as_deref() == Some("TaskFailedToStart")
                && t.stopped_reason
                    .as_deref()
                    .is_some_and(|r| r.contains("CannotPullContainerError"))
        }),
        "no TaskFailedToStart with CannotPullContainerError"
    );
}
