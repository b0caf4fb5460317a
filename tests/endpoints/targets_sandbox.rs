//! Load-balancer target health through the real ELBv2 SDK against the sandbox: berth's aws
//! layer (`berth::aws::targets`) parses the query-protocol XML, and the join
//! (`berth::domain::targets`) matches targets to tasks by IP and port. The elb-health drill
//! turns the new revision's targets unhealthy with their reason, then drains them.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use std::sync::Arc;
use std::time::Duration;

use berth::aws::services::describe_services;
use berth::aws::targets::{describe_target_groups, describe_target_health, target_health};
use berth::aws::tasks::{TaskListing, describe_tasks, list_task_arns};
use berth::aws::{AwsTarget, Clients, ErrorKind};
use berth::domain::targets::{GroupHealth, TargetState, orphan_targets, target_of_task};
use berth::domain::{Service, Task};
use berth::sandbox::{self, Faults, SandboxHandle, SandboxOptions, Scenario};
use tokio::sync::Semaphore;

async fn start(scenario: Scenario, speed: f64) -> (SandboxHandle, Clients) {
    let handle = sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            scenario,
            speed,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let clients = berth::aws::connect(&AwsTarget {
        region: Some("us-east-1".into()),
        endpoint_url: Some(handle.endpoint_url()),
        static_credentials: Some((
            sandbox::DEMO_ACCESS_KEY_ID.into(),
            sandbox::DEMO_SECRET_ACCESS_KEY.into(),
        )),
        ..AwsTarget::default()
    })
    .await
    .unwrap();
    (handle, clients)
}

async fn service(c: &Clients, cluster: &str, name: &str) -> Service {
    let (found, _) = describe_services(&c.ecs, cluster, &[name.to_string()])
        .await
        .unwrap();
    found.into_iter().next().expect(name)
}

async fn tasks(c: &Clients, cluster: &str, name: &str, listing: TaskListing) -> Vec<Task> {
    let arns = list_task_arns(&c.ecs, cluster, Some(name), listing)
        .await
        .unwrap();
    describe_tasks(&c.ecs, cluster, &arns).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_join_running_tasks_by_ip_and_port() {
    let (handle, c) = start(Scenario::Steady, 1e-6).await;
    let svc = service(&c, "prod", "search-api").await;
    let lb = svc
        .load_balancers
        .first()
        .expect("search-api has a target group");
    let arn = lb.target_group_arn.clone().unwrap();
    assert!(arn.contains(":targetgroup/"), "{arn}");
    assert!(lb.container_port.is_some());

    let targets = describe_target_health(&c.elb, &arn).await.unwrap();
    let running = tasks(&c, "prod", "search-api", TaskListing::Running).await;
    let running: Vec<Task> = running
        .into_iter()
        .filter(|t| t.last_status == "RUNNING")
        .collect();
    assert!(!running.is_empty());
    // Every running task has its target, healthy (the fleet is steady).
    for t in &running {
        let target = target_of_task(t, lb, &targets)
            .unwrap_or_else(|| panic!("no target for {}: {targets:?}", t.id));
        assert_eq!(target.state, TargetState::Healthy, "{target:?}");
        assert_eq!(target.port, lb.container_port);
    }
    assert_eq!(orphan_targets(&running, lb, &targets), Vec::<&_>::new());

    // The group's health-check settings.
    let groups = describe_target_groups(&c.elb, std::slice::from_ref(&arn))
        .await
        .unwrap();
    let g = groups.first().unwrap();
    assert_eq!(g.arn, arn);
    assert_eq!(g.health_check_path.as_deref(), Some("/health"));
    assert_eq!(g.matcher.as_deref(), Some("200"));
    assert_eq!(g.target_type.as_deref(), Some("ip"));
    assert!(g.interval_s.is_some() && g.healthy_threshold.is_some());

    // An unknown group is an error, typed.
    let e = describe_target_health(
        &c.elb,
        "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/0",
    )
    .await
    .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("TargetGroupNotFound"));
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_is_kept_in_place() {
    let (handle, c) = start(Scenario::Steady, 1e-6).await;
    let svc = service(&c, "prod", "search-api").await;
    handle.set_faults(Faults {
        denied_operations: vec!["elbv2:DescribeTargetHealth".into()],
        ..Faults::default()
    });
    let e = describe_target_health(
        &c.elb,
        svc.load_balancers[0].target_group_arn.as_ref().unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AccessDenied, "{e:?}");
    let permits = Arc::new(Semaphore::new(4));
    let report = target_health(&c.elb, &permits, std::slice::from_ref(&svc), true).await;
    let health = report.groups.values().next().unwrap();
    assert_eq!(
        health,
        &GroupHealth::Unavailable("target health unavailable: access denied".into())
    );
    // The settings still load.
    assert!(matches!(report.settings, Some(Ok(ref g)) if g.len() == 1));
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elb_health_drill_unhealthy_targets_with_their_reason_then_draining() {
    let (handle, c) = start(Scenario::ElbHealth, 60.0).await;
    let svc = service(&c, "prod", "search-api").await;
    let lb = svc.load_balancers[0].clone();
    let arn = lb.target_group_arn.clone().unwrap();

    let mut unhealthy_seen = false;
    let mut orphan_seen = false;
    let mut untargeted_stopped_seen = false;
    for _ in 0..150 {
        let targets = describe_target_health(&c.elb, &arn).await.unwrap();
        let running = tasks(&c, "prod", "search-api", TaskListing::Running).await;
        let stopped = tasks(&c, "prod", "search-api", TaskListing::Stopped).await;
        for target in targets.iter().filter(|t| t.state == TargetState::Unhealthy) {
            assert_eq!(
                target.reason.as_deref(),
                Some("Target.ResponseCodeMismatch")
            );
            assert_eq!(
                target.description.as_deref(),
                Some("Health checks failed with these codes: [404]")
            );
            // It is a running task of the new revision.
            let task = running
                .iter()
                .find(|t| target_of_task(t, &lb, std::slice::from_ref(target)).is_some())
                .unwrap_or_else(|| panic!("no task for {target:?}"));
            let primary = service(&c, "prod", "search-api").await;
            assert_eq!(
                Some(&task.task_definition),
                primary.primary().map(|d| &d.task_definition)
            );
            unhealthy_seen = true;
        }
        // A draining target whose task is no longer running: no task in the running list.
        for target in orphan_targets(&running, &lb, &targets) {
            assert_eq!(target.state, TargetState::Draining, "{target:?}");
            assert_eq!(
                target.reason.as_deref(),
                Some("Target.DeregistrationInProgress")
            );
            orphan_seen = true;
        }
        // A stopped task past its deregistration delay: no target.
        if stopped
            .iter()
            .any(|t| t.last_status == "STOPPED" && target_of_task(t, &lb, &targets).is_none())
        {
            untargeted_stopped_seen = true;
        }
        if unhealthy_seen && orphan_seen && untargeted_stopped_seen {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(unhealthy_seen, "no unhealthy target");
    assert!(orphan_seen, "no draining target without a running task");
    assert!(untargeted_stopped_seen, "no stopped task without a target");
    handle.shutdown().await;
}

/// The elb-health drill in the console: the services row says `targets n/m healthy`, and the
/// tasks view shows the new revision's tasks `unhealthy`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elb_health_drill_in_the_console() {
    use berth::app::{Action, Command, View};

    use crate::common::console::{Console, loaded, on_service};

    let (handle, _) = start(Scenario::ElbHealth, 60.0).await;
    let mut console = Console::new(&handle);
    on_service(&mut console, "prod", "search-api").await;
    let marked = |s: &berth::app::State| {
        let View::Services(v) = s.view() else {
            return false;
        };
        v.data.rows.iter().any(|r| {
            r.service.name == "search-api"
                && r.problems
                    .iter()
                    .any(|p| p.summary.starts_with("targets ") && p.summary.ends_with(" healthy"))
        })
    };
    for _ in 0..100 {
        if marked(&console.state) {
            break;
        }
        // the console's clock follows the sandbox's: a target group is read again once the
        // refresh interval has passed
        console.apply(Action::Tick {
            now_unix: handle.virtual_now_ms() / 1000,
        });
        console.apply(Action::RefreshDue);
        tokio::time::sleep(Duration::from_millis(100)).await;
        while let Ok(a) = console.rx.try_recv() {
            console.apply(a);
        }
    }
    assert!(marked(&console.state), "{}", console.screen());
    let screen = console.screen();
    assert!(screen.contains("! targets "), "{screen}");

    console.apply(Action::Command(Command::ShowTasks));
    console.until("tasks", loaded).await;
    let mut unhealthy = false;
    for _ in 0..100 {
        console.apply(Action::Tick {
            now_unix: handle.virtual_now_ms() / 1000,
        });
        console.apply(Action::RefreshDue);
        tokio::time::sleep(Duration::from_millis(100)).await;
        while let Ok(a) = console.rx.try_recv() {
            console.apply(a);
        }
        if let View::Tasks(v) = console.state.view()
            && v.data
                .rows
                .iter()
                .any(|t| berth::domain::targets::target_label(&t.targets) == "unhealthy")
        {
            unhealthy = true;
            break;
        }
    }
    assert!(unhealthy, "{}", console.screen());
    assert!(console.screen().contains("TARGET"));
    handle.shutdown().await;
}
