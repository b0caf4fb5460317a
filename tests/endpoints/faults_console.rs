//! Fault injection through the console's reducer and effect runner against the sandbox: HTTP
//! 500s and dropped connections, expired credentials, and the endpoint going away and coming
//! back. In each: the error shows where it applies (under the table, or as a banner with the
//! fix), the rows already on screen stay, keys keep working and what the user typed is kept,
//! and the view recovers by itself once the fault clears. Loops are bounded by message and
//! refresh counts; wall-clock time is never asserted.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use berth::app::{Action, Command, State, View};
use berth::sandbox::{self, Faults, SandboxHandle, SandboxOptions};
use crossterm::event::KeyCode;

use crate::common::console::{Console, key, on_service, type_text};

async fn start_at(addr: std::net::SocketAddr) -> SandboxHandle {
    sandbox::start(addr, SandboxOptions::default())
        .await
        .unwrap()
}

fn services(s: &State) -> Option<&berth::app::views::ServicesView> {
    match s.view() {
        View::Services(v) => Some(v),
        _ => None,
    }
}

fn view_failed(s: &State) -> bool {
    services(s).is_some_and(|v| v.data.error.is_some())
}

fn view_fresh(s: &State) -> bool {
    services(s).is_some_and(|v| v.data.error.is_none() && !v.data.rows.is_empty())
}

/// Ask for a refresh and apply what comes back until `done` (bounded).
async fn refresh_until(console: &mut Console, what: &str, done: impl Fn(&State) -> bool) {
    for _ in 0..40 {
        console.apply(Action::Command(Command::Refresh));
        for _ in 0..2_000 {
            if done(&console.state) {
                return;
            }
            match tokio::time::timeout(Duration::from_secs(60), console.rx.recv()).await {
                Ok(Some(a)) => {
                    let last = matches!(
                        a,
                        Action::Data {
                            event: berth::app::DataEvent::Done | berth::app::DataEvent::Failed(_),
                            ..
                        }
                    );
                    console.apply(a);
                    if last {
                        break;
                    }
                }
                _ => break,
            }
        }
        if done(&console.state) {
            return;
        }
    }
    panic!("never: {what}\n{}", console.screen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_show_in_place_the_rows_stay_and_the_view_recovers() {
    let sb = start_at(([127, 0, 0, 1], 0).into()).await;
    let mut console = Console::new(&sb);
    on_service(&mut console, "prod", "checkout").await;
    let rows_before = services(&console.state).unwrap().data.rows.len();
    assert!(rows_before > 0);

    // Every ECS list call fails: 500s and dropped connections (the SDK retries, then gives up).
    sb.set_faults(Faults {
        error_rate: 0.6,
        reset_rate: 1.0,
        operations: vec!["ecs:ListServices".into()],
        ..Faults::default()
    });
    // The user starts typing a filter while the refresh fails.
    console.apply(Action::Command(Command::Filter));
    type_text(&mut console, " api");
    refresh_until(&mut console, "the refresh fails", view_failed).await;
    let screen = console.screen();
    // The last attempt was a 500 or a dropped connection: either is said in words, with the
    // age of what is shown, and no SDK internals.
    assert!(
        screen.contains("cannot reach http://127.0.0.1:")
            || screen.contains("ecs:ListServices failed: InternalFailure"),
        "{screen}"
    );
    assert!(screen.contains("data from"), "{screen}");
    assert!(!screen.contains("dispatch failure"), "{screen}");
    let v = services(&console.state).unwrap();
    assert_eq!(v.data.rows.len(), rows_before, "the rows on screen stay");
    // What was typed is intact, and keys still work.
    let input = console
        .state
        .input
        .as_ref()
        .expect("the filter input is still open");
    assert_eq!(input.text, "checkout api");
    console.apply(key(KeyCode::Backspace));
    console.apply(key(KeyCode::Backspace));
    console.apply(key(KeyCode::Backspace));
    console.apply(key(KeyCode::Backspace));
    console.apply(key(KeyCode::Enter));
    assert_eq!(services(&console.state).unwrap().table.filter, "checkout");

    // Faults clear: the next refresh recovers without anything from the user.
    sb.set_faults(Faults::default());
    refresh_until(&mut console, "recovered", view_fresh).await;
    assert!(!console.screen().contains("data from"));
    assert!(sb.stats().faults > 0);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_credentials_show_the_fix_and_clear_themselves() {
    let sb = start_at(([127, 0, 0, 1], 0).into()).await;
    let mut console = Console::new(&sb);
    on_service(&mut console, "prod", "checkout").await;
    sb.set_faults(Faults {
        expired_credentials: true,
        ..Faults::default()
    });
    refresh_until(&mut console, "an expired-credentials banner", |s| {
        s.banner
            .as_ref()
            .is_some_and(|b| b.title.to_lowercase().contains("expired"))
    })
    .await;
    let banner = console.state.banner.clone().unwrap();
    assert!(banner.fix.is_some(), "{banner:?}");
    assert!(!services(&console.state).unwrap().data.rows.is_empty());
    sb.set_faults(Faults::default());
    refresh_until(&mut console, "the banner cleared", |s| {
        s.banner.is_none() && view_fresh(s)
    })
    .await;
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_going_away_and_coming_back() {
    let sb = start_at(([127, 0, 0, 1], 0).into()).await;
    let addr = sb.addr();
    let mut console = Console::new(&sb);
    on_service(&mut console, "prod", "checkout").await;
    sb.shutdown().await;
    refresh_until(&mut console, "connection failures shown", view_failed).await;
    let screen = console.screen();
    // Said as a person would: which endpoint, what happened, that it is being retried.
    let said = format!("cannot reach http://{addr}: connection refused — retrying; data from");
    assert!(screen.contains(&said), "{said}\n{screen}");
    assert!(!screen.contains("dispatch failure"), "{screen}");
    assert!(
        screen.contains("checkout-api"),
        "the last rows stay:\n{screen}"
    );
    // The same address answers again (a restarted endpoint, a VPN back up).
    let back = start_at(addr).await;
    refresh_until(&mut console, "recovered", view_fresh).await;
    back.shutdown().await;
}

/// An endpoint that accepts requests but answers too late: each attempt is abandoned at the
/// attempt timeout (1 s here, 30 s by default) and retried, the failure shows in place, and
/// the view recovers once answers are quick again. (The short timeout is this console's
/// target's: other tests' clients keep the default.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_time_out_and_the_view_recovers() {
    let sb = start_at(([127, 0, 0, 1], 0).into()).await;
    let mut console = Console::with_attempt_timeout(&sb, Duration::from_secs(1));
    on_service(&mut console, "prod", "checkout").await;
    sb.set_faults(Faults {
        extra_latency_ms: 3_000,
        operations: vec!["ecs:ListServices".into()],
        ..Faults::default()
    });
    refresh_until(&mut console, "timeouts shown", view_failed).await;
    let err = services(&console.state)
        .and_then(|v| v.data.error.clone())
        .unwrap();
    assert!(
        err.to_string().to_lowercase().contains("timeout")
            || err.to_string().to_lowercase().contains("timed out"),
        "{err}"
    );
    sb.set_faults(Faults::default());
    refresh_until(&mut console, "recovered", view_fresh).await;
    sb.shutdown().await;
}
