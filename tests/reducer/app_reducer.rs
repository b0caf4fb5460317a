//! Reducer tests: actions in, state and effects out. No terminal, no network.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use berth::app::{Action, Command, DataEvent, Effect, IdentityState, Load, State, View, update};
use berth::aws::{AwsError, ErrorKind};
use berth::domain::{Cluster, Identity};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::reducer;

fn state() -> State {
    reducer::unconnected(1_700_000_000, Some("prod"), false, false)
}

fn cluster(name: &str, running: i32) -> Cluster {
    Cluster {
        arn: format!("arn:aws:ecs:us-east-1:123456789012:cluster/{name}"),
        name: name.into(),
        status: "ACTIVE".into(),
        running_tasks: running,
        ..Cluster::default()
    }
}

fn selected_cluster(s: &State) -> Option<&Cluster> {
    s.clusters
        .table
        .selected_row()
        .and_then(|i| s.clusters.data.rows.get(i))
}

fn names(s: &State) -> Vec<String> {
    s.clusters
        .table
        .visible
        .iter()
        .map(|&i| s.clusters.data.rows[i].name.clone())
        .collect()
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn special(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// Connect and return the clusters request id the reducer asked for.
fn connected(state: &mut State) -> u64 {
    let effects = reducer::connect(state);
    assert!(effects.contains(&Effect::ResolveIdentity), "{effects:?}");
    effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadClusters { request } => Some(*request),
            _ => None,
        })
        .expect("a clusters load after connecting")
}

fn load(state: &mut State, request: u64, clusters: Vec<Cluster>) {
    let total = clusters.len();
    update(
        state,
        Action::Data {
            request,
            event: DataEvent::Listed(total),
        },
    );
    update(
        state,
        Action::Data {
            request,
            event: DataEvent::Clusters(clusters),
        },
    );
    update(
        state,
        Action::Data {
            request,
            event: DataEvent::Done,
        },
    );
}

#[test]
fn connecting_asks_for_identity_and_clusters() {
    let mut s = state();
    let request = connected(&mut s);
    assert_eq!(s.session.region.as_deref(), Some("eu-west-1"));
    assert!(matches!(s.clusters.data.load, Load::Loading { request: r, .. } if r == request));
}

#[test]
fn first_load_shows_rows_as_batches_arrive_sorted_by_name() {
    let mut s = state();
    let request = connected(&mut s);
    update(
        &mut s,
        Action::Data {
            request,
            event: DataEvent::Listed(3),
        },
    );
    update(
        &mut s,
        Action::Data {
            request,
            event: DataEvent::Clusters(vec![cluster("staging", 1), cluster("batch", 2)]),
        },
    );
    assert!(s.clusters.data.load.is_loading());
    update(
        &mut s,
        Action::Data {
            request,
            event: DataEvent::Clusters(vec![cluster("prod", 3)]),
        },
    );
    update(
        &mut s,
        Action::Data {
            request,
            event: DataEvent::Done,
        },
    );
    assert_eq!(names(&s), ["batch", "prod", "staging"]);
    assert!(!s.clusters.data.load.is_loading());
}

#[test]
fn answers_to_a_superseded_request_are_ignored() {
    let mut s = state();
    let old = connected(&mut s);
    let effects = update(&mut s, Action::Command(Command::Refresh));
    let Some(Effect::LoadClusters { request: new }) = effects.first().cloned() else {
        panic!("refresh should reload clusters: {effects:?}");
    };
    assert_ne!(old, new);
    load(&mut s, old, vec![cluster("stale", 1)]);
    assert!(s.clusters.data.rows.is_empty(), "old answer must not land");
    load(&mut s, new, vec![cluster("fresh", 1)]);
    assert_eq!(names(&s), ["fresh"]);
}

#[test]
fn identical_refresh_results_do_not_redraw() {
    let mut s = state();
    let first = connected(&mut s);
    load(&mut s, first, vec![cluster("prod", 3)]);
    update(&mut s, Action::IdentityResolved(Ok(Identity::default())));
    s.dirty = false;
    let effects = update(&mut s, Action::RefreshDue);
    let Some(Effect::LoadClusters { request }) = effects.first().cloned() else {
        panic!("refresh due should reload: {effects:?}");
    };
    assert!(!s.dirty, "a background refresh shows no spinner");
    update(
        &mut s,
        Action::Tick {
            now_unix: 1_700_000_001,
        },
    );
    assert!(!s.dirty, "nor does a tick during it");
    load(&mut s, request, vec![cluster("prod", 3)]);
    assert!(!s.dirty, "same data must not mark the screen dirty");

    let effects = update(&mut s, Action::RefreshDue);
    let Some(Effect::LoadClusters { request }) = effects.first().cloned() else {
        panic!("{effects:?}");
    };
    s.dirty = false;
    load(&mut s, request, vec![cluster("prod", 4)]);
    assert!(s.dirty, "changed data must redraw");
    assert_eq!(s.clusters.data.rows[0].running_tasks, 4);
}

#[test]
fn refresh_due_does_not_stack_requests_and_waits_for_a_connection() {
    let mut s = state();
    assert!(
        update(&mut s, Action::RefreshDue).is_empty(),
        "not connected yet"
    );
    connected(&mut s);
    assert!(
        update(&mut s, Action::RefreshDue).is_empty(),
        "a load is already in flight"
    );
}

#[test]
fn keys_move_select_drill_down_and_back() {
    let mut s = state();
    let request = connected(&mut s);
    load(
        &mut s,
        request,
        vec![cluster("a", 1), cluster("b", 1), cluster("c", 1)],
    );
    update(&mut s, key('j'));
    update(&mut s, special(KeyCode::Down));
    update(&mut s, special(KeyCode::Down));
    assert_eq!(
        s.clusters.table.selected, 2,
        "selection stops at the last row"
    );
    update(&mut s, key('k'));
    assert_eq!(s.clusters.table.selected, 1);
    update(&mut s, key('G'));
    assert_eq!(s.clusters.table.selected, 2);
    update(&mut s, key('g'));
    assert_eq!(s.clusters.table.selected, 0);

    update(&mut s, special(KeyCode::Down));
    update(&mut s, special(KeyCode::Enter));
    assert!(matches!(s.view(), View::Services(v) if v.cluster == "b"));
    assert_eq!(s.breadcrumbs(), ["b", "services"]);
    update(&mut s, special(KeyCode::Esc));
    assert!(matches!(s.view(), View::Clusters));
    update(&mut s, special(KeyCode::Esc));
    assert!(
        matches!(s.view(), View::Clusters),
        "back at the root stays there"
    );
}

#[test]
fn selection_follows_the_cluster_across_refreshes() {
    let mut s = state();
    let request = connected(&mut s);
    load(&mut s, request, vec![cluster("b", 1), cluster("c", 1)]);
    update(&mut s, key('j'));
    assert_eq!(selected_cluster(&s).map(|c| c.name.as_str()), Some("c"));
    let Some(Effect::LoadClusters { request }) = update(&mut s, Action::Command(Command::Refresh))
        .first()
        .cloned()
    else {
        panic!("refresh");
    };
    load(
        &mut s,
        request,
        vec![cluster("a", 1), cluster("b", 1), cluster("c", 1)],
    );
    assert_eq!(selected_cluster(&s).map(|c| c.name.as_str()), Some("c"));
}

#[test]
fn q_quits_and_ctrl_c_too() {
    let mut s = state();
    assert_eq!(update(&mut s, key('q')), vec![Effect::quit()]);
    assert!(s.quitting);
    let mut s = state();
    let ctrl_c = Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(update(&mut s, ctrl_c), vec![Effect::quit()]);
}

#[test]
fn help_opens_scrolls_and_closes_without_moving_the_table() {
    let mut s = state();
    let request = connected(&mut s);
    load(&mut s, request, vec![cluster("a", 1), cluster("b", 1)]);
    update(&mut s, key('?'));
    assert_eq!(s.help, Some(0));
    update(&mut s, key('j'));
    assert_eq!(s.help, Some(1), "down scrolls the help");
    assert_eq!(s.clusters.table.selected, 0, "and does not move the table");
    update(&mut s, special(KeyCode::Esc));
    assert_eq!(s.help, None);
    assert!(matches!(s.view(), View::Clusters));
}

#[test]
fn expired_sso_credentials_show_a_banner_with_the_fix_and_clear_on_success() {
    let mut s = state();
    let request = connected(&mut s);
    let err = AwsError::new(
        ErrorKind::ExpiredCredentials,
        "sts:GetCallerIdentity",
        "the SSO session has expired",
    );
    update(&mut s, Action::IdentityResolved(Err(err)));
    let banner = s.banner.clone().expect("a banner");
    assert!(banner.title.contains("expired"), "{banner:?}");
    assert!(
        banner
            .fix
            .as_deref()
            .unwrap_or_default()
            .contains("aws sso login --profile prod"),
        "{banner:?}"
    );
    // The user logs in; the next call succeeds and the banner goes away by itself.
    update(
        &mut s,
        Action::IdentityResolved(Ok(Identity {
            account: "123456789012".into(),
            arn: "arn:aws:sts::123456789012:assumed-role/OnCall/alice".into(),
            user_id: "x".into(),
        })),
    );
    assert!(s.banner.is_none());
    load(&mut s, request, vec![cluster("a", 1)]);
    assert!(matches!(s.session.identity, IdentityState::Known(_)));
}

#[test]
fn a_failed_load_shows_in_place_and_keeps_the_old_rows() {
    let mut s = state();
    let request = connected(&mut s);
    load(&mut s, request, vec![cluster("a", 1)]);
    let Some(Effect::LoadClusters { request }) =
        update(&mut s, Action::RefreshDue).first().cloned()
    else {
        panic!("refresh");
    };
    let err = AwsError::new(ErrorKind::AccessDenied, "ecs:ListClusters", "not allowed");
    update(
        &mut s,
        Action::Data {
            request,
            event: DataEvent::Failed(err),
        },
    );
    assert_eq!(s.clusters.data.rows.len(), 1, "old rows stay visible");
    assert_eq!(
        s.clusters.data.error.as_ref().map(|e| e.kind),
        Some(ErrorKind::AccessDenied)
    );
    assert!(
        s.banner.is_none(),
        "access denied on one view is not a global banner"
    );
    // And the next good refresh clears the error.
    let Some(Effect::LoadClusters { request }) =
        update(&mut s, Action::RefreshDue).first().cloned()
    else {
        panic!("refresh");
    };
    load(&mut s, request, vec![cluster("a", 1)]);
    assert!(s.clusters.data.error.is_none());
}

#[test]
fn no_region_shows_the_fix_and_refresh_retries_connecting() {
    let mut s = state();
    let err = AwsError::new(ErrorKind::NoRegion, "config", "no region for profile prod");
    update(&mut s, Action::AwsConnectFailed(err));
    let banner = s.banner.clone().expect("banner");
    assert!(banner.fix.unwrap_or_default().contains("--region"));
    let effects = update(&mut s, Action::Command(Command::Refresh));
    assert!(
        matches!(effects.as_slice(), [Effect::Connect(t)] if t.profile.as_deref() == Some("prod")),
        "{effects:?}"
    );
}

#[test]
fn ticks_redraw_only_while_something_changes() {
    let mut s = state();
    let request = connected(&mut s);
    s.dirty = false;
    update(
        &mut s,
        Action::Tick {
            now_unix: 1_700_000_001,
        },
    );
    assert!(s.dirty, "spinner moves while loading");
    load(&mut s, request, vec![cluster("a", 1)]);
    update(&mut s, Action::IdentityResolved(Ok(Identity::default())));
    s.dirty = false;
    for t in 2..10 {
        update(
            &mut s,
            Action::Tick {
                now_unix: 1_700_000_000 + t,
            },
        );
    }
    assert!(!s.dirty, "an idle screen must not redraw");
}

#[test]
fn resize_marks_dirty_and_sets_the_page_size() {
    let mut s = state();
    s.dirty = false;
    update(
        &mut s,
        Action::Resize {
            cols: 200,
            rows: 50,
        },
    );
    assert!(s.dirty);
    assert_eq!(s.page_rows(), 44);
    update(&mut s, Action::Resize { cols: 1, rows: 1 });
    assert_eq!(s.page_rows(), 1);
}

#[test]
fn region_and_profile_switches_reconnect_and_forget_the_old_account() {
    let mut s = state();
    let request = connected(&mut s);
    load(&mut s, request, vec![cluster("a", 1)]);
    update(&mut s, Action::Command(Command::CommandMode));
    for c in "region eu-central-1".chars() {
        update(&mut s, key(c));
    }
    let effects = update(&mut s, special(KeyCode::Enter));
    assert!(
        matches!(effects.as_slice(), [Effect::Connect(t)] if t.region.as_deref() == Some("eu-central-1") && t.profile.as_deref() == Some("prod")),
        "{effects:?}"
    );
    assert!(
        s.clusters.data.rows.is_empty(),
        "old region's rows are gone"
    );
    assert!(matches!(s.session.identity, IdentityState::Pending));
    assert!(!s.session.connected);
    // A profile switch takes the profile's own region.
    update(&mut s, Action::Command(Command::CommandMode));
    for c in "profile staging".chars() {
        update(&mut s, key(c));
    }
    let effects = update(&mut s, special(KeyCode::Enter));
    assert!(
        matches!(effects.as_slice(), [Effect::Connect(t)] if t.profile.as_deref() == Some("staging") && t.region.is_none()),
        "{effects:?}"
    );
}

#[test]
fn only_quit_quits_among_the_line_commands() {
    use berth::app::nav::{LineCommand, run_command_line};
    for &command in LineCommand::ALL {
        let mut s = state();
        s.views.push(berth::app::nav::services_view("prod"));
        s.views
            .push(View::Deployments(berth::app::nav::service_view(
                "prod",
                "checkout-api",
            )));
        // With its argument where it takes one; a missing argument is an error, never a quit.
        for line in [
            command.name().to_string(),
            format!("{} eu-west-1", command.name()),
        ] {
            let effects = run_command_line(&mut s, &line).unwrap_or_default();
            let quits = effects
                .iter()
                .any(|e| matches!(e, Effect::Terminal(berth::app::TerminalEffect::Quit(_))));
            assert_eq!(quits, command == LineCommand::Quit, ":{line} quit={quits}");
            assert_eq!(s.quitting, command == LineCommand::Quit, ":{line}");
        }
        // Every prefix only this command starts with reaches it.
        assert_eq!(LineCommand::parse(command.name()), Ok(command));
    }
    assert!(LineCommand::parse("nope").is_err());
    assert!(
        LineCommand::parse("s").is_err(),
        "services, stopped: ambiguous"
    );
}
