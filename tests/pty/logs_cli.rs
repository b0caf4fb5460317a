//! End-to-end: the real `berth` binary, `berth logs` against the sandbox (started in this
//! process on a free port), stdout piped and counted.

use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;

use berth::aws::AwsTarget;
use berth::logs::source::{self, Scope};
use berth::logs::tail::StreamSelector;
use berth::logs::time;
use berth::sandbox::{self, SandboxOptions};

fn berth(url: &str, home: &std::path::Path, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.args(["--endpoint-url", url, "--region", "us-east-1", "logs"])
        .args(args);
    private_env(&mut cmd, home)
        .env("AWS_ACCESS_KEY_ID", sandbox::DEMO_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", sandbox::DEMO_SECRET_ACCESS_KEY);
    cmd
}

/// A home of its own and no AWS settings from the environment but the ones a test sets; stdout
/// and stderr piped (`berth fleet`'s tests too).
pub(crate) fn private_env<'a>(
    cmd: &'a mut tokio::process::Command,
    home: &std::path::Path,
) -> &'a mut tokio::process::Command {
    cmd.env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
}

/// The SDK's view of the same sandbox, for reading what `berth logs` should print.
async fn sandbox_clients(url: &str) -> (AwsTarget, berth::aws::Clients) {
    let target = AwsTarget {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(url.to_string()),
        static_credentials: Some((
            sandbox::DEMO_ACCESS_KEY_ID.into(),
            sandbox::DEMO_SECRET_ACCESS_KEY.into(),
        )),
        attempt_timeout: None,
    };
    let clients = berth::aws::connect(&target)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (target, clients)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn berth_logs_jsonl_piped_matches_the_api() {
    let sb = sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            speed: 30.0,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let url = sb.endpoint_url();
    let t0 = sb.virtual_now_ms();
    for _ in 0..400 {
        if sb.virtual_now_ms() > t0 + 3 * 60_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let since = t0 - 60_000;
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = berth(
        &url,
        home.path(),
        &[
            "--cluster",
            "prod",
            "--service",
            "checkout-api",
            "--since",
            &time::format_rfc3339(since),
            "--output",
            "jsonl",
        ],
    )
    .output()
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    let stdout = String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let mut ids = HashSet::new();
    let mut newest = since;
    let mut last = i64::MIN;
    let lines: Vec<&str> = stdout.lines().collect();
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let ts = v["timestamp_ms"]
            .as_i64()
            .unwrap_or_else(|| panic!("{line}"));
        assert!(ts >= last, "ordered");
        last = ts;
        newest = newest.max(ts);
        assert!(
            v["stream"]
                .as_str()
                .is_some_and(|s| s.starts_with("ecs/checkout-api/"))
        );
        assert_eq!(v["container"], "checkout-api");
        assert!(ids.insert(v["event_id"].as_str().unwrap_or_default().to_string()));
    }
    assert!(lines.len() > 50, "{} lines; stderr: {stderr}", lines.len());

    // the same window through the API
    let (target, clients) = sandbox_clients(&url).await;
    let scope = Scope {
        cluster: "prod".into(),
        service: Some("checkout-api".into()),
        task: None,
        container: None,
    };
    let resolved = source::resolve(&clients, &scope, since)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let targets = source::targets(&resolved, &clients, &target)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut api = Vec::new();
    for t in &targets {
        let StreamSelector::Names(names) = &t.streams else {
            continue;
        };
        let mut req = berth::aws::logs::FilterRequest {
            group: t.group.clone(),
            stream_names: names.clone(),
            start_ms: since,
            end_ms: Some(newest),
            ..Default::default()
        };
        for _ in 0..1_000 {
            let page = t
                .client
                .filter_page(&req)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            api.extend(page.events);
            match page.next_token {
                Some(tok) => req.next_token = Some(tok),
                None => break,
            }
        }
    }
    // events ingested after berth read them may be in the API answer now: compare the part
    // of the window older than the sandbox's worst ingestion delay, and require that berth
    // printed nothing the API does not have
    let api_ids: HashSet<String> = api.iter().filter_map(|e| e.event_id.clone()).collect();
    assert!(ids.iter().all(|id| api_ids.contains(id)));
    let settled: Vec<_> = api
        .iter()
        .filter(|e| e.timestamp_ms <= newest - 45_000)
        .collect();
    assert!(settled.len() > 20);
    for e in settled {
        assert!(
            ids.contains(e.event_id.as_deref().unwrap_or_default()),
            "{e:?} missing"
        );
    }
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_filter_exits_2_with_the_position_and_unknown_service_exits_1() {
    let sb = sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = sb.endpoint_url();
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = berth(
        &url,
        home.path(),
        &[
            "--cluster",
            "prod",
            "--service",
            "checkout-api",
            "--filter",
            "status>=500 and level>=loud",
        ],
    )
    .output()
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("column 24") && err.contains("unknown level"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    let out = berth(
        &url,
        home.path(),
        &["--cluster", "prod", "--service", "nope", "--output", "text"],
    )
    .output()
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stderr.is_empty());

    // text output of a real service: every byte printable except the newlines
    let out = berth(
        &url,
        home.path(),
        &[
            "--cluster",
            "prod",
            "--service",
            "web-frontend",
            "--since",
            "5m",
            "--filter",
            "level>=info",
        ],
    )
    .output()
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.iter().any(|&b| b < 0x20 && b != b'\n'));
    sb.shutdown().await;
}

/// `--task` takes the 8-character id berth shows (as the README's examples do): the same
/// lines as the whole id, and a prefix that matches nothing exits 1 saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_task_id_reads_the_same_lines_as_the_whole_one() {
    let sb = sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = sb.endpoint_url();
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_, clients) = sandbox_clients(&url).await;
    let arns = berth::aws::tasks::list_task_arns(
        &clients.ecs,
        "prod",
        Some("web-frontend"),
        berth::aws::tasks::TaskListing::Running,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let full = arns
        .first()
        .and_then(|a| a.rsplit('/').next())
        .unwrap_or_else(|| panic!("no running web-frontend task"))
        .to_string();
    let short = &full[..8];
    // one start for both reads (a relative `5m` moves with each run's clock, and the later
    // read then misses the oldest line the first one had)
    let since = time::format_rfc3339(sb.virtual_now_ms() - 5 * 60_000);
    let read = |task: String| {
        let mut cmd = berth(
            &url,
            home.path(),
            &[
                "--cluster",
                "prod",
                "--task",
                &task,
                "--since",
                &since,
                "--output",
                "jsonl",
            ],
        );
        async move { cmd.output().await.unwrap_or_else(|e| panic!("{e}")) }
    };
    let by_short = read(short.to_string()).await;
    assert!(
        by_short.status.success(),
        "{}",
        String::from_utf8_lossy(&by_short.stderr)
    );
    let by_full = read(full.clone()).await;
    assert!(by_full.status.success());
    let ids = |out: &std::process::Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["event_id"].as_str().map(String::from))
            .collect()
    };
    let (a, b) = (ids(&by_short), ids(&by_full));
    assert!(!a.is_empty(), "the short id read lines");
    // the two reads end at slightly different times: the shorter is a prefix of the longer
    let n = a.len().min(b.len());
    assert_eq!(a[..n], b[..n]);
    assert!(
        String::from_utf8_lossy(&by_short.stdout).contains(&full),
        "the lines are that task's"
    );

    let none = read("ffffffff".to_string()).await;
    assert_eq!(none.status.code(), Some(1));
    let err = String::from_utf8_lossy(&none.stderr);
    assert!(err.contains("starting with ffffffff"), "{err}");
    sb.shutdown().await;
}

/// Issue #14: the global options after the subcommand, as the AWS CLI and kubectl take them.
/// Each one is needed: the credentials come only from the profile, the region only from
/// --region, and without --endpoint-url the requests would go to AWS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_options_after_the_subcommand_reach_it() {
    let sb = sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = sb.endpoint_url();
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(&aws).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(aws.join("config"), "[profile sandbox]\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[sandbox]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            sandbox::DEMO_ACCESS_KEY_ID,
            sandbox::DEMO_SECRET_ACCESS_KEY
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let log_file = home.path().join("global-after.log");
    let log_path = log_file.to_string_lossy().to_string();

    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.args([
        "logs",
        "--profile",
        "sandbox",
        "--region",
        "us-east-1",
        "--endpoint-url",
        &url,
        "--log-file",
        &log_path,
        "--read-only",
        "--cluster",
        "prod",
        "--service",
        "checkout-api",
        "--since",
        "5m",
        "--output",
        "jsonl",
    ]);
    let out = private_env(&mut cmd, home.path())
        .output()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!lines.is_empty(), "no log lines; stderr: {stderr}");
    for v in &lines {
        assert!(
            v["stream"]
                .as_str()
                .is_some_and(|s| s.starts_with("ecs/checkout-api/")),
            "{v}"
        );
    }
    assert!(
        log_file.exists(),
        "--log-file after the subcommand was not used"
    );
    sb.shutdown().await;
}
