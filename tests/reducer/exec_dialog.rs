//! ECS Exec and port forwarding in the reducer: the preflight checklist (pass and fail,
//! snapshots at 80x24) with its "client" line (the plugin or berth's built-in client, as
//! `--exec-client` asks), choosing container and command, the protected-account
//! confirmation, read-only refusing before anything is sent, the port-forward defaults, and
//! the `:forwards` list with stopping one.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use berth::app::exec::{Forward, SessionRequestKind};
use berth::app::{Action, Command, DataEvent, Effect, Failure, State, View, update};
use berth::aws::{AwsError, ErrorKind};
use berth::domain::{Container, ContainerDefinition, Task, TaskDefinition};
use berth::exec::Inputs;
use berth::exec::client::{ExecClient, Runner};
use berth::exec::preflight::{ExecLogging, Plugin};
use crossterm::event::KeyCode;

use crate::reducer::{self, key, status, typed};

const NOW: i64 = 1_700_000_000;
const TASK: &str = "arn:aws:ecs:eu-west-1:210987654321:task/prod/0123456789abcdef0123456789abcdef";

fn task(exec: bool) -> Task {
    Task {
        arn: TASK.into(),
        id: "0123456789abcdef0123456789abcdef".into(),
        cluster_arn: "arn:aws:ecs:eu-west-1:210987654321:cluster/prod".into(),
        group: Some("service:checkout-api".into()),
        last_status: "RUNNING".into(),
        desired_status: "RUNNING".into(),
        task_definition: "checkout-api:43".into(),
        launch_type: Some("FARGATE".into()),
        platform_version: Some("1.4.0".into()),
        exec_enabled: exec,
        containers: vec![
            Container {
                name: "envoy".into(),
                runtime_id: Some("rt-envoy".into()),
                exec_agent_status: Some("RUNNING".into()),
                ..Container::default()
            },
            Container {
                name: "app".into(),
                runtime_id: Some("rt-app".into()),
                exec_agent_status: Some("RUNNING".into()),
                ..Container::default()
            },
        ],
        ..Task::default()
    }
}

/// What the preflight reads, for a session by the default client (auto).
fn inputs(exec: bool, plugin: Plugin) -> Box<Inputs> {
    inputs_for(exec, plugin, ExecClient::Auto)
}

fn inputs_for(exec: bool, plugin: Plugin, client: ExecClient) -> Box<Inputs> {
    Box::new(Inputs {
        cluster: "prod".into(),
        task: task(exec),
        task_definition: Some(TaskDefinition {
            family_revision: "checkout-api:43".into(),
            containers: vec![
                ContainerDefinition {
                    name: "envoy".into(),
                    ports: vec![9901],
                    ..ContainerDefinition::default()
                },
                ContainerDefinition {
                    name: "app".into(),
                    init_process_enabled: true,
                    ports: vec![80],
                    ..ContainerDefinition::default()
                },
            ],
            ..TaskDefinition::default()
        }),
        logging: Some(ExecLogging {
            logging: Some("DEFAULT".into()),
            ..ExecLogging::default()
        }),
        plugin,
        client,
    })
}

const PLUGIN: &str = "/usr/local/bin/session-manager-plugin";

/// A supported plugin (the minimum, 1.2.764.0).
fn plugin() -> Plugin {
    Plugin::Found {
        path: PLUGIN.into(),
        version: Some("1.2.764.0".into()),
    }
}

/// On the tasks of prod/checkout-api with one task loaded and selected.
fn state(read_only: bool, protected: bool) -> State {
    let mut s = reducer::signed_in(NOW, Some("prod-admin"), read_only, protected);
    s.session.protected = protected;
    let view = berth::app::nav::tasks_view(&s, "prod", Some("checkout-api"), false);
    s.views.push(view);
    let effects = update(&mut s, Action::Command(Command::Refresh));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadTasks { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap();
    for event in [DataEvent::Tasks(vec![task(true)]), DataEvent::Done] {
        update(&mut s, Action::Data { request, event });
    }
    s
}

/// Press `cmd`, check the preflight request (for the state's client), answer it.
fn open(s: &mut State, cmd: Command, answer: Box<Inputs>) {
    let effects = update(s, Action::Command(cmd));
    assert_eq!(
        effects,
        vec![Effect::ExecPreflight {
            cluster: "prod".into(),
            task: TASK.into(),
            client: s.exec_client,
        }]
    );
    let screen = render(s);
    assert!(
        screen.contains("checking: task, task definition"),
        "{screen}"
    );
    update(
        s,
        Action::ExecPreflight {
            task: TASK.into(),
            result: Ok(answer),
        },
    );
}

#[test]
fn the_preflight_checklist_passes_and_a_shell_starts_in_the_chosen_container() {
    let mut s = state(false, false);
    open(&mut s, Command::Exec, inputs(true, plugin()));
    let screen = render(&mut s);
    insta::assert_snapshot!("exec_preflight_pass_80x24", screen);
    for needle in [
        "ECS Exec · task 01234567",
        "✓ task RUNNING",
        "✓ enableExecuteCommand",
        "✓ client: session-manager-plugin 1.2.764.0",
        "• cluster exec logging: DEFAULT",
        "enter: start",
    ] {
        assert!(screen.contains(needle), "{needle:?} missing:\n{screen}");
    }
    let d = s.exec.as_ref().unwrap();
    assert_eq!(
        d.container_name(),
        Some("envoy"),
        "the first with a running agent"
    );
    // → picks the next container, tab moves to the command, → picks bash
    key(&mut s, KeyCode::Right);
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Right);
    let effects = key(&mut s, KeyCode::Enter);
    let [Effect::StartSession(req)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(req.container, "app");
    assert_eq!(
        req.kind,
        SessionRequestKind::Shell {
            command: "bash".into(),
            raw: false,
        }
    );
    assert_eq!(
        req.target,
        "ecs:prod_0123456789abcdef0123456789abcdef_rt-app"
    );
    assert_eq!(req.actor.account.as_deref(), Some("210987654321"));
    assert_eq!(req.runner, Runner::Plugin(PLUGIN.into()));
    assert!(s.exec.as_ref().unwrap().starting);
    // keys are ignored while it starts; the failure comes back into the dialog
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    let denied = AwsError::new(ErrorKind::AccessDenied, "ecs:ExecuteCommand", "no");
    update(&mut s, Action::SessionReady(Err(Failure::Aws(denied))));
    let screen = render(&mut s);
    assert!(
        screen.contains("access denied to ecs:ExecuteCommand"),
        "{screen}"
    );
    // the plugin's exit is reported in the status line
    update(
        &mut s,
        Action::SessionEnded {
            message: "session ended (exit 0)".into(),
            ok: true,
        },
    );
    assert!(s.exec.is_none());
    assert_eq!(status(&s), "session ended (exit 0)");
}

#[test]
fn a_custom_command_is_typed() {
    let mut s = state(false, false);
    open(&mut s, Command::Exec, inputs(true, plugin()));
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Left); // wraps to "custom, as given…"
    key(&mut s, KeyCode::Left); // "custom…"
    key(&mut s, KeyCode::Enter);
    assert!(
        s.exec.as_ref().unwrap().error.as_deref() == Some("type a command"),
        "{:?}",
        s.exec
    );
    typed(&mut s, "env | sort");
    let effects = key(&mut s, KeyCode::Enter);
    let [Effect::StartSession(req)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(
        req.kind,
        SessionRequestKind::Shell {
            command: "env | sort".into(),
            raw: false,
        }
    );
}

/// "custom, as given…": for a container without `sh`; the request says so, so that berth's
/// built-in client does not wrap it (and reports the exit status as unknown).
#[test]
fn a_custom_command_can_run_as_given() {
    let mut s = state(false, false);
    open(&mut s, Command::Exec, inputs(true, plugin()));
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Left); // wraps to "custom, as given…"
    let screen = render(&mut s);
    assert!(screen.contains("custom, as given"), "{screen}");
    key(&mut s, KeyCode::Tab);
    typed(&mut s, "/app/healthcheck --verbose");
    let effects = key(&mut s, KeyCode::Enter);
    let [Effect::StartSession(req)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(
        req.kind,
        SessionRequestKind::Shell {
            command: "/app/healthcheck --verbose".into(),
            raw: true,
        }
    );
}

/// The plugin asked for (`--exec-client plugin`) and missing: a failed check with the
/// install hint, next to the task's own failure.
#[test]
fn a_failed_preflight_shows_the_fixes_and_cannot_start() {
    let mut s = state(false, false);
    s.exec_client = ExecClient::Plugin;
    open(
        &mut s,
        Command::Exec,
        inputs_for(false, Plugin::Missing, ExecClient::Plugin),
    );
    let screen = render(&mut s);
    insta::assert_snapshot!("exec_preflight_fail_80x24", screen);
    for needle in [
        "✗ enableExecuteCommand: off for this task",
        "--enable-execute-command",
        "✗ client: session-manager-plugin not found (exec client: plugin)",
        "fix: install session-manager-plugin",
        "esc: close",
    ] {
        assert!(screen.contains(needle), "{needle:?} missing:\n{screen}");
    }
    assert!(key(&mut s, KeyCode::Enter).is_empty(), "nothing is sent");
    assert!(
        s.exec
            .as_ref()
            .unwrap()
            .error
            .as_deref()
            .unwrap()
            .contains("2 check(s) failed")
    );
    key(&mut s, KeyCode::Esc);
    assert!(s.exec.is_none());
}

/// No plugin, or one older than 1.2.764.0: auto picks berth's built-in client, says why on
/// the client line, and the session is requested for it.
#[test]
fn without_a_supported_plugin_auto_uses_the_built_in_client() {
    for (plugin, why) in [
        (
            Plugin::Missing,
            "✓ client: session-manager-plugin not found: using berth's built-in client",
        ),
        (
            Plugin::Found {
                path: PLUGIN.into(),
                version: Some("1.2.707.0".into()),
            },
            "✓ client: session-manager-plugin 1.2.707.0 is older than 1.2.764.0: using",
        ),
    ] {
        let mut s = state(false, false);
        open(&mut s, Command::Exec, inputs(true, plugin));
        let screen = render(&mut s);
        assert!(screen.contains(why), "{why:?} missing:\n{screen}");
        assert!(screen.contains("enter: start"), "{screen}");
        let effects = key(&mut s, KeyCode::Enter);
        let [Effect::StartSession(req)] = effects.as_slice() else {
            panic!("{effects:?}");
        };
        assert_eq!(req.runner, Runner::Native);
    }
    // native asked for: the built-in client even with a supported plugin
    let mut s = state(false, false);
    s.exec_client = ExecClient::Native;
    open(
        &mut s,
        Command::PortForward,
        inputs_for(true, plugin(), ExecClient::Native),
    );
    let screen = render(&mut s);
    assert!(
        screen.contains("✓ client: berth's built-in client (exec client: native)"),
        "{screen}"
    );
    let effects = key(&mut s, KeyCode::Enter);
    let [Effect::StartSession(req)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(req.runner, Runner::Native);
}

#[test]
fn an_expired_token_during_a_preflight_raises_the_credentials_banner() {
    let mut s = state(false, false);
    assert!(s.banner.is_none());
    update(&mut s, Action::Command(Command::Exec));
    let expired = AwsError::new(
        ErrorKind::ExpiredCredentials,
        "ecs:DescribeTasks",
        "The security token included in the request is expired",
    );
    update(
        &mut s,
        Action::ExecPreflight {
            task: TASK.into(),
            result: Err(Failure::Aws(expired)),
        },
    );
    let banner = s.banner.clone().expect("the credentials banner");
    assert_eq!(banner.title, "AWS credentials expired");
    assert!(
        banner
            .fix
            .as_deref()
            .unwrap_or("")
            .contains("aws sso login"),
        "{banner:?}"
    );
}

#[test]
fn a_preflight_that_cannot_read_the_task_says_so() {
    let mut s = state(false, false);
    update(&mut s, Action::Command(Command::Exec));
    update(
        &mut s,
        Action::ExecPreflight {
            task: TASK.into(),
            result: Err(Failure::Aws(AwsError::new(
                ErrorKind::AccessDenied,
                "ecs:DescribeTasks",
                "User is not authorized",
            ))),
        },
    );
    let screen = render(&mut s);
    assert!(
        screen.contains("preflight failed: access denied to ecs:DescribeTasks"),
        "{screen}"
    );
    // a late answer for another task is ignored
    update(
        &mut s,
        Action::ExecPreflight {
            task: "arn:other".into(),
            result: Ok(inputs(true, plugin())),
        },
    );
    assert!(s.exec.as_ref().unwrap().inputs.is_none());
}

#[test]
fn a_protected_account_needs_the_service_typed() {
    let mut s = state(false, true);
    open(&mut s, Command::Exec, inputs(true, plugin()));
    assert!(render(&mut s).contains("type checkout-api to confirm"));
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    let d = s.exec.as_ref().unwrap();
    assert_eq!(d.error.as_deref(), Some("type checkout-api to confirm"));
    typed(&mut s, "checkout-api");
    let effects = key(&mut s, KeyCode::Enter);
    assert!(
        matches!(effects.as_slice(), [Effect::StartSession(_)]),
        "{effects:?}"
    );
}

#[test]
fn read_only_refuses_before_any_request() {
    let mut s = state(true, false);
    for cmd in [Command::Exec, Command::PortForward] {
        let effects = update(&mut s, Action::Command(cmd));
        assert!(effects.is_empty(), "{cmd:?}: {effects:?}");
        assert!(s.exec.is_none());
        assert!(status(&s).contains("read-only"), "{}", status(&s));
    }
    // and the help lists them as disabled
    update(&mut s, Action::Command(Command::Help));
    let text = reducer::screen(&mut s, "default", 80, 60);
    assert!(text.contains("disabled (read-only)"), "{text}");
    assert!(text.contains("ECS Exec"), "{text}");
}

#[test]
fn a_port_forward_defaults_to_the_container_port_and_lists_in_forwards() {
    let mut s = state(false, false);
    open(&mut s, Command::PortForward, inputs(true, plugin()));
    let d = s.exec.as_ref().unwrap();
    assert_eq!(d.container_name(), Some("envoy"));
    assert_eq!(d.remote_port, "9901");
    assert_eq!(d.local_port, "9901");
    // the app container: port 80 maps to local 10080 (no root needed)
    key(&mut s, KeyCode::Right);
    let d = s.exec.as_ref().unwrap();
    assert_eq!(
        (d.remote_port.as_str(), d.local_port.as_str()),
        ("80", "10080")
    );
    let screen = render(&mut s);
    assert!(screen.contains("Port forward · task 01234567"), "{screen}");
    assert!(screen.contains("remote port: 80"), "{screen}");
    // letters are not ports
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Tab);
    typed(&mut s, "x1");
    assert_eq!(s.exec.as_ref().unwrap().local_port, "100801");
    key(&mut s, KeyCode::Enter);
    assert!(
        s.exec
            .as_ref()
            .unwrap()
            .error
            .as_deref()
            .unwrap()
            .contains("local port"),
        "{:?}",
        s.exec
    );
    key(&mut s, KeyCode::Backspace);
    key(&mut s, KeyCode::Tab);
    typed(&mut s, "db.internal");
    let effects = key(&mut s, KeyCode::Enter);
    let [Effect::StartSession(req)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(
        req.kind,
        SessionRequestKind::Forward {
            remote_port: 80,
            local_port: 10080,
            host: Some("db.internal".into())
        }
    );
    update(
        &mut s,
        Action::ForwardStarted(Ok(Forward {
            id: 1,
            local_port: 10080,
            remote: "db.internal:80".into(),
            cluster: "prod".into(),
            task_id: "0123456789abcdef0123456789abcdef".into(),
            container: "app".into(),
            session_id: "berth-0a1b2c".into(),
            started_at: NOW,
            ended: None,
            connections: 0,
            problem: None,
        })),
    );
    assert!(s.exec.is_none());
    assert!(status(&s).contains("forwarding localhost:10080 → db.internal:80"));
    update(&mut s, Action::Command(Command::CommandMode));
    typed(&mut s, "forwards");
    key(&mut s, KeyCode::Enter);
    assert!(matches!(s.view(), View::Forwards(_)));
    let screen = render(&mut s);
    insta::assert_snapshot!("forwards_80x24", screen);
    assert!(screen.contains("localhost:10080"), "{screen}");
    assert!(screen.contains("active"), "{screen}");
    // berth's built-in client reports connections and problems on the row
    for _ in 0..2 {
        update(
            &mut s,
            Action::ForwardNote {
                id: 1,
                connection: true,
                problem: None,
            },
        );
    }
    update(
        &mut s,
        Action::ForwardNote {
            id: 1,
            connection: false,
            problem: Some("connection to the destination port failed\x1b[2J".into()),
        },
    );
    assert_eq!(
        status(&s),
        "port forward localhost:10080: connection to the destination port failed␛[2J"
    );
    let wide = reducer::screen(&mut s, "default", 160, 24);
    assert!(
        wide.contains("active · 2 connections · connection to the destination port"),
        "{wide}"
    );
    assert!(!wide.contains('\x1b'), "{wide}");
    update(
        &mut s,
        Action::ForwardNote {
            id: 1,
            connection: true,
            problem: None,
        },
    );
    let wide = reducer::screen(&mut s, "default", 160, 24);
    let row = wide
        .lines()
        .find(|l| l.starts_with("localhost:10080"))
        .unwrap_or_default();
    assert!(row.contains("active · 3 connections"), "{wide}");
    assert!(!row.contains("destination port"), "{wide}");
    let effects = key(&mut s, KeyCode::Char('K'));
    assert_eq!(effects, vec![Effect::StopForward { id: 1 }]);
    update(
        &mut s,
        Action::ForwardEnded {
            id: 1,
            how: "stopped".into(),
        },
    );
    let screen = render(&mut s);
    assert!(screen.contains("ended (stopped)"), "{screen}");
    assert!(key(&mut s, KeyCode::Char('K')).is_empty(), "already ended");
}

fn render(s: &mut State) -> String {
    reducer::screen(s, "default", 80, 24)
}
