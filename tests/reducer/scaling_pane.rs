//! Auto scaling in the reducer and the deployments pane: the view asks for it with the
//! service, the pane shows the range, the policy and the activities with their cause at
//! 80x24, the services row says "at max capacity" only past the threshold, and an access
//! denial or an unregistered service is one line.

use berth::app::views::{ServiceView, ServicesView};
use berth::app::{Action, Command, DataEvent, Effect, State, View, update};
use berth::aws::{AwsError, ErrorKind};
use berth::domain::scaling::{
    AT_MAX_MARK_SECS, ActivityStatus, PolicyKind, ScalableTarget, Scaling, ScalingActivity,
    ScalingPolicy, Suspended,
};
use berth::domain::timeline::{Kind, Severity, TimelineData};
use berth::domain::{Deployment, Service, ServiceEvent};

use crate::reducer::signed_in;
use crate::screen;

const NOW: i64 = 1_800_000_000;
const CLUSTER: &str = "arn:aws:ecs:eu-west-1:210987654321:cluster/prod";
const CAUSE: &str = "monitor alarm TargetTracking-service/prod/web-frontend-AlarmHigh-6f1c2a9e in state ALARM triggered policy cpu60";

fn service() -> Service {
    Service {
        arn: "arn:aws:ecs:eu-west-1:210987654321:service/prod/web-frontend".into(),
        name: "web-frontend".into(),
        cluster_arn: CLUSTER.into(),
        status: "ACTIVE".into(),
        desired: 6,
        running: 6,
        task_definition: "web-frontend:12".into(),
        deployments: vec![Deployment {
            id: "ecs-svc/7770001".into(),
            status: "PRIMARY".into(),
            rollout_state: Some("COMPLETED".into()),
            desired: 6,
            running: 6,
            task_definition: "web-frontend:12".into(),
            created_at: Some(NOW - 7200),
            updated_at: Some(NOW - 7000),
            ..Deployment::default()
        }],
        events: vec![ServiceEvent {
            id: "e1".into(),
            created_at: Some(NOW - 900),
            message: "(service web-frontend) has started 2 tasks: (task a) (task b).".into(),
        }],
        ..Service::default()
    }
}

fn activity(ago: i64, status: &str, count: i32, message: &str, at_max: bool) -> ScalingActivity {
    ScalingActivity {
        id: format!("act-{ago}"),
        description: format!("Setting desired count to {count}."),
        cause: CAUSE.into(),
        status: ActivityStatus::parse(status),
        status_message: Some(message.into()),
        start: Some(NOW - ago),
        end: Some(NOW - ago),
        not_scaled: if at_max {
            vec!["AlreadyAtMaxCapacity".into()]
        } else {
            Vec::new()
        },
    }
}

/// Scaled out to 6 (the maximum) `out_ago` seconds before NOW, blocked since.
fn at_max(out_ago: i64) -> Scaling {
    Scaling {
        target: Some(ScalableTarget {
            resource_id: "service/prod/web-frontend".into(),
            min: 2,
            max: 6,
            suspended: Suspended::default(),
        }),
        policies: vec![ScalingPolicy {
            name: "cpu60".into(),
            kind: PolicyKind::TargetTracking {
                target: 60.0,
                metric: "ECSServiceAverageCPUUtilization".into(),
                scale_in_disabled: false,
            },
        }],
        activities: vec![
            activity(
                60,
                "Failed",
                7,
                "Failed to set desired count to 7. Reason: maximum capacity reached (6)",
                true,
            ),
            activity(360, "Failed", 7, "Failed to set desired count to 7.", true),
            activity(
                out_ago,
                "Successful",
                6,
                "Successfully set desired count to 6.",
                false,
            ),
        ],
        activities_unavailable: None,
    }
}

fn deployments_view() -> State {
    let mut s = signed_in(NOW, None, false, false);
    let mut view = ServicesView {
        cluster: CLUSTER.into(),
        ..ServicesView::default()
    };
    view.data.begin(5, true);
    s.views.push(View::Services(view));
    for event in [DataEvent::Services(vec![service()]), DataEvent::Done] {
        update(&mut s, Action::Data { request: 5, event });
    }
    let mut view = ServiceView {
        cluster: CLUSTER.into(),
        service: "web-frontend".into(),
        ..ServiceView::default()
    };
    view.data.begin(77, true);
    s.views.push(View::Deployments(view));
    for event in [DataEvent::Services(vec![service()]), DataEvent::Done] {
        update(&mut s, Action::Data { request: 77, event });
    }
    s
}

fn answer(s: &mut State, result: Result<Scaling, AwsError>) {
    update(
        s,
        Action::ScalingLoaded {
            cluster: CLUSTER.into(),
            service: "web-frontend".into(),
            result,
        },
    );
}

fn render(s: &mut State) -> String {
    screen::text(&screen::draw(s, &screen::theme("default"), 80, 24))
}

fn row_problems(s: &State) -> Vec<String> {
    s.views
        .iter()
        .find_map(|v| match v {
            View::Services(v) => v.data.rows.first().cloned(),
            _ => None,
        })
        .map(|r| r.problems.into_iter().map(|p| p.summary).collect())
        .unwrap_or_default()
}

#[test]
fn the_deployments_view_asks_for_auto_scaling_with_the_service() {
    let mut s = deployments_view();
    let effects = update(&mut s, Action::Command(Command::Refresh));
    assert!(
        effects.iter().any(|e| matches!(e,
            Effect::LoadScaling { cluster, service } if cluster == CLUSTER && service == "web-frontend")),
        "{effects:?}"
    );
}

#[test]
fn the_pane_shows_the_range_policy_and_activities_at_80x24() {
    let mut s = deployments_view();
    answer(&mut s, Ok(at_max(900)));
    let screen = render(&mut s);
    insta::assert_snapshot!("scaling_at_max_80x24", screen);
    assert!(
        screen.contains("auto scaling: min 2 max 6, desired 6 · at maximum for 15m"),
        "{screen}"
    );
    assert!(screen.contains("cpu60"), "{screen}");
    assert!(screen.contains("at max"), "{screen}");
    assert!(screen.contains("maximum capacity reached"), "{screen}");
    assert!(screen.contains("events"), "the events keep room:\n{screen}");
}

#[test]
fn the_services_row_says_at_max_capacity_only_past_the_threshold() {
    let mut s = deployments_view();
    answer(&mut s, Ok(at_max(AT_MAX_MARK_SECS - 60)));
    assert!(
        !row_problems(&s).iter().any(|p| p.starts_with("at max")),
        "{:?}",
        row_problems(&s)
    );
    answer(&mut s, Ok(at_max(AT_MAX_MARK_SECS + 240)));
    // a warning: before the circuit breaker's notice
    assert_eq!(
        row_problems(&s).first().map(String::as_str),
        Some("at max capacity for 14m")
    );
}

#[test]
fn denied_or_unregistered_is_one_line_and_the_rest_stays() {
    let mut s = deployments_view();
    answer(
        &mut s,
        Err(AwsError::new(
            ErrorKind::AccessDenied,
            "application-autoscaling:DescribeScalableTargets",
            "not authorized",
        )),
    );
    let screen = render(&mut s);
    assert!(
        screen.contains("auto scaling unavailable: access denied"),
        "{screen}"
    );
    assert!(screen.contains("PRIMARY"), "{screen}");
    assert!(screen.contains("has started 2 tasks"), "{screen}");
    assert!(!row_problems(&s).iter().any(|p| p.starts_with("at max")));
    answer(&mut s, Ok(Scaling::default()));
    let screen = render(&mut s);
    assert!(screen.contains("no auto scaling"), "{screen}");
    assert!(!screen.contains("unavailable"), "{screen}");
}

#[test]
fn the_timeline_has_an_entry_per_activity_and_its_read_marks_the_services_row() {
    let mut s = deployments_view();
    let effects = update(&mut s, Action::Command(Command::ShowTimeline));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadTimeline { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{effects:?}"));
    update(
        &mut s,
        Action::TimelineLoaded {
            request,
            result: Ok(Box::new(TimelineData {
                service: Some(service()),
                scaling: Some(at_max(900)),
                ..TimelineData::default()
            })),
        },
    );
    let View::Timeline(v) = s.view() else {
        panic!("not on the timeline");
    };
    let scaling: Vec<&str> = v
        .entries
        .iter()
        .filter(|e| e.kind == Kind::Scaling)
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(
        scaling,
        [
            "Setting desired count to 7 blocked at maximum capacity — AlarmHigh → cpu60",
            "Setting desired count to 7 blocked at maximum capacity — AlarmHigh → cpu60",
            "Setting desired count to 6 Successful — AlarmHigh → cpu60",
        ]
    );
    assert!(
        v.entries
            .iter()
            .filter(|e| e.kind == Kind::Scaling)
            .take(2)
            .all(|e| e.severity == Severity::Bad)
    );
    // the services view under it: the timeline's read marks its row (no second read)
    assert_eq!(
        row_problems(&s).first().map(String::as_str),
        Some("at max capacity for 15m")
    );
}

#[test]
fn untrusted_causes_and_messages_reach_the_screen_as_visible_text() {
    let mut s = deployments_view();
    let mut scaling = at_max(900);
    scaling.activities[0].cause = "monitor alarm x\u{1b}]52;c;aGk=\u{7} in state ALARM".into();
    scaling.activities[0].status_message = Some("\u{1b}[2Jcleared\u{9b}31m".into());
    answer(&mut s, Ok(scaling));
    let screen = render(&mut s);
    assert!(
        !screen.contains('\u{1b}') && !screen.contains('\u{9b}'),
        "{screen:?}"
    );
    assert!(screen.contains("cleared"), "{screen}");
}
