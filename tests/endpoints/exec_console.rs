//! ECS Exec and port forwarding through the console's reducer and effect runner against the
//! sandbox, with the recording plugin double: the preflight reads the real task, a shell
//! request comes back as a hand-over whose plugin gets the session only in its environment,
//! a port forward starts the SSM session and the plugin in the background, `:forwards` lists
//! it, `K` stops it (TerminateSession, counted by the sandbox), quitting stops the rest, and
//! read-only mode sends neither ExecuteCommand nor StartSession. The double is driven with the
//! exec client set to `plugin` (auto may pick berth's built-in client); with `native`, the
//! built-in client's placeholder ends the session with its message.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use berth::app::exec::HandOver;
use berth::app::{Action, Command, Effect, State, View, update};
use berth::exec::client::{ExecClient, Runner};
use berth::exec::session::Granted;
use berth::sandbox::{self, SandboxHandle, SandboxOptions};
use crossterm::event::KeyCode;

use crate::common::console::{Console, key, loaded, on_service, type_text};
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

/// On checkout-api's tasks with a RUNNING, exec-ready task selected.
async fn on_ready_task(console: &mut Console) {
    on_service(console, "prod", "checkout-api").await;
    console.apply(Action::Command(Command::ShowTasks));
    console.until("tasks loaded", loaded).await;
    for _ in 0..200 {
        let ready = |s: &State| match s.view() {
            View::Tasks(v) => v
                .table
                .selected_row()
                .and_then(|i| v.data.rows.get(i))
                .is_some_and(|t| {
                    t.last_status == "RUNNING"
                        && t.exec_enabled
                        && t.containers
                            .iter()
                            .all(|c| c.exec_agent_status.as_deref() == Some("RUNNING"))
                }),
            _ => false,
        };
        if ready(&console.state) {
            return;
        }
        console.apply(Action::Command(Command::Down));
        if let View::Tasks(v) = console.state.view()
            && v.table.selected_row() == Some(v.data.rows.len().saturating_sub(1))
        {
            console.apply(Action::Command(Command::Top));
            console.apply(Action::RefreshDue);
            tokio::time::sleep(Duration::from_millis(100)).await;
            while let Ok(a) = console.rx.try_recv() {
                console.apply(a);
            }
        }
    }
    panic!("no exec-ready task\n{}", console.screen());
}

/// Apply actions until one matches `pick` (bounded by count).
async fn wait_for<T>(console: &mut Console, what: &str, pick: impl Fn(&Action) -> Option<T>) -> T {
    for _ in 0..10_000 {
        let a = tokio::time::timeout(Duration::from_secs(30), console.rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no {what}"))
            .unwrap();
        if let Some(t) = pick(&a) {
            console.apply(a);
            return t;
        }
        console.apply(a);
    }
    panic!("never: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_request_hands_the_session_to_the_plugin_through_the_environment() {
    let sb = start().await;
    let dir = tempfile::tempdir().unwrap();
    let bin = plugin::install_with(dir.path(), Some(3), false);
    let audit = dir.path().join("audit.jsonl");
    let mut console = Console::with(&sb, false, Some(audit.clone()));
    console.runner.plugin_override = Some(bin.join("session-manager-plugin"));
    console.state.exec_client = ExecClient::Plugin;
    on_ready_task(&mut console).await;

    console.apply(Action::Command(Command::Exec));
    console
        .until("preflight", |s| {
            s.exec.as_ref().is_some_and(|d| d.inputs.is_some())
        })
        .await;
    let screen = console.screen();
    assert!(
        screen.contains("✓ ExecuteCommandAgent RUNNING in"),
        "{screen}"
    );
    assert!(
        screen.contains("✓ client: session-manager-plugin 1.2.764.0"),
        "{screen}"
    );
    assert!(
        screen.contains("cluster exec logging: OVERRIDE"),
        "{screen}"
    );

    // Enter: the runner calls ExecuteCommand and answers with the hand-over.
    for e in update(&mut console.state, key(KeyCode::Enter)) {
        console.runner.run(e);
    }
    let handover: HandOver = wait_for(&mut console, "SessionReady", |a| match a {
        Action::SessionReady(Ok(h)) => Some((**h).clone()),
        Action::SessionReady(Err(e)) => panic!("{e}"),
        _ => None,
    })
    .await;
    assert_eq!(sb.stats().count("ecs:ExecuteCommand"), 1);
    // The reducer turned it into the loop's hand-over effect and closed the dialog.
    assert!(console.state.exec.is_none());
    let Granted::Plugin(inv) = &handover.granted else {
        panic!("not the plugin: {:?}", handover.granted);
    };
    assert_eq!(inv.args.len(), 6);
    assert_eq!(inv.args[0], "AWS_SSM_START_SESSION_RESPONSE");
    assert!(!format!("{inv:?}").contains(inv.session.token.as_str()));

    // What the loop does with it: the plugin runs, sees the session in its environment.
    let status = berth::exec::run_foreground(inv).await.unwrap();
    assert_eq!(status.code(), Some(3));
    let rec = plugin::read(&dir.path().join("plugin.txt")).unwrap();
    assert_eq!(rec.args, inv.args);
    let session: serde_json::Value = serde_json::from_str(&rec.env).unwrap();
    assert_eq!(session["TokenValue"], inv.session.token.as_str());
    assert!(
        rec.args[4].starts_with("{\"Target\":\"ecs:prod_"),
        "{}",
        rec.args[4]
    );
    let text = std::fs::read_to_string(&audit).unwrap();
    assert!(text.contains("\"action\":\"exec\""), "{text}");
    assert!(!text.contains(inv.session.token.as_str()));
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_forward_runs_in_the_background_until_stopped() {
    let sb = start().await;
    let dir = tempfile::tempdir().unwrap();
    let bin = plugin::install_with(dir.path(), None, true);
    let audit = dir.path().join("audit.jsonl");
    let mut console = Console::with(&sb, false, Some(audit.clone()));
    console.runner.plugin_override = Some(bin.join("session-manager-plugin"));
    console.state.exec_client = ExecClient::Plugin;
    on_ready_task(&mut console).await;

    console.apply(Action::Command(Command::PortForward));
    console
        .until("preflight", |s| {
            s.exec.as_ref().is_some_and(|d| d.inputs.is_some())
        })
        .await;
    let d = console.state.exec.clone().unwrap();
    assert!(
        !d.remote_port.is_empty(),
        "the container's port is the default: {d:?}"
    );
    let remote = d.remote_port.clone();
    console.apply(key(KeyCode::Enter));
    let forward = wait_for(&mut console, "ForwardStarted", |a| match a {
        Action::ForwardStarted(Ok(f)) => Some(f.clone()),
        Action::ForwardStarted(Err(e)) => panic!("{e}"),
        _ => None,
    })
    .await;
    assert_eq!(sb.stats().count("ssm:StartSession"), 1);
    assert_eq!(console.runner.forward_count(), 1);
    // the plugin got the port-forwarding request
    let rec = {
        let path = dir.path().join("plugin.txt");
        let mut found = None;
        for _ in 0..200 {
            if let Some(r) = plugin::read(&path) {
                found = Some(r);
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        found.expect("the plugin ran")
    };
    assert_eq!(rec.argc, 6);
    let request: serde_json::Value = serde_json::from_str(&rec.args[4]).unwrap();
    assert_eq!(request["DocumentName"], "AWS-StartPortForwardingSession");
    assert_eq!(
        request["Parameters"]["portNumber"],
        serde_json::json!([remote])
    );
    assert_eq!(
        request["Parameters"]["localPortNumber"],
        serde_json::json!([forward.local_port.to_string()])
    );
    assert!(request["Target"].as_str().unwrap().starts_with("ecs:prod_"));
    let session: serde_json::Value = serde_json::from_str(&rec.env).unwrap();
    assert_eq!(session["SessionId"], forward.session_id.as_str());
    let token = session["TokenValue"].as_str().unwrap().to_string();
    assert!(rec.args.iter().all(|a| !a.contains(&token)));

    // :forwards lists it; K stops it: the plugin is killed and the session terminated.
    console.apply(Action::Command(Command::CommandMode));
    type_text(&mut console, "forwards");
    console.apply(key(KeyCode::Enter));
    let screen = console.screen();
    assert!(
        screen.contains(&format!("localhost:{}", forward.local_port)),
        "{screen}"
    );
    assert!(screen.contains("active"), "{screen}");
    console.apply(key(KeyCode::Char('K')));
    let how = wait_for(&mut console, "ForwardEnded", |a| match a {
        Action::ForwardEnded { how, .. } => Some(how.clone()),
        _ => None,
    })
    .await;
    assert_eq!(how, "stopped");
    assert_eq!(sb.stats().count("ssm:TerminateSession"), 1);
    assert_eq!(console.runner.forward_count(), 0);
    assert!(console.screen().contains("ended (stopped)"));

    // Another one, left running: quitting terminates it.
    console.apply(Action::Command(Command::Back));
    console.apply(Action::Command(Command::PortForward));
    console
        .until("preflight", |s| {
            s.exec.as_ref().is_some_and(|d| d.inputs.is_some())
        })
        .await;
    console.apply(key(KeyCode::Enter));
    wait_for(&mut console, "ForwardStarted", |a| match a {
        Action::ForwardStarted(r) => Some(r.clone().unwrap()),
        _ => None,
    })
    .await;
    assert_eq!(console.runner.forward_count(), 1);
    console
        .runner
        .shutdown(std::time::Duration::from_secs(3))
        .await;
    assert_eq!(sb.stats().count("ssm:TerminateSession"), 2);
    assert_eq!(console.runner.forward_count(), 0);

    let text = std::fs::read_to_string(&audit).unwrap();
    assert!(!text.contains(&token), "token in the audit log");
    let ok = text.matches("\"action\":\"port_forward\"").count();
    assert!(ok >= 3, "two starts and an end at least:\n{text}");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_sends_no_session_request() {
    let sb = start().await;
    let dir = tempfile::tempdir().unwrap();
    let bin = plugin::install(dir.path());
    let audit = dir.path().join("audit.jsonl");
    let mut console = Console::with(&sb, true, Some(audit.clone()));
    console.runner.plugin_override = Some(bin.join("session-manager-plugin"));
    console.state.exec_client = ExecClient::Plugin;
    on_ready_task(&mut console).await;
    for k in ['X', 'P'] {
        console.apply(key(KeyCode::Char(k)));
        assert!(console.state.exec.is_none(), "{k} opened a dialog");
    }
    // Even a request that reached the runner (a reducer bug) is refused there.
    let task = match console.state.view() {
        View::Tasks(v) => v.data.rows[v.table.selected_row().unwrap()].clone(),
        _ => unreachable!(),
    };
    // with either client
    let runners = [
        Runner::Plugin(bin.join("session-manager-plugin")),
        Runner::Native,
    ];
    for (kind, runner) in [
        berth::app::exec::SessionRequestKind::Shell {
            command: "/bin/sh".into(),
            raw: false,
        },
        berth::app::exec::SessionRequestKind::Forward {
            remote_port: 8080,
            local_port: 18080,
            host: None,
        },
    ]
    .into_iter()
    .flat_map(|k| runners.clone().map(|r| (k.clone(), r)))
    {
        console.runner.run(Effect::StartSession(Box::new(
            berth::app::exec::SessionRequest {
                kind,
                cluster: "prod".into(),
                task_arn: task.arn.clone(),
                task_id: task.id.clone(),
                container: task.containers[0].name.clone(),
                target: "ecs:prod_x_y".into(),
                runner,
                actor: berth::app::mutations::actor(&console.state),
            },
        )));
        let err = wait_for(&mut console, "refusal", |a| match a {
            Action::SessionReady(Err(e)) | Action::ForwardStarted(Err(e)) => Some(e.clone()),
            Action::SessionReady(Ok(_)) | Action::ForwardStarted(Ok(_)) => panic!("not refused"),
            _ => None,
        })
        .await;
        // A refusal stays a refusal (not an AWS error) until it is shown.
        assert!(
            matches!(&err, berth::app::Failure::Refused(why) if why.contains("read-only")),
            "{err:?}"
        );
    }
    let stats = sb.stats();
    assert_eq!(stats.count("ecs:ExecuteCommand"), 0);
    assert_eq!(stats.count("ssm:StartSession"), 0);
    assert!(!dir.path().join("plugin.txt").exists());
    let text = std::fs::read_to_string(&audit).unwrap();
    assert_eq!(text.matches("\"outcome\":\"refused\"").count(), 4, "{text}");
    sb.shutdown().await;
}

/// The first audit line in `path`.
fn first_line(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// A console shell and `berth exec` asked for the same task, container and command write the
/// same `ok` line: the same keys, action, target and parameters; only the SSM session id
/// differs (both go through `berth::exec::session`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_shell_and_berth_exec_write_the_same_audit_line() {
    let sb = start().await;
    let dir = tempfile::tempdir().unwrap();
    let bin = plugin::install(dir.path());
    let console_audit = dir.path().join("audit.jsonl");
    let mut console = Console::with(&sb, false, Some(console_audit.clone()));
    console.runner.plugin_override = Some(bin.join("session-manager-plugin"));
    console.state.exec_client = ExecClient::Plugin;
    on_ready_task(&mut console).await;
    console.apply(Action::Command(Command::Exec));
    console
        .until("preflight", |s| {
            s.exec.as_ref().is_some_and(|d| d.inputs.is_some())
        })
        .await;
    for e in update(&mut console.state, key(KeyCode::Enter)) {
        console.runner.run(e);
    }
    let h: HandOver = wait_for(&mut console, "SessionReady", |a| match a {
        Action::SessionReady(Ok(h)) => Some((**h).clone()),
        Action::SessionReady(Err(e)) => panic!("{e}"),
        _ => None,
    })
    .await;
    let berth::app::exec::SessionRequestKind::Shell { command, .. } = &h.request.kind else {
        panic!("not a shell: {:?}", h.request.kind);
    };

    let home = dir.path().join("home");
    let r = &h.request;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .args([
            "--endpoint-url",
            &sb.endpoint_url(),
            "--region",
            "us-east-1",
        ])
        .args(["--exec-client", "plugin"])
        .args(["exec", "--cluster", &r.cluster, "--task", &r.task_id])
        .args(["--container", &r.container, "--command", command])
        .env("AWS_ACCESS_KEY_ID", sandbox::DEMO_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", sandbox::DEMO_SECRET_ACCESS_KEY)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove(berth::exec::plugin::PLUGIN_ENV)
        .env("PATH", plugin::path_with(&bin))
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(sb.stats().count("ecs:ExecuteCommand"), 2);

    let ui = first_line(&console_audit);
    let cli = first_line(&home.join("state/berth/audit.jsonl"));
    assert_eq!(keys(&ui), keys(&cli), "{ui}\n{cli}");
    for k in [
        "action", "target", "outcome", "error", "region", "account", "caller",
    ] {
        assert_eq!(ui[k], cli[k], "{k}:\n{ui}\n{cli}");
    }
    assert_eq!(ui["outcome"], "ok");
    let (mut ui_p, mut cli_p) = (ui["parameters"].clone(), cli["parameters"].clone());
    assert_eq!(keys(&ui_p), keys(&cli_p), "{ui_p}\n{cli_p}");
    let ids = [&mut ui_p, &mut cli_p].map(|p| p.as_object_mut().unwrap().remove("session_id"));
    assert!(ids[0].is_some() && ids[0] != ids[1], "{ids:?}");
    assert_eq!(ui_p, cli_p);
    sb.shutdown().await;
}

/// `native` asked for: the preflight says so, the shell comes back for berth's built-in client,
/// and a port forward runs through it (no plugin): `:forwards` lists it, an HTTP request to
/// the local port reaches the task's service, `K` stops it and the session is terminated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_in_client_is_chosen_with_native() {
    let sb = start().await;
    let dir = tempfile::tempdir().unwrap();
    let bin = plugin::install(dir.path());
    let audit = dir.path().join("audit.jsonl");
    let mut console = Console::with(&sb, false, Some(audit.clone()));
    // a supported plugin is there, and is passed over
    console.runner.plugin_override = Some(bin.join("session-manager-plugin"));
    console.state.exec_client = ExecClient::Native;
    on_ready_task(&mut console).await;

    console.apply(Action::Command(Command::Exec));
    console
        .until("preflight", |s| {
            s.exec.as_ref().is_some_and(|d| d.inputs.is_some())
        })
        .await;
    let screen = console.screen();
    assert!(
        screen.contains("✓ client: berth's built-in client (exec client: native)"),
        "{screen}"
    );
    for e in update(&mut console.state, key(KeyCode::Enter)) {
        console.runner.run(e);
    }
    let h: HandOver = wait_for(&mut console, "SessionReady", |a| match a {
        Action::SessionReady(Ok(h)) => Some((**h).clone()),
        Action::SessionReady(Err(e)) => panic!("{e}"),
        _ => None,
    })
    .await;
    assert_eq!(h.request.runner, Runner::Native);
    assert!(
        matches!(&h.granted, Granted::Native { grant: g, marker: Some(_) } if g.session_id.starts_with("ecs-execute-command-")),
        "{:?}",
        h.granted
    );

    console.apply(Action::Command(Command::PortForward));
    console
        .until("preflight", |s| {
            s.exec.as_ref().is_some_and(|d| d.inputs.is_some())
        })
        .await;
    // a free local port (the default one may be taken on a busy machine)
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    console.state.exec.as_mut().unwrap().local_port = free.to_string();
    console.apply(key(KeyCode::Enter));
    let forward = wait_for(&mut console, "ForwardStarted", |a| match a {
        Action::ForwardStarted(Ok(f)) => Some(f.clone()),
        Action::ForwardStarted(Err(e)) => panic!("{e}"),
        _ => None,
    })
    .await;
    assert_eq!(forward.local_port, free);
    assert_eq!(console.runner.forward_count(), 1);
    let (status, body) =
        crate::sandbox_support::http(([127, 0, 0, 1], free).into(), "GET", "/healthz", &[], "")
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.trim(), format!("ok {}", forward.task_id));
    // the client reports the connection to the console
    wait_for(&mut console, "ForwardNote", |a| match a {
        Action::ForwardNote {
            id,
            connection: true,
            ..
        } if *id == forward.id => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(console.state.forwards[0].connections, 1);

    console.apply(Action::Command(Command::CommandMode));
    type_text(&mut console, "forwards");
    console.apply(key(KeyCode::Enter));
    assert!(console.screen().contains(&format!("localhost:{free}")));
    console.apply(key(KeyCode::Char('K')));
    let how = wait_for(&mut console, "ForwardEnded", |a| match a {
        Action::ForwardEnded { how, .. } => Some(how.clone()),
        _ => None,
    })
    .await;
    assert_eq!(how, "stopped");
    assert_eq!(sb.stats().count("ssm:StartSession"), 1);
    assert_eq!(sb.stats().count("ssm:TerminateSession"), 1);
    assert_eq!(console.runner.forward_count(), 0);
    assert!(!dir.path().join("plugin.txt").exists(), "the plugin ran");
    let text = std::fs::read_to_string(&audit).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["action"], "port_forward");
    assert_eq!(last["outcome"], "ended");
    assert_eq!(last["parameters"]["ended"], "stopped");
    sb.shutdown().await;
}
