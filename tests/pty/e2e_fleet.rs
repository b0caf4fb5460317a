//! The fleet at 80x24 on the demo organisation (`berth --demo --fleet`): the broken pairs on
//! their own rows with their fix while the rest load, the bad deploy's service listed once
//! among the problems, `enter` opens it in its own account and region (the header says which),
//! `esc` comes back to the fleet on the same row.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::pty::Pty;

fn ok(r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

#[test]
fn demo_fleet_lists_the_incident_opens_it_in_its_account_and_comes_back() {
    let mut p = Pty::spawn(&["--demo", "--fleet", "--speed", "30"], &[], 80, 24);
    ok(p.wait_for_text("fleet demo · 9 pairs"));
    // the three broken pairs, each said on its own row
    ok(p.wait_until("the expired, denied and disabled pairs", |s| {
        s.lines()
            .any(|l| l.starts_with("(legacy)") && l.contains("credentials expired"))
            && s.lines()
                .any(|l| l.starts_with("audit") && l.contains("access denied"))
            && s.lines().any(|l| {
                l.starts_with("(data)") && l.contains("eu-west-1") && l.contains("refused")
            })
    }));
    // the bad deploy in prod/us-east-1 starts two virtual minutes in: read again until it shows
    let incident = |s: &str| {
        s.lines()
            .filter(|l| {
                l.starts_with("prod") && l.contains("us-east-1") && l.contains("checkout-api")
            })
            .count()
            == 1
    };
    for _ in 0..30 {
        if incident(&p.screen_text()) {
            break;
        }
        p.send_key("ctrl-r");
        std::thread::sleep(std::time::Duration::from_millis(700));
    }
    ok(p.wait_until("checkout-api of prod/us-east-1 listed once", incident));
    // select it: filter to it, then open it
    p.send_key("/");
    p.send(b"checkout");
    p.send_key("enter");
    ok(p.wait_for_text("prod/us-east-1 · checkout-api:"));
    p.send_key("enter");
    ok(p.wait_for_text("prod › checkout-api › deployments"));
    // the session is the prod account's now
    ok(p.wait_for_text("210987654321"));
    ok(p.wait_for_text("PRIMARY"));
    p.send_key("esc");
    ok(p.wait_for_text("fleet demo · 9 pairs"));
    ok(p.wait_for_text("prod/us-east-1 · checkout-api:"));
    p.send_key("q");
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_fleet_that_cannot_be_built_is_said_before_the_terminal_is_touched() {
    let mut p = Pty::spawn(&["--fleet", "nope"], &[], 80, 24);
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(!status.success());
    assert_eq!(status.exit_code(), 2);
    let screen = p.screen_text();
    assert!(
        screen.contains("berth: --fleet nope: no [fleet.nope] in config.toml"),
        "{screen}"
    );
    let raw = p.raw_output();
    assert!(
        !crate::common::pty::contains(&raw, b"\x1b[?1049h"),
        "the alternate screen was entered"
    );
}
