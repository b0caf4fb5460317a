//! The no-capacity drill where a person looks first, at 80x24: the cluster's services list
//! says the service cannot place tasks (and why), `I` shows the instances with the memory
//! left, `enter` the tasks on one of them.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::pty::Pty;

fn ok(r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

#[test]
fn no_capacity_drill_says_why_tasks_are_not_placed() {
    let mut p = Pty::spawn(
        &[
            "--demo",
            "--scenario",
            "no-capacity",
            "--speed",
            "30",
            "--cluster",
            "batch-ec2",
        ],
        &[],
        80,
        24,
    );
    ok(p.wait_for_text("batch-ec2 › services"));
    ok(p.wait_until("the row says it cannot place tasks", |s| {
        s.lines().any(|l| {
            l.starts_with("report-generator") && l.contains("6/8") && l.contains("✗ cannot place")
        })
    }));
    p.send_key("I");
    ok(p.wait_for_text("batch-ec2 › instances"));
    ok(p.wait_for_text("2 container instances"));
    ok(p.wait_until("two m5.large with 1.5 GiB left each", |s| {
        s.lines()
            .filter(|l| l.starts_with("i-0") && l.contains("1.5/7.5G") && l.contains("m5.large"))
            .count()
            == 2
    }));
    p.send_key("enter");
    ok(p.wait_for_text("tasks on i-0"));
    ok(p.wait_for_text("3 tasks"));
    p.send_key("q");
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status:?}");
}

#[test]
fn elb_health_drill_says_the_targets_are_unhealthy_and_why() {
    let mut p = Pty::spawn(
        &[
            "--demo",
            "--scenario",
            "elb-health",
            "--speed",
            "30",
            "--cluster",
            "prod",
        ],
        &[],
        80,
        24,
    );
    ok(p.wait_for_text("prod › services"));
    // the services row: the targets' state first
    ok(p.wait_until("search-api marked with its targets", |s| {
        s.lines()
            .any(|l| l.starts_with("search-api") && l.contains("targets") && l.contains("healthy"))
    }));
    // its tasks: the TARGET column, and the reason in the task's detail
    p.send_key("/");
    p.send(b"search-api");
    p.send_key("enter");
    p.send_key("t");
    ok(p.wait_for_text("search-api › tasks"));
    ok(p.wait_until("an unhealthy target among the tasks", |s| {
        s.contains("TARGET") && s.lines().any(|l| l.contains(" unhealthy "))
    }));
    p.send_key("q");
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status:?}");
}

#[test]
fn at_capacity_drill_shows_the_cpu_and_the_maximum() {
    // wide enough for the CPU trend column
    let mut p = Pty::spawn(
        &[
            "--demo",
            "--scenario",
            "at-capacity",
            "--speed",
            "60",
            "--cluster",
            "prod",
        ],
        &[],
        140,
        40,
    );
    ok(p.wait_for_text("prod › services"));
    ok(p.wait_until("web-frontend's CPU at 90% or more", |s| {
        s.lines().any(|l| {
            l.starts_with("web-frontend")
                && l.split_whitespace().any(|w| {
                    w.strip_suffix('%')
                        .and_then(|n| n.parse::<u32>().ok())
                        .is_some_and(|n| (90..=100).contains(&n))
                })
        })
    }));
    // its deployments: the scaling block at its maximum
    p.send_key("/");
    p.send(b"web-frontend");
    p.send_key("enter");
    p.send_key("d");
    ok(p.wait_for_text("web-frontend › deployments"));
    ok(p.wait_for_text("auto scaling: min 2 max 6, desired 6 · at maximum for"));
    ok(p.wait_for_text("Reason: maximum capacity reached (6)"));
    p.send_key("q");
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status:?}");
}
