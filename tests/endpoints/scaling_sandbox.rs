//! Application Auto Scaling on the sandbox through the real SDK and the console: the
//! at-capacity drill scales prod/web-frontend out to its maximum and then reports that it
//! cannot go higher; the console shows it in the deployments pane, marks the services row
//! once it has been there past the threshold, and puts the activities on the timeline. A
//! denied DescribeScalableTargets leaves the rest of the pane working.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use berth::app::{Action, Command, State, View};
use berth::aws::scaling::{Calls, load};
use berth::domain::scaling::{AT_MAX_MARK_SECS, ActivityStatus, PolicyKind, Scaling};
use berth::domain::timeline::Kind;
use berth::sandbox::{Faults, SandboxHandle, SandboxOptions, Scenario};

use crate::common::console::{Console, loaded, on_service};
use crate::sandbox_support::start;

/// The clients as the console builds them.
async fn console_clients(handle: &SandboxHandle) -> berth::aws::Clients {
    berth::aws::connect(&berth::aws::AwsTarget {
        region: Some("us-east-1".into()),
        endpoint_url: Some(handle.endpoint_url()),
        static_credentials: Some((
            berth::sandbox::DEMO_ACCESS_KEY_ID.into(),
            berth::sandbox::DEMO_SECRET_ACCESS_KEY.into(),
        )),
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn scaling(handle: &SandboxHandle, service: &str) -> (Scaling, Calls) {
    try_scaling(handle, service).await.unwrap()
}

async fn try_scaling(
    handle: &SandboxHandle,
    service: &str,
) -> Result<(Scaling, Calls), berth::aws::AwsError> {
    let c = console_clients(handle).await;
    load(&c.autoscaling, "prod", service).await
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_at_capacity_drill_scales_to_the_maximum_and_says_it_cannot_go_higher() {
    let handle = start(SandboxOptions {
        scenario: Scenario::AtCapacity,
        speed: 120.0,
        ..SandboxOptions::default()
    })
    .await;
    // Before the incident: registered, below its maximum, nothing blocked.
    let (before, calls) = scaling(&handle, "web-frontend").await;
    let target = before.target.clone().expect("web-frontend is registered");
    assert!(target.min < target.max, "{target:?}");
    assert_eq!(
        calls,
        Calls {
            targets: 1,
            policies: 1,
            activities: 1
        }
    );
    let Some(PolicyKind::TargetTracking {
        target: value,
        metric,
        ..
    }) = before.policies.first().map(|p| p.kind.clone())
    else {
        panic!("{:?}", before.policies);
    };
    assert_eq!(metric, "ECSServiceAverageCPUUtilization");
    assert!(value > 0.0 && value < 95.0, "{value}");
    assert!(before.activities.iter().all(|a| !a.blocked_at_max()));
    assert_eq!(before.activities_unavailable, None);

    // Two blocked rounds after the scale-out.
    let mut after = before.clone();
    for _ in 0..200 {
        (after, _) = scaling(&handle, "web-frontend").await;
        if after
            .activities
            .iter()
            .filter(|a| a.blocked_at_max())
            .count()
            >= 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let blocked = &after.activities[0];
    assert!(blocked.blocked_at_max(), "{:#?}", after.activities);
    assert_eq!(blocked.not_scaled, vec!["AlreadyAtMaxCapacity".to_string()]);
    assert_eq!(blocked.count(), Some(target.max + 1));
    assert!(
        blocked
            .cause
            .contains("TargetTracking-service/prod/web-frontend-AlarmHigh-")
            && blocked.cause.contains(" in state ALARM triggered policy "),
        "{}",
        blocked.cause
    );
    assert!(
        blocked
            .status_message
            .as_deref()
            .unwrap()
            .contains("maximum capacity"),
        "{blocked:?}"
    );
    let out = after
        .activities
        .iter()
        .find(|a| a.status == ActivityStatus::Successful && a.count() == Some(target.max))
        .expect("the scale-out to the maximum");
    // The sim runs the new desired count.
    let c = crate::sandbox_support::clients(&handle.endpoint_url()).await;
    let svc = c
        .ecs
        .describe_services()
        .cluster("prod")
        .services("web-frontend")
        .send()
        .await
        .unwrap();
    assert_eq!(svc.services()[0].desired_count(), target.max);

    // The console: the pane shows the range, the policy and the activities with their cause.
    let mut console = Console::new(&handle);
    on_service(&mut console, "prod", "web-frontend").await;
    console.apply(Action::Command(Command::ShowDeployments));
    refresh_until(&mut console, &handle, "auto scaling loaded", |s| {
        loaded(s) && berth::app::scaling::of(s, "prod", "web-frontend").is_some()
    })
    .await;
    let screen = console.screen();
    assert!(
        screen.contains(&format!(
            "auto scaling: min {} max {}, desired {}",
            target.min, target.max, target.max
        )),
        "{screen}"
    );
    assert!(
        screen.contains("ECSServiceAverageCPUUtilization"),
        "{screen}"
    );
    assert!(screen.contains("at max"), "{screen}");
    // At 80x24 the block still fits, above the events.
    let theme = crate::common::screen::theme("default");
    let small = crate::common::screen::text(&crate::common::screen::draw(
        &mut console.state,
        &theme,
        80,
        24,
    ));
    assert!(
        small.contains(&format!(
            "auto scaling: min {} max {}",
            target.min, target.max
        )) && small.contains("at max ")
            && small.contains("events"),
        "{small}"
    );
    assert!(
        screen.contains(&format!("AlarmHigh → {}", after.policies[0].name)),
        "the cause, shortened to the alarm and the policy:\n{screen}"
    );

    // The services row: marked only once held at the maximum past the threshold.
    let since = out.at().unwrap();
    console.apply(Action::Command(Command::Back));
    refresh_until(&mut console, &handle, "services row marked", |s| {
        if s.now_unix - since <= AT_MAX_MARK_SECS + 60 {
            return false;
        }
        match s.view() {
            View::Services(v) => v.data.rows.iter().any(|r| {
                r.service.name == "web-frontend"
                    && r.problems
                        .iter()
                        .any(|p| p.summary.starts_with("at max capacity for "))
            }),
            _ => false,
        }
    })
    .await;
    // ...and it was not marked before: the row problems come from the same rule.
    assert!(
        after
            .problems(target.max, since + AT_MAX_MARK_SECS)
            .is_empty()
    );

    // The timeline: an entry per activity, the blocked ones marked.
    // (One load, not a refresh every 250 ms: each refresh would replace the load in flight.)
    console.apply(Action::Command(Command::ShowTimeline));
    console.until("timeline loaded", loaded).await;
    let View::Timeline(v) = console.state.view() else {
        panic!("not on the timeline");
    };
    let scale: Vec<&str> = v
        .entries
        .iter()
        .filter(|e| e.kind == Kind::Scaling)
        .map(|e| e.text.as_str())
        .collect();
    assert!(
        scale
            .iter()
            .filter(|t| t.contains("blocked at maximum capacity"))
            .count()
            >= 2,
        "{scale:#?}"
    );
    assert!(
        scale.iter().any(|t| t.starts_with(&format!(
            "Setting desired count to {} Successful",
            target.max
        ))),
        "{scale:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_auto_scaling_leaves_the_pane_working_and_no_target_is_not_an_error() {
    let handle = start(SandboxOptions::default()).await;
    // A service that is not registered: one call, no target, no error.
    let (none, calls) = scaling(&handle, "orders-api").await;
    assert_eq!(none, Scaling::default());
    assert_eq!(calls.targets, 1);
    assert_eq!(calls.policies + calls.activities, 0);

    handle.set_faults(Faults {
        denied_operations: vec!["application-autoscaling:DescribeScalableTargets".into()],
        ..Faults::default()
    });
    let mut console = Console::new(&handle);
    on_service(&mut console, "prod", "web-frontend").await;
    console.apply(Action::Command(Command::ShowDeployments));
    refresh_until(&mut console, &handle, "auto scaling answered", |s| {
        loaded(s) && berth::app::scaling::of(s, "prod", "web-frontend").is_some()
    })
    .await;
    let screen = console.screen();
    assert!(
        screen.contains("auto scaling unavailable: access denied"),
        "{screen}"
    );
    assert!(
        screen.contains("PRIMARY"),
        "the rest still shows:\n{screen}"
    );
    handle.reset_stats();
    let denied = try_scaling(&handle, "web-frontend").await.unwrap_err();
    assert_eq!(denied.kind, berth::aws::ErrorKind::AccessDenied);
    assert_eq!(
        handle
            .stats()
            .count("application-autoscaling:DescribeScalableTargets"),
        1,
        "an access denial is not retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scalable_targets_are_read_fifty_resource_ids_a_call() {
    let handle = start(SandboxOptions::default()).await;
    let clients = console_clients(&handle).await;
    // 118 services that do not scale around the two demo services that do.
    let mut ids: Vec<String> = (0..118).map(|i| format!("service/prod/svc-{i}")).collect();
    ids.insert(7, "service/prod/web-frontend".into());
    ids.insert(77, "service/prod/checkout-api".into());
    let mut calls = Calls::default();
    let found = berth::aws::scaling::scalable_targets(&clients.autoscaling, &ids, &mut calls)
        .await
        .unwrap();
    assert_eq!(calls.targets, 3, "120 ids: 50 + 50 + 20");
    let mut names: Vec<&str> = found.iter().map(|t| t.resource_id.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["service/prod/checkout-api", "service/prod/web-frontend"]
    );
    assert_eq!(
        handle
            .stats()
            .count("application-autoscaling:DescribeScalableTargets"),
        3
    );
}
