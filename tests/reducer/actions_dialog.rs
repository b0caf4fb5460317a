//! Mutating actions in the reducer: the confirmation dialogs (what, where, current
//! deployments), protected accounts typing the name, field validation, read-only refusing
//! before any dialog (and showing the actions as disabled), and following a rollout to its
//! end. Snapshots of the dialogs at 80x24.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use berth::app::mutations::FieldKind;
use berth::app::{Action, Command, DataEvent, Effect, IdentityState, Session, State, update};
use berth::aws::AwsTarget;
use berth::config::keymap::Keymap;
use berth::domain::mutation::Mutation;
use berth::domain::{Deployment, Identity, Service};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::reducer::{self, key, status, typed};

const NOW: i64 = 1_700_000_000;

fn deployment(id: &str, status: &str, rollout: &str, td: &str, age: i64) -> Deployment {
    Deployment {
        id: id.into(),
        status: status.into(),
        rollout_state: Some(rollout.into()),
        rollout_state_reason: None,
        desired: 4,
        pending: 0,
        running: if status == "PRIMARY" { 2 } else { 4 },
        failed_tasks: if rollout == "FAILED" { 3 } else { 0 },
        task_definition: td.into(),
        launch_type: Some("FARGATE".into()),
        created_at: Some(NOW - age),
        updated_at: Some(NOW - age),
    }
}

fn service(deployments: Vec<Deployment>) -> Service {
    Service {
        arn: "arn:aws:ecs:eu-west-1:210987654321:service/prod/checkout-api".into(),
        name: "checkout-api".into(),
        status: "ACTIVE".into(),
        desired: 4,
        running: 4,
        task_definition: "checkout-api:43".into(),
        deployments,
        ..Service::default()
    }
}

fn rolling() -> Service {
    service(vec![
        deployment(
            "ecs-svc/2",
            "PRIMARY",
            "IN_PROGRESS",
            "checkout-api:43",
            120,
        ),
        deployment(
            "ecs-svc/1",
            "ACTIVE",
            "COMPLETED",
            "checkout-api:42",
            86_400,
        ),
    ])
}

/// On the services of prod with checkout-api loaded and selected.
fn state(read_only: bool, protected: bool, svc: Service) -> State {
    let mut s = reducer::signed_in(NOW, Some("prod-admin"), read_only, protected);
    // As a config rule would have it (rules are re-applied when the identity arrives).
    s.session.protected = protected;
    s.views.push(berth::app::nav::services_view("prod"));
    let effects = update(&mut s, Action::Command(Command::Refresh));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadServices { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap();
    for event in [DataEvent::Services(vec![svc]), DataEvent::Done] {
        update(&mut s, Action::Data { request, event });
    }
    s
}

#[test]
fn force_deploy_dialog_names_the_target_and_confirms_with_y() {
    let mut s = state(false, false, rolling());
    let effects = update(&mut s, Action::Command(Command::ForceDeploy));
    assert!(effects.is_empty(), "nothing is sent before confirming");
    let screen = render(&mut s);
    insta::assert_snapshot!("dialog_force_deploy_80x24", screen);
    assert!(screen.contains("Force new deployment"), "{screen}");
    let text = s.dialog.as_ref().unwrap().lines.join("\n");
    for needle in [
        "service prod/checkout-api",
        "account 210987654321 (assumed-role/OnCall/alice)",
        "region eu-west-1",
        "profile prod-admin",
        "PRIMARY checkout-api:43 IN_PROGRESS 2/4 running",
        "ACTIVE checkout-api:42 COMPLETED 4/4 running",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    // n cancels, nothing sent.
    assert!(key(&mut s, KeyCode::Char('n')).is_empty());
    assert!(s.dialog.is_none());
    // y confirms: exactly one mutation, with who is acting.
    update(&mut s, Action::Command(Command::ForceDeploy));
    let effects = key(&mut s, KeyCode::Char('y'));
    let [Effect::Mutate { mutation, actor }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(
        mutation,
        &Mutation::ForceNewDeployment {
            cluster: "prod".into(),
            service: "checkout-api".into()
        }
    );
    assert_eq!(actor.account.as_deref(), Some("210987654321"));
    assert_eq!(actor.profile.as_deref(), Some("prod-admin"));
    assert!(s.dialog.is_none());
}

#[test]
fn a_protected_account_needs_the_name_typed() {
    let mut s = state(false, true, rolling());
    update(&mut s, Action::Command(Command::Scale));
    let d = s.dialog.clone().unwrap();
    assert_eq!(d.fields.len(), 2);
    assert_eq!(
        d.fields[0].text, "4",
        "prefilled with the current desired count"
    );
    assert_eq!(d.fields[1].kind, FieldKind::Confirm("checkout-api".into()));
    // y is text here, not a confirmation.
    update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    typed(&mut s, "7");
    key(&mut s, KeyCode::Enter); // next field
    assert_eq!(s.dialog.as_ref().unwrap().focus, 1);
    typed(&mut s, "checkout-ap");
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    let screen = render(&mut s);
    insta::assert_snapshot!("dialog_scale_protected_80x24", screen);
    assert!(screen.contains("type checkout-api to confirm"), "{screen}");
    assert!(screen.contains("protected account"), "{screen}");
    typed(&mut s, "i");
    let effects = key(&mut s, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::Mutate {
            mutation: Mutation::Scale {
                cluster: "prod".into(),
                service: "checkout-api".into(),
                from: 4,
                to: 7
            },
            actor: berth::app::mutations::actor(&s),
        }]
    );
}

#[test]
fn bad_fields_are_refused_with_a_reason() {
    let mut s = state(false, false, rolling());
    update(&mut s, Action::Command(Command::Scale));
    key(&mut s, KeyCode::Backspace);
    typed(&mut s, "lots");
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    let err = s.dialog.as_ref().unwrap().error.clone().unwrap();
    assert!(err.contains("whole number"), "{err}");
    update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    typed(&mut s, "4");
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    assert!(
        s.dialog
            .as_ref()
            .unwrap()
            .error
            .as_deref()
            .unwrap()
            .contains("nothing to change")
    );
    key(&mut s, KeyCode::Esc);
    assert!(s.dialog.is_none());
}

#[test]
fn roll_back_targets_the_last_completed_deployment_or_says_why_not() {
    let mut s = state(false, false, rolling());
    update(&mut s, Action::Command(Command::RollBack));
    let d = s.dialog.clone().unwrap();
    assert_eq!(
        d.mutation,
        Mutation::RollBack {
            cluster: "prod".into(),
            service: "checkout-api".into(),
            from: "checkout-api:43".into(),
            to: "checkout-api:42".into()
        }
    );
    // One COMPLETED deployment only: nothing listed to go back to.
    let mut s = state(
        false,
        false,
        service(vec![deployment(
            "ecs-svc/2",
            "PRIMARY",
            "COMPLETED",
            "checkout-api:43",
            120,
        )]),
    );
    update(&mut s, Action::Command(Command::RollBack));
    assert!(s.dialog.is_none());
    assert!(
        status(&s).contains("no earlier COMPLETED deployment"),
        "{}",
        status(&s)
    );
}

#[test]
fn read_only_refuses_before_any_dialog_and_shows_actions_disabled() {
    let mut s = state(true, false, rolling());
    for cmd in [
        Command::ForceDeploy,
        Command::Scale,
        Command::RollBack,
        Command::StopTask,
    ] {
        let effects = update(&mut s, Action::Command(cmd));
        assert!(effects.is_empty(), "{cmd:?}: {effects:?}");
        assert!(s.dialog.is_none());
        assert!(status(&s).contains("read-only"), "{cmd:?}");
    }
    s.status = None;
    let screen = render(&mut s);
    assert!(
        !screen.contains("force deploy"),
        "no hint for it:\n{screen}"
    );
    assert!(screen.contains("READ-ONLY"), "{screen}");
    update(&mut s, Action::Command(Command::Help));
    let mut tall = String::new();
    for _ in 0..20 {
        tall.push_str(&render(&mut s));
        update(&mut s, Action::Command(Command::PageDown));
    }
    assert!(tall.contains("disabled (read-only): Force a new"), "{tall}");
}

#[test]
fn a_forced_deployment_is_followed_to_its_end() {
    let mut s = state(false, false, rolling());
    let m = Mutation::ForceNewDeployment {
        cluster: "prod".into(),
        service: "checkout-api".into(),
    };
    let effects = update(
        &mut s,
        Action::Mutated {
            mutation: m.clone(),
            result: Ok("checkout-api: new deployment started; following it".into()),
        },
    );
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadService {
                request, service, ..
            } if service == "checkout-api" => Some(*request),
            _ => None,
        })
        .expect("the deployments pane loads");
    assert!(
        s.breadcrumbs()
            .join(" › ")
            .ends_with("checkout-api › deployments")
    );
    // Still rolling: nothing said yet.
    let mut new = rolling();
    new.deployments[0].created_at = Some(NOW + 1);
    update(
        &mut s,
        Action::Data {
            request,
            event: DataEvent::Services(vec![new.clone()]),
        },
    );
    assert!(!status(&s).contains("COMPLETED"));
    new.deployments[0].rollout_state = Some("COMPLETED".into());
    new.deployments[0].running = 4;
    let request = s.next_request;
    update(&mut s, Action::Command(Command::Refresh));
    update(
        &mut s,
        Action::Data {
            request,
            event: DataEvent::Services(vec![new]),
        },
    );
    assert_eq!(
        status(&s),
        "checkout-api: new deployment COMPLETED (4 running)"
    );
    assert!(s.watch.is_none());
    // A failure is an error in the status bar.
    let failed = update(
        &mut s,
        Action::Mutated {
            mutation: m,
            result: Err(berth::app::Failure::Aws(berth::aws::AwsError::new(
                berth::aws::ErrorKind::ExpiredCredentials,
                "ecs:UpdateService",
                "The security token included in the request is expired",
            ))),
        },
    );
    assert!(failed.is_empty());
    assert!(s.status.as_ref().unwrap().is_error);
    // An expired token met by a mutation raises the credentials banner with its fix.
    let banner = s.banner.clone().expect("the credentials banner");
    assert_eq!(banner.title, "AWS credentials expired");
}

#[test]
fn config_rules_protect_by_account_and_make_profiles_read_only() {
    let safety = berth::config::safety::Safety::from_toml_str(
        "[accounts.\"210987654321\"]\nprotected = true\n\n[profiles.\"audit-*\"]\nread_only = true\n",
        "config.toml",
    )
    .unwrap();
    // The account rule applies once the identity is known.
    let session = Session {
        target: AwsTarget {
            profile: Some("prod-admin".into()),
            ..AwsTarget::default()
        },
        region: None,
        connected: false,
        identity: IdentityState::Pending,
        read_only: false,
        protected: false,
        demo: false,
    };
    let mut s = State::new(session, Keymap::load(None, None).unwrap().0, 5, NOW);
    s.safety = safety.clone();
    s.apply_safety();
    assert!(!s.session.protected, "account not known yet");
    update(
        &mut s,
        Action::IdentityResolved(Ok(Identity {
            account: "210987654321".into(),
            arn: "arn:aws:sts::210987654321:assumed-role/OnCall/alice".into(),
            user_id: "x".into(),
        })),
    );
    assert!(s.session.protected);
    assert!(render(&mut s).contains("PRODUCTION"));
    // Switching to a read-only profile makes actions impossible.
    let effects = update(&mut s, Action::Command(Command::CommandMode));
    assert!(effects.is_empty());
    typed(&mut s, "profile audit-eu");
    key(&mut s, KeyCode::Enter);
    assert!(s.session.read_only, "audit-* is read-only");
    assert!(!s.session.protected, "the account is not known again yet");
    assert!(render(&mut s).contains("READ-ONLY"));
}

fn render(s: &mut State) -> String {
    reducer::screen(s, "default", 80, 24)
}
