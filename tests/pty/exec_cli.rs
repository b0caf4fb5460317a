//! `berth exec-check` and `berth exec` end to end: the real binary against the sandbox, with a
//! test double of `session-manager-plugin` on PATH that records how it was started (chosen
//! with `--exec-client plugin`: auto may pick berth's built-in client). Asserts the client
//! line (the plugin, or the built-in client and why; `--exec-client` over `exec_client` in
//! config.toml), the plugin contract (the session only in the environment, six arguments, the
//! target format), the exit code passed through, the audit line (0600, no token), and that
//! `--read-only` sends no ExecuteCommand at all (counted by the sandbox).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use berth::sandbox::{self, SandboxHandle, SandboxOptions};

use crate::common::plugin;

async fn start() -> SandboxHandle {
    sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            speed: 30.0,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap()
}

/// A RUNNING task of `service` in prod whose first container's agent runs (or, with
/// `exec = false`, any RUNNING task of it): (task id, container, runtime id).
async fn running_task(url: &str, service: &str, exec: bool) -> (String, String, String) {
    let cfg = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ecs::config::Credentials::new(
            sandbox::DEMO_ACCESS_KEY_ID,
            sandbox::DEMO_SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .load()
        .await;
    let ecs = aws_sdk_ecs::Client::new(&cfg);
    for _ in 0..600 {
        let arns = ecs
            .list_tasks()
            .cluster("prod")
            .service_name(service)
            .send()
            .await
            .unwrap()
            .task_arns()
            .to_vec();
        if !arns.is_empty() {
            let out = ecs
                .describe_tasks()
                .cluster("prod")
                .set_tasks(Some(arns))
                .send()
                .await
                .unwrap();
            for t in out.tasks() {
                let Some(c) = t.containers().first() else {
                    continue;
                };
                let agent_ok = c
                    .managed_agents()
                    .iter()
                    .any(|a| a.last_status() == Some("RUNNING"));
                if t.last_status() == Some("RUNNING")
                    && c.runtime_id().is_some()
                    && (!exec || (t.enable_execute_command() && agent_ok))
                {
                    let id = t
                        .task_arn()
                        .unwrap()
                        .rsplit('/')
                        .next()
                        .unwrap()
                        .to_string();
                    return (
                        id,
                        c.name().unwrap().to_string(),
                        c.runtime_id().unwrap().to_string(),
                    );
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no running {service} task");
}

fn berth(url: &str, home: &Path, path: &str, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.args(["--endpoint-url", url, "--region", "us-east-1"])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", sandbox::DEMO_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", sandbox::DEMO_SECRET_ACCESS_KEY)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove(berth::exec::plugin::PLUGIN_ENV)
        .env("PATH", path)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("BERTH_TEST_PLUGIN_OUT", home.join("plugin.txt"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_check_passes_a_ready_task_and_explains_each_failure() {
    let sb = start().await;
    let url = sb.endpoint_url();
    let home = tempfile::tempdir().unwrap();
    let bin = plugin::install(home.path());
    let (ready, _, _) = running_task(&url, "checkout-api", true).await;

    let out = berth(
        &url,
        home.path(),
        &plugin::path_with(&bin),
        &[
            "--exec-client",
            "plugin",
            "exec-check",
            "--cluster",
            "prod",
            "--task",
            &ready,
        ],
    )
    .output()
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("[ok  ] task RUNNING"), "{text}");
    assert!(
        text.contains("[ok  ] ExecuteCommandAgent RUNNING in"),
        "{text}"
    );
    assert!(
        text.contains("[ok  ] client: session-manager-plugin 1.2.764.0 at"),
        "{text}"
    );
    assert!(
        text.contains("cluster exec logging: OVERRIDE: CloudWatch group /ecs/exec/prod"),
        "{text}"
    );
    assert!(text.contains("ready: every check passed"), "{text}");

    // exec was never enabled on search-api
    let (off, _, _) = running_task(&url, "search-api", false).await;
    let out = berth(
        &url,
        home.path(),
        &plugin::path_with(&bin),
        &["exec-check", "--cluster", "prod", "--task", &off],
    )
    .output()
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("[FAIL] enableExecuteCommand: off for this task"),
        "{text}"
    );
    assert!(
        text.contains("--service search-api --enable-execute-command"),
        "{text}"
    );

    // no plugin on PATH: berth's built-in client, and the check passes
    let out = berth(
        &url,
        home.path(),
        &plugin::path_without(),
        &["exec-check", "--cluster", "prod", "--task", &ready],
    )
    .output()
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(
            "[ok  ] client: session-manager-plugin not found: using berth's built-in client"
        ),
        "{text}"
    );
    // ... unless the plugin is asked for: install instructions, not a crash
    let out = berth(
        &url,
        home.path(),
        &plugin::path_without(),
        &[
            "exec-check",
            "--cluster",
            "prod",
            "--task",
            &ready,
            "--exec-client",
            "plugin",
        ],
    )
    .output()
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("[FAIL] client: session-manager-plugin not found"),
        "{text}"
    );
    assert!(
        text.contains("fix: install session-manager-plugin"),
        "{text}"
    );

    // a plugin older than 1.2.764.0: passed over by auto, refused when asked for
    for (client, passes) in [("auto", true), ("plugin", false)] {
        let mut cmd = berth(
            &url,
            home.path(),
            &plugin::path_with(&bin),
            &[
                "--exec-client",
                client,
                "exec-check",
                "--cluster",
                "prod",
                "--task",
                &ready,
            ],
        );
        let out = cmd
            .env("BERTH_TEST_PLUGIN_VERSION", "1.2.707.0")
            .output()
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.success(), passes, "{client}: {text}");
        if passes {
            assert!(
                text.contains(
                    "[ok  ] client: session-manager-plugin 1.2.707.0 is older than 1.2.764.0: using berth's built-in client"
                ),
                "{text}"
            );
        } else {
            assert!(
                text.contains("[FAIL] client: session-manager-plugin 1.2.707.0 at"),
                "{text}"
            );
            assert!(text.contains("older than 1.2.764.0"), "{text}");
            assert!(
                text.contains("fix: upgrade to 1.2.764.0 or later"),
                "{text}"
            );
        }
    }
    assert_eq!(
        sb.stats().count("ecs:ExecuteCommand"),
        0,
        "a check never opens a session"
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_passes_the_session_in_the_environment_and_returns_the_exit_code() {
    let sb = start().await;
    let url = sb.endpoint_url();
    let home = tempfile::tempdir().unwrap();
    let bin = plugin::install(home.path());
    let (task, container, runtime) = running_task(&url, "checkout-api", true).await;

    let mut cmd = berth(
        &url,
        home.path(),
        &plugin::path_with(&bin),
        &[
            "exec",
            "--cluster",
            "prod",
            "--task",
            &task,
            "--container",
            &container,
            "--command",
            "bash",
            "--exec-client",
            "plugin",
        ],
    );
    let out = cmd
        .env("BERTH_TEST_PLUGIN_EXIT", "7")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("session ended (exit 7)"), "{stderr}");
    assert_eq!(sb.stats().count("ecs:ExecuteCommand"), 1);

    let rec = plugin::read(&home.path().join("plugin.txt")).expect("the plugin ran");
    assert_eq!(rec.argc, 6, "{rec:?}");
    assert_eq!(rec.args[0], "AWS_SSM_START_SESSION_RESPONSE");
    assert_eq!(rec.args[1], "us-east-1");
    assert_eq!(rec.args[2], "StartSession");
    assert_eq!(
        rec.args[3], "",
        "no profile: an empty argument, still present"
    );
    let request: serde_json::Value = serde_json::from_str(&rec.args[4]).unwrap();
    assert_eq!(
        request["Target"],
        format!("ecs:prod_{task}_{runtime}"),
        "{request}"
    );
    assert_eq!(rec.args[5], url);
    let session: serde_json::Value = serde_json::from_str(&rec.env).unwrap();
    let token = session["TokenValue"].as_str().unwrap().to_string();
    assert!(token.len() > 20);
    assert!(
        session["SessionId"]
            .as_str()
            .unwrap()
            .starts_with("ecs-execute-command-")
    );
    assert!(
        session["StreamUrl"]
            .as_str()
            .unwrap()
            .starts_with("ws://127.0.0.1:")
    );
    assert!(
        rec.args.iter().all(|a| !a.contains(&token)),
        "token in argv"
    );
    assert_eq!(rec.stty, "notty");

    let audit = home.path().join("state/berth/audit.jsonl");
    let mode = std::fs::metadata(&audit).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&audit).unwrap();
    assert!(!text.contains(&token), "token in the audit log");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["action"], "exec");
    assert_eq!(lines[0]["outcome"], "ok");
    assert_eq!(lines[0]["parameters"]["command"], "bash");
    assert_eq!(
        lines[0]["caller"],
        "arn:aws:iam::123456789012:user/berth-demo"
    );
    assert_eq!(lines[1]["outcome"], "ended");
    // The console's closing line has the same keys (tests/pty/e2e_exec.rs).
    let keys: Vec<&String> = lines[1]["parameters"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "cluster",
            "task",
            "container",
            "command",
            "session_id",
            "ended"
        ],
        "{}",
        lines[1]
    );
    assert_eq!(lines[1]["parameters"]["ended"], "exit 7");
    if let Ok(log) = std::fs::read_to_string(home.path().join("state/berth/berth.log")) {
        assert!(!log.contains(&token), "token in the log");
    }
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_exec_sends_no_execute_command() {
    let sb = start().await;
    let url = sb.endpoint_url();
    let home = tempfile::tempdir().unwrap();
    let bin = plugin::install(home.path());
    let (task, _, _) = running_task(&url, "checkout-api", true).await;
    for client in ["plugin", "native"] {
        let out = berth(
            &url,
            home.path(),
            &plugin::path_with(&bin),
            &[
                "--read-only",
                "--exec-client",
                client,
                "exec",
                "--cluster",
                "prod",
                "--task",
                &task,
            ],
        )
        .output()
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{client}: {stderr}");
        assert!(stderr.contains("read-only"), "{client}: {stderr}");
    }
    assert_eq!(sb.stats().count("ecs:ExecuteCommand"), 0);
    assert_eq!(sb.stats().data_channel.connections, 0);
    assert!(!home.path().join("plugin.txt").exists(), "the plugin ran");
    let text = std::fs::read_to_string(home.path().join("state/berth/audit.jsonl")).unwrap();
    assert!(text.contains("\"outcome\":\"refused\""), "{text}");
    sb.shutdown().await;
}

/// `exec_client` in config.toml chooses when no flag does; `--exec-client` wins over it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_client_in_config_toml_is_used_and_the_flag_wins() {
    let sb = start().await;
    let url = sb.endpoint_url();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config/berth");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        "[console]\nexec_client = \"plugin\"\n",
    )
    .unwrap();
    let (ready, _, _) = running_task(&url, "checkout-api", true).await;
    let check = |extra: &'static [&'static str]| {
        let mut args: Vec<&str> = extra.to_vec();
        args.extend(["exec-check", "--cluster", "prod", "--task", &ready]);
        berth(&url, home.path(), &plugin::path_without(), &args)
    };
    // the file asks for the plugin, and there is none
    let out = check(&[]).output().await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("[FAIL] client: session-manager-plugin not found (exec client: plugin)"),
        "{text}"
    );
    // the flag wins
    let out = check(&["--exec-client", "native"]).output().await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("[ok  ] client: berth's built-in client (exec client: native)"),
        "{text}"
    );

    // a bad value: file, line and what is wrong; nothing runs
    std::fs::write(
        config.join("config.toml"),
        "[console]\nrefresh = 5\nexec_client = \"builtin\"\n",
    )
    .unwrap();
    let out = check(&[]).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let path = config.join("config.toml");
    assert!(
        stderr.contains(&format!(
            "{}:3:15: error: exec_client = \"builtin\"",
            path.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("must be \"auto\", \"native\" or \"plugin\""),
        "{stderr}"
    );
    sb.shutdown().await;
}

/// Scriptable exec with berth's built-in client (containers-roadmap#1536): stdin is not a
/// terminal, so the output goes to stdout as the command wrote it (no terminal echo, no `\r`,
/// no status line), and berth exits with the command's status. The plugin on PATH is not run;
/// the session token appears in no log, audit line or output, at any log level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_with_the_built_in_client_streams_output_and_exits_with_the_remote_status() {
    let sb = start().await;
    let url = sb.endpoint_url();
    let home = tempfile::tempdir().unwrap();
    let bin = plugin::install(home.path());
    let (task, _, _) = running_task(&url, "checkout-api", true).await;
    let log = home.path().join("berth.log");
    let run = |command: &'static str, raw: bool| {
        let mut args = vec![
            "--exec-client",
            "native",
            "--log-file",
            log.to_str().unwrap(),
            "exec",
            "--cluster",
            "prod",
            "--task",
            &task,
            "--command",
            command,
        ];
        if raw {
            args.push("--raw");
        }
        let mut cmd = berth(&url, home.path(), &plugin::path_with(&bin), &args);
        cmd.env("BERTH_LOG", "trace");
        cmd
    };
    let out = run("cat /etc/os-release", false).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {stderr}\nstdout: {stdout}\nlog: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert!(stdout.contains("\nID="), "{stdout:?}");
    assert!(!stdout.contains('\r'), "{stdout:?}");
    assert!(
        !stdout.contains("__BERTH_") && !stdout.contains("cat /etc"),
        "{stdout:?}"
    );
    assert!(
        stdout.ends_with('\n') && !stdout.ends_with("\n\n"),
        "{stdout:?}"
    );

    let out = run("hostname; exit 3", false).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), task.as_str());
    assert!(stderr.contains("session ended (exit 3)"), "{stderr}");

    // As given: it runs, but nothing can say how it ended.
    let out = run("hostname", true).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains(task.as_str()));
    assert!(
        stderr.contains("session ended (exit status unknown)"),
        "{stderr}"
    );

    assert_eq!(sb.stats().count("ecs:ExecuteCommand"), 3);
    assert!(!home.path().join("plugin.txt").exists(), "the plugin ran");
    let text = std::fs::read_to_string(home.path().join("state/berth/audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "{text}");
    let ended: Vec<&str> = lines
        .iter()
        .filter(|l| l["outcome"] == "ended")
        .map(|l| l["parameters"]["ended"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ended, ["exit 0", "exit 3", "exit status unknown"], "{text}");
    // the audit keeps the command as the user gave it, not the wrapper
    assert_eq!(lines[0]["parameters"]["command"], "cat /etc/os-release");
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        logged.contains("TRACE") || logged.contains("DEBUG"),
        "{logged}"
    );
    let tokens = sb.session_tokens();
    assert_eq!(tokens.len(), 3);
    for token in tokens {
        assert!(!text.contains(&token), "token in the audit file");
        assert!(!logged.contains(&token), "token in the log");
    }
    sb.shutdown().await;
}
