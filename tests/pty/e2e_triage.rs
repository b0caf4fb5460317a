//! End-to-end triage on the demo sandbox, keys only, at 80x24: from the clusters to the failing
//! service, its failed rollout in the events, the stopped tasks with their exit codes, and a
//! running task's IP; `/` filters and `:` jumps.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::pty::Pty;

fn ok(r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

#[test]
fn bad_deploy_drill_with_keys_only() {
    let mut p = Pty::spawn(
        &["--demo", "--scenario", "bad-deploy", "--speed", "10"],
        &[],
        80,
        24,
    );
    // The demo's clusters.
    for name in ["batch", "prod", "staging"] {
        ok(p.wait_for_text(name));
    }
    // `/` filter to prod, enter it.
    p.send_key("/");
    p.send(b"prod");
    p.send_key("enter");
    ok(p.wait_until("only prod listed", |s| {
        s.contains("filter: prod") && !s.contains("staging")
    }));
    p.send_key("enter");
    ok(p.wait_for_text("prod › services"));
    // The drill's bad deploy starts two virtual minutes in; the failing service sorts first.
    ok(p.wait_until("checkout-api marked as a problem", |s| {
        s.lines().nth(4).is_some_and(|l| {
            l.contains("checkout-api")
                && (l.contains("rollout FAILED") || l.contains("rolled back"))
        })
    }));
    p.send_key("enter");
    ok(p.wait_for_text("checkout-api › deployments"));
    ok(p.wait_until("the failure in the events", |s| {
        s.contains("deployment failed") || s.contains("rolling back")
    }));
    // Stopped tasks with their exit codes and causes.
    p.send_key("s");
    ok(p.wait_for_text("tasks (incl. stopped)"));
    ok(p.wait_until("a crashed task with its cause", |s| {
        s.contains("STOPPED") && s.contains("[crashed on start]")
    }));
    // `:` jump to the network view: a task's IP.
    p.send_key(":");
    p.send(b"network");
    p.send_key("enter");
    ok(p.wait_for_text("checkout-api › network"));
    ok(p.wait_until("an IPv4 address", |s| {
        s.lines().any(|l| {
            l.split_whitespace()
                .any(|w| w.parse::<std::net::Ipv4Addr>().is_ok())
        })
    }));
    // `-` goes back to the previous view.
    p.send_key("-");
    ok(p.wait_for_text("tasks (incl. stopped)"));
    p.send_key("q");
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status:?}");
    ok(p.check_terminal_restored());
}
