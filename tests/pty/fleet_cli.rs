//! End-to-end: the real `berth fleet` against the demo organisation (`--demo --fleet`, the
//! embedded sandbox with six accounts), stdout piped: the rows a script reads, the summary a
//! person reads, and the exit status an alert keys on.

use std::collections::HashSet;
use std::process::Output;

use serde_json::Value;

/// `berth fleet ARGS` with a home of its own and no AWS settings from the environment.
async fn berth_fleet(args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let home = home.path();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.arg("fleet").args(args);
    crate::logs_cli::private_env(&mut cmd, home)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_jsonl_of_the_demo_organisation_names_each_broken_pair_and_its_fix() {
    let out = berth_fleet(&["--demo", "--fleet", "--output", "jsonl"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "failed pairs exit 1: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let rows: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(rows.len() > 6, "{stdout}\n{stderr}");
    let pair = |profile: &str, region: &str| -> Vec<&Value> {
        rows.iter()
            .filter(|r| r["profile"] == profile && r["region"] == region)
            .collect()
    };
    let legacy = pair("legacy", "us-east-1");
    assert_eq!(legacy.len(), 1, "{legacy:?}");
    assert_eq!(legacy[0]["kind"], "failed");
    assert!(
        legacy[0]["failure"]
            .as_str()
            .is_some_and(|f| f.contains("expired")),
        "{:?}",
        legacy[0]
    );
    assert!(
        legacy[0]["fix"]
            .as_str()
            .is_some_and(|f| f.contains("aws sso login --profile legacy")),
        "{:?}",
        legacy[0]
    );
    let audit = pair("audit", "us-east-1");
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert!(
        audit[0]["failure"]
            .as_str()
            .is_some_and(|f| f.contains("access denied")),
        "{:?}",
        audit[0]
    );
    assert_eq!(audit[0]["account_id"], "710987654326", "STS answered");
    let off = pair("data", "eu-west-1");
    assert_eq!(off.len(), 1, "{off:?}");
    assert!(
        off[0]["failure"]
            .as_str()
            .is_some_and(|f| f.contains("not enabled")),
        "{:?}",
        off[0]
    );
    // every other pair was read: its rows are services or healthy clusters
    for (profile, region) in [("data", "us-east-1"), ("prod", "us-east-1")] {
        let p = pair(profile, region);
        assert!(!p.is_empty(), "{profile}/{region}: {stdout}");
        assert!(p.iter().all(|r| r["kind"] != "failed"), "{p:?}");
    }
    // failures and problems before the healthy
    let first_healthy = rows.iter().position(|r| r["kind"] == "healthy");
    let last_bad = rows
        .iter()
        .rposition(|r| r["kind"] == "failed" || r["kind"] == "problem");
    assert!(last_bad < first_healthy, "{stdout}");
    // each (profile, region, cluster, service) once
    let mut seen = HashSet::new();
    for r in &rows {
        let key = (
            r["profile"].to_string(),
            r["region"].to_string(),
            r["cluster"].to_string(),
            r["service"].to_string(),
        );
        assert!(seen.insert(key.clone()), "{key:?} twice: {stdout}");
    }
    assert!(stderr.contains("3 pairs failed"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_text_has_the_header_rows_and_the_summary() {
    let out = berth_fleet(&["--demo", "--fleet"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<&str> = stdout.lines().collect();
    let header = lines.first().copied().unwrap_or_default();
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        columns,
        [
            "ACCOUNT", "PROFILE", "REGION", "CLUSTER", "SERVICE", "TASKS", "ROLLOUT", "PROBLEM"
        ],
        "{stdout}"
    );
    assert!(
        stdout.contains("fix: aws sso login --profile legacy"),
        "{stdout}"
    );
    assert!(stdout.contains(" healthy "), "{stdout}");
    let summary = lines.last().copied().unwrap_or_default();
    assert!(
        summary.contains(" across 9 pairs; 3 pairs failed"),
        "{summary}"
    );
    assert!(!stdout.contains('\u{1b}'), "no escape reaches the terminal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_without_a_fleet_is_a_usage_error() {
    for args in [
        &[][..],
        &["--demo"][..],
        &["--fleet", "nowhere"][..],
        &["--profiles", "qa-*", "--regions", "us-east-1"][..],
    ] {
        let out = berth_fleet(args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(stderr.starts_with("berth fleet: "), "{stderr}");
    }
}
