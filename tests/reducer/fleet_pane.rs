//! The fleet view in the reducer and on screen: `:fleet` reads every pair in one load whose
//! answers arrive pair by pair (the table fills as they do, a failure on its own row), problems
//! first and the healthy collapsed per cluster; `enter` switches the session to the pair and
//! opens the service with nothing loaded through the old account's clients; `esc` lands back on
//! the same row; the header marks a protected account; background reloads wait for the fleet's
//! own interval and never overlap (80x24 and 140x30 snapshots).

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use berth::app::fleet::FleetSetup;
use berth::app::pane::{PaneData, PaneLoad};
use berth::app::{Action, Effect, State, View, update};
use berth::aws::AwsTarget;
use berth::aws::fleet::FleetTarget;
use berth::config::safety::Rule;
use berth::domain::fleet::{FleetPair, PairFailure, PairReport};
use berth::domain::{Deployment, Service};
use crossterm::event::KeyCode;

use crate::reducer;

const NOW: i64 = 1_800_000_000;

fn target(profile: &str, region: &str) -> FleetTarget {
    FleetTarget {
        pair: FleetPair::new(profile, region),
        target: AwsTarget {
            profile: Some(profile.into()),
            region: Some(region.into()),
            ..AwsTarget::default()
        },
        sso_session: None,
        account: None,
    }
}

fn service(account: &str, region: &str, cluster: &str, name: &str, running: i32) -> Service {
    Service {
        arn: format!("arn:aws:ecs:{region}:{account}:service/{cluster}/{name}"),
        name: name.into(),
        cluster_arn: format!("arn:aws:ecs:{region}:{account}:cluster/{cluster}"),
        status: "ACTIVE".into(),
        desired: 4,
        running,
        task_definition: format!("{name}:7"),
        deployments: vec![Deployment {
            id: format!("ecs-svc/{name}"),
            status: "PRIMARY".into(),
            rollout_state: Some("COMPLETED".into()),
            desired: 4,
            running,
            task_definition: format!("{name}:7"),
            created_at: Some(NOW - 86_400),
            ..Deployment::default()
        }],
        ..Service::default()
    }
}

fn setup() -> FleetSetup {
    FleetSetup {
        name: "prod".into(),
        targets: vec![
            target("prod-a", "us-east-1"),
            target("prod-a", "eu-west-1"),
            target("prod-b", "us-east-1"),
        ],
        unmatched: vec!["qa-*".into()],
        aliases: [("111111111111".to_string(), "payments".to_string())].into(),
    }
}

/// `:fleet` opened; the load's request.
fn opened(s: &mut State) -> u64 {
    s.fleet = Some(setup());
    let effects = berth::app::nav::run_command_line(s, "fleet").unwrap();
    effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadPane {
                request,
                load: PaneLoad::Fleet { targets },
            } => {
                assert_eq!(targets.len(), 3);
                Some(*request)
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("{effects:?}"))
}

fn answer(s: &mut State, request: u64, data: PaneData) -> Vec<Effect> {
    update(
        s,
        Action::PaneLoaded {
            request,
            result: Ok(data),
        },
    )
}

fn report_a_us() -> PairReport {
    // 2/4 running for over the grace: a problem; two healthy in prod, one in batch
    let mut broken = service("111111111111", "us-east-1", "prod", "checkout-api", 2);
    broken.deployments[0].updated_at = Some(NOW - 3600);
    PairReport {
        pair: FleetPair::new("prod-a", "us-east-1"),
        account: Some("111111111111".into()),
        outcome: Ok(vec![
            broken,
            service("111111111111", "us-east-1", "prod", "web", 4),
            service("111111111111", "us-east-1", "prod", "search", 4),
            service("111111111111", "us-east-1", "batch", "etl", 4),
        ]),
    }
}

fn report_b_expired() -> PairReport {
    PairReport {
        pair: FleetPair::new("prod-b", "us-east-1"),
        account: None,
        outcome: Err(PairFailure {
            what: "credentials expired (SSO session or session keys)".into(),
            fix: "aws sso login --profile prod-b, then ctrl-r".into(),
        }),
    }
}

#[test]
fn pairs_fill_in_as_they_answer_problems_first_failures_on_their_own_rows() {
    let mut s = reducer::signed_in(NOW, None, false, false);
    let request = opened(&mut s);
    let screen = reducer::screen(&mut s, "default", 80, 24);
    assert_eq!(screen.matches("loading…").count(), 3, "{screen}");
    answer(&mut s, request, PaneData::FleetPair(report_b_expired()));
    answer(&mut s, request, PaneData::FleetPair(report_a_us()));
    let screen = reducer::screen(&mut s, "default", 80, 24);
    // the failure and the problem are there while prod-a/eu-west-1 still loads
    assert!(screen.contains("reading 2/3"), "{screen}");
    let lines: Vec<&str> = screen.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle}:\n{screen}"))
    };
    assert!(
        at("(prod-b)") < at("checkout-api"),
        "a failed pair before a warning:\n{screen}"
    );
    assert!(at("checkout-api") < at("loading…"));
    assert!(at("loading…") < at("2 healthy"));
    assert!(
        lines[at("checkout-api")].starts_with("payments"),
        "the alias:\n{screen}"
    );
    assert!(
        lines[at("(prod-b)")].contains("credentials expired"),
        "{screen}"
    );
    assert!(
        screen.contains("no profile on this machine matches qa-*"),
        "{screen}"
    );
    answer(
        &mut s,
        request,
        PaneData::FleetPair(PairReport {
            pair: FleetPair::new("prod-a", "eu-west-1"),
            account: Some("111111111111".into()),
            outcome: Ok(vec![service("111111111111", "eu-west-1", "prod", "web", 4)]),
        }),
    );
    answer(&mut s, request, PaneData::FleetDone);
    let screen = reducer::screen(&mut s, "default", 80, 24);
    assert!(
        !screen.contains("loading…") && !screen.contains("reading"),
        "{screen}"
    );
    insta::assert_snapshot!("fleet_80x24", screen);
    insta::assert_snapshot!("fleet_140x30", reducer::screen(&mut s, "default", 140, 30));
}

#[test]
fn enter_switches_to_the_pair_without_loading_through_the_old_account_and_esc_comes_back() {
    let mut s = reducer::signed_in(NOW, None, false, false);
    let request = opened(&mut s);
    answer(&mut s, request, PaneData::FleetPair(report_a_us()));
    answer(&mut s, request, PaneData::FleetPair(report_b_expired()));
    answer(&mut s, request, PaneData::FleetDone);
    // a failed pair's enter says the fix and stays
    let effects = reducer::key(&mut s, KeyCode::Enter);
    assert!(effects.is_empty(), "{effects:?}");
    assert!(reducer::status(&s).contains("aws sso login --profile prod-b"));
    // the next row is checkout-api's
    reducer::key(&mut s, KeyCode::Down);
    let effects = reducer::key(&mut s, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::Connect(AwsTarget {
            profile: Some("prod-a".into()),
            region: Some("us-east-1".into()),
            ..AwsTarget::default()
        })],
        "only the reconnect: no load before the new clients exist"
    );
    assert_eq!(s.session.target.profile.as_deref(), Some("prod-a"));
    assert_eq!(s.views.len(), 3);
    let View::Deployments(v) = s.view() else {
        panic!("{:?}", s.view().context())
    };
    assert_eq!(
        (v.cluster.as_str(), v.service.as_str()),
        ("prod", "checkout-api")
    );
    // connected: now the service loads, through the new clients
    let effects = reducer::connect(&mut s);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadService { .. })),
        "{effects:?}"
    );
    reducer::key(&mut s, KeyCode::Esc);
    let screen = reducer::screen(&mut s, "default", 80, 24);
    assert!(screen.contains("fleet prod · 3 pairs"), "{screen}");
    assert!(
        screen.contains("prod-a/us-east-1 · checkout-api:"),
        "the same row selected:\n{screen}"
    );
}

#[test]
fn the_header_marks_a_protected_account_of_the_selected_row() {
    let mut s = reducer::signed_in(NOW, None, false, false);
    s.safety.accounts.insert(
        "111111111111".into(),
        Rule {
            protected: true,
            read_only: false,
        },
    );
    let request = opened(&mut s);
    answer(&mut s, request, PaneData::FleetPair(report_a_us()));
    answer(&mut s, request, PaneData::FleetPair(report_b_expired()));
    answer(&mut s, request, PaneData::FleetDone);
    // the failed pair first: its account is not known, nothing to mark
    let screen = reducer::screen(&mut s, "default", 80, 24);
    assert!(
        !screen.lines().next().unwrap().contains("protected"),
        "{screen}"
    );
    reducer::key(&mut s, KeyCode::Down);
    let screen = reducer::screen(&mut s, "default", 80, 24);
    assert!(
        screen
            .lines()
            .next()
            .unwrap()
            .contains("protected account: payments"),
        "{screen}"
    );
}

#[test]
fn background_reloads_wait_for_the_fleet_interval_and_never_overlap() {
    let mut s = reducer::signed_in(NOW, None, false, false);
    let request = opened(&mut s);
    // a tick while the load is out: no second load
    update(&mut s, Action::Tick { now_unix: NOW + 60 });
    let effects = update(&mut s, Action::RefreshDue);
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::LoadPane { .. })),
        "{effects:?}"
    );
    answer(&mut s, request, PaneData::FleetDone);
    let due = |s: &mut State, at: i64| {
        update(s, Action::Tick { now_unix: at });
        update(s, Action::RefreshDue).into_iter().any(|e| {
            matches!(
                e,
                Effect::LoadPane {
                    load: PaneLoad::Fleet { .. },
                    ..
                }
            )
        })
    };
    // three pairs: every 30 s (the fleet's floor), not the console's 5
    assert!(!due(&mut s, NOW + 70));
    assert!(!due(&mut s, NOW + 89));
    assert!(due(&mut s, NOW + 91));
}

#[test]
fn entering_another_account_forgets_what_was_read_of_the_last_one() {
    // history and auto scaling are kept by `cluster/service` names, which repeat across
    // accounts: prod/checkout-api of one account must not show another's rollback
    let mut s = reducer::signed_in(NOW, None, false, false);
    let request = opened(&mut s);
    answer(&mut s, request, PaneData::FleetPair(report_a_us()));
    answer(&mut s, request, PaneData::FleetDone);
    s.scalings.insert(
        "prod/checkout-api".into(),
        berth::domain::scaling::ScalingState {
            loaded_at: NOW,
            result: Err("read in the previous account".into()),
        },
    );
    s.targets.settings_error = Some("read in the previous account".into());
    reducer::key(&mut s, KeyCode::Enter);
    assert_eq!(s.session.target.profile.as_deref(), Some("prod-a"));
    assert!(s.scalings.is_empty(), "{:?}", s.scalings);
    assert!(s.histories.is_empty());
    assert!(s.targets.settings_error.is_none());
}

#[test]
fn fleet_name_opens_a_fleet_of_config_toml_against_the_known_profiles() {
    use berth::config::settings::FleetSpec;
    let mut s = reducer::signed_in(NOW, None, false, false);
    s.known_profiles = ["dev", "prod-a", "prod-b"].map(String::from).to_vec();
    for (name, profiles) in [("prod", "prod-*"), ("dev", "dev")] {
        s.fleet_config.specs.insert(
            name.into(),
            FleetSpec {
                profiles: vec![profiles.into()],
                regions: vec!["us-east-1".into(), "eu-west-1".into()],
            },
        );
    }
    let err = berth::app::nav::run_command_line(&mut s, "fleet").unwrap_err();
    assert!(err.contains("which fleet? :fleet dev, prod"), "{err}");
    let err = berth::app::nav::run_command_line(&mut s, "fleet nope").unwrap_err();
    assert!(
        err.contains("no [fleet.nope] in config.toml (there: dev, prod)"),
        "{err}"
    );
    let effects = berth::app::nav::run_command_line(&mut s, "fleet prod").unwrap();
    let pairs: Vec<String> = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadPane {
                load: PaneLoad::Fleet { targets },
                ..
            } => Some(targets.iter().map(|t| t.pair.key()).collect()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{effects:?}"));
    assert_eq!(
        pairs,
        [
            "prod-a/eu-west-1",
            "prod-a/us-east-1",
            "prod-b/eu-west-1",
            "prod-b/us-east-1"
        ]
    );
    assert!(reducer::screen(&mut s, "default", 80, 24).contains("fleet prod · 4 pairs"));
    assert_eq!(
        berth::app::nav::complete(&s, "fleet p"),
        ["fleet prod"],
        "completion offers the fleets"
    );
}

#[test]
fn a_background_reload_that_changes_nothing_draws_nothing() {
    let mut s = reducer::signed_in(NOW, None, false, false);
    let request = opened(&mut s);
    let eu = || PairReport {
        pair: FleetPair::new("prod-a", "eu-west-1"),
        account: Some("111111111111".into()),
        outcome: Ok(vec![service("111111111111", "eu-west-1", "prod", "web", 4)]),
    };
    for r in [report_a_us(), report_b_expired(), eu()] {
        answer(&mut s, request, PaneData::FleetPair(r));
    }
    answer(&mut s, request, PaneData::FleetDone);
    reducer::screen(&mut s, "default", 80, 24);
    s.dirty = false;
    update(
        &mut s,
        Action::Tick {
            now_unix: NOW + 100,
        },
    );
    let effects = update(&mut s, Action::RefreshDue);
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadPane { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{effects:?}"));
    s.dirty = false;
    for r in [report_a_us(), report_b_expired(), eu()] {
        answer(&mut s, request, PaneData::FleetPair(r));
        assert!(!s.dirty, "an unchanged pair asked for a frame");
        // a frame drawn for another reason shows no progress of a background read either
        let mid = reducer::screen(&mut s, "default", 80, 24);
        assert!(!mid.contains("reading"), "{mid}");
        s.dirty = false;
    }
    answer(&mut s, request, PaneData::FleetDone);
    assert!(!s.dirty, "the end of an unchanged reload asked for a frame");
    let screen = reducer::screen(&mut s, "default", 80, 24);
    assert!(!screen.contains("reading"), "{screen}");
}
