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
